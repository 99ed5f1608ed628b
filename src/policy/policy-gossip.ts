/**
 * How signed policy documents and revocation lists reach every node: push-pull anti-entropy of
 * version numbers, with the documents themselves pulled over a stream.
 *
 *   POLICY_OFFER    [14, policyVersion, revocationVersion]   packet, to a peer
 *   POLICY_FETCH    [15, kind]                               stream request (kind 8 or 9)
 *   POLICY_DOCUMENT [16, envelope bytes]                     its answer
 *
 * - A node offers its versions to `fanout` random peers every `offerIntervalMs`, to every peer
 *   that authenticates for the first time (late joiners and restarted nodes catch up at once), and
 *   to `fanout` peers the moment it adopts a new version (eager push of the offer).
 * - A node offered a higher version fetches the envelope from the offerer and hands it to the
 *   envelope router, which verifies the authority's signature (resolveOrigin maps the authority key
 *   to a pseudo-certificate; any other origin is unknown and dropped). The holder then applies the
 *   adoption rules. Relays are never trusted: a document is adopted for its signature alone.
 * - A node offered a lower version answers with its own offer, so the peer pulls (push-pull).
 *
 * Documents do not fit a 1400-byte datagram, hence the pull over a stream; offers do.
 *
 * Abuse: an offer costs the receiver at most one fetch per kind at a time. A peer that offers a
 * version and then serves nothing, something unsigned or an older version is charged
 * 'broken-promise' and its offers are ignored for a while; one that pushes an old signed version
 * at us unasked is charged 'replay'.
 *
 * Spread bound: see `spreadBoundMs`.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { EnvelopeRouter, VerifiedEnvelope } from '../link/envelope-router.js';
import type { LinkLayer, MessageContext, PeerRecord } from '../link/link-layer.js';
import type { PeerCertificate } from '../link/peer-certificate.js';
import type { PeerGate } from '../link/peer-gate.js';
import { BoundedCache } from '../link/bounded-cache.js';
import { encodeMessage } from '../link/message-list.js';
import type { Logger } from '../log.js';
import type { Counter, MetricsRegistry } from '../metrics.js';
import { EnvelopeKind } from '../wire/envelope.js';
import { MessageType } from '../wire/messages.js';
import { bytes, literal, oneOf, tuple, uint } from '../wire/schema.js';
import { MAX_POLICY_BYTES } from './policy-document.js';
import type { PolicyHolder } from './policy-holder.js';
import { openPolicy, openRevocation, POLICY_BODY, REVOCATION_BODY } from './signed-documents.js';

/** A signed revocation list of MAX_REVOCATION_ENTRIES encodes to about 400 KiB; policies are smaller. */
const MAX_DOCUMENT_ENVELOPE_BYTES = 1 << 20;

export const POLICY_OFFER_SCHEMA = tuple(literal(MessageType.POLICY_OFFER), uint(), uint());
export const POLICY_FETCH_SCHEMA = tuple(literal(MessageType.POLICY_FETCH), oneOf([EnvelopeKind.POLICY, EnvelopeKind.REVOCATION]));
export const POLICY_DOCUMENT_SCHEMA = tuple(literal(MessageType.POLICY_DOCUMENT), bytes(0, Math.max(MAX_DOCUMENT_ENVELOPE_BYTES, MAX_POLICY_BYTES + 1024)));

