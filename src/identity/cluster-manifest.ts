/**
 * A cluster manifest: the list of nodes `provision-cluster` makes keys and certificates for.
 *
 *   {"cluster": "prod", "validDays": 365,
 *    "nodes": [{"name": "edge-1", "tenant": "acme", "roles": ["publisher"], "validDays": 90}]}
 *
 * Validation is strict (unknown fields are errors, so a typo like "role" is caught rather than
 * silently issuing a certificate without roles) and every error names its path inside the
 * document, e.g. `nodes[2].tenant`.
 */
import { readFileSync, statSync } from 'node:fs';
import { HearsayError } from '../errors.js';
import { CLUSTER_PATTERN, MAX_ROLES, NAME_PATTERN, ROLE_PATTERN, normalizeRoles } from './certificate.js';

export interface ManifestNode {
  name: string;
  tenant: string;
  roles: string[];
  validDays: number;
}

export interface ClusterManifest {
  cluster: string;
  nodes: ManifestNode[];
}

export const DEFAULT_VALID_DAYS = 365;
/** Ten years: longer-lived certificates outlive any key hygiene. */
export const MAX_VALID_DAYS = 3650;
/** Far above any cluster Hearsay targets; bounds the work one manifest can ask for. */
export const MAX_MANIFEST_NODES = 10_000;
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export function readManifestFile(path: string): ClusterManifest {
  let text: string;
  try {
    if (statSync(path).size > MAX_MANIFEST_BYTES) throw manifestError(path, `is larger than ${MAX_MANIFEST_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof HearsayError) throw e;
    const code = (e as { code?: unknown }).code;
    throw manifestError(path, code === 'ENOENT' ? 'does not exist' : `cannot be read (${typeof code === 'string' ? code : 'unknown error'})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw manifestError(path, `is not valid JSON: ${(e as Error).message}`);
  }
  return parseManifest(doc, path);
}

/** Validates a parsed manifest; `source` names it in errors. */
export function parseManifest(doc: unknown, source = 'manifest'): ClusterManifest {
  const fail = (at: string, problem: string): never => {
    throw new HearsayError('HEARSAY_ERR_MANIFEST', `${source}: ${at} ${problem}`);
  };
  const root = object(doc, '(document)', fail);
  onlyKeys(root, ['cluster', 'validDays', 'nodes'], '', fail);
  const cluster = root['cluster'];
  if (typeof cluster !== 'string' || !CLUSTER_PATTERN.test(cluster)) fail('cluster', `must be 1-63 characters of a-z, 0-9 and - (got ${show(cluster)})`);
  const defaultDays = root['validDays'] === undefined ? DEFAULT_VALID_DAYS : days(root['validDays'], 'validDays', fail);
  const nodes = root['nodes'];
  if (!Array.isArray(nodes)) return fail('nodes', `must be an array (got ${show(nodes)})`);
  if (nodes.length > MAX_MANIFEST_NODES) fail('nodes', `has ${nodes.length} entries; at most ${MAX_MANIFEST_NODES} are allowed`);
  const seen = new Map<string, number>();
  const out: ManifestNode[] = nodes.map((entry: unknown, i: number) => {
    const at = `nodes[${i}]`;
    const node = object(entry, at, fail);
    onlyKeys(node, ['name', 'tenant', 'roles', 'validDays'], `${at}.`, fail);
    const name = node['name'];
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      return fail(`${at}.name`, `must be 1-63 characters of a-z, 0-9, ., _ and -, starting with a letter or digit (got ${show(name)})`);
    }
    const previous = seen.get(name);
    if (previous !== undefined) fail(`${at}.name`, `duplicates nodes[${previous}].name (${name})`);
    seen.set(name, i);
    const tenant = node['tenant'];
    if (typeof tenant !== 'string' || !NAME_PATTERN.test(tenant)) {
      return fail(`${at}.tenant`, `must be 1-63 characters of a-z, 0-9, ., _ and -, starting with a letter or digit (got ${show(tenant)})`);
    }
    const rolesValue = node['roles'] ?? [];
    if (!Array.isArray(rolesValue)) return fail(`${at}.roles`, `must be an array of role names (got ${show(rolesValue)})`);
    rolesValue.forEach((role: unknown, j: number) => {
      if (typeof role !== 'string' || !ROLE_PATTERN.test(role)) {
        fail(`${at}.roles[${j}]`, `must be 1-32 characters of a-z, 0-9, ., _ and -, starting with a letter or digit (got ${show(role)})`);
      }
    });
    const roles = normalizeRoles(rolesValue as string[]);
    if (roles.length > MAX_ROLES) fail(`${at}.roles`, `has ${roles.length} roles; at most ${MAX_ROLES} fit in a certificate`);
    const validDays = node['validDays'] === undefined ? defaultDays : days(node['validDays'], `${at}.validDays`, fail);
    return { name, tenant, roles, validDays };
  });
  return { cluster: cluster as string, nodes: out };
}

type Fail = (at: string, problem: string) => never;

function object(value: unknown, at: string, fail: Fail): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(at, `must be a JSON object (got ${show(value)})`);
  return value as Record<string, unknown>;
}

function onlyKeys(value: Record<string, unknown>, allowed: string[], prefix: string, fail: Fail): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${prefix}${key}`, `is not a known field (allowed: ${allowed.join(', ')})`);
  }
}

function days(value: unknown, at: string, fail: Fail): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_VALID_DAYS) {
    return fail(at, `must be an integer from 1 to ${MAX_VALID_DAYS} (got ${show(value)})`);
  }
  return value;
}

/** A short, safe rendering of a bad value (manifests hold no secrets, but keep messages small). */
function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function manifestError(path: string, problem: string): HearsayError {
  return new HearsayError('HEARSAY_ERR_MANIFEST', `manifest ${path} ${problem}`);
}
