import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlEvent } from '../../src/cli/control-channel.js';
import { ProcessCluster, type ProcessNode } from '../../src/cli/process-cluster.js';

// Real node processes (dist/, built by `npx tsc -p .` before vitest runs) on 127.0.0.1, each with
// its key/value store in SQLite files under the cluster's temporary folder.
let cluster: ProcessCluster;

beforeAll(async () => {
  cluster = new ProcessCluster({ nodes: [1, 2, 3].map((i) => ({ name: `kv${i}`, tenant: 'demo' })) });
  await cluster.startAll();
}, 60_000);

afterAll(async () => {
  await cluster?.destroy();
});

async function list(n: ProcessNode, prefix: string): Promise<Map<string, string> | null> {
  const ref = n.ref();
  n.send({ type: 'kvList', ref, prefix });
  const e = await n.waitFor((x) => x.type === 'kvList' && x.ref === ref, 5000);
  return e !== null && e.type === 'kvList' ? new Map(e.entries.map((x) => [x.key, x.value])) : null;
}

describe('key/value state survives kill -9 (real processes)', () => {
  it('forms one view', async () => {
    expect(await cluster.waitForMembership(3, 20_000)).toBeGreaterThanOrEqual(0);
  });

  it('loses no acknowledged write when a writer is killed mid-stream, and the cluster converges after its restart', async () => {
    const [a, victim] = [cluster.nodes[0]!, cluster.nodes[1]!];
    const acked = new Map<string, string>();
    const sent: number[] = [];
    // A stream of writes, the next one sent without waiting for the previous acknowledgement.
    for (let i = 0; i < 400; i++) {
      const ref = victim.ref();
      sent.push(ref);
      victim.send({ type: 'kvSet', ref, key: `demo/w${i}`, value: `value-${i}` });
    }
    // Killed while writes are still being committed and acknowledged.
    const doneCount = (): number => victim.events.filter((e) => e.type === 'kvDone').length;
    for (let i = 0; i < 500 && doneCount() < 100; i++) await new Promise((r) => setTimeout(r, 2));
    await victim.kill();
    expect(doneCount()).toBeLessThan(400);
    for (const e of victim.events as ControlEvent[]) if (e.type === 'kvDone') acked.set(e.key, `value-${e.key.slice('demo/w'.length)}`);
    expect(acked.size).toBeGreaterThan(50);
    // While it is down, the others keep writing.
    for (let i = 0; i < 20; i++) {
      const ref = a.ref();
      a.send({ type: 'kvSet', ref, key: `demo/a${i}`, value: `from-a-${i}` });
      expect(await a.waitFor((x) => x.type === 'kvDone' && x.ref === ref, 5000)).not.toBeNull();
    }
    await victim.start();
    // Every acknowledged write is in its own store at once, before any anti-entropy.
    const own = await list(victim, 'demo/w');
    expect(own).not.toBeNull();
    for (const [k, v] of acked) expect(own!.get(k), k).toBe(v);
    // And the cluster converges: same state everywhere, with the acknowledged writes and a's.
    const deadline = Date.now() + 30_000;
    let states: Array<Map<string, string> | null> = [];
    while (Date.now() < deadline) {
      states = await Promise.all(cluster.nodes.map((n) => list(n, 'demo/')));
      const first = JSON.stringify([...(states[0] ?? new Map())].sort());
      if (states.every((s) => s !== null && JSON.stringify([...s].sort()) === first) && states[0]!.size >= acked.size + 20) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const first = JSON.stringify([...(states[0] ?? new Map())].sort());
    for (const s of states) expect(JSON.stringify([...(s ?? new Map())].sort())).toBe(first);
    for (const [k, v] of acked) expect(states[2]!.get(k), k).toBe(v);
    for (let i = 0; i < 20; i++) expect(states[1]!.get(`demo/a${i}`)).toBe(`from-a-${i}`);
  });
});
