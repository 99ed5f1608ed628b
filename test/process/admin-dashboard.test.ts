/**
 * The dashboard in a real browser: three node processes on 127.0.0.1 (one serving its admin API on
 * an ephemeral port), a rogue process sending envelopes with invalid signatures, and Debian's
 * headless Chromium (driven by playwright-core, fresh empty profile). The page must render the
 * members, a score chart and the penalty events, make no request outside the node, log no error
 * (a CSP violation would), keep the token out of the URL, and work from the token form too. A
 * screenshot is saved in test/artifacts/ for a human to look at.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPolicyFile } from '../../src/cli/policy.js';
import { ProcessCluster } from '../../src/cli/process-cluster.js';
import { nodeDir } from '../../src/cli/provision.js';
import { generateToken } from '../../src/policy/tokens.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ROGUE_JS = fileURLToPath(new URL('../../dist/sim/rogue-process.js', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

let cluster: ProcessCluster;
let rogue: ChildProcess | null = null;
let context: BrowserContext | null = null;
let profile = '';
let admin = '';
const viewer = generateToken();
const operator = generateToken();

beforeAll(async () => {
  cluster = new ProcessCluster({ nodes: [{ name: 'h1', tenant: 'ops' }, { name: 'h2', tenant: 'ops' }, { name: 'h3', tenant: 'acme' }, { name: 'liar', tenant: 'ops' }] });
  const policy = join(cluster.dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({
    kind: 'hearsay-policy', cluster: 'demo', version: 1, tenants: ['ops', 'acme'], roles: ['member'],
    grants: [{ tenants: ['*'], roles: ['*'], allow: ['read', 'write'], keys: ['k/**'] }],
    tokens: [
      { name: 'dashboard', sha256: viewer.sha256, scope: 'cluster', access: 'read-only' },
      { name: 'operator', sha256: operator.sha256, scope: 'cluster', access: 'admin' },
    ],
  }));
  const { out } = signPolicyFile({ keysDir: cluster.keysDir, file: policy });
  let seed: string | null = null;
  for (const name of ['h1', 'h2', 'h3']) {
    const n = cluster.node(name);
    cluster.writeConfig(n, seed === null ? [] : [seed], 0, name === 'h1' ? { policyFile: out, adminEnabled: true, adminPort: 0 } : {});
    await n.start();
    seed ??= n.address;
  }
  admin = cluster.node('h1').admin!;
  expect(await cluster.waitForMembership(3, 20_000)).toBeGreaterThanOrEqual(0);
  rogue = fork(ROGUE_JS, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const r = rogue;
  process.once('exit', () => r.kill('SIGKILL'));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('rogue did not start')), 10_000);
    r.on('message', (m: { type?: string; message?: string }) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve();
      } else if (m.type === 'error') reject(new Error(`rogue: ${m.message}`));
    });
  });
  r.send({
    type: 'start', identityDir: nodeDir(cluster.keysDir, 'liar'), authorityPublicKey: cluster.authorityPublicKey, cluster: 'demo', attack: 'invalid-signature', intervalMs: 300,
    targets: ['h1', 'h2', 'h3'].map((h) => ({ address: cluster.node(h).address, certFile: join(nodeDir(cluster.keysDir, h), 'node.cert') })),
  });
  await ready;
  // An operator's ban, so the events show an admin action too.
  const res = await fetch(`${admin}/v1/peers/${cluster.node('h3').id}/ban`, {
    method: 'POST', headers: { authorization: `Bearer ${operator.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'dashboard test', durationMs: 60_000 }),
  });
  expect(res.status).toBe(200);
  profile = mkdtempSync(join(tmpdir(), 'hearsay-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 1000 } });
}, 90_000);

afterAll(async () => {
  await context?.close();
  rogue?.kill('SIGKILL');
  await cluster?.destroy();
  if (profile !== '') rmSync(profile, { recursive: true, force: true });
});

/** Records requests and console errors of a page. */
function watch(page: Page): { requests: string[]; errors: string[] } {
  const seen = { requests: [] as string[], errors: [] as string[] };
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') seen.errors.push(m.text());
  });
  page.on('pageerror', (e) => seen.errors.push(e.message));
  return seen;
}

