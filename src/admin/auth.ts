/**
 * Who is calling the admin API, and may they? Tokens come from the signed policy (policy/tokens.ts:
 * stored as SHA-256 hashes, looked up by hash and compared in constant time), so the set of
 * tokens changes with the policy version and no node holds a token that opens the API.
 *
 * Failed authentications are limited per client address: a token is 256 random bits, so the limit
 * is not what stops guessing; it stops a client from burning CPU on hashing and filling the log,
 * and makes a leaked-token scan from one host visible (429s in the log) instead of quiet.
 */
import { MAX_TOKEN_LENGTH, type TokenGrant } from '../policy/tokens.js';

/** A request's authenticated caller. */
export type Caller = TokenGrant;

/** What a route needs: anyone (the dashboard shell, the OpenAPI document), any token, or more. */
export type Access = 'public' | 'read' | 'admin';

/**
 * The token from an `Authorization: Bearer <token>` header, or null. Only the header: a token in a
 * query string lands in proxy logs, browser history and Referer headers.
 */
export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string' || header.length > MAX_TOKEN_LENGTH + 16) return null;
  const m = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
  return m === null ? null : m[1]!;
}

/** May this caller see data of `tenant` (a member's, a peer's, a key's)? Unknown tenants are visible to cluster tokens only. */
export function seesTenant(caller: Caller, tenant: string | null): boolean {
  if (caller.scope.kind === 'cluster') return true;
  return tenant !== null && tenant === caller.scope.tenant;
}

/** May this caller read or write `key`? A tenant token reaches its own namespace `<tenant>/…` only, not shared namespaces. */
export function seesKey(caller: Caller, key: string): boolean {
  if (caller.scope.kind === 'cluster') return true;
  return key.startsWith(`${caller.scope.tenant}/`);
}

export function describeCaller(caller: Caller): { name: string; scope: string; access: string } {
  return { name: caller.name, scope: caller.scope.kind === 'cluster' ? 'cluster' : `tenant:${caller.scope.tenant}`, access: caller.access };
}

/**
 * The rate-limit key of a client address: IPv4 as is, IPv6 by its /64 (one host usually holds a
 * whole /64, so per-address counting would give it 2^64 budgets).
 */
export function clientKey(address: string): string {
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  if (!a.includes(':')) return a;
  const [head = ''] = a.split('%');
  const parts = expandIpv6(head);
  return parts === null ? a : `${parts.slice(0, 4).join(':')}::/64`;
}

function expandIpv6(a: string): string[] | null {
  const halves = a.split('::');
  if (halves.length > 2) return null;
  const left = halves[0] === '' ? [] : halves[0]!.split(':');
  const right = halves.length === 2 && halves[1] !== '' ? halves[1]!.split(':') : [];
  const fill = halves.length === 2 ? 8 - left.length - right.length : 0;
  if (fill < 0) return null;
  const out = [...left, ...Array<string>(fill).fill('0'), ...right];
  return out.length === 8 ? out.map((p) => p.toLowerCase().replace(/^0+(?=.)/, '')) : null;
}

const WINDOW_MS = 60_000;
/** Client addresses remembered at most; beyond it the oldest window is forgotten (a flood of addresses cannot grow memory). */
export const MAX_TRACKED_CLIENTS = 4096;

/**
 * Failed authentications per client key in fixed one-minute windows. Once a client reaches the
 * limit, every request of it that needs a token is refused with 429 until its window ends — a
 * correct token too, or the limiter would tell a guesser which guess was right.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(private readonly perMinute: number, private readonly now: () => number) {}

  /** Milliseconds until this client may try again, or 0 if it may now. */
  retryAfterMs(key: string): number {
    const w = this.windows.get(key);
    if (w === undefined) return 0;
    const left = w.start + WINDOW_MS - this.now();
    if (left <= 0) {
      this.windows.delete(key);
      return 0;
    }
    return w.failures >= this.perMinute ? left : 0;
  }

  fail(key: string): void {
    const now = this.now();
    let w = this.windows.get(key);
    if (w !== undefined && now - w.start >= WINDOW_MS) {
      this.windows.delete(key);
      w = undefined;
    }
    if (w === undefined) {
      if (this.windows.size >= MAX_TRACKED_CLIENTS) this.windows.delete(this.windows.keys().next().value!);
      w = { start: now, failures: 0 };
      this.windows.set(key, w);
    }
    w.failures++;
  }

  get size(): number {
    return this.windows.size;
  }
}
