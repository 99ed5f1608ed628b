/**
 * Model-based test of replicated key/value state: any sequence of writes, deletes, partitions,
 * heals, restarts and packet loss on a simulated cluster of 5 to 20 nodes ends — once the network
 * heals and goes quiet — with every live node holding the same state, equal to a plain
 * last-writer-wins model of the accepted (acknowledged) writes. Nodes store in real SQLite files,
 * so a restart keeps what was acknowledged; tombstones are purged after 2 s, so partitions longer
 * than that exercise the full-resync path.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CountingGate } from '../../src/link/peer-gate.js';
import type { Node } from '../../src/node.js';
import { SimCluster } from '../../src/sim/sim-cluster.js';
import { compareWrites } from '../../src/state/lww.js';

type Cmd =
  | { t: 'write'; node: number; key: number; value: number }
  | { t: 'delete'; node: number; key: number }
  | { t: 'partition'; split: number }
  | { t: 'heal' }
  | { t: 'restart'; node: number }
  | { t: 'loss'; rate: number }
  | { t: 'wait'; ms: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('write' as const), node: fc.nat(19), key: fc.nat(7), value: fc.nat(999) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('delete' as const), node: fc.nat(19), key: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('partition' as const), split: fc.integer({ min: 1, max: 19 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('heal' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('restart' as const), node: fc.nat(19) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('loss' as const), rate: fc.constantFrom(0, 0.1, 0.3) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('wait' as const), ms: fc.constantFrom(100, 500, 2500) }) },
);

interface Accepted { key: string; value: string | null; wall: number; logical: number; origin: Uint8Array }

function model(accepted: readonly Accepted[]): string {
  const best = new Map<string, Accepted>();
  for (const a of accepted) {
    const cur = best.get(a.key);
    if (cur === undefined || compareWrites(a, cur) > 0) best.set(a.key, a);
  }
  return JSON.stringify([...best.values()].filter((a) => a.value !== null).sort((a, b) => (a.key < b.key ? -1 : 1)).map((a) => [a.key, a.value]));
}

const state = (n: Node): string => JSON.stringify(n.kv.list('m/').map((e) => [e.key, Buffer.from(e.value).toString()]));

async function scenario(size: number, cmds: readonly Cmd[], seed: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hearsay-kv-model-'));
  const sim = new SimCluster({
    seed, fastCrypto: true, network: { latencyMs: 2, jitterMs: 5 }, gate: () => new CountingGate(),
    config: { gossipIntervalMs: 100, antiEntropyIntervalMs: 150, reconnectIntervalMs: 500, tombstoneGraceMs: 2000, iwantTimeoutMs: 60 },
  });
  try {
    const nodes: Node[] = [];
    for (let i = 0; i < size; i++) {
      const node = sim.createNode({ name: `m-${i}`, tenant: 'm', config: { dataDir: join(dir, `m-${i}`) }, ...(i === 0 ? {} : { seeds: [nodes[0]!.address] }) });
      await node.start();
      nodes.push(node);
    }
    await sim.runUntil(() => nodes.every((n) => n.members().filter((m) => m.state === 'alive').length === size), 30_000);
    const accepted: Accepted[] = [];
    for (const c of cmds) {
      switch (c.t) {
        case 'write':
        case 'delete': {
          const n = nodes[c.node % size]!;
          const key = `m/k${c.key}`;
          const value = c.t === 'write' ? `v${c.value}` : null;
          const r = await (value === null ? n.kv.delete(key) : n.kv.set(key, value));
          accepted.push({ key, value, wall: r.wall, logical: r.logical, origin: Buffer.from(r.origin, 'hex') });
          break;
        }
        case 'partition':
          sim.network.partition([nodes.slice(0, c.split % size).map((n) => n.address)]);
          break;
        case 'heal':
          sim.network.heal();
          break;
        case 'restart': {
          const i = c.node % size;
          const old = nodes[i]!;
          const identity = old.internals.identity;
          const address = old.address;
          await old.stop();
          await sim.run(50);
          const fresh = sim.createNode({ name: `m-${i}`, tenant: 'm', identity, address, config: { dataDir: join(dir, `m-${i}`) }, seeds: [nodes[i === 0 ? 1 : 0]!.address] });
          await fresh.start();
          nodes[i] = fresh;
          break;
        }
        case 'loss':
          sim.network.configure({ lossRate: c.rate });
          break;
        case 'wait':
          await sim.run(c.ms);
          break;
      }
      await sim.run(20);
    }
    sim.network.heal();
    sim.network.configure({ lossRate: 0 });
    const expected = model(accepted);
    const took = await sim.runUntil(() => nodes.every((n) => state(n) === expected), 120_000, 50);
    if (took < 0) {
      const detail = nodes.map((n) => `${n.name}: ${state(n)}`).join('\n');
      throw new Error(`no convergence to the model ${expected}\n${detail}`);
    }
  } finally {
    await sim.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('replicated key/value state against a last-writer-wins model (fast-check)', () => {
  it('converges to the model after any writes, deletes, partitions, heals, restarts and loss', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 5, max: 20 }), fc.array(cmdArb, { minLength: 5, maxLength: 30 }), fc.nat(1000), async (size, cmds, seed) => {
        await scenario(size, cmds, seed + 1);
      }),
      { numRuns: 25, seed: 20261127, endOnFailure: true },
    );
  }, 120_000);
});
