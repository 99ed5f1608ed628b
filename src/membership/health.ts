/**
 * Partition awareness: a node judges its own connectivity from the share of the members it knows
 * that it can still reach, and whether it reaches any seed.
 *
 * - partitioned: it reaches half of the known members or fewer (itself included), so it cannot be
 *   part of a majority; or it reaches nobody although seeds are configured (not joined yet, or cut
 *   off). Both halves of an even split report it, which is the honest answer: neither side can
 *   tell it is the "real" cluster.
 * - degraded: it reaches more than half but less than `healthyShare` of them, or no seed answers.
 * - healthy: otherwise, including a node alone by design (no seeds, no members).
 *
 * Suspected members count as reachable: a suspicion is not yet a failure, and counting it would
 * make health flap with every lost probe. Members that left are not counted at all.
 */

export type HealthState = 'healthy' | 'degraded' | 'partitioned';

export interface HealthInputs {
  readonly alive: number;
  readonly suspect: number;
  readonly dead: number;
  /** Seed addresses other than our own. */
  readonly seeds: number;
  /** Of those, seeds that are alive or suspect members. */
  readonly seedsReachable: number;
}

export interface HealthReport {
  readonly state: HealthState;
  /** Reachable share of known members, this node included, in [0, 1]. */
  readonly reachableShare: number;
  readonly alive: number;
  readonly suspect: number;
  readonly dead: number;
  readonly seeds: number;
  readonly seedsReachable: number;
}

export function assessHealth(h: HealthInputs, healthyShare: number): HealthReport {
  const reachable = 1 + h.alive + h.suspect;
  const known = reachable + h.dead;
  const share = reachable / known;
  let state: HealthState;
  if (reachable === 1 && (h.dead > 0 || h.seeds > 0)) state = 'partitioned';
  else if (share <= 0.5) state = 'partitioned';
  else if (share < healthyShare || (h.seeds > 0 && h.seedsReachable === 0)) state = 'degraded';
  else state = 'healthy';
  return { state, reachableShare: share, ...h };
}
