/**
 * Membership through the whole node stack (sealed packets, envelope router, signatures, link
 * peer table) on the in-memory network and a virtual clock. Clusters are small here because a
 * full node costs ~4 KB of link state per peer and runs every layer's timers; scale.test.ts runs
 * the same membership code for 1,000 nodes on the lightweight harness.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeIdentityInMemory } from '../../src/identity/node-identity.js';
import { CountingGate } from '../../src/link/peer-gate.js';
import type { HealthReport } from '../../src/membership/health.js';
import { detectionBound } from '../../src/membership/timing.js';
import type { Node } from '../../src/node.js';
import { RogueEndpoint } from '../../src/sim/rogue-endpoint.js';
import { SimCluster } from '../../src/sim/sim-cluster.js';
import { EnvelopeKind } from '../../src/wire/envelope.js';

let sim: SimCluster | null = null;
const gates = new Map<string, CountingGate>();

afterEach(async () => {
  await sim?.stopAll();
  sim = null;
  gates.clear();
});

function cluster(seed: number, extra: ConstructorParameters<typeof SimCluster>[0] = {}): SimCluster {
  sim = new SimCluster({
    seed, network: { latencyMs: 1, jitterMs: 2 }, ...extra,
    gate: (name) => {
      const g = new CountingGate();
      gates.set(name, g);
      return g;
    },
  });
  return sim;
}

/** Ids by node, captured while running (a stopped node's getters throw). */
const ids = new WeakMap<Node, string>();
const idOf = (n: Node): string => {
  let id = ids.get(n);
  if (id === undefined) {
    id = n.id;
    ids.set(n, id);
  }
  return id;
};
const stateOf = (observer: Node, subject: Node): string | undefined => observer.internals.members.get(idOf(subject))?.state;
const allSee = (nodes: readonly Node[], n: number): boolean => nodes.every((x) => x.internals.members.alive().length === n - 1);

describe('membership on the full node stack', () => {
  it('joins through a seed, detects a crash within the derived bound, spreads a graceful leave, and readmits a restarted node', async () => {
    const s = cluster(21);
    const nodes = await s.startNodes(12);
    expect(await s.runUntil(() => allSee(nodes, 12), 15_000)).toBeGreaterThanOrEqual(0);
    for (const n of nodes) expect(n.health().state).toBe('healthy');
    // Members carry their certificate's name, tenant and roles.
    const seen = nodes[1]!.members().find((m) => m.id === nodes[7]!.id)!;
    expect(seen).toMatchObject({ name: 'node-7', tenant: 'default', state: 'alive', self: false });

    // kill -9: no goodbye.
    const victim = nodes[11]!;
    const oldIncarnation = victim.internals.members.incarnation;
    const deadEvents: string[] = [];
    nodes[0]!.on('dead', (m) => deadEvents.push(m.name));
    s.network.crash(victim.address);
    const live = nodes.slice(0, 11);
    const bound = detectionBound(nodes[0]!.config, 12).boundMs;
    const took = await s.runUntil(() => live.every((n) => stateOf(n, victim) === 'dead'), bound);
    expect(took, `declared dead by all within ${bound} ms`).toBeGreaterThanOrEqual(0);
    expect(deadEvents).toEqual(['node-11']);

    // Graceful leave: others learn it from the node's own signed LEAVE, not from a timeout.
    const leaver = nodes[10]!;
    idOf(leaver);
    idOf(victim);
    const leaveEvents: string[] = [];
    nodes[0]!.on('leave', (m) => leaveEvents.push(m.name));
    await s.stopNode(leaver);
    const rest = nodes.slice(0, 10);
    expect(await s.runUntil(() => rest.every((n) => stateOf(n, leaver) === 'left'), 2000)).toBeGreaterThanOrEqual(0);
    expect(leaveEvents).toEqual(['node-10']);

    // Restart of the crashed node: same identity, new epoch, so a higher incarnation that beats
    // the DEAD claims about its previous life.
    await s.run(50);
    const back = await s.restart(victim);
    expect(back.id).toBe(idOf(victim));
    const alive: string[] = [];
    nodes[0]!.on('alive', (m) => alive.push(m.name));
    expect(await s.runUntil(() => rest.every((n) => stateOf(n, back) === 'alive') && back.internals.members.alive().length === 10, 15_000)).toBeGreaterThanOrEqual(0);
    expect(back.internals.members.incarnation).toBeGreaterThan(oldIncarnation);
    expect(nodes[0]!.internals.members.get(back.id)!.incarnation).toBe(back.internals.members.incarnation);
    expect(alive).toEqual(['node-11']);
  }, 120_000);

  it('reports a partition into two halves on both sides and heals into one view', async () => {
    const s = cluster(22);
    const nodes = await s.startNodes(16);
    expect(await s.runUntil(() => allSee(nodes, 16), 20_000)).toBeGreaterThanOrEqual(0);
    const health = new Map<string, HealthReport['state'][]>();
    for (const n of nodes) n.on('health', (h) => health.set(n.name, [...(health.get(n.name) ?? []), h.state]));
    const left = nodes.slice(0, 8);
    const right = nodes.slice(8);
    s.network.partition([left.map((n) => n.address)]);
    const split = await s.runUntil(() =>
      left.every((n) => right.every((r) => stateOf(n, r) === 'dead')) && right.every((n) => left.every((l) => stateOf(n, l) === 'dead')), 30_000);
    expect(split).toBeGreaterThanOrEqual(0);
    for (const n of nodes) expect(n.health().state, n.name).toBe('partitioned');
    for (const n of nodes) expect(health.get(n.name), n.name).toContain('partitioned');

    s.network.heal();
    // Reconnects (a ping to a random dead member every reconnectIntervalMs) find the other side;
    // push-pull and refutations merge the views.
    const limit = 3 * nodes[0]!.config.reconnectIntervalMs;
    const healed = await s.runUntil(() => allSee(nodes, 16), limit);
    expect(healed, `healed within ${limit} ms`).toBeGreaterThanOrEqual(0);
    for (const n of nodes) {
      expect(n.health().state, n.name).toBe('healthy');
      expect(health.get(n.name)!.at(-1), n.name).toBe('healthy');
    }
  }, 180_000);
});

