import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OFFENSES, type Offense } from '../../src/link/peer-gate.js';
import { DEFAULT_REPUTATION_PARAMS as P } from '../../src/reputation/params.js';
import {
  addOne, breakdown, COMPONENT_COUNT, componentIndex, computeScore, CREDIT, decayed, Level, levelOf, thresholdsCrossed, type PeerStats,
} from '../../src/reputation/score.js';

const SEED = 20261127;
const T0 = 1_700_000_000_000;

function stats(counts: Partial<Record<Offense | 'first-delivery', number>>, at = T0): PeerStats {
  const c = new Float64Array(COMPONENT_COUNT);
  for (const [k, v] of Object.entries(counts)) c[componentIndex(k as Offense)] = v;
  return { counters: c, at };
}

/** n offenses of one kind at time T0, added one by one as the engine does. */
function repeated(offense: Offense, n: number): PeerStats {
  let s: PeerStats = stats({});
  for (let k = 0; k < n; k++) s = { counters: addOne(s, componentIndex(offense), P, T0), at: T0 };
  return s;
}

const countersArb = fc.array(fc.double({ min: 0, max: 2000, noNaN: true }), { minLength: COMPONENT_COUNT, maxLength: COMPONENT_COUNT });
const offenseArb = fc.constantFrom(...OFFENSES);

