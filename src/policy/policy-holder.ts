/**
 * The policy and revocation list in force on one node, and the rules for replacing them.
 *
 * Adoption rules (the same for both documents, whatever the source — config file, dataDir,
 * gossip):
 * - signed by the configured authority key, for this node's cluster, well-formed (a policy must
 *   also pass full validation: a signed but invalid policy is refused and logged, never half-applied);
 * - adopted only if its version is strictly higher than the one in force. Older versions are
 *   refused (replaying an old, laxer policy or an old, shorter revocation list does nothing);
 *   the same version with other content (the authority signed twice) keeps the first one seen
 *   and logs the conflict;
 * - once adopted, it is persisted in `dataDir` (unless `:memory:`), so a restart keeps it even if
 *   the config still names an older file.
 *
 * The holder is pure state plus files; the network side (offers, fetches) is policy-gossip.ts and
 * the effects on the link layer are enforcement.ts. Layers read `holder.authorizer` on every call,
 * so a new version applies to the next decision without re-wiring anything.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { HearsayError, isHearsayError } from '../errors.js';
import type { Certificate } from '../identity/certificate.js';
import { RevocationIndex } from '../identity/revocation.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import type { PeerCertificate } from '../link/peer-certificate.js';
import type { Logger } from '../log.js';
import type { Counter, Gauge, MetricsRegistry } from '../metrics.js';
import { TenantAuthorizer, type Authorizer, type PeerLimits } from './authorizer.js';
import { compilePolicy, type CompiledPolicy } from './compiled-policy.js';
import {
  loadSignedPolicyFile,
  loadSignedRevocationFile,
  writeSignedPolicyFile,
  writeSignedRevocationFile,
  type SignedPolicy,
  type SignedRevocation,
  type TrustOptions,
} from './signed-documents.js';
import type { TokenGrant } from './tokens.js';

export const PERSISTED_POLICY_FILE = 'policy.signed.json';
export const PERSISTED_REVOCATION_FILE = 'revocation.signed.json';

export type DocumentKind = 'policy' | 'revocation';
export type AdoptOutcome = 'adopted' | 'same' | 'stale' | 'conflict';
export type AdoptSource = 'config' | 'persisted' | 'gossip' | 'api';

export interface PolicyHolderOptions {
  readonly cluster: string;
  readonly authorityPublicKey: Uint8Array;
  readonly backend: SignatureBackend;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Where adopted documents are persisted; ':memory:' keeps them in memory only. */
  readonly dataDir: string;
  /** Operator-provided signed files (config policyFile / revocationFile); '' for none. */
  readonly policyFile: string;
  readonly revocationFile: string;
  /** Limits applied where the policy sets none, and by the default tenant authorizer. */
  readonly defaults: PeerLimits;
  readonly decisionCacheSize: number;
}

export class PolicyHolder {
  /** The authority as an envelope origin: what the router's resolveOrigin returns for POLICY and REVOCATION. */
  readonly authorityCert: PeerCertificate;
  private readonly o: PolicyHolderOptions;
  private readonly trust: TrustOptions;
  private readonly fallback: TenantAuthorizer;
  private current: { signed: SignedPolicy; compiled: CompiledPolicy } | null = null;
  private revocationSigned: SignedRevocation | null = null;
  private index = new RevocationIndex(null);
  private verdicts = new WeakMap<object, boolean>();
  private readonly policyListeners: Array<(p: SignedPolicy, compiled: CompiledPolicy) => void> = [];
  private readonly revocationListeners: Array<(r: SignedRevocation, index: RevocationIndex) => void> = [];
  private readonly updates: Counter;
  private readonly versions: Gauge;
  private readonly fileStamps = new Map<string, string>();

