/**
 * Hybrid logical clocks (Kulkarni et al., "Logical Physical Clocks", 2014): a timestamp is the
 * largest physical time seen so far plus a logical counter that orders events within one
 * millisecond. It stays close to wall time (so "last writer wins" means what users expect) while
 * never going backwards, even when the wall clock does or a peer's clock runs ahead.
 *
 * Pure: the physical clock is injected. Remote timestamps are bounded by the caller (a write more
 * than maxClockSkewMs ahead is refused before it reaches `observe`), so one peer with a broken or
 * malicious clock cannot drag everybody's clock into the far future.
 */

export interface Hlc {
  /** Milliseconds since the Unix epoch: max(physical time seen). */
  readonly wall: number;
  /** Orders events that share `wall`. */
  readonly logical: number;
}

/** The logical counter stays a small integer: 2^31 events in one millisecond is beyond any real rate. */
export const MAX_LOGICAL = 0x7fffffff;

export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  return 0;
}

export function maxHlc(a: Hlc, b: Hlc): Hlc {
  return compareHlc(a, b) >= 0 ? a : b;
}

/** How far `ts` is ahead of the local physical time, in ms (0 when it is not ahead). */
export function aheadOf(ts: Hlc, physicalNow: number): number {
  return Math.max(0, ts.wall - physicalNow);
}

export class HybridClock {
  private last: Hlc;

  constructor(private readonly physical: () => number, initial: Hlc = { wall: 0, logical: 0 }) {
    this.last = initial;
  }

  /** The latest timestamp issued or observed. */
  current(): Hlc {
    return this.last;
  }

  /** A timestamp for a local event (a write): strictly greater than every one issued or observed before. */
  now(): Hlc {
    const pt = this.physical();
    const l = this.last;
    const next = pt > l.wall ? { wall: pt, logical: 0 } : bump(l);
    this.last = next;
    return next;
  }

  /** Merges a remote timestamp (receive event), so later local events are ordered after it. */
  observe(remote: Hlc): void {
    const pt = this.physical();
    const l = this.last;
    const wall = Math.max(pt, l.wall, remote.wall);
    let logical: number;
    if (wall === l.wall && wall === remote.wall) logical = Math.max(l.logical, remote.logical) + 1;
    else if (wall === l.wall) logical = l.logical + 1;
    else if (wall === remote.wall) logical = remote.logical + 1;
    else logical = 0;
    this.last = logical > MAX_LOGICAL ? { wall: wall + 1, logical: 0 } : { wall, logical };
  }
}

function bump(l: Hlc): Hlc {
  // Counter exhausted within one millisecond: borrow the next millisecond rather than overflow.
  return l.logical >= MAX_LOGICAL ? { wall: l.wall + 1, logical: 0 } : { wall: l.wall, logical: l.logical + 1 };
}
