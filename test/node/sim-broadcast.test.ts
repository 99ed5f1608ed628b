import { afterEach, describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/sim/sim-cluster.js';
import type { Delivery } from '../../src/dissemination/broadcast.js';

let sim: SimCluster | null = null;
afterEach(async () => {
  await sim?.stopAll();
  sim = null;
});

describe('walking skeleton on the in-memory network', () => {
  it('5 nodes form one view and a published message is delivered once on every other node', async () => {
    sim = new SimCluster({ seed: 3, network: { latencyMs: 2, jitterMs: 3 } });
    const nodes = await sim.startNodes(5);
    const formed = await sim.runUntil(() => nodes.every((n) => n.members().filter((m) => m.state === 'alive').length === 5), 10_000);
    expect(formed).toBeGreaterThanOrEqual(0);
    const got = new Map<string, Delivery[]>();
    for (const n of nodes) {
      const list: Delivery[] = [];
      got.set(n.name, list);
      n.subscribe('default/news', (d) => list.push(d));
    }
    nodes[2]!.publish('default/news', 'hello');
    await sim.run(2000);
    for (const n of nodes) {
      const list = got.get(n.name)!;
      if (n === nodes[2]) expect(list).toHaveLength(0);
      else {
        expect(list).toHaveLength(1);
        expect(Buffer.from(list[0]!.data).toString()).toBe('hello');
        expect(list[0]!.originName).toBe(nodes[2]!.name);
      }
    }
  });
});
