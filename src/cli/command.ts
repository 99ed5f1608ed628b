/**
 * What every CLI command shares: an output sink (so tests capture output without spawning), and
 * a guard that turns our typed errors into one clear line and an exit code. Errors that are not
 * HearsayErrors are bugs and keep their stack.
 */
import { isHearsayError } from '../errors.js';

export interface CommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface Command {
  summary: string;
  usage: string;
  /** Exit code: 0 success, 1 failure, 2 bad usage. */
  run(argv: string[], io: CommandIo): Promise<number>;
}

// `hearsay peers | head` closes our stdout early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

export const processIo: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Runs a command body; prints `--help`, and maps HearsayErrors to a message and an exit code. */
export async function runGuarded(usage: string, argv: readonly string[], io: CommandIo, body: () => Promise<number | void> | number | void): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    for (const line of usage.split('\n')) io.out(line);
    return 0;
  }
  try {
    const code = await body();
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (!isHearsayError(e)) throw e;
    io.err(`error: ${e.message} [${e.code}]`);
    if (e.code === 'HEARSAY_ERR_USAGE') {
      io.err(usage.split('\n')[0]!);
      return 2;
    }
    return 1;
  }
}
