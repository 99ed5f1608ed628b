/** Helpers for policy tests on the simulated cluster. */
import { expect } from 'vitest';
import { CountingGate } from '../../src/link/peer-gate.js';
import type { Node } from '../../src/node.js';
import { spreadBoundMs } from '../../src/policy/policy-gossip.js';
import { SimCluster, type SimClusterOptions } from '../../src/sim/sim-cluster.js';

/** A cluster whose nodes charge a CountingGate each (so tests can read charges), kept in `gates` by node name. */
export function countingCluster(seed: number, gates: Map<string, CountingGate>, options: Partial<SimClusterOptions> = {}): SimCluster {
  gates.clear();
  return new SimCluster({
    seed,
    network: { latencyMs: 2, jitterMs: 3 },
    ...options,
    config: { policyOfferIntervalMs: 500, ...options.config },
    gate: (name) => {
      const g = new CountingGate();
      gates.set(name, g);
      return g;
    },
  });
}

/** Every node knows most of the others (the spread bound assumes a connected overlay, not a perfect view). */
export async function formed(s: SimCluster, nodes: Node[], share = 1): Promise<void> {
  const need = Math.ceil(nodes.length * share);
  const t = await s.runUntil(() => nodes.every((n) => n.members().filter((m) => m.state === 'alive').length >= need), 30_000);
  expect(t, 'cluster formed').toBeGreaterThanOrEqual(0);
}

export function bound(n: number, node: Node): number {
  return spreadBoundMs(n, { fanout: node.config.fanout, offerIntervalMs: node.config.policyOfferIntervalMs, requestTimeoutMs: node.config.streamTimeoutMs });
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
