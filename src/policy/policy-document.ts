/**
 * The policy document: what policy/README.md describes, validated strictly. Unknown fields are
 * errors (a typo such as "topic" for "topics" would otherwise silently grant nothing, or worse,
 * be read as something else), and every error names its path inside the document, e.g.
 * `grants[3].topics[0]: must not start with "/"`, so the operator finds it at once.
 *
 * Validation collects every problem (up to a cap) instead of stopping at the first, so one run of
 * `hearsay policy check` lists them all.
 *
 * The rules that keep tenants apart are enforced here, at validation time, not only at decision
 * time: a grant's patterns are always relative to a namespace (`<tenant>/` or a declared shared
 * namespace), and a shared namespace can never have a tenant's name, so no grant can ever reach
 * into another tenant's data.
 */
import { CLUSTER_PATTERN, NAME_PATTERN, ROLE_PATTERN } from '../identity/certificate.js';
import { HearsayError, fail, ok, type Result } from '../errors.js';
import { patternProblem } from './glob.js';

export const POLICY_KIND = 'hearsay-policy';
/**
 * Largest policy document, as signed bytes. It travels in one stream frame (default 4 MiB) and is
 * re-validated by every node; 256 KiB holds thousands of grants.
 */
export const MAX_POLICY_BYTES = 256 * 1024;
export const MAX_TENANTS = 4096;
export const MAX_NAMESPACES = 256;
export const MAX_ROLES_DECLARED = 1024;
export const MAX_GRANTS = 4096;
export const MAX_PATTERNS_PER_GRANT = 256;
export const MAX_LIMIT_RULES = 1024;
export const MAX_TOKENS = 1024;
/** Limits a policy may set: at least one packet per second, at most what config.ts allows. */
export const PACKETS_PER_SECOND_RANGE = { min: 1, max: 1_000_000 } as const;
export const MESSAGE_BYTES_RANGE = { min: 1, max: 60_000 } as const;
/** Most problems reported for one document; beyond that the first ones are enough to act on. */
const MAX_ISSUES = 50;

export type PolicyAction = 'publish' | 'subscribe' | 'read' | 'write';
export const POLICY_ACTIONS: readonly PolicyAction[] = ['publish', 'subscribe', 'read', 'write'];
export const TOPIC_ACTIONS: ReadonlySet<PolicyAction> = new Set(['publish', 'subscribe']);
export const KEY_ACTIONS: ReadonlySet<PolicyAction> = new Set(['read', 'write']);

export interface PolicyGrant {
  /** Tenant names, or ["*"] for every tenant the policy declares. */
  readonly tenants: readonly string[];
  /** Role names (any one suffices), or ["*"] for every node of those tenants, with or without roles. */
  readonly roles: readonly string[];
  readonly allow: readonly PolicyAction[];
  /** Topic patterns, relative to the namespace; only with publish/subscribe. */
  readonly topics: readonly string[];
  /** Key patterns, relative to the namespace; only with read/write. */
  readonly keys: readonly string[];
  /** A declared shared namespace; null means each matching node's own tenant namespace. */
  readonly namespace: string | null;
}

export interface LimitValues {
  readonly packetsPerSecond?: number;
  readonly maxMessageBytes?: number;
}

export interface LimitRule extends LimitValues {
  /** null: every tenant. */
  readonly tenants: readonly string[] | null;
  /** null: every node, with or without roles. */
  readonly roles: readonly string[] | null;
}

export type TokenAccess = 'read-only' | 'admin';

export interface PolicyToken {
  readonly name: string;
  /** SHA-256 of the token, 64 lowercase hex characters. The token itself is never in the policy. */
  readonly sha256: string;
  /** "cluster" or "tenant:<name>". */
  readonly scope: string;
  readonly access: TokenAccess;
}

export interface PolicyDocument {
  readonly kind: typeof POLICY_KIND;
  readonly cluster: string;
  readonly version: number;
  readonly description: string;
  readonly tenants: readonly string[];
  readonly namespaces: readonly string[];
  readonly roles: readonly string[];
  readonly grants: readonly PolicyGrant[];
  readonly limits: { readonly default: LimitValues; readonly rules: readonly LimitRule[] };
  readonly tokens: readonly PolicyToken[];
}

