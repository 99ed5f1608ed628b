/**
 * A node's own identity: its Ed25519 key (node id), its X25519 key and the certificate that binds
 * them. On disk, in the node's folder (keys/nodes/<name> after provisioning):
 *
 *   node.key     {"kind": "hearsay-ed25519-secret", "key": …}   mode 0600
 *   node.kx.key  {"kind": "hearsay-x25519-secret", "key": …}    mode 0600
 *   node.cert    {"kind": "hearsay-certificate", readable fields…, "encoded": "<base64>"}
 *
 * The readable fields of node.cert are for people; a reader trusts only `encoded`, verifies it
 * against the trust anchor, and checks it certifies exactly the keys in the two key files.
 */
import { join } from 'node:path';
import { HearsayError } from '../errors.js';
import { bytesEqual, fromHex } from './bytes.js';
import { createBackend } from './backends.js';
import {
  decodeCertificate,
  describeCertificate,
  encodeCertificate,
  issueCertificate,
  verifyCertificate,
  type Certificate,
  type SignedCertificate,
} from './certificate.js';
import { fileExists, keyExistsError, readPublicJsonFile, readSecretFile, writePublicJsonFile, writeSecretFile } from './key-file.js';
import { generateKxKeyPair, kxPublicKeyOf } from './kx.js';
import { generateEd25519KeyPair } from './node-backend.js';
import type { SignatureBackend } from './signature-backend.js';

export const NODE_KEY_FILE = 'node.key';
export const NODE_KX_KEY_FILE = 'node.kx.key';
export const NODE_CERT_FILE = 'node.cert';
export const NODE_CERT_KIND = 'hearsay-certificate';

export interface NodeIdentity {
  /** Ed25519 secret seed. Never logged. */
  seed: Uint8Array;
  /** Ed25519 public key: the node id. */
  nodeId: Uint8Array;
  /** X25519 secret. Never logged. */
  kxSecret: Uint8Array;
  kxPublic: Uint8Array;
  cert: SignedCertificate;
  /** The certificate's wire bytes, sent on first contact. */
  certBytes: Uint8Array;
}

export interface NodeKeys {
  seed: Uint8Array;
  nodeId: Uint8Array;
  kxSecret: Uint8Array;
  kxPublic: Uint8Array;
}

export interface LoadNodeIdentityOptions {
  /** The trust anchor, 32 bytes or 64 hex characters (as in the config file). */
  authorityPublicKey: Uint8Array | string;
  cluster: string;
  now: number;
  backend: SignatureBackend;
  clockSkewMs?: number;
  isRevoked?: (certificate: Certificate) => boolean;
}

/**
 * Fresh node keys from OpenSSL's CSPRNG. Key generation does not depend on the signature backend
 * (RFC 8032 keys are the same whichever library signs with them).
 */
export function generateNodeKeys(): NodeKeys {
  const ed = generateEd25519KeyPair();
  const kx = generateKxKeyPair();
  return { seed: ed.seed, nodeId: ed.publicKey, kxSecret: kx.secret, kxPublic: kx.publicKey };
}

/**
 * Loads and checks the identity in `dir`. Throws HEARSAY_ERR_KEY_FILE / HEARSAY_ERR_KEY_PERMISSIONS
 * for key file problems, HEARSAY_ERR_CERT_INVALID (with the reason) or HEARSAY_ERR_CERT_REVOKED.
 */
export function loadNodeIdentity(dir: string, options: LoadNodeIdentityOptions): NodeIdentity {
  const authorityPublicKey = parseTrustAnchor(options.authorityPublicKey);
  const certPath = join(dir, NODE_CERT_FILE);
  const cert = readCertificateFile(certPath);
  const seed = readSecretFile(join(dir, NODE_KEY_FILE), 'hearsay-ed25519-secret');
  const kxSecret = readSecretFile(join(dir, NODE_KX_KEY_FILE), 'hearsay-x25519-secret');
  const nodeId = options.backend.publicKeyOf(seed);
  const kxPublic = kxPublicKeyOf(kxSecret);
  if (!bytesEqual(cert.nodeId, nodeId)) {
    throw new HearsayError('HEARSAY_ERR_CERT_INVALID', `${certPath} certifies another Ed25519 key than ${NODE_KEY_FILE} in ${dir}`);
  }
  if (!bytesEqual(cert.kx, kxPublic)) {
    throw new HearsayError('HEARSAY_ERR_CERT_INVALID', `${certPath} certifies another X25519 key than ${NODE_KX_KEY_FILE} in ${dir}`);
  }
  const verdict = verifyCertificate(cert, {
    authorityPublicKey,
    cluster: options.cluster,
    now: options.now,
    backend: options.backend,
    ...(options.clockSkewMs === undefined ? {} : { clockSkewMs: options.clockSkewMs }),
    ...(options.isRevoked === undefined ? {} : { isRevoked: options.isRevoked }),
  });
  if (!verdict.ok) {
    const code = verdict.reason === 'revoked' ? 'HEARSAY_ERR_CERT_REVOKED' : 'HEARSAY_ERR_CERT_INVALID';
    throw new HearsayError(code, `${certPath} is not valid: ${verdict.reason}${verdict.detail === undefined ? '' : ` (${verdict.detail})`}`);
  }
  return { seed, nodeId, kxSecret, kxPublic, cert, certBytes: encodeCertificate(cert) };
}

