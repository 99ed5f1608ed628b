#!/usr/bin/env node
/**
 * The `hearsay` command line. Commands are looked up by their first one or two words; each parses
 * its own flags strictly and returns an exit code (0 ok, 1 failure, 2 bad usage).
 */
import { adminCommands } from './admin-commands.js';
import { processIo, type Command, type CommandIo } from './command.js';
import { demoCommand } from './demo.js';
import { policyCommands } from './policy.js';
import { provisionCommands } from './provision.js';
import { rotationCommands } from './rotation.js';
import { startCommand } from './start.js';

export const commands: Record<string, Command> = {
  ...provisionCommands,
  ...rotationCommands,
  ...policyCommands,
  start: startCommand,
  demo: demoCommand,
  ...adminCommands,
};

function help(io: CommandIo): void {
  io.out('usage: hearsay <command> [flags]   (hearsay <command> --help for its flags)');
  io.out('');
  io.out('commands:');
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  for (const [name, c] of Object.entries(commands)) io.out(`  ${name.padEnd(width)}  ${c.summary}`);
}

export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    help(io);
    return argv.length === 0 ? 2 : 0;
  }
  const two = argv.slice(0, 2).join(' ');
  const [name, rest] = commands[two] !== undefined ? [two, argv.slice(2)] : [argv[0]!, argv.slice(1)];
  const command = commands[name];
  if (command === undefined) {
    io.err(`error: unknown command "${argv[0]}" [HEARSAY_ERR_USAGE]`);
    help(io);
    return 2;
  }
  return command.run(rest, io);
}

// Run when executed directly (not when imported by tests).
const invokedPath = process.argv[1] ?? '';
if (import.meta.url === new URL(`file://${invokedPath}`).href || invokedPath.endsWith('/cli/main.js')) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`hearsay: internal error (a bug, please report it): ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