export interface PolicyIssue {
  /** Where in the document, e.g. `grants[3].topics[0]`; empty for the document itself. */
  readonly path: string;
  readonly message: string;
}

export function formatIssue(issue: PolicyIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

type Obj = Record<string, unknown>;

/** A validator with a cursor on the document path and a list of problems found so far. */
class Checker {
  readonly issues: PolicyIssue[] = [];

  add(path: string, message: string): void {
    if (this.issues.length < MAX_ISSUES) this.issues.push({ path, message });
  }

  object(value: unknown, path: string, allowed: readonly string[], required: readonly string[]): Obj | null {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.add(path, 'must be a JSON object');
      return null;
    }
    const o = value as Obj;
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.add(join(path, k), `is not a known field (known: ${allowed.join(', ')})`);
    }
    for (const k of required) if (!Object.hasOwn(o, k)) this.add(join(path, k), 'is required');
    return o;
  }

  array(value: unknown, path: string, max: number, options: { nonEmpty?: boolean } = {}): unknown[] | null {
    if (!Array.isArray(value)) {
      this.add(path, 'must be an array');
      return null;
    }
    if (value.length > max) {
      this.add(path, `must have at most ${max} entries (has ${value.length})`);
      return null;
    }
    if (options.nonEmpty === true && value.length === 0) {
      this.add(path, 'must not be empty');
      return null;
    }
    return value;
  }

  /** An array of unique strings, each passing `check` (which returns a problem or null). */
  names(value: unknown, path: string, max: number, check: (s: string, p: string) => string | null, options: { nonEmpty?: boolean } = {}): string[] {
    const arr = this.array(value, path, max, options);
    if (arr === null) return [];
    const out: string[] = [];
    const seen = new Set<string>();
    arr.forEach((v, i) => {
      const p = `${path}[${i}]`;
      if (typeof v !== 'string') {
        this.add(p, 'must be a string');
        return;
      }
      const problem = check(v, p);
      if (problem !== null) {
        this.add(p, problem);
        return;
      }
      if (seen.has(v)) {
        this.add(p, `duplicate ${JSON.stringify(v)}`);
        return;
      }
      seen.add(v);
      out.push(v);
    });
    return out;
  }

  int(value: unknown, path: string, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      this.add(path, `must be an integer from ${min} to ${max} (got ${show(value)})`);
      return undefined;
    }
    return value;
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return typeof v;
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

const nameRule = (what: string) => (s: string): string | null =>
  NAME_PATTERN.test(s) ? null : `${what} must be 1-63 characters of a-z, 0-9, ., _ and -, starting with a letter or digit (got ${show(s)})`;
const roleRule = (s: string): string | null =>
  ROLE_PATTERN.test(s) ? null : `role must be 1-32 characters of a-z, 0-9, ., _ and -, starting with a letter or digit (got ${show(s)})`;

/**
 * Validates a parsed JSON value as a policy document. Returns the normalized document (defaults
 * filled in) or every problem found, each with its path.
 */
