/**
 * Admin API tokens. The policy stores only SHA-256(token): the policy document is public inside
 * the cluster (every node holds it to enforce it), so it must not hold anything that opens the
 * admin API. A token is 32 bytes from the CSPRNG, so its hash cannot be reversed by guessing and
 * needs no salt or slow hash (those exist for low-entropy passwords).
 *
 * Token format: `hst_` + base64url(32 random bytes). The prefix lets secret scanners recognise a
 * leaked token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenAccess } from './policy-document.js';

export const TOKEN_PREFIX = 'hst_';
/** Longer presented tokens are refused before hashing: a bound on work per request. */
export const MAX_TOKEN_LENGTH = 256;

export type TokenScope = { readonly kind: 'cluster' } | { readonly kind: 'tenant'; readonly tenant: string };

export interface TokenGrant {
  readonly name: string;
  readonly scope: TokenScope;
  readonly access: TokenAccess;
}

/** A fresh token and its hash. Print the token once; store only the hash. */
export function generateToken(): { token: string; sha256: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, sha256: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function parseScope(scope: string): TokenScope {
  return scope === 'cluster' ? { kind: 'cluster' } : { kind: 'tenant', tenant: scope.slice('tenant:'.length) };
}

/** Looks a presented token up among the policy's hashes. */
export class TokenTable {
  private readonly byHash = new Map<string, { digest: Buffer; grant: TokenGrant }>();

  constructor(tokens: ReadonlyArray<{ name: string; sha256: string; scope: string; access: TokenAccess }>) {
    for (const t of tokens) {
      this.byHash.set(t.sha256, { digest: Buffer.from(t.sha256, 'hex'), grant: Object.freeze({ name: t.name, scope: Object.freeze(parseScope(t.scope)), access: t.access }) });
    }
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The grant of a presented token, or null. */
  authenticate(token: unknown): TokenGrant | null {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
    const digest = createHash('sha256').update(token, 'utf8').digest();
    const hit = this.byHash.get(digest.toString('hex'));
    // The map lookup is keyed by the hash, which reveals nothing usable about any token; the
    // constant-time comparison is belt and braces against a future change of the lookup.
    if (hit === undefined || !timingSafeEqual(hit.digest, digest)) return null;
    return hit.grant;
  }
}
