/**
 * Lazy-push dissemination of signed envelopes (topic rumors and key/value writes), in the style of
 * Plumtree's lazy push and GossipSub's IHAVE/IWANT gossip, tuned so each node receives a message's
 * full payload about once:
 *
 * - **Eager push at the origin.** A new message goes at once, in full, to `fanout` peers allowed to
 *   read it.
 * - **Announce at once.** Every node that accepts a new message (the origin included) sends its id
 *   in an IHAVE to `lazyFanout` random eligible peers, coalesced with the other announcements of the
 *   same instant. A peer that lacks it asks with IWANT and gets the full message. So the message
 *   travels hop by hop at link speed, but a node downloads it only once: duplicates cost an id.
 * - **Gossip rounds.** Every `gossipIntervalMs` the ids cached in the last `gossipRounds` rounds are
 *   advertised again to `lazyFanout` random peers not known to hold them: this repairs losses and
 *   silent peers (a node that never forwards is routed around because others advertise too).
 * - **Promises.** An IWANT has a deadline (`iwantTimeoutMs`); a peer that advertised an id and did
 *   not deliver it is charged 'broken-promise', and the next peer that advertised it is asked.
 *
 * Per-peer, per-round limits bound the ids we ask of and serve to each peer; IHAVE lists are
 * bounded by `maxIHaveIds`; the cache by `historyRounds` and `maxCachedMessages`. Policy is applied
 * per message and per peer (`mayReceive`): a peer that may not read a topic or key is never sent
 * its messages, nor its ids.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { EnvelopeRouter } from '../link/envelope-router.js';
import type { LinkLayer, MessageContext, PeerRecord } from '../link/link-layer.js';
import { encodeMessage } from '../link/message-list.js';
import type { PeerGate } from '../link/peer-gate.js';
import type { Counter, MetricsRegistry } from '../metrics.js';
import { MessageType } from '../wire/messages.js';
import { arrayOf, bytes, literal, tuple } from '../wire/schema.js';
import { MessageCache, type CachedMessage } from './message-cache.js';
import { PullTracker } from './pull-tracker.js';

/** Who to gossip with. `Members` implements it; a simulation may plug a cheaper static view in. */
export interface PeerSampler {
  selectPeers(k: number, exclude?: ReadonlySet<string>, filter?: (p: PeerRecord) => boolean): PeerRecord[];
}

export interface GossipOptions {
  readonly link: LinkLayer;
  readonly router: EnvelopeRouter;
  readonly peers: PeerSampler;
  readonly clock: Clock;
  readonly gate: PeerGate;
  readonly metrics: MetricsRegistry;
  readonly fanout: number;
  readonly lazyFanout: number;
  readonly gossipIntervalMs: number;
  readonly historyRounds: number;
  readonly gossipRounds: number;
  readonly maxIHaveIds: number;
  readonly maxIWantPerPeerPerRound: number;
  readonly iwantTimeoutMs: number;
  readonly maxCachedMessages: number;
}

/** A verified envelope handed to the engine. */
export interface GossipEnvelope {
  readonly bytes: Uint8Array;
  readonly id: Uint8Array;
  readonly idKey: string;
}

export class Gossip {
  private readonly o: GossipOptions;
  private peers: PeerSampler;
  private readonly cache: MessageCache;
  private readonly tracker: PullTracker;
  private readonly roundListeners: Array<() => void> = [];
  private pendingAnnounce: CachedMessage[] = [];
  private announceTimer: TimerHandle | null = null;
  private expiryTimer: TimerHandle | null = null;
  private roundTimer: TimerHandle | null = null;
  private readonly c: Record<'eager' | 'ihave' | 'ihaveIds' | 'iwant' | 'served' | 'broken', Counter>;

