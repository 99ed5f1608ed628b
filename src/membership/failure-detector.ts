/**
 * SWIM failure detection with Lifeguard's refinements (memberlist's probeNode):
 *
 *   every probe interval (stretched by local health), ping the next member of a shuffled
 *   round-robin order; no ACK within probeTimeout → ask indirectChecks other members to ping it
 *   (PING_REQ; each answers ACK, or NACK if the target did not answer it) and try a PING over a
 *   stream (TCP) at the same time; no ACK by the end of the interval → suspect it.
 *
 * Messages (hop-to-hop, sealed by the link layer, so a sender is always authenticated):
 *
 *   PING     [3, seq]              answer ACK [4, seq]
 *   PING_REQ [5, seq, target id]   ping the target for the requester; relay its ACK, or NACK
 *   NACK     [6, seq]              "I am alive, but the target did not answer me"
 *
 * A PING needs no target id: it is sealed under the pair's link key, so only its intended
 * recipient can open it. ACKs are only accepted from the member asked (or the helpers asked to
 * relay), so a third party cannot make a dead member look alive by acknowledging for it.
 *
 * Local health (awareness.ts): a failed probe costs one point per helper whose NACK never came
 * (or one point if no helper was available); a clean probe earns one back. Missing NACKs mean our
 * own packets are not getting through, so we slow down rather than accuse.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { encodeMessage } from '../link/message-list.js';
import type { Counter } from '../metrics.js';
import type { Random } from '../random.js';
import { MessageType, type RawMessage } from '../wire/messages.js';
import { bytes, literal, tuple, uint } from '../wire/schema.js';
import type { Awareness } from './awareness.js';
import { claimMessage } from './claims.js';
import type { MembershipEdge, Sender, Target } from './edge.js';
import type { MemberTable } from './member-table.js';

const SEQ = uint(0xffff_ffff);
export const PING_SCHEMA = tuple(literal(MessageType.PING), SEQ);
export const ACK_SCHEMA = tuple(literal(MessageType.ACK), SEQ);
export const PING_REQ_SCHEMA = tuple(literal(MessageType.PING_REQ), SEQ, bytes(32));
export const NACK_SCHEMA = tuple(literal(MessageType.NACK), SEQ);

/** Indirect probes this node runs for others at once; more are refused (a peer cannot make us flood). */
const MAX_RELAYS = 64;
/** Outstanding pings of any kind (probe, relay, reconnect, leave). */
const MAX_WAITERS = 256;

/** What the failure detector needs from the membership layer. */
export interface ProbeHost {
  readonly table: MemberTable;
  /** Queued updates that fit in a packet to `to` after `usedBytes` of other messages. */
  piggyback(to: Target, usedBytes: number): Uint8Array[];
  /** A probe of the member at `index`, at `incarnation`, got no ACK by its deadline. */
  probeFailed(index: number, incarnation: number): void;
  /** A probe we initiated was answered by the member itself. */
  probeAnswered(index: number): void;
  /** Our current ALIVE as a message, sent with every stream ACK (null before start). */
  ownAliveMessage(): Uint8Array | null;
  /**
   * Whether we probe this member at all. A member the reputation engine evicted is not probed:
   * once graylisted its ACKs die at our header check, so probing it would make us accuse a member
   * the rest of the cluster may still hear, and be charged for the refuted accusation.
   */
  mayProbe(index: number): boolean;
}

export interface FailureDetectorOptions {
  readonly edge: MembershipEdge;
  readonly clock: Clock;
  readonly random: Random;
  readonly host: ProbeHost;
  readonly awareness: Awareness;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly indirectChecks: number;
  /** hearsay_membership_probes_total{result}. */
  readonly probes: Counter;
}

interface Waiter {
  /** Members whose ACK for this seq we accept. */
  readonly from: Set<string>;
  onAck(fromHex: string): void;
  onNack?(): void;
  timer: TimerHandle | null;
}

