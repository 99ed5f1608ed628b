/**
 * Topics: publish/subscribe on top of lazy-push gossip (gossip.ts), with per-message delivery
 * order (holdback.ts) and the policy applied at every hop.
 *
 * A rumor is a RUMOR envelope signed by its origin:
 *
 *   [topic, epoch, seq, timestamp ms, previous timestamp ms, order (0 none, 1 fifo, 2 causal), deps, data]
 *
 * (epoch, seq) numbers the origin's messages on the topic (epoch = its boot time, so a restart
 * never reuses a number); `previous timestamp` is that of the origin's previous message on the
 * topic (0 for its first), so a subscriber knows whether to wait for it; `deps` is the causal
 * context: [origin, epoch, seq, timestamp] of the streams that advanced at the origin since its
 * previous causal message on the topic.
 *
 * Policy (Authorizer, consulted on every decision so a new policy version applies at once):
 * publishing needs mayPublish; subscribing needs maySubscribe (else HEARSAY_ERR_NOT_AUTHORIZED);
 * a received rumor whose origin may not publish is dropped and the origin charged
 * 'policy-violation'; a topic's messages and ids are sent only to peers whose certificate may
 * subscribe to it, so a node that receives one it may not read was sent it by a misbehaving peer.
 *
 * Two different rumors signed by one origin for the same (topic, epoch, seq) are equivocation:
 * the second is refused and both go to the reputation engine as proof.
 */
import type { Clock } from '../clock.js';
import { HearsayError } from '../errors.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { BoundedCache } from '../link/bounded-cache.js';
import type { EnvelopeRouter, VerifiedEnvelope } from '../link/envelope-router.js';
import type { LinkLayer, MessageContext, PeerRecord } from '../link/link-layer.js';
import type { PeerGate } from '../link/peer-gate.js';
import type { Counter, MetricsRegistry } from '../metrics.js';
import type { Authorizer } from '../policy/authorizer.js';
import { registerEnvelopePolicy } from '../policy/envelope-policy.js';
import { EnvelopeKind, messageId, signEnvelope } from '../wire/envelope.js';
import { arrayOf, bytes, str, tuple, uint, type Infer } from '../wire/schema.js';
import type { Gossip } from './gossip.js';
import { Holdback, ORDER_MODES, type Dependency, type OrderMode } from './holdback.js';

export type { OrderMode } from './holdback.js';

/** Topic names: a tenant-scoped path such as `acme/orders`. */
export const TOPIC_PATTERN = /^[A-Za-z0-9._-]{1,64}(\/[A-Za-z0-9._*-]{1,64}){0,7}$/;

/** Largest causal context the schema accepts (the sender's own bound is config maxCausalDeps). */
export const MAX_DEPS_ON_WIRE = 1024;

export const RUMOR_BODY = tuple(
  str(200, TOPIC_PATTERN), uint(), uint(), uint(), uint(), uint(2),
  arrayOf(tuple(bytes(32), uint(), uint(), uint()), MAX_DEPS_ON_WIRE),
  bytes(0, 60_000),
);
export type RumorBody = Infer<typeof RUMOR_BODY>;

// The router-level policy (src/policy/envelope-policy.ts) for this body layout: the origin must be
// allowed to publish the topic, within its size limit; a peer is sent it only if it may subscribe.
registerEnvelopePolicy(
  EnvelopeKind.RUMOR,
  (cert, body, authz) => {
    const topic = body[0];
    if (typeof topic !== 'string' || !authz.mayPublish(cert, topic)) return 'publish-denied';
    const data = body[7];
    if (data instanceof Uint8Array && data.length > authz.limits(cert).maxMessageBytes) return 'message-too-large';
    return true;
  },
  (cert, body, authz) => typeof body[0] === 'string' && authz.maySubscribe(cert, body[0]),
);

export interface Delivery {
  readonly topic: string;
  readonly data: Uint8Array;
  readonly origin: Uint8Array;
  readonly originName: string;
  /** The origin's boot time: (epoch, seq) numbers its messages on this topic. */
  readonly epoch: number;
  readonly seq: number;
  readonly order: OrderMode;
  readonly timestamp: number;
  readonly id: string;
  /** Hops travelled is unknown in gossip; `receivedAt - timestamp` is the end-to-end latency. */
  readonly receivedAt: number;
}

export interface PublishOptions {
  /** Delivery order at subscribers; default 'none'. */
  readonly order?: OrderMode;
}

export interface BroadcastOptions {
  readonly link: LinkLayer;
  readonly router: EnvelopeRouter;
  readonly gossip: Gossip;
  readonly clock: Clock;
  readonly backend: SignatureBackend;
  readonly gate: PeerGate;
  readonly metrics: MetricsRegistry;
  readonly authorizer: () => Authorizer;
  /** This node's boot time. */
  readonly epoch: number;
  readonly maxMessageBytes: number;
  readonly maxClockSkewMs: number;
  readonly seenTtlMs: number;
  readonly seenCacheSize: number;
  readonly holdbackLimit: number;
  readonly holdbackTimeoutMs: number;
  readonly maxCausalDeps: number;
  readonly maxStreams: number;
}

