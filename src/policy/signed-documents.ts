/**
 * Signed policy documents and revocation lists: envelopes of kind POLICY (8) and REVOCATION (9)
 * whose origin is the authority's public key, and the files that carry them.
 *
 *   POLICY      body [version, cluster, document]          document = UTF-8 JSON bytes
 *   REVOCATION  body [version, cluster, issuedAt, entries]  (src/identity/revocation.ts)
 *
 * Signed bytes are the envelope's: "hearsay/v1/policy\0" (or "revocation\0") ‖ authority key ‖
 * body, so a policy signature can never pass for a revocation list, a certificate or any gossip.
 * Version and cluster sit outside the JSON so a node can refuse an old or foreign document before
 * parsing it, and are checked again against the document's own fields after.
 *
 * Files (`hearsay policy sign`, `hearsay node rotate|revoke`, and each node's dataDir):
 *
 *   {"kind": "hearsay-signed-policy", "cluster", "version", "authority", "signedAt",
 *    "document": {…readable copy…}, "envelope": "<base64 of the envelope wire bytes>"}
 *   {"kind": "hearsay-signed-revocation", "cluster", "version", "authority", "issuedAt",
 *    "entries": [{…readable copy…}], "envelope": "<base64>"}
 *
 * Like node.cert, a reader trusts only `envelope`; the readable fields are for people.
 */
import { readFileSync, statSync } from 'node:fs';
import { fail, HearsayError, ok, type Result } from '../errors.js';
import { CLUSTER_PATTERN } from '../identity/certificate.js';
import { writeFileAtomic } from '../identity/key-file.js';
import {
  decodeRevocationBody,
  revocationBody,
  type RevocationList,
} from '../identity/revocation.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { frameLimits } from '../wire/codec.js';
import { decodeBody, EnvelopeKind, messageId, parseEnvelope, signEnvelope, verifyEnvelope, type Envelope } from '../wire/envelope.js';
import { bytes, str, tuple, uint, type Schema } from '../wire/schema.js';
import { checkPolicyText, formatIssue, MAX_POLICY_BYTES, type PolicyDocument } from './policy-document.js';

export const SIGNED_POLICY_KIND = 'hearsay-signed-policy';
export const SIGNED_REVOCATION_KIND = 'hearsay-signed-revocation';
/** Signed files hold the envelope in base64 plus a readable copy: a few times the document's size. */
const MAX_SIGNED_FILE_BYTES = 4 * 1024 * 1024;
/** Decode limits for a signed envelope: it travels in a stream frame, never in a datagram. */
export const SIGNED_DOCUMENT_LIMITS = frameLimits(1 << 20);

export const POLICY_BODY: Schema<[number, string, Uint8Array]> = tuple(uint(), str(63, CLUSTER_PATTERN), bytes(1, MAX_POLICY_BYTES));
/** Checked in full by decodeRevocationBody, so the router refuses a malformed list before its handler runs. */
export const REVOCATION_BODY: Schema<unknown[]> = {
  name: 'revocation-list',
  check: (v: unknown): v is unknown[] => Array.isArray(v) && decodeRevocationBody(v).ok,
};

export interface SignedPolicy {
  readonly envelope: Envelope;
  /** base64 message id of the envelope (the router's seen-cache key). */
  readonly idKey: string;
  readonly version: number;
  readonly cluster: string;
  readonly document: PolicyDocument;
  /** The signed JSON text, exactly as it is in the envelope. */
  readonly documentText: string;
}

export interface SignedRevocation {
  readonly envelope: Envelope;
  readonly idKey: string;
  readonly version: number;
  readonly cluster: string;
  readonly list: RevocationList;
}

export type OpenFailure = 'malformed' | 'wrong-kind' | 'not-authority' | 'bad-signature' | 'wrong-cluster' | 'invalid-document';

export interface TrustOptions {
  readonly authorityPublicKey: Uint8Array;
  readonly cluster: string;
  readonly backend: SignatureBackend;
}

// ---------------------------------------------------------------------------------------------
// Signing (the authority, offline)