export function checkPolicy(value: unknown): Result<PolicyDocument, 'invalid'> & { issues?: PolicyIssue[] } {
  const c = new Checker();
  const root = c.object(value, '', ['kind', 'cluster', 'version', 'description', 'tenants', 'namespaces', 'roles', 'grants', 'limits', 'tokens'], ['kind', 'cluster', 'version', 'tenants', 'grants']);
  if (root === null) return invalid(c.issues);

  if (Object.hasOwn(root, 'kind') && root['kind'] !== POLICY_KIND) c.add('kind', `must be "${POLICY_KIND}"`);
  const cluster = root['cluster'];
  if (Object.hasOwn(root, 'cluster') && (typeof cluster !== 'string' || !CLUSTER_PATTERN.test(cluster))) {
    c.add('cluster', `must be the cluster name: 1-63 characters of a-z, 0-9 and - (got ${show(cluster)})`);
  }
  const version = Object.hasOwn(root, 'version') ? c.int(root['version'], 'version', 1, Number.MAX_SAFE_INTEGER) : undefined;
  let description = '';
  if (Object.hasOwn(root, 'description')) {
    if (typeof root['description'] !== 'string' || root['description'].length > 2000) c.add('description', 'must be a string of at most 2000 characters');
    else description = root['description'];
  }

  const tenants = Object.hasOwn(root, 'tenants') ? c.names(root['tenants'], 'tenants', MAX_TENANTS, nameRule('tenant')) : [];
  const tenantSet = new Set(tenants);
  const namespaces = Object.hasOwn(root, 'namespaces')
    ? c.names(root['namespaces'], 'namespaces', MAX_NAMESPACES, (s) => {
      const p = nameRule('namespace')(s);
      if (p !== null) return p;
      // A shared namespace named like a tenant would let a grant reach into that tenant's data.
      return tenantSet.has(s) ? `namespace ${show(s)} is also a tenant; a shared namespace must not be a tenant's namespace` : null;
    })
    : [];
  const namespaceSet = new Set(namespaces);
  const roles = Object.hasOwn(root, 'roles') ? c.names(root['roles'], 'roles', MAX_ROLES_DECLARED, roleRule) : [];
  const roleSet = new Set(roles);

  const grants: PolicyGrant[] = [];
  const grantValues = Object.hasOwn(root, 'grants') ? c.array(root['grants'], 'grants', MAX_GRANTS) : null;
  grantValues?.forEach((g, i) => {
    const grant = checkGrant(c, g, `grants[${i}]`, tenantSet, roleSet, namespaceSet);
    if (grant !== null) grants.push(grant);
  });

  const limits = Object.hasOwn(root, 'limits') ? checkLimits(c, root['limits'], tenantSet, roleSet) : { default: {}, rules: [] };
  const tokens = Object.hasOwn(root, 'tokens') ? checkTokens(c, root['tokens'], tenantSet) : [];

  if (c.issues.length > 0 || version === undefined || typeof cluster !== 'string') return invalid(c.issues);
  return ok({
    kind: POLICY_KIND, cluster, version, description, tenants, namespaces, roles, grants, limits, tokens,
  });
}

function checkGrant(c: Checker, value: unknown, path: string, tenants: Set<string>, roles: Set<string>, namespaces: Set<string>): PolicyGrant | null {
  const g = c.object(value, path, ['tenants', 'roles', 'allow', 'topics', 'keys', 'namespace', 'description'], ['tenants', 'roles', 'allow']);
  if (g === null) return null;
  const before = c.issues.length;
  const grantTenants = !Object.hasOwn(g, 'tenants') ? [] : c.names(g['tenants'], `${path}.tenants`, MAX_TENANTS, (s) => {
    if (s === '*') return null;
    return tenants.has(s) ? null : `unknown tenant ${show(s)} (declare it in "tenants")`;
  }, { nonEmpty: true });
  if (grantTenants.includes('*') && grantTenants.length > 1) c.add(`${path}.tenants`, '"*" stands for every tenant and must be alone');
  const grantRoles = !Object.hasOwn(g, 'roles') ? [] : c.names(g['roles'], `${path}.roles`, MAX_ROLES_DECLARED, (s) => {
    if (s === '*') return null;
    return roles.has(s) ? null : `unknown role ${show(s)} (declare it in "roles")`;
  }, { nonEmpty: true });
  if (grantRoles.includes('*') && grantRoles.length > 1) c.add(`${path}.roles`, '"*" stands for every role and must be alone');
  const allow = !Object.hasOwn(g, 'allow') ? [] : c.names(g['allow'], `${path}.allow`, POLICY_ACTIONS.length, (s) =>
    (POLICY_ACTIONS as readonly string[]).includes(s) ? null : `must be one of ${POLICY_ACTIONS.join(', ')} (got ${show(s)})`, { nonEmpty: true }) as PolicyAction[];
  const wantsTopics = allow.some((a) => TOPIC_ACTIONS.has(a));
  const wantsKeys = allow.some((a) => KEY_ACTIONS.has(a));
  let topics: string[] = [];
  let keys: string[] = [];
  if (Object.hasOwn(g, 'topics')) {
    if (!wantsTopics) c.add(`${path}.topics`, 'is only used with "publish" or "subscribe" in "allow"');
    topics = c.names(g['topics'], `${path}.topics`, MAX_PATTERNS_PER_GRANT, patternProblem, { nonEmpty: true });
  } else if (wantsTopics) {
    c.add(`${path}.topics`, 'is required when "allow" has "publish" or "subscribe"');
  }
  if (Object.hasOwn(g, 'keys')) {
    if (!wantsKeys) c.add(`${path}.keys`, 'is only used with "read" or "write" in "allow"');
    keys = c.names(g['keys'], `${path}.keys`, MAX_PATTERNS_PER_GRANT, patternProblem, { nonEmpty: true });
  } else if (wantsKeys) {
    c.add(`${path}.keys`, 'is required when "allow" has "read" or "write"');
  }
  let namespace: string | null = null;
  if (Object.hasOwn(g, 'namespace')) {
    const ns = g['namespace'];
    if (typeof ns !== 'string' || !namespaces.has(ns)) {
      c.add(`${path}.namespace`, `must be a shared namespace declared in "namespaces" (got ${show(ns)}); a tenant's own namespace is implied when it is absent`);
    } else {
      namespace = ns;
    }
  }
  if (Object.hasOwn(g, 'description') && (typeof g['description'] !== 'string' || g['description'].length > 500)) {
    c.add(`${path}.description`, 'must be a string of at most 500 characters');
  }
  if (c.issues.length > before) return null;
  return { tenants: grantTenants, roles: grantRoles, allow, topics, keys, namespace };
}

