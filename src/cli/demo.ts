/**
 * `hearsay demo --nodes N`: a throwaway local cluster. It provisions an authority and N nodes in a
 * temporary folder, starts each node as its own process on 127.0.0.1, waits until every node sees
 * every other, publishes a few messages from different nodes, shows which node received what and
 * how fast, then stops everything and removes the folder (also on Ctrl-C).
 */
import { HearsayError } from '../errors.js';
import { parseArgs } from './args.js';
import { runGuarded, type Command, type CommandIo } from './command.js';
import { ProcessCluster } from './process-cluster.js';

const spec = {
  nodes: { type: 'int', default: 5, min: 2, max: 32, metavar: 'N', description: 'how many node processes to start (2-32)' },
  messages: { type: 'int', default: 3, min: 1, max: 100, metavar: 'M', description: 'how many messages to publish (1-100)' },
  keep: { type: 'boolean', description: 'keep the temporary folder (keys, configs, logs) instead of removing it' },
} as const;

const usage = [
  'usage: hearsay demo [--nodes N] [--messages M] [--keep]',
  '',
  'Start a local cluster of N node processes on 127.0.0.1, publish M messages and show their delivery.',
  '',
  'flags:',
  '  --nodes N      how many node processes to start (2-32, default 5)',
  '  --messages M   how many messages to publish (1-100, default 3)',
  '  --keep         keep the temporary folder (keys, configs, logs)',
].join('\n');

const TOPIC = 'demo/news';

export const demoCommand: Command = {
  summary: 'Run a local demo cluster of node processes and show message delivery.',
  usage,
  run: (argv, io) => runGuarded(usage, argv, io, () => runDemo(parseArgs(argv, spec), io)),
};

async function runDemo(args: { nodes: number; messages: number; keep: boolean }, io: CommandIo): Promise<number> {
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    io.out('\ninterrupted: stopping the cluster');
  };
  process.once('SIGINT', onSigint);
  const names = Array.from({ length: args.nodes }, (_, i) => `node-${i + 1}`);
  const cluster = new ProcessCluster({ nodes: names.map((name) => ({ name, tenant: 'demo', roles: ['member'] })) });
  try {
    io.out(`provisioned an authority and ${args.nodes} nodes in ${cluster.dir}`);
    let seed: string | null = null;
    for (const n of cluster.nodes) {
      if (interrupted) return 130;
      cluster.writeConfig(n, seed === null ? [] : [seed]);
      await n.start();
      seed ??= n.address;
      n.send({ type: 'subscribe', topic: TOPIC });
      io.out(`started ${n.name.padEnd(8)} pid ${String(n.pid).padEnd(7)} ${n.address}  id ${n.id.slice(0, 12)}`);
    }

    io.out(`waiting for every node to see all ${args.nodes} members...`);
    const formedIn = await cluster.waitForMembership(args.nodes, 20_000, () => interrupted);
    if (interrupted) return 130;
    if (formedIn < 0) throw new HearsayError('HEARSAY_ERR_TIMEOUT', 'the cluster did not form within 20 s');
    io.out(`membership converged in ${formedIn} ms\n`);

    let allDelivered = true;
    for (let m = 0; m < args.messages && !interrupted; m++) {
      const publisher = cluster.nodes[(m * 2) % cluster.nodes.length]!;
      const text = `message ${m + 1} from ${publisher.name}`;
      const pub = await publisher.publish(TOPIC, text);
      const others = cluster.nodes.filter((c) => c !== publisher);
      const deliveries = await Promise.all(others.map((c) => c.waitFor((e) => e.type === 'delivery' && e.id === pub.id, 3000)));
      // Let late duplicates, if any, arrive before counting them.
      await new Promise((r) => setTimeout(r, 50));
      io.out(`"${text}" (id ${pub.id.slice(0, 10)}…)`);
      const latencies: number[] = [];
      others.forEach((c, i) => {
        const d = deliveries[i];
        if (d !== null && d !== undefined && d.type === 'delivery') {
          const ms = d.receivedAtHr - pub.publishedAtHr;
          latencies.push(ms);
          const copies = c.deliveries(pub.id).length;
          if (copies !== 1) allDelivered = false;
          io.out(`  ${c.name.padEnd(8)} received in ${ms.toFixed(2).padStart(7)} ms${copies > 1 ? `  (delivered ${copies} times!)` : ''}`);
        } else {
          allDelivered = false;
          io.out(`  ${c.name.padEnd(8)} did NOT receive it within 3 s`);
        }
      });
      latencies.sort((a, b) => a - b);
      if (latencies.length > 0) {
        io.out(`  delivered to ${latencies.length}/${others.length} nodes; median ${latencies[Math.floor(latencies.length / 2)]!.toFixed(2)} ms, slowest ${latencies[latencies.length - 1]!.toFixed(2)} ms\n`);
      }
    }
    if (interrupted) return 130;
    io.out(allDelivered ? 'every message reached every node exactly once.' : 'some deliveries were missing or duplicated (see above).');
    if (args.keep) io.out(`keys, configs and logs kept in ${cluster.dir}`);
    return allDelivered ? 0 : 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
    io.out('stopping the cluster...');
    if (args.keep) await cluster.stopAll();
    else await cluster.destroy();
    io.out('all nodes stopped.');
  }
}
