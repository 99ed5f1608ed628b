/**
 * The plaintext of a sealed packet or frame: a msgpack array of messages, each an array whose first
 * element is its type. Message types are hop-to-hop (authenticated by the link key); anything that
 * must outlive a hop travels inside an ENVELOPE message, signed by its origin (envelope.ts).
 *
 * Each layer declares the schema of the message types it handles; `decodeMessages` refuses the whole
 * packet if any message is of an unknown type or fails its schema, because an honest node never sends
 * one and the authenticated sender is to be charged for it.
 */
import { fail, ok, type Result } from '../errors.js';
import { decode, type DecodeFailure, type DecodeLimits } from './codec.js';
import type { Schema } from './schema.js';

/** Message types. ONLY APPEND TO THIS LIST: numbers are never reused (STYLE.md §6). */
export const MessageType = {
  /** Reply to a HELLO: proves we hold the link key; carries nothing. */
  WELCOME: 1,
  /** [2, envelope bytes]: a signed envelope, dispatched by its kind. */
  ENVELOPE: 2,
  /** Membership probe / ack / indirect probe / nack (membership layer). */
  PING: 3,
  ACK: 4,
  PING_REQ: 5,
  NACK: 6,
  /** Lazy push: ids a peer may pull (dissemination layer). */
  IHAVE: 7,
  IWANT: 8,
  /** Anti-entropy digests and deltas (replicated state). */
  KV_DIGEST: 9,
  KV_DELTA: 10,
  /** Full membership state exchange over a stream (membership layer). */
  PUSH_PULL: 11,
  /** A response frame carrying messages in answer to a stream request (membership: [12, claims], the push-pull answer). */
  RESPONSE: 12,
  /** Anti-entropy full resync: one chunk of a peer's key/value winners, in key order (replicated state). */
  KV_RESYNC: 13,
  /** [14, policy version, revocation version]: "I hold these signed versions" (policy layer, in packets). */
  POLICY_OFFER: 14,
  /** [15, envelope kind]: stream request for the signed POLICY (8) or REVOCATION (9) envelope in force. */
  POLICY_FETCH: 15,
  /** [16, envelope bytes]: the answer to POLICY_FETCH; empty bytes when there is none. */
  POLICY_DOCUMENT: 16,
  /**
   * [17, EVIDENCE envelope bytes] as a stream request: a proof of equivocation too large for one
   * packet (two full envelopes and a certificate). No answer; the receiver closes the stream.
   */
  EVIDENCE: 17,
  /**
   * [18]: "send me your signed ALIVE" (membership layer), to a member that contacted us before we
   * held its claim; answered with an ENVELOPE message carrying it.
   */
  ALIVE_REQUEST: 18,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export interface RawMessage {
  readonly type: number;
  /** The whole message array, type included at index 0, validated against its schema. */
  readonly fields: readonly unknown[];
}

export type MessagesFailure = DecodeFailure | 'not-a-list' | 'empty' | 'unknown-type' | 'schema';

/** Decodes and validates a plaintext. `schemas` maps each accepted type to the schema of its whole array. */
export function decodeMessages(
  plaintext: Uint8Array,
  limits: DecodeLimits,
  schemas: ReadonlyMap<number, Schema<unknown[]>>,
): Result<RawMessage[], MessagesFailure> {
  const d = decode(plaintext, limits);
  if (!d.ok) return d;
  const list = d.value;
  if (!Array.isArray(list)) return fail('not-a-list');
  if (list.length === 0) return fail('empty');
  const out: RawMessage[] = [];
  for (const m of list) {
    if (!Array.isArray(m) || typeof m[0] !== 'number') return fail('schema', 'message is not [type, ...]');
    const schema = schemas.get(m[0]);
    if (schema === undefined) return fail('unknown-type', String(m[0]));
    if (!schema.check(m)) return fail('schema', schema.name);
    out.push({ type: m[0], fields: m });
  }
  return ok(out);
}
