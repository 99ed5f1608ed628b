import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aheadOf, compareHlc, HybridClock, MAX_LOGICAL, type Hlc } from '../../src/state/hlc.js';

describe('HybridClock', () => {
  it('follows the wall clock when it moves forward', () => {
    let t = 1000;
    const c = new HybridClock(() => t);
    expect(c.now()).toEqual({ wall: 1000, logical: 0 });
    t = 1005;
    expect(c.now()).toEqual({ wall: 1005, logical: 0 });
  });

  it('counts within one millisecond and never goes back when the wall clock does', () => {
    let t = 2000;
    const c = new HybridClock(() => t);
    const a = c.now();
    const b = c.now();
    t = 1500; // clock set back
    const d = c.now();
    expect(compareHlc(a, b)).toBeLessThan(0);
    expect(compareHlc(b, d)).toBeLessThan(0);
    expect(d).toEqual({ wall: 2000, logical: 2 });
  });

  it('orders local events after an observed remote timestamp', () => {
    const c = new HybridClock(() => 100);
    c.observe({ wall: 500, logical: 7 });
    expect(c.now()).toEqual({ wall: 500, logical: 9 });
  });

  it('starts above the timestamp it is restored from', () => {
    const c = new HybridClock(() => 10, { wall: 50, logical: 3 });
    expect(c.now()).toEqual({ wall: 50, logical: 4 });
  });

  it('borrows the next millisecond instead of overflowing the counter', () => {
    const c = new HybridClock(() => 10, { wall: 10, logical: MAX_LOGICAL });
    expect(c.now()).toEqual({ wall: 11, logical: 0 });
  });

  it('aheadOf measures how far a timestamp is in the future', () => {
    expect(aheadOf({ wall: 1500, logical: 0 }, 1000)).toBe(500);
    expect(aheadOf({ wall: 500, logical: 9 }, 1000)).toBe(0);
  });

  it('property: issued timestamps strictly increase whatever the wall clock and remote events do', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: -50, max: 50 }) }),
      fc.record({ kind: fc.constant('recv' as const), wall: fc.integer({ min: 0, max: 3000 }), logical: fc.integer({ min: 0, max: 5 }) }),
    );
    fc.assert(fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
      let t = 1000;
      const c = new HybridClock(() => t);
      let last: Hlc = c.now();
      for (const s of steps) {
        if (s.kind === 'tick') t = Math.max(0, t + s.dt);
        else {
          c.observe({ wall: s.wall, logical: s.logical });
          expect(compareHlc(c.current(), { wall: s.wall, logical: s.logical })).toBeGreaterThan(0);
        }
        const n = c.now();
        expect(compareHlc(n, last)).toBeGreaterThan(0);
        expect(n.wall).toBeGreaterThanOrEqual(t);
        last = n;
      }
    }), { numRuns: 200, seed: 42 });
  });
});
