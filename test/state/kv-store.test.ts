import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KvStore, type StoredWrite } from '../../src/state/kv-store.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'hearsay-kvstore-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const A = new Uint8Array(32).fill(0xaa);
function write(version: number, key: string, value: string | null, dead: number | null = null): StoredWrite {
  return {
    origin: A, version, key, wall: 1000 + version, logical: 0, deleted: value === null, value: value === null ? null : Buffer.from(value),
    id: new Uint8Array(32).fill(version), envelope: Buffer.from(`env-${version}`), deadSince: dead,
  };
}

describe('KvStore (SQLite in a temp dir)', () => {
  it('stores writes, winners, origins and meta, and finds them again after reopening', () => {
    const s = KvStore.open(dir);
    s.durableTransaction(() => {
      s.insertWrite(write(1, 't/a', 'one'));
      s.setWinner('t/a', A, 1);
      s.insertWrite(write(2, 't/b', 'two'));
      s.setWinner('t/b', A, 2);
      s.saveOrigin({ origin: A, hex: Buffer.from(A).toString('hex'), contiguous: 2, floor: 0, cert: Buffer.from('cert') });
      s.setMeta('hlc_wall', 1234);
    });
    s.close();
    const r = KvStore.open(dir);
    expect(Buffer.from(r.winner('t/a')!.value!).toString()).toBe('one');
    expect(Buffer.from(r.getWrite(A, 2)!.envelope).toString()).toBe('env-2');
    expect(r.loadOrigins()).toEqual([expect.objectContaining({ contiguous: 2, floor: 0 })]);
    expect(r.getMeta('hlc_wall')).toBe(1234);
    expect(r.live('t/', 10).map((w) => w.key)).toEqual(['t/a', 't/b']);
    expect(r.live('t/b', 10).map((w) => w.key)).toEqual(['t/b']);
    r.close();
  });

  it('lists writes of an origin in version order and winners in key order', () => {
    const s = KvStore.open(dir);
    s.transaction(() => {
      for (const v of [3, 1, 2]) s.insertWrite(write(v, `t/k${v}`, `v${v}`));
      for (const v of [3, 1, 2]) s.setWinner(`t/k${v}`, A, v);
    });
    expect(s.writesAfter(A, 1, 10).map((w) => w.version)).toEqual([2, 3]);
    expect(s.winnersAfter('t/k1', 10).map((w) => w.key)).toEqual(['t/k2', 't/k3']);
    expect(s.winnerKeysBetween('', 't/k2').map((w) => w.key)).toEqual(['t/k1', 't/k2']);
    s.close();
  });

  it('finds dead writes older than a time, and live() skips tombstones', () => {
    const s = KvStore.open(dir);
    s.transaction(() => {
      s.insertWrite(write(1, 't/a', 'x', 100));
      s.insertWrite(write(2, 't/a', null, 200));
      s.setWinner('t/a', A, 2);
    });
    expect(s.expired(150, 10).map((e) => e.version)).toEqual([1]);
    expect(s.expired(250, 10).map((e) => e.version)).toEqual([1, 2]);
    expect(s.live('t/', 10)).toEqual([]);
    expect(s.winner('t/a')!.deleted).toBe(true);
    s.close();
  });

  it('rolls a failed transaction back completely', () => {
    const s = KvStore.open(dir);
    expect(() => s.durableTransaction(() => {
      s.insertWrite(write(1, 't/a', 'x'));
      s.insertWrite(write(1, 't/a', 'duplicate slot'));
    })).toThrow();
    expect(s.countWrites()).toBe(0);
    s.close();
  });

  it('runs in memory for dataDir ":memory:"', () => {
    const s = KvStore.open(':memory:');
    s.insertWrite(write(1, 't/a', 'x'));
    expect(s.countWrites()).toBe(1);
    expect(s.path).toBe(':memory:');
    s.close();
  });
});
