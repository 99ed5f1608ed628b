/**
 * Every admin route with every kind of caller — no token, a bad token, read-only and admin tokens
 * of cluster scope, of the admin node's tenant (a) and of the other tenant (b) — through fastify's
 * inject() on a real simulated cluster. Then what each caller sees: a tenant token never sees the
 * other tenant's members, peers, events, evidence, keys or tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFixture, auth, TOKEN_KINDS, type AdminFixture, type TokenKind } from './helpers.js';

let f: AdminFixture;

beforeAll(async () => {
  // Bad tokens are part of the matrix: the failure limit is tested on its own (auth.test.ts).
  f = await adminFixture({ authFailuresPerMinute: 10_000 });
}, 60_000);

afterAll(async () => {
  await f?.close();
});

type Caller = 'none' | 'bad' | TokenKind;
const CALLERS: readonly Caller[] = ['none', 'bad', ...TOKEN_KINDS];

function headersOf(c: Caller): Record<string, string> {
  if (c === 'none') return {};
  if (c === 'bad') return auth('hst_not-a-token-of-this-policy');
  return auth(f.tokens[c]);
}

async function call(c: Caller, method: string, url: string, body?: unknown): Promise<{ status: number; json: any; text: string; headers: Record<string, unknown> }> {
  const r = await f.server.app.inject({ method: method as 'GET', url, headers: headersOf(c), ...(body === undefined ? {} : { payload: body as object }) });
  let json: unknown = null;
  try {
    json = JSON.parse(r.body);
  } catch {
    json = null;
  }
  return { status: r.statusCode, json, text: r.body, headers: r.headers };
}

/** Expected statuses by caller; `ro`/`admin` stand for both scopes unless a scope-specific key is given. */
type Expect = Partial<Record<Caller, number>>;
const READ_ALL: Expect = { none: 401, bad: 401, 'cluster-ro': 200, 'cluster-admin': 200, 'a-ro': 200, 'a-admin': 200, 'b-ro': 200, 'b-admin': 200 };
const PUBLIC: Expect = Object.fromEntries(CALLERS.map((c) => [c, 200]));
const TENANT_A_ONLY: Expect = { ...READ_ALL, 'b-ro': 404, 'b-admin': 404 };
const TENANT_B_ONLY: Expect = { ...READ_ALL, 'a-ro': 404, 'a-admin': 404 };
const CLUSTER_ONLY_404: Expect = { ...READ_ALL, 'a-ro': 404, 'a-admin': 404, 'b-ro': 404, 'b-admin': 404 };
/** An admin action on a tenant-b peer: read-only → 403, tenant a admin → 404 (not visible), b admin and cluster admin → 200. */
const ADMIN_ON_B: Expect = { none: 401, bad: 401, 'cluster-ro': 403, 'cluster-admin': 200, 'a-ro': 403, 'a-admin': 404, 'b-ro': 403, 'b-admin': 200 };
const ADMIN_ON_A_KEY: Expect = { none: 401, bad: 401, 'cluster-ro': 403, 'cluster-admin': 200, 'a-ro': 403, 'a-admin': 200, 'b-ro': 403, 'b-admin': 404 };