function checkLimitValues(c: Checker, o: Obj, path: string): LimitValues {
  const out: { packetsPerSecond?: number; maxMessageBytes?: number } = {};
  if (Object.hasOwn(o, 'packetsPerSecond')) {
    const v = c.int(o['packetsPerSecond'], `${path}.packetsPerSecond`, PACKETS_PER_SECOND_RANGE.min, PACKETS_PER_SECOND_RANGE.max);
    if (v !== undefined) out.packetsPerSecond = v;
  }
  if (Object.hasOwn(o, 'maxMessageBytes')) {
    const v = c.int(o['maxMessageBytes'], `${path}.maxMessageBytes`, MESSAGE_BYTES_RANGE.min, MESSAGE_BYTES_RANGE.max);
    if (v !== undefined) out.maxMessageBytes = v;
  }
  return out;
}

function checkLimits(c: Checker, value: unknown, tenants: Set<string>, roles: Set<string>): PolicyDocument['limits'] {
  const o = c.object(value, 'limits', ['default', 'rules'], []);
  if (o === null) return { default: {}, rules: [] };
  let defaults: LimitValues = {};
  if (Object.hasOwn(o, 'default')) {
    const d = c.object(o['default'], 'limits.default', ['packetsPerSecond', 'maxMessageBytes'], []);
    if (d !== null) defaults = checkLimitValues(c, d, 'limits.default');
  }
  const rules: LimitRule[] = [];
  const arr = Object.hasOwn(o, 'rules') ? c.array(o['rules'], 'limits.rules', MAX_LIMIT_RULES) : null;
  arr?.forEach((r, i) => {
    const path = `limits.rules[${i}]`;
    const rule = c.object(r, path, ['tenants', 'roles', 'packetsPerSecond', 'maxMessageBytes', 'description'], []);
    if (rule === null) return;
    const ruleTenants = Object.hasOwn(rule, 'tenants')
      ? c.names(rule['tenants'], `${path}.tenants`, MAX_TENANTS, (s) => (s === '*' || tenants.has(s) ? null : `unknown tenant ${show(s)} (declare it in "tenants")`), { nonEmpty: true })
      : null;
    const ruleRoles = Object.hasOwn(rule, 'roles')
      ? c.names(rule['roles'], `${path}.roles`, MAX_ROLES_DECLARED, (s) => (s === '*' || roles.has(s) ? null : `unknown role ${show(s)} (declare it in "roles")`), { nonEmpty: true })
      : null;
    const values = checkLimitValues(c, rule, path);
    if (values.packetsPerSecond === undefined && values.maxMessageBytes === undefined && !Object.hasOwn(rule, 'packetsPerSecond') && !Object.hasOwn(rule, 'maxMessageBytes')) {
      c.add(path, 'sets no limit: give packetsPerSecond and/or maxMessageBytes');
    }
    rules.push({ tenants: ruleTenants?.includes('*') === true ? null : ruleTenants, roles: ruleRoles?.includes('*') === true ? null : ruleRoles, ...values });
  });
  return { default: defaults, rules };
}

