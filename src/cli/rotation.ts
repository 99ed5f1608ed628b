/**
 * Key rotation and revocation: `hearsay node rotate`, `hearsay node revoke`, `hearsay revocation show`.
 *
 * The authority keeps the cluster's current signed revocation list next to its key:
 *
 *   <keys>/authority/revocation.signed.json     public, 0644: hand it to any node to distribute
 *
 * Each command reads that list (verifying the authority's signature), adds entries, signs the
 * result as version + 1 and replaces the file. Lists are cumulative: every version names every
 * revoked certificate, so a node needs only the newest.
 *
 * Rotation keeps the old key files, moved to `<keys>/nodes/<name>/retired/<old serial>/` (0700),
 * rather than deleting them: no Hearsay command destroys key material without being asked, the
 * operator may need the old certificate's serial and fingerprint for an audit, and what makes the
 * old key harmless is its revocation (every node refuses it), not the deletion of one copy — a
 * stolen copy would survive deletion anyway. Delete the folder when you no longer need it.
 *
 * Rotation revokes the old certificate with reason `superseded` (not retroactive for data: values
 * the old key wrote before the rotation stay valid, src/identity/revocation.ts). `--compromised`
 * (rotate) and the default reason of `revoke` are retroactive: everything the key signed is refused.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { HearsayError } from '../errors.js';
import { createBackend } from '../identity/backends.js';
import { fromHex, toHex } from '../identity/bytes.js';
import { certificateFingerprint, issueCertificate, NAME_PATTERN, SERIAL_PATTERN, type SignedCertificate } from '../identity/certificate.js';
import { loadAuthority, readAuthorityPublic, AUTHORITY_KEY_FILE, AUTHORITY_PUB_FILE, type Authority } from '../identity/authority.js';
import { DEFAULT_VALID_DAYS, MAX_VALID_DAYS } from '../identity/cluster-manifest.js';
import { fileExists } from '../identity/key-file.js';
import { generateNodeKeys, nodeIdentityPaths, readCertificateFile, writeNodeIdentity } from '../identity/node-identity.js';
import { MAX_REVOCATION_ENTRIES, REVOCATION_REASONS, type RevocationEntry, type RevocationList, type RevocationReason } from '../identity/revocation.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { loadSignedRevocationFile, signRevocation, writeSignedRevocationFile, type SignedRevocation } from '../policy/signed-documents.js';
import { formatFlags, parseArgs, type ArgSpec } from './args.js';
import { runGuarded, type Command } from './command.js';
import { authorityDir, nodeDir } from './provision.js';

export const REVOCATION_STATE_FILE = 'revocation.signed.json';
const DAY_MS = 86_400_000;
/** Same backdating as `node issue` (provision.ts): a node whose clock lags can use the certificate at once. */
const BACKDATE_MS = 5 * 60_000;

export function revocationStatePath(keysDir: string): string {
  return join(authorityDir(keysDir), REVOCATION_STATE_FILE);
}

function defaultBackend(): SignatureBackend {
  return createBackend('noble');
}

function loadAuthorityFor(keysDir: string, backend: SignatureBackend): Authority {
  const dir = authorityDir(keysDir);
  for (const file of [AUTHORITY_PUB_FILE, AUTHORITY_KEY_FILE]) {
    const path = join(dir, file);
    if (!fileExists(path)) throw new HearsayError('HEARSAY_ERR_KEY_FILE', `${path} does not exist; revocation lists are signed by the authority`);
  }
  return loadAuthority(dir, backend);
}

/** The authority's current list, or null when none was ever signed. */
export function readRevocationState(keysDir: string, authority: Pick<Authority, 'publicKey' | 'cluster'>, backend: SignatureBackend): SignedRevocation | null {
  const path = revocationStatePath(keysDir);
  if (!fileExists(path)) return null;
  return loadSignedRevocationFile(path, { authorityPublicKey: authority.publicKey, cluster: authority.cluster, backend });
}

export interface RevocationUpdate {
  readonly path: string;
  readonly signed: SignedRevocation;
  /** Entries this call added (none when everything was already revoked). */
  readonly added: readonly RevocationEntry[];
}

