/**
 * Everything the engine changed since the last tick, waiting for that tick's one transaction
 * (store.ts): peers whose penalties, level or ban changed, peers whose credit alone changed
 * (persisted once a minute: credit is small and capped, and a crash losing a minute of it is
 * harmless), audit events, bans set and lifted, forgotten peers, accepted proofs.
 *
 * Bounded: peers by the peer table; events by MAX_PENDING_EVENTS and by a per-peer cap per tick
 * (a flood of offenses from one peer becomes 16 events and one "N more" summary).
 */
import type { Counter } from '../metrics.js';
import type { PeerState } from './peer-table.js';
import { COMPONENT_COUNT, COMPONENTS } from './score.js';
import type { Batch, EventType, StoredBan, StoredEvent, StoredEvidence, StoredPeer } from './store.js';

/** Individually logged offense events per peer per tick; the rest are summed into one event. */
export const EVENTS_PER_PEER_PER_TICK = 16;
/** Events waiting for the next tick's transaction; beyond this they are counted and dropped. */
export const MAX_PENDING_EVENTS = 10_000;
export const MAX_DETAIL = 200;

export class PendingWrites {
  private readonly dirty = new Set<PeerState>();
  private readonly creditDirty = new Set<PeerState>();
  private readonly eventful = new Set<PeerState>();
  private events: StoredEvent[] = [];
  private readonly bans = new Map<string, StoredBan>();
  private readonly unbans = new Set<string>();
  private readonly deletes = new Set<string>();
  private evidence: StoredEvidence[] = [];

  constructor(private readonly dropped: Counter) {}

  peer(p: PeerState): void {
    this.dirty.add(p);
  }

  credit(p: PeerState): void {
    this.creditDirty.add(p);
  }

  /** A peer forgotten from memory: its row goes too. */
  forget(p: PeerState): void {
    this.deletes.add(p.id);
    this.dirty.delete(p);
    this.creditDirty.delete(p);
  }

  ban(b: StoredBan): void {
    this.unbans.delete(b.id);
    this.bans.set(b.id, b);
  }

  unban(id: string): void {
    this.bans.delete(id);
    this.unbans.add(id);
  }

  proof(e: StoredEvidence): void {
    this.evidence.push(e);
  }

  event(peer: string | null, type: EventType, offense: string | null, detail: string, score: number | null, at: number): void {
    if (this.events.length >= MAX_PENDING_EVENTS) {
      this.dropped.inc();
      return;
    }
    this.events.push({ at, peer, type, offense, detail: detail.length > MAX_DETAIL ? detail.slice(0, MAX_DETAIL) : detail, score });
  }

  /** An offense event, subject to the per-peer cap of this tick. */
  offense(p: PeerState, offense: string, detail: string, at: number): void {
    this.eventful.add(p);
    if (p.tickEvents >= EVENTS_PER_PEER_PER_TICK) {
      p.suppressed++;
      return;
    }
    p.tickEvents++;
    this.event(p.id, 'offense', offense, detail, p.score, at);
  }

  /**
   * Everything pending as one batch (`slow` adds credit-only peers and asks for pruning), and a
   * function that clears what the batch held once it is committed. If the commit fails nothing is
   * cleared, and a later tick writes it all.
   */
  batch(now: number, slow: boolean): { batch: Batch; committed: () => void } {
    for (const p of this.eventful) {
      if (p.suppressed > 0) this.event(p.id, 'suppressed', null, `${p.suppressed} more offenses in one tick not logged one by one`, p.score, now);
      p.tickEvents = 0;
      p.suppressed = 0;
    }
    this.eventful.clear();
    const peers = new Set(this.dirty);
    if (slow) for (const p of this.creditDirty) peers.add(p);
    const events = this.events;
    const evidence = this.evidence;
    const batch: Batch = {
      peers: [...peers].map(toStoredPeer),
      deletePeers: [...this.deletes],
      events,
      bans: [...this.bans.values()],
      unbans: [...this.unbans],
      evidence,
      ...(slow ? { pruneAt: now } : {}),
    };
    return {
      batch,
      committed: () => {
        for (const p of peers) {
          this.dirty.delete(p);
          this.creditDirty.delete(p);
        }
        this.deletes.clear();
        this.bans.clear();
        this.unbans.clear();
        // Events and proofs logged while the batch was built stay for the next one.
        this.events = this.events === events ? [] : this.events.slice(events.length);
        this.evidence = this.evidence === evidence ? [] : this.evidence.slice(evidence.length);
      },
    };
  }
}

export function toStoredPeer(p: PeerState): StoredPeer {
  const counters: Record<string, number> = {};
  for (let i = 0; i < COMPONENT_COUNT; i++) if (p.counters[i]! > 0) counters[COMPONENTS[i]!] = p.counters[i]!;
  return { id: p.id, counters, countersAt: p.at, score: p.score, level: p.level, firstSeen: p.firstSeen, lastSeen: p.lastSeen };
}
