/**
 * Membership, walking-skeleton edition: every node signs a heartbeat (its epoch, a sequence number,
 * its address and its certificate) each gossip round and pushes it, with a few others it knows, to
 * `fanout` random peers. A node learns members (and their certificates, hence link keys) from
 * signed heartbeats only, so no node can invent or relocate another.
 *
 * The SWIM failure detector replaces the liveness part of this; the member table and the peer
 * selection API stay.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import type { EnvelopeRouter, VerifiedEnvelope } from '../link/envelope-router.js';
import { EnvelopeRouter as Router } from '../link/envelope-router.js';
import type { LinkLayer, PeerRecord } from '../link/link-layer.js';
import type { PeerGate } from '../link/peer-gate.js';
import type { Logger } from '../log.js';
import { sample, type Random } from '../random.js';
import { signEnvelope, EnvelopeKind } from '../wire/envelope.js';
import { bytes, str, tuple, uint } from '../wire/schema.js';

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface Member {
  readonly id: Uint8Array;
  readonly idHex: string;
  readonly name: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  address: string;
  state: MemberState;
  epoch: number;
  seq: number;
  lastHeard: number;
  /** The latest signed heartbeat, re-gossiped verbatim. */
  heartbeat: Uint8Array;
}

export type MemberEvent = 'join' | 'alive' | 'suspect' | 'dead' | 'leave';

export const HEARTBEAT_BODY = tuple(uint(), uint(), str(300), bytes(1, 1024));

export interface MembersOptions {
  readonly link: LinkLayer;
  readonly router: EnvelopeRouter;
  readonly clock: Clock;
  readonly random: Random;
  readonly backend: SignatureBackend;
  readonly gate: PeerGate;
  readonly logger: Logger;
  readonly epoch: number;
  readonly fanout: number;
  readonly gossipIntervalMs: number;
  readonly maxMembers: number;
  readonly maxClockSkewMs: number;
  /** Heartbeats silent for this long mark a member dead. */
  readonly deadAfterMs: number;
}

export class Members {
  private readonly o: MembersOptions;
  private readonly table = new Map<string, Member>();
  private readonly listeners: Array<(event: MemberEvent, m: Member) => void> = [];
  private seq = 0;
  private timer: TimerHandle | null = null;
  private ownHeartbeat: Uint8Array | null = null;

  constructor(options: MembersOptions) {
    this.o = options;
    options.router.register(EnvelopeKind.HEARTBEAT, HEARTBEAT_BODY, (ve, ctx) => this.onHeartbeat(ve, ctx?.peer ?? null), (origin, body) => {
      // A heartbeat carries its origin's certificate: that is how members learn each other.
      const learned = this.o.link.learnPeer(body[3], null);
      return learned.ok && Buffer.compare(learned.value.id, origin) === 0 ? learned.value.cert : undefined;
    });
    // A new authenticated peer (e.g. a seed that answered our HELLO) gets our heartbeat at once.
    options.link.onPeer((peer) => {
      if (this.ownHeartbeat !== null) this.o.link.send(peer, [Router.message(this.ownHeartbeat)]);
    });
  }

  on(listener: (event: MemberEvent, m: Member) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.beat();
    this.timer = this.o.clock.setInterval(() => this.round(), this.o.gossipIntervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** Members other than this node, in every state. */
  all(): Member[] {
    return [...this.table.values()];
  }

  alive(): Member[] {
    return this.all().filter((m) => m.state === 'alive');
  }

  get(idHex: string): Member | undefined {
    return this.table.get(idHex);
  }

  /** Up to `k` random alive, eligible members reachable through the link layer, minus `exclude`. */
  selectPeers(k: number, exclude: ReadonlySet<string> = new Set(), filter?: (p: PeerRecord) => boolean): PeerRecord[] {
    const candidates: PeerRecord[] = [];
    for (const m of this.table.values()) {
      if (m.state !== 'alive' || exclude.has(m.idHex)) continue;
      const p = this.o.link.peer(m.idHex);
      if (p === undefined || p.address === null) continue;
      if (!this.o.gate.isEligible(p.id) || !this.o.gate.mayGossipTo(p.id)) continue;
      if (filter !== undefined && !filter(p)) continue;
      candidates.push(p);
    }
    return sample(candidates, k, this.o.random);
  }

  private beat(): void {
    const id = this.o.link.identity;
    this.seq += 1;
    const env = signEnvelope(EnvelopeKind.HEARTBEAT, id.nodeId, id.seed, [this.o.epoch, this.seq, this.o.link.address, id.certBytes], this.o.backend);
    this.ownHeartbeat = env.bytes;
  }

  private round(): void {
    this.beat();
    this.expire();
    const peers = this.selectPeers(this.o.fanout);
    // Our heartbeat plus a few others', so membership spreads epidemically.
    const others = sample(this.alive(), this.o.fanout, this.o.random).map((m) => Router.message(m.heartbeat));
    const msgs = [Router.message(this.ownHeartbeat!), ...others];
    for (const p of peers) this.o.link.send(p, msgs);
  }

  private expire(): void {
    const now = this.o.clock.now();
    for (const m of this.table.values()) {
      if (m.state === 'alive' && now - m.lastHeard > this.o.deadAfterMs) {
        m.state = 'dead';
        this.emit('dead', m);
      }
    }
  }

  private onHeartbeat(ve: VerifiedEnvelope, _from: PeerRecord | null): void {
    const [epoch, seq, address, certBytes] = ve.body as [number, number, string, Uint8Array];
    const idHex = Buffer.from(ve.envelope.origin).toString('hex');
    if (idHex === Buffer.from(this.o.link.identity.nodeId).toString('hex')) return;
    if (epoch > this.o.clock.now() + this.o.maxClockSkewMs) {
      this.o.gate.charge(ve.envelope.origin, 'future-timestamp', 'heartbeat epoch');
      return;
    }
    const existing = this.table.get(idHex);
    if (existing !== undefined && (epoch < existing.epoch || (epoch === existing.epoch && seq <= existing.seq))) return;
    // The certificate inside must be the origin's own: the heartbeat is signed by that key.
    const learned = this.o.link.learnPeer(certBytes, address);
    if (!learned.ok || Buffer.compare(learned.value.id, ve.envelope.origin) !== 0) {
      this.o.link.drop('heartbeat-bad-cert');
      return;
    }
    const peer = learned.value;
    peer.address = address;
    const now = this.o.clock.now();
    if (existing === undefined) {
      if (this.table.size >= this.o.maxMembers) {
        this.o.link.drop('members-full');
        return;
      }
      const m: Member = {
        id: peer.id, idHex, name: peer.cert.name, tenant: peer.cert.tenant, roles: peer.cert.roles,
        address, state: 'alive', epoch, seq, lastHeard: now, heartbeat: ve.envelope.bytes,
      };
      this.table.set(idHex, m);
      this.emit('join', m);
      return;
    }
    const wasDead = existing.state !== 'alive';
    existing.epoch = epoch;
    existing.seq = seq;
    existing.address = address;
    existing.lastHeard = now;
    existing.heartbeat = ve.envelope.bytes;
    if (wasDead) {
      existing.state = 'alive';
      this.emit('alive', existing);
    }
  }

  private emit(event: MemberEvent, m: Member): void {
    this.o.logger.info({ peer: m.idHex.slice(0, 12), name: m.name, event }, 'membership change');
    for (const l of this.listeners) l(event, m);
  }
}
