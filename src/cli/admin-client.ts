/**
 * The admin CLI's side of the admin API: where the node is (`--admin URL`, HEARSAY_ADMIN, or
 * http://127.0.0.1:7401), which token to send, and typed errors for what can go wrong.
 *
 * The token is read from a file (`--token-file`) or the HEARSAY_TOKEN environment variable, never
 * from a `--token` flag: a command line is visible to every user of the host in `ps` and
 * /proc/<pid>/cmdline, and lands in shell history. A token file must not be readable by group or
 * others, like a private key (ARCHITECTURE.md, identity).
 */
import { readFileSync, statSync } from 'node:fs';
import { HearsayError, isHearsayError, type ErrorCode } from '../errors.js';

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:7401';

/** Exit codes of the admin commands, beyond 0 (ok), 1 (other failure) and 2 (usage). */
export const EXIT = { unreachable: 3, unauthenticated: 4, forbidden: 5, notFound: 6 } as const;

/** An error answer of the API (or no answer), with the server's stable code. */
export class AdminRequestError extends HearsayError {
  constructor(code: ErrorCode, message: string, readonly status: number | null) {
    super(code, message);
  }

  get exitCode(): number {
    if (this.status === null) return EXIT.unreachable;
    if (this.status === 401 || this.status === 429) return EXIT.unauthenticated;
    if (this.status === 403) return EXIT.forbidden;
    if (this.status === 404) return EXIT.notFound;
    return 1;
  }
}

/** The admin API's base URL: http(s), host and port only (no credentials, path, query or fragment). */
export function adminBaseUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const raw = flag ?? env.HEARSAY_ADMIN ?? DEFAULT_ADMIN_URL;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new HearsayError('HEARSAY_ERR_USAGE', `--admin must be a URL like ${DEFAULT_ADMIN_URL} (got ${JSON.stringify(raw.slice(0, 80))})`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '' || (u.pathname !== '/' && u.pathname !== '')) {
    throw new HearsayError('HEARSAY_ERR_USAGE', `--admin must be http(s)://host:port with nothing else (got ${JSON.stringify(raw.slice(0, 80))})`);
  }
  return `${u.protocol}//${u.host}`;
}

/** The bearer token from --token-file, else HEARSAY_TOKEN. */
export function adminToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv): string {
  if (tokenFile !== undefined) {
    let mode: number;
    let text: string;
    try {
      mode = statSync(tokenFile).mode;
      text = readFileSync(tokenFile, 'utf8');
    } catch (e) {
      throw new HearsayError('HEARSAY_ERR_USAGE', `cannot read the token file ${tokenFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if ((mode & 0o077) !== 0) {
      throw new HearsayError('HEARSAY_ERR_KEY_PERMISSIONS', `token file ${tokenFile} can be read by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${tokenFile}`);
    }
    const token = text.trim();
    if (token === '' || /\s/.test(token)) throw new HearsayError('HEARSAY_ERR_USAGE', `the token file ${tokenFile} must hold one token (hst_…) and nothing else`);
    return token;
  }
  const token = env.HEARSAY_TOKEN?.trim();
  if (token === undefined || token === '') {
    throw new HearsayError('HEARSAY_ERR_USAGE', 'no admin token: pass --token-file FILE (mode 0600) or set HEARSAY_TOKEN (never a --token flag: it would show in ps and shell history)');
  }
  return token;
}

export class AdminClient {
  constructor(readonly baseUrl: string, private readonly token: string, private readonly timeoutMs = 10_000) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** One request; resolves to the parsed JSON answer, or throws AdminRequestError. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const cause = err.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : err.cause?.code ?? err.cause?.message ?? err.name;
      throw new AdminRequestError('HEARSAY_ERR_ADMIN_UNREACHABLE', `cannot reach the admin API at ${this.baseUrl} (${cause}); is the node running with adminEnabled, and is --admin (or HEARSAY_ADMIN) right?`, null);
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (res.ok) {
      if (parsed === null) throw new AdminRequestError('HEARSAY_ERR_ADMIN', `the admin API at ${this.baseUrl} answered ${method} ${path} with something that is not JSON`, res.status);
      return parsed as T;
    }
    const err = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const code = typeof err?.code === 'string' && /^HEARSAY_ERR_[A-Z_]+$/.test(err.code) ? (err.code as ErrorCode) : 'HEARSAY_ERR_ADMIN';
    const message = typeof err?.message === 'string' ? err.message : `HTTP ${res.status}`;
    throw new AdminRequestError(code, `${message}${hint(res.status)}`, res.status);
  }
}

function hint(status: number): string {
  if (status === 401) return ' (check --token-file or HEARSAY_TOKEN: the token must be in the policy this node holds)';
  if (status === 403) return ' (this token\'s scope or access does not allow it)';
  if (status === 429) return ' (wait a minute: too many failed attempts from this address)';
  return '';
}

export function isAdminRequestError(e: unknown): e is AdminRequestError {
  return isHearsayError(e) && e instanceof AdminRequestError;
}
