/**
 * A bounded map with least-recently-used eviction and an optional time to live. Every cache a peer
 * can fill (seen message ids, verified certificates, peer records) is one of these, so a flood of
 * unique inputs costs a fixed amount of memory (STYLE.md §3).
 */
import type { Clock } from '../clock.js';

export class BoundedCache<K, V> {
  private readonly map = new Map<K, { value: V; expires: number }>();

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number = Number.MAX_SAFE_INTEGER,
    private readonly clock?: Clock,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('BoundedCache: capacity must be a positive integer');
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (this.clock !== undefined && e.expires <= this.clock.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    if (this.map.size >= this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    const expires = this.clock === undefined ? Number.MAX_SAFE_INTEGER : this.clock.now() + this.ttlMs;
    this.map.set(key, { value, expires });
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  values(): IterableIterator<V> {
    const it = this.map.values();
    return (function* () {
      for (const e of it) yield e.value;
    })();
  }

  entries(): IterableIterator<[K, V]> {
    const it = this.map.entries();
    return (function* () {
      for (const [k, e] of it) yield [k, e.value] as [K, V];
    })();
  }
}
