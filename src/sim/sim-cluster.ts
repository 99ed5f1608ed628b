/**
 * A whole cluster in one process: real `Node`s with real keys, certificates, sealing and
 * signatures, connected by the in-memory network on a virtual clock. Tests and benchmarks use it
 * to run minutes of protocol time for thousands of nodes deterministically (up to the wall-clock
 * CSPRNG used for keys and nonces, which never changes protocol decisions).
 */
import { randomBytes } from 'node:crypto';
import { VirtualClock } from '../clock.js';
import { resolveConfig, type HearsayConfig } from '../config.js';
import { createBackend } from '../identity/backends.js';
import { createNodeIdentityInMemory, type NodeIdentity } from '../identity/node-identity.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { createCertificateVerifier } from '../identity/verifier.js';
import type { PeerGate } from '../link/peer-gate.js';
import { silentLogger, type Logger } from '../log.js';
import { Node } from '../node.js';
import { SeededRandom } from '../random.js';
import { MemoryNetwork, type LinkConditions } from '../transport/memory-network.js';
import type { Aead } from '../wire/seal.js';
import { SharedLinkKeys, SharedVerifyBackend, simAead } from './fast-crypto.js';

export interface SimClusterOptions {
  readonly seed?: number;
  readonly cluster?: string;
  /** Config fields applied to every node (profile defaults to lan). */
  readonly config?: Partial<HearsayConfig>;
  readonly network?: Partial<LinkConditions>;
  readonly logger?: Logger;
  readonly backend?: SignatureBackend;
  /**
   * Simulation accelerators for large clusters (src/sim/fast-crypto.ts): signatures verified once
   * per process, link keys derived once per pair, and an authenticating but non-encrypting AEAD.
   * Off by default, so small simulations run the production crypto end to end.
   */
  readonly fastCrypto?: boolean;
  /** Builds the reputation gate of each node (defaults to the node's own). */
  readonly gate?: (name: string) => PeerGate | undefined;
}

export interface SimNodeSpec {
  readonly name: string;
  readonly tenant?: string;
  readonly roles?: readonly string[];
  readonly config?: Partial<HearsayConfig>;
  /** Seed addresses; defaults to the first node's address. */
  readonly seeds?: readonly string[];
  /** An existing identity (a restart, or a rotated key) instead of a fresh one. */
  readonly identity?: NodeIdentity;
  /** Reuse this in-memory address (a restarted process); its previous transport must be stopped. */
  readonly address?: string;
  /** Another AEAD for this node only, e.g. one that records what it opens (tests of what a node can read). */
  readonly aead?: Aead;
}

export class SimCluster {
  readonly clock: VirtualClock;
  readonly network: MemoryNetwork;
  readonly authoritySeed: Uint8Array;
  readonly authorityPublicKey: string;
  readonly backend: SignatureBackend;
  readonly cluster: string;
  readonly nodes: Node[] = [];
  private readonly o: SimClusterOptions;
  private rngSeed: number;

  constructor(options: SimClusterOptions = {}) {
    this.o = options;
    this.clock = new VirtualClock();
    this.rngSeed = options.seed ?? 1;
    this.network = new MemoryNetwork({ clock: this.clock, seed: this.rngSeed, ...options.network });
    const real = options.backend ?? createBackend('node');
    this.backend = options.fastCrypto === true ? new SharedVerifyBackend(real) : real;
    this.authoritySeed = new Uint8Array(randomBytes(32));
    this.authorityPublicKey = Buffer.from(this.backend.publicKeyOf(this.authoritySeed)).toString('hex');
    this.cluster = options.cluster ?? 'sim';
    this.linkKeys = options.fastCrypto === true ? new SharedLinkKeys(this.cluster) : null;
  }

  private readonly linkKeys: SharedLinkKeys | null;

  /** The base config every node gets (before per-node overrides). */
  baseConfig(extra: Partial<HearsayConfig> = {}): Readonly<HearsayConfig> {
    return resolveConfig({
      cluster: this.cluster,
      authorityPublicKey: this.authorityPublicKey,
      identityDir: '/nonexistent/sim',
      dataDir: ':memory:',
      logLevel: 'silent',
      adminEnabled: false,
      // A graceful leave waits on the node's clock for acknowledgements; on a virtual clock nothing
      // advances while a test awaits stop(), so simulated nodes send their leave and do not wait.
      // Tests of the wait set it and stop through `stopNode`, which advances the clock meanwhile.
      leaveTimeoutMs: 0,
      ...this.o.config,
      ...extra,
    });
  }

