/**
 * Metrics the admin API adds to the node's registry (src/metrics.ts), computed at scrape time from
 * the node's state where possible: members by state, health, the distribution of reputation
 * scores, bans in force, eviction and ban transitions, and anti-entropy lag. Labels are our own
 * enums and fixed bucket bounds, never peer-controlled strings.
 */
import type { Counter, MetricsRegistry } from '../metrics.js';
import type { Node } from '../node.js';
import type { ReputationEngine } from '../reputation/engine.js';
import { computeScore, Level } from '../reputation/score.js';

const MEMBER_STATES = ['alive', 'suspect', 'dead', 'left'] as const;
const HEALTH_STATES = ['healthy', 'degraded', 'partitioned'] as const;

/**
 * Upper bounds of the score buckets (cumulative, like a Prometheus histogram's `le`): the default
 * ban, graylist, evict and gossip thresholds, then the neighbourhood of zero where honest peers sit.
 */
export const SCORE_BUCKETS = [-400, -80, -40, -10, -1, 0, 1, 5] as const;

export class AdminMetrics {
  private readonly evictions: Counter;
  private readonly bans: Counter;
  /** Last level seen of each penalised or banned peer (bounded by the engine's tables). */
  private readonly levels = new Map<string, number>();
  private readonly aeRounds: Counter;
  private readonly aeFailures: Counter;
  private aeSuccesses = 0;
  private aeLastSuccess: number;
  private stopped = false;

  constructor(private readonly node: Node, metrics: MetricsRegistry) {
    const engine = node.reputation;
    metrics.collectGauge('hearsay_members', 'Members in this node\'s view, itself included, by state.', () => {
      if (!node.isRunning) return [];
      const counts = new Map<string, number>(MEMBER_STATES.map((s) => [s, 0]));
      for (const m of node.members()) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
      return MEMBER_STATES.map((s) => ({ labels: { state: s }, value: counts.get(s) ?? 0 }));
    });
    metrics.collectGauge('hearsay_health_state', 'This node\'s view of its connectivity: 1 for the current state, 0 for the others.', () => {
      if (!node.isRunning) return [];
      const h = node.health();
      return HEALTH_STATES.map((s) => ({ labels: { state: s }, value: h.state === s ? 1 : 0 }));
    });
    metrics.collectGauge('hearsay_health_reachable_ratio', 'Share of known members (itself included) this node reaches.', () =>
      (node.isRunning ? [{ labels: {}, value: node.health().reachableShare }] : []));
    this.aeRounds = metrics.counter('hearsay_kv_antientropy_rounds_total', 'Anti-entropy exchanges started.');
    this.aeFailures = metrics.counter('hearsay_kv_antientropy_failures_total', 'Anti-entropy exchanges that failed, by reason.');
    this.aeLastSuccess = node.clock.now();
    metrics.collectGauge('hearsay_kv_antientropy_lag_seconds',
      'Seconds since an anti-entropy exchange last completed without failure (since start if none yet); observed at each reputation tick and scrape.', () => {
        this.observeAntiEntropy();
        return [{ labels: {}, value: Math.max(0, (node.clock.now() - this.aeLastSuccess) / 1000) }];
      });
    this.evictions = metrics.counter('hearsay_reputation_evictions_total', 'Peers whose score fell to the evict threshold or below (observed each reputation tick).');
    this.bans = metrics.counter('hearsay_reputation_bans_total', 'Peers banned, by source (admin, score, equivocation), observed each reputation tick.');
    // Series at 0 from the start, so rate() and alerts see them before the first event.
    this.evictions.inc({}, 0);
    for (const source of ['admin', 'score', 'equivocation']) this.bans.inc({ source }, 0);
    if (engine !== null) {
      metrics.collectGauge('hearsay_reputation_bans_active', 'Bans in force.', () => [{ labels: {}, value: engine.isClosed ? 0 : engine.table.banned.size }]);
      metrics.collectGauge('hearsay_reputation_score_peers', 'Tracked peers whose score is at or below each bound (cumulative buckets).', () => scoreBuckets(engine));
      // Levels already held at start (restored from SQLite) are not new evictions or bans.
      this.scanLevels(engine, false);
      engine.onTick(() => {
        if (this.stopped) return;
        this.scanLevels(engine, true);
        this.observeAntiEntropy();
      });
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Counts the transitions into evicted-or-worse and into banned since the last scan. */
  private scanLevels(engine: ReputationEngine, count: boolean): void {
    const seen = new Set<string>();
    const visit = (id: string, level: number, source: string | undefined): void => {
      if (seen.has(id)) return;
      seen.add(id);
      const before = this.levels.get(id) ?? Level.OK;
      if (count && level >= Level.EVICTED && before < Level.EVICTED) this.evictions.inc();
      if (count && level === Level.BANNED && before !== Level.BANNED) this.bans.inc({ source: source ?? 'score' });
      this.levels.set(id, level);
    };
    for (const p of engine.table.banned) visit(p.id, p.level, p.ban?.source);
    for (const p of engine.table.decaying) visit(p.id, p.level, p.ban?.source);
    for (const id of this.levels.keys()) if (!seen.has(id)) this.levels.delete(id);
  }

  private observeAntiEntropy(): void {
    const successes = this.aeRounds.total() - this.aeFailures.total();
    if (successes > this.aeSuccesses) this.aeLastSuccess = this.node.clock.now();
    this.aeSuccesses = successes;
  }
}

function scoreBuckets(engine: ReputationEngine): Array<{ labels: Record<string, string>; value: number }> {
  const counts = new Array<number>(SCORE_BUCKETS.length + 1).fill(0);
  if (!engine.isClosed) {
    const now = engine.now();
    for (const p of engine.table.values()) {
      const s = computeScore(p, engine.params, now);
      let i = SCORE_BUCKETS.findIndex((b) => s <= b);
      if (i < 0) i = SCORE_BUCKETS.length;
      counts[i]!++;
    }
  }
  let cumulative = 0;
  return counts.map((c, i) => {
    cumulative += c;
    return { labels: { le: i < SCORE_BUCKETS.length ? String(SCORE_BUCKETS[i]) : '+Inf' }, value: cumulative };
  });
}
