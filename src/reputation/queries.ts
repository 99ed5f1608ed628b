/**
 * The read side of the reputation engine, shaped for the admin API (`/v1/peers`, `/v1/peers/:id`,
 * `/v1/peers/:id/events`, `/v1/evidence`): plain JSON-ready objects, ids in hex, bytes in base64,
 * every list bounded. Scores are computed at the time of the query (decay included); the audit log
 * and evidence come from the store, after the pending writes are committed.
 */
import { HearsayError } from '../errors.js';
import { envelopeKindName } from '../wire/envelope.js';
import type { ReputationEngine } from './engine.js';
import type { Thresholds } from './params.js';
import { breakdown, LEVELS, scoreOfCounters, decayCounters, thresholdsCrossed, type Component, type ComponentView, type LevelName } from './score.js';
import type { PeerState } from './peer-table.js';
import type { BanSource, ReputationStore, StoredEvent } from './store.js';

export interface BanView {
  readonly peer: string;
  readonly until: number;
  readonly reason: string;
  readonly source: BanSource;
  readonly createdAt: number;
  /** The proof id behind an equivocation ban. */
  readonly evidence: string | null;
}

export interface PeerView {
  readonly id: string;
  readonly score: number;
  readonly level: LevelName;
  /** Nonzero components only: decayed counter and score contribution. */
  readonly components: Partial<Record<Component, ComponentView>>;
  readonly ban: BanView | null;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/** An audit event as stored, with the id the store always assigns. */
export type EventView = StoredEvent & { readonly id: number };

export interface PeerDetail extends PeerView {
  readonly thresholds: Thresholds;
  /** The thresholds the current score is below, mildest first. */
  readonly thresholdsCrossed: ReadonlyArray<keyof Thresholds>;
  /** Most recent first. */
  readonly events: readonly EventView[];
}

export interface EvidenceView {
  readonly id: string;
  readonly origin: string;
  readonly kind: number;
  readonly kindName: string;
  readonly slot: string;
  readonly reporter: string;
  readonly receivedAt: number;
  /** The two envelopes and the origin's certificate, base64, so anyone can check the proof again. */
  readonly first: string;
  readonly second: string;
  readonly cert: string;
}

const MAX_PAGE = 1000;
const ID = /^[0-9a-f]{64}$/;

function page(v: number | undefined, def: number, field: string, min: number, max: number): number {
  const n = v ?? def;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `${field} must be an integer from ${min} to ${max} (got ${String(v)})`);
  }
  return n;
}

function checkId(id: string): string {
  const hex = typeof id === 'string' ? id.toLowerCase() : '';
  if (!ID.test(hex)) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', 'a peer id is 64 hex characters (an Ed25519 public key)');
  return hex;
}

export class ReputationQueries {
  constructor(private readonly engine: ReputationEngine, private readonly store: ReputationStore) {}

  /** Tracked peers, lowest score first (or most recently active first), paged. */
  peers(options: { limit?: number; offset?: number; order?: 'score' | 'recent'; minLevel?: LevelName } = {}): { total: number; peers: PeerView[] } {
    const limit = page(options.limit, 100, 'limit', 1, MAX_PAGE);
    const offset = page(options.offset, 0, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const min = options.minLevel === undefined ? 0 : LEVELS.indexOf(options.minLevel);
    if (min < 0) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `minLevel must be one of ${LEVELS.join(', ')}`);
    const now = this.engine.now();
    const p = this.engine.params;
    const rows: Array<{ s: PeerState; score: number }> = [];
    for (const s of this.engine.table.values()) {
      if (s.level < min) continue;
      rows.push({ s, score: scoreOfCounters(decayCounters(s, p, now), p) });
    }
    if (options.order === 'recent') rows.sort((a, b) => b.s.lastSeen - a.s.lastSeen || (a.s.id < b.s.id ? -1 : 1));
    else rows.sort((a, b) => a.score - b.score || (a.s.id < b.s.id ? -1 : 1));
    return { total: rows.length, peers: rows.slice(offset, offset + limit).map((r) => this.view(r.s, now)) };
  }

  /** One peer: components, thresholds crossed, recent events. Null for a peer never seen. */
  peer(id: string, options: { events?: number } = {}): PeerDetail | null {
    const hex = checkId(id);
    const s = this.engine.table.get(hex);
    if (s === undefined) return null;
    const now = this.engine.now();
    const v = this.view(s, now);
    return { ...v, thresholds: this.engine.params.thresholds, thresholdsCrossed: thresholdsCrossed(v.score, this.engine.params.thresholds), events: this.events({ peer: hex, limit: options.events ?? 20 }) };
  }

  /** The audit log, newest first; `beforeId` pages backwards. */
  events(options: { peer?: string; limit?: number; beforeId?: number } = {}): EventView[] {
    const limit = page(options.limit, 100, 'limit', 1, MAX_PAGE);
    const peer = options.peer === undefined ? undefined : checkId(options.peer);
    if (options.beforeId !== undefined) page(options.beforeId, 0, 'beforeId', 1, Number.MAX_SAFE_INTEGER);
    this.engine.flush();
    return this.store.events({ limit, ...(peer === undefined ? {} : { peer }), ...(options.beforeId === undefined ? {} : { beforeId: options.beforeId }) }) as EventView[];
  }

  /** Bans in force, soonest to expire last. */
  bans(): BanView[] {
    const out: BanView[] = [];
    for (const s of this.engine.table.banned) if (s.ban !== null) out.push({ peer: s.id, ...s.ban });
    return out.sort((a, b) => b.until - a.until || (a.peer < b.peer ? -1 : 1));
  }

  /** Stored proofs of equivocation, newest first. */
  evidence(options: { limit?: number; offset?: number } = {}): EvidenceView[] {
    const limit = page(options.limit, 100, 'limit', 1, MAX_PAGE);
    const offset = page(options.offset, 0, 'offset', 0, Number.MAX_SAFE_INTEGER);
    this.engine.flush();
    return this.store.evidence(limit, offset).map((e) => ({
      id: e.id, origin: e.origin, kind: e.kind, kindName: envelopeKindName(e.kind) ?? 'unknown', slot: e.slot, reporter: e.reporter, receivedAt: e.receivedAt,
      first: Buffer.from(e.first).toString('base64'), second: Buffer.from(e.second).toString('base64'), cert: Buffer.from(e.cert).toString('base64'),
    }));
  }

  private view(s: PeerState, now: number): PeerView {
    const p = this.engine.params;
    const score = scoreOfCounters(decayCounters(s, p, now), p);
    return {
      id: s.id,
      score,
      level: LEVELS[s.level]!,
      components: breakdown(s, p, now),
      ban: s.ban === null ? null : { peer: s.id, ...s.ban },
      firstSeen: s.firstSeen,
      lastSeen: s.lastSeen,
    };
  }
}
