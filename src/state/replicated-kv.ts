/**
 * Replicated key/value state: signed writes, last-writer-wins by hybrid logical clock, tombstones,
 * durable in SQLite (kv-store.ts), spread by lazy-push gossip (dissemination/gossip.ts) and
 * repaired by scuttlebutt anti-entropy (anti-entropy.ts).
 *
 * Receiving a write (KV_WRITE envelope, signature already verified by the router):
 *   size limits → timestamp not beyond maxClockSkewMs ('future-timestamp' charged to the origin)
 *   → policy (origin mayWrite, else 'policy-violation'; we mayRead, else the sender broke policy)
 *   → slot check: (origin, version) already held with another id is equivocation (refused and
 *   reported with both envelopes) → LWW merge → contiguous version advanced → watchers told.
 *
 * Local writes are validated (key pattern and size, value size, mayWrite), stamped with the HLC
 * and the next version, signed, committed with an fsync (group commit: the writes issued in one
 * event-loop turn share one transaction) and only then acknowledged and gossiped. An acknowledged
 * write is therefore on disk, and a version number is never issued twice.
 */
import type { Clock } from '../clock.js';
import { HearsayError } from '../errors.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { BoundedCache } from '../link/bounded-cache.js';
import type { EnvelopeRouter, VerifiedEnvelope } from '../link/envelope-router.js';
import type { LinkLayer, MessageContext, PeerRecord } from '../link/link-layer.js';
import type { CertificateVerifier, PeerCertificate } from '../link/peer-certificate.js';
import type { PeerGate } from '../link/peer-gate.js';
import type { Counter, MetricsRegistry } from '../metrics.js';
import type { Authorizer } from '../policy/authorizer.js';
import { EnvelopeKind, messageId, signEnvelope } from '../wire/envelope.js';
import type { Gossip } from '../dissemination/gossip.js';
import { HybridClock, type Hlc } from './hlc.js';
import { KvStore, type OriginRecord, type StoredWrite } from './kv-store.js';
import { KEY_PATTERN, KV_WRITE_BODY, bodyOf, writeFromBody, type KvWrite, type KvWriteBody } from './kv-write.js';
import { compareWrites, wins } from './lww.js';

export interface KvChange {
  readonly key: string;
  /** null: the key was deleted. */
  readonly value: Uint8Array | null;
  /** Writer's node id, hex. */
  readonly origin: string;
  readonly wall: number;
  readonly logical: number;
  readonly version: number;
  /** Written by this node. */
  readonly local: boolean;
}

export interface WriteReceipt {
  readonly key: string;
  readonly origin: string;
  readonly version: number;
  readonly wall: number;
  readonly logical: number;
  /** Message id of the signed write (base64). */
  readonly id: string;
}

export interface KvEntry {
  readonly key: string;
  readonly value: Uint8Array;
  readonly origin: string;
  readonly wall: number;
  readonly logical: number;
  readonly version: number;
}

export interface ReplicatedKvOptions {
  readonly store: KvStore;
  readonly link: LinkLayer;
  readonly router: EnvelopeRouter;
  readonly gossip: Gossip;
  readonly clock: Clock;
  readonly backend: SignatureBackend;
  readonly gate: PeerGate;
  readonly metrics: MetricsRegistry;
  readonly verifier: CertificateVerifier;
  readonly authorizer: () => Authorizer;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly maxClockSkewMs: number;
  readonly tombstoneGraceMs: number;
  readonly maxPendingVersions: number;
  readonly maxOrigins: number;
}

type ApplyResult = 'applied' | 'duplicate' | 'equivocation' | 'stale' | 'too-far-ahead';

interface PendingLocal {
  readonly write: KvWrite;
  readonly envelope: Uint8Array;
  readonly id: Uint8Array;
  resolve(r: WriteReceipt): void;
  reject(e: Error): void;
}

/** Writes purged per garbage-collection pass: bounds the work of one anti-entropy tick. */
const GC_BATCH = 2000;

export class ReplicatedKv {
  readonly store: KvStore;
  private readonly o: ReplicatedKvOptions;
  private readonly selfHex: string;
  private readonly self: OriginRecord;
  private readonly origins = new Map<string, OriginRecord>();
  private readonly certs: BoundedCache<string, PeerCertificate>;
  private readonly hlc: HybridClock;
  private readonly watchers = new Set<{ prefix: string; fn: (c: KvChange) => void }>();
  private pending: PendingLocal[] = [];
  /** Next version to issue: own versions above the committed ones are reserved by pending writes. */
  private nextVersion: number;
  private events: KvChange[] = [];
  /** Set while a resync chunk is applied: its winners may lie far above our contiguous versions. */
  resyncing = false;
  private readonly refused: Counter;
  private readonly applied: Counter;

