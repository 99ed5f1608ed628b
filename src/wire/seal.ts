/**
 * Per-hop encryption: XChaCha20-Poly1305 (@noble/ciphers) under the link key, with the clear
 * header (and certificate, when present) as associated data.
 *
 * The nonce is generated here, inside the seal function, from the CSPRNG: callers cannot reuse one
 * by mistake (STYLE.md §5). 24-byte random nonces make a collision negligible even across billions
 * of packets under one key, which is why the extended-nonce variant is used instead of a counter
 * nonce that would have to survive restarts.
 */
import { randomFillSync } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { fail, ok, type Result } from '../errors.js';

export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
/** Bytes sealing adds to a plaintext. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/** Writes nonce ‖ ciphertext ‖ tag into `out` at `offset`; `out` must have SEAL_OVERHEAD + plaintext bytes free. */
export function sealInto(out: Uint8Array, offset: number, key: Uint8Array, associatedData: Uint8Array, plaintext: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new RangeError('seal: key must be 32 bytes');
  const nonce = out.subarray(offset, offset + NONCE_BYTES);
  randomFillSync(nonce);
  const sealed = xchacha20poly1305(key, nonce, associatedData).encrypt(plaintext);
  out.set(sealed, offset + NONCE_BYTES);
}

/** Opens nonce ‖ ciphertext ‖ tag. Never throws: a wrong key, tampered byte or short input is a failure. */
export function open(key: Uint8Array, associatedData: Uint8Array, sealed: Uint8Array): Result<Uint8Array, 'decrypt-failed'> {
  if (key.length !== KEY_BYTES || sealed.length < SEAL_OVERHEAD) return fail('decrypt-failed');
  try {
    const nonce = sealed.subarray(0, NONCE_BYTES);
    return ok(xchacha20poly1305(key, nonce, associatedData).decrypt(sealed.subarray(NONCE_BYTES)));
  } catch {
    return fail('decrypt-failed');
  }
}
