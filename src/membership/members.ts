/**
 * Membership: who is in the cluster and who is alive, decided only by signed claims (claims.ts),
 * merged by fixed rules (merge.ts), and kept current by SWIM failure detection with Lifeguard's
 * refinements (failure-detector.ts, suspicion.ts, awareness.ts), piggybacked gossip
 * (transmit-queue.ts) and push-pull state sync (push-pull.ts). Every other layer picks its peers
 * here (`selectPeers`).
 *
 * What a liar cannot do, and why:
 * - make a member look alive, left or moved: ALIVE and LEAVE are signed by the member itself, and a
 *   member's address is only ever taken from its own ALIVE;
 * - make a member look dead for good: SUSPECT and DEAD name the member's current incarnation, which
 *   only the member can raise, and it does so to refute (its ALIVE with a higher incarnation then
 *   wins everywhere); each refuted accusation is charged to its signer ('contradicted-claim');
 * - invent members: an ALIVE carries the member's certificate, checked against the authority and
 *   bound to the signing key; accusations about members we do not know are dropped;
 * - replay: superseded claims lose the merge; accusations carry their signing time and arrive in
 *   gossip only while fresh; forgotten members leave a tombstone of their last incarnation;
 * - equivocate: two different ALIVE claims signed for one incarnation are reported as evidence.
 *
 * This class holds the member table and applies claims; the parts live beside it:
 *   failure-detector.ts  probes (PING, PING_REQ, ACK, NACK, TCP fallback), Lifeguard local health
 *   suspicions.ts        suspicion timers, re-check and last-chance pings before a death
 *   claim-gossip.ts      the transmit-limited queue, piggybacking and gossip rounds
 *   push-pull.ts         full-state exchange over a stream; state-snapshot.ts builds and absorbs states
 *   reconnects.ts        joining through seeds, ALIVE_REQUEST introductions, reconnects, reaping
 *   peer-selection.ts    random eligible peers with the outbound share; health.ts partition health
 *   edge.ts              what membership needs from below (link-edge.ts in a node, lite-cluster.ts in
 *                        the large-scale simulator)
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { HearsayConfig } from '../config.js';
import { BoundedCache } from '../link/bounded-cache.js';
import type { PeerRecord } from '../link/link-layer.js';
import type { PeerGate } from '../link/peer-gate.js';
import type { Logger } from '../log.js';
import type { Counter, MetricsRegistry } from '../metrics.js';
import type { Random } from '../random.js';
import { MessageType } from '../wire/messages.js';
import { literal, tuple } from '../wire/schema.js';
import { Awareness } from './awareness.js';
import { claimMessage, incarnationBootMs, startingIncarnation, type Claim } from './claims.js';
import type { MembershipEdge, Sender } from './edge.js';
import { FailureDetector } from './failure-detector.js';
import { assessHealth, type HealthReport } from './health.js';
import { EQUIVOCATION_REPORTED, LocalDirectory, MemberTable, OUTBOUND, type MemberDirectory } from './member-table.js';
import { merge, mergeAboutSelf, type HeldState, type MemberState, type MergeVerdict } from './merge.js';
import { randomLive, selectMembers } from './peer-selection.js';
import { ClaimGossip } from './claim-gossip.js';
import { PushPull } from './push-pull.js';
import { ALIVE_REQUEST_MESSAGE, Reconnects } from './reconnects.js';
import { absorbState, buildSnapshot } from './state-snapshot.js';
import { Suspicions } from './suspicions.js';
import { pushPullInterval } from './timing.js';

export type { MemberState } from './merge.js';
export type { HealthReport, HealthState } from './health.js';

export type MembershipConfig = Pick<HearsayConfig,
  'maxMembers' | 'probeIntervalMs' | 'probeTimeoutMs' | 'indirectChecks' | 'suspicionMult' | 'suspicionMaxTimeoutMult' |
  'retransmitMult' | 'awarenessMaxMultiplier' | 'pushPullIntervalMs' | 'pushPullScaleMembers' | 'pushPullPerSecond' |
  'reconnectIntervalMs' | 'deadReapMs' | 'outboundPeerShare' | 'membershipGossipIntervalMs' | 'membershipGossipFanout' |
  'healthyReachShare' | 'leaveTimeoutMs' | 'seeds' | 'maxClockSkewMs' | 'seenTtlMs' | 'streamTimeoutMs'>;

/** A member as the API shows it: identity from its certificate, state from the claims. */
export interface Member {
  readonly id: Uint8Array;
  readonly idHex: string;
  readonly name: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly address: string;
  readonly state: MemberState;
  readonly incarnation: number;
  /** This node chose it (seed, answered our probe, served our push-pull). */
  readonly outbound: boolean;
}

