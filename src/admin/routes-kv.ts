/**
 * `/v1/kv/*`: read, write and delete one key of the replicated key/value state. Two checks, both
 * needed: the token must reach the key (a tenant token only `<tenant>/…`; writes need admin
 * access), and the node itself must be allowed by the policy — a write is signed by this node and
 * checked against its certificate at every hop, so the admin API cannot lend a node rights the
 * policy does not give it (HEARSAY_ERR_NOT_AUTHORIZED, 403).
 *
 * A key outside the token's reach answers 404, like a missing key, so a tenant cannot probe
 * another tenant's key names.
 */
import { HearsayError } from '../errors.js';
import { seesKey } from './auth.js';
import { badRequest, notFound } from './http-errors.js';
import { callerOf, type AdminContext, type AdminRoute } from './route.js';
import { KEY_PARAMS, KV_ENTRY, KV_PUT_BODY, KV_RECEIPT } from './schemas.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function keyOf(ctx: AdminContext, params: unknown): string {
  const key = (params as { '*': string })['*'];
  if (!seesKey(callerOf(ctx), key)) throw notFound('no such key visible to this token');
  if (Buffer.byteLength(key, 'utf8') > ctx.node.config.maxKeyBytes) throw badRequest(`a key is at most ${ctx.node.config.maxKeyBytes} bytes`);
  return key;
}

function text(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

export function kvRoutes(): AdminRoute[] {
  return [
    {
      method: 'GET', url: '/v1/kv/*', access: 'read',
      summary: 'One key\'s live value (base64, and as text when it is UTF-8), writer and version.',
      schema: { params: KEY_PARAMS, response: { 200: KV_ENTRY } },
      handler: (ctx, req) => {
        const key = keyOf(ctx, req.params);
        // get() refuses (NOT_AUTHORIZED) a key this node may not read; list() would just hide it.
        if (ctx.node.kv.get(key) === undefined) throw notFound('no such key');
        const e = ctx.node.kv.list(key, 1)[0];
        if (e === undefined || e.key !== key) throw notFound('no such key');
        return { key, value: Buffer.from(e.value).toString('base64'), text: text(e.value), origin: e.origin, version: e.version, wall: e.wall, logical: e.logical };
      },
    },
    {
      method: 'PUT', url: '/v1/kv/*', access: 'admin',
      summary: 'Writes a key, signed by this node (its policy must allow the write). Answers once committed here; it then spreads.',
      schema: { params: KEY_PARAMS, body: KV_PUT_BODY, response: { 200: KV_RECEIPT } },
      handler: async (ctx, req) => {
        const key = keyOf(ctx, req.params);
        const body = req.body as { value: string; encoding: 'utf8' | 'base64' };
        if (body.encoding === 'base64' && !/^[A-Za-z0-9+/]*={0,2}$/.test(body.value)) throw badRequest('value is not base64');
        const bytes = body.encoding === 'base64' ? new Uint8Array(Buffer.from(body.value, 'base64')) : new TextEncoder().encode(body.value);
        if (bytes.length > ctx.node.config.maxValueBytes) throw new HearsayError('HEARSAY_ERR_TOO_LARGE', `a value is at most ${ctx.node.config.maxValueBytes} bytes`);
        const r = await ctx.node.kv.set(key, bytes);
        ctx.log({ action: 'kv-set', kvKey: key, version: r.version }, 'admin: key written');
        return { ...r };
      },
    },
    {
      method: 'DELETE', url: '/v1/kv/*', access: 'admin',
      summary: 'Deletes a key (a signed tombstone, by this node; its policy must allow the write).',
      schema: { params: KEY_PARAMS, response: { 200: KV_RECEIPT } },
      handler: async (ctx, req) => {
        const key = keyOf(ctx, req.params);
        const r = await ctx.node.kv.delete(key);
        ctx.log({ action: 'kv-delete', kvKey: key, version: r.version }, 'admin: key deleted');
        return { ...r };
      },
    },
  ];
}
