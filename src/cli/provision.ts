/**
 * Provisioning commands: `authority init`, `node issue` and `provision-cluster`. Each is a plain
 * function (usable from scripts and tests) plus an entry in `provisionCommands`, which
 * src/cli/main.ts dispatches to.
 *
 * Layout under the keys folder (keys/README.md):
 *   <keys>/authority/authority.key, authority.pub
 *   <keys>/nodes/<name>/node.key, node.kx.key, node.cert
 *
 * The one rule that matters: an existing key is never overwritten without --force. Re-running a
 * provisioning command is always safe; it keeps what exists and reports it.
 */
import { join } from 'node:path';
import { HearsayError, isHearsayError } from '../errors.js';
import { createBackend } from '../identity/backends.js';
import { toHex } from '../identity/bytes.js';
import {
  MAX_ROLES,
  NAME_PATTERN,
  ROLE_PATTERN,
  certificateFingerprint,
  issueCertificate,
  normalizeRoles,
  verifyCertificate,
  type SignedCertificate,
} from '../identity/certificate.js';
import { AUTHORITY_KEY_FILE, AUTHORITY_PUB_FILE, initAuthority, loadAuthority, type Authority } from '../identity/authority.js';
import { DEFAULT_VALID_DAYS, MAX_VALID_DAYS, parseManifest, readManifestFile, type ClusterManifest, type ManifestNode } from '../identity/cluster-manifest.js';
import { fileExists, keyExistsError, readSecretFile } from '../identity/key-file.js';
import { kxPublicKeyOf } from '../identity/kx.js';
import {
  generateNodeKeys,
  nodeIdentityPaths,
  readCertificateFile,
  writeCertificateFile,
  writeNodeIdentity,
  type NodeKeys,
} from '../identity/node-identity.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { formatFlags, parseArgs, type ArgSpec } from './args.js';
import { runGuarded, type Command } from './command.js';

const DAY_MS = 86_400_000;
/**
 * Certificates start 5 minutes in the past, so a node whose clock lags the provisioning machine's
 * can use its certificate at once (certificate authorities commonly backdate for the same reason).
 */
const BACKDATE_MS = 5 * 60_000;

export function authorityDir(keysDir: string): string {
  return join(keysDir, 'authority');
}

export function nodeDir(keysDir: string, name: string): string {
  return join(keysDir, 'nodes', name);
}

/**
 * Provisioning follows ARCHITECTURE.md in using the portable reference backend; signatures are
 * deterministic (RFC 8032 §5.1.6), so the node backend would produce the same bytes.
 */
function defaultBackend(): SignatureBackend {
  return createBackend('noble');
}

// ---------------------------------------------------------------------------------------------
// authority init

export interface AuthorityInitOptions {
  keysDir: string;
  cluster: string;
  force?: boolean;
  now?: number;
}

