/**
 * Durable key/value state in SQLite (better-sqlite3, WAL, prepared statements).
 *
 * Tables:
 * - `writes`: every signed write this node holds, keyed by (origin, version), with its exact
 *   envelope bytes so it can be re-served verbatim. A write is held while it is a key's winner,
 *   and for `tombstoneGraceMs` after it died (was superseded, or is a tombstone), so that peers a
 *   little behind still get gap-free runs of versions.
 * - `winners`: for each key, the (origin, version) of the write that wins (possibly a tombstone).
 * - `origins`: per origin, the contiguous version held (scuttlebutt's "I have X up to v"), the
 *   garbage-collection floor (highest version purged here) and the origin's certificate, so writes
 *   of nodes that have left can still be verified by replicas that never met them.
 * - `meta`: the node's hybrid logical clock, so a restart never issues a timestamp below one it
 *   already used (a clock set back would otherwise let an old value win over a newer one).
 *
 * Durability: WAL with synchronous=NORMAL for writes received from peers (a committed transaction
 * is in the WAL file when commit returns, so it survives kill -9; a power cut may lose the last
 * ones, which peers still hold), and synchronous=FULL around local writes, whose commit fsyncs the
 * WAL before `kv.set` resolves: until gossip has copied it, this disk holds the only copy, and a
 * lost local write would also make the node reuse its version number, which peers would take for
 * equivocation.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HearsayError } from '../errors.js';

export interface StoredWrite {
  readonly origin: Uint8Array;
  readonly version: number;
  readonly key: string;
  readonly wall: number;
  readonly logical: number;
  readonly deleted: boolean;
  readonly value: Uint8Array | null;
  /** The envelope's message id (SHA-256). */
  readonly id: Uint8Array;
  readonly envelope: Uint8Array;
  /** When it stopped being a live value here (superseded, or a tombstone since it arrived); null while live. */
  readonly deadSince: number | null;
}

export interface OriginRecord {
  readonly origin: Uint8Array;
  readonly hex: string;
  /** Every version 1..contiguous is held, was purged (≤ floor), or is hidden from us by policy. */
  contiguous: number;
  /** Highest version purged here; versions at or below it may be missing. */
  floor: number;
  cert: Uint8Array | null;
}

