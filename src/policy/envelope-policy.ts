/**
 * Policy at every hop, for signed envelopes: which origin may have signed this, and which peer may
 * be sent it.
 *
 * - Receipt (`createEnvelopeAuthorizer`, installed with `EnvelopeRouter.setAuthorizer`): runs after
 *   the signature check on every newly seen envelope. A refusal is counted by the router
 *   (`hearsay_packets_dropped_total{reason="policy"}`) and charged to the *origin* as
 *   'policy-violation' — the origin signed it, so it answers for it, whoever relayed it.
 * - Sending (`createOutboundGuard`, installed with `LinkLayer.setOutboundFilter`): data is never
 *   handed to a peer that may not read it, whatever the layer above chose — a second line behind
 *   the dissemination layer's own peer selection.
 *
 * Rules are per envelope kind. Built in: RUMOR bodies `[topic, ..., data]` need
 * `mayPublish(origin, topic)` and `data` within the origin's `maxMessageBytes`; a recipient needs
 * `maySubscribe(peer, topic)` (src/dissemination registers the same rule for its exact layout). POLICY and REVOCATION must come from the authority. Membership and
 * evidence kinds are protocol traffic every certified node takes part in. Other layers register
 * rules for their kinds with `registerEnvelopePolicy` (e.g. src/state for KV_WRITE); until one is
 * registered, KV_WRITE uses a conservative default (body[0] must be a key the origin may write /
 * the peer may read; anything else is refused).
 */
import type { Authorization, VerifiedEnvelope } from '../link/envelope-router.js';
import type { PeerCertificate } from '../link/peer-certificate.js';
import { decode, frameLimits } from '../wire/codec.js';
import { decodeBody, EnvelopeKind, parseEnvelope } from '../wire/envelope.js';
import { MessageType } from '../wire/messages.js';
import type { Authorizer } from './authorizer.js';

/** May the origin (whose certificate is given) have signed this body? true, or why not. */
export type OriginRule = (originCert: PeerCertificate, body: readonly unknown[], authorizer: Authorizer) => Authorization;
/** May this peer be sent this envelope? */
export type RecipientRule = (peerCert: PeerCertificate, body: readonly unknown[], authorizer: Authorizer) => boolean;

export interface EnvelopePolicy {
  readonly origin: OriginRule;
  /** Absent: every peer may be sent it (protocol traffic). */
  readonly recipient?: RecipientRule;
  /**
   * For data that outlives its origin's certificate (key/value writes): the origin's signed time
   * of the body. With it, a revoked origin's data is judged by `isDataRevoked` (not retroactive
   * for superseded or retired keys, src/identity/revocation.ts); without it, any envelope of a
   * revoked origin is refused.
   */
  readonly signedAt?: (body: readonly unknown[]) => number | null;
}

/** Where rules come from: the node's own registrations, then the process-wide ones, then the built-ins. */
export class EnvelopePolicies {
  private readonly rules = new Map<number, EnvelopePolicy>();

  constructor(private readonly parent: EnvelopePolicies | null = null) {}

  register(kind: EnvelopeKind, origin: OriginRule, recipient?: RecipientRule, signedAt?: EnvelopePolicy['signedAt']): void {
    this.rules.set(kind, { origin, ...(recipient === undefined ? {} : { recipient }), ...(signedAt === undefined ? {} : { signedAt }) });
  }

  get(kind: number): EnvelopePolicy | undefined {
    return this.rules.get(kind) ?? this.parent?.get(kind) ?? BUILT_IN.get(kind);
  }
}

/** Process-wide registrations, for layers that register their kinds at import time. */
export const globalEnvelopePolicies = new EnvelopePolicies();

/**
 * Registers the policy rule of an envelope kind for every node in this process, e.g. in src/state:
 *
 *   registerEnvelopePolicy(EnvelopeKind.KV_WRITE,
 *     (origin, body, authz) => authz.mayWrite(origin, body[KEY]) || 'write-denied',
 *     (peer, body, authz) => authz.mayRead(peer, body[KEY]));
 */
export function registerEnvelopePolicy(kind: EnvelopeKind, origin: OriginRule, recipient?: RecipientRule, signedAt?: EnvelopePolicy['signedAt']): void {
  globalEnvelopePolicies.register(kind, origin, recipient, signedAt);
}

const allow: OriginRule = () => true;

// The fallback for RUMOR until src/dissemination registers its own rule: the topic comes first and
// the payload last in every rumor body layout.
const rumorOrigin: OriginRule = (cert, body, authz) => {
  const topic = body[0];
  if (typeof topic !== 'string' || !authz.mayPublish(cert, topic)) return 'publish-denied';
  const data = body[body.length - 1];
  if (data instanceof Uint8Array && data.length > authz.limits(cert).maxMessageBytes) return 'message-too-large';
  return true;
};

const rumorRecipient: RecipientRule = (cert, body, authz) => typeof body[0] === 'string' && authz.maySubscribe(cert, body[0]);

