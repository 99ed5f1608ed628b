/**
 * The link layer: authenticated, encrypted, replay-protected hops between certified peers.
 *
 * It keeps the peer table (peer-table.ts: certificate, link key, replay state, rate limit, last
 * authenticated address of each peer) and runs the receive pipeline in the order ARCHITECTURE.md fixes, cheapest
 * check first, so that junk costs as little as possible:
 *
 *   size → header → blocked sender → replay window → rate limit → decrypt → decode → schema → handler
 *
 * (signature, policy and apply happen in the envelope router and the layers above.)
 * Every failure is a counted drop with a reason; nothing throws out of `receive`. Only failures of
 * authenticated packets are charged to the sender: before decryption succeeds, the sender id in the
 * header is just a claim anyone can write.
 */
import type { Clock } from '../clock.js';
import { HearsayError, fail, ok, type Result } from '../errors.js';
import type { Logger } from '../log.js';
import type { Counter, MetricsRegistry } from '../metrics.js';
import type { Address, Transport } from '../transport/transport.js';
import { frameLimits, packetLimits, type DecodeLimits } from '../wire/codec.js';
import { clusterTag as makeClusterTag, PacketKind } from '../wire/header.js';
import { decodeMessages, MessageType, type RawMessage } from '../wire/messages.js';
import { buildHelloPacket, buildSealedPacket, HELLO_WANTS_REPLY, openPacket, packetOverhead, parsePacket, type ParsedPacket } from '../wire/packet.js';
import { xchachaAead, type Aead } from '../wire/seal.js';
import { tuple, literal, type Schema } from '../wire/schema.js';
import type { CertificateVerifier, LocalIdentity, PeerCertificate } from './peer-certificate.js';
import type { PeerGate } from './peer-gate.js';
import { PeerTable, sameBytes, type PeerRecord } from './peer-table.js';
import { TokenBucket } from './token-bucket.js';
import { encodeMessage, encodeMessageList, MAX_LIST_HEADER } from './message-list.js';

export type { PeerRecord } from './peer-table.js';

export interface MessageContext {
  readonly peer: PeerRecord;
  readonly from: Address;
  readonly viaStream: boolean;
}

export type MessageHandler = (ctx: MessageContext, msg: RawMessage) => void;
export type RequestHandler = (ctx: MessageContext, msgs: RawMessage[]) => Promise<Uint8Array[] | null> | Uint8Array[] | null;

export interface LinkLayerOptions {
  readonly identity: LocalIdentity;
  readonly cluster: string;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly verifier: CertificateVerifier;
  readonly gate: PeerGate;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  readonly replayWindow: number;
  readonly maxClockSkewMs: number;
  readonly peerPacketsPerSecond: number;
  readonly hellosPerSecond: number;
  readonly maxPeers: number;
  /** Boot time: the epoch of every packet we send (ARCHITECTURE.md "Anti-replay"). */
  readonly epoch: number;
  /** The AEAD; only the simulator passes another one (see wire/seal.ts). */
  readonly aead?: Aead;
  /** Link-key derivation; only the simulator passes another one (a cache shared by all its nodes). */
  readonly deriveKey?: (peer: PeerCertificate) => Uint8Array | null;
}

const WELCOME_SCHEMA = tuple(literal(MessageType.WELCOME));

export class LinkLayer {
  readonly identity: LocalIdentity;
  private readonly o: LinkLayerOptions;
  private readonly tag: Uint8Array;
  private readonly peers: PeerTable;
  private readonly helloBucket: TokenBucket;
  private readonly schemas = new Map<number, Schema<unknown[]>>();
  private readonly handlers = new Map<number, MessageHandler>();
  private readonly requestHandlers = new Map<number, RequestHandler>();
  private readonly peerListeners: Array<(peer: PeerRecord) => void> = [];
  private readonly pLimits: DecodeLimits;
  private readonly fLimits: DecodeLimits;
  private readonly dropped: Counter;
  private readonly received: Counter;
  private readonly sent: Counter;
  private readonly cryptoOps: Counter;
  /** Per-packet counters, resolved once (see Counter.series). */
  private readonly hot: Record<'receivedPacket' | 'sentPacket' | 'decrypt' | 'encrypt', { inc(by?: number): void }>;
  private stopped = false;
  private readonly aead: Aead;
  /** Policy check on everything we send (src/policy/envelope-policy.ts); null = send everything. */
  private outbound: ((peer: PeerRecord, message: Uint8Array) => boolean) | null = null;

