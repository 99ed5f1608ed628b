import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateAuthorityKey } from '../../src/identity/authority.js';
import { createBackend } from '../../src/identity/backends.js';
import { certificateFingerprint, decodeCertificate, encodeCertificate } from '../../src/identity/certificate.js';
import {
  createNodeIdentityInMemory,
  generateNodeKeys,
  loadNodeIdentity,
  writeNodeIdentity,
  type LoadNodeIdentityOptions,
} from '../../src/identity/node-identity.js';
import { tempDir, thrown } from './helpers.js';

const node = createBackend('node');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const NOW = Date.UTC(2025, 5, 1);
const authority = generateAuthorityKey();

function loadOptions(overrides: Partial<LoadNodeIdentityOptions> = {}): LoadNodeIdentityOptions {
  return { authorityPublicKey: authority.publicKey, cluster: 'prod', now: NOW, backend: node, ...overrides };
}

function written(): { dir: string; identity: ReturnType<typeof createNodeIdentityInMemory> } {
  const identity = createNodeIdentityInMemory({ authoritySeed: authority.seed, cluster: 'prod', name: 'edge-1', tenant: 'acme', roles: ['publisher'], now: NOW });
  const dir = join(tempDir(), 'nodes', 'edge-1');
  writeNodeIdentity(dir, identity);
  return { dir, identity };
}