describe('computeScore', () => {
  it('matches the worked numbers in params.ts', () => {
    expect(computeScore(repeated('invalid-signature', 1), P, T0)).toBe(-5);
    expect(computeScore(repeated('invalid-signature', 2), P, T0)).toBe(-20);
    expect(computeScore(repeated('invalid-signature', 3), P, T0)).toBe(-45);
    expect(computeScore(repeated('malformed', 7), P, T0)).toBe(-98);
    // Allowances: the first 30 broken promises are free, the 31st costs 0.05.
    expect(computeScore(repeated('broken-promise', 30), P, T0)).toBe(0);
    expect(computeScore(repeated('broken-promise', 31), P, T0)).toBeCloseTo(-0.05, 12);
    expect(computeScore(repeated('contradicted-claim', 124), P, T0)).toBeLessThan(P.thresholds.evict);
    expect(computeScore(repeated('contradicted-claim', 100), P, T0)).toBeGreaterThan(P.thresholds.evict);
    // Credit is linear and capped at +5.
    expect(computeScore(stats({ 'first-delivery': 10 }), P, T0)).toBeCloseTo(0.5);
    expect(computeScore(repeated('first-delivery' as Offense, 500), P, T0)).toBeCloseTo(5);
  });

  it('one accident of any kind stays above the gossip threshold; persistence does not', () => {
    for (const o of OFFENSES) {
      // By design, deliberate acts are not accidents: an equivocation charge graylists at once and
      // one forged proof (an attempt to get an honest node banned) costs gossip.
      if (o === 'equivocation' || o === 'forged-evidence') {
        expect(computeScore(repeated(o, 1), P, T0), o).toBeLessThan(P.thresholds.gossip);
        continue;
      }
      expect(computeScore(repeated(o, 1), P, T0), o).toBeGreaterThanOrEqual(P.thresholds.gossip);
      expect(computeScore(repeated(o, 200), P, T0), o).toBeLessThan(P.thresholds.evict);
    }
  });

  it('a counter halves every half-life and is zero below decayToZero', () => {
    const hl = P.penalties.malformed.halfLifeMs;
    expect(decayed(8, hl, hl, 0.01)).toBeCloseTo(4, 10);
    expect(decayed(8, 3 * hl, hl, 0.01)).toBeCloseTo(1, 10);
    expect(decayed(0.015, hl, hl, 0.01)).toBe(0);
    expect(decayed(5, -1000, hl, 0.01)).toBe(5); // a clock step back decays nothing
    const s = repeated('malformed', 4); // -32
    expect(computeScore(s, P, T0 + hl)).toBeCloseTo(-8, 10); // counter 2 → -8
  });

  it('property: the score moves monotonically toward zero over time, and reaches it', () => {
    fc.assert(
      fc.property(countersArb, fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), (cs, d1, d2) => {
        const s: PeerStats = { counters: Float64Array.from(cs), at: T0 };
        const a = computeScore(s, P, T0 + d1);
        const b = computeScore(s, P, T0 + d1 + d2);
        // Penalties and credit decay separately, so the sum can cross zero; each part shrinks.
        const neg = (x: PeerStats, t: number) => Object.entries(breakdown(x, P, t)).filter(([k]) => k !== 'first-delivery').reduce((acc, [, v]) => acc + v!.contribution, 0);
        const pos = (x: PeerStats, t: number) => breakdown(x, P, t)['first-delivery']?.contribution ?? 0;
        expect(neg(s, T0 + d1 + d2)).toBeGreaterThanOrEqual(neg(s, T0 + d1) - 1e-9);
        expect(pos(s, T0 + d1 + d2)).toBeLessThanOrEqual(pos(s, T0 + d1) + 1e-9);
        expect(Number.isFinite(a) && Number.isFinite(b)).toBe(true);
        expect(computeScore(s, P, T0 + 400 * 86_400_000)).toBe(0);
      }),
      { numRuns: 500, seed: SEED },
    );
  });

  it('property: one more offense never raises the score, one more first delivery never lowers it', () => {
    fc.assert(
      fc.property(countersArb, offenseArb, fc.integer({ min: 0, max: 3_600_000 }), (cs, offense, dt) => {
        const s: PeerStats = { counters: Float64Array.from(cs), at: T0 };
        const now = T0 + dt;
        const before = computeScore(s, P, now);
        const worse = computeScore({ counters: addOne(s, componentIndex(offense), P, now), at: now }, P, now);
        const better = computeScore({ counters: addOne(s, CREDIT, P, now), at: now }, P, now);
        expect(worse).toBeLessThanOrEqual(before + 1e-9);
        expect(better).toBeGreaterThanOrEqual(before - 1e-9);
      }),
      { numRuns: 1000, seed: SEED },
    );
  });

  it('property: strictly lower once past the allowance (each penalty reacts)', () => {
    fc.assert(
      fc.property(offenseArb, fc.integer({ min: 0, max: 50 }), (offense, n) => {
        const allowance = P.penalties[offense].allowance;
        const a = computeScore(repeated(offense, allowance + n), P, T0);
        const b = computeScore(repeated(offense, allowance + n + 1), P, T0);
        expect(b).toBeLessThan(a);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('property: caps bound the score on both sides, whatever the counters', () => {
    let floor = P.credit.weight * 0;
    for (const o of OFFENSES) floor += P.penalties[o].weight * (P.counterCap - P.penalties[o].allowance) ** 2;
    const ceiling = P.credit.weight * P.credit.cap;
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e12, noNaN: true }), { minLength: COMPONENT_COUNT, maxLength: COMPONENT_COUNT }), (cs) => {
        const score = computeScore({ counters: Float64Array.from(cs), at: T0 }, P, T0);
        expect(score).toBeGreaterThanOrEqual(floor);
        expect(score).toBeLessThanOrEqual(ceiling);
      }),
      { numRuns: 500, seed: SEED },
    );
    // addOne clamps counters at their caps.
    const s = repeated('first-delivery' as Offense, 1000);
    expect(s.counters[CREDIT]).toBe(P.credit.cap);
  });
});

describe('thresholds', () => {
  const t = P.thresholds;
  it('levels follow the thresholds, mildest first, and a ban overrides any score', () => {
    expect(levelOf(0, t, false)).toBe(Level.OK);
    expect(levelOf(t.gossip, t, false)).toBe(Level.OK); // "below" is strict
    expect(levelOf(t.gossip - 0.01, t, false)).toBe(Level.NO_GOSSIP);
    expect(levelOf(t.evict - 0.01, t, false)).toBe(Level.EVICTED);
    expect(levelOf(t.graylist - 0.01, t, false)).toBe(Level.GRAYLISTED);
    expect(levelOf(5, t, true)).toBe(Level.BANNED);
    expect(thresholdsCrossed(t.graylist - 1, t)).toEqual(['gossip', 'evict', 'graylist']);
    expect(thresholdsCrossed(0, t)).toEqual([]);
  });

  it('property: the level never improves as the score falls', () => {
    fc.assert(
      fc.property(fc.double({ min: -1000, max: 10, noNaN: true }), fc.double({ min: 0, max: 1000, noNaN: true }), (s, d) => {
        expect(levelOf(s - d, t, false)).toBeGreaterThanOrEqual(levelOf(s, t, false));
      }),
      { numRuns: 500, seed: SEED },
    );
  });
});
