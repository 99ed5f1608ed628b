import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

describe('SECURITY.md', () => {
  it('names only tests that exist, by file and title', () => {
    const doc = readFileSync(join(root, 'SECURITY.md'), 'utf8');
    const refs = [...doc.matchAll(/`(test\/[\w/.-]+\.test\.ts)` › "([^"]+)"/g)].map((m) => ({ file: m[1]!, title: m[2]! }));
    expect(refs.length).toBeGreaterThan(30);
    const missing: string[] = [];
    for (const { file, title } of refs) {
      const path = join(root, file);
      if (!existsSync(path)) missing.push(`${file} (no such file)`);
      else if (!readFileSync(path, 'utf8').includes(title)) missing.push(`${file} › "${title}"`);
    }
    expect(missing).toEqual([]);
  });
});
