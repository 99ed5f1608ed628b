/**
 * The one table of Hearsay's error codes.
 *
 * Two error channels (STYLE.md §4): our own mistakes, bad configuration, bad CLI arguments and
 * bad files throw a `HearsayError` with a stable code from this table. Bad input from the network
 * never throws: decoders return a `Result` and the receive path drops, counts and charges the
 * sender. Codes are stable API: operators grep for them and scripts match on them, so a code is
 * never renamed or reused; a new one is appended with its meaning.
 */
export const ERROR_CODES = {
  HEARSAY_ERR_CONFIG: 'A configuration value is missing, of the wrong type or out of its allowed range.',
  HEARSAY_ERR_CONFIG_FILE: 'The configuration file cannot be read or is not valid JSON.',
  HEARSAY_ERR_USAGE: 'A command-line argument is missing, unknown or malformed.',
  HEARSAY_ERR_KEY_FILE: 'A key file is missing, malformed, or of the wrong kind.',
  HEARSAY_ERR_KEY_PERMISSIONS: 'A private key file can be read by group or others; it must be mode 0600.',
  HEARSAY_ERR_KEY_EXISTS: 'A key file already exists and would be overwritten; pass --force to replace it.',
  HEARSAY_ERR_CERT_INVALID: 'A certificate failed a check: signature, cluster, validity window, key or field format.',
  HEARSAY_ERR_CERT_REVOKED: 'A certificate has been revoked by the authority.',
  HEARSAY_ERR_MANIFEST: 'A cluster manifest is malformed.',
  HEARSAY_ERR_POLICY: 'A policy document is malformed, unsigned, or older than the one in force.',
  HEARSAY_ERR_NOT_AUTHORIZED: 'The local node is not allowed by the policy to do this.',
  HEARSAY_ERR_NOT_STARTED: 'The node is not running; call start() first.',
  HEARSAY_ERR_ALREADY_STARTED: 'The node is already running.',
  HEARSAY_ERR_STOPPED: 'The node has been stopped.',
  HEARSAY_ERR_TOO_LARGE: 'A message, key or value exceeds its configured size limit.',
  HEARSAY_ERR_INVALID_ARGUMENT: 'An argument passed to a library call is malformed.',
  HEARSAY_ERR_TRANSPORT: 'A socket could not be bound, or a stream request failed.',
  HEARSAY_ERR_TIMEOUT: 'An operation did not complete within its deadline.',
  HEARSAY_ERR_STORE: 'The SQLite store could not be opened or written.',
  HEARSAY_ERR_REPUTATION_PARAMS: 'Reputation parameters or thresholds are out of range or inconsistent.',
  HEARSAY_ERR_ADMIN: 'The admin API could not be reached or answered with an error.',
  HEARSAY_ERR_INTERNAL: 'An invariant inside Hearsay was broken; this is a bug, please report it.',
  HEARSAY_ERR_ADMIN_UNAUTHENTICATED: 'Admin API (401): no bearer token, or a token that no policy entry matches.',
  HEARSAY_ERR_ADMIN_FORBIDDEN: 'Admin API (403): the token is valid but its scope or access does not allow this request.',
  HEARSAY_ERR_ADMIN_RATE_LIMITED: 'Admin API (429): too many failed authentications from this client address; retry after the Retry-After seconds.',
  HEARSAY_ERR_ADMIN_BAD_REQUEST: 'Admin API (400): a path parameter, query parameter or body failed its schema.',
  HEARSAY_ERR_ADMIN_NOT_FOUND: 'Admin API (404): no such route, or no such peer, key or member visible to the token.',
  HEARSAY_ERR_ADMIN_UNAVAILABLE: 'Admin API (503): the node is stopping, or has no reputation engine to serve this request.',
  HEARSAY_ERR_ADMIN_LISTEN: 'The admin API could not listen on adminHost:adminPort (address in use or not available).',
  HEARSAY_ERR_ADMIN_UNREACHABLE: 'The CLI could not connect to the admin API (node not running, wrong --admin address, or timeout).',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HearsayError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HearsayError';
    this.code = code;
  }
}

export function isHearsayError(e: unknown, code?: ErrorCode): e is HearsayError {
  return e instanceof HearsayError && (code === undefined || e.code === code);
}

/** Decoders of untrusted input return this instead of throwing (STYLE.md §4). */
export type Result<T, R extends string = string> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: R; readonly detail?: string };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<R extends string>(reason: R, detail?: string): { ok: false; reason: R; detail?: string } {
  return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
}
