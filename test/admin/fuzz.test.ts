/**
 * fast-check fuzzing of the admin API through inject(): random methods, paths (route templates
 * with good and bad ids and keys, and arbitrary paths), query strings, headers and bodies, with
 * every kind of token. Whatever comes in:
 * - the answer is never a 5xx;
 * - without an admin token, nothing changes: reputation (scores, levels, bans, audit log counts)
 *   and the key/value store are the same before and after;
 * - a tenant token never gets data of the other tenant, and never changes its state.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFixture, auth, TOKEN_KINDS, type AdminFixture, type TokenKind } from './helpers.js';

const SEED = 20_260_127;
const RUNS = 400;

let f: AdminFixture;

beforeAll(async () => {
  f = await adminFixture({ authFailuresPerMinute: 10_000 });
}, 60_000);

afterAll(async () => {
  await f?.close();
});

type Caller = 'none' | 'garbage' | TokenKind;

/**
 * Reputation and key/value state of the admin node, restricted to peers `keep` accepts (then
 * without the audit log's row count, which a tenant's own actions raise).
 */
function snapshot(keep?: (id: string) => boolean): string {
  const e = f.nodes.a1.reputation!;
  e.flush();
  const peers = [...e.table.values()].filter((p) => keep === undefined || keep(p.id)).map((p) => [p.id, Array.from(p.counters, (x) => x.toFixed(9)), p.level, p.ban?.until ?? null, p.ban?.reason ?? null]);
  peers.sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1));
  const kvOf = (tenant: 'a' | 'b'): unknown[] => (tenant === 'a' ? f.nodes.a1 : f.nodes.b1).kv.list(`${tenant}/`).map((x) => [x.key, x.version, x.origin]);
  const kv = keep === undefined ? [...kvOf('a'), ...kvOf('b')] : keep(f.ids.a2) ? kvOf('a') : kvOf('b');
  const counts = keep === undefined ? e.store.counts() : null;
  return JSON.stringify({ peers, kv, counts, bans: e.query.bans().filter((b) => keep === undefined || keep(b.peer)) });
}

