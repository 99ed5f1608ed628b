/**
 * The admin HTTP API of one node (fastify 5): the routes of routes-*.ts, authenticated with the
 * policy's bearer tokens, on adminHost:adminPort (127.0.0.1 by default).
 *
 * Every request goes: route match (unknown routes: 404, no authentication needed to learn that a
 * path does not exist — the OpenAPI document is public anyway) → the route's onRequest hook:
 * failure rate limit (429), bearer token (401), scope and access (403) → body parsing and schema
 * validation (400) → handler → serialization through the response schema. Bodies are parsed only
 * for authenticated callers, so an anonymous client cannot make the node parse anything.
 *
 * The node starts this server itself when `adminEnabled` (node.ts, by dynamic import: simulations
 * of thousands of nodes never load fastify).
 */
import { fastify, LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { HearsayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Counter } from '../metrics.js';
import type { Node } from '../node.js';
import { AdminMetrics } from './admin-metrics.js';
import { AuthFailureLimiter, bearerToken, clientKey, type Caller } from './auth.js';
import { dashboardRoutes } from './dashboard.js';
import { Directory } from './directory.js';
import { AdminHttpError, forbidden, toHttpError, unauthenticated } from './http-errors.js';
import { buildOpenApi, errorStatuses } from './openapi.js';
import type { AdminContext, AdminRoute } from './route.js';
import { clusterRoutes } from './routes-cluster.js';
import { kvRoutes } from './routes-kv.js';
import { metaRoutes } from './routes-meta.js';
import { reputationRoutes } from './routes-reputation.js';
import { ERROR } from './schemas.js';
import { ScoreHistory } from './score-history.js';

export const ADMIN_API_VERSION = '1.0.0';

/** Largest request body: a key/value write of maxValueBytes (≤ 60,000) in base64 fits with room. */
const BODY_LIMIT = 128 * 1024;

export interface AdminServerOptions {
  /** Defaults to the node's config (adminAuthFailuresPerMinute, adminScoreSampleMs, adminScoreHistory). */
  readonly authFailuresPerMinute?: number;
  readonly scoreSampleMs?: number;
  readonly scoreHistory?: number;
}

export class AdminServer {
  readonly app: FastifyInstance;
  readonly routes: readonly AdminRoute[];
  readonly history: ScoreHistory | null;
  private readonly metrics: AdminMetrics;
  private readonly limiter: AuthFailureLimiter;
  private readonly callers = new WeakMap<FastifyRequest, Caller | null>();
  private readonly log: Logger;
  private readonly requests: Counter;
  private readonly authFailures: Counter;
  /** Every route fastify registered (its onRoute hook), for the test that keeps the OpenAPI document honest. */
  readonly registered: Array<{ method: string; url: string; schema: Record<string, unknown> }> = [];
  private openApi: Record<string, unknown> | null = null;
  private bound: { host: string; port: number } | null = null;
  private closed = false;

  constructor(readonly node: Node, options: AdminServerOptions = {}) {
    const c = node.config;
    this.log = node.logger.child({ module: 'admin' });
    this.limiter = new AuthFailureLimiter(options.authFailuresPerMinute ?? c.adminAuthFailuresPerMinute, () => node.clock.now());
    this.requests = node.metrics.counter('hearsay_admin_requests_total', 'Admin API requests answered, by method, route and status.');
    this.authFailures = node.metrics.counter('hearsay_admin_auth_failures_total', 'Admin API requests refused before the handler, by reason (missing, invalid, rate-limited, scope, access).');
    this.metrics = new AdminMetrics(node, node.metrics);
    const engine = node.reputation;
    this.history = engine === null ? null : new ScoreHistory(engine, node.clock, options.scoreSampleMs ?? c.adminScoreSampleMs, options.scoreHistory ?? c.adminScoreHistory);
    this.routes = [
      ...clusterRoutes(node.clock.now()),
      ...reputationRoutes(),
      ...kvRoutes(),
      ...metaRoutes(() => (this.openApi ??= buildOpenApi(this.routes, ADMIN_API_VERSION))),
      ...dashboardRoutes(),
    ];
    this.app = fastify({
      loggerInstance: fastifyLogger(this.log),
      // Our onResponse hook logs requests, without their headers; fastify's own lines would add noise.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: BODY_LIMIT,
      requestTimeout: 10_000,
      connectionTimeout: 30_000,
      keepAliveTimeout: 5000,
      // A stopping node must not wait for a browser's idle keep-alive connection.
      forceCloseConnections: true,
      // Rate limits key on the socket's address; a forwarded-for header would let a client pick its own.
      trustProxy: false,
      requestIdHeader: false,
      exposeHeadRoutes: false,
      routerOptions: { maxParamLength: 5000 },
      ajv: { customOptions: { removeAdditional: false, useDefaults: true, coerceTypes: 'array', allErrors: false } },
      // A URL that does not decode (`%_`), answered in our error format like everything else.
      frameworkErrors: (_err, _req, res) => {
        const reply = res as unknown as { code(n: number): { type(t: string): { send(b: unknown): unknown } } };
        void reply.code(400).type('application/json; charset=utf-8').send({ error: { code: 'HEARSAY_ERR_ADMIN_BAD_REQUEST', message: 'the URL is malformed' } });
      },
      // Malformed HTTP below fastify (bad request line, oversized headers): a bare 400 in our format.
      clientErrorHandler: (err, socket) => {
        if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || !socket.writable) return;
        const body = JSON.stringify({ error: { code: 'HEARSAY_ERR_ADMIN_BAD_REQUEST', message: 'malformed HTTP request' } });
        socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      },
    }) as unknown as FastifyInstance;
    this.setup();
    this.history?.start();
  }

  /** Listens on host:port (port 0: any free port); resolves to the bound address. */
  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    await this.app.listen({ host, port });
    const a = this.app.server.address();
    this.bound = typeof a === 'object' && a !== null ? { host: a.address, port: a.port } : { host, port };
    this.log.info({ address: `${this.bound.host}:${this.bound.port}` }, 'admin API listening');
    return this.bound;
  }

  /** `http://host:port` once listening, else null. */
  get url(): string | null {
    if (this.bound === null) return null;
    const h = this.bound.host.includes(':') ? `[${this.bound.host}]` : this.bound.host;
    return `http://${h}:${this.bound.port}`;
  }

  get port(): number | null {
    return this.bound?.port ?? null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.history?.stop();
    this.metrics.stop();
    await this.app.close();
  }

  private setup(): void {
    const app = this.app;
    app.addHook('onRoute', (r) => {
      for (const method of Array.isArray(r.method) ? r.method : [r.method]) this.registered.push({ method, url: r.url, schema: (r.schema ?? {}) as Record<string, unknown> });
    });
    app.removeContentTypeParser('text/plain');
    app.setErrorHandler((err, req, reply) => {
      const h = toHttpError(err, (fields, msg) => this.log.error({ ...fields, route: req.routeOptions.url ?? null }, msg));
      for (const [k, v] of Object.entries(h.headers)) reply.header(k, v);
      void reply.code(h.status).type('application/json; charset=utf-8').send(h.body);
    });
    app.setNotFoundHandler((_req, reply) => {
      void reply.code(404).type('application/json; charset=utf-8').send({ error: { code: 'HEARSAY_ERR_ADMIN_NOT_FOUND', message: 'no such route' } });
    });
    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('x-content-type-options', 'nosniff');
      reply.header('cache-control', 'no-store');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('x-frame-options', 'DENY');
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
      return payload;
    });
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url;
      const status = reply.statusCode;
      this.requests.inc({ method: route === undefined ? 'other' : req.method, route: route ?? 'unmatched', status: String(status) });
      const fields = { method: req.method, route: route ?? null, status, ms: Math.round(reply.elapsedTime), client: req.ip, caller: this.callers.get(req)?.name ?? null };
      if (status >= 500) this.log.error(fields, 'admin API request');
      else if (status === 401 || status === 403) this.log.warn(fields, 'admin API request refused');
      else this.log.debug(fields, 'admin API request');
    });
    for (const route of this.routes) {
      const response: Record<number, unknown> = { ...route.schema.response };
      for (const s of errorStatuses(route)) response[s] = ERROR;
      app.route({
        method: route.method,
        url: route.url,
        schema: { ...route.schema, response },
        onRequest: async (req) => this.authenticate(route, req),
        handler: async (req, reply) => route.handler(this.context(req), req, reply),
      });
    }
  }

  private context(req: FastifyRequest): AdminContext {
    const caller = this.callers.get(req) ?? null;
    return {
      node: this.node, caller, directory: new Directory(this.node), history: this.history,
      log: (fields, msg) => this.log.info({ ...fields, caller: caller?.name ?? null, client: req.ip }, msg),
    };
  }

  private authenticate(route: AdminRoute, req: FastifyRequest): void {
    if (route.access === 'public') {
      this.callers.set(req, null);
      return;
    }
    const key = clientKey(req.ip);
    const waitMs = this.limiter.retryAfterMs(key);
    if (waitMs > 0) {
      this.authFailures.inc({ reason: 'rate-limited' });
      throw new AdminHttpError(429, 'HEARSAY_ERR_ADMIN_RATE_LIMITED', 'too many failed authentications from this address; try again later', {
        'retry-after': String(Math.ceil(waitMs / 1000)),
      });
    }
    const header = req.headers.authorization;
    if (header === undefined || header === '') {
      this.authFailures.inc({ reason: 'missing' });
      throw unauthenticated();
    }
    const token = bearerToken(header);
    const caller = token === null ? null : this.node.policy.authenticateToken(token);
    if (caller === null) {
      // Counted against the address: a presented credential that is wrong is a guess.
      this.limiter.fail(key);
      this.authFailures.inc({ reason: 'invalid' });
      throw unauthenticated(token === null ? 'the Authorization header must be "Bearer <token>"' : 'the bearer token matches no token of the policy in force');
    }
    this.callers.set(req, caller);
    if (route.clusterOnly === true && caller.scope.kind !== 'cluster') {
      this.authFailures.inc({ reason: 'scope' });
      throw forbidden(`${route.url} spans every tenant and needs a cluster-scoped token`);
    }
    if (route.access === 'admin' && caller.access !== 'admin') {
      this.authFailures.inc({ reason: 'access' });
      throw forbidden('this action needs a token with admin access');
    }
  }
}

