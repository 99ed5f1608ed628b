/**
 * The merge rule of replicated key/value state, as pure functions: for one key, the write with
 * the greatest hybrid logical timestamp wins; equal timestamps (two writers in the same
 * millisecond with the same counter) are broken by the writer's node id, compared as bytes. The
 * order is total over distinct (timestamp, origin) pairs, so every replica that has seen the same
 * set of writes picks the same winner, whatever the order they arrived in.
 *
 * One origin never issues two writes with the same timestamp (its HLC is strictly increasing), so
 * (timestamp, origin) identifies a write; two different signed writes that share it, or share an
 * origin's version number, are equivocation, detected by the store, not here.
 */
import { compareHlc, type Hlc } from './hlc.js';

export interface WriteStamp extends Hlc {
  readonly origin: Uint8Array;
}

/** < 0 when `a` loses to `b`, > 0 when it wins, 0 for the same (timestamp, origin). */
export function compareWrites(a: WriteStamp, b: WriteStamp): number {
  const c = compareHlc(a, b);
  if (c !== 0) return c;
  return Buffer.compare(a.origin, b.origin);
}

/** Does `candidate` replace `current` as the key's value? */
export function wins(candidate: WriteStamp, current: WriteStamp | undefined): boolean {
  return current === undefined || compareWrites(candidate, current) > 0;
}
