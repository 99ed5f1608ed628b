import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initAuthority, loadAuthority, readAuthorityPublic } from '../../src/identity/authority.js';
import { createBackend } from '../../src/identity/backends.js';
import { tempDir, thrown } from './helpers.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('authority', () => {
  it('init writes authority.key (0600) and authority.pub, and returns the public key', () => {
    const dir = join(tempDir(), 'authority');
    const pub = initAuthority(dir, { cluster: 'prod', now: Date.UTC(2025, 0, 2) });
    expect(pub.length).toBe(32);
    expect(statSync(join(dir, 'authority.key')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const doc = JSON.parse(readFileSync(join(dir, 'authority.pub'), 'utf8'));
    expect(doc).toEqual({ kind: 'hearsay-authority-public', cluster: 'prod', publicKey: hex(pub), created: '2025-01-02T00:00:00.000Z' });
    const loaded = loadAuthority(dir);
    expect(hex(loaded.publicKey)).toBe(hex(pub));
    expect(loaded.cluster).toBe('prod');
    expect(hex(createBackend('noble').publicKeyOf(loaded.seed))).toBe(hex(pub));
  });

  it('refuses to overwrite without force, keeping the old key; force replaces it', () => {
    const dir = tempDir();
    const first = initAuthority(dir, { cluster: 'prod' });
    const before = readFileSync(join(dir, 'authority.key'));
    const e = thrown(() => initAuthority(dir, { cluster: 'prod' }));
    expect(e.code).toBe('HEARSAY_ERR_KEY_EXISTS');
    expect(e.message).toContain(join(dir, 'authority.key'));
    expect(e.message).toContain('--force');
    expect(readFileSync(join(dir, 'authority.key')).equals(before)).toBe(true);
    const second = initAuthority(dir, { cluster: 'prod', force: true });
    expect(hex(second)).not.toBe(hex(first));
    expect(hex(loadAuthority(dir).publicKey)).toBe(hex(second));
  });

  it('refuses when only authority.pub exists, writing nothing', () => {
    const dir = tempDir();
    initAuthority(dir, { cluster: 'prod' });
    const pubBefore = readFileSync(join(dir, 'authority.pub'));
    rmSync(join(dir, 'authority.key'));
    const e = thrown(() => initAuthority(dir, { cluster: 'prod' }));
    expect(e.code).toBe('HEARSAY_ERR_KEY_EXISTS');
    expect(e.message).toContain('authority.pub');
    expect(existsSync(join(dir, 'authority.key'))).toBe(false);
    expect(readFileSync(join(dir, 'authority.pub')).equals(pubBefore)).toBe(true);
  });

  it('refuses a bad cluster name', () => {
    expect(thrown(() => initAuthority(tempDir(), { cluster: 'Prod!' })).code).toBe('HEARSAY_ERR_USAGE');
  });

  it('loadAuthority refuses a key that does not match authority.pub', () => {
    const a = tempDir();
    const b = tempDir();
    initAuthority(a, { cluster: 'prod' });
    initAuthority(b, { cluster: 'prod' });
    writeFileSync(join(a, 'authority.pub'), readFileSync(join(b, 'authority.pub')));
    const e = thrown(() => loadAuthority(a));
    expect(e.code).toBe('HEARSAY_ERR_KEY_FILE');
    expect(e.message).toContain('does not match');
  });

  it('loadAuthority applies the permission rule to authority.key', () => {
    const dir = tempDir();
    initAuthority(dir, { cluster: 'prod' });
    chmodSync(join(dir, 'authority.key'), 0o644);
    const e = thrown(() => loadAuthority(dir));
    expect(e.code).toBe('HEARSAY_ERR_KEY_PERMISSIONS');
    expect(e.message).toContain(`chmod 600 ${join(dir, 'authority.key')}`);
  });

  it('readAuthorityPublic refuses malformed files, naming the field', () => {
    const dir = tempDir();
    const path = join(dir, 'authority.pub');
    const cases: Array<[object, RegExp]> = [
      [{ kind: 'x' }, /"kind"/],
      [{ kind: 'hearsay-authority-public', cluster: 'A B', publicKey: '00'.repeat(32) }, /"cluster"/],
      [{ kind: 'hearsay-authority-public', cluster: 'prod', publicKey: '00'.repeat(31) }, /"publicKey"/],
    ];
    for (const [doc, pattern] of cases) {
      writeFileSync(path, JSON.stringify(doc));
      const e = thrown(() => readAuthorityPublic(dir));
      expect(e.code).toBe('HEARSAY_ERR_KEY_FILE');
      expect(e.message).toMatch(pattern);
    }
  });
});
