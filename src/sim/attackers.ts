/**
 * Attackers for simulations and benchmarks: each drives a RogueEndpoint (a certified identity that
 * builds packets by hand) through one kind of misbehaviour, one round at a time, toward a set of
 * target nodes. The registry is keyed by attack name; a layer that adds a chargeable offense adds
 * its attack here (membership: false death accusations → 'contradicted-claim'; dissemination:
 * IHAVE without IWANT answers → 'broken-promise'), and the reputation scenario picks it up.
 */
import type { Offense } from '../link/peer-gate.js';
import type { PeerCertificate } from '../link/peer-certificate.js';
import { encode, frameLimits } from '../wire/codec.js';
import { decodeBody, EnvelopeKind, parseEnvelope, type Envelope } from '../wire/envelope.js';
import { MessageType } from '../wire/messages.js';
import type { RogueEndpoint } from './rogue-endpoint.js';

export interface AttackTarget {
  readonly cert: Pick<PeerCertificate, 'nodeId' | 'kx'>;
  readonly address: string;
}

export interface AttackContext {
  readonly rogue: RogueEndpoint;
  readonly now: number;
  readonly round: number;
  readonly targets: readonly AttackTarget[];
  send(target: AttackTarget, packet: Uint8Array): void;
  /** An honest node the forged-evidence attacker tries to get banned. */
  readonly victim: { readonly nodeId: Uint8Array; readonly certBytes: Uint8Array };
  /** The targets' seenTtlMs (a rumor older than this is stale). */
  readonly seenTtlMs: number;
  /** The targets' maxClockSkewMs (a timestamp further ahead is in the future). */
  readonly maxClockSkewMs: number;
}

export interface Attack {
  readonly name: AttackName;
  /** What honest nodes charge it with. */
  readonly offense: Offense;
  /**
   * 'direct': each target charges what it receives itself. 'evidence': one proof, verified by
   * every node, bans the attacker everywhere, even on nodes it never sent anything to.
   * 'none': not charged by the current code (see `note`).
   */
  readonly charged: 'direct' | 'evidence' | 'none';
  /**
   * 'equivocation-witness': detection needs sim/equivocation-tap.ts because the layer that owns
   * the envelope kind does not report it yet (rumors and KV writes report it themselves).
   */
  readonly needs?: 'equivocation-witness';
  readonly note?: string;
  step(ctx: AttackContext): void;
}

const data = (s: string): Uint8Array => new TextEncoder().encode(s);
const topicOf = (r: RogueEndpoint): string => `${r.identity.cert.tenant}/attack`;

/** An envelope with one bit of its signature flipped, as wire bytes. */
export function corruptSignature(env: Envelope): Uint8Array {
  const sig = new Uint8Array(env.signature);
  sig[7] = sig[7]! ^ 0x10;
  return encode([env.kind, env.origin, env.body, sig]);
}

const LIMITS = frameLimits(1 << 20);

/**
 * A rumor signed by the rogue, as an Envelope. Built through `RogueEndpoint.rumor` so that the body
 * layout of dissemination/broadcast.ts is known in one place only.
 */
function signedRumor(r: RogueEndpoint, seq: number, timestamp: number, d: string): Envelope {
  const parsed = parseEnvelope(r.rumor(topicOf(r), seq, timestamp, data(d))[1] as Uint8Array, LIMITS);
  if (!parsed.ok) throw new Error('attackers: RogueEndpoint.rumor built an unparsable envelope');
  return parsed.value;
}

function bodyOf(env: Envelope): unknown[] {
  const b = decodeBody(env, LIMITS);
  if (!b.ok) throw new Error('attackers: undecodable body');
  return b.value;
}

function eachTarget(ctx: AttackContext, build: (t: AttackTarget) => Uint8Array | readonly (readonly unknown[])[]): void {
  for (const t of ctx.targets) {
    const content = build(t);
    ctx.send(t, ctx.rogue.seal(t.cert, content));
  }
}

