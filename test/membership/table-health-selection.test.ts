import { describe, expect, it } from 'vitest';
import { assessHealth } from '../../src/membership/health.js';
import { LocalDirectory, MemberTable, OUTBOUND, SharedDirectory } from '../../src/membership/member-table.js';
import { selectMembers } from '../../src/membership/peer-selection.js';
import { detectionBound, pushPullInterval } from '../../src/membership/timing.js';
import type { Claim } from '../../src/membership/claims.js';
import { BASE_CONFIG } from '../../src/config.js';
import { SeededRandom } from '../../src/random.js';

function fakeAlive(i: number, incarnation = 1): Claim {
  const subject = new Uint8Array(32);
  subject[0] = i & 0xff;
  subject[1] = i >> 8;
  const hex = Buffer.from(subject).toString('hex');
  return {
    kind: 'alive', bytes: new Uint8Array(300), idKey: `a${i}-${incarnation}`, originHex: hex, subject, subjectHex: hex, incarnation,
    address: `h${i}:1`, certBytes: null, cert: null, timestamp: 0,
  };
}

describe('health', () => {
  const h = (alive: number, suspect: number, dead: number, seeds = 0, seedsReachable = 0): string =>
    assessHealth({ alive, suspect, dead, seeds, seedsReachable }, 0.9).state;

  it('is healthy when nearly every known member is reachable, and for a node alone by design', () => {
    expect(h(99, 0, 0)).toBe('healthy');
    expect(h(95, 3, 2)).toBe('healthy');
    expect(h(0, 0, 0)).toBe('healthy');
  });

  it('reports a minority or an even split as partitioned, on both sides', () => {
    // 20 nodes split 10/10: each side reaches itself and 9 others, and holds 10 dead.
    expect(h(9, 0, 10)).toBe('partitioned');
    expect(h(5, 0, 14)).toBe('partitioned');
    // Not joined yet, or cut off from everyone although seeds exist.
    expect(h(0, 0, 0, 1, 0)).toBe('partitioned');
    expect(h(0, 0, 3)).toBe('partitioned');
  });

  it('reports degraded between the two, or when no seed answers', () => {
    expect(h(12, 0, 7)).toBe('degraded');
    expect(h(99, 0, 0, 2, 0)).toBe('degraded');
    expect(h(99, 0, 0, 2, 1)).toBe('healthy');
  });

  it('counts suspects as reachable, so a lost probe does not flip the state', () => {
    expect(h(80, 19, 0)).toBe('healthy');
  });
});

describe('member table', () => {
  it('tracks states, counts and the probe list as members come and go', () => {
    const rng = new SeededRandom(1);
    const t = new MemberTable(new LocalDirectory(), 0);
    const idx = Array.from({ length: 100 }, (_, i) => t.add(fakeAlive(i).subjectHex, fakeAlive(i).subject, fakeAlive(i), 0, rng));
    expect(t.counts).toEqual({ alive: 100, suspect: 0, dead: 0, left: 0 });
    expect(t.liveCount).toBe(100);
    t.mark(idx[3]!, 'suspect', fakeAlive(3), 1000, rng);
    t.mark(idx[4]!, 'dead', fakeAlive(4), 1000, rng);
    t.mark(idx[5]!, 'left', fakeAlive(5), 1000, rng);
    expect(t.counts).toEqual({ alive: 97, suspect: 1, dead: 1, left: 1 });
    expect(t.liveCount).toBe(98);
    const live = new Set(Array.from({ length: t.liveCount }, (_, k) => t.liveAt(k)));
    expect(live.has(idx[3]!)).toBe(true);
    expect(live.has(idx[4]!)).toBe(false);
    t.refresh(idx[4]!, fakeAlive(4, 2), 2000, rng);
    expect(t.state(idx[4]!)).toBe('alive');
    expect(t.liveCount).toBe(99);
    t.remove(idx[5]!);
    expect(t.indexOf(fakeAlive(5).subjectHex)).toBe(-1);
    expect(t.size).toBe(99);
    t.shuffleLive(rng);
    const after = Array.from({ length: t.liveCount }, (_, k) => t.liveAt(k));
    expect(new Set(after).size).toBe(99);
    expect(after).not.toEqual([...live].filter((i) => after.includes(i)));
  });

  it('recycles the index of a forgotten member in a node\'s own directory, never in a shared one', () => {
    const rng = new SeededRandom(2);
    const local = new MemberTable(new LocalDirectory(), 0);
    const a = local.add(fakeAlive(1).subjectHex, fakeAlive(1).subject, fakeAlive(1), 0, rng);
    local.remove(a);
    expect(local.add(fakeAlive(2).subjectHex, fakeAlive(2).subject, fakeAlive(2), 0, rng)).toBe(a);
    const shared = new SharedDirectory();
    const t1 = new MemberTable(shared, 0);
    const t2 = new MemberTable(shared, 0);
    const b = t1.add(fakeAlive(1).subjectHex, fakeAlive(1).subject, fakeAlive(1), 0, rng);
    expect(t2.add(fakeAlive(1).subjectHex, fakeAlive(1).subject, fakeAlive(1), 0, rng)).toBe(b);
    t1.remove(b);
    expect(t2.indexOf(fakeAlive(1).subjectHex)).toBe(b);
  });
});