export interface PolicyGossipOptions {
  readonly holder: PolicyHolder;
  readonly link: LinkLayer;
  readonly router: EnvelopeRouter;
  readonly gate: PeerGate;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Up to k random live peers to offer to (the membership layer's peer selection). */
  readonly selectPeers: (k: number) => PeerRecord[];
  readonly fanout: number;
  readonly offerIntervalMs: number;
  readonly requestTimeoutMs: number;
  /** How often the configured policyFile / revocationFile are checked for a new version; 0 = never. */
  readonly reloadIntervalMs: number;
}

type DocKind = typeof EnvelopeKind.POLICY | typeof EnvelopeKind.REVOCATION;

/**
 * High-probability bound on the time for a version adopted by one node to be adopted by all `n`
 * nodes, with every node up and reachable.
 *
 * Push-pull with `f` partners per round multiplies the informed set by about 1 + 2f per round
 * while it is small, then the uninformed fraction q falls to about q^(f+1)·e^(−f) per round
 * (Karp et al., "Randomized rumor spreading", 2000, for f = 1). ⌈log_{f+1} n⌉ rounds cover the
 * first phase even without the pull, three more take the uninformed fraction below 1/n² for
 * f ≥ 2 and n ≤ 10^6; each round is one offer interval plus, for nodes that must pull, one fetch
 * (bounded by the stream timeout). Eager offers on adoption usually make it much faster than this.
 */
export function spreadBoundMs(n: number, o: { fanout: number; offerIntervalMs: number; requestTimeoutMs: number }): number {
  const f = Math.max(1, o.fanout);
  const rounds = Math.ceil(Math.log(Math.max(2, n)) / Math.log(f + 1)) + 3;
  return rounds * o.offerIntervalMs + 2 * o.requestTimeoutMs;
}

export class PolicyGossip {
  private readonly o: PolicyGossipOptions;
  private readonly inFlight = new Set<DocKind>();
  /** Peers whose offers we ignore until the given time (they broke a promise). */
  private readonly distrusted: BoundedCache<string, number>;
  /** Last time we answered a peer's lower offer with ours (push-pull), to avoid offer storms. */
  private readonly answered: BoundedCache<string, number>;
  private readonly fetches: Counter;
  private readonly offers: Counter;
  private timers: TimerHandle[] = [];

  constructor(options: PolicyGossipOptions) {
    this.o = options;
    const { holder, link, router } = options;
    this.distrusted = new BoundedCache(4096);
    this.answered = new BoundedCache(4096);
    this.fetches = options.metrics.counter('hearsay_policy_fetches_total', 'Fetches of signed policy documents and revocation lists, by kind and result.');
    this.offers = options.metrics.counter('hearsay_policy_offers_total', 'Version offers of the policy layer, by direction.');
    // The only origin these kinds may have is the authority key; any other is unknown and dropped.
    const resolveAuthority = (origin: Uint8Array): PeerCertificate | undefined => (holder.isAuthority(origin) ? holder.authorityCert : undefined);
    router.register(EnvelopeKind.POLICY, POLICY_BODY, (ve, ctx) => this.onDocument(ve, ctx), resolveAuthority);
    router.register(EnvelopeKind.REVOCATION, REVOCATION_BODY, (ve, ctx) => this.onDocument(ve, ctx), resolveAuthority);
    link.on(MessageType.POLICY_OFFER, POLICY_OFFER_SCHEMA, (ctx, msg) => this.onOffer(ctx.peer, msg.fields[1] as number, msg.fields[2] as number));
    link.onRequest(MessageType.POLICY_FETCH, POLICY_FETCH_SCHEMA, (_ctx, msgs) => this.onFetch(msgs[0]!.fields[1] as DocKind));
    link.declare(MessageType.POLICY_DOCUMENT, POLICY_DOCUMENT_SCHEMA);
    // Late joiners and restarted peers learn our versions as soon as they authenticate.
    link.onPeer((peer) => this.offerTo(peer));
    holder.onPolicyChange(() => this.offerToSome());
    holder.onRevocationChange(() => this.offerToSome());
  }

  start(): void {
    this.timers.push(this.o.clock.setInterval(() => this.offerToSome(), this.o.offerIntervalMs));
    if (this.o.reloadIntervalMs > 0) this.timers.push(this.o.clock.setInterval(() => this.o.holder.reloadFiles(), this.o.reloadIntervalMs));
  }

  stop(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
  }

  /** Offers our versions to `fanout` random peers. */
  offerToSome(): void {
    if (this.o.holder.policyVersion === 0 && this.o.holder.revocationVersion === 0) return;
    for (const p of this.o.selectPeers(this.o.fanout)) this.offerTo(p);
  }

  offerTo(peer: PeerRecord): void {
    const h = this.o.holder;
    if (h.policyVersion === 0 && h.revocationVersion === 0) return;
    this.offers.inc({ direction: 'sent' });
    this.o.link.send(peer, [encodeMessage([MessageType.POLICY_OFFER, h.policyVersion, h.revocationVersion])]);
  }

