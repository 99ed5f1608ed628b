/**
 * Authentication of the admin API: bearer parsing, the failure limit per client address (429),
 * tokens only in the header, and that no token, header or stack reaches a response or a log line.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthFailureLimiter, bearerToken, clientKey, MAX_TRACKED_CLIENTS } from '../../src/admin/auth.js';
import { toHttpError } from '../../src/admin/http-errors.js';
import { createLogger } from '../../src/log.js';
import { adminFixture, auth, type AdminFixture } from './helpers.js';

let f: AdminFixture | null = null;
afterEach(async () => {
  await f?.close();
  f = null;
});

describe('bearer tokens and client keys', () => {
  it('takes a token only from "Bearer <token>"', () => {
    expect(bearerToken('Bearer hst_abc')).toBe('hst_abc');
    expect(bearerToken('bearer   hst_abc ')).toBe('hst_abc');
    for (const bad of [undefined, '', 'Bearer', 'Bearer ', 'Basic aGk6aG8=', 'Bearer a b', 'Token hst_abc', `Bearer ${'x'.repeat(300)}`, 'Bearer hst_\u00e9', ['Bearer x']]) {
      expect(bearerToken(bad)).toBeNull();
    }
  });

  it('groups IPv6 clients by /64 and unwraps IPv4-mapped addresses', () => {
    expect(clientKey('127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(clientKey('2001:db8:0:1::1')).toBe(clientKey('2001:0db8:0000:0001:ffff:ffff:ffff:ffff'));
    expect(clientKey('2001:db8:0:1::1')).not.toBe(clientKey('2001:db8:0:2::1'));
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
  });

  it('the limiter counts per key in one-minute windows and holds a bounded number of keys', () => {
    let now = 0;
    const l = new AuthFailureLimiter(2, () => now);
    l.fail('x');
    expect(l.retryAfterMs('x')).toBe(0);
    l.fail('x');
    expect(l.retryAfterMs('x')).toBe(60_000);
    expect(l.retryAfterMs('y')).toBe(0);
    now = 30_000;
    expect(l.retryAfterMs('x')).toBe(30_000);
    now = 60_000;
    expect(l.retryAfterMs('x')).toBe(0);
    for (let i = 0; i < MAX_TRACKED_CLIENTS + 100; i++) l.fail(`k${i}`);
    expect(l.size).toBe(MAX_TRACKED_CLIENTS);
  });
});

describe('the failure limit on a real server', () => {
  it('answers 429 after adminAuthFailuresPerMinute bad tokens from one address, for good tokens too, until the minute ends', async () => {
    f = await adminFixture({ authFailuresPerMinute: 3 });
    const app = f.server.app;
    const good = f.tokens['cluster-ro'];
    const from = (remoteAddress: string, token: string | null): Promise<{ statusCode: number; headers: Record<string, unknown>; json: () => any }> =>
      app.inject({ url: '/v1/members', remoteAddress, headers: token === null ? {} : auth(token) }) as never;
    // A request without a token is not a guess: it is not counted.
    for (let i = 0; i < 5; i++) expect((await from('10.0.0.1', null)).statusCode).toBe(401);
    for (let i = 0; i < 3; i++) expect((await from('10.0.0.1', `hst_guess${i}`)).statusCode).toBe(401);
    const limited = await from('10.0.0.1', 'hst_guess4');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('HEARSAY_ERR_ADMIN_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Even the right token: otherwise the limiter would tell a guesser which guess was right.
    expect((await from('10.0.0.1', good)).statusCode).toBe(429);
    expect((await from('10.0.0.2', good)).statusCode).toBe(200);
    // IPv6: one /64 shares a budget.
    for (let i = 0; i < 3; i++) await from(`2001:db8:0:1::${i + 1}`, 'hst_wrong');
    expect((await from('2001:db8:0:1::99', good)).statusCode).toBe(429);
    expect((await from('2001:db8:0:2::1', good)).statusCode).toBe(200);
    // Public routes are never limited.
    expect((await app.inject({ url: '/v1/openapi.json', remoteAddress: '10.0.0.1' })).statusCode).toBe(200);
    await f.sim.run(61_000, 1000);
    expect((await from('10.0.0.1', good)).statusCode).toBe(200);
    const metrics = await app.inject({ url: '/metrics', headers: auth(good) });
    expect(metrics.body).toMatch(/^hearsay_admin_auth_failures_total\{reason="rate-limited"\} [1-9]/m);
  });

  it('takes tokens from the Authorization header only, never from the query string', async () => {
    f = await adminFixture();
    const token = f.tokens['cluster-admin'];
    expect((await f.server.app.inject({ url: `/v1/health?token=${token}` })).statusCode).toBe(401);
    expect((await f.server.app.inject({ url: `/v1/members?access_token=${token}`, headers: auth(token) })).statusCode).toBe(400);
  });
});

describe('nothing secret reaches a response or a log', () => {
  it('logs requests with route, status and token name, never the token or the header', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    f = await adminFixture({ logger: createLogger({ level: 'debug', destination: sink }) });
    const app = f.server.app;
    const token = f.tokens['cluster-admin'];
    await app.inject({ url: '/v1/peers', headers: auth(token) });
    await app.inject({ url: '/v1/peers', headers: auth('hst_wrong-guess-123') });
    await app.inject({ method: 'POST', url: `/v1/peers/${f.ids.b1}/ban`, headers: auth(token), payload: { reason: 'log test', durationMs: 60_000 } });
    await app.inject({ method: 'POST', url: `/v1/peers/${f.ids.b1}/ban`, headers: { ...auth(token), 'content-type': 'application/json' }, payload: '{"reason": "broken json' });
    await app.inject({ method: 'PUT', url: '/v1/kv/a/k/logged', headers: auth(token), payload: { value: 'secret-ish value 8c1f' } });
    await new Promise((r) => setTimeout(r, 50));
    const log = lines.join('');
    expect(log).toContain('"route":"/v1/peers"');
    expect(log).toContain('"caller":"cluster-admin"');
    expect(log).toContain('admin: peer banned');
    expect(log).toContain('admin API request refused');
    for (const t of [...Object.values(f.tokens), 'hst_wrong-guess-123']) expect(log).not.toContain(t);
    expect(log).not.toMatch(/Bearer/i);
    expect(log).not.toContain('secret-ish value 8c1f');
    expect(log).not.toMatch(/\n\s+at /);
  });

  it('maps unexpected errors to a bare 500 and logs the message without the stack', () => {
    const logged: object[] = [];
    const e = new Error('database exploded');
    const h = toHttpError(e, (fields) => logged.push(fields));
    expect(h.status).toBe(500);
    expect(h.body).toEqual({ error: { code: 'HEARSAY_ERR_INTERNAL', message: 'internal error; see the node log' } });
    expect(JSON.stringify(logged)).toContain('database exploded');
    expect(JSON.stringify(logged)).not.toContain('at ');
    // A framework 4xx keeps its status with our wording, not the library's.
    expect(toHttpError(Object.assign(new Error('Body cannot be empty when content-type is set to application/json'), { statusCode: 400 }), () => {}).body.error.message)
      .toBe('the request is malformed (invalid JSON, or a body where none is expected)');
  });

  it('a stopped node answers 503, not 500', async () => {
    f = await adminFixture();
    await f.nodes.a1.stop();
    const r = await f.server.app.inject({ url: '/v1/members', headers: auth(f.tokens['cluster-ro']) });
    expect(r.statusCode).toBe(503);
    expect(r.json().error.code).toBe('HEARSAY_ERR_ADMIN_UNAVAILABLE');
  });
});