/** Signs the JSON text of a policy that `checkPolicyText` accepts. Throws HEARSAY_ERR_POLICY otherwise. */
export function signPolicy(documentText: string, authoritySeed: Uint8Array, backend: SignatureBackend): SignedPolicy {
  const checked = checkPolicyText(documentText);
  if (!checked.ok) throw new HearsayError('HEARSAY_ERR_POLICY', `refusing to sign an invalid policy: ${checked.detail ?? checked.reason}`);
  const doc = checked.value;
  // The compact form of what the operator wrote: the document every node re-validates.
  const text = JSON.stringify(JSON.parse(documentText));
  const authority = backend.publicKeyOf(authoritySeed);
  const envelope = signEnvelope(EnvelopeKind.POLICY, authority, authoritySeed, [doc.version, doc.cluster, new Uint8Array(Buffer.from(text, 'utf8'))], backend);
  return { envelope, idKey: idKeyOf(envelope), version: doc.version, cluster: doc.cluster, document: doc, documentText: text };
}

export function signRevocation(list: RevocationList, authoritySeed: Uint8Array, backend: SignatureBackend): SignedRevocation {
  const body = revocationBody(list);
  const decoded = decodeRevocationBody(body);
  if (!decoded.ok) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `refusing to sign an invalid revocation list: ${decoded.detail ?? decoded.reason}`);
  const authority = backend.publicKeyOf(authoritySeed);
  const envelope = signEnvelope(EnvelopeKind.REVOCATION, authority, authoritySeed, body, backend);
  return { envelope, idKey: idKeyOf(envelope), version: list.version, cluster: list.cluster, list: decoded.value };
}

// ---------------------------------------------------------------------------------------------
// Opening (every node). Never throws: the bytes may come from the network.

/**
 * Checks a POLICY envelope whose signature is already verified (the envelope router did it):
 * body, cluster, and the document itself.
 */
export function openPolicy(envelope: Envelope, body: readonly unknown[], cluster: string): Result<SignedPolicy, OpenFailure> {
  if (envelope.kind !== EnvelopeKind.POLICY) return fail('wrong-kind');
  if (!POLICY_BODY.check(body)) return fail('malformed', 'body');
  const [version, docCluster, docBytes] = body;
  if (docCluster !== cluster) return fail('wrong-cluster', `for cluster ${docCluster}`);
  const text = Buffer.from(docBytes).toString('utf8');
  const checked = checkPolicyText(text);
  if (!checked.ok) return fail('invalid-document', checked.issues?.map(formatIssue).join('; ') ?? checked.detail);
  const doc = checked.value;
  if (doc.version !== version || doc.cluster !== docCluster) return fail('invalid-document', 'version or cluster differ between the envelope and the document');
  return ok({ envelope, idKey: idKeyOf(envelope), version, cluster: docCluster, document: doc, documentText: text });
}

export function openRevocation(envelope: Envelope, body: readonly unknown[], cluster: string): Result<SignedRevocation, OpenFailure> {
  if (envelope.kind !== EnvelopeKind.REVOCATION) return fail('wrong-kind');
  const decoded = decodeRevocationBody(body);
  if (!decoded.ok) return fail('malformed', decoded.detail);
  if (decoded.value.cluster !== cluster) return fail('wrong-cluster', `for cluster ${decoded.value.cluster}`);
  return ok({ envelope, idKey: idKeyOf(envelope), version: decoded.value.version, cluster, list: decoded.value });
}

/** Parses envelope bytes and verifies the authority's signature (for files; gossip goes through the router). */
export function verifyAuthorityEnvelope(bytesIn: Uint8Array, kind: EnvelopeKind, trust: TrustOptions): Result<{ envelope: Envelope; body: unknown[] }, OpenFailure> {
  const parsed = parseEnvelope(bytesIn, SIGNED_DOCUMENT_LIMITS);
  if (!parsed.ok) return fail('malformed', parsed.reason);
  const env = parsed.value;
  if (env.kind !== kind) return fail('wrong-kind');
  if (Buffer.compare(env.origin, trust.authorityPublicKey) !== 0) return fail('not-authority', 'not signed by the configured authority key');
  if (!verifyEnvelope(env, trust.backend)) return fail('bad-signature');
  const body = decodeBody(env, SIGNED_DOCUMENT_LIMITS);
  if (!body.ok) return fail('malformed', 'body');
  return ok({ envelope: env, body: body.value });
}

export function verifySignedPolicy(envelopeBytes: Uint8Array, trust: TrustOptions): Result<SignedPolicy, OpenFailure> {
  const v = verifyAuthorityEnvelope(envelopeBytes, EnvelopeKind.POLICY, trust);
  return v.ok ? openPolicy(v.value.envelope, v.value.body, trust.cluster) : v;
}

export function verifySignedRevocation(envelopeBytes: Uint8Array, trust: TrustOptions): Result<SignedRevocation, OpenFailure> {
  const v = verifyAuthorityEnvelope(envelopeBytes, EnvelopeKind.REVOCATION, trust);
  return v.ok ? openRevocation(v.value.envelope, v.value.body, trust.cluster) : v;
}

