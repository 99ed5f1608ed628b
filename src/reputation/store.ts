/**
 * The reputation store: SQLite through better-sqlite3, in the node's dataDir (`:memory:` for
 * simulations). Four tables: peers (counters and score), events (the audit log), bans (with
 * expiry) and evidence (proofs of equivocation).
 *
 * The engine keeps everything it needs per packet in memory; the store only sees one `commit` per
 * tick, which runs every write of that tick, and the pruning when due, in a single transaction
 * through prepared statements. WAL lets the admin API read while a tick writes, and
 * `synchronous = NORMAL` (safe with WAL: a crash loses at most the last ticks, never consistency)
 * keeps a commit from waiting for an fsync every second.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HearsayError } from '../errors.js';

export interface StoredPeer {
  readonly id: string;
  /** Component name → counter, as of `countersAt`. Names, not positions, so appended offenses load. */
  readonly counters: Readonly<Record<string, number>>;
  readonly countersAt: number;
  readonly score: number;
  readonly level: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

export type BanSource = 'admin' | 'equivocation' | 'score';

export interface StoredBan {
  readonly id: string;
  readonly until: number;
  readonly reason: string;
  readonly source: BanSource;
  readonly createdAt: number;
  readonly evidence: string | null;
}

export type EventType = 'offense' | 'threshold' | 'ban' | 'unban' | 'reset' | 'evidence' | 'evidence-rejected' | 'suppressed';

export interface StoredEvent {
  readonly id?: number;
  readonly at: number;
  readonly peer: string | null;
  readonly type: EventType;
  readonly offense: string | null;
  readonly detail: string;
  readonly score: number | null;
}

export interface StoredEvidence {
  readonly id: string;
  readonly origin: string;
  readonly kind: number;
  readonly slot: string;
  readonly first: Uint8Array;
  readonly second: Uint8Array;
  /** The origin's certificate; empty when the proof was reported locally for an origin we had no certificate of. */
  readonly cert: Uint8Array;
  /** Hex id of the peer that gave us the proof, or 'self'. */
  readonly reporter: string;
  readonly receivedAt: number;
}

export interface StoreLimits {
  readonly maxPeers: number;
  readonly maxEvents: number;
  readonly maxBans: number;
  readonly maxEvidence: number;
  /** Events, and neutral peers not seen, older than this are pruned. */
  readonly retentionMs: number;
}

export interface Batch {
  readonly peers: readonly StoredPeer[];
  readonly deletePeers: readonly string[];
  readonly events: readonly StoredEvent[];
  readonly bans: readonly StoredBan[];
  readonly unbans: readonly string[];
  readonly evidence: readonly StoredEvidence[];
  /** Run the pruning in this transaction, as of this time. */
  readonly pruneAt?: number;
}

export interface PruneResult {
  readonly events: number;
  readonly peers: number;
  readonly bans: number;
  readonly evidence: number;
}

