import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { MetricsRegistry } from '../../src/metrics.js';
import { SeededRandom, sample, shuffle } from '../../src/random.js';

describe('virtual clock', () => {
  it('fires timers in time order, then creation order, and supports intervals and cancel', () => {
    const c = new VirtualClock(0);
    const log: string[] = [];
    c.setTimeout(() => log.push('b@20'), 20);
    c.setTimeout(() => log.push('a@10'), 10);
    c.setTimeout(() => log.push('c@10'), 10);
    const t = c.setTimeout(() => log.push('cancelled'), 15);
    t.cancel();
    const i = c.setInterval(() => log.push(`i@${c.now()}`), 7);
    c.advance(21);
    i.cancel();
    c.advance(100);
    expect(log).toEqual(['i@7', 'a@10', 'c@10', 'i@14', 'b@20', 'i@21']);
    expect(c.now()).toBe(121);
  });

  it('runUntilTrue stops when the predicate holds or the limit passes', () => {
    const c = new VirtualClock(0);
    let fired = false;
    c.setTimeout(() => { fired = true; }, 50);
    expect(c.runUntilTrue(() => fired, 1000)).toBe(true);
    expect(c.now()).toBeLessThan(100);
    expect(c.runUntilTrue(() => false, 100)).toBe(false);
  });
});

describe('seeded randomness', () => {
  it('is reproducible and roughly uniform', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const xs = Array.from({ length: 10_000 }, () => a.next());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.next()));
    const buckets = new Array(10).fill(0);
    for (const x of xs) buckets[Math.floor(x * 10)]++;
    for (const n of buckets) expect(n).toBeGreaterThan(850);
    expect(new SeededRandom(43).next()).not.toBe(new SeededRandom(42).next());
  });

  it('sample returns distinct items, shuffle keeps them all', () => {
    const r = new SeededRandom(1);
    const items = Array.from({ length: 20 }, (_, i) => i);
    const s = sample(items, 5, r);
    expect(new Set(s).size).toBe(5);
    expect(sample(items, 50, r)).toHaveLength(20);
    expect([...shuffle([...items], r)].sort((x, y) => x - y)).toEqual(items);
  });
});

describe('metrics', () => {
  it('renders Prometheus text with labels, and bounds series', () => {
    const m = new MetricsRegistry();
    const c = m.counter('hearsay_packets_dropped_total', 'Dropped packets.');
    c.inc({ reason: 'replay' });
    c.inc({ reason: 'replay' });
    c.inc({ reason: 'bad"quote' });
    const g = m.gauge('hearsay_members', 'Members.');
    g.set(3, { state: 'alive' });
    m.collectGauge('hearsay_health_state', 'Health.', () => [{ labels: { state: 'healthy' }, value: 1 }]);
    const text = m.render();
    expect(text).toContain('# TYPE hearsay_packets_dropped_total counter');
    expect(text).toContain('hearsay_packets_dropped_total{reason="replay"} 2');
    expect(text).toContain('hearsay_packets_dropped_total{reason="bad\\"quote"} 1');
    expect(text).toContain('hearsay_members{state="alive"} 3');
    expect(text).toContain('hearsay_health_state{state="healthy"} 1');
    for (let i = 0; i < 1000; i++) c.inc({ reason: `r${i}` });
    expect(Object.keys(c.byLabel('reason')).length).toBeLessThanOrEqual(256);
    expect(() => m.counter('bad_name', 'x')).toThrow(RangeError);
  });
});
