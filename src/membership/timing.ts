/**
 * Timings derived from the config and the cluster size: what a test or an operator can expect,
 * computed from the same formulas the code runs.
 */
import type { HearsayConfig } from '../config.js';
import { suspicionBounds } from './suspicion.js';
import { retransmitLimit } from './transmit-queue.js';

type TimingConfig = Pick<HearsayConfig,
  'probeIntervalMs' | 'probeTimeoutMs' | 'suspicionMult' | 'suspicionMaxTimeoutMult' | 'retransmitMult' |
  'membershipGossipIntervalMs' | 'membershipGossipFanout' | 'pushPullIntervalMs' | 'pushPullScaleMembers'>;

/**
 * Push-pull interval for `n` members: the configured interval up to pushPullScaleMembers, then in
 * proportion to n, so the bytes a node spends on full-state exchanges per second do not grow with
 * the cluster (each exchange carries n claims).
 */
export function pushPullInterval(c: Pick<HearsayConfig, 'pushPullIntervalMs' | 'pushPullScaleMembers'>, n: number): number {
  return Math.round(c.pushPullIntervalMs * Math.max(1, n / c.pushPullScaleMembers));
}

export interface DetectionBound {
  /** Probe intervals within which some member probes the crashed one, with probability 1 - e^-r. */
  readonly probeRounds: number;
  readonly firstProbeMs: number;
  /** One probe: ping, indirect pings and TCP fallback, until the probe's deadline. */
  readonly probeMs: number;
  /** Suspicion timeout if nobody confirms (Lifeguard's max) and if k members confirm (min). */
  readonly suspicionMaxMs: number;
  readonly suspicionMinMs: number;
  /** The last-chance ping before a suspect is declared dead (2 × probeTimeout). */
  readonly lastChanceMs: number;
  /** Gossip rounds for the DEAD claim to reach everyone. */
  readonly spreadRounds: number;
  readonly spreadMs: number;
  /** firstProbe + probe + suspicion max + last chance + spread: every live member knows by then. */
  readonly boundMs: number;
  /** The same with the suspicion at its minimum: what a confirmed crash takes. */
  readonly expectedMs: number;
}

/**
 * When every live member has declared a crashed member dead, for a cluster of `n` healthy members
 * (awareness at its best, no loss).
 *
 * - First probe: each of the n - 1 others probes one member per interval, in its own random order,
 *   so the crashed member escapes a round with probability about (1 - 1/(n-1))^(n-1) ≈ 1/e; within
 *   r = 12 rounds it is probed with probability 1 - e^-12 (> 0.99999).
 * - The probe fails at its deadline, one interval after it started; the prober suspects.
 * - Suspicion: at most the unconfirmed timeout (max); typically the minimum, since other probers
 *   confirm within a few rounds. Then one last-chance ping, unanswered after 2 × probeTimeout.
 * - The DEAD claim then spreads by gossip to `membershipGossipFanout` members per gossip interval,
 *   besides riding on every probe and ack: with fanout f the informed set grows by a factor of at
 *   least f + 1 per round, so log_(f+1)(n) rounds reach everyone in expectation; we allow twice that
 *   plus 4 rounds for the tail of the epidemic.
 */
export function detectionBound(c: TimingConfig, n: number): DetectionBound {
  const probeRounds = 12;
  const firstProbeMs = probeRounds * c.probeIntervalMs;
  const probeMs = c.probeIntervalMs;
  const s = suspicionBounds(c.suspicionMult, c.suspicionMaxTimeoutMult, n, c.probeIntervalMs);
  const spreadRounds = 2 * Math.ceil(Math.log(Math.max(2, n)) / Math.log(c.membershipGossipFanout + 1)) + 4;
  const spreadMs = spreadRounds * c.membershipGossipIntervalMs;
  const lastChanceMs = 2 * c.probeTimeoutMs;
  return {
    probeRounds, firstProbeMs, probeMs,
    suspicionMaxMs: s.maxMs, suspicionMinMs: s.minMs, lastChanceMs,
    spreadRounds, spreadMs,
    boundMs: firstProbeMs + probeMs + s.maxMs + lastChanceMs + spreadMs,
    expectedMs: c.probeIntervalMs + probeMs + s.minMs + lastChanceMs + Math.ceil(Math.log(Math.max(2, n)) / Math.log(c.membershipGossipFanout + 1)) * c.membershipGossipIntervalMs,
  };
}

/** Retransmissions of each update in a cluster of n (re-exported for reports). */
export function transmitsPerUpdate(c: Pick<HearsayConfig, 'retransmitMult'>, n: number): number {
  return retransmitLimit(c.retransmitMult, n);
}