describe('membership on the full node stack, larger and longer', () => {
  it('100 nodes started at once form one view and detect a crash within the derived bound (fastCrypto)', async () => {
    const s = cluster(26, { fastCrypto: true });
    const nodes = await s.startNodes(100);
    // Every node joins through node-0 at the same instant: pushPullPerSecond refuses some joins,
    // which retry with backoff while gossip spreads the claims of those that got in.
    expect(await s.runUntil(() => allSee(nodes, 100), 40_000, 20)).toBeGreaterThanOrEqual(0);
    const victim = nodes[42]!;
    idOf(victim);
    s.network.crash(victim.address);
    const live = nodes.filter((n) => n !== victim);
    const bound = detectionBound(nodes[0]!.config, 100);
    const took = await s.runUntil(() => live.every((n) => stateOf(n, victim) === 'dead'), bound.boundMs, 20);
    expect(took, `declared dead by all within ${bound.boundMs} ms`).toBeGreaterThanOrEqual(0);
    expect(live.every((n) => n.internals.members.alive().length === 98)).toBe(true);
  }, 120_000);

  it('20 nodes over 10 minutes of virtual time at 10% packet loss never declare a live node dead', async () => {
    const s = cluster(27);
    const nodes = await s.startNodes(20);
    expect(await s.runUntil(() => allSee(nodes, 20), 15_000)).toBeGreaterThanOrEqual(0);
    s.network.configure({ lossRate: 0.1 });
    let deaths = 0;
    let suspicions = 0;
    for (const n of nodes) {
      n.on('dead', () => deaths++);
      n.on('leave', () => deaths++);
      n.on('suspect', () => suspicions++);
    }
    await s.run(600_000, 50);
    expect(deaths).toBe(0);
    expect(suspicions).toBeGreaterThan(0);
    expect(nodes.every((n) => n.internals.members.all().every((m) => m.state === 'alive' || m.state === 'suspect'))).toBe(true);
  }, 180_000);
});

