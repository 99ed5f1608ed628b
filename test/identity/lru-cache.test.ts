import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LruCache } from '../../src/identity/lru-cache.js';

describe('LruCache', () => {
  it('evicts the least recently used entry, where get() counts as a use', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1);
    c.set('c', 3);
    expect(c.has('b')).toBe(false);
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.size).toBe(2);
  });

  it('stores null values and tells them apart from absent keys', () => {
    const c = new LruCache<string, number | null>(4);
    c.set('x', null);
    expect(c.get('x')).toBeNull();
    expect(c.get('y')).toBeUndefined();
  });

  it('refuses a capacity below 1', () => {
    expect(() => new LruCache(0)).toThrow(expect.objectContaining({ code: 'HEARSAY_ERR_INVALID_ARGUMENT' }));
  });

  it('matches a reference model and never exceeds its capacity (fast-check)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.nat(9), value: fc.integer() }),
      fc.record({ kind: fc.constant('get' as const), key: fc.nat(9) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const cache = new LruCache<number, number>(capacity);
        let model: Array<[number, number]> = []; // least recent first
        for (const o of ops) {
          const found = model.find(([k]) => k === o.key);
          if (o.kind === 'get') {
            expect(cache.get(o.key)).toBe(found?.[1]);
            if (found !== undefined) model = [...model.filter(([k]) => k !== o.key), found];
          } else {
            cache.set(o.key, o.value);
            model = [...model.filter(([k]) => k !== o.key), [o.key, o.value]];
            if (model.length > capacity) model.shift();
          }
          expect(cache.size).toBe(model.length);
          expect(cache.size).toBeLessThanOrEqual(capacity);
        }
      }),
      { numRuns: 300, seed: 0x14c },
    );
  });
});
