import { describe, expect, it } from 'vitest';
import { MAX_ALTERNATES, PullTracker } from '../../src/dissemination/pull-tracker.js';

describe('PullTracker (IHAVE/IWANT promises)', () => {
  it('asks the first advertiser only and keeps later ones as alternates', () => {
    const t = new PullTracker(100, 1000, 10);
    expect(t.advertised('m', 'p1', 0)).toBe(true);
    expect(t.advertised('m', 'p2', 1)).toBe(false);
    expect(t.advertised('m', 'p1', 2)).toBe(false);
    expect(t.isPending('m')).toBe(true);
    t.fulfilled('m');
    expect(t.isPending('m')).toBe(false);
    expect(t.expire(1000, () => false)).toEqual([]);
  });

  it('reports a broken promise at the deadline and retries with the next alternate', () => {
    const t = new PullTracker(100, 1000, 10);
    t.advertised('m', 'p1', 0);
    t.advertised('m', 'p2', 10);
    expect(t.expire(99, () => false)).toEqual([]);
    expect(t.nextDeadline()).toBe(100);
    t.advertised('m', 'p3', 20);
    t.advertised('m', 'p4', 30);
    // After a broken promise, two alternates are asked at once.
    expect(t.expire(100, () => false)).toEqual([{ idKey: 'm', peers: ['p1'], retry: ['p2', 'p3'] }]);
    expect(t.nextDeadline()).toBe(200);
    expect(t.expire(200, () => false)).toEqual([{ idKey: 'm', peers: ['p2', 'p3'], retry: ['p4'] }]);
    expect(t.expire(300, () => false)).toEqual([{ idKey: 'm', peers: ['p4'], retry: [] }]);
    expect(t.size).toBe(0);
  });

  it('asks the advertisers again in turn while they still hold the message', () => {
    const t = new PullTracker(100, 1000, 10, 350);
    t.advertised('m', 'p1', 0);
    t.advertised('m', 'p2', 0);
    expect(t.expire(100, () => false)[0]!.retry).toEqual(['p2']);
    expect(t.expire(200, () => false)[0]!.retry).toEqual(['p1']);
    expect(t.expire(300, () => false)[0]!.retry).toEqual(['p2']);
    expect(t.expire(400, () => false)[0]!.retry).toEqual([]);
    expect(t.size).toBe(0);
  });

  it('does not report a promise whose message arrived another way', () => {
    const t = new PullTracker(100, 1000, 10);
    t.advertised('m', 'p1', 0);
    expect(t.expire(100, (id) => id === 'm')).toEqual([]);
  });

  it('bounds alternates, pending promises and per-peer requests and serving per round', () => {
    const t = new PullTracker(100, 3, 2);
    t.advertised('a', 'p0', 0);
    for (let i = 1; i < 20; i++) t.advertised('a', `p${i}`, 0);
    const broken = t.expire(100, () => false);
    expect(broken[0]!.retry).toEqual(['p1', 'p2']);
    let retries = 2;
    for (let now = 200; t.size > 0 && now < 10_000; now += 100) retries += t.expire(now, () => false).reduce((s, b) => s + b.retry.length, 0);
    expect(retries).toBe(MAX_ALTERNATES - 1);
    const u = new PullTracker(100, 3, 2);
    expect(u.advertised('x', 'q', 0)).toBe(true);
    expect(u.advertised('y', 'q', 0)).toBe(true);
    expect(u.advertised('z', 'q', 0)).toBe(false); // per-peer budget of 2
    expect(u.advertised('z', 'r', 0)).toBe(true);
    expect(u.advertised('w', 's', 0)).toBe(false); // 3 pending at most
    expect(u.mayServe('q')).toBe(true);
    expect(u.mayServe('q')).toBe(true);
    expect(u.mayServe('q')).toBe(false);
    u.newRound();
    expect(u.mayServe('q')).toBe(true);
  });
});
