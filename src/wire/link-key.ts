/**
 * Link keys: the symmetric key two nodes share for sealing packets between them.
 *
 *   key = HKDF-SHA256(ikm  = X25519(own kx secret, peer kx public),
 *                     salt = cluster name,
 *                     info = "hearsay link v1" ‖ lower node id ‖ higher node id)
 *
 * Both ends derive the same key without a handshake, from certificates alone. Binding both node
 * ids into `info` ties the key to this pair of identities (a key-compromise on one pair tells
 * nothing about another that happens to share a kx key), and the cluster salt separates clusters
 * that share an authority. Rekeying is a version bump of this rule (the "v1").
 *
 * X25519 costs ~40 µs, so keys are cached per peer; the cache is bounded and keyed by the peer's
 * node id and kx key together, so a peer's rotated kx key never reuses a stale link key.
 */
import { hkdfSync } from 'node:crypto';
import { x25519 } from '../identity/kx.js';

const INFO_PREFIX = Buffer.from('hearsay link v1', 'utf8');

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Derives the link key, or null when the peer's kx key yields an all-zero shared secret (RFC 7748 §6.1). */
export function deriveLinkKey(cluster: string, ownKxSecret: Uint8Array, ownId: Uint8Array, peerKxPublic: Uint8Array, peerId: Uint8Array): Uint8Array | null {
  const shared = x25519(ownKxSecret, peerKxPublic);
  if (shared === null) return null;
  const [lo, hi] = compareBytes(ownId, peerId) <= 0 ? [ownId, peerId] : [peerId, ownId];
  const info = Buffer.concat([INFO_PREFIX, lo, hi]);
  return new Uint8Array(hkdfSync('sha256', shared, Buffer.from(cluster, 'utf8'), info, 32));
}

export class LinkKeyCache {
  private readonly keys = new Map<string, Uint8Array>();

  constructor(
    private readonly cluster: string,
    private readonly ownKxSecret: Uint8Array,
    private readonly ownId: Uint8Array,
    private readonly capacity: number,
  ) {}

  get size(): number {
    return this.keys.size;
  }

  /** The link key for a peer, derived once and cached; null if the peer's kx key is unusable. */
  get(peerId: Uint8Array, peerKxPublic: Uint8Array): Uint8Array | null {
    const cacheKey = Buffer.from(peerId).toString('hex') + Buffer.from(peerKxPublic).toString('hex');
    const hit = this.keys.get(cacheKey);
    if (hit !== undefined) {
      // Refresh recency: Map iteration order is insertion order, so re-insert.
      this.keys.delete(cacheKey);
      this.keys.set(cacheKey, hit);
      return hit;
    }
    const key = deriveLinkKey(this.cluster, this.ownKxSecret, this.ownId, peerKxPublic, peerId);
    if (key === null) return null;
    if (this.keys.size >= this.capacity) {
      const oldest = this.keys.keys().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
    this.keys.set(cacheKey, key);
    return key;
  }

  forget(peerId: Uint8Array): void {
    const prefix = Buffer.from(peerId).toString('hex');
    for (const k of this.keys.keys()) if (k.startsWith(prefix)) this.keys.delete(k);
  }
}