  private onOffer(peer: PeerRecord, policyVersion: number, revocationVersion: number): void {
    this.offers.inc({ direction: 'received' });
    const h = this.o.holder;
    const now = this.o.clock.now();
    const until = this.distrusted.get(peer.idHex);
    if (until !== undefined && until > now) return;
    if (revocationVersion > h.revocationVersion) void this.fetch(peer, EnvelopeKind.REVOCATION, revocationVersion);
    if (policyVersion > h.policyVersion) void this.fetch(peer, EnvelopeKind.POLICY, policyVersion);
    if (policyVersion < h.policyVersion || revocationVersion < h.revocationVersion) {
      const last = this.answered.get(peer.idHex);
      if (last === undefined || now - last >= this.o.offerIntervalMs / 2) {
        this.answered.set(peer.idHex, now);
        this.offerTo(peer);
      }
    }
  }

  private onFetch(kind: DocKind): Uint8Array[] {
    const h = this.o.holder;
    const env = kind === EnvelopeKind.POLICY ? h.policy?.envelope : h.revocation?.envelope;
    return [encodeMessage([MessageType.POLICY_DOCUMENT, env?.bytes ?? new Uint8Array(0)])];
  }

  private async fetch(peer: PeerRecord, kind: DocKind, offered: number): Promise<void> {
    if (this.inFlight.has(kind)) return;
    this.inFlight.add(kind);
    const label = kind === EnvelopeKind.POLICY ? 'policy' : 'revocation';
    try {
      const r = await this.o.link.request(peer, [encodeMessage([MessageType.POLICY_FETCH, kind])], this.o.requestTimeoutMs);
      if (!r.ok) {
        this.fetches.inc({ kind: label, result: r.reason === 'timeout' ? 'timeout' : 'failed' });
        return;
      }
      const doc = r.value[0];
      if (doc === undefined || doc.type !== MessageType.POLICY_DOCUMENT || r.value.length !== 1) {
        this.fetches.inc({ kind: label, result: 'malformed' });
        this.o.gate.charge(peer.id, 'malformed', 'policy fetch answer');
        return;
      }
      const envBytes = doc.fields[1] as Uint8Array;
      // An envelope is the msgpack array [kind, ...] (0x94, then the kind as a fixint): only the kind
      // we asked for goes to the router, so a fetch answer cannot smuggle in other gossip.
      if (envBytes.length > 2 && envBytes[0] === 0x94 && envBytes[1] === kind) {
        const ctx: MessageContext = { peer, from: peer.address ?? '', viaStream: true };
        this.o.router.receive(ctx, envBytes, true);
      }
      const now = kind === EnvelopeKind.POLICY ? this.o.holder.policyVersion : this.o.holder.revocationVersion;
      if (now >= offered) {
        this.fetches.inc({ kind: label, result: 'adopted' });
        return;
      }
      // It offered `offered` and served less (nothing, unsigned, forged or older): a lie.
      this.fetches.inc({ kind: label, result: 'broken-promise' });
      this.o.gate.charge(peer.id, 'broken-promise', `offered ${label} version ${offered}`);
      this.distrusted.set(peer.idHex, this.o.clock.now() + 10 * this.o.offerIntervalMs);
    } finally {
      this.inFlight.delete(kind);
    }
  }

  /** Router handler for POLICY and REVOCATION envelopes, after the authority's signature verified. */
  private onDocument(ve: VerifiedEnvelope, ctx: MessageContext | null): void {
    const h = this.o.holder;
    const cluster = h.trustOptions.cluster;
    const opened = ve.envelope.kind === EnvelopeKind.POLICY ? openPolicy(ve.envelope, ve.body, cluster) : openRevocation(ve.envelope, ve.body, cluster);
    if (!opened.ok) {
      // Signed by the authority yet unusable (another cluster, or a policy that fails validation):
      // the relay could not have forged it, so nobody is charged; the operator must hear of it.
      this.o.link.drop(`policy-${opened.reason}`);
      this.o.logger.error({ reason: opened.reason, detail: opened.detail }, 'refusing a document signed by the authority');
      return;
    }
    const outcome = 'document' in opened.value
      ? h.adoptPolicy(opened.value, 'gossip')
      : h.adoptRevocation(opened.value, 'gossip');
    if (outcome === 'stale' && ctx !== null && !ctx.viaStream) {
      // Honest nodes only ever send documents in answer to a fetch; an old one pushed at us unasked
      // is a replay (e.g. trying to roll back a policy or un-revoke a key).
      this.o.gate.charge(ctx.peer.id, 'replay', 'old signed document pushed');
    }
    if (outcome === 'stale') this.o.link.drop('policy-stale');
  }
}