  constructor(options: GossipOptions) {
    this.o = options;
    this.peers = options.peers;
    this.cache = new MessageCache(options.historyRounds, options.gossipRounds, options.maxCachedMessages);
    // Advertisers hold a message historyRounds rounds; the last round is left for the answer to arrive.
    const retryWindow = (options.historyRounds - 1) * options.gossipIntervalMs;
    this.tracker = new PullTracker(options.iwantTimeoutMs, Math.max(1024, 4 * options.maxIHaveIds), options.maxIWantPerPeerPerRound, retryWindow);
    const m = options.metrics;
    this.c = {
      eager: m.counter('hearsay_gossip_eager_pushes_total', 'Full messages pushed eagerly by their origin.'),
      ihave: m.counter('hearsay_gossip_ihave_sent_total', 'IHAVE messages sent.'),
      ihaveIds: m.counter('hearsay_gossip_ihave_ids_sent_total', 'Message ids advertised in IHAVE messages.'),
      iwant: m.counter('hearsay_gossip_iwant_ids_sent_total', 'Message ids asked for with IWANT.'),
      served: m.counter('hearsay_gossip_iwant_served_total', 'Messages sent in answer to IWANT.'),
      broken: m.counter('hearsay_gossip_broken_promises_total', 'IWANTs not answered before their deadline.'),
    };
    const ids = arrayOf(bytes(32), options.maxIHaveIds);
    options.link.on(MessageType.IHAVE, tuple(literal(MessageType.IHAVE), ids), (ctx, msg) => this.onIHave(ctx, msg.fields[1] as Uint8Array[]));
    options.link.on(MessageType.IWANT, tuple(literal(MessageType.IWANT), ids), (ctx, msg) => this.onIWant(ctx, msg.fields[1] as Uint8Array[]));
  }

  start(): void {
    this.roundTimer ??= this.o.clock.setInterval(() => this.round(), this.o.gossipIntervalMs);
  }

  stop(): void {
    this.roundTimer?.cancel();
    this.announceTimer?.cancel();
    this.expiryTimer?.cancel();
    this.roundTimer = this.announceTimer = this.expiryTimer = null;
  }

  /** Replaces the peer sampler (simulations with a static view of a shared member list). */
  setPeerSampler(peers: PeerSampler): void {
    this.peers = peers;
  }

  /** Runs `fn` after each gossip round (holdback expiry and similar housekeeping). */
  onRound(fn: () => void): void {
    this.roundListeners.push(fn);
  }

  /** A message this node just signed: full push to `fanout` peers now, then lazy announcements. */
  originate(env: GossipEnvelope, mayReceive: (p: PeerRecord) => boolean): number {
    const m = this.entry(env, mayReceive);
    const targets = this.peers.selectPeers(this.o.fanout, undefined, mayReceive);
    // Not marked as holders: a lost push is repaired by the IHAVEs of this node and the others.
    for (const p of targets) this.o.link.send(p, [m.message]);
    this.c.eager.inc({}, targets.length);
    this.admit(m);
    return targets.length;
  }

  /** A verified message new to this node, from `from` (null: from a stream, not to be re-announced). */
  relay(env: GossipEnvelope, mayReceive: (p: PeerRecord) => boolean, from: PeerRecord | null): void {
    this.tracker.fulfilled(env.idKey);
    if (from === null) return;
    const m = this.entry(env, mayReceive);
    m.informed.add(from.idHex);
    this.admit(m);
  }

  /** Counts for tests and benchmarks. */
  stats(): { cached: number; pendingPulls: number } {
    return { cached: this.cache.size, pendingPulls: this.tracker.size };
  }

  private entry(env: GossipEnvelope, mayReceive: (p: PeerRecord) => boolean): CachedMessage {
    // Encoded on first use: most relays only announce the id and never send the payload.
    let encoded: Uint8Array | null = null;
    const envelope = env.bytes;
    return {
      idKey: env.idKey, id: env.id, mayReceive, informed: new Set(),
      get message() {
        return (encoded ??= EnvelopeRouter.message(envelope));
      },
    };
  }

  private admit(m: CachedMessage): void {
    if (!this.cache.put(m)) return;
    this.pendingAnnounce.push(m);
    // Announcements of one instant (one packet's messages, one event-loop turn) share IHAVE packets.
    this.announceTimer ??= this.o.clock.setTimeout(() => {
      this.announceTimer = null;
      const items = this.pendingAnnounce;
      this.pendingAnnounce = [];
      this.advertise(items);
    }, 0);
  }