interface WriteRow {
  origin: Buffer;
  version: number;
  key: string;
  wall: number;
  logical: number;
  deleted: number;
  value: Buffer | null;
  id: Buffer;
  envelope: Buffer;
  dead_since: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS writes (
  origin BLOB NOT NULL, version INTEGER NOT NULL, key TEXT NOT NULL,
  wall INTEGER NOT NULL, logical INTEGER NOT NULL, deleted INTEGER NOT NULL,
  value BLOB, id BLOB NOT NULL, envelope BLOB NOT NULL, dead_since INTEGER,
  PRIMARY KEY (origin, version)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS writes_by_key ON writes (key);
CREATE INDEX IF NOT EXISTS writes_dead ON writes (dead_since) WHERE dead_since IS NOT NULL;
CREATE TABLE IF NOT EXISTS winners (key TEXT PRIMARY KEY, origin BLOB NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS origins (origin BLOB PRIMARY KEY, contiguous INTEGER NOT NULL, floor INTEGER NOT NULL, cert BLOB) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

const COLS = 'w.origin, w.version, w.key, w.wall, w.logical, w.deleted, w.value, w.id, w.envelope, w.dead_since';

/** Keys are printable ASCII (KEY_PATTERN), so every key with a prefix sorts below prefix + DEL. */
const PREFIX_END = '\x7f';

export class KvStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly s: ReturnType<KvStore['prepare']>;
  private readonly tx: (fn: () => unknown) => unknown;
  private closed = false;

  private constructor(db: Database.Database, path: string) {
    this.db = db;
    this.path = path;
    this.s = this.prepare();
    const t = db.transaction((fn: () => unknown) => fn());
    this.tx = (fn) => t(fn);
  }

  /** Opens (creating if needed) `<dataDir>/kv.sqlite`, or an in-memory database for dataDir ':memory:'. */
  static open(dataDir: string): KvStore {
    const path = dataDir === ':memory:' ? ':memory:' : join(dataDir, 'kv.sqlite');
    try {
      if (path !== ':memory:') mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(SCHEMA);
      return new KvStore(db, path);
    } catch (e) {
      throw new HearsayError('HEARSAY_ERR_STORE', `cannot open key/value store ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  private prepare() {
    const db = this.db;
    return {
      insert: db.prepare('INSERT INTO writes (origin, version, key, wall, logical, deleted, value, id, envelope, dead_since) VALUES (?,?,?,?,?,?,?,?,?,?)'),
      get: db.prepare(`SELECT ${COLS} FROM writes w WHERE w.origin = ? AND w.version = ?`),
      has: db.prepare('SELECT 1 FROM writes WHERE origin = ? AND version = ?').pluck(),
      setDead: db.prepare('UPDATE writes SET dead_since = ? WHERE origin = ? AND version = ?'),
      del: db.prepare('DELETE FROM writes WHERE origin = ? AND version = ?'),
      winner: db.prepare(`SELECT ${COLS} FROM winners k JOIN writes w ON w.origin = k.origin AND w.version = k.version WHERE k.key = ?`),
      setWinner: db.prepare('INSERT OR REPLACE INTO winners (key, origin, version) VALUES (?,?,?)'),
      delWinner: db.prepare('DELETE FROM winners WHERE key = ?'),
      live: db.prepare(`SELECT ${COLS} FROM winners k JOIN writes w ON w.origin = k.origin AND w.version = k.version WHERE k.key >= ? AND k.key < ? AND w.deleted = 0 ORDER BY k.key LIMIT ?`),
      after: db.prepare(`SELECT ${COLS} FROM writes w WHERE w.origin = ? AND w.version > ? ORDER BY w.version LIMIT ?`),
      winnersAfter: db.prepare(`SELECT ${COLS} FROM winners k JOIN writes w ON w.origin = k.origin AND w.version = k.version WHERE k.key > ? ORDER BY k.key LIMIT ?`),
      winnerKeysBetween: db.prepare('SELECT key, origin, version FROM winners WHERE key > ? AND key <= ? ORDER BY key'),
      ofKey: db.prepare(`SELECT ${COLS} FROM writes w WHERE w.key = ?`),
      expired: db.prepare('SELECT origin, version, key FROM writes WHERE dead_since IS NOT NULL AND dead_since < ? LIMIT ?'),
      belowFloor: db.prepare('SELECT origin, version, key FROM writes WHERE origin = ? AND version <= ? AND dead_since IS NOT NULL'),
      origins: db.prepare('SELECT origin, contiguous, floor, cert FROM origins'),
      saveOrigin: db.prepare('INSERT INTO origins (origin, contiguous, floor, cert) VALUES (?,?,?,?) ON CONFLICT (origin) DO UPDATE SET contiguous = excluded.contiguous, floor = excluded.floor, cert = coalesce(excluded.cert, origins.cert)'),
      getMeta: db.prepare('SELECT value FROM meta WHERE name = ?').pluck(),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)'),
      countLive: db.prepare('SELECT count(*) FROM winners k JOIN writes w ON w.origin = k.origin AND w.version = k.version WHERE w.deleted = 0').pluck(),
      countWrites: db.prepare('SELECT count(*) FROM writes').pluck(),
    };
  }

  /** Runs `fn` in one transaction (synchronous=NORMAL: survives a process crash once it returns). */
  transaction<T>(fn: () => T): T {
    return this.tx(fn) as T;
  }

  /** Runs `fn` in one transaction whose commit is fsynced (synchronous=FULL): for local writes. */
  durableTransaction<T>(fn: () => T): T {
    this.db.pragma('synchronous = FULL');
    try {
      return this.tx(fn) as T;
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  insertWrite(w: StoredWrite): void {
    this.s.insert.run(w.origin, w.version, w.key, w.wall, w.logical, w.deleted ? 1 : 0, w.value, w.id, w.envelope, w.deadSince);
  }

  getWrite(origin: Uint8Array, version: number): StoredWrite | undefined {
    const r = this.s.get.get(origin, version) as WriteRow | undefined;
    return r === undefined ? undefined : fromRow(r);
  }

  hasWrite(origin: Uint8Array, version: number): boolean {
    return this.s.has.get(origin, version) !== undefined;
  }

  markDead(origin: Uint8Array, version: number, since: number): void {
    this.s.setDead.run(since, origin, version);
  }

  deleteWrite(origin: Uint8Array, version: number): void {
    this.s.del.run(origin, version);
  }

  winner(key: string): StoredWrite | undefined {
    const r = this.s.winner.get(key) as WriteRow | undefined;
    return r === undefined ? undefined : fromRow(r);
  }

  setWinner(key: string, origin: Uint8Array, version: number): void {
    this.s.setWinner.run(key, origin, version);
  }

  deleteWinner(key: string): void {
    this.s.delWinner.run(key);
  }

  /** Live (not deleted) winners whose key starts with `prefix`, in key order. */
  live(prefix: string, limit: number): StoredWrite[] {
    return (this.s.live.all(prefix, prefix + PREFIX_END, limit) as WriteRow[]).map(fromRow);
  }

  /** Held writes of `origin` above `afterVersion`, in version order. */
  writesAfter(origin: Uint8Array, afterVersion: number, limit: number): StoredWrite[] {
    return (this.s.after.all(origin, afterVersion, limit) as WriteRow[]).map(fromRow);
  }

  /** Winners (tombstones included) with key > `afterKey`, in key order: one resync chunk. */
  winnersAfter(afterKey: string, limit: number): StoredWrite[] {
    return (this.s.winnersAfter.all(afterKey, limit) as WriteRow[]).map(fromRow);
  }

  /** (key, origin, version) of winners with afterKey < key <= lastKey. */
  winnerKeysBetween(afterKey: string, lastKey: string): Array<{ key: string; origin: Uint8Array; version: number }> {
    return this.s.winnerKeysBetween.all(afterKey, lastKey) as Array<{ key: string; origin: Buffer; version: number }>;
  }

  writesOfKey(key: string): StoredWrite[] {
    return (this.s.ofKey.all(key) as WriteRow[]).map(fromRow);
  }

  /** Dead writes (superseded or tombstones) that died before `before`: candidates for purging. */
  expired(before: number, limit: number): Array<{ origin: Uint8Array; version: number; key: string }> {
    return this.s.expired.all(before, limit) as Array<{ origin: Buffer; version: number; key: string }>;
  }

  /** Dead writes of `origin` at or below `version` (made obsolete by a floor learned in a resync). */
  deadAtOrBelow(origin: Uint8Array, version: number): Array<{ origin: Uint8Array; version: number; key: string }> {
    return this.s.belowFloor.all(origin, version) as Array<{ origin: Buffer; version: number; key: string }>;
  }

  loadOrigins(): OriginRecord[] {
    return (this.s.origins.all() as Array<{ origin: Buffer; contiguous: number; floor: number; cert: Buffer | null }>).map((r) => ({
      origin: new Uint8Array(r.origin), hex: r.origin.toString('hex'), contiguous: r.contiguous, floor: r.floor, cert: r.cert === null ? null : new Uint8Array(r.cert),
    }));
  }

  saveOrigin(o: OriginRecord): void {
    this.s.saveOrigin.run(o.origin, o.contiguous, o.floor, o.cert);
  }

  getMeta(name: string): number | undefined {
    return this.s.getMeta.get(name) as number | undefined;
  }

  setMeta(name: string, value: number): void {
    this.s.setMeta.run(name, value);
  }

  countLive(): number {
    return this.s.countLive.get() as number;
  }

  countWrites(): number {
    return this.s.countWrites.get() as number;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  get isOpen(): boolean {
    return !this.closed;
  }
}

function fromRow(r: WriteRow): StoredWrite {
  return {
    origin: r.origin, version: r.version, key: r.key, wall: r.wall, logical: r.logical, deleted: r.deleted === 1,
    value: r.value, id: r.id, envelope: r.envelope, deadSince: r.dead_since,
  };
}
