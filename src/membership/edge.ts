/**
 * What the membership layer needs from the layers below, as one narrow interface (STYLE.md §7).
 * In a node, `LinkEdge` implements it with the link layer (sealed hops, peer table) and the
 * envelope router (dedup, signature, policy). The large-cluster simulator (lite-cluster.ts)
 * implements it without per-pair link state, so the same membership code runs for 10,000 nodes in
 * one process.
 */
import type { Result } from '../errors.js';
import type { PeerCertificate } from '../link/peer-certificate.js';
import type { DecodeLimits } from '../wire/codec.js';
import type { RawMessage } from '../wire/messages.js';
import type { Schema } from '../wire/schema.js';
import type { Claim, ClaimKind } from './claims.js';

/** Whom to send to: a member's ALIVE claim (certificate and signed address), or the id of a peer that has authenticated to us. */
export type Target = Claim | string;

/** The authenticated sender of a message. */
export interface Sender {
  readonly idHex: string;
  /** Arrived in a stream request (TCP), not a datagram. */
  readonly viaStream: boolean;
}

export interface MembershipEdge {
  readonly selfId: Uint8Array;
  readonly selfIdHex: string;
  readonly selfCertBytes: Uint8Array;
  readonly selfCert: PeerCertificate;
  /** The address other members should use to reach us. */
  readonly address: string;
  readonly maxFrameBytes: number;
  /** Limits for decoding one claim (one packet's worth). */
  readonly claimLimits: DecodeLimits;

  /** Signs a claim as this node (and marks it seen, so copies coming back cost no verification). */
  sign(kind: ClaimKind, body: readonly unknown[]): Claim;
  /** The one receiver of verified claims arriving by gossip or push-pull. `from` is null for our own. */
  onClaim(handler: (claim: Claim, from: Sender | null) => void): void;
  /** Handler of a hop-to-hop message type arriving in packets. */
  onMessage<T extends unknown[]>(type: number, schema: Schema<T>, handler: (from: Sender, fields: T) => void): void;
  /** Handler of stream requests whose first message has this type; answers messages or null. */
  onRequest<T extends unknown[]>(type: number, schema: Schema<T>, handler: (from: Sender, messages: RawMessage[]) => Uint8Array[] | null): void;
  /** Declares a message type that only appears in responses. */
  declare<T extends unknown[]>(type: number, schema: Schema<T>): void;
  /** A member authenticated to us for the first time (it knows us; we may not know it yet). */
  onContact(listener: (idHex: string) => void): void;

  /** Plaintext bytes left in one packet to this member, for piggybacking. */
  budget(to: Target): number;
  /** Sends encoded messages, packed into as few packets as fit. */
  send(to: Target, messages: readonly Uint8Array[]): void;
  /** One sealed request/response over a stream; never rejects. */
  request(to: Target, messages: readonly Uint8Array[], timeoutMs: number): Promise<Result<RawMessage[], string>>;
  /** First contact with an address whose node we do not know (a seed). */
  hello(address: string): void;
  /** Claim bytes from a push-pull, through the same checks as gossip (dedup, signature, policy). */
  ingest(bytes: Uint8Array, from: Sender): void;
  /** A member's new ALIVE was accepted: its address is the one it signed. */
  introduce(claim: Claim): void;
  /** A member was forgotten (reaped). */
  forget(idHex: string): void;
  /** Counts a drop by reason (hearsay_packets_dropped_total). */
  drop(reason: string): void;
}