  /**
   * Sends IHAVE for `items` to `lazyFanout` random peers that may read at least one and are not
   * known to hold it. A peer merely told is told again in a later round if picked: the IHAVE, the
   * IWANT or the answer may have been lost.
   */
  private advertise(items: readonly CachedMessage[]): void {
    if (items.length === 0) return;
    const wants = (p: PeerRecord, m: CachedMessage): boolean => !m.informed.has(p.idHex) && m.mayReceive(p);
    const targets = this.peers.selectPeers(this.o.lazyFanout, undefined, (p) => items.some((m) => wants(p, m)));
    for (const p of targets) {
      const ids: Uint8Array[] = [];
      for (const m of items) {
        if (ids.length >= this.o.maxIHaveIds) break;
        if (!wants(p, m)) continue;
        ids.push(m.id);
      }
      if (ids.length === 0) continue;
      const msgs = this.idMessages(p, MessageType.IHAVE, ids);
      this.o.link.send(p, msgs);
      this.c.ihave.inc({}, msgs.length);
      this.c.ihaveIds.inc({}, ids.length);
    }
  }

  private round(): void {
    this.cache.shift();
    this.tracker.newRound();
    if (!this.cache.quiet) this.advertise(this.cache.gossip());
    for (const fn of this.roundListeners) fn();
  }

  private onIHave(ctx: MessageContext, ids: Uint8Array[]): void {
    const peer = ctx.peer;
    const now = this.o.clock.now();
    const want: Uint8Array[] = [];
    for (const id of ids) {
      const idKey = Buffer.from(id).toString('base64');
      if (this.o.router.hasSeen(idKey)) {
        this.cache.inform(idKey, peer.idHex);
        continue;
      }
      if (this.tracker.advertised(idKey, peer.idHex, now)) want.push(id);
    }
    if (want.length === 0) return;
    this.o.link.send(peer, this.idMessages(peer, MessageType.IWANT, want));
    this.c.iwant.inc({}, want.length);
    this.armExpiry();
  }

  private onIWant(ctx: MessageContext, ids: Uint8Array[]): void {
    const peer = ctx.peer;
    // A peer below the gossip threshold gets nothing from us, pulled or pushed.
    if (!this.o.gate.mayGossipTo(peer.id)) return;
    const out: Uint8Array[] = [];
    for (const id of ids) {
      const m = this.cache.get(Buffer.from(id).toString('base64'));
      if (m === undefined || !m.mayReceive(peer)) continue;
      if (!this.tracker.mayServe(peer.idHex)) break;
      out.push(m.message);
      this.cache.inform(m.idKey, peer.idHex);
    }
    if (out.length === 0) return;
    this.o.link.send(peer, out);
    this.c.served.inc({}, out.length);
  }

  private armExpiry(): void {
    if (this.expiryTimer !== null) return;
    const next = this.tracker.nextDeadline();
    if (next === null) return;
    this.expiryTimer = this.o.clock.setTimeout(() => {
      this.expiryTimer = null;
      this.expirePromises();
    }, Math.max(1, next - this.o.clock.now()));
  }

  private expirePromises(): void {
    const broken = this.tracker.expire(this.o.clock.now(), (idKey) => this.o.router.hasSeen(idKey));
    const retries = new Map<string, Uint8Array[]>();
    for (const b of broken) {
      for (const hex of b.peers) {
        this.c.broken.inc();
        const advertiser = this.o.link.peer(hex);
        if (advertiser !== undefined) this.o.gate.charge(advertiser.id, 'broken-promise', 'iwant unanswered');
      }
      for (const hex of b.retry) {
        let list = retries.get(hex);
        if (list === undefined) retries.set(hex, (list = []));
        list.push(Buffer.from(b.idKey, 'base64'));
      }
    }
    for (const [hex, ids] of retries) {
      const p = this.o.link.peer(hex);
      if (p === undefined) continue;
      this.o.link.send(p, this.idMessages(p, MessageType.IWANT, ids));
      this.c.iwant.inc({}, ids.length);
    }
    this.armExpiry();
  }

  /** Splits an id list into IHAVE/IWANT messages that each fit one packet to `peer`. */
  private idMessages(peer: PeerRecord, type: number, ids: readonly Uint8Array[]): Uint8Array[] {
    // Per id: bin8 header (2) + 32 bytes; per message: list, type and array16 headers (at most 8).
    const perMessage = Math.max(1, Math.floor((this.o.link.packetBudget(peer) - 8) / 34));
    const out: Uint8Array[] = [];
    for (let i = 0; i < ids.length; i += perMessage) out.push(encodeMessage([type, ids.slice(i, i + perMessage)]));
    return out;
  }
}
