/**
 * The reputation engine: the `PeerGate` every layer reports to, the owner of every peer's score,
 * bans and proofs of equivocation, and the query and override API the admin API serves.
 *
 * Per packet it only does in-memory map operations (peer-table.ts): `isBlocked`, `mayGossipTo`
 * and `isEligible` read an index; `charge` and `credit` update one peer's counters and, when a
 * threshold is crossed, the index. Once per tick (`reputationTickMs`) it lets scores decay (a
 * recovered peer regains gossip and selection), expires bans, and writes everything that changed
 * in one SQLite transaction (store.ts). Scores, bans and evidence survive a restart.
 *
 * Accountability is the callers' (ARCHITECTURE.md): the link sender answers for what it forwards,
 * the origin for what it signed, and only authenticated peers are ever charged.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { HearsayConfig } from '../config.js';
import { HearsayError } from '../errors.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import type { PeerGate, Offense } from '../link/peer-gate.js';
import { shortId, silentLogger, type Logger } from '../log.js';
import { MetricsRegistry, type Counter } from '../metrics.js';
import type { EnvelopeRouter } from '../link/envelope-router.js';
import type { LinkLayer, PeerRecord } from '../link/link-layer.js';
import type { CertificateVerifier } from '../link/peer-certificate.js';
import { EvidenceGossip } from './evidence-gossip.js';
import { isForgeryOutcome, ProofBook, type ProofOutcome } from './proof-book.js';
import { DEFAULT_REPUTATION_PARAMS, resolveReputationParams, type ReputationParams } from './params.js';
import { hexOf, PeerTable, type BanState, type PeerState } from './peer-table.js';
import { ReputationQueries } from './queries.js';
import { addOne, COMPONENT_COUNT, COMPONENTS, componentIndex, CREDIT, decayCounters, findComponent, Level, LEVELS, levelOf, scoreOfCounters } from './score.js';
import { slotRegistry, type SlotRegistry } from './slots.js';
import { MAX_DETAIL, PendingWrites } from './pending-writes.js';
import { ReputationStore, type BanSource, type EventType, type StoredEvidence, type StoreLimits } from './store.js';

export interface ReputationEngineOptions {
  readonly clock: Clock;
  /** A folder for `reputation.sqlite`, or ':memory:' (simulations). */
  readonly dataDir: string;
  readonly tickMs: number;
  readonly limits: StoreLimits;
  readonly backend: SignatureBackend;
  readonly params?: ReputationParams;
  readonly slots?: SlotRegistry;
  readonly metrics?: MetricsRegistry;
  readonly logger?: Logger;
  /** Our own id: nothing we receive can charge or ban it. Set later by `setSelf` if unknown now. */
  readonly self?: Uint8Array;
  /** Verifies an origin certificate carried in a proof; returns the certified node id or null. */
  readonly verifyCertificate?: (certBytes: Uint8Array, now: number) => Uint8Array | null;
  /** The certificate bytes we hold for an origin, for proofs we detect ourselves. */
  readonly certificateOf?: (originHex: string) => Uint8Array | undefined;
}

/** What a running node gives the engine (Node.start): the network side of evidence. */
export interface AttachOptions {
  readonly link: LinkLayer;
  readonly router: EnvelopeRouter;
  /** Checks origin certificates carried in proofs (authority signature, validity, revocation). */
  readonly verifier: CertificateVerifier;
  /** Random eligible peers (membership's peer selection). */
  readonly selectPeers: (k: number) => PeerRecord[];
  readonly fanout: number;
  readonly streamTimeoutMs: number;
}

export type { ProofOutcome };

/** Pruning, and persisting credit-only changes, happen once a minute (in that tick's transaction). */
const SLOW_PERIOD_MS = 60_000;
const ID_PATTERN = /^[0-9a-f]{64}$/;

export class ReputationEngine implements PeerGate {
  readonly params: ReputationParams;
  readonly store: ReputationStore;
  /** Read side for the admin API (queries.ts). */
  readonly query: ReputationQueries;
  private readonly o: ReputationEngineOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly slots: SlotRegistry;
  readonly table: PeerTable;
  private selfHex: string;
  private timer: TimerHandle | null = null;
  private closed = false;
  private gossip: EvidenceGossip | null = null;
  private verifyCertificate: ((certBytes: Uint8Array, now: number) => Uint8Array | null) | undefined;
  private certificateOf: ((originHex: string) => Uint8Array | undefined) | undefined;
  private ticks = 0;
  private readonly slowEvery: number;