/** Adds entries to the authority's list and signs it as the next version; a no-op when all are already in it. */
export function addRevocations(keysDir: string, authority: Authority, entries: readonly RevocationEntry[], now: number, backend: SignatureBackend): RevocationUpdate {
  const current = readRevocationState(keysDir, authority, backend);
  const existing = current?.list.entries ?? [];
  const known = (e: RevocationEntry): boolean => existing.some((x) =>
    (e.serial !== null && x.serial === e.serial) && (e.nodeId === null || (x.nodeId !== null && Buffer.compare(x.nodeId, e.nodeId) === 0)));
  const added = entries.filter((e) => !known(e));
  const path = revocationStatePath(keysDir);
  if (added.length === 0 && current !== null) return { path, signed: current, added: [] };
  if (existing.length + added.length > MAX_REVOCATION_ENTRIES) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `a revocation list holds at most ${MAX_REVOCATION_ENTRIES} entries; drop entries of expired certificates first`);
  }
  const list: RevocationList = {
    cluster: authority.cluster,
    version: (current?.version ?? 0) + 1,
    issuedAt: now,
    entries: [...existing, ...added],
  };
  const signed = signRevocation(list, authority.seed, backend);
  writeSignedRevocationFile(path, signed, { force: true });
  return { path, signed, added };
}

// ---------------------------------------------------------------------------------------------
// node revoke

export interface RevokeOptions {
  keysDir: string;
  /** Revoke the node whose certificate is in nodes/<name>/node.cert ... */
  name?: string;
  /** ... or a certificate serial and/or node id directly (e.g. a node whose folder is gone). */
  serial?: string;
  nodeId?: string;
  reason?: RevocationReason;
  backend?: SignatureBackend;
  now?: number;
}

