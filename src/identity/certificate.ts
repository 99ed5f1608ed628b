/**
 * Node certificates: the authority's signed statement "this Ed25519 key is node `name` of tenant
 * `tenant` in cluster `cluster`, with these roles and this X25519 key, between these two times".
 *
 * Encoding. The fields are a msgpack ARRAY in a fixed order (arrays are canonical; map key order is
 * not). The authority signs `"hearsay/v1/cert\0" ‖ msgpack(fields)`, the domain tag keeping a
 * certificate signature from ever being valid as any other signed Hearsay object (STYLE.md §5).
 * The wire form is one msgpack array: the ten fields, then the 64-byte signature.
 *
 *   [v, cluster, nodeId, kx, name, tenant, roles, notBefore, notAfter, serial, signature]
 *
 * Certificates arrive from the network (a first contact carries one), so `decodeCertificate` never
 * throws: it bounds the size before decoding, checks every field's type, length and range, and
 * accepts only the canonical encoding (re-encoding must give the same bytes), so one certificate
 * has exactly one wire form and one fingerprint. Roles are canonical too: sorted, no duplicates.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';
import { fail, HearsayError, ok, type Result } from '../errors.js';
import { bytesEqual, toHex } from './bytes.js';
import { isCanonicalPointEncoding, isSmallOrderPointEncoding } from './ed25519-rules.js';
import { isWeakX25519Key } from './kx.js';
import type { SignatureBackend } from './signature-backend.js';

export const CERT_VERSION = 1;
/** Domain separation tag prepended to the signed bytes (ends in NUL so no tag is a prefix of another). */
export const CERT_DOMAIN_TAG = 'hearsay/v1/cert\0';
/**
 * A certificate with every field at its maximum encodes to ~930 bytes (real ones are ~250), so it
 * fits, with a packet header, in the single 1400-byte datagram of a first contact.
 */
export const MAX_CERT_BYTES = 1024;
export const MAX_ROLES = 16;
/** Same rule as `cluster` in src/config.ts. */
export const CLUSTER_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Node names and tenants: DNS-label-like, usable as folder names and as the policy's `<tenant>/` prefix. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Roles are shorter than names so that 16 of them still fit MAX_CERT_BYTES. */
export const ROLE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,31}$/;
/** 16 random bytes, hex. */
export const SERIAL_PATTERN = /^[0-9a-f]{32}$/;
const SIGNATURE_BYTES = 64;
const KEY_BYTES = 32;

export interface Certificate {
  readonly v: 1;
  readonly cluster: string;
  /** The node's Ed25519 public key, which is also its node id. */
  readonly nodeId: Uint8Array;
  /** The node's X25519 public key for link keys. */
  readonly kx: Uint8Array;
  readonly name: string;
  readonly tenant: string;
  /** Sorted, without duplicates. */
  readonly roles: readonly string[];
  /** Milliseconds since the Unix epoch; valid from notBefore (inclusive) to notAfter (exclusive). */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly serial: string;
}

/**
 * A certificate with its signature. Flat, so that it is itself a `Certificate` (and a
 * `PeerCertificate` for src/link/) without unwrapping.
 */
export interface SignedCertificate extends Certificate {
  /** The authority's Ed25519 signature over `certificateSigningBytes(certificate)`. */
  readonly signature: Uint8Array;
}

/** What `issueCertificate` needs; roles may come in any order, serial defaults to a random one. */
export type CertificateFields = Omit<Certificate, 'v' | 'serial' | 'roles'> & { roles: readonly string[]; serial?: string };

export type CertificateRejection =
  | 'malformed'
  | 'bad-signature'
  | 'wrong-cluster'
  | 'not-yet-valid'
  | 'expired'
  | 'small-order-key'
  | 'weak-kx-key'
  | 'revoked';

export interface VerifyCertificateOptions {
  authorityPublicKey: Uint8Array;
  cluster: string;
  /** Milliseconds since the Unix epoch, from the node's (possibly virtual) clock. */
  now: number;
  backend: SignatureBackend;
  /** Tolerated clock difference with the issuer, applied to both ends of the validity window. */
  clockSkewMs?: number;
  isRevoked?: (certificate: Certificate) => boolean;
}

// useRecords: false keeps msgpackr's record extension out, so the bytes are plain msgpack.
const packr = new Packr({ useRecords: false, variableMapSize: true });
// A private decoder, so nothing a peer sends can change state shared with other msgpackr users.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export function newSerial(): string {
  return randomBytes(16).toString('hex');
}

/** Canonical roles: sorted by code unit, duplicates removed. */
export function normalizeRoles(roles: readonly string[]): string[] {
  return [...new Set(roles)].sort();
}

function fieldArray(c: Certificate): unknown[] {
  return [c.v, c.cluster, c.nodeId, c.kx, c.name, c.tenant, [...c.roles], c.notBefore, c.notAfter, c.serial];
}

