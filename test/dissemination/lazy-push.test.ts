import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeIdentityInMemory } from '../../src/identity/node-identity.js';
import { CountingGate } from '../../src/link/peer-gate.js';
import type { Node } from '../../src/node.js';
import { RogueEndpoint } from '../../src/sim/rogue-endpoint.js';
import { SimCluster } from '../../src/sim/sim-cluster.js';
import { MessageType } from '../../src/wire/messages.js';

let sim: SimCluster | null = null;
afterEach(async () => {
  await sim?.stopAll();
  sim = null;
});

async function target(config: Record<string, unknown> = {}): Promise<{ node: Node; gate: CountingGate; rogue: (tenant: string) => RogueEndpoint }> {
  const gate = new CountingGate();
  sim = new SimCluster({ seed: 71, gate: () => gate, config });
  const [node] = await sim.startNodes(1, 't', { tenant: 'demo' });
  const rogue = (tenant: string): RogueEndpoint => new RogueEndpoint({
    identity: createNodeIdentityInMemory({ authoritySeed: sim!.authoritySeed, cluster: sim!.cluster, name: `r-${tenant}`, tenant, now: sim!.clock.now(), backend: sim!.backend }),
    cluster: sim!.cluster, backend: sim!.backend, epoch: sim!.clock.now(),
  });
  return { node: node!, gate, rogue };
}

const metric = (n: Node, name: string): number => n.metrics.counter(name, '').get();

describe('lazy push bookkeeping', () => {
  it('asks an advertiser once for an unknown id, and charges it a broken promise when it does not deliver', async () => {
    const { node, gate, rogue } = await target();
    const r = rogue('demo');
    const id = randomBytes(32);
    const inject = (): void => node.internals.link.receive(r.seal(node.internals.identity.cert, [[MessageType.IHAVE, [id]]]), 'rogue-host:1');
    inject();
    inject(); // advertised again while the IWANT is pending: not asked twice
    expect(metric(node, 'hearsay_gossip_iwant_ids_sent_total')).toBe(1);
    await sim!.run(node.config.iwantTimeoutMs + 50);
    expect(gate.count(r.identity.nodeId, 'broken-promise')).toBe(1);
    expect(metric(node, 'hearsay_gossip_broken_promises_total')).toBe(1);
  });

  it('does not ask for ids it already has', async () => {
    const { node, rogue } = await target();
    const r = rogue('demo');
    const id = node.publish('demo/t', 'x');
    node.internals.link.receive(r.seal(node.internals.identity.cert, [[MessageType.IHAVE, [Buffer.from(id, 'base64')]]]), 'rogue-host:1');
    expect(metric(node, 'hearsay_gossip_iwant_ids_sent_total')).toBe(0);
  });

  it('serves at most maxIWantPerPeerPerRound messages per peer per round, and nothing a peer may not read', async () => {
    const { node, rogue } = await target({ maxIWantPerPeerPerRound: 2 });
    const ids = [0, 1, 2, 3, 4].map((i) => Buffer.from(node.publish('demo/t', `m${i}`), 'base64'));
    const outsider = rogue('other');
    node.internals.link.receive(outsider.seal(node.internals.identity.cert, [[MessageType.IWANT, ids]]), 'other-host:1');
    expect(metric(node, 'hearsay_gossip_iwant_served_total')).toBe(0);
    const reader = rogue('demo');
    node.internals.link.receive(reader.seal(node.internals.identity.cert, [[MessageType.IWANT, ids]]), 'rogue-host:1');
    expect(metric(node, 'hearsay_gossip_iwant_served_total')).toBe(2);
    await sim!.run(node.config.gossipIntervalMs + 1);
    node.internals.link.receive(reader.seal(node.internals.identity.cert, [[MessageType.IWANT, ids.slice(2)]]), 'rogue-host:1');
    expect(metric(node, 'hearsay_gossip_iwant_served_total')).toBe(4);
  });

  it('forgets messages after historyRounds rounds: a late IWANT gets nothing', async () => {
    const { node, rogue } = await target();
    const id = Buffer.from(node.publish('demo/t', 'old'), 'base64');
    await sim!.run(node.config.gossipIntervalMs * (node.config.historyRounds + 1));
    const reader = rogue('demo');
    node.internals.link.receive(reader.seal(node.internals.identity.cert, [[MessageType.IWANT, [id]]]), 'rogue-host:1');
    expect(metric(node, 'hearsay_gossip_iwant_served_total')).toBe(0);
    expect(node.internals.gossip.stats().cached).toBe(0);
  });
});