describe('fuzzing the admin API', () => {
  it(`never answers 5xx, never changes state without an admin token, never crosses tenants (seed ${SEED}, ${RUNS} runs)`, async () => {
    const ids = Object.values(f.ids);
    const idArb = fc.oneof(
      fc.constantFrom(...ids),
      fc.constantFrom(...ids).map((s) => s.toUpperCase()),
      fc.stringMatching(/^[0-9a-f]{64}$/),
      fc.stringMatching(/^[0-9a-zA-Z%._~-]{0,80}$/),
    );
    const keyArb = fc.oneof(
      fc.constantFrom('a/k/x', 'b/k/y', 'a/k/fuzz', 'shared/x', 'a/other', 'a', 'a/', '../b/k/y', 'a/../b/k/y', '%2e%2e/b/k/y', 'a%2Fk%2Fx', 'b%2Fk%2Fy', `a/k/${'x'.repeat(300)}`),
      fc.stringMatching(/^[a-b]\/k\/[0-9a-zA-Z%._~-]{1,20}$/),
      fc.webSegment(),
    );
    const pathArb = fc.oneof(
      fc.constantFrom('/v1/health', '/v1/members', '/v1/peers', '/v1/events', '/v1/evidence', '/v1/policy', '/v1/scores', '/metrics', '/dashboard', '/v1/openapi.json', '/', '/v1', '/v1/peers/'),
      idArb.map((id) => `/v1/peers/${id}`),
      fc.tuple(idArb, fc.constantFrom('events', 'ban', 'reset', 'unknown', '')).map(([id, s]) => `/v1/peers/${id}/${s}`),
      keyArb.map((k) => `/v1/kv/${k}`),
      // inject() needs an absolute path ('' is a client error, not a request).
      fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
    );
    const queryArb = fc.oneof(
      fc.constant(''),
      fc.webQueryParameters().map((q) => `?${q}`),
      fc.record({
        limit: fc.oneof(fc.integer({ min: -5, max: 20_000 }), fc.constantFrom('x', '1e3', '')),
        offset: fc.integer({ min: -1, max: 10 }),
        order: fc.constantFrom('score', 'recent', 'bogus'),
        minLevel: fc.constantFrom('ok', 'banned', 'evicted', 'x'),
        state: fc.constantFrom('alive', 'dead', 'x'),
        events: fc.integer({ min: -1, max: 300 }),
        peers: fc.integer({ min: 0, max: 200 }),
        beforeId: fc.integer({ min: -1, max: 1_000_000 }),
      }, { requiredKeys: [] }).map((o) => `?${new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)])).toString()}`),
    );
    const callerArb = fc.constantFrom<Caller>('none', 'garbage', ...TOKEN_KINDS);
    const authArb = fc.tuple(callerArb, fc.constantFrom('Bearer ', 'bearer ', 'Bearer  ', 'Basic ', ''), fc.stringMatching(/^[\x21-\x7e]{0,60}$/));
    const bodyArb = fc.oneof(
      fc.constant(undefined),
      fc.record({ reason: fc.string({ maxLength: 220 }), durationMs: fc.oneof(fc.integer(), fc.double(), fc.constant(60_000)) }, { requiredKeys: [] }),
      fc.record({ value: fc.string({ maxLength: 100 }), encoding: fc.constantFrom('utf8', 'base64', 'hex') }, { requiredKeys: [] }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
    );
    const typeArb = fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', undefined);
    const methodArb = fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS') as fc.Arbitrary<'GET'>;
    const extraHeaderArb = fc.tuple(fc.stringMatching(/^x-[a-z]{1,10}$/), fc.stringMatching(/^[\x20-\x7e]{0,40}$/));
    const addrArb = fc.constantFrom('127.0.0.1', '10.9.8.7', '::1', '2001:db8::5');
    // Well-formed requests, so admin tokens also reach the handlers that change state.
    const reasonArb = fc.string({ minLength: 1, maxLength: 200 });
    const validArb: fc.Arbitrary<[string, string, unknown]> = fc.oneof(
      fc.tuple(fc.constant('POST'), idArb.map((id) => `/v1/peers/${id}/ban`), fc.record({ reason: reasonArb, durationMs: fc.integer({ min: 1000, max: 365 * 86_400_000 }) })),
      fc.tuple(fc.constant('DELETE'), idArb.map((id) => `/v1/peers/${id}/ban`), fc.record({ reason: reasonArb })),
      fc.tuple(fc.constant('POST'), idArb.map((id) => `/v1/peers/${id}/reset`), fc.record({ reason: reasonArb })),
      fc.tuple(fc.constant('PUT'), keyArb.map((k) => `/v1/kv/${k}`), fc.record({ value: fc.string({ maxLength: 50 }) })),
      fc.tuple(fc.constant('DELETE'), keyArb.map((k) => `/v1/kv/${k}`), fc.constant(undefined)),
      fc.tuple(fc.constant('GET'), fc.oneof(idArb.map((id) => `/v1/peers/${id}`), idArb.map((id) => `/v1/peers/${id}/events`), keyArb.map((k) => `/v1/kv/${k}`)), fc.constant(undefined)),
    );
    const requestArb = fc.oneof(
      { weight: 2, arbitrary: fc.tuple(methodArb, pathArb, queryArb, bodyArb, typeArb) },
      { weight: 3, arbitrary: validArb.map(([m, p, b]) => [m as 'GET', p, '', b === undefined ? undefined : JSON.stringify(b), 'application/json'] as const) },
    );

    const A = new Set([f.ids.a1, f.ids.a2, f.ids.rogueA, f.ids.rogueA2]);
    const B = new Set([f.ids.b1, f.ids.b2, f.ids.rogueB]);
    const leaksFor = (tenant: 'a' | 'b'): string[] => (tenant === 'a'
      ? [f.ids.b1, f.ids.b2, f.ids.rogueB, f.ids.stranger, f.ids.b1.slice(0, 12), 'rogue-b', 'tenant b value', 'tenant:b', '"name":"b1"', '"name":"b2"']
      : [f.ids.a1, f.ids.a2, f.ids.rogueA, f.ids.rogueA2, f.ids.stranger, 'rogue-a', 'tenant a value', 'tenant:a', '"name":"a1"', '"name":"a2"']);

    let counted = 0;
    await fc.assert(
      fc.asyncProperty(requestArb, authArb, extraHeaderArb, addrArb, async ([method, path, query, body, type], [caller, scheme, garbage], [hName, hValue], addr) => {
        const headers: Record<string, string> = { [hName]: hValue };
        if (caller === 'garbage') headers.authorization = `${scheme}${garbage}`;
        else if (caller !== 'none') headers.authorization = `Bearer ${f.tokens[caller]}`;
        if (type !== undefined) headers['content-type'] = type;
        const tenant = caller.startsWith('a-') ? 'a' : caller.startsWith('b-') ? 'b' : null;
        const isAdmin = caller === 'cluster-admin' || caller === 'a-admin' || caller === 'b-admin';
        const mine = tenant === 'a' ? A : B;
        const others = (id: string): boolean => !mine.has(id);
        const before = isAdmin ? (tenant === null ? null : snapshot(others)) : snapshot();
        const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
        const r = await f.server.app.inject({ method, url: `${path}${query}`, headers, remoteAddress: addr, ...(payload === undefined ? {} : { payload }) });
        counted++;
        expect(r.statusCode, `${method} ${path}${query} as ${caller}: ${r.body.slice(0, 200)}`).toBeLessThan(500);
        if (r.statusCode >= 400 && method !== 'HEAD') {
          const j = r.json() as { error: { code: string; message: string } };
          expect(Object.keys(j)).toEqual(['error']);
          expect(j.error.code).toMatch(/^HEARSAY_ERR_/);
        }
        for (const t of Object.values(f.tokens)) expect(r.body).not.toContain(t);
        if (tenant !== null) for (const leak of leaksFor(tenant)) expect(r.body, `${caller} ${method} ${path}${query} leaked ${leak}`).not.toContain(leak);
        if (!isAdmin) expect(snapshot(), `${caller} ${method} ${path}${query} changed state`).toBe(before);
        else if (tenant !== null) expect(snapshot(others), `${caller} ${method} ${path}${query} changed another tenant`).toBe(before);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(counted).toBe(RUNS);
  }, 120_000);
});
