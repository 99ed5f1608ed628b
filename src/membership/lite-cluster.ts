/**
 * A lightweight harness for membership at scale: thousands of nodes in one process, each running
 * the real membership code (Members, FailureDetector, PushPull, TransmitQueue, MemberTable) on the
 * in-memory network and a virtual clock, with real signed claims.
 *
 * Why not SimCluster: a full node keeps link state per peer it knows (certificate, link key,
 * replay window, rate limiter: about 4 KB) and runs every other layer's timers; a cluster of N
 * full nodes holds N² of those. Measured on this machine, 300 full nodes take ~6 minutes of wall
 * time to form, and 1,000 exceed 7 GB before forming. This harness keeps what membership decides
 * and sends, and drops what it does not depend on:
 *
 * kept:  every membership decision, timer and message; claim signatures (real Ed25519, verified
 *        once per process and the verdict shared, like SharedVerifyBackend) and certificate checks;
 *        packet and frame sizes (plaintext + the sealed packet's 92-byte overhead); loss, latency,
 *        partitions and crashes of the in-memory network; the per-packet byte budget.
 * not kept: sealing and link keys (a packet's sender is known from its address, as if
 *        authenticated); the certificate a sealed packet carries on first contact between two nodes
 *        (~210 bytes, once per pair); the link layer's replay windows and rate limits; the envelope
 *        router's seen cache (membership merges are idempotent, so duplicates change nothing, but
 *        they cost a lookup here instead of a hash); every other layer's traffic.
 *
 * Memory: one directory of identities and one object per distinct claim for the whole process
 * (member-table.ts), so each node's table costs about 22 bytes per member.
 */
import { VirtualClock } from '../clock.js';
import { resolveConfig, type HearsayConfig } from '../config.js';
import { fail, ok, type Result } from '../errors.js';
import { createBackend } from '../identity/backends.js';
import { createNodeIdentityInMemory, type NodeIdentity } from '../identity/node-identity.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { createCertificateVerifier } from '../identity/verifier.js';
import { encodeMessage, encodeMessageList, MAX_LIST_HEADER } from '../link/message-list.js';
import type { CertificateVerifier, PeerCertificate } from '../link/peer-certificate.js';
import { CountingGate, type PeerGate } from '../link/peer-gate.js';
import { silentLogger } from '../log.js';
import { MetricsRegistry } from '../metrics.js';
import { SeededRandom } from '../random.js';
import { MemoryNetwork, type LinkConditions } from '../transport/memory-network.js';
import type { MemoryTransport } from '../transport/memory-transport.js';
import { packetLimits, frameLimits, type DecodeLimits } from '../wire/codec.js';
import { decodeBody, parseEnvelope, signEnvelope, verifyEnvelope } from '../wire/envelope.js';
import { decodeMessages, MessageType, type RawMessage } from '../wire/messages.js';
import { packetOverhead } from '../wire/packet.js';
import { bytes, literal, tuple, uint, type Schema } from '../wire/schema.js';
import { randomBytes } from 'node:crypto';
import {
  ACCUSATION_BODY, ALIVE_BODY, CLAIM_ENVELOPE_KINDS, claimFromEnvelope, claimKindOf, envelopeIdKey, LEAVE_BODY,
  type Claim, type ClaimKind,
} from './claims.js';
import type { MembershipEdge, Sender, Target } from './edge.js';
import { SharedDirectory } from './member-table.js';
import { Members } from './members.js';

const OVERHEAD = packetOverhead(0);
const LITE_HELLO_SCHEMA = tuple(literal(MessageType.WELCOME), uint(1));
const ENVELOPE_SCHEMA = tuple(literal(MessageType.ENVELOPE), bytes(1, 65_536));
/** Distinct claims remembered per process before the cache starts over. */
const MAX_CACHED_CLAIMS = 2_000_000;

