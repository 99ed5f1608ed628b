/**
 * A hand-driven endpoint for adversarial tests: it holds a real identity (any certificate, valid
 * or not) and builds packets with the wire functions directly, so it can do what an honest link
 * layer never does — reuse counters, seal garbage, forge envelopes, sign contradictions — and the
 * tests can check that honest nodes drop, count and charge each of those.
 */
import type { SignatureBackend } from '../identity/signature-backend.js';
import { encodeMessage, encodeMessageList } from '../link/message-list.js';
import type { LocalIdentity, PeerCertificate } from '../link/peer-certificate.js';
import { clusterTag } from '../wire/header.js';
import { deriveLinkKey } from '../wire/link-key.js';
import { EnvelopeKind, signEnvelope, type Envelope } from '../wire/envelope.js';
import { MessageType } from '../wire/messages.js';
import { buildHelloPacket, buildSealedPacket, HELLO_WANTS_REPLY } from '../wire/packet.js';
import type { Aead } from '../wire/seal.js';

export interface SealOptions {
  /** Defaults to the next counter for this peer. */
  readonly counter?: number;
  readonly epoch?: number;
  /** Attach our certificate (SEALED_WITH_CERT). Defaults to true. */
  readonly withCert?: boolean;
  /** Seal under this key instead of the real link key. */
  readonly key?: Uint8Array;
}

export class RogueEndpoint {
  readonly identity: LocalIdentity;
  readonly epoch: number;
  private readonly cluster: string;
  private readonly tag: Uint8Array;
  private readonly backend: SignatureBackend;
  private readonly counters = new Map<string, number>();
  private readonly aead: Aead | undefined;

  /** `aead`: the simulator's (fast-crypto.ts) when the target nodes run with `fastCrypto`. */
  constructor(options: { identity: LocalIdentity; cluster: string; backend: SignatureBackend; epoch: number; aead?: Aead }) {
    this.identity = options.identity;
    this.aead = options.aead;
    this.cluster = options.cluster;
    this.tag = clusterTag(options.cluster);
    this.backend = options.backend;
    this.epoch = options.epoch;
  }

  linkKeyFor(peer: Pick<PeerCertificate, 'nodeId' | 'kx'>): Uint8Array {
    const k = deriveLinkKey(this.cluster, this.identity.kxSecret, this.identity.nodeId, peer.kx, peer.nodeId);
    if (k === null) throw new RangeError('rogue: peer kx key unusable');
    return k;
  }

  /** Seals a plaintext (or a list of message arrays) to a peer. */
  seal(peer: Pick<PeerCertificate, 'nodeId' | 'kx'>, content: Uint8Array | readonly (readonly unknown[])[], options: SealOptions = {}): Uint8Array {
    const key = Buffer.from(peer.nodeId).toString('hex');
    const counter = options.counter ?? (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, Math.max(counter, this.counters.get(key) ?? 0));
    const plaintext = content instanceof Uint8Array ? content : encodeMessageList(content.map((m) => encodeMessage(m)));
    const header = { clusterTag: this.tag, senderId: this.identity.nodeId, epoch: options.epoch ?? this.epoch, counter };
    const cert = options.withCert === false ? null : this.identity.certBytes;
    return buildSealedPacket(header, cert, plaintext, options.key ?? this.linkKeyFor(peer), this.aead);
  }

  hello(): Uint8Array {
    return buildHelloPacket({ clusterTag: this.tag, senderId: this.identity.nodeId, epoch: this.epoch, counter: 0 }, this.identity.certBytes, HELLO_WANTS_REPLY);
  }

  /** An envelope signed by this endpoint's own key. */
  sign(kind: EnvelopeKind, body: readonly unknown[]): Envelope {
    return signEnvelope(kind, this.identity.nodeId, this.identity.seed, body, this.backend);
  }

  /** An envelope that names `origin` but is signed with this endpoint's key: a forgery no honest node accepts. */
  forge(kind: EnvelopeKind, origin: Uint8Array, body: readonly unknown[]): Envelope {
    return signEnvelope(kind, origin, this.identity.seed, body, this.backend);
  }

  /**
   * A rumor envelope wrapped as an ENVELOPE message, ready to seal. Body layout of
   * src/dissemination/broadcast.ts: [topic, epoch, seq, timestamp, previous timestamp, order, deps,
   * data]; the epoch is this endpoint's, the order 'none' unless given (0 none, 1 fifo, 2 causal).
   */
  rumor(topic: string, seq: number, timestamp: number, data: Uint8Array, order = 0, deps: ReadonlyArray<[Uint8Array, number, number, number]> = []): unknown[] {
    return [MessageType.ENVELOPE, this.sign(EnvelopeKind.RUMOR, rumorBody(topic, this.epoch, seq, timestamp, data, order, deps)).bytes];
  }

  /**
   * A signed key/value write (src/state/kv-write.ts body: [key, value | null, wall, logical,
   * version]), any timestamp or version the test wants: far-future clocks, equivocations.
   */
  kvWrite(key: string, value: Uint8Array | null, wall: number, logical: number, version: number): Envelope {
    return this.sign(EnvelopeKind.KV_WRITE, [key, value, wall, logical, version]);
  }

  /** Membership claims signed by this endpoint, in the formats of src/membership/claims.ts. */
  aliveClaim(incarnation: number, address: string, certBytes: Uint8Array = this.identity.certBytes): Envelope {
    return this.sign(EnvelopeKind.ALIVE, [incarnation, address, certBytes]);
  }

  accusation(kind: 'suspect' | 'dead', target: Uint8Array, incarnation: number, timestamp: number): Envelope {
    return this.sign(kind === 'suspect' ? EnvelopeKind.SUSPECT : EnvelopeKind.DEAD, [target, incarnation, timestamp]);
  }

  leaveClaim(incarnation: number): Envelope {
    return this.sign(EnvelopeKind.LEAVE, [incarnation]);
  }

  /** Envelope bytes as an ENVELOPE message, ready to seal. */
  static message(env: Envelope | Uint8Array): unknown[] {
    return [MessageType.ENVELOPE, env instanceof Uint8Array ? env : env.bytes];
  }
}

/** A RUMOR body in the layout of src/dissemination/broadcast.ts, for tests and benchmarks that sign rumors by hand. */
export function rumorBody(
  topic: string, epoch: number, seq: number, timestamp: number, data: Uint8Array, order = 0,
  deps: ReadonlyArray<[Uint8Array, number, number, number]> = [], previousTimestamp = 0,
): unknown[] {
  return [topic, epoch, seq, timestamp, previousTimestamp, order, deps.map((d) => [...d]), data];
}