  constructor(options: PolicyHolderOptions) {
    this.o = options;
    this.trust = { authorityPublicKey: options.authorityPublicKey, cluster: options.cluster, backend: options.backend };
    this.fallback = new TenantAuthorizer(options.defaults);
    this.authorityCert = Object.freeze({
      nodeId: Uint8Array.from(options.authorityPublicKey),
      kx: new Uint8Array(32),
      cluster: options.cluster,
      name: 'authority',
      tenant: '',
      roles: Object.freeze([]) as readonly string[],
      notBefore: 0,
      notAfter: Number.MAX_SAFE_INTEGER,
      serial: '',
    });
    this.updates = options.metrics.counter('hearsay_policy_updates_total', 'Signed policy documents and revocation lists received, by kind and outcome.');
    this.versions = options.metrics.gauge('hearsay_policy_version', 'Version in force of the policy document and of the revocation list (0 = none).');
    this.versions.set(0, { kind: 'policy' });
    this.versions.set(0, { kind: 'revocation' });
  }

  /** The Authorizer in force: the compiled policy, or the tenant-namespace default before any policy. */
  get authorizer(): Authorizer {
    return this.current?.compiled ?? this.fallback;
  }

  get compiled(): CompiledPolicy | null {
    return this.current?.compiled ?? null;
  }

  get policy(): SignedPolicy | null {
    return this.current?.signed ?? null;
  }

  get revocation(): SignedRevocation | null {
    return this.revocationSigned;
  }

  get revocations(): RevocationIndex {
    return this.index;
  }

  get policyVersion(): number {
    return this.current?.signed.version ?? 0;
  }

  get revocationVersion(): number {
    return this.index.version;
  }

  get trustOptions(): TrustOptions {
    return this.trust;
  }

  isAuthority(origin: Uint8Array): boolean {
    return Buffer.compare(origin, this.o.authorityPublicKey) === 0;
  }

  /**
   * Is this certificate revoked (serial or key)? Called on every verified envelope and outgoing
   * message, so the answer is memoized per certificate object (peer records keep theirs) until
   * the next list.
   */
  isRevoked(cert: Pick<Certificate, 'serial' | 'nodeId'>): boolean {
    if (this.index.size === 0) return false;
    let v = this.verdicts.get(cert);
    if (v === undefined) {
      v = this.index.isRevoked(cert);
      this.verdicts.set(cert, v);
    }
    return v;
  }

  isNodeRevoked(id: Uint8Array | string): boolean {
    if (!this.index.namesNodes) return false;
    return this.index.isNodeRevoked(typeof id === 'string' ? id : Buffer.from(id).toString('hex'));
  }

  /** For replicated data: is a value signed by `origin` at its signed time `timestampMs` to be refused? (revocation.ts) */
  isDataRevoked(origin: Uint8Array | string, timestampMs: number): boolean {
    return this.index.isDataRevoked(typeof origin === 'string' ? origin : Buffer.from(origin).toString('hex'), timestampMs);
  }

  /** Admin API tokens: the grant of a presented token under the policy in force, or null. */
  authenticateToken(token: unknown): TokenGrant | null {
    return this.current?.compiled.authenticateToken(token) ?? null;
  }

  onPolicyChange(listener: (p: SignedPolicy, compiled: CompiledPolicy) => void): void {
    this.policyListeners.push(listener);
  }

  onRevocationChange(listener: (r: SignedRevocation, index: RevocationIndex) => void): void {
    this.revocationListeners.push(listener);
  }

  /** Applies the adoption rules to a policy whose signature has been verified. */
  adoptPolicy(signed: SignedPolicy, source: AdoptSource): AdoptOutcome {
    const now = this.current?.signed;
    const outcome = compare(signed.version, signed.idKey, now?.version ?? 0, now?.idKey);
    this.updates.inc({ kind: 'policy', outcome });
    if (outcome === 'conflict') {
      this.o.logger.error({ version: signed.version, source }, 'two different policy documents signed with the same version; keeping the first one seen (the authority must issue a higher version)');
    }
    if (outcome !== 'adopted') return outcome;
    const compiled = compilePolicy(signed.document, { defaults: this.o.defaults, cacheSize: this.o.decisionCacheSize });
    this.current = { signed, compiled };
    this.versions.set(signed.version, { kind: 'policy' });
    this.o.logger.info({ version: signed.version, source, grants: signed.document.grants.length }, 'policy adopted');
    if (source !== 'persisted') this.persist('policy');
    for (const l of this.policyListeners) l(signed, compiled);
    return outcome;
  }

