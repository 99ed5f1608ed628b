import { describe, expect, it } from 'vitest';
import { arrayOf, bytes, finite, int, literal, nullable, oneOf, str, tuple, uint } from '../../src/wire/schema.js';

describe('wire schemas', () => {
  it('check types and ranges', () => {
    expect(bytes(32).check(new Uint8Array(32))).toBe(true);
    expect(bytes(32).check(new Uint8Array(31))).toBe(false);
    expect(bytes(32).check('x'.repeat(32))).toBe(false);
    expect(uint(10).check(10)).toBe(true);
    expect(uint(10).check(11)).toBe(false);
    expect(uint().check(-1)).toBe(false);
    expect(uint().check(1.5)).toBe(false);
    expect(uint().check(2 ** 60)).toBe(false);
    expect(int(-2, 2).check(-2)).toBe(true);
    expect(finite().check(Number.NaN)).toBe(false);
    expect(finite().check(Infinity)).toBe(false);
    expect(str(3).check('abc')).toBe(true);
    expect(str(3).check('abcd')).toBe(false);
    expect(str(3).check('éé')).toBe(false); // 4 UTF-8 bytes
    expect(str(10, /^a+$/).check('aab')).toBe(false);
    expect(literal(3).check(3)).toBe(true);
    expect(oneOf(['a', 'b']).check('c')).toBe(false);
    expect(nullable(uint()).check(null)).toBe(true);
    expect(arrayOf(uint(), 2).check([1, 2, 3])).toBe(false);
    expect(arrayOf(uint(), 3).check([1, 'x'])).toBe(false);
  });

  it('tuples require the exact length and every position', () => {
    const t = tuple(literal(1), uint(), str(5));
    expect(t.check([1, 2, 'ab'])).toBe(true);
    expect(t.check([1, 2, 'ab', 4])).toBe(false);
    expect(t.check([1, 2])).toBe(false);
    expect(t.check([2, 2, 'ab'])).toBe(false);
    expect(t.check({ 0: 1, 1: 2, 2: 'ab', length: 3 })).toBe(false);
  });
});