/** The exact bytes the authority signs. */
export function certificateSigningBytes(certificate: Certificate): Uint8Array {
  const body = packr.pack(fieldArray(certificate));
  const tag = Buffer.from(CERT_DOMAIN_TAG, 'utf8');
  const out = new Uint8Array(tag.length + body.length);
  out.set(tag, 0);
  out.set(body, tag.length);
  return out;
}

/** Throws HEARSAY_ERR_INVALID_ARGUMENT on invalid fields: issuing one would be our own bug. */
export function issueCertificate(fields: CertificateFields, authoritySeed: Uint8Array, backend: SignatureBackend): SignedCertificate {
  const certificate: Certificate = {
    v: CERT_VERSION,
    cluster: fields.cluster,
    nodeId: Uint8Array.from(fields.nodeId),
    kx: Uint8Array.from(fields.kx),
    name: fields.name,
    tenant: fields.tenant,
    roles: normalizeRoles(fields.roles),
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    serial: fields.serial ?? newSerial(),
  };
  const problem = checkFields(certificate);
  if (problem !== null) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `cannot issue certificate: ${problem}`);
  if (!isCanonicalPointEncoding(certificate.nodeId) || isSmallOrderPointEncoding(certificate.nodeId)) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', 'cannot issue certificate: nodeId is a small-order or non-canonical Ed25519 key');
  }
  if (isWeakX25519Key(certificate.kx)) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', 'cannot issue certificate: kx is a small-order X25519 key');
  }
  return { ...certificate, signature: backend.sign(certificateSigningBytes(certificate), authoritySeed) };
}

export function encodeCertificate(signed: SignedCertificate): Uint8Array {
  return new Uint8Array(packr.pack([...fieldArray(signed), signed.signature]));
}

