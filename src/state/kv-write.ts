/**
 * The signed key/value write: a KV_WRITE envelope whose body is
 *
 *   [key, value | null, hlc wall ms, hlc logical, version]
 *
 * `value === null` is a delete (a tombstone). `version` numbers the origin's writes 1, 2, 3, ...
 * without gaps: scuttlebutt anti-entropy exchanges "I have origin X up to version v" and ships
 * gap-free runs of versions, so every version is a slot that exactly one signed write may fill.
 *
 * Every field is signed by the writer, so relays and anti-entropy peers forward the exact bytes
 * and each replica verifies the writer itself.
 */
import { nullable, bytes, str, tuple, uint, type Infer } from '../wire/schema.js';
import { MAX_LOGICAL } from './hlc.js';

/**
 * Keys are paths: a namespace segment (the tenant, under the default policy) and at least one more.
 * Only printable characters that need no escaping in URLs, logs or shells.
 */
export const KEY_PATTERN = /^[A-Za-z0-9._-]{1,128}(\/[A-Za-z0-9._:@=+,-]{1,256}){1,16}$/;

/** Schema bounds; the configured maxKeyBytes / maxValueBytes are checked by the handler. */
export const KV_WRITE_BODY = tuple(str(4096, KEY_PATTERN), nullable(bytes(0, 60_000)), uint(), uint(MAX_LOGICAL), uint());
export type KvWriteBody = Infer<typeof KV_WRITE_BODY>;

export interface KvWrite {
  readonly key: string;
  readonly value: Uint8Array | null;
  readonly wall: number;
  readonly logical: number;
  readonly version: number;
}

export function writeFromBody(b: KvWriteBody): KvWrite {
  return { key: b[0], value: b[1], wall: b[2], logical: b[3], version: b[4] };
}

export function bodyOf(w: KvWrite): KvWriteBody {
  return [w.key, w.value, w.wall, w.logical, w.version];
}
