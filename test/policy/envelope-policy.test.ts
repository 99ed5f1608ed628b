import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { VerifiedEnvelope } from '../../src/link/envelope-router.js';
import { EnvelopeRouter } from '../../src/link/envelope-router.js';
import { encodeMessage } from '../../src/link/message-list.js';
import type { PeerCertificate } from '../../src/link/peer-certificate.js';
import { TenantAuthorizer } from '../../src/policy/authorizer.js';
import { createEnvelopeAuthorizer, createOutboundGuard, EnvelopePolicies, type PolicyView } from '../../src/policy/envelope-policy.js';
import { EnvelopeKind, signEnvelope } from '../../src/wire/envelope.js';
import { MessageType } from '../../src/wire/messages.js';
import { backend } from './helpers.js';

function cert(tenant: string, serial = '0'.repeat(32)): PeerCertificate {
  return { nodeId: new Uint8Array(randomBytes(32)), kx: new Uint8Array(32), cluster: 'sim', name: 'n', tenant, roles: [], notBefore: 0, notAfter: 1e15, serial };
}

const authority = cert('');
const revokedSerials = new Set<string>();
const view: PolicyView = {
  authorizer: new TenantAuthorizer({ packetsPerSecond: 100, maxMessageBytes: 8 }),
  authorityCert: authority,
  isRevoked: (c) => revokedSerials.has(c.serial),
  isNodeRevoked: () => false,
  isDataRevoked: (_id, t) => t >= 1000,
};

const seed = new Uint8Array(randomBytes(32));
function ve(kind: EnvelopeKind, body: unknown[], originCert: PeerCertificate): VerifiedEnvelope {
  const envelope = signEnvelope(kind, originCert.nodeId, seed, body, backend);
  return { envelope, id: new Uint8Array(32), idKey: 'x', body, originCert };
}

describe('envelope authorizer (router hook)', () => {
  const policies = new EnvelopePolicies();
  const decide = createEnvelopeAuthorizer(view, policies);
  const a = cert('a');

  it('rumors: origin may publish the topic, within its size limit', () => {
    expect(decide(ve(EnvelopeKind.RUMOR, ['a/t', 1, 2, new Uint8Array(8)], a))).toBe(true);
    expect(decide(ve(EnvelopeKind.RUMOR, ['b/t', 1, 2, new Uint8Array(8)], a))).toBe('publish-denied');
    expect(decide(ve(EnvelopeKind.RUMOR, ['a/t', 1, 2, new Uint8Array(9)], a))).toBe('message-too-large');
  });

  it('key/value writes: origin may write the key; a revoked origin keeps only what it wrote before (non-compromised)', () => {
    expect(decide(ve(EnvelopeKind.KV_WRITE, ['a/k', new Uint8Array(1), 5, 0, 1], a))).toBe(true);
    expect(decide(ve(EnvelopeKind.KV_WRITE, ['b/k', new Uint8Array(1), 5, 0, 1], a))).toBe('write-denied');
    const r = cert('a', 'f'.repeat(32));
    revokedSerials.add(r.serial);
    expect(decide(ve(EnvelopeKind.KV_WRITE, ['a/k', null, 999, 0, 1], r))).toBe(true);
    expect(decide(ve(EnvelopeKind.KV_WRITE, ['a/k', null, 1000, 0, 2], r))).toBe('revoked-origin');
    expect(decide(ve(EnvelopeKind.RUMOR, ['a/t', 1, 2, new Uint8Array(1)], r))).toBe('revoked-origin');
    expect(decide(ve(EnvelopeKind.HEARTBEAT, [1], r))).toBe('revoked-origin');
    revokedSerials.delete(r.serial);
  });

  it('policy and revocation documents only from the authority; unknown kinds denied', () => {
    expect(decide(ve(EnvelopeKind.POLICY, [1, 'sim', new Uint8Array(1)], authority))).toBe(true);
    expect(decide(ve(EnvelopeKind.POLICY, [1, 'sim', new Uint8Array(1)], a))).toBe('not-authority');
    expect(decide(ve(EnvelopeKind.REVOCATION, [1, 'sim', 0, []], a))).toBe('not-authority');
    expect(decide({ ...ve(EnvelopeKind.RUMOR, ['a/t'], a), envelope: { ...ve(EnvelopeKind.RUMOR, ['a/t'], a).envelope, kind: 99 as EnvelopeKind } })).toBe('no-policy-rule');
  });

  it('a registered rule replaces the built-in one; node-local rules override process-wide ones', () => {
    const parent = new EnvelopePolicies();
    parent.register(EnvelopeKind.RUMOR, () => 'parent-says-no');
    const local = new EnvelopePolicies(parent);
    expect(createEnvelopeAuthorizer(view, local)(ve(EnvelopeKind.RUMOR, ['a/t', new Uint8Array(1)], a))).toBe('parent-says-no');
    local.register(EnvelopeKind.RUMOR, (c, body, authz) => authz.mayPublish(c, body[0] as string) || 'local-no');
    expect(createEnvelopeAuthorizer(view, local)(ve(EnvelopeKind.RUMOR, ['b/t', new Uint8Array(1)], a))).toBe('local-no');
  });
});

describe('outbound guard (link hook)', () => {
  const guard = createOutboundGuard(view, new EnvelopePolicies());
  const a = cert('a');
  const peerA = { idHex: 'aa', cert: cert('a') };
  const peerB = { idHex: 'bb', cert: cert('b') };

  it('sends a topic message only to peers that may subscribe, a value only to peers that may read', () => {
    const rumor = EnvelopeRouter.message(signEnvelope(EnvelopeKind.RUMOR, a.nodeId, seed, ['a/t', new Uint8Array(1)], backend).bytes);
    expect(guard(peerA, rumor)).toBe(true);
    expect(guard(peerB, rumor)).toBe(false);
    const write = EnvelopeRouter.message(signEnvelope(EnvelopeKind.KV_WRITE, a.nodeId, seed, ['a/k', new Uint8Array(1), 1, 0, 1], backend).bytes);
    expect(guard(peerA, write)).toBe(true);
    expect(guard(peerB, write)).toBe(false);
  });

  it('lets protocol traffic through, and nothing at all to a revoked peer', () => {
    const hb = EnvelopeRouter.message(signEnvelope(EnvelopeKind.HEARTBEAT, a.nodeId, seed, [1, 2], backend).bytes);
    expect(guard(peerB, hb)).toBe(true);
    expect(guard(peerB, encodeMessage([MessageType.IHAVE, []]))).toBe(true);
    const revoked = { idHex: 'cc', cert: cert('a', 'e'.repeat(32)) };
    revokedSerials.add(revoked.cert.serial);
    expect(guard(revoked, hb)).toBe(false);
    revokedSerials.delete(revoked.cert.serial);
  });
});
