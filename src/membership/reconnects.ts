/**
 * Getting in and staying in: joining through seeds, asking for the claims we missed, and the
 * low-rate retries that make partitions heal by themselves.
 *
 * - Join. A node with no live member says hello to its seeds; a peer that answers (or any peer
 *   that authenticates to us while we know nobody, or while we are partitioned) gets our ALIVE at
 *   once, so it learns us even if it is too busy to answer, and we pull its whole state
 *   (push-pull), retrying with backoff from 5 probe intervals up to the reconnect interval until
 *   one pull succeeds.
 * - Introductions. A member that contacts us before we hold its ALIVE (gossip reaches a node with
 *   high probability, not certainty; a node that joined late missed earlier rounds) is asked for
 *   it (ALIVE_REQUEST) at the next gossip tick.
 * - Reconnects, every reconnectIntervalMs: forget members dead or gone for deadReapMs, say hello
 *   to the seeds we do not reach, and ping one random dead member with the claim that killed it
 *   (so it can refute); if it answers, the partition between us has healed: push-pull with it.
 *   One small packet per node per interval, whatever the cluster size.
 */
import type { Clock } from '../clock.js';
import type { HearsayConfig } from '../config.js';
import { encodeMessage } from '../link/message-list.js';
import type { Random } from '../random.js';
import { MessageType } from '../wire/messages.js';
import { claimMessage, type Claim } from './claims.js';
import type { MembershipEdge } from './edge.js';
import type { FailureDetector } from './failure-detector.js';
import { OUTBOUND, type MemberTable } from './member-table.js';
import type { PushPull } from './push-pull.js';

/** Non-member peers remembered as ways in, and members asked for their ALIVE, per tick. */
const MAX_CONTACTS = 64;

export const ALIVE_REQUEST_MESSAGE = encodeMessage([MessageType.ALIVE_REQUEST]);

export interface ReconnectsHost {
  isRunning(): boolean;
  isLeaving(): boolean;
  ownClaim(): Claim | null;
  /** Joining (no live member) or cut off (health partitioned): worth a full state pull. */
  needsState(): boolean;
  /** Forget the member at `index` (reaped). */
  forget(index: number): void;
}

export interface ReconnectsOptions {
  readonly edge: MembershipEdge;
  readonly clock: Clock;
  readonly random: Random;
  readonly table: MemberTable;
  readonly detector: FailureDetector;
  readonly pushPull: PushPull;
  readonly host: ReconnectsHost;
  readonly config: Pick<HearsayConfig, 'seeds' | 'probeIntervalMs' | 'reconnectIntervalMs' | 'deadReapMs' | 'streamTimeoutMs'>;
}

export class Reconnects {
  private readonly o: ReconnectsOptions;
  private readonly seedSet: ReadonlySet<string>;
  /** Live (alive or suspect) members at each seed address, to tell which seeds we reach. */
  private readonly seedsLive = new Map<string, number>();
  private readonly contacts = new Set<string>();
  private readonly introductions = new Set<string>();
  private joining = false;
  private backoffMs = 0;
  private nextJoinAt = 0;

  constructor(options: ReconnectsOptions) {
    this.o = options;
    this.seedSet = new Set(options.config.seeds.filter((s) => s !== options.edge.address));
  }

  get seedCount(): number {
    return this.seedSet.size;
  }

  /** Seeds that are alive or suspect members. */
  get seedsReachable(): number {
    let n = 0;
    for (const s of this.seedSet) if ((this.seedsLive.get(s) ?? 0) > 0) n++;
    return n;
  }

  isSeed(address: string): boolean {
    return this.seedSet.has(address);
  }

  /** A live member appeared at `address` (+1) or stopped being live there (-1). */
  addressLive(address: string, delta: number): void {
    if (!this.seedSet.has(address)) return;
    const n = (this.seedsLive.get(address) ?? 0) + delta;
    if (n <= 0) this.seedsLive.delete(address);
    else this.seedsLive.set(address, n);
  }

  contactSeeds(): void {
    for (const s of this.seedSet) if ((this.seedsLive.get(s) ?? 0) === 0) this.o.edge.hello(s);
  }

  /** A peer we do not hold as a member authenticated to us. */
  onContact(idHex: string): void {
    if (!this.o.host.isRunning() || this.o.table.indexOf(idHex) >= 0) return;
    if (this.o.host.needsState()) {
      if (this.contacts.size >= MAX_CONTACTS) this.contacts.delete(this.contacts.values().next().value!);
      this.contacts.add(idHex);
      const own = this.o.host.ownClaim();
      if (own !== null) this.o.edge.send(idHex, [claimMessage(own)]);
      this.backoffMs = 0;
      this.nextJoinAt = 0;
      this.tryJoin();
      return;
    }
    if (this.introductions.size < MAX_CONTACTS) this.introductions.add(idHex);
  }

  /** Every gossip tick: join attempts that are due, and introductions asked for. */
  tick(): void {
    if (this.contacts.size > 0) this.tryJoin();
    if (this.introductions.size > 0) {
      for (const idHex of this.introductions) if (this.o.table.indexOf(idHex) < 0) this.o.edge.send(idHex, [ALIVE_REQUEST_MESSAGE]);
      this.introductions.clear();
    }
  }

  /** Every reconnectIntervalMs. */
  reconnect(): void {
    const h = this.o.host;
    if (!h.isRunning() || h.isLeaving()) return;
    const t = this.o.table;
    const now = this.o.clock.now();
    let pick = -1;
    let seen = 0;
    for (const i of t.indexes()) {
      const state = t.state(i);
      if (state !== 'dead' && state !== 'left') continue;
      if (now - t.changedAt(i) >= this.o.config.deadReapMs) {
        h.forget(i);
        continue;
      }
      // Reservoir sampling: a uniform pick among dead members in one pass.
      if (state === 'dead' && this.o.random.int(++seen) === 0) pick = i;
    }
    this.contactSeeds();
    if (pick < 0) return;
    const to = t.alive(pick);
    const claim = t.stateClaim(pick);
    this.o.detector.ping(to, to.subjectHex, claim === undefined ? [] : [claimMessage(claim)], this.o.config.streamTimeoutMs, () => {
      void this.o.pushPull.exchange(to, to.subjectHex, 'reconnect').then((okay) => {
        const i = t.indexOf(to.subjectHex);
        if (okay && i >= 0) t.setFlag(i, OUTBOUND);
      });
    });
  }

  private tryJoin(): void {
    const h = this.o.host;
    if (!h.isRunning() || h.isLeaving() || this.joining) return;
    const now = this.o.clock.now();
    if (now < this.nextJoinAt) return;
    for (const c of this.contacts) if (this.o.table.indexOf(c) >= 0) this.contacts.delete(c);
    if (!h.needsState() || this.contacts.size === 0) {
      this.contacts.clear();
      return;
    }
    const list = [...this.contacts];
    const target = list[this.o.random.int(list.length)]!;
    this.joining = true;
    // A busy seed (pushPullPerSecond) is retried soon, a dead one rarely.
    const c = this.o.config;
    this.backoffMs = Math.min(c.reconnectIntervalMs, Math.max(c.probeIntervalMs * 5, this.backoffMs * 2));
    this.nextJoinAt = now + this.backoffMs + this.o.random.int(c.probeIntervalMs * 5);
    void this.o.pushPull.exchange(target, target, 'join').then((okay) => {
      this.joining = false;
      if (okay) this.contacts.delete(target);
    });
  }
}
