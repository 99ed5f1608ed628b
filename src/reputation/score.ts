/**
 * The pure core of reputation: a peer's score as a function of its counters, the parameters and
 * the time (STYLE.md §7). No I/O, no clock, no state: the engine keeps the counters and calls these.
 *
 *   counter_k(now) = counter_k(at) × 2^(−(now − at) / halfLife_k), and 0 once below decayToZero
 *   score(now)     = Σ_offenses weight_k × max(0, min(counter_k, counterCap) − allowance_k)²
 *                  + weight_credit × min(counter_credit, cap_credit)
 *
 * Every penalty weight is negative and the credit weight positive, so the score reacts
 * monotonically: one more offense never raises it, one more first delivery never lowers it, and
 * time moves it toward zero from either side.
 */
import { OFFENSES, type Offense } from '../link/peer-gate.js';
import type { ReputationParams, Thresholds } from './params.js';

/** Score components: one per offense (same order as OFFENSES, which is append-only), then the credit. */
export const COMPONENTS = [...OFFENSES, 'first-delivery'] as const;
export type Component = (typeof COMPONENTS)[number];
export const COMPONENT_COUNT = COMPONENTS.length;
/** Index of the credit counter. */
export const CREDIT = OFFENSES.length;

const INDEX: ReadonlyMap<string, number> = new Map(COMPONENTS.map((c, i) => [c, i]));

export function componentIndex(c: Component | Offense): number {
  return INDEX.get(c)!;
}

/** The index of a component name from untyped input (JavaScript callers, stored rows), or undefined. */
export function findComponent(name: string): number | undefined {
  return INDEX.get(name);
}

/** Counters indexed like COMPONENTS, as of time `at` (ms). */
export interface PeerStats {
  readonly counters: ArrayLike<number>;
  readonly at: number;
}

/** Where a peer stands, from none to the harshest effect. */
export const LEVELS = ['ok', 'no-gossip', 'evicted', 'graylisted', 'banned'] as const;
export type LevelName = (typeof LEVELS)[number];
export const Level = { OK: 0, NO_GOSSIP: 1, EVICTED: 2, GRAYLISTED: 3, BANNED: 4 } as const;
export type Level = (typeof Level)[keyof typeof Level];

const LN2 = Math.LN2;

/** One counter decayed over `elapsedMs` (negative elapsed time, a clock step back, decays nothing). */
export function decayed(value: number, elapsedMs: number, halfLifeMs: number, decayToZero: number): number {
  if (value === 0) return 0;
  const v = elapsedMs > 0 ? value * Math.exp((-elapsedMs * LN2) / halfLifeMs) : value;
  return v < decayToZero ? 0 : v;
}

function halfLifeOf(i: number, p: ReputationParams): number {
  return i === CREDIT ? p.credit.halfLifeMs : p.penalties[OFFENSES[i]!].halfLifeMs;
}

/** Counters decayed from `stats.at` to `now`, into `out` (a new array by default). */
export function decayCounters(stats: PeerStats, p: ReputationParams, now: number, out: Float64Array = new Float64Array(COMPONENT_COUNT)): Float64Array {
  const dt = now - stats.at;
  for (let i = 0; i < COMPONENT_COUNT; i++) out[i] = decayed(stats.counters[i] ?? 0, dt, halfLifeOf(i, p), p.decayToZero);
  return out;
}

/** The score contribution of component `i` at counter value `c`. */
export function contribution(i: number, c: number, p: ReputationParams): number {
  if (c <= 0) return 0;
  if (i === CREDIT) return p.credit.weight * Math.min(c, p.credit.cap);
  const pen = p.penalties[OFFENSES[i]!];
  const excess = Math.min(c, p.counterCap) - pen.allowance;
  return excess > 0 ? pen.weight * excess * excess : 0;
}

/** The score of counters that are already decayed to the time of interest. */
export function scoreOfCounters(counters: ArrayLike<number>, p: ReputationParams): number {
  let s = 0;
  for (let i = 0; i < COMPONENT_COUNT; i++) s += contribution(i, counters[i] ?? 0, p);
  // 0 rather than -0, so a reset peer prints as 0.
  return s === 0 ? 0 : s;
}

/** The score at `now` of counters recorded at `stats.at`. Pure. */
export function computeScore(stats: PeerStats, p: ReputationParams, now: number): number {
  return scoreOfCounters(decayCounters(stats, p, now), p);
}

export interface ComponentView {
  readonly counter: number;
  readonly contribution: number;
}

/** Each component's decayed counter and contribution at `now` (nonzero ones only), for the admin API. */
export function breakdown(stats: PeerStats, p: ReputationParams, now: number): Partial<Record<Component, ComponentView>> {
  const c = decayCounters(stats, p, now);
  const out: Partial<Record<Component, ComponentView>> = {};
  for (let i = 0; i < COMPONENT_COUNT; i++) {
    if (c[i]! > 0) out[COMPONENTS[i]!] = { counter: c[i]!, contribution: contribution(i, c[i]!, p) };
  }
  return out;
}

/** Counters after one more of component `i` at `now`: decays to `now`, adds one, clamps to the cap. */
export function addOne(stats: PeerStats, i: number, p: ReputationParams, now: number, out: Float64Array = new Float64Array(COMPONENT_COUNT)): Float64Array {
  decayCounters(stats, p, now, out);
  const cap = i === CREDIT ? p.credit.cap : p.counterCap;
  out[i] = Math.min(cap, out[i]! + 1);
  return out;
}

/** The level a score puts a peer at (a ban overrides the score). */
export function levelOf(score: number, t: Thresholds, banned: boolean): Level {
  if (banned) return Level.BANNED;
  if (score < t.graylist) return Level.GRAYLISTED;
  if (score < t.evict) return Level.EVICTED;
  if (score < t.gossip) return Level.NO_GOSSIP;
  return Level.OK;
}

/** The thresholds a score is below, mildest first. */
export function thresholdsCrossed(score: number, t: Thresholds): Array<keyof Thresholds> {
  const out: Array<keyof Thresholds> = [];
  if (score < t.gossip) out.push('gossip');
  if (score < t.evict) out.push('evict');
  if (score < t.graylist) out.push('graylist');
  if (score < t.ban) out.push('ban');
  return out;
}