export function authorityInit(options: AuthorityInitOptions): { dir: string; cluster: string; publicKey: Uint8Array } {
  const dir = authorityDir(options.keysDir);
  const publicKey = initAuthority(dir, {
    cluster: options.cluster,
    force: options.force === true,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return { dir, cluster: options.cluster, publicKey };
}

// ---------------------------------------------------------------------------------------------
// node issue

export interface IssueNodeOptions {
  keysDir: string;
  name: string;
  tenant: string;
  roles?: readonly string[];
  validDays?: number;
  force?: boolean;
  backend?: SignatureBackend;
  now?: number;
}

export interface IssuedNode {
  dir: string;
  cert: SignedCertificate;
  /** True when --force replaced existing files. */
  replaced: boolean;
}

export function issueNode(options: IssueNodeOptions): IssuedNode {
  const backend = options.backend ?? defaultBackend();
  const authority = loadAuthorityForIssuing(options.keysDir, backend);
  try {
    return issueWithAuthority(authority, options.keysDir, {
      name: options.name,
      tenant: options.tenant,
      roles: normalizeRoles(options.roles ?? []),
      validDays: options.validDays ?? DEFAULT_VALID_DAYS,
    }, options.force === true, options.now ?? Date.now(), backend);
  } finally {
    authority.seed.fill(0);
  }
}

function issueWithAuthority(
  authority: Authority,
  keysDir: string,
  node: ManifestNode,
  force: boolean,
  now: number,
  backend: SignatureBackend,
): IssuedNode {
  const dir = nodeDir(keysDir, node.name);
  const paths = nodeIdentityPaths(dir);
  const existing = [paths.key, paths.kxKey, paths.cert].filter(fileExists);
  if (!force && existing.length > 0) throw keyExistsError(existing[0]!);
  const keys = generateNodeKeys();
  try {
    const cert = certify(authority, keys, node, now, backend);
    writeNodeIdentity(dir, { ...keys, cert }, { force });
    return { dir, cert, replaced: existing.length > 0 };
  } finally {
    keys.seed.fill(0);
    keys.kxSecret.fill(0);
  }
}

function certify(authority: Authority, keys: Pick<NodeKeys, 'nodeId' | 'kxPublic'>, node: ManifestNode, now: number, backend: SignatureBackend): SignedCertificate {
  return issueCertificate(
    {
      cluster: authority.cluster,
      nodeId: keys.nodeId,
      kx: keys.kxPublic,
      name: node.name,
      tenant: node.tenant,
      roles: node.roles,
      notBefore: now - BACKDATE_MS,
      notAfter: now + node.validDays * DAY_MS,
    },
    authority.seed,
    backend,
  );
}

function loadAuthorityForIssuing(keysDir: string, backend: SignatureBackend): Authority {
  const dir = authorityDir(keysDir);
  for (const file of [AUTHORITY_PUB_FILE, AUTHORITY_KEY_FILE]) {
    const path = join(dir, file);
    if (!fileExists(path)) {
      throw new HearsayError('HEARSAY_ERR_KEY_FILE', `${path} does not exist; create the authority first with \`hearsay authority init --keys ${keysDir} --cluster NAME\``);
    }
  }
  return loadAuthority(dir, backend);
}

// ---------------------------------------------------------------------------------------------
// provision-cluster

export interface ProvisionClusterOptions {
  keysDir: string;
  manifest: ClusterManifest;
  /** Replace existing node keys. Never replaces the authority (that is `authority init --force`). */
  force?: boolean;
  backend?: SignatureBackend;
  now?: number;
}

export type NodeStatus = 'issued' | 'replaced' | 'kept' | 'certified';

export interface NodeOutcome {
  name: string;
  status: NodeStatus;
  dir: string;
  /** Fingerprint of the node's certificate after this run. */
  fingerprint: string;
  /** Things the operator should know about a kept node (e.g. its certificate differs from the manifest). */
  warnings: string[];
}

export interface ProvisionResult {
  authority: { dir: string; cluster: string; publicKey: Uint8Array; created: boolean };
  nodes: NodeOutcome[];
}

type Plan = { node: ManifestNode; action: 'issue' | 'replace' | 'keep' | 'certify' };

export function provisionCluster(options: ProvisionClusterOptions): ProvisionResult {
  const backend = options.backend ?? defaultBackend();
  const now = options.now ?? Date.now();
  const force = options.force === true;
  const { keysDir } = options;
  // Validated again even when built in code: node names become folder names.
  const manifest = parseManifest(options.manifest);

  // Plan every node before writing anything, so a refusal leaves the folder as it was.
  const plans: Plan[] = manifest.nodes.map((node) => ({ node, action: planNode(nodeDir(keysDir, node.name), force) }));

  const dir = authorityDir(keysDir);
  const keyExists = fileExists(join(dir, AUTHORITY_KEY_FILE));
  const pubExists = fileExists(join(dir, AUTHORITY_PUB_FILE));
  let created = false;
  if (!keyExists && !pubExists) {
    initAuthority(dir, { cluster: manifest.cluster, now });
    created = true;
  } else if (keyExists !== pubExists) {
    const missing = join(dir, keyExists ? AUTHORITY_PUB_FILE : AUTHORITY_KEY_FILE);
    throw new HearsayError('HEARSAY_ERR_KEY_FILE', `the authority in ${dir} is incomplete: ${missing} is missing; restore it, or replace the authority with \`hearsay authority init --force\``);
  }
  const authority = loadAuthority(dir, backend);
  try {
    if (authority.cluster !== manifest.cluster) {
      throw new HearsayError(
        'HEARSAY_ERR_MANIFEST',
        `manifest cluster ${manifest.cluster} does not match the authority in ${dir} (cluster ${authority.cluster}); use another --keys folder, or replace the authority with \`hearsay authority init --force\` (its certificates then stop being trusted)`,
      );
    }
    const nodes = plans.map((plan) => runPlan(plan, authority, keysDir, now, backend));
    return { authority: { dir, cluster: authority.cluster, publicKey: authority.publicKey, created }, nodes };
  } finally {
    authority.seed.fill(0);
  }
}

function planNode(dir: string, force: boolean): Plan['action'] {
  const paths = nodeIdentityPaths(dir);
  const has = { key: fileExists(paths.key), kxKey: fileExists(paths.kxKey), cert: fileExists(paths.cert) };
  const count = Number(has.key) + Number(has.kxKey) + Number(has.cert);
  if (count === 0) return 'issue';
  if (force) return 'replace';
  if (count === 3) return 'keep';
  // Both keys but no certificate: certify the existing keys (e.g. after deleting an expired node.cert).
  if (has.key && has.kxKey) return 'certify';
  const present = [has.key ? paths.key : '', has.kxKey ? paths.kxKey : '', has.cert ? paths.cert : ''].filter((p) => p !== '');
  throw new HearsayError(
    'HEARSAY_ERR_KEY_EXISTS',
    `${dir} is incomplete (only ${present.join(', ')} exist); refusing to overwrite them (pass --force to replace the node's keys)`,
  );
}

function runPlan(plan: Plan, authority: Authority, keysDir: string, now: number, backend: SignatureBackend): NodeOutcome {
  const { node } = plan;
  const dir = nodeDir(keysDir, node.name);
  const paths = nodeIdentityPaths(dir);
  switch (plan.action) {
    case 'issue':
    case 'replace': {
      const issued = issueWithAuthority(authority, keysDir, node, plan.action === 'replace', now, backend);
      return { name: node.name, status: plan.action === 'replace' ? 'replaced' : 'issued', dir, fingerprint: certificateFingerprint(issued.cert), warnings: [] };
    }
    case 'certify': {
      const seed = readSecretFile(paths.key, 'hearsay-ed25519-secret');
      const kxSecret = readSecretFile(paths.kxKey, 'hearsay-x25519-secret');
      try {
        const cert = certify(authority, { nodeId: backend.publicKeyOf(seed), kxPublic: kxPublicKeyOf(kxSecret) }, node, now, backend);
        writeCertificateFile(paths.cert, cert);
        return { name: node.name, status: 'certified', dir, fingerprint: certificateFingerprint(cert), warnings: [] };
      } finally {
        seed.fill(0);
        kxSecret.fill(0);
      }
    }
    case 'keep': {
      const warnings: string[] = [];
      let fingerprint = '';
      try {
        const cert = readCertificateFile(paths.cert);
        fingerprint = certificateFingerprint(cert);
        warnings.push(...keptCertificateWarnings(cert, node, authority, now, backend));
      } catch (e) {
        if (!isHearsayError(e)) throw e;
        warnings.push(`its certificate cannot be read (${e.message})`);
      }
      return { name: node.name, status: 'kept', dir, fingerprint, warnings };
    }
  }
}

/** Why a kept certificate may not be what the manifest asks for; the fix is always --force. */
function keptCertificateWarnings(cert: SignedCertificate, node: ManifestNode, authority: Authority, now: number, backend: SignatureBackend): string[] {
  const warnings: string[] = [];
  const verdict = verifyCertificate(cert, { authorityPublicKey: authority.publicKey, cluster: authority.cluster, now, backend });
  if (!verdict.ok) warnings.push(`its certificate is not valid for this authority (${verdict.reason})`);
  if (cert.tenant !== node.tenant) warnings.push(`its certificate has tenant ${cert.tenant}, the manifest says ${node.tenant}`);
  const roles = normalizeRoles(node.roles);
  if (cert.roles.length !== roles.length || cert.roles.some((r, i) => r !== roles[i])) {
    warnings.push(`its certificate has roles [${cert.roles.join(', ')}], the manifest says [${roles.join(', ')}]`);
  }
  return warnings;
}

// ---------------------------------------------------------------------------------------------
// Command table

const KEYS_FLAG = { type: 'string', description: 'folder holding authority/ and nodes/', default: 'keys', metavar: 'DIR' } as const;

const authorityInitSpec = {
  keys: KEYS_FLAG,
  cluster: {
    type: 'string',
    description: 'cluster name, bound into every certificate',
    required: true,
    pattern: /^[a-z0-9][a-z0-9-]{0,62}$/,
    patternText: '1-63 characters of a-z, 0-9 and -',
    metavar: 'NAME',
  },
  force: { type: 'boolean', description: 'replace an existing authority (its certificates stop being trusted)' },
} as const satisfies ArgSpec;

const nodeIssueSpec = {
  keys: KEYS_FLAG,
  name: { type: 'string', description: 'node name (also its folder under nodes/)', required: true, pattern: NAME_PATTERN, patternText: '1-63 characters of a-z, 0-9, ., _ and -, starting with a letter or digit', metavar: 'NAME' },
  tenant: { type: 'string', description: 'tenant the node belongs to', required: true, pattern: NAME_PATTERN, patternText: '1-63 characters of a-z, 0-9, ., _ and -, starting with a letter or digit', metavar: 'TENANT' },
  roles: { type: 'list', description: 'comma-separated roles granted by the policy', pattern: ROLE_PATTERN, patternText: '1-32 characters of a-z, 0-9, ., _ and -', maxItems: MAX_ROLES, metavar: 'A,B' },
  'valid-days': { type: 'int', description: 'certificate lifetime in days', default: DEFAULT_VALID_DAYS, min: 1, max: MAX_VALID_DAYS, metavar: 'DAYS' },
  force: { type: 'boolean', description: "replace the node's existing keys and certificate" },
} as const satisfies ArgSpec;

const provisionClusterSpec = {
  manifest: { type: 'string', description: 'cluster manifest (JSON; see scripts/cluster.example.json)', required: true, metavar: 'FILE' },
  keys: KEYS_FLAG,
  force: { type: 'boolean', description: 'replace existing node keys (never the authority)' },
} as const satisfies ArgSpec;

function usageText(synopsis: string, summary: string, spec: ArgSpec): string {
  return [`usage: hearsay ${synopsis}`, '', summary, '', 'flags:', ...formatFlags(spec)].join('\n');
}

const AUTHORITY_INIT_SUMMARY = 'Create the cluster authority key pair (the trust anchor every node is configured with).';
const NODE_ISSUE_SUMMARY = "Create a node's Ed25519 and X25519 keys and sign its certificate with the authority.";
const PROVISION_CLUSTER_SUMMARY = 'Create the authority (if missing) and every node of a manifest; existing keys are kept unless --force.';

const authorityInitUsage = usageText('authority init --cluster NAME [--keys DIR] [--force]', AUTHORITY_INIT_SUMMARY, authorityInitSpec);
const nodeIssueUsage = usageText('node issue --name NAME --tenant TENANT [--roles A,B] [--valid-days DAYS] [--keys DIR] [--force]', NODE_ISSUE_SUMMARY, nodeIssueSpec);
const provisionClusterUsage = usageText('provision-cluster --manifest FILE [--keys DIR] [--force]', PROVISION_CLUSTER_SUMMARY, provisionClusterSpec);

export const provisionCommands: Record<string, Command> = {
  'authority init': {
    summary: AUTHORITY_INIT_SUMMARY,
    usage: authorityInitUsage,
    run: (argv, io) =>
      runGuarded(authorityInitUsage, argv, io, () => {
        const args = parseArgs(argv, authorityInitSpec);
        const result = authorityInit({ keysDir: args.keys, cluster: args.cluster, force: args.force });
        io.out(`authority for cluster ${result.cluster} written to ${result.dir} (${AUTHORITY_KEY_FILE} is secret, mode 0600; keep it offline)`);
        io.out(`authority public key: ${toHex(result.publicKey)}`);
        io.out('set it as "authorityPublicKey" in every node config');
      }),
  },
  'node issue': {
    summary: NODE_ISSUE_SUMMARY,
    usage: nodeIssueUsage,
    run: (argv, io) =>
      runGuarded(nodeIssueUsage, argv, io, () => {
        const args = parseArgs(argv, nodeIssueSpec);
        const issued = issueNode({
          keysDir: args.keys,
          name: args.name,
          tenant: args.tenant,
          roles: args.roles,
          validDays: args['valid-days'],
          force: args.force,
        });
        const c = issued.cert;
        io.out(`${issued.replaced ? 'replaced' : 'issued'} ${c.name} in ${issued.dir}`);
        io.out(`  node id      ${toHex(c.nodeId)}`);
        io.out(`  tenant       ${c.tenant}`);
        io.out(`  roles        ${c.roles.length === 0 ? '(none)' : c.roles.join(', ')}`);
        io.out(`  valid until  ${new Date(c.notAfter).toISOString()}`);
        io.out(`  fingerprint  ${certificateFingerprint(c)}`);
      }),
  },
  'provision-cluster': {
    summary: PROVISION_CLUSTER_SUMMARY,
    usage: provisionClusterUsage,
    run: (argv, io) =>
      runGuarded(provisionClusterUsage, argv, io, () => {
        const args = parseArgs(argv, provisionClusterSpec);
        const manifest = readManifestFile(args.manifest);
        const result = provisionCluster({ keysDir: args.keys, manifest, force: args.force });
        const a = result.authority;
        io.out(`authority ${a.created ? 'created' : 'kept'} in ${a.dir} (cluster ${a.cluster})`);
        const width = Math.max(0, ...result.nodes.map((n) => n.name.length));
        const counts: Record<NodeStatus, number> = { issued: 0, replaced: 0, kept: 0, certified: 0 };
        for (const n of result.nodes) {
          counts[n.status]++;
          io.out(`${n.status.padEnd(9)} ${n.name.padEnd(width)}  ${(n.fingerprint === '' ? '?' : n.fingerprint.slice(0, 16)).padEnd(16)}  ${n.dir}`);
          for (const w of n.warnings) io.err(`warning: ${n.name}: ${w}; re-run with --force to replace it`);
        }
        io.out(`done: ${counts.issued} issued, ${counts.replaced} replaced, ${counts.certified} certified, ${counts.kept} kept`);
        io.out(`authority public key (authorityPublicKey in node configs): ${toHex(a.publicKey)}`);
      }),
  },
};