/** Never throws, whatever the input. */
export function decodeCertificate(bytes: Uint8Array): Result<SignedCertificate, 'malformed'> {
  if (!(bytes instanceof Uint8Array)) return fail('malformed', 'not bytes');
  if (bytes.length > MAX_CERT_BYTES) return fail('malformed', `larger than ${MAX_CERT_BYTES} bytes`);
  // A certificate is an 11-element array: anything else is refused before msgpackr allocates.
  if (bytes.length === 0 || bytes[0] !== 0x9b) return fail('malformed', 'not an 11-element msgpack array');
  let value: unknown;
  try {
    // A private copy: msgpackr caches a DataView on the buffer it reads, and the caller's bytes
    // are not ours to mutate (they may be a view into a received packet).
    value = unpackr.unpack(Buffer.from(bytes));
  } catch {
    return fail('malformed', 'not valid msgpack');
  }
  if (!Array.isArray(value) || value.length !== 11) return fail('malformed', 'not an 11-element array');
  const [v, cluster, nodeId, kx, name, tenant, roles, notBefore, notAfter, serial, signature] = value as unknown[];
  if (v !== CERT_VERSION) return fail('malformed', 'unsupported version');
  if (!(nodeId instanceof Uint8Array) || !(kx instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    return fail('malformed', 'nodeId, kx and signature must be binary');
  }
  if (signature.length !== SIGNATURE_BYTES) return fail('malformed', 'signature must be 64 bytes');
  if (!Array.isArray(roles)) return fail('malformed', 'roles must be an array');
  const signed = {
    v,
    cluster,
    nodeId: Uint8Array.from(nodeId),
    kx: Uint8Array.from(kx),
    name,
    tenant,
    roles: roles as unknown[],
    notBefore,
    notAfter,
    serial,
    signature: Uint8Array.from(signature),
  } as unknown as SignedCertificate;
  const problem = checkFields(signed);
  if (problem !== null) return fail('malformed', problem);
  // Canonical form only: otherwise one certificate would have many encodings and fingerprints.
  let reencoded: Uint8Array;
  try {
    reencoded = encodeCertificate(signed);
  } catch {
    return fail('malformed', 'cannot be re-encoded');
  }
  if (!bytesEqual(reencoded, bytes)) return fail('malformed', 'not in canonical encoding');
  return ok(signed);
}

/**
 * Checks a certificate against the trust anchor. The order is deliberate: a reason other than
 * `malformed` or `bad-signature` means the authority really signed this certificate, so the peer
 * presenting it is not forging anything (useful when charging reputation).
 */
export function verifyCertificate(signed: SignedCertificate, options: VerifyCertificateOptions): Result<Certificate, CertificateRejection> {
  if (typeof signed !== 'object' || signed === null || !(signed.signature instanceof Uint8Array) || signed.signature.length !== SIGNATURE_BYTES) {
    return fail('malformed', 'missing certificate or signature');
  }
  const problem = checkFields(signed);
  if (problem !== null) return fail('malformed', problem);
  if (!options.backend.verify(signed.signature, certificateSigningBytes(signed), options.authorityPublicKey)) {
    return fail('bad-signature', 'not signed by the configured authority');
  }
  return checkCertificateTerms(signed, options);
}

/**
 * Everything `verifyCertificate` checks after the signature: cluster, validity window, keys and
 * revocation. For callers that cache signature results and re-check the rest against a new `now`.
 */
export function checkCertificateTerms(
  certificate: Certificate,
  options: Omit<VerifyCertificateOptions, 'authorityPublicKey' | 'backend'>,
): Result<Certificate, CertificateRejection> {
  if (certificate.cluster !== options.cluster) return fail('wrong-cluster', `issued for cluster ${certificate.cluster}`);
  const skew = options.clockSkewMs ?? 0;
  if (options.now + skew < certificate.notBefore) return fail('not-yet-valid', `valid from ${new Date(certificate.notBefore).toISOString()}`);
  if (options.now - skew >= certificate.notAfter) return fail('expired', `expired at ${new Date(certificate.notAfter).toISOString()}`);
  // RFC 8032 allows small-order keys, but such a key "signs" every message (ed25519-rules.ts rule 4).
  if (isSmallOrderPointEncoding(certificate.nodeId)) return fail('small-order-key', 'nodeId is a small-order Ed25519 point');
  if (!isCanonicalPointEncoding(certificate.nodeId)) return fail('malformed', 'nodeId is a non-canonical point encoding');
  // RFC 7748 §6.1: a small-order kx key makes every link key derived with it public.
  if (isWeakX25519Key(certificate.kx)) return fail('weak-kx-key', 'kx is a small-order X25519 point');
  if (options.isRevoked !== undefined && options.isRevoked(certificate)) return fail('revoked', `serial ${certificate.serial} is revoked`);
  return ok(certificate);
}

/** SHA-256 of the wire bytes, hex: a short public handle for logs and tables. */
export function certificateFingerprint(certificate: SignedCertificate | Uint8Array): string {
  const bytes = certificate instanceof Uint8Array ? certificate : encodeCertificate(certificate);
  return createHash('sha256').update(bytes).digest('hex');
}

/** Null when every field is well-formed, else a description naming the field (never a key). */
function checkFields(c: Certificate): string | null {
  if (c.v !== CERT_VERSION) return 'unsupported version';
  if (typeof c.cluster !== 'string' || !CLUSTER_PATTERN.test(c.cluster)) return 'cluster must be 1-63 characters of a-z, 0-9 and -';
  if (!(c.nodeId instanceof Uint8Array) || c.nodeId.length !== KEY_BYTES) return 'nodeId must be 32 bytes';
  if (!(c.kx instanceof Uint8Array) || c.kx.length !== KEY_BYTES) return 'kx must be 32 bytes';
  if (typeof c.name !== 'string' || !NAME_PATTERN.test(c.name)) return 'name must be 1-63 characters of a-z, 0-9, ., _ and -, starting with a letter or digit';
  if (typeof c.tenant !== 'string' || !NAME_PATTERN.test(c.tenant)) return 'tenant must be 1-63 characters of a-z, 0-9, ., _ and -, starting with a letter or digit';
  if (!Array.isArray(c.roles) || c.roles.length > MAX_ROLES) return `roles must be an array of at most ${MAX_ROLES} entries`;
  for (let i = 0; i < c.roles.length; i++) {
    const role: unknown = c.roles[i];
    if (typeof role !== 'string' || !ROLE_PATTERN.test(role)) return `roles[${i}] must be 1-32 characters of a-z, 0-9, ., _ and -, starting with a letter or digit`;
    if (i > 0 && !(c.roles[i - 1]! < role)) return 'roles must be sorted and without duplicates';
  }
  if (!isTime(c.notBefore)) return 'notBefore must be a non-negative integer (ms since the epoch)';
  if (!isTime(c.notAfter)) return 'notAfter must be a non-negative integer (ms since the epoch)';
  if (c.notAfter <= c.notBefore) return 'notAfter must be after notBefore';
  if (typeof c.serial !== 'string' || !SERIAL_PATTERN.test(c.serial)) return 'serial must be 32 lowercase hex characters';
  return null;
}

function isTime(t: unknown): t is number {
  return typeof t === 'number' && Number.isSafeInteger(t) && t >= 0;
}

/** The public fields of a certificate as JSON-friendly values, for node.cert and CLI output. */
export function describeCertificate(signed: SignedCertificate): Record<string, unknown> {
  const c = signed;
  return {
    cluster: c.cluster,
    name: c.name,
    tenant: c.tenant,
    roles: [...c.roles],
    nodeId: toHex(c.nodeId),
    kx: toHex(c.kx),
    notBefore: new Date(c.notBefore).toISOString(),
    notAfter: new Date(c.notAfter).toISOString(),
    serial: c.serial,
    fingerprint: certificateFingerprint(signed),
  };
}
