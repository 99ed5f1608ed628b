/**
 * One Hearsay node, wired together: identity, transport, link layer, envelope router, membership
 * and dissemination. Everything with I/O or time comes in through `NodeOptions` (transport, clock,
 * randomness, logger, signature backend, reputation gate), so the same class runs as a daemon over
 * UDP/TCP and by the thousand in the in-memory network.
 */
import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from './clock.js';
import { resolveConfig, type HearsayConfig } from './config.js';
import { HearsayError } from './errors.js';
import { createBackend } from './identity/backends.js';
import type { SignatureBackend } from './identity/signature-backend.js';
import { loadLocalIdentity, createCertificateVerifier } from './identity/verifier.js';
import { EnvelopeRouter } from './link/envelope-router.js';
import { LinkLayer } from './link/link-layer.js';
import type { CertificateVerifier, LocalIdentity, PeerCertificate } from './link/peer-certificate.js';
import type { Aead } from './wire/seal.js';
import { CountingGate, type PeerGate } from './link/peer-gate.js';
import { createLogger, shortId, type Logger } from './log.js';
import { MetricsRegistry } from './metrics.js';
import { Members, type Member, type MemberEvent } from './membership/members.js';
import { Broadcast, type Delivery } from './dissemination/broadcast.js';
import { cryptoRandom, type Random } from './random.js';
import { createNetTransport } from './transport/net-transport.js';
import type { Transport } from './transport/transport.js';

export interface NodeOptions {
  /** A validated config, or raw fields to validate. */
  readonly config: Readonly<HearsayConfig> | Record<string, unknown>;
  /** Defaults to the keys in `config.identityDir`. */
  readonly identity?: LocalIdentity;
  readonly verifier?: CertificateVerifier;
  /** Defaults to UDP+TCP on `config.bindHost:bindPort`. */
  readonly transport?: Transport;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
  readonly backend?: SignatureBackend;
  readonly gate?: PeerGate;
  readonly metrics?: MetricsRegistry;
  /** Simulation only (src/sim/): another AEAD and a shared link-key cache. Never set by config. */
  readonly aead?: Aead;
  readonly deriveLinkKey?: (self: LocalIdentity, peer: PeerCertificate) => Uint8Array | null;
}

export interface MemberView {
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly address: string;
  readonly state: Member['state'];
  readonly self: boolean;
}

export interface NodeEvents {
  join: [MemberView];
  alive: [MemberView];
  suspect: [MemberView];
  dead: [MemberView];
  leave: [MemberView];
  started: [];
  stopped: [];
}

type Parts = {
  identity: LocalIdentity;
  transport: Transport;
  link: LinkLayer;
  router: EnvelopeRouter;
  members: Members;
  broadcast: Broadcast;
};

export class Node extends EventEmitter<NodeEvents> {
  readonly config: Readonly<HearsayConfig>;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly backend: SignatureBackend;
  readonly gate: PeerGate;
  private readonly options: NodeOptions;
  private parts: Parts | null = null;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private seedTimer: { cancel(): void } | null = null;

  constructor(options: NodeOptions) {
    super();
    this.options = options;
    this.config = isResolved(options.config) ? options.config : resolveConfig(options.config);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createLogger({ level: this.config.logLevel });
    this.metrics = options.metrics ?? new MetricsRegistry();
    this.backend = options.backend ?? createBackend(this.config.signatureBackend);
    this.gate = options.gate ?? new CountingGate();
  }

  /** This node's id (hex Ed25519 public key); available after start(). */
  get id(): string {
    return Buffer.from(this.running().identity.nodeId).toString('hex');
  }

  get name(): string {
    return this.running().identity.cert.name;
  }

  get address(): string {
    return this.running().transport.address;
  }