interface Subscription {
  readonly handlers: Set<(d: Delivery) => void>;
  readonly holdback: Holdback<Delivery>;
}

export interface TopicStats {
  delivered: number;
  gaps: number;
  late: number;
  held: number;
}

export class Broadcast {
  private readonly o: BroadcastOptions;
  private readonly selfHex: string;
  /** Per topic: our last (seq, timestamp) in this epoch. */
  private readonly seqs = new Map<string, { seq: number; at: number }>();
  private readonly subs = new Map<string, Subscription>();
  /** Per topic, the stream positions announced in our last causal message there. */
  private readonly lastCausal = new Map<string, Map<string, string>>();
  /** (origin, topic, epoch, seq) → the rumor seen in that slot, for equivocation proofs. */
  private readonly slots: BoundedCache<string, { idKey: string; bytes: Uint8Array }>;
  private readonly published: Counter;
  private readonly refused: Counter;

  constructor(options: BroadcastOptions) {
    this.o = options;
    this.selfHex = Buffer.from(options.link.identity.nodeId).toString('hex');
    this.slots = new BoundedCache(options.seenCacheSize, options.seenTtlMs, options.clock);
    this.published = options.metrics.counter('hearsay_topic_published_total', 'Messages published by this node.');
    this.refused = options.metrics.counter('hearsay_topic_refused_total', 'Received topic messages refused, by reason.');
    options.router.register(EnvelopeKind.RUMOR, RUMOR_BODY, (ve, ctx) => this.onRumor(ve, ctx));
    options.gossip.onRound(() => this.expire());
  }

  subscribe(topic: string, handler: (d: Delivery) => void): () => void {
    checkTopic(topic);
    if (!this.o.authorizer().maySubscribe(this.o.link.identity.cert, topic)) {
      throw new HearsayError('HEARSAY_ERR_NOT_AUTHORIZED', `this node may not subscribe to ${JSON.stringify(topic)}`);
    }
    let sub = this.subs.get(topic);
    if (sub === undefined) {
      sub = {
        handlers: new Set(),
        holdback: new Holdback<Delivery>({
          self: this.selfHex, limit: this.o.holdbackLimit, timeoutMs: this.o.holdbackTimeoutMs, since: this.o.clock.now(), maxStreams: this.o.maxStreams,
        }),
      };
      this.subs.set(topic, sub);
    }
    sub.handlers.add(handler);
    const s = sub;
    return () => {
      s.handlers.delete(handler);
      if (s.handlers.size === 0 && this.subs.get(topic) === s) this.subs.delete(topic);
    };
  }

