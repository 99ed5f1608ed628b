/**
 * What a push-pull carries (push-pull.ts): building a node's state, and taking in a peer's.
 *
 * A state is, per member, its newest ALIVE claim and, if it is not alive, the SUSPECT, DEAD or
 * LEAVE claim that says so; the node's own ALIVE comes first, then live members (what a newcomer
 * needs most), then the accusations behind suspects, then dead and departed members (for
 * reconnects, and so that refutations have something to beat). What does not fit the frame is
 * left out and counted.
 *
 * Taking a state in, claims we already hold (same bytes) or that cannot win (older incarnation,
 * accusation of a stranger) are skipped before any signature check: a steady-state exchange costs
 * a msgpack parse per claim, not a verification. Everything else goes through the same checks as
 * gossip.
 */
import type { DecodeLimits } from '../wire/codec.js';
import { peekClaim, type Claim } from './claims.js';
import type { MemberTable } from './member-table.js';

/** msgpack bin header of one claim in the list (bin16; claims are over 255 bytes or close). */
const PER_CLAIM_OVERHEAD = 3;

export function buildSnapshot(table: MemberTable, own: Claim | null, budget: number): { claims: Uint8Array[]; truncated: boolean } {
  const t = table;
  const claims: Uint8Array[] = [];
  let left = budget;
  const add = (c: Claim | undefined): boolean => {
    if (c === undefined) return true;
    const cost = c.bytes.length + PER_CLAIM_OVERHEAD;
    if (cost > left) return false;
    claims.push(c.bytes);
    left -= cost;
    return true;
  };
  if (own !== null) add(own);
  let full = false;
  for (let p = 0; p < t.liveCount && !full; p++) full = !add(t.alive(t.liveAt(p)));
  for (let p = 0; p < t.liveCount && !full; p++) {
    const i = t.liveAt(p);
    if (t.state(i) === 'suspect') full = !add(t.stateClaim(i));
  }
  for (const i of t.indexes()) {
    if (full) break;
    if (t.isLive(i)) continue;
    full = !add(t.alive(i)) || !add(t.stateClaim(i));
  }
  return { claims, truncated: full };
}

export interface AbsorbContext {
  readonly table: MemberTable;
  readonly selfHex: string;
  readonly own: Claim | null;
  readonly limits: DecodeLimits;
  /** Hands claim bytes to the claim pipeline (dedup, signature, merge). */
  ingest(bytes: Uint8Array): void;
  drop(reason: string): void;
}

export function absorbState(claims: readonly Uint8Array[], ctx: AbsorbContext): void {
  const t = ctx.table;
  for (const bytes of claims) {
    const peek = peekClaim(bytes, ctx.limits);
    if (!peek.ok) {
      ctx.drop('push-pull-malformed-claim');
      continue;
    }
    const p = peek.value;
    if (p.subjectHex === ctx.selfHex) {
      if (ctx.own !== null && sameBytes(ctx.own.bytes, bytes)) continue;
    } else {
      const i = t.indexOf(p.subjectHex);
      if (i >= 0) {
        const held = t.state(i) === 'alive' || p.kind === 'alive' ? t.alive(i) : t.stateClaim(i);
        if (held !== undefined && sameBytes(held.bytes, bytes)) continue;
        if (p.incarnation < t.alive(i).incarnation) continue;
      } else if (p.kind !== 'alive') {
        // A member's ALIVE comes before its other claims in a state: this one is about a member we
        // refused, or whose ALIVE was left out. Claims about strangers are dropped anyway (merge.ts):
        // drop it before any crypto.
        continue;
      }
    }
    ctx.ingest(bytes);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
