/**
 * Membership with real node processes on 127.0.0.1 (dist/, built by `npx tsc -p .` before vitest):
 * kill -9 is detected by every other node, a restart (same identity, new epoch) is readmitted, and
 * SIGTERM leaves gracefully.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessCluster, type ProcessNode } from '../../src/cli/process-cluster.js';
import { BASE_CONFIG, profileDefaults } from '../../src/config.js';
import { detectionBound } from '../../src/membership/timing.js';

type MemberRow = { name: string; state: string; address: string; self: boolean; incarnation?: number };

let cluster: ProcessCluster;
const N = 10;

beforeAll(async () => {
  cluster = new ProcessCluster({ nodes: Array.from({ length: N }, (_, i) => ({ name: `m${i + 1}` })) });
  await cluster.startAll();
}, 90_000);

afterAll(async () => {
  await cluster?.destroy();
});

/** Polls every running node (except `skip`) until `ok` holds for its member list; ms taken, or -1. */
async function waitAll(ok: (rows: MemberRow[], n: ProcessNode) => boolean, timeoutMs: number, skip?: ProcessNode): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    const nodes = cluster.nodes.filter((n) => n.running && n !== skip);
    const answers = await Promise.all(nodes.map((n) => n.members()));
    if (answers.every((a, i) => a !== null && ok(a as MemberRow[], nodes[i]!))) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  return -1;
}

const stateIn = (rows: MemberRow[], name: string): string | undefined => rows.find((m) => m.name === name)?.state;

describe(`a real cluster of ${N} processes on 127.0.0.1`, () => {
  it('forms one view', async () => {
    expect(await cluster.waitForMembership(N, 30_000)).toBeGreaterThanOrEqual(0);
  });

  it('detects kill -9 on every other node, then readmits the restarted node (same identity, new epoch)', async () => {
    const victim = cluster.node('m7');
    const before = (await cluster.node('m1').members())!.find((m) => m.name === 'm7') as MemberRow;
    const oldIncarnation = before.incarnation!;
    await victim.kill();
    // The bound derived from the local profile's config, plus slack for 10 processes sharing 2 cores.
    const bound = detectionBound({ ...BASE_CONFIG, ...profileDefaults('local') }, N).boundMs;
    const detected = await waitAll((rows) => stateIn(rows, 'm7') === 'dead', bound + 10_000, victim);
    expect(detected, `every other node reports m7 dead within ${bound + 10_000} ms`).toBeGreaterThanOrEqual(0);

    await victim.start();
    const back = await waitAll((rows, n) => (n === victim ? rows.filter((m) => m.state === 'alive').length === N : stateIn(rows, 'm7') === 'alive'), 30_000);
    expect(back, 'everyone sees m7 alive again, and m7 sees everyone').toBeGreaterThanOrEqual(0);
    const after = (await cluster.node('m1').members())!.find((m) => m.name === 'm7') as MemberRow;
    expect(after.incarnation!).toBeGreaterThan(oldIncarnation);
  }, 90_000);

  it('leaves gracefully on SIGTERM: the others see it left, not dead', async () => {
    const leaver = cluster.node('m9');
    leaver.signal('SIGTERM');
    expect(await leaver.exited()).toBe(0);
    const seen = await waitAll((rows) => stateIn(rows, 'm9') === 'left', 5000, leaver);
    expect(seen, 'every other node reports m9 left').toBeGreaterThanOrEqual(0);
  }, 30_000);
});