export interface LiteClusterOptions {
  readonly seed?: number;
  readonly cluster?: string;
  /** Config fields for every node (profile lan). */
  readonly config?: Partial<HearsayConfig>;
  readonly network?: Partial<LinkConditions>;
  /** Expected number of nodes: sizes every member table once. */
  readonly capacity?: number;
}

/** Everything the nodes of one harness share: identities, verified claims, the network. */
class LiteWorld {
  readonly claims = new Map<string, Claim | null>();
  readonly certs = new Map<string, PeerCertificate>();
  readonly byAddress = new Map<string, LiteNode>();
  readonly byId = new Map<string, LiteNode>();
  readonly drops = new Map<string, number>();
  readonly limits: DecodeLimits;
  readonly frame: DecodeLimits;
  /** Real signature and certificate checks done (each distinct claim once). */
  verifications = 0;

  constructor(readonly backend: SignatureBackend, readonly verifier: CertificateVerifier, readonly clock: VirtualClock, maxPacketBytes: number, maxFrameBytes: number) {
    this.limits = packetLimits(maxPacketBytes);
    this.frame = frameLimits(maxFrameBytes);
  }

  drop(reason: string): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  /** The verified claim in `bytes`, or null: checked once per process, like SharedVerifyBackend. */
  claim(bytes: Uint8Array): Claim | null {
    if (bytes.length < 64) return null;
    const key = Buffer.from(bytes.buffer, bytes.byteOffset + bytes.length - 64, 64).toString('base64') + bytes.length;
    const hit = this.claims.get(key);
    if (hit !== undefined) return hit;
    const c = this.verify(bytes);
    if (this.claims.size >= MAX_CACHED_CLAIMS) this.claims.clear();
    this.claims.set(key, c);
    return c;
  }

  private verify(bytes: Uint8Array): Claim | null {
    const env = parseEnvelope(bytes, this.limits);
    if (!env.ok) return null;
    const kind = claimKindOf(env.value.kind);
    if (kind === null) return null;
    const body = decodeBody(env.value, this.limits);
    if (!body.ok) return null;
    const originHex = Buffer.from(env.value.origin).toString('hex');
    let cert: PeerCertificate | undefined;
    if (kind === 'alive') {
      if (!ALIVE_BODY.check(body.value)) return null;
      const r = this.verifier.verify(body.value[2], this.clock.now());
      if (!r.ok || Buffer.compare(r.value.nodeId, env.value.origin) !== 0) return null;
      cert = r.value;
    } else {
      if (!(kind === 'leave' ? LEAVE_BODY : ACCUSATION_BODY).check(body.value)) return null;
      cert = this.certs.get(originHex);
      if (cert === undefined) return null;
    }
    this.verifications++;
    if (!verifyEnvelope(env.value, this.backend)) return null;
    if (kind === 'alive') this.certs.set(originHex, cert);
    return Object.freeze(claimFromEnvelope(kind, env.value, envelopeIdKey(env.value), body.value, kind === 'alive' ? cert : null));
  }
}

class LiteEdge implements MembershipEdge {
  readonly selfId: Uint8Array;
  readonly selfIdHex: string;
  readonly selfCertBytes: Uint8Array;
  readonly selfCert: PeerCertificate;
  readonly claimLimits: DecodeLimits;
  private readonly schemas = new Map<number, Schema<unknown[]>>();
  private readonly handlers = new Map<number, (from: Sender, fields: unknown[]) => void>();
  private readonly requestHandlers = new Map<number, (from: Sender, msgs: RawMessage[]) => Uint8Array[] | null>();
  private claimHandler: (claim: Claim, from: Sender | null) => void = () => {};
  private contactListener: (idHex: string) => void = () => {};
  /** Senders seen at least once (bounded): a first packet is a "contact", as in the link layer. */
  private contacted = new Set<string>();

