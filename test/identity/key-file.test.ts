import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPublicJsonFile, readSecretFile, writePublicJsonFile, writeSecretFile } from '../../src/identity/key-file.js';
import { tempDir, thrown } from './helpers.js';

const SECRET = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + (i % 16));
const SECRET_HEX = Buffer.from(SECRET).toString('hex');
const mode = (path: string): number => statSync(path).mode & 0o777;

describe('writeSecretFile / readSecretFile', () => {
  it('round-trips a key, mode 0600, in a new 0700 folder', () => {
    const dir = join(tempDir(), 'a', 'b');
    const path = join(dir, 'node.key');
    writeSecretFile(path, 'hearsay-ed25519-secret', SECRET);
    expect(mode(path)).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ kind: 'hearsay-ed25519-secret', key: SECRET_HEX });
    expect(readSecretFile(path, 'hearsay-ed25519-secret')).toEqual(SECRET);
  });

  it('leaves no temporary file behind', () => {
    const dir = tempDir();
    writeSecretFile(join(dir, 'k'), 'hearsay-x25519-secret', SECRET);
    expect(readdirSync(dir)).toEqual(['k']);
  });

  it('refuses to overwrite without force, naming the file and --force; the old key survives', () => {
    const path = join(tempDir(), 'node.key');
    writeSecretFile(path, 'hearsay-ed25519-secret', SECRET);
    const other = new Uint8Array(32).fill(7);
    const e = thrown(() => writeSecretFile(path, 'hearsay-ed25519-secret', other));
    expect(e.code).toBe('HEARSAY_ERR_KEY_EXISTS');
    expect(e.message).toContain(path);
    expect(e.message).toContain('--force');
    expect(readSecretFile(path, 'hearsay-ed25519-secret')).toEqual(SECRET);
    expect(readdirSync(join(path, '..'))).toEqual(['node.key']);
  });

  it('overwrites with force, keeping mode 0600', () => {
    const path = join(tempDir(), 'node.key');
    writeSecretFile(path, 'hearsay-ed25519-secret', SECRET);
    const other = new Uint8Array(32).fill(7);
    writeSecretFile(path, 'hearsay-ed25519-secret', other, { force: true });
    expect(readSecretFile(path, 'hearsay-ed25519-secret')).toEqual(other);
    expect(mode(path)).toBe(0o600);
  });

  it('refuses a key readable by group or others, naming the file and the chmod fix', () => {
    const path = join(tempDir(), 'node.key');
    writeSecretFile(path, 'hearsay-ed25519-secret', SECRET);
    for (const m of [0o644, 0o640, 0o604, 0o660, 0o602]) {
      chmodSync(path, m);
      const e = thrown(() => readSecretFile(path, 'hearsay-ed25519-secret'));
      expect(e.code, m.toString(8)).toBe('HEARSAY_ERR_KEY_PERMISSIONS');
      expect(e.message).toContain(path);
      expect(e.message).toContain(`chmod 600 ${path}`);
      expect(e.message).not.toContain(SECRET_HEX);
    }
    chmodSync(path, 0o400);
    expect(readSecretFile(path, 'hearsay-ed25519-secret')).toEqual(SECRET);
  });

  it('reports a missing file as HEARSAY_ERR_KEY_FILE naming it', () => {
    const path = join(tempDir(), 'missing.key');
    const e = thrown(() => readSecretFile(path, 'hearsay-ed25519-secret'));
    expect(e.code).toBe('HEARSAY_ERR_KEY_FILE');
    expect(e.message).toContain(path);
    expect(e.message).toContain('does not exist');
  });

  it('refuses malformed files without echoing their content', () => {
    const dir = tempDir();
    const cases: Array<[string, string, RegExp]> = [
      ['not json', `{"kind": "hearsay-ed25519-secret", "key": "${SECRET_HEX}"`, /not valid JSON/],
      ['array', `["${SECRET_HEX}"]`, /not a JSON object/],
      ['wrong kind', JSON.stringify({ kind: 'hearsay-x25519-secret', key: SECRET_HEX }), /kind hearsay-x25519-secret, expected hearsay-ed25519-secret/],
      ['no kind', JSON.stringify({ key: SECRET_HEX }), /kind none/],
      ['short key', JSON.stringify({ kind: 'hearsay-ed25519-secret', key: SECRET_HEX.slice(0, 62) }), /64 hex characters/],
      ['long key', JSON.stringify({ kind: 'hearsay-ed25519-secret', key: `${SECRET_HEX}00` }), /64 hex characters/],
      ['not hex', JSON.stringify({ kind: 'hearsay-ed25519-secret', key: `${SECRET_HEX.slice(0, 62)}zz` }), /64 hex characters/],
      ['key not a string', JSON.stringify({ kind: 'hearsay-ed25519-secret', key: 5 }), /64 hex characters/],
      ['too large', JSON.stringify({ kind: 'hearsay-ed25519-secret', key: SECRET_HEX, pad: 'x'.repeat(5000) }), /larger than/],
    ];
    for (const [label, content, pattern] of cases) {
      const path = join(dir, `${label.replace(/ /g, '-')}.key`);
      writeFileSync(path, content, { mode: 0o600 });
      const e = thrown(() => readSecretFile(path, 'hearsay-ed25519-secret'));
      expect(e.code, label).toBe('HEARSAY_ERR_KEY_FILE');
      expect(e.message, label).toMatch(pattern);
      expect(e.message, label).toContain(path);
      expect(e.message, label).not.toContain(SECRET_HEX.slice(0, 16));
      expect(e.cause, label).toBeUndefined();
    }
  });

  it('refuses a folder in place of a file', () => {
    const dir = tempDir();
    const e = thrown(() => readSecretFile(dir, 'hearsay-ed25519-secret'));
    expect(e.code).toBe('HEARSAY_ERR_KEY_FILE');
    expect(e.message).toContain('not a regular file');
  });

  it('refuses to write a key of the wrong length or kind (our own bug)', () => {
    const path = join(tempDir(), 'k');
    expect(thrown(() => writeSecretFile(path, 'hearsay-ed25519-secret', new Uint8Array(31))).code).toBe('HEARSAY_ERR_INVALID_ARGUMENT');
    expect(thrown(() => writeSecretFile(path, 'nope' as 'hearsay-ed25519-secret', SECRET)).code).toBe('HEARSAY_ERR_INVALID_ARGUMENT');
    expect(existsSync(path)).toBe(false);
  });
});

describe('public JSON files', () => {
  it('are written 0644, atomically, and refuse to overwrite without force', () => {
    const path = join(tempDir(), 'x', 'authority.pub');
    writePublicJsonFile(path, { kind: 'k', a: 1 });
    expect(mode(path)).toBe(0o644);
    expect(readPublicJsonFile(path)).toEqual({ kind: 'k', a: 1 });
    expect(thrown(() => writePublicJsonFile(path, { kind: 'k', a: 2 })).code).toBe('HEARSAY_ERR_KEY_EXISTS');
    writePublicJsonFile(path, { kind: 'k', a: 3 }, { force: true });
    expect(readPublicJsonFile(path)).toEqual({ kind: 'k', a: 3 });
  });

  it('are read without the permission rule (they are public)', () => {
    const path = join(tempDir(), 'p.json');
    writeFileSync(path, '{"kind":"k"}', { mode: 0o644 });
    chmodSync(path, 0o644);
    expect(readPublicJsonFile(path)).toEqual({ kind: 'k' });
  });
});
