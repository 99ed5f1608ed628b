/**
 * Membership at scale, on the lightweight harness (src/membership/lite-cluster.ts): every node runs
 * the real membership code (probes, suspicion, gossip queue, push-pull, merge rules, signed claims
 * verified once per process) on the in-memory network and a virtual clock, without per-pair link
 * state or the other layers. See lite-cluster.ts for exactly what is and is not simulated; the
 * full stack is exercised at smaller N in sim-membership.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiteCluster, type LiteNode } from '../../src/membership/lite-cluster.js';
import { detectionBound } from '../../src/membership/timing.js';

describe('1,000 nodes started at once through one seed', () => {
  const N = 1000;
  let lc: LiteCluster;
  let nodes: LiteNode[];

  beforeAll(async () => {
    lc = new LiteCluster({ seed: 31, capacity: N + 8, network: { latencyMs: 1, jitterMs: 2 } });
    const [seed] = lc.createNodes(1);
    await lc.start([seed!]);
    const rest = lc.createNodes(N - 1, [seed!.address]);
    await lc.start(rest);
    nodes = [seed!, ...rest];
  }, 60_000);

  afterAll(() => lc?.stopAll());

  it('form one view: every node holds all 999 others alive', async () => {
    // Every join is a push-pull with the one seed (pushPullPerSecond of them per second; refused
    // joins retry with backoff), then each newcomer's ALIVE spreads by gossip and later push-pulls.
    // 999 claims of ~300 bytes must reach every node through packets of maxPacketBytes, so the view
    // forms in about two minutes of virtual time (134.9 s for this seed); the limit allows 300 s.
    const took = await lc.runUntil(() => nodes.every((n) => n.members.table.counts.alive === N - 1), 300_000, 100);
    expect(took, 'formed within 300 s of virtual time').toBeGreaterThanOrEqual(0);
    for (const n of nodes) {
      expect(n.members.table.counts.suspect + n.members.table.counts.dead).toBe(0);
      expect(n.members.health().state).toBe('healthy');
    }
  }, 240_000);

  it('a crashed node is declared dead by every live node within the bound derived from the config, and no other', async () => {
    await lc.run(5000);
    const victim = nodes[500]!;
    const others = nodes.filter((n) => n !== victim);
    const bound = detectionBound(lc.config, N);
    lc.crash(victim);
    const took = await lc.runUntil(() => others.every((n) => n.members.get(victim.idHex)?.state === 'dead'), bound.boundMs, 20);
    expect(took, `all ${N - 1} declared it dead within ${bound.boundMs} ms`).toBeGreaterThanOrEqual(0);
    // Confirmed quickly by independent probers, so Lifeguard's suspicion ran at its minimum:
    // the expected path, not just the worst-case bound.
    expect(took).toBeLessThan(bound.expectedMs + 2 * lc.config.probeIntervalMs);
    for (const n of others) {
      expect(n.members.table.counts.dead).toBe(1);
      expect(n.members.table.counts.suspect).toBe(0);
    }
  }, 60_000);
});

describe('100 nodes, 10 minutes of virtual time at 10% packet loss', () => {
  it('never declares a live node dead (suspicions happen and are refuted)', async () => {
    const N = 100;
    const lc = new LiteCluster({ seed: 12, capacity: N + 8, network: { latencyMs: 1, jitterMs: 4, lossRate: 0.1 } });
    const nodes = lc.createNodes(N);
    await lc.start();
    lc.bootstrap();
    let deaths = 0;
    let suspicions = 0;
    let refutations = 0;
    for (const n of nodes) {
      n.members.on((event) => {
        if (event === 'dead' || event === 'leave') deaths++;
        if (event === 'suspect') suspicions++;
        if (event === 'alive') refutations++;
      });
    }
    await lc.run(600_000, 50);
    expect(deaths).toBe(0);
    // The loss was felt: members were suspected, and every suspicion ended in a refutation.
    expect(suspicions).toBeGreaterThan(0);
    expect(refutations).toBeGreaterThan(0);
    for (const n of nodes) expect(n.members.table.counts.alive + n.members.table.counts.suspect).toBe(N - 1);
    lc.stopAll();
  }, 180_000);
});
