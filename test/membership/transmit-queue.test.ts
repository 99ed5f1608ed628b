import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retransmitLimit, TransmitQueue } from '../../src/membership/transmit-queue.js';

const msg = (tag: number, size = 40): Uint8Array => new Uint8Array(size).fill(tag);
const tags = (ms: Uint8Array[]): number[] => ms.map((m) => m[0]!);

describe('transmit-limited queue', () => {
  it('retransmits each update mult × ceil(log10(N + 1)) times (memberlist)', () => {
    expect(retransmitLimit(4, 1)).toBe(4);
    expect(retransmitLimit(4, 9)).toBe(4);
    expect(retransmitLimit(4, 10)).toBe(8);
    expect(retransmitLimit(4, 100)).toBe(12);
    expect(retransmitLimit(4, 1000)).toBe(16);
    expect(retransmitLimit(4, 999)).toBe(12);
  });

  it('sends newest first among never-sent updates, and least-sent before more-sent', () => {
    const q = new TransmitQueue(100);
    q.enqueue('a', msg(1));
    q.enqueue('b', msg(2));
    q.enqueue('c', msg(3));
    expect(tags(q.take(40, 10))).toEqual([3]);
    expect(tags(q.take(80, 10))).toEqual([2, 1]);
    // All sent once now; a new one goes first.
    q.enqueue('d', msg(4));
    expect(tags(q.take(40, 10))).toEqual([4]);
    expect(tags(q.take(1000, 10))).toEqual([3, 2, 1, 4]);
  });

  it('drops an update after `limit` transmissions', () => {
    const q = new TransmitQueue(10);
    q.enqueue('a', msg(1));
    for (let i = 0; i < 3; i++) expect(tags(q.take(100, 3))).toEqual([1]);
    expect(q.take(100, 3)).toEqual([]);
    expect(q.size).toBe(0);
  });

  it('lets a newer update for a member invalidate the older one', () => {
    const q = new TransmitQueue(10);
    q.enqueue('a', msg(1));
    q.take(100, 10);
    q.enqueue('a', msg(9));
    expect(q.size).toBe(1);
    expect(q.transmitsOf('a')).toBe(0);
    expect(tags(q.take(100, 10))).toEqual([9]);
  });

  it('fills a packet with what fits, skipping what does not', () => {
    const q = new TransmitQueue(10);
    q.enqueue('big', msg(1, 500));
    q.enqueue('small', msg(2, 60));
    q.enqueue('mid', msg(3, 200));
    expect(tags(q.take(300, 10))).toEqual([3, 2]);
    // The big one first (never sent), then what still fits of the once-sent.
    expect(tags(q.take(600, 10))).toEqual([1, 2]);
  });

  it('stays within its capacity by evicting the most-sent update', () => {
    const q = new TransmitQueue(2);
    q.enqueue('a', msg(1));
    q.take(40, 10);
    q.enqueue('b', msg(2));
    q.enqueue('c', msg(3));
    expect(q.size).toBe(2);
    expect(q.has('a')).toBe(false);
  });

  it('never exceeds the budget, never sends an item twice per take, and honours the limit (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.integer({ min: 0, max: 20 }), size: fc.integer({ min: 24, max: 400 }) }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 1400 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        (updates, budgets, limit) => {
          const q = new TransmitQueue(1000);
          const sent = new Map<Uint8Array, number>();
          let u = 0;
          for (const budget of budgets) {
            if (u < updates.length) {
              const { key, size } = updates[u++]!;
              q.enqueue(String(key), new Uint8Array(size));
            }
            const out = q.take(budget, limit);
            expect(new Set(out).size).toBe(out.length);
            expect(out.reduce((a, m) => a + m.length, 0)).toBeLessThanOrEqual(budget);
            for (const m of out) sent.set(m, (sent.get(m) ?? 0) + 1);
          }
          for (const n of sent.values()) expect(n).toBeLessThanOrEqual(limit);
          expect(q.size).toBeLessThanOrEqual(21);
        }),
      { numRuns: 300, seed: 20261127 },
    );
  });
});
