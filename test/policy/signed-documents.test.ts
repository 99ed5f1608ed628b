import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeRevocationBody, RevocationIndex, revocationBody } from '../../src/identity/revocation.js';
import {
  loadSignedPolicyFile,
  loadSignedRevocationFile,
  signPolicy,
  verifySignedPolicy,
  verifySignedRevocation,
  writeSignedPolicyFile,
  writeSignedRevocationFile,
} from '../../src/policy/signed-documents.js';
import { EnvelopeKind, signEnvelope } from '../../src/wire/envelope.js';
import { backend, policyDoc, signDoc, signList, tempDir } from './helpers.js';

const seed = new Uint8Array(randomBytes(32));
const trust = { authorityPublicKey: backend.publicKeyOf(seed), cluster: 'sim', backend };

describe('signed policy documents', () => {
  it('round-trips through the envelope and a file', () => {
    const signed = signDoc(policyDoc({ version: 7 }), seed);
    const r = verifySignedPolicy(signed.envelope.bytes, trust);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value).toMatchObject({ version: 7, cluster: 'sim', idKey: signed.idKey });
    const dir = tempDir();
    const path = join(dir, 'p.signed.json');
    writeSignedPolicyFile(path, signed);
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(loadSignedPolicyFile(path, trust).version).toBe(7);
    expect(() => writeSignedPolicyFile(path, signed)).toThrow(/already exists/);
  });

  it('refuses another authority, a forged signature, another cluster, and a flipped byte', () => {
    const other = new Uint8Array(randomBytes(32));
    const byOther = signDoc(policyDoc(), other);
    expect(verifySignedPolicy(byOther.envelope.bytes, trust)).toMatchObject({ ok: false, reason: 'not-authority' });
    // Claims the authority as origin, signed by another key.
    const body = [1, 'sim', new Uint8Array(Buffer.from(JSON.stringify(policyDoc())))];
    const forged = signEnvelope(EnvelopeKind.POLICY, trust.authorityPublicKey, other, body, backend);
    expect(verifySignedPolicy(forged.bytes, trust)).toMatchObject({ ok: false, reason: 'bad-signature' });
    const foreign = signDoc(policyDoc({ cluster: 'elsewhere' }), seed);
    expect(verifySignedPolicy(foreign.envelope.bytes, trust)).toMatchObject({ ok: false, reason: 'wrong-cluster' });
    const good = signDoc(policyDoc(), seed).envelope.bytes;
    for (const i of [0, 5, 40, good.length - 70, good.length - 1]) {
      const bad = Uint8Array.from(good);
      bad[i]! ^= 0x01;
      expect(verifySignedPolicy(bad, trust).ok, `byte ${i}`).toBe(false);
    }
  });

  it('refuses to sign an invalid policy, and refuses a signed body whose document disagrees with it', () => {
    expect(() => signPolicy(JSON.stringify(policyDoc({ version: 0 })), seed, backend)).toThrow(/refusing to sign an invalid policy: version/);
    const env = signEnvelope(EnvelopeKind.POLICY, trust.authorityPublicKey, seed, [2, 'sim', new Uint8Array(Buffer.from(JSON.stringify(policyDoc({ version: 1 }))))], backend);
    expect(verifySignedPolicy(env.bytes, trust)).toMatchObject({ ok: false, reason: 'invalid-document' });
  });

  it('an unsigned policy given as a signed file is refused with a hint', () => {
    const dir = tempDir();
    const path = join(dir, 'p.json');
    writeFileSync(path, JSON.stringify(policyDoc()));
    expect(() => loadSignedPolicyFile(path, trust)).toThrow(/unsigned policy: sign it with `hearsay policy sign`/);
    const tampered = join(dir, 't.json');
    writeSignedPolicyFile(tampered, signDoc(policyDoc(), seed));
    const text = JSON.parse(readFileSync(tampered, 'utf8')) as Record<string, unknown>;
    const env = Buffer.from(text['envelope'] as string, 'base64');
    env[env.length - 1]! ^= 1;
    writeFileSync(tampered, JSON.stringify({ ...text, envelope: env.toString('base64') }));
    expect(() => loadSignedPolicyFile(tampered, trust)).toThrow(/invalid signature/);
  });
});