describe('every route × every caller', () => {
  const cases = (): Array<[string, string, unknown, Expect]> => [
    ['GET', '/v1/health', undefined, READ_ALL],
    ['GET', '/v1/members', undefined, READ_ALL],
    ['GET', '/v1/members?state=alive&limit=2', undefined, READ_ALL],
    ['GET', '/v1/peers', undefined, READ_ALL],
    ['GET', '/v1/peers?minLevel=banned&order=recent', undefined, READ_ALL],
    ['GET', `/v1/peers/${f.ids.a2}`, undefined, TENANT_A_ONLY],
    ['GET', `/v1/peers/${f.ids.b1}`, undefined, TENANT_B_ONLY],
    ['GET', `/v1/peers/${f.ids.rogueA}`, undefined, TENANT_A_ONLY],
    ['GET', `/v1/peers/${f.ids.stranger}`, undefined, CLUSTER_ONLY_404],
    ['GET', `/v1/peers/${f.ids.a2}/events`, undefined, TENANT_A_ONLY],
    ['GET', `/v1/peers/${f.ids.b1}/events?limit=3`, undefined, TENANT_B_ONLY],
    ['GET', '/v1/events?limit=50', undefined, READ_ALL],
    ['POST', `/v1/peers/${f.ids.b1}/ban`, { reason: 'matrix test', durationMs: 60_000 }, ADMIN_ON_B],
    ['DELETE', `/v1/peers/${f.ids.b1}/ban`, { reason: 'matrix test' }, ADMIN_ON_B],
    ['POST', `/v1/peers/${f.ids.b1}/reset`, { reason: 'matrix test' }, ADMIN_ON_B],
    ['GET', '/v1/evidence', undefined, READ_ALL],
    ['GET', '/v1/policy', undefined, READ_ALL],
    ['GET', '/v1/kv/a/k/x', undefined, TENANT_A_ONLY],
    // a1 itself may not read tenant b's keys (the policy): cluster and b tokens get the node's 403.
    ['GET', '/v1/kv/b/k/y', undefined, { ...READ_ALL, 'cluster-ro': 403, 'cluster-admin': 403, 'a-ro': 404, 'a-admin': 404, 'b-ro': 403, 'b-admin': 403 }],
    ['PUT', '/v1/kv/a/k/matrix', { value: 'from the admin API' }, ADMIN_ON_A_KEY],
    ['DELETE', '/v1/kv/a/k/matrix', undefined, ADMIN_ON_A_KEY],
    ['GET', '/v1/scores?peers=4', undefined, READ_ALL],
    ['GET', '/metrics', undefined, { ...READ_ALL, 'a-ro': 403, 'a-admin': 403, 'b-ro': 403, 'b-admin': 403 }],
    ['GET', '/v1/openapi.json', undefined, PUBLIC],
    ['GET', '/dashboard', undefined, PUBLIC],
  ];

  it('answers each caller with the expected status and a stable error code', async () => {
    const failures: string[] = [];
    for (const [method, url, body, expected] of cases()) {
      for (const c of CALLERS) {
        const r = await call(c, method, url, body);
        const want = expected[c];
        if (r.status !== want) failures.push(`${method} ${url} as ${c}: ${r.status} (want ${want}) ${r.text.slice(0, 160)}`);
        if (r.status >= 400) {
          // Exactly { error: { code, message } }: no stack, no extra fields.
          expect(Object.keys(r.json)).toEqual(['error']);
          expect(Object.keys(r.json.error).sort()).toEqual(['code', 'message']);
          expect(r.json.error.code).toMatch(/^HEARSAY_ERR_[A-Z_]+$/);
          expect(r.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
          const code = { 400: 'HEARSAY_ERR_ADMIN_BAD_REQUEST', 401: 'HEARSAY_ERR_ADMIN_UNAUTHENTICATED', 404: 'HEARSAY_ERR_ADMIN_NOT_FOUND', 429: 'HEARSAY_ERR_ADMIN_RATE_LIMITED' }[r.status as 400];
          if (code !== undefined) expect(r.json.error.code).toBe(code);
          if (r.status === 401) expect(r.headers['www-authenticate']).toBe('Bearer realm="hearsay"');
          if (r.status === 403) expect(['HEARSAY_ERR_ADMIN_FORBIDDEN', 'HEARSAY_ERR_NOT_AUTHORIZED']).toContain(r.json.error.code);
        }
        expect(r.headers['x-content-type-options']).toBe('nosniff');
        expect(r.headers['cache-control']).toBe('no-store');
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('what each caller sees', () => {
  const ID_RE = /[0-9a-f]{64}/g;
  const idsIn = (text: string): Set<string> => new Set(text.match(ID_RE) ?? []);

  it('members: a tenant token sees its tenant only, a cluster token everyone', async () => {
    const names = async (c: Caller): Promise<string[]> => (await call(c, 'GET', '/v1/members')).json.members.map((m: { name: string }) => m.name).sort();
    expect(await names('cluster-ro')).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(await names('a-ro')).toEqual(['a1', 'a2']);
    expect(await names('b-admin')).toEqual(['b1', 'b2']);
    const h = await call('b-ro', 'GET', '/v1/health');
    // a1 is a tenant-a node: a tenant-b token is not told its id or name, and counts only b's members.
    expect(h.json.node).toBeNull();
    expect(h.json.members).toEqual({ alive: 2, suspect: 0, dead: 0, left: 0 });
    expect((await call('a-ro', 'GET', '/v1/health')).json.node.name).toBe('a1');
  });

  it('peers, events, evidence and scores of a tenant token never name another tenant\'s nodes', async () => {
    // Proof ids (64 hex too) of the tenant's own equivocators may appear (a ban names its proof).
    const proofs = (await call('cluster-ro', 'GET', '/v1/evidence')).json.evidence as Array<{ id: string; originName: string }>;
    const proofOf = (name: string): string => proofs.find((p) => p.originName === name)!.id;
    const forA = new Set([f.ids.a1, f.ids.a2, f.ids.rogueA, f.ids.rogueA2, proofOf('rogue-a'), proofOf('rogue-a2')]);
    const forB = new Set([f.ids.b1, f.ids.b2, f.ids.rogueB, proofOf('rogue-b')]);
    for (const [c, mine] of [['a-ro', forA], ['a-admin', forA], ['b-ro', forB], ['b-admin', forB]] as const) {
      for (const url of ['/v1/peers?limit=1000', '/v1/events?limit=1000', '/v1/evidence', '/v1/scores?peers=128', '/v1/members', '/v1/health', '/v1/policy']) {
        const r = await call(c, 'GET', url);
        expect(r.status, `${c} ${url}`).toBe(200);
        for (const id of idsIn(r.text)) expect(mine.has(id), `${c} ${url} shows ${id.slice(0, 12)}`).toBe(true);
        expect(r.text).not.toContain(f.ids.stranger);
        if (c.startsWith('a')) expect(r.text).not.toContain(f.ids.b1.slice(0, 12));
        expect(r.text).not.toContain(c.startsWith('a') ? 'rogue-b' : 'rogue-a');
        expect(r.text).not.toContain(c.startsWith('a') ? 'tenant:b' : 'tenant:a');
      }
    }
    const a = await call('a-ro', 'GET', '/v1/peers?limit=1000');
    expect(a.json.peers.map((p: { name: string }) => p.name).sort()).toEqual(['a2', 'rogue-a', 'rogue-a2']);
    // rogue-a2's proof came from b1: tenant a sees the proof, not who reported it.
    const aEvidence = (await call('a-ro', 'GET', '/v1/evidence')).json.evidence as Array<{ originName: string; reporter: string | null }>;
    expect(aEvidence.find((e) => e.originName === 'rogue-a2')!.reporter).toBeNull();
    const aEvents = (await call('a-ro', 'GET', `/v1/peers/${f.ids.rogueA2}/events`)).json.events as Array<{ type: string; detail: string }>;
    expect(aEvents.find((e) => e.type === 'evidence')!.detail).toMatch(/from another node$/);
    const clusterEvents = (await call('cluster-ro', 'GET', `/v1/peers/${f.ids.rogueA2}/events`)).json.events as Array<{ type: string; detail: string }>;
    expect(clusterEvents.find((e) => e.type === 'evidence')!.detail).toContain(`from ${f.ids.b1.slice(0, 12)}`);
    const b = await call('b-ro', 'GET', '/v1/evidence');
    expect(b.json.evidence.map((e: { originName: string }) => e.originName)).toEqual(['rogue-b']);
    const all = await call('cluster-ro', 'GET', '/v1/peers?limit=1000');
    expect(all.json.total).toBe(6);
    expect(idsIn(all.text)).toContain(f.ids.stranger);
    expect((await call('cluster-ro', 'GET', '/v1/evidence')).json.evidence).toHaveLength(3);
  });

  it('a peer in detail: score, each component, thresholds crossed and recent events', async () => {
    const r = await call('a-ro', 'GET', `/v1/peers/${f.ids.a2.toUpperCase()}?events=5`);
    expect(r.status).toBe(200);
    const p = r.json;
    expect(p).toMatchObject({ id: f.ids.a2, name: 'a2', tenant: 'a', member: 'alive', tracked: true, level: 'no-gossip', thresholds: { gossip: -10, evict: -40, graylist: -80, ban: -400 } });
    expect(p.thresholdsCrossed).toEqual(['gossip']);
    expect(p.components.malformed.counter).toBeGreaterThan(2.9);
    expect(p.components.malformed.contribution).toBeCloseTo(p.score, 6);
    expect(p.events.length).toBeGreaterThan(0);
    expect(p.events.every((e: { peer: string }) => e.peer === f.ids.a2)).toBe(true);
    expect(p.events.some((e: { type: string; offense: string }) => e.type === 'offense' && e.offense === 'malformed')).toBe(true);
    // A quiet member the engine holds no record of is still shown, as neutral.
    const b2 = await call('b-ro', 'GET', `/v1/peers/${f.ids.b2}`);
    expect(b2.status).toBe(200);
    expect(b2.json).toMatchObject({ name: 'b2', tracked: false, score: 0, level: 'ok', ban: null });
  });

  it('the policy: token hashes never, and a tenant token sees only its tenant\'s part', async () => {
    const all = await call('cluster-admin', 'GET', '/v1/policy');
    expect(all.json.document.tenants).toEqual(['a', 'b']);
    expect(all.json.document.tokens.map((t: { name: string }) => t.name)).toEqual([...TOKEN_KINDS]);
    expect(all.text).not.toMatch(/sha256|[0-9a-f]{64}/);
    expect(all.json.caller).toEqual({ name: 'cluster-admin', scope: 'cluster', access: 'admin' });
    const a = await call('a-ro', 'GET', '/v1/policy');
    expect(a.json.document.tenants).toEqual(['a']);
    expect(a.json.document.tokens.map((t: { name: string }) => t.name)).toEqual(['a-ro', 'a-admin']);
    for (const t of Object.values(f.tokens)) expect(all.text + a.text).not.toContain(t);
  });

  it('keys: a value of tenant a, and writes that are signed by the node and spread', async () => {
    const r = await call('a-ro', 'GET', '/v1/kv/a/k/x');
    expect(r.json).toMatchObject({ key: 'a/k/x', text: 'tenant a value', origin: f.ids.a1, version: 1 });
    expect(Buffer.from(r.json.value, 'base64').toString()).toBe('tenant a value');
    const put = await call('a-admin', 'PUT', '/v1/kv/a/k/bin', { value: Buffer.from([0xff, 0xfe, 0]).toString('base64'), encoding: 'base64' });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ key: 'a/k/bin', origin: f.ids.a1 });
    const got = await call('a-ro', 'GET', '/v1/kv/a/k/bin');
    expect(got.json.text).toBeNull();
    expect(Buffer.from(got.json.value, 'base64')).toEqual(Buffer.from([0xff, 0xfe, 0]));
    const spread = await f.sim.runUntil(() => f.nodes.a2.kv.get('a/k/bin') !== undefined, 10_000);
    expect(spread).toBeGreaterThanOrEqual(0);
    expect((await call('a-admin', 'DELETE', '/v1/kv/a/k/bin')).status).toBe(200);
    expect((await call('a-ro', 'GET', '/v1/kv/a/k/bin')).status).toBe(404);
    // Shared namespaces are cluster business; other tenants' keys are invisible (404, like a missing key).
    expect((await call('a-admin', 'PUT', '/v1/kv/shared/x', { value: 'x' })).status).toBe(404);
    expect((await call('a-admin', 'PUT', '/v1/kv/a/k/big', { value: 'x'.repeat(f.nodes.a1.config.maxValueBytes + 1) })).status).toBe(400);
    // The policy grants writes under k/** only: the node refuses, and says it is the policy.
    const denied = await call('cluster-admin', 'PUT', '/v1/kv/a/other', { value: 'x' });
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('HEARSAY_ERR_NOT_AUTHORIZED');
  });

  it('ban, unban and reset act on the engine and leave an audit trail naming the token', async () => {
    const engine = f.nodes.a1.reputation!;
    const ban = await call('a-admin', 'POST', `/v1/peers/${f.ids.a2}/ban`, { reason: 'flooding the topic', durationMs: 7_200_000 });
    expect(ban.status).toBe(200);
    expect(ban.json.ban).toMatchObject({ source: 'admin', reason: 'flooding the topic (by a-admin)' });
    expect(ban.json.ban.until - ban.json.ban.createdAt).toBe(7_200_000);
    expect(engine.levelOf(f.ids.a2)).toBe(4);
    const events = (await call('a-ro', 'GET', `/v1/peers/${f.ids.a2}/events?limit=5`)).json.events;
    expect(events.some((e: { type: string; detail: string }) => e.type === 'ban' && e.detail.includes('flooding the topic (by a-admin)'))).toBe(true);
    const unban = await call('a-admin', 'DELETE', `/v1/peers/${f.ids.a2}/ban`, { reason: 'fixed' });
    expect(unban.json).toEqual({ peer: f.ids.a2, unbanned: true });
    expect((await call('a-admin', 'DELETE', `/v1/peers/${f.ids.a2}/ban`, { reason: 'again' })).json.unbanned).toBe(false);
    const reset = await call('cluster-admin', 'POST', `/v1/peers/${f.ids.a2}/reset`, { reason: 'fresh start' });
    expect(reset.json).toEqual({ peer: f.ids.a2, reset: true });
    expect(engine.scoreOf(f.ids.a2)).toBe(0);
    // Bad bodies: no reason, blank reason, too long, durations out of range, extra fields.
    for (const body of [{ durationMs: 60_000 }, { reason: '   ', durationMs: 60_000 }, { reason: 'x'.repeat(201), durationMs: 60_000 }, { reason: 'r', durationMs: 999 },
      { reason: 'r', durationMs: 366 * 86_400_000 }, { reason: 'r', durationMs: 1.5e6 + 0.5 }, { reason: 'r', durationMs: 60_000, evil: true }]) {
      const r = await call('cluster-admin', 'POST', `/v1/peers/${f.ids.a2}/ban`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe('HEARSAY_ERR_ADMIN_BAD_REQUEST');
    }
    // A node cannot ban itself; ids are validated.
    expect((await call('cluster-admin', 'POST', `/v1/peers/${f.ids.a1}/ban`, { reason: 'r', durationMs: 60_000 })).status).toBe(400);
    expect((await call('cluster-admin', 'GET', '/v1/peers/xyz')).status).toBe(400);
    expect(engine.levelOf(f.ids.a2)).toBe(0);
  });

  it('metrics: Prometheus text with the admin API\'s gauges and counters', async () => {
    const before = await call('cluster-ro', 'GET', '/metrics');
    const value = (text: string, series: string): number => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.slice(series.length + 1) ?? Number.NaN);
    expect(before.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(value(before.text, 'hearsay_members{state="alive"}')).toBe(4);
    expect(value(before.text, 'hearsay_health_state{state="healthy"}')).toBe(1);
    expect(value(before.text, 'hearsay_reputation_score_peers{le="+Inf"}')).toBe(f.nodes.a1.reputation!.table.size);
    expect(value(before.text, 'hearsay_reputation_score_peers{le="-80"}')).toBeGreaterThanOrEqual(2);
    expect(before.text).toMatch(/^hearsay_kv_antientropy_lag_seconds \d/m);
    expect(before.text).toMatch(/^hearsay_packets_received_total/m);
    expect(before.text).toMatch(/^hearsay_admin_requests_total\{method="GET",route="\/v1\/members",status="200"\} \d+/m);
    expect(before.text).toMatch(/^hearsay_admin_auth_failures_total\{reason="invalid"\} \d+/m);
    const bans0 = value(before.text, 'hearsay_reputation_bans_total{source="admin"}');
    const evictions0 = value(before.text, 'hearsay_reputation_evictions_total');
    await call('cluster-admin', 'POST', `/v1/peers/${f.ids.b2}/ban`, { reason: 'metrics test', durationMs: 60_000 });
    await f.sim.run(1500);
    const after = await call('cluster-ro', 'GET', '/metrics');
    expect(value(after.text, 'hearsay_reputation_bans_total{source="admin"}')).toBe(bans0 + 1);
    expect(value(after.text, 'hearsay_reputation_evictions_total')).toBe(evictions0 + 1);
    expect(value(after.text, 'hearsay_reputation_bans_active')).toBe(f.nodes.a1.reputation!.table.banned.size);
    await call('cluster-admin', 'DELETE', `/v1/peers/${f.ids.b2}/ban`, { reason: 'metrics test done' });
  });

  it('score history: samples over time, lowest first, bounded', async () => {
    await f.sim.run(5000);
    const r = await call('cluster-ro', 'GET', '/v1/scores?peers=3');
    expect(r.json.intervalMs).toBe(1000);
    expect(r.json.series).toHaveLength(3);
    const latest = r.json.series.map((s: { points: number[][] }) => s.points[s.points.length - 1]![1]);
    expect([...latest].sort((x: number, y: number) => x - y)).toEqual(latest);
    const s0 = r.json.series[0].points as number[][];
    expect(s0.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < s0.length; i++) expect(s0[i]![0]! - s0[i - 1]![0]!).toBe(1000);
  });
});
