/**
 * Policy commands: `hearsay policy check FILE`, `hearsay policy sign FILE`, `hearsay policy token`.
 *
 * `sign` validates the document (every problem listed with its path), checks it is for the
 * authority's cluster, and writes the signed file to distribute (policy/README.md): put it in any
 * node's `policyFile`; nodes adopt it and pass it on by gossip. An existing output file is never
 * replaced without --force.
 */
import { readFileSync, statSync } from 'node:fs';
import { HearsayError } from '../errors.js';
import { createBackend } from '../identity/backends.js';
import { loadAuthority } from '../identity/authority.js';
import { fileExists } from '../identity/key-file.js';
import { checkPolicyText, MAX_POLICY_BYTES, policyError, type PolicyDocument } from '../policy/policy-document.js';
import { signPolicy, writeSignedPolicyFile, type SignedPolicy } from '../policy/signed-documents.js';
import { generateToken } from '../policy/tokens.js';
import { formatFlags, parseArgs, type ArgSpec } from './args.js';
import { runGuarded, type Command } from './command.js';
import { authorityDir } from './provision.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import { createHash } from 'node:crypto';

/** Reads and validates a policy file; throws HEARSAY_ERR_POLICY listing every problem with its path. */
export function readPolicyFile(path: string): { text: string; document: PolicyDocument } {
  let text: string;
  try {
    if (statSync(path).size > MAX_POLICY_BYTES) throw new HearsayError('HEARSAY_ERR_POLICY', `policy ${path} is larger than ${MAX_POLICY_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof HearsayError) throw e;
    const code = (e as { code?: string }).code;
    throw new HearsayError('HEARSAY_ERR_POLICY', `policy ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'unknown error'})`}`);
  }
  const r = checkPolicyText(text);
  if (!r.ok) throw policyError(`policy ${path}`, r.issues ?? []);
  return { text, document: r.value };
}

export function defaultSignedPath(path: string): string {
  return path.endsWith('.json') ? `${path.slice(0, -5)}.signed.json` : `${path}.signed.json`;
}

export interface SignPolicyOptions {
  keysDir: string;
  file: string;
  out?: string;
  force?: boolean;
  backend?: SignatureBackend;
  now?: number;
}

export function signPolicyFile(options: SignPolicyOptions): { out: string; signed: SignedPolicy } {
  const { text, document } = readPolicyFile(options.file);
  const out = options.out ?? defaultSignedPath(options.file);
  if (options.force !== true && fileExists(out)) {
    throw new HearsayError('HEARSAY_ERR_KEY_EXISTS', `${out} already exists; refusing to overwrite it (pass --force to replace it)`);
  }
  const backend = options.backend ?? createBackend('noble');
  const authority = loadAuthority(authorityDir(options.keysDir), backend);
  try {
    if (document.cluster !== authority.cluster) {
      throw new HearsayError('HEARSAY_ERR_POLICY', `policy ${options.file} is for cluster ${document.cluster}, but the authority in ${authorityDir(options.keysDir)} is for cluster ${authority.cluster}`);
    }
    const signed = signPolicy(text, authority.seed, backend);
    writeSignedPolicyFile(out, signed, { force: options.force === true, ...(options.now === undefined ? {} : { now: options.now }) });
    return { out, signed };
  } finally {
    authority.seed.fill(0);
  }
}

/** Splits `FILE --flags...` (FILE first); the strict flag parser takes no positional arguments. */
function fileAndFlags(argv: readonly string[], what: string): [string, string[]] {
  const first = argv[0];
  if (first === undefined || first.startsWith('--')) throw new HearsayError('HEARSAY_ERR_USAGE', `${what}: the policy FILE comes first`);
  return [first, argv.slice(1)];
}

const KEYS_FLAG = { type: 'string', description: 'folder holding authority/ and nodes/', default: 'keys', metavar: 'DIR' } as const;

const signSpec = {
  keys: KEYS_FLAG,
  out: { type: 'string', description: 'where to write the signed document (default: FILE with .signed.json)', metavar: 'FILE' },
  force: { type: 'boolean', description: 'replace an existing output file' },
} as const satisfies ArgSpec;