describe('membership and the reputation engine', () => {
  it('a node that bans a member locally stops probing it, so it never accuses a member the others still hear', async () => {
    // Real reputation engines (no counting gate): a ban on one node drops the member's packets at
    // that node's header check, its ACKs included.
    sim = new SimCluster({ seed: 28, network: { latencyMs: 1, jitterMs: 2 } });
    const s = sim;
    const nodes = await s.startNodes(6);
    expect(await s.runUntil(() => allSee(nodes, 6), 15_000)).toBeGreaterThanOrEqual(0);
    const [judge, banned] = [nodes[0]!, nodes[3]!];
    judge.reputation!.ban(banned.id, { reason: 'test: operator ban on one node', durationMs: 3_600_000 });
    let accusations = 0;
    for (const n of nodes) n.on('suspect', (m) => { if (m.id === banned.id) accusations++; });
    const probes = judge.metrics.counter('hearsay_membership_probes_total', '');
    const before = probes.byLabel('result');
    await s.run(30_000, 50);
    // The judge skips it in its probe order: every probe it ran was answered directly (a probe of
    // the banned member would fail directly, its ACK dropped at the header check, and be rescued
    // by an indirect probe through the others at best).
    const after = probes.byLabel('result');
    expect((after.ack ?? 0) - (before.ack ?? 0)).toBeGreaterThan(50);
    for (const result of ['indirect-ack', 'tcp-ack', 'failed']) expect((after[result] ?? 0) - (before[result] ?? 0), result).toBe(0);
    // Nobody suspected it; the others hear it fine.
    expect(accusations).toBe(0);
    for (const n of nodes) if (n !== banned) expect(stateOf(n, banned), n.name).toBe('alive');
    // And nobody holds a refuted accusation against the judge.
    for (const n of nodes) {
      if (n === judge) continue;
      expect(n.internals.members.refutedAccusations(judge.id), n.name).toBe(0);
      expect(n.reputation!.scoreOf(judge.id), n.name).toBeGreaterThanOrEqual(0);
    }
  }, 60_000);
});

