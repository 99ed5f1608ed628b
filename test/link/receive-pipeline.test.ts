import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { certificateSigningBytes, encodeCertificate, type Certificate } from '../../src/identity/certificate.js';
import { createNodeIdentityInMemory, generateNodeKeys } from '../../src/identity/node-identity.js';
import { SMALL_ORDER_CANONICAL } from '../../src/identity/ed25519-rules.js';
import type { Delivery } from '../../src/dissemination/broadcast.js';
import type { Node } from '../../src/node.js';
import { RogueEndpoint } from '../../src/sim/rogue-endpoint.js';
import { SimCluster } from '../../src/sim/sim-cluster.js';
import { CountingGate } from '../../src/link/peer-gate.js';
import { HEADER_BYTES } from '../../src/wire/header.js';
import { randomBytes } from 'node:crypto';
import { createBackend } from '../../src/identity/backends.js';

const TOPIC = 'default/fuzz';
let sim: SimCluster;
let target: Node;
let delivered: Delivery[];
let rogue: RogueEndpoint;
let seq = 0;

beforeEach(async () => {
  sim = new SimCluster({ seed: 11 });
  const nodes = await sim.startNodes(2);
  await sim.runUntil(() => nodes.every((n) => n.members().length === 2), 5000);
  target = nodes[1]!;
  delivered = [];
  target.subscribe(TOPIC, (d) => delivered.push(d));
  rogue = makeRogue({ name: 'rogue' });
});

afterEach(async () => {
  await sim.stopAll();
});

function makeRogue(opts: { name: string; authoritySeed?: Uint8Array; cluster?: string; notBefore?: number; notAfter?: number }): RogueEndpoint {
  const identity = createNodeIdentityInMemory({
    authoritySeed: opts.authoritySeed ?? sim.authoritySeed,
    cluster: opts.cluster ?? sim.cluster,
    name: opts.name,
    now: sim.clock.now(),
    ...(opts.notBefore === undefined ? {} : { notBefore: opts.notBefore }),
    ...(opts.notAfter === undefined ? {} : { notAfter: opts.notAfter }),
  });
  return new RogueEndpoint({ identity, cluster: opts.cluster ?? sim.cluster, backend: sim.backend, epoch: sim.clock.now() });
}

/** A fresh, valid packet from the rogue to the target: new counter, new rumor. */
function validPacket(r: RogueEndpoint = rogue): Uint8Array {
  seq += 1;
  return r.seal(target.internals.identity.cert, [r.rumor(TOPIC, seq, sim.clock.now(), new Uint8Array(32).fill(seq & 0xff))]);
}

function inject(bytes: Uint8Array): void {
  target.internals.link.receive(bytes, 'rogue-host:1');
}

const drops = (): Record<string, number> => target.internals.link.dropCounts();