  /** Creates (does not start) a node with a fresh identity and an in-memory transport. */
  createNode(spec: SimNodeSpec): Node {
    const identity = spec.identity ?? createNodeIdentityInMemory({
      authoritySeed: this.authoritySeed,
      cluster: this.cluster,
      name: spec.name,
      tenant: spec.tenant ?? 'default',
      roles: spec.roles ?? [],
      now: this.clock.now(),
      backend: this.backend,
    });
    const seeds = spec.seeds ?? (this.nodes[0] !== undefined ? [this.nodes[0].config.seeds[0] ?? this.addressOf(0)] : []);
    const config = this.baseConfig({ ...spec.config, seeds: [...seeds] });
    // Host-style names so addresses pass the same config validation as real ones.
    const transport = this.network.createTransport(spec.address ?? `sim-${this.nodes.length}:7400`, { maxPacketBytes: config.maxPacketBytes, maxFrameBytes: config.maxFrameBytes });
    const gate = this.o.gate?.(spec.name);
    const node = new Node({
      config,
      identity,
      verifier: createCertificateVerifier(config, this.backend),
      transport,
      clock: this.clock,
      random: new SeededRandom(this.rngSeed * 7919 + this.nodes.length + 1),
      logger: this.o.logger ?? silentLogger,
      backend: this.backend,
      ...(gate === undefined ? {} : { gate }),
      ...(this.linkKeys === null ? {} : { aead: simAead, deriveLinkKey: (self, peer) => this.linkKeys!.derive(self, peer) }),
      ...(spec.aead === undefined ? {} : { aead: spec.aead }),
    });
    this.nodes.push(node);
    this.specs.set(node, { ...spec, identity, address: transport.address });
    return node;
  }

  private readonly specs = new Map<Node, SimNodeSpec>();

  /**
   * Stops `node` and starts a new Node in its place: same identity, config and address (so the
   * same dataDir, if the test gave it one), like a restarted process. `changes` may swap the
   * identity (a rotated key) or config fields. The new node replaces the old one in `nodes`.
   */
  async restart(node: Node, changes: Partial<SimNodeSpec> = {}): Promise<Node> {
    const spec = this.specs.get(node);
    if (spec === undefined) throw new RangeError('SimCluster.restart: not a node of this cluster');
    if (node.isRunning) await node.stop();
    const index = this.nodes.indexOf(node);
    const next = this.createNode({ ...spec, ...changes, config: { ...spec.config, ...changes.config }, seeds: changes.seeds ?? node.config.seeds });
    this.nodes.pop();
    this.nodes[index] = next;
    await next.start();
    return next;
  }

  /** Creates and starts `n` nodes named `prefix-0 … prefix-(n-1)`; the first is everyone's seed. */
  async startNodes(n: number, prefix = 'node', spec: Omit<SimNodeSpec, 'name'> = {}): Promise<Node[]> {
    const created: Node[] = [];
    for (let i = 0; i < n; i++) {
      const node = this.createNode({ ...spec, name: `${prefix}-${this.nodes.length}` });
      await node.start();
      created.push(node);
    }
    return created;
  }

  addressOf(index: number): string {
    return this.nodes[index]!.address;
  }

  /** Advances virtual time in steps, letting promise callbacks (stream requests) run between steps. */
  async run(ms: number, stepMs = 10): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.runUntil(Math.min(end, this.clock.now() + stepMs));
      await flushMicrotasks();
    }
  }

  /** Runs until `predicate` holds or `limitMs` of virtual time pass; returns the virtual ms it took, or -1. */
  async runUntil(predicate: () => boolean, limitMs: number, stepMs = 10): Promise<number> {
    const start = this.clock.now();
    const end = start + limitMs;
    while (this.clock.now() < end) {
      if (predicate()) return this.clock.now() - start;
      this.clock.runUntil(Math.min(end, this.clock.now() + stepMs));
      await flushMicrotasks();
    }
    return predicate() ? this.clock.now() - start : -1;
  }

  /** Stops one node while advancing virtual time, so waits on the clock (a graceful leave) can end. */
  async stopNode(node: Node, stepMs = 10): Promise<void> {
    let done = false;
    const stopping = node.stop().then(() => { done = true; });
    // Bounded: the leave wait is at most leaveTimeoutMs of virtual time.
    const limit = this.clock.now() + node.config.leaveTimeoutMs + 10 * stepMs;
    while (!done && this.clock.now() < limit) {
      this.clock.runUntil(this.clock.now() + stepMs);
      await flushMicrotasks();
    }
    await stopping;
  }

  async stopAll(): Promise<void> {
    for (const n of this.nodes) if (n.isRunning) await n.stop();
  }
}

/** Lets queued promise callbacks run (several turns, for chains of awaits). */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 3; i++) await Promise.resolve();
}