interface Probe {
  readonly index: number;
  readonly idHex: string;
  readonly incarnation: number;
  readonly seq: number;
  readonly deadline: number;
  acked: boolean;
  nacks: number;
  expectedNacks: number;
  timeout: TimerHandle | null;
}

export class FailureDetector {
  private readonly o: FailureDetectorOptions;
  private readonly waiters = new Map<number, Waiter>();
  private relays = 0;
  private seq: number;
  private probeIndex = 0;
  private current: Probe | null = null;
  private timer: TimerHandle | null = null;
  private running = false;

  constructor(options: FailureDetectorOptions) {
    this.o = options;
    this.seq = options.random.int(0x1_0000_0000);
    const e = options.edge;
    e.onMessage(MessageType.PING, PING_SCHEMA, (from, [, seq]) => this.onPing(from, seq));
    e.onMessage(MessageType.ACK, ACK_SCHEMA, (from, [, seq]) => this.onAck(from, seq));
    e.onMessage(MessageType.PING_REQ, PING_REQ_SCHEMA, (from, [, seq, target]) => this.onPingReq(from, seq, target));
    e.onMessage(MessageType.NACK, NACK_SCHEMA, (from, [, seq]) => this.onNack(from, seq));
    // The TCP fallback: a PING as a stream request, answered with its ACK and our current ALIVE (a
    // prober that resorts to TCP may have missed our latest refutation; the claim costs one frame).
    e.onRequest(MessageType.PING, PING_SCHEMA, (_from, msgs) => {
      const ack = encodeMessage([MessageType.ACK, msgs[0]!.fields[1] as number]);
      const alive = options.host.ownAliveMessage();
      return alive === null ? [ack] : [ack, alive];
    });
  }

  start(): void {
    this.running = true;
    // A random phase, so that nodes started together do not probe in lockstep.
    this.timer = this.o.clock.setTimeout(() => this.tick(), 1 + this.o.random.int(this.o.probeIntervalMs));
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
    this.current?.timeout?.cancel();
    this.current = null;
    for (const w of this.waiters.values()) w.timer?.cancel();
    this.waiters.clear();
  }

  /**
   * Pings `to` outside the probe cycle (reconnects, leave): `extra` rides along (e.g. a claim the
   * member must see), `onAck` runs if it answers within `timeoutMs`.
   */
  ping(to: Target, toHex: string, extra: readonly Uint8Array[], timeoutMs: number, onAck: () => void, onTimeout?: () => void, viaStreamToo = false): boolean {
    if (this.waiters.size >= MAX_WAITERS) return false;
    const seq = this.nextSeq();
    const w: Waiter = { from: new Set([toHex]), onAck: () => { this.release(seq); onAck(); }, timer: null };
    w.timer = this.o.clock.setTimeout(() => {
      if (this.release(seq)) onTimeout?.();
    }, timeoutMs);
    this.waiters.set(seq, w);
    const ping = encodeMessage([MessageType.PING, seq]);
    this.sendWithPiggyback(to, [ping, ...extra]);
    if (viaStreamToo) {
      // The same PING over a stream as well: both answers are authenticated as the member's own.
      void this.o.edge.request(to, [ping], Math.max(1, timeoutMs - 1)).then((r) => {
        if (!r.ok) return;
        this.absorbStreamAnswer(r.value, toHex);
        if (r.value.some((m) => m.type === MessageType.ACK && m.fields[1] === seq)) this.waiters.get(seq)?.onAck(toHex);
      });
    }
    return true;
  }

  /** Claims in a stream ACK (the member's current ALIVE) go through the usual checks. */
  private absorbStreamAnswer(msgs: readonly RawMessage[], fromHex: string): void {
    for (const m of msgs) if (m.type === MessageType.ENVELOPE) this.o.edge.ingest(m.fields[1] as Uint8Array, { idHex: fromHex, viaStream: true });
  }

  // ---- the probe cycle ---------------------------------------------------------------------------

