/**
 * The node runs its admin API itself when adminEnabled: on a real port of 127.0.0.1, closed on
 * stop, and a start that cannot bind it fails cleanly (HEARSAY_ERR_ADMIN_LISTEN) with the node
 * stopped again.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isHearsayError } from '../../src/errors.js';
import { SimCluster } from '../../src/sim/sim-cluster.js';

let sim: SimCluster | null = null;
afterEach(async () => {
  await sim?.stopAll();
  sim = null;
});

describe('the admin API of a node', () => {
  it('listens when enabled, reports its address, and closes on stop', async () => {
    sim = new SimCluster({ seed: 3 });
    const off = sim.createNode({ name: 'off' });
    await off.start();
    expect(off.adminUrl).toBeNull();
    const on = sim.createNode({ name: 'on', config: { adminEnabled: true, adminPort: 0 } });
    await on.start();
    expect(on.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(on.adminPort).toBeGreaterThan(0);
    const url = on.adminUrl!;
    const doc = await fetch(`${url}/v1/openapi.json`);
    expect(doc.status).toBe(200);
    const members = await fetch(`${url}/v1/members`);
    expect(members.status).toBe(401);
    expect(members.headers.get('www-authenticate')).toBe('Bearer realm="hearsay"');
    // Malformed requests get our error format too: a URL that does not decode, and bytes that are not HTTP.
    const badUrl = await fetch(`${url}/v1/peers/%_x`);
    expect(badUrl.status).toBe(400);
    expect(await badUrl.json()).toEqual({ error: { code: 'HEARSAY_ERR_ADMIN_BAD_REQUEST', message: 'the URL is malformed' } });
    const raw = await rawExchange(on.adminPort!, 'NOT HTTP AT ALL\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(raw).toContain('"code":"HEARSAY_ERR_ADMIN_BAD_REQUEST"');
    await on.stop();
    expect(on.adminUrl).toBeNull();
    await expect(fetch(`${url}/v1/openapi.json`)).rejects.toThrow();
  });

  it('a port already in use fails the start with HEARSAY_ERR_ADMIN_LISTEN and leaves the node stopped', async () => {
    sim = new SimCluster({ seed: 4 });
    const first = sim.createNode({ name: 'first', config: { adminEnabled: true, adminPort: 0 } });
    await first.start();
    const second = sim.createNode({ name: 'second', config: { adminEnabled: true, adminPort: first.adminPort! } });
    const err = await second.start().then(() => null, (e: unknown) => e);
    expect(isHearsayError(err, 'HEARSAY_ERR_ADMIN_LISTEN')).toBe(true);
    expect((err as Error).message).toContain(`127.0.0.1:${first.adminPort}`);
    expect(second.isRunning).toBe(false);
    expect((await fetch(`${first.adminUrl}/v1/openapi.json`)).status).toBe(200);
  });
});

/** Writes raw bytes to 127.0.0.1:port and returns everything read until the server closes (bounded by 5 s). */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    const timer = setTimeout(() => socket.destroy(new Error('no answer')), 5000);
    socket.on('data', (d) => chunks.push(d));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('error', reject);
  });
}
