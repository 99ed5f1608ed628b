/**
 * The transmit-limited queue of membership updates (memberlist's TransmitLimitedQueue): every
 * packet a node sends (probe, ack, gossip) is topped up with queued updates, and each update is
 * sent a limited number of times, about retransmitMult × log10(N + 1), which is what an epidemic
 * needs to reach every member with high probability and no more.
 *
 * - One item per member (the key): a newer update for a member replaces the older one, so a
 *   refuted suspicion is never sent again once its refutation is queued.
 * - Least transmitted first, and among never-sent items the newest first, so fresh news spreads
 *   before old news is repeated.
 * - Items are kept in one list per transmit count (a bucket), so taking a packet's worth costs
 *   time proportional to what is taken, not to the queue length.
 * - One extension of memberlist: urgent items (membership uses it for the claims that end
 *   suspicions: an ALIVE that refutes, a LEAVE) go before all others. When the queue is congested (heavy loss makes many
 *   members suspected at once and every node holds an update about almost every member), a
 *   refutation stuck behind newer accusations arrives after the accusers' timeouts: ordering it
 *   first trades a little detection speed under congestion for far fewer false deaths.
 */

interface Item {
  readonly key: string;
  readonly message: Uint8Array;
  readonly urgent: boolean;
  transmits: number;
  prev: Item | null;
  next: Item | null;
}

class Bucket {
  head: Item | null = null;
  tail: Item | null = null;

  pushFront(item: Item): void {
    item.prev = null;
    item.next = this.head;
    if (this.head !== null) this.head.prev = item;
    else this.tail = item;
    this.head = item;
  }

  pushBack(item: Item): void {
    item.next = null;
    item.prev = this.tail;
    if (this.tail !== null) this.tail.next = item;
    else this.head = item;
    this.tail = item;
  }

  remove(item: Item): void {
    if (item.prev !== null) item.prev.next = item.next;
    else this.head = item.next;
    if (item.next !== null) item.next.prev = item.prev;
    else this.tail = item.prev;
    item.prev = null;
    item.next = null;
  }
}

/** Items examined per `take`, at most: bounds the CPU one packet can cost however long the queue. */
const SCAN_LIMIT = 512;
/** Consecutive items that did not fit, after which the packet counts as full. */
const MISS_LIMIT = 16;
/** Below this many bytes left in a packet, stop looking: no claim is that small. */
const MIN_USEFUL_BYTES = 24;

export class TransmitQueue {
  private readonly items = new Map<string, Item>();
  private readonly buckets: Bucket[] = [];
  private readonly urgentBuckets: Bucket[] = [];

  constructor(private readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('TransmitQueue: capacity must be a positive integer');
  }

  get size(): number {
    return this.items.size;
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  /** Queues `message` about `key`, replacing (invalidating) any queued update about the same key. */
  enqueue(key: string, message: Uint8Array, urgent = false): void {
    this.delete(key);
    if (this.items.size >= this.capacity) this.evictMostSent();
    const item: Item = { key, message, urgent, transmits: 0, prev: null, next: null };
    this.items.set(key, item);
    this.bucket(0, urgent).pushFront(item);
  }

  delete(key: string): boolean {
    const item = this.items.get(key);
    if (item === undefined) return false;
    this.bucket(item.transmits, item.urgent).remove(item);
    this.items.delete(key);
    return true;
  }

  /**
   * Takes messages totalling at most `budget` bytes (each message's own length; the caller
   * accounts for list framing), least transmitted first. Each taken message counts as one
   * transmission; a message sent `limit` times leaves the queue.
   */
  take(budget: number, limit: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.items.size === 0 || budget < MIN_USEFUL_BYTES) return out;
    const taken: Item[] = [];
    let left = budget;
    let scanned = 0;
    let misses = 0;
    outer: for (const buckets of [this.urgentBuckets, this.buckets]) {
      for (let t = 0; t < buckets.length; t++) {
        for (let item = buckets[t]!.head; item !== null; item = item.next) {
          if (++scanned > SCAN_LIMIT || left < MIN_USEFUL_BYTES || misses >= MISS_LIMIT) break outer;
          if (item.message.length > left) {
            misses++;
            continue;
          }
          misses = 0;
          out.push(item.message);
          taken.push(item);
          left -= item.message.length;
        }
      }
    }
    for (const item of taken) {
      this.bucket(item.transmits, item.urgent).remove(item);
      item.transmits++;
      if (item.transmits >= limit) this.items.delete(item.key);
      else this.bucket(item.transmits, item.urgent).pushBack(item);
    }
    return out;
  }

  /** Transmissions so far of the item about `key` (undefined if none queued); for tests. */
  transmitsOf(key: string): number | undefined {
    return this.items.get(key)?.transmits;
  }

  private bucket(t: number, urgent: boolean): Bucket {
    const buckets = urgent ? this.urgentBuckets : this.buckets;
    while (buckets.length <= t) buckets.push(new Bucket());
    return buckets[t]!;
  }

  private evictMostSent(): void {
    for (const buckets of [this.buckets, this.urgentBuckets]) {
      for (let t = buckets.length - 1; t >= 0; t--) {
        const victim = buckets[t]!.tail;
        if (victim !== null) {
          this.delete(victim.key);
          return;
        }
      }
    }
  }
}

/** memberlist's retransmitLimit: mult × ceil(log10(n + 1)), for n members. */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.max(1, Math.ceil(Math.log10(n + 1)));
}