describe('node identity on disk', () => {
  it('writes node.key and node.kx.key 0600 and a readable node.cert, and loads them back', () => {
    const { dir, identity } = written();
    expect(statSync(join(dir, 'node.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'node.kx.key')).mode & 0o777).toBe(0o600);
    const cert = JSON.parse(readFileSync(join(dir, 'node.cert'), 'utf8'));
    expect(cert).toMatchObject({ kind: 'hearsay-certificate', name: 'edge-1', tenant: 'acme', roles: ['publisher'], nodeId: hex(identity.nodeId) });
    expect(cert.fingerprint).toBe(certificateFingerprint(identity.cert));
    const loaded = loadNodeIdentity(dir, loadOptions());
    expect(hex(loaded.seed)).toBe(hex(identity.seed));
    expect(hex(loaded.kxSecret)).toBe(hex(identity.kxSecret));
    expect(hex(loaded.nodeId)).toBe(hex(identity.nodeId));
    expect(hex(loaded.kxPublic)).toBe(hex(identity.kxPublic));
    expect(hex(loaded.certBytes)).toBe(hex(identity.certBytes));
    // The trust anchor may also come as hex, as in the config file.
    expect(loadNodeIdentity(dir, loadOptions({ authorityPublicKey: hex(authority.publicKey) })).cert.name).toBe('edge-1');
  });

  it('trusts only the encoded certificate, not the readable fields', () => {
    const { dir } = written();
    const path = join(dir, 'node.cert');
    const doc = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...doc, tenant: 'evil', roles: ['admin'] }));
    const loaded = loadNodeIdentity(dir, loadOptions());
    expect(loaded.cert.tenant).toBe('acme');
    expect(loaded.cert.roles).toEqual(['publisher']);
  });

  it('refuses a certificate that certifies other keys than the key files', () => {
    const { dir } = written();
    const other = createNodeIdentityInMemory({ authoritySeed: authority.seed, cluster: 'prod', name: 'edge-1', tenant: 'acme', now: NOW });
    writeNodeIdentity(dir, { ...generateNodeKeys(), cert: other.cert }, { force: true });
    const e = thrown(() => loadNodeIdentity(dir, loadOptions()));
    expect(e.code).toBe('HEARSAY_ERR_CERT_INVALID');
    expect(e.message).toContain('node.key');
  });

  it('refuses a kx key that the certificate does not certify', () => {
    const { dir, identity } = written();
    const swapped = { ...identity, kxSecret: generateNodeKeys().kxSecret };
    writeNodeIdentity(dir, swapped, { force: true });
    const e = thrown(() => loadNodeIdentity(dir, loadOptions()));
    expect(e.code).toBe('HEARSAY_ERR_CERT_INVALID');
    expect(e.message).toContain('node.kx.key');
  });

  it('names the reason when the certificate fails verification', () => {
    const { dir, identity } = written();
    const cases: Array<[Partial<LoadNodeIdentityOptions>, string, RegExp]> = [
      [{ authorityPublicKey: generateAuthorityKey().publicKey }, 'HEARSAY_ERR_CERT_INVALID', /bad-signature/],
      [{ cluster: 'staging' }, 'HEARSAY_ERR_CERT_INVALID', /wrong-cluster/],
      [{ now: identity.cert.notAfter }, 'HEARSAY_ERR_CERT_INVALID', /expired/],
      [{ now: identity.cert.notBefore - 1 }, 'HEARSAY_ERR_CERT_INVALID', /not-yet-valid/],
      [{ isRevoked: () => true }, 'HEARSAY_ERR_CERT_REVOKED', /revoked/],
    ];
    for (const [o, code, pattern] of cases) {
      const e = thrown(() => loadNodeIdentity(dir, loadOptions(o)));
      expect(e.code).toBe(code);
      expect(e.message).toMatch(pattern);
      expect(e.message).toContain(join(dir, 'node.cert'));
    }
  });

  it('refuses a key file readable by others, naming it', () => {
    const { dir } = written();
    chmodSync(join(dir, 'node.kx.key'), 0o644);
    const e = thrown(() => loadNodeIdentity(dir, loadOptions()));
    expect(e.code).toBe('HEARSAY_ERR_KEY_PERMISSIONS');
    expect(e.message).toContain(join(dir, 'node.kx.key'));
  });

  it('reports missing files and a malformed node.cert clearly', () => {
    const empty = tempDir();
    expect(thrown(() => loadNodeIdentity(empty, loadOptions())).code).toBe('HEARSAY_ERR_KEY_FILE');
    const { dir } = written();
    writeFileSync(join(dir, 'node.cert'), JSON.stringify({ kind: 'hearsay-certificate', encoded: Buffer.from('nope').toString('base64') }));
    const e = thrown(() => loadNodeIdentity(dir, loadOptions()));
    expect(e.code).toBe('HEARSAY_ERR_CERT_INVALID');
    expect(e.message).toContain('malformed');
  });

  it('refuses a missing or malformed trust anchor as a config error', () => {
    const { dir } = written();
    for (const key of ['', 'zz'.repeat(32), new Uint8Array(31)]) {
      expect(thrown(() => loadNodeIdentity(dir, loadOptions({ authorityPublicKey: key }))).code).toBe('HEARSAY_ERR_CONFIG');
    }
  });

  it('never puts secret key material in an error message', () => {
    const { dir, identity } = written();
    const secrets = [hex(identity.seed), hex(identity.kxSecret)];
    const errors = [
      thrown(() => loadNodeIdentity(dir, loadOptions({ cluster: 'staging' }))),
      thrown(() => writeNodeIdentity(dir, identity)),
    ];
    chmodSync(join(dir, 'node.key'), 0o640);
    errors.push(thrown(() => loadNodeIdentity(dir, loadOptions())));
    for (const e of errors) for (const s of secrets) expect(e.message).not.toContain(s.slice(0, 16));
  });

  it('refuses to overwrite an existing identity without force, before writing anything', () => {
    const { dir, identity } = written();
    const before = readFileSync(join(dir, 'node.key'));
    const e = thrown(() => writeNodeIdentity(dir, createNodeIdentityInMemory({ authoritySeed: authority.seed, cluster: 'prod', name: 'edge-1', now: NOW })));
    expect(e.code).toBe('HEARSAY_ERR_KEY_EXISTS');
    expect(readFileSync(join(dir, 'node.key')).equals(before)).toBe(true);
    expect(hex(loadNodeIdentity(dir, loadOptions()).nodeId)).toBe(hex(identity.nodeId));
  });
});

describe('createNodeIdentityInMemory', () => {
  it('issues a verifiable certificate for fresh keys with defaults', () => {
    const id = createNodeIdentityInMemory({ authoritySeed: authority.seed, cluster: 'sim', name: 'n0', now: NOW });
    expect(id.cert).toMatchObject({ cluster: 'sim', name: 'n0', tenant: 'default', roles: [], notBefore: NOW });
    expect(hex(id.cert.nodeId)).toBe(hex(id.nodeId));
    expect(hex(id.cert.kx)).toBe(hex(id.kxPublic));
    const decoded = decodeCertificate(id.certBytes);
    expect(decoded.ok && hex(encodeCertificate(decoded.value))).toBe(hex(id.certBytes));
  });

  it('is fast enough for simulations of thousands of nodes', () => {
    const start = performance.now();
    const ids = Array.from({ length: 500 }, (_, i) => createNodeIdentityInMemory({ authoritySeed: authority.seed, cluster: 'sim', name: `n${i}`, now: NOW }));
    const perIdentityMs = (performance.now() - start) / ids.length;
    expect(new Set(ids.map((i) => hex(i.nodeId))).size).toBe(500);
    // ~0.25 ms on the reference machine; the bound only catches an accidental switch to pure JS.
    expect(perIdentityMs).toBeLessThan(5);
  });
});
