/**
 * The message cache of lazy push (GossipSub's mcache): full messages kept for `historyRounds`
 * gossip rounds so peers can pull them with IWANT, of which the ids of the newest `gossipRounds`
 * rounds are advertised in IHAVE. The window shifts once per round; the total is also capped at
 * `maxEntries`, so a burst cannot grow memory beyond a fixed bound (oldest evicted first).
 *
 * Advertising only the newest gossipRounds ≤ historyRounds rounds guarantees a message is still
 * here for (historyRounds - gossipRounds) rounds after its last advertisement, so an IWANT that
 * answers an IHAVE finds it and the advertiser keeps its promise.
 */
import type { PeerRecord } from '../link/link-layer.js';

/** Peers remembered per message as already holding it. */
export const MAX_INFORMED = 32;

export interface CachedMessage {
  readonly idKey: string;
  readonly id: Uint8Array;
  /** The ENVELOPE message, encoded once, ready for LinkLayer.send. */
  readonly message: Uint8Array;
  /** Policy: may this peer be sent this message (read the topic or key)? */
  readonly mayReceive: (peer: PeerRecord) => boolean;
  /** Peers known to hold it (sent it to us, got it from us, announced it to us): no IHAVE to them. */
  readonly informed: Set<string>;
}

export class MessageCache {
  private readonly entries = new Map<string, CachedMessage>();
  /** windows[0] holds the ids cached during the current round. */
  private readonly windows: string[][];

  constructor(
    private readonly historyRounds: number,
    private readonly gossipRounds: number,
    private readonly maxEntries: number,
  ) {
    if (gossipRounds > historyRounds || historyRounds < 1 || maxEntries < 1) throw new RangeError('MessageCache: need 1 <= gossipRounds <= historyRounds and maxEntries >= 1');
    this.windows = Array.from({ length: historyRounds }, () => []);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds a message; false when it is already cached. */
  put(m: CachedMessage): boolean {
    if (this.entries.has(m.idKey)) return false;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(m.idKey, m);
    this.windows[0]!.push(m.idKey);
    return true;
  }

  get(idKey: string): CachedMessage | undefined {
    return this.entries.get(idKey);
  }

  /** Notes that `peerHex` holds the message (bounded per message). */
  inform(idKey: string, peerHex: string): void {
    const m = this.entries.get(idKey);
    if (m !== undefined && m.informed.size < MAX_INFORMED) m.informed.add(peerHex);
  }

  /** Starts a new round: the oldest window's messages leave the cache. */
  shift(): void {
    const oldest = this.windows.pop()!;
    for (const id of oldest) this.entries.delete(id);
    this.windows.unshift([]);
  }

  /** Messages to advertise this round: those cached in the newest gossipRounds windows, newest first. */
  gossip(): CachedMessage[] {
    const out: CachedMessage[] = [];
    for (let w = 0; w < this.gossipRounds; w++) {
      const ids = this.windows[w]!;
      for (let i = ids.length - 1; i >= 0; i--) {
        const m = this.entries.get(ids[i]!);
        if (m !== undefined) out.push(m);
      }
    }
    return out;
  }

  /** True when nothing is advertisable (the idle round can skip peer selection). */
  get quiet(): boolean {
    for (let w = 0; w < this.gossipRounds; w++) if (this.windows[w]!.length > 0) return false;
    return true;
  }
}
