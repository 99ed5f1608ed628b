import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CountingGate } from '../../src/link/peer-gate.js';
import { EnvelopeRouter } from '../../src/link/envelope-router.js';
import { encodeMessage } from '../../src/link/message-list.js';
import { spreadBoundMs } from '../../src/policy/policy-gossip.js';
import type { SimCluster } from '../../src/sim/sim-cluster.js';
import { EnvelopeKind, signEnvelope } from '../../src/wire/envelope.js';
import { MessageType } from '../../src/wire/messages.js';
import { backend, policyDoc, signDoc, tempDir } from './helpers.js';
import { bound, countingCluster, formed } from './sim-helpers.js';

let sim: SimCluster | null = null;
afterEach(async () => {
  await sim?.stopAll();
  sim = null;
});

const gates = new Map<string, CountingGate>();
const cluster = (seed: number): SimCluster => countingCluster(seed, gates);

describe('signed policy updates on a simulated cluster', () => {
  it('a newer version adopted by one node is adopted by every node within the stated bound', async () => {
    sim = cluster(5);
    const N = 30;
    const nodes = await sim.startNodes(N);
    await formed(sim, nodes, 0.8);
    const limit = bound(N, nodes[0]!);
    for (const [version, from] of [[1, 0], [2, 17]] as const) {
      expect(nodes[from]!.policy.adoptPolicy(signDoc(policyDoc({ version }), sim.authoritySeed), 'api')).toBe('adopted');
      const took = await sim.runUntil(() => sim!.nodes.every((n) => n.policy.policyVersion === version), limit);
      expect(took, `version ${version} everywhere within ${limit} ms`).toBeGreaterThanOrEqual(0);
      expect(took).toBeLessThanOrEqual(limit);
      console.log(`policy version ${version} reached all ${N} nodes in ${took} ms of virtual time (bound ${limit} ms)`);
    }
    // Everyone now decides by version 2.
    expect(nodes.every((n) => n.authorizer.version === 2)).toBe(true);
  });

  it('older, unsigned and forged versions are refused; replays and broken promises are charged', async () => {
    sim = cluster(6);
    const nodes = await sim.startNodes(4);
    await formed(sim, nodes);
    nodes[0]!.policy.adoptPolicy(signDoc(policyDoc({ version: 2 }), sim.authoritySeed), 'api');
    await sim.runUntil(() => nodes.every((n) => n.policy.policyVersion === 2), 5000);
    const [target, liar] = [nodes[1]!, nodes[3]!];
    const liarPeer = target.internals.link.peer(liar.internals.identity.nodeId)!;
    const targetPeer = liar.internals.link.peer(target.internals.identity.nodeId)!;
    const charges = (offense: Parameters<CountingGate['count']>[1]): number => gates.get(target.name)!.count(liar.internals.identity.nodeId, offense);
    const authority = backend.publicKeyOf(sim.authoritySeed);
    const push = (envBytes: Uint8Array): void => {
      liar.internals.link.send(targetPeer, [EnvelopeRouter.message(envBytes)]);
    };

    // 1. An old version, validly signed, pushed unasked: refused, charged as a replay.
    const old = signDoc(policyDoc({ version: 1, grants: [] }), sim.authoritySeed);
    push(old.envelope.bytes);
    await sim.run(200);
    expect(target.policy.policyVersion).toBe(2);
    expect(charges('replay')).toBe(1);

    // 2. A higher version signed by the liar's own key (origin = liar): not the authority, dropped.
    const liarSeed = liar.internals.identity.seed;
    const docBytes = new Uint8Array(Buffer.from(JSON.stringify(policyDoc({ version: 9, grants: [] }))));
    push(signEnvelope(EnvelopeKind.POLICY, liar.internals.identity.nodeId, liarSeed, [9, 'sim', docBytes], backend).bytes);
    // 3. The same claiming the authority as origin but signed by the liar: forged, charged.
    push(signEnvelope(EnvelopeKind.POLICY, authority, liarSeed, [9, 'sim', docBytes], backend).bytes);
    await sim.run(200);
    expect(target.policy.policyVersion).toBe(2);
    expect(target.internals.link.dropCounts()['unknown-origin']).toBeGreaterThanOrEqual(1);
    expect(charges('invalid-signature')).toBe(1);

    // 4. Offering version 99 and serving version 2: a broken promise; its offers are then ignored.
    liar.internals.link.send(targetPeer, [encodeMessage([MessageType.POLICY_OFFER, 99, 0])]);
    await sim.run(300);
    expect(charges('broken-promise')).toBe(1);
    liar.internals.link.send(targetPeer, [encodeMessage([MessageType.POLICY_OFFER, 99, 0])]);
    await sim.run(300);
    expect(charges('broken-promise')).toBe(1);
    expect(sim.nodes.every((n) => n.policy.policyVersion === 2)).toBe(true);
    expect(liarPeer).toBeDefined();
  });

  it('adopted versions survive a restart (dataDir), and a late joiner catches up', async () => {
    sim = cluster(7);
    const dataDir = tempDir();
    const nodes = await sim.startNodes(3);
    const durable = sim.createNode({ name: 'durable', config: { dataDir: join(dataDir, 'd') } });
    await durable.start();
    const all = [...nodes, durable];
    await formed(sim, all);
    nodes[0]!.policy.adoptPolicy(signDoc(policyDoc({ version: 4 }), sim.authoritySeed), 'api');
    await sim.runUntil(() => all.every((n) => n.policy.policyVersion === 4), 5000);
    expect(durable.policy.policyVersion).toBe(4);

    // Restarted alone (no peer to ask): the version comes back from its dataDir before any gossip.
    const index = sim.nodes.indexOf(durable);
    const restarted = await sim.restart(durable, { seeds: [] });
    expect(sim.nodes[index]).toBe(restarted);
    expect(restarted.policy.policyVersion).toBe(4);

    // A node that joins later learns the version from the first peer it meets.
    const late = sim.createNode({ name: 'late' });
    await late.start();
    const took = await sim.runUntil(() => late.policy.policyVersion === 4, bound(5, late));
    expect(took).toBeGreaterThanOrEqual(0);
  });
});

describe('spread bound', () => {
  it('grows with log N and the offer interval', () => {
    const o = { fanout: 3, offerIntervalMs: 1000, requestTimeoutMs: 5000 };
    expect(spreadBoundMs(2, o)).toBe(4 * 1000 + 10_000);
    expect(spreadBoundMs(1000, o)).toBe((5 + 3) * 1000 + 10_000);
    expect(spreadBoundMs(1000, { ...o, offerIntervalMs: 250 })).toBeLessThan(spreadBoundMs(1000, o));
  });
});