  constructor(options: LinkLayerOptions) {
    this.o = options;
    this.aead = options.aead ?? xchachaAead;
    this.identity = options.identity;
    this.tag = makeClusterTag(options.cluster);
    this.helloBucket = new TokenBucket(options.hellosPerSecond, options.hellosPerSecond, options.clock);
    this.pLimits = packetLimits(options.transport.maxPacketBytes);
    this.fLimits = frameLimits(options.transport.maxFrameBytes);
    const m = options.metrics;
    this.dropped = m.counter('hearsay_packets_dropped_total', 'Packets and frames dropped, by reason.');
    this.received = m.counter('hearsay_packets_received_total', 'Packets and frames received, before any check.');
    this.sent = m.counter('hearsay_packets_sent_total', 'Packets and frames sent.');
    this.cryptoOps = m.counter('hearsay_crypto_operations_total', 'Cryptographic operations, by kind.');
    this.peers = new PeerTable({ ...options, countCrypto: (op) => this.cryptoOps.inc({ op }) });
    this.hot = {
      receivedPacket: this.received.series({ kind: 'packet' }),
      sentPacket: this.sent.series({ kind: 'packet' }),
      decrypt: this.cryptoOps.series({ op: 'decrypt' }),
      encrypt: this.cryptoOps.series({ op: 'encrypt' }),
    };
    this.schemas.set(MessageType.WELCOME, WELCOME_SCHEMA as Schema<unknown[]>);
    this.handlers.set(MessageType.WELCOME, () => {});
    options.transport.onPacket((bytes, from) => this.receive(bytes, from));
    options.transport.onRequest((bytes, from) => this.receiveRequest(bytes, from));
  }

  get address(): Address {
    return this.o.transport.address;
  }

  get maxPacketBytes(): number {
    return this.o.transport.maxPacketBytes;
  }

  /** Registers the schema and handler of a message type arriving in packets (and in request frames). */
  on<T extends unknown[]>(type: number, schema: Schema<T>, handler: MessageHandler): void {
    if (this.schemas.has(type) && this.handlers.has(type)) throw new HearsayError('HEARSAY_ERR_INTERNAL', `message type ${type} registered twice`);
    this.schemas.set(type, schema as Schema<unknown[]>);
    this.handlers.set(type, handler);
  }

  /** Declares a message type that may appear in frames (e.g. responses) without a packet handler. */
  declare<T extends unknown[]>(type: number, schema: Schema<T>): void {
    this.schemas.set(type, schema as Schema<unknown[]>);
  }

  /** Registers the handler of stream requests whose first message has this type. */
  onRequest<T extends unknown[]>(type: number, schema: Schema<T>, handler: RequestHandler): void {
    this.schemas.set(type, schema as Schema<unknown[]>);
    this.requestHandlers.set(type, handler);
  }

  /** Called whenever a peer authenticates for the first time or its record is created from a certificate. */
  onPeer(listener: (peer: PeerRecord) => void): void {
    this.peerListeners.push(listener);
  }

  peer(id: Uint8Array | string): PeerRecord | undefined {
    return this.peers.get(typeof id === 'string' ? id : Buffer.from(id).toString('hex'));
  }

  knownPeers(): PeerRecord[] {
    return [...this.peers.values()];
  }

  /**
   * Adds or refreshes a peer from certificate bytes learned from signed gossip (the certificate is
   * verified here; the address comes from a claim the peer signed itself).
   */
  learnPeer(certBytes: Uint8Array, address: Address | null): Result<PeerRecord, string> {
    const r = this.peers.admit(certBytes);
    if (!r.ok) return r;
    if (address !== null && r.value.address === null) r.value.address = address;
    return r;
  }

  forgetPeer(id: Uint8Array): void {
    this.peers.delete(Buffer.from(id).toString('hex'));
  }

  /** Sends our certificate to an address whose node we do not know yet (seeds, reconnects). */
  hello(address: Address): void {
    if (this.stopped) return;
    const pkt = buildHelloPacket(this.header(0), this.identity.certBytes, HELLO_WANTS_REPLY);
    this.sent.inc({ kind: 'hello' });
    this.o.transport.send(address, pkt);
  }

  /** Plaintext bytes available in one packet to this peer (for piggybacking). */
  packetBudget(peer: PeerRecord): number {
    return this.o.transport.maxPacketBytes - packetOverhead(peer.hasOurCert ? 0 : this.identity.certBytes.length) - MAX_LIST_HEADER;
  }

