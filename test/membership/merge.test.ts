import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { merge, mergeAboutSelf, type HeldState, type IncomingClaim } from '../../src/membership/merge.js';
import { INCARNATION_PER_MS, incarnationBootMs, startingIncarnation } from '../../src/membership/claims.js';

const alive = (incarnation: number, idKey = `alive-${incarnation}`): IncomingClaim => ({ kind: 'alive', incarnation, idKey });
const suspect = (incarnation: number, by = 'a'): IncomingClaim => ({ kind: 'suspect', incarnation, idKey: `suspect-${incarnation}-${by}` });
const dead = (incarnation: number, by = 'a'): IncomingClaim => ({ kind: 'dead', incarnation, idKey: `dead-${incarnation}-${by}` });
const leave = (incarnation: number): IncomingClaim => ({ kind: 'leave', incarnation, idKey: `leave-${incarnation}` });
const held = (state: HeldState['state'], aliveIncarnation: number, leftIncarnation = aliveIncarnation): HeldState =>
  ({ state, aliveIncarnation, leftIncarnation, aliveId: `alive-${aliveIncarnation}` });

/** What Members does with a verdict: the state a held record moves to. */
function step(h: HeldState | null, c: IncomingClaim): HeldState | null {
  const v = merge(h, c);
  if (v === 'join') return { state: 'alive', aliveIncarnation: c.incarnation, leftIncarnation: c.incarnation, aliveId: c.idKey };
  if (v !== 'apply') return h;
  switch (c.kind) {
    case 'alive': return { state: 'alive', aliveIncarnation: c.incarnation, leftIncarnation: c.incarnation, aliveId: c.idKey };
    case 'suspect': return { ...h!, state: 'suspect' };
    case 'dead': return { ...h!, state: 'dead' };
    case 'leave': return { ...h!, state: 'left', leftIncarnation: c.incarnation };
  }
}

