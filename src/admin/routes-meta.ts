/**
 * `/metrics` (Prometheus text) and `/v1/openapi.json`.
 *
 * /metrics needs a cluster-scoped token (read-only is enough): the numbers are node-wide (packets,
 * members of every tenant, scores of every peer) and cannot be cut by tenant, and a scrape target
 * without a token would hand them to any process on the host. Prometheus sends one with
 * `authorization: { credentials_file: ... }` in its scrape config.
 *
 * The OpenAPI document is public: it describes the API and holds no data.
 */
import type { AdminRoute } from './route.js';

type Schema = Record<string, unknown>;

export function metaRoutes(openApi: () => Schema): AdminRoute[] {
  return [
    {
      method: 'GET', url: '/metrics', access: 'read', clusterOnly: true, produces: 'text/plain; version=0.0.4',
      summary: 'Node metrics in the Prometheus text format (cluster-scoped tokens only: the numbers span every tenant).',
      schema: { response: { 200: { type: 'string' } } },
      handler: (ctx, _req, reply) => {
        reply.type('text/plain; version=0.0.4; charset=utf-8');
        return ctx.node.metrics.render();
      },
    },
    {
      method: 'GET', url: '/v1/openapi.json', access: 'public',
      summary: 'This document: every route with its parameters, bodies, answers and the access it needs.',
      schema: { response: { 200: { type: 'object', additionalProperties: true } } },
      handler: () => openApi(),
    },
  ];
}
