import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { STORE_FILE } from '../../src/reputation/store.js';
import { Level } from '../../src/reputation/score.js';
import { engine, hex, peerId, tempDir } from './helpers.js';

/** A second, read-only connection to the store file: what is really committed. */
function reader(dir: string): Database.Database {
  return new Database(join(dir, STORE_FILE), { readonly: true });
}

describe('reputation store (SQLite file in a temp dir)', () => {
  it('uses WAL and writes nothing per packet: one transaction per tick that has writes', () => {
    const dir = tempDir();
    const { engine: e, clock } = engine({ dir });
    const db = reader(dir);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const peers = Array.from({ length: 50 }, () => peerId());
    const committed = (): number => (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    for (let tick = 1; tick <= 5; tick++) {
      const before = committed();
      for (let i = 0; i < 200; i++) {
        e.charge(peers[i % 50]!, 'replay', `tick ${tick}`);
        // Nothing reaches the database per packet.
        if (i % 50 === 0) expect(committed()).toBe(before);
      }
      expect(e.store.transactions).toBe(tick - 1);
      clock.advance(1000);
      e.tick();
      expect(e.store.transactions).toBe(tick);
      // All 200 offenses (4 per peer, under the per-tick cap) and the threshold crossings land at once.
      expect(committed() - before).toBeGreaterThanOrEqual(200);
    }
    // Ticks without writes commit nothing.
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      e.tick();
    }
    expect(e.store.transactions).toBe(5);
    expect((db.prepare('SELECT count(*) AS n FROM peers').get() as { n: number }).n).toBe(50);
    db.close();
  });

  it('keeps scores, levels, bans and evidence ids across a restart, decaying scores over the downtime', () => {
    const dir = tempDir();
    const clock = new VirtualClock();
    const first = engine({ dir, clock, keepOpen: true }).engine;
    const offender = peerId();
    const banned = peerId();
    const neutral = peerId();
    for (let i = 0; i < 3; i++) first.charge(offender, 'invalid-signature'); // -45: evicted
    first.ban(hex(banned), { reason: 'operator', durationMs: 2 * 3_600_000 });
    for (let i = 0; i < 20; i++) first.credit(neutral);
    first.close(); // flushes credits too
    clock.advance(3_600_000); // one half-life of invalid-signature while down
    const second = engine({ dir, clock }).engine;
    expect(second.scoreOf(offender)).toBeCloseTo(-5 * 1.5 ** 2, 6);
    expect(second.levelOf(offender)).toBe(Level.NO_GOSSIP);
    expect(second.isBlocked(banned)).toBe(true);
    expect(second.query.bans()[0]).toMatchObject({ peer: hex(banned), reason: 'operator', source: 'admin' });
    expect(second.scoreOf(neutral)).toBeCloseTo(20 * 0.05 * 2 ** (-60 / 10), 6);
    // The ban still expires on time after the restart.
    clock.advance(3_600_000 + 1);
    second.tick();
    expect(second.isBlocked(banned)).toBe(false);
  });

  it('bounds the audit log by count and by age, and forgets old neutral peers', () => {
    const dir = tempDir();
    const retentionMs = 3_600_000;
    // One tick a minute, so every tick is a pruning tick.
    const { engine: e, clock } = engine({ dir, tickMs: 60_000, limits: { maxEvents: 1000, retentionMs, maxPeers: 200, maxBans: 20 } });
    const db = reader(dir);
    const count = (t: string): number => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 400; i++) e.charge(peerId(), 'replay', 'flood of events');
      clock.advance(60_000);
      e.tick();
      expect(count('events')).toBeLessThanOrEqual(1000);
      expect(count('peers')).toBeLessThanOrEqual(200);
    }
    expect(count('events')).toBe(1000);
    // Peers that only ever earned credit, then went quiet for longer than the retention, are forgotten.
    const quiet = Array.from({ length: 30 }, () => peerId());
    for (const q of quiet) e.credit(q);
    clock.advance(60_000);
    e.tick();
    clock.advance(retentionMs + 24 * 3_600_000);
    e.tick();
    for (const q of quiet) expect(e.peerState(hex(q))).toBeUndefined();
    // Every event older than the retention is gone too.
    expect(count('events')).toBe((db.prepare('SELECT count(*) AS n FROM events WHERE at >= ?').get(clock.now() - retentionMs) as { n: number }).n);
    expect(e.table.size).toBeLessThanOrEqual(200);
    db.close();
  });

  it('refuses a database written by a newer schema, with HEARSAY_ERR_STORE', () => {
    const dir = tempDir();
    engine({ dir, keepOpen: true }).engine.close();
    const db = new Database(join(dir, STORE_FILE));
    db.pragma('user_version = 99');
    db.close();
    let code: string | undefined;
    try {
      engine({ dir, keepOpen: true });
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    expect(code).toBe('HEARSAY_ERR_STORE');
  });
});
