import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Holdback, type Dependency, type OrderMode, type Sequenced } from '../../src/dissemination/holdback.js';

const opts = { self: 'me', limit: 100, timeoutMs: 1000, since: 0, maxStreams: 100 };
const m = (origin: string, seq: number, order: OrderMode = 'fifo', deps: Dependency[] = [], epoch = 1, at = seq * 10): Sequenced<string> =>
  ({ origin, epoch, seq, at, prev: seq > 1 ? at - 10 : 0, order, deps, value: `${origin}${seq}` });

describe('Holdback', () => {
  it('fifo: holds a message until its predecessors arrive', () => {
    const h = new Holdback<string>(opts);
    expect(h.offer(m('a', 2), 0)).toEqual([]);
    expect(h.offer(m('a', 3), 0)).toEqual([]);
    expect(h.held).toBe(2);
    expect(h.offer(m('a', 1), 0)).toEqual(['a1', 'a2', 'a3']);
    expect(h.held).toBe(0);
  });

  it('none: delivers at once, and later fifo messages still wait for the gap below', () => {
    const h = new Holdback<string>(opts);
    expect(h.offer(m('a', 2, 'none'), 0)).toEqual(['a2']);
    expect(h.offer(m('a', 3), 0)).toEqual([]);
    expect(h.offer(m('a', 1, 'none'), 0)).toEqual(['a1', 'a3']);
  });

  it('skips a gap that does not fill within the timeout, counts it, and drops the straggler as late', () => {
    const h = new Holdback<string>(opts);
    h.offer(m('a', 3), 0);
    expect(h.expire(999)).toEqual([]);
    expect(h.expire(1000)).toEqual(['a3']);
    expect(h.stats.gaps).toBe(2);
    expect(h.offer(m('a', 1), 1001)).toEqual([]);
    expect(h.stats.late).toBe(1);
    expect(h.offer(m('a', 4), 1002)).toEqual(['a4']);
  });

  it('skips the oldest gap when the holdback is full, never growing beyond its limit', () => {
    const h = new Holdback<string>({ ...opts, limit: 3 });
    for (let s = 2; s <= 5; s++) h.offer(m('a', s), s);
    expect(h.held).toBeLessThanOrEqual(3);
    expect(h.stats.delivered).toBe(4);
    expect(h.stats.gaps).toBe(1);
  });

  it('a gap below out-of-order "none" messages also times out', () => {
    const h = new Holdback<string>(opts);
    h.offer(m('a', 2, 'none'), 0);
    h.expire(1000);
    expect(h.offer(m('a', 3), 1001)).toEqual(['a3']);
    expect(h.stats.gaps).toBe(1);
  });

  it('causal: waits for the dependencies of another origin', () => {
    const h = new Holdback<string>(opts);
    expect(h.offer(m('b', 1, 'causal', [{ origin: 'a', epoch: 1, seq: 2, at: 20 }]), 0)).toEqual([]);
    expect(h.offer(m('a', 1), 0)).toEqual(['a1']);
    expect(h.offer(m('a', 2), 0)).toEqual(['a2', 'b1']);
  });

  it('causal: a dependency on this node, or on a message published before it listened, is satisfied', () => {
    const h = new Holdback<string>({ ...opts, since: 100 });
    expect(h.offer(m('b', 1, 'causal', [{ origin: 'me', epoch: 1, seq: 9, at: 500 }, { origin: 'z', epoch: 50, seq: 4, at: 99 }], 200, 300), 0)).toEqual(['b1']);
    // ...but one published after it started listening is waited for.
    expect(h.offer(m('c', 1, 'causal', [{ origin: 'y', epoch: 50, seq: 1, at: 150 }], 200, 300), 0)).toEqual([]);
    expect(h.offer(m('y', 1, 'fifo', [], 50, 150), 0)).toEqual(['y1', 'c1']);
  });

  it('joining a stream midway: waits only for predecessors published after it started listening', () => {
    const h = new Holdback<string>({ ...opts, since: 100 });
    // a7's predecessor a6 (at 60) predates us: start at a7.
    expect(h.offer(m('a', 7, 'fifo', [], 50, 70), 0)).toEqual(['a7']);
    expect(h.offer(m('a', 9, 'fifo', [], 50, 90), 0)).toEqual([]);
    expect(h.offer(m('a', 8, 'fifo', [], 50, 80), 0)).toEqual(['a8', 'a9']);
    // b13 (at 125) follows b12 (at 115, after `since`): wait for b12, which follows b11 (105): wait
    // for it too; b11 follows b10 (95, before `since`): start there.
    expect(h.offer(m('b', 13, 'fifo', [], 50, 125), 0)).toEqual([]);
    expect(h.offer(m('b', 12, 'fifo', [], 50, 115), 0)).toEqual([]);
    expect(h.offer(m('b', 11, 'fifo', [], 50, 105), 0)).toEqual(['b11', 'b12', 'b13']);
  });

  it('a restarted origin (new epoch) starts a new stream; the old one is flushed and closed', () => {
    const h = new Holdback<string>({ ...opts, since: 100 });
    expect(h.offer(m('a', 7, 'fifo', [], 50, 70), 0)).toEqual(['a7']);
    expect(h.offer(m('a', 9, 'fifo', [], 50, 90), 0)).toEqual([]);
    expect(h.offer(m('a', 2, 'fifo', [], 300), 0)).toEqual(['a9']);
    expect(h.offer(m('a', 1, 'fifo', [], 300), 0)).toEqual(['a1', 'a2']);
    expect(h.offer(m('a', 10, 'fifo', [], 50, 100), 0)).toEqual([]);
    expect(h.stats.late).toBe(1);
  });

  it('positions() reports every stream delivered so far', () => {
    const h = new Holdback<string>(opts);
    h.offer(m('a', 1), 0);
    h.offer(m('b', 1), 0);
    h.offer(m('b', 2), 0);
    expect(h.positions()).toEqual([{ origin: 'a', epoch: 1, seq: 1, at: 10 }, { origin: 'b', epoch: 1, seq: 2, at: 20 }]);
  });
});

