import { describe, expect, it } from 'vitest';
import { OFFENSES } from '../../src/link/peer-gate.js';
import { DEFAULT_REPUTATION_PARAMS, resolveReputationParams, type ReputationParamsInput } from '../../src/reputation/params.js';
import { thrown } from './helpers.js';

describe('reputation parameters', () => {
  it('defaults are valid, deeply frozen, and cover every offense', () => {
    const p = resolveReputationParams();
    expect(p).toEqual(DEFAULT_REPUTATION_PARAMS);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.penalties)).toBe(true);
    expect(Object.isFrozen(p.penalties.malformed)).toBe(true);
    expect(Object.isFrozen(p.thresholds)).toBe(true);
    expect(Object.keys(p.penalties).sort()).toEqual([...OFFENSES].sort());
    for (const o of OFFENSES) expect(p.penalties[o].weight, o).toBeLessThan(0);
    const t = p.thresholds;
    expect(0 > t.gossip && t.gossip > t.evict && t.evict > t.graylist && t.graylist > t.ban).toBe(true);
  });

  it('overrides one field and keeps the rest', () => {
    const p = resolveReputationParams({ penalties: { malformed: { weight: -3 } }, thresholds: { gossip: -5 } });
    expect(p.penalties.malformed).toEqual({ ...DEFAULT_REPUTATION_PARAMS.penalties.malformed, weight: -3 });
    expect(p.thresholds).toEqual({ ...DEFAULT_REPUTATION_PARAMS.thresholds, gossip: -5 });
  });

  const bad: Array<[string, ReputationParamsInput, string]> = [
    ['positive penalty weight', { penalties: { malformed: { weight: 1 } } }, 'penalties.malformed.weight'],
    ['zero penalty weight', { penalties: { replay: { weight: 0 } } }, 'penalties.replay.weight'],
    ['NaN weight', { penalties: { replay: { weight: Number.NaN } } }, 'penalties.replay.weight'],
    ['infinite weight', { penalties: { replay: { weight: -Infinity } } }, 'penalties.replay.weight'],
    ['negative allowance', { penalties: { 'broken-promise': { allowance: -1 } } }, 'penalties.broken-promise.allowance'],
    ['tiny half-life', { penalties: { malformed: { halfLifeMs: 10 } } }, 'penalties.malformed.halfLifeMs'],
    ['unknown offense', { penalties: { 'made-up': { weight: -1 } } } as unknown as ReputationParamsInput, 'penalties.made-up'],
    ['negative credit', { credit: { weight: -1 } }, 'credit.weight'],
    ['credit above the gossip threshold', { credit: { weight: 1, cap: 100 } }, 'credit.weight'],
    ['positive gossip threshold', { thresholds: { gossip: 1 } }, 'thresholds.gossip'],
    ['evict above gossip', { thresholds: { evict: -5 } }, 'thresholds.evict'],
    ['graylist above evict', { thresholds: { graylist: -20 } }, 'thresholds.graylist'],
    ['ban above graylist', { thresholds: { ban: -50 } }, 'thresholds.ban'],
    ['decayToZero of zero', { decayToZero: 0 }, 'decayToZero'],
    ['counter cap below an allowance', { counterCap: 5 }, 'penalties.contradicted-claim.allowance'],
    ['short ban', { scoreBanMs: 1000 }, 'scoreBanMs'],
    ['string where a number belongs', { equivocationBanMs: '7d' } as unknown as ReputationParamsInput, 'equivocationBanMs'],
    ['unknown top-level field', { gossipThreshold: -10 } as unknown as ReputationParamsInput, 'gossipThreshold'],
  ];
  for (const [what, input, field] of bad) {
    it(`refuses ${what}, naming the field and its range`, () => {
      const e = thrown(() => resolveReputationParams(input));
      expect(e.code).toBe('HEARSAY_ERR_REPUTATION_PARAMS');
      expect(e.message).toContain(`"${field}"`);
      if (!field.startsWith('penalties.made') && field !== 'gossipThreshold') expect(e.message).toMatch(/from -?\d|must be (at most|below)/);
    });
  }
});
