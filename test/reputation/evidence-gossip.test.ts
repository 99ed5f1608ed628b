import { afterEach, describe, expect, it } from 'vitest';
import { createNodeIdentityInMemory } from '../../src/identity/node-identity.js';
import { Level } from '../../src/reputation/score.js';
import { RogueEndpoint } from '../../src/sim/rogue-endpoint.js';
import { SimCluster } from '../../src/sim/sim-cluster.js';
import { frameLimits } from '../../src/wire/codec.js';
import { parseEnvelope } from '../../src/wire/envelope.js';
import { MessageType } from '../../src/wire/messages.js';

let sim: SimCluster | null = null;
afterEach(async () => {
  await sim?.stopAll();
  sim = null;
});

const envelopeOf = (msg: unknown[]): Uint8Array => {
  const p = parseEnvelope(msg[1] as Uint8Array, frameLimits(1 << 20));
  if (!p.ok) throw new Error('unparsable');
  return p.value.bytes;
};

describe('evidence gossip', () => {
  it('spreads a proof too large for a packet to nodes that never met the origin, and to a node that joins later', async () => {
    sim = new SimCluster({ seed: 21, network: { lossRate: 0.1, latencyMs: 2, jitterMs: 2 } });
    const nodes = await sim.startNodes(4);
    expect(await sim.runUntil(() => nodes.every((n) => n.members().length === 4), 30_000)).toBeGreaterThanOrEqual(0);
    const identity = createNodeIdentityInMemory({ authoritySeed: sim.authoritySeed, cluster: sim.cluster, name: 'two-faced', now: sim.clock.now(), backend: sim.backend });
    const rogue = new RogueEndpoint({ identity, cluster: sim.cluster, backend: sim.backend, epoch: sim.clock.now() });
    const transport = sim.network.createTransport('rogue:7400');
    transport.onPacket(() => {});
    await transport.start();
    // Only node 0 ever hears from the rogue (so only it has its certificate).
    for (let i = 0; i < 5; i++) transport.send(nodes[0]!.address, rogue.seal(nodes[0]!.internals.identity.cert, [[MessageType.WELCOME]]));
    await sim.run(200);
    expect(nodes[0]!.internals.link.peer(identity.nodeId)).toBeDefined();
    for (const n of nodes.slice(1)) expect(n.internals.link.peer(identity.nodeId)).toBeUndefined();
    // Two ~1 KB rumors for one slot: with a certificate, the proof is ~2.6 KB, larger than a packet.
    const big = (fill: number): Uint8Array => new Uint8Array(1000).fill(fill);
    const a = envelopeOf(rogue.rumor('default/x', 1, sim.clock.now(), big(1)));
    const b = envelopeOf(rogue.rumor('default/x', 1, sim.clock.now(), big(2)));
    expect(a.length + b.length).toBeGreaterThan(nodes[0]!.config.maxPacketBytes);
    nodes[0]!.gate.reportEquivocation(a, b);
    const spread = await sim.runUntil(() => nodes.every((n) => n.reputation!.levelOf(identity.nodeId) === Level.BANNED), 20_000);
    expect(spread).toBeGreaterThanOrEqual(0);
    for (const n of nodes) expect(n.reputation!.query.evidence()).toHaveLength(1);
    // A node that joins after the proof stopped being pushed gets it on first contact.
    await sim.run(40_000);
    const [late] = await sim.startNodes(1);
    // Joining itself can take a few HELLO retries (one per reconnectIntervalMs) at 10% loss.
    expect(await sim.runUntil(() => late!.members().length === 5, 60_000)).toBeGreaterThanOrEqual(0);
    const got = await sim.runUntil(() => late!.reputation!.levelOf(identity.nodeId) === Level.BANNED, 20_000);
    expect(got).toBeGreaterThanOrEqual(0);
    expect(late!.reputation!.query.evidence()[0]!.origin).toBe(Buffer.from(identity.nodeId).toString('hex'));
    await transport.close();
  }, 120_000);
});
