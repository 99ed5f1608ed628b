/**
 * Revocation lists: the authority's signed, versioned statement "these certificates (by serial)
 * and these node keys (by node id) are no longer trusted". Each version is the complete list, so a
 * node needs only the newest one; signing and gossip live in src/policy/signed-documents.ts (the
 * signature is an envelope of kind REVOCATION whose origin is the authority key).
 *
 * Body, a msgpack array in a fixed order:
 *
 *   [version, cluster, issuedAt, [[serial, nodeId, revokedAt, reason, name], ...]]
 *
 *   serial     32 hex characters, or "" when the entry names only a key
 *   nodeId     32 bytes, or empty when the entry names only a certificate
 *   revokedAt  ms since the epoch: when the authority revoked it
 *   reason     0 compromised, 1 superseded (key rotation), 2 retired (node decommissioned)
 *   name       the node's name, for people (not trusted for any decision)
 *
 * What revocation means for data the key signed before (ARCHITECTURE.md leaves it to us; the rule
 * is `isDataRevoked` below): revocation is **not retroactive** for a `superseded` or `retired` key —
 * data it signed before `revokedAt` stays valid, because it was authorized when written and the
 * node's data must survive a key rotation — and **retroactive** for a `compromised` key: everything
 * it ever signed is refused, because whoever stole the key can sign writes with any timestamp.
 */
import { fail, ok, type Result } from '../errors.js';
import { CLUSTER_PATTERN, NAME_PATTERN, SERIAL_PATTERN, type Certificate } from './certificate.js';

export const REVOCATION_REASONS = ['compromised', 'superseded', 'retired'] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];
/**
 * Entries per list. A list travels in one stream frame and is checked on every certificate
 * verification; 4096 entries encode to about 400 KiB. Entries for certificates that have expired
 * can be dropped by the authority (an expired certificate is refused anyway).
 */
export const MAX_REVOCATION_ENTRIES = 4096;

export interface RevocationEntry {
  /** The revoked certificate's serial, or null. */
  readonly serial: string | null;
  /** The revoked node key (node id), or null. */
  readonly nodeId: Uint8Array | null;
  readonly revokedAt: number;
  readonly reason: RevocationReason;
  /** For people: the node's name when it was revoked; may be empty. */
  readonly name: string;
}

export interface RevocationList {
  readonly cluster: string;
  /** Positive, strictly increasing from one list to the next. */
  readonly version: number;
  readonly issuedAt: number;
  readonly entries: readonly RevocationEntry[];
}

/** The body array the authority signs. */
export function revocationBody(list: RevocationList): unknown[] {
  return [
    list.version,
    list.cluster,
    list.issuedAt,
    list.entries.map((e) => [e.serial ?? '', e.nodeId ?? new Uint8Array(0), e.revokedAt, REVOCATION_REASONS.indexOf(e.reason), e.name]),
  ];
}

/** Decodes a body received from the network (after its signature was checked). Never throws. */
export function decodeRevocationBody(body: readonly unknown[]): Result<RevocationList, 'malformed'> {
  if (!Array.isArray(body) || body.length !== 4) return fail('malformed', 'not a 4-element array');
  const [version, cluster, issuedAt, entries] = body as unknown[];
  if (!isTime(version) || version < 1) return fail('malformed', 'version must be a positive integer');
  if (typeof cluster !== 'string' || !CLUSTER_PATTERN.test(cluster)) return fail('malformed', 'cluster');
  if (!isTime(issuedAt)) return fail('malformed', 'issuedAt');
  if (!Array.isArray(entries) || entries.length > MAX_REVOCATION_ENTRIES) return fail('malformed', `entries must be an array of at most ${MAX_REVOCATION_ENTRIES}`);
  const out: RevocationEntry[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e: unknown = entries[i];
    if (!Array.isArray(e) || e.length !== 5) return fail('malformed', `entries[${i}] must be a 5-element array`);
    const [serial, nodeId, revokedAt, reason, name] = e as unknown[];
    if (typeof serial !== 'string' || (serial !== '' && !SERIAL_PATTERN.test(serial))) return fail('malformed', `entries[${i}].serial`);
    if (!(nodeId instanceof Uint8Array) || (nodeId.length !== 0 && nodeId.length !== 32)) return fail('malformed', `entries[${i}].nodeId`);
    if (serial === '' && nodeId.length === 0) return fail('malformed', `entries[${i}] names neither a serial nor a node id`);
    if (!isTime(revokedAt)) return fail('malformed', `entries[${i}].revokedAt`);
    if (typeof reason !== 'number' || !Number.isInteger(reason) || reason < 0 || reason >= REVOCATION_REASONS.length) return fail('malformed', `entries[${i}].reason`);
    if (typeof name !== 'string' || (name !== '' && !NAME_PATTERN.test(name))) return fail('malformed', `entries[${i}].name`);
    out.push({
      serial: serial === '' ? null : serial,
      nodeId: nodeId.length === 0 ? null : Uint8Array.from(nodeId),
      revokedAt,
      reason: REVOCATION_REASONS[reason]!,
      name,
    });
  }
  return ok({ cluster, version, issuedAt, entries: out });
}

/** A list indexed for the checks on the receive path: one Set lookup each. */
export class RevocationIndex {
  readonly list: RevocationList | null;
  private readonly serials = new Set<string>();
  private readonly ids = new Map<string, RevocationEntry>();

  constructor(list: RevocationList | null) {
    this.list = list;
    for (const e of list?.entries ?? []) {
      if (e.serial !== null) this.serials.add(e.serial);
      if (e.nodeId !== null) {
        const hex = Buffer.from(e.nodeId).toString('hex');
        const prev = this.ids.get(hex);
        // Two entries for one key: the stricter one decides (compromised, then the earliest time).
        if (prev === undefined || stricter(e, prev)) this.ids.set(hex, e);
      }
    }
  }

  get version(): number {
    return this.list?.version ?? 0;
  }

  get size(): number {
    return this.list?.entries.length ?? 0;
  }

  /** Is this certificate revoked, by its serial or by its key? */
  isRevoked(cert: Pick<Certificate, 'serial' | 'nodeId'>): boolean {
    if (this.serials.size === 0 && this.ids.size === 0) return false;
    return this.serials.has(cert.serial) || this.ids.has(Buffer.from(cert.nodeId).toString('hex'));
  }

  isSerialRevoked(serial: string): boolean {
    return this.serials.has(serial);
  }

  /** Is this node key revoked (hex node id)? */
  isNodeRevoked(idHex: string): boolean {
    return this.ids.has(idHex);
  }

  /** Does the list name any node key? (Lets hot paths skip hex-encoding an id when it names none.) */
  get namesNodes(): boolean {
    return this.ids.size > 0;
  }

  entryForNode(idHex: string): RevocationEntry | undefined {
    return this.ids.get(idHex);
  }

  /**
   * Is data signed by `originIdHex` at `timestampMs` (the origin's own signed timestamp) to be
   * refused? Not retroactive for superseded and retired keys; retroactive for compromised ones.
   */
  isDataRevoked(originIdHex: string, timestampMs: number): boolean {
    const e = this.ids.get(originIdHex);
    if (e === undefined) return false;
    if (e.reason === 'compromised') return true;
    return timestampMs >= e.revokedAt;
  }
}

function stricter(a: RevocationEntry, b: RevocationEntry): boolean {
  if ((a.reason === 'compromised') !== (b.reason === 'compromised')) return a.reason === 'compromised';
  return a.revokedAt < b.revokedAt;
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
