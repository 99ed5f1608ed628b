/**
 * Ordered delivery of one topic's messages, as a pure core on an injected time.
 *
 * Each origin publishes a stream per topic: (epoch, seq) with epoch = the origin's boot time and
 * seq = 1, 2, 3, ... within the epoch. A message asks for one of three orders:
 *
 * - `none`: delivered on arrival;
 * - `fifo`: delivered after every earlier message of its origin's stream (seq order);
 * - `causal`: fifo, and after everything its origin had delivered when it published. The body
 *   carries the streams that advanced at the origin since its previous causal message on the
 *   topic (origin, epoch, seq); the rest is implied transitively, because the previous message was
 *   itself delivered only after its own dependencies.
 *
 * Messages that cannot be delivered yet are held back. The holdback is bounded (`limit` messages)
 * and timed (`timeoutMs`): when either bound is hit, the oldest held message's missing
 * predecessors are declared lost, counted as a gap, and delivery resumes. Delivery never hangs on
 * a lost message, and never delivers a fifo/causal message after a later one of the same stream
 * (a predecessor that arrives after its gap was skipped is dropped and counted as late).
 *
 * Where a stream starts for this node: each message carries the timestamp of its origin's
 * previous message on the topic (`prev`), and each dependency the timestamp of the message it
 * names (`at`). A predecessor or dependency published before this node started listening
 * (`since`) is not waited for (it may never come); one published after is. So a subscriber that
 * joins a busy stream starts at once, and one that was there from the start misses nothing.
 */

export type OrderMode = 'none' | 'fifo' | 'causal';
export const ORDER_MODES: readonly OrderMode[] = ['none', 'fifo', 'causal'];

export interface Dependency {
  /** Origin id, hex. */
  readonly origin: string;
  readonly epoch: number;
  /** The origin had delivered its stream up to and including this seq. */
  readonly seq: number;
  /** Origin timestamp of that message (ms). */
  readonly at: number;
}

export interface Sequenced<T> {
  readonly origin: string;
  readonly epoch: number;
  readonly seq: number;
  /** Origin timestamp of this message. */
  readonly at: number;
  /** Origin timestamp of its previous message on the topic (0 for the first). */
  readonly prev: number;
  readonly order: OrderMode;
  readonly deps: readonly Dependency[];
  readonly value: T;
}

export interface HoldbackOptions {
  /** This node's id (hex): dependencies on its own messages are always satisfied. */
  readonly self: string;
  readonly limit: number;
  readonly timeoutMs: number;
  /** When this node started listening to the topic. */
  readonly since: number;
  /** Bound on remembered streams (origins × epochs). */
  readonly maxStreams: number;
}

export interface HoldbackStats {
  delivered: number;
  /** Sequence numbers skipped because they did not arrive in time (or the holdback was full). */
  gaps: number;
  /** Messages dropped because their place in the order had already been skipped. */
  late: number;
}

interface Held<T> {
  readonly m: Sequenced<T>;
  readonly at: number;
  done: boolean;
}

interface Stream<T> {
  epoch: number;
  /** Next seq to deliver in order: everything below it was delivered or skipped. */
  next: number;
  /** Seqs ≥ next already delivered out of order (order 'none'), with their timestamps. */
  readonly ahead: Map<number, number>;
  /** When `ahead` last became non-empty: a gap below it times out like a held message. */
  aheadSince: number;
  readonly held: Map<number, Held<T>>;
  /** Timestamp of message next - 1 (or of the latest one known below next). */
  lastAt: number;
  /** Nothing delivered in order yet: `next` may still move down to a predecessor published after `since`. */
  open: boolean;
}

export class Holdback<T> {
  readonly stats: HoldbackStats = { delivered: 0, gaps: 0, late: 0 };
  private readonly o: HoldbackOptions;
  private readonly streams = new Map<string, Stream<T>>();
  /** Held messages in arrival order (entries marked done are skipped and trimmed lazily). */
  private queue: Held<T>[] = [];
  private heldCount = 0;

  constructor(options: HoldbackOptions) {
    this.o = options;
  }

  get held(): number {
    return this.heldCount;
  }