export type MemberEvent = 'join' | 'alive' | 'suspect' | 'dead' | 'leave';

export interface MembersOptions {
  readonly edge: MembershipEdge;
  readonly clock: Clock;
  readonly random: Random;
  readonly gate: PeerGate;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly config: MembershipConfig;
  /** Boot time in ms: the first incarnation derives from it (claims.ts). */
  readonly epoch: number;
  /** The link-layer record of a member, for `selectPeers` (a node passes `link.peer`). */
  readonly peerOf?: (idHex: string) => PeerRecord | undefined;
  /** Shared by all nodes of a large simulation; a node has its own. */
  readonly directory?: MemberDirectory;
  /** Expected number of members (a simulation's size), to size the table once. */
  readonly capacityHint?: number;
}

const ALIVE_REQUEST_SCHEMA = tuple(literal(MessageType.ALIVE_REQUEST));

/** Accusers whose refuted claims we count (bounded: ids are peer-controlled). */
const MAX_COUNTED_ACCUSERS = 10_000;

export class Members {
  readonly table: MemberTable;
  private readonly o: MembersOptions;
  private readonly c: MembershipConfig;
  private readonly edge: MembershipEdge;
  private readonly selfHex: string;
  private readonly gossip: ClaimGossip;
  private readonly awareness: Awareness;
  private readonly detector: FailureDetector;
  private readonly pushPull: PushPull;
  private readonly suspicions: Suspicions;
  private readonly reconnects: Reconnects;
  /** Last incarnation of forgotten members: an old ALIVE replayed after the reap stays stale. */
  private readonly tombstones: BoundedCache<string, number>;
  private readonly refuted = new Map<string, number>();
  private readonly listeners: Array<(event: MemberEvent, m: Member) => void> = [];
  private readonly healthListeners: Array<(h: HealthReport) => void> = [];
  private readonly claimsCounter: Counter;
  private readonly refutations: Counter;
  private incarnationNow: number;
  private own: Claim | null = null;
  private healthNow: HealthReport;
  private timers: TimerHandle[] = [];
  private running = false;
  private leaving = false;

