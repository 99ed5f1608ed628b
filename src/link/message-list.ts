/**
 * Builds a packet's plaintext from messages encoded one by one. A msgpack array is its header
 * followed by its elements' encodings, so pre-encoded messages can be packed into packets by size
 * (piggybacking) without encoding anything twice.
 */
import { encode } from '../wire/codec.js';

/** Largest array header we emit (array16: 0xdc + 2 bytes); lists never exceed 65,535 messages. */
export const MAX_LIST_HEADER = 3;

export function encodeMessage(message: readonly unknown[]): Uint8Array {
  return encode(message);
}

export function encodeMessageList(encoded: readonly Uint8Array[]): Uint8Array {
  const n = encoded.length;
  if (n > 0xffff) throw new RangeError('message list: at most 65535 messages');
  const headerLength = n < 16 ? 1 : 3;
  let total = headerLength;
  for (const m of encoded) total += m.length;
  const out = new Uint8Array(total);
  if (n < 16) out[0] = 0x90 | n;
  else {
    out[0] = 0xdc;
    out[1] = n >>> 8;
    out[2] = n & 0xff;
  }
  let at = headerLength;
  for (const m of encoded) {
    out.set(m, at);
    at += m.length;
  }
  return out;
}