  /** Writes waiting for the next tick's transaction. */
  private readonly writes: PendingWrites;

  private readonly proofs: ProofBook;
  private readonly tickListeners: Array<(now: number) => void> = [];

  private readonly offenses: Counter;
  private readonly storeErrors: Counter;

  /** Builds the engine a node uses by default, from its config (dataDir, reputation fields). */
  static fromConfig(c: Readonly<HearsayConfig>, deps: { clock: Clock; backend: SignatureBackend; metrics?: MetricsRegistry; logger?: Logger }): ReputationEngine {
    return new ReputationEngine({
      ...deps,
      dataDir: c.dataDir,
      tickMs: c.reputationTickMs,
      limits: limitsFromConfig(c),
      params: resolveReputationParams({ equivocationBanMs: c.equivocationBanMs }),
    });
  }

  constructor(options: ReputationEngineOptions) {
    this.o = options;
    this.clock = options.clock;
    this.params = options.params ?? DEFAULT_REPUTATION_PARAMS;
    if (!Object.isFrozen(this.params)) throw new HearsayError('HEARSAY_ERR_REPUTATION_PARAMS', 'reputation parameters must come from resolveReputationParams (validated and frozen)');
    const l = options.limits;
    if (!(l.maxBans < l.maxPeers)) throw new HearsayError('HEARSAY_ERR_REPUTATION_PARAMS', `reputation limit "maxBans" (${l.maxBans}) must be below "maxPeers" (${l.maxPeers})`);
    this.log = (options.logger ?? silentLogger).child({ module: 'reputation' });
    this.slots = options.slots ?? slotRegistry;
    this.selfHex = options.self === undefined ? '' : hexOf(options.self);
    this.verifyCertificate = options.verifyCertificate;
    this.certificateOf = options.certificateOf;
    this.slowEvery = Math.max(1, Math.round(SLOW_PERIOD_MS / options.tickMs));
    const m = options.metrics ?? new MetricsRegistry();
    this.offenses = m.counter('hearsay_reputation_offenses_total', 'Offenses charged to peers, by offense.');
    this.storeErrors = m.counter('hearsay_reputation_store_errors_total', 'Reputation store writes that failed.');
    this.writes = new PendingWrites(m.counter('hearsay_reputation_events_dropped_total', 'Audit events dropped because too many were pending.'));
    m.collectGauge('hearsay_reputation_peers', 'Peers tracked by the reputation engine, by level.', () =>
      LEVELS.map((name, i) => ({ labels: { level: name }, value: this.table.countByLevel()[i]! })));
    this.table = new PeerTable(l.maxPeers, (p) => this.writes.forget(p));
    this.proofs = new ProofBook({
      backend: options.backend, slots: this.slots, maxEvidence: l.maxEvidence, log: this.log,
      outcomes: m.counter('hearsay_reputation_proofs_total', 'Proofs of equivocation handled, by outcome.'),
      now: () => this.clock.now(),
      selfHex: () => this.selfHex,
      certifiedId: (bytes, now) => (this.verifyCertificate === undefined ? undefined : this.verifyCertificate(bytes, now)),
      certificateOf: (hex) => this.certificateOf?.(hex),
      accepted: (rec) => this.onAccepted(rec),
      refused: (from, reason) => this.event(from === 'unknown' ? null : from, 'evidence-rejected', null, reason, null, this.clock.now()),
    });
    this.store = ReputationStore.open(options.dataDir, l);
    try {
      this.load();
    } catch (e) {
      this.store.close();
      throw e;
    }
    this.query = new ReputationQueries(this, this.store);
  }

  // ---------------------------------------------------------------------------------------------
  // PeerGate: the hot path

  isBlocked(peerId: Uint8Array): boolean {
    return this.table.levelOfId(peerId) >= Level.GRAYLISTED;
  }

