/**
 * The reputation scenario, shared by the simulation test and the benchmark: honest nodes on the
 * in-memory network (with loss), attackers each doing one kind of misbehaviour toward every honest
 * node every gossip round, honest traffic all along. It measures when each honest node evicts each
 * attacker, the lowest score any honest node ever gives another honest node, and delivery of honest
 * messages to honest nodes.
 */
import { createNodeIdentityInMemory } from '../identity/node-identity.js';
import type { HearsayConfig } from '../config.js';
import type { Node } from '../node.js';
import { Level } from '../reputation/score.js';
import type { MemoryTransport } from '../transport/memory-transport.js';
import { createAttack, type Attack, type AttackName, type AttackTarget } from './attackers.js';
import { tapEquivocation } from './equivocation-tap.js';
import { simAead } from './fast-crypto.js';
import { RogueEndpoint } from './rogue-endpoint.js';
import { SimCluster } from './sim-cluster.js';

export interface ScenarioOptions {
  readonly honest: number;
  readonly attackers: readonly AttackName[];
  readonly seed: number;
  readonly lossRate: number;
  /** Virtual time attackers attack; honest nodes publish throughout. */
  readonly attackMs: number;
  /** Virtual time after the attack for the last honest messages to spread. */
  readonly settleMs: number;
  /** Sampling period of scores and levels. */
  readonly sampleMs: number;
  /** An honest node publishes every this many ms. */
  readonly publishEveryMs: number;
  readonly config?: Partial<HearsayConfig>;
  /** Virtual time allowed for the honest nodes to learn of each other before the attack (default 120 s). */
  readonly formLimitMs?: number;
  /** Stop the attack phase early once every attacker is evicted everywhere (benchmarks). */
  readonly stopWhenEvicted?: boolean;
}

export interface AttackerResult {
  readonly name: AttackName;
  readonly id: string;
  readonly charged: Attack['charged'];
  /** Per honest node: ms after the attack began when it first saw the attacker evicted, or -1. */
  readonly evictedAfterMs: number[];
  /** Honest nodes on which the attacker is banned at the end. */
  readonly bannedOn: number;
  /** Honest nodes that dropped its packets as over the rate limit. */
  readonly rateLimitedOn: number;
}

export interface ScenarioResult {
  readonly roundMs: number;
  readonly formedMs: number;
  readonly attackers: AttackerResult[];
  /** The lowest score any honest node gave any honest node at any sample, and where. */
  readonly minHonestScore: number;
  readonly minHonestWhere: string;
  /** Honest nodes that held at least one proof of equivocation at the end. */
  readonly evidenceOn: number;
  readonly published: number;
  /** Deliveries of honest messages to honest nodes other than their origin: expected and missing. */
  readonly expectedDeliveries: number;
  readonly missingDeliveries: number;
  /** Missing deliveries per honest node name (only nodes that missed something). */
  readonly missingByNode: ReadonlyMap<string, number>;
  readonly samples: number;
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly sim: SimCluster;
  readonly honestNodes: Node[];
}

const TOPIC = 'default/news';

