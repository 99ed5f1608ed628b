/**
 * The cluster authority: one Ed25519 key pair whose public half every node trusts (the trust
 * anchor in each node's config) and whose secret half signs certificates, revocation lists and
 * policies. The secret is meant to stay on the operator's machine; only provisioning loads it.
 *
 * On disk, in the authority folder (keys/authority by default):
 *   authority.key  {"kind": "hearsay-ed25519-secret", "key": "<hex seed>"}           mode 0600
 *   authority.pub  {"kind": "hearsay-authority-public", "cluster", "publicKey", "created"}  0644
 */
import { join } from 'node:path';
import { HearsayError } from '../errors.js';
import { bytesEqual, fromHex, toHex } from './bytes.js';
import { createBackend } from './backends.js';
import { CLUSTER_PATTERN } from './certificate.js';
import { generateEd25519KeyPair } from './node-backend.js';
import { fileExists, keyExistsError, readPublicJsonFile, readSecretFile, writePublicJsonFile, writeSecretFile } from './key-file.js';
import type { SignatureBackend } from './signature-backend.js';

export const AUTHORITY_KEY_FILE = 'authority.key';
export const AUTHORITY_PUB_FILE = 'authority.pub';
export const AUTHORITY_PUBLIC_KIND = 'hearsay-authority-public';

export interface AuthorityPublic {
  cluster: string;
  publicKey: Uint8Array;
  /** ISO 8601 creation time, for the operator. */
  created: string;
}

export interface Authority extends AuthorityPublic {
  /** The Ed25519 secret seed. Never logged, never printed. */
  seed: Uint8Array;
}

export interface InitAuthorityOptions {
  cluster: string;
  /** Replace an existing authority: every certificate it issued stops being trusted. */
  force?: boolean;
  now?: number;
}

/** A fresh authority key pair, not written anywhere (tests, simulations). */
export function generateAuthorityKey(): { seed: Uint8Array; publicKey: Uint8Array } {
  return generateEd25519KeyPair();
}

/** Writes authority.key and authority.pub in `dir`; returns the public key. */
export function initAuthority(dir: string, options: InitAuthorityOptions): Uint8Array {
  if (typeof options.cluster !== 'string' || !CLUSTER_PATTERN.test(options.cluster)) {
    throw new HearsayError('HEARSAY_ERR_USAGE', `cluster name must be 1-63 characters of a-z, 0-9 and - (got ${JSON.stringify(options.cluster)})`);
  }
  const keyPath = join(dir, AUTHORITY_KEY_FILE);
  const pubPath = join(dir, AUTHORITY_PUB_FILE);
  const force = options.force === true;
  // Check both before writing either, so a refusal leaves no half-made authority behind.
  if (!force) {
    for (const path of [keyPath, pubPath]) if (fileExists(path)) throw keyExistsError(path);
  }
  const { seed, publicKey } = generateAuthorityKey();
  try {
    writeSecretFile(keyPath, 'hearsay-ed25519-secret', seed, { force });
    writePublicJsonFile(
      pubPath,
      {
        kind: AUTHORITY_PUBLIC_KIND,
        cluster: options.cluster,
        publicKey: toHex(publicKey),
        created: new Date(options.now ?? Date.now()).toISOString(),
      },
      { force },
    );
  } finally {
    seed.fill(0);
  }
  return publicKey;
}

/** Reads authority.pub: the trust anchor and its cluster. */
export function readAuthorityPublic(dir: string): AuthorityPublic {
  const path = join(dir, AUTHORITY_PUB_FILE);
  const doc = readPublicJsonFile(path);
  if (doc['kind'] !== AUTHORITY_PUBLIC_KIND) throw authorityFileError(path, `"kind" must be "${AUTHORITY_PUBLIC_KIND}"`);
  const cluster = doc['cluster'];
  if (typeof cluster !== 'string' || !CLUSTER_PATTERN.test(cluster)) throw authorityFileError(path, '"cluster" must be a cluster name');
  const publicKey = typeof doc['publicKey'] === 'string' ? fromHex(doc['publicKey'], 32) : null;
  if (publicKey === null) throw authorityFileError(path, '"publicKey" must be 64 hex characters');
  const created = typeof doc['created'] === 'string' ? doc['created'] : '';
  return { cluster, publicKey, created };
}

/**
 * Loads the authority secret and checks it against authority.pub, so a mixed-up pair of files
 * cannot issue certificates that no node would accept.
 */
export function loadAuthority(dir: string, backend: SignatureBackend = defaultBackend()): Authority {
  const pub = readAuthorityPublic(dir);
  const keyPath = join(dir, AUTHORITY_KEY_FILE);
  const seed = readSecretFile(keyPath, 'hearsay-ed25519-secret');
  if (!bytesEqual(backend.publicKeyOf(seed), pub.publicKey)) {
    seed.fill(0);
    throw authorityFileError(keyPath, `does not match the public key in ${AUTHORITY_PUB_FILE}`);
  }
  return { ...pub, seed };
}

function authorityFileError(path: string, problem: string): HearsayError {
  return new HearsayError('HEARSAY_ERR_KEY_FILE', `authority file ${path}: ${problem}`);
}

let shared: SignatureBackend | undefined;
function defaultBackend(): SignatureBackend {
  shared ??= createBackend('node');
  return shared;
}
