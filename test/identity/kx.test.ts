import { randomBytes } from 'node:crypto';
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKxKeyPair, isWeakX25519Key, kxPublicKeyOf, x25519 } from '../../src/identity/kx.js';

const hex = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'));
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const P = 2n ** 255n - 19n;
function le32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

// RFC 7748 §6.1.
const ALICE_SECRET = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const ALICE_PUBLIC = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
const BOB_SECRET = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
const BOB_PUBLIC = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

/** Every small-order u, reduced: 0, 1, p - 1 and the two points of order 8 (libsodium's list). */
const WEAK_U = [
  0n,
  1n,
  P - 1n,
  0x00b8495f16056286fdb1329ceb8d09da6ac49ff1fae35616aeb8413b7c7aebe0n,
  0x57119fd0dd4e22d8868e1c58c45c44045bef839c55b1d0b1248c50a3bc959c5fn,
];

/** Every 32-byte encoding of the weak u: canonical, u + p where it fits below 2^255, and bit 255 set. */
function weakEncodings(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const u of WEAK_U) {
    for (const v of u + P < 2n ** 255n ? [u, u + P] : [u]) {
      out.push(le32(v));
      out.push(le32(v + 2n ** 255n));
    }
  }
  return out;
}

describe('X25519 (RFC 7748 §6.1)', () => {
  it('derives the RFC public keys and shared secret', () => {
    expect(hex(kxPublicKeyOf(unhex(ALICE_SECRET)))).toBe(ALICE_PUBLIC);
    expect(hex(kxPublicKeyOf(unhex(BOB_SECRET)))).toBe(BOB_PUBLIC);
    expect(hex(x25519(unhex(ALICE_SECRET), unhex(BOB_PUBLIC)))).toBe(SHARED);
    expect(hex(x25519(unhex(BOB_SECRET), unhex(ALICE_PUBLIC)))).toBe(SHARED);
  });

  it('generated key pairs agree with each other and with noble', () => {
    fc.assert(
      fc.property(fc.integer(), () => {
        const a = generateKxKeyPair();
        const b = generateKxKeyPair();
        expect(hex(kxPublicKeyOf(a.secret))).toBe(hex(a.publicKey));
        expect(hex(nobleX25519.getPublicKey(a.secret))).toBe(hex(a.publicKey));
        const ab = x25519(a.secret, b.publicKey);
        expect(ab).not.toBeNull();
        expect(hex(x25519(b.secret, a.publicKey))).toBe(hex(ab));
        expect(hex(nobleX25519.getSharedSecret(a.secret, b.publicKey))).toBe(hex(ab));
        expect(isWeakX25519Key(a.publicKey)).toBe(false);
      }),
      { numRuns: 50, seed: 0x7748 },
    );
  });

  it('returns null, not an all-zero secret, for every small-order peer key encoding', () => {
    const encodings = weakEncodings();
    expect(encodings.length).toBe(14);
    for (let i = 0; i < 3; i++) {
      const secret = new Uint8Array(randomBytes(32));
      for (const e of encodings) expect(x25519(secret, e), hex(e) ?? '').toBeNull();
    }
  });

  it('isWeakX25519Key flags every small-order encoding and nothing random', () => {
    for (const e of weakEncodings()) expect(isWeakX25519Key(e), hex(e) ?? '').toBe(true);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (u) => {
        expect(isWeakX25519Key(u)).toBe(false);
      }),
      { numRuns: 500, seed: 0x5a11 },
    );
  });

  it('the weak list is exactly the u whose X25519 output is all zeros (checked with noble on u = 0..40 and the list)', () => {
    const secret = new Uint8Array(randomBytes(32));
    const zeroOutput = (u: Uint8Array): boolean => {
      try {
        return nobleX25519.getSharedSecret(secret, u).every((b) => b === 0);
      } catch {
        return true; // noble refuses an all-zero result
      }
    };
    for (let u = 0n; u <= 40n; u++) expect(isWeakX25519Key(le32(u)), `u = ${u}`).toBe(zeroOutput(le32(u)));
    for (const e of weakEncodings()) expect(zeroOutput(e), hex(e) ?? '').toBe(true);
  });

  it('returns null for a peer key of the wrong length and treats it as weak', () => {
    const secret = new Uint8Array(randomBytes(32));
    for (const n of [0, 31, 33]) {
      expect(x25519(secret, new Uint8Array(n).fill(9))).toBeNull();
      expect(isWeakX25519Key(new Uint8Array(n).fill(9))).toBe(true);
    }
  });

  it('throws for an own secret of the wrong length (our own bug)', () => {
    expect(() => x25519(new Uint8Array(31), unhex(BOB_PUBLIC))).toThrow(/32 bytes/);
    expect(() => kxPublicKeyOf(new Uint8Array(33))).toThrow(/32 bytes/);
  });

  it('does not reuse a cached key when the secret array is refilled', () => {
    const secret = unhex(ALICE_SECRET);
    expect(hex(kxPublicKeyOf(secret))).toBe(ALICE_PUBLIC);
    secret.set(unhex(BOB_SECRET));
    expect(hex(kxPublicKeyOf(secret))).toBe(BOB_PUBLIC);
  });
});
