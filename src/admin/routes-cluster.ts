/**
 * `/v1/health`, `/v1/members` and `/v1/policy`: what this node sees of the cluster, cut down to
 * the caller's tenant for tenant-scoped tokens.
 */
import type { MemberView } from '../node.js';
import type { PolicyDocument } from '../policy/policy-document.js';
import { describeCaller, seesTenant, type Caller } from './auth.js';
import { callerOf, type AdminRoute } from './route.js';
import { HEALTH, MEMBER, MEMBERS_QUERY, POLICY, list } from './schemas.js';

function memberJson(m: MemberView): Record<string, unknown> {
  return { id: m.id, name: m.name, tenant: m.tenant, roles: [...m.roles], address: m.address, state: m.state, incarnation: m.incarnation, self: m.self };
}

export function clusterRoutes(startedAt: number): AdminRoute[] {
  return [
    {
      method: 'GET', url: '/v1/health', access: 'read',
      summary: 'This node\'s health (healthy, degraded, partitioned), member counts and policy versions.',
      schema: { response: { 200: HEALTH } },
      handler: (ctx) => {
        const caller = callerOf(ctx);
        const h = ctx.node.health();
        const members = { alive: 0, suspect: 0, dead: 0, left: 0 };
        let self: MemberView | undefined;
        for (const m of ctx.directory.memberMap().values()) {
          if (m.self) self = m;
          if (seesTenant(caller, m.tenant)) members[m.state]++;
        }
        return {
          status: 'ok',
          node: self !== undefined && seesTenant(caller, self.tenant) ? { id: self.id, name: self.name, tenant: self.tenant } : null,
          state: h.state, reachableShare: h.reachableShare, members, seeds: h.seeds, seedsReachable: h.seedsReachable,
          policyVersion: ctx.node.policy.policyVersion, revocationVersion: ctx.node.policy.revocationVersion,
          uptimeMs: Math.max(0, ctx.node.clock.now() - startedAt), caller: describeCaller(caller),
        };
      },
    },
    {
      method: 'GET', url: '/v1/members', access: 'read',
      summary: 'Members in this node\'s view (itself first), with name, tenant, roles, address and state.',
      schema: { querystring: MEMBERS_QUERY, response: { 200: list('members', MEMBER, true) } },
      handler: (ctx, req) => {
        const q = req.query as { state?: MemberView['state']; limit: number; offset: number };
        const caller = callerOf(ctx);
        const all = [...ctx.directory.memberMap().values()].filter((m) => seesTenant(caller, m.tenant) && (q.state === undefined || m.state === q.state));
        return { total: all.length, members: all.slice(q.offset, q.offset + q.limit).map(memberJson) };
      },
    },
    {
      method: 'GET', url: '/v1/policy', access: 'read',
      summary: 'The policy and revocation list versions in force, the caller\'s token, and the policy document (for a tenant token: the parts that concern its tenant).',
      schema: { response: { 200: POLICY } },
      handler: (ctx) => {
        const caller = callerOf(ctx);
        const p = ctx.node.policy.policy;
        return {
          policyVersion: ctx.node.policy.policyVersion, revocationVersion: ctx.node.policy.revocationVersion, caller: describeCaller(caller),
          document: p === null ? null : documentFor(p.document, caller),
        };
      },
    },
  ];
}

/** The policy as a caller may see it: token hashes never; for a tenant token, only what applies to its tenant. */
function documentFor(d: PolicyDocument, caller: Caller): Record<string, unknown> {
  const tenant = caller.scope.kind === 'tenant' ? caller.scope.tenant : null;
  const applies = (tenants: readonly string[] | null): boolean => tenant === null || tenants === null || tenants.includes('*') || tenants.includes(tenant);
  const scope = tenant === null ? null : `tenant:${tenant}`;
  return {
    cluster: d.cluster, version: d.version, description: d.description,
    tenants: tenant === null ? [...d.tenants] : d.tenants.filter((t) => t === tenant),
    namespaces: [...d.namespaces], roles: [...d.roles],
    grants: d.grants.filter((g) => applies(g.tenants)).map((g) => ({
      tenants: tenant === null ? [...g.tenants] : g.tenants.filter((t) => t === '*' || t === tenant),
      roles: [...g.roles], allow: [...g.allow], topics: [...g.topics], keys: [...g.keys], namespace: g.namespace,
    })),
    limits: {
      default: { ...d.limits.default },
      rules: d.limits.rules.filter((r) => applies(r.tenants)).map((r) => ({
        ...r, tenants: r.tenants === null ? null : tenant === null ? [...r.tenants] : r.tenants.filter((t) => t === '*' || t === tenant), roles: r.roles === null ? null : [...r.roles],
      })),
    },
    tokens: d.tokens.filter((t) => scope === null || t.scope === scope).map((t) => ({ name: t.name, scope: t.scope, access: t.access })),
  };
}
