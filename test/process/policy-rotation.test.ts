/**
 * Key rotation end to end on real node processes (dist/, built by `npx tsc -p .` before vitest):
 * `node rotate` gives p3 a new key and revokes the old one; p3 restarts with its new identity and
 * the signed revocation list, which then spreads by gossip. It rejoins with its key/value data;
 * the old identity is refused by every node, and cannot even start where the list is known.
 */
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessCluster, ProcessNode } from '../../src/cli/process-cluster.js';
import { revocationStatePath, rotateNode, type Rotation } from '../../src/cli/rotation.js';
import type { ControlEvent } from '../../src/cli/control-channel.js';

let cluster: ProcessCluster;
let ghost: ProcessNode | null = null;

beforeAll(async () => {
  cluster = new ProcessCluster({ nodes: ['p1', 'p2', 'p3'].map((name) => ({ name, tenant: 'demo' })) });
  await cluster.startAll((n) => n.send({ type: 'subscribe', topic: 'demo/t' }));
}, 60_000);

afterAll(async () => {
  await ghost?.stop();
  await cluster?.destroy();
});

async function ask<T extends ControlEvent['type']>(n: ProcessNode, req: Record<string, unknown>, answer: T, timeoutMs = 5000): Promise<Extract<ControlEvent, { type: T }>> {
  const ref = n.ref();
  n.send({ ...req, ref } as never);
  const e = await n.waitFor((x) => (x.type === answer || x.type === 'error') && 'ref' in x && x.ref === ref, timeoutMs);
  if (e === null || e.type !== answer) throw new Error(`${n.name}: no ${answer} (${e?.type === 'error' ? e.message : 'timeout'})`);
  return e as Extract<ControlEvent, { type: T }>;
}

async function metric(n: ProcessNode, line: RegExp): Promise<number> {
  const m = await ask(n, { type: 'metrics' }, 'metrics');
  const hit = m.text.split('\n').find((l) => line.test(l));
  return hit === undefined ? 0 : Number(hit.slice(hit.lastIndexOf(' ') + 1));
}

async function until(pred: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await pred()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  return -1;
}

describe('key rotation on real processes', () => {
  let rotation: Rotation;
  let oldId = '';

  it('rotates p3: it rejoins under its new identity with its key/value data', async () => {
    expect(await cluster.waitForMembership(3, 20_000)).toBeGreaterThanOrEqual(0);
    const [p1, p2, p3] = cluster.nodes as [ProcessNode, ProcessNode, ProcessNode];
    await ask(p3, { type: 'kvSet', key: 'demo/k/before', value: 'written under the old key' }, 'kvDone');
    const has = async (n: ProcessNode, key: string): Promise<boolean> => (await ask(n, { type: 'kvList', prefix: key }, 'kvList')).entries.some((e) => e.key === key);
    expect(await until(async () => (await has(p1, 'demo/k/before')) && (await has(p2, 'demo/k/before')), 10_000)).toBeGreaterThanOrEqual(0);

    oldId = p3.id;
    rotation = rotateNode({ keysDir: cluster.keysDir, name: 'p3', validDays: 1 });
    await p3.stop();
    // The rotated node brings the new list with it; the others learn it by gossip.
    cluster.writeConfig(p3, [p1.address], 0, { revocationFile: revocationStatePath(cluster.keysDir) });
    await p3.start();
    p3.send({ type: 'subscribe', topic: 'demo/t' });
    expect(p3.id).not.toBe(oldId);
    expect(p3.id).toBe(Buffer.from(rotation.cert.nodeId).toString('hex'));

    const took = await until(async () => {
      for (const n of [p1, p2]) {
        if ((await metric(n, /^hearsay_policy_version\{kind="revocation"\}/)) !== 1) return false;
        const ms = await n.members();
        const p3s = ms?.filter((m) => m.name === 'p3') ?? [];
        if (p3s.length !== 1 || p3s[0]!.state !== 'alive') return false;
      }
      return true;
    }, 20_000);
    expect(took, 'p1 and p2 adopted the list and see exactly one p3, alive').toBeGreaterThanOrEqual(0);

    // Data written under the old identity stays: on p3 (same dataDir) and on the replicas.
    for (const n of [p1, p2, p3]) expect(await has(n, 'demo/k/before'), n.name).toBe(true);
    const list = await ask(p1, { type: 'kvList', prefix: 'demo/k/before' }, 'kvList');
    expect(list.entries[0]).toMatchObject({ value: 'written under the old key', origin: oldId });
    // And the new identity publishes and writes like before.
    const pub = await p3.publish('demo/t', 'hello from the new key');
    for (const n of [p1, p2]) expect(await n.waitFor((e) => e.type === 'delivery' && e.id === pub.id, 5000), n.name).not.toBeNull();
    await ask(p3, { type: 'kvSet', key: 'demo/k/after', value: 'new key' }, 'kvDone');
    expect(await until(async () => has(p1, 'demo/k/after'), 10_000)).toBeGreaterThanOrEqual(0);
  }, 90_000);

  it('the old identity is refused by every node, and cannot start where the list is known', async () => {
    const [p1, p2, p3] = cluster.nodes as [ProcessNode, ProcessNode, ProcessNode];
    // The retired keys, started as a node with a fresh data folder (it does not know it is revoked).
    const ghostData = join(cluster.dir, 'data', 'ghost');
    mkdirSync(ghostData, { recursive: true });
    ghost = new ProcessNode('ghost', join(cluster.dir, 'ghost.json'), join(cluster.dir, 'ghost.log'));
    cluster.writeConfig(ghost, [p1.address, p2.address], 0, { identityDir: rotation.retiredDir, dataDir: ghostData });
    const blocked = async (): Promise<number> => (await metric(p1, /^hearsay_packets_dropped_total\{reason="blocked"\}/)) + (await metric(p2, /^hearsay_packets_dropped_total\{reason="blocked"\}/));
    const before = await blocked();
    await ghost.start();
    expect(ghost.id).toBe(oldId);
    const pub = await ghost.publish('demo/t', 'from the revoked key');
    await new Promise((r) => setTimeout(r, 3000));
    expect(await blocked()).toBeGreaterThan(before);
    for (const n of [p1, p2, p3]) {
      expect(n.deliveries().some((d) => d.id === pub.id), n.name).toBe(false);
      const p3s = (await n.members())?.filter((m) => m.name === 'p3') ?? [];
      expect(p3s.filter((m) => m.self || m.state === 'alive')).toHaveLength(1);
    }
    const ghostView = (await ghost.members()) ?? [];
    expect(ghostView.filter((m) => !m.self && m.state === 'alive')).toEqual([]);
    await ghost.stop();

    // With the persisted list (a copy of p3's data folder), the old keys refuse to start at all.
    const copy = join(cluster.dir, 'data', 'ghost2');
    cpSync(join(cluster.dir, 'data', 'p3'), copy, { recursive: true });
    expect(existsSync(join(copy, 'revocation.signed.json'))).toBe(true);
    const ghost2 = new ProcessNode('ghost2', join(cluster.dir, 'ghost2.json'), join(cluster.dir, 'ghost2.log'));
    cluster.writeConfig(ghost2, [p1.address], 0, { identityDir: rotation.retiredDir, dataDir: copy });
    await expect(ghost2.start(5000)).rejects.toThrow(/did not start/);
    expect(await ghost2.exited()).toBe(1);
    expect(readFileSync(ghost2.logPath, 'utf8')).toContain('HEARSAY_ERR_CERT_REVOKED');
  }, 60_000);
});