export async function runReputationScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const wall = performance.now();
  const sim = new SimCluster({
    seed: o.seed, fastCrypto: true, network: { lossRate: o.lossRate, latencyMs: 2, jitterMs: 3 }, config: { ...o.config },
  });
  const honest = await sim.startNodes(o.honest, 'honest');
  if (honest.some((n) => n.reputation === null)) throw new Error('scenario: honest nodes must run the reputation engine (the default gate)');
  // Formed when every node knows every other (under loss some are suspect at any moment).
  const formedMs = await sim.runUntil(() => honest.every((n) => n.members().length >= o.honest), o.formLimitMs ?? 120_000, 50);
  for (const n of honest) tapEquivocation(n);

  // Delivery bookkeeping: every honest message must reach every other honest node.
  const delivered = new Map<string, Set<string>>();
  const origins = new Map<string, string>();
  for (const n of honest) n.subscribe(TOPIC, (d) => delivered.get(d.id)?.add(n.name));

  const cfg = honest[0]!.config;
  const roundMs = cfg.gossipIntervalMs;
  const targets: AttackTarget[] = honest.map((n) => ({ cert: n.internals.identity.cert, address: n.address }));
  const victim = honest[Math.min(3, honest.length - 1)]!.internals.identity;
  const rogues = await Promise.all(o.attackers.map(async (name, i) => {
    const identity = createNodeIdentityInMemory({ authoritySeed: sim.authoritySeed, cluster: sim.cluster, name: `rogue-${i}-${name}`, now: sim.clock.now(), backend: sim.backend });
    const rogue = new RogueEndpoint({ identity, cluster: sim.cluster, backend: sim.backend, epoch: sim.clock.now(), aead: simAead });
    const transport: MemoryTransport = sim.network.createTransport(`rogue-${i}:7400`);
    transport.onPacket(() => {});
    transport.onRequest(() => null);
    await transport.start();
    return { name, attack: createAttack(name), rogue, transport, id: Buffer.from(identity.nodeId).toString('hex'), evicted: honest.map(() => -1) };
  }));

  let minHonestScore = Number.POSITIVE_INFINITY;
  let minHonestWhere = '';
  let samples = 0;
  const ids = honest.map((n) => n.id);
  const sample = (since: number): void => {
    samples++;
    const t = sim.clock.now() - since;
    honest.forEach((n, hi) => {
      const e = n.reputation!;
      for (const r of rogues) if (r.evicted[hi] === -1 && !n.gate.isEligible(r.rogue.identity.nodeId)) r.evicted[hi] = t;
      for (const id of ids) {
        if (id === n.id) continue;
        const s = e.scoreOf(id);
        if (s < minHonestScore) {
          minHonestScore = s;
          minHonestWhere = `${n.name} scored ${id.slice(0, 12)} at ${s.toFixed(3)}`;
        }
      }
    });
  };

  const start = sim.clock.now();
  let round = 0;
  let nextRound = start;
  let nextPublish = start;
  let published = 0;
  const attackEnd = start + o.attackMs;
  const end = attackEnd + o.settleMs;
  // Bounded: virtual time advances by sampleMs each turn.
  while (sim.clock.now() < end) {
    const now = sim.clock.now();
    if (now < attackEnd && now >= nextRound) {
      for (const r of rogues) {
        r.attack.step({
          rogue: r.rogue, now, round, targets, victim, seenTtlMs: cfg.seenTtlMs, maxClockSkewMs: cfg.maxClockSkewMs,
          send: (t, pkt) => r.transport.send(t.address, pkt),
        });
      }
      round++;
      nextRound += roundMs;
    }
    if (now < attackEnd && now >= nextPublish) {
      const n = honest[published % honest.length]!;
      const id = n.publish(TOPIC, `honest ${published}`);
      delivered.set(id, new Set());
      origins.set(id, n.name);
      published++;
      nextPublish += o.publishEveryMs;
    }
    await sim.run(o.sampleMs, Math.min(10, o.sampleMs));
    sample(start);
    if (o.stopWhenEvicted === true && now < attackEnd && rogues.every((r) => r.attack.charged === 'none' || r.evicted.every((x) => x >= 0))) break;
  }

  let missing = 0;
  const missingByNode = new Map<string, number>();
  for (const [id, got] of delivered) {
    for (const n of honest) {
      if (n.name === origins.get(id) || got.has(n.name)) continue;
      missing++;
      missingByNode.set(n.name, (missingByNode.get(n.name) ?? 0) + 1);
    }
  }
  const result: ScenarioResult = {
    roundMs, formedMs, samples, published, sim, honestNodes: honest,
    attackers: rogues.map((r) => ({
      name: r.name, id: r.id, charged: r.attack.charged, evictedAfterMs: r.evicted,
      bannedOn: honest.filter((n) => n.reputation!.levelOf(r.id) === Level.BANNED).length,
      rateLimitedOn: honest.filter((n) => (n.internals.link.dropCounts()['rate-limited'] ?? 0) > 0).length,
    })),
    minHonestScore, minHonestWhere,
    evidenceOn: honest.filter((n) => n.reputation!.recentEvidence(1).length > 0).length,
    expectedDeliveries: published * (honest.length - 1),
    missingDeliveries: missing,
    missingByNode,
    virtualMs: sim.clock.now() - start,
    wallMs: performance.now() - wall,
  };
  for (const r of rogues) await r.transport.close();
  return result;
}
