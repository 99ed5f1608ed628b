/**
 * Score parameters and thresholds, with the reason for every default (STYLE.md §2), validated and
 * frozen once. The shape follows GossipSub v1.1's peer score: each kind of misbehaviour has a
 * counter that decays toward zero with a half-life, and contributes `weight × excess²` where
 * `excess` is the counter above a free allowance (P4 "invalid messages" and P7 "behaviour
 * penalty" are both squared). Squaring makes one accident cheap and persistence expensive: the
 * n-th offense costs (2n − 1) times the first. First deliveries of valid messages earn a small,
 * linear, capped credit (P2 "first message deliveries"), so good behaviour cannot buy a licence
 * for much bad behaviour.
 *
 * Thresholds, from mildest to harshest: below `gossip` a peer is sent no gossip; below `evict` it
 * leaves peer selection and the membership view; below `graylist` everything it sends is dropped
 * at the header check, before any crypto; below `ban` it is banned for `scoreBanMs`, and the ban
 * is persisted (a proof of equivocation bans for `equivocationBanMs` whatever the score).
 *
 * Evict comes before graylist on purpose: a node that drops a peer's packets while still holding
 * it in its membership view would miss its acks, suspect it, and have its own accusations refuted
 * (and be charged for them by everyone else). A peer therefore leaves the view before we stop
 * listening to it, and every graylisted peer is also evicted.
 */
import { HearsayError } from '../errors.js';
import { OFFENSES, type Offense } from '../link/peer-gate.js';

export interface PenaltyParams {
  /** Negative: the score contribution is `weight × max(0, counter − allowance)²`. */
  readonly weight: number;
  /** Offenses that cost nothing, for those that honest peers commit under loss or skew (P7's threshold). */
  readonly allowance: number;
  /** The counter halves every `halfLifeMs`. */
  readonly halfLifeMs: number;
}

export interface CreditParams {
  /** Positive: the contribution is `weight × min(counter, cap)`. */
  readonly weight: number;
  /** The counter never exceeds this (GossipSub's firstMessageDeliveriesCap). */
  readonly cap: number;
  readonly halfLifeMs: number;
}

export interface Thresholds {
  readonly gossip: number;
  readonly evict: number;
  readonly graylist: number;
  readonly ban: number;
}

export interface ReputationParams {
  readonly penalties: Readonly<Record<Offense, PenaltyParams>>;
  readonly credit: CreditParams;
  readonly thresholds: Thresholds;
  /** A decayed counter below this is zero (GossipSub's decayToZero), so old accidents are forgotten exactly. */
  readonly decayToZero: number;
  /** Penalty counters never exceed this: the score stays finite whatever a peer sends. */
  readonly counterCap: number;
  /** How long a score below `thresholds.ban` bans a peer. */
  readonly scoreBanMs: number;
  /** How long a verified proof of equivocation bans its origin. */
  readonly equivocationBanMs: number;
}

export type ReputationParamsInput = {
  penalties?: Partial<Record<Offense, Partial<PenaltyParams>>>;
  credit?: Partial<CreditParams>;
  thresholds?: Partial<Thresholds>;
} & Partial<Omit<ReputationParams, 'penalties' | 'credit' | 'thresholds'>>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Defaults. The worked numbers assume the default thresholds (gossip −10, evict −40, graylist −80),
 * and counts are offenses within about one half-life.
 */
