/**
 * Spreading proofs of equivocation. When the engine accepts a proof (one it received, or one a
 * layer reported), this node signs its own EVIDENCE envelope carrying it and pushes it at once to
 * `fanout` peers, then again to `fanout` random peers every tick for FRESH_MS, so loss cannot stop
 * it; every new peer is sent our most recent proofs. Each receiver checks the proof itself
 * (engine.receiveEvidence) and forwards only what it accepted, so a forged proof stops at the
 * first honest node, and is charged to whoever handed it over.
 *
 * Each node signs its own copy rather than relaying the first reporter's bytes: the reporter is
 * then always the authenticated peer we got it from, whom the receiver knows, so a proof reaches
 * nodes that never met the first reporter. Copies of one proof cost a receiver one signature check
 * each (for the reporter's signature); the proof itself is checked once, by id.
 *
 * A proof carries two full envelopes and a certificate; when it does not fit in one packet it goes
 * as a stream request (MessageType.EVIDENCE).
 */
import type { Clock } from '../clock.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { EnvelopeRouter } from '../link/envelope-router.js';
import type { LinkLayer, PeerRecord } from '../link/link-layer.js';
import { encodeMessage } from '../link/message-list.js';
import { EnvelopeKind, messageId, signEnvelope } from '../wire/envelope.js';
import { MessageType } from '../wire/messages.js';
import { bytes, literal, tuple } from '../wire/schema.js';
import type { ReputationEngine } from './engine.js';
import { EVIDENCE_BODY, EVIDENCE_FORMAT } from './evidence.js';
import type { StoredEvidence } from './store.js';

/** A proof is pushed again every tick for this long after we accept it: at 20% loss, enough for any cluster size we target. */
export const FRESH_MS = 30_000;
/** A new peer is sent at most this many of our most recent proofs. */
export const PROOFS_TO_NEW_PEER = 8;
/** Proofs being re-pushed at once; a burst beyond this only gets the first push and new-peer pushes. */
const MAX_FRESH = 32;
/** Largest EVIDENCE envelope: two 64 KiB envelopes, a certificate and framing. */
const MAX_EVIDENCE_ENVELOPE = 140_000;
const EVIDENCE_REQUEST = tuple(literal(MessageType.EVIDENCE), bytes(1, MAX_EVIDENCE_ENVELOPE));

export interface EvidenceGossipOptions {
  readonly link: LinkLayer;
  readonly router: EnvelopeRouter;
  readonly backend: SignatureBackend;
  readonly clock: Clock;
  /** Random eligible peers we may gossip to (membership's peer selection). */
  readonly selectPeers: (k: number) => PeerRecord[];
  readonly fanout: number;
  readonly streamTimeoutMs: number;
}

export class EvidenceGossip {
  private readonly o: EvidenceGossipOptions;
  private readonly fresh = new Map<string, { rec: StoredEvidence; until: number }>();
  /** Our signed EVIDENCE envelope per proof id (signed once, sent many times). */
  private readonly wires = new Map<string, Uint8Array>();
  private stopped = false;

  constructor(private readonly engine: ReputationEngine, options: EvidenceGossipOptions) {
    this.o = options;
    options.router.register(EnvelopeKind.EVIDENCE, EVIDENCE_BODY, (ve, ctx) => {
      const [, first, second, cert] = ve.body;
      engine.receiveEvidence(first, second, cert, ctx?.peer.id ?? null, ve.envelope.origin);
    });
    options.link.onRequest(MessageType.EVIDENCE, EVIDENCE_REQUEST, (ctx, msgs) => {
      options.router.receive(ctx, msgs[0]!.fields[1] as Uint8Array, true);
      return null;
    });
    options.link.onPeer((peer) => {
      if (this.stopped) return;
      for (const rec of engine.recentEvidence(PROOFS_TO_NEW_PEER)) if (rec.cert.length > 0) this.sendTo(peer, rec);
    });
    engine.onProof((rec) => this.onAccepted(rec));
    engine.onTick((now) => this.onTick(now));
  }

  stop(): void {
    this.stopped = true;
    this.fresh.clear();
  }

  private onAccepted(rec: StoredEvidence): void {
    // Without the origin's certificate nobody else could check the origin is a member: keep it local.
    if (this.stopped || rec.cert.length === 0) return;
    if (this.fresh.size >= MAX_FRESH) {
      const oldest = this.fresh.keys().next();
      if (!oldest.done) this.fresh.delete(oldest.value);
    }
    this.fresh.set(rec.id, { rec, until: this.o.clock.now() + FRESH_MS });
    this.push(rec);
  }

  private onTick(now: number): void {
    if (this.stopped) return;
    for (const [id, f] of this.fresh) {
      if (f.until <= now) this.fresh.delete(id);
      else this.push(f.rec);
    }
  }

  private push(rec: StoredEvidence): void {
    for (const peer of this.o.selectPeers(this.o.fanout)) {
      if (peer.idHex !== rec.origin) this.sendTo(peer, rec);
    }
  }

  private sendTo(peer: PeerRecord, rec: StoredEvidence): void {
    const wire = this.wireOf(rec);
    const msg = EnvelopeRouter.message(wire);
    if (msg.length <= this.o.link.packetBudget(peer)) {
      this.o.link.send(peer, [msg]);
      return;
    }
    // Never rejects: a failed push is retried by the next tick's push or the next new-peer push.
    void this.o.link.request(peer, [encodeMessage([MessageType.EVIDENCE, wire])], this.o.streamTimeoutMs);
  }

  private wireOf(rec: StoredEvidence): Uint8Array {
    let w = this.wires.get(rec.id);
    if (w === undefined) {
      const id = this.o.link.identity;
      const env = signEnvelope(EnvelopeKind.EVIDENCE, id.nodeId, id.seed, [EVIDENCE_FORMAT, rec.first, rec.second, rec.cert], this.o.backend);
      w = env.bytes;
      // Copies of our own envelope coming back are dropped before any signature check.
      this.o.router.markSeen(Buffer.from(messageId(env)).toString('base64'));
      if (this.wires.size >= MAX_FRESH * 4) this.wires.delete(this.wires.keys().next().value!);
      this.wires.set(rec.id, w);
    }
    return w;
  }
}
