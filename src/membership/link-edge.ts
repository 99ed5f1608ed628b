/**
 * The membership edge of a real node: claims travel as signed envelopes through the envelope
 * router (dedup before any signature check, then signature, then policy), messages as sealed
 * packets and stream frames through the link layer.
 */
import type { Result } from '../errors.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { EnvelopeRouter, type VerifiedEnvelope } from '../link/envelope-router.js';
import type { LinkLayer, MessageContext, PeerRecord } from '../link/link-layer.js';
import type { PeerCertificate } from '../link/peer-certificate.js';
import type { PeerGate } from '../link/peer-gate.js';
import { packetLimits, type DecodeLimits } from '../wire/codec.js';
import { signEnvelope } from '../wire/envelope.js';
import type { RawMessage } from '../wire/messages.js';
import type { Schema } from '../wire/schema.js';
import { ACCUSATION_BODY, ALIVE_BODY, CLAIM_ENVELOPE_KINDS, claimFromEnvelope, envelopeIdKey, LEAVE_BODY, type AliveBody, type Claim, type ClaimKind } from './claims.js';
import type { MembershipEdge, Sender, Target } from './edge.js';

interface LinkSender extends Sender {
  readonly ctx: MessageContext;
}

export class LinkEdge implements MembershipEdge {
  readonly selfId: Uint8Array;
  readonly selfIdHex: string;
  readonly selfCertBytes: Uint8Array;
  readonly selfCert: PeerCertificate;
  readonly claimLimits: DecodeLimits;
  private claimHandler: (claim: Claim, from: Sender | null) => void = () => {};

  constructor(
    private readonly link: LinkLayer,
    private readonly router: EnvelopeRouter,
    private readonly backend: SignatureBackend,
    gate: PeerGate,
    readonly maxFrameBytes: number,
  ) {
    const id = link.identity;
    this.selfId = id.nodeId;
    this.selfIdHex = Buffer.from(id.nodeId).toString('hex');
    this.selfCertBytes = id.certBytes;
    this.selfCert = id.cert;
    this.claimLimits = packetLimits(link.maxPacketBytes);
    const deliver = (kind: ClaimKind) => (ve: VerifiedEnvelope, ctx: MessageContext | null): void => {
      const claim = claimFromEnvelope(kind, ve.envelope, ve.idKey, ve.body, kind === 'alive' ? ve.originCert : null);
      this.claimHandler(claim, ctx === null ? null : sender(ctx));
    };
    // An ALIVE carries its signer's certificate: the origin is resolved from the claim itself, and
    // the certificate must be the signer's own (its node id is the signing key).
    router.register(CLAIM_ENVELOPE_KINDS.alive, ALIVE_BODY, (ve, ctx) => {
      // The signature was checked against the signer's own certificate; the one inside must be it too.
      if (!this.certIsOrigin(ve.body[2] as Uint8Array, ve.envelope.origin)) {
        link.drop('alive-foreign-certificate');
        gate.charge(ve.envelope.origin, 'malformed', 'ALIVE claim carrying another node\'s certificate');
        return;
      }
      deliver('alive')(ve, ctx);
    }, (origin, body: AliveBody) => {
      const learned = link.learnPeer(body[2], null);
      if (learned.ok && Buffer.compare(learned.value.id, origin) === 0) return learned.value.cert;
      // Not the signer's certificate: check the signature against the signer's own (if known), so
      // that the claim is charged to whoever signed it.
      return link.peer(origin)?.cert;
    });
    router.register(CLAIM_ENVELOPE_KINDS.suspect, ACCUSATION_BODY, deliver('suspect'));
    router.register(CLAIM_ENVELOPE_KINDS.dead, ACCUSATION_BODY, deliver('dead'));
    router.register(CLAIM_ENVELOPE_KINDS.leave, LEAVE_BODY, deliver('leave'));
  }

  get address(): string {
    return this.link.address;
  }

  sign(kind: ClaimKind, body: readonly unknown[]): Claim {
    const id = this.link.identity;
    const env = signEnvelope(CLAIM_ENVELOPE_KINDS[kind], id.nodeId, id.seed, body, this.backend);
    const idKey = envelopeIdKey(env);
    this.router.markSeen(idKey);
    return claimFromEnvelope(kind, env, idKey, body, kind === 'alive' ? id.cert : null);
  }

  onClaim(handler: (claim: Claim, from: Sender | null) => void): void {
    this.claimHandler = handler;
  }

  onMessage<T extends unknown[]>(type: number, schema: Schema<T>, handler: (from: Sender, fields: T) => void): void {
    this.link.on(type, schema, (ctx, msg) => handler(sender(ctx), msg.fields as T));
  }

  onRequest<T extends unknown[]>(type: number, schema: Schema<T>, handler: (from: Sender, messages: RawMessage[]) => Uint8Array[] | null): void {
    this.link.onRequest(type, schema, (ctx, msgs) => handler(sender(ctx), msgs));
  }

  declare<T extends unknown[]>(type: number, schema: Schema<T>): void {
    this.link.declare(type, schema);
  }

  onContact(listener: (idHex: string) => void): void {
    this.link.onPeer((peer) => listener(peer.idHex));
  }

  budget(to: Target): number {
    const peer = this.peerFor(to);
    return peer === null ? 0 : this.link.packetBudget(peer);
  }

  send(to: Target, messages: readonly Uint8Array[]): void {
    const peer = this.peerFor(to);
    if (peer === null) return;
    this.link.send(peer, messages);
  }

  async request(to: Target, messages: readonly Uint8Array[], timeoutMs: number): Promise<Result<RawMessage[], string>> {
    const peer = this.peerFor(to);
    if (peer === null) return { ok: false, reason: 'unknown-peer' };
    return this.link.request(peer, messages, timeoutMs);
  }

  hello(address: string): void {
    this.link.hello(address);
  }

  ingest(bytes: Uint8Array, from: Sender): void {
    let ctx: MessageContext | null = (from as Partial<LinkSender>).ctx ?? null;
    if (ctx === null) {
      // A push-pull response: the link layer authenticated it as coming from the peer we asked.
      const peer = this.link.peer(from.idHex);
      if (peer !== undefined && peer.address !== null) ctx = { peer, from: peer.address, viaStream: true };
    }
    this.router.receive(ctx, bytes);
  }

  introduce(claim: Claim): void {
    const peer = this.peerFor(claim);
    // The address a member signed wins over where its last packet came from: the packet's source
    // may be a NAT or an old address, the claim is its own statement.
    if (peer !== null) peer.address = claim.address;
  }

  forget(idHex: string): void {
    this.link.forgetPeer(Buffer.from(idHex, 'hex'));
  }

  drop(reason: string): void {
    this.link.drop(reason);
  }

  private certIsOrigin(certBytes: Uint8Array, origin: Uint8Array): boolean {
    const learned = this.link.learnPeer(certBytes, null);
    return learned.ok && Buffer.compare(learned.value.id, origin) === 0;
  }

  private peerFor(claim: Target): PeerRecord | null {
    if (typeof claim === 'string') return this.link.peer(claim) ?? null;
    const known = this.link.peer(claim.subjectHex);
    if (known !== undefined) {
      if (known.address === null) known.address = claim.address;
      return known;
    }
    if (claim.certBytes === null) return null;
    const learned = this.link.learnPeer(claim.certBytes, claim.address);
    return learned.ok ? learned.value : null;
  }
}

function sender(ctx: MessageContext): LinkSender {
  return { idHex: ctx.peer.idHex, viaStream: ctx.viaStream, ctx };
}
