import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compiled-policy.js';
import { parsePolicy, type PolicyAction, type PolicyDocument } from '../../src/policy/policy-document.js';
import { TenantAuthorizer } from '../../src/policy/authorizer.js';
import { generateToken, hashToken } from '../../src/policy/tokens.js';
import { policyDoc, subject } from './helpers.js';

const DEFAULTS = { packetsPerSecond: 2000, maxMessageBytes: 1024 };
const SEED = 20240917;

describe('compiled policy decisions', () => {
  const doc = parsePolicy(policyDoc({
    limits: {
      default: { maxMessageBytes: 512 },
      rules: [{ tenants: ['b'], packetsPerSecond: 50 }, { roles: ['admin'], packetsPerSecond: 9000, maxMessageBytes: 4096 }],
    },
  }));
  const p = compilePolicy(doc, { defaults: DEFAULTS });

  it('grants inside the tenant namespace only, by role, deny by default', () => {
    const pubA = subject('a', ['pub']);
    expect(p.mayPublish(pubA, 'a/t/x')).toBe(true);
    expect(p.mayPublish(pubA, 'a/t/x/y')).toBe(true);
    expect(p.mayPublish(pubA, 'b/t/x')).toBe(false); // another tenant's namespace
    expect(p.mayPublish(pubA, 'a/u/x')).toBe(false); // not granted
    expect(p.mayWrite(pubA, 'a/k/1')).toBe(true);
    expect(p.mayWrite(pubA, 'b/k/1')).toBe(false);
    const subA = subject('a', ['sub']);
    expect(p.mayPublish(subA, 'a/t/x')).toBe(false);
    expect(p.maySubscribe(subA, 'a/t/x')).toBe(true);
    expect(p.mayRead(subA, 'a/k/1')).toBe(true);
    expect(p.mayWrite(subA, 'a/k/1')).toBe(false);
    const nobody = subject('a', []);
    expect(p.maySubscribe(nobody, 'a/t/x')).toBe(false);
    expect(p.maySubscribe(nobody, 'shared/news')).toBe(true); // roles ["*"] includes role-less nodes
  });

  it('shared namespaces: only what a grant names there', () => {
    expect(p.mayPublish(subject('a', ['admin']), 'shared/news')).toBe(true);
    expect(p.mayPublish(subject('b', ['admin']), 'shared/news')).toBe(false);
    expect(p.maySubscribe(subject('b', ['sub']), 'shared/news')).toBe(true);
    expect(p.maySubscribe(subject('b', ['sub']), 'shared/other')).toBe(false);
  });

  it('an undeclared tenant gets nothing, not even "*" grants', () => {
    expect(p.maySubscribe(subject('zz', ['pub']), 'shared/news')).toBe(false);
    expect(p.mayPublish(subject('zz', ['pub']), 'zz/t/x')).toBe(false);
  });

  it('refuses bare namespaces, names outside any namespace and oversized names', () => {
    const pubA = subject('a', ['pub']);
    expect(p.mayPublish(pubA, 'a/')).toBe(false);
    expect(p.mayPublish(pubA, 'a')).toBe(false);
    expect(p.mayPublish(pubA, `a/t/${'x'.repeat(5000)}`)).toBe(false);
  });

  it('limits: default, then rules in order, last match wins per field', () => {
    expect(p.limits(subject('a', ['pub']))).toEqual({ packetsPerSecond: 2000, maxMessageBytes: 512 });
    expect(p.limits(subject('b', ['pub']))).toEqual({ packetsPerSecond: 50, maxMessageBytes: 512 });
    expect(p.limits(subject('b', ['admin']))).toEqual({ packetsPerSecond: 9000, maxMessageBytes: 4096 });
  });

  it('a known (subject, name) pair is a cache hit', () => {
    const q = compilePolicy(doc, { defaults: DEFAULTS });
    const s = subject('a', ['pub']);
    q.mayPublish(s, 'a/t/x');
    const before = q.cacheStats();
    for (let i = 0; i < 1000; i++) q.mayPublish(s, 'a/t/x');
    const after = q.cacheStats();
    expect(after.misses).toBe(before.misses);
    expect(after.hits - before.hits).toBe(1000);
    // Another subject object with the same tenant and roles shares the profile.
    q.mayPublish(subject('a', ['pub']), 'a/t/x');
    expect(q.cacheStats().misses).toBe(before.misses);
  });

  it('the decision cache stays within its bound', () => {
    const q = compilePolicy(doc, { defaults: DEFAULTS, cacheSize: 2048 });
    const subjects = [subject('a', ['pub']), subject('b', ['sub']), subject('a', [])];
    for (let i = 0; i < 20_000; i++) q.mayRead(subjects[i % 3]!, `a/k/${i}`);
    expect(q.cacheStats().entries).toBeLessThanOrEqual(2048);
    expect(q.mayRead(subjects[0]!, 'a/k/5')).toBe(true);
    expect(q.mayRead(subjects[1]!, 'a/k/5')).toBe(false);
  });

  it('authenticates admin tokens by hash, with scope and access', () => {
    const admin = generateToken();
    const ro = generateToken();
    const q = compilePolicy(parsePolicy(policyDoc({ tokens: [
      { name: 'ops', sha256: admin.sha256, scope: 'cluster', access: 'admin' },
      { name: 'a-ro', sha256: ro.sha256, scope: 'tenant:a', access: 'read-only' },
    ] })), { defaults: DEFAULTS });
    expect(admin.token).toMatch(/^hst_[A-Za-z0-9_-]{43}$/);
    expect(hashToken(admin.token)).toBe(admin.sha256);
    expect(q.authenticateToken(admin.token)).toEqual({ name: 'ops', scope: { kind: 'cluster' }, access: 'admin' });
    expect(q.authenticateToken(ro.token)).toEqual({ name: 'a-ro', scope: { kind: 'tenant', tenant: 'a' }, access: 'read-only' });
    expect(q.authenticateToken(admin.sha256)).toBeNull(); // the hash itself opens nothing
    expect(q.authenticateToken(`${admin.token}x`)).toBeNull();
    expect(q.authenticateToken('x'.repeat(10_000))).toBeNull();
    expect(q.authenticateToken(undefined)).toBeNull();
  });

  it('agrees with TenantAuthorizer on a policy that grants each tenant its whole namespace', () => {
    const q = compilePolicy(parsePolicy(policyDoc({ grants: [{ tenants: ['*'], roles: ['*'], allow: ['publish', 'subscribe', 'read', 'write'], topics: ['**'], keys: ['**'] }] })), { defaults: DEFAULTS });
    const t = new TenantAuthorizer(DEFAULTS);
    for (const s of [subject('a'), subject('b', ['pub'])]) {
      for (const name of ['a/x', 'b/x/y', 'a/', 'a', 'ab/x', 'shared/news']) {
        expect(q.mayPublish(s, name), `${s.tenant} ${name}`).toBe(t.mayPublish(s, name));
        expect(q.mayRead(s, name), `${s.tenant} ${name}`).toBe(t.mayRead(s, name));
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Property: the compiled, memoized decision function equals a straightforward reference evaluation
// written independently (regular expressions over a token-mapped name, no caches, no profiles).

const TENANTS = ['a', 'b', 'c'];
const ROLES = ['r1', 'r2', 'r3'];
const ACTIONS: PolicyAction[] = ['publish', 'subscribe', 'read', 'write'];

function refMatch(pattern: string, name: string): boolean {
  // Wildcards of the request become private-use characters; the pattern becomes a regex over them.
  const mapped = name.replace(/\*\*|\*|\?/g, (w) => (w === '**' ? '\uE002' : w === '*' ? '\uE001' : '\uE000'));
  const re = pattern.replace(/\*\*|\*|\?|[^*?]/g, (t) => {
    if (t === '**') return '[\\s\\S]*';
    if (t === '*') return '[^/\\uE002]*';
    if (t === '?') return '[^/\\uE001\\uE002]';
    return t.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  });
  return new RegExp(`^${re}$`, 'u').test(mapped);
}

function reference(doc: PolicyDocument, s: { tenant: string; roles: string[] }, action: PolicyAction, name: string): boolean {
  if (!doc.tenants.includes(s.tenant)) return false;
  return doc.grants.some((g) => {
    if (!g.tenants.includes('*') && !g.tenants.includes(s.tenant)) return false;
    if (!g.roles.includes('*') && !s.roles.some((r) => g.roles.includes(r))) return false;
    if (!g.allow.includes(action)) return false;
    const ns = g.namespace ?? s.tenant;
    if (!(name.length > ns.length + 1)) return false;
    const patterns = action === 'publish' || action === 'subscribe' ? g.topics : g.keys;
    return patterns.some((p) => refMatch(`${ns}/${p}`, name));
  });
}

function refLimits(doc: PolicyDocument, s: { tenant: string; roles: string[] }): { packetsPerSecond: number; maxMessageBytes: number } {
  let pps = doc.limits.default.packetsPerSecond ?? DEFAULTS.packetsPerSecond;
  let mmb = doc.limits.default.maxMessageBytes ?? DEFAULTS.maxMessageBytes;
  for (const r of doc.limits.rules) {
    if (r.tenants !== null && !r.tenants.includes(s.tenant)) continue;
    if (r.roles !== null && !s.roles.some((x) => r.roles!.includes(x))) continue;
    pps = r.packetsPerSecond ?? pps;
    mmb = r.maxMessageBytes ?? mmb;
  }
  return { packetsPerSecond: pps, maxMessageBytes: mmb };
}

const piece = fc.constantFrom('x', 'y', '/', '*', '**', '?', 'xy');
const patternArb = fc.array(piece, { minLength: 1, maxLength: 5 }).map((a) => a.join('')).filter((p) => !p.startsWith('/') && !p.includes('***'));
const subset = <T>(items: T[]): fc.Arbitrary<T[]> => fc.subarray(items, { minLength: 1 });
const grantArb = fc.record({
  tenants: fc.oneof(fc.constant(['*']), subset(TENANTS)),
  roles: fc.oneof(fc.constant(['*']), subset(ROLES)),
  allow: subset(ACTIONS),
  topics: fc.array(patternArb, { minLength: 1, maxLength: 3 }),
  keys: fc.array(patternArb, { minLength: 1, maxLength: 3 }),
  shared: fc.boolean(),
}).map((g) => {
  const out: Record<string, unknown> = { tenants: g.tenants, roles: g.roles, allow: g.allow };
  if (g.allow.some((a) => a === 'publish' || a === 'subscribe')) out['topics'] = [...new Set(g.topics)];
  if (g.allow.some((a) => a === 'read' || a === 'write')) out['keys'] = [...new Set(g.keys)];
  if (g.shared) out['namespace'] = 's';
  return out;
});
const limitRuleArb = fc.record({
  tenants: fc.option(subset(TENANTS), { nil: undefined }),
  roles: fc.option(subset(ROLES), { nil: undefined }),
  packetsPerSecond: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
  maxMessageBytes: fc.integer({ min: 1, max: 60_000 }),
}).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
const docArb = fc.record({
  grants: fc.array(grantArb, { maxLength: 6 }),
  rules: fc.array(limitRuleArb, { maxLength: 3 }),
  defaultPps: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
}).map((d) => parsePolicy({
  kind: 'hearsay-policy', cluster: 'c', version: 1, tenants: TENANTS, namespaces: ['s'], roles: ROLES, grants: d.grants,
  limits: { default: d.defaultPps === undefined ? {} : { packetsPerSecond: d.defaultPps }, rules: d.rules },
}));
const nameArb = fc.tuple(fc.constantFrom('a/', 'b/', 'c/', 's/', 'd/', 'a*/', '', 'a'), fc.array(fc.constantFrom('x', 'y', '/', '*', '?', '**'), { maxLength: 6 }))
  .map(([prefix, rest]) => prefix + rest.join(''));
const subjectArb = fc.record({ tenant: fc.constantFrom('a', 'b', 'c', 'd'), roles: fc.subarray(['r1', 'r2', 'r3', 'r4']) });
const requestArb = fc.record({ s: fc.integer({ min: 0, max: 5 }), action: fc.constantFrom(...ACTIONS), name: nameArb });

describe('compiled decisions equal the reference evaluation', () => {
  it('over random policies and requests (fixed seed)', () => {
    fc.assert(
      fc.property(docArb, fc.array(subjectArb, { minLength: 6, maxLength: 6 }), fc.array(requestArb, { minLength: 1, maxLength: 40 }), (doc, subjects, requests) => {
        // A small cache, so generation flips happen inside the run too.
        const compiled = compilePolicy(doc, { defaults: DEFAULTS, cacheSize: 32 });
        const objs = subjects.map((s) => ({ nodeId: new Uint8Array(32), tenant: s.tenant, roles: s.roles }));
        for (let pass = 0; pass < 2; pass++) {
          for (const r of requests) {
            const s = objs[r.s]!;
            const want = reference(doc, s, r.action, r.name);
            if (compiled.may(s, r.action, r.name) !== want) return false;
          }
        }
        return objs.every((s) => {
          const l = compiled.limits(s);
          const want = refLimits(doc, s);
          return l.packetsPerSecond === want.packetsPerSecond && l.maxMessageBytes === want.maxMessageBytes;
        });
      }),
      { seed: SEED, numRuns: 400, verbose: 1 },
    );
  });

  it('the reference itself is not vacuous: the generated cases include grants and refusals', () => {
    let granted = 0;
    let refused = 0;
    fc.assert(fc.property(docArb, subjectArb, requestArb, (doc, s, r) => {
      if (reference(doc, s, r.action, r.name)) granted++;
      else refused++;
    }), { seed: SEED, numRuns: 2000 });
    expect(granted).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(20);
  });
});