  /** Offers a message; returns the messages deliverable now, in delivery order. */
  offer(m: Sequenced<T>, now: number): T[] {
    const out: T[] = [];
    if (m.origin === this.o.self) return out;
    const s = this.streamFor(m.origin, m.epoch, m.seq, now, out);
    if (s === null) {
      // An older epoch of a restarted origin: its order is over.
      if (m.order === 'none') this.emit(out, m.value);
      else this.stats.late++;
      return out;
    }
    if (s.open && m.seq <= s.next && !s.held.has(m.seq) && !s.ahead.has(m.seq)) {
      // A stream we joined midway: wait for this message's predecessor only if it was published
      // after we started listening.
      s.next = this.needsPredecessor(m) ? m.seq - 1 : m.seq;
    }
    if (m.seq < s.next || s.ahead.has(m.seq) || s.held.has(m.seq)) {
      // Its slot was skipped as a gap (a duplicate id never gets here: the router drops it).
      if (m.order === 'none' && m.seq < s.next) this.emit(out, m.value);
      else this.stats.late++;
      return out;
    }
    if (this.ready(m, s)) {
      this.deliver(m, s, now, out);
      this.drain(now, out);
      return out;
    }
    const h: Held<T> = { m, at: now, done: false };
    s.held.set(m.seq, h);
    this.queue.push(h);
    this.heldCount++;
    while (this.heldCount > this.o.limit && this.forceOldest(now, out));
    return out;
  }

  /** Skips the gaps of messages held longer than the timeout; returns what became deliverable. */
  expire(now: number): T[] {
    const out: T[] = [];
    const deadline = now - this.o.timeoutMs;
    for (;;) {
      this.trim();
      const h = this.queue[0];
      if (h === undefined || h.at > deadline) break;
      if (!this.forceOldest(now, out)) break;
    }
    for (const s of this.streams.values()) {
      if (s.ahead.size > 0 && s.aheadSince <= deadline) {
        this.skipTo(s, Math.min(...s.ahead.keys()));
        this.absorb(s, now);
      }
    }
    this.drain(now, out);
    return out;
  }

  /**
   * The causal context to publish with: every stream's delivered position (seq ≥ 1), for the
   * caller to diff against what it published last.
   */
  positions(): Dependency[] {
    const out: Dependency[] = [];
    for (const [origin, s] of this.streams) if (s.next > 1) out.push({ origin, epoch: s.epoch, seq: s.next - 1, at: s.lastAt });
    return out;
  }

  private needsPredecessor(m: Sequenced<T>): boolean {
    return m.seq > 1 && m.prev >= this.o.since;
  }

  private streamFor(origin: string, epoch: number, seq: number, now: number, out: T[]): Stream<T> | null {
    const s = this.streams.get(origin);
    if (s !== undefined && s.epoch === epoch) return s;
    if (s !== undefined && epoch < s.epoch) return null;
    if (s !== undefined) {
      // The origin restarted: what is still held of the old epoch will never be completed.
      for (const h of [...s.held.values()].sort((a, b) => a.m.seq - b.m.seq)) {
        this.skipTo(s, h.m.seq);
        this.deliver(h.m, s, now, out);
      }
    }
    if (this.streams.size >= this.o.maxStreams) this.evictStream();
    // An epoch that began after we started listening is a stream we have seen from its start.
    const whole = epoch >= this.o.since;
    const fresh: Stream<T> = { epoch, next: whole ? 1 : seq, ahead: new Map(), aheadSince: now, held: new Map(), lastAt: 0, open: !whole };
    this.streams.delete(origin);
    this.streams.set(origin, fresh);
    return fresh;
  }

  private ready(m: Sequenced<T>, s: Stream<T>): boolean {
    if (m.order === 'none') return true;
    if (m.seq !== s.next) return false;
    if (m.order === 'fifo') return true;
    for (const d of m.deps) if (!this.satisfied(d)) return false;
    return true;
  }

  private satisfied(d: Dependency): boolean {
    if (d.origin === this.o.self) return true;
    const s = this.streams.get(d.origin);
    // A stream we never saw: wait only for a message published after we started listening.
    if (s === undefined) return d.at < this.o.since;
    if (s.epoch !== d.epoch) return s.epoch > d.epoch;
    return s.next > d.seq;
  }