const checkSpec = {} as const satisfies ArgSpec;

const tokenSpec = {
  name: { type: 'string', description: 'a name for the token (shown in audit logs)', required: true, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, patternText: '1-63 characters of A-Z, a-z, 0-9, ., _ and -', metavar: 'NAME' },
  scope: { type: 'string', description: 'cluster, or tenant:<name>', default: 'cluster', pattern: /^(cluster|tenant:[a-z0-9][a-z0-9._-]{0,62})$/, patternText: '"cluster" or "tenant:<name>"', metavar: 'SCOPE' },
  access: { type: 'string', description: 'read-only or admin', default: 'read-only', pattern: /^(read-only|admin)$/, patternText: 'read-only or admin', metavar: 'ACCESS' },
} as const satisfies ArgSpec;

function usageText(synopsis: string, summary: string, spec: ArgSpec): string {
  const flags = formatFlags(spec);
  return [`usage: hearsay ${synopsis}`, '', summary, ...(flags.length === 0 ? [] : ['', 'flags:', ...flags])].join('\n');
}

const SIGN_SUMMARY = 'Validate a policy document and sign it with the authority, for distribution (policy/README.md).';
const CHECK_SUMMARY = 'Validate a policy document; every problem is listed with its path in the document.';
const TOKEN_SUMMARY = 'Generate an admin API token; prints the token once and the hash to put in the policy.';
const signUsage = usageText('policy sign FILE [--out FILE] [--keys DIR] [--force]', SIGN_SUMMARY, signSpec);
const checkUsage = usageText('policy check FILE', CHECK_SUMMARY, checkSpec);
const tokenUsage = usageText('policy token --name NAME [--scope cluster|tenant:NAME] [--access read-only|admin]', TOKEN_SUMMARY, tokenSpec);

export const policyCommands: Record<string, Command> = {
  'policy check': {
    summary: CHECK_SUMMARY,
    usage: checkUsage,
    run: (argv, io) => runGuarded(checkUsage, argv, io, () => {
      const [file, rest] = fileAndFlags(argv, 'policy check');
      parseArgs(rest, checkSpec);
      const { document: d } = readPolicyFile(file);
      io.out(`policy ${file} is valid: cluster ${d.cluster}, version ${d.version}`);
      io.out(`  ${d.tenants.length} tenants, ${d.namespaces.length} shared namespaces, ${d.roles.length} roles, ${d.grants.length} grants, ${d.limits.rules.length} limit rules, ${d.tokens.length} tokens`);
    }),
  },
  'policy sign': {
    summary: SIGN_SUMMARY,
    usage: signUsage,
    run: (argv, io) => runGuarded(signUsage, argv, io, () => {
      const [file, rest] = fileAndFlags(argv, 'policy sign');
      const args = parseArgs(rest, signSpec);
      const { out, signed } = signPolicyFile({ keysDir: args.keys, file, force: args.force, ...(args.out === undefined ? {} : { out: args.out }) });
      io.out(`signed policy version ${signed.version} for cluster ${signed.cluster} written to ${out}`);
      io.out(`  document sha256 ${createHash('sha256').update(signed.documentText).digest('hex')}`);
      io.out(`distribute it: set "policyFile": "${out}" in any node's config (read at start and every policyReloadIntervalMs); nodes adopt a higher version and pass it on by gossip`);
    }),
  },
  'policy token': {
    summary: TOKEN_SUMMARY,
    usage: tokenUsage,
    run: (argv, io) => runGuarded(tokenUsage, argv, io, () => {
      const args = parseArgs(argv, tokenSpec);
      const { token, sha256 } = generateToken();
      io.out(`token: ${token}`);
      io.out('(shown once: give it to its user; Hearsay stores only its hash)');
      io.out('add this entry to "tokens" in the policy, then sign and distribute the policy:');
      io.out(JSON.stringify({ name: args.name, sha256, scope: args.scope, access: args.access }));
    }),
  },
};