  constructor(options: ReplicatedKvOptions) {
    this.o = options;
    this.store = options.store;
    const identity = options.link.identity;
    this.selfHex = Buffer.from(identity.nodeId).toString('hex');
    for (const r of this.store.loadOrigins()) this.origins.set(r.hex, r);
    this.self = this.originRecord(this.selfHex, identity.nodeId);
    this.self.cert = identity.certBytes;
    this.certs = new BoundedCache(Math.max(1024, options.maxOrigins));
    this.nextVersion = this.self.contiguous + 1;
    // Never below a timestamp we issued before a restart, even if the wall clock went back.
    const wall = this.store.getMeta('hlc_wall') ?? 0;
    const logical = this.store.getMeta('hlc_logical') ?? 0;
    this.hlc = new HybridClock(() => options.clock.now(), { wall, logical });
    this.refused = options.metrics.counter('hearsay_kv_writes_refused_total', 'Received key/value writes refused, by reason.');
    this.applied = options.metrics.counter('hearsay_kv_writes_applied_total', 'Key/value writes applied, by source.');
    options.router.register(EnvelopeKind.KV_WRITE, KV_WRITE_BODY, (ve, ctx) => this.onWrite(ve, ctx), (origin) => this.certOf(origin));
  }

  // ---- public API --------------------------------------------------------------------------------