  private tick(): void {
    if (!this.running) return;
    this.finishProbe();
    const interval = this.o.awareness.scale(this.o.probeIntervalMs);
    this.timer = this.o.clock.setTimeout(() => this.tick(), interval);
    const target = this.nextTarget();
    if (target >= 0) this.startProbe(target, interval);
  }

  private nextTarget(): number {
    const t = this.o.host.table;
    // At most one pass over the live members: when none may be probed, skip this round.
    for (let tries = t.liveCount; tries > 0; tries--) {
      if (this.probeIndex >= t.liveCount) {
        t.shuffleLive(this.o.random);
        this.probeIndex = 0;
      }
      const i = t.liveAt(this.probeIndex++);
      if (this.o.host.mayProbe(i)) return i;
    }
    return -1;
  }

  private startProbe(index: number, interval: number): void {
    const t = this.o.host.table;
    const alive = t.alive(index);
    const seq = this.nextSeq();
    const probe: Probe = {
      index, idHex: alive.subjectHex, incarnation: alive.incarnation, seq, deadline: this.o.clock.now() + interval,
      acked: false, nacks: 0, expectedNacks: 0, timeout: null,
    };
    this.current = probe;
    this.waiters.set(seq, {
      from: new Set([alive.subjectHex]),
      onAck: (fromHex) => {
        if (probe.acked) return;
        probe.acked = true;
        probe.timeout?.cancel();
        this.o.probes.inc({ result: fromHex === probe.idHex ? 'ack' : 'indirect-ack' });
        if (fromHex === probe.idHex) this.o.host.probeAnswered(index);
      },
      onNack: () => { probe.nacks++; },
      timer: null,
    });
    // Lifeguard's buddy system: a suspected member learns of the accusation from the probe itself,
    // so it can refute at once instead of waiting for gossip to reach it.
    const accusation = t.state(index) === 'suspect' ? t.stateClaim(index) : undefined;
    const first = [encodeMessage([MessageType.PING, seq])];
    if (accusation !== undefined) first.push(claimMessage(accusation));
    this.sendWithPiggyback(alive, first);
    probe.timeout = this.o.clock.setTimeout(() => this.indirect(probe), this.o.probeTimeoutMs);
  }

  private indirect(probe: Probe): void {
    if (probe.acked || this.current !== probe) return;
    const t = this.o.host.table;
    const target = t.identity(probe.index);
    const waiter = this.waiters.get(probe.seq);
    const helpers = this.helpers(probe.index, this.o.indirectChecks);
    const req = encodeMessage([MessageType.PING_REQ, probe.seq, target.id]);
    for (const h of helpers) {
      const claim = t.alive(h);
      waiter?.from.add(claim.subjectHex);
      this.sendWithPiggyback(claim, [req]);
    }
    probe.expectedNacks = helpers.length;
    // The TCP fallback runs alongside: a member whose UDP is blocked but who is alive still answers.
    const remaining = Math.max(1, probe.deadline - this.o.clock.now() - 1);
    void this.o.edge.request(t.alive(probe.index), [encodeMessage([MessageType.PING, probe.seq])], remaining).then((r) => {
      if (!r.ok) return;
      this.absorbStreamAnswer(r.value, probe.idHex);
      if (probe.acked || this.current !== probe) return;
      if (r.value.some((m) => m.type === MessageType.ACK && m.fields[1] === probe.seq)) {
        probe.acked = true;
        this.o.probes.inc({ result: 'tcp-ack' });
      }
    });
  }

  /** Up to `k` random alive members other than `exclude`, for indirect probes. */
  private helpers(exclude: number, k: number): number[] {
    const t = this.o.host.table;
    const n = t.liveCount;
    const out: number[] = [];
    if (n <= 1 || k === 0) return out;
    // Random draws without replacement from the live list, skipping suspects, evicted members (we
    // would drop their relayed ACKs and NACKs) and the target;
    // bounded so that a table of suspects cannot spin the loop.
    for (let attempts = 0; attempts < 4 * k + 8 && out.length < k; attempts++) {
      const i = t.liveAt(this.o.random.int(n));
      if (i === exclude || out.includes(i) || t.state(i) !== 'alive' || !this.o.host.mayProbe(i)) continue;
      out.push(i);
    }
    return out;
  }

