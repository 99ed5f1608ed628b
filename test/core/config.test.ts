import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASE_CONFIG, configFields, loadConfig, profileDefaults, resolveConfig } from '../../src/config.js';
import { HearsayError } from '../../src/errors.js';

const key = 'ab'.repeat(32);

function errorOf(fn: () => unknown): HearsayError {
  try {
    fn();
  } catch (e) {
    return e as HearsayError;
  }
  throw new Error('expected an error');
}

describe('config', () => {
  it('fills defaults from the profile and freezes the result', () => {
    const c = resolveConfig({ authorityPublicKey: key });
    expect(c.fanout).toBe(BASE_CONFIG.fanout);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.seeds)).toBe(true);
    const local = resolveConfig({ authorityPublicKey: key, profile: 'local' });
    expect(local.probeIntervalMs).toBeLessThan(c.probeIntervalMs);
    const wan = resolveConfig({ authorityPublicKey: key, profile: 'wan' });
    expect(wan.probeIntervalMs).toBeGreaterThan(c.probeIntervalMs);
  });

  it('names the field and the allowed range in every error', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ fanout: 0 }, /"fanout".*integer from 1 to 16.*got 0/],
      [{ fanout: 2.5 }, /"fanout".*integer/],
      [{ fanout: '3' }, /"fanout".*got "3"/],
      [{ bindHost: 'a b' }, /"bindHost"/],
      [{ seeds: ['127.0.0.1'] }, /"seeds\[0\]".*host:port/],
      [{ seeds: ['127.0.0.1:99999'] }, /"seeds\[0\]"/],
      [{ signatureBackend: 'fast' }, /"signatureBackend".*node, noble/],
      [{ adminEnabled: 'yes' }, /"adminEnabled".*true or false/],
      [{ outboundPeerShare: 2 }, /"outboundPeerShare".*0 to 1/],
      [{ fanuot: 3 }, /"fanuot".*not a known field/],
      [{ probeTimeoutMs: 900, probeIntervalMs: 500 }, /"probeTimeoutMs".*less than probeIntervalMs/],
      [{ authorityPublicKey: 'xyz' }, /"authorityPublicKey".*64 lowercase hex/],
    ];
    for (const [fields, re] of cases) {
      const e = errorOf(() => resolveConfig({ authorityPublicKey: key, ...fields }));
      expect(e.code).toBe('HEARSAY_ERR_CONFIG');
      expect(e.message).toMatch(re);
    }
    expect(errorOf(() => resolveConfig({})).message).toMatch(/authorityPublicKey.*required/);
    expect(errorOf(() => resolveConfig([])).code).toBe('HEARSAY_ERR_CONFIG');
  });

  it('every field has a default in every profile and a documented reason', () => {
    for (const p of ['lan', 'wan', 'local'] as const) {
      const d = profileDefaults(p) as unknown as Record<string, unknown>;
      for (const f of configFields()) {
        expect(d[f.field], `${p}.${f.field}`).not.toBeUndefined();
        expect(f.reason.length).toBeGreaterThan(0);
      }
    }
  });

  it('loads a file, resolving paths relative to it, and reports unreadable or invalid files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearsay-config-'));
    const file = join(dir, 'node.json');
    writeFileSync(file, JSON.stringify({ authorityPublicKey: key, identityDir: 'keys/n1', dataDir: 'data' }));
    const c = loadConfig(file);
    expect(c.identityDir).toBe(join(dir, 'keys/n1'));
    expect(c.dataDir).toBe(join(dir, 'data'));
    writeFileSync(file, '{ not json');
    expect(errorOf(() => loadConfig(file)).code).toBe('HEARSAY_ERR_CONFIG_FILE');
    expect(errorOf(() => loadConfig(join(dir, 'missing.json'))).message).toMatch(/missing\.json/);
  });
});
