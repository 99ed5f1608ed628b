/**
 * Rumor broadcast, eager push: `publish` signs the message as its origin and pushes it at once to
 * `fanout` random peers; each node that receives a new rumor (deduplicated by id before any
 * signature check, then verified) delivers it to its local subscribers and forwards the exact bytes
 * to `fanout` other random peers. Latency is hops × link latency, never a wait for the next round.
 */
import type { Clock } from '../clock.js';
import { HearsayError } from '../errors.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { EnvelopeRouter, type VerifiedEnvelope } from '../link/envelope-router.js';
import type { LinkLayer, MessageContext } from '../link/link-layer.js';
import type { PeerGate } from '../link/peer-gate.js';
import { EnvelopeKind, messageId, signEnvelope } from '../wire/envelope.js';
import { bytes, str, tuple, uint } from '../wire/schema.js';
import type { Members } from '../membership/members.js';

/** Topic names: a tenant-scoped path such as `acme/orders`. */
export const TOPIC_PATTERN = /^[A-Za-z0-9._-]{1,64}(\/[A-Za-z0-9._*-]{1,64}){0,7}$/;

/** [topic, sequence per origin, origin timestamp ms, data] */
export const RUMOR_BODY = tuple(str(200, TOPIC_PATTERN), uint(), uint(), bytes(0, 60_000));

export interface Delivery {
  readonly topic: string;
  readonly data: Uint8Array;
  readonly origin: Uint8Array;
  readonly originName: string;
  readonly seq: number;
  readonly timestamp: number;
  readonly id: string;
  /** Hops travelled is unknown in gossip; `receivedAt - timestamp` is the end-to-end latency. */
  readonly receivedAt: number;
}

export interface BroadcastOptions {
  readonly link: LinkLayer;
  readonly router: EnvelopeRouter;
  readonly members: Members;
  readonly clock: Clock;
  readonly backend: SignatureBackend;
  readonly gate: PeerGate;
  readonly fanout: number;
  readonly maxMessageBytes: number;
  readonly maxClockSkewMs: number;
  readonly seenTtlMs: number;
}

export class Broadcast {
  private readonly o: BroadcastOptions;
  private seq = 0;
  private readonly subscribers = new Map<string, Set<(d: Delivery) => void>>();

  constructor(options: BroadcastOptions) {
    this.o = options;
    options.router.register(EnvelopeKind.RUMOR, RUMOR_BODY, (ve, ctx) => this.onRumor(ve, ctx));
  }

  subscribe(topic: string, handler: (d: Delivery) => void): () => void {
    if (!TOPIC_PATTERN.test(topic)) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `topic ${JSON.stringify(topic)} must match ${TOPIC_PATTERN}`);
    let set = this.subscribers.get(topic);
    if (set === undefined) {
      set = new Set();
      this.subscribers.set(topic, set);
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  publish(topic: string, data: Uint8Array): string {
    if (!TOPIC_PATTERN.test(topic)) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `topic ${JSON.stringify(topic)} must match ${TOPIC_PATTERN}`);
    if (data.length > this.o.maxMessageBytes) {
      throw new HearsayError('HEARSAY_ERR_TOO_LARGE', `message of ${data.length} bytes exceeds maxMessageBytes (${this.o.maxMessageBytes})`);
    }
    const id = this.o.link.identity;
    this.seq += 1;
    const env = signEnvelope(EnvelopeKind.RUMOR, id.nodeId, id.seed, [topic, this.seq, this.o.clock.now(), data], this.o.backend);
    const msg = EnvelopeRouter.message(env.bytes);
    // Mark our own rumor seen so copies coming back are dropped before verification.
    const idKey = Buffer.from(messageId(env)).toString('base64');
    this.o.router.markSeen(idKey);
    for (const p of this.o.members.selectPeers(this.o.fanout)) this.o.link.send(p, [msg]);
    return idKey;
  }

  private onRumor(ve: VerifiedEnvelope, ctx: MessageContext | null): void {
    const [topic, seq, timestamp, data] = ve.body as [string, number, number, Uint8Array];
    const now = this.o.clock.now();
    if (timestamp > now + this.o.maxClockSkewMs) {
      this.o.gate.charge(ve.envelope.origin, 'future-timestamp', 'rumor');
      return;
    }
    if (timestamp < now - this.o.seenTtlMs) {
      // Older than our seen window: we may have delivered it before and forgotten; honest nodes
      // never forward rumors this old, so whoever handed it to us is replaying.
      if (ctx !== null) this.o.gate.charge(ctx.peer.id, 'replay', 'stale rumor');
      return;
    }
    if (ctx !== null) this.o.gate.credit(ctx.peer.id);
    const exclude = new Set<string>([Buffer.from(ve.envelope.origin).toString('hex')]);
    if (ctx !== null) exclude.add(ctx.peer.idHex);
    const targets = this.o.members.selectPeers(this.o.fanout, exclude);
    if (targets.length > 0) {
      const msg = EnvelopeRouter.message(ve.envelope.bytes);
      for (const p of targets) this.o.link.send(p, [msg]);
    }
    const delivery: Delivery = {
      topic, data, origin: ve.envelope.origin, originName: ve.originCert.name, seq, timestamp, id: ve.idKey, receivedAt: now,
    };
    const subs = this.subscribers.get(topic);
    if (subs !== undefined) for (const s of subs) s(delivery);
  }
}