export function revokeNode(options: RevokeOptions): RevocationUpdate {
  const backend = options.backend ?? defaultBackend();
  const now = options.now ?? Date.now();
  const reason = options.reason ?? 'compromised';
  let entry: RevocationEntry;
  if (options.name !== undefined) {
    if (options.serial !== undefined || options.nodeId !== undefined) throw new HearsayError('HEARSAY_ERR_USAGE', 'give either --name or --serial/--node-id, not both');
    const cert = readCertificateFile(nodeIdentityPaths(nodeDir(options.keysDir, options.name)).cert);
    entry = { serial: cert.serial, nodeId: cert.nodeId, revokedAt: now, reason, name: cert.name };
  } else {
    if (options.serial === undefined && options.nodeId === undefined) throw new HearsayError('HEARSAY_ERR_USAGE', 'give --name, or --serial and/or --node-id');
    const nodeId = options.nodeId === undefined ? null : fromHex(options.nodeId, 32);
    if (options.nodeId !== undefined && nodeId === null) throw new HearsayError('HEARSAY_ERR_USAGE', '--node-id must be 64 hex characters');
    entry = { serial: options.serial ?? null, nodeId, revokedAt: now, reason, name: '' };
  }
  const authority = loadAuthorityFor(options.keysDir, backend);
  try {
    return addRevocations(options.keysDir, authority, [entry], now, backend);
  } finally {
    authority.seed.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// node rotate

export interface RotateOptions {
  keysDir: string;
  name: string;
  validDays?: number;
  /** The old key may have leaked: revoke it retroactively (reason compromised) instead of superseded. */
  compromised?: boolean;
  backend?: SignatureBackend;
  now?: number;
}

export interface Rotation {
  readonly dir: string;
  readonly oldCert: SignedCertificate;
  readonly cert: SignedCertificate;
  /** Where the old key files are kept. */
  readonly retiredDir: string;
  readonly revocation: RevocationUpdate;
}

export function rotateNode(options: RotateOptions): Rotation {
  const backend = options.backend ?? defaultBackend();
  const now = options.now ?? Date.now();
  const dir = nodeDir(options.keysDir, options.name);
  const paths = nodeIdentityPaths(dir);
  for (const p of [paths.key, paths.kxKey, paths.cert]) {
    if (!fileExists(p)) throw new HearsayError('HEARSAY_ERR_KEY_FILE', `${p} does not exist; \`node rotate\` replaces an existing identity (use \`node issue\` for a new node)`);
  }
  const oldCert = readCertificateFile(paths.cert);
  const retiredDir = join(dir, 'retired', oldCert.serial);
  if (fileExists(retiredDir)) throw new HearsayError('HEARSAY_ERR_KEY_EXISTS', `${retiredDir} already exists; this certificate was already rotated out`);
  const authority = loadAuthorityFor(options.keysDir, backend);
  const keys = generateNodeKeys();
  try {
    if (oldCert.cluster !== authority.cluster) {
      throw new HearsayError('HEARSAY_ERR_CERT_INVALID', `${paths.cert} is for cluster ${oldCert.cluster}, the authority's is ${authority.cluster}`);
    }
    const validDays = options.validDays ?? DEFAULT_VALID_DAYS;
    // Same name, tenant and roles: the node keeps its place in the policy, only its keys change.
    const cert = issueCertificate({
      cluster: authority.cluster, nodeId: keys.nodeId, kx: keys.kxPublic, name: oldCert.name, tenant: oldCert.tenant, roles: oldCert.roles,
      notBefore: now - BACKDATE_MS, notAfter: now + validDays * DAY_MS,
    }, authority.seed, backend);
    // Everything is computed; now move the old files aside and write the new ones, undoing the move on failure.
    mkdirSync(retiredDir, { recursive: true, mode: 0o700 });
    const moved: Array<[string, string]> = [];
    try {
      for (const p of [paths.key, paths.kxKey, paths.cert]) {
        const to = join(retiredDir, p.slice(dir.length + 1));
        renameSync(p, to);
        moved.push([p, to]);
      }
      writeNodeIdentity(dir, { ...keys, cert });
    } catch (e) {
      for (const [from, to] of moved.reverse()) renameSync(to, from);
      throw e;
    }
    const revocation = addRevocations(options.keysDir, authority, [{
      serial: oldCert.serial, nodeId: oldCert.nodeId, revokedAt: now, reason: options.compromised === true ? 'compromised' : 'superseded', name: oldCert.name,
    }], now, backend);
    return { dir, oldCert, cert, retiredDir, revocation };
  } finally {
    authority.seed.fill(0);
    keys.seed.fill(0);
    keys.kxSecret.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

const KEYS_FLAG = { type: 'string', description: 'folder holding authority/ and nodes/', default: 'keys', metavar: 'DIR' } as const;
const NAME_TEXT = '1-63 characters of a-z, 0-9, ., _ and -, starting with a letter or digit';

const rotateSpec = {
  keys: KEYS_FLAG,
  name: { type: 'string', description: 'the node to give new keys (its folder under nodes/)', required: true, pattern: NAME_PATTERN, patternText: NAME_TEXT, metavar: 'NAME' },
  'valid-days': { type: 'int', description: 'lifetime of the new certificate in days', default: DEFAULT_VALID_DAYS, min: 1, max: MAX_VALID_DAYS, metavar: 'DAYS' },
  compromised: { type: 'boolean', description: 'the old key may have leaked: also refuse all data it ever signed' },
} as const satisfies ArgSpec;

const revokeSpec = {
  keys: KEYS_FLAG,
  name: { type: 'string', description: 'revoke the certificate in nodes/NAME/node.cert (serial and key)', pattern: NAME_PATTERN, patternText: NAME_TEXT, metavar: 'NAME' },
  serial: { type: 'string', description: 'revoke a certificate serial (when the node folder is gone)', pattern: SERIAL_PATTERN, patternText: '32 lowercase hex characters', metavar: 'SERIAL' },
  'node-id': { type: 'string', description: 'revoke a node key, hex (when the node folder is gone)', pattern: /^[0-9a-f]{64}$/, patternText: '64 lowercase hex characters', metavar: 'HEX' },
  reason: { type: 'string', description: `why: ${REVOCATION_REASONS.join(', ')} (compromised also refuses data it signed earlier)`, default: 'compromised', pattern: /^(compromised|superseded|retired)$/, patternText: REVOCATION_REASONS.join(', '), metavar: 'REASON' },
} as const satisfies ArgSpec;

const showSpec = {
  keys: KEYS_FLAG,
} as const satisfies ArgSpec;

function usageText(synopsis: string, summary: string, spec: ArgSpec): string {
  return [`usage: hearsay ${synopsis}`, '', summary, '', 'flags:', ...formatFlags(spec)].join('\n');
}

const ROTATE_SUMMARY = 'Give a node new keys and a new certificate (same name, tenant, roles) and revoke the old one.';
const REVOKE_SUMMARY = "Revoke a node's certificate and key: sign the next revocation list version.";
const SHOW_SUMMARY = "Print the authority's current revocation list.";
const rotateUsage = usageText('node rotate --name NAME [--valid-days DAYS] [--compromised] [--keys DIR]', ROTATE_SUMMARY, rotateSpec);
const revokeUsage = usageText('node revoke (--name NAME | --serial SERIAL | --node-id HEX) [--reason REASON] [--keys DIR]', REVOKE_SUMMARY, revokeSpec);
const showUsage = usageText('revocation show [--keys DIR]', SHOW_SUMMARY, showSpec);

function distributionHint(path: string): string {
  return `distribute it: set "revocationFile": "${path}" in any node's config (read at start and every policyReloadIntervalMs); nodes pass it on by gossip`;
}

export const rotationCommands: Record<string, Command> = {
  'node rotate': {
    summary: ROTATE_SUMMARY,
    usage: rotateUsage,
    run: (argv, io) => runGuarded(rotateUsage, argv, io, () => {
      const args = parseArgs(argv, rotateSpec);
      const r = rotateNode({ keysDir: args.keys, name: args.name, validDays: args['valid-days'], compromised: args.compromised });
      io.out(`rotated ${r.cert.name} in ${r.dir}`);
      io.out(`  new node id      ${toHex(r.cert.nodeId)}`);
      io.out(`  new fingerprint  ${certificateFingerprint(r.cert)}`);
      io.out(`  tenant, roles    ${r.cert.tenant}, ${r.cert.roles.length === 0 ? '(none)' : r.cert.roles.join(', ')}`);
      io.out(`  old serial       ${r.oldCert.serial} (revoked: ${args.compromised ? 'compromised' : 'superseded'})`);
      io.out(`  old keys kept in ${r.retiredDir} (revoked; delete the folder when you no longer need it)`);
      io.out(`revocation list version ${r.revocation.signed.version} written to ${r.revocation.path}`);
      io.out(distributionHint(r.revocation.path));
      io.out(`then restart ${r.cert.name} with its new keys; its key/value data stays (it is keyed by key, not by node id)`);
    }),
  },
  'node revoke': {
    summary: REVOKE_SUMMARY,
    usage: revokeUsage,
    run: (argv, io) => runGuarded(revokeUsage, argv, io, () => {
      const args = parseArgs(argv, revokeSpec);
      const r = revokeNode({
        keysDir: args.keys,
        ...(args.name === undefined ? {} : { name: args.name }),
        ...(args.serial === undefined ? {} : { serial: args.serial }),
        ...(args['node-id'] === undefined ? {} : { nodeId: args['node-id'] }),
        reason: args.reason as RevocationReason,
      });
      if (r.added.length === 0) {
        io.out(`already revoked in version ${r.signed.version} (${r.path}); nothing changed`);
        return;
      }
      for (const e of r.added) {
        io.out(`revoked ${e.name === '' ? '(unnamed)' : e.name}: serial ${e.serial ?? '-'}, node id ${e.nodeId === null ? '-' : toHex(e.nodeId)}, reason ${e.reason}`);
      }
      io.out(`revocation list version ${r.signed.version} written to ${r.path}`);
      io.out(distributionHint(r.path));
    }),
  },
  'revocation show': {
    summary: SHOW_SUMMARY,
    usage: showUsage,
    run: (argv, io) => runGuarded(showUsage, argv, io, () => {
      const args = parseArgs(argv, showSpec);
      const backend = defaultBackend();
      const pub = readAuthorityPublic(authorityDir(args.keys));
      const current = readRevocationState(args.keys, pub, backend);
      if (current === null) {
        io.out(`no revocation list has been signed yet (${revocationStatePath(args.keys)} does not exist)`);
        return;
      }
      io.out(`revocation list version ${current.version} for cluster ${current.cluster}, issued ${new Date(current.list.issuedAt).toISOString()}, ${current.list.entries.length} entries`);
      for (const e of current.list.entries) {
        io.out(`  ${(e.name === '' ? '(unnamed)' : e.name).padEnd(20)} ${e.reason.padEnd(11)} ${new Date(e.revokedAt).toISOString()}  serial ${e.serial ?? '-'}  node ${e.nodeId === null ? '-' : toHex(e.nodeId).slice(0, 16)}`);
      }
    }),
  },
};