describe('receive pipeline', () => {
  it('delivers a valid packet from a certified newcomer exactly once', () => {
    const pkt = validPacket();
    inject(pkt);
    expect(delivered).toHaveLength(1);
    inject(pkt);
    expect(delivered).toHaveLength(1);
    expect(drops().replay).toBe(1);
  });

  it('drops a replayed packet even when its counter is old but inside the window', () => {
    const p1 = validPacket();
    const p2 = validPacket();
    inject(p2);
    inject(p1); // out of order but new: accepted
    inject(p1); // replay
    inject(p2); // replay
    expect(delivered).toHaveLength(2);
    expect(drops().replay).toBe(2);
  });

  it('never delivers or throws on any single-byte change of a valid packet', () => {
    const length = validPacket().length;
    let positions = 0;
    for (let i = 0; i < length; i++) {
      for (const x of [0x01, 0x80, 0xff]) {
        const pkt = validPacket();
        pkt[i] = pkt[i]! ^ x;
        expect(() => inject(pkt)).not.toThrow();
        positions++;
      }
    }
    expect(positions).toBe(length * 3);
    expect(delivered).toHaveLength(0);
    // The unmodified packet of the same shape is delivered: the mutations, not the template, failed.
    inject(validPacket());
    expect(delivered).toHaveLength(1);
  });

  it('never delivers or throws on any truncation of a valid packet', () => {
    const template = validPacket();
    for (let n = 0; n < template.length; n++) {
      const pkt = validPacket();
      expect(() => inject(pkt.subarray(0, n))).not.toThrow();
    }
    expect(delivered).toHaveLength(0);
  });

  it('never delivers or throws on random bytes, with or without a valid header in front', () => {
    const header = validPacket().subarray(0, HEADER_BYTES);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), fc.boolean(), (junk, withHeader) => {
        const pkt = withHeader ? Buffer.concat([header, junk]) : junk;
        inject(pkt);
        expect(delivered).toHaveLength(0);
      }),
      { numRuns: 2000, seed: 20261127 },
    );
  });

  it('drops, without delivering, packets from certificates of another authority, expired, of another cluster', () => {
    const cases: Array<[string, RogueEndpoint]> = [
      ['other authority', makeRogue({ name: 'other-auth', authoritySeed: new Uint8Array(randomBytes(32)) })],
      ['expired', makeRogue({ name: 'expired', notBefore: sim.clock.now() - 20 * 86_400_000, notAfter: sim.clock.now() - 86_400_000 })],
      ['not yet valid', makeRogue({ name: 'future', notBefore: sim.clock.now() + 86_400_000 })],
    ];
    // Another cluster: its packets carry another cluster tag and link keys, so they die at the header.
    const otherCluster = makeRogue({ name: 'other-cluster', cluster: 'elsewhere' });
    for (const [, r] of cases) inject(validPacket(r));
    inject(otherCluster.seal(target.internals.identity.cert, [otherCluster.rumor(TOPIC, 1, sim.clock.now(), new Uint8Array(1))]));
    expect(delivered).toHaveLength(0);
    expect(drops()['cert-bad-signature']).toBe(1);
    expect(drops()['cert-expired']).toBe(1);
    expect(drops()['cert-not-yet-valid']).toBe(1);
    expect(drops()['wrong-cluster']).toBe(1);
  });

  it('drops packets whose certificate carries a small-order Ed25519 key', () => {
    const backend = createBackend('node');
    const keys = generateNodeKeys(backend);
    const smallOrder = Uint8Array.from(Buffer.from(SMALL_ORDER_CANONICAL[1]!, 'hex'));
    const cert: Certificate = {
      v: 1, cluster: sim.cluster, nodeId: smallOrder, kx: keys.kxPublic, name: 'small', tenant: 'default', roles: [],
      notBefore: sim.clock.now() - 1000, notAfter: sim.clock.now() + 86_400_000, serial: '0'.repeat(32),
    };
    // Signed by the real authority, which a careless issuer might do: the node must still refuse it.
    const signed = { ...cert, signature: backend.sign(certificateSigningBytes(cert), sim.authoritySeed) };
    const r = new RogueEndpoint({
      identity: { nodeId: smallOrder, seed: keys.seed, kxSecret: keys.kxSecret, certBytes: encodeCertificate(signed), cert: signed },
      cluster: sim.cluster, backend, epoch: sim.clock.now(),
    });
    inject(r.seal(target.internals.identity.cert, [[1]]));
    expect(drops()['cert-small-order-key']).toBe(1);
    expect(target.internals.link.peer(smallOrder)).toBeUndefined();
  });
});

describe('rate limiting per sender', () => {
  it('drops the excess, and charges a flood only when the excess packets are really the sender\'s', async () => {
    const gates = new Map<string, CountingGate>();
    const s = new SimCluster({ seed: 12, config: { peerPacketsPerSecond: 50 }, gate: (name) => { const g = new CountingGate(); gates.set(name, g); return g; } });
    const [victim, receiver] = await s.startNodes(2);
    await s.runUntil(() => receiver!.members().length === 2, 5000);
    const identity = createNodeIdentityInMemory({ authoritySeed: s.authoritySeed, cluster: s.cluster, name: 'flooder', now: s.clock.now() });
    const flooder = new RogueEndpoint({ identity, cluster: s.cluster, backend: s.backend, epoch: s.clock.now() });
    const cert = receiver!.internals.identity.cert;
    const link = receiver!.internals.link;
    const gate = gates.get(receiver!.name)!;
    for (let i = 0; i < 300; i++) link.receive(flooder.seal(cert, [[1]]), 'flood:1');
    expect(link.dropCounts()['rate-limited']).toBeGreaterThan(200);
    expect(gate.count(identity.nodeId, 'rate-limit')).toBe(1);
    s.clock.advance(1500);
    for (let i = 0; i < 300; i++) link.receive(flooder.seal(cert, [[1]]), 'flood:1');
    expect(gate.count(identity.nodeId, 'rate-limit')).toBe(2);

    // A spoofer writes the victim's id into headers it cannot seal: dropped, never charged.
    const spoofer = new RogueEndpoint({
      identity: { ...createNodeIdentityInMemory({ authoritySeed: s.authoritySeed, cluster: s.cluster, name: 'spoofer', now: s.clock.now() }), nodeId: victim!.internals.identity.nodeId },
      cluster: s.cluster, backend: s.backend, epoch: s.clock.now(),
    });
    const before = link.dropCounts()['rate-limited'] ?? 0;
    for (let i = 0; i < 300; i++) link.receive(spoofer.seal(cert, [[1]], { withCert: false }), 'spoof:1');
    expect((link.dropCounts()['rate-limited'] ?? 0) + (link.dropCounts()['decrypt-failed'] ?? 0)).toBeGreaterThan(before);
    expect(gate.count(victim!.internals.identity.nodeId, 'rate-limit')).toBe(0);
    // ...and the spoofed flood came from another address, so it drained the stranger budget, not
    // the one the victim's real packets use.
    expect(link.peer(victim!.internals.identity.nodeId)!.bucket.take()).toBe(true);
    await s.stopAll();
  });
});