  private deliver(m: Sequenced<T>, s: Stream<T>, now: number, out: T[]): void {
    const h = s.held.get(m.seq);
    if (h !== undefined && h.m === m) {
      s.held.delete(m.seq);
      h.done = true;
      this.heldCount--;
    }
    if (m.seq === s.next) {
      s.next++;
      s.lastAt = m.at;
      s.open = false;
      this.absorb(s, now);
    } else if (m.seq > s.next) {
      if (s.ahead.size === 0) s.aheadSince = now;
      s.ahead.set(m.seq, m.at);
    }
    this.emit(out, m.value);
  }

  private emit(out: T[], v: T): void {
    this.stats.delivered++;
    out.push(v);
  }

  private absorb(s: Stream<T>, now: number): void {
    for (let at = s.ahead.get(s.next); at !== undefined; at = s.ahead.get(s.next)) {
      s.ahead.delete(s.next);
      s.lastAt = at;
      s.next++;
    }
    if (s.ahead.size > 0) s.aheadSince = now;
  }

  /** Declares everything in `s` below `seq` lost (counted), delivering what is held there, in order. */
  private skipTo(s: Stream<T>, seq: number): void {
    if (seq <= s.next) return;
    for (let q = s.next; q < seq; q++) if (!s.ahead.has(q) && !s.held.has(q)) this.stats.gaps++;
    // Held messages below the new position can no longer keep their order: they are late.
    for (const [q, h] of s.held) {
      if (q < seq) {
        s.held.delete(q);
        h.done = true;
        this.heldCount--;
        this.stats.late++;
      }
    }
    for (const q of s.ahead.keys()) if (q < seq) s.ahead.delete(q);
    s.next = seq;
    s.open = false;
  }

  /** Delivers the oldest held message now, declaring whatever it waits for lost. False when nothing is held. */
  private forceOldest(now: number, out: T[]): boolean {
    this.trim();
    const h = this.queue.shift();
    if (h === undefined) return false;
    const m = h.m;
    const s = this.streams.get(m.origin);
    if (s === undefined || s.epoch !== m.epoch || s.held.get(m.seq) !== h) {
      // Cannot happen (a stream's held messages leave with its epoch); keep the count honest anyway.
      if (!h.done) {
        h.done = true;
        this.heldCount--;
      }
      return true;
    }
    if (m.order === 'causal') {
      for (const d of m.deps) {
        if (this.satisfied(d)) continue;
        let ds = this.streams.get(d.origin);
        if (ds === undefined || ds.epoch < d.epoch) {
          ds = { epoch: d.epoch, next: 1, ahead: new Map(), aheadSince: now, held: new Map(), lastAt: 0, open: false };
          this.streams.set(d.origin, ds);
        }
        if (ds.epoch === d.epoch) {
          this.skipTo(ds, d.seq + 1);
          ds.lastAt = Math.max(ds.lastAt, d.at);
          this.absorb(ds, now);
        }
      }
    }
    this.skipTo(s, m.seq);
    // skipTo may have counted it late if it sat below; deliver only if still held.
    if (!h.done) this.deliver(m, s, now, out);
    this.drain(now, out);
    return true;
  }

  /** Delivers every held message that became ready, until none does. */
  private drain(now: number, out: T[]): void {
    let progress = true;
    while (progress) {
      progress = false;
      for (const s of this.streams.values()) {
        if (s.held.size === 0) continue;
        for (let h = s.held.get(s.next); h !== undefined && this.ready(h.m, s); h = s.held.get(s.next)) {
          this.deliver(h.m, s, now, out);
          progress = true;
        }
      }
    }
  }

  private trim(): void {
    let i = 0;
    while (i < this.queue.length && this.queue[i]!.done) i++;
    if (i > 0) this.queue = this.queue.slice(i);
  }

  private evictStream(): void {
    for (const [origin, s] of this.streams) {
      if (s.held.size === 0) {
        this.streams.delete(origin);
        return;
      }
    }
  }
}
