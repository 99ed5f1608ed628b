import { describe, expect, it } from 'vitest';
import { MAX_INFORMED, MessageCache, type CachedMessage } from '../../src/dissemination/message-cache.js';

const msg = (n: number): CachedMessage => ({
  idKey: `id${n}`, id: new Uint8Array(32).fill(n), message: new Uint8Array([n]), mayReceive: () => true, informed: new Set(),
});

describe('MessageCache', () => {
  it('keeps messages historyRounds rounds and advertises the newest gossipRounds rounds', () => {
    const c = new MessageCache(3, 2, 100);
    c.put(msg(1));
    c.shift();
    c.put(msg(2));
    c.shift();
    c.put(msg(3));
    expect(c.gossip().map((m) => m.idKey)).toEqual(['id3', 'id2']);
    expect(c.get('id1')).toBeDefined();
    c.shift();
    expect(c.get('id1')).toBeUndefined();
    expect(c.get('id2')).toBeDefined();
    expect(c.gossip().map((m) => m.idKey)).toEqual(['id3']);
  });

  it('refuses duplicates and evicts the oldest beyond maxEntries', () => {
    const c = new MessageCache(5, 3, 2);
    expect(c.put(msg(1))).toBe(true);
    expect(c.put(msg(1))).toBe(false);
    c.put(msg(2));
    c.put(msg(3));
    expect(c.size).toBe(2);
    expect(c.get('id1')).toBeUndefined();
    expect(c.gossip().map((m) => m.idKey)).toEqual(['id3', 'id2']);
  });

  it('bounds the peers remembered per message', () => {
    const c = new MessageCache(2, 1, 10);
    c.put(msg(1));
    for (let i = 0; i < MAX_INFORMED + 10; i++) c.inform('id1', `p${i}`);
    expect(c.get('id1')!.informed.size).toBe(MAX_INFORMED);
  });

  it('is quiet when nothing is advertisable', () => {
    const c = new MessageCache(3, 1, 10);
    expect(c.quiet).toBe(true);
    c.put(msg(1));
    expect(c.quiet).toBe(false);
    c.shift();
    expect(c.quiet).toBe(true);
    expect(() => new MessageCache(1, 2, 10)).toThrow(RangeError);
  });
});
