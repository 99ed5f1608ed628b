/**
 * `hearsay start --config FILE`: runs one node until SIGINT or SIGTERM, then leaves gracefully.
 * Started by a parent with an IPC channel (the demo, the process tests), it also serves the
 * control channel.
 */
import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { Node } from '../node.js';
import { parseArgs } from './args.js';
import { runGuarded, type Command } from './command.js';
import { serveControlChannel, type ControlEvent } from './control-channel.js';

const spec = {
  config: { type: 'string', required: true, metavar: 'FILE', description: 'the node config file (JSON; fields in src/config.ts)' },
} as const;

const usage = [
  'usage: hearsay start --config FILE',
  '',
  'Run one node until SIGINT or SIGTERM.',
  '',
  'flags:',
  '  --config FILE  the node config file (JSON; every field is documented in src/config.ts)',
].join('\n');

export const startCommand: Command = {
  summary: 'Run one node from a config file.',
  usage,
  run: (argv, io) =>
    runGuarded(usage, argv, io, async () => {
      const args = parseArgs(argv, spec);
      const config = loadConfig(args.config);
      const logger = createLogger({ level: config.logLevel, name: 'hearsay' });
      const node = new Node({ config, logger });
      await node.start();
      let stopping: Promise<void> | null = null;
      const stop = (): Promise<void> => {
        stopping ??= (async () => {
          send({ type: 'stopping' });
          await node.stop();
        })();
        return stopping;
      };
      const send = (e: ControlEvent): void => {
        if (process.send !== undefined && process.connected) process.send(e);
      };
      const done = new Promise<void>((resolve) => {
        const finish = (): void => void stop().then(resolve);
        process.once('SIGINT', finish);
        process.once('SIGTERM', finish);
        if (process.send !== undefined) {
          process.on('message', serveControlChannel(node, send, finish));
          process.once('disconnect', finish);
        }
      });
      send({ type: 'ready', id: node.id, name: node.name, address: node.address, pid: process.pid, admin: node.adminUrl });
      // Read before stopping: a stopped node's getters throw, and a throw here would skip the
      // disconnect below and keep the process alive on its IPC channel.
      const name = node.name;
      await done;
      io.out(`node ${name} stopped`);
      if (process.connected) process.disconnect();
      return 0;
    }),
};
