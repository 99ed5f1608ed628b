/**
 * Provisioning commands end to end on real temporary folders, through the command table that
 * src/cli/main.ts dispatches to; and the strict flag parser they use (src/cli/args.ts).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.js';
import { provisionCommands, provisionCluster } from '../../src/cli/provision.js';
import { createBackend } from '../../src/identity/backends.js';
import { loadNodeIdentity } from '../../src/identity/node-identity.js';
import { readAuthorityPublic } from '../../src/identity/authority.js';
import { parseManifest } from '../../src/identity/cluster-manifest.js';

const made: string[] = [];
afterEach(() => {
  while (made.length > 0) rmSync(made.pop()!, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hearsay-provision-'));
  made.push(dir);
  return dir;
}

interface Ran {
  code: number;
  out: string[];
  err: string[];
}

async function run(command: string, argv: string[]): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  const cmd = provisionCommands[command];
  if (cmd === undefined) throw new Error(`no command ${command}`);
  const code = await cmd.run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** Every file under `dir` with its bytes, to compare whole trees. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else files.set(p.slice(dir.length), readFileSync(p).toString('hex'));
    }
  };
  walk(dir);
  return files;
}

const MANIFEST = {
  cluster: 'prod',
  nodes: [
    { name: 'seed-1', tenant: 'ops', roles: ['seed'] },
    { name: 'web-1', tenant: 'acme', roles: ['subscriber', 'publisher'] },
    { name: 'web-2', tenant: 'acme', roles: ['publisher'], validDays: 30 },
  ],
};

function writeManifest(dir: string, doc: unknown = MANIFEST): string {
  const path = join(dir, 'cluster.json');
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

const node = createBackend('node');

describe('provision-cluster', () => {
  it('creates the authority and every node; each identity loads and verifies', async () => {
    const dir = tempDir();
    const keys = join(dir, 'keys');
    const r = await run('provision-cluster', ['--manifest', writeManifest(dir), '--keys', keys]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/authority created/);
    expect(r.out.filter((l) => l.startsWith('issued'))).toHaveLength(3);
    const authority = readAuthorityPublic(join(keys, 'authority'));
    expect(authority.cluster).toBe('prod');
    expect(r.out.join('\n')).toContain(Buffer.from(authority.publicKey).toString('hex'));
    for (const n of MANIFEST.nodes) {
      const nodeDir = join(keys, 'nodes', n.name);
      expect(statSync(join(nodeDir, 'node.key')).mode & 0o777).toBe(0o600);
      expect(statSync(join(nodeDir, 'node.kx.key')).mode & 0o777).toBe(0o600);
      const id = loadNodeIdentity(nodeDir, { authorityPublicKey: authority.publicKey, cluster: 'prod', now: Date.now(), backend: node });
      expect(id.cert).toMatchObject({ name: n.name, tenant: n.tenant, roles: [...n.roles].sort() });
    }
    const web2 = loadNodeIdentity(join(keys, 'nodes', 'web-2'), { authorityPublicKey: authority.publicKey, cluster: 'prod', now: Date.now(), backend: node });
    expect(Math.round((web2.cert.notAfter - Date.now()) / 86_400_000)).toBe(30);
    expect(statSync(join(keys, 'authority', 'authority.key')).mode & 0o777).toBe(0o600);
  });

  it('re-running keeps every key byte-identical and reports "kept"', async () => {
    const dir = tempDir();
    const keys = join(dir, 'keys');
    const manifest = writeManifest(dir);
    expect((await run('provision-cluster', ['--manifest', manifest, '--keys', keys])).code).toBe(0);
    const before = snapshot(keys);
    const again = await run('provision-cluster', ['--manifest', manifest, '--keys', keys]);
    expect(again.code).toBe(0);
    expect(again.err).toEqual([]);
    expect(again.out.join('\n')).toMatch(/authority kept/);
    expect(again.out.filter((l) => l.startsWith('kept'))).toHaveLength(3);
    expect(snapshot(keys)).toEqual(before);
  });

  it('--force replaces node keys but never the authority', async () => {
    const dir = tempDir();
    const keys = join(dir, 'keys');
    const manifest = writeManifest(dir);
    await run('provision-cluster', ['--manifest', manifest, '--keys', keys]);
    const before = snapshot(keys);
    const r = await run('provision-cluster', ['--manifest', manifest, '--keys', keys, '--force']);
    expect(r.code).toBe(0);
    expect(r.out.filter((l) => l.startsWith('replaced'))).toHaveLength(3);
    const after = snapshot(keys);
    for (const file of ['/authority/authority.key', '/authority/authority.pub']) expect(after.get(file)).toBe(before.get(file));
    for (const n of MANIFEST.nodes) {
      for (const f of ['node.key', 'node.kx.key', 'node.cert']) {
        const file = `/nodes/${n.name}/${f}`;
        expect(after.get(file), file).toBeDefined();
        expect(after.get(file), file).not.toBe(before.get(file));
      }
    }
  });

  it('adds new manifest nodes and keeps the old ones; warns when a kept certificate differs from the manifest', async () => {
    const dir = tempDir();
    const keys = join(dir, 'keys');
    await run('provision-cluster', ['--manifest', writeManifest(dir), '--keys', keys]);
    const before = snapshot(keys);
    const grown = { ...MANIFEST, nodes: [...MANIFEST.nodes.slice(0, 2), { ...MANIFEST.nodes[2]!, tenant: 'globex' }, { name: 'web-3', tenant: 'acme' }] };
    const r = await run('provision-cluster', ['--manifest', writeManifest(dir, grown), '--keys', keys]);
    expect(r.code).toBe(0);
    expect(r.out.filter((l) => l.startsWith('kept'))).toHaveLength(3);
    expect(r.out.filter((l) => l.startsWith('issued'))).toHaveLength(1);
    expect(r.err.join('\n')).toMatch(/web-2: its certificate has tenant acme, the manifest says globex/);
    const after = snapshot(keys);
    for (const [file, bytes] of before) expect(after.get(file), file).toBe(bytes);
  });

  it('certifies existing keys when only node.cert is missing', async () => {
    const dir = tempDir();
    const keys = join(dir, 'keys');
    const manifest = writeManifest(dir);
    await run('provision-cluster', ['--manifest', manifest, '--keys', keys]);
    const nodeKey = readFileSync(join(keys, 'nodes', 'web-1', 'node.key'));
    rmSync(join(keys, 'nodes', 'web-1', 'node.cert'));
    const r = await run('provision-cluster', ['--manifest', manifest, '--keys', keys]);
    expect(r.code).toBe(0);
    expect(r.out.some((l) => l.startsWith('certified') && l.includes('web-1'))).toBe(true);
    expect(readFileSync(join(keys, 'nodes', 'web-1', 'node.key')).equals(nodeKey)).toBe(true);
    const authority = readAuthorityPublic(join(keys, 'authority'));
    expect(() => loadNodeIdentity(join(keys, 'nodes', 'web-1'), { authorityPublicKey: authority.publicKey, cluster: 'prod', now: Date.now(), backend: node })).not.toThrow();
  });

  it('refuses an incomplete node folder before writing anything', async () => {
    const dir = tempDir();
    const keys = join(dir, 'keys');
    const manifest = writeManifest(dir);
    await run('provision-cluster', ['--manifest', manifest, '--keys', keys]);
    rmSync(join(keys, 'nodes', 'web-2', 'node.kx.key'));
    rmSync(join(keys, 'nodes', 'seed-1'), { recursive: true });
    const r = await run('provision-cluster', ['--manifest', manifest, '--keys', keys]);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/HEARSAY_ERR_KEY_EXISTS/);
    expect(r.err.join('\n')).toContain(join(keys, 'nodes', 'web-2'));
    expect(existsSync(join(keys, 'nodes', 'seed-1'))).toBe(false);
  });

  it('refuses a manifest for another cluster than the existing authority', async () => {
    const dir = tempDir();
    const keys = join(dir, 'keys');
    await run('provision-cluster', ['--manifest', writeManifest(dir), '--keys', keys]);
    const r = await run('provision-cluster', ['--manifest', writeManifest(dir, { ...MANIFEST, cluster: 'staging' }), '--keys', keys, '--force']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/manifest cluster staging does not match the authority .* \(cluster prod\).*HEARSAY_ERR_MANIFEST/);
  });

  it('a bad manifest gives an error naming the path inside the document, and writes nothing', async () => {
    const dir = tempDir();
    const keys = join(dir, 'keys');
    const bad = { cluster: 'prod', nodes: [MANIFEST.nodes[0], MANIFEST.nodes[1], { name: 'web-2', tenant: 'Not A Tenant' }] };
    const r = await run('provision-cluster', ['--manifest', writeManifest(dir, bad), '--keys', keys]);
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/nodes\[2\]\.tenant .*HEARSAY_ERR_MANIFEST/);
    expect(existsSync(keys)).toBe(false);
  });

  it('refuses a node key that group or others can read when certifying it', async () => {
    const dir = tempDir();
    const keys = join(dir, 'keys');
    const manifest = writeManifest(dir);
    await run('provision-cluster', ['--manifest', manifest, '--keys', keys]);
    rmSync(join(keys, 'nodes', 'web-1', 'node.cert'));
    chmodSync(join(keys, 'nodes', 'web-1', 'node.key'), 0o644);
    const r = await run('provision-cluster', ['--manifest', manifest, '--keys', keys]);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain(`chmod 600 ${join(keys, 'nodes', 'web-1', 'node.key')}`);
  });

  it('is usable as a function, with an injected clock', () => {
    const keys = join(tempDir(), 'keys');
    const now = Date.UTC(2030, 0, 1);
    const result = provisionCluster({ keysDir: keys, manifest: parseManifest(MANIFEST), now });
    expect(result.authority.created).toBe(true);
    expect(result.nodes.map((n) => n.status)).toEqual(['issued', 'issued', 'issued']);
    expect(result.nodes.every((n) => /^[0-9a-f]{64}$/.test(n.fingerprint))).toBe(true);
  });
});

describe('authority init and node issue', () => {
  it('authority init prints the public key and refuses to overwrite without --force', async () => {
    const keys = join(tempDir(), 'keys');
    const first = await run('authority init', ['--keys', keys, '--cluster', 'prod']);
    expect(first.code).toBe(0);
    const pub = Buffer.from(readAuthorityPublic(join(keys, 'authority')).publicKey).toString('hex');
    expect(first.out.join('\n')).toContain(`authority public key: ${pub}`);
    const again = await run('authority init', ['--keys', keys, '--cluster', 'prod']);
    expect(again.code).toBe(1);
    expect(again.err.join('\n')).toMatch(/authority\.key already exists.*--force.*HEARSAY_ERR_KEY_EXISTS/);
    const forced = await run('authority init', ['--keys', keys, '--cluster', 'prod', '--force']);
    expect(forced.code).toBe(0);
    expect(Buffer.from(readAuthorityPublic(join(keys, 'authority')).publicKey).toString('hex')).not.toBe(pub);
  });

  it('node issue writes a node folder, refuses to overwrite it, and replaces it with --force', async () => {
    const keys = join(tempDir(), 'keys');
    await run('authority init', ['--keys', keys, '--cluster', 'prod']);
    const args = ['--keys', keys, '--name', 'edge-1', '--tenant', 'acme', '--roles', 'publisher,subscriber', '--valid-days', '7'];
    const r = await run('node issue', args);
    expect(r.code).toBe(0);
    expect(r.out[0]).toContain('issued edge-1');
    const authority = readAuthorityPublic(join(keys, 'authority'));
    const dir = join(keys, 'nodes', 'edge-1');
    const id = loadNodeIdentity(dir, { authorityPublicKey: authority.publicKey, cluster: 'prod', now: Date.now(), backend: node });
    expect(id.cert.roles).toEqual(['publisher', 'subscriber']);
    expect(Math.round((id.cert.notAfter - Date.now()) / 86_400_000)).toBe(7);
    const before = snapshot(dir);
    const again = await run('node issue', args);
    expect(again.code).toBe(1);
    expect(again.err.join('\n')).toMatch(/node\.key already exists.*--force/);
    expect(snapshot(dir)).toEqual(before);
    const forced = await run('node issue', [...args, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.out[0]).toContain('replaced edge-1');
    expect(snapshot(dir).get('/node.key')).not.toBe(before.get('/node.key'));
  });

  it('node issue without an authority says how to create one', async () => {
    const keys = join(tempDir(), 'keys');
    const r = await run('node issue', ['--keys', keys, '--name', 'a', '--tenant', 't']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/hearsay authority init/);
  });

  it('usage errors exit 2 and name the flag; --help prints the usage', async () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['authority init', [], /--cluster is required/],
      ['authority init', ['--cluster', 'prod', '--bogus'], /unknown flag --bogus/],
      ['node issue', ['--name', 'a', '--tenant', 't', '--valid-days', '0'], /--valid-days must be an integer from 1 to 3650/],
      ['node issue', ['--name', 'a', '--tenant', 't', '--roles', 'ok,NO'], /--roles: each value/],
      ['node issue', ['--name', 'A', '--tenant', 't'], /--name must be/],
      ['provision-cluster', ['--keys'], /--keys needs a value/],
    ];
    for (const [command, argv, pattern] of cases) {
      const r = await run(command, argv);
      expect(r.code, `${command} ${argv.join(' ')}`).toBe(2);
      expect(r.err[0]).toMatch(pattern);
      expect(r.err[0]).toContain('HEARSAY_ERR_USAGE');
      expect(r.err[1]).toMatch(/^usage: hearsay /);
    }
    const help = await run('provision-cluster', ['--help']);
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toMatch(/--manifest FILE/);
    for (const [name, cmd] of Object.entries(provisionCommands)) {
      expect(cmd.usage.startsWith(`usage: hearsay ${name}`), name).toBe(true);
      expect(cmd.summary.length, name).toBeGreaterThan(10);
    }
  });
});

describe('parseArgs', () => {
  const spec = {
    name: { type: 'string', description: 'a name', required: true, pattern: /^[a-z]+$/, patternText: 'lowercase letters' },
    dir: { type: 'string', description: 'a folder', default: 'keys' },
    note: { type: 'string', description: 'optional' },
    days: { type: 'int', description: 'days', default: 365, min: 1, max: 10 ** 4 },
    roles: { type: 'list', description: 'roles', maxItems: 3, pattern: /^[a-z]+$/ },
    force: { type: 'boolean', description: 'force' },
  } as const;

  it('parses flags in both forms, applies defaults and types', () => {
    const v = parseArgs(['--name', 'abc', '--days=12', '--roles', 'a,b', '--force'], spec);
    expect(v).toEqual({ name: 'abc', dir: 'keys', note: undefined, days: 12, roles: ['a', 'b'], force: true });
    const w = parseArgs(['--name=x', '--roles='], spec);
    expect(w).toEqual({ name: 'x', dir: 'keys', note: undefined, days: 365, roles: [], force: false });
  });

  it('refuses bad input with HEARSAY_ERR_USAGE naming the flag', () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /--name is required/],
      [['--name', 'a', '--nmae', 'b'], /unknown flag --nmae/],
      [['--name'], /--name needs a value/],
      [['--name', '--force'], /--name needs a value/],
      [['--name', 'a', '--name', 'b'], /--name is given more than once/],
      [['--name', 'A1'], /--name must be lowercase letters/],
      [['--name', 'a', '--days', '12x'], /--days must be an integer/],
      [['--name', 'a', '--days', '0'], /--days must be an integer from 1 to 10000/],
      [['--name', 'a', '--days', '1e3'], /--days must be an integer/],
      [['--name', 'a', '--force=yes'], /--force takes no value/],
      [['--name', 'a', '--roles', 'a,b,c,d'], /--roles takes at most 3/],
      [['--name', 'a', '--roles', 'a,,b'], /--roles: each value/],
      [['--name', 'a', 'extra'], /unexpected argument "extra"/],
      [['--name', ''], /--name must not be empty/],
      [['--name', 'a', '--constructor', 'x'], /unknown flag --constructor/],
    ];
    for (const [argv, pattern] of cases) {
      let error: unknown;
      try {
        parseArgs(argv, spec);
      } catch (e) {
        error = e;
      }
      expect(error, argv.join(' ')).toMatchObject({ code: 'HEARSAY_ERR_USAGE', message: expect.stringMatching(pattern) });
    }
  });
});

describe('scripts/provision-cluster and the hearsay dispatcher', () => {
  it('hearsay provision-cluster dispatches to this command', async () => {
    const { main } = await import('../../src/cli/main.js');
    const dir = tempDir();
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['provision-cluster', '--manifest', writeManifest(dir), '--keys', join(dir, 'keys')], { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out.filter((l) => l.startsWith('issued'))).toHaveLength(3);
  });

  it('is an executable wrapper that runs the provision-cluster command of dist/cli/main.js', () => {
    const path = new URL('../../scripts/provision-cluster', import.meta.url).pathname;
    expect(statSync(path).mode & 0o111).not.toBe(0);
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toContain('node "$main" provision-cluster "$@"');
  });
});
