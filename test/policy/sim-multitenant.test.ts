/**
 * Two tenants on real nodes (production crypto end to end, in-memory network) and one compromised
 * node holding a valid certificate of tenant b. It tries every path into tenant a's data; each is
 * refused and counted, and — checked on the compromised node's own side, on every plaintext it can
 * decrypt — tenant a's data never reaches it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { issueCertificate, encodeCertificate } from '../../src/identity/certificate.js';
import type { Authorizer } from '../../src/policy/authorizer.js';
import { decode, encode, frameLimits } from '../../src/wire/codec.js';
import { createNodeIdentityInMemory } from '../../src/identity/node-identity.js';
import { EnvelopeRouter } from '../../src/link/envelope-router.js';
import { encodeMessage } from '../../src/link/message-list.js';
import { CountingGate, type Offense } from '../../src/link/peer-gate.js';
import type { Node } from '../../src/node.js';
import { RogueEndpoint } from '../../src/sim/rogue-endpoint.js';
import type { SimCluster } from '../../src/sim/sim-cluster.js';
import { decodeBody, EnvelopeKind, parseEnvelope, signEnvelope } from '../../src/wire/envelope.js';
import { MessageType } from '../../src/wire/messages.js';
import { xchachaAead, type Aead } from '../../src/wire/seal.js';
import { backend, signDoc, signList } from './helpers.js';
import { countingCluster, formed } from './sim-helpers.js';

let sim: SimCluster | null = null;
afterEach(async () => {
  await sim?.stopAll();
  sim = null;
});

const gates = new Map<string, CountingGate>();
const MARK_T = 'TENANT-A-TOPIC-SECRET-7f3a';
const MARK_K = 'TENANT-A-KEY-SECRET-91c2';
const MARK_B = 'tenant-b-visible-5d1e';

function policy(version: number): Record<string, unknown> {
  const grants: unknown[] = [
    { tenants: ['*'], roles: ['pub'], allow: ['publish', 'write'], topics: ['t/**'], keys: ['k/**'] },
    { tenants: ['*'], roles: ['pub', 'sub'], allow: ['subscribe', 'read'], topics: ['t/**'], keys: ['k/**'] },
    { tenants: ['*'], roles: ['*'], allow: ['subscribe'], topics: ['news'], namespace: 'shared' },
    // Version 1 let every tenant's publishers announce; version 2 fixed that.
    version === 1
      ? { tenants: ['*'], roles: ['pub'], allow: ['publish'], topics: ['news'], namespace: 'shared' }
      : { tenants: ['a'], roles: ['pub'], allow: ['publish'], topics: ['news'], namespace: 'shared' },
  ];
  return { kind: 'hearsay-policy', cluster: 'sim', version, tenants: ['a', 'b'], namespaces: ['shared'], roles: ['pub', 'sub'], grants };
}

/** The envelope bytes inside an encoded ENVELOPE message [2, bytes]. */
function envelopeOf(message: Uint8Array): Uint8Array {
  const d = decode(message, frameLimits(1 << 20));
  if (!d.ok || !Array.isArray(d.value) || !(d.value[1] instanceof Uint8Array)) throw new Error('not an ENVELOPE message');
  return d.value[1];
}

/**
 * Another rumor in whatever body layout src/dissemination uses today: a copy of one bx really sent,
 * with another topic (first field) and payload (last field), signed again by bx.
 */
function craftRumor(bx: Node, template: Uint8Array, topic: string, data: string): Uint8Array {
  const env = parseEnvelope(template, frameLimits(1 << 20));
  if (!env.ok) throw new Error('template is not an envelope');
  const body = decodeBody(env.value, frameLimits(1 << 20));
  if (!body.ok) throw new Error('template body');
  const fields = [...body.value];
  fields[0] = topic;
  fields[fields.length - 1] = new Uint8Array(Buffer.from(data));
  return signEnvelope(EnvelopeKind.RUMOR, bx.internals.identity.nodeId, bx.internals.identity.seed, fields, backend).bytes;
}

function contains(haystack: Uint8Array, needle: string): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}

