import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPolicy, checkPolicyText, formatIssue, parsePolicy } from '../../src/policy/policy-document.js';
import { policyDoc } from './helpers.js';

function problems(doc: unknown): string[] {
  const r = checkPolicy(doc);
  expect(r.ok).toBe(false);
  return (r.issues ?? []).map(formatIssue);
}

describe('policy document validation', () => {
  it('accepts the documented examples in policy/', () => {
    for (const file of ['policy/example.json', 'policy/minimal.json']) {
      const r = checkPolicyText(readFileSync(file, 'utf8'));
      expect(r.ok, `${file}: ${r.ok ? '' : r.detail}`).toBe(true);
    }
  });

  it('fills defaults: no namespaces, roles, limits or tokens', () => {
    const doc = parsePolicy({ kind: 'hearsay-policy', cluster: 'c', version: 3, tenants: ['x'], grants: [] });
    expect(doc).toMatchObject({ version: 3, namespaces: [], roles: [], tokens: [], limits: { default: {}, rules: [] } });
  });

  it('names the path of each problem inside the document', () => {
    const doc = policyDoc({
      grants: [
        { tenants: ['a'], roles: ['pub'], allow: ['publish'], topics: ['ok/*'] },
        { tenants: ['a'], roles: ['pub'], allow: ['publish'], topics: ['ok', '/abs'] },
        { tenants: ['zz'], roles: ['nope'], allow: ['fly'], keys: ['x'] },
        { tenants: ['a'], roles: ['pub'], allow: ['publish'], topics: ['a***'] },
      ],
    });
    const p = problems(doc);
    expect(p).toContain('grants[1].topics[1]: must not start with "/" (it is relative to the namespace, which ends in "/")');
    expect(p.some((x) => x.startsWith('grants[2].tenants[0]: unknown tenant "zz"'))).toBe(true);
    expect(p.some((x) => x.startsWith('grants[2].roles[0]: unknown role "nope"'))).toBe(true);
    expect(p.some((x) => x.startsWith('grants[2].allow[0]: must be one of publish, subscribe, read, write'))).toBe(true);
    expect(p.some((x) => x.startsWith('grants[3].topics[0]: must not contain "***"'))).toBe(true);
    expect(p.some((x) => x.startsWith('grants[0]'))).toBe(false);
  });

  it('refuses unknown fields, wrong types and missing required fields, each by path', () => {
    const p = problems({ kind: 'hearsay-policy', cluster: 'Bad Cluster', version: 0, tenants: 'a', grants: [{ tenant: ['a'] }], extra: 1 });
    expect(p).toEqual(expect.arrayContaining([
      'extra: is not a known field (known: kind, cluster, version, description, tenants, namespaces, roles, grants, limits, tokens)',
      expect.stringMatching(/^cluster: must be the cluster name/),
      'version: must be an integer from 1 to 9007199254740991 (got 0)',
      'tenants: must be an array',
      expect.stringMatching(/^grants\[0\]\.tenant: is not a known field/),
      'grants[0].tenants: is required',
      'grants[0].roles: is required',
      'grants[0].allow: is required',
    ]));
  });

  it('requires topics for publish/subscribe and keys for read/write, and refuses them otherwise', () => {
    const p = problems(policyDoc({ grants: [
      { tenants: ['a'], roles: ['pub'], allow: ['publish', 'read'] },
      { tenants: ['a'], roles: ['pub'], allow: ['read'], keys: ['k'], topics: ['t'] },
    ] }));
    expect(p).toEqual(expect.arrayContaining([
      'grants[0].topics: is required when "allow" has "publish" or "subscribe"',
      'grants[0].keys: is required when "allow" has "read" or "write"',
      'grants[1].topics: is only used with "publish" or "subscribe" in "allow"',
    ]));
  });

  it('keeps tenants apart: a shared namespace may not be named like a tenant, and a grant may only name declared namespaces', () => {
    const p = problems(policyDoc({
      namespaces: ['b'],
      grants: [{ tenants: ['a'], roles: ['pub'], allow: ['read'], keys: ['**'], namespace: 'b' }],
    }));
    expect(p).toContain('namespaces[0]: namespace "b" is also a tenant; a shared namespace must not be a tenant\'s namespace');
    expect(p.some((x) => x.startsWith('grants[0].namespace: must be a shared namespace declared in "namespaces"'))).toBe(true);
  });

  it('checks limits and tokens by path', () => {
    const p = problems(policyDoc({
      limits: { default: { packetsPerSecond: 0 }, rules: [{ tenants: ['a'] }, { roles: ['ghost'], maxMessageBytes: 100 }, { packetsPerSecond: 1.5 }] },
      tokens: [
        { name: 'ops', sha256: 'abc', scope: 'cluster', access: 'admin' },
        { name: 'ops', sha256: 'a'.repeat(64), scope: 'tenant:zz', access: 'root' },
      ],
    }));
    expect(p).toEqual(expect.arrayContaining([
      'limits.default.packetsPerSecond: must be an integer from 1 to 1000000 (got 0)',
      'limits.rules[0]: sets no limit: give packetsPerSecond and/or maxMessageBytes',
      expect.stringMatching(/^limits\.rules\[1\]\.roles\[0\]: unknown role "ghost"/),
      'limits.rules[2].packetsPerSecond: must be an integer from 1 to 1000000 (got 1.5)',
      expect.stringMatching(/^tokens\[0\]\.sha256: must be the SHA-256 of the token/),
      'tokens[1].name: duplicate token name "ops"',
      expect.stringMatching(/^tokens\[1\]\.scope: must be "cluster" or "tenant:<name>"/),
      'tokens[1].access: must be "read-only" or "admin" (got "root")',
    ]));
  });

  it('refuses duplicates, "*" mixed with names, non-JSON and oversized text', () => {
    const p = problems(policyDoc({ tenants: ['a', 'a'], grants: [{ tenants: ['*', 'a'], roles: ['*'], allow: ['read'], keys: ['k'] }] }));
    expect(p).toEqual(expect.arrayContaining(['tenants[1]: duplicate "a"', 'grants[0].tenants: "*" stands for every tenant and must be alone']));
    const bad = checkPolicyText('{"kind": ');
    expect(bad.ok).toBe(false);
    expect(bad.ok ? '' : bad.detail).toMatch(/^is not valid JSON/);
    const huge = checkPolicyText(JSON.stringify(policyDoc({ description: 'x'.repeat(300_000) })));
    expect(huge.ok ? '' : huge.detail).toMatch(/larger than/);
  });

  it('parsePolicy throws HEARSAY_ERR_POLICY listing every problem', () => {
    let err: unknown;
    try {
      parsePolicy(policyDoc({ version: -1, grants: [{ tenants: ['q'], roles: ['pub'], allow: ['read'], keys: ['k'] }] }), 'my.json');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'HEARSAY_ERR_POLICY' });
    expect((err as Error).message).toContain('my.json is not a valid policy:\n  version: must be an integer');
    expect((err as Error).message).toContain('grants[0].tenants[0]: unknown tenant "q"');
  });
});
