/**
 * `policy check|sign|token`, `node rotate|revoke` and `revocation show` end to end on real
 * temporary folders, through the command table of src/cli/main.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { provisionCluster } from '../../src/cli/provision.js';
import { revocationStatePath } from '../../src/cli/rotation.js';
import { createBackend } from '../../src/identity/backends.js';
import { readAuthorityPublic } from '../../src/identity/authority.js';
import { loadNodeIdentity, readCertificateFile } from '../../src/identity/node-identity.js';
import { RevocationIndex } from '../../src/identity/revocation.js';
import { loadSignedPolicyFile, loadSignedRevocationFile } from '../../src/policy/signed-documents.js';

const made: string[] = [];
afterEach(() => {
  while (made.length > 0) rmSync(made.pop()!, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hearsay-policy-cli-'));
  made.push(dir);
  return dir;
}

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const backend = createBackend('node');

function provisioned(): { dir: string; keys: string; trust: { authorityPublicKey: Uint8Array; cluster: string; backend: typeof backend } } {
  const dir = tempDir();
  const keys = join(dir, 'keys');
  provisionCluster({ keysDir: keys, manifest: { cluster: 'demo', nodes: [
    { name: 'web-1', tenant: 'acme', roles: ['publisher'], validDays: 30 },
    { name: 'web-2', tenant: 'acme', roles: [], validDays: 30 },
  ] } });
  const pub = readAuthorityPublic(join(keys, 'authority'));
  return { dir, keys, trust: { authorityPublicKey: pub.publicKey, cluster: 'demo', backend } };
}

describe('hearsay policy', () => {
  it('token: prints a token once and the entry with its SHA-256 for the policy', async () => {
    const r = await run('policy', 'token', '--name', 'acme-ro', '--scope', 'tenant:acme', '--access', 'read-only');
    expect(r.code).toBe(0);
    const token = r.out[0]!.replace('token: ', '');
    expect(token).toMatch(/^hst_[A-Za-z0-9_-]{43}$/);
    const entry = JSON.parse(r.out.at(-1)!) as Record<string, string>;
    expect(entry).toEqual({ name: 'acme-ro', sha256: createHash('sha256').update(token).digest('hex'), scope: 'tenant:acme', access: 'read-only' });
    expect((await run('policy', 'token', '--name', 'x', '--access', 'root')).code).toBe(2);
  });

  it('check: valid documents pass; every problem is listed with its path', async () => {
    expect((await run('policy', 'check', 'policy/example.json')).code).toBe(0);
    const dir = tempDir();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ kind: 'hearsay-policy', cluster: 'demo', version: 1, tenants: ['acme'], grants: [
      { tenants: ['acme'], roles: ['*'], allow: ['publish'], topics: ['ok'] },
      { tenants: ['globex'], roles: ['*'], allow: ['publish'], topics: ['/x'] },
    ] }));
    const r = await run('policy', 'check', bad);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain('grants[1].tenants[0]: unknown tenant "globex"');
    expect(r.err.join('\n')).toContain('grants[1].topics[0]: must not start with "/"');
    expect(r.err.join('\n')).toContain('[HEARSAY_ERR_POLICY]');
    expect((await run('policy', 'check')).code).toBe(2);
  });

  it('sign: writes a signed document nodes accept; never overwrites without --force; checks the cluster', async () => {
    const { dir, keys, trust } = provisioned();
    const src = join(dir, 'policy.json');
    writeFileSync(src, readFileSync('policy/example.json'));
    const r = await run('policy', 'sign', src, '--keys', keys);
    expect(r.code, r.err.join('\n')).toBe(0);
    const out = join(dir, 'policy.signed.json');
    expect(r.out[0]).toBe(`signed policy version 1 for cluster demo written to ${out}`);
    expect(loadSignedPolicyFile(out, trust).document.grants.length).toBe(6);
    expect(statSync(out).mode & 0o777).toBe(0o644);
    const again = await run('policy', 'sign', src, '--keys', keys);
    expect(again.code).toBe(1);
    expect(again.err[0]).toContain('already exists');
    writeFileSync(src, readFileSync('policy/example.json', 'utf8').replace('"version": 1', '"version": 2'));
    expect((await run('policy', 'sign', src, '--keys', keys, '--force')).code).toBe(0);
    expect(loadSignedPolicyFile(out, trust).version).toBe(2);
    const other = join(dir, 'other.json');
    writeFileSync(other, readFileSync('policy/example.json', 'utf8').replace('"cluster": "demo"', '"cluster": "prod"'));
    const wrong = await run('policy', 'sign', other, '--keys', keys);
    expect(wrong.code).toBe(1);
    expect(wrong.err[0]).toContain('is for cluster prod, but the authority');
    expect(existsSync(join(dir, 'other.signed.json'))).toBe(false);
  });
});

describe('hearsay node rotate / node revoke / revocation show', () => {
  it('rotate: new keys for the same name, tenant and roles; old keys kept aside; old certificate revoked (superseded)', async () => {
    const { keys, trust } = provisioned();
    const nodeDir = join(keys, 'nodes', 'web-1');
    const old = readCertificateFile(join(nodeDir, 'node.cert'));
    const r = await run('node', 'rotate', '--name', 'web-1', '--keys', keys, '--valid-days', '10');
    expect(r.code, r.err.join('\n')).toBe(0);
    const fresh = loadNodeIdentity(nodeDir, { authorityPublicKey: trust.authorityPublicKey, cluster: 'demo', now: Date.now(), backend });
    expect(Buffer.compare(fresh.nodeId, old.nodeId)).not.toBe(0);
    expect([fresh.cert.name, fresh.cert.tenant, fresh.cert.roles]).toEqual([old.name, old.tenant, old.roles]);
    const retired = join(nodeDir, 'retired', old.serial);
    for (const f of ['node.key', 'node.kx.key']) expect(statSync(join(retired, f)).mode & 0o777).toBe(0o600);
    expect(statSync(retired).mode & 0o777).toBe(0o700);
    expect(readCertificateFile(join(retired, 'node.cert')).serial).toBe(old.serial);
    const list = loadSignedRevocationFile(revocationStatePath(keys), trust);
    expect(list.version).toBe(1);
    expect(list.list.entries).toEqual([expect.objectContaining({ serial: old.serial, name: 'web-1', reason: 'superseded' })]);
    const ix = new RevocationIndex(list.list);
    expect(ix.isRevoked(old)).toBe(true);
    expect(ix.isRevoked(fresh.cert)).toBe(false);
    // The old identity can no longer be loaded against this list.
    expect(() => loadNodeIdentity(retired, { authorityPublicKey: trust.authorityPublicKey, cluster: 'demo', now: Date.now(), backend, isRevoked: (c) => ix.isRevoked(c) }))
      .toThrow(expect.objectContaining({ code: 'HEARSAY_ERR_CERT_REVOKED' }));
    // Rotating again makes version 2, cumulative.
    expect((await run('node', 'rotate', '--name', 'web-1', '--keys', keys, '--compromised')).code).toBe(0);
    const v2 = loadSignedRevocationFile(revocationStatePath(keys), trust);
    expect(v2.version).toBe(2);
    expect(v2.list.entries.map((e) => e.reason)).toEqual(['superseded', 'compromised']);
  });

  it('rotate refuses a node without keys and leaves everything as it was', async () => {
    const { keys } = provisioned();
    const r = await run('node', 'rotate', '--name', 'ghost', '--keys', keys);
    expect(r.code).toBe(1);
    expect(r.err[0]).toContain('does not exist');
    expect(existsSync(revocationStatePath(keys))).toBe(false);
  });

  it('revoke: by name (compromised by default), idempotent, by serial; show lists them', async () => {
    const { keys, trust } = provisioned();
    const cert = readCertificateFile(join(keys, 'nodes', 'web-2', 'node.cert'));
    const r = await run('node', 'revoke', '--name', 'web-2', '--keys', keys);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.out[0]).toContain(`revoked web-2: serial ${cert.serial}`);
    expect(r.out[0]).toContain('reason compromised');
    const again = await run('node', 'revoke', '--name', 'web-2', '--keys', keys);
    expect(again.out[0]).toContain('already revoked in version 1');
    const serial = 'ab'.repeat(16);
    expect((await run('node', 'revoke', '--serial', serial, '--reason', 'retired', '--keys', keys)).code).toBe(0);
    const list = loadSignedRevocationFile(revocationStatePath(keys), trust);
    expect(list.version).toBe(2);
    expect(list.list.entries[1]).toMatchObject({ serial, nodeId: null, reason: 'retired' });
    const shown = await run('revocation', 'show', '--keys', keys);
    expect(shown.out[0]).toMatch(/^revocation list version 2 for cluster demo/);
    expect(shown.out).toHaveLength(3);
    expect((await run('node', 'revoke', '--keys', keys)).code).toBe(2);
    expect((await run('node', 'revoke', '--name', 'web-1', '--serial', serial, '--keys', keys)).code).toBe(2);
    expect((await run('node', 'revoke', '--serial', 'nothex', '--keys', keys)).code).toBe(2);
  });

  it('a tampered revocation state file is refused, not silently replaced', async () => {
    const { keys } = provisioned();
    expect((await run('node', 'revoke', '--name', 'web-2', '--keys', keys)).code).toBe(0);
    const path = revocationStatePath(keys);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    const env = Buffer.from(doc['envelope']!, 'base64');
    env[env.length - 1]! ^= 1;
    writeFileSync(path, JSON.stringify({ ...doc, envelope: env.toString('base64') }));
    const r = await run('node', 'revoke', '--name', 'web-1', '--keys', keys);
    expect(r.code).toBe(1);
    expect(r.err[0]).toContain('invalid signature');
  });
});