  constructor(private readonly world: LiteWorld, private readonly identity: NodeIdentity, private readonly transport: MemoryTransport) {
    this.selfId = identity.nodeId;
    this.selfIdHex = Buffer.from(identity.nodeId).toString('hex');
    this.selfCertBytes = identity.certBytes;
    this.selfCert = identity.cert;
    this.claimLimits = world.limits;
    this.schemas.set(MessageType.ENVELOPE, ENVELOPE_SCHEMA as Schema<unknown[]>);
    this.schemas.set(MessageType.WELCOME, LITE_HELLO_SCHEMA as Schema<unknown[]>);
    transport.onPacket((b, from) => this.receive(b, from));
    transport.onRequest((b, from) => this.serve(b, from));
  }

  get address(): string {
    return this.transport.address;
  }

  get maxFrameBytes(): number {
    return this.transport.maxFrameBytes;
  }

  sign(kind: ClaimKind, body: readonly unknown[]): Claim {
    const env = signEnvelope(CLAIM_ENVELOPE_KINDS[kind], this.identity.nodeId, this.identity.seed, body, this.world.backend);
    const claim = this.world.claim(env.bytes);
    if (claim === null) throw new RangeError('lite: own claim failed verification');
    return claim;
  }

  onClaim(handler: (claim: Claim, from: Sender | null) => void): void {
    this.claimHandler = handler;
  }

  onMessage<T extends unknown[]>(type: number, schema: Schema<T>, handler: (from: Sender, fields: T) => void): void {
    this.schemas.set(type, schema as Schema<unknown[]>);
    this.handlers.set(type, handler as (from: Sender, fields: unknown[]) => void);
  }

  onRequest<T extends unknown[]>(type: number, schema: Schema<T>, handler: (from: Sender, messages: RawMessage[]) => Uint8Array[] | null): void {
    this.schemas.set(type, schema as Schema<unknown[]>);
    this.requestHandlers.set(type, handler);
  }

  declare<T extends unknown[]>(type: number, schema: Schema<T>): void {
    this.schemas.set(type, schema as Schema<unknown[]>);
  }

  onContact(listener: (idHex: string) => void): void {
    this.contactListener = listener;
  }

  budget(): number {
    return this.transport.maxPacketBytes - OVERHEAD - MAX_LIST_HEADER;
  }

  send(to: Target, messages: readonly Uint8Array[]): void {
    const address = this.addressOf(to);
    if (address === null || messages.length === 0) return;
    const budget = this.budget();
    let batch: Uint8Array[] = [];
    let size = 0;
    const flush = (): void => {
      if (batch.length === 0) return;
      this.transport.send(address, frameOf(encodeMessageList(batch)));
      batch = [];
      size = 0;
    };
    for (const m of messages) {
      if (m.length > budget) {
        this.world.drop('message-too-large');
        continue;
      }
      if (size + m.length > budget) flush();
      batch.push(m);
      size += m.length;
    }
    flush();
  }

  async request(to: Target, messages: readonly Uint8Array[], timeoutMs: number): Promise<Result<RawMessage[], string>> {
    const address = this.addressOf(to);
    if (address === null) return fail('no-address');
    let response: Uint8Array;
    try {
      response = await this.transport.request(address, frameOf(encodeMessageList(messages)), timeoutMs);
    } catch (e) {
      return fail((e as { code?: string }).code === 'HEARSAY_ERR_TIMEOUT' ? 'timeout' : 'transport');
    }
    const msgs = decodeMessages(response.subarray(OVERHEAD), this.world.frame, this.schemas);
    return msgs.ok ? ok(msgs.value) : fail('malformed');
  }

  hello(address: string): void {
    this.transport.send(address, frameOf(encodeMessageList([encodeMessage([MessageType.WELCOME, 1])])));
  }

  ingest(bytes: Uint8Array, from: Sender): void {
    const claim = this.world.claim(bytes);
    if (claim === null) {
      this.world.drop('invalid-claim');
      return;
    }
    this.claimHandler(claim, from);
  }