/** Starts the admin API of a running node from its config (node.ts calls this when adminEnabled). */
export async function startAdminServer(node: Node): Promise<AdminServer> {
  const server = new AdminServer(node);
  try {
    await server.listen(node.config.adminHost, node.config.adminPort);
  } catch (e) {
    await server.close().catch(() => {});
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new HearsayError('HEARSAY_ERR_ADMIN_LISTEN', `admin API cannot listen on ${node.config.adminHost}:${node.config.adminPort} (${code}); set adminPort, or adminEnabled: false`, { cause: e });
  }
  return server;
}

/**
 * Fastify's logger interface over ours. Fastify hands its logger raw requests and errors; only the
 * method, URL and error message pass, so headers (the token) and stacks never reach a log line.
 */
function fastifyLogger(log: Logger): FastifyBaseLogger {
  const clean = (o: unknown): object => {
    if (o instanceof Error) return { err: o.message };
    if (typeof o !== 'object' || o === null) return {};
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (k === 'req' || k === 'request') {
        const r = v as { method?: unknown; url?: unknown };
        out.req = { method: String(r?.method ?? ''), url: String(r?.url ?? '').split('?')[0] };
      } else if (k === 'res' || k === 'reply') {
        out.status = (v as { statusCode?: unknown })?.statusCode ?? null;
      } else if (k === 'err' || k === 'error') {
        out.err = v instanceof Error ? v.message : String(v);
      } else if (typeof v !== 'object' || v === null) {
        out[k] = v;
      }
    }
    return out;
  };
  const fn = (f: (o: object, m?: string) => void) => (a?: unknown, b?: unknown): void => {
    if (typeof a === 'string') f({}, a);
    else f(clean(a), typeof b === 'string' ? b : undefined);
  };
  const noop = (): void => {};
  return {
    level: 'info',
    fatal: fn((o, m) => log.error(o, m)),
    error: fn((o, m) => log.error(o, m)),
    warn: fn((o, m) => log.warn(o, m)),
    info: fn((o, m) => log.info(o, m)),
    debug: fn((o, m) => log.debug(o, m)),
    trace: noop,
    silent: noop,
    child: (bindings: Record<string, unknown>) => fastifyLogger(log.child(clean(bindings) as Record<string, unknown>)),
  } as unknown as FastifyBaseLogger;
}
