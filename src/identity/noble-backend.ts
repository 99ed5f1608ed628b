/**
 * Ed25519 through @noble/ed25519: the portable, audited pure-JS reference. Signing and key
 * derivation use noble directly. Verification does not call `ed.verify(…, { zip215: false })`,
 * because that checks the cofactored equation and would accept signatures OpenSSL rejects
 * (ed25519-rules.ts); it implements Hearsay's rule set with noble's strict point decoding and
 * point arithmetic instead.
 */
import { createHash } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { HearsayError } from '../errors.js';
import { bytesEqual } from './bytes.js';
import { ED25519_L, isCanonicalScalar } from './ed25519-rules.js';
import type { SignatureBackend } from './signature-backend.js';

// noble's synchronous API needs a synchronous SHA-512; OpenSSL's is the fastest one available.
ed.hashes.sha512 = (message) => new Uint8Array(createHash('sha512').update(message).digest());

function scalarLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

export class NobleSignatureBackend implements SignatureBackend {
  readonly name = 'noble' as const;

  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
    if (!(signature instanceof Uint8Array) || !(message instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) {
      return false;
    }
    // Rule 1: noble throws on wrong lengths; a malformed input is simply invalid here.
    if (signature.length !== 64 || publicKey.length !== 32) return false;
    const rBytes = signature.subarray(0, 32);
    const sBytes = signature.subarray(32, 64);
    // Rule 2 (RFC 8032 §5.1.7): S < L.
    if (!isCanonicalScalar(sBytes)) return false;
    let A: ed.Point;
    try {
      // Rule 3 (RFC 8032 §5.1.3): strict decoding refuses y >= p and x = 0 with the sign bit set.
      A = ed.Point.fromBytes(publicKey, false);
    } catch {
      return false;
    }
    // Rule 4: no small-order keys.
    if (A.isSmallOrder()) return false;
    const k = scalarLE(createHash('sha512').update(rBytes).update(publicKey).update(message).digest()) % ED25519_L;
    // Rule 5 (RFC 8032 §5.1.7, cofactorless): R must be exactly the encoding of [S]B - [k]A.
    // toBytes() only produces canonical encodings of curve points, so this equality also rejects
    // an R that is non-canonical or not on the curve, as strict decoding of R would.
    const check = ed.Point.BASE.multiply(scalarLE(sBytes), false).subtract(A.multiply(k, false));
    return bytesEqual(check.toBytes(), rBytes);
  }

  sign(message: Uint8Array, secretSeed: Uint8Array): Uint8Array {
    return ed.sign(message, checkSeed(secretSeed));
  }

  publicKeyOf(secretSeed: Uint8Array): Uint8Array {
    return ed.getPublicKey(checkSeed(secretSeed));
  }
}

function checkSeed(seed: Uint8Array): Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', 'an Ed25519 secret seed must be 32 bytes');
  }
  return seed;
}