  /** Applies the adoption rules to a revocation list whose signature has been verified. */
  adoptRevocation(signed: SignedRevocation, source: AdoptSource): AdoptOutcome {
    const outcome = compare(signed.version, signed.idKey, this.index.version, this.revocationSigned?.idKey);
    this.updates.inc({ kind: 'revocation', outcome });
    if (outcome === 'conflict') {
      this.o.logger.error({ version: signed.version, source }, 'two different revocation lists signed with the same version; keeping the first one seen');
    }
    if (outcome !== 'adopted') return outcome;
    this.revocationSigned = signed;
    this.index = new RevocationIndex(signed.list);
    this.verdicts = new WeakMap();
    this.versions.set(signed.version, { kind: 'revocation' });
    this.o.logger.info({ version: signed.version, source, entries: signed.list.entries.length }, 'revocation list adopted');
    if (source !== 'persisted') this.persist('revocation');
    for (const l of this.revocationListeners) l(signed, this.index);
    return outcome;
  }

  /**
   * At start: what dataDir kept from the last run, then the operator's files. A configured file
   * that is missing or invalid is the operator's mistake and stops the start (HEARSAY_ERR_POLICY);
   * a damaged persisted copy is logged and ignored (gossip brings the current version back).
   */
  loadInitial(): void {
    if (this.o.dataDir !== ':memory:') {
      this.tryLoad(join(this.o.dataDir, PERSISTED_POLICY_FILE), 'policy', 'persisted', false);
      this.tryLoad(join(this.o.dataDir, PERSISTED_REVOCATION_FILE), 'revocation', 'persisted', false);
    }
    if (this.o.policyFile !== '') this.tryLoad(this.o.policyFile, 'policy', 'config', true);
    if (this.o.revocationFile !== '') this.tryLoad(this.o.revocationFile, 'revocation', 'config', true);
  }

  /**
   * Re-reads the configured files when they changed on disk (size or modification time), so an
   * operator can hand a node a new signed version without restarting it. Never throws.
   */
  reloadFiles(): void {
    for (const [path, kind] of [[this.o.policyFile, 'policy'], [this.o.revocationFile, 'revocation']] as const) {
      if (path === '') continue;
      let stamp: string;
      try {
        const st = statSync(path);
        stamp = `${st.size}:${st.mtimeMs}`;
      } catch {
        continue;
      }
      if (this.fileStamps.get(path) === stamp) continue;
      this.tryLoad(path, kind, 'config', false);
    }
  }

  private tryLoad(path: string, kind: DocumentKind, source: AdoptSource, mustWork: boolean): void {
    try {
      const st = statSync(path, { throwIfNoEntry: false });
      if (st === undefined) {
        if (mustWork) throw new HearsayError('HEARSAY_ERR_POLICY', `signed ${kind} file ${path} does not exist`);
        return;
      }
      this.fileStamps.set(path, `${st.size}:${st.mtimeMs}`);
      if (kind === 'policy') this.adoptPolicy(loadSignedPolicyFile(path, this.trust), source);
      else this.adoptRevocation(loadSignedRevocationFile(path, this.trust), source);
    } catch (e) {
      if (!isHearsayError(e)) throw e;
      if (mustWork) throw e;
      this.o.logger.warn({ path, err: e.message }, `ignoring the ${kind} file`);
    }
  }

  private persist(kind: DocumentKind): void {
    if (this.o.dataDir === ':memory:') return;
    try {
      if (kind === 'policy' && this.current !== null) {
        writeSignedPolicyFile(join(this.o.dataDir, PERSISTED_POLICY_FILE), this.current.signed, { force: true, now: this.o.clock.now() });
      } else if (kind === 'revocation' && this.revocationSigned !== null) {
        writeSignedRevocationFile(join(this.o.dataDir, PERSISTED_REVOCATION_FILE), this.revocationSigned, { force: true });
      }
    } catch (e) {
      // The version is in force in memory either way; only a restart before the next success loses it.
      this.o.logger.error({ kind, err: (e as Error).message }, 'cannot persist the adopted document in dataDir');
    }
  }
}

function compare(version: number, idKey: string, currentVersion: number, currentIdKey: string | undefined): AdoptOutcome {
  if (version > currentVersion) return 'adopted';
  if (version < currentVersion) return 'stale';
  return idKey === currentIdKey ? 'same' : 'conflict';
}