describe('the dashboard in headless Chromium', () => {
  it('renders members, a score chart and penalty events from a token in the fragment', async () => {
    const page = await context!.newPage();
    const seen = watch(page);
    await page.goto(`${admin}/dashboard#token=${encodeURIComponent(viewer.token)}`);
    // Members and health.
    await page.waitForFunction(() => document.querySelectorAll('#members-body tr').length >= 3, undefined, { timeout: 15_000 });
    const members = await page.locator('#members-body').innerText();
    for (const name of ['h1 (this node)', 'h2', 'h3']) expect(members).toContain(name);
    expect(members).toContain('acme');
    expect(await page.locator('#node-name').innerText()).toBe('h1 (ops)');
    expect(await page.locator('#health .badge').innerText()).toMatch(/^(healthy|degraded|partitioned)$/);
    // The chart: a line per watched peer once two samples exist, the liar's among them.
    await page.waitForFunction(() => document.querySelectorAll('#score-chart polyline').length >= 1, undefined, { timeout: 15_000 });
    const liarId = await page.evaluate(async (token) => {
      const r = await fetch('/v1/peers?limit=10', { headers: { authorization: `Bearer ${token}` } });
      const j = (await r.json()) as { peers: Array<{ id: string; name: string | null }> };
      return j.peers.find((p) => p.name === 'liar')?.id ?? null;
    }, viewer.token);
    expect(liarId).not.toBeNull();
    await page.waitForSelector(`#score-chart polyline[data-peer="${liarId}"]`, { timeout: 15_000 });
    expect(await page.locator('#score-chart line.threshold').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#score-legend').innerText()).toContain('liar');
    // Penalty events: the liar's invalid signatures and the operator's ban.
    await page.waitForFunction(() => (document.querySelector('#events-body')?.textContent ?? '').includes('invalid-signature'), undefined, { timeout: 15_000 });
    const events = await page.locator('#events-body').innerText();
    expect(events).toContain('liar');
    expect(events).toContain('dashboard test (by operator)');
    expect(await page.locator('#peers-body').innerText()).toMatch(/liar/);
    // The token left the address bar for sessionStorage; nothing went anywhere but the node.
    expect(new URL(page.url()).hash).toBe('');
    expect(await page.evaluate(() => sessionStorage.getItem('hearsay-admin-token'))).toBe(viewer.token);
    const origin = new URL(admin).origin;
    expect(seen.requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
    expect(seen.requests.some((u) => u.includes('token='))).toBe(false);
    expect(seen.errors).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('asks for a token, refuses a wrong one, and opens with a right one', async () => {
    const page = await context!.newPage();
    const seen = watch(page);
    await page.goto(`${admin}/dashboard`);
    // A fresh tab: sessionStorage is per tab, so the form shows.
    await page.waitForSelector('#login:not(.hidden)');
    expect(await page.locator('#content').isHidden()).toBe(true);
    await page.fill('#token', 'hst_wrong');
    await page.click('#login button');
    await page.waitForFunction(() => (document.querySelector('#status')?.textContent ?? '').includes('HEARSAY_ERR_ADMIN_UNAUTHENTICATED'), undefined, { timeout: 10_000 });
    expect(await page.locator('#content').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('hearsay-admin-token'))).toBeNull();
    await page.fill('#token', viewer.token);
    await page.click('#login button');
    await page.waitForFunction(() => document.querySelectorAll('#members-body tr').length >= 3, undefined, { timeout: 10_000 });
    expect(await page.locator('#login').isHidden()).toBe(true);
    expect(await page.inputValue('#token')).toBe('');
    await page.click('#logout');
    await page.waitForSelector('#login:not(.hidden)');
    expect(await page.evaluate(() => sessionStorage.getItem('hearsay-admin-token'))).toBeNull();
    // The 401 of the wrong token shows as a console error of the failed fetch; nothing else may.
    expect(seen.errors.filter((e) => !/401/.test(e))).toEqual([]);
    await page.close();
  }, 60_000);
});