describe('liars', () => {
  async function withRogue(seed: number): Promise<{ s: SimCluster; nodes: Node[]; rogue: RogueEndpoint; inject: (to: Node, msgs: unknown[][]) => void }> {
    const s = cluster(seed);
    const nodes = await s.startNodes(8);
    expect(await s.runUntil(() => allSee(nodes, 8), 15_000)).toBeGreaterThanOrEqual(0);
    const identity = createNodeIdentityInMemory({ authoritySeed: s.authoritySeed, cluster: s.cluster, name: 'rogue', now: s.clock.now(), backend: s.backend });
    const rogue = new RogueEndpoint({ identity, cluster: s.cluster, backend: s.backend, epoch: s.clock.now() });
    const inject = (to: Node, msgs: unknown[][]): void => to.internals.link.receive(rogue.seal(to.internals.identity.cert, msgs), 'rogue-host:7400');
    return { s, nodes, rogue, inject };
  }

  it('a member that falsely accuses others is refuted by them, and counted against it everywhere', async () => {
    const { s, nodes, rogue, inject } = await withRogue(23);
    const rogueHex = Buffer.from(rogue.identity.nodeId).toString('hex');
    // The rogue is a certified member: its own ALIVE makes it known (and so an accuser that counts).
    inject(nodes[0]!, [RogueEndpoint.message(rogue.aliveClaim(s.clock.now() * 1024, 'rogue-host:7400'))]);
    await s.run(300);
    const [a, b] = [nodes[3]!, nodes[5]!];
    const incA = a.internals.members.incarnation;
    const incB = b.internals.members.incarnation;
    inject(nodes[0]!, [
      RogueEndpoint.message(rogue.accusation('suspect', a.internals.identity.nodeId, incA, s.clock.now())),
      RogueEndpoint.message(rogue.accusation('dead', b.internals.identity.nodeId, incB, s.clock.now())),
    ]);
    expect(stateOf(nodes[0]!, a)).toBe('suspect');
    expect(stateOf(nodes[0]!, b)).toBe('dead');
    // The lies spread, reach their targets, and are refuted with a higher incarnation everywhere.
    const others = nodes.filter((n) => n !== a && n !== b);
    const refuted = await s.runUntil(() => others.every((n) => stateOf(n, a) === 'alive' && stateOf(n, b) === 'alive'), 10_000);
    expect(refuted).toBeGreaterThanOrEqual(0);
    expect(a.internals.members.incarnation).toBe(incA + 1);
    expect(b.internals.members.incarnation).toBe(incB + 1);
    // Counted: every node that held a refuted accusation charged the rogue.
    const charged = nodes.filter((n) => gates.get(n.name)!.count(rogue.identity.nodeId, 'contradicted-claim') > 0);
    expect(charged.length).toBeGreaterThanOrEqual(6);
    expect(a.internals.members.refutedAccusations(rogueHex)).toBeGreaterThanOrEqual(1);
    expect(nodes[0]!.internals.members.refutedAccusations(rogueHex)).toBe(2);

    // An accusation of an incarnation the member never published is refused outright, and the
    // member itself, if it gets it, calls it a lie.
    const before = gates.get(a.name)!.count(rogue.identity.nodeId, 'contradicted-claim');
    inject(a, [RogueEndpoint.message(rogue.accusation('dead', a.internals.identity.nodeId, incA + 50, s.clock.now()))]);
    inject(nodes[1]!, [RogueEndpoint.message(rogue.accusation('dead', a.internals.identity.nodeId, incA + 50, s.clock.now()))]);
    expect(stateOf(nodes[1]!, a)).toBe('alive');
    expect(a.internals.members.incarnation).toBe(incA + 1);
    expect(gates.get(a.name)!.count(rogue.identity.nodeId, 'contradicted-claim')).toBe(before + 1);
  }, 60_000);

  it('a forged ALIVE or LEAVE for another node, a foreign certificate, or a replay changes nothing', async () => {
    const { s, nodes, rogue, inject } = await withRogue(24);
    const victim = nodes[4]!;
    const target = nodes[0]!;
    const viewBefore = target.internals.members.get(victim.id)!;
    const victimId = victim.internals.identity.nodeId;
    const victimCert = victim.internals.identity.certBytes;
    const inc = victim.internals.members.incarnation;
    const oldAlive = victim.internals.members.ownClaim!.bytes;
    inject(target, [
      // Claims in the victim's name, signed with the rogue's key: the signature cannot verify.
      RogueEndpoint.message(rogue.forge(EnvelopeKind.ALIVE, victimId, [inc + 1, 'evil-host:7400', victimCert])),
      RogueEndpoint.message(rogue.forge(EnvelopeKind.LEAVE, victimId, [inc + 1])),
    ]);
    // Its own signature over the victim's certificate: an ALIVE must carry the signer's certificate.
    inject(target, [RogueEndpoint.message(rogue.aliveClaim(inc + 1, 'evil-host:7400', victimCert))]);
    await s.run(2000);
    for (const n of nodes) {
      const m = n.internals.members.get(victim.id);
      if (n === victim) continue;
      expect(m, n.name).toMatchObject({ state: 'alive', incarnation: inc, address: viewBefore.address });
    }
    const g = gates.get(target.name)!;
    expect(g.count(rogue.identity.nodeId, 'invalid-signature')).toBe(2);
    expect(g.count(rogue.identity.nodeId, 'malformed')).toBe(1);

    // Make the victim refute once, then replay its old ALIVE: stale, nothing changes.
    inject(target, [RogueEndpoint.message(rogue.aliveClaim(s.clock.now() * 1024, 'rogue-host:7400'))]);
    inject(target, [RogueEndpoint.message(rogue.accusation('suspect', victimId, inc, s.clock.now()))]);
    expect(await s.runUntil(() => nodes.every((n) => n === victim || n.internals.members.get(victim.id)?.incarnation === inc + 1), 10_000)).toBeGreaterThanOrEqual(0);
    inject(nodes[2]!, [RogueEndpoint.message(oldAlive)]);
    await s.run(500);
    expect(nodes[2]!.internals.members.get(victim.id)).toMatchObject({ state: 'alive', incarnation: inc + 1 });

    // An accusation signed long ago (older than the dedup window), handed over in a packet: a
    // replay by whoever relays it, charged to that relay; the member is not even suspected.
    const g2 = gates.get(nodes[2]!.name)!;
    const old = rogue.accusation('dead', victimId, inc + 1, s.clock.now() - nodes[2]!.config.seenTtlMs - 1000);
    inject(nodes[2]!, [RogueEndpoint.message(old)]);
    expect(nodes[2]!.internals.members.get(victim.id)).toMatchObject({ state: 'alive', incarnation: inc + 1 });
    expect(g2.count(rogue.identity.nodeId, 'replay')).toBe(1);
  }, 60_000);

  it('two different ALIVE claims signed for one incarnation are reported as equivocation', async () => {
    const { s, nodes, rogue, inject } = await withRogue(25);
    const inc = s.clock.now() * 1024;
    const first = rogue.aliveClaim(inc, 'rogue-host:7400');
    const second = rogue.aliveClaim(inc, 'other-host:7400');
    inject(nodes[0]!, [RogueEndpoint.message(first)]);
    inject(nodes[0]!, [RogueEndpoint.message(second)]);
    const g = gates.get(nodes[0]!.name)!;
    expect(g.equivocations).toHaveLength(1);
    expect(Buffer.compare(g.equivocations[0]![0], first.bytes)).toBe(0);
    expect(Buffer.compare(g.equivocations[0]![1], second.bytes)).toBe(0);
    // The first claim stands; the address is not moved by the second.
    expect(nodes[0]!.internals.members.get(Buffer.from(rogue.identity.nodeId).toString('hex'))?.address).toBe('rogue-host:7400');
  }, 60_000);
});
