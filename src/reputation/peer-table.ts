/**
 * The engine's in-memory state per peer, and the index the receive path reads. The link layer asks
 * `isBlocked(senderId)` for every packet before any crypto, with the sender id as raw header
 * bytes; turning 32 bytes into a map key costs more than the rest of the check, so restricted
 * peers (level > ok) are also indexed by the first four bytes of their id as a number. For the
 * usual sender, whose prefix matches no restricted peer, the check is one Map lookup on a small
 * integer and no allocation. Only a prefix hit builds the hex key.
 */
import type { BanSource } from './store.js';
import { COMPONENT_COUNT, Level } from './score.js';

export interface BanState {
  readonly until: number;
  readonly reason: string;
  readonly source: BanSource;
  readonly createdAt: number;
  readonly evidence: string | null;
}

export interface PeerState {
  /** Hex node id. */
  readonly id: string;
  /** Indexed like COMPONENTS, as of `at`. */
  readonly counters: Float64Array;
  at: number;
  /** Score at `at`. */
  score: number;
  level: Level;
  readonly firstSeen: number;
  lastSeen: number;
  ban: BanState | null;
  /** Offense events logged individually in the current tick (capped per peer per tick). */
  tickEvents: number;
  /** Offense events not logged individually in the current tick. */
  suppressed: number;
}

export function hexOf(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

/** First four bytes as an unsigned integer; -1 for ids too short to have one. */
export function prefixOfBytes(id: Uint8Array): number {
  if (id.length < 4) return -1;
  return ((id[0]! << 24) | (id[1]! << 16) | (id[2]! << 8) | id[3]!) >>> 0;
}

function prefixOfHex(hex: string): number {
  return hex.length < 8 ? -1 : Number.parseInt(hex.slice(0, 8), 16);
}

/** How far from the least recently active end an eviction looks for a neutral peer. */
const EVICTION_SCAN = 64;

export class PeerTable {
  /** In order of last activity (re-inserted on touch), so the first entries are the quietest. */
  private readonly peers = new Map<string, PeerState>();
  private readonly restricted = new Map<string, Level>();
  private readonly prefixes = new Map<number, number>();
  private readonly perLevel = [0, 0, 0, 0, 0];
  /** Peers whose score can still change by itself: a penalty counter is nonzero or a ban runs. */
  readonly decaying = new Set<PeerState>();
  readonly banned = new Set<PeerState>();

  constructor(readonly capacity: number, private readonly onEvict: (p: PeerState) => void) {}

  get size(): number {
    return this.peers.size;
  }

  /** The hot path: a peer's level from its raw id. Allocation-free unless its prefix is restricted. */
  levelOfId(id: Uint8Array): Level {
    if (this.restricted.size === 0) return Level.OK;
    if (!this.prefixes.has(prefixOfBytes(id))) return Level.OK;
    return this.restricted.get(hexOf(id)) ?? Level.OK;
  }

  levelOfHex(hex: string): Level {
    return this.restricted.get(hex) ?? Level.OK;
  }

  get(hex: string): PeerState | undefined {
    return this.peers.get(hex);
  }

  /** The peer's state, created if new (evicting the quietest neutral peer when full). */
  getOrCreate(hex: string, now: number): PeerState {
    const existing = this.peers.get(hex);
    if (existing !== undefined) {
      // Move to the most recently active end.
      this.peers.delete(hex);
      this.peers.set(hex, existing);
      return existing;
    }
    if (this.peers.size >= this.capacity) this.evictOne();
    const p: PeerState = {
      id: hex, counters: new Float64Array(COMPONENT_COUNT), at: now, score: 0, level: Level.OK, firstSeen: now, lastSeen: now,
      ban: null, tickEvents: 0, suppressed: 0,
    };
    this.peers.set(hex, p);
    this.perLevel[Level.OK]!++;
    return p;
  }

  /** Restores a stored peer (at load), without touching the LRU order of others. */
  restore(p: PeerState): void {
    if (this.peers.has(p.id) || this.peers.size >= this.capacity) return;
    this.peers.set(p.id, p);
    this.perLevel[p.level]!++;
    if (p.level !== Level.OK) this.index(p.id, p.level);
  }

  setLevel(p: PeerState, level: Level): void {
    if (p.level === level) return;
    this.perLevel[p.level]!--;
    this.perLevel[level]!++;
    if (p.level !== Level.OK) this.unindex(p.id);
    p.level = level;
    if (level !== Level.OK) this.index(p.id, level);
  }

  delete(p: PeerState): void {
    if (this.peers.get(p.id) !== p) return;
    this.peers.delete(p.id);
    this.perLevel[p.level]!--;
    if (p.level !== Level.OK) this.unindex(p.id);
    this.decaying.delete(p);
    this.banned.delete(p);
  }

  values(): IterableIterator<PeerState> {
    return this.peers.values();
  }

  countByLevel(): readonly number[] {
    return this.perLevel;
  }

  private index(hex: string, level: Level): void {
    this.restricted.set(hex, level);
    const pfx = prefixOfHex(hex);
    this.prefixes.set(pfx, (this.prefixes.get(pfx) ?? 0) + 1);
  }

  private unindex(hex: string): void {
    if (!this.restricted.delete(hex)) return;
    const pfx = prefixOfHex(hex);
    const n = (this.prefixes.get(pfx) ?? 1) - 1;
    if (n <= 0) this.prefixes.delete(pfx);
    else this.prefixes.set(pfx, n);
  }

  /**
   * Bounded memory beats completeness: the quietest neutral peer goes first; if the quietest
   * EVICTION_SCAN are all penalised, the quietest peer that is not banned goes (bans are bounded
   * separately and below capacity, so one always exists).
   */
  private evictOne(): void {
    let fallback: PeerState | undefined;
    let scanned = 0;
    for (const p of this.peers.values()) {
      if (p.ban !== null) continue;
      if (p.level === Level.OK && !this.decaying.has(p)) return this.evict(p);
      fallback ??= p;
      if (++scanned >= EVICTION_SCAN) break;
    }
    if (fallback !== undefined) this.evict(fallback);
  }

  private evict(p: PeerState): void {
    this.delete(p);
    this.onEvict(p);
  }
}
