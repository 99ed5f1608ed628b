/**
 * Proofs of equivocation: two envelopes, both validly signed by one origin, of one kind, for one
 * slot (slots.ts), with different content. Anyone can check a proof without trusting whoever
 * presents it, so a node that sees one bans the origin itself.
 *
 * On the wire a proof travels in an EVIDENCE envelope signed by the node that forwards it (each
 * node signs its own copy, so the reporter is always a peer the receiver has authenticated):
 *
 *   body [format = 1, first envelope bytes, second envelope bytes, origin certificate bytes]
 *
 * The origin's certificate rides along so that every node can check the origin is (or was) a
 * certified member even if it never met it: without it, anyone could make fresh keys, equivocate
 * with them and have us verify "valid" proofs for free.
 *
 * A proof's id is SHA-256 over the two message ids in sorted order, so (a, b) and (b, a) are one proof.
 */
import { hash } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { frameLimits } from '../wire/codec.js';
import { decodeBody, EnvelopeKind, messageId, parseEnvelope, signedBytes, verifyEnvelope, type Envelope } from '../wire/envelope.js';
import { MAX_CERT_BYTES } from '../wire/packet.js';
import { bytes, literal, tuple } from '../wire/schema.js';
import type { SlotRegistry } from './slots.js';

export const EVIDENCE_FORMAT = 1;
/** Largest envelope a proof may carry (the router's bound on envelopes in messages). */
export const MAX_PROOF_ENVELOPE_BYTES = 65_536;
export const EVIDENCE_BODY = tuple(literal(EVIDENCE_FORMAT), bytes(1, MAX_PROOF_ENVELOPE_BYTES), bytes(1, MAX_PROOF_ENVELOPE_BYTES), bytes(1, MAX_CERT_BYTES));

/**
 * Why a proof is refused. The first group is what an honest node never forwards (it checks first),
 * so the sender is charged 'forged-evidence'. The second group can happen between honest nodes
 * (version skew of slot definitions, certificate expiry or revocation between hops) and is only
 * counted.
 */
export const FORGED_REASONS = ['malformed', 'evidence-of-evidence', 'different-origin', 'different-kind', 'bad-signature', 'different-slot', 'same-content', 'no-conflict'] as const;
export const UNCHARGED_REASONS = ['no-slot', 'bad-certificate', 'self'] as const;
export type ProofFailure = (typeof FORGED_REASONS)[number] | (typeof UNCHARGED_REASONS)[number];

const forged: ReadonlySet<string> = new Set(FORGED_REASONS);
export function isForgery(reason: ProofFailure): boolean {
  return forged.has(reason);
}

export interface VerifiedProof {
  /** Hex SHA-256 of the two message ids, sorted. */
  readonly id: string;
  readonly origin: Uint8Array;
  readonly originHex: string;
  readonly kind: EnvelopeKind;
  readonly slot: string;
  /** The two envelopes' wire bytes, in message-id order. */
  readonly first: Uint8Array;
  readonly second: Uint8Array;
}

const LIMITS = frameLimits(MAX_PROOF_ENVELOPE_BYTES);

export interface ProofCheckDeps {
  readonly backend: SignatureBackend;
  readonly slots: SlotRegistry;
}

/** The proof id of two envelopes (order-independent). */
export function proofIdOf(a: Envelope, b: Envelope): string {
  const ia = Buffer.from(messageId(a));
  const ib = Buffer.from(messageId(b));
  const [x, y] = Buffer.compare(ia, ib) <= 0 ? [ia, ib] : [ib, ia];
  return hash('sha256', Buffer.concat([x, y]), 'hex');
}

/**
 * Parses both envelopes and returns the proof id without verifying anything (cheap: two hashes),
 * so known proofs are recognised before any signature check.
 */
export function peekProof(first: Uint8Array, second: Uint8Array): Result<{ id: string; a: Envelope; b: Envelope }, 'malformed'> {
  const a = parseEnvelope(first, LIMITS);
  const b = parseEnvelope(second, LIMITS);
  if (!a.ok || !b.ok) return fail('malformed');
  return ok({ id: proofIdOf(a.value, b.value), a: a.value, b: b.value });
}

/**
 * Checks a proof completely: shapes, origin, kind, both signatures, one slot, conflicting content.
 * Never throws. Certificate checks are the caller's (it knows the trust anchor and the time).
 * Cheap checks come first; the two signature verifications run last.
 */
export function checkProof(first: Uint8Array, second: Uint8Array, deps: ProofCheckDeps): Result<VerifiedProof, ProofFailure> {
  const peek = peekProof(first, second);
  if (!peek.ok) return peek;
  const { id, a, b } = peek.value;
  if (a.kind === EnvelopeKind.EVIDENCE || b.kind === EnvelopeKind.EVIDENCE) return fail('evidence-of-evidence');
  if (Buffer.compare(a.origin, b.origin) !== 0) return fail('different-origin');
  if (a.kind !== b.kind) return fail('different-kind');
  // The content is the signed body. Comparing bodies, not message ids, matters: a signer can make
  // several valid signatures of one message, and those are one record, not two.
  if (Buffer.compare(a.body, b.body) === 0) return fail('same-content');
  const bodyA = decodeBody(a, LIMITS);
  const bodyB = decodeBody(b, LIMITS);
  if (!bodyA.ok || !bodyB.ok) return fail('malformed');
  if (!deps.slots.has(a.kind)) return fail('no-slot');
  const slotA = deps.slots.slotOf(a.kind, bodyA.value);
  const slotB = deps.slots.slotOf(a.kind, bodyB.value);
  if (slotA === null || slotB === null) return fail('no-slot');
  if (slotA !== slotB) return fail('different-slot');
  if (!deps.slots.conflicts(a.kind, bodyA.value, bodyB.value)) return fail('no-conflict');
  if (!verifyEnvelope(a, deps.backend, signedBytes(a.kind, a.origin, a.body)) || !verifyEnvelope(b, deps.backend, signedBytes(b.kind, b.origin, b.body))) {
    return fail('bad-signature');
  }
  const aFirst = Buffer.compare(Buffer.from(messageId(a)), Buffer.from(messageId(b))) <= 0;
  return ok({
    id,
    origin: new Uint8Array(a.origin),
    originHex: Buffer.from(a.origin).toString('hex'),
    kind: a.kind,
    slot: slotA,
    first: new Uint8Array(aFirst ? a.bytes : b.bytes),
    second: new Uint8Array(aFirst ? b.bytes : a.bytes),
  });
}
