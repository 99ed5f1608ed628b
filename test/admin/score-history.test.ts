/** The score history behind the dashboard chart: rings per peer, lowest scores watched, bounded memory. */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ScoreHistory } from '../../src/admin/score-history.js';
import { VirtualClock } from '../../src/clock.js';
import { createBackend } from '../../src/identity/backends.js';
import { ReputationEngine } from '../../src/reputation/engine.js';

const engines: ReputationEngine[] = [];
afterEach(() => {
  while (engines.length > 0) engines.pop()!.close();
});

function setup(): { engine: ReputationEngine; clock: VirtualClock } {
  const clock = new VirtualClock();
  const engine = new ReputationEngine({
    clock, dataDir: ':memory:', tickMs: 1000, backend: createBackend('node'),
    limits: { maxPeers: 1000, maxEvents: 10_000, maxBans: 100, maxEvidence: 10, retentionMs: 3_600_000 },
  });
  engines.push(engine);
  return { engine, clock };
}

const id = (): Uint8Array => new Uint8Array(randomBytes(32));

describe('score history', () => {
  it('keeps one sample per interval per watched peer, oldest overwritten', () => {
    const { engine, clock } = setup();
    const bad = id();
    for (let i = 0; i < 4; i++) engine.charge(bad, 'malformed');
    const h = new ScoreHistory(engine, clock, 1000, 5);
    h.start();
    clock.runUntil(clock.now() + 9000);
    const [s] = h.series(() => true, 10);
    expect(s!.id).toBe(Buffer.from(bad).toString('hex'));
    expect(s!.points).toHaveLength(5);
    expect(s!.points.map((p) => p[0] - s!.points[0]![0])).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(s!.points[4]![0]).toBe(clock.now());
    // The score recovers (decays toward zero) over time, and the samples show it.
    expect(s!.points[4]![1]).toBeGreaterThan(s!.points[0]![1]);
    h.stop();
    clock.runUntil(clock.now() + 5000);
    expect(h.series(() => true, 10)[0]!.points[4]![0]).toBe(s!.points[4]![0]);
  });

  it('watches at most maxPeers peers, the lowest scores first, and forgets peers that left the watch list', () => {
    const { engine, clock } = setup();
    const peers = Array.from({ length: 12 }, id);
    peers.forEach((p, i) => {
      for (let k = 0; k < i; k++) engine.charge(p, 'malformed');
    });
    const h = new ScoreHistory(engine, clock, 1000, 3, 4);
    h.sample();
    expect(h.watched).toBe(4);
    const worst = peers.slice(-4).map((p) => Buffer.from(p).toString('hex'));
    expect(h.series(() => true, 10).map((s) => s.id).sort()).toEqual([...worst].sort());
    expect(h.series((x) => x !== worst[3], 10)).toHaveLength(3);
    expect(h.series(() => true, 2)).toHaveLength(2);
    // New, worse peers take over; after `capacity` rounds without a sample, the old rings go.
    const newcomers = Array.from({ length: 4 }, id);
    for (const p of newcomers) for (let k = 0; k < 30; k++) engine.charge(p, 'malformed');
    for (let r = 0; r < 4; r++) {
      clock.runUntil(clock.now() + 1000);
      h.sample();
    }
    expect(h.watched).toBe(4);
    expect(h.series(() => true, 10).map((s) => s.id).sort()).toEqual(newcomers.map((p) => Buffer.from(p).toString('hex')).sort());
  });
});
