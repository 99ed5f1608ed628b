/**
 * msgpack for the wire, with limits that hold before anything is allocated.
 *
 * msgpackr trusts its input's declared lengths: a 6-byte header can declare a 4-GiB array. So every
 * buffer from the network first goes through `scan`, an O(n) walk over the raw bytes that checks
 * every declared length against the bytes actually present and against our limits on depth,
 * element count, string and binary sizes, and refuses the features we never send: extensions
 * (msgpackr records and typed arrays ride on them), maps (objects invite prototype pollution and
 * have no canonical order), and 64-bit integers outside the safe integer range. Only input that
 * passes is handed to msgpackr, so its allocations are bounded by the bytes received.
 */
import { Packr, Unpackr } from 'msgpackr';
import { fail, ok, type Result } from '../errors.js';

export interface DecodeLimits {
  /** Total input bytes. */
  readonly maxBytes: number;
  /** Nesting depth of arrays (the top-level value is depth 1). */
  readonly maxDepth: number;
  /** Elements of any one array. */
  readonly maxArrayLength: number;
  /** Values in the whole document: bounds the number of JS objects the decoder creates. */
  readonly maxItems: number;
  /** UTF-8 bytes of any one string. */
  readonly maxStringBytes: number;
  /** Bytes of any one binary value. */
  readonly maxBinBytes: number;
}

/** Limits for one packet's plaintext: nothing in it can be larger than the packet itself. */
export function packetLimits(maxPacketBytes: number): DecodeLimits {
  return {
    maxBytes: maxPacketBytes,
    maxDepth: 8,
    maxArrayLength: maxPacketBytes,
    maxItems: maxPacketBytes,
    maxStringBytes: maxPacketBytes,
    maxBinBytes: maxPacketBytes,
  };
}

/** Limits for a stream frame (push-pull, anti-entropy): larger, still finite. */
export function frameLimits(maxFrameBytes: number): DecodeLimits {
  return {
    maxBytes: maxFrameBytes,
    maxDepth: 10,
    maxArrayLength: 200_000,
    maxItems: 1_000_000,
    maxStringBytes: 65_536,
    maxBinBytes: maxFrameBytes,
  };
}

export type DecodeFailure = 'too-large' | 'truncated' | 'trailing-bytes' | 'too-deep' | 'too-long' | 'too-many-items' | 'forbidden-type';

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true, useFloat32: 0 });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, moreTypes: false, int64AsType: 'number' });

/** Encodes a value built only of arrays, strings, byte arrays, numbers, booleans and null. */
export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes untrusted bytes. Never throws. */
export function decode(bytes: Uint8Array, limits: DecodeLimits): Result<unknown, DecodeFailure> {
  const scanned = scan(bytes, limits);
  if (scanned !== null) return fail(scanned);
  try {
    return ok(unpackr.unpack(bytes));
  } catch (e) {
    // Unreachable for input that passed the scan; kept so a msgpackr surprise is a drop, not a crash.
    return fail('forbidden-type', (e as Error).message);
  }
}

/**
 * Walks one complete msgpack value covering exactly `bytes`. Returns null when it is acceptable,
 * or the reason it is not. `pending[d]` counts values still expected at depth d.
 */
export function scan(bytes: Uint8Array, limits: DecodeLimits): DecodeFailure | null {
  const n = bytes.length;
  if (n > limits.maxBytes) return 'too-large';
  if (n === 0) return 'truncated';
  const pending: number[] = [1];
  let pos = 0;
  let items = 0;
  while (pending.length > 0) {
    const top = pending.length - 1;
    if (pending[top] === 0) {
      pending.pop();
      continue;
    }
    pending[top]! -= 1;
    if (pos >= n) return 'truncated';
    if (++items > limits.maxItems) return 'too-many-items';
    const b = bytes[pos++]!;
    let skip = 0;
    let arrayLength = -1;
    if (b <= 0x7f || b >= 0xe0) {
      // positive / negative fixint
    } else if (b >= 0x90 && b <= 0x9f) {
      arrayLength = b & 0x0f;
    } else if (b >= 0xa0 && b <= 0xbf) {
      skip = b & 0x1f;
      if (skip > limits.maxStringBytes) return 'too-long';
    } else if (b >= 0x80 && b <= 0x8f) {
      return 'forbidden-type'; // fixmap
    } else {
      switch (b) {
        case 0xc0: case 0xc2: case 0xc3: break; // nil, false, true
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: case 0xca: skip = 4; break;
        case 0xcb: skip = 8; break;
        case 0xcf: case 0xd3: {
          if (pos + 8 > n) return 'truncated';
          const hi = readU32(bytes, pos);
          const negative = b === 0xd3 && hi >= 0x80000000;
          const magnitudeHi = negative ? (~hi >>> 0) : hi;
          // |value| < 2^53 keeps it an exact JS number.
          if (magnitudeHi >= 0x200000) return 'forbidden-type';
          skip = 8;
          break;
        }
        case 0xd9: case 0xc4: {
          if (pos + 1 > n) return 'truncated';
          skip = bytes[pos]!;
          pos += 1;
          if (skip > (b === 0xd9 ? limits.maxStringBytes : limits.maxBinBytes)) return 'too-long';
          break;
        }
        case 0xda: case 0xc5: {
          if (pos + 2 > n) return 'truncated';
          skip = (bytes[pos]! << 8) | bytes[pos + 1]!;
          pos += 2;
          if (skip > (b === 0xda ? limits.maxStringBytes : limits.maxBinBytes)) return 'too-long';
          break;
        }
        case 0xdb: case 0xc6: {
          if (pos + 4 > n) return 'truncated';
          skip = readU32(bytes, pos);
          pos += 4;
          if (skip > (b === 0xdb ? limits.maxStringBytes : limits.maxBinBytes)) return 'too-long';
          break;
        }
        case 0xdc: {
          if (pos + 2 > n) return 'truncated';
          arrayLength = (bytes[pos]! << 8) | bytes[pos + 1]!;
          pos += 2;
          break;
        }
        case 0xdd: {
          if (pos + 4 > n) return 'truncated';
          arrayLength = readU32(bytes, pos);
          pos += 4;
          break;
        }
        default:
          // maps (0xde, 0xdf), extensions (0xc7-0xc9, 0xd4-0xd8) and the reserved 0xc1.
          return 'forbidden-type';
      }
    }
    if (skip > 0) {
      if (pos + skip > n) return 'truncated';
      pos += skip;
    }
    if (arrayLength >= 0) {
      if (arrayLength > limits.maxArrayLength) return 'too-long';
      // Every element takes at least one byte: a length beyond the remaining bytes is a lie.
      if (arrayLength > n - pos) return 'truncated';
      if (arrayLength > 0) {
        if (pending.length > limits.maxDepth) return 'too-deep';
        pending.push(arrayLength);
      }
    }
  }
  return pos === n ? null : 'trailing-bytes';
}

function readU32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) >>> 0) + (b[p + 1]! << 16) + (b[p + 2]! << 8) + b[p + 3]!;
}
