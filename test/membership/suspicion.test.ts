import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Suspicion, suspicionBounds, suspicionTimeout, MAX_CONFIRMATIONS } from '../../src/membership/suspicion.js';
import { Awareness } from '../../src/membership/awareness.js';

describe('suspicion timeout (Lifeguard)', () => {
  it('matches memberlist at its documented defaults: 1 s probes, multiplier 4, max 6x', () => {
    // memberlist suspicionTimeout: 4 × max(1, log10(n)) × 1 s.
    expect(suspicionBounds(4, 6, 100, 1000)).toEqual({ minMs: 8000, maxMs: 48_000, k: 2 });
    expect(suspicionBounds(4, 6, 1000, 1000)).toEqual({ minMs: 12_000, maxMs: 72_000, k: 2 });
    // Below 10 members the scale is 1; with fewer than k others to confirm, k is 0.
    expect(suspicionBounds(4, 6, 3, 1000)).toEqual({ minMs: 4000, maxMs: 24_000, k: 0 });
  });

  it('starts at max, shrinks with each confirmation, and reaches min at k', () => {
    const b = suspicionBounds(4, 6, 1000, 200); // min 2.4 s, max 14.4 s, k 2
    expect(suspicionTimeout(b, 0)).toBe(14_400);
    // max - (max - min) · log(2)/log(3) = 14400 - 12000 · 0.63093 = 6828.8, floored
    expect(suspicionTimeout(b, 1)).toBe(6828);
    expect(suspicionTimeout(b, 2)).toBe(2400);
    expect(suspicionTimeout(b, 50)).toBe(2400);
  });

  it('uses min from the start when no confirmation can be expected', () => {
    const b = suspicionBounds(4, 6, 3, 200);
    expect(b.k).toBe(0);
    expect(suspicionTimeout(b, 0)).toBe(b.minMs);
  });

  it('is monotone: more confirmations never lengthen it, and it stays within [min, max]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 10, max: 5000 }), fc.integer({ min: 0, max: 20 }), (mult, maxMult, n, interval, c) => {
          const b = suspicionBounds(mult, maxMult, n, interval);
          const t0 = suspicionTimeout(b, c);
          const t1 = suspicionTimeout(b, c + 1);
          expect(t1).toBeLessThanOrEqual(t0);
          expect(t0).toBeGreaterThanOrEqual(b.minMs);
          expect(t0).toBeLessThanOrEqual(Math.max(b.maxMs, b.minMs));
        }),
      { numRuns: 500, seed: 20261127 },
    );
  });

  it('counts each accuser once, not the first one, and at most k toward the timeout', () => {
    const b = suspicionBounds(4, 6, 1000, 200);
    const s = new Suspicion(7, 1000, b, 'a');
    expect(s.deadline).toBe(1000 + 14_400);
    expect(s.confirm('a')).toBe(false);
    expect(s.confirm('b')).toBe(true);
    expect(s.confirm('b')).toBe(false);
    expect(s.deadline).toBe(1000 + 6828);
    expect(s.confirm('c')).toBe(true);
    expect(s.deadline).toBe(1000 + 2400);
    // Beyond k: remembered (they are charged if refuted) but the timeout is already at min.
    expect(s.confirm('d')).toBe(false);
    expect(s.accuserIds).toEqual(['a', 'b', 'c', 'd']);
    expect(s.confirmationCount).toBe(2);
  });

  it('remembers a bounded number of accusers', () => {
    const s = new Suspicion(1, 0, suspicionBounds(4, 6, 1000, 200), 'x0');
    for (let i = 1; i < 10 * MAX_CONFIRMATIONS; i++) s.confirm(`x${i}`);
    expect(s.accuserIds).toHaveLength(MAX_CONFIRMATIONS);
  });
});

describe('awareness (Lifeguard local health)', () => {
  it('scales timeouts by score + 1 and clamps the score to [0, max - 1]', () => {
    const a = new Awareness(8);
    expect(a.scale(200)).toBe(200);
    expect(a.apply(3)).toBe(3);
    expect(a.scale(200)).toBe(800);
    expect(a.apply(100)).toBe(7);
    expect(a.scale(200)).toBe(1600);
    expect(a.apply(-1)).toBe(6);
    expect(a.apply(-100)).toBe(0);
  });

  it('refuses a nonsensical maximum', () => {
    expect(() => new Awareness(0)).toThrow(RangeError);
  });
});
