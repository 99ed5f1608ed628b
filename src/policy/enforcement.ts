/**
 * Puts the policy in force on one node's link layer and envelope router, and keeps it in force as
 * new versions arrive:
 *
 * - the router's authorizer decides every verified envelope (envelope-policy.ts);
 * - the link's outbound filter keeps data from peers that may not read it;
 * - each peer's packet rate comes from the policy (`limits(cert).packetsPerSecond`), applied before
 *   decryption by the link's per-sender token bucket, and re-applied when the policy changes;
 * - on a new revocation list: cached certificate verdicts are forgotten, every revoked peer is
 *   dropped from the link peer table at once (no more gossip to it; its next packet needs its
 *   certificate verified again, which now fails), and listeners (membership) are told.
 *
 * Revoked node ids are also refused at the header check, before any crypto (`revocationAwareGate`).
 */
import { fail } from '../errors.js';
import type { EnvelopeRouter } from '../link/envelope-router.js';
import type { CertificateVerifier } from '../link/peer-certificate.js';
import type { LinkLayer, PeerRecord } from '../link/link-layer.js';
import type { PeerGate } from '../link/peer-gate.js';
import type { Logger } from '../log.js';
import { createEnvelopeAuthorizer, createOutboundGuard, EnvelopePolicies, globalEnvelopePolicies } from './envelope-policy.js';
import type { PolicyHolder } from './policy-holder.js';

export interface PolicyEnforcementOptions {
  readonly holder: PolicyHolder;
  readonly link: LinkLayer;
  readonly router: EnvelopeRouter;
  readonly logger: Logger;
  /** Node-local rules on top of the process-wide registry (tests; a node with special kinds). */
  readonly policies?: EnvelopePolicies;
}

export class PolicyEnforcement {
  readonly policies: EnvelopePolicies;
  private readonly o: PolicyEnforcementOptions;
  private readonly revokedListeners: Array<(peers: readonly PeerRecord[]) => void> = [];

  constructor(options: PolicyEnforcementOptions) {
    this.o = options;
    const { holder, link, router } = options;
    this.policies = options.policies ?? new EnvelopePolicies(globalEnvelopePolicies);
    router.setAuthorizer(createEnvelopeAuthorizer(holder, this.policies));
    link.setOutboundFilter(createOutboundGuard(holder, this.policies));
    link.setPeerRateLimit((cert) => holder.authorizer.limits(cert).packetsPerSecond);
    holder.onPolicyChange(() => link.refreshPeerRates());
    holder.onRevocationChange(() => this.cutOffRevoked());
    // A list adopted before this node's link existed (config file, dataDir) applies from the start.
    if (holder.revocationVersion > 0) this.cutOffRevoked();
  }

  /** Called with the peers dropped because of a new revocation list (e.g. to remove them from membership). */
  onRevokedPeers(listener: (peers: readonly PeerRecord[]) => void): void {
    this.revokedListeners.push(listener);
  }

  private cutOffRevoked(): void {
    const { holder, link, logger } = this.o;
    link.clearCertificateCache();
    const cut: PeerRecord[] = [];
    for (const p of link.knownPeers()) {
      if (holder.isRevoked(p.cert)) {
        link.forgetPeer(p.id);
        cut.push(p);
      }
    }
    if (holder.isRevoked(link.identity.cert)) {
      logger.error({ serial: link.identity.cert.serial }, "this node's own certificate is revoked: every peer now refuses it; restart it with its new identity");
    }
    if (cut.length > 0) {
      logger.info({ peers: cut.map((p) => p.idHex.slice(0, 12)), version: holder.revocationVersion }, 'revoked peers cut off');
      for (const l of this.revokedListeners) l(cut);
    }
  }
}

/**
 * The link's gate, plus revoked node ids refused at the header check (one map lookup, before any
 * crypto). Every other member of the gate is the gate's own (a Proxy, so methods the reputation
 * engine adds later pass through unchanged).
 */
export function revocationAwareGate(gate: PeerGate, holder: PolicyHolder): PeerGate {
  const isBlocked = (id: Uint8Array): boolean => holder.isNodeRevoked(id) || gate.isBlocked(id);
  return new Proxy(gate, {
    get(target, prop) {
      if (prop === 'isBlocked') return isBlocked;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * A certificate verifier that also refuses revoked certificates, whatever verifier it wraps (the
 * simulator injects its own). Live: it consults the list in force at each call, and the link
 * layer's verdict cache is cleared whenever a new list is adopted.
 */
export function revocationAwareVerifier(verifier: CertificateVerifier, holder: PolicyHolder): CertificateVerifier {
  return {
    verify(certBytes, now) {
      const r = verifier.verify(certBytes, now);
      if (r.ok && holder.isRevoked(r.value)) return fail('revoked', `serial ${r.value.serial} is revoked`);
      return r;
    },
  };
}
