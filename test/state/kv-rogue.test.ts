import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodeIdentityInMemory } from '../../src/identity/node-identity.js';
import { CountingGate } from '../../src/link/peer-gate.js';
import type { Node } from '../../src/node.js';
import { RogueEndpoint } from '../../src/sim/rogue-endpoint.js';
import { SimCluster } from '../../src/sim/sim-cluster.js';
import { MessageType } from '../../src/wire/messages.js';

let sim: SimCluster;
let target: Node;
let gate: CountingGate;
let rogue: RogueEndpoint;

beforeEach(async () => {
  gate = new CountingGate();
  sim = new SimCluster({ seed: 23, gate: () => gate });
  [target] = await sim.startNodes(1, 't', { tenant: 'demo' });
  const identity = createNodeIdentityInMemory({ authoritySeed: sim.authoritySeed, cluster: sim.cluster, name: 'rogue', tenant: 'demo', now: sim.clock.now(), backend: sim.backend });
  rogue = new RogueEndpoint({ identity, cluster: sim.cluster, backend: sim.backend, epoch: sim.clock.now() });
});

afterEach(async () => {
  await sim.stopAll();
});

function send(key: string, value: string | null, wall: number, version: number, logical = 0): void {
  const env = rogue.kvWrite(key, value === null ? null : Buffer.from(value), wall, logical, version);
  target.internals.link.receive(rogue.seal(target.internals.identity.cert, [[MessageType.ENVELOPE, env.bytes]]), 'rogue-host:1');
}

const value = (key: string): string | undefined => {
  const v = target.kv.get(key);
  return v === undefined ? undefined : Buffer.from(v).toString();
};

describe('key/value writes from a misbehaving writer', () => {
  it('accepts a well-formed write', () => {
    send('demo/a', 'ok', sim.clock.now(), 1);
    expect(value('demo/a')).toBe('ok');
  });

  it('refuses a timestamp beyond maxClockSkewMs and charges the origin, so no key can be pinned', async () => {
    const skew = target.config.maxClockSkewMs;
    send('demo/pin', 'forever', sim.clock.now() + skew + 1000, 1);
    expect(value('demo/pin')).toBeUndefined();
    expect(gate.count(rogue.identity.nodeId, 'future-timestamp')).toBe(1);
    // A later honest write to the key wins as usual.
    await target.kv.set('demo/pin', 'mine');
    expect(value('demo/pin')).toBe('mine');
    // Within the skew it is accepted (clocks differ a little) and ordered by its timestamp.
    send('demo/near', 'slightly ahead', sim.clock.now() + skew - 1000, 2);
    expect(value('demo/near')).toBe('slightly ahead');
  });

  it('refuses two different writes under one version and reports both envelopes as equivocation', () => {
    send('demo/x', 'first', sim.clock.now(), 1);
    send('demo/y', 'second', sim.clock.now() + 1, 1);
    expect(value('demo/x')).toBe('first');
    expect(value('demo/y')).toBeUndefined();
    expect(gate.equivocations).toHaveLength(1);
    // The same write again is a plain duplicate, not an equivocation.
    send('demo/x', 'first', sim.clock.now(), 1);
    expect(gate.equivocations).toHaveLength(1);
  });

  it('refuses a write outside the writer\'s namespace and charges the origin', () => {
    send('other/x', 'intrusion', sim.clock.now(), 1);
    expect(target.internals.kv.store.countWrites()).toBe(0);
    expect(gate.count(rogue.identity.nodeId, 'policy-violation')).toBe(1);
  });

  it('refuses a version too far above the contiguous ones (bounded buffering) and oversized values', () => {
    send('demo/far', 'x', sim.clock.now(), target.config.maxPendingVersions + 5);
    send('demo/big', 'x'.repeat(target.config.maxValueBytes + 1), sim.clock.now(), 1);
    expect(target.internals.kv.store.countWrites()).toBe(0);
  });

  it('orders writes by hybrid logical clock, then by origin id, whatever their arrival order', async () => {
    const t = sim.clock.now();
    send('demo/k', 'newer', t + 10, 1);
    send('demo/k', 'older', t + 5, 2);
    expect(value('demo/k')).toBe('newer');
    // Same wall and logical: the greater origin id wins.
    await target.kv.set('demo/tie', 'local');
    const local = target.internals.kv.clockNow();
    send('demo/tie', 'rogue', local.wall, 3, local.logical);
    const rogueWins = Buffer.compare(rogue.identity.nodeId, target.internals.identity.nodeId) > 0;
    expect(value('demo/tie')).toBe(rogueWins ? 'rogue' : 'local');
  });
});
