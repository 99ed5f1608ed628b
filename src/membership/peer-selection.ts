/**
 * Random peer selection with a guaranteed outbound share.
 *
 * Every layer picks its gossip partners here. A candidate must be alive, pass the reputation gate
 * and the caller's predicate (policy, topic interest, ...). Of the k picked, ceil(k × share) are
 * drawn first from *outbound* members, the ones this node chose itself: seeds it was configured
 * with, members that answered probes it initiated, members it pulled state from. Members that only
 * ever contacted us (inbound) can fill at most the rest, so a burst of hostile newcomers cannot
 * take over whom a node talks to (Bitcoin's outbound connections, GossipSub's D_out, for the same
 * reason). When there are too few outbound candidates the rest is filled from all candidates.
 *
 * Cost: random draws from the table's list of live members, each checked, so a selection costs
 * O(k) in the common case whatever the cluster size; after a bounded number of misses (most
 * candidates refused) it falls back to one scan.
 */
import { sample, type Random } from '../random.js';
import { OUTBOUND, type MemberTable } from './member-table.js';

/** Below this many live members a scan is as cheap as sampling, and exact. */
const SCAN_BELOW = 64;

export function selectMembers(
  table: MemberTable,
  k: number,
  outboundShare: number,
  accept: (index: number) => boolean,
  random: Random,
): number[] {
  const n = table.liveCount;
  if (k <= 0 || n === 0) return [];
  const wantOutbound = Math.min(k, Math.ceil(k * outboundShare));
  if (n <= SCAN_BELOW) return byScan(table, k, wantOutbound, accept, random);
  const picked: number[] = [];
  const tried = new Set<number>();
  const isCandidate = (i: number): boolean => table.state(i) === 'alive' && accept(i);
  // Outbound share first.
  let misses = 0;
  while (picked.length < wantOutbound && misses < 16 * k + 64) {
    const i = table.liveAt(random.int(n));
    if (tried.has(i) || !table.hasFlag(i, OUTBOUND)) {
      misses++;
      continue;
    }
    tried.add(i);
    if (isCandidate(i)) picked.push(i);
    else misses++;
  }
  // Outbound members are rare or mostly refused: decide exactly by one scan, so the share holds.
  if (picked.length < wantOutbound) return byScan(table, k, wantOutbound, accept, random);
  misses = 0;
  while (picked.length < k && misses < 8 * k + 32) {
    const i = table.liveAt(random.int(n));
    if (tried.has(i)) {
      misses++;
      continue;
    }
    tried.add(i);
    if (isCandidate(i)) picked.push(i);
    else misses++;
  }
  if (picked.length < k) {
    // Most draws missed (a table full of refused or suspect members): decide exactly by one scan.
    return byScan(table, k, wantOutbound, accept, random);
  }
  return picked;
}

function byScan(table: MemberTable, k: number, wantOutbound: number, accept: (index: number) => boolean, random: Random): number[] {
  const outbound: number[] = [];
  const inbound: number[] = [];
  for (let p = 0; p < table.liveCount; p++) {
    const i = table.liveAt(p);
    if (table.state(i) !== 'alive' || !accept(i)) continue;
    (table.hasFlag(i, OUTBOUND) ? outbound : inbound).push(i);
  }
  const picked = sample(outbound, wantOutbound, random);
  const rest = [...outbound.filter((i) => !picked.includes(i)), ...inbound];
  return [...picked, ...sample(rest, k - picked.length, random)];
}

/** Up to `k` distinct random live (alive or suspect) members, for gossip: no checks, O(k). */
export function randomLive(table: MemberTable, k: number, random: Random): number[] {
  const n = table.liveCount;
  if (n <= k) return Array.from({ length: n }, (_, p) => table.liveAt(p));
  const out: number[] = [];
  for (let attempts = 0; attempts < 4 * k + 8 && out.length < k; attempts++) {
    const i = table.liveAt(random.int(n));
    if (!out.includes(i)) out.push(i);
  }
  return out;
}
