import { afterEach, describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/dissemination/broadcast.js';
import { createNodeIdentityInMemory } from '../../src/identity/node-identity.js';
import { CountingGate } from '../../src/link/peer-gate.js';
import type { Node } from '../../src/node.js';
import { RogueEndpoint } from '../../src/sim/rogue-endpoint.js';
import { SimCluster } from '../../src/sim/sim-cluster.js';
import { isHearsayError } from '../../src/errors.js';

let sim: SimCluster | null = null;
afterEach(async () => {
  await sim?.stopAll();
  sim = null;
});

async function cluster(n: number, opts: { seed: number; network?: Record<string, number>; tenant?: string; config?: Record<string, unknown> }): Promise<Node[]> {
  const gates = new Map<string, CountingGate>();
  sim = new SimCluster({
    seed: opts.seed, network: opts.network ?? { latencyMs: 2, jitterMs: 3 }, config: opts.config ?? {},
    gate: (name) => { const g = new CountingGate(); gates.set(name, g); return g; },
  });
  const nodes = await sim.startNodes(n, 'n', { tenant: opts.tenant ?? 'demo' });
  const formed = await sim.runUntil(() => nodes.every((x) => x.members().filter((m) => m.state === 'alive').length === n), 30_000);
  expect(formed).toBeGreaterThanOrEqual(0);
  return nodes;
}

function collect(nodes: Node[], topic: string): Map<Node, Delivery[]> {
  const got = new Map<Node, Delivery[]>();
  for (const n of nodes) {
    const list: Delivery[] = [];
    got.set(n, list);
    n.subscribe(topic, (d) => list.push(d));
  }
  return got;
}

const counter = (n: Node, name: string): number => {
  const line = n.metrics.render().split('\n').filter((l) => l.startsWith(name));
  return line.reduce((s, l) => s + Number(l.split(' ').pop()), 0);
};

describe('topics on the simulator', () => {
  it('delivers every message once on every subscriber, pulling the payload about once per node', async () => {
    const nodes = await cluster(30, { seed: 5 });
    const got = collect(nodes, 'demo/news');
    const before = nodes.reduce((s, n) => s + counter(n, 'hearsay_gossip_eager_pushes_total') + counter(n, 'hearsay_gossip_iwant_served_total'), 0);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(nodes[i]!.publish('demo/news', `m${i}`));
    await sim!.run(3000);
    for (const n of nodes) {
      const mine = ids.filter((_, i) => nodes[i] !== n);
      expect(got.get(n)!.map((d) => d.id).sort(), n.name).toEqual(mine.sort());
    }
    const payloads = nodes.reduce((s, n) => s + counter(n, 'hearsay_gossip_eager_pushes_total') + counter(n, 'hearsay_gossip_iwant_served_total'), 0) - before;
    // Full-payload transmissions per node per message (an upper bound of receptions).
    expect(payloads / (10 * 29)).toBeLessThanOrEqual(1.5);
  });

  it('fifo: every subscriber gets one publisher\'s stream complete and in order under jitter, duplication and 15% loss', async () => {
    const nodes = await cluster(10, { seed: 7, network: { latencyMs: 2, jitterMs: 20 }, config: { holdbackTimeoutMs: 20_000 } });
    sim!.network.configure({ lossRate: 0.15, duplicateRate: 0.1 });
    const got = collect(nodes, 'demo/stream');
    for (let i = 1; i <= 40; i++) {
      nodes[0]!.publish('demo/stream', `${i}`, { order: 'fifo' });
      await sim!.run(5);
    }
    await sim!.run(8000);
    for (const n of nodes.slice(1)) {
      const seqs = got.get(n)!.map((d) => d.seq);
      expect(seqs, n.name).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    }
  });

  it('causal: an answer is never delivered before the question it answers', async () => {
    const nodes = await cluster(8, { seed: 11, network: { latencyMs: 2, jitterMs: 2 } });
    const [a, b, c] = nodes as [Node, Node, Node];
    const got = collect(nodes, 'demo/chat');
    // C cannot hear A directly, so A's question reaches it late, by lazy gossip through others.
    sim!.network.setLinkLoss(a.address, c.address, 1);
    b.subscribe('demo/chat', (d) => {
      if (d.data.length > 0 && Buffer.from(d.data).toString() === 'question') b.publish('demo/chat', 'answer', { order: 'causal' });
    });
    a.publish('demo/chat', 'question', { order: 'causal' });
    await sim!.run(3000);
    for (const n of nodes.slice(2)) {
      const texts = got.get(n)!.map((d) => Buffer.from(d.data).toString());
      expect(texts, n.name).toEqual(['question', 'answer']);
    }
    expect(got.get(c)!.map((d) => d.order)).toEqual(['causal', 'causal']);
  });

  it('policy: a node of another tenant may not subscribe, and is never sent the topic or its ids', async () => {
    sim = new SimCluster({ seed: 13, network: { latencyMs: 2, jitterMs: 3 } });
    const demo = await sim.startNodes(6, 'd', { tenant: 'demo' });
    const [other] = await sim.startNodes(1, 'x', { tenant: 'other' });
    const all = [...demo, other!];
    await sim.runUntil(() => all.every((x) => x.members().length === 7), 30_000);
    let refused: unknown;
    try { other!.subscribe('demo/news', () => {}); } catch (e) { refused = e; }
    expect(isHearsayError(refused, 'HEARSAY_ERR_NOT_AUTHORIZED')).toBe(true);
    expect(() => demo[0]!.publish('other/news', 'x')).toThrow(/may not publish/);
    const got = collect(demo, 'demo/news');
    for (let i = 0; i < 5; i++) demo[i]!.publish('demo/news', `m${i}`);
    await sim.run(3000);
    for (const n of demo) expect(got.get(n)!.length).toBe(n === demo[5] ? 5 : 4);
    expect(counter(other!, 'hearsay_gossip_iwant_ids_sent_total')).toBe(0);
    expect(other!.metrics.render()).not.toMatch(/hearsay_envelopes_accepted_total\{kind="2"\}/);
  });

  it('two different rumors signed for one (topic, epoch, seq) are refused and reported as equivocation', async () => {
    const gate = new CountingGate();
    sim = new SimCluster({ seed: 17, gate: () => gate });
    const [target] = await sim.startNodes(1, 't', { tenant: 'demo' });
    const delivered: Delivery[] = [];
    target!.subscribe('demo/t', (d) => delivered.push(d));
    const identity = createNodeIdentityInMemory({ authoritySeed: sim.authoritySeed, cluster: sim.cluster, name: 'rogue', tenant: 'demo', now: sim.clock.now(), backend: sim.backend });
    const rogue = new RogueEndpoint({ identity, cluster: sim.cluster, backend: sim.backend, epoch: sim.clock.now() });
    const cert = target!.internals.identity.cert;
    const now = sim.clock.now();
    target!.internals.link.receive(rogue.seal(cert, [rogue.rumor('demo/t', 1, now, Buffer.from('yes'))]), 'rogue:1');
    target!.internals.link.receive(rogue.seal(cert, [rogue.rumor('demo/t', 1, now, Buffer.from('no'))]), 'rogue:1');
    expect(delivered.map((d) => Buffer.from(d.data).toString())).toEqual(['yes']);
    expect(gate.equivocations).toHaveLength(1);
    // A far-future rumor is refused and counted against its origin.
    target!.internals.link.receive(rogue.seal(cert, [rogue.rumor('demo/t', 2, now + 3_600_000, Buffer.from('later'))]), 'rogue:1');
    expect(delivered).toHaveLength(1);
    expect(gate.count(identity.nodeId, 'future-timestamp')).toBe(1);
  });
});
