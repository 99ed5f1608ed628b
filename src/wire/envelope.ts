/**
 * Signed envelopes: anything that outlives one hop (rumors, heartbeats, membership claims, key/value
 * writes, policy documents, revocation lists) is signed by its origin, and relays forward the exact
 * bytes, so every hop verifies the origin's signature itself.
 *
 *   wire form    msgpack [kind, origin(32), body(bin), signature(64)]
 *   signed bytes "hearsay/v1/" ‖ kind name ‖ 0x00 ‖ origin ‖ body
 *   message id   SHA-256(signed bytes ‖ signature)
 *
 * The kind's *name* is in the signed bytes (domain separation, STYLE.md §5): a signature made for
 * a heartbeat can never be passed off as a key/value write or a certificate, even when the bodies
 * happen to encode alike. `body` is itself msgpack (an array), kept as bytes so the id and the
 * signature are computed over exactly what was received, with no re-encoding.
 */
import { hash } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { decode, encode, type DecodeLimits } from './codec.js';

/** Envelope kinds. ONLY APPEND TO THIS LIST: numbers and names are never reused. */
export const EnvelopeKind = {
  /** Retired: the walking skeleton's membership heartbeat. No layer handles it; the number stays reserved. */
  HEARTBEAT: 1,
  RUMOR: 2,
  /** Membership claims (src/membership/claims.ts): ALIVE and LEAVE signed by the member, SUSPECT and DEAD by the accuser. */
  ALIVE: 3,
  SUSPECT: 4,
  DEAD: 5,
  LEAVE: 6,
  KV_WRITE: 7,
  POLICY: 8,
  REVOCATION: 9,
  EVIDENCE: 10,
} as const;
export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind];

const KIND_NAMES: ReadonlyMap<number, string> = new Map([
  [EnvelopeKind.HEARTBEAT, 'heartbeat'],
  [EnvelopeKind.RUMOR, 'rumor'],
  [EnvelopeKind.ALIVE, 'alive'],
  [EnvelopeKind.SUSPECT, 'suspect'],
  [EnvelopeKind.DEAD, 'dead'],
  [EnvelopeKind.LEAVE, 'leave'],
  [EnvelopeKind.KV_WRITE, 'kv-write'],
  [EnvelopeKind.POLICY, 'policy'],
  [EnvelopeKind.REVOCATION, 'revocation'],
  [EnvelopeKind.EVIDENCE, 'evidence'],
]);

export function envelopeKindName(kind: number): string | undefined {
  return KIND_NAMES.get(kind);
}

export const SIGNATURE_BYTES = 64;
export const ORIGIN_BYTES = 32;

export interface Envelope {
  readonly kind: EnvelopeKind;
  readonly origin: Uint8Array;
  /** msgpack bytes of the body array. */
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  /** The exact wire bytes, forwarded verbatim by relays. */
  readonly bytes: Uint8Array;
}

export type EnvelopeFailure = 'malformed' | 'unknown-kind';

const domainPrefixes = new Map<number, Buffer>(
  [...KIND_NAMES].map(([k, name]) => [k, Buffer.from(`hearsay/v1/${name}\0`, 'utf8')]),
);

export function signedBytes(kind: EnvelopeKind, origin: Uint8Array, body: Uint8Array): Uint8Array {
  const prefix = domainPrefixes.get(kind);
  if (prefix === undefined) throw new RangeError(`envelope: unknown kind ${kind}`);
  return Buffer.concat([prefix, origin, body]);
}

/** Signs `bodyFields` (an array of wire values) as `origin`. */
export function signEnvelope(
  kind: EnvelopeKind,
  origin: Uint8Array,
  secretSeed: Uint8Array,
  bodyFields: readonly unknown[],
  backend: SignatureBackend,
): Envelope {
  if (origin.length !== ORIGIN_BYTES) throw new RangeError('envelope: origin must be 32 bytes');
  const body = encode(bodyFields);
  const signature = backend.sign(signedBytes(kind, origin, body), secretSeed);
  const bytes = encode([kind, origin, body, signature]);
  return { kind, origin, body, signature, bytes };
}

/** Parses envelope wire bytes (untrusted). Does not verify the signature. Never throws. */
export function parseEnvelope(bytes: Uint8Array, limits: DecodeLimits): Result<Envelope, EnvelopeFailure> {
  const d = decode(bytes, limits);
  if (!d.ok) return fail('malformed', d.reason);
  const v = d.value;
  if (!Array.isArray(v) || v.length !== 4) return fail('malformed', 'not a 4-element array');
  const [kind, origin, body, signature] = v as unknown[];
  if (typeof kind !== 'number' || !KIND_NAMES.has(kind)) return fail('unknown-kind');
  if (!(origin instanceof Uint8Array) || origin.length !== ORIGIN_BYTES) return fail('malformed', 'origin');
  if (!(body instanceof Uint8Array)) return fail('malformed', 'body');
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return fail('malformed', 'signature');
  return ok({ kind: kind as EnvelopeKind, origin, body, signature, bytes });
}

/** SHA-256(signed bytes ‖ signature): the id used for deduplication before any signature check. */
export function messageId(env: Envelope, signed: Uint8Array = signedBytes(env.kind, env.origin, env.body)): Uint8Array {
  return hash('sha256', Buffer.concat([signed, env.signature]), 'buffer');
}

/** Verifies the origin's signature; pass `signed` when it was already computed for the id. */
export function verifyEnvelope(env: Envelope, backend: SignatureBackend, signed: Uint8Array = signedBytes(env.kind, env.origin, env.body)): boolean {
  return backend.verify(env.signature, signed, env.origin);
}

/** Decodes the body of a parsed envelope. Never throws. */
export function decodeBody(env: Envelope, limits: DecodeLimits): Result<unknown[], 'malformed'> {
  const d = decode(env.body, limits);
  if (!d.ok || !Array.isArray(d.value)) return fail('malformed', d.ok ? 'body is not an array' : d.reason);
  return ok(d.value as unknown[]);
}
