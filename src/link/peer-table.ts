/**
 * The link layer's peer table: one record per certified peer we know (its certificate, the link
 * key derived for the pair, replay state, rate limits, last authenticated address), created from a
 * verified certificate and bounded (least recently used records go first). Certificate verdicts
 * are cached by the certificate's bytes, so a peer's certificate is checked once, not per packet.
 */
import type { Clock } from '../clock.js';
import { fail, ok, type Result } from '../errors.js';
import type { Address } from '../transport/transport.js';
import { deriveLinkKey } from '../wire/link-key.js';
import { SenderReplayState } from '../wire/replay-window.js';
import { BoundedCache } from './bounded-cache.js';
import type { CertificateVerifier, LocalIdentity, PeerCertificate } from './peer-certificate.js';
import { TokenBucket } from './token-bucket.js';

export interface PeerRecord {
  readonly id: Uint8Array;
  readonly idHex: string;
  cert: PeerCertificate;
  certBytes: Uint8Array;
  certFingerprint: string;
  linkKey: Uint8Array;
  /** Last address a packet from this peer authenticated from, or one learned from its signed claims. */
  address: Address | null;
  /** Our outgoing counter toward this peer. */
  sendCounter: number;
  /** Set once the peer proved it holds our certificate (it sealed a packet to us). */
  hasOurCert: boolean;
  readonly replay: SenderReplayState;
  /** Rate limit for packets from the peer's last authenticated address. */
  readonly bucket: TokenBucket;
  /**
   * A separate, smaller budget for packets claiming this peer from any other address: a spoofer
   * that writes an honest peer's id into headers drains this one, not the honest traffic's.
   */
  readonly strangerBucket: TokenBucket;
  lastAuthenticated: number;
  /** When we last spent a decryption to attribute an over-rate packet (see authenticate). */
  lastRateProbe: number;
}

export interface PeerTableOptions {
  readonly identity: LocalIdentity;
  readonly cluster: string;
  readonly clock: Clock;
  readonly verifier: CertificateVerifier;
  readonly replayWindow: number;
  readonly peerPacketsPerSecond: number;
  readonly maxPeers: number;
  /** Link-key derivation; only the simulator passes another one (a cache shared by all its nodes). */
  readonly deriveKey?: (peer: PeerCertificate) => Uint8Array | null;
  /** Counts a cryptographic operation (verify-cert, x25519) for the metrics. */
  readonly countCrypto: (op: string) => void;
}

export class PeerTable {
  readonly selfHex: string;
  private readonly peers: BoundedCache<string, PeerRecord>;
  private readonly certCache: BoundedCache<string, Result<PeerCertificate, string>>;
  /** Per-peer packet rate from the policy (src/policy: Authorizer.limits); null = peerPacketsPerSecond for all. */
  private peerRate: ((cert: PeerCertificate) => number) | null = null;

  constructor(private readonly o: PeerTableOptions) {
    this.selfHex = Buffer.from(o.identity.nodeId).toString('hex');
    this.peers = new BoundedCache(o.maxPeers);
    this.certCache = new BoundedCache(Math.max(1024, o.maxPeers));
  }

  get(idHex: string): PeerRecord | undefined {
    return this.peers.get(idHex);
  }

  values(): IterableIterator<PeerRecord> {
    return this.peers.values();
  }

  delete(idHex: string): void {
    this.peers.delete(idHex);
  }

  /**
   * The peer behind a certificate: verified (verdicts cached by certificate bytes until the
   * certificate expires), checked against the header's sender id when given, with its link key
   * derived once. A renewed certificate for a known key keeps the peer's replay state and counters.
   */
  admit(certBytes: Uint8Array, expectedId?: Uint8Array): Result<PeerRecord, string> {
    const now = this.o.clock.now();
    const fp = Buffer.from(certBytes).toString('base64');
    let verdict = this.certCache.get(fp);
    if (verdict === undefined || (verdict.ok && verdict.value.notAfter < now)) {
      this.o.countCrypto('verify-cert');
      verdict = this.o.verifier.verify(certBytes, now);
      this.certCache.set(fp, verdict);
    }
    if (!verdict.ok) return verdict;
    const cert = verdict.value;
    if (expectedId !== undefined && !sameBytes(cert.nodeId, expectedId)) return fail('id-mismatch');
    const idHex = Buffer.from(cert.nodeId).toString('hex');
    if (idHex === this.selfHex) return fail('self');
    const existing = this.peers.get(idHex);
    if (existing !== undefined && sameBytes(existing.certBytes, certBytes)) return ok(existing);
    this.o.countCrypto('x25519');
    const linkKey = this.o.deriveKey !== undefined
      ? this.o.deriveKey(cert)
      : deriveLinkKey(this.o.cluster, this.o.identity.kxSecret, this.o.identity.nodeId, cert.kx, cert.nodeId);
    if (linkKey === null) return fail('weak-kx-key');
    if (existing !== undefined) {
      // A renewed certificate for the same key: keep replay state and counters.
      existing.cert = cert;
      existing.certBytes = new Uint8Array(certBytes);
      existing.certFingerprint = fp;
      existing.linkKey = linkKey;
      const rate = this.rateFor(cert);
      existing.bucket.setRate(rate, rate);
      existing.strangerBucket.setRate(strangerRate(rate), strangerRate(rate));
      return ok(existing);
    }
    const peer: PeerRecord = {
      id: new Uint8Array(cert.nodeId),
      idHex,
      cert,
      certBytes: new Uint8Array(certBytes),
      certFingerprint: fp,
      linkKey,
      address: null,
      sendCounter: 0,
      hasOurCert: false,
      replay: new SenderReplayState(this.o.replayWindow),
      bucket: new TokenBucket(this.rateFor(cert), this.rateFor(cert), this.o.clock),
      strangerBucket: new TokenBucket(strangerRate(this.rateFor(cert)), strangerRate(this.rateFor(cert)), this.o.clock),
      lastAuthenticated: 0,
      lastRateProbe: 0,
    };
    this.peers.set(idHex, peer);
    return ok(peer);
  }

  /** Takes each peer's packet rate from `rate(cert)`, for new peers and, at once, for known ones. */
  setRateLimit(rate: ((cert: PeerCertificate) => number) | null): void {
    this.peerRate = rate;
    this.refreshRates();
  }

  refreshRates(): void {
    for (const p of this.peers.values()) {
      const r = this.rateFor(p.cert);
      p.bucket.setRate(r, r);
      p.strangerBucket.setRate(strangerRate(r), strangerRate(r));
    }
  }

  /** Forgets cached certificate verdicts (after a revocation list or policy change). */
  clearCertificateCache(): void {
    for (const k of [...this.certCache.entries()].map(([k]) => k)) this.certCache.delete(k);
  }

  private rateFor(cert: PeerCertificate): number {
    const r = this.peerRate === null ? this.o.peerPacketsPerSecond : this.peerRate(cert);
    return Number.isFinite(r) && r > 0 ? r : this.o.peerPacketsPerSecond;
  }
}

/** Enough for a peer that really moved to re-establish itself; a tenth of its normal rate. */
function strangerRate(rate: number): number {
  return Math.max(10, Math.floor(rate / 10));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