  introduce(): void {}

  forget(): void {}

  drop(reason: string): void {
    this.world.drop(reason);
  }

  private addressOf(to: Target): string | null {
    if (typeof to !== 'string') return to.address;
    return this.world.byId.get(to)?.address ?? null;
  }

  private sender(from: string, viaStream: boolean): Sender | null {
    const node = this.world.byAddress.get(from);
    if (node === undefined) return null;
    const idHex = node.idHex;
    if (!this.contacted.has(idHex)) {
      if (this.contacted.size >= 4096) this.contacted.clear();
      this.contacted.add(idHex);
      this.contactListener(idHex);
    }
    return { idHex, viaStream };
  }

  private receive(bytes: Uint8Array, fromAddress: string): void {
    const from = this.sender(fromAddress, false);
    if (from === null) return;
    const msgs = decodeMessages(bytes.subarray(OVERHEAD), this.world.limits, this.schemas);
    if (!msgs.ok) {
      this.world.drop('malformed');
      return;
    }
    for (const m of msgs.value) {
      if (m.type === MessageType.ENVELOPE) this.ingest(m.fields[1] as Uint8Array, from);
      else if (m.type === MessageType.WELCOME) {
        if (m.fields[1] === 1) this.transport.send(fromAddress, frameOf(encodeMessageList([encodeMessage([MessageType.WELCOME, 0])])));
      } else this.handlers.get(m.type)?.(from, m.fields as unknown[]);
    }
  }

  private serve(bytes: Uint8Array, fromAddress: string): Uint8Array | null {
    const from = this.sender(fromAddress, true);
    if (from === null) return null;
    const msgs = decodeMessages(bytes.subarray(OVERHEAD), this.world.frame, this.schemas);
    if (!msgs.ok) return null;
    const h = this.requestHandlers.get(msgs.value[0]!.type);
    const answer = h?.(from, msgs.value) ?? null;
    return answer === null ? null : frameOf(encodeMessageList(answer));
  }
}

/** A plaintext padded with the sealed packet's overhead, so the network counts real sizes. */
function frameOf(plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(OVERHEAD + plaintext.length);
  out.set(plaintext, OVERHEAD);
  return out;
}

export class LiteNode {
  readonly idHex: string;
  readonly members: Members;
  readonly edge: MembershipEdge;

  constructor(readonly name: string, readonly identity: NodeIdentity, readonly transport: MemoryTransport, world: LiteWorld, config: Readonly<HearsayConfig>, seed: number, options: {
    directory: SharedDirectory; metrics: MetricsRegistry; gate: PeerGate; capacity: number; epoch: number;
  }) {
    this.idHex = Buffer.from(identity.nodeId).toString('hex');
    this.edge = new LiteEdge(world, identity, transport);
    this.members = new Members({
      edge: this.edge, clock: world.clock, random: new SeededRandom(seed), gate: options.gate, logger: silentLogger,
      metrics: options.metrics, config, epoch: options.epoch, directory: options.directory, capacityHint: options.capacity,
    });
  }

  get address(): string {
    return this.transport.address;
  }
}

export class LiteCluster {
  readonly clock = new VirtualClock();
  readonly network: MemoryNetwork;
  readonly nodes: LiteNode[] = [];
  readonly metrics = new MetricsRegistry();
  readonly gate = new CountingGate();
  readonly config: Readonly<HearsayConfig>;
  private readonly world: LiteWorld;
  private readonly directory = new SharedDirectory();
  private readonly authoritySeed = new Uint8Array(randomBytes(32));
  private readonly cluster: string;
  private readonly backend: SignatureBackend;
  private readonly seed: number;
  private readonly capacity: number;
  private created = 0;

