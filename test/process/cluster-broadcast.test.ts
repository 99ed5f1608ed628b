import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessCluster } from '../../src/cli/process-cluster.js';

// Real node processes (dist/, built by `npm test` before vitest runs) on 127.0.0.1.
let cluster: ProcessCluster;

beforeAll(async () => {
  cluster = new ProcessCluster({ nodes: [1, 2, 3, 4, 5].map((i) => ({ name: `p${i}` })) });
  await cluster.startAll((n) => n.send({ type: 'subscribe', topic: 'demo/t' }));
}, 60_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('a real cluster of 5 processes on 127.0.0.1', () => {
  it('forms one view', async () => {
    expect(await cluster.waitForMembership(5, 20_000)).toBeGreaterThanOrEqual(0);
  });

  it('delivers a published message exactly once on each of the other nodes', async () => {
    const publisher = cluster.nodes[1]!;
    const pubs = [await publisher.publish('demo/t', 'one'), await cluster.nodes[4]!.publish('demo/t', 'two')];
    for (const [i, pub] of pubs.entries()) {
      const origin = i === 0 ? publisher : cluster.nodes[4]!;
      for (const n of cluster.nodes) {
        if (n === origin) continue;
        const got = await n.waitFor((e) => e.type === 'delivery' && e.id === pub.id, 5000);
        expect(got, `${n.name} received ${pub.id}`).not.toBeNull();
      }
    }
    // Give duplicates time to arrive, then count: exactly one delivery per node per message.
    await new Promise((r) => setTimeout(r, 500));
    for (const [i, pub] of pubs.entries()) {
      const origin = i === 0 ? publisher : cluster.nodes[4]!;
      for (const n of cluster.nodes) expect(n.deliveries(pub.id).length, n.name).toBe(n === origin ? 0 : 1);
    }
  });
});