describe('merge rules', () => {
  it('introduces a member only by its own ALIVE; drops accusations and leaves about strangers', () => {
    expect(merge(null, alive(5))).toBe('join');
    expect(merge(null, suspect(5))).toBe('unknown');
    expect(merge(null, dead(5))).toBe('unknown');
    expect(merge(null, leave(5))).toBe('unknown');
  });

  it('orders states at one incarnation: left > dead > suspect > alive', () => {
    expect(merge(held('alive', 5), suspect(5))).toBe('apply');
    expect(merge(held('alive', 5), dead(5))).toBe('apply');
    expect(merge(held('suspect', 5), dead(5))).toBe('apply');
    expect(merge(held('dead', 5), suspect(5))).toBe('redundant');
    expect(merge(held('dead', 5), alive(5))).toBe('redundant');
    expect(merge(held('dead', 5), leave(5))).toBe('apply');
    expect(merge(held('left', 5), dead(5))).toBe('stale');
    expect(merge(held('left', 5), alive(5))).toBe('redundant');
  });

  it('lets a higher incarnation refute any accusation, and nothing else raise the incarnation', () => {
    expect(merge(held('suspect', 5), alive(6))).toBe('apply');
    expect(merge(held('dead', 5), alive(6))).toBe('apply');
    expect(merge(held('left', 5), alive(6))).toBe('apply');
    // Accusations of an incarnation the member never published (as far as we know) are refused.
    expect(merge(held('alive', 5), suspect(6))).toBe('unverifiable');
    expect(merge(held('alive', 5), dead(99))).toBe('unverifiable');
  });

  it('treats older claims as stale and repeated ones as redundant', () => {
    expect(merge(held('alive', 5), alive(4))).toBe('stale');
    expect(merge(held('alive', 5), suspect(4))).toBe('stale');
    expect(merge(held('alive', 5), dead(4))).toBe('stale');
    expect(merge(held('alive', 5), leave(4))).toBe('stale');
    expect(merge(held('alive', 5), alive(5))).toBe('redundant');
    expect(merge(held('left', 7, 9), leave(9))).toBe('redundant');
    expect(merge(held('left', 7, 9), alive(8))).toBe('stale');
    expect(merge(held('left', 7, 9), alive(10))).toBe('apply');
  });

  it('counts a second SUSPECT of the same incarnation as a confirmation', () => {
    expect(merge(held('suspect', 5), suspect(5, 'b'))).toBe('confirm');
  });

  it('accepts a LEAVE of a newer incarnation (it is signed by the member itself)', () => {
    expect(merge(held('alive', 5), leave(7))).toBe('apply');
  });

  it('flags two different ALIVE claims for one incarnation as equivocation', () => {
    expect(merge(held('alive', 5), alive(5, 'another-alive-5'))).toBe('equivocation');
    expect(merge(held('dead', 5), alive(5, 'another-alive-5'))).toBe('equivocation');
  });

  it('converges to the same state whatever the order, once every claim has arrived (property)', () => {
    // Claims about one member: ALIVEs with distinct incarnations, accusations of those incarnations,
    // maybe a LEAVE. Gossip retransmits, so a claim refused early (unverifiable) comes again.
    const claimSet = fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 5 }).chain((incs) =>
      fc.tuple(
        fc.constant(incs),
        fc.array(fc.record({ kind: fc.constantFrom('suspect' as const, 'dead' as const), inc: fc.constantFrom(...incs), by: fc.constantFrom('a', 'b', 'c') }), { maxLength: 8 }),
        fc.option(fc.integer({ min: 1, max: 14 }), { nil: undefined }),
      ));
    fc.assert(
      fc.property(claimSet, fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), ([incs, accusations, leaveInc], order) => {
        const claims: IncomingClaim[] = [...incs.map((i) => alive(i)), ...accusations.map((a) => (a.kind === 'suspect' ? suspect(a.inc, a.by) : dead(a.inc, a.by)))];
        if (leaveInc !== undefined) claims.push(leave(leaveInc));
        // A shuffled delivery order, repeated until nothing changes (bounded: 3 passes suffice).
        const shuffled = claims.map((c, i) => ({ c, k: order[i % order.length]! + i / 1000 })).sort((x, y) => x.k - y.k).map((x) => x.c);
        let h: HeldState | null = null;
        for (let pass = 0; pass < 4; pass++) for (const c of shuffled) h = step(h, c);
        // The join of the lattice, computed directly.
        const maxAlive = Math.max(...incs);
        const aliveAtMax = accusations.filter((a) => a.inc === maxAlive);
        let expected: { state: string; inc: number };
        if (leaveInc !== undefined && leaveInc >= maxAlive) expected = { state: 'left', inc: leaveInc };
        else if (aliveAtMax.some((a) => a.kind === 'dead')) expected = { state: 'dead', inc: maxAlive };
        else if (aliveAtMax.length > 0) expected = { state: 'suspect', inc: maxAlive };
        else expected = { state: 'alive', inc: maxAlive };
        expect(h).not.toBeNull();
        expect({ state: h!.state, inc: h!.state === 'left' ? h!.leftIncarnation : h!.aliveIncarnation }).toEqual(expected);
      }),
      { numRuns: 1000, seed: 20261127 },
    );
  });

  it('never lets accusations change the incarnation we hold (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.array(fc.record({ dead: fc.boolean(), inc: fc.integer({ min: 0, max: 2000 }) }), { maxLength: 30 }), (start, accs) => {
        let h: HeldState | null = step(null, alive(start));
        for (const a of accs) h = step(h, a.dead ? dead(a.inc) : suspect(a.inc));
        expect(h!.aliveIncarnation).toBe(start);
      }),
      { numRuns: 500, seed: 20261127 },
    );
  });
});

describe('claims about this node', () => {
  it('refutes accusations of its current incarnation, ignores older ones, calls newer ones lies', () => {
    expect(mergeAboutSelf(10, 'own', suspect(10))).toBe('refute');
    expect(mergeAboutSelf(10, 'own', dead(10))).toBe('refute');
    expect(mergeAboutSelf(10, 'own', suspect(9))).toBe('stale');
    expect(mergeAboutSelf(10, 'own', dead(11))).toBe('unverifiable');
  });

  it('recognises its own ALIVE, and refutes claims in its name it did not make', () => {
    expect(mergeAboutSelf(10, 'own', alive(10, 'own'))).toBe('redundant');
    expect(mergeAboutSelf(10, 'own', alive(9))).toBe('stale');
    expect(mergeAboutSelf(10, 'own', alive(10, 'not-ours'))).toBe('refute');
    expect(mergeAboutSelf(10, 'own', alive(12))).toBe('refute');
    expect(mergeAboutSelf(10, 'own', leave(9))).toBe('stale');
    expect(mergeAboutSelf(10, 'own', leave(10))).toBe('refute');
  });
});

describe('incarnations', () => {
  it('start at boot time × 1024, so a later boot beats every claim about an earlier life', () => {
    const boot1 = 1_764_201_600_000; // 2025-11-27
    const first = startingIncarnation(boot1);
    expect(first).toBe(boot1 * INCARNATION_PER_MS);
    expect(incarnationBootMs(first + 1023)).toBe(boot1);
    // The earlier life refuted 1,000 times; a restart 1 ms later still starts above it.
    expect(startingIncarnation(boot1 + 1)).toBeGreaterThan(first + 1000);
    // Safe integers until the year 2248.
    expect(Number.isSafeInteger(startingIncarnation(Date.UTC(2248, 0, 1)))).toBe(true);
  });
});
