/**
 * The engine's proofs of equivocation in memory: which proofs it accepted (bounded, newest last),
 * which origin each bans, which proofs it recently found forged (so a re-sent forgery is charged
 * without being checked again), and the decision for a new proof. The engine applies the outcome
 * (ban, charges, audit log, store); the evidence gossip listens for accepted proofs.
 */
import { BoundedCache } from '../link/bounded-cache.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import type { Logger } from '../log.js';
import type { Counter } from '../metrics.js';
import { checkProof, isForgery, peekProof, type ProofFailure } from './evidence.js';
import { hexOf } from './peer-table.js';
import type { SlotRegistry } from './slots.js';
import type { StoredEvidence } from './store.js';

export type ProofOutcome = 'accepted' | 'known' | 'known-forged' | 'duplicate-origin' | ProofFailure;

/** Outcomes that mean whoever handed the proof over sent a forgery. */
export function isForgeryOutcome(o: ProofOutcome): boolean {
  return o === 'known-forged' || (o !== 'accepted' && o !== 'known' && o !== 'duplicate-origin' && isForgery(o));
}

export interface ProofBookHost {
  readonly backend: SignatureBackend;
  readonly slots: SlotRegistry;
  readonly maxEvidence: number;
  readonly log: Logger;
  readonly outcomes: Counter;
  now(): number;
  selfHex(): string;
  /** The node id a certificate certifies, or null; undefined when there is no verifier (standalone use). */
  certifiedId(certBytes: Uint8Array, now: number): Uint8Array | null | undefined;
  /** The certificate we hold for an origin, for proofs our own layers detect. */
  certificateOf(originHex: string): Uint8Array | undefined;
  /** A newly accepted proof: the engine bans its origin and stores it. */
  accepted(rec: StoredEvidence): void;
  /** A refusal a peer is not charged for, for the audit log. */
  refused(from: string, reason: ProofFailure): void;
}

export class ProofBook {
  private readonly evidence = new Map<string, StoredEvidence>();
  private readonly byOrigin = new Map<string, string>();
  private readonly forged = new BoundedCache<string, true>(1024);
  /** (kind, reason) pairs of refused local reports already logged. */
  private readonly warned = new Set<string>();
  private readonly listeners: Array<(e: StoredEvidence) => void> = [];

  constructor(private readonly host: ProofBookHost) {}

  /**
   * Decides on a proof from `from` ('self' for our own layers' reports, else the hex id of the peer
   * that handed it over). `cert` is the origin certificate carried by the proof (null for our own
   * reports). Never throws.
   */
  check(first: Uint8Array, second: Uint8Array, cert: Uint8Array | null, from: string): ProofOutcome {
    const outcome = this.decide(first, second, cert, from);
    this.host.outcomes.inc({ outcome });
    return outcome;
  }

  /** A stored proof, at load. */
  restore(rec: StoredEvidence): void {
    this.remember(rec);
  }

  /** Accepted proofs held in memory, newest first. */
  recent(limit: number): StoredEvidence[] {
    return [...this.evidence.values()].reverse().slice(0, limit);
  }

  onProof(listener: (e: StoredEvidence) => void): void {
    this.listeners.push(listener);
  }

  private decide(first: Uint8Array, second: Uint8Array, cert: Uint8Array | null, from: string): ProofOutcome {
    const h = this.host;
    const peek = peekProof(first, second);
    if (!peek.ok) return 'malformed';
    const id = peek.value.id;
    // Known proofs and known forgeries cost two hashes, no signature check.
    if (this.evidence.has(id)) return 'known';
    if (this.forged.has(id)) return 'known-forged';
    const r = checkProof(first, second, { backend: h.backend, slots: h.slots });
    if (!r.ok) {
      if (isForgery(r.reason)) this.forged.set(id, true);
      this.logRefusal(r.reason, from, peek.value.a.kind);
      return r.reason;
    }
    const proof = r.value;
    if (proof.originHex === h.selfHex()) {
      h.log.error({ proof: proof.id }, 'a valid proof that this node equivocated: its key may be in use elsewhere');
      return 'self';
    }
    if (cert !== null) {
      const certified = h.certifiedId(cert, h.now());
      if (certified === null || (certified !== undefined && hexOf(certified) !== proof.originHex)) {
        this.logRefusal('bad-certificate', from, proof.kind);
        return 'bad-certificate';
      }
    }
    // One proof per origin is enough to ban it; more would only fill the table.
    if (this.byOrigin.has(proof.originHex)) return 'duplicate-origin';
    const rec: StoredEvidence = {
      id: proof.id, origin: proof.originHex, kind: proof.kind, slot: proof.slot, first: proof.first, second: proof.second,
      cert: new Uint8Array(cert ?? h.certificateOf(proof.originHex) ?? new Uint8Array(0)), reporter: from, receivedAt: h.now(),
    };
    this.remember(rec);
    h.accepted(rec);
    for (const l of this.listeners) l(rec);
    return 'accepted';
  }

  /**
   * A forgery from a peer is logged by its charge; an uncharged refusal from a peer gets an audit
   * event. A refusal of a proof one of our own layers reported means that layer's detector and
   * the slot registry disagree: logged once per (kind, reason), never charged.
   */
  private logRefusal(reason: ProofFailure, from: string, kind: number): void {
    if (from !== 'self') {
      if (!isForgery(reason)) this.host.refused(from, reason);
      return;
    }
    const key = `${kind}:${reason}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.host.log.warn({ kind, reason }, reason === 'no-slot'
      ? 'a layer reported equivocation of an envelope kind without a registered slot (reputation/slots.ts registerSlot); nobody is banned'
      : 'a layer reported a proof of equivocation the reputation engine refuses');
  }

  private remember(rec: StoredEvidence): void {
    if (this.evidence.size >= this.host.maxEvidence) {
      const oldest = this.evidence.values().next();
      if (!oldest.done) {
        this.evidence.delete(oldest.value.id);
        if (this.byOrigin.get(oldest.value.origin) === oldest.value.id) this.byOrigin.delete(oldest.value.origin);
      }
    }
    this.evidence.set(rec.id, rec);
    this.byOrigin.set(rec.origin, rec.id);
  }
}