  /**
   * Sends pre-encoded messages to a peer, packed greedily into as few packets as fit. Returns the
   * number of packets sent. A message too large for any packet is dropped and counted.
   */
  send(peer: PeerRecord, messages: readonly Uint8Array[], address: Address | null = peer.address): number {
    if (this.stopped || messages.length === 0) return 0;
    if (address === null) {
      this.dropped.inc({ reason: 'no-address' });
      return 0;
    }
    const budget = this.packetBudget(peer);
    let batch: Uint8Array[] = [];
    let size = 0;
    let packets = 0;
    const flush = (): void => {
      if (batch.length === 0) return;
      this.sendSealed(peer, address, encodeMessageList(batch));
      packets++;
      batch = [];
      size = 0;
    };
    for (const m of messages) {
      if (m.length > budget) {
        this.dropped.inc({ reason: 'message-too-large' });
        continue;
      }
      if (this.outbound !== null && !this.outbound(peer, m)) {
        this.dropped.inc({ reason: 'policy-outbound' });
        continue;
      }
      if (size + m.length > budget) flush();
      batch.push(m);
      size += m.length;
    }
    flush();
    return packets;
  }

  /** Encodes and sends one message. */
  sendMessage(peer: PeerRecord, message: readonly unknown[]): void {
    this.send(peer, [encodeMessage(message)]);
  }

  /**
   * A sealed request/response exchange over the transport's stream channel. Resolves to the
   * validated response messages, or a failure reason; never rejects.
   */
  async request(peer: PeerRecord, messages: readonly Uint8Array[], timeoutMs: number): Promise<Result<RawMessage[], string>> {
    if (this.stopped) return fail('stopped');
    if (peer.address === null) return fail('no-address');
    const allowed = this.allowedTo(peer, messages);
    if (allowed.length === 0 && messages.length > 0) return fail('policy-outbound');
    const frame = this.seal(peer, encodeMessageList(allowed));
    if (frame.length > this.o.transport.maxFrameBytes) return fail('frame-too-large');
    let response: Uint8Array;
    try {
      this.sent.inc({ kind: 'frame' });
      response = await this.o.transport.request(peer.address, frame, timeoutMs);
    } catch (e) {
      return fail(e instanceof HearsayError && e.code === 'HEARSAY_ERR_TIMEOUT' ? 'timeout' : 'transport');
    }
    this.received.inc({ kind: 'frame' });
    const opened = this.authenticate(response, peer.address, this.o.transport.maxFrameBytes, false);
    if (!opened.ok) return opened;
    if (opened.value.peer !== peer) {
      this.drop('wrong-responder');
      return fail('wrong-responder');
    }
    const msgs = decodeMessages(opened.value.plaintext, this.fLimits, this.schemas);
    if (!msgs.ok) {
      this.drop('malformed');
      this.o.gate.charge(peer.id, 'malformed', msgs.reason);
      return fail('malformed');
    }
    return ok(msgs.value);
  }

  stop(): void {
    this.stopped = true;
  }

  /** Counts a drop by reason (also used by the layers above for their own drops). */
  drop(reason: string): void {
    this.dropped.inc({ reason });
  }

  dropCounts(): Record<string, number> {
    return this.dropped.byLabel('reason');
  }

  countCrypto(op: string): void {
    this.cryptoOps.inc({ op });
  }

  // ---------------------------------------------------------------------------------------------
  // Receive path

  /** The packet entry point. Never throws. */
  receive(bytes: Uint8Array, from: Address): void {
    if (this.stopped) return;
    this.hot.receivedPacket.inc();
    try {
      const r = this.authenticate(bytes, from, this.o.transport.maxPacketBytes, true);
      if (!r.ok) return;
      const { peer, plaintext } = r.value;
      const msgs = decodeMessages(plaintext, this.pLimits, this.schemas);
      if (!msgs.ok) {
        this.drop('malformed');
        this.o.gate.charge(peer.id, 'malformed', msgs.reason);
        return;
      }
      const ctx: MessageContext = { peer, from, viaStream: false };
      for (const m of msgs.value) {
        const h = this.handlers.get(m.type);
        if (h === undefined) {
          // A type that only makes sense in a stream frame arrived in a datagram.
          this.drop('unexpected-type');
          this.o.gate.charge(peer.id, 'malformed', `type ${m.type} in a packet`);
          continue;
        }
        h(ctx, m);
      }
    } catch (e) {
      this.drop('handler-error');
      this.o.logger.error({ err: (e as Error).message, stack: (e as Error).stack }, 'bug: receive handler threw');
    }
  }

