import { describe, expect, it } from 'vitest';
import { Level } from '../../src/reputation/score.js';
import { resolveReputationParams } from '../../src/reputation/params.js';
import { engine, hex, peerId, thrown } from './helpers.js';

describe('reputation engine: effects of the score', () => {
  it('walks a persistent offender through no-gossip, eviction and graylist, in that order', () => {
    const { engine: e } = engine();
    const bad = peerId();
    const seen: Array<[boolean, boolean, boolean]> = [];
    const snapshot = () => seen.push([e.mayGossipTo(bad), e.isEligible(bad), e.isBlocked(bad)]);
    snapshot();
    for (let i = 0; i < 4; i++) {
      e.charge(bad, 'invalid-signature', 'test');
      snapshot();
    }
    // 0 → -5 → -20 → -45 → -80: ok, ok, no gossip, evicted, graylisted (strictly below -80? no: -80 is not below).
    expect(seen).toEqual([
      [true, true, false],
      [true, true, false],
      [false, true, false],
      [false, false, false],
      [false, false, false],
    ]);
    e.charge(bad, 'malformed');
    expect(e.isBlocked(bad)).toBe(true);
    expect(e.levelOf(bad)).toBe(Level.GRAYLISTED);
  });

  it('never charges or credits itself, and ignores unknown offenses from JavaScript callers', () => {
    const self = peerId();
    const { engine: e } = engine({ self });
    for (let i = 0; i < 10; i++) e.charge(self, 'invalid-signature');
    e.credit(self);
    expect(e.peerState(hex(self))).toBeUndefined();
    const p = peerId();
    e.charge(p, 'no-such-offense' as 'malformed');
    expect(e.peerState(hex(p))).toBeUndefined();
  });

  it('lets scores decay at each tick: an offender regains gossip and selection', () => {
    const { engine: e, clock } = engine();
    const p = peerId();
    for (let i = 0; i < 3; i++) e.charge(p, 'invalid-signature'); // -45: evicted
    expect(e.isEligible(p)).toBe(false);
    // Half-life 1 h: after 1 h the counter is 1.5 (-11.25), after 2 h 0.75 (-2.8).
    clock.advance(3_600_000);
    e.tick();
    expect(e.isEligible(p)).toBe(true);
    expect(e.mayGossipTo(p)).toBe(false);
    clock.advance(3_600_000);
    e.tick();
    expect(e.mayGossipTo(p)).toBe(true);
    expect(e.scoreOf(p)).toBeCloseTo(-5 * 0.75 ** 2, 6);
  });

  it('bans below the ban threshold, persists nothing per packet, and lifts the ban when it expires', () => {
    const { engine: e, clock } = engine();
    const p = peerId();
    // A burst inside one packet: nine bad signatures (-405 < -400).
    for (let i = 0; i < 9; i++) e.charge(p, 'invalid-signature');
    expect(e.levelOf(p)).toBe(Level.BANNED);
    expect(e.query.bans()).toHaveLength(1);
    expect(e.query.bans()[0]!.source).toBe('score');
    expect(e.store.transactions).toBe(0);
    clock.advance(e.params.scoreBanMs + 1);
    e.tick();
    expect(e.query.bans()).toHaveLength(0);
    // Still deep below graylist: counters decayed for one hour only.
    expect(e.isBlocked(p)).toBe(true);
    const types = e.query.events({ peer: hex(p), limit: 100 }).map((x) => x.type);
    expect(types).toContain('ban');
    expect(types).toContain('unban');
  });

  it('credits first deliveries, capped at +5: credit lifts a marginal peer, never a persistent one', () => {
    const { engine: e } = engine();
    const p = peerId();
    e.charge(p, 'invalid-signature');
    e.charge(p, 'invalid-signature'); // -20
    for (let i = 0; i < 1000; i++) e.credit(p);
    expect(e.scoreOf(p)).toBeCloseTo(-15, 6);
    expect(e.mayGossipTo(p)).toBe(false);
    const q = peerId();
    for (let i = 0; i < 95; i++) e.charge(q, 'contradicted-claim'); // (95 - 60)² × -0.01 = -12.25
    expect(e.mayGossipTo(q)).toBe(false);
    for (let i = 0; i < 100; i++) e.credit(q);
    expect(e.scoreOf(q)).toBeCloseTo(-7.25, 6);
    expect(e.mayGossipTo(q)).toBe(true);
  });

  it('logs at most 16 offense events per peer per tick and sums the rest', () => {
    const { engine: e } = engine({ params: resolveReputationParams({ thresholds: { ban: -1e7 } }) });
    const p = peerId();
    for (let i = 0; i < 100; i++) e.charge(p, 'replay', `stale ${i}`);
    e.tick();
    const events = e.query.events({ peer: hex(p), limit: 1000 });
    expect(events.filter((x) => x.type === 'offense')).toHaveLength(16);
    const sup = events.find((x) => x.type === 'suppressed');
    expect(sup?.detail).toContain('84 more');
  });

  it('keeps at most maxPeers in memory, forgetting the quietest neutral ones first', () => {
    const { engine: e } = engine({ limits: { maxPeers: 100, maxBans: 10 } });
    const offenders = Array.from({ length: 10 }, () => peerId());
    for (const o of offenders) e.charge(o, 'malformed');
    for (let i = 0; i < 500; i++) e.credit(peerId());
    expect(e.table.size).toBe(100);
    for (const o of offenders) expect(e.scoreOf(o), hex(o)).toBe(-2);
  });
});

