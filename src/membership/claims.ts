/**
 * Membership claims: the four signed statements every membership decision rests on.
 *
 *   ALIVE   signed by the member itself   [incarnation, address, certificate bytes]
 *   LEAVE   signed by the member itself   [incarnation]
 *   SUSPECT signed by the accuser         [target id (32), incarnation, accuser's timestamp ms]
 *   DEAD    signed by the accuser         [target id (32), incarnation, accuser's timestamp ms]
 *
 * Each is a signed envelope (wire/envelope.ts): the kind name is in the signed bytes, so no claim
 * can be passed off as another kind. Consequences, which are the point of the design:
 *
 * - Only a node can say it is alive, where it is, or that it leaves: an ALIVE or LEAVE claim's
 *   origin is its subject. The address of a member is believed only from its own ALIVE.
 * - The ALIVE claim carries the member's certificate, so members learn each other's certificate
 *   (tenant, roles, kx key, hence link keys) from a claim the member signed, checked against the
 *   authority like any certificate, and bound to the claim's origin (cert.nodeId === origin).
 * - An accusation names the incarnation it accuses and the accuser signs it, so a refutation (an
 *   ALIVE with a higher incarnation) is held against that accuser, and an accusation can never
 *   outlive the incarnation it names. Accusations may only name the incarnation of the newest
 *   ALIVE the receiver holds (see merge.ts): a liar cannot push a member to an incarnation it never
 *   signed and so make it unable to refute.
 * - The timestamp makes an accusation's age visible: gossip never carries an accusation older than
 *   the dedup window, so an older one arriving in a packet is a replay (charged to its relay).
 *
 * Incarnations. A member's first incarnation is its boot time in ms times 1024 (INCARNATION_PER_MS),
 * and each refutation adds one. A restarted node has a later boot time, so its first ALIVE beats
 * every claim about its previous life (ALIVE, SUSPECT, DEAD, LEAVE) without any persisted state, as
 * long as the previous life refuted fewer than 1024 times per millisecond between the two boots,
 * which no honest history comes near. An accuser cannot inflate the count: it may only accuse the
 * incarnation the member itself published. Boot time in ms × 1024 stays below 2^53 until the year
 * 2248. A single number (instead of a pair epoch, counter) keeps every comparison and every
 * message field one integer. The cost: two boots within the same millisecond could collide; the
 * link layer already relies on boot times being distinct (its epoch), and the second boot's ALIVE
 * would then be an equivocation, reported, not silently merged.
 */
import { hash } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import { MAX_CERT_BYTES } from '../wire/packet.js';
import { MAX_ADDRESS_LENGTH } from '../transport/address.js';
import type { PeerCertificate } from '../link/peer-certificate.js';
import { decodeBody, EnvelopeKind, parseEnvelope, signedBytes, type Envelope } from '../wire/envelope.js';
import { bytes, str, tuple, uint, type Infer } from '../wire/schema.js';
import type { DecodeLimits } from '../wire/codec.js';
import { encodeMessage } from '../link/message-list.js';
import { MessageType } from '../wire/messages.js';

/** Incarnation units per millisecond of boot time (see the header). */
export const INCARNATION_PER_MS = 1024;

/** The incarnation a node starts with: later boots start higher than any earlier life reached. */
export function startingIncarnation(bootMs: number): number {
  return Math.floor(bootMs) * INCARNATION_PER_MS;
}

/** The boot time (ms) an incarnation started from; used to refuse incarnations from the future. */
export function incarnationBootMs(incarnation: number): number {
  return Math.floor(incarnation / INCARNATION_PER_MS);
}

/** Addresses are "host:port"; printable ASCII without spaces, like the config's seeds. */
const ADDRESS_PATTERN = /^[\x21-\x7e]{1,300}$/;

export const ALIVE_BODY = tuple(uint(), str(MAX_ADDRESS_LENGTH, ADDRESS_PATTERN), bytes(1, MAX_CERT_BYTES));
export const ACCUSATION_BODY = tuple(bytes(32), uint(), uint());
export const LEAVE_BODY = tuple(uint());
export type AliveBody = Infer<typeof ALIVE_BODY>;
export type AccusationBody = Infer<typeof ACCUSATION_BODY>;
export type LeaveBody = Infer<typeof LEAVE_BODY>;

export type ClaimKind = 'alive' | 'suspect' | 'dead' | 'leave';

export const CLAIM_ENVELOPE_KINDS: Readonly<Record<ClaimKind, EnvelopeKind>> = {
  alive: EnvelopeKind.ALIVE,
  suspect: EnvelopeKind.SUSPECT,
  dead: EnvelopeKind.DEAD,
  leave: EnvelopeKind.LEAVE,
};