/** Reads node.cert, trusting only its `encoded` field. Checks format, not the signature. */
export function readCertificateFile(path: string): SignedCertificate {
  const doc = readPublicJsonFile(path);
  if (doc['kind'] !== NODE_CERT_KIND) throw new HearsayError('HEARSAY_ERR_CERT_INVALID', `${path}: "kind" must be "${NODE_CERT_KIND}"`);
  const encoded = doc['encoded'];
  if (typeof encoded !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) {
    throw new HearsayError('HEARSAY_ERR_CERT_INVALID', `${path}: "encoded" must be the base64 certificate`);
  }
  const decoded = decodeCertificate(new Uint8Array(Buffer.from(encoded, 'base64')));
  if (!decoded.ok) throw new HearsayError('HEARSAY_ERR_CERT_INVALID', `${path}: malformed certificate (${decoded.detail ?? decoded.reason})`);
  return decoded.value;
}

export function writeCertificateFile(path: string, cert: SignedCertificate, options: { force?: boolean } = {}): void {
  writePublicJsonFile(
    path,
    { kind: NODE_CERT_KIND, ...describeCertificate(cert), encoded: Buffer.from(encodeCertificate(cert)).toString('base64') },
    options,
  );
}

/**
 * Writes node.key, node.kx.key and node.cert into `dir`. Without force, refuses (before writing
 * anything) when any of them exists.
 */
export function writeNodeIdentity(dir: string, identity: NodeKeys & { cert: SignedCertificate }, options: { force?: boolean } = {}): void {
  const force = options.force === true;
  const paths = nodeIdentityPaths(dir);
  if (!force) {
    for (const path of [paths.key, paths.kxKey, paths.cert]) if (fileExists(path)) throw keyExistsError(path);
  }
  writeSecretFile(paths.key, 'hearsay-ed25519-secret', identity.seed, { force });
  writeSecretFile(paths.kxKey, 'hearsay-x25519-secret', identity.kxSecret, { force });
  writeCertificateFile(paths.cert, identity.cert, { force });
}

export function nodeIdentityPaths(dir: string): { key: string; kxKey: string; cert: string } {
  return { key: join(dir, NODE_KEY_FILE), kxKey: join(dir, NODE_KX_KEY_FILE), cert: join(dir, NODE_CERT_FILE) };
}

export interface InMemoryIdentityOptions {
  authoritySeed: Uint8Array;
  cluster: string;
  name: string;
  tenant?: string;
  roles?: readonly string[];
  /** Defaults to `now`; `now` defaults to the wall clock (pass the virtual clock's time in simulations). */
  notBefore?: number;
  notAfter?: number;
  now?: number;
  /** Defaults to a shared node backend: simulations create thousands of identities. */
  backend?: SignatureBackend;
  /** Fixed keys instead of fresh ones. */
  keys?: NodeKeys;
}

const YEAR_MS = 365 * 24 * 3_600_000;

/** Keys and a certificate, without touching disk (tests and simulations). */
export function createNodeIdentityInMemory(options: InMemoryIdentityOptions): NodeIdentity {
  const backend = options.backend ?? defaultBackend();
  const keys = options.keys ?? generateNodeKeys();
  const now = options.now ?? Date.now();
  const notBefore = options.notBefore ?? now;
  const cert = issueCertificate(
    {
      cluster: options.cluster,
      nodeId: keys.nodeId,
      kx: keys.kxPublic,
      name: options.name,
      tenant: options.tenant ?? 'default',
      roles: options.roles ?? [],
      notBefore,
      notAfter: options.notAfter ?? notBefore + YEAR_MS,
    },
    options.authoritySeed,
    backend,
  );
  return { ...keys, cert, certBytes: encodeCertificate(cert) };
}

function parseTrustAnchor(key: Uint8Array | string): Uint8Array {
  const bytes = typeof key === 'string' ? fromHex(key, 32) : key instanceof Uint8Array && key.length === 32 ? key : null;
  if (bytes === null) {
    throw new HearsayError('HEARSAY_ERR_CONFIG', 'authorityPublicKey must be the 64 hex characters printed by `hearsay authority init` (see keys/authority/authority.pub)');
  }
  return bytes;
}

let shared: SignatureBackend | undefined;
function defaultBackend(): SignatureBackend {
  shared ??= createBackend('node');
  return shared;
}
