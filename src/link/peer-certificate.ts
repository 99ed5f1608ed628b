/**
 * What the link layer needs to know of identities, as narrow interfaces: the certificate fields
 * it reads, a verifier for certificates received from the network, and the local identity it
 * seals and signs with. The identity module implements them; simulations can too.
 */
import type { Result } from '../errors.js';

export interface PeerCertificate {
  readonly nodeId: Uint8Array;
  readonly kx: Uint8Array;
  readonly cluster: string;
  readonly name: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly notBefore: number;
  readonly notAfter: number;
  readonly serial: string;
}

export interface CertificateVerifier {
  /** Checks certificate wire bytes: authority signature, cluster, validity window, keys, revocation. Never throws. */
  verify(certBytes: Uint8Array, now: number): Result<PeerCertificate, string>;
}

export interface LocalIdentity {
  readonly nodeId: Uint8Array;
  /** Ed25519 secret seed: signs envelopes. Never logged. */
  readonly seed: Uint8Array;
  /** X25519 secret: derives link keys. Never logged. */
  readonly kxSecret: Uint8Array;
  readonly certBytes: Uint8Array;
  readonly cert: PeerCertificate;
}