export function claimKindOf(kind: number): ClaimKind | null {
  switch (kind) {
    case EnvelopeKind.ALIVE: return 'alive';
    case EnvelopeKind.SUSPECT: return 'suspect';
    case EnvelopeKind.DEAD: return 'dead';
    case EnvelopeKind.LEAVE: return 'leave';
    default: return null;
  }
}

/**
 * A claim whose signature has been verified (by the envelope router in a node). Immutable: the
 * simulator shares one object among all nodes that hold the same claim.
 */
export interface Claim {
  readonly kind: ClaimKind;
  /** The envelope's exact wire bytes, forwarded verbatim. */
  readonly bytes: Uint8Array;
  /** base64 message id: equal ids mean the same signed claim. */
  readonly idKey: string;
  /** Signer: the member itself (alive, leave) or the accuser (suspect, dead). */
  readonly originHex: string;
  /** The member the claim is about. */
  readonly subject: Uint8Array;
  readonly subjectHex: string;
  readonly incarnation: number;
  /** ALIVE only: the member's address and certificate. */
  readonly address: string;
  readonly certBytes: Uint8Array | null;
  readonly cert: PeerCertificate | null;
  /** SUSPECT and DEAD: when the accuser signed it (its clock). */
  readonly timestamp: number;
}

/** Builds a Claim from a verified envelope and its checked body. `cert` is the origin's certificate for ALIVE. */
export function claimFromEnvelope(kind: ClaimKind, env: Envelope, idKey: string, body: readonly unknown[], cert: PeerCertificate | null): Claim {
  const originHex = Buffer.from(env.origin).toString('hex');
  if (kind === 'alive') {
    const [incarnation, address, certBytes] = body as AliveBody;
    return { kind, bytes: env.bytes, idKey, originHex, subject: env.origin, subjectHex: originHex, incarnation, address, certBytes, cert, timestamp: 0 };
  }
  if (kind === 'leave') {
    const [incarnation] = body as LeaveBody;
    return { kind, bytes: env.bytes, idKey, originHex, subject: env.origin, subjectHex: originHex, incarnation, address: '', certBytes: null, cert: null, timestamp: 0 };
  }
  const [target, incarnation, timestamp] = body as AccusationBody;
  return {
    kind, bytes: env.bytes, idKey, originHex, subject: target, subjectHex: Buffer.from(target).toString('hex'),
    incarnation, address: '', certBytes: null, cert: null, timestamp,
  };
}

/** What can be read from claim bytes without any crypto: enough to skip claims we already hold. */
export interface ClaimPeek {
  readonly kind: ClaimKind;
  readonly subjectHex: string;
  readonly incarnation: number;
}

/** Parses claim bytes (untrusted) far enough to decide whether they could change anything. Never throws. */
export function peekClaim(bytes: Uint8Array, limits: DecodeLimits): Result<ClaimPeek, 'malformed'> {
  const env = parseEnvelope(bytes, limits);
  if (!env.ok) return fail('malformed');
  const kind = claimKindOf(env.value.kind);
  if (kind === null) return fail('malformed');
  const body = decodeBody(env.value, limits);
  if (!body.ok) return fail('malformed');
  const b = body.value;
  switch (kind) {
    case 'alive':
      if (!ALIVE_BODY.check(b)) return fail('malformed');
      return ok({ kind, subjectHex: Buffer.from(env.value.origin).toString('hex'), incarnation: b[0] });
    case 'leave':
      if (!LEAVE_BODY.check(b)) return fail('malformed');
      return ok({ kind, subjectHex: Buffer.from(env.value.origin).toString('hex'), incarnation: b[0] });
    default:
      if (!ACCUSATION_BODY.check(b)) return fail('malformed');
      return ok({ kind, subjectHex: Buffer.from(b[0]).toString('hex'), incarnation: b[1] });
  }
}

/** The ENVELOPE message carrying a claim, as piggybacked on probes and gossip. */
export function claimMessage(claim: Claim): Uint8Array {
  let m = messages.get(claim);
  if (m === undefined) {
    m = encodeMessage([MessageType.ENVELOPE, claim.bytes]);
    messages.set(claim, m);
  }
  return m;
}
const messages = new WeakMap<Claim, Uint8Array>();

/** The message id of envelope bytes (the envelope router computes the same). */
export function envelopeIdKey(env: Envelope): string {
  return hash('sha256', Buffer.concat([signedBytes(env.kind, env.origin, env.body), env.signature]), 'base64');
}