export const DEFAULT_PENALTIES: Readonly<Record<Offense, PenaltyParams>> = {
  // Honest nodes verify before forwarding, so a bad signature is never an honest relay's doing.
  // Still, one is cheap (a bug, a bit flip in memory): 1 → −5, 2 → −20 (no gossip), 3 → −45
  // (evicted), 4 → −80 (graylisted). Forgiven over hours, not minutes: it was deliberate or broken.
  'invalid-signature': { weight: -5, allowance: 0, halfLifeMs: HOUR },
  // During a rolling upgrade a newer honest node can send a message type an older one refuses as
  // malformed, so this is gentler: 3 → −18, 5 → −50 (evicted), 7 → −98 (graylisted).
  malformed: { weight: -2, allowance: 0, halfLifeMs: 10 * MINUTE },
  // Only for an *authenticated* packet over the per-sender rate: the link layer drops over-limit
  // packets before decryption, uncharged (peer-gate.ts explains why). If it samples one over-limit
  // packet a second and charges it when it opens under the link key (a spoofer cannot do that),
  // two are free and sustained flooding is evicted after ~9 s (c = 9: −49) and graylisted after ~11 s.
  'rate-limit': { weight: -1, allowance: 2, halfLifeMs: 10 * MINUTE },
  // A stale rumor (older than the seen window) handed to us again. Honest relays forward within
  // seconds, but a receiver whose clock runs ahead can misjudge one: 7 → −49 (evicted), 9 → −81.
  replay: { weight: -1, allowance: 0, halfLifeMs: 10 * MINUTE },
  // Charged to the origin, who signed it. Policy versions reach nodes at different times, so an
  // honest origin can briefly act on a grant that was just revoked: 3 → −36, 4 → −64 (evicted).
  'policy-violation': { weight: -4, allowance: 0, halfLifeMs: 30 * MINUTE },
  // Charged to the origin. Honest clocks are within maxClockSkew of each other; one far ahead is
  // broken and must be fixed, but is not malice: 5 → −50 (evicted), 7 → −98 (graylisted).
  'future-timestamp': { weight: -2, allowance: 0, halfLifeMs: 10 * MINUTE },
  // A refuted accusation. SWIM under loss wrongly suspects honest nodes all the time, and every
  // node charges every accuser of each refuted suspicion: measured at 20% loss with 50 nodes, an
  // honest accuser is charged up to ~0.3 times a second by one observer. So this works as a rate
  // limit: with a one-minute half-life a sustained rate r holds the counter near 87·r, the first 60
  // are free, and a false accuser is evicted from ~1.4 accusations/s (124 → −41) and graylisted
  // from ~1.7/s (150 → −81), while honest nodes stay at zero with a fourfold margin.
  'contradicted-claim': { weight: -0.01, allowance: 60, halfLifeMs: MINUTE },
  // An IHAVE whose ids never came when asked. Lost IWANT replies make honest peers break promises
  // under loss, several at once when one reply carried several messages (GossipSub's behaviour
  // penalty has a threshold for the same reason): 30 are free within about a minute; 44 → −10,
  // 59 → −42 (evicted), 71 → −84 (graylisted). A peer that never answers is far past that.
  'broken-promise': { weight: -0.05, allowance: 30, halfLifeMs: MINUTE },
  // An authenticated sender presenting a certificate that does not verify: as bad as a bad signature.
  'bad-certificate': { weight: -5, allowance: 0, halfLifeMs: HOUR },
  // A charge without a proof (proofs ban outright): one graylists (−100), two reach the ban threshold (−400).
  equivocation: { weight: -100, allowance: 0, halfLifeMs: DAY },
  // An invalid proof of equivocation is an attempt to get an honest node banned: 1 → −15 (no
  // gossip), 2 → −60 (evicted), 3 → −135 (graylisted); remembered for a day.
  'forged-evidence': { weight: -15, allowance: 0, halfLifeMs: DAY },
  // Only for authenticated contexts (peer-gate.ts): as bad as a bad signature.
  'decrypt-failure': { weight: -5, allowance: 0, halfLifeMs: HOUR },
};

const RAW_DEFAULTS: ReputationParams = deepFreeze({
  penalties: DEFAULT_PENALTIES,
  // +0.05 per first delivery up to 100 counted: a busy honest relay earns the full +5 within a
  // minute, which offsets one bad signature but never a second (−20 + 5 is still below gossip).
  credit: { weight: 0.05, cap: 100, halfLifeMs: 10 * MINUTE },
  thresholds: {
    // GossipSub's suggested gossip threshold; one accident of any kind stays above it.
    gossip: -10,
    // Four times the gossip threshold: a peer must keep misbehaving after losing our gossip.
    evict: -40,
    // GossipSub's suggested graylist threshold; reached only by repeated, deliberate offenses.
    graylist: -80,
    // Five times graylist. Once graylisted a peer's packets are dropped before they can be charged,
    // so this is reached only by a burst (many offenses in one packet, or equivocation charges).
    ban: -400,
  },
  // GossipSub's default.
  decayToZero: 0.01,
  // 1,000 offenses within a half-life is far past every threshold; the cap keeps the square finite.
  counterCap: 1000,
  // Long enough that a flagrant offender must wait out an operator's attention span, short enough
  // that a misconfigured honest node recovers by itself once fixed.
  scoreBanMs: HOUR,
  // A proof of equivocation means a malicious or cloned key. A week gives the operator time to
  // revoke the certificate; after that the revocation list, not this ban, keeps the key out.
  equivocationBanMs: 7 * DAY,
});

function paramError(field: string, message: string): HearsayError {
  return new HearsayError('HEARSAY_ERR_REPUTATION_PARAMS', `reputation parameter "${field}": ${message}`);
}