  private async receiveRequest(bytes: Uint8Array, from: Address): Promise<Uint8Array | null> {
    if (this.stopped) return null;
    this.received.inc({ kind: 'frame' });
    try {
      const r = this.authenticate(bytes, from, this.o.transport.maxFrameBytes, false);
      if (!r.ok) return null;
      const { peer, plaintext } = r.value;
      const msgs = decodeMessages(plaintext, this.fLimits, this.schemas);
      if (!msgs.ok) {
        this.drop('malformed');
        this.o.gate.charge(peer.id, 'malformed', msgs.reason);
        return null;
      }
      const first = msgs.value[0]!;
      const h = this.requestHandlers.get(first.type);
      if (h === undefined) {
        this.drop('unexpected-type');
        this.o.gate.charge(peer.id, 'malformed', `request type ${first.type}`);
        return null;
      }
      const answer = await h({ peer, from, viaStream: true }, msgs.value);
      if (answer === null || this.stopped) return null;
      const allowed = this.allowedTo(peer, answer);
      if (allowed.length === 0 && answer.length > 0) return null;
      const frame = this.seal(peer, encodeMessageList(allowed));
      if (frame.length > this.o.transport.maxFrameBytes) {
        this.drop('response-too-large');
        return null;
      }
      this.sent.inc({ kind: 'frame' });
      return frame;
    } catch (e) {
      this.drop('handler-error');
      this.o.logger.error({ err: (e as Error).message, stack: (e as Error).stack }, 'bug: request handler threw');
      return null;
    }
  }

  /**
   * Runs the checks up to and including decryption. On success the packet is authenticated: it
   * was sealed by the holder of the sender's link key, inside the replay window, within rate.
   */
  private authenticate(bytes: Uint8Array, from: Address, maxBytes: number, isDatagram: boolean): Result<{ peer: PeerRecord; plaintext: Uint8Array }, string> {
    const parsed = parsePacket(bytes, maxBytes, this.tag);
    if (!parsed.ok) return this.dropped1(parsed.reason);
    const p = parsed.value;
    const senderHex = Buffer.from(p.header.senderId).toString('hex');
    if (senderHex === this.peers.selfHex) return this.dropped1('self');
    // Reputation gate before any crypto: a graylisted or banned node costs us one map lookup.
    if (this.o.gate.isBlocked(p.header.senderId)) return this.dropped1('blocked');
    if (p.header.kind === PacketKind.HELLO) {
      this.onHello(p, senderHex, from);
      return fail('hello');
    }
    let peer = this.peers.get(senderHex);
    if (peer === undefined || (p.cert !== null && !sameBytes(p.cert, peer.certBytes))) {
      if (p.cert === null) {
        // We lost (or never had) this sender's certificate, e.g. after our restart: ask for it.
        if (isDatagram && this.helloBucket.take()) this.hello(from);
        return this.dropped1('unknown-sender');
      }
      // Certificate checks cost a verification; bound that work like first contacts.
      if (peer === undefined && !this.helloBucket.take()) return this.dropped1('rate-limited-cert');
      const r = this.peers.admit(p.cert, p.header.senderId);
      // The reason comes from a fixed set (certificate.ts), so it is safe as a metric label.
      if (!r.ok) return this.dropped1(`cert-${r.reason}`);
      peer = r.value;
    }
    const now = this.o.clock.now();
    // An epoch far in the future would lock the sender's later, honest epochs out of the window.
    if (p.header.epoch > now + this.o.maxClockSkewMs) return this.dropped1('future-epoch');
    const verdict = peer.replay.check(p.header.epoch, p.header.counter);
    if (verdict !== 'ok') return this.dropped1(verdict === 'too-old' ? 'replay-too-old' : 'replay');
    const bucket = peer.address === null || peer.address === from || !isDatagram ? peer.bucket : peer.strangerBucket;
    if (!bucket.take()) {
      // An over-rate packet is not authenticated yet, and charging its claimed sender would let
      // spoofers frame peers. So at most once a second per peer we spend one decryption to find
      // out: if the excess packet really is the peer's (it opens, inside the replay window), the
      // flood is the peer's own and is charged; a spoofer's packet fails and costs nobody a point.
      if (now - peer.lastRateProbe < 1000) return this.dropped1('rate-limited');
      peer.lastRateProbe = now;
      this.hot.decrypt.inc();
      if (openPacket(p, peer.linkKey, this.aead).ok) {
        peer.replay.accept(p.header.epoch, p.header.counter);
        this.o.gate.charge(peer.id, 'rate-limit', 'over the per-sender packet rate');
      }
      return this.dropped1('rate-limited');
    }
    this.hot.decrypt.inc();
    const opened = openPacket(p, peer.linkKey, this.aead);
    if (!opened.ok) return this.dropped1('decrypt-failed');
    // Authenticated from here on.
    peer.replay.accept(p.header.epoch, p.header.counter);
    const isNew = peer.lastAuthenticated === 0;
    peer.lastAuthenticated = now;
    peer.hasOurCert = true;
    // A datagram's source is the peer's gossip port; a stream's is an ephemeral port, never stored.
    if (isDatagram) peer.address = from;
    if (isNew) for (const l of this.peerListeners) l(peer);
    return ok({ peer, plaintext: opened.value });
  }

