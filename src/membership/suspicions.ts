/**
 * The running suspicions of one node: their Lifeguard timers (suspicion.ts), and what happens
 * before a suspect is declared dead.
 *
 * Two checks beyond memberlist, both aimed at the one way a live member still dies under loss:
 * gossip reaches each node with high probability, not certainty, so now and then a node misses a
 * refutation that everyone else got, and its timer runs out on a member that is alive.
 *
 * - Half-way through, the node pings the suspect with the accusation and an ALIVE_REQUEST
 *   attached (over UDP and over a stream): a live member answers with its current ALIVE, which
 *   refutes the suspicion if it is newer, or refutes now if it had not heard.
 * - When the timeout runs out, one last such ping. No answer (within 2 × probeTimeout) → dead. An
 *   answer (authenticated by the member's own link key) means it is alive although its refutation
 *   has not reached us: wait one more minimum timeout, at most MAX_POSTPONEMENTS times, so a
 *   member that answers pings but never refutes still dies in the end.
 *
 * A crashed member costs two extra packets per node that suspects it, and 2 × probeTimeout of
 * detection time (timing.ts accounts for it).
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { HearsayConfig } from '../config.js';
import type { Awareness } from './awareness.js';
import type { Claim } from './claims.js';
import type { FailureDetector } from './failure-detector.js';
import type { MemberTable } from './member-table.js';
import { Suspicion, suspicionBounds } from './suspicion.js';

/** Last-chance answers that may postpone a death. */
export const MAX_POSTPONEMENTS = 2;

interface Active {
  readonly suspicion: Suspicion;
  timer: TimerHandle | null;
  /** The half-way re-check. */
  check: TimerHandle | null;
  /** A DEAD claim learned by push-pull, applied if nobody refutes in time (members.ts apply). */
  readonly heldDead: Claim | null;
  postponed: number;
}

export interface SuspicionsHost {
  isRunning(): boolean;
  /** The member at `index` is to be declared dead with `claim`. */
  declareDead(index: number, claim: Claim): void;
  /** Our DEAD claim against the member at `index`, for the incarnation it was suspected at. */
  signDead(index: number, incarnation: number): Claim;
  /** What a re-check ping carries (the accusation and an ALIVE_REQUEST). */
  challenge(index: number): Uint8Array[];
}

export interface SuspicionsOptions {
  readonly table: MemberTable;
  readonly clock: Clock;
  readonly awareness: Awareness;
  readonly detector: FailureDetector;
  readonly host: SuspicionsHost;
  readonly config: Pick<HearsayConfig, 'suspicionMult' | 'suspicionMaxTimeoutMult' | 'probeIntervalMs' | 'probeTimeoutMs'>;
}

export class Suspicions {
  private readonly o: SuspicionsOptions;
  private readonly active = new Map<number, Active>();

  constructor(options: SuspicionsOptions) {
    this.o = options;
  }

  /**
   * Starts a suspicion of the member at `index` for `claim.incarnation`, accused by `claim`'s
   * signer. `heldDead`: a DEAD learned by push-pull, applied (instead of signing ours) on expiry.
   */
  start(index: number, claim: Claim, heldDead: Claim | null): void {
    this.end(index);
    const c = this.o.config;
    // The interval is stretched by our local health, as our probes are (suspicion.ts).
    const interval = this.o.awareness.scale(c.probeIntervalMs);
    const bounds = suspicionBounds(c.suspicionMult, c.suspicionMaxTimeoutMult, this.o.table.liveCount + 1, interval);
    const s = new Suspicion(claim.incarnation, this.o.clock.now(), bounds, claim.originHex);
    const a: Active = { suspicion: s, timer: null, check: null, heldDead, postponed: 0 };
    this.active.set(index, a);
    a.check = this.o.clock.setTimeout(() => this.recheck(index, a), Math.floor((s.deadline - s.startedAt) / 2));
    this.arm(index, a);
  }

  /** An accusation by `accuserHex` of the suspected incarnation; true if it counted (shorter timeout). */
  confirm(index: number, accuserHex: string): boolean {
    const a = this.active.get(index);
    if (a === undefined || !a.suspicion.confirm(accuserHex)) return false;
    this.arm(index, a);
    return true;
  }

  /** Everyone who accused the suspected incarnation. */
  accusers(index: number): readonly string[] {
    return this.active.get(index)?.suspicion.accuserIds ?? [];
  }

  end(index: number): void {
    const a = this.active.get(index);
    if (a === undefined) return;
    a.timer?.cancel();
    a.check?.cancel();
    this.active.delete(index);
  }

  endAll(): void {
    for (const index of [...this.active.keys()]) this.end(index);
  }

  private arm(index: number, a: Active): void {
    a.timer?.cancel();
    a.timer = this.o.clock.setTimeout(() => this.expired(index, a), Math.max(0, a.suspicion.deadline - this.o.clock.now()));
  }

  private current(index: number, a: Active): boolean {
    const t = this.o.table;
    return this.o.host.isRunning() && this.active.get(index) === a && t.has(index) && t.state(index) === 'suspect' &&
      t.alive(index).incarnation === a.suspicion.incarnation;
  }

  private recheck(index: number, a: Active): void {
    a.check = null;
    if (!this.current(index, a)) return;
    const to = this.o.table.alive(index);
    this.o.detector.ping(to, to.subjectHex, this.o.host.challenge(index), 2 * this.o.config.probeTimeoutMs, () => {}, undefined, true);
  }

  private expired(index: number, a: Active): void {
    if (!this.current(index, a)) return;
    const declare = (): void => {
      if (!this.current(index, a)) return;
      this.o.host.declareDead(index, a.heldDead ?? this.o.host.signDead(index, a.suspicion.incarnation));
    };
    if (a.postponed >= MAX_POSTPONEMENTS) return declare();
    const to = this.o.table.alive(index);
    const sent = this.o.detector.ping(to, to.subjectHex, this.o.host.challenge(index), 2 * this.o.config.probeTimeoutMs, () => {
      if (!this.current(index, a)) return;
      a.postponed++;
      a.timer = this.o.clock.setTimeout(() => this.expired(index, a), a.suspicion.bounds.minMs);
    }, declare, true);
    if (!sent) declare();
  }
}
