/**
 * The OpenAPI 3.1 document of the admin API, built from the route table (route.ts) and the same
 * JSON schemas fastify validates and serializes with, so it cannot drift from what the server
 * does; a test walks fastify's registered routes and checks each against this document, and
 * checks the route list in README.md ("Admin API and CLI") against it.
 *
 * Built here rather than with @fastify/swagger: the routes are a table we own, OpenAPI 3.1 takes
 * JSON Schema as it is, and this is one small file instead of a plugin and five dependencies.
 */
import type { AdminRoute } from './route.js';
import { ERROR } from './schemas.js';

type Schema = Record<string, unknown>;

/** Error answers a route can give, by status (all with the `{ error: { code, message } }` body). */
export function errorStatuses(route: Pick<AdminRoute, 'access'>): number[] {
  return route.access === 'public' ? [404, 500] : [400, 401, 403, 404, 429, 500, 503];
}

const ERROR_TEXT: Readonly<Record<number, string>> = {
  400: 'HEARSAY_ERR_ADMIN_BAD_REQUEST: a parameter or the body failed its schema.',
  401: 'HEARSAY_ERR_ADMIN_UNAUTHENTICATED: no bearer token, or an unknown one.',
  403: 'HEARSAY_ERR_ADMIN_FORBIDDEN: the token\'s scope or access does not allow this; HEARSAY_ERR_NOT_AUTHORIZED: the node\'s policy does not.',
  404: 'HEARSAY_ERR_ADMIN_NOT_FOUND: no such route, or nothing by that name visible to the token.',
  429: 'HEARSAY_ERR_ADMIN_RATE_LIMITED: too many failed authentications from this address (see Retry-After).',
  500: 'HEARSAY_ERR_INTERNAL: a bug; details are in the node log only.',
  503: 'HEARSAY_ERR_ADMIN_UNAVAILABLE: the node is stopping or has no reputation engine.',
};

/** `/v1/peers/:id` → `/v1/peers/{id}`; the key wildcard `/v1/kv/*` → `/v1/kv/{key}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{key}');
}

function parameters(route: AdminRoute): Schema[] {
  const out: Schema[] = [];
  const add = (where: 'path' | 'query', s: Schema | undefined): void => {
    if (s === undefined) return;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const required = new Set((s.required ?? []) as string[]);
    for (const [name, schema] of Object.entries(props)) {
      const { description, ...rest } = schema;
      out.push({
        name: where === 'path' && name === '*' ? 'key' : name, in: where, required: where === 'path' || required.has(name),
        ...(description === undefined ? {} : { description }), schema: rest,
      });
    }
  };
  add('path', route.schema.params);
  add('query', route.schema.querystring);
  return out;
}

export function buildOpenApi(routes: readonly AdminRoute[], version: string): Schema {
  const paths: Record<string, Record<string, Schema>> = {};
  for (const r of routes) {
    const path = openApiPath(r.url);
    const responses: Record<string, Schema> = {};
    for (const [status, schema] of Object.entries(r.schema.response)) {
      const type = r.produces ?? 'application/json';
      responses[status] = { description: 'OK', content: { [type]: { schema } } };
    }
    for (const status of errorStatuses(r)) {
      responses[String(status)] = { description: ERROR_TEXT[status] ?? 'error', content: { 'application/json': { schema: ERROR } } };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: r.summary,
      'x-hearsay-access': r.access,
      ...(r.clusterOnly === true ? { 'x-hearsay-cluster-only': true } : {}),
      security: r.access === 'public' ? [] : [{ bearer: [] }],
      parameters: parameters(r),
      ...(r.schema.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: r.schema.body } } } }),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Hearsay admin API',
      version,
      description: 'One per node, on adminHost:adminPort (127.0.0.1 by default). Bearer tokens come from the signed policy: scope cluster or tenant:<name>, access read-only or admin. A tenant token sees only its tenant\'s members, peers, events, evidence and keys.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A policy token (hst_…); `hearsay policy token` makes one.' } } },
    paths,
  };
}
