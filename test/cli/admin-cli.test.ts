/**
 * The admin commands against a real node process: its admin API on a real port of 127.0.0.1, a
 * signed policy with tokens, two tenants. Tables, --json, the overrides, and the errors an
 * operator meets (wrong token, too little access, another tenant's peer, node down, bad usage),
 * each with its exit code.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { signPolicyFile } from '../../src/cli/policy.js';
import { ProcessCluster } from '../../src/cli/process-cluster.js';
import { generateToken } from '../../src/policy/tokens.js';

const MAIN_JS = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

let cluster: ProcessCluster;
let admin = '';
const tokens = { opsAdmin: generateToken(), viewer: generateToken(), acmeAdmin: generateToken() };
const files: Record<keyof typeof tokens | 'wrong' | 'loose', string> = { opsAdmin: '', viewer: '', acmeAdmin: '', wrong: '', loose: '' };
const ids: Record<string, string> = {};

beforeAll(async () => {
  cluster = new ProcessCluster({ nodes: [{ name: 'ops1', tenant: 'ops' }, { name: 'ops2', tenant: 'ops' }, { name: 'acme1', tenant: 'acme' }] });
  const policy = join(cluster.dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({
    kind: 'hearsay-policy', cluster: 'demo', version: 1, tenants: ['ops', 'acme'], roles: ['member'],
    grants: [{ tenants: ['*'], roles: ['*'], allow: ['read', 'write'], keys: ['k/**'] }],
    tokens: [
      { name: 'ops-admin', sha256: tokens.opsAdmin.sha256, scope: 'cluster', access: 'admin' },
      { name: 'viewer', sha256: tokens.viewer.sha256, scope: 'cluster', access: 'read-only' },
      { name: 'acme-admin', sha256: tokens.acmeAdmin.sha256, scope: 'tenant:acme', access: 'admin' },
    ],
  }));
  const { out } = signPolicyFile({ keysDir: cluster.keysDir, file: policy });
  let seed: string | null = null;
  for (const n of cluster.nodes) {
    cluster.writeConfig(n, seed === null ? [] : [seed], 0, n.name === 'ops1' ? { policyFile: out, adminEnabled: true, adminPort: 0 } : {});
    await n.start();
    seed ??= n.address;
    ids[n.name] = n.id;
  }
  admin = cluster.node('ops1').admin!;
  for (const k of Object.keys(tokens) as Array<keyof typeof tokens>) {
    files[k] = join(cluster.dir, `${k}.token`);
    writeFileSync(files[k], `${tokens[k].token}\n`, { mode: 0o600 });
  }
  files.wrong = join(cluster.dir, 'wrong.token');
  writeFileSync(files.wrong, generateToken().token, { mode: 0o600 });
  files.loose = join(cluster.dir, 'loose.token');
  writeFileSync(files.loose, tokens.viewer.token);
  chmodSync(files.loose, 0o644);
  expect(await cluster.waitForMembership(3, 20_000)).toBeGreaterThanOrEqual(0);
}, 60_000);

afterAll(async () => {
  await cluster?.destroy();
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const as = (who: keyof typeof files): string[] => ['--admin', admin, '--token-file', files[who]];

describe('hearsay admin commands against a real node', () => {
  it('the node reports its admin address, on 127.0.0.1 and an ephemeral port', () => {
    expect(admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(admin).not.toBe('http://127.0.0.1:7401');
    expect(cluster.node('ops2').admin).toBeNull();
  });

  it('members and peers: a table, or the API\'s JSON', async () => {
    const m = await run('members', ...as('viewer'));
    expect(m.code, m.err).toBe(0);
    expect(m.out.split('\n')[0]).toMatch(/^NAME\s+TENANT\s+STATE\s+ADDRESS\s+ROLES\s+ID$/);
    expect(m.out).toMatch(/^ops1 \*\s+ops\s+alive\s+127\.0\.0\.1:\d+/m);
    expect(m.out).toMatch(/^acme1\s+acme\s+alive/m);
    expect(m.out).toContain('3 member(s)');
    const j = await run('members', '--json', ...as('viewer'));
    expect(JSON.parse(j.out).members.map((x: { name: string }) => x.name).sort()).toEqual(['acme1', 'ops1', 'ops2']);
    const p = await run('peers', ...as('viewer'));
    expect(p.code, p.err).toBe(0);
    expect(p.out.split('\n')[0]).toMatch(/^NAME\s+ID\s+TENANT\s+SCORE\s+LEVEL\s+BAN\s+LAST SEEN$/);
    expect(p.out).toMatch(/^\d+ of \d+ peer\(s\)/m);
  });

  it('ban, peer, unban and reset, by member name, with the reason and token name in the audit log', async () => {
    const ban = await run('ban', 'acme1', '--reason', 'cli test ban', '--for', '30m', ...as('opsAdmin'));
    expect(ban.code, ban.err).toBe(0);
    expect(ban.out).toMatch(/^banned [0-9a-f]{12} until \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(30m\): cli test ban \(by ops-admin\)$/);
    const peer = await run('peer', 'acme1', ...as('viewer'));
    expect(peer.code, peer.err).toBe(0);
    expect(peer.out).toContain(`peer      ${ids.acme1}`);
    expect(peer.out).toMatch(/^name\s+acme1 \(tenant acme\)/m);
    expect(peer.out).toMatch(/^score\s+.*\(banned\)/m);
    expect(peer.out).toMatch(/^ban\s+admin: cli test ban \(by ops-admin\); until .* \((29m\d+s|30m) left\)$/m);
    expect(peer.out).toMatch(/^TIME\s+TYPE\s+OFFENSE\s+SCORE\s+DETAIL$/m);
    expect(peer.out).toMatch(/ ban .*cli test ban \(by ops-admin\)/);
    const banned = JSON.parse((await run('peers', '--min-level', 'banned', '--json', ...as('viewer'))).out);
    expect(banned.peers.map((x: { id: string }) => x.id)).toEqual([ids.acme1]);
    const unban = await run('unban', ids.acme1!, '--reason', 'cli test over', ...as('opsAdmin'));
    expect(unban.out).toBe(`unbanned ${ids.acme1!.slice(0, 12)}`);
    expect((await run('unban', 'acme1', '--reason', 'again', ...as('opsAdmin'))).out).toBe(`${ids.acme1!.slice(0, 12)} was not banned`);
    const reset = await run('reset', 'acme1', '--reason', 'clean slate', '--json', ...as('opsAdmin'));
    expect(reset.code, reset.err).toBe(0);
    expect(JSON.parse(reset.out)).toEqual({ peer: ids.acme1, reset: true });
    const ev = await run('evidence', ...as('viewer'));
    expect(ev.code, ev.err).toBe(0);
    expect(ev.out).toMatch(/^ORIGIN\s+KIND\s+SLOT\s+RECEIVED\s+REPORTER\s+PROOF\n0 proof\(s\)$/);
  });

  it('errors: wrong token 4, read-only token 5, another tenant\'s peer 6, node down 3, bad usage 2', async () => {
    const wrong = await run('members', ...as('wrong'));
    expect(wrong.code).toBe(4);
    expect(wrong.err).toMatch(/HEARSAY_ERR_ADMIN_UNAUTHENTICATED/);
    const ro = await run('ban', 'acme1', '--reason', 'r', '--for', '1h', ...as('viewer'));
    expect(ro.code).toBe(5);
    expect(ro.err).toMatch(/needs a token with admin access.*\[HEARSAY_ERR_ADMIN_FORBIDDEN\]/);
    // A tenant token sees its tenant only: ops2 is not even a name it can resolve.
    const tenantMembers = await run('members', ...as('acmeAdmin'));
    expect(tenantMembers.out).toMatch(/^acme1\s/m);
    expect(tenantMembers.out).not.toMatch(/ops[12]/);
    const other = await run('ban', 'ops2', '--reason', 'r', '--for', '1h', ...as('acmeAdmin'));
    expect(other.code).toBe(6);
    expect(other.err).toMatch(/HEARSAY_ERR_ADMIN_NOT_FOUND/);
    const byId = await run('peer', ids.ops2!, ...as('acmeAdmin'));
    expect(byId.code).toBe(6);
    const port = await closedPort();
    const down = await run('members', '--admin', `http://127.0.0.1:${port}`, '--token-file', files.viewer);
    expect(down.code).toBe(3);
    expect(down.err).toMatch(/ECONNREFUSED.*\[HEARSAY_ERR_ADMIN_UNREACHABLE\]/);
    for (const argv of [['ban', 'acme1', '--reason', 'r', '--for', '10y'], ['ban', 'acme1', '--reason', 'r', '--for', '400d'], ['ban', 'acme1', '--for', '1h'], ['ban', '--reason', 'r', '--for', '1h'],
      ['peer', 'not a name!'], ['members', 'extra'], ['members', '--token', 'hst_x'], ['members', '--admin', 'ftp://x']]) {
      const r = await run(...argv, ...(argv.includes('--admin') ? [] : ['--admin', admin]), '--token-file', files.viewer);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(/HEARSAY_ERR_USAGE/);
    }
    const loose = await run('members', '--admin', admin, '--token-file', files.loose);
    expect(loose.code).toBe(1);
    expect(loose.err).toMatch(/chmod 600.*\[HEARSAY_ERR_KEY_PERMISSIONS\]/);
  });

  it('as a process: HEARSAY_ADMIN and HEARSAY_TOKEN from the environment; the token is never printed', () => {
    const env = { ...process.env, HEARSAY_ADMIN: admin, HEARSAY_TOKEN: tokens.viewer.token };
    const r = spawnSync(process.execPath, [MAIN_JS, 'members'], { env, encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^acme1\s+acme\s+alive/m);
    const denied = spawnSync(process.execPath, [MAIN_JS, 'reset', 'acme1', '--reason', 'r'], { env, encoding: 'utf8', timeout: 20_000 });
    expect(denied.status).toBe(5);
    const none = spawnSync(process.execPath, [MAIN_JS, 'members'], { env: { ...env, HEARSAY_TOKEN: '' }, encoding: 'utf8', timeout: 20_000 });
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/HEARSAY_TOKEN/);
    for (const x of [r, denied, none]) expect(x.stdout + x.stderr).not.toContain(tokens.viewer.token);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