  private finishProbe(): void {
    const p = this.current;
    if (p === null) return;
    this.current = null;
    p.timeout?.cancel();
    this.waiters.delete(p.seq);
    if (p.acked) {
      this.o.awareness.apply(-1);
      return;
    }
    this.o.probes.inc({ result: 'failed' });
    this.o.awareness.apply(p.expectedNacks > 0 ? p.expectedNacks - Math.min(p.nacks, p.expectedNacks) : 1);
    this.o.host.probeFailed(p.index, p.incarnation);
  }

  // ---- answering -------------------------------------------------------------------------------

  private onPing(from: Sender, seq: number): void {
    const t = this.o.host.table;
    const i = t.indexOf(from.idHex);
    const ack = [encodeMessage([MessageType.ACK, seq])];
    // The pinger may not know it is suspected or declared dead (a healed partition): tell it first.
    if (i >= 0 && t.state(i) !== 'alive') {
      const accusation = t.stateClaim(i);
      if (accusation !== undefined && accusation.kind !== 'leave') ack.push(claimMessage(accusation));
    }
    this.sendWithPiggyback(from.idHex, ack);
  }

  private onAck(from: Sender, seq: number): void {
    const w = this.waiters.get(seq);
    if (w === undefined || !w.from.has(from.idHex)) {
      // Late (after the deadline) or never asked for: harmless, counted.
      this.o.edge.drop('unexpected-ack');
      return;
    }
    w.onAck(from.idHex);
  }

  private onNack(from: Sender, seq: number): void {
    const w = this.waiters.get(seq);
    if (w !== undefined && w.from.has(from.idHex)) w.onNack?.();
  }

  private onPingReq(from: Sender, seq: number, target: Uint8Array): void {
    const t = this.o.host.table;
    const targetHex = Buffer.from(target).toString('hex');
    const i = t.indexOf(targetHex);
    const nack = (): void => this.sendWithPiggyback(from.idHex, [encodeMessage([MessageType.NACK, seq])]);
    if (this.relays >= MAX_RELAYS || this.waiters.size >= MAX_WAITERS) {
      this.o.edge.drop('relay-limit');
      return;
    }
    // We can only ping members we know (their certificate and signed address).
    if (i < 0 || targetHex === this.o.edge.selfIdHex || !t.isLive(i)) {
      nack();
      return;
    }
    const mySeq = this.nextSeq();
    this.relays++;
    const w: Waiter = {
      from: new Set([targetHex]),
      onAck: () => {
        this.releaseRelay(mySeq);
        this.sendWithPiggyback(from.idHex, [encodeMessage([MessageType.ACK, seq])]);
      },
      timer: null,
    };
    w.timer = this.o.clock.setTimeout(() => {
      if (this.releaseRelay(mySeq)) nack();
    }, this.o.probeTimeoutMs);
    this.waiters.set(mySeq, w);
    this.sendWithPiggyback(t.alive(i), [encodeMessage([MessageType.PING, mySeq])]);
  }

  private releaseRelay(seq: number): boolean {
    if (!this.release(seq)) return false;
    this.relays--;
    return true;
  }

  private release(seq: number): boolean {
    const w = this.waiters.get(seq);
    if (w === undefined) return false;
    w.timer?.cancel();
    this.waiters.delete(seq);
    return true;
  }

  private sendWithPiggyback(to: Target, messages: Uint8Array[]): void {
    let used = 0;
    for (const m of messages) used += m.length;
    const extra = this.o.host.piggyback(to, used);
    this.o.edge.send(to, extra.length === 0 ? messages : [...messages, ...extra]);
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }
}
