import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeIdentityInMemory } from '../../src/identity/node-identity.js';
import { CountingGate } from '../../src/link/peer-gate.js';
import { EnvelopeRouter } from '../../src/link/envelope-router.js';
import type { Node } from '../../src/node.js';
import { writeSignedRevocationFile } from '../../src/policy/signed-documents.js';
import { RogueEndpoint } from '../../src/sim/rogue-endpoint.js';
import type { SimCluster } from '../../src/sim/sim-cluster.js';
import { EnvelopeKind, signEnvelope } from '../../src/wire/envelope.js';
import { backend, signList, tempDir } from './helpers.js';
import { bound, countingCluster, formed, hex } from './sim-helpers.js';

let sim: SimCluster | null = null;
afterEach(async () => {
  await sim?.stopAll();
  sim = null;
});

const gates = new Map<string, CountingGate>();
const cluster = (seed: number): SimCluster => countingCluster(seed, gates);

/** Has `n` cut `victimId` off: list adopted, no link record, not a member. */
function cutOff(n: Node, victimId: Uint8Array, version: number): boolean {
  return n.policy.revocationVersion >= version && n.internals.link.peer(victimId) === undefined && !n.members().some((m) => m.id === hex(victimId));
}

describe('revocation on a simulated cluster', () => {
  it('a revoked node is cut off by every node within the bound, and its packets are dropped', async () => {
    sim = cluster(21);
    const N = 24;
    const nodes = await sim.startNodes(N);
    await formed(sim, nodes, 0.8);
    const victim = nodes[7]!;
    const victimId = victim.internals.identity.nodeId;
    const others = nodes.filter((n) => n !== victim);
    const delivered = new Map<string, number>();
    for (const n of others) n.subscribe('default/t/x', () => delivered.set(n.name, (delivered.get(n.name) ?? 0) + 1));
    // Before: the victim's messages arrive.
    victim.publish('default/t/x', 'before');
    await sim.run(500);
    expect(others.filter((n) => (delivered.get(n.name) ?? 0) > 0).length).toBeGreaterThan(N / 2);

    const cert = victim.internals.identity.cert;
    const list = signList('sim', 1, [{ serial: cert.serial, nodeId: victimId, revokedAt: sim.clock.now(), reason: 'compromised', name: cert.name }], sim.authoritySeed);
    nodes[0]!.policy.adoptRevocation(list, 'api');
    const limit = bound(N, nodes[0]!);
    const took = await sim.runUntil(() => others.every((n) => cutOff(n, victimId, 1)), limit);
    expect(took, `cut off everywhere within ${limit} ms`).toBeGreaterThanOrEqual(0);
    console.log(`revoked node cut off by all ${N - 1} nodes in ${took} ms of virtual time (bound ${limit} ms)`);

    // After: everything it sends is dropped before any crypto, and it never comes back.
    delivered.clear();
    const blockedBefore = others.reduce((s, n) => s + (n.internals.link.dropCounts()['blocked'] ?? 0), 0);
    victim.publish('default/t/x', 'after');
    await sim.run(3000);
    expect([...delivered.values()].reduce((a, b) => a + b, 0)).toBe(0);
    const blockedAfter = others.reduce((s, n) => s + (n.internals.link.dropCounts()['blocked'] ?? 0), 0);
    expect(blockedAfter).toBeGreaterThan(blockedBefore);
    expect(others.every((n) => cutOff(n, victimId, 1))).toBe(true);

    // A hand-made packet with its certificate attached: refused at the header check.
    const rogue = new RogueEndpoint({ identity: victim.internals.identity, cluster: 'sim', backend, epoch: sim.clock.now() + 1 });
    const target = others[3]!;
    const before = target.internals.link.dropCounts()['blocked'] ?? 0;
    target.internals.link.receive(rogue.hello(), 'rogue:1');
    target.internals.link.receive(rogue.seal(target.internals.identity.cert, [[2, new Uint8Array(10)]]), 'rogue:1');
    expect((target.internals.link.dropCounts()['blocked'] ?? 0) - before).toBe(2);
  });

  it('a node partitioned during the revocation catches up within the bound after the partition heals', async () => {
    sim = cluster(22);
    const N = 12;
    const nodes = await sim.startNodes(N);
    await formed(sim, nodes, 0.9);
    const victim = nodes[3]!;
    const away = nodes[9]!;
    sim.network.partition([[away.address]]);
    const cert = victim.internals.identity.cert;
    nodes[0]!.policy.adoptRevocation(signList('sim', 1, [{ serial: cert.serial, nodeId: cert.nodeId, revokedAt: sim.clock.now(), reason: 'retired', name: cert.name }], sim.authoritySeed), 'api');
    await sim.run(3000);
    expect(away.policy.revocationVersion).toBe(0);
    sim.network.heal();
    const took = await sim.runUntil(() => cutOff(away, cert.nodeId, 1), bound(N, away) + 20_000);
    // After a partition the node must first find its peers again (membership), then one offer round.
    expect(took).toBeGreaterThanOrEqual(0);
    console.log(`partitioned node caught up ${took} ms after the heal`);
  });

  it('rotation: the node rejoins under its new identity with its key/value data; the old key is refused', async () => {
    sim = cluster(23);
    const nodes = await sim.startNodes(4);
    const dataDir = tempDir();
    const rotated = sim.createNode({ name: 'rotated', config: { dataDir: join(dataDir, 'rotated') } });
    await rotated.start();
    const all = [...nodes, rotated];
    await formed(sim, all);
    await rotated.kv.set('default/k/before', 'written by the old key');
    const replicated = await sim.runUntil(() => all.every((n) => n.kv.get('default/k/before') !== undefined), 10_000);
    expect(replicated).toBeGreaterThanOrEqual(0);

    const old = rotated.internals.identity;
    const fresh = createNodeIdentityInMemory({ authoritySeed: sim.authoritySeed, cluster: 'sim', name: 'rotated', tenant: 'default', now: sim.clock.now(), backend });
    const revokedAt = sim.clock.now();
    const file = join(dataDir, 'revocation.signed.json');
    writeSignedRevocationFile(file, signList('sim', 1, [{ serial: old.cert.serial, nodeId: old.nodeId, revokedAt, reason: 'superseded', name: 'rotated' }], sim.authoritySeed));
    const again = await sim.restart(rotated, { identity: fresh, config: { revocationFile: file } });
    const members = [...nodes, again];
    const limit = bound(5, again) + 10_000;
    const took = await sim.runUntil(() => nodes.every((n) => cutOff(n, old.nodeId, 1) && n.members().some((m) => m.id === hex(fresh.nodeId) && m.state === 'alive')), limit);
    expect(took, 'new identity in, old identity out').toBeGreaterThanOrEqual(0);

    // Its data stays: locally (the store is keyed by key), on every replica, and for a node that joins later.
    expect(Buffer.from(again.kv.get('default/k/before')!).toString()).toBe('written by the old key');
    const late = sim.createNode({ name: 'late' });
    await late.start();
    const got = await sim.runUntil(() => late.kv.get('default/k/before') !== undefined, 20_000);
    expect(got, 'a later replica receives data written before the rotation').toBeGreaterThanOrEqual(0);
    await again.kv.set('default/k/after', 'written by the new key');
    expect(await sim.runUntil(() => members.every((n) => n.kv.get('default/k/after') !== undefined), 10_000)).toBeGreaterThanOrEqual(0);

    // The old key is refused on the link, and a write it signs after its revocation is refused too.
    const target = nodes[1]!;
    const rogue = new RogueEndpoint({ identity: old, cluster: 'sim', backend, epoch: sim.clock.now() });
    const blocked = target.internals.link.dropCounts()['blocked'] ?? 0;
    target.internals.link.receive(rogue.hello(), 'old:1');
    expect(target.internals.link.dropCounts()['blocked']).toBe(blocked + 1);
    const policyDrops = target.internals.link.dropCounts()['policy'] ?? 0;
    const late1 = signEnvelope(EnvelopeKind.KV_WRITE, old.nodeId, old.seed, ['default/k/before', new Uint8Array([1]), sim.clock.now(), 0, 2], backend);
    const relay = nodes[2]!;
    relay.internals.link.send(relay.internals.link.peer(target.internals.identity.nodeId)!, [EnvelopeRouter.message(late1.bytes)]);
    await sim.run(200);
    expect(target.internals.link.dropCounts()['policy']).toBe(policyDrops + 1);
    expect(Buffer.from(target.kv.get('default/k/before')!).toString()).toBe('written by the old key');
  });
});