  mayGossipTo(peerId: Uint8Array): boolean {
    return this.table.levelOfId(peerId) === Level.OK;
  }

  isEligible(peerId: Uint8Array): boolean {
    return this.table.levelOfId(peerId) < Level.EVICTED;
  }

  charge(peerId: Uint8Array, offense: Offense, detail = ''): void {
    if (this.closed) return;
    const i = findComponent(offense);
    // A JavaScript caller could pass any string; an unknown offense is a bug, not a reason to throw on the receive path.
    if (i === undefined || i === CREDIT) return;
    const hex = hexOf(peerId);
    if (hex === this.selfHex) return;
    this.penalise(hex, i, offense, detail, this.clock.now());
  }

  credit(peerId: Uint8Array): void {
    if (this.closed) return;
    const hex = hexOf(peerId);
    if (hex === this.selfHex) return;
    const now = this.clock.now();
    const p = this.table.getOrCreate(hex, now);
    addOne(p, CREDIT, this.params, now, p.counters);
    p.at = now;
    p.lastSeen = now;
    p.score = scoreOfCounters(p.counters, this.params);
    this.writes.credit(p);
    if (p.level !== Level.OK) this.updateLevel(p, now);
  }

  reportEquivocation(first: Uint8Array, second: Uint8Array): void {
    if (this.closed) return;
    this.proofs.check(first, second, null, 'self');
  }

  // ---------------------------------------------------------------------------------------------
  // Evidence

  /**
   * A proof received from the network, from `sender` (the authenticated link sender; null when
   * unknown) inside an EVIDENCE envelope signed by `reporter`. Never throws.
   */
  receiveEvidence(first: Uint8Array, second: Uint8Array, cert: Uint8Array, sender: Uint8Array | null, reporter: Uint8Array | null): ProofOutcome {
    if (this.closed) return 'known';
    const from = sender === null ? (reporter === null ? 'unknown' : hexOf(reporter)) : hexOf(sender);
    const outcome = this.proofs.check(first, second, cert, from);
    if (isForgeryOutcome(outcome)) {
      const detail = `proof refused: ${outcome}`;
      const now = this.clock.now();
      if (sender !== null) this.penalise(hexOf(sender), componentIndex('forged-evidence'), 'forged-evidence', detail, now);
      // The reporter signed the EVIDENCE envelope: it answers for it too, if it is someone else.
      if (reporter !== null && (sender === null || Buffer.compare(reporter, sender) !== 0)) {
        const r = hexOf(reporter);
        if (r !== this.selfHex) this.penalise(r, componentIndex('forged-evidence'), 'forged-evidence', detail, now);
      }
    }
    return outcome;
  }

  /** Accepted proofs held in memory, newest first (bounded by maxEvidence), for gossip to new peers. */
  recentEvidence(limit: number): StoredEvidence[] {
    return this.proofs.recent(limit);
  }

  /** Called with every newly accepted proof (the evidence gossip pushes it). */
  onProof(listener: (e: StoredEvidence) => void): void {
    this.proofs.onProof(listener);
  }

  /** Called after every tick. */
  onTick(listener: (now: number) => void): void {
    this.tickListeners.push(listener);
  }

  /** Our own id, once the identity is known (node start). */
  setSelf(id: Uint8Array): void {
    this.selfHex = hexOf(id);
  }

  // ---------------------------------------------------------------------------------------------
  // Admin overrides: each goes through here, with a reason, and is logged as an event.

