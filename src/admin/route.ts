/**
 * The shape of one admin route: its method, URL, who may call it, its schemas and handler. The
 * server (server.ts) registers every route of the table with fastify, the OpenAPI document
 * (openapi.ts) is built from the same table, and a test checks the two agree.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HearsayError } from '../errors.js';
import type { Node } from '../node.js';
import type { Access, Caller } from './auth.js';
import type { Directory } from './directory.js';
import type { ScoreHistory } from './score-history.js';

type Schema = Record<string, unknown>;

export interface RouteSchemas {
  readonly params?: Schema;
  readonly querystring?: Schema;
  readonly body?: Schema;
  /** The success answer (status → schema); error answers are added for every route. */
  readonly response: Readonly<Record<number, Schema>>;
}

export interface AdminContext {
  readonly node: Node;
  /** Null on public routes only. */
  readonly caller: Caller | null;
  readonly directory: Directory;
  readonly history: ScoreHistory | null;
  /** Structured log of this request (never the token). */
  readonly log: (fields: object, msg: string) => void;
}

export interface AdminRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly access: Access;
  /** Only cluster-scoped tokens (node-wide data that cannot be split by tenant, such as /metrics). */
  readonly clusterOnly?: boolean;
  readonly summary: string;
  /** The content type of a success answer other than JSON. */
  readonly produces?: string;
  readonly schema: RouteSchemas;
  readonly handler: (ctx: AdminContext, req: FastifyRequest, reply: FastifyReply) => unknown;
}

/** The caller of a route that requires a token (the auth hook has checked it). */
export function callerOf(ctx: AdminContext): Caller {
  if (ctx.caller === null) throw new HearsayError('HEARSAY_ERR_INTERNAL', 'admin route without an authenticated caller');
  return ctx.caller;
}
