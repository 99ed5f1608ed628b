/**
 * Signed envelopes, from bytes to the layer that owns their kind:
 *
 *   parse → message id → seen? (dedup before any signature check) → origin known? → body schema
 *   → signature → authorization → handler
 *
 * Deduplication comes first because gossip delivers most messages several times and a signature
 * check costs ~150 µs: a message is verified once per node, however many copies arrive. Envelopes
 * that failed verification are remembered too, so a peer re-sending garbage is charged without
 * being verified again.
 *
 * Accountability (ARCHITECTURE.md): honest nodes verify before forwarding, so an envelope with a
 * bad signature is charged to the link sender who handed it to us; a well-signed envelope the
 * policy forbids is charged to its origin, who signed it.
 */
import type { Clock } from '../clock.js';
import type { Counter, MetricsRegistry } from '../metrics.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { packetLimits, frameLimits, type DecodeLimits } from '../wire/codec.js';
import { decodeBody, messageId, parseEnvelope, signedBytes, verifyEnvelope, type Envelope, type EnvelopeKind } from '../wire/envelope.js';
import { MessageType } from '../wire/messages.js';
import { bytes, literal, tuple, type Schema } from '../wire/schema.js';
import { BoundedCache } from './bounded-cache.js';
import type { LinkLayer, MessageContext, PeerRecord } from './link-layer.js';
import type { PeerCertificate } from './peer-certificate.js';
import type { PeerGate } from './peer-gate.js';

export interface VerifiedEnvelope<B extends unknown[] = unknown[]> {
  readonly envelope: Envelope;
  readonly id: Uint8Array;
  /** base64 of the id: the key in seen caches and message caches. */
  readonly idKey: string;
  readonly body: B;
  readonly originCert: PeerCertificate;
}

/** Why an authorizer refused an envelope; the string is counted and logged, never sent. */
export type Authorization = true | string;

export type EnvelopeHandler<B extends unknown[]> = (ve: VerifiedEnvelope<B>, ctx: MessageContext | null) => void;

interface Registration {
  schema: Schema<unknown[]>;
  handler: EnvelopeHandler<unknown[]>;
  /** Envelopes whose origin need not be a known peer (e.g. policy documents signed by the authority). */
  resolveOrigin?: (origin: Uint8Array, body: unknown[]) => PeerCertificate | undefined;
}

export interface EnvelopeRouterOptions {
  readonly link: LinkLayer;
  readonly backend: SignatureBackend;
  readonly clock: Clock;
  readonly gate: PeerGate;
  readonly metrics: MetricsRegistry;
  readonly seenCacheSize: number;
  readonly seenTtlMs: number;
}

export const ENVELOPE_MESSAGE_SCHEMA = tuple(literal(MessageType.ENVELOPE), bytes(1, 65_536));

export class EnvelopeRouter {
  private readonly o: EnvelopeRouterOptions;
  private readonly kinds = new Map<number, Registration>();
  private readonly seen: BoundedCache<string, true>;
  private readonly bad: BoundedCache<string, true>;
  private readonly pLimits: DecodeLimits;
  private readonly fLimits: DecodeLimits;
  private readonly verified: Counter;
  private readonly delivered: Counter;
  private readonly duplicates: Counter;
  private readonly validSignature: { inc(by?: number): void };
  private readonly acceptedByKind: Array<{ inc(by?: number): void }> = [];
  private authorizer: (ve: VerifiedEnvelope) => Authorization = () => true;

  constructor(options: EnvelopeRouterOptions) {
    this.o = options;
    this.seen = new BoundedCache(options.seenCacheSize, options.seenTtlMs, options.clock);
    this.bad = new BoundedCache(Math.max(1024, options.seenCacheSize >> 4), options.seenTtlMs, options.clock);
    this.pLimits = packetLimits(options.link.maxPacketBytes);
    this.fLimits = frameLimits(1 << 20);
    this.verified = options.metrics.counter('hearsay_signatures_verified_total', 'Envelope signature checks, by result.');
    this.delivered = options.metrics.counter('hearsay_envelopes_accepted_total', 'Envelopes accepted, by kind.');
    this.duplicates = options.metrics.counter('hearsay_envelopes_duplicate_total', 'Envelopes dropped as already seen, before any signature check.');
    this.validSignature = this.verified.series({ result: 'valid' });
    options.link.on(MessageType.ENVELOPE, ENVELOPE_MESSAGE_SCHEMA, (ctx, msg) => this.receive(ctx, msg.fields[1] as Uint8Array));
  }