  constructor(options: MembersOptions) {
    this.o = options;
    this.c = options.config;
    this.edge = options.edge;
    this.selfHex = options.edge.selfIdHex;
    this.table = new MemberTable(options.directory ?? new LocalDirectory(), options.clock.now(), options.capacityHint);
    this.gossip = new ClaimGossip(this.edge, this.table, options.random, this.c);
    this.awareness = new Awareness(options.config.awarenessMaxMultiplier);
    this.tombstones = new BoundedCache(options.config.maxMembers);
    this.incarnationNow = startingIncarnation(options.epoch);
    const m = options.metrics;
    this.claimsCounter = m.counter('hearsay_membership_claims_total', 'Membership claims received, by kind and merge verdict.');
    this.refutations = m.counter('hearsay_membership_refutations_total', 'Accusations of this node it refuted with a new incarnation.');
    m.collectGauge('hearsay_members', 'Members held, by state (this node excluded).', () => {
      const c = this.table.counts;
      return (['alive', 'suspect', 'dead', 'left'] as const).map((state) => ({ labels: { state }, value: c[state] }));
    });
    m.collectGauge('hearsay_membership_local_health_score', 'Lifeguard local health: 0 is healthy; probe and suspicion timeouts are stretched by score + 1.', () => [{ labels: {}, value: this.awareness.score }]);
    m.collectGauge('hearsay_membership_reachable_ratio', 'Share of known members (this node included) that are alive or suspect.', () => [{ labels: {}, value: this.healthNow.reachableShare }]);
    this.detector = new FailureDetector({
      edge: this.edge, clock: options.clock, random: options.random, awareness: this.awareness,
      probeIntervalMs: this.c.probeIntervalMs, probeTimeoutMs: this.c.probeTimeoutMs, indirectChecks: this.c.indirectChecks,
      probes: m.counter('hearsay_membership_probes_total', 'Probes by result: ack, indirect-ack, tcp-ack, failed.'),
      host: {
        table: this.table,
        piggyback: (to, used) => this.gossip.piggyback(to, used),
        probeFailed: (i, inc) => this.probeFailed(i, inc),
        probeAnswered: (i) => this.table.setFlag(i, OUTBOUND),
        ownAliveMessage: () => (this.own === null || this.leaving ? null : claimMessage(this.own)),
        mayProbe: (i) => this.o.gate.isEligible(this.table.identity(i).id),
      },
    });
    this.pushPull = new PushPull({
      edge: this.edge, clock: options.clock, random: options.random, maxMembers: this.c.maxMembers,
      timeoutMs: this.c.streamTimeoutMs, perSecond: this.c.pushPullPerSecond,
      intervalFor: (n) => pushPullInterval(this.c, n),
      counter: m.counter('hearsay_membership_push_pulls_total', 'Push-pull exchanges, by role (periodic, join, reconnect, serve) and result.'),
      host: {
        snapshot: (budget) => {
          const s = buildSnapshot(this.table, this.own, budget);
          if (s.truncated) this.edge.drop('push-pull-truncated');
          return s.claims;
        },
        absorb: (claims, from) => absorbState(claims, {
          table: this.table, selfHex: this.selfHex, own: this.own, limits: this.edge.claimLimits,
          ingest: (bytes) => this.edge.ingest(bytes, from), drop: (reason) => this.edge.drop(reason),
        }),
        memberCount: () => this.table.liveCount,
        randomAlive: () => this.randomAliveClaim(),
      },
    });
    this.suspicions = new Suspicions({
      table: this.table, clock: options.clock, awareness: this.awareness, detector: this.detector, config: this.c,
      host: {
        isRunning: () => this.running,
        declareDead: (i, claim) => this.markDown(i, 'dead', claim),
        signDead: (i, incarnation) => this.edge.sign('dead', [this.table.identity(i).id, incarnation, this.o.clock.now()]),
        challenge: (i) => this.challenge(i),
      },
    });
    this.reconnects = new Reconnects({
      edge: this.edge, clock: options.clock, random: options.random, table: this.table, detector: this.detector,
      pushPull: this.pushPull, config: this.c,
      host: {
        isRunning: () => this.running,
        isLeaving: () => this.leaving,
        ownClaim: () => this.own,
        needsState: () => this.table.liveCount === 0 || this.healthNow.state === 'partitioned',
        forget: (i) => this.forget(i),
      },
    });
    this.edge.onClaim((claim, from) => this.onClaim(claim, from));
    this.edge.onContact((idHex) => this.reconnects.onContact(idHex));
    this.edge.onMessage(MessageType.ALIVE_REQUEST, ALIVE_REQUEST_SCHEMA, (from) => {
      if (this.own !== null && this.running && !this.leaving) this.edge.send(from.idHex, [claimMessage(this.own)]);
    });
    this.healthNow = this.assess();
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  start(): void {
    if (this.running) return;
    this.running = true;
    this.signAlive();
    this.detector.start();
    this.pushPull.start();
    const clock = this.o.clock;
    this.timers.push(clock.setInterval(() => {
      if (!this.running) return;
      this.reconnects.tick();
      this.gossip.push();
    }, this.c.membershipGossipIntervalMs));
    this.timers.push(clock.setInterval(() => this.reconnects.reconnect(), this.c.reconnectIntervalMs));
    this.reconnects.contactSeeds();
    this.updateHealth();
  }

  stop(): void {
    this.running = false;
    this.detector.stop();
    this.pushPull.stop();
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.suspicions.endAll();
  }

  /**
   * Graceful leave: signs a LEAVE for our current incarnation, pings a few members with it attached
   * and waits (at most leaveTimeoutMs) until enough of them acknowledged, so that the leave has
   * started to spread before we go silent. The LEAVE also stays in the gossip queue meanwhile.
   */
  async leave(): Promise<void> {
    if (!this.running || this.leaving) return;
    this.leaving = true;
    const claim = this.edge.sign('leave', [this.incarnationNow]);
    this.enqueue(claim, true);
    const targets = randomLive(this.table, this.c.membershipGossipFanout + this.c.indirectChecks, this.o.random);
    const want = Math.min(targets.length, this.c.membershipGossipFanout);
    if (want === 0 || this.c.leaveTimeoutMs === 0) {
      for (const i of targets) this.edge.send(this.table.alive(i), [claimMessage(claim)]);
      this.stop();
      return;
    }
    await new Promise<void>((resolve) => {
      let acks = 0;
      const timer = this.o.clock.setTimeout(resolve, this.c.leaveTimeoutMs);
      for (const i of targets) {
        const to = this.table.alive(i);
        const sent = this.detector.ping(to, to.subjectHex, [claimMessage(claim)], this.c.leaveTimeoutMs, () => {
          if (++acks >= want) {
            timer.cancel();
            resolve();
          }
        });
        if (!sent) this.edge.send(to, [claimMessage(claim)]);
      }
    });
    this.stop();
  }

  /**
   * Adds members from verified ALIVE claims as if a push-pull had brought them long ago and gossip
   * had finished spreading them: no events, nothing queued. For simulations that start from a
   * formed cluster (a bootstrapped view) instead of paying for N joins.
   */
  preload(claims: readonly Claim[]): void {
    const now = this.o.clock.now();
    for (const claim of claims) {
      if (claim.kind !== 'alive' || claim.subjectHex === this.selfHex || this.table.indexOf(claim.subjectHex) >= 0) continue;
      if (this.table.size >= this.c.maxMembers) break;
      const i = this.table.add(claim.subjectHex, claim.subject, claim, now, this.o.random);
      if (this.reconnects.isSeed(claim.address)) this.table.setFlag(i, OUTBOUND);
      this.reconnects.addressLive(claim.address, +1);
      this.edge.introduce(claim);
    }
    this.healthNow = this.assess();
  }

  // ---- API -------------------------------------------------------------------------------------

  on(listener: (event: MemberEvent, m: Member) => void): void {
    this.listeners.push(listener);
  }

  onHealth(listener: (h: HealthReport) => void): void {
    this.healthListeners.push(listener);
  }

  /** Members other than this node, in every state (dead and left ones until they are forgotten). */
  all(): Member[] {
    return [...this.table.indexes()].map((i) => this.view(i));
  }

  alive(): Member[] {
    const out: Member[] = [];
    for (let p = 0; p < this.table.liveCount; p++) {
      const i = this.table.liveAt(p);
      if (this.table.state(i) === 'alive') out.push(this.view(i));
    }
    return out;
  }

  get(idHex: string): Member | undefined {
    const i = this.table.indexOf(idHex);
    return i < 0 ? undefined : this.view(i);
  }

  /** Our own incarnation (rises with every refutation). */
  get incarnation(): number {
    return this.incarnationNow;
  }

  /** Our signed ALIVE claim in force. */
  get ownClaim(): Claim | null {
    return this.own;
  }

  health(): HealthReport {
    return this.healthNow;
  }

  /** Lifeguard's local health score (0 = healthy). */
  get awarenessScore(): number {
    return this.awareness.score;
  }

  /** How many accusations signed by `idHex` we saw refuted. */
  refutedAccusations(idHex: string): number {
    return this.refuted.get(idHex) ?? 0;
  }

  /**
   * Up to `k` random alive members eligible for gossip (reputation gate) and accepted by `filter`
   * (policy, interest), minus `exclude`, with the outbound share taken first (peer-selection.ts).
   */
  selectPeers(k: number, exclude: ReadonlySet<string> = new Set(), filter?: (p: PeerRecord) => boolean): PeerRecord[] {
    const peerOf = this.o.peerOf;
    if (peerOf === undefined) return [];
    const out: PeerRecord[] = [];
    for (const i of this.selectIndexes(k, exclude, (i) => {
      const p = peerOf(this.table.identity(i).idHex);
      return p !== undefined && p.address !== null && (filter === undefined || filter(p));
    })) {
      out.push(peerOf(this.table.identity(i).idHex)!);
    }
    return out;
  }

  /** `selectPeers` by member, for layers that do not need link records. */
  selectMembers(k: number, exclude: ReadonlySet<string> = new Set(), filter?: (m: Member) => boolean): Member[] {
    return this.selectIndexes(k, exclude, filter === undefined ? undefined : (i) => filter(this.view(i))).map((i) => this.view(i));
  }

  private selectIndexes(k: number, exclude: ReadonlySet<string>, extra?: (i: number) => boolean): number[] {
    const gate = this.o.gate;
    return selectMembers(this.table, k, this.c.outboundPeerShare, (i) => {
      const id = this.table.identity(i);
      if (exclude.has(id.idHex) || !gate.isEligible(id.id) || !gate.mayGossipTo(id.id)) return false;
      return extra === undefined || extra(i);
    }, this.o.random);
  }

  // ---- claims ------------------------------------------------------------------------------------

  /** Every verified claim, from gossip, push-pull, or ourselves, goes through here. */
  private onClaim(claim: Claim, from: Sender | null): void {
    if (claim.subjectHex === this.selfHex) {
      this.onClaimAboutSelf(claim, from);
      return;
    }
    const now = this.o.clock.now();
    if (claim.kind === 'suspect' || claim.kind === 'dead') {
      if (claim.timestamp > now + this.c.maxClockSkewMs) return this.reject(claim, 'future', () => this.o.gate.charge(Buffer.from(claim.originHex, 'hex'), 'future-timestamp', 'accusation'));
      // Honest relays forward an accusation only while it is new to them; one older than the
      // dedup window in a packet was replayed by whoever handed it to us.
      if (from !== null && !from.viaStream && claim.timestamp < now - this.c.seenTtlMs) {
        return this.reject(claim, 'replay', () => this.o.gate.charge(Buffer.from(from.idHex, 'hex'), 'replay', 'old accusation'));
      }
      if (!this.o.gate.isEligible(Buffer.from(claim.originHex, 'hex'))) return this.reject(claim, 'ineligible-accuser');
    } else if (claim.kind === 'alive' && incarnationBootMs(claim.incarnation) > now + this.c.maxClockSkewMs) {
      return this.reject(claim, 'future', () => this.o.gate.charge(Buffer.from(claim.originHex, 'hex'), 'future-timestamp', 'incarnation'));
    }
    const i = this.table.indexOf(claim.subjectHex);
    let verdict: MergeVerdict;
    if (i < 0) {
      const tomb = this.tombstones.get(claim.subjectHex);
      verdict = claim.kind === 'alive' && tomb !== undefined && claim.incarnation <= tomb ? 'stale' : merge(null, claim);
    } else {
      verdict = merge(this.held(i), claim);
    }
    this.claimsCounter.inc({ kind: claim.kind, verdict });
    switch (verdict) {
      case 'join': return this.join(claim);
      case 'apply': return this.apply(i, claim, from);
      case 'confirm': return this.confirm(i, claim);
      case 'equivocation': return this.equivocation(i, claim);
      case 'stale':
        if (i >= 0 && from !== null && !from.viaStream) {
          // Superseded claims cross refutations in flight all the time; one that arrives long after
          // we moved on is a replay by its relay.
          if (now - this.table.changedAt(i) > this.c.seenTtlMs + 1000) this.o.gate.charge(Buffer.from(from.idHex, 'hex'), 'replay', 'stale membership claim');
          this.correct(from.idHex, i);
        }
        return;
      default:
        return;
    }
  }

  private onClaimAboutSelf(claim: Claim, from: Sender | null): void {
    if (from === null || this.leaving || this.own === null) return;
    const verdict = mergeAboutSelf(this.incarnationNow, this.own.idKey, claim);
    this.claimsCounter.inc({ kind: claim.kind, verdict: `self-${verdict}` });
    const accuser = Buffer.from(claim.originHex, 'hex');
    if (verdict === 'stale' && !from.viaStream) {
      // An accusation of an incarnation we already refuted: its sender has not heard. Tell it.
      this.edge.send(from.idHex, [claimMessage(this.own)]);
      return;
    }
    if (verdict === 'unverifiable') {
      // An accusation of an incarnation we never published: its signer made it up.
      this.o.gate.charge(accuser, 'contradicted-claim', 'accused an incarnation never published');
      return;
    }
    if (verdict !== 'refute') return;
    if (claim.kind === 'suspect' || claim.kind === 'dead') {
      this.countRefuted(claim.originHex);
      // Lifeguard: having to refute is a sign that our own probes or acks are not getting through.
      this.awareness.apply(1);
    }
    this.refutations.inc();
    this.incarnationNow = Math.max(this.incarnationNow, claim.incarnation) + 1;
    this.signAlive(true);
    // The accused may be the last to hear of it; push the refutation at once to whoever told us.
    if (from !== null && this.own !== null) this.edge.send(from.idHex, [claimMessage(this.own)]);
  }

  /**
   * Whoever handed us a superseded claim missed the newer one (at 10% loss an epidemic misses a
   * node now and then): send it what we hold, so it stops acting on an old incarnation, e.g. timing
   * out a suspicion the member refuted long ago. Only to the sender, so nothing is amplified.
   */
  private correct(toHex: string, i: number): void {
    const t = this.table;
    const msgs = [claimMessage(t.alive(i))];
    const stateClaim = t.stateClaim(i);
    if (t.state(i) !== 'alive' && stateClaim !== undefined) msgs.push(claimMessage(stateClaim));
    this.edge.send(toHex, msgs);
  }

  private held(i: number): HeldState {
    const t = this.table;
    const alive = t.alive(i);
    const state = t.state(i);
    return {
      state,
      aliveIncarnation: alive.incarnation,
      leftIncarnation: state === 'left' ? t.stateClaim(i)!.incarnation : alive.incarnation,
      aliveId: alive.idKey,
    };
  }

  private join(claim: Claim): void {
    if (this.table.size >= this.c.maxMembers) return this.reject(claim, 'members-full');
    if (!this.o.gate.isEligible(claim.subject)) return this.reject(claim, 'ineligible');
    this.tombstones.delete(claim.subjectHex);
    const i = this.table.add(claim.subjectHex, claim.subject, claim, this.o.clock.now(), this.o.random);
    if (this.reconnects.isSeed(claim.address)) this.table.setFlag(i, OUTBOUND);
    this.reconnects.addressLive(claim.address, +1);
    this.edge.introduce(claim);
    this.enqueue(claim);
    this.emit('join', i);
  }

  private apply(i: number, claim: Claim, from: Sender | null): void {
    const t = this.table;
    const before = t.state(i);
    const now = this.o.clock.now();
    switch (claim.kind) {
      case 'alive': {
        // A newer incarnation: every accusation of an older one is refuted.
        this.chargeAccusers(i);
        this.suspicions.end(i);
        if (before === 'alive' || before === 'suspect') this.reconnects.addressLive(t.alive(i).address, -1);
        t.refresh(i, claim, now, this.o.random);
        this.reconnects.addressLive(claim.address, +1);
        if (this.reconnects.isSeed(claim.address)) t.setFlag(i, OUTBOUND);
        this.edge.introduce(claim);
        // A newer incarnation is only ever signed to refute an accusation (or after a restart):
        // urgent, even where we never heard the accusation, since others are timing it out. Only
        // first sightings (join) wait their turn behind accusations.
        this.enqueue(claim, true);
        // Back from suspicion or death: 'alive'; back after a graceful leave: a new 'join'.
        if (before !== 'alive') this.emit(before === 'left' ? 'join' : 'alive', i);
        return;
      }
      case 'suspect':
        this.startSuspicion(i, claim, null);
        this.enqueue(claim);
        return;
      case 'dead':
        if (from !== null && from.viaStream && before === 'alive') {
          // memberlist's rule for push-pull: a peer's verdict is not our own observation. Whoever
          // declared it dead may have been on the far side of a partition that has just healed;
          // treat it as a suspicion (the member gets the claim to refute) and apply it only if
          // nobody refutes within the suspicion timeout.
          this.startSuspicion(i, claim, claim);
          this.edge.send(t.alive(i), [claimMessage(claim)]);
          return;
        }
        this.markDown(i, 'dead', claim);
        return;
      case 'leave':
        this.markDown(i, 'left', claim);
        return;
    }
  }

  private markDown(i: number, state: 'dead' | 'left', claim: Claim): void {
    const t = this.table;
    const before = t.state(i);
    this.suspicions.end(i);
    if (before === 'alive' || before === 'suspect') this.reconnects.addressLive(t.alive(i).address, -1);
    t.mark(i, state, claim, this.o.clock.now(), this.o.random);
    this.enqueue(claim, state === 'left');
    this.emit(state === 'dead' ? 'dead' : 'leave', i);
  }

  private startSuspicion(i: number, claim: Claim, heldDead: Claim | null): void {
    this.suspicions.start(i, claim, heldDead);
    // A DEAD held back from a push-pull stands in as the claim behind the suspicion.
    this.table.mark(i, 'suspect', claim, this.o.clock.now(), this.o.random);
    this.emit('suspect', i);
  }

  private confirm(i: number, claim: Claim): void {
    // A new independent confirmation shortens the timeout everywhere: pass it on.
    if (this.suspicions.confirm(i, claim.originHex)) this.enqueue(claim);
  }

  /**
   * What a re-check ping carries (suspicions.ts): the accusation (so the member refutes if it has
   * not heard of it) and a request for its current ALIVE (in case it refuted already: it has seen
   * the accusation, so a second copy would be dropped as a duplicate before it could answer).
   */
  private challenge(i: number): Uint8Array[] {
    const accusation = this.table.stateClaim(i);
    return accusation === undefined ? [ALIVE_REQUEST_MESSAGE] : [ALIVE_REQUEST_MESSAGE, claimMessage(accusation)];
  }

  /** A newer ALIVE is replacing an accused incarnation: everyone who accused it was wrong. */
  private chargeAccusers(i: number): void {
    const t = this.table;
    const state = t.state(i);
    if (state === 'alive' || state === 'left') return;
    const accusers = new Set<string>(this.suspicions.accusers(i));
    const claim = t.stateClaim(i);
    if (claim !== undefined) accusers.add(claim.originHex);
    for (const a of accusers) {
      if (a === this.selfHex) continue;
      this.countRefuted(a);
      this.o.gate.charge(Buffer.from(a, 'hex'), 'contradicted-claim', 'accusation refuted by a newer incarnation');
    }
  }

  private countRefuted(accuserHex: string): void {
    if (!this.refuted.has(accuserHex) && this.refuted.size >= MAX_COUNTED_ACCUSERS) return;
    this.refuted.set(accuserHex, (this.refuted.get(accuserHex) ?? 0) + 1);
  }

  private equivocation(i: number, claim: Claim): void {
    const t = this.table;
    if (t.hasFlag(i, EQUIVOCATION_REPORTED)) return;
    t.setFlag(i, EQUIVOCATION_REPORTED);
    this.o.logger.warn({ peer: claim.subjectHex.slice(0, 12), incarnation: claim.incarnation }, 'two different ALIVE claims signed for one incarnation');
    this.o.gate.reportEquivocation(t.alive(i).bytes, claim.bytes);
  }

  private reject(claim: Claim, reason: string, charge?: () => void): void {
    this.claimsCounter.inc({ kind: claim.kind, verdict: reason });
    charge?.();
  }

  // ---- our own claims ----------------------------------------------------------------------------

  /** `refutation`: the claim answers an accusation, so it goes ahead of queued news (transmit-queue.ts). */
  private signAlive(refutation = false): void {
    this.own = this.edge.sign('alive', [this.incarnationNow, this.edge.address, this.edge.selfCertBytes]);
    this.enqueue(this.own, refutation);
  }

  private probeFailed(i: number, incarnation: number): void {
    if (!this.running || !this.table.has(i) || !this.table.isLive(i)) return;
    if (this.table.alive(i).incarnation !== incarnation) return;
    const claim = this.edge.sign('suspect', [this.table.identity(i).id, incarnation, this.o.clock.now()]);
    this.onClaim(claim, null);
  }

  // ---- dissemination -----------------------------------------------------------------------------

  private enqueue(claim: Claim, urgent = false): void {
    this.gossip.enqueue(claim, urgent);
  }

  private randomAliveClaim(): Claim | null {
    const [i] = this.selectIndexes(1, new Set());
    return i === undefined ? null : this.table.alive(i);
  }

  // ---- reaping, health, events ------------------------------------------------------------------

  private forget(i: number): void {
    const t = this.table;
    const id = t.identity(i);
    const claim = t.stateClaim(i);
    this.tombstones.set(id.idHex, Math.max(t.alive(i).incarnation, claim?.incarnation ?? 0));
    this.gossip.forget(id.idHex);
    t.remove(i);
    this.edge.forget(id.idHex);
    this.updateHealth();
  }

  private assess(): HealthReport {
    const c = this.table.counts;
    const r = this.reconnects;
    // Before the constructor has built `reconnects`: no seeds reachable yet.
    const seeds = r === undefined ? this.c.seeds.filter((s) => s !== this.edge.address).length : r.seedCount;
    const seedsReachable = r === undefined ? 0 : r.seedsReachable;
    return assessHealth({ alive: c.alive, suspect: c.suspect, dead: c.dead, seeds, seedsReachable }, this.c.healthyReachShare);
  }

  private updateHealth(): void {
    const h = this.assess();
    const changed = h.state !== this.healthNow.state;
    this.healthNow = h;
    if (changed && this.running) {
      this.o.logger.info({ health: h.state, reachable: h.reachableShare.toFixed(2) }, 'membership health changed');
      for (const l of this.healthListeners) l(h);
    }
  }

  private emit(event: MemberEvent, i: number): void {
    this.updateHealth();
    if (this.listeners.length === 0) return;
    const m = this.view(i);
    for (const l of this.listeners) l(event, m);
  }

  private view(i: number): Member {
    const t = this.table;
    const id = t.identity(i);
    const alive = t.alive(i);
    const cert = alive.cert!;
    const state = t.state(i);
    return {
      id: id.id, idHex: id.idHex, name: cert.name, tenant: cert.tenant, roles: cert.roles, address: alive.address, state,
      incarnation: state === 'left' ? t.stateClaim(i)!.incarnation : alive.incarnation, outbound: t.hasFlag(i, OUTBOUND),
    };
  }
}

