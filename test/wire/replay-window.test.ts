import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayWindow, SenderReplayState } from '../../src/wire/replay-window.js';

describe('replay window (RFC 6479 style)', () => {
  it('accepts each counter once, in any order inside the window', () => {
    const w = new ReplayWindow(128);
    for (const c of [5, 3, 9, 4, 200, 150, 199]) {
      expect(w.check(c)).toBe('ok');
      w.accept(c);
      expect(w.check(c)).toBe('replay');
    }
  });

  it('refuses counters that fell behind the window, and counter 0', () => {
    const w = new ReplayWindow(64);
    w.accept(1000);
    expect(w.check(1000 - w.size)).toBe('too-old');
    expect(w.check(1000 - w.size + 1)).toBe('ok');
    expect(w.check(0)).toBe('replay');
    expect(w.size).toBeGreaterThanOrEqual(64);
  });

  it('clears stale bits when the window slides far', () => {
    const w = new ReplayWindow(64);
    w.accept(10);
    w.accept(10 + 32 * 50); // slide by many blocks
    expect(w.check(10 + 32 * 50 - 1)).toBe('ok');
    // A counter whose ring block was reused must not look seen.
    expect(w.check(10 + 32 * 50 - 30)).toBe('ok');
  });

  it('agrees with a set-based model on random sequences', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 400 }), (seq) => {
        const w = new ReplayWindow(256);
        const seen = new Set<number>();
        let top = 0;
        for (const c of seq) {
          const expected = c > top ? 'ok' : top - c >= w.size ? 'too-old' : seen.has(c) ? 'replay' : 'ok';
          expect(w.check(c)).toBe(expected);
          if (expected === 'ok') {
            w.accept(c);
            seen.add(c);
            top = Math.max(top, c);
          }
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('refuses older epochs and resets on a newer epoch', () => {
    const s = new SenderReplayState(128);
    expect(s.check(100, 1)).toBe('ok');
    s.accept(100, 1);
    expect(s.check(100, 1)).toBe('replay');
    expect(s.check(99, 50)).toBe('old-epoch');
    expect(s.check(101, 1)).toBe('ok');
    s.accept(101, 1);
    expect(s.check(100, 2)).toBe('old-epoch');
    expect(s.currentEpoch).toBe(101);
  });
});
