/**
 * Time, injected. Every timer in Hearsay runs on a `Clock` so that the same node code runs on the
 * wall clock in production and on a `VirtualClock` in the in-memory network, where thousands of
 * nodes advance through minutes of protocol time deterministically in seconds of CPU.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch (virtual clocks start wherever they are told). */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Runs `fn` every `ms` milliseconds until cancelled. */
  setInterval(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, Math.max(1, ms));
    return { cancel: () => clearInterval(t) };
  },
};

interface VirtualTimer {
  at: number;
  seq: number;
  fn: () => void;
  every: number;
  cancelled: boolean;
}

/**
 * A deterministic clock: timers fire in (time, creation order) order when the test advances time.
 * Timers live in a binary heap so a simulation of 10,000 nodes with several timers each stays
 * O(log n) per timer.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly heap: VirtualTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, Math.max(0, ms), 0);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const every = Math.max(1, ms);
    return this.schedule(fn, every, every);
  }

  /** Number of timers still pending (cancelled ones may linger until they reach the top). */
  get pending(): number {
    return this.heap.length;
  }

  /** Advances time by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    this.runUntil(this.current + ms);
  }

  /** Fires timers due up to and including `target`, then sets the time to `target`. */
  runUntil(target: number): void {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > target) break;
      this.pop();
      if (top.cancelled) continue;
      this.current = Math.max(this.current, top.at);
      if (top.every > 0) {
        top.at += top.every;
        top.seq = this.seq++;
        this.push(top);
      }
      top.fn();
    }
    this.current = Math.max(this.current, target);
  }

  /** Fires timers until none is due before `limitMs` from now or `predicate` holds; returns whether it held. */
  runUntilTrue(predicate: () => boolean, limitMs: number, stepMs = 10): boolean {
    const end = this.current + limitMs;
    while (this.current < end) {
      if (predicate()) return true;
      this.runUntil(Math.min(end, this.current + stepMs));
    }
    return predicate();
  }

  private schedule(fn: () => void, delay: number, every: number): TimerHandle {
    const timer: VirtualTimer = { at: this.current + delay, seq: this.seq++, fn, every, cancelled: false };
    this.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  private less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: VirtualTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!this.less(t, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = t;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && this.less(h[r]!, h[l]!) ? r : l;
      if (!this.less(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}
