import { randomBytes } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NONCE_BYTES, SEAL_OVERHEAD, open, sealInto } from '../../src/wire/seal.js';

function seal(key: Uint8Array, ad: Uint8Array, pt: Uint8Array): Uint8Array {
  const out = new Uint8Array(SEAL_OVERHEAD + pt.length);
  sealInto(out, 0, key, ad, pt);
  return out;
}

describe('XChaCha20-Poly1305 sealing', () => {
  it('is byte-for-byte @noble/ciphers xchacha20poly1305, in both directions', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 2000 }), (key, ad, pt) => {
        const ours = seal(key, ad, pt);
        const nonce = ours.subarray(0, NONCE_BYTES);
        const reference = xchacha20poly1305(key, nonce, ad).encrypt(pt);
        expect(Buffer.from(ours.subarray(NONCE_BYTES))).toEqual(Buffer.from(reference));
        const opened = open(key, ad, ours);
        expect(opened.ok && Buffer.from(opened.value)).toEqual(Buffer.from(pt));
        const theirs = Buffer.concat([nonce, reference]);
        const o2 = open(key, ad, theirs);
        expect(o2.ok && Buffer.from(o2.value)).toEqual(Buffer.from(pt));
      }),
      { numRuns: 300, seed: 1234 },
    );
  });

  it('matches the draft-irtf-cfrg-xchacha-03 §A.3.1 test vector', () => {
    const pt = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    const ad = Buffer.from('50515253c0c1c2c3c4c5c6c7', 'hex');
    const key = Buffer.from('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f', 'hex');
    const nonce = Buffer.from('404142434445464748494a4b4c4d4e4f5051525354555657', 'hex');
    const expectedTag = 'c0875924c1c7987947deafd8780acf49';
    const reference = Buffer.from(xchacha20poly1305(key, nonce, ad).encrypt(pt));
    expect(reference.subarray(reference.length - 16).toString('hex')).toBe(expectedTag);
    const o = open(key, ad, Buffer.concat([nonce, reference]));
    expect(o.ok && Buffer.from(o.value).toString()).toBe(pt.toString());
  });

  it('fails closed on a wrong key, wrong associated data, any flipped bit, or short input', () => {
    const key = new Uint8Array(randomBytes(32));
    const ad = new Uint8Array([1, 2, 3]);
    const sealed = seal(key, ad, new Uint8Array(50).fill(4));
    expect(open(new Uint8Array(randomBytes(32)), ad, sealed).ok).toBe(false);
    expect(open(key, new Uint8Array([1, 2, 4]), sealed).ok).toBe(false);
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice();
      bad[i] = bad[i]! ^ 0x10;
      expect(open(key, ad, bad).ok).toBe(false);
    }
    expect(open(key, ad, sealed.subarray(0, SEAL_OVERHEAD - 1)).ok).toBe(false);
    expect(open(key.subarray(0, 31), ad, sealed).ok).toBe(false);
  });

  it('draws a fresh random nonce for every seal', () => {
    const key = new Uint8Array(32);
    const nonces = new Set<string>();
    for (let i = 0; i < 200; i++) nonces.add(Buffer.from(seal(key, new Uint8Array(), new Uint8Array(1)).subarray(0, NONCE_BYTES)).toString('hex'));
    expect(nonces.size).toBe(200);
  });
});
