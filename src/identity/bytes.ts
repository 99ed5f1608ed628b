/**
 * Byte helpers for the identity module: hex at the file and log boundary, and a constant-time
 * comparison for anything derived from a secret (STYLE.md §5).
 */
import { timingSafeEqual } from 'node:crypto';

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Strict hex decoding: null for odd length, a non-hex character or, when given, the wrong length. */
export function fromHex(hex: string, expectedBytes?: number): Uint8Array | null {
  if (typeof hex !== 'string' || !HEX.test(hex)) return null;
  if (expectedBytes !== undefined && hex.length !== expectedBytes * 2) return null;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Constant-time when the lengths are equal (lengths themselves are public). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}
