/**
 * A policy version compiled into a decision function: the `Authorizer` every layer calls.
 *
 * Decisions depend only on a subject's tenant and roles (its *profile*), never on which node it is,
 * so compilation happens per profile, lazily: the first time a profile is seen, the grants that
 * apply to it are selected once and grouped by namespace (`acme/` → patterns). A decision for a new
 * (profile, name) pair then costs one map lookup of the name's namespace and one glob match per
 * pattern of that namespace; the result is memoized.
 *
 * Receive-path cost for a known (node, name) pair: a WeakMap lookup of the subject object (a peer's
 * certificate object is stable) and a Map lookup of the name — no string building, no allocation.
 *
 * Memory is bounded: at most `cacheSize` memoized names across all profiles (two generations: when
 * the current one is full it becomes the old one and the oldest is dropped, an O(1)-per-hit
 * approximation of LRU), and at most MAX_PROFILES profiles. Each policy version has its own caches,
 * so adopting a new version invalidates every memoized decision at once.
 */
import type { Authorizer, PeerLimits, Subject } from './authorizer.js';
import { GlobPattern, tokenize } from './glob.js';
import type { PolicyAction, PolicyDocument } from './policy-document.js';
import { TokenTable, type TokenGrant } from './tokens.js';

/** Distinct (tenant, roles) combinations remembered; a cluster has a handful, so this is a flood guard. */
export const MAX_PROFILES = 1024;
/** Names longer than this are refused without matching (topics are ≤ 200 bytes, keys ≤ 4096). */
export const MAX_NAME_LENGTH = 4096;
export const DEFAULT_DECISION_CACHE_SIZE = 65_536;

const ACTION_INDEX: Readonly<Record<PolicyAction, number>> = { publish: 0, subscribe: 1, read: 2, write: 3 };

export interface CompileOptions {
  /** Limits for nodes no limit in the policy applies to (the node config's peerPacketsPerSecond and maxMessageBytes). */
  readonly defaults: PeerLimits;
  /** Memoized (profile, name) decisions, across all profiles. */
  readonly cacheSize?: number;
}

interface Profile {
  readonly tenant: string;
  readonly roles: readonly string[];
  /** Per action: namespace (without the slash) → patterns relative to it. */
  readonly grants: ReadonlyArray<ReadonlyMap<string, readonly GlobPattern[]>>;
  readonly limits: PeerLimits;
  /** Memoized decisions: bit a = decided for action a, bit a+4 = allowed. */
  hot: Map<string, number>;
  cold: Map<string, number>;
}

export interface DecisionCacheStats {
  readonly profiles: number;
  readonly entries: number;
  readonly hits: number;
  readonly misses: number;
}

export class CompiledPolicy implements Authorizer {
  readonly version: number;
  readonly cluster: string;
  readonly document: PolicyDocument;
  private readonly tenants: ReadonlySet<string>;
  private readonly defaults: PeerLimits;
  private readonly generationSize: number;
  private readonly tokens: TokenTable;
  private profiles = new Map<string, Profile>();
  private bySubject = new WeakMap<object, Profile>();
  private hotEntries = 0;
  private hits = 0;
  private misses = 0;

  constructor(document: PolicyDocument, options: CompileOptions) {
    this.document = document;
    this.version = document.version;
    this.cluster = document.cluster;
    this.tenants = new Set(document.tenants);
    const base = document.limits.default;
    this.defaults = Object.freeze({
      packetsPerSecond: base.packetsPerSecond ?? options.defaults.packetsPerSecond,
      maxMessageBytes: base.maxMessageBytes ?? options.defaults.maxMessageBytes,
    });
    this.generationSize = Math.max(16, Math.floor((options.cacheSize ?? DEFAULT_DECISION_CACHE_SIZE) / 2));
    this.tokens = new TokenTable(document.tokens);
  }

  mayPublish(subject: Subject, topic: string): boolean {
    return this.decide(subject, topic, 0);
  }

  maySubscribe(subject: Subject, topic: string): boolean {
    return this.decide(subject, topic, 1);
  }

  mayRead(subject: Subject, key: string): boolean {
    return this.decide(subject, key, 2);
  }

  mayWrite(subject: Subject, key: string): boolean {
    return this.decide(subject, key, 3);
  }

  may(subject: Subject, action: PolicyAction, name: string): boolean {
    return this.decide(subject, name, ACTION_INDEX[action]);
  }

  limits(subject: Subject): PeerLimits {
    return this.profileOf(subject).limits;
  }

  /** The admin API token's grant, or null for an unknown token. */
  authenticateToken(token: unknown): TokenGrant | null {
    return this.tokens.authenticate(token);
  }

