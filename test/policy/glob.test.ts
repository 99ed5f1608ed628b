import { describe, expect, it } from 'vitest';
import { GlobPattern, patternProblem } from '../../src/policy/glob.js';

const m = (pattern: string, name: string): boolean => new GlobPattern(pattern).matches(name);

describe('policy glob patterns', () => {
  it('? is one character, * one run without /, ** any run', () => {
    expect(m('a?c', 'abc')).toBe(true);
    expect(m('a?c', 'a/c')).toBe(false);
    expect(m('a?c', 'ac')).toBe(false);
    expect(m('orders/*', 'orders/eu')).toBe(true);
    expect(m('orders/*', 'orders/')).toBe(true);
    expect(m('orders/*', 'orders/eu/fr')).toBe(false);
    expect(m('orders/**', 'orders/eu/fr')).toBe(true);
    expect(m('orders**', 'orders')).toBe(true);
    expect(m('orders**', 'ordersx/y')).toBe(true);
    expect(m('*x', 'aaax')).toBe(true);
    expect(m('*x', 'aaa/x')).toBe(false);
    expect(m('a*b*c', 'axxbyyc')).toBe(true);
    expect(m('a*b*c', 'axxbyy')).toBe(false);
    expect(m('exact', 'exact')).toBe(true);
    expect(m('exact', 'exactly')).toBe(false);
  });

  it('a wildcard request is granted only when the pattern covers every name it stands for', () => {
    expect(m('orders/*', 'orders/*')).toBe(true);
    expect(m('orders/**', 'orders/*')).toBe(true);
    expect(m('orders/**', 'orders/**')).toBe(true);
    expect(m('orders/*', 'orders/**')).toBe(false); // ** reaches deeper than *
    expect(m('a*', 'a**')).toBe(false);
    expect(m('?', '*')).toBe(false);
    expect(m('*', '?')).toBe(true);
    expect(m('ab*', 'a*')).toBe(false);
    expect(m('orders/eu', 'orders/*')).toBe(false); // a literal never absorbs a wildcard
  });

  it('stays fast on adversarial names (no backtracking)', () => {
    const p = new GlobPattern(`${'*a'.repeat(100)}b`);
    const name = 'a'.repeat(4000);
    const t0 = performance.now();
    expect(p.matches(name)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('refuses bad patterns with a reason', () => {
    expect(patternProblem('')).toMatch(/empty/);
    expect(patternProblem('/a')).toMatch(/must not start with/);
    expect(patternProblem('a b')).toMatch(/printable ASCII/);
    expect(patternProblem('a***')).toMatch(/\*\*\*/);
    expect(patternProblem('x'.repeat(513))).toMatch(/at most 512/);
    expect(patternProblem('orders/**')).toBeNull();
  });
});