  ban(peer: string | Uint8Array, options: { reason: string; durationMs?: number }): BanState {
    const hex = this.checkTarget(peer);
    const reason = checkReason(options.reason);
    const duration = options.durationMs ?? 24 * 3_600_000;
    if (!Number.isSafeInteger(duration) || duration < 1000 || duration > 365 * 86_400_000) {
      throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `ban duration must be an integer from 1000 ms to 365 days (got ${duration})`);
    }
    const now = this.clock.now();
    const p = this.table.getOrCreate(hex, now);
    const ban: BanState = { until: now + duration, reason, source: 'admin', createdAt: now, evidence: null };
    this.setBan(p, ban, now);
    return ban;
  }

  /** Lifts a ban (of any source; the evidence stays stored). Returns whether there was one. */
  unban(peer: string | Uint8Array, options: { reason: string }): boolean {
    const hex = this.checkTarget(peer);
    const reason = checkReason(options.reason);
    const p = this.table.get(hex);
    if (p === undefined || p.ban === null) return false;
    this.clearBan(p, `admin: ${reason}`, this.clock.now());
    return true;
  }

  /** Zeroes a peer's counters (not its ban). Returns whether the peer was known. */
  reset(peer: string | Uint8Array, options: { reason: string }): boolean {
    const hex = this.checkTarget(peer);
    const reason = checkReason(options.reason);
    const p = this.table.get(hex);
    if (p === undefined) return false;
    const now = this.clock.now();
    p.counters.fill(0);
    p.at = now;
    p.score = 0;
    this.table.decaying.delete(p);
    if (p.ban !== null) this.table.decaying.add(p);
    this.writes.peer(p);
    this.event(hex, 'reset', null, `admin: ${reason}`, 0, now);
    this.log.info({ peer: shortId(hex), reason }, 'reputation reset by admin');
    this.updateLevel(p, now);
    return true;
  }

  private checkTarget(peer: string | Uint8Array): string {
    const hex = typeof peer === 'string' ? peer.toLowerCase() : hexOf(peer);
    if (!ID_PATTERN.test(hex)) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', 'a peer id is 64 hex characters (an Ed25519 public key)');
    if (hex === this.selfHex) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', 'a node cannot ban, unban or reset itself');
    if (this.closed) throw new HearsayError('HEARSAY_ERR_STOPPED', 'the reputation engine is closed');
    return hex;
  }

  // ---------------------------------------------------------------------------------------------
  // Reads used by the query API, tests and simulations

  /** The current (decayed) score of a peer; 0 for unknown peers. */
  scoreOf(peer: string | Uint8Array): number {
    const p = this.table.get(typeof peer === 'string' ? peer : hexOf(peer));
    if (p === undefined) return 0;
    return scoreOfCounters(decayCounters(p, this.params, this.clock.now()), this.params);
  }

  levelOf(peer: string | Uint8Array): Level {
    return typeof peer === 'string' ? this.table.levelOfHex(peer) : this.table.levelOfId(peer);
  }

  peerState(hex: string): Readonly<PeerState> | undefined {
    return this.table.get(hex);
  }

  now(): number {
    return this.clock.now();
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Wires the engine into a starting node: our own id, certificate checks for proofs, evidence
   * gossip over the link and router, and the tick timer. Once per engine.
   */
  attach(o: AttachOptions): void {
    if (this.gossip !== null) throw new HearsayError('HEARSAY_ERR_INTERNAL', 'a reputation engine serves one node: attach() called twice');
    if (this.closed) throw new HearsayError('HEARSAY_ERR_STOPPED', 'the reputation engine is closed');
    this.setSelf(o.link.identity.nodeId);
    this.verifyCertificate = (bytes, now) => {
      const r = o.verifier.verify(bytes, now);
      return r.ok ? r.value.nodeId : null;
    };
    this.certificateOf = (hex) => o.link.peer(hex)?.certBytes;
    this.gossip = new EvidenceGossip(this, {
      link: o.link, router: o.router, backend: this.o.backend, clock: this.clock, selectPeers: o.selectPeers, fanout: o.fanout, streamTimeoutMs: o.streamTimeoutMs,
    });
    this.start();
  }

  /** Starts the tick timer (node start). Idempotent. */
  start(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = this.clock.setInterval(() => this.tick(), this.o.tickMs);
  }

  /**
   * One tick: decay (recovery), ban expiry, then every write since the last tick in one
   * transaction (with the pruning once a minute). Public for tests and benchmarks.
   */
  tick(): void {
    if (this.closed) return;
    const now = this.clock.now();
    this.ticks++;
    for (const p of [...this.table.decaying]) {
      decayCounters(p, this.params, now, p.counters);
      p.at = now;
      p.score = scoreOfCounters(p.counters, this.params);
      if (p.ban !== null && p.ban.until <= now) this.clearBan(p, 'expired', now);
      else this.updateLevel(p, now);
      if (p.ban === null && !hasPenalty(p.counters)) this.table.decaying.delete(p);
    }
    this.flush(this.ticks % this.slowEvery === 0);
    for (const l of this.tickListeners) l(now);
  }

  /**
   * Commits pending writes now. The tick calls it; the query API calls it before reading the
   * audit log, so reads see everything logged so far. `slow` adds credit-only changes and pruning.
   */
  flush(slow = false): void {
    if (this.closed) return;
    const now = this.clock.now();
    const { batch, committed } = this.writes.batch(now, slow);
    try {
      this.store.commit(batch);
    } catch (e) {
      // The state is still in memory and a later tick writes it; pending events are bounded meanwhile.
      this.storeErrors.inc();
      this.log.error({ err: (e as Error).message }, 'reputation store write failed');
      return;
    }
    committed();
    if (slow) this.pruneMemory(now);
  }

  /** Stops the timer, writes what is pending (credits included) and closes the store. */
  close(): void {
    if (this.closed) return;
    this.timer?.cancel();
    this.timer = null;
    this.gossip?.stop();
    this.flush(true);
    this.closed = true;
    this.store.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  /** A proof accepted (proof-book.ts): store it, charge and ban its origin. */
  private onAccepted(rec: StoredEvidence): void {
    const now = this.clock.now();
    const from = rec.reporter === 'self' ? 'self' : shortId(rec.reporter);
    this.writes.proof(rec);
    this.event(rec.origin, 'evidence', 'equivocation', `kind ${rec.kind}, proof ${rec.id.slice(0, 16)}, from ${from}`, null, now);
    const p = this.table.getOrCreate(rec.origin, now);
    this.penaliseState(p, componentIndex('equivocation'), 'equivocation', `proof ${rec.id.slice(0, 16)}`, now);
    this.setBan(p, { until: now + this.params.equivocationBanMs, reason: `equivocation (kind ${rec.kind})`, source: 'equivocation', createdAt: now, evidence: rec.id }, now);
    this.log.warn({ peer: shortId(rec.origin), proof: rec.id, kind: rec.kind, from }, 'proof of equivocation: origin banned');
  }

  private penalise(hex: string, i: number, offense: Offense, detail: string, now: number): void {
    this.penaliseState(this.table.getOrCreate(hex, now), i, offense, detail, now);
  }

  private penaliseState(p: PeerState, i: number, offense: Offense, detail: string, now: number): void {
    addOne(p, i, this.params, now, p.counters);
    p.at = now;
    p.lastSeen = now;
    p.score = scoreOfCounters(p.counters, this.params);
    this.writes.peer(p);
    this.table.decaying.add(p);
    this.offenses.inc({ offense });
    this.writes.offense(p, offense, detail, now);
    if (p.score < this.params.thresholds.ban && p.ban === null) {
      this.setBan(p, { until: now + this.params.scoreBanMs, reason: `score ${p.score.toFixed(1)} below the ban threshold`, source: 'score', createdAt: now, evidence: null }, now);
    }
    this.updateLevel(p, now);
  }

  private updateLevel(p: PeerState, now: number): void {
    const level = levelOf(p.score, this.params.thresholds, p.ban !== null);
    if (level === p.level) return;
    const from = p.level;
    this.table.setLevel(p, level);
    this.writes.peer(p);
    this.event(p.id, 'threshold', null, `${LEVELS[from]} -> ${LEVELS[level]}`, p.score, now);
    const fields = { peer: shortId(p.id), score: Number(p.score.toFixed(2)), from: LEVELS[from], to: LEVELS[level] };
    if (level > from && level >= Level.EVICTED) this.log.warn(fields, 'peer crossed a reputation threshold');
    else this.log.info(fields, 'peer changed reputation level');
  }

  private setBan(p: PeerState, ban: BanState, now: number): void {
    if (p.ban === null && this.table.banned.size >= this.o.limits.maxBans) this.dropSoonestBan(now);
    p.ban = ban;
    this.table.banned.add(p);
    this.table.decaying.add(p);
    this.writes.ban({ id: p.id, ...ban });
    this.writes.peer(p);
    this.event(p.id, 'ban', null, `${ban.source}: ${ban.reason}, until ${new Date(ban.until).toISOString()}`, p.score, now);
    this.log.warn({ peer: shortId(p.id), source: ban.source, reason: ban.reason, until: ban.until }, 'peer banned');
    this.updateLevel(p, now);
  }

  private clearBan(p: PeerState, reason: string, now: number): void {
    p.ban = null;
    this.table.banned.delete(p);
    this.writes.unban(p.id);
    this.writes.peer(p);
    this.event(p.id, 'unban', null, reason, p.score, now);
    this.log.info({ peer: shortId(p.id), reason }, 'peer unbanned');
    this.updateLevel(p, now);
  }

  private dropSoonestBan(now: number): void {
    let soonest: PeerState | undefined;
    for (const b of this.table.banned) if (soonest === undefined || b.ban!.until < soonest.ban!.until) soonest = b;
    if (soonest !== undefined) this.clearBan(soonest, 'dropped: too many bans', now);
  }

  private event(peer: string | null, type: EventType, offense: string | null, detail: string, score: number | null, at: number): void {
    this.writes.event(peer, type, offense, detail, score, at);
  }

  /** Forgets neutral peers not seen within the retention period (the store prunes its rows alike). */
  private pruneMemory(now: number): void {
    const cutoff = now - this.o.limits.retentionMs;
    for (const p of [...this.table.values()]) {
      if (p.lastSeen >= cutoff) break; // LRU order: everyone after this was active more recently
      if (p.level === Level.OK && p.ban === null && !this.table.decaying.has(p) && Math.abs(p.score) < 0.5) {
        this.table.delete(p);
        this.writes.forget(p);
      }
    }
  }

  private load(): void {
    const now = this.clock.now();
    const names = new Map<string, number>(COMPONENTS.map((c, i) => [c, i]));
    // The store returns the most recently seen first; restore the quietest first (LRU order).
    for (const s of this.store.loadPeers().reverse()) {
      const counters = new Float64Array(COMPONENT_COUNT);
      for (const [k, v] of Object.entries(s.counters)) {
        const i = names.get(k);
        if (i !== undefined) counters[i] = v;
      }
      const p: PeerState = { id: s.id, counters, at: s.countersAt, score: 0, level: Level.OK, firstSeen: s.firstSeen, lastSeen: s.lastSeen, ban: null, tickEvents: 0, suppressed: 0 };
      // Scores decayed while we were down, exactly as if we had been running.
      decayCounters(p, this.params, now, p.counters);
      p.at = now;
      p.score = scoreOfCounters(p.counters, this.params);
      p.level = levelOf(p.score, this.params.thresholds, false);
      this.table.restore(p);
      if (hasPenalty(p.counters)) this.table.decaying.add(p);
    }
    for (const b of this.store.loadBans(now)) {
      let p = this.table.get(b.id);
      if (p === undefined) {
        p = this.table.getOrCreate(b.id, now);
      }
      p.ban = { until: b.until, reason: b.reason, source: b.source, createdAt: b.createdAt, evidence: b.evidence };
      this.table.banned.add(p);
      this.table.decaying.add(p);
      this.table.setLevel(p, Level.BANNED);
    }
    for (const e of this.store.evidence(this.o.limits.maxEvidence).reverse()) this.proofs.restore(e);
  }
}

function hasPenalty(c: Float64Array): boolean {
  for (let i = 0; i < CREDIT; i++) if (c[i]! > 0) return true;
  return false;
}

function checkReason(reason: unknown): string {
  if (typeof reason !== 'string' || reason.trim().length === 0 || reason.length > MAX_DETAIL) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `an admin override needs a reason of 1 to ${MAX_DETAIL} characters`);
  }
  return reason.trim();
}

/** Store bounds from the config (see the reasons there). */
export function limitsFromConfig(c: Readonly<HearsayConfig>): StoreLimits {
  return {
    maxPeers: c.reputationMaxPeers,
    maxEvents: c.reputationMaxEvents,
    // Bans are a fraction of the peers, so a full ban table never crowds out every other peer.
    maxBans: Math.max(1, Math.floor(c.reputationMaxPeers / 4)),
    maxEvidence: c.reputationMaxEvidence,
    retentionMs: c.reputationRetentionMs,
  };
}

export type { BanSource };
