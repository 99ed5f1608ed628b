import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, packetLimits, scan, type DecodeLimits } from '../../src/wire/codec.js';

const limits: DecodeLimits = { maxBytes: 1400, maxDepth: 4, maxArrayLength: 100, maxItems: 500, maxStringBytes: 64, maxBinBytes: 256 };

describe('wire codec', () => {
  it('round-trips the value kinds the wire uses', () => {
    const v = [1, -5, 2 ** 40, 'héllo', new Uint8Array([1, 2, 3]), null, true, false, 1.5, [[], [7]]];
    const d = decode(encode(v), packetLimits(1400));
    expect(d.ok).toBe(true);
    if (d.ok) {
      const out = d.value as unknown[];
      expect(out.slice(0, 4)).toEqual([1, -5, 2 ** 40, 'héllo']);
      expect(Buffer.from(out[4] as Uint8Array)).toEqual(Buffer.from([1, 2, 3]));
      expect(out.slice(5)).toEqual([null, true, false, 1.5, [[], [7]]]);
    }
  });

  it('refuses an array whose declared length exceeds the bytes present, before allocating', () => {
    // array32 declaring 4 billion elements, followed by one byte.
    const evil = Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(scan(evil, { ...limits, maxArrayLength: 2 ** 32 })).toBe('truncated');
    expect(scan(evil, limits)).toBe('too-long');
  });

  it('refuses strings and binaries longer than their limits or the input', () => {
    expect(scan(Uint8Array.from([0xc6, 0, 0, 0x10, 0, 1, 2]), limits)).toBe('too-long');
    expect(scan(Uint8Array.from([0xc4, 10, 1, 2]), limits)).toBe('truncated');
    expect(scan(Uint8Array.from([0xdb, 0xff, 0xff, 0xff, 0xff]), limits)).toBe('too-long');
  });

  it('refuses nesting deeper than the limit', () => {
    let v: unknown = 1;
    for (let i = 0; i < 5; i++) v = [v];
    expect(scan(encode(v), limits)).toBe('too-deep');
    let ok: unknown = 1;
    for (let i = 0; i < 4; i++) ok = [ok];
    expect(scan(encode(ok), limits)).toBeNull();
  });

  it('refuses maps, extensions, reserved bytes and unsafe 64-bit integers', () => {
    expect(scan(Uint8Array.from([0x81, 0xa1, 0x61, 0x01]), limits)).toBe('forbidden-type');
    expect(scan(Uint8Array.from([0xd4, 0x01, 0x00]), limits)).toBe('forbidden-type');
    expect(scan(Uint8Array.from([0xc7, 0x01, 0x01, 0x00]), limits)).toBe('forbidden-type');
    expect(scan(Uint8Array.from([0xc1]), limits)).toBe('forbidden-type');
    expect(scan(Uint8Array.from([0xcf, 0xff, 0, 0, 0, 0, 0, 0, 1]), limits)).toBe('forbidden-type');
    expect(scan(Uint8Array.from([0xcf, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), limits)).toBeNull();
  });

  it('refuses trailing bytes, empty input and too many items', () => {
    expect(scan(Uint8Array.from([0x01, 0x02]), limits)).toBe('trailing-bytes');
    expect(scan(new Uint8Array(0), limits)).toBe('truncated');
    expect(scan(encode(new Array(100).fill([1, 2, 3, 4, 5])), limits)).toBe('too-many-items');
  });

  it('never throws on random bytes, and msgpackr decodes everything the scan lets through', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const scanned = scan(b, limits);
        const r = decode(b, limits);
        // The scan is the only gate: if it passes, msgpackr must not fail (decode would say forbidden-type).
        expect(r.ok).toBe(scanned === null);
      }),
      { numRuns: 5000, seed: 0x5eed },
    );
  });

  it('accepts everything it encodes within the limits', () => {
    const leaf = fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 30 }), fc.boolean(), fc.constant(null));
    const value = fc.array(fc.oneof(leaf, fc.array(leaf, { maxLength: 5 })), { maxLength: 10 });
    fc.assert(
      fc.property(value, (v) => {
        expect(decode(encode(v), limits).ok).toBe(true);
      }),
      { numRuns: 1000, seed: 42 },
    );
  });
});
