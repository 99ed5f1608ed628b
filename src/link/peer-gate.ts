/**
 * The link layer's view of reputation: who is blocked, and where to report offenses and good
 * behaviour. The reputation engine implements it; the link layer only ever charges *authenticated*
 * senders (a packet that decrypted under the sender's link key, or a signature by an origin), so a
 * spoofer who writes a victim's id into a header can never lower the victim's score.
 */

/** What a peer can be charged with. Append only: names appear in the audit log and metrics. */
export const OFFENSES = [
  /** An envelope whose signature does not verify, forwarded by the link sender. */
  'invalid-signature',
  /** An authenticated packet whose plaintext does not decode or fails a schema. */
  'malformed',
  /** An authenticated packet beyond the per-sender rate limit. */
  'rate-limit',
  /** A signed envelope re-sent long after its time (older than the seen window). */
  'replay',
  /** A publish, subscribe, write or read the policy does not allow. */
  'policy-violation',
  /** A signed timestamp further ahead than maxClockSkew. */
  'future-timestamp',
  /** A claim refuted by newer signed data (e.g. a false death accusation). */
  'contradicted-claim',
  /** An IHAVE whose ids were not delivered when asked for. */
  'broken-promise',
  /** A certificate that fails verification, presented by an authenticated sender. */
  'bad-certificate',
  /** Two different signed records for one slot: a proof, handled as a ban. */
  'equivocation',
  /** A forged or invalid equivocation proof. */
  'forged-evidence',
  /**
   * A ciphertext that fails to open although its sender is authenticated, e.g. a sealed payload
   * inside an envelope its origin signed. SECURITY: never charged for a *packet* that fails link
   * decryption. Until a packet opens under the sender's link key, its header's sender id is a
   * claim anyone can write; charging it would let a spoofer sink an honest node's score by sending
   * garbage under the victim's id. The link layer counts those drops (`decrypt-failed`) instead.
   * The same holds for replays caught by the replay window and for packets over the rate limit:
   * they are dropped before decryption, so they are counted and never charged.
   */
  'decrypt-failure',
] as const;
export type Offense = (typeof OFFENSES)[number];

export interface PeerGate {
  /** Banned or graylisted: everything from it is dropped at the header check, before any crypto. */
  isBlocked(peerId: Uint8Array): boolean;
  /** May this peer receive gossip from us (above the gossip threshold)? */
  mayGossipTo(peerId: Uint8Array): boolean;
  /** May this peer stay in peer selection and the membership view (above the evict threshold)? */
  isEligible(peerId: Uint8Array): boolean;
  charge(peerId: Uint8Array, offense: Offense, detail?: string): void;
  /** First delivery of a valid message: a small, capped credit. */
  credit(peerId: Uint8Array): void;
  /**
   * Two different envelopes signed by one origin for the same slot (same key/value version, same
   * rumor sequence number, two incompatible claims for one incarnation). Both are verified
   * envelope wire bytes; the reputation engine checks the proof itself, bans the origin and
   * gossips the proof.
   */
  reportEquivocation(first: Uint8Array, second: Uint8Array): void;
}

/** A gate that blocks nobody and only counts, for nodes built without a reputation engine. */
export class CountingGate implements PeerGate {
  readonly charges = new Map<string, Map<Offense, number>>();
  readonly credits = new Map<string, number>();

  isBlocked(): boolean {
    return false;
  }

  mayGossipTo(): boolean {
    return true;
  }

  isEligible(): boolean {
    return true;
  }

  charge(peerId: Uint8Array, offense: Offense): void {
    const key = Buffer.from(peerId).toString('hex');
    let m = this.charges.get(key);
    if (m === undefined) {
      if (this.charges.size >= 100_000) return;
      m = new Map();
      this.charges.set(key, m);
    }
    m.set(offense, (m.get(offense) ?? 0) + 1);
  }

  readonly equivocations: Array<[Uint8Array, Uint8Array]> = [];

  reportEquivocation(first: Uint8Array, second: Uint8Array): void {
    if (this.equivocations.length < 1000) this.equivocations.push([first, second]);
  }

  credit(peerId: Uint8Array): void {
    const key = Buffer.from(peerId).toString('hex');
    if (this.credits.size < 100_000 || this.credits.has(key)) this.credits.set(key, (this.credits.get(key) ?? 0) + 1);
  }

  count(peerId: Uint8Array, offense: Offense): number {
    return this.charges.get(Buffer.from(peerId).toString('hex'))?.get(offense) ?? 0;
  }
}
