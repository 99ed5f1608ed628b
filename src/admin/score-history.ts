/**
 * Reputation scores over time, for the dashboard's chart: every `intervalMs` the scores of up to
 * `maxPeers` peers — the lowest first, so every misbehaving peer is watched — go into one ring of
 * `capacity` samples per peer. Memory is bounded by maxPeers × capacity × 16 bytes whatever the
 * cluster does; a peer no longer watched keeps its ring until every sample in it is older than
 * the window, then it is dropped.
 *
 * In memory only: after a restart the chart starts empty (the scores themselves survive in SQLite).
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { ReputationEngine } from '../reputation/engine.js';
import { computeScore } from '../reputation/score.js';

export interface ScoreSeries {
  readonly id: string;
  /** [time ms, score], oldest first. */
  readonly points: Array<[number, number]>;
}

/** Watched peers at most: more lines than any chart can show, and a fixed bound on memory. */
export const MAX_WATCHED_PEERS = 128;

class Ring {
  readonly times: Float64Array;
  readonly scores: Float64Array;
  head = 0;
  count = 0;
  /** Sample round of the newest point. */
  lastRound = 0;

  constructor(capacity: number) {
    this.times = new Float64Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  push(t: number, score: number, round: number): void {
    this.times[this.head] = t;
    this.scores[this.head] = score;
    this.head = (this.head + 1) % this.times.length;
    this.count = Math.min(this.count + 1, this.times.length);
    this.lastRound = round;
  }

  points(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const n = this.times.length;
    for (let i = 0; i < this.count; i++) {
      const j = (this.head - this.count + i + n) % n;
      out.push([this.times[j]!, this.scores[j]!]);
    }
    return out;
  }

  latest(): number {
    return this.count === 0 ? 0 : this.scores[(this.head - 1 + this.times.length) % this.times.length]!;
  }
}

export class ScoreHistory {
  private readonly rings = new Map<string, Ring>();
  private timer: TimerHandle | null = null;
  private round = 0;

  constructor(
    private readonly engine: ReputationEngine,
    private readonly clock: Clock,
    readonly intervalMs: number,
    readonly capacity: number,
    private readonly maxPeers = MAX_WATCHED_PEERS,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.sample();
    this.timer = this.clock.setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** One sampling round (the timer calls it; public for tests). */
  sample(): void {
    if (this.engine.isClosed) return;
    const now = this.clock.now();
    this.round++;
    const params = this.engine.params;
    const scored: Array<{ id: string; score: number }> = [];
    for (const p of this.engine.table.values()) scored.push({ id: p.id, score: round2(computeScore(p, params, now)) });
    scored.sort((a, b) => a.score - b.score || (a.id < b.id ? -1 : 1));
    const chosen = scored.slice(0, this.maxPeers);
    const chosenIds = new Set(chosen.map((c) => c.id));
    for (const { id, score } of chosen) {
      let ring = this.rings.get(id);
      if (ring === undefined) {
        // A peer that left the watch list makes room (there is one: at most maxPeers are chosen).
        if (this.rings.size >= this.maxPeers) this.dropStalest(chosenIds);
        ring = new Ring(this.capacity);
        this.rings.set(id, ring);
      }
      ring.push(now, score, this.round);
    }
    for (const [id, ring] of this.rings) if (this.round - ring.lastRound >= this.capacity) this.rings.delete(id);
  }

  /** Series of the peers `visible` accepts, lowest latest score first, at most `limit`. */
  series(visible: (id: string) => boolean, limit: number): ScoreSeries[] {
    const out: Array<{ id: string; ring: Ring }> = [];
    for (const [id, ring] of this.rings) if (ring.count > 0 && visible(id)) out.push({ id, ring });
    out.sort((a, b) => a.ring.latest() - b.ring.latest() || (a.id < b.id ? -1 : 1));
    return out.slice(0, limit).map(({ id, ring }) => ({ id, points: ring.points() }));
  }

  get watched(): number {
    return this.rings.size;
  }

  private dropStalest(keep: ReadonlySet<string>): void {
    let stalest: string | undefined;
    let stalestRound = Number.POSITIVE_INFINITY;
    for (const [id, ring] of this.rings) {
      if (!keep.has(id) && ring.lastRound < stalestRound) {
        stalest = id;
        stalestRound = ring.lastRound;
      }
    }
    if (stalest !== undefined) this.rings.delete(stalest);
  }
}

function round2(x: number): number {
  const r = Math.round(x * 100) / 100;
  return r === 0 ? 0 : r;
}