  set(key: string, value: Uint8Array | string): Promise<WriteReceipt> {
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    if (!(bytes instanceof Uint8Array)) return Promise.reject(new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', 'value must be a string or a Uint8Array'));
    return this.write(key, bytes);
  }

  delete(key: string): Promise<WriteReceipt> {
    return this.write(key, null);
  }

  /** The live value, or undefined (absent or deleted). Sees local writes once their promise resolved. */
  get(key: string): Uint8Array | undefined {
    this.checkKey(key);
    if (!this.o.authorizer().mayRead(this.o.link.identity.cert, key)) {
      throw new HearsayError('HEARSAY_ERR_NOT_AUTHORIZED', `this node may not read ${JSON.stringify(key)}`);
    }
    const w = this.store.winner(key);
    return w === undefined || w.deleted ? undefined : new Uint8Array(w.value ?? new Uint8Array(0));
  }

  /** Live entries whose key starts with `prefix`, in key order (at most `limit`). */
  list(prefix: string, limit = 10_000): KvEntry[] {
    const me = this.o.link.identity.cert;
    const auth = this.o.authorizer();
    return this.store.live(prefix, limit).filter((w) => auth.mayRead(me, w.key)).map((w) => ({
      key: w.key, value: new Uint8Array(w.value ?? new Uint8Array(0)), origin: Buffer.from(w.origin).toString('hex'),
      wall: w.wall, logical: w.logical, version: w.version,
    }));
  }

  /** Calls `fn` on every change of a key under `prefix` (local or replicated); returns the unsubscribe function. */
  watch(prefix: string, fn: (c: KvChange) => void): () => void {
    if (typeof prefix !== 'string' || prefix.length > 4096) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', 'prefix must be a string of at most 4096 characters');
    const w = { prefix, fn };
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  // ---- for anti-entropy --------------------------------------------------------------------------

  /** Per-origin records (contiguous version, floor, certificate), this node's included. */
  originRecords(): OriginRecord[] {
    return [...this.origins.values()];
  }

  originRecord(hex: string, origin?: Uint8Array): OriginRecord {
    let r = this.origins.get(hex);
    if (r === undefined) {
      r = { origin: origin ?? Buffer.from(hex, 'hex'), hex, contiguous: 0, floor: 0, cert: null };
      this.origins.set(hex, r);
    }
    return r;
  }

  /** Verifies and remembers an origin's certificate carried by anti-entropy (it may have left the cluster). */
  learnCert(origin: Uint8Array, certBytes: Uint8Array): boolean {
    const hex = Buffer.from(origin).toString('hex');
    if (this.certs.has(hex) || this.o.link.peer(hex) !== undefined) return true;
    const r = this.o.verifier.verify(certBytes, this.o.clock.now());
    if (!r.ok || Buffer.compare(r.value.nodeId, origin) !== 0) return false;
    this.certs.set(hex, r.value);
    const rec = this.originRecord(hex, origin);
    if (rec.cert === null) {
      rec.cert = new Uint8Array(certBytes);
      this.store.saveOrigin(rec);
    }
    return true;
  }

  /**
   * After a delta: advances the origin's contiguous version over versions now held or marked
   * hidden (writes we may not read, which the sender therefore did not send).
   */
  advance(rec: OriginRecord, hidden: ReadonlySet<number>): void {
    const before = rec.contiguous;
    for (;;) {
      const v = rec.contiguous + 1;
      if (hidden.has(v) || this.store.hasWrite(rec.origin, v)) rec.contiguous = v;
      else break;
    }
    if (rec.contiguous !== before) this.store.saveOrigin(rec);
  }

  /**
   * A resync chunk covered the keys in (afterKey, lastKey] (lastKey null: to the end). A winner we
   * hold there that the source did not send, and whose version the source has seen (≤ its
   * contiguous version for that origin), died at the source and was purged there (superseded, or
   * deleted and its tombstone collected): drop it, so a delete is never silently missed — provided
   * the source may write that key (see below).
   */
  dropMissing(afterKey: string, lastKey: string | null, kept: ReadonlySet<string>, seen: ReadonlyMap<string, number>, sourceMayWrite: (key: string) => boolean): Set<string> {
    const now = this.o.clock.now();
    const unsettled = new Set<string>();
    for (const row of this.store.winnerKeysBetween(afterKey, lastKey ?? '\x7f')) {
      if (kept.has(row.key)) continue;
      const hex = Buffer.from(row.origin).toString('hex');
      if (row.version > (seen.get(hex) ?? 0)) continue;
      // An omission is the source's word, not a signature. Honour it only from a source that could
      // have deleted the key itself with a signed tombstone, so a peer that may merely read a key
      // (or a compromised one that may not even do that) can never make us drop it. The origin
      // stays unsettled: its floor is not adopted, so a peer that may write the key resyncs us later.
      if (!sourceMayWrite(row.key)) {
        unsettled.add(hex);
        continue;
      }
      const old = this.store.winner(row.key);
      this.store.deleteWinner(row.key);
      if (old !== undefined && old.deadSince === null) this.store.markDead(old.origin, old.version, now);
      // Among what else we hold for the key, only writes the source has not seen can still win.
      let best: StoredWrite | undefined;
      for (const w of this.store.writesOfKey(row.key)) {
        if (w.version <= (seen.get(Buffer.from(w.origin).toString('hex')) ?? 0)) continue;
        if (best === undefined || compareWrites(w, best) > 0) best = w;
      }
      if (best !== undefined) {
        this.store.setWinner(best.key, best.origin, best.version);
        this.changed(best, false);
      } else if (old !== undefined && !old.deleted) {
        this.events.push({ key: row.key, value: null, origin: hex, wall: old.wall, logical: old.logical, version: old.version, local: false });
      }
    }
    return unsettled;
  }

  /** A resync completed: below the source's floors we now hold exactly its live state. */
  adoptFloors(floors: ReadonlyMap<string, { origin: Uint8Array; floor: number }>): void {
    for (const [hex, f] of floors) {
      const rec = this.originRecord(hex, f.origin);
      if (f.floor > rec.floor) rec.floor = f.floor;
      if (f.floor > rec.contiguous) rec.contiguous = f.floor;
      this.advance(rec, new Set());
      this.store.saveOrigin(rec);
    }
  }

  /** Purges writes dead for longer than tombstoneGraceMs; raises the floors. Returns how many went. */
  gc(): number {
    const now = this.o.clock.now();
    const expired = this.store.expired(now - this.o.tombstoneGraceMs, GC_BATCH);
    if (expired.length === 0) return 0;
    let purged = 0;
    this.store.transaction(() => {
      const touched = new Set<OriginRecord>();
      for (const e of expired) {
        const hex = Buffer.from(e.origin).toString('hex');
        const rec = this.originRecord(hex, e.origin);
        // Above the contiguous versions a purge would let us claim versions we never had.
        if (e.version > rec.contiguous) continue;
        const winner = this.store.winner(e.key);
        if (winner !== undefined && Buffer.compare(winner.origin, e.origin) === 0 && winner.version === e.version) this.store.deleteWinner(e.key);
        this.store.deleteWrite(e.origin, e.version);
        if (e.version > rec.floor) rec.floor = e.version;
        touched.add(rec);
        purged++;
      }
      for (const rec of touched) this.store.saveOrigin(rec);
    });
    return purged;
  }

  /** Runs `fn` in one store transaction, then tells watchers what changed. */
  batch<T>(fn: () => T): T {
    const r = this.store.transaction(fn);
    this.flushEvents();
    return r;
  }

  close(): void {
    for (const p of this.pending) p.reject(new HearsayError('HEARSAY_ERR_STOPPED', 'node stopped before the write was committed'));
    this.pending = [];
    this.store.close();
  }

  // ---- local writes ------------------------------------------------------------------------------

  private write(key: string, value: Uint8Array | null): Promise<WriteReceipt> {
    try {
      this.checkKey(key);
      if (value !== null && value.length > this.o.maxValueBytes) {
        throw new HearsayError('HEARSAY_ERR_TOO_LARGE', `value of ${value.length} bytes exceeds maxValueBytes (${this.o.maxValueBytes})`);
      }
      const identity = this.o.link.identity;
      if (!this.o.authorizer().mayWrite(identity.cert, key)) {
        throw new HearsayError('HEARSAY_ERR_NOT_AUTHORIZED', `this node may not write ${JSON.stringify(key)}`);
      }
      if (!this.store.isOpen) throw new HearsayError('HEARSAY_ERR_STOPPED', 'the key/value store is closed');
      const ts = this.hlc.now();
      const write: KvWrite = { key, value, wall: ts.wall, logical: ts.logical, version: this.nextVersion++ };
      const env = signEnvelope(EnvelopeKind.KV_WRITE, identity.nodeId, identity.seed, bodyOf(write), this.o.backend);
      const id = messageId(env);
      return new Promise<WriteReceipt>((resolve, reject) => {
        this.pending.push({ write, envelope: env.bytes, id, resolve, reject });
        if (this.pending.length === 1) queueMicrotask(() => this.commitLocal());
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private commitLocal(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const me = this.o.link.identity.nodeId;
    try {
      this.store.durableTransaction(() => {
        for (const p of batch) this.apply(p.write, me, this.selfHex, p.id, p.envelope);
        const h = this.hlc.current();
        this.store.setMeta('hlc_wall', h.wall);
        this.store.setMeta('hlc_logical', h.logical);
      });
    } catch (e) {
      // Nothing of the batch is on disk: its versions may be issued again.
      this.events = [];
      this.nextVersion = this.self.contiguous + 1;
      for (const p of batch) p.reject(new HearsayError('HEARSAY_ERR_STORE', `write not committed: ${(e as Error).message}`, { cause: e }));
      return;
    }
    this.applied.inc({ source: 'local' }, batch.length);
    for (const p of batch) {
      const w = p.write;
      p.resolve({ key: w.key, origin: this.selfHex, version: w.version, wall: w.wall, logical: w.logical, id: Buffer.from(p.id).toString('base64') });
      const idKey = Buffer.from(p.id).toString('base64');
      this.o.router.markSeen(idKey);
      this.o.gossip.originate({ bytes: p.envelope, id: p.id, idKey }, this.readers(w.key));
    }
    this.flushEvents();
  }

  // ---- received writes ---------------------------------------------------------------------------

  private onWrite(ve: VerifiedEnvelope, ctx: MessageContext | null): void {
    const w = writeFromBody(ve.body as KvWriteBody);
    const origin = ve.envelope.origin;
    if (Buffer.byteLength(w.key) > this.o.maxKeyBytes || (w.value !== null && w.value.length > this.o.maxValueBytes)) {
      this.refuse('too-large');
      this.o.gate.charge(origin, 'malformed', 'key/value over the size limits');
      return;
    }
    if (w.wall > this.o.clock.now() + this.o.maxClockSkewMs) {
      // Refused outright: accepted, it would win every later write to the key until that time.
      this.refuse('future-timestamp');
      this.o.gate.charge(origin, 'future-timestamp', 'kv write');
      return;
    }
    const auth = this.o.authorizer();
    if (!auth.mayWrite(ve.originCert, w.key)) {
      this.refuse('policy');
      this.o.link.drop('policy');
      this.o.gate.charge(origin, 'policy-violation', 'kv write');
      return;
    }
    if (!auth.mayRead(this.o.link.identity.cert, w.key)) {
      this.refuse('not-a-reader');
      this.o.link.drop('policy');
      if (ctx !== null) this.o.gate.charge(ctx.peer.id, 'policy-violation', 'sent a key we may not read');
      return;
    }
    const hex = Buffer.from(origin).toString('hex');
    if (!this.origins.has(hex) && this.origins.size >= this.o.maxOrigins) {
      this.refuse('too-many-origins');
      return;
    }
    const rec = this.originRecord(hex, origin);
    if (rec.cert === null) {
      const known = this.o.link.peer(origin);
      if (known !== undefined) rec.cert = known.certBytes;
    }
    let result: ApplyResult;
    try {
      result = this.batch(() => this.apply(w, origin, hex, ve.id, ve.envelope.bytes));
    } catch {
      this.refuse('store');
      return;
    }
    if (result !== 'applied') {
      this.refuse(result);
      return;
    }
    this.hlc.observe(w);
    this.applied.inc({ source: ctx === null || ctx.viaStream ? 'anti-entropy' : 'gossip' });
    if (ctx !== null && !ctx.viaStream) this.o.gate.credit(ctx.peer.id);
    // Writes from anti-entropy are not re-announced: the exchange itself spreads them.
    this.o.gossip.relay({ bytes: ve.envelope.bytes, id: ve.id, idKey: ve.idKey }, this.readers(w.key), ctx !== null && !ctx.viaStream ? ctx.peer : null);
  }

  /** The merge, inside a transaction. */
  private apply(w: KvWrite, origin: Uint8Array, hex: string, id: Uint8Array, envelope: Uint8Array): ApplyResult {
    const rec = this.originRecord(hex, origin);
    const held = this.store.getWrite(origin, w.version);
    if (held !== undefined) {
      if (Buffer.compare(held.id, id) === 0) return 'duplicate';
      // Two different writes signed for one version: a proof against the origin.
      this.o.gate.reportEquivocation(held.envelope, envelope);
      return 'equivocation';
    }
    // At or below the floor the slot was filled and purged; a write for it now is stale (or an
    // equivocation we can no longer prove).
    if (w.version <= rec.floor) return 'stale';
    if (!this.resyncing && w.version > rec.contiguous + this.o.maxPendingVersions) return 'too-far-ahead';
    const now = this.o.clock.now();
    const current = this.store.winner(w.key);
    const stamp = { wall: w.wall, logical: w.logical, origin };
    const winning = wins(stamp, current);
    const deleted = w.value === null;
    this.store.insertWrite({
      origin, version: w.version, key: w.key, wall: w.wall, logical: w.logical, deleted, value: w.value, id, envelope,
      deadSince: winning && !deleted ? null : now,
    });
    if (winning) {
      if (current !== undefined && current.deadSince === null) this.store.markDead(current.origin, current.version, now);
      this.store.setWinner(w.key, origin, w.version);
      this.events.push({ key: w.key, value: w.value, origin: hex, wall: w.wall, logical: w.logical, version: w.version, local: hex === this.selfHex });
    }
    if (w.version === rec.contiguous + 1) this.advance(rec, new Set());
    else this.store.saveOrigin(rec);
    return 'applied';
  }

  private changed(w: StoredWrite, local: boolean): void {
    this.events.push({
      key: w.key, value: w.deleted ? null : w.value, origin: Buffer.from(w.origin).toString('hex'), wall: w.wall, logical: w.logical, version: w.version, local,
    });
  }

  private flushEvents(): void {
    if (this.events.length === 0) return;
    const events = this.events;
    this.events = [];
    if (this.watchers.size === 0) return;
    const me = this.o.link.identity.cert;
    const auth = this.o.authorizer();
    for (const e of events) {
      if (!auth.mayRead(me, e.key)) continue;
      for (const w of this.watchers) if (e.key.startsWith(w.prefix)) w.fn(e);
    }
  }

  private readers(key: string): (p: PeerRecord) => boolean {
    return (p) => this.o.authorizer().mayRead(p.cert, key);
  }

  /** The certificate of a write's origin: a known peer's, ours, or one learned through anti-entropy. */
  private certOf(origin: Uint8Array): PeerCertificate | undefined {
    const hex = Buffer.from(origin).toString('hex');
    if (hex === this.selfHex) return this.o.link.identity.cert;
    const known = this.o.link.peer(hex);
    if (known !== undefined) return known.cert;
    const cached = this.certs.get(hex);
    if (cached !== undefined) return cached;
    const stored = this.origins.get(hex)?.cert;
    if (stored != null && this.learnCert(origin, stored)) return this.certs.get(hex);
    return undefined;
  }

  private checkKey(key: string): void {
    if (typeof key !== 'string' || !KEY_PATTERN.test(key) || Buffer.byteLength(key) > this.o.maxKeyBytes) {
      throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `key ${JSON.stringify(key)} must match ${KEY_PATTERN} and be at most ${this.o.maxKeyBytes} bytes`);
    }
  }

  private refuse(reason: string): void {
    this.refused.inc({ reason });
  }

  /** The node's hybrid logical clock (for tests and diagnostics). */
  clockNow(): Hlc {
    return this.hlc.current();
  }
}
