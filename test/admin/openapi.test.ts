/**
 * The OpenAPI document served at /v1/openapi.json against what fastify really registered (its
 * onRoute hook), and against the route table in README.md: same operations, same schemas, every
 * path parameter declared, every operation with its error answers.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiPath } from '../../src/admin/openapi.js';
import { adminFixture, auth, type AdminFixture } from './helpers.js';

let f: AdminFixture;
let doc: any;

beforeAll(async () => {
  f = await adminFixture();
  const r = await f.server.app.inject({ url: '/v1/openapi.json' });
  expect(r.statusCode).toBe(200);
  doc = r.json();
}, 60_000);

afterAll(async () => {
  await f?.close();
});

function operations(): Map<string, any> {
  const out = new Map<string, any>();
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const [method, op] of Object.entries(ops)) out.set(`${method.toUpperCase()} ${path}`, op);
  }
  return out;
}

describe('the OpenAPI document', () => {
  it('has exactly the operations fastify registered, with the same schemas', () => {
    const ops = operations();
    const registered = f.server.registered.map((r) => `${r.method} ${openApiPath(r.url)}`);
    expect(new Set(registered).size).toBe(registered.length);
    expect([...ops.keys()].sort()).toEqual([...registered].sort());
    for (const r of f.server.registered) {
      const op = ops.get(`${r.method} ${openApiPath(r.url)}`);
      const s = r.schema as { params?: any; querystring?: any; body?: any; response: Record<string, unknown> };
      if (s.body !== undefined) expect(op.requestBody.content['application/json'].schema).toEqual(s.body);
      else expect(op.requestBody).toBeUndefined();
      for (const [where, schema] of [['path', s.params], ['query', s.querystring]] as const) {
        const params = op.parameters.filter((p: { in: string }) => p.in === where);
        const props = Object.keys(schema?.properties ?? {}).map((k) => (k === '*' ? 'key' : k));
        expect(params.map((p: { name: string }) => p.name).sort(), `${r.method} ${r.url} ${where}`).toEqual(props.sort());
      }
      for (const [status, schema] of Object.entries(s.response)) {
        const content = op.responses[status]?.content;
        expect(content, `${r.method} ${r.url} ${status}`).toBeDefined();
        expect(Object.values(content as Record<string, { schema: unknown }>)[0]!.schema).toEqual(schema);
      }
      expect(Object.keys(op.responses).sort()).toEqual(Object.keys(s.response).sort());
    }
  });

  it('declares every path parameter, the access each operation needs, and its error answers', () => {
    for (const [key, op] of operations()) {
      const path = key.split(' ')[1]!;
      for (const m of path.matchAll(/\{([^}]+)\}/g)) {
        expect(op.parameters.some((p: { in: string; name: string; required: boolean }) => p.in === 'path' && p.name === m[1] && p.required), `${key} ${m[1]}`).toBe(true);
      }
      expect(['public', 'read', 'admin']).toContain(op['x-hearsay-access']);
      expect(op.responses['200']).toBeDefined();
      if (op['x-hearsay-access'] === 'public') {
        expect(op.security).toEqual([]);
      } else {
        expect(op.security).toEqual([{ bearer: [] }]);
        for (const s of ['400', '401', '403', '404', '429', '500', '503']) expect(op.responses[s].content['application/json'].schema.properties.error).toBeDefined();
      }
      expect(op.operationId).toMatch(/^[a-z][A-Za-z0-9]+$/);
    }
    const ids = [...operations().values()].map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('matches the route table in README.md', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Admin API and CLI'), readme.indexOf('\n## ', readme.indexOf('## Admin API and CLI') + 5));
    const rows = [...section.matchAll(/^\| (GET|POST|PUT|DELETE) \| `([^`]+)` \| ([^|]+) \|$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]!.trim()}`);
    const fromDoc = [...operations()].map(([k, op]) => `${k} ${op['x-hearsay-access'] === 'read' && op['x-hearsay-cluster-only'] === true ? 'read, cluster scope only' : op['x-hearsay-access']}`);
    expect(rows.sort()).toEqual(fromDoc.sort());
  });

  it('is what the API does: the access each operation declares is the access it enforces', async () => {
    for (const [key, op] of operations()) {
      const [method, path] = key.split(' ') as [string, string];
      const url = path.replace('{id}', f.ids.a2).replace('{key}', 'a/k/x');
      const anonymous = await f.server.app.inject({ method: method as 'GET', url });
      const readOnly = await f.server.app.inject({ method: method as 'GET', url, headers: auth(f.tokens['cluster-ro']), ...(method === 'GET' ? {} : { payload: { reason: 'openapi test', durationMs: 60_000, value: 'v' } }) });
      if (op['x-hearsay-access'] === 'public') expect(anonymous.statusCode, key).toBe(200);
      else expect(anonymous.statusCode, key).toBe(401);
      if (op['x-hearsay-access'] === 'admin') expect(readOnly.statusCode, key).toBe(403);
      else expect(readOnly.statusCode, key).toBe(200);
    }
  });
});