  cacheStats(): DecisionCacheStats {
    let entries = 0;
    for (const p of this.profiles.values()) entries += p.hot.size + p.cold.size;
    return { profiles: this.profiles.size, entries, hits: this.hits, misses: this.misses };
  }

  private decide(subject: Subject, name: string, action: number): boolean {
    if (typeof name !== 'string' || name.length > MAX_NAME_LENGTH) return false;
    const p = this.profileOf(subject);
    let v = p.hot.get(name);
    if (v === undefined) {
      v = p.cold.get(name);
      if (v !== undefined) this.remember(p, name, v);
    }
    const bit = 1 << action;
    if (v !== undefined && (v & bit) !== 0) {
      this.hits++;
      return (v & (bit << 4)) !== 0;
    }
    this.misses++;
    const allowed = evaluate(p, action, name);
    this.remember(p, name, (v ?? 0) | bit | (allowed ? bit << 4 : 0));
    return allowed;
  }

  private remember(p: Profile, name: string, v: number): void {
    const had = p.hot.has(name);
    p.hot.set(name, v);
    if (had) return;
    if (++this.hotEntries >= this.generationSize) {
      // Generation flip: every profile's current memo becomes its old one; the oldest is dropped.
      for (const q of this.profiles.values()) {
        q.cold = q.hot;
        q.hot = new Map();
      }
      this.hotEntries = 0;
    }
  }

  private profileOf(subject: Subject): Profile {
    const known = this.bySubject.get(subject);
    if (known !== undefined) return known;
    const key = `${subject.tenant}\0${subject.roles.join('\0')}`;
    let p = this.profiles.get(key);
    if (p === undefined) {
      if (this.profiles.size >= MAX_PROFILES) {
        this.profiles = new Map();
        this.bySubject = new WeakMap();
        this.hotEntries = 0;
      }
      p = this.buildProfile(subject.tenant, [...subject.roles]);
      this.profiles.set(key, p);
    }
    this.bySubject.set(subject, p);
    return p;
  }

  private buildProfile(tenant: string, roles: readonly string[]): Profile {
    const grants = [0, 1, 2, 3].map(() => new Map<string, GlobPattern[]>());
    const declared = this.tenants.has(tenant);
    // Deny by default: a tenant the policy does not declare gets no grant at all, not even `"*"` ones.
    if (declared) {
      for (const g of this.document.grants) {
        if (!(g.tenants.includes('*') || g.tenants.includes(tenant))) continue;
        if (!(g.roles.includes('*') || roles.some((r) => g.roles.includes(r)))) continue;
        const ns = g.namespace ?? tenant;
        for (const action of g.allow) {
          const byNs = grants[ACTION_INDEX[action]]!;
          let list = byNs.get(ns);
          if (list === undefined) {
            list = [];
            byNs.set(ns, list);
          }
          for (const source of action === 'publish' || action === 'subscribe' ? g.topics : g.keys) {
            if (!list.some((x) => x.source === source)) list.push(new GlobPattern(source));
          }
        }
      }
    }
    let packetsPerSecond = this.defaults.packetsPerSecond;
    let maxMessageBytes = this.defaults.maxMessageBytes;
    // Limit rules apply in document order; for each field, the last matching rule that sets it wins.
    for (const r of this.document.limits.rules) {
      if (r.tenants !== null && !r.tenants.includes(tenant)) continue;
      if (r.roles !== null && !roles.some((x) => r.roles!.includes(x))) continue;
      if (r.packetsPerSecond !== undefined) packetsPerSecond = r.packetsPerSecond;
      if (r.maxMessageBytes !== undefined) maxMessageBytes = r.maxMessageBytes;
    }
    return { tenant, roles, grants, limits: Object.freeze({ packetsPerSecond, maxMessageBytes }), hot: new Map(), cold: new Map() };
  }
}

/** The uncached decision: does a pattern granted for `action` in the name's namespace cover the name? */
function evaluate(p: Profile, action: number, name: string): boolean {
  const slash = name.indexOf('/');
  // A name outside any namespace, or a bare `ns/`, is never granted.
  if (slash <= 0 || slash === name.length - 1) return false;
  const patterns = p.grants[action]!.get(name.slice(0, slash));
  if (patterns === undefined) return false;
  const rest = tokenize(name.slice(slash + 1));
  for (const g of patterns) if (g.matchesUnits(rest)) return true;
  return false;
}

export function compilePolicy(document: PolicyDocument, options: CompileOptions): CompiledPolicy {
  return new CompiledPolicy(document, options);
}
