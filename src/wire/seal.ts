/**
 * Per-hop encryption: XChaCha20-Poly1305 under the link key, with the clear header (and
 * certificate, when present) as associated data.
 *
 * XChaCha20-Poly1305 is HChaCha20(key, nonce[0..16]) as a subkey, then the RFC 8439 AEAD with
 * nonce 0x00000000 ‖ nonce[16..24] (draft-irtf-cfrg-xchacha §2.3). We compute HChaCha20 with
 * @noble/ciphers and run the AEAD through OpenSSL (node:crypto), which opens a 400-byte packet in
 * about a third of the time of the pure-JS AEAD; the receive path's budget is the signature check
 * (BENCHMARKS.md). The output is byte-for-byte @noble/ciphers' `xchacha20poly1305`:
 * test/wire/seal.test.ts checks that on random inputs, in both directions.
 *
 * The nonce is generated here, inside the seal function, from the CSPRNG: callers cannot reuse one
 * by mistake (STYLE.md §5). 24-byte random nonces make a collision negligible even across billions
 * of packets under one key, which is why the extended-nonce variant is used instead of a counter
 * nonce that would have to survive restarts.
 */
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { hchacha } from '@noble/ciphers/chacha.js';
import { fail, ok, type Result } from '../errors.js';

export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
/** Bytes sealing adds to a plaintext. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

// "expand 32-byte k" as little-endian words (RFC 8439 §2.3).
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

function readWords(bytes: Uint8Array, into: Uint32Array): void {
  for (let i = 0; i < into.length; i++) {
    const o = 4 * i;
    into[i] = (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24)) >>> 0;
  }
}

/** HChaCha20 subkey and the 12-byte IETF nonce for one 24-byte XChaCha nonce. */
function expand(key: Uint8Array, nonce: Uint8Array): { subkey: Buffer; iv: Buffer } {
  const k = new Uint32Array(8);
  const n = new Uint32Array(4);
  const out = new Uint32Array(8);
  readWords(key, k);
  readWords(nonce.subarray(0, 16), n);
  hchacha(SIGMA, k, n, out);
  const subkey = Buffer.allocUnsafe(32);
  for (let i = 0; i < 8; i++) subkey.writeUInt32LE(out[i]!, 4 * i);
  const iv = Buffer.alloc(12);
  iv.set(nonce.subarray(16, 24), 4);
  return { subkey, iv };
}

/** Writes nonce ‖ ciphertext ‖ tag into `out` at `offset`; `out` must have SEAL_OVERHEAD + plaintext bytes free. */
export function sealInto(out: Uint8Array, offset: number, key: Uint8Array, associatedData: Uint8Array, plaintext: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new RangeError('seal: key must be 32 bytes');
  const nonce = out.subarray(offset, offset + NONCE_BYTES);
  randomFillSync(nonce);
  const { subkey, iv } = expand(key, nonce);
  const cipher = createCipheriv('chacha20-poly1305', subkey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData, { plaintextLength: plaintext.length });
  const ct = cipher.update(plaintext);
  cipher.final();
  out.set(ct, offset + NONCE_BYTES);
  out.set(cipher.getAuthTag(), offset + NONCE_BYTES + ct.length);
}

/** Opens nonce ‖ ciphertext ‖ tag. Never throws: a wrong key, tampered byte or short input is a failure. */
export function open(key: Uint8Array, associatedData: Uint8Array, sealed: Uint8Array): Result<Uint8Array, 'decrypt-failed'> {
  if (key.length !== KEY_BYTES || sealed.length < SEAL_OVERHEAD) return fail('decrypt-failed');
  try {
    const { subkey, iv } = expand(key, sealed.subarray(0, NONCE_BYTES));
    const ctEnd = sealed.length - TAG_BYTES;
    const decipher = createDecipheriv('chacha20-poly1305', subkey, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(sealed.subarray(ctEnd));
    decipher.setAAD(associatedData, { plaintextLength: ctEnd - NONCE_BYTES });
    const pt = decipher.update(sealed.subarray(NONCE_BYTES, ctEnd));
    decipher.final(); // throws when the tag does not authenticate
    return ok(pt);
  } catch {
    return fail('decrypt-failed');
  }
}

/**
 * The AEAD as an interface, so the link layer can be given another implementation. Production
 * always uses `xchachaAead`; the simulator (src/sim/) substitutes a cheaper authenticated-but-
 * unencrypted one with the same sizes when it runs thousands of nodes in one process.
 */
export interface Aead {
  sealInto(out: Uint8Array, offset: number, key: Uint8Array, associatedData: Uint8Array, plaintext: Uint8Array): void;
  open(key: Uint8Array, associatedData: Uint8Array, sealed: Uint8Array): Result<Uint8Array, 'decrypt-failed'>;
}

export const xchachaAead: Aead = { sealInto, open };