function checkTokens(c: Checker, value: unknown, tenants: Set<string>): PolicyToken[] {
  const arr = c.array(value, 'tokens', MAX_TOKENS);
  if (arr === null) return [];
  const out: PolicyToken[] = [];
  const names = new Set<string>();
  const hashes = new Set<string>();
  arr.forEach((t, i) => {
    const path = `tokens[${i}]`;
    const o = c.object(t, path, ['name', 'sha256', 'scope', 'access', 'description'], ['name', 'sha256', 'scope', 'access']);
    if (o === null) return;
    const before = c.issues.length;
    const name = o['name'];
    if (typeof name !== 'string' || !TOKEN_NAME_PATTERN.test(name)) c.add(`${path}.name`, `must be 1-63 characters of A-Z, a-z, 0-9, ., _ and - (got ${show(name)})`);
    else if (names.has(name)) c.add(`${path}.name`, `duplicate token name ${show(name)}`);
    else names.add(name);
    const sha = o['sha256'];
    if (typeof sha !== 'string' || !SHA256_HEX.test(sha)) {
      c.add(`${path}.sha256`, 'must be the SHA-256 of the token as 64 lowercase hex characters (`hearsay policy token` prints it); never the token itself');
    } else if (hashes.has(sha)) {
      c.add(`${path}.sha256`, 'the same token hash appears twice');
    } else {
      hashes.add(sha);
    }
    const scope = o['scope'];
    if (typeof scope !== 'string' || !(scope === 'cluster' || (scope.startsWith('tenant:') && tenants.has(scope.slice(7))))) {
      c.add(`${path}.scope`, `must be "cluster" or "tenant:<name>" with a declared tenant (got ${show(scope)})`);
    }
    const access = o['access'];
    if (access !== 'read-only' && access !== 'admin') c.add(`${path}.access`, `must be "read-only" or "admin" (got ${show(access)})`);
    if (Object.hasOwn(o, 'description') && (typeof o['description'] !== 'string' || o['description'].length > 500)) {
      c.add(`${path}.description`, 'must be a string of at most 500 characters');
    }
    if (c.issues.length > before) return;
    out.push({ name: name as string, sha256: sha as string, scope: scope as string, access: access as TokenAccess });
  });
  return out;
}

function invalid(issues: PolicyIssue[]): { ok: false; reason: 'invalid'; detail: string; issues: PolicyIssue[] } {
  const list = issues.length > 0 ? issues : [{ path: '', message: 'is not a valid policy' }];
  return { ...fail('invalid', formatIssue(list[0]!)), detail: formatIssue(list[0]!), issues: list };
}

/** Parses policy JSON text. Never throws; JSON syntax errors are reported at the document level. */
export function checkPolicyText(text: string): ReturnType<typeof checkPolicy> {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) return invalid([{ path: '', message: `is larger than ${MAX_POLICY_BYTES} bytes` }]);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return invalid([{ path: '', message: `is not valid JSON (${(e as Error).message})` }]);
  }
  return checkPolicy(value);
}

/** Like `checkPolicy`, for our own callers (CLI, tests): throws HEARSAY_ERR_POLICY listing every problem. */
export function parsePolicy(value: unknown, source = 'policy'): PolicyDocument {
  const r = checkPolicy(value);
  if (r.ok) return r.value;
  throw policyError(source, r.issues ?? []);
}

export function policyError(source: string, issues: readonly PolicyIssue[]): HearsayError {
  const lines = issues.map((i) => `  ${formatIssue(i)}`);
  const more = issues.length >= MAX_ISSUES ? `\n  (only the first ${MAX_ISSUES} problems are listed)` : '';
  return new HearsayError('HEARSAY_ERR_POLICY', `${source} is not a valid policy:\n${lines.join('\n')}${more}`);
}
