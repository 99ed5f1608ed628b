/**
 * Glob patterns of the policy language, for topic names and key names alike:
 *
 *   ?    one character other than `/`
 *   *    any run of characters without `/` (possibly empty): one path segment or part of one
 *   **   any run of characters, `/` included (possibly empty): a whole subtree, i.e. a prefix grant
 *
 * Anything else stands for itself. `a/**` grants every name under `a/`; `a/*` grants the names one
 * level below `a/`; `a*` grants `a`, `ab`, `abc`... within one segment.
 *
 * Requested names may contain wildcards too (a subscription to `acme/orders/*`). Such a request is
 * granted only when the grant covers *every* name it could stand for: a wildcard in the request
 * can only be absorbed by an equal or broader wildcard of the pattern (`?` by `?`, `*` or `**`;
 * `*` by `*` or `**`; `**` by `**` only), never by literal characters. This is a sound
 * under-approximation of pattern inclusion: it may refuse an exotic request that is in fact
 * covered, never the other way round.
 *
 * Matching is a dynamic program over (pattern tokens × name units), O(|pattern| · |name|) in the
 * worst case whatever the input — no backtracking regular expression sees a peer-chosen name, so a
 * crafted topic cannot make a decision exponentially slow. Decisions are memoized above this
 * (compiled-policy.ts), so the cost is paid once per (subject, name) and policy version.
 */

/** Units of a tokenized pattern or name: a character code, or one of the three wildcards. */
export const ONE = -1; // ?
export const SEG = -2; // *
export const ANY = -3; // **
const SLASH = 0x2f;

/** Longest pattern accepted in a policy document. */
export const MAX_PATTERN_LENGTH = 512;

/**
 * Splits a pattern or a name into units; `**` is taken greedily, so `***` reads as `**` then `*`
 * (policy validation refuses `***` in patterns, so only names can contain it).
 */
export function tokenize(text: string): Int32Array {
  const out = new Int32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2a) {
      if (text.charCodeAt(i + 1) === 0x2a) {
        out[n++] = ANY;
        i++;
      } else {
        out[n++] = SEG;
      }
    } else if (c === 0x3f) {
      out[n++] = ONE;
    } else {
      out[n++] = c;
    }
  }
  return out.subarray(0, n);
}

/** True when the name contains a wildcard (it is a pattern itself, e.g. a wildcard subscription). */
export function hasWildcard(name: string): boolean {
  return name.includes('*') || name.includes('?');
}

/** Why a pattern is not acceptable in a policy, or null. */
export function patternProblem(pattern: string): string | null {
  if (pattern.length === 0) return 'must not be empty';
  if (pattern.length > MAX_PATTERN_LENGTH) return `must be at most ${MAX_PATTERN_LENGTH} characters`;
  if (!/^[\x21-\x7e]+$/.test(pattern)) return 'must be printable ASCII without spaces';
  if (pattern.startsWith('/')) return 'must not start with "/" (it is relative to the namespace, which ends in "/")';
  if (pattern.includes('***')) return 'must not contain "***" (write "**" for any subtree)';
  return null;
}

/** Can pattern unit `p` (a single-unit matcher: a character or `?`) match name unit `u`? */
function unitMatches(p: number, u: number): boolean {
  if (p >= 0) return p === u;
  // `?`: any one character but `/`, or a `?` of the request.
  return (u >= 0 && u !== SLASH) || u === ONE;
}

/** May `*` absorb name unit `u`? */
function segAbsorbs(u: number): boolean {
  return (u >= 0 && u !== SLASH) || u === ONE || u === SEG;
}

/**
 * A compiled pattern: its units, and a reusable row of the dynamic program (patterns are matched
 * one at a time on the receive path's miss branch, never concurrently).
 */
export class GlobPattern {
  readonly units: Int32Array;
  private row: Uint8Array = new Uint8Array(64);
  private next: Uint8Array = new Uint8Array(64);

  constructor(readonly source: string) {
    this.units = tokenize(source);
  }

  /** Does the pattern cover every name `name` (already tokenized) can stand for? */
  matchesUnits(name: Int32Array): boolean {
    const n = name.length;
    if (this.row.length < n + 1) {
      this.row = new Uint8Array(n + 1);
      this.next = new Uint8Array(n + 1);
    }
    // cur[j]: the pattern units processed so far match name[0..j).
    let cur = this.row;
    let nxt = this.next;
    cur.fill(0, 0, n + 1);
    cur[0] = 1;
    for (let i = 0; i < this.units.length; i++) {
      const p = this.units[i]!;
      nxt.fill(0, 0, n + 1);
      let any = false;
      if (p === ANY) {
        // Once reachable, `**` extends over every following unit.
        let reach = 0;
        for (let j = 0; j <= n; j++) {
          if (cur[j] === 1) reach = 1;
          nxt[j] = reach;
          if (reach === 1) any = true;
        }
      } else if (p === SEG) {
        let reach = 0;
        for (let j = 0; j <= n; j++) {
          if (cur[j] === 1) reach = 1;
          else if (reach === 1 && !segAbsorbs(name[j - 1]!)) reach = 0;
          nxt[j] = reach;
          if (reach === 1) any = true;
        }
      } else {
        for (let j = 1; j <= n; j++) {
          if (cur[j - 1] === 1 && unitMatches(p, name[j - 1]!)) {
            nxt[j] = 1;
            any = true;
          }
        }
      }
      if (!any) return false;
      const t = cur;
      cur = nxt;
      nxt = t;
    }
    return cur[n] === 1;
  }

  matches(name: string): boolean {
    return this.matchesUnits(tokenize(name));
  }
}