describe('multi-tenant isolation against a compromised node of tenant b', () => {
  it('every path into tenant a is refused and counted, and a\'s data never reaches it', async () => {
    // A short seen window, so the replay below does not need minutes of simulated time.
    sim = countingCluster(31, gates, { config: { seenTtlMs: 10_000 } });
    // Everything the compromised node can decrypt, packets and stream frames alike.
    const seen: Uint8Array[] = [];
    const tap: Aead = {
      sealInto: xchachaAead.sealInto,
      open(key, ad, sealed) {
        const r = xchachaAead.open(key, ad, sealed);
        if (r.ok) seen.push(Uint8Array.from(r.value));
        return r;
      },
    };
    const a1 = sim.createNode({ name: 'a1', tenant: 'a', roles: ['pub'] });
    await a1.start();
    const a2 = sim.createNode({ name: 'a2', tenant: 'a', roles: ['sub'] });
    const b1 = sim.createNode({ name: 'b1', tenant: 'b', roles: ['pub'] });
    const b2 = sim.createNode({ name: 'b2', tenant: 'b', roles: ['sub'] });
    const bx = sim.createNode({ name: 'bx', tenant: 'b', roles: ['pub', 'sub'], aead: tap });
    for (const n of [a2, b1, b2, bx]) await n.start();
    const all: Node[] = [a1, a2, b1, b2, bx];
    await formed(sim, all);

    // The authority's revocation list already names an older certificate bx's operator kept.
    const bxOld = createNodeIdentityInMemory({ authoritySeed: sim.authoritySeed, cluster: 'sim', name: 'bx', tenant: 'b', roles: ['pub'], now: sim.clock.now(), backend });
    a1.policy.adoptRevocation(signList('sim', 1, [{ serial: bxOld.cert.serial, nodeId: bxOld.nodeId, revokedAt: sim.clock.now(), reason: 'compromised', name: 'bx' }], sim.authoritySeed), 'api');
    const v1 = signDoc(policy(1), sim.authoritySeed);
    a1.policy.adoptPolicy(v1, 'api');
    expect(await sim.runUntil(() => all.every((n) => n.policy.policyVersion === 1 && n.policy.revocationVersion === 1), 5000)).toBeGreaterThanOrEqual(0);
    a1.policy.adoptPolicy(signDoc(policy(2), sim.authoritySeed), 'api');
    expect(await sim.runUntil(() => all.every((n) => n.policy.policyVersion === 2), 5000)).toBeGreaterThanOrEqual(0);

    // Tenant a's traffic, and tenant b's (which bx may see).
    const aGot: string[] = [];
    const newsGot: string[] = [];
    a2.subscribe('a/t/secret', (d) => aGot.push(Buffer.from(d.data).toString()));
    a2.subscribe('shared/news', (d) => newsGot.push(Buffer.from(d.data).toString()));
    const bxGot: string[] = [];
    bx.subscribe('b/t/x', (d) => bxGot.push(Buffer.from(d.data).toString()));
    await sim.run(500);
    const secretId = a1.publish('a/t/secret', MARK_T);
    await a1.kv.set('a/k/secret', MARK_K);
    b1.publish('b/t/x', MARK_B);
    await b1.kv.set('b/k/x', MARK_B);
    expect(await sim.runUntil(() => aGot.includes(MARK_T) && a2.kv.get('a/k/secret') !== undefined && bxGot.includes(MARK_B), 10_000)).toBeGreaterThanOrEqual(0);

    const bxId = bx.internals.identity.nodeId;
    const bxLink = bx.internals.link;
    const peerOf = (n: Node) => bxLink.peer(n.internals.identity.nodeId)!;
    const charged = (n: Node, offense: Offense): number => gates.get(n.name)!.count(bxId, offense);
    const drops = (n: Node, reason: string): number => n.internals.link.dropCounts()[reason] ?? 0;
    const push = (to: Node, env: Uint8Array): void => void bxLink.send(peerOf(to), [EnvelopeRouter.message(env)]);

    // 1. Its own API refuses...
    expect(() => bx.publish('a/t/secret', 'x')).toThrow(expect.objectContaining({ code: 'HEARSAY_ERR_NOT_AUTHORIZED' }));
    expect(() => bx.subscribe('a/t/secret', () => {})).toThrow(expect.objectContaining({ code: 'HEARSAY_ERR_NOT_AUTHORIZED' }));
    await expect(bx.kv.set('a/k/secret', 'overwrite')).rejects.toMatchObject({ code: 'HEARSAY_ERR_NOT_AUTHORIZED' });
    // ... so the attacker patches its own checks out: from here on bx's software allows itself
    // everything, signs with its valid tenant-b key, and sends to whoever it likes.
    const permissive: Authorizer = {
      version: 99, mayPublish: () => true, maySubscribe: () => true, mayRead: () => true, mayWrite: () => true,
      limits: () => ({ packetsPerSecond: 1_000_000, maxMessageBytes: 60_000 }),
    };
    Object.defineProperty(bx.policy, 'authorizer', { get: () => permissive });
    const sentByBx: Uint8Array[] = [];
    const realSend = bxLink.send.bind(bxLink);
    bxLink.send = (peer, messages, address) => {
      for (const m of messages) if (m[0] === 0x92 && m[1] === MessageType.ENVELOPE) sentByBx.push(m);
      return realSend(peer, messages, address);
    };
    const bxRumors: string[] = [];
    bx.subscribe('a/t/secret', (d) => bxRumors.push(Buffer.from(d.data).toString()));

    // 2. Publishing into tenant a (eager push and lazy gossip to every peer, a and b alike) and
    // 3. writing tenant a's key.
    const policyDrops = (): number => all.filter((n) => n !== bx).reduce((sum, n) => sum + drops(n, 'policy'), 0);
    const before = policyDrops();
    bx.publish('a/t/secret', 'forged by bx');
    await bx.kv.set('a/k/secret', 'overwritten by bx');
    await sim.run(2000);
    expect(aGot.filter((x) => x !== MARK_T)).toEqual([]);
    expect(Buffer.from(a2.kv.get('a/k/secret')!).toString()).toBe(MARK_K);
    expect(Buffer.from(a1.kv.get('a/k/secret')!).toString()).toBe(MARK_K);
    expect(policyDrops() - before).toBeGreaterThanOrEqual(2);
    expect(charged(a2, 'policy-violation')).toBeGreaterThanOrEqual(1);
    // 4. Asking a tenant-b neighbour to relay its rumor: b1 refuses it like everyone else.
    const sent = sentByBx.find((m) => Buffer.from(m).includes(Buffer.from('forged by bx')));
    expect(sent).toBeDefined();
    const template = envelopeOf(sent!);
    const b1Charges = charged(b1, 'policy-violation');
    push(b1, craftRumor(bx, template, 'a/t/relay', 'relay this, b1'));
    await sim.run(500);
    expect(charged(b1, 'policy-violation')).toBe(b1Charges + 1);
    expect(aGot.filter((x) => x !== MARK_T)).toEqual([]);

    // 5. Claiming tenant a: a certificate for its own key naming tenant a, which only it signed...
    const claim = issueCertificate({ ...bx.internals.identity.cert, tenant: 'a', roles: ['pub', 'sub'] }, bx.internals.identity.seed, backend);
    const claimant = new RogueEndpoint({ identity: { ...bx.internals.identity, cert: claim, certBytes: encodeCertificate(claim) }, cluster: 'sim', backend, epoch: sim.clock.now() + 5 });
    const badCert = drops(a2, 'cert-bad-signature');
    a2.internals.link.receive(claimant.hello(), bx.address);
    expect(drops(a2, 'cert-bad-signature')).toBe(badCert + 1);
    // ... and its own signed rumor re-labelled with a tenant-a node as origin.
    const parsed = parseEnvelope(template, frameLimits(1 << 20));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) push(a2, encode([parsed.value.kind, a1.internals.identity.nodeId, parsed.value.body, parsed.value.signature]));
    await sim.run(300);
    expect(charged(a2, 'invalid-signature')).toBe(1);

    // 6. Replaying the old policy version that let tenant b announce, then announcing.
    // Right away it is a duplicate (dropped before any crypto); once a2 has forgotten it (seen
    // window), it is an old signed version pushed unasked: refused and charged as a replay.
    push(a2, v1.envelope.bytes);
    await sim.run(300);
    expect(a2.policy.policyVersion).toBe(2);
    await sim.run(a2.config.seenTtlMs + 1000);
    push(a2, v1.envelope.bytes);
    await sim.run(300);
    expect(a2.policy.policyVersion).toBe(2);
    expect(charged(a2, 'replay')).toBe(1);
    const a2Charges = charged(a2, 'policy-violation');
    push(a2, craftRumor(bx, template, 'shared/news', 'announcement by bx'));
    await sim.run(300);
    expect(newsGot).toEqual([]);
    expect(charged(a2, 'policy-violation')).toBe(a2Charges + 1);

    // 7. Its revoked older certificate: refused before any crypto.
    const old = new RogueEndpoint({ identity: bxOld, cluster: 'sim', backend, epoch: sim.clock.now() });
    const blocked = drops(a2, 'blocked');
    a2.internals.link.receive(old.hello(), 'bx-old:1');
    a2.internals.link.receive(old.seal(a2.internals.identity.cert, [[MessageType.WELCOME]]), 'bx-old:1');
    expect(drops(a2, 'blocked')).toBe(blocked + 2);

    // 8. Asking neighbours for tenant a's data: IWANT for the secret's id, and a key/value digest.
    const id = new Uint8Array(Buffer.from(secretId, 'base64'));
    for (const n of [a1, a2, b1]) bxLink.send(peerOf(n), [encodeMessage([MessageType.IWANT, [id]])]);
    // The exchange runs on the virtual clock: start it, let time pass, then look at the answer.
    const digest = bxLink.request(peerOf(a2), [encodeMessage([MessageType.KV_DIGEST, 0, null, []])], 2000);
    await sim.run(3000);
    expect((await digest).ok).toBe(true);

    // Tenant a's data never reached bx: not in any plaintext it decrypted, not in its store.
    expect(seen.length).toBeGreaterThan(50);
    expect(seen.some((p) => contains(p, MARK_B)), 'the tap does see tenant b data').toBe(true);
    expect(seen.filter((p) => contains(p, MARK_T) || contains(p, MARK_K))).toEqual([]);
    expect(bxRumors).toEqual([]); // nothing of tenant a's topic, though its patched software subscribed
    expect(Buffer.from(bx.kv.get('a/k/secret') ?? new Uint8Array()).toString()).not.toBe(MARK_K);
    expect(bx.kv.get('b/k/x')).toBeDefined();
  });
});
