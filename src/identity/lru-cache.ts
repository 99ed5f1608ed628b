/**
 * A bounded least-recently-used map. Peers choose the public keys we verify against, so every
 * per-key cache must have a finite size (STYLE.md §3); a Map keeps insertion order, which makes
 * "delete then re-insert" an O(1) move to the most recent end.
 */
import { HearsayError } from '../errors.js';

export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `LRU capacity must be a positive integer (got ${capacity})`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached value, marked as most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined && !this.entries.has(key)) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value as V);
    return value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      // The first key in iteration order is the least recently used one.
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
