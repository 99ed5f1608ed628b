import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HearsayConfig } from '../../src/config.js';
import { CountingGate } from '../../src/link/peer-gate.js';
import type { Node } from '../../src/node.js';
import { SimCluster } from '../../src/sim/sim-cluster.js';
import type { KvChange } from '../../src/state/replicated-kv.js';
import { signPolicy } from '../../src/policy/signed-documents.js';

let sim: SimCluster | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await sim?.stopAll();
  sim = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const FAST: Partial<HearsayConfig> = { gossipIntervalMs: 100, antiEntropyIntervalMs: 200, reconnectIntervalMs: 1000 };
const gates = new Map<string, CountingGate>();

async function cluster(n: number, seed: number, config: Partial<HearsayConfig> = {}): Promise<Node[]> {
  sim = new SimCluster({ seed, network: { latencyMs: 2, jitterMs: 3 }, config: { ...FAST, ...config }, gate: (name) => { const g = new CountingGate(); gates.set(name, g); return g; } });
  const nodes = await sim.startNodes(n, 'n', { tenant: 'demo' });
  expect(await sim.runUntil(() => nodes.every((x) => x.members().filter((m) => m.state === 'alive').length === n), 30_000)).toBeGreaterThanOrEqual(0);
  return nodes;
}

const state = (n: Node): string => JSON.stringify(n.kv.list('demo/').map((e) => [e.key, Buffer.from(e.value).toString()]));
const converged = (nodes: Node[]): boolean => nodes.every((n) => state(n) === state(nodes[0]!));