  /** Internals for tests, benchmarks and the admin API. */
  get internals(): Parts {
    return this.running();
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new HearsayError('HEARSAY_ERR_ALREADY_STARTED', 'a node can be started once; create a new Node to restart');
    this.state = 'starting';
    const c = this.config;
    const epoch = this.clock.now();
    const identity = this.options.identity ?? loadLocalIdentity(c, this.backend, this.clock.now());
    const verifier = this.options.verifier ?? createCertificateVerifier(c, this.backend);
    const transport = this.options.transport ?? createNetTransport({
      host: c.bindHost, port: c.bindPort, advertiseHost: c.advertiseHost === '' ? undefined : c.advertiseHost,
      maxPacketBytes: c.maxPacketBytes, maxFrameBytes: c.maxFrameBytes, streamTimeoutMs: c.streamTimeoutMs, logger: this.logger,
    });
    const random = this.options.random ?? cryptoRandom;
    const log = this.logger.child({ node: identity.cert.name, id: shortId(identity.nodeId) });
    const link = new LinkLayer({
      identity, cluster: c.cluster, transport, clock: this.clock, verifier, gate: this.gate, metrics: this.metrics, logger: log,
      replayWindow: c.replayWindow, maxClockSkewMs: c.maxClockSkewMs, peerPacketsPerSecond: c.peerPacketsPerSecond,
      hellosPerSecond: c.hellosPerSecond, maxPeers: c.maxMembers + 64, epoch,
      ...(this.options.aead === undefined ? {} : { aead: this.options.aead }),
      ...(this.options.deriveLinkKey === undefined ? {} : { deriveKey: (peer: PeerCertificate) => this.options.deriveLinkKey!(identity, peer) }),
    });
    const router = new EnvelopeRouter({
      link, backend: this.backend, clock: this.clock, gate: this.gate, metrics: this.metrics, seenCacheSize: c.seenCacheSize, seenTtlMs: c.seenTtlMs,
    });
    const members = new Members({
      link, router, clock: this.clock, random, backend: this.backend, gate: this.gate, logger: log, epoch,
      fanout: c.fanout, gossipIntervalMs: c.gossipIntervalMs, maxMembers: c.maxMembers, maxClockSkewMs: c.maxClockSkewMs,
      deadAfterMs: c.probeIntervalMs * c.suspicionMult * 4,
    });
    const broadcast = new Broadcast({
      link, router, members, clock: this.clock, backend: this.backend, gate: this.gate, fanout: c.fanout,
      maxMessageBytes: c.maxMessageBytes, maxClockSkewMs: c.maxClockSkewMs, seenTtlMs: c.seenTtlMs,
    });
    members.on((event: MemberEvent, m: Member) => this.emit(event, view(m, false)));
    await transport.start();
    this.parts = { identity, transport, link, router, members, broadcast };
    members.start();
    this.contactSeeds();
    this.seedTimer = this.clock.setInterval(() => {
      if (members.alive().length === 0) this.contactSeeds();
    }, c.reconnectIntervalMs);
    this.state = 'running';
    log.info({ address: transport.address, cluster: c.cluster }, 'node started');
    this.emit('started');
  }

  async stop(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopped';
    const p = this.parts!;
    this.seedTimer?.cancel();
    p.members.stop();
    p.link.stop();
    await p.transport.close();
    this.emit('stopped');
  }

  publish(topic: string, data: Uint8Array | string): string {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return this.running().broadcast.publish(topic, bytes);
  }

  subscribe(topic: string, handler: (d: Delivery) => void): () => void {
    return this.running().broadcast.subscribe(topic, handler);
  }

  /** This node and every member it knows, with their certificate's name, tenant and roles. */
  members(): MemberView[] {
    const p = this.running();
    const self: MemberView = {
      id: Buffer.from(p.identity.nodeId).toString('hex'), name: p.identity.cert.name, tenant: p.identity.cert.tenant,
      roles: p.identity.cert.roles, address: p.transport.address, state: 'alive', self: true,
    };
    return [self, ...p.members.all().map((m) => view(m, false))];
  }

  private contactSeeds(): void {
    const p = this.parts!;
    for (const s of this.config.seeds) if (s !== p.transport.address) p.link.hello(s);
  }

  private running(): Parts {
    if (this.parts === null || this.state === 'stopped') {
      throw new HearsayError(this.state === 'stopped' ? 'HEARSAY_ERR_STOPPED' : 'HEARSAY_ERR_NOT_STARTED', `node is ${this.state === 'stopped' ? 'stopped' : 'not started'}`);
    }
    return this.parts;
  }
}

function view(m: Member, self: boolean): MemberView {
  return { id: m.idHex, name: m.name, tenant: m.tenant, roles: m.roles, address: m.address, state: m.state, self };
}

function isResolved(c: NodeOptions['config']): c is Readonly<HearsayConfig> {
  return Object.isFrozen(c) && typeof (c as HearsayConfig).fanout === 'number' && typeof (c as HearsayConfig).probeIntervalMs === 'number';
}

export function createNode(options: NodeOptions): Node {
  return new Node(options);
}
