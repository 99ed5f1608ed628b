import { afterEach, describe, expect, it } from 'vitest';
import { createNodeIdentityInMemory } from '../../src/identity/node-identity.js';
import { encodeMessage } from '../../src/link/message-list.js';
import { CountingGate } from '../../src/link/peer-gate.js';
import type { Node } from '../../src/node.js';
import { RogueEndpoint } from '../../src/sim/rogue-endpoint.js';
import { SimCluster } from '../../src/sim/sim-cluster.js';
import { MessageType, type RawMessage } from '../../src/wire/messages.js';

let sim: SimCluster | null = null;
afterEach(async () => {
  await sim?.stopAll();
  sim = null;
});

/** A responder holding writes of three origins (3, 40 and 12 versions), and an asker of the given tenant. */
async function setup(askerTenant: string, counts = [3, 40, 12], maxFrameBytes = 4 * 1024 * 1024): Promise<{ responder: Node; asker: Node; writers: RogueEndpoint[] }> {
  sim = new SimCluster({ seed: 61, network: { latencyMs: 1 }, gate: () => new CountingGate(), config: { antiEntropyIntervalMs: 3_600_000, maxFrameBytes } });
  const [responder] = await sim.startNodes(1, 'r', { tenant: 'demo' });
  const [asker] = await sim.startNodes(1, 'a', { tenant: askerTenant });
  await sim.runUntil(() => asker!.members().length === 2 && responder!.members().length === 2, 30_000);
  const writers = [0, 1, 2].map((i) => new RogueEndpoint({
    identity: createNodeIdentityInMemory({ authoritySeed: sim!.authoritySeed, cluster: sim!.cluster, name: `w${i}`, tenant: 'demo', now: sim!.clock.now(), backend: sim!.backend }),
    cluster: sim!.cluster, backend: sim!.backend, epoch: sim!.clock.now(),
  }));
  writers.forEach((w, i) => {
    for (let v = 1; v <= counts[i]!; v++) {
      const env = w.kvWrite(`demo/w${i}/k${v}`, Buffer.alloc(600, v), sim!.clock.now(), 0, v);
      responder!.internals.link.receive(w.seal(responder!.internals.identity.cert, [[MessageType.ENVELOPE, env.bytes]]), 'w:1');
    }
  });
  return { responder: responder!, asker: asker!, writers };
}

async function ask(asker: Node, responder: Node, digest: Array<[Uint8Array, number]>): Promise<RawMessage[]> {
  const peer = asker.internals.link.peer(responder.id)!;
  const p = asker.internals.link.request(peer, [encodeMessage([MessageType.KV_DIGEST, 0, null, digest])], 5000);
  await sim!.run(50);
  const r = await p;
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

describe('scuttlebutt anti-entropy responses', () => {
  it('send each origin as a gap-free run of versions after the asker\'s, most stale origin first', async () => {
    const { responder, asker, writers } = await setup('demo');
    const id = (i: number): Uint8Array => writers[i]!.identity.nodeId;
    const res = await ask(asker, responder, [[id(0), 1], [id(1), 30]]);
    expect(res[0]!.type).toBe(MessageType.KV_DIGEST);
    const deltas = res.filter((m) => m.type === MessageType.KV_DELTA).map((m) => m.fields as [number, Uint8Array, Uint8Array | null, number, number, unknown[]]);
    // Staleness: w2 12 behind, w1 10 behind, w0 2 behind.
    expect(deltas.map((d) => Buffer.from(d[1]).toString('hex'))).toEqual([2, 1, 0].map((i) => Buffer.from(id(i)).toString('hex')));
    expect(deltas.map((d) => [d[3], d[4], d[5].length])).toEqual([[0, 12, 12], [30, 40, 10], [1, 3, 2]]);
    // A certificate rides along only for origins the asker has never heard of.
    expect(deltas.map((d) => d[2] !== null)).toEqual([true, false, false]);
    for (const d of deltas) for (const item of d[5]) expect(item).toBeInstanceOf(Uint8Array);
  });

  it('stop at the frame budget, each run a prefix the asker continues from in the next round', async () => {
    // 130 writes of ~700 bytes do not fit 0.8 × 64 KiB.
    const { responder, asker, writers } = await setup('demo', [10, 100, 20], 65_536);
    const res = await ask(asker, responder, []);
    const deltas = res.filter((m) => m.type === MessageType.KV_DELTA).map((m) => m.fields as [number, Uint8Array, Uint8Array | null, number, number, Uint8Array[]]);
    const total = deltas.reduce((s, d) => s + d[5].length, 0);
    expect(total).toBeGreaterThan(20);
    expect(total).toBeLessThan(130);
    const bytes = deltas.reduce((s, d) => s + d[5].reduce((t, x) => t + x.length, 0), 0);
    expect(bytes).toBeLessThan(0.8 * 65_536);
    // The most stale origin (100 versions) comes first and is cut short; what is sent is 1..to.
    expect(Buffer.from(deltas[0]![1]).equals(Buffer.from(writers[1]!.identity.nodeId))).toBe(true);
    for (const d of deltas) expect(d[4] - d[3]).toBe(d[5].length);
    expect(deltas[0]![4]).toBeLessThan(100);
    // The asker applies it, and the next exchange continues where this one stopped.
    for (let i = 0; i < 5 && asker.internals.kv.store.countLive() < 130; i++) {
      const p = asker.internals.antiEntropy.round(asker.internals.link.peer(responder.id));
      await sim!.run(100);
      await p;
    }
    expect(asker.internals.kv.store.countLive()).toBe(130);
  });

  it('only mark, never send, the writes the asker may not read', async () => {
    const { responder, asker } = await setup('other');
    const res = await ask(asker, responder, []);
    const items = res.filter((m) => m.type === MessageType.KV_DELTA).flatMap((m) => m.fields[5] as unknown[]);
    expect(items.length).toBe(55);
    for (const item of items) expect(typeof item).toBe('number');
  });
});