describe('reputation engine: admin overrides', () => {
  it('bans, unbans and resets with a reason, each logged as an event', () => {
    const { engine: e, clock } = engine();
    const p = peerId();
    const id = hex(p);
    const ban = e.ban(id, { reason: 'abuse report #7', durationMs: 60_000 });
    expect(ban.until).toBe(clock.now() + 60_000);
    expect(e.isBlocked(p)).toBe(true);
    expect(e.query.peer(id)!.ban).toMatchObject({ reason: 'abuse report #7', source: 'admin' });
    expect(e.unban(id, { reason: 'resolved' })).toBe(true);
    expect(e.isBlocked(p)).toBe(false);
    expect(e.unban(id, { reason: 'again' })).toBe(false);
    for (let i = 0; i < 4; i++) e.charge(p, 'invalid-signature');
    expect(e.isEligible(p)).toBe(false);
    expect(e.reset(id, { reason: 'false positive' })).toBe(true);
    expect(e.scoreOf(p)).toBe(0);
    expect(e.isEligible(p)).toBe(true);
    const events = e.query.events({ peer: id, limit: 100 }).reverse();
    const admin = events.filter((x) => x.type === 'ban' || x.type === 'unban' || x.type === 'reset').map((x) => `${x.type}:${x.detail.split(',')[0]}`);
    expect(admin).toEqual(['ban:admin: abuse report #7', 'unban:admin: resolved', 'reset:admin: false positive']);
  });

  it('refuses overrides without a reason, of malformed ids, of itself, or with absurd durations', () => {
    const self = peerId();
    const { engine: e } = engine({ self });
    const id = hex(peerId());
    expect(thrown(() => e.ban(id, { reason: '' })).code).toBe('HEARSAY_ERR_INVALID_ARGUMENT');
    expect(thrown(() => e.ban(id, { reason: 'x'.repeat(201) })).code).toBe('HEARSAY_ERR_INVALID_ARGUMENT');
    expect(thrown(() => e.ban('zz', { reason: 'r' })).code).toBe('HEARSAY_ERR_INVALID_ARGUMENT');
    expect(thrown(() => e.ban(hex(self), { reason: 'r' })).code).toBe('HEARSAY_ERR_INVALID_ARGUMENT');
    expect(thrown(() => e.ban(id, { reason: 'r', durationMs: 10 })).code).toBe('HEARSAY_ERR_INVALID_ARGUMENT');
    expect(thrown(() => e.reset(id, { reason: '  ' })).code).toBe('HEARSAY_ERR_INVALID_ARGUMENT');
  });
});

describe('reputation engine: query API', () => {
  it('lists peers lowest first with components, and details one with thresholds crossed and events', () => {
    const { engine: e } = engine();
    const a = peerId();
    const b = peerId();
    const c = peerId();
    for (let i = 0; i < 3; i++) e.charge(a, 'invalid-signature', 'bad sig');
    e.charge(b, 'malformed', 'schema');
    for (let i = 0; i < 10; i++) e.credit(c);
    const list = e.query.peers();
    expect(list.total).toBe(3);
    expect(list.peers.map((p) => p.id)).toEqual([hex(a), hex(b), hex(c)]);
    expect(list.peers[0]!.level).toBe('evicted');
    expect(list.peers[0]!.components['invalid-signature']).toEqual({ counter: 3, contribution: -45 });
    expect(list.peers[2]!.components['first-delivery']!.contribution).toBeCloseTo(0.5);
    expect(e.query.peers({ minLevel: 'no-gossip' }).peers.map((p) => p.id)).toEqual([hex(a)]);
    const d = e.query.peer(hex(a).toUpperCase())!;
    expect(d.thresholdsCrossed).toEqual(['gossip', 'evict']);
    expect(d.events[0]!.type).toBe('threshold');
    expect(d.events.filter((x) => x.type === 'offense').map((x) => x.detail)).toEqual(['bad sig', 'bad sig', 'bad sig']);
    expect(e.query.peer(hex(peerId()))).toBeNull();
    expect(thrown(() => e.query.peers({ limit: 0 })).code).toBe('HEARSAY_ERR_INVALID_ARGUMENT');
    expect(thrown(() => e.query.peers({ limit: 1001 })).code).toBe('HEARSAY_ERR_INVALID_ARGUMENT');
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
    // The audit log pages backwards by id.
    const all = e.query.events({ limit: 1000 });
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(e.query.events({ beforeId: all[1]!.id, limit: 2 }).map((x) => x.id)).toEqual([all[2]!.id, all[3]!.id]);
    expect(thrown(() => e.query.events({ beforeId: 0 })).code).toBe('HEARSAY_ERR_INVALID_ARGUMENT');
  });

  it('exposes peers by level as a Prometheus gauge and offenses as a counter', () => {
    const { engine: e, metrics } = engine();
    for (let i = 0; i < 5; i++) e.charge(peerId(), 'replay');
    const bad = peerId();
    for (let i = 0; i < 4; i++) e.charge(bad, 'invalid-signature');
    const text = metrics.render();
    expect(text).toContain('hearsay_reputation_offenses_total{offense="replay"} 5');
    expect(text).toContain('hearsay_reputation_peers{level="evicted"} 1');
    expect(text).toContain('hearsay_reputation_peers{level="ok"} 5');
  });
});