describe('revocation lists', () => {
  const id = new Uint8Array(32).fill(7);
  const entries = [
    { serial: 'a'.repeat(32), nodeId: id, revokedAt: 1000, reason: 'superseded' as const, name: 'n1' },
    { serial: 'b'.repeat(32), nodeId: null, revokedAt: 2000, reason: 'compromised' as const, name: '' },
    { serial: null, nodeId: new Uint8Array(32).fill(9), revokedAt: 3000, reason: 'compromised' as const, name: 'n3' },
  ];

  it('round-trips, and decoding refuses malformed bodies', () => {
    const list = { cluster: 'sim', version: 4, issuedAt: 5000, entries };
    const d = decodeRevocationBody(revocationBody(list));
    expect(d.ok && d.value.entries).toEqual(entries);
    const body = revocationBody(list);
    expect(decodeRevocationBody([0, 'sim', 1, []]).ok).toBe(false);
    expect(decodeRevocationBody([1, 'sim', 1, [['', new Uint8Array(0), 1, 0, '']]]).ok).toBe(false);
    expect(decodeRevocationBody([1, 'sim', 1, [['xyz', new Uint8Array(0), 1, 0, '']]]).ok).toBe(false);
    expect(decodeRevocationBody([1, 'sim', 1, [['a'.repeat(32), new Uint8Array(5), 1, 0, '']]]).ok).toBe(false);
    expect(decodeRevocationBody([1, 'sim', 1, [['a'.repeat(32), new Uint8Array(0), 1, 3, '']]]).ok).toBe(false);
    expect(decodeRevocationBody(body.slice(0, 3)).ok).toBe(false);
  });

  it('indexes serials and keys; data revocation is retroactive only for compromised keys', () => {
    const ix = new RevocationIndex({ cluster: 'sim', version: 1, issuedAt: 0, entries });
    expect(ix.isRevoked({ serial: 'a'.repeat(32), nodeId: new Uint8Array(32) })).toBe(true);
    expect(ix.isRevoked({ serial: 'c'.repeat(32), nodeId: id })).toBe(true); // a renewed certificate for a revoked key
    expect(ix.isRevoked({ serial: 'c'.repeat(32), nodeId: new Uint8Array(32) })).toBe(false);
    const idHex = Buffer.from(id).toString('hex');
    expect(ix.isDataRevoked(idHex, 999)).toBe(false); // written before the rotation: stays
    expect(ix.isDataRevoked(idHex, 1000)).toBe(true);
    expect(ix.isDataRevoked('09'.repeat(32), 0)).toBe(true); // compromised: everything
    expect(ix.isDataRevoked('00'.repeat(32), 5)).toBe(false);
  });

  it('signed lists verify, and tampering or another authority is refused; files round-trip', () => {
    const signed = signList('sim', 2, entries, seed);
    expect(verifySignedRevocation(signed.envelope.bytes, trust).ok).toBe(true);
    expect(verifySignedRevocation(signList('sim', 2, entries, new Uint8Array(randomBytes(32))).envelope.bytes, trust)).toMatchObject({ ok: false, reason: 'not-authority' });
    expect(verifySignedRevocation(signList('other', 2, entries, seed).envelope.bytes, trust)).toMatchObject({ ok: false, reason: 'wrong-cluster' });
    // A policy signature is never valid as a revocation list (domain separation).
    expect(verifySignedRevocation(signDoc(policyDoc(), seed).envelope.bytes, trust)).toMatchObject({ ok: false, reason: 'wrong-kind' });
    const dir = tempDir();
    const path = join(dir, 'r.json');
    writeSignedRevocationFile(path, signed);
    expect(loadSignedRevocationFile(path, trust).list.entries).toEqual(entries);
  });
});
