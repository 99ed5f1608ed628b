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
import type { PeerGate } from './link/peer-gate.js';
import { ReputationEngine } from './reputation/engine.js';
import { createLogger, shortId, type Logger } from './log.js';
import { MetricsRegistry } from './metrics.js';
import { Members, type HealthReport, type Member, type MemberEvent } from './membership/members.js';
import { LinkEdge } from './membership/link-edge.js';
import { Broadcast, type Delivery, type PublishOptions } from './dissemination/broadcast.js';
import { Gossip } from './dissemination/gossip.js';
import { AntiEntropy } from './state/anti-entropy.js';
import { KvStore } from './state/kv-store.js';
import { ReplicatedKv, type KvChange, type KvEntry, type WriteReceipt } from './state/replicated-kv.js';
import { cryptoRandom, type Random } from './random.js';
import { fromHex } from './identity/bytes.js';
import type { Authorizer } from './policy/authorizer.js';
import { PolicyEnforcement, revocationAwareGate, revocationAwareVerifier } from './policy/enforcement.js';
import { PolicyGossip } from './policy/policy-gossip.js';
import { PolicyHolder } from './policy/policy-holder.js';
import { createNetTransport } from './transport/net-transport.js';
import type { Transport } from './transport/transport.js';
// Type only: the admin API sits above the node (ARCHITECTURE.md layers) and is loaded on demand in start().
import type { AdminServer } from './admin/server.js';

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
  /** Rises each time the member refutes an accusation; a restart starts from its boot time (membership/claims.ts). */
  readonly incarnation: number;
  readonly self: boolean;
}

export interface NodeEvents {
  join: [MemberView];
  alive: [MemberView];
  suspect: [MemberView];
  dead: [MemberView];
  leave: [MemberView];
  /** This node's view of its own connectivity changed: healthy, degraded or partitioned (membership/health.ts). */
  health: [HealthReport];
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
  gossip: Gossip;
  kv: ReplicatedKv;
  antiEntropy: AntiEntropy;
  policyGossip: PolicyGossip;
  enforcement: PolicyEnforcement;
};

export class Node extends EventEmitter<NodeEvents> {
  readonly config: Readonly<HearsayConfig>;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly backend: SignatureBackend;
  readonly gate: PeerGate;
  /** The reputation engine (the default gate, stored in dataDir), or null when `options.gate` is another gate. */
  readonly reputation: ReputationEngine | null;
  /** Whether this node built its reputation engine (and so closes it on stop). */
  private readonly ownsReputation: boolean;
  /**
   * The signed policy and revocation list in force (src/policy/policy-holder.ts). Other layers get
   * the current Authorizer from `node.authorizer` (or `policy.authorizer`) on each decision.
   */
  readonly policy: PolicyHolder;
  private readonly options: NodeOptions;
  private parts: Parts | null = null;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private admin: AdminServer | null = null;

  constructor(options: NodeOptions) {
    super();
    this.options = options;
    this.config = isResolved(options.config) ? options.config : resolveConfig(options.config);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createLogger({ level: this.config.logLevel });
    this.metrics = options.metrics ?? new MetricsRegistry();
    this.backend = options.backend ?? createBackend(this.config.signatureBackend);
    this.ownsReputation = options.gate === undefined;
    this.gate = options.gate ?? ReputationEngine.fromConfig(this.config, { clock: this.clock, backend: this.backend, metrics: this.metrics, logger: this.logger });
    this.reputation = this.gate instanceof ReputationEngine ? this.gate : null;
    this.policy = new PolicyHolder({
      cluster: this.config.cluster, authorityPublicKey: fromHex(this.config.authorityPublicKey, 32)!, backend: this.backend, clock: this.clock,
      logger: this.logger, metrics: this.metrics, dataDir: this.config.dataDir, policyFile: this.config.policyFile,
      revocationFile: this.config.revocationFile, decisionCacheSize: this.config.policyCacheSize,
      defaults: { packetsPerSecond: this.config.peerPacketsPerSecond, maxMessageBytes: this.config.maxMessageBytes },
    });
  }

