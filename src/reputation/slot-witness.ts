/**
 * A detector of equivocation for layers that see verified envelopes: it remembers, per (origin,
 * kind, slot), the first envelope it saw, and reports a proof to the gate when a different record
 * for the same slot arrives. Layers with their own caches (the KV store knows every version it
 * holds) can call `reportEquivocation` directly instead; this serves the others.
 *
 * Bounded: at most `capacity` slots are remembered, each for `ttlMs`; an equivocation whose two
 * halves arrive further apart than that is missed here (but not elsewhere: another node may see
 * both within the window, and its proof reaches us).
 */
import type { Clock } from '../clock.js';
import { BoundedCache } from '../link/bounded-cache.js';
import type { PeerGate } from '../link/peer-gate.js';
import { frameLimits } from '../wire/codec.js';
import { decodeBody, parseEnvelope } from '../wire/envelope.js';
import { MAX_PROOF_ENVELOPE_BYTES } from './evidence.js';
import { slotRegistry, type SlotRegistry } from './slots.js';

const LIMITS = frameLimits(MAX_PROOF_ENVELOPE_BYTES);

export interface SlotWitnessOptions {
  readonly capacity?: number;
  readonly ttlMs?: number;
  readonly clock?: Clock;
  readonly slots?: SlotRegistry;
}

export class SlotWitness {
  private readonly seen: BoundedCache<string, { bytes: Uint8Array; body: Uint8Array }>;
  private readonly slots: SlotRegistry;
  /** Proofs reported so far. */
  reported = 0;

  constructor(private readonly gate: Pick<PeerGate, 'reportEquivocation'>, options: SlotWitnessOptions = {}) {
    this.seen = new BoundedCache(options.capacity ?? 4096, options.ttlMs ?? 120_000, options.clock);
    this.slots = options.slots ?? slotRegistry;
  }

  /**
   * Call with the wire bytes of every newly accepted (signature-verified) envelope. Returns true
   * when it completed a proof and reported it. Never throws.
   */
  observe(envelopeBytes: Uint8Array): boolean {
    const env = parseEnvelope(envelopeBytes, LIMITS);
    if (!env.ok || !this.slots.has(env.value.kind)) return false;
    const body = decodeBody(env.value, LIMITS);
    if (!body.ok) return false;
    const slot = this.slots.slotOf(env.value.kind, body.value);
    if (slot === null) return false;
    const key = `${Buffer.from(env.value.origin).toString('hex')}\u0000${env.value.kind}\u0000${slot}`;
    const prev = this.seen.get(key);
    if (prev === undefined) {
      this.seen.set(key, { bytes: new Uint8Array(envelopeBytes), body: new Uint8Array(env.value.body) });
      return false;
    }
    if (Buffer.compare(prev.body, env.value.body) === 0) return false;
    this.reported++;
    this.gate.reportEquivocation(prev.bytes, envelopeBytes);
    return true;
  }
}
