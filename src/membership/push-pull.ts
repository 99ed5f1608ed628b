/**
 * Push-pull state sync (memberlist's pushPullNode): two members exchange every claim each holds
 * over one sealed stream request, so a new node, a node back from a partition, or one that missed
 * gossip catches up at once.
 *
 *   PUSH_PULL [11, [claim bytes, ...]]   the requester's state
 *   RESPONSE  [12, [claim bytes, ...]]   the responder's state
 *
 * A state is, per member, its newest ALIVE claim and, if it is not alive, the SUSPECT, DEAD or
 * LEAVE claim that says so; this node's own ALIVE comes first. Every claim is checked exactly as
 * if it had arrived by gossip (signature, merge rules); nothing in a push-pull is trusted for
 * having come from a peer. Claims we already hold are recognised by their bytes before any
 * signature check, so a steady-state exchange costs hashing, not verifying.
 *
 * Limits: a state never exceeds the frame limit (claims of live members first, then dead and
 * departed ones; the rest is left out and counted); requests time out (streamTimeoutMs); a node
 * answers at most pushPullPerSecond requests, and runs at most a few of its own at a time.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { encodeMessage } from '../link/message-list.js';
import { TokenBucket } from '../link/token-bucket.js';
import type { Counter } from '../metrics.js';
import type { Random } from '../random.js';
import { MessageType } from '../wire/messages.js';
import { arrayOf, bytes, literal, tuple } from '../wire/schema.js';
import type { Claim } from './claims.js';
import type { MembershipEdge, Sender, Target } from './edge.js';

/** Largest claim: an ALIVE with a 1,024-byte certificate and a 300-byte address, signed. */
export const MAX_CLAIM_BYTES = 2048;
/** Bytes kept free in a state frame for the packet header, certificate, seal and list framing. */
const FRAME_MARGIN = 2048;
/** Exchanges this node starts at once; joins and reconnects beyond it wait for the next chance. */
const MAX_IN_FLIGHT = 4;

export function pushPullSchemas(maxMembers: number) {
  const claims = arrayOf(bytes(1, MAX_CLAIM_BYTES), 2 * maxMembers + 2);
  return {
    request: tuple(literal(MessageType.PUSH_PULL), claims),
    response: tuple(literal(MessageType.RESPONSE), claims),
  };
}

export interface PushPullHost {
  /** Our state, most important claims first, at most `budget` bytes of claims. */
  snapshot(budget: number): Uint8Array[];
  /** Claims from a peer's state (its request, or its answer to ours). */
  absorb(claims: readonly Uint8Array[], from: Sender): void;
  /** Members held (for the interval) and a random alive member to exchange with. */
  memberCount(): number;
  randomAlive(): Claim | null;
}

export interface PushPullOptions {
  readonly edge: MembershipEdge;
  readonly clock: Clock;
  readonly random: Random;
  readonly host: PushPullHost;
  readonly maxMembers: number;
  readonly timeoutMs: number;
  readonly perSecond: number;
  /** The periodic interval for a cluster of n members (timing.ts pushPullInterval). */
  readonly intervalFor: (n: number) => number;
  /** hearsay_membership_push_pulls_total{role, result}. */
  readonly counter: Counter;
}

export class PushPull {
  private readonly o: PushPullOptions;
  private readonly bucket: TokenBucket;
  private readonly inFlight = new Set<string>();
  private timer: TimerHandle | null = null;
  private running = false;
  /** Time of our last exchange, and this period's random phase in [0.5, 1.5) of the interval. */
  private lastAt = 0;
  private phase = 1;

  constructor(options: PushPullOptions) {
    this.o = options;
    this.bucket = new TokenBucket(options.perSecond, options.perSecond, options.clock);
    const schemas = pushPullSchemas(options.maxMembers);
    options.edge.declare(MessageType.RESPONSE, schemas.response);
    options.edge.onRequest(MessageType.PUSH_PULL, schemas.request, (from, msgs) => this.serve(from, msgs[0]!.fields[1] as Uint8Array[]));
  }

  start(): void {
    this.running = true;
    this.lastAt = this.o.clock.now();
    this.phase = 0.5 + this.o.random.next();
    // Checked often, decided late: the interval depends on the cluster size *now*, which a node
    // that just started (knowing nobody) cannot know when it schedules.
    const check = Math.max(100, Math.floor(this.o.intervalFor(1) / 8));
    this.timer = this.o.clock.setInterval(() => this.tick(), check);
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
  }

  /** Exchanges states with `target` (id `targetHex`). Resolves to whether it succeeded. */
  async exchange(target: Target, targetHex: string, reason: 'periodic' | 'join' | 'reconnect'): Promise<boolean> {
    if (!this.running || this.inFlight.has(targetHex) || this.inFlight.size >= MAX_IN_FLIGHT) return false;
    this.inFlight.add(targetHex);
    try {
      const state = this.o.host.snapshot(this.budget());
      const r = await this.o.edge.request(target, [encodeMessage([MessageType.PUSH_PULL, state])], this.o.timeoutMs);
      if (!r.ok) {
        this.o.counter.inc({ role: reason, result: r.reason === 'timeout' ? 'timeout' : 'failed' });
        return false;
      }
      const answer = r.value[0];
      if (answer === undefined || answer.type !== MessageType.RESPONSE || !this.running) {
        this.o.counter.inc({ role: reason, result: 'failed' });
        return false;
      }
      this.o.counter.inc({ role: reason, result: 'ok' });
      this.lastAt = this.o.clock.now();
      this.o.host.absorb(answer.fields[1] as Uint8Array[], { idHex: targetHex, viaStream: true });
      return true;
    } finally {
      this.inFlight.delete(targetHex);
    }
  }

  private serve(from: Sender, claims: Uint8Array[]): Uint8Array[] | null {
    if (!this.running) return null;
    if (!this.bucket.take()) {
      this.o.counter.inc({ role: 'serve', result: 'rate-limited' });
      return null;
    }
    this.o.host.absorb(claims, from);
    this.o.counter.inc({ role: 'serve', result: 'ok' });
    return [encodeMessage([MessageType.RESPONSE, this.o.host.snapshot(this.budget())])];
  }

  private budget(): number {
    return Math.max(0, this.o.edge.maxFrameBytes - FRAME_MARGIN);
  }

  private tick(): void {
    if (!this.running) return;
    const interval = this.o.intervalFor(this.o.host.memberCount() + 1);
    // Half to one and a half intervals after the last exchange: nodes started together spread out.
    if (this.o.clock.now() < this.lastAt + this.phase * interval) return;
    this.lastAt = this.o.clock.now();
    this.phase = 0.5 + this.o.random.next();
    const target = this.o.host.randomAlive();
    if (target !== null) void this.exchange(target, target.subjectHex, 'periodic');
  }
}