/**
 * A model of causal histories: actors publish and learn each other's messages (downward closed:
 * learning a message teaches its whole causal past). Each published message carries its full
 * causal vector (for the checks) and the compact context the real publisher sends: the entries
 * that changed since its previous causal message.
 */
interface ModelMessage extends Sequenced<string> { readonly full: ReadonlyMap<string, number> }

function history(steps: ReadonlyArray<{ actor: number; learn: number }>, actors: number, order: OrderMode): ModelMessage[] {
  const names = Array.from({ length: actors }, (_, i) => `o${i}`);
  const published: ModelMessage[][] = names.map(() => []);
  const known = names.map(() => new Map<string, number>());
  const lastSent = names.map(() => new Map<string, number>());
  const out: ModelMessage[] = [];
  for (const { actor, learn } of steps) {
    const me = names[actor]!;
    if (learn === actor || published[learn]!.length === 0) {
      const seq = published[actor]!.length + 1;
      const full = new Map(known[actor]);
      const deps: Dependency[] = [];
      for (const [o, s] of full) if (lastSent[actor]!.get(o) !== s) deps.push({ origin: o, epoch: 1, seq: s, at: 1000 + s });
      for (const d of deps) lastSent[actor]!.set(d.origin, d.seq);
      const msg: ModelMessage = {
        origin: me, epoch: 1, seq, at: 1000 + seq, prev: seq > 1 ? 999 + seq : 0, order, deps: order === 'causal' ? deps : [], value: `${me}:${seq}`, full,
      };
      published[actor]!.push(msg);
      out.push(msg);
    } else {
      // Learn everything `learn` has published so far, and its causal past.
      const theirs = published[learn]!;
      const top = theirs[theirs.length - 1]!;
      const k = known[actor]!;
      k.set(names[learn]!, Math.max(k.get(names[learn]!) ?? 0, top.seq));
      for (const [o, s] of top.full) if (o !== me) k.set(o, Math.max(k.get(o) ?? 0, s));
    }
  }
  return out;
}