export const ATTACK_NAMES = ['invalid-signature', 'malformed', 'stale-rumor', 'future-timestamp', 'equivocation', 'forged-evidence', 'flood'] as const;
export type AttackName = (typeof ATTACK_NAMES)[number];

/** A fresh attack of a kind (each keeps its own sequence numbers). */
export function createAttack(name: AttackName): Attack {
  let seq = 0;
  switch (name) {
    case 'invalid-signature':
      return {
        name, offense: 'invalid-signature', charged: 'direct',
        step: (ctx) => eachTarget(ctx, () => {
          return [[MessageType.ENVELOPE, corruptSignature(signedRumor(ctx.rogue, ++seq, ctx.now, 'forged'))]];
        }),
      };
    case 'malformed':
      // 0xc1 is the one byte msgpack never uses: the plaintext decodes to nothing.
      return { name, offense: 'malformed', charged: 'direct', step: (ctx) => eachTarget(ctx, () => new Uint8Array([0xc1])) };
    case 'stale-rumor':
      // Validly signed, but older than the seen window: a replay of something honest relays dropped long ago.
      return {
        name, offense: 'replay', charged: 'direct',
        step: (ctx) => eachTarget(ctx, () => [ctx.rogue.rumor(topicOf(ctx.rogue), ++seq, ctx.now - ctx.seenTtlMs - 60_000, data('stale'))]),
      };
    case 'future-timestamp':
      return {
        name, offense: 'future-timestamp', charged: 'direct',
        step: (ctx) => eachTarget(ctx, () => [ctx.rogue.rumor(topicOf(ctx.rogue), ++seq, ctx.now + ctx.maxClockSkewMs + 600_000, data('future'))]),
      };
    case 'equivocation': {
      // Two rumors for one slot (same topic, seq and timestamp), one to each half of the targets;
      // re-sent every round so loss cannot prevent some node from seeing both.
      let pair: [unknown[], unknown[]] | null = null;
      return {
        name, offense: 'equivocation', charged: 'evidence',
        step: (ctx) => {
          pair ??= [ctx.rogue.rumor(topicOf(ctx.rogue), 1, ctx.now, data('version a')), ctx.rogue.rumor(topicOf(ctx.rogue), 1, ctx.now, data('version b'))];
          ctx.targets.forEach((t, i) => ctx.send(t, ctx.rogue.seal(t.cert, [pair![i % 2]!])));
        },
      };
    }
    case 'forged-evidence':
      // "Proofs" that an honest victim equivocated: two rumors naming the victim as origin but
      // signed with the attacker's key, in an EVIDENCE envelope the attacker signs itself.
      return {
        name, offense: 'forged-evidence', charged: 'direct',
        step: (ctx) => {
          const s = ++seq;
          const fake = (d: string): Uint8Array => ctx.rogue.forge(EnvelopeKind.RUMOR, ctx.victim.nodeId, bodyOf(signedRumor(ctx.rogue, s, ctx.now, d))).bytes;
          const proof = ctx.rogue.sign(EnvelopeKind.EVIDENCE, [1, fake('a'), fake('b'), ctx.victim.certBytes]);
          eachTarget(ctx, () => [[MessageType.ENVELOPE, proof.bytes]]);
        },
      };
    case 'flood':
      return {
        name, offense: 'rate-limit', charged: 'direct',
        note: 'packets over the per-sender rate limit are dropped before decryption; once a second per peer the link layer opens one to attribute it, and only a flood that really is the sender\'s own is charged',
        step: (ctx) => {
          for (const t of ctx.targets) for (let i = 0; i < FLOOD_PER_ROUND; i++) ctx.send(t, ctx.rogue.seal(t.cert, [[MessageType.WELCOME]]));
        },
      };
  }
}

/** Packets the flood attacker sends each target per round. */
export const FLOOD_PER_ROUND = 50;