function idKeyOf(env: Envelope): string {
  return Buffer.from(messageId(env)).toString('base64');
}

// ---------------------------------------------------------------------------------------------
// Files

export function writeSignedPolicyFile(path: string, signed: SignedPolicy, options: { force?: boolean; now?: number } = {}): void {
  const doc = JSON.parse(signed.documentText) as unknown;
  const file = {
    kind: SIGNED_POLICY_KIND,
    cluster: signed.cluster,
    version: signed.version,
    authority: Buffer.from(signed.envelope.origin).toString('hex'),
    signedAt: new Date(options.now ?? Date.now()).toISOString(),
    note: 'only "envelope" is trusted; "document" is a readable copy',
    document: doc,
    envelope: Buffer.from(signed.envelope.bytes).toString('base64'),
  };
  writeFileAtomic(path, Buffer.from(`${JSON.stringify(file, null, 2)}\n`, 'utf8'), 0o644, options.force === true);
}

export function writeSignedRevocationFile(path: string, signed: SignedRevocation, options: { force?: boolean } = {}): void {
  const file = {
    kind: SIGNED_REVOCATION_KIND,
    cluster: signed.cluster,
    version: signed.version,
    authority: Buffer.from(signed.envelope.origin).toString('hex'),
    issuedAt: new Date(signed.list.issuedAt).toISOString(),
    note: 'only "envelope" is trusted; "entries" is a readable copy',
    entries: signed.list.entries.map((e) => ({
      name: e.name,
      serial: e.serial,
      nodeId: e.nodeId === null ? null : Buffer.from(e.nodeId).toString('hex'),
      reason: e.reason,
      revokedAt: new Date(e.revokedAt).toISOString(),
    })),
    envelope: Buffer.from(signed.envelope.bytes).toString('base64'),
  };
  writeFileAtomic(path, Buffer.from(`${JSON.stringify(file, null, 2)}\n`, 'utf8'), 0o644, options.force === true);
}

/** The envelope bytes of a signed file. Throws HEARSAY_ERR_POLICY naming the file and the problem. */
export function readSignedFileEnvelope(path: string, kind: typeof SIGNED_POLICY_KIND | typeof SIGNED_REVOCATION_KIND): Uint8Array {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_SIGNED_FILE_BYTES) throw fileError(path, `is larger than ${MAX_SIGNED_FILE_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof HearsayError) throw e;
    const code = (e as { code?: string }).code;
    throw fileError(path, code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'unknown error'})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw fileError(path, 'is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw fileError(path, 'is not a JSON object');
  const o = doc as Record<string, unknown>;
  if (o['kind'] !== kind) {
    const hint = kind === SIGNED_POLICY_KIND && o['kind'] === 'hearsay-policy' ? ' (this is an unsigned policy: sign it with `hearsay policy sign`)' : '';
    throw fileError(path, `"kind" must be "${kind}"${hint}`);
  }
  const env = o['envelope'];
  if (typeof env !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(env) || env.length === 0) throw fileError(path, '"envelope" must be base64');
  return new Uint8Array(Buffer.from(env, 'base64'));
}

export function loadSignedPolicyFile(path: string, trust: TrustOptions): SignedPolicy {
  const r = verifySignedPolicy(readSignedFileEnvelope(path, SIGNED_POLICY_KIND), trust);
  if (!r.ok) throw fileError(path, describeFailure(r.reason, r.detail));
  return r.value;
}

export function loadSignedRevocationFile(path: string, trust: TrustOptions): SignedRevocation {
  const r = verifySignedRevocation(readSignedFileEnvelope(path, SIGNED_REVOCATION_KIND), trust);
  if (!r.ok) throw fileError(path, describeFailure(r.reason, r.detail));
  return r.value;
}

export function describeFailure(reason: OpenFailure, detail?: string): string {
  const text: Record<OpenFailure, string> = {
    malformed: 'is malformed',
    'wrong-kind': 'holds another kind of signed document',
    'not-authority': 'is not signed by the configured authority (authorityPublicKey)',
    'bad-signature': 'has an invalid signature (forged or corrupted)',
    'wrong-cluster': 'is for another cluster',
    'invalid-document': 'holds an invalid document',
  };
  return `${text[reason]}${detail === undefined ? '' : ` (${detail})`}`;
}

function fileError(path: string, problem: string): HearsayError {
  return new HearsayError('HEARSAY_ERR_POLICY', `signed file ${path} ${problem}`);
}
