import { afterEach, describe, expect, it } from 'vitest';
import { createNodeIdentityInMemory } from '../../src/identity/node-identity.js';
import type { CountingGate } from '../../src/link/peer-gate.js';
import { RogueEndpoint } from '../../src/sim/rogue-endpoint.js';
import type { SimCluster } from '../../src/sim/sim-cluster.js';
import { MessageType } from '../../src/wire/messages.js';
import { backend, policyDoc, signDoc } from './helpers.js';
import { countingCluster } from './sim-helpers.js';

let sim: SimCluster | null = null;
afterEach(async () => {
  await sim?.stopAll();
  sim = null;
});

describe('per-node rate limits from the policy', () => {
  it('each sender\'s packet rate is the one its policy limits give it, applied before decryption, and follows new versions', async () => {
    sim = countingCluster(41, new Map<string, CountingGate>());
    const [target] = await sim.startNodes(1);
    const limits = (bPps: number): Record<string, unknown> => ({ default: { packetsPerSecond: 500 }, rules: [{ tenants: ['b'], packetsPerSecond: bPps }] });
    target!.policy.adoptPolicy(signDoc(policyDoc({ version: 1, limits: limits(20) }), sim.authoritySeed), 'api');
    const rogue = (name: string, tenant: string): RogueEndpoint => new RogueEndpoint({
      identity: createNodeIdentityInMemory({ authoritySeed: sim!.authoritySeed, cluster: 'sim', name, tenant, now: sim!.clock.now(), backend }),
      cluster: 'sim', backend, epoch: sim!.clock.now(),
    });
    const fromA = rogue('ra', 'a');
    const fromB = rogue('rb', 'b');
    const link = target!.internals.link;
    const flood = (r: RogueEndpoint, n: number): number => {
      const before = link.dropCounts()['rate-limited'] ?? 0;
      for (let i = 0; i < n; i++) link.receive(r.seal(target!.internals.identity.cert, [[MessageType.WELCOME]]), `${r.identity.cert.name}:1`);
      return (link.dropCounts()['rate-limited'] ?? 0) - before;
    };
    // A burst of 100 in the same instant: tenant b's nodes get 20, the default is 500.
    expect(flood(fromB, 100)).toBe(80);
    expect(flood(fromA, 100)).toBe(0);
    const decrypts = (): number => target!.metrics.counter('hearsay_crypto_operations_total', '').get({ op: 'decrypt' });
    const d0 = decrypts();
    expect(flood(fromB, 10)).toBe(10);
    expect(decrypts()).toBe(d0); // dropped before any decryption
    // A new version raises tenant b's limit; known peers get it at once.
    target!.policy.adoptPolicy(signDoc(policyDoc({ version: 2, limits: limits(300) }), sim.authoritySeed), 'api');
    await sim.run(1000);
    expect(flood(fromB, 300)).toBe(0);
  });
});
