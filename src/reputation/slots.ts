/**
 * Slots: what makes two signed records "for the same thing". An origin that signs two different
 * records for one slot has equivocated, and the two envelopes together are a proof anyone can
 * check. The slot is kind-specific, so each layer registers the extractor for the envelope kinds
 * it owns:
 *
 *   registerSlot(EnvelopeKind.ALIVE, (body) => `${incarnation}`)   // membership: one claim per incarnation
 *
 * An extractor gets the decoded body of a *verified* envelope, which is still input from the
 * network: it must check the shape itself and return null for anything it does not recognise (no
 * slot, no equivocation possible), never throw. Every node must run the same extractors: a node
 * whose extractor finds no slot drops the proof uncharged (version skew is not malice), but one
 * that finds *different* slots charges the reporter with forged evidence, so a change to a slot's
 * definition needs a new envelope kind or a body version field.
 */
import { HearsayError } from '../errors.js';
import { EnvelopeKind } from '../wire/envelope.js';

export type SlotOf = (body: readonly unknown[]) => string | null;

export interface SlotDefinition {
  readonly slotOf: SlotOf;
  /**
   * Extra condition for two byte-different bodies of one slot to conflict (default: always).
   * A kind whose records may legitimately be re-signed with cosmetic differences narrows it here.
   */
  readonly conflicts?: (a: readonly unknown[], b: readonly unknown[]) => boolean;
}

/** Slots are stored and logged; a longer one is refused (treated as no slot). */
export const MAX_SLOT_LENGTH = 512;

export class SlotRegistry {
  private readonly defs = new Map<number, SlotDefinition>();

  /** Registers the slot of an envelope kind. Throws if the kind already has one, unless `replace`. */
  register(kind: EnvelopeKind, slotOf: SlotOf, options: { replace?: boolean; conflicts?: SlotDefinition['conflicts'] } = {}): void {
    if (kind === EnvelopeKind.EVIDENCE) throw new HearsayError('HEARSAY_ERR_INTERNAL', 'evidence envelopes have no slot: a proof about a proof is not a proof');
    if (this.defs.has(kind) && options.replace !== true) throw new HearsayError('HEARSAY_ERR_INTERNAL', `envelope kind ${kind} already has a slot; pass replace: true to redefine it`);
    this.defs.set(kind, options.conflicts === undefined ? { slotOf } : { slotOf, conflicts: options.conflicts });
  }

  has(kind: number): boolean {
    return this.defs.has(kind);
  }

  /** The slot of a body, or null (no extractor, unrecognised body, extractor failure, oversize slot). */
  slotOf(kind: number, body: readonly unknown[]): string | null {
    const d = this.defs.get(kind);
    if (d === undefined) return null;
    let s: string | null;
    try {
      s = d.slotOf(body);
    } catch {
      // An extractor must not throw on network input; if one does, the body has no slot.
      return null;
    }
    return typeof s === 'string' && s.length <= MAX_SLOT_LENGTH ? s : null;
  }

  /** Do two byte-different bodies of the same slot conflict? */
  conflicts(kind: number, a: readonly unknown[], b: readonly unknown[]): boolean {
    const d = this.defs.get(kind);
    if (d === undefined) return false;
    if (d.conflicts === undefined) return true;
    try {
      return d.conflicts(a, b) === true;
    } catch {
      return false;
    }
  }
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * RUMOR, body [topic, epoch, seq, ...content] (RUMOR_BODY in dissemination/broadcast.ts, currently
 * [topic, epoch, seq, timestamp, previous timestamp, order, deps, data]): (epoch, seq) numbers the
 * origin's messages on a topic, and the epoch is the origin's boot time, so an honest restart never
 * reuses a slot. The slot is (topic, epoch, seq); every later field is content, so fields appended
 * after seq do not change the slot. (Without the epoch, a slot of (origin, seq) would brand every
 * honest restart an equivocator, since the sequence number lives in memory.)
 */
export function rumorSlot(body: readonly unknown[]): string | null {
  if (body.length < 4) return null;
  const [topic, epoch, seq] = body;
  if (typeof topic !== 'string' || topic.length > 200 || !isUint(epoch) || !isUint(seq)) return null;
  return `${topic}\u0000${epoch}\u0000${seq}`;
}

/**
 * KV_WRITE, body [key, value | null, wall, logical, version] (KV_WRITE_BODY in state/kv-write.ts):
 * each origin numbers its writes with a per-origin version, and replicated-kv.ts holds one write
 * per (origin, version). Two different writes for one version are equivocation, whatever their keys.
 * Mirrored here so proofs are checked from the first release; src/state may re-register it with
 * `replace: true` if its layout changes.
 */
export function kvWriteSlot(body: readonly unknown[]): string | null {
  if (body.length !== 5) return null;
  const [key, , , , version] = body;
  if (typeof key !== 'string' || !isUint(version)) return null;
  return `v${version}`;
}

/** The registry every node uses unless a test passes its own. */
export const slotRegistry = new SlotRegistry();
slotRegistry.register(EnvelopeKind.RUMOR, rumorSlot);
slotRegistry.register(EnvelopeKind.KV_WRITE, kvWriteSlot);

/** Registers a slot extractor in the shared registry (see the top of this file). */
export function registerSlot(kind: EnvelopeKind, slotOf: SlotOf, options?: { replace?: boolean; conflicts?: SlotDefinition['conflicts'] }): void {
  slotRegistry.register(kind, slotOf, options);
}
