import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { generateAuthorityKey } from '../../src/identity/authority.js';
import { createBackend } from '../../src/identity/backends.js';
import {
  CERT_DOMAIN_TAG,
  MAX_CERT_BYTES,
  MAX_ROLES,
  certificateFingerprint,
  certificateSigningBytes,
  decodeCertificate,
  encodeCertificate,
  issueCertificate,
  verifyCertificate,
  type Certificate,
  type CertificateFields,
  type SignedCertificate,
  type VerifyCertificateOptions,
} from '../../src/identity/certificate.js';
import { SMALL_ORDER_CANONICAL, SMALL_ORDER_NON_CANONICAL } from '../../src/identity/ed25519-rules.js';
import { generateNodeKeys } from '../../src/identity/node-identity.js';

const node = createBackend('node');
const noble = createBackend('noble');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const NOW = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;

const authority = generateAuthorityKey();
const keys = generateNodeKeys();

function fields(overrides: Partial<CertificateFields> = {}): CertificateFields {
  return {
    cluster: 'prod',
    nodeId: keys.nodeId,
    kx: keys.kxPublic,
    name: 'edge-1',
    tenant: 'acme',
    roles: ['subscriber', 'publisher'],
    notBefore: NOW - DAY,
    notAfter: NOW + 30 * DAY,
    ...overrides,
  };
}

function options(overrides: Partial<VerifyCertificateOptions> = {}): VerifyCertificateOptions {
  return { authorityPublicKey: authority.publicKey, cluster: 'prod', now: NOW, backend: node, ...overrides };
}

/** Signs arbitrary fields directly, bypassing issueCertificate's own refusals (to test the verifier). */
function signRaw(cert: Certificate, seed = authority.seed): SignedCertificate {
  return { ...cert, signature: node.sign(certificateSigningBytes(cert), seed) };
}

const good = issueCertificate(fields(), authority.seed, node);
const goodBytes = encodeCertificate(good);

describe('issue, encode, decode', () => {
  it('round-trips and verifies with both backends', () => {
    const decoded = decodeCertificate(goodBytes);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.value).toEqual(good);
    for (const backend of [node, noble]) {
      const verdict = verifyCertificate(decoded.value, options({ backend }));
      expect(verdict.ok, backend.name).toBe(true);
    }
  });

  it('normalizes roles (sorted, no duplicates) and gives a random 16-byte serial', () => {
    const c = issueCertificate(fields({ roles: ['b', 'a', 'b'] }), authority.seed, node);
    expect(c.roles).toEqual(['a', 'b']);
    expect(c.serial).toMatch(/^[0-9a-f]{32}$/);
    expect(issueCertificate(fields(), authority.seed, node).serial).not.toBe(c.serial);
  });

  it('signs the domain-separated canonical encoding', () => {
    const signing = certificateSigningBytes(good);
    expect(Buffer.from(signing.subarray(0, CERT_DOMAIN_TAG.length)).toString('utf8')).toBe('hearsay/v1/cert\0');
    expect(node.verify(good.signature, signing, authority.publicKey)).toBe(true);
    // The same signature over the bare fields (no tag) must not verify.
    expect(node.verify(good.signature, signing.subarray(CERT_DOMAIN_TAG.length), authority.publicKey)).toBe(false);
  });

  it('is an 11-element msgpack array ending in the signature, and is deterministic', () => {
    expect(goodBytes[0]).toBe(0x9b);
    expect(Buffer.from(goodBytes.subarray(goodBytes.length - 64)).equals(Buffer.from(good.signature))).toBe(true);
    expect(encodeCertificate(good)).toEqual(goodBytes);
  });

  it('a certificate with every field at its maximum still fits MAX_CERT_BYTES', () => {
    const roles = Array.from({ length: MAX_ROLES }, (_, i) => `${String.fromCharCode(97 + i)}${'r'.repeat(31)}`);
    const big = issueCertificate(
      fields({ cluster: 'c'.repeat(63), name: 'n'.repeat(63), tenant: 't'.repeat(63), roles, notBefore: 2 ** 52, notAfter: 2 ** 53 - 1 }),
      authority.seed,
      node,
    );
    const bytes = encodeCertificate(big);
    expect(bytes.length).toBeLessThanOrEqual(MAX_CERT_BYTES);
    expect(decodeCertificate(bytes).ok).toBe(true);
  });

  it('fingerprint is the SHA-256 of the wire bytes', () => {
    const expected = createHash('sha256').update(goodBytes).digest('hex');
    expect(certificateFingerprint(good)).toBe(expected);
    expect(certificateFingerprint(goodBytes)).toBe(expected);
  });

  it('refuses to issue invalid certificates (our own bug)', () => {
    const bad: Array<[string, Partial<CertificateFields>]> = [
      ['name', { name: 'Edge 1' }],
      ['tenant', { tenant: '' }],
      ['cluster', { cluster: 'a.b' }],
      ['role', { roles: ['ok', 'NO'] }],
      ['too many roles', { roles: Array.from({ length: MAX_ROLES + 1 }, (_, i) => `r${i}`) }],
      ['window', { notAfter: NOW - DAY }],
      ['time', { notBefore: 1.5 }],
      ['nodeId length', { nodeId: new Uint8Array(31) }],
      ['small-order nodeId', { nodeId: unhex(SMALL_ORDER_CANONICAL[4]!) }],
      ['weak kx', { kx: new Uint8Array(32) }],
      ['serial', { serial: 'xyz' }],
    ];
    for (const [label, o] of bad) {
      expect(() => issueCertificate(fields(o), authority.seed, node), label).toThrow(expect.objectContaining({ code: 'HEARSAY_ERR_INVALID_ARGUMENT' }));
    }
  });
});

