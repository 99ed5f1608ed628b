import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareWrites, wins, type WriteStamp } from '../../src/state/lww.js';

const o = (b: number): Uint8Array => new Uint8Array(32).fill(b);

describe('last-writer-wins merge rule', () => {
  it('the greater HLC wins, then the greater origin id', () => {
    expect(wins({ wall: 2, logical: 0, origin: o(1) }, { wall: 1, logical: 9, origin: o(9) })).toBe(true);
    expect(wins({ wall: 1, logical: 1, origin: o(1) }, { wall: 1, logical: 2, origin: o(0) })).toBe(false);
    expect(wins({ wall: 1, logical: 1, origin: o(2) }, { wall: 1, logical: 1, origin: o(1) })).toBe(true);
    expect(wins({ wall: 1, logical: 1, origin: o(1) }, { wall: 1, logical: 1, origin: o(2) })).toBe(false);
    expect(wins({ wall: 1, logical: 1, origin: o(1) }, undefined)).toBe(true);
  });

  it('property: replicas that apply the same writes in any order pick the same winner', () => {
    const stamp = fc.record({ wall: fc.integer({ min: 0, max: 5 }), logical: fc.integer({ min: 0, max: 3 }), origin: fc.integer({ min: 0, max: 3 }).map(o) });
    fc.assert(fc.property(fc.array(stamp, { minLength: 1, maxLength: 12 }), fc.integer(), (writes, seed) => {
      const fold = (ws: WriteStamp[]): WriteStamp => ws.reduce<WriteStamp | undefined>((cur, w) => (wins(w, cur) ? w : cur), undefined)!;
      const shuffled = [...writes].sort((a, b) => ((a.wall * 31 + a.logical * 7 + a.origin[0]! + seed) % 5) - ((b.wall * 31 + b.logical * 7 + b.origin[0]! + seed) % 5));
      expect(compareWrites(fold(writes), fold(shuffled))).toBe(0);
      for (const w of writes) expect(compareWrites(fold(writes), w)).toBeGreaterThanOrEqual(0);
    }), { numRuns: 300, seed: 7 });
  });
});
