/**
 * X25519 key exchange keys (RFC 7748), through node:crypto: ~24,000 agreements/s against a few
 * thousand in pure JS (ARCHITECTURE.md). A node's kx key is separate from its Ed25519 identity
 * key; the certificate binds the two, and link keys are derived from X25519 (src/wire/link-key.ts).
 */
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { HearsayError } from '../errors.js';
import { bytesEqual, isAllZero } from './bytes.js';

/** DER prefix of an X25519 SubjectPublicKeyInfo (RFC 8410 §4); the 32-byte u-coordinate follows. */
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
/** DER prefix of an X25519 PKCS#8 private key (RFC 8410 §7); the 32-byte secret follows. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface KxKeyPair {
  secret: Uint8Array;
  publicKey: Uint8Array;
}

/** A fresh X25519 key pair from OpenSSL's CSPRNG. */
export function generateKxKeyPair(): KxKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new HearsayError('HEARSAY_ERR_INTERNAL', 'X25519 JWK export has no private part');
  const secret = new Uint8Array(Buffer.from(jwk.d, 'base64url'));
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return { secret, publicKey: new Uint8Array(spki.subarray(SPKI_PREFIX.length)) };
}

/** The public key X25519(secret, 9) of a 32-byte secret (RFC 7748 §6.1). */
export function kxPublicKeyOf(secret: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyObject(secret)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

/**
 * The X25519 shared secret, or null when the peer's key is of the wrong length or the result is
 * all zeros. RFC 7748 §6.1: a peer that sends a small-order point forces an all-zero output, which
 * would make the "shared" key known to everyone; implementations MAY check for it, and we must,
 * because the link key would otherwise be predictable. Never throws on peer input.
 */
export function x25519(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array | null {
  if (!(peerPublic instanceof Uint8Array) || peerPublic.length !== 32) return null;
  const privateKey = privateKeyObject(secret);
  let shared: Uint8Array;
  try {
    // JWK import is ~6x faster than DER with OpenSSL 3 (see node-backend.ts).
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peerPublic).toString('base64url') }, format: 'jwk' });
    // OpenSSL itself fails the derivation on an all-zero result; the explicit check below keeps the
    // rule independent of that.
    shared = new Uint8Array(diffieHellman({ privateKey, publicKey }));
  } catch {
    return null;
  }
  if (shared.length !== 32 || isAllZero(shared)) return null;
  return shared;
}

const P = 2n ** 255n - 19n;
/**
 * u-coordinates of the points of small order on Curve25519 and its twist, reduced mod p: 0 (order
 * 2 and the point at infinity), 1 (order 4), p - 1 (order 4 on the twist) and the two of order 8.
 * This is libsodium's blocklist; every scalar multiple of these is all zeros after clamping.
 */
const WEAK_U = new Set<bigint>([
  0n,
  1n,
  P - 1n,
  0x00b8495f16056286fdb1329ceb8d09da6ac49ff1fae35616aeb8413b7c7aebe0n,
  0x57119fd0dd4e22d8868e1c58c45c44045bef839c55b1d0b1248c50a3bc959c5fn,
]);

/**
 * True for a kx public key that would give an all-zero shared secret with every secret: any
 * encoding of a small-order u-coordinate, including the non-canonical ones (u + p) and those with
 * bit 255 set, which RFC 7748 §5 says receivers must ignore. Also true for a wrong length.
 */
export function isWeakX25519Key(publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return true;
  let u = 0n;
  for (let i = 31; i >= 0; i--) u = (u << 8n) | BigInt(i === 31 ? publicKey[i]! & 0x7f : publicKey[i]!);
  return WEAK_U.has(u % P);
}

/**
 * KeyObjects per secret array, keyed by the array's identity so no secret becomes a string; the
 * copy guards against the array being refilled with another key.
 */
const privateKeys = new WeakMap<Uint8Array, { secret: Uint8Array; key: KeyObject }>();

function privateKeyObject(secret: Uint8Array): KeyObject {
  if (!(secret instanceof Uint8Array) || secret.length !== 32) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', 'an X25519 secret key must be 32 bytes');
  }
  const cached = privateKeys.get(secret);
  if (cached !== undefined && bytesEqual(cached.secret, secret)) return cached.key;
  const der = Buffer.concat([PKCS8_PREFIX, secret]);
  try {
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    privateKeys.set(secret, { secret: Uint8Array.from(secret), key });
    return key;
  } finally {
    der.fill(0);
  }
}