/** Bump when the schema changes; a database from a newer version is refused, not mangled. */
export const SCHEMA_VERSION = 1;
export const STORE_FILE = 'reputation.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS peers (
  id TEXT PRIMARY KEY,
  counters TEXT NOT NULL,
  counters_at INTEGER NOT NULL,
  score REAL NOT NULL,
  level INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS peers_last_seen ON peers(last_seen);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  peer TEXT,
  type TEXT NOT NULL,
  offense TEXT,
  detail TEXT NOT NULL,
  score REAL
);
CREATE INDEX IF NOT EXISTS events_peer ON events(peer, id);
CREATE INDEX IF NOT EXISTS events_at ON events(at);
CREATE TABLE IF NOT EXISTS bans (
  id TEXT PRIMARY KEY,
  until INTEGER NOT NULL,
  reason TEXT NOT NULL,
  source TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  evidence TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS evidence (
  id TEXT PRIMARY KEY,
  origin TEXT NOT NULL,
  kind INTEGER NOT NULL,
  slot TEXT NOT NULL,
  first BLOB NOT NULL,
  second BLOB NOT NULL,
  cert BLOB NOT NULL,
  reporter TEXT NOT NULL,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS evidence_received ON evidence(received_at);
`;

/** A peer is "neutral" when its stored score is this close to zero: nothing worth keeping. */
export const NEUTRAL_SCORE = 0.5;

interface PeerRow { id: string; counters: string; counters_at: number; score: number; level: number; first_seen: number; last_seen: number }
interface EventRow { id: number; at: number; peer: string | null; type: string; offense: string | null; detail: string; score: number | null }
interface BanRow { id: string; until: number; reason: string; source: string; created_at: number; evidence: string | null }
interface EvidenceRow { id: string; origin: string; kind: number; slot: string; first: Buffer; second: Buffer; cert: Buffer; reporter: string; received_at: number }

export class ReputationStore {
  /** Committed write transactions, for tests and metrics: one per tick with writes, never one per packet. */
  transactions = 0;
  readonly path: string;
  private readonly db: Database.Database;
  private readonly limits: StoreLimits;
  private readonly s: ReturnType<ReputationStore['prepare']>;
  private readonly commitTx: (b: Batch) => PruneResult | null;
  private closed = false;

  /** Opens (creating if needed) `dir/reputation.sqlite`, or an in-memory database for `:memory:`. */
  static open(dir: string, limits: StoreLimits): ReputationStore {
    if (dir === ':memory:') return new ReputationStore(':memory:', limits);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new HearsayError('HEARSAY_ERR_STORE', `cannot create data folder ${dir}: ${(e as Error).message}`, { cause: e });
    }
    return new ReputationStore(join(dir, STORE_FILE), limits);
  }

  constructor(path: string, limits: StoreLimits) {
    this.path = path;
    this.limits = limits;
    try {
      this.db = new Database(path);
    } catch (e) {
      throw new HearsayError('HEARSAY_ERR_STORE', `cannot open reputation store ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const version = this.db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new HearsayError('HEARSAY_ERR_STORE', `reputation store ${path} has schema version ${version}, newer than this Hearsay (${SCHEMA_VERSION})`);
      }
      if (path !== ':memory:') this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 2000');
      this.db.exec(SCHEMA);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      this.s = this.prepare();
    } catch (e) {
      this.db.close();
      if (e instanceof HearsayError) throw e;
      throw new HearsayError('HEARSAY_ERR_STORE', `cannot initialise reputation store ${path}: ${(e as Error).message}`, { cause: e });
    }
    this.commitTx = this.db.transaction((b: Batch) => this.write(b));
  }

  private prepare() {
    const db = this.db;
    return {
      upsertPeer: db.prepare(`INSERT INTO peers (id, counters, counters_at, score, level, first_seen, last_seen) VALUES (@id, @counters, @countersAt, @score, @level, @firstSeen, @lastSeen)
        ON CONFLICT(id) DO UPDATE SET counters = excluded.counters, counters_at = excluded.counters_at, score = excluded.score, level = excluded.level, last_seen = excluded.last_seen`),
      deletePeer: db.prepare('DELETE FROM peers WHERE id = ?'),
      insertEvent: db.prepare('INSERT INTO events (at, peer, type, offense, detail, score) VALUES (@at, @peer, @type, @offense, @detail, @score)'),
      upsertBan: db.prepare(`INSERT INTO bans (id, until, reason, source, created_at, evidence) VALUES (@id, @until, @reason, @source, @createdAt, @evidence)
        ON CONFLICT(id) DO UPDATE SET until = excluded.until, reason = excluded.reason, source = excluded.source, created_at = excluded.created_at, evidence = excluded.evidence`),
      deleteBan: db.prepare('DELETE FROM bans WHERE id = ?'),
      insertEvidence: db.prepare(`INSERT OR IGNORE INTO evidence (id, origin, kind, slot, first, second, cert, reporter, received_at)
        VALUES (@id, @origin, @kind, @slot, @first, @second, @cert, @reporter, @receivedAt)`),
      loadPeers: db.prepare('SELECT * FROM peers ORDER BY last_seen DESC LIMIT ?'),
      loadBans: db.prepare('SELECT * FROM bans WHERE until > ? ORDER BY until DESC LIMIT ?'),
      evidence: db.prepare('SELECT * FROM evidence ORDER BY received_at DESC, id LIMIT ? OFFSET ?'),
      eventsAll: db.prepare('SELECT * FROM events WHERE id < ? ORDER BY id DESC LIMIT ?'),
      eventsPeer: db.prepare('SELECT * FROM events WHERE peer = ? AND id < ? ORDER BY id DESC LIMIT ?'),
      pruneEventsAge: db.prepare('DELETE FROM events WHERE at < ?'),
      pruneEventsCount: db.prepare('DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?'),
      prunePeersAge: db.prepare(`DELETE FROM peers WHERE last_seen < ? AND level = 0 AND abs(score) < ${NEUTRAL_SCORE} AND id NOT IN (SELECT id FROM bans)`),
      // Over the bound: neutral and quiet peers go first, then the least recently seen.
      prunePeersCount: db.prepare(`DELETE FROM peers WHERE id IN (SELECT id FROM peers WHERE id NOT IN (SELECT id FROM bans)
        ORDER BY (level = 0 AND abs(score) < ${NEUTRAL_SCORE}) DESC, last_seen ASC LIMIT max(0, (SELECT count(*) FROM peers) - ?))`),
      pruneBansExpired: db.prepare('DELETE FROM bans WHERE until <= ?'),
      pruneBansCount: db.prepare('DELETE FROM bans WHERE id IN (SELECT id FROM bans ORDER BY until ASC LIMIT max(0, (SELECT count(*) FROM bans) - ?))'),
      pruneEvidenceCount: db.prepare('DELETE FROM evidence WHERE id IN (SELECT id FROM evidence ORDER BY received_at ASC LIMIT max(0, (SELECT count(*) FROM evidence) - ?))'),
      counts: db.prepare('SELECT (SELECT count(*) FROM peers) AS peers, (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM bans) AS bans, (SELECT count(*) FROM evidence) AS evidence'),
    };
  }

  /** Writes one tick's batch (and the pruning, when asked) in one transaction. */
  commit(batch: Batch): PruneResult | null {
    this.assertOpen();
    const empty = batch.peers.length === 0 && batch.deletePeers.length === 0 && batch.events.length === 0 && batch.bans.length === 0
      && batch.unbans.length === 0 && batch.evidence.length === 0 && batch.pruneAt === undefined;
    if (empty) return null;
    try {
      const r = this.commitTx(batch);
      this.transactions++;
      return r;
    } catch (e) {
      throw new HearsayError('HEARSAY_ERR_STORE', `reputation store ${this.path}: write failed: ${(e as Error).message}`, { cause: e });
    }
  }

  private write(b: Batch): PruneResult | null {
    const s = this.s;
    for (const p of b.peers) s.upsertPeer.run({ ...p, counters: JSON.stringify(p.counters) });
    for (const id of b.deletePeers) s.deletePeer.run(id);
    for (const e of b.events) s.insertEvent.run({ at: e.at, peer: e.peer, type: e.type, offense: e.offense, detail: e.detail, score: e.score });
    for (const ban of b.bans) s.upsertBan.run(ban);
    for (const id of b.unbans) s.deleteBan.run(id);
    for (const ev of b.evidence) {
      s.insertEvidence.run({ ...ev, first: toBuffer(ev.first), second: toBuffer(ev.second), cert: toBuffer(ev.cert) });
    }
    if (b.pruneAt === undefined) return null;
    const l = this.limits;
    const cutoff = b.pruneAt - l.retentionMs;
    const events = s.pruneEventsAge.run(cutoff).changes + s.pruneEventsCount.run(l.maxEvents).changes;
    const bans = s.pruneBansExpired.run(b.pruneAt).changes + s.pruneBansCount.run(l.maxBans).changes;
    const peers = s.prunePeersAge.run(cutoff).changes + s.prunePeersCount.run(l.maxPeers).changes;
    const evidence = s.pruneEvidenceCount.run(l.maxEvidence).changes;
    return { events, peers, bans, evidence };
  }

  loadPeers(): StoredPeer[] {
    this.assertOpen();
    return (this.s.loadPeers.all(this.limits.maxPeers) as PeerRow[]).map((r) => ({
      id: r.id, counters: parseCounters(r.counters), countersAt: r.counters_at, score: r.score, level: r.level, firstSeen: r.first_seen, lastSeen: r.last_seen,
    }));
  }

  /** Bans still in force at `now`. */
  loadBans(now: number): StoredBan[] {
    this.assertOpen();
    return (this.s.loadBans.all(now, this.limits.maxBans) as BanRow[]).map(toBan);
  }

  evidence(limit: number, offset = 0): StoredEvidence[] {
    this.assertOpen();
    return (this.s.evidence.all(limit, offset) as EvidenceRow[]).map((r) => ({
      id: r.id, origin: r.origin, kind: r.kind, slot: r.slot, first: new Uint8Array(r.first), second: new Uint8Array(r.second),
      cert: new Uint8Array(r.cert), reporter: r.reporter, receivedAt: r.received_at,
    }));
  }

  /** Newest first; `beforeId` pages backwards. */
  events(options: { peer?: string; limit: number; beforeId?: number }): StoredEvent[] {
    this.assertOpen();
    const before = options.beforeId ?? Number.MAX_SAFE_INTEGER;
    const rows = (options.peer === undefined ? this.s.eventsAll.all(before, options.limit) : this.s.eventsPeer.all(options.peer, before, options.limit)) as EventRow[];
    return rows.map((r) => ({ id: r.id, at: r.at, peer: r.peer, type: r.type as EventType, offense: r.offense, detail: r.detail, score: r.score }));
  }

  counts(): { peers: number; events: number; bans: number; evidence: number } {
    this.assertOpen();
    return this.s.counts.get() as { peers: number; events: number; bans: number; evidence: number };
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new HearsayError('HEARSAY_ERR_STORE', `reputation store ${this.path} is closed`);
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function toBan(r: BanRow): StoredBan {
  const source: BanSource = r.source === 'admin' || r.source === 'equivocation' ? r.source : 'score';
  return { id: r.id, until: r.until, reason: r.reason, source, createdAt: r.created_at, evidence: r.evidence };
}

function parseCounters(text: string): Record<string, number> {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    const out: Record<string, number> = {};
    for (const [k, n] of Object.entries(v)) if (typeof n === 'number' && Number.isFinite(n) && n > 0) out[k] = n;
    return out;
  } catch {
    // A damaged row loses its counters, not the node.
    return {};
  }
}
