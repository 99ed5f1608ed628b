/**
 * Bookkeeping of lazy pull (IHAVE → IWANT → message), as a pure core on an injected time:
 *
 * - one outstanding IWANT per message id, to the first peer that advertised it; later advertisers
 *   are remembered (a few) as alternates, so a message is pulled once, not once per IHAVE;
 * - a deadline per IWANT: an advertiser that does not deliver in time broke its promise (it
 *   advertised something it would not or could not send) and is charged; the next alternate is asked;
 * - per-peer, per-round budgets: how many ids we ask of a peer and how many we serve to it.
 *
 * Everything is bounded: pending promises, alternates per id, peers with budgets.
 */

export const MAX_ALTERNATES = 8;
/**
 * Alternates asked at once after a broken promise: a second loss in a row is likely on a lossy
 * path, and two parallel asks keep the number of attempts within the advertising window. Costs a
 * duplicate only when both answer, so only under loss.
 */
export const RETRY_PARALLELISM = 2;

interface Promise_ {
  /** Peers asked for it, answering for it until the deadline. */
  peers: string[];
  deadline: number;
  alternates: string[];
  /** When it was first advertised to us, and who advertised it: asked again in turn while they still hold it. */
  readonly since: number;
  readonly advertisers: string[];
}

export interface BrokenPromise {
  readonly idKey: string;
  /** The advertisers asked that did not deliver. */
  readonly peers: readonly string[];
  /** The alternates now asked instead (possibly none). */
  readonly retry: readonly string[];
}

export class PullTracker {
  /** Insertion order is deadline order: every deadline is now + the same timeout. */
  private readonly pending = new Map<string, Promise_>();
  private readonly asked = new Map<string, number>();
  private readonly served = new Map<string, number>();

  /**
   * `retryWindowMs`: how long after the first advertisement the advertisers still hold the message
   * (their cache history); within it, once every alternate was asked, the advertisers are asked
   * again in turn, so a lossy path gets several more attempts instead of none.
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly maxPending: number,
    private readonly perPeerPerRound: number,
    private readonly retryWindowMs = 0,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  isPending(idKey: string): boolean {
    return this.pending.has(idKey);
  }

  /**
   * `peer` advertised `idKey`, which we lack. Returns true when we should ask this peer now (and
   * records the promise); false when it is already asked of someone (this peer becomes an
   * alternate), or a bound is reached.
   */
  advertised(idKey: string, peer: string, now: number): boolean {
    const p = this.pending.get(idKey);
    if (p !== undefined) {
      if (!p.advertisers.includes(peer) && p.advertisers.length < MAX_ALTERNATES) {
        p.advertisers.push(peer);
        if (!p.peers.includes(peer)) p.alternates.push(peer);
      }
      return false;
    }
    if (this.pending.size >= this.maxPending) return false;
    const n = this.asked.get(peer) ?? 0;
    if (n >= this.perPeerPerRound) return false;
    this.asked.set(peer, n + 1);
    this.pending.set(idKey, { peers: [peer], deadline: now + this.timeoutMs, alternates: [], since: now, advertisers: [peer] });
    return true;
  }

  /** The message arrived (from anyone). */
  fulfilled(idKey: string): void {
    this.pending.delete(idKey);
  }

  /**
   * Promises past their deadline whose message is still missing (`isHeld` false). Each is
   * re-issued to its next alternate, when there is one and that peer's budget allows.
   */
  expire(now: number, isHeld: (idKey: string) => boolean): BrokenPromise[] {
    const out: BrokenPromise[] = [];
    const retried: Array<[string, Promise_]> = [];
    for (const [idKey, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(idKey);
      if (isHeld(idKey)) continue;
      const retry: string[] = [];
      if (p.alternates.length === 0 && now - p.since < this.retryWindowMs) p.alternates = p.advertisers.filter((a) => !p.peers.includes(a));
      while (p.alternates.length > 0 && retry.length < RETRY_PARALLELISM) {
        const alt = p.alternates.shift()!;
        const n = this.asked.get(alt) ?? 0;
        if (n < this.perPeerPerRound) {
          this.asked.set(alt, n + 1);
          retry.push(alt);
        }
      }
      out.push({ idKey, peers: p.peers, retry });
      if (retry.length > 0) retried.push([idKey, { peers: retry, deadline: now + this.timeoutMs, alternates: p.alternates, since: p.since, advertisers: p.advertisers }]);
    }
    // Re-inserted at the end, keeping insertion order = deadline order.
    for (const [idKey, p] of retried) this.pending.set(idKey, p);
    return out;
  }

  /** Earliest pending deadline, or null. */
  nextDeadline(): number | null {
    const first = this.pending.values().next();
    return first.done ? null : first.value.deadline;
  }

  /** May we serve one more IWANT'ed message to `peer` this round? Counts it if so. */
  mayServe(peer: string): boolean {
    const n = this.served.get(peer) ?? 0;
    if (n >= this.perPeerPerRound) return false;
    this.served.set(peer, n + 1);
    return true;
  }

  /** A new gossip round: per-peer budgets start over. */
  newRound(): void {
    this.asked.clear();
    this.served.clear();
  }
}