describe('replicated key/value state on the simulator', () => {
  it('replicates sets and deletes to every node and tells watchers', async () => {
    const nodes = await cluster(6, 31);
    const seen: KvChange[] = [];
    nodes[5]!.kv.watch('demo/', (c) => seen.push(c));
    await nodes[0]!.kv.set('demo/a', 'one');
    await nodes[1]!.kv.set('demo/b', 'two');
    await sim!.run(1000);
    expect(nodes.map(state)).toEqual(nodes.map(() => JSON.stringify([['demo/a', 'one'], ['demo/b', 'two']])));
    await nodes[2]!.kv.delete('demo/a');
    await sim!.run(1000);
    for (const n of nodes) expect(n.kv.get('demo/a')).toBeUndefined();
    expect(seen.map((c) => [c.key, c.value === null ? null : Buffer.from(c.value).toString()])).toEqual([['demo/a', 'one'], ['demo/b', 'two'], ['demo/a', null]]);
  });

  it('concurrent writes on both sides of a partition converge to the later one after it heals', async () => {
    const nodes = await cluster(6, 37);
    sim!.network.partition([nodes.slice(0, 3).map((n) => n.address)]);
    await nodes[0]!.kv.set('demo/k', 'left');
    await sim!.run(5);
    await nodes[4]!.kv.set('demo/k', 'right');
    await sim!.run(2000);
    expect(Buffer.from(nodes[1]!.kv.get('demo/k')!).toString()).toBe('left');
    sim!.network.heal();
    expect(await sim!.runUntil(() => converged(nodes), 30_000)).toBeGreaterThanOrEqual(0);
    expect(Buffer.from(nodes[1]!.kv.get('demo/k')!).toString()).toBe('right');
  });

  it('a node that missed a delete whose tombstone was purged gets a full resync and drops the key', async () => {
    const nodes = await cluster(5, 41, { tombstoneGraceMs: 2000 });
    await nodes[0]!.kv.set('demo/doomed', 'x');
    await nodes[0]!.kv.set('demo/kept', 'y');
    await sim!.run(1000);
    const away = nodes[4]!;
    expect(away.kv.get('demo/doomed')).toBeDefined();
    sim!.network.isolate(away.address);
    await nodes[1]!.kv.delete('demo/doomed');
    await nodes[2]!.kv.set('demo/new', 'z');
    // Long enough for the tombstone (and the superseded write) to be purged everywhere else.
    await sim!.run(6000);
    expect(nodes[0]!.internals.kv.originRecords().some((r) => r.floor > 0)).toBe(true);
    sim!.network.heal();
    expect(await sim!.runUntil(() => converged(nodes), 60_000)).toBeGreaterThanOrEqual(0);
    expect(away.kv.get('demo/doomed')).toBeUndefined();
    expect(Buffer.from(away.kv.get('demo/new')!).toString()).toBe('z');
    expect(away.metrics.render()).toMatch(/hearsay_kv_resyncs_total [1-9]/);
  });

  it('a resync omission is honoured only from a peer that may write the key; a reader cannot make us drop it', async () => {
    sim = new SimCluster({ seed: 59, network: { latencyMs: 2, jitterMs: 3 }, config: { ...FAST, tombstoneGraceMs: 2000 }, gate: () => new CountingGate() });
    const writers = await sim.startNodes(3, 'w', { tenant: 'demo', roles: ['writer'] });
    const [reader] = await sim.startNodes(1, 'r', { tenant: 'demo', roles: ['reader'] });
    const [away] = await sim.startNodes(1, 'a', { tenant: 'demo', roles: ['reader'] });
    const nodes = [...writers, reader!, away!];
    expect(await sim.runUntil(() => nodes.every((x) => x.members().filter((m) => m.state === 'alive').length === 5), 30_000)).toBeGreaterThanOrEqual(0);
    const policy = signPolicy(JSON.stringify({
      kind: 'hearsay-policy', cluster: sim.cluster, version: 1, tenants: ['demo'], roles: ['writer', 'reader'],
      grants: [
        { tenants: ['demo'], roles: ['writer'], allow: ['write', 'read'], keys: ['**'] },
        { tenants: ['demo'], roles: ['reader'], allow: ['read'], keys: ['**'] },
      ],
    }), sim.authoritySeed, sim.backend);
    for (const n of nodes) expect(n.policy.adoptPolicy(policy, 'api')).toBe('adopted');
    await writers[0]!.kv.set('demo/doomed', 'x');
    await sim.run(1000);
    expect(away!.kv.get('demo/doomed')).toBeDefined();
    sim.network.isolate(away!.address);
    await writers[1]!.kv.delete('demo/doomed');
    await sim.run(6000);
    sim.network.unisolate(away!.address);
    // Only the reader can talk to the node that was away: its resync omits the key, but it may not
    // write it, so the omission is not believed.
    sim.network.partition([[away!.address, reader!.address]]);
    expect(await sim.runUntil(() => (away!.metrics.render().match(/hearsay_kv_resyncs_unsettled_total (\d+)/)?.[1] ?? '0') !== '0', 30_000)).toBeGreaterThanOrEqual(0);
    expect(reader!.kv.get('demo/doomed')).toBeUndefined();
    expect(away!.kv.get('demo/doomed')).toBeDefined();
    // Once a writer can reach it, the origin is still unsettled, and the writer's resync drops the key.
    sim.network.heal();
    expect(await sim.runUntil(() => away!.kv.get('demo/doomed') === undefined, 60_000)).toBeGreaterThanOrEqual(0);
  });

  it('a node that joins later receives every key by anti-entropy', async () => {
    const nodes = await cluster(4, 43);
    for (let i = 0; i < 200; i++) void nodes[i % 4]!.kv.set(`demo/k${i}`, `v${i}`);
    await sim!.run(2000);
    const [late] = await sim!.startNodes(1, 'late', { tenant: 'demo' });
    expect(await sim!.runUntil(() => late!.kv.list('demo/').length === 200 && converged([...nodes, late!]), 30_000)).toBeGreaterThanOrEqual(0);
  });

  it('keys are only sent to nodes that may read them', async () => {
    sim = new SimCluster({ seed: 47, network: { latencyMs: 2 }, config: FAST });
    const demo = await sim.startNodes(4, 'd', { tenant: 'demo' });
    const [other] = await sim.startNodes(1, 'o', { tenant: 'other' });
    await sim.runUntil(() => [...demo, other!].every((x) => x.members().length === 5), 30_000);
    for (let i = 0; i < 20; i++) await demo[i % 4]!.kv.set(`demo/k${i}`, 'secret');
    await other!.kv.set('other/mine', 'x');
    await sim.run(3000);
    expect(other!.internals.kv.store.countWrites()).toBe(1);
    for (const n of demo) {
      expect(n.kv.list('demo/')).toHaveLength(20);
      expect(n.internals.kv.store.countWrites()).toBe(20);
    }
    expect(() => other!.kv.get('demo/k1')).toThrow(/may not read/);
    await expect(other!.kv.set('demo/k1', 'x')).rejects.toThrow(/may not write/);
  });

  it('after a restart a node keeps its data and versions and resumes anti-entropy from them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearsay-kv-restart-'));
    dirs.push(dir);
    sim = new SimCluster({ seed: 53, network: { latencyMs: 2, jitterMs: 3 }, config: FAST, gate: () => new CountingGate() });
    const nodes: Node[] = [];
    for (let i = 0; i < 4; i++) {
      const node = sim.createNode({ name: `r-${i}`, tenant: 'demo', config: { dataDir: join(dir, `r-${i}`) } });
      await node.start();
      nodes.push(node);
    }
    await sim.runUntil(() => nodes.every((x) => x.members().filter((m) => m.state === 'alive').length === 4), 30_000);
    for (let i = 0; i < 10; i++) await nodes[3]!.kv.set(`demo/r${i}`, `${i}`);
    const identity = nodes[3]!.internals.identity;
    const address = nodes[3]!.address;
    await nodes[3]!.stop();
    await nodes[0]!.kv.set('demo/while-away', 'w');
    await sim.run(1000);
    const back = sim.createNode({ name: 'r-3', tenant: 'demo', identity, address, config: { dataDir: join(dir, 'r-3') } });
    await back.start();
    expect(back.kv.list('demo/r')).toHaveLength(10);
    const receipt = await back.kv.set('demo/after', 'a');
    expect(receipt.version).toBe(11);
    nodes[3] = back;
    expect(await sim.runUntil(() => converged(nodes) && nodes[0]!.kv.list('demo/').length === 12, 30_000)).toBeGreaterThanOrEqual(0);
  });
});
