/**
 * Errors of the admin API: every non-2xx answer is `{ error: { code, message } }` with a stable
 * code from src/errors.ts, and nothing else. Messages are written here or come from our own typed
 * errors; a stack, a raw exception text from a library, or a token never reaches a client.
 */
import { isHearsayError, type ErrorCode } from '../errors.js';

export class AdminHttpError extends Error {
  constructor(readonly status: number, readonly code: ErrorCode, message: string, readonly headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'AdminHttpError';
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export const unauthenticated = (message = 'a bearer token from the policy is required (Authorization: Bearer <token>)'): AdminHttpError =>
  new AdminHttpError(401, 'HEARSAY_ERR_ADMIN_UNAUTHENTICATED', message, { 'www-authenticate': 'Bearer realm="hearsay"' });
export const forbidden = (message: string): AdminHttpError => new AdminHttpError(403, 'HEARSAY_ERR_ADMIN_FORBIDDEN', message);
export const notFound = (message: string): AdminHttpError => new AdminHttpError(404, 'HEARSAY_ERR_ADMIN_NOT_FOUND', message);
export const badRequest = (message: string): AdminHttpError => new AdminHttpError(400, 'HEARSAY_ERR_ADMIN_BAD_REQUEST', message);
export const unavailable = (message: string): AdminHttpError => new AdminHttpError(503, 'HEARSAY_ERR_ADMIN_UNAVAILABLE', message);

/** Fastify's own 4xx errors (bad JSON, wrong content type, body too large...), by status, with our wording. */
const FRAMEWORK_MESSAGES: Readonly<Record<number, string>> = {
  400: 'the request is malformed (invalid JSON, or a body where none is expected)',
  404: 'no such route',
  405: 'method not allowed',
  406: 'not acceptable',
  408: 'request timeout',
  413: 'the request body is too large',
  414: 'the URL is too long',
  415: 'unsupported content type (send application/json)',
  431: 'request headers too large',
};

/**
 * The status and body for any error thrown while serving a request. `log` is told about errors
 * that are ours to fix (5xx), with the message and code only: a stack can carry request data.
 */
export function toHttpError(e: unknown, log: (fields: object, msg: string) => void): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (e instanceof AdminHttpError) return { status: e.status, body: { error: { code: e.code, message: e.message } }, headers: { ...e.headers } };
  const err = e as { validation?: unknown; validationContext?: string; statusCode?: number; code?: string; message?: string };
  if (Array.isArray(err.validation)) {
    // Ajv's messages name the field and the rule ("params/id must match pattern ..."), never the value.
    const message = typeof err.message === 'string' ? err.message.slice(0, 300) : 'invalid request';
    return { status: 400, body: { error: { code: 'HEARSAY_ERR_ADMIN_BAD_REQUEST', message } }, headers: {} };
  }
  if (isHearsayError(e)) {
    switch (e.code) {
      case 'HEARSAY_ERR_INVALID_ARGUMENT':
      case 'HEARSAY_ERR_TOO_LARGE':
        return { status: 400, body: { error: { code: 'HEARSAY_ERR_ADMIN_BAD_REQUEST', message: e.message } }, headers: {} };
      case 'HEARSAY_ERR_NOT_AUTHORIZED':
        // The node itself may not read or write the key: the policy, not the token, says no.
        return { status: 403, body: { error: { code: 'HEARSAY_ERR_NOT_AUTHORIZED', message: e.message } }, headers: {} };
      case 'HEARSAY_ERR_STOPPED':
      case 'HEARSAY_ERR_NOT_STARTED':
        return { status: 503, body: { error: { code: 'HEARSAY_ERR_ADMIN_UNAVAILABLE', message: 'the node is not running' } }, headers: {} };
      default:
        log({ code: e.code, err: e.message }, 'admin API request failed');
        return { status: 500, body: { error: { code: 'HEARSAY_ERR_INTERNAL', message: 'internal error; see the node log' } }, headers: {} };
    }
  }
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = status === 404 ? 'HEARSAY_ERR_ADMIN_NOT_FOUND' : 'HEARSAY_ERR_ADMIN_BAD_REQUEST';
    return { status, body: { error: { code, message: FRAMEWORK_MESSAGES[status] ?? 'bad request' } }, headers: {} };
  }
  log({ code: typeof err.code === 'string' ? err.code : 'unknown', err: typeof err.message === 'string' ? err.message.slice(0, 500) : String(e) }, 'admin API request failed');
  return { status: 500, body: { error: { code: 'HEARSAY_ERR_INTERNAL', message: 'internal error; see the node log' } }, headers: {} };
}
