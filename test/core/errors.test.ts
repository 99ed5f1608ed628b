import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HearsayError, isHearsayError } from '../../src/errors.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error codes', () => {
  it('every code is documented, prefixed and unique', () => {
    const codes = Object.keys(ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [code, doc] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^HEARSAY_ERR_[A-Z_]+$/);
      expect(doc.length).toBeGreaterThan(20);
    }
  });

  it('every code thrown in the source is in the table', () => {
    const used = new Set<string>();
    for (const f of sourceFiles(join(import.meta.dirname, '../../src'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/'(HEARSAY_ERR_[A-Z_]+)'/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(5);
    for (const code of used) expect(Object.keys(ERROR_CODES), code).toContain(code);
  });

  it('HearsayError carries its code and is recognised', () => {
    const e = new HearsayError('HEARSAY_ERR_CONFIG', 'bad');
    expect(e.code).toBe('HEARSAY_ERR_CONFIG');
    expect(isHearsayError(e, 'HEARSAY_ERR_CONFIG')).toBe(true);
    expect(isHearsayError(e, 'HEARSAY_ERR_USAGE')).toBe(false);
    expect(isHearsayError(new Error('x'))).toBe(false);
  });
});