  publish(topic: string, data: Uint8Array, options: PublishOptions = {}): string {
    checkTopic(topic);
    const order = options.order ?? 'none';
    if (!ORDER_MODES.includes(order)) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `order must be one of ${ORDER_MODES.join(', ')}`);
    if (data.length > this.o.maxMessageBytes) {
      throw new HearsayError('HEARSAY_ERR_TOO_LARGE', `message of ${data.length} bytes exceeds maxMessageBytes (${this.o.maxMessageBytes})`);
    }
    const identity = this.o.link.identity;
    if (!this.o.authorizer().mayPublish(identity.cert, topic)) {
      throw new HearsayError('HEARSAY_ERR_NOT_AUTHORIZED', `this node may not publish to ${JSON.stringify(topic)}`);
    }
    const last = this.seqs.get(topic) ?? { seq: 0, at: 0 };
    const seq = last.seq + 1;
    // Never below the previous one: subscribers compare it with when they started listening.
    const now = Math.max(this.o.clock.now(), last.at);
    this.seqs.set(topic, { seq, at: now });
    const deps = order === 'causal' ? this.causalContext(topic) : [];
    const body: RumorBody = [
      topic, this.o.epoch, seq, now, last.at, ORDER_MODES.indexOf(order),
      deps.map((d) => [Buffer.from(d.origin, 'hex'), d.epoch, d.seq, d.at] as [Uint8Array, number, number, number]), data,
    ];
    const env = signEnvelope(EnvelopeKind.RUMOR, identity.nodeId, identity.seed, body, this.o.backend);
    const id = messageId(env);
    const idKey = Buffer.from(id).toString('base64');
    // Copies coming back are dropped before verification.
    this.o.router.markSeen(idKey);
    this.slots.set(slotKey(this.selfHex, topic, this.o.epoch, seq), { idKey, bytes: env.bytes });
    this.o.gossip.originate({ bytes: env.bytes, id, idKey }, this.readers(topic));
    this.published.inc();
    return idKey;
  }

  /** Delivery counters summed over this node's subscriptions. */
  stats(): TopicStats {
    const t: TopicStats = { delivered: 0, gaps: 0, late: 0, held: 0 };
    for (const s of this.subs.values()) {
      t.delivered += s.holdback.stats.delivered;
      t.gaps += s.holdback.stats.gaps;
      t.late += s.holdback.stats.late;
      t.held += s.holdback.held;
    }
    return t;
  }

  /** Peers that may be sent this topic's messages, under the policy in force when sending. */
  private readers(topic: string): (p: PeerRecord) => boolean {
    return (p) => this.o.authorizer().maySubscribe(p.cert, topic);
  }

  private causalContext(topic: string): Dependency[] {
    const positions = this.subs.get(topic)?.holdback.positions() ?? [];
    let last = this.lastCausal.get(topic);
    if (last === undefined) this.lastCausal.set(topic, (last = new Map()));
    const out: Dependency[] = [];
    for (const p of positions) {
      const tag = `${p.epoch}:${p.seq}`;
      if (last.get(p.origin) === tag) continue;
      // Beyond the bound, the rest waits for our next causal message (a weaker but safe context).
      if (out.length >= this.o.maxCausalDeps) break;
      out.push(p);
      last.set(p.origin, tag);
    }
    return out;
  }

  private onRumor(ve: VerifiedEnvelope, ctx: MessageContext | null): void {
    const [topic, epoch, seq, timestamp, prev, orderIndex, rawDeps, data] = ve.body as RumorBody;
    const origin = ve.envelope.origin;
    const now = this.o.clock.now();
    if (timestamp > now + this.o.maxClockSkewMs || epoch > now + this.o.maxClockSkewMs) {
      this.refused.inc({ reason: 'future-timestamp' });
      this.o.gate.charge(origin, 'future-timestamp', 'rumor');
      return;
    }
    if (timestamp < now - this.o.seenTtlMs) {
      // Older than our seen window: we may have delivered it and forgotten; honest nodes never
      // forward rumors this old, so whoever handed it to us is replaying.
      this.refused.inc({ reason: 'stale' });
      if (ctx !== null) this.o.gate.charge(ctx.peer.id, 'replay', 'stale rumor');
      return;
    }
    const auth = this.o.authorizer();
    if (!auth.mayPublish(ve.originCert, topic)) {
      this.refused.inc({ reason: 'policy' });
      this.o.link.drop('policy');
      this.o.gate.charge(origin, 'policy-violation', 'publish');
      return;
    }
    if (!auth.maySubscribe(this.o.link.identity.cert, topic)) {
      // Nobody should have sent us this topic: the sender ignored the policy.
      this.refused.inc({ reason: 'not-a-reader' });
      this.o.link.drop('policy');
      if (ctx !== null) this.o.gate.charge(ctx.peer.id, 'policy-violation', 'sent a topic we may not read');
      return;
    }
    const originHex = Buffer.from(origin).toString('hex');
    const slot = slotKey(originHex, topic, epoch, seq);
    const prior = this.slots.get(slot);
    if (prior !== undefined && prior.idKey !== ve.idKey) {
      this.refused.inc({ reason: 'equivocation' });
      this.o.link.drop('equivocation');
      this.o.gate.reportEquivocation(prior.bytes, ve.envelope.bytes);
      return;
    }
    this.slots.set(slot, { idKey: ve.idKey, bytes: ve.envelope.bytes });
    if (ctx !== null) this.o.gate.credit(ctx.peer.id);
    this.o.gossip.relay({ bytes: ve.envelope.bytes, id: ve.id, idKey: ve.idKey }, this.readers(topic), ctx?.peer ?? null);
    const sub = this.subs.get(topic);
    if (sub === undefined) return;
    const order = ORDER_MODES[orderIndex]!;
    const delivery: Delivery = {
      topic, data, origin, originName: ve.originCert.name, epoch, seq, order, timestamp, id: ve.idKey, receivedAt: now,
    };
    const deps = order === 'causal'
      ? rawDeps.map(([o, e, s, at]) => ({ origin: Buffer.from(o).toString('hex'), epoch: e, seq: s, at }))
      : [];
    this.dispatch(sub, sub.holdback.offer({ origin: originHex, epoch, seq, at: timestamp, prev, order, deps, value: delivery }, now));
  }

  private expire(): void {
    const now = this.o.clock.now();
    for (const sub of this.subs.values()) this.dispatch(sub, sub.holdback.expire(now));
  }

  private dispatch(sub: Subscription, ready: readonly Delivery[]): void {
    for (const d of ready) for (const h of sub.handlers) h(d);
  }
}

function checkTopic(topic: string): void {
  if (typeof topic !== 'string' || !TOPIC_PATTERN.test(topic)) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `topic ${JSON.stringify(topic)} must match ${TOPIC_PATTERN}`);
  }
}

function slotKey(originHex: string, topic: string, epoch: number, seq: number): string {
  return `${originHex}/${epoch}/${seq}/${topic}`;
}