  /** The authorization decisions in force: the compiled policy, or the tenant-namespace default before one is adopted. */
  get authorizer(): Authorizer {
    return this.policy.authorizer;
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

  /** The admin API's base URL (`http://127.0.0.1:7401`) while it is listening, else null (adminEnabled false). */
  get adminUrl(): string | null {
    return this.admin?.url ?? null;
  }

  /** The admin API's bound port (useful with adminPort 0), or null. */
  get adminPort(): number | null {
    return this.admin?.port ?? null;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new HearsayError('HEARSAY_ERR_ALREADY_STARTED', 'a node can be started once; create a new Node to restart');
    this.state = 'starting';
    const c = this.config;
    const epoch = this.clock.now();
    // The persisted and configured policy and revocation list, before anything talks to a peer.
    this.policy.loadInitial();
    const identity = this.options.identity ?? loadLocalIdentity(c, this.backend, this.clock.now());
    if (this.policy.isRevoked(identity.cert)) {
      throw new HearsayError('HEARSAY_ERR_CERT_REVOKED', `this node's certificate (serial ${identity.cert.serial}) is revoked by revocation list version ${this.policy.revocationVersion}; start it with its new identity (\`hearsay node rotate\`)`);
    }
    const certificateVerifier = this.options.verifier ?? createCertificateVerifier(c, this.backend);
    const verifier = revocationAwareVerifier(certificateVerifier, this.policy);
    const transport = this.options.transport ?? createNetTransport({
      host: c.bindHost, port: c.bindPort, advertiseHost: c.advertiseHost === '' ? undefined : c.advertiseHost,
      maxPacketBytes: c.maxPacketBytes, maxFrameBytes: c.maxFrameBytes, streamTimeoutMs: c.streamTimeoutMs, logger: this.logger,
    });
    const random = this.options.random ?? cryptoRandom;
    const log = this.logger.child({ node: identity.cert.name, id: shortId(identity.nodeId) });
    const link = new LinkLayer({
      identity, cluster: c.cluster, transport, clock: this.clock, verifier, gate: revocationAwareGate(this.gate, this.policy), metrics: this.metrics, logger: log,
      replayWindow: c.replayWindow, maxClockSkewMs: c.maxClockSkewMs, peerPacketsPerSecond: c.peerPacketsPerSecond,
      hellosPerSecond: c.hellosPerSecond, maxPeers: c.maxMembers + 64, epoch,
      ...(this.options.aead === undefined ? {} : { aead: this.options.aead }),
      ...(this.options.deriveLinkKey === undefined ? {} : { deriveKey: (peer: PeerCertificate) => this.options.deriveLinkKey!(identity, peer) }),
    });
    const router = new EnvelopeRouter({
      link, backend: this.backend, clock: this.clock, gate: this.gate, metrics: this.metrics, seenCacheSize: c.seenCacheSize, seenTtlMs: c.seenTtlMs,
    });
    const members = new Members({
      edge: new LinkEdge(link, router, this.backend, this.gate, c.maxFrameBytes), clock: this.clock, random, gate: this.gate,
      logger: log, metrics: this.metrics, config: c, epoch, peerOf: (idHex) => link.peer(idHex),
    });
    const authorizer = (): Authorizer => this.policy.authorizer;
    const gossip = new Gossip({
      link, router, peers: members, clock: this.clock, gate: this.gate, metrics: this.metrics, fanout: c.fanout, lazyFanout: c.lazyFanout,
      gossipIntervalMs: c.gossipIntervalMs, historyRounds: c.historyRounds, gossipRounds: c.gossipRounds, maxIHaveIds: c.maxIHaveIds,
      maxIWantPerPeerPerRound: c.maxIWantPerPeerPerRound, iwantTimeoutMs: c.iwantTimeoutMs, maxCachedMessages: c.maxCachedMessages,
    });
    const broadcast = new Broadcast({
      link, router, gossip, clock: this.clock, backend: this.backend, gate: this.gate, metrics: this.metrics, authorizer, epoch,
      maxMessageBytes: c.maxMessageBytes, maxClockSkewMs: c.maxClockSkewMs, seenTtlMs: c.seenTtlMs, seenCacheSize: c.seenCacheSize,
      holdbackLimit: c.holdbackLimit, holdbackTimeoutMs: c.holdbackTimeoutMs, maxCausalDeps: c.maxCausalDeps, maxStreams: c.maxMembers,
    });
    const kv = new ReplicatedKv({
      store: KvStore.open(c.dataDir), link, router, gossip, clock: this.clock, backend: this.backend, gate: this.gate, metrics: this.metrics,
      // Certificates of past writers, without the revocation check: revocation is not retroactive for
      // data of superseded or retired keys, and the router's policy check (isDataRevoked on the
      // write's signed time, src/policy/envelope-policy.ts) decides which of their writes stay valid.
      verifier: certificateVerifier, authorizer, maxKeyBytes: c.maxKeyBytes, maxValueBytes: c.maxValueBytes, maxClockSkewMs: c.maxClockSkewMs,
      tombstoneGraceMs: c.tombstoneGraceMs, maxPendingVersions: c.maxPendingVersions, maxOrigins: c.maxMembers,
    });
    const antiEntropy = new AntiEntropy({
      kv, link, router, peers: members, clock: this.clock, gate: this.gate, metrics: this.metrics, logger: log, authorizer,
      intervalMs: c.antiEntropyIntervalMs, timeoutMs: c.streamTimeoutMs, maxFrameBytes: c.maxFrameBytes,
    });
    members.on((event: MemberEvent, m: Member) => this.emit(event, view(m, false)));
    members.onHealth((h) => this.emit('health', h));
    const enforcement = new PolicyEnforcement({ holder: this.policy, link, router, logger: log });
    const policyGossip = new PolicyGossip({
      holder: this.policy, link, router, gate: this.gate, clock: this.clock, logger: log, metrics: this.metrics,
      selectPeers: (k) => members.selectPeers(k), fanout: c.fanout, offerIntervalMs: c.policyOfferIntervalMs,
      requestTimeoutMs: c.streamTimeoutMs, reloadIntervalMs: c.policyReloadIntervalMs,
    });
    this.reputation?.attach({ link, router, verifier, selectPeers: (k) => members.selectPeers(k), fanout: c.fanout, streamTimeoutMs: c.streamTimeoutMs });
    await transport.start();
    this.parts = { identity, transport, link, router, members, broadcast, gossip, kv, antiEntropy, policyGossip, enforcement };
    members.start();
    gossip.start();
    antiEntropy.start();
    policyGossip.start();
    this.state = 'running';
    log.info({ address: transport.address, cluster: c.cluster }, 'node started');
    if (c.adminEnabled) {
      // Loaded only when enabled, so simulations of thousands of nodes never load fastify.
      try {
        const { startAdminServer } = await import('./admin/server.js');
        this.admin = await startAdminServer(this);
      } catch (e) {
        await this.stop();
        throw e;
      }
    }
    this.emit('started');
  }

  async stop(): Promise<void> {
    // The admin API first: no request may reach a layer that is shutting down.
    const admin = this.admin;
    this.admin = null;
    await admin?.close();
    if (this.state !== 'running') {
      this.state = 'stopped';
      if (this.ownsReputation) this.reputation?.close();
      return;
    }
    this.state = 'stopped';
    const p = this.parts!;
    // Graceful leave first (bounded by leaveTimeoutMs), while every other layer still runs.
    await p.members.leave();
    p.policyGossip.stop();
    p.members.stop();
    p.gossip.stop();
    p.antiEntropy.stop();
    p.link.stop();
    await p.transport.close();
    p.kv.close();
    if (this.ownsReputation) this.reputation?.close();
    this.emit('stopped');
  }

  /** Publishes to a topic; `options.order` asks subscribers for 'none' (default), 'fifo' or 'causal' delivery. Returns the message id. */
  publish(topic: string, data: Uint8Array | string, options: PublishOptions = {}): string {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return this.running().broadcast.publish(topic, bytes, options);
  }

  /**
   * Replicated key/value state (last writer wins by hybrid logical clock). `set` and `delete`
   * resolve once the signed write is committed to this node's store (fsynced), then it spreads.
   */
  get kv(): {
    set(key: string, value: Uint8Array | string): Promise<WriteReceipt>;
    delete(key: string): Promise<WriteReceipt>;
    get(key: string): Uint8Array | undefined;
    list(prefix: string, limit?: number): KvEntry[];
    watch(prefix: string, handler: (change: KvChange) => void): () => void;
  } {
    const kv = this.running().kv;
    return {
      set: (key, value) => kv.set(key, value),
      delete: (key) => kv.delete(key),
      get: (key) => kv.get(key),
      list: (prefix, limit) => kv.list(prefix, limit),
      watch: (prefix, handler) => kv.watch(prefix, handler),
    };
  }

  subscribe(topic: string, handler: (d: Delivery) => void): () => void {
    return this.running().broadcast.subscribe(topic, handler);
  }

  /** This node and every member it knows, with their certificate's name, tenant and roles. */
  members(): MemberView[] {
    const p = this.running();
    const self: MemberView = {
      id: Buffer.from(p.identity.nodeId).toString('hex'), name: p.identity.cert.name, tenant: p.identity.cert.tenant,
      roles: p.identity.cert.roles, address: p.transport.address, state: 'alive', incarnation: p.members.incarnation, self: true,
    };
    // Revoked members are gone at once, not when their heartbeats time out.
    return [self, ...p.members.all().filter((m) => !this.policy.isNodeRevoked(m.idHex)).map((m) => view(m, false))];
  }

  /** This node's connectivity as membership sees it (membership/health.ts). */
  health(): HealthReport {
    return this.running().members.health();
  }

  private running(): Parts {
    if (this.parts === null || this.state === 'stopped') {
      throw new HearsayError(this.state === 'stopped' ? 'HEARSAY_ERR_STOPPED' : 'HEARSAY_ERR_NOT_STARTED', `node is ${this.state === 'stopped' ? 'stopped' : 'not started'}`);
    }
    return this.parts;
  }
}

function view(m: Member, self: boolean): MemberView {
  return { id: m.idHex, name: m.name, tenant: m.tenant, roles: m.roles, address: m.address, state: m.state, incarnation: m.incarnation, self };
}

function isResolved(c: NodeOptions['config']): c is Readonly<HearsayConfig> {
  return Object.isFrozen(c) && typeof (c as HearsayConfig).fanout === 'number' && typeof (c as HearsayConfig).probeIntervalMs === 'number';
}

export function createNode(options: NodeOptions): Node {
  return new Node(options);
}