  private onHello(p: ParsedPacket, senderHex: string, from: Address): void {
    if (!this.helloBucket.take()) {
      this.drop('rate-limited-hello');
      return;
    }
    let peer = this.peers.get(senderHex);
    if (peer === undefined || !sameBytes(p.cert!, peer.certBytes)) {
      const r = this.peers.admit(p.cert!, p.header.senderId);
      if (!r.ok) {
        this.drop(`cert-${r.reason}`);
        return;
      }
      peer = r.value;
    }
    // The sender says it lacks our certificate: attach it until it proves otherwise. The reply is
    // sealed to the certificate's kx key, so only the certificate's owner can read it, and its
    // address is not trusted until it answers with an authenticated packet.
    peer.hasOurCert = false;
    this.received.inc({ kind: 'hello' });
    this.sendSealed(peer, from, encodeMessageList([encodeMessage([MessageType.WELCOME])]));
  }

  private dropped1(reason: string): { ok: false; reason: string } {
    this.dropped.inc({ reason });
    return { ok: false, reason };
  }

  /**
   * Takes each peer's packet rate from `rate(cert)` (the policy's per-node limit) instead of the
   * config's peerPacketsPerSecond, for new peers and, at once, for known ones. Call again (or
   * `refreshPeerRates`) when the policy changes.
   */
  setPeerRateLimit(rate: ((cert: PeerCertificate) => number) | null): void {
    this.peers.setRateLimit(rate);
  }

  refreshPeerRates(): void {
    this.peers.refreshRates();
  }

  /**
   * Installs the policy's check of every outgoing message (packets, requests and responses):
   * a message the peer may not be sent is dropped and counted (`policy-outbound`).
   */
  setOutboundFilter(filter: ((peer: PeerRecord, message: Uint8Array) => boolean) | null): void {
    this.outbound = filter;
  }

  private allowedTo(peer: PeerRecord, messages: readonly Uint8Array[]): readonly Uint8Array[] {
    if (this.outbound === null) return messages;
    const out = messages.filter((m) => this.outbound!(peer, m));
    if (out.length !== messages.length) this.dropped.inc({ reason: 'policy-outbound' }, messages.length - out.length);
    return out;
  }

  /** Forgets cached certificate verdicts (after a revocation list or policy change). */
  clearCertificateCache(): void {
    this.peers.clearCertificateCache();
  }

  // ---------------------------------------------------------------------------------------------
  // Send path

  private header(counter: number): { clusterTag: Uint8Array; senderId: Uint8Array; epoch: number; counter: number } {
    return { clusterTag: this.tag, senderId: this.identity.nodeId, epoch: this.o.epoch, counter };
  }

  private seal(peer: PeerRecord, plaintext: Uint8Array): Uint8Array {
    peer.sendCounter += 1;
    this.hot.encrypt.inc();
    return buildSealedPacket(this.header(peer.sendCounter), peer.hasOurCert ? null : this.identity.certBytes, plaintext, peer.linkKey, this.aead);
  }

  private sendSealed(peer: PeerRecord, address: Address, plaintext: Uint8Array): void {
    const pkt = this.seal(peer, plaintext);
    this.hot.sentPacket.inc();
    this.o.transport.send(address, pkt);
  }
}
