/**
 * Merge rules of membership claims: a pure function from what we hold about a member and an
 * incoming verified claim to a verdict. Everything else (signatures, timers, gossip) is decided
 * elsewhere; this is the whole of "who wins" and is property-tested on its own.
 *
 * Order of claims about one member (SWIM with memberlist's refinements, plus signatures):
 *
 * - A higher incarnation wins. Only the member signs incarnations (ALIVE, LEAVE), so only the
 *   member can move its incarnation forward, and it does so exactly to refute an accusation.
 * - At the same incarnation: LEAVE > DEAD > SUSPECT > ALIVE. A node that left is not "dead"; a
 *   death is final for that incarnation; a suspicion beats the ALIVE it accuses.
 * - Accusations (SUSPECT, DEAD) must name the incarnation of the newest ALIVE we hold. Older is
 *   stale (already refuted). Newer is unverifiable: we never saw the member sign it, and accepting
 *   it would let a liar accuse an incarnation the member never had, which it could only refute by
 *   jumping ahead of the liar's number (SWIM's "incarnation inflation").
 * - Two different ALIVE claims for the same incarnation are both signed by the member: that is
 *   equivocation, a proof against it, never a merge.
 * - Claims about members we do not know are dropped, except ALIVE, which introduces the member.
 */

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** What we hold about a member, as the merge rules see it. */
export interface HeldState {
  readonly state: MemberState;
  /** Incarnation of the newest ALIVE claim we hold (its own signature). */
  readonly aliveIncarnation: number;
  /** For 'left': the incarnation its LEAVE names (>= aliveIncarnation). */
  readonly leftIncarnation: number;
  /** base64 id of the ALIVE claim we hold: tells a duplicate from an equivocation. */
  readonly aliveId: string;
}

export interface IncomingClaim {
  readonly kind: 'alive' | 'suspect' | 'dead' | 'leave';
  readonly incarnation: number;
  readonly idKey: string;
}

export type MergeVerdict =
  /** An ALIVE for a member we do not know: add it. */
  | 'join'
  /** Changes what we hold (new incarnation, or a stronger state at the same one). */
  | 'apply'
  /** A SUSPECT for the incarnation we already suspect: one more independent confirmation (Lifeguard). */
  | 'confirm'
  /** Exactly what we hold, or weaker at the same incarnation: nothing to do, nothing wrong. */
  | 'redundant'
  /** An older incarnation: superseded long ago or in flight during a refutation. */
  | 'stale'
  /** An accusation naming an incarnation we never saw the member sign. */
  | 'unverifiable'
  /** A SUSPECT, DEAD or LEAVE about a member we do not know. */
  | 'unknown'
  /** A second, different ALIVE claim signed by the member for the incarnation we hold. */
  | 'equivocation';

const RANK: Readonly<Record<MemberState, number>> = { alive: 0, suspect: 1, dead: 2, left: 3 };

/** The incarnation our state refers to. */
export function heldIncarnation(h: HeldState): number {
  return h.state === 'left' ? h.leftIncarnation : h.aliveIncarnation;
}

export function merge(held: HeldState | null, claim: IncomingClaim): MergeVerdict {
  if (held === null) return claim.kind === 'alive' ? 'join' : 'unknown';
  const inc = claim.incarnation;
  switch (claim.kind) {
    case 'alive': {
      if (inc === held.aliveIncarnation) {
        if (claim.idKey === held.aliveId) return 'redundant';
        return 'equivocation';
      }
      if (inc < held.aliveIncarnation) return 'stale';
      // A newer ALIVE refutes any accusation, but not a LEAVE it does not exceed.
      if (held.state === 'left' && inc <= held.leftIncarnation) return 'stale';
      return 'apply';
    }
    case 'suspect':
    case 'dead': {
      if (held.state === 'left') return inc <= held.leftIncarnation ? 'stale' : 'unverifiable';
      if (inc < held.aliveIncarnation) return 'stale';
      if (inc > held.aliveIncarnation) return 'unverifiable';
      const rank = RANK[claim.kind];
      const heldRank = RANK[held.state];
      if (rank > heldRank) return 'apply';
      if (claim.kind === 'suspect' && held.state === 'suspect') return 'confirm';
      return 'redundant';
    }
    case 'leave': {
      // Signed by the member itself, so a LEAVE may name a newer incarnation than we saw.
      const current = heldIncarnation(held);
      if (inc < current) return 'stale';
      if (held.state === 'left') return inc === current ? 'redundant' : 'apply';
      return 'apply';
    }
  }
}

export type SelfVerdict =
  /** Not about our current life, or already superseded: ignore. */
  | 'stale'
  /** Our own current claim coming back to us. */
  | 'redundant'
  /** An accusation of our current incarnation, or a claim in our name we did not make: refute. */
  | 'refute'
  /** An accusation of an incarnation we never published: a lie (or a relay of one). */
  | 'unverifiable';

/**
 * Claims about this node itself. `ownIncarnation` is our current incarnation and `ownAliveId` the
 * id of the ALIVE we signed for it.
 */
export function mergeAboutSelf(ownIncarnation: number, ownAliveId: string, claim: IncomingClaim): SelfVerdict {
  const inc = claim.incarnation;
  switch (claim.kind) {
    case 'suspect':
    case 'dead':
      if (inc < ownIncarnation) return 'stale';
      if (inc > ownIncarnation) return 'unverifiable';
      return 'refute';
    case 'alive':
      if (inc < ownIncarnation) return 'stale';
      if (inc === ownIncarnation && claim.idKey === ownAliveId) return 'redundant';
      // Signed with our key but not by this process: a previous life whose clock ran ahead, or a
      // stolen key. Either way the cluster must end up on a claim of ours: jump past it.
      return 'refute';
    case 'leave':
      return inc < ownIncarnation ? 'stale' : 'refute';
  }
}
