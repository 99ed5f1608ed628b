/**
 * The clear packet header. Fixed length, so parsing it costs a few byte reads and no allocation
 * beyond the views; it is the associated data of the AEAD, so a relay or attacker that changes any
 * header byte makes decryption fail.
 *
 *   offset size field
 *   0      2    magic "HS"
 *   2      1    version (1)
 *   3      1    kind (PacketKind)
 *   4      4    cluster tag: first 4 bytes of SHA-256("hearsay/v1/cluster\0" ‖ cluster)
 *   8      32   sender node id (Ed25519 public key)
 *   40     6    epoch: the sender's boot time in ms (48-bit big-endian)
 *   46     6    counter: per (sender, receiver), starts at 1 (48-bit big-endian)
 *   52          end
 *
 * The cluster tag is not a secret; it lets a node drop traffic meant for another cluster sharing
 * the port before any crypto. 48-bit fields hold ms timestamps until the year 10889 and a counter
 * that outlasts any epoch at a million packets per second.
 */
import { createHash } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';

export const MAGIC_0 = 0x48; // 'H'
export const MAGIC_1 = 0x53; // 'S'
/** Bumped on any incompatible change of the packet layout or link-key rule (STYLE.md §6). */
export const WIRE_VERSION = 1;
export const HEADER_BYTES = 52;
export const NODE_ID_BYTES = 32;
const MAX_U48 = 2 ** 48 - 1;

/** Packet kinds. ONLY APPEND TO THIS LIST: numbers are never reused. */
export const PacketKind = {
  /** Sealed messages between peers that already hold each other's certificate. */
  SEALED: 1,
  /** Sealed messages preceded by the sender's certificate in clear (authenticated as associated data). */
  SEALED_WITH_CERT: 2,
  /** First contact with a peer whose certificate we lack: our certificate in clear, nothing sealed. */
  HELLO: 3,
} as const;
export type PacketKind = (typeof PacketKind)[keyof typeof PacketKind];

export interface PacketHeader {
  readonly kind: PacketKind;
  readonly clusterTag: Uint8Array;
  readonly senderId: Uint8Array;
  readonly epoch: number;
  readonly counter: number;
}

export type HeaderFailure = 'too-small' | 'bad-magic' | 'bad-version' | 'bad-kind' | 'wrong-cluster';

export function clusterTag(cluster: string): Uint8Array {
  const h = createHash('sha256').update('hearsay/v1/cluster\0').update(cluster, 'utf8').digest();
  return new Uint8Array(h.subarray(0, 4));
}

export function writeHeader(out: Uint8Array, h: PacketHeader): void {
  if (h.senderId.length !== NODE_ID_BYTES || h.clusterTag.length !== 4) {
    throw new RangeError('header: sender id must be 32 bytes and cluster tag 4 bytes');
  }
  if (!Number.isSafeInteger(h.epoch) || h.epoch < 0 || h.epoch > MAX_U48 || !Number.isSafeInteger(h.counter) || h.counter < 0 || h.counter > MAX_U48) {
    throw new RangeError('header: epoch and counter must be 48-bit unsigned integers');
  }
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = WIRE_VERSION;
  out[3] = h.kind;
  out.set(h.clusterTag, 4);
  out.set(h.senderId, 8);
  writeU48(out, 40, h.epoch);
  writeU48(out, 46, h.counter);
}

/** Parses the header of an untrusted packet. The returned ids are views into `bytes`. */
export function readHeader(bytes: Uint8Array, expectedTag: Uint8Array): Result<PacketHeader, HeaderFailure> {
  if (bytes.length < HEADER_BYTES) return fail('too-small');
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) return fail('bad-magic');
  if (bytes[2] !== WIRE_VERSION) return fail('bad-version');
  const kind = bytes[3]!;
  if (kind !== PacketKind.SEALED && kind !== PacketKind.SEALED_WITH_CERT && kind !== PacketKind.HELLO) return fail('bad-kind');
  if (bytes[4] !== expectedTag[0] || bytes[5] !== expectedTag[1] || bytes[6] !== expectedTag[2] || bytes[7] !== expectedTag[3]) {
    return fail('wrong-cluster');
  }
  return ok({
    kind: kind as PacketKind,
    clusterTag: bytes.subarray(4, 8),
    senderId: bytes.subarray(8, 40),
    epoch: readU48(bytes, 40),
    counter: readU48(bytes, 46),
  });
}

function writeU48(out: Uint8Array, at: number, v: number): void {
  const hi = Math.floor(v / 2 ** 32);
  const lo = v >>> 0;
  out[at] = (hi >>> 8) & 0xff;
  out[at + 1] = hi & 0xff;
  out[at + 2] = lo >>> 24;
  out[at + 3] = (lo >>> 16) & 0xff;
  out[at + 4] = (lo >>> 8) & 0xff;
  out[at + 5] = lo & 0xff;
}

function readU48(b: Uint8Array, at: number): number {
  return (b[at]! * 256 + b[at + 1]!) * 2 ** 32 + ((b[at + 2]! << 24) >>> 0) + (b[at + 3]! << 16) + (b[at + 4]! << 8) + b[at + 5]!;
}