const stepsArb = fc.array(fc.record({ actor: fc.integer({ min: 0, max: 3 }), learn: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 60 });
const networkArb = fc.record({
  order: fc.array(fc.nat(), { maxLength: 200 }),
  duplicates: fc.array(fc.nat(), { maxLength: 20 }),
  lost: fc.array(fc.nat(), { maxLength: 10 }),
});

/** Delivers `msgs` to a holdback reordered, duplicated and with losses, then lets gaps time out. */
function run(msgs: ModelMessage[], net: { order: number[]; duplicates: number[]; lost: number[] }, lossy: boolean): { delivered: string[]; h: Holdback<string> } {
  const lost = new Set(lossy ? net.lost.map((i) => i % Math.max(1, msgs.length)) : []);
  const wire: ModelMessage[] = msgs.filter((_, i) => !lost.has(i));
  for (const d of net.duplicates) if (wire.length > 0) wire.push(wire[d % wire.length]!);
  // Fisher-Yates driven by the generated numbers: arbitrary reordering.
  for (let i = wire.length - 1; i > 0; i--) {
    const j = (net.order[i % Math.max(1, net.order.length)] ?? 0) % (i + 1);
    [wire[i], wire[j]] = [wire[j]!, wire[i]!];
  }
  const h = new Holdback<string>({ self: 'receiver', limit: 1000, timeoutMs: 1000, since: 0, maxStreams: 100 });
  const delivered: string[] = [];
  let now = 0;
  for (const w of wire) delivered.push(...h.offer(w, (now += 1)));
  delivered.push(...h.expire(now + 1000));
  return { delivered, h };
}

describe('Holdback properties (fast-check, fixed seed)', () => {
  it('fifo: per origin in sequence order, never twice, all of them without loss', () => {
    fc.assert(fc.property(stepsArb, networkArb, fc.boolean(), (steps, net, lossy) => {
      const msgs = history(steps, 4, 'fifo');
      const { delivered, h } = run(msgs, net, lossy);
      expect(new Set(delivered).size).toBe(delivered.length);
      const last = new Map<string, number>();
      for (const d of delivered) {
        const [o, s] = d.split(':') as [string, string];
        expect(Number(s)).toBeGreaterThan(last.get(o) ?? 0);
        last.set(o, Number(s));
      }
      if (!lossy) {
        expect(delivered.length).toBe(msgs.length);
        expect(h.stats.gaps).toBe(0);
      }
      expect(h.held).toBe(0);
    }), { numRuns: 300, seed: 4242 });
  });

  it('causal: nothing is delivered before something it causally depends on, never twice, all without loss', () => {
    fc.assert(fc.property(stepsArb, networkArb, fc.boolean(), (steps, net, lossy) => {
      const msgs = history(steps, 4, 'causal');
      const byValue = new Map(msgs.map((x) => [x.value, x]));
      const { delivered, h } = run(msgs, net, lossy);
      expect(new Set(delivered).size).toBe(delivered.length);
      const position = new Map(delivered.map((v, i) => [v, i]));
      for (const v of delivered) {
        const msg = byValue.get(v)!;
        // Its own predecessors and everything in its causal past that was delivered came first.
        const past: Array<[string, number]> = [[msg.origin, msg.seq - 1], ...msg.full];
        for (const [o, upTo] of past) {
          for (let s = 1; s <= upTo; s++) {
            const p = position.get(`${o}:${s}`);
            if (p !== undefined) expect(p, `${o}:${s} before ${v}`).toBeLessThan(position.get(v)!);
          }
        }
      }
      if (!lossy) {
        expect(delivered.length).toBe(msgs.length);
        expect(h.stats.gaps).toBe(0);
      }
      expect(h.held).toBe(0);
    }), { numRuns: 300, seed: 777 });
  });
});