// KV_WRITE body (src/state/kv-write.ts): [key, value | null, hlc wall ms, hlc logical, version].
const kvOrigin: OriginRule = (cert, body, authz) => {
  const key = body[0];
  if (typeof key !== 'string' || !authz.mayWrite(cert, key)) return 'write-denied';
  const value = body[1];
  if (value instanceof Uint8Array && value.length > authz.limits(cert).maxMessageBytes) return 'value-too-large';
  return true;
};
const kvRecipient: RecipientRule = (cert, body, authz) => typeof body[0] === 'string' && authz.mayRead(cert, body[0]);
const kvSignedAt = (body: readonly unknown[]): number | null => (typeof body[2] === 'number' ? body[2] : null);

const BUILT_IN: ReadonlyMap<number, EnvelopePolicy> = new Map<number, EnvelopePolicy>([
  [EnvelopeKind.HEARTBEAT, { origin: allow }],
  [EnvelopeKind.ALIVE, { origin: allow }],
  [EnvelopeKind.SUSPECT, { origin: allow }],
  [EnvelopeKind.DEAD, { origin: allow }],
  [EnvelopeKind.LEAVE, { origin: allow }],
  [EnvelopeKind.EVIDENCE, { origin: allow }],
  // Decided by createEnvelopeAuthorizer (authority only); public to every node once signed.
  [EnvelopeKind.POLICY, { origin: allow }],
  [EnvelopeKind.REVOCATION, { origin: allow }],
  [EnvelopeKind.RUMOR, { origin: rumorOrigin, recipient: rumorRecipient }],
  [EnvelopeKind.KV_WRITE, { origin: kvOrigin, recipient: kvRecipient, signedAt: kvSignedAt }],
]);

/** What the envelope authorizer and the outbound guard need from the node's policy state. */
export interface PolicyView {
  readonly authorizer: Authorizer;
  readonly authorityCert: PeerCertificate;
  isRevoked(cert: PeerCertificate): boolean;
  isNodeRevoked(idHex: string): boolean;
  isDataRevoked(originIdHex: string, timestampMs: number): boolean;
}

/** The router hook: decides every verified envelope by its kind's rule. */
export function createEnvelopeAuthorizer(view: PolicyView, policies: EnvelopePolicies = globalEnvelopePolicies): (ve: VerifiedEnvelope) => Authorization {
  return (ve) => {
    const kind = ve.envelope.kind;
    if (kind === EnvelopeKind.POLICY || kind === EnvelopeKind.REVOCATION) {
      // resolveOrigin only ever returns the authority's pseudo-certificate for these kinds.
      return ve.originCert === view.authorityCert ? true : 'not-authority';
    }
    const rule = policies.get(kind);
    // Deny by default: a kind nobody wrote a rule for carries nothing we may let through.
    if (rule === undefined) return 'no-policy-rule';
    // Defence in depth: a revoked origin's certificate is refused by verification already, but a
    // record learned just before the revocation arrived must not slip through.
    if (view.isRevoked(ve.originCert)) {
      const at = rule.signedAt?.(ve.body) ?? null;
      if (at === null || view.isDataRevoked(Buffer.from(ve.envelope.origin).toString('hex'), at)) return 'revoked-origin';
    }
    return rule.origin(ve.originCert, ve.body, view.authorizer);
  };
}

interface OutboundEntry {
  readonly kind: number;
  readonly body: readonly unknown[] | null;
}

/** Envelope messages are sent whole; these limits only bound our own parsing of what we send. */
const OUTBOUND_LIMITS = frameLimits(1 << 20);

/**
 * The link hook: may `peer` be sent this encoded message? Only ENVELOPE messages of kinds with a
 * recipient rule are checked; the parse is memoized per message buffer, because one encoded
 * message is usually sent to several peers (fanout).
 */
export function createOutboundGuard(view: PolicyView, policies: EnvelopePolicies = globalEnvelopePolicies): (peer: { readonly idHex: string; readonly cert: PeerCertificate }, message: Uint8Array) => boolean {
  const parsed = new WeakMap<Uint8Array, OutboundEntry>();
  return (peer, message) => {
    if (view.isNodeRevoked(peer.idHex) || view.isRevoked(peer.cert)) return false;
    let entry = parsed.get(message);
    if (entry === undefined) {
      entry = parseOutbound(message);
      parsed.set(message, entry);
    }
    if (entry.kind === 0) return true;
    const rule = policies.get(entry.kind);
    if (rule === undefined) return false;
    if (rule.recipient === undefined) return true;
    return entry.body !== null && rule.recipient(peer.cert, entry.body, view.authorizer);
  };
}

function parseOutbound(message: Uint8Array): OutboundEntry {
  // An ENVELOPE message is always [2, bytes]: fixarray-of-2 header 0x92, then the type as a fixint.
  if (message.length < 2 || message[0] !== 0x92 || message[1] !== MessageType.ENVELOPE) return { kind: 0, body: null };
  const d = decode(message, OUTBOUND_LIMITS);
  if (!d.ok || !Array.isArray(d.value) || !(d.value[1] instanceof Uint8Array)) return { kind: -1, body: null };
  const env = parseEnvelope(d.value[1], OUTBOUND_LIMITS);
  if (!env.ok) return { kind: -1, body: null };
  const body = decodeBody(env.value, OUTBOUND_LIMITS);
  return { kind: env.value.kind, body: body.ok ? body.value : null };
}