  constructor(options: LiteClusterOptions = {}) {
    this.seed = options.seed ?? 1;
    this.cluster = options.cluster ?? 'lite';
    this.capacity = options.capacity ?? 64;
    this.backend = createBackend('node');
    this.network = new MemoryNetwork({ clock: this.clock, seed: this.seed, ...options.network });
    const authorityPublicKey = Buffer.from(this.backend.publicKeyOf(this.authoritySeed)).toString('hex');
    this.config = resolveConfig({
      cluster: this.cluster, authorityPublicKey, identityDir: '/nonexistent/lite', dataDir: ':memory:', logLevel: 'silent',
      adminEnabled: false, leaveTimeoutMs: 0, ...options.config,
    });
    this.world = new LiteWorld(this.backend, createCertificateVerifier(this.config, this.backend), this.clock, this.config.maxPacketBytes, this.config.maxFrameBytes);
  }

  /** Creates `n` nodes (not started). `seeds` defaults to none. */
  createNodes(n: number, seeds: readonly string[] = []): LiteNode[] {
    const out: LiteNode[] = [];
    for (let k = 0; k < n; k++) {
      const i = this.created++;
      const name = `lite-${i}`;
      const identity = createNodeIdentityInMemory({ authoritySeed: this.authoritySeed, cluster: this.cluster, name, now: this.clock.now(), backend: this.backend });
      const address = `lite-${i}:7400`;
      const transport = this.network.createTransport(address, { maxPacketBytes: this.config.maxPacketBytes, maxFrameBytes: this.config.maxFrameBytes });
      const config = seeds.length === 0 ? this.config : Object.freeze({ ...this.config, seeds: Object.freeze(seeds.filter((s) => s !== address)) as string[] });
      const node = new LiteNode(name, identity, transport, this.world, config, this.seed * 7919 + i + 1, {
        directory: this.directory, metrics: this.metrics, gate: this.gate, capacity: this.capacity, epoch: this.clock.now(),
      });
      this.world.byAddress.set(address, node);
      this.world.byId.set(node.idHex, node);
      this.nodes.push(node);
      out.push(node);
    }
    return out;
  }

  /** Starts nodes (their transports, then membership). */
  async start(nodes: readonly LiteNode[] = this.nodes): Promise<void> {
    for (const n of nodes) {
      await n.transport.start();
      n.members.start();
    }
  }

  /**
   * A bootstrapped view: every given node holds every other's signed ALIVE, as after a completed
   * join and dissemination. Call after `start` (own claims are signed at start).
   */
  bootstrap(nodes: readonly LiteNode[] = this.nodes): void {
    const claims = nodes.map((n) => n.members.ownClaim!);
    for (const n of nodes) n.members.preload(claims);
  }

  crash(node: LiteNode): void {
    node.members.stop();
    this.network.crash(node.address);
  }

  async run(ms: number, stepMs = 20): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.runUntil(Math.min(end, this.clock.now() + stepMs));
      await flush();
    }
  }

  /** Runs until `predicate` holds (checked every `checkMs`) or `limitMs` pass; virtual ms taken, or -1. */
  async runUntil(predicate: () => boolean, limitMs: number, checkMs = 50, stepMs = 20): Promise<number> {
    const start = this.clock.now();
    let nextCheck = start;
    while (this.clock.now() - start < limitMs) {
      if (this.clock.now() >= nextCheck) {
        if (predicate()) return this.clock.now() - start;
        nextCheck = this.clock.now() + checkMs;
      }
      this.clock.runUntil(Math.min(start + limitMs, this.clock.now() + stepMs));
      await flush();
    }
    return predicate() ? this.clock.now() - start : -1;
  }

  /** Real signature or certificate verifications so far (each distinct claim once per process). */
  get verifications(): number {
    return this.world.verifications;
  }

  drops(): Record<string, number> {
    return Object.fromEntries(this.world.drops);
  }

  stopAll(): void {
    for (const n of this.nodes) n.members.stop();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await Promise.resolve();
}