describe('verifyCertificate', () => {
  it('refuses a certificate from another authority', () => {
    const other = generateAuthorityKey();
    const c = issueCertificate(fields(), other.seed, node);
    expect(verifyCertificate(c, options())).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyCertificate(c, options({ authorityPublicKey: other.publicKey })).ok).toBe(true);
  });

  it('refuses another cluster', () => {
    const c = issueCertificate(fields({ cluster: 'staging' }), authority.seed, node);
    expect(verifyCertificate(c, options())).toMatchObject({ ok: false, reason: 'wrong-cluster' });
  });

  it('enforces notBefore (inclusive) and notAfter (exclusive), with optional skew', () => {
    const c = good;
    expect(verifyCertificate(c, options({ now: c.notBefore - 1 }))).toMatchObject({ ok: false, reason: 'not-yet-valid' });
    expect(verifyCertificate(c, options({ now: c.notBefore })).ok).toBe(true);
    expect(verifyCertificate(c, options({ now: c.notAfter - 1 })).ok).toBe(true);
    expect(verifyCertificate(c, options({ now: c.notAfter }))).toMatchObject({ ok: false, reason: 'expired' });
    expect(verifyCertificate(c, options({ now: c.notBefore - 1000, clockSkewMs: 1000 })).ok).toBe(true);
    expect(verifyCertificate(c, options({ now: c.notAfter + 999, clockSkewMs: 1000 })).ok).toBe(true);
    expect(verifyCertificate(c, options({ now: c.notAfter + 1000, clockSkewMs: 1000 }))).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('refuses every small-order node key, even when the authority signed it', () => {
    for (const h of [...SMALL_ORDER_CANONICAL, ...SMALL_ORDER_NON_CANONICAL]) {
      const c = signRaw({ ...good, nodeId: unhex(h) });
      expect(verifyCertificate(c, options()), h).toMatchObject({ ok: false, reason: 'small-order-key' });
    }
  });

  it('refuses a non-canonical node key that is not small-order as malformed', () => {
    const c = signRaw({ ...good, nodeId: unhex('f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f') });
    expect(verifyCertificate(c, options())).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('refuses weak X25519 keys (RFC 7748 §6.1)', () => {
    const p = 2n ** 255n - 19n;
    const le = (n: bigint): Uint8Array => unhex(n.toString(16).padStart(64, '0')).reverse();
    for (const u of [0n, 1n, p - 1n, p, p + 1n, 2n ** 255n + 1n]) {
      const c = signRaw({ ...good, kx: le(u) });
      expect(verifyCertificate(c, options()), String(u)).toMatchObject({ ok: false, reason: 'weak-kx-key' });
    }
  });

  it('refuses a revoked certificate', () => {
    const verdict = verifyCertificate(good, options({ isRevoked: (c) => c.serial === good.serial }));
    expect(verdict).toMatchObject({ ok: false, reason: 'revoked' });
    expect(verifyCertificate(good, options({ isRevoked: () => false })).ok).toBe(true);
  });

  it('refuses hand-built objects with bad fields as malformed, without throwing', () => {
    const cases: unknown[] = [
      null,
      {},
      { ...good, signature: new Uint8Array(63) },
      { ...good, roles: 'admin' },
      { ...good, roles: ['b', 'a'] },
      { ...good, notBefore: Number.NaN },
      { ...good, v: 2 },
    ];
    for (const c of cases) expect(verifyCertificate(c as SignedCertificate, options())).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

describe('decodeCertificate on hostile input', () => {
  it('rejects every single-byte change of the encoded certificate, without throwing', () => {
    let decodeRejected = 0;
    let verifyRejected = 0;
    for (let i = 0; i < goodBytes.length; i++) {
      for (const x of [0x01, 0x80, 0xff]) {
        const bytes = Uint8Array.from(goodBytes);
        bytes[i]! ^= x;
        const decoded = decodeCertificate(bytes);
        if (!decoded.ok) {
          decodeRejected++;
          continue;
        }
        const verdict = verifyCertificate(decoded.value, options());
        expect(verdict.ok, `byte ${i} ^ ${x}`).toBe(false);
        verifyRejected++;
      }
    }
    expect(decodeRejected + verifyRejected).toBe(goodBytes.length * 3);
    // Both layers are exercised: structure errors in decode, content changes in verify.
    expect(decodeRejected).toBeGreaterThan(0);
    expect(verifyRejected).toBeGreaterThan(0);
  });

  it('rejects truncations, extensions and oversize input', () => {
    for (let n = 0; n < goodBytes.length; n++) expect(decodeCertificate(goodBytes.subarray(0, n)).ok, `prefix ${n}`).toBe(false);
    expect(decodeCertificate(new Uint8Array([...goodBytes, 0xc0])).ok).toBe(false);
    expect(decodeCertificate(new Uint8Array(MAX_CERT_BYTES + 1).fill(0x9b))).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('accepts only the canonical encoding (re-encoded fields with the same values are refused)', () => {
    // Times as uint64 instead of msgpackr's float64: same values, different bytes.
    const packr = new Packr({ useRecords: false, variableMapSize: true, largeBigIntToFloat: false });
    const c = good;
    const alt = packr.pack([c.v, c.cluster, c.nodeId, c.kx, c.name, c.tenant, [...c.roles], BigInt(c.notBefore), BigInt(c.notAfter), c.serial, c.signature]);
    expect(Buffer.from(alt).equals(Buffer.from(goodBytes))).toBe(false);
    expect(decodeCertificate(new Uint8Array(alt))).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('does not modify the bytes it decodes', () => {
    const bytes = Uint8Array.from(goodBytes);
    expect(decodeCertificate(bytes).ok).toBe(true);
    expect(bytes).toStrictEqual(Uint8Array.from(goodBytes));
  });

  it('refuses a string in a longer-than-needed msgpack form (str8 instead of fixstr)', () => {
    // The tenant "acme" is fixstr a4 61 63 6d 65; d9 04 61 63 6d 65 decodes to the same string.
    const at = Buffer.from(goodBytes).indexOf(Buffer.from('a461636d65', 'hex'));
    expect(at).toBeGreaterThan(0);
    const alt = new Uint8Array([...goodBytes.subarray(0, at), 0xd9, 0x04, ...goodBytes.subarray(at + 1)]);
    expect(decodeCertificate(alt)).toEqual({ ok: false, reason: 'malformed', detail: 'not in canonical encoding' });
  });

  it('never throws on random bytes (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1200 }), (bytes) => {
        expect(decodeCertificate(bytes).ok).toBe(false);
      }),
      { numRuns: 2000, seed: 0xce47 },
    );
  });

  it('never throws on random bytes behind an 11-element array header (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1000 }), (tail) => {
        expect(decodeCertificate(new Uint8Array([0x9b, ...tail])).ok).toBe(false);
      }),
      { numRuns: 2000, seed: 0x9b9b },
    );
  });

  it('never throws on random splices of a valid certificate (fast-check)', () => {
    fc.assert(
      fc.property(fc.nat(goodBytes.length), fc.nat(8), fc.uint8Array({ maxLength: 8 }), (at, cut, insert) => {
        const bytes = new Uint8Array([...goodBytes.subarray(0, at), ...insert, ...goodBytes.subarray(Math.min(goodBytes.length, at + cut))]);
        const decoded = decodeCertificate(bytes);
        // A splice that keeps the structure decodes; then the signature check must catch it,
        // unless the splice changed nothing.
        if (decoded.ok && !Buffer.from(bytes).equals(Buffer.from(goodBytes))) {
          expect(verifyCertificate(decoded.value, options()).ok).toBe(false);
        }
      }),
      { numRuns: 2000, seed: 0x5911ce },
    );
  });
});
