/**
 * The identity module seen from a running node (src/node.ts, src/link/): load the local identity
 * named by the config, and verify certificates that peers present on first contact. The link
 * layer caches verdicts per certificate, so this verifier keeps no cache of its own.
 */
import type { HearsayConfig } from '../config.js';
import type { CertificateVerifier } from '../link/peer-certificate.js';
import { fail, HearsayError } from '../errors.js';
import { decodeCertificate, verifyCertificate, type Certificate } from './certificate.js';
import { fromHex } from './bytes.js';
import { loadNodeIdentity, type NodeIdentity } from './node-identity.js';
import type { SignatureBackend } from './signature-backend.js';

type IdentityConfig = Pick<HearsayConfig, 'identityDir' | 'authorityPublicKey' | 'cluster' | 'maxClockSkewMs'>;
type VerifierConfig = Pick<HearsayConfig, 'authorityPublicKey' | 'cluster' | 'maxClockSkewMs'>;

/**
 * The node's own identity from `config.identityDir`, checked like any peer's (a node that starts
 * with a certificate its peers would refuse only finds out by being ignored). Throws HearsayError.
 */
export function loadLocalIdentity(config: IdentityConfig, backend: SignatureBackend, now: number): NodeIdentity {
  return loadNodeIdentity(config.identityDir, {
    authorityPublicKey: config.authorityPublicKey,
    cluster: config.cluster,
    now,
    backend,
    clockSkewMs: config.maxClockSkewMs,
  });
}

export interface CertificateVerifierOptions {
  isRevoked?: (certificate: Certificate) => boolean;
}

/** Verifies certificate wire bytes from the network; never throws. */
export function createCertificateVerifier(
  config: VerifierConfig,
  backend: SignatureBackend,
  options: CertificateVerifierOptions = {},
): CertificateVerifier {
  const authorityPublicKey = fromHex(config.authorityPublicKey, 32);
  if (authorityPublicKey === null) {
    throw new HearsayError('HEARSAY_ERR_CONFIG', 'authorityPublicKey must be the 64 hex characters printed by `hearsay authority init`');
  }
  return {
    verify(certBytes: Uint8Array, now: number) {
      const decoded = decodeCertificate(certBytes);
      if (!decoded.ok) return fail('malformed', decoded.detail);
      return verifyCertificate(decoded.value, {
        authorityPublicKey,
        cluster: config.cluster,
        now,
        backend,
        clockSkewMs: config.maxClockSkewMs,
        ...(options.isRevoked === undefined ? {} : { isRevoked: options.isRevoked }),
      });
    },
  };
}
