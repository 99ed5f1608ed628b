import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { MetricsRegistry } from '../../src/metrics.js';
import { PolicyHolder, PERSISTED_POLICY_FILE, PERSISTED_REVOCATION_FILE } from '../../src/policy/policy-holder.js';
import { writeSignedPolicyFile, writeSignedRevocationFile } from '../../src/policy/signed-documents.js';
import { backend, policyDoc, signDoc, signList, subject, tempDir } from './helpers.js';

const seed = new Uint8Array(randomBytes(32));

function holder(dataDir: string, files: { policyFile?: string; revocationFile?: string } = {}, metrics = new MetricsRegistry()): PolicyHolder {
  return new PolicyHolder({
    cluster: 'sim', authorityPublicKey: backend.publicKeyOf(seed), backend, clock: new VirtualClock(), logger: silentLogger, metrics,
    dataDir, policyFile: files.policyFile ?? '', revocationFile: files.revocationFile ?? '', defaults: { packetsPerSecond: 100, maxMessageBytes: 10 }, decisionCacheSize: 4096,
  });
}

describe('policy holder adoption rules', () => {
  it('starts with the tenant-namespace authorizer (version 0)', () => {
    const h = holder(':memory:');
    expect(h.authorizer.version).toBe(0);
    expect(h.authorizer.mayPublish(subject('a'), 'a/x')).toBe(true);
    expect(h.authorizer.mayPublish(subject('a'), 'b/x')).toBe(false);
    expect(h.authorizer.limits(subject('a'))).toEqual({ packetsPerSecond: 100, maxMessageBytes: 10 });
  });

  it('adopts a higher version only; older, equal and conflicting versions are refused and counted', () => {
    const metrics = new MetricsRegistry();
    const h = holder(':memory:', {}, metrics);
    const changes: number[] = [];
    h.onPolicyChange((p) => changes.push(p.version));
    const v2 = signDoc(policyDoc({ version: 2 }), seed);
    expect(h.adoptPolicy(v2, 'gossip')).toBe('adopted');
    expect(h.authorizer.version).toBe(2);
    expect(h.adoptPolicy(signDoc(policyDoc({ version: 1 }), seed), 'gossip')).toBe('stale');
    expect(h.adoptPolicy(v2, 'gossip')).toBe('same');
    expect(h.adoptPolicy(signDoc(policyDoc({ version: 2, description: 'other' }), seed), 'gossip')).toBe('conflict');
    expect(h.policy?.idKey).toBe(v2.idKey);
    expect(h.adoptPolicy(signDoc(policyDoc({ version: 3 }), seed), 'gossip')).toBe('adopted');
    expect(changes).toEqual([2, 3]);
    const render = metrics.render();
    expect(render).toContain('hearsay_policy_updates_total{kind="policy",outcome="stale"} 1');
    expect(render).toContain('hearsay_policy_version{kind="policy"} 3');
  });

  it('a new policy version invalidates memoized decisions', () => {
    const h = holder(':memory:');
    h.adoptPolicy(signDoc(policyDoc({ version: 1 }), seed), 'gossip');
    const s = subject('a', ['pub']);
    expect(h.authorizer.mayPublish(s, 'a/t/x')).toBe(true);
    h.adoptPolicy(signDoc(policyDoc({ version: 2, grants: [] }), seed), 'gossip');
    expect(h.authorizer.mayPublish(s, 'a/t/x')).toBe(false);
  });

  it('revocation lists follow the same rules', () => {
    const h = holder(':memory:');
    const id = new Uint8Array(32).fill(3);
    const e = { serial: 'c'.repeat(32), nodeId: id, revokedAt: 1, reason: 'compromised' as const, name: 'x' };
    expect(h.adoptRevocation(signList('sim', 2, [e], seed), 'gossip')).toBe('adopted');
    expect(h.isRevoked({ serial: 'c'.repeat(32), nodeId: new Uint8Array(32) })).toBe(true);
    expect(h.isNodeRevoked(id)).toBe(true);
    // Replaying version 1 (which did not list the node) cannot un-revoke it.
    expect(h.adoptRevocation(signList('sim', 1, [], seed), 'gossip')).toBe('stale');
    expect(h.isNodeRevoked(id)).toBe(true);
  });

  it('persists adopted versions in dataDir and reloads them at start; a configured older file does not roll back', () => {
    const dataDir = tempDir();
    const h = holder(dataDir);
    h.adoptPolicy(signDoc(policyDoc({ version: 5 }), seed), 'gossip');
    h.adoptRevocation(signList('sim', 3, [], seed), 'gossip');
    expect(existsSync(join(dataDir, PERSISTED_POLICY_FILE))).toBe(true);
    expect(existsSync(join(dataDir, PERSISTED_REVOCATION_FILE))).toBe(true);
    const old = join(tempDir(), 'old.signed.json');
    writeSignedPolicyFile(old, signDoc(policyDoc({ version: 4 }), seed));
    const again = holder(dataDir, { policyFile: old });
    again.loadInitial();
    expect(again.policyVersion).toBe(5);
    expect(again.revocationVersion).toBe(3);
  });

  it('a missing or invalid configured file stops the start; a damaged persisted copy is ignored', () => {
    const dir = tempDir();
    expect(() => holder(':memory:', { policyFile: join(dir, 'nope.json') }).loadInitial()).toThrow(/does not exist/);
    const forged = join(dir, 'forged.json');
    writeSignedPolicyFile(forged, signDoc(policyDoc(), new Uint8Array(randomBytes(32))));
    expect(() => holder(':memory:', { policyFile: forged }).loadInitial()).toThrow(expect.objectContaining({ code: 'HEARSAY_ERR_POLICY' }));
    const dataDir = tempDir();
    writeFileSync(join(dataDir, PERSISTED_POLICY_FILE), '{ not json');
    const h = holder(dataDir);
    expect(() => h.loadInitial()).not.toThrow();
    expect(h.policyVersion).toBe(0);
  });

  it('reloadFiles picks up a newer signed file dropped in place', () => {
    const dir = tempDir();
    const pf = join(dir, 'p.json');
    const rf = join(dir, 'r.json');
    writeSignedPolicyFile(pf, signDoc(policyDoc({ version: 1 }), seed));
    writeSignedRevocationFile(rf, signList('sim', 1, [], seed));
    const h = holder(':memory:', { policyFile: pf, revocationFile: rf });
    h.loadInitial();
    writeSignedPolicyFile(pf, signDoc(policyDoc({ version: 2 }), seed), { force: true });
    writeSignedRevocationFile(rf, signList('sim', 2, [], seed), { force: true });
    h.reloadFiles();
    expect([h.policyVersion, h.revocationVersion]).toEqual([2, 2]);
    writeFileSync(pf, 'garbage');
    expect(() => h.reloadFiles()).not.toThrow();
    expect(h.policyVersion).toBe(2);
  });
});