describe('peer selection', () => {
  function table(n: number, outbound: number): MemberTable {
    const rng = new SeededRandom(3);
    const t = new MemberTable(new LocalDirectory(), 0);
    for (let i = 0; i < n; i++) {
      const c = fakeAlive(i);
      const idx = t.add(c.subjectHex, c.subject, c, 0, rng);
      if (i < outbound) t.setFlag(idx, OUTBOUND);
    }
    return t;
  }

  for (const n of [40, 2000]) {
    it(`takes the outbound share first even when inbound members outnumber outbound 19 to 1 (n = ${n})`, () => {
      const t = table(n, Math.max(3, n / 20));
      const rng = new SeededRandom(4);
      for (let round = 0; round < 200; round++) {
        const picked = selectMembers(t, 6, 0.5, () => true, rng);
        expect(picked).toHaveLength(6);
        expect(new Set(picked).size).toBe(6);
        expect(picked.filter((i) => t.hasFlag(i, OUTBOUND)).length).toBeGreaterThanOrEqual(3);
      }
    });
  }

  it('fills from all candidates when there are too few outbound ones, and honours the predicate', () => {
    const t = table(100, 1);
    const rng = new SeededRandom(5);
    const picked = selectMembers(t, 10, 0.5, (i) => i % 2 === 0, rng);
    expect(picked).toHaveLength(10);
    expect(picked.every((i) => i % 2 === 0)).toBe(true);
    expect(selectMembers(t, 10, 0.5, () => false, rng)).toEqual([]);
  });

  it('never picks suspects or the dead', () => {
    const t = table(100, 50);
    const rng = new SeededRandom(6);
    for (let i = 0; i < 90; i++) t.mark(i, i % 2 === 0 ? 'suspect' : 'dead', fakeAlive(i), 0, rng);
    for (let round = 0; round < 50; round++) {
      const picked = selectMembers(t, 5, 0.5, () => true, rng);
      expect(picked).toHaveLength(5);
      expect(picked.every((i) => t.state(i) === 'alive')).toBe(true);
    }
  });
});

describe('derived timings', () => {
  it('stretches push-pull in proportion to N beyond pushPullScaleMembers (flat bytes per node)', () => {
    const c = { pushPullIntervalMs: 30_000, pushPullScaleMembers: 64 };
    expect(pushPullInterval(c, 10)).toBe(30_000);
    expect(pushPullInterval(c, 64)).toBe(30_000);
    expect(pushPullInterval(c, 640)).toBe(300_000);
    // State bytes per interval grow like N and so does the interval: their ratio is constant.
    expect(1000 / pushPullInterval(c, 1000)).toBeCloseTo(10_000 / pushPullInterval(c, 10_000), 9);
  });

  it('derives the crash-detection bound from the config', () => {
    const b = detectionBound(BASE_CONFIG, 1000);
    // 12 rounds to be probed + 1 probe + unconfirmed suspicion (6 × 2.4 s) + last-chance ping (2 × 100 ms)
    // + 2·log4(1000)+4 gossip rounds.
    expect(b.suspicionMinMs).toBe(2400);
    expect(b.suspicionMaxMs).toBe(14_400);
    expect(b.boundMs).toBe(12 * 200 + 200 + 14_400 + 200 + (2 * 5 + 4) * 200);
    expect(b.expectedMs).toBeLessThan(5000);
  });
});