type Exclude = 'none' | 'min' | 'max';

function num(field: string, v: unknown, min: number, max: number, exclude: Exclude = 'none'): number {
  const range = `from ${min} to ${max}${exclude === 'min' ? ` (excluding ${min})` : exclude === 'max' ? ` (excluding ${max})` : ''}`;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (exclude === 'min' && v === min) || (exclude === 'max' && v === max)) {
    throw paramError(field, `must be a finite number ${range} (got ${describe(v)})`);
  }
  return v;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  if (v === null) return 'null';
  return typeof v === 'number' ? String(v) : typeof v;
}

const HALF_LIFE_MIN = 1000;
const HALF_LIFE_MAX = 30 * DAY;
const BAN_MAX = 365 * DAY;

/**
 * Validates parameters (defaults for whatever is not given) and returns them deeply frozen. Throws
 * HEARSAY_ERR_REPUTATION_PARAMS naming the field and its allowed range.
 */
export function resolveReputationParams(input: ReputationParamsInput = {}): ReputationParams {
  if (typeof input !== 'object' || input === null) throw paramError('(root)', 'must be an object');
  const known = new Set(['penalties', 'credit', 'thresholds', 'decayToZero', 'counterCap', 'scoreBanMs', 'equivocationBanMs']);
  for (const k of Object.keys(input)) if (!known.has(k)) throw paramError(k, 'is not a reputation parameter');
  const penalties = {} as Record<Offense, PenaltyParams>;
  const givenPenalties = (input.penalties ?? {}) as Record<string, Partial<PenaltyParams> | undefined>;
  for (const k of Object.keys(givenPenalties)) if (!(OFFENSES as readonly string[]).includes(k)) throw paramError(`penalties.${k}`, `is not an offense (${OFFENSES.join(', ')})`);
  for (const offense of OFFENSES) {
    const p = { ...DEFAULT_PENALTIES[offense], ...givenPenalties[offense] };
    const f = `penalties.${offense}`;
    penalties[offense] = {
      weight: num(`${f}.weight`, p.weight, -1000, 0, 'max'),
      allowance: num(`${f}.allowance`, p.allowance, 0, 1000),
      halfLifeMs: num(`${f}.halfLifeMs`, p.halfLifeMs, HALF_LIFE_MIN, HALF_LIFE_MAX),
    };
  }
  const c = { ...RAW_DEFAULTS.credit, ...input.credit };
  const credit: CreditParams = {
    weight: num('credit.weight', c.weight, 0, 10),
    cap: num('credit.cap', c.cap, 0, 100_000),
    halfLifeMs: num('credit.halfLifeMs', c.halfLifeMs, HALF_LIFE_MIN, HALF_LIFE_MAX),
  };
  const t = { ...RAW_DEFAULTS.thresholds, ...input.thresholds };
  const gossip = num('thresholds.gossip', t.gossip, -1e6, 0, 'max');
  const evict = num('thresholds.evict', t.evict, -1e6, gossip, 'max');
  const graylist = num('thresholds.graylist', t.graylist, -1e6, evict, 'max');
  const ban = num('thresholds.ban', t.ban, -1e7, graylist, 'max');
  // GossipSub's advice: the positive part must not outweigh the gossip threshold, or a peer could
  // bank credit and then misbehave for free.
  if (credit.weight * credit.cap > -gossip) {
    throw paramError('credit.weight', `times credit.cap must be at most ${-gossip} (−thresholds.gossip) (got ${credit.weight * credit.cap})`);
  }
  const counterCap = num('counterCap', input.counterCap ?? RAW_DEFAULTS.counterCap, 1, 1e6);
  for (const offense of OFFENSES) {
    if (penalties[offense].allowance >= counterCap) throw paramError(`penalties.${offense}.allowance`, `must be below counterCap (${counterCap})`);
  }
  return deepFreeze({
    penalties,
    credit,
    thresholds: { gossip, evict, graylist, ban },
    decayToZero: num('decayToZero', input.decayToZero ?? RAW_DEFAULTS.decayToZero, 0, 1, 'min'),
    counterCap,
    scoreBanMs: num('scoreBanMs', input.scoreBanMs ?? RAW_DEFAULTS.scoreBanMs, MINUTE, BAN_MAX),
    equivocationBanMs: num('equivocationBanMs', input.equivocationBanMs ?? RAW_DEFAULTS.equivocationBanMs, MINUTE, BAN_MAX),
  });
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The defaults above, validated (a bad default fails at load, not at the first node start). */
export const DEFAULT_REPUTATION_PARAMS: ReputationParams = resolveReputationParams();
