/**
 * A signed policy on real node processes: signed with the CLI, given to one node through its
 * config, adopted by every node by gossip; then tenant a's topics and keys stay within tenant a.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlEvent } from '../../src/cli/control-channel.js';
import { signPolicyFile } from '../../src/cli/policy.js';
import { ProcessCluster, type ProcessNode } from '../../src/cli/process-cluster.js';

let cluster: ProcessCluster;

const POLICY = {
  kind: 'hearsay-policy', cluster: 'demo', version: 1, tenants: ['a', 'b'], roles: ['pub', 'sub'],
  grants: [
    { tenants: ['*'], roles: ['pub'], allow: ['publish', 'write'], topics: ['t/**'], keys: ['k/**'] },
    { tenants: ['*'], roles: ['pub', 'sub'], allow: ['subscribe', 'read'], topics: ['t/**'], keys: ['k/**'] },
  ],
};

beforeAll(async () => {
  cluster = new ProcessCluster({ nodes: [
    { name: 'a1', tenant: 'a', roles: ['pub'] },
    { name: 'a2', tenant: 'a', roles: ['sub'] },
    { name: 'b1', tenant: 'b', roles: ['pub', 'sub'] },
  ] });
  const file = join(cluster.dir, 'policy.json');
  writeFileSync(file, JSON.stringify(POLICY));
  const { out } = signPolicyFile({ keysDir: cluster.keysDir, file });
  let seed: string | null = null;
  for (const n of cluster.nodes) {
    // Only a1 is given the policy; the others must learn it by gossip.
    cluster.writeConfig(n, seed === null ? [] : [seed], 0, n.name === 'a1' ? { policyFile: out } : {});
    await n.start();
    seed ??= n.address;
  }
}, 60_000);

afterAll(async () => {
  await cluster?.destroy();
});

async function ask<T extends ControlEvent['type']>(n: ProcessNode, req: Record<string, unknown>, answer: T): Promise<Extract<ControlEvent, { type: T }> | Extract<ControlEvent, { type: 'error' }>> {
  const ref = n.ref();
  n.send({ ...req, ref } as never);
  const e = await n.waitFor((x) => (x.type === answer || x.type === 'error') && 'ref' in x && x.ref === ref, 5000);
  if (e === null) throw new Error(`${n.name}: no answer`);
  return e as Extract<ControlEvent, { type: T }>;
}

async function until(pred: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await pred()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  return -1;
}

describe('a signed policy on real processes', () => {
  it('spreads from one node to all, and keeps tenant a\'s data within tenant a', async () => {
    const [a1, a2, b1] = cluster.nodes as [ProcessNode, ProcessNode, ProcessNode];
    expect(await cluster.waitForMembership(3, 20_000)).toBeGreaterThanOrEqual(0);
    const version = async (n: ProcessNode): Promise<boolean> => {
      const m = await ask(n, { type: 'metrics' }, 'metrics');
      return m.type === 'metrics' && m.text.includes('hearsay_policy_version{kind="policy"} 1');
    };
    expect(await until(async () => (await version(a2)) && (await version(b1)), 10_000)).toBeGreaterThanOrEqual(0);

    a2.send({ type: 'subscribe', topic: 'a/t/x' });
    b1.send({ type: 'subscribe', topic: 'a/t/x' }); // refused by b1's own node (answered with an error event)
    b1.send({ type: 'subscribe', topic: 'b/t/x' });
    await new Promise((r) => setTimeout(r, 300));
    const pub = await a1.publish('a/t/x', 'for tenant a only');
    expect(await a2.waitFor((e) => e.type === 'delivery' && e.id === pub.id, 5000)).not.toBeNull();
    const w = await ask(a1, { type: 'kvSet', key: 'a/k/x', value: 'tenant a value' }, 'kvDone');
    expect(w.type).toBe('kvDone');
    const list = async (n: ProcessNode, prefix: string): Promise<string[]> => {
      const r = await ask(n, { type: 'kvList', prefix }, 'kvList');
      return r.type === 'kvList' ? r.entries.map((e) => e.key) : [];
    };
    expect(await until(async () => (await list(a2, 'a/')).includes('a/k/x'), 10_000)).toBeGreaterThanOrEqual(0);
    // b1 may not write into tenant a, and never gets its topic or keys.
    const denied = await ask(b1, { type: 'kvSet', key: 'a/k/x', value: 'from b' }, 'kvDone');
    expect(denied.type).toBe('error');
    const bPub = await b1.publish('b/t/x', 'tenant b');
    await new Promise((r) => setTimeout(r, 2000));
    expect(b1.deliveries().filter((d) => d.topic.startsWith('a/'))).toEqual([]);
    expect(await list(b1, 'a/')).toEqual([]);
    expect(a2.deliveries(bPub.id)).toEqual([]);
    expect(a2.deliveries().map((d) => d.data)).toEqual(['for tenant a only']);
  }, 60_000);
});