  /**
   * `resolveOrigin` finds the origin's certificate for kinds whose origin need not be a known peer
   * (heartbeats carry their own certificate; policy documents are signed by the authority).
   */
  register<B extends unknown[]>(kind: EnvelopeKind, schema: Schema<B>, handler: EnvelopeHandler<B>, resolveOrigin?: (origin: Uint8Array, body: B) => PeerCertificate | undefined): void {
    const reg: Registration = { schema: schema as Schema<unknown[]>, handler: handler as EnvelopeHandler<unknown[]> };
    if (resolveOrigin !== undefined) reg.resolveOrigin = resolveOrigin as (origin: Uint8Array, body: unknown[]) => PeerCertificate | undefined;
    this.kinds.set(kind, reg);
  }

  /** Installs the policy's decision (replaced on every policy version). */
  setAuthorizer(fn: (ve: VerifiedEnvelope) => Authorization): void {
    this.authorizer = fn;
  }

  hasSeen(idKey: string): boolean {
    return this.seen.has(idKey);
  }

  markSeen(idKey: string): void {
    this.seen.set(idKey, true);
  }

  /** Wraps envelope bytes as an ENVELOPE message, ready for `LinkLayer.send`. */
  static message(envelopeBytes: Uint8Array): Uint8Array {
    // Written by hand because every relayed message passes here: the bytes are exactly what the
    // msgpack encoder emits for [ENVELOPE, bin] (fixarray 2, fixint 2, smallest bin header);
    // test/link/envelope-router.test.ts holds the two equal.
    const n = envelopeBytes.length;
    const head = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    const out = new Uint8Array(2 + head + n);
    out[0] = 0x92;
    out[1] = MessageType.ENVELOPE;
    if (head === 2) {
      out[2] = 0xc4;
      out[3] = n;
    } else if (head === 3) {
      out[2] = 0xc5;
      out[3] = n >>> 8;
      out[4] = n & 0xff;
    } else {
      out[2] = 0xc6;
      out[3] = n >>> 24;
      out[4] = (n >>> 16) & 0xff;
      out[5] = (n >>> 8) & 0xff;
      out[6] = n & 0xff;
    }
    out.set(envelopeBytes, 2 + head);
    return out;
  }

  /** Handles envelope bytes from a peer (`ctx`) or from a stream response. Returns whether it was newly accepted. */
  receive(ctx: MessageContext | null, bytes: Uint8Array, large = false): boolean {
    const link = this.o.link;
    const limits = large ? this.fLimits : this.pLimits;
    const parsed = parseEnvelope(bytes, limits);
    if (!parsed.ok) return this.reject(ctx, 'malformed', parsed.reason);
    const env = parsed.value;
    // The signed bytes serve both the id and, if the message is new, the signature check.
    const signed = signedBytes(env.kind, env.origin, env.body);
    const id = messageId(env, signed);
    const idKey = Buffer.from(id).toString('base64');
    if (this.seen.has(idKey)) {
      this.duplicates.inc();
      return false;
    }
    if (this.bad.has(idKey)) return this.reject(ctx, 'invalid-signature', 'known bad');
    const reg = this.kinds.get(env.kind);
    if (reg === undefined) {
      link.drop('unhandled-kind');
      return false;
    }
    const body = decodeBody(env, limits);
    if (!body.ok || !reg.schema.check(body.value)) return this.reject(ctx, 'malformed', 'body schema');
    const originCert = reg.resolveOrigin !== undefined ? reg.resolveOrigin(env.origin, body.value) : this.originCert(env.origin);
    if (originCert === undefined) {
      // We cannot check policy or revocation for an origin we do not know yet; anti-entropy or
      // a later copy brings the message again once membership has told us about its origin.
      link.drop('unknown-origin');
      return false;
    }
    link.countCrypto('verify');
    if (!verifyEnvelope(env, this.o.backend, signed)) {
      this.verified.inc({ result: 'invalid' });
      this.bad.set(idKey, true);
      return this.reject(ctx, 'invalid-signature', 'signature');
    }
    this.validSignature.inc();
    this.seen.set(idKey, true);
    const ve: VerifiedEnvelope = { envelope: env, id, idKey, body: body.value, originCert };
    const verdict = this.authorizer(ve);
    if (verdict !== true) {
      link.drop('policy');
      this.o.gate.charge(env.origin, 'policy-violation', verdict);
      return false;
    }
    (this.acceptedByKind[env.kind] ??= this.delivered.series({ kind: String(env.kind) })).inc();
    reg.handler(ve, ctx);
    return true;
  }

  private originCert(origin: Uint8Array): PeerCertificate | undefined {
    if (Buffer.compare(origin, this.o.link.identity.nodeId) === 0) return this.o.link.identity.cert;
    const p: PeerRecord | undefined = this.o.link.peer(origin);
    return p?.cert;
  }

  private reject(ctx: MessageContext | null, offense: 'malformed' | 'invalid-signature', detail: string): false {
    this.o.link.drop(offense === 'malformed' ? 'malformed-envelope' : 'invalid-signature');
    if (ctx !== null) this.o.gate.charge(ctx.peer.id, offense, detail);
    return false;
  }
}
