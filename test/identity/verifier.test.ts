import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASE_CONFIG, type HearsayConfig } from '../../src/config.js';
import { generateAuthorityKey } from '../../src/identity/authority.js';
import { createBackend } from '../../src/identity/backends.js';
import { encodeCertificate } from '../../src/identity/certificate.js';
import { createNodeIdentityInMemory, writeNodeIdentity } from '../../src/identity/node-identity.js';
import { createCertificateVerifier, loadLocalIdentity } from '../../src/identity/verifier.js';
import { tempDir, thrown } from './helpers.js';

const node = createBackend('node');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const NOW = Date.UTC(2025, 5, 1);
const authority = generateAuthorityKey();

function config(overrides: Partial<HearsayConfig> = {}): HearsayConfig {
  return { ...BASE_CONFIG, cluster: 'prod', authorityPublicKey: hex(authority.publicKey), maxClockSkewMs: 30_000, ...overrides };
}

describe('verifier (the node-facing adapter)', () => {
  it('loadLocalIdentity loads and checks the identity in config.identityDir', () => {
    const identity = createNodeIdentityInMemory({ authoritySeed: authority.seed, cluster: 'prod', name: 'n1', now: NOW });
    const dir = join(tempDir(), 'n1');
    writeNodeIdentity(dir, identity);
    const local = loadLocalIdentity(config({ identityDir: dir }), node, NOW);
    expect(hex(local.nodeId)).toBe(hex(identity.nodeId));
    expect(local.cert.name).toBe('n1');
    expect(thrown(() => loadLocalIdentity(config({ identityDir: dir, cluster: 'other' }), node, NOW)).code).toBe('HEARSAY_ERR_CERT_INVALID');
  });

  it('createCertificateVerifier accepts good wire bytes and names the reason otherwise, never throwing', () => {
    const verifier = createCertificateVerifier(config(), node, { isRevoked: (c) => c.name === 'revoked' });
    const ok = createNodeIdentityInMemory({ authoritySeed: authority.seed, cluster: 'prod', name: 'peer', now: NOW });
    expect(verifier.verify(ok.certBytes, NOW)).toMatchObject({ ok: true, value: { name: 'peer' } });
    expect(verifier.verify(ok.certBytes, ok.cert.notAfter + 30_000)).toMatchObject({ ok: false, reason: 'expired' });
    // Within the configured clock skew of the validity window.
    expect(verifier.verify(ok.certBytes, ok.cert.notAfter + 29_999).ok).toBe(true);
    const revoked = createNodeIdentityInMemory({ authoritySeed: authority.seed, cluster: 'prod', name: 'revoked', now: NOW });
    expect(verifier.verify(revoked.certBytes, NOW)).toMatchObject({ ok: false, reason: 'revoked' });
    const foreign = createNodeIdentityInMemory({ authoritySeed: generateAuthorityKey().seed, cluster: 'prod', name: 'x', now: NOW });
    expect(verifier.verify(foreign.certBytes, NOW)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifier.verify(new Uint8Array([1, 2, 3]), NOW)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifier.verify(encodeCertificate({ ...ok.cert, name: 'other' }), NOW)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a config without a valid trust anchor', () => {
    expect(thrown(() => createCertificateVerifier(config({ authorityPublicKey: '' }), node)).code).toBe('HEARSAY_ERR_CONFIG');
  });
});
