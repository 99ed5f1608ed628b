/**
 * The real UDP+TCP transport, on loopback only. Waits are bounded polls on counters or events,
 * never fixed sleeps that pass by luck.
 */
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isHearsayError } from '../../src/errors.js';
import { createNetTransport, type NetTransport, type NetTransportOptions } from '../../src/transport/net-transport.js';

const open: NetTransport[] = [];
const rawSockets: Socket[] = [];

afterEach(async () => {
  for (const s of rawSockets.splice(0)) s.destroy();
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function started(overrides: Partial<NetTransportOptions> = {}): Promise<NetTransport> {
  const t = createNetTransport({ host: '127.0.0.1', port: 0, maxPacketBytes: 1400, maxFrameBytes: 65_536, ...overrides });
  open.push(t);
  await t.start();
  return t;
}

/** Polls `predicate` every 5 ms for at most `limitMs`; a bounded wait for asynchronous socket events. */
async function waitFor(predicate: () => boolean, limitMs = 2000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function rawConnect(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => resolve(s));
    s.on('error', reject);
    rawSockets.push(s);
  });
}

function closed(s: Socket): Promise<{ data: number }> {
  return new Promise((resolve) => {
    let data = 0;
    s.on('data', (c: Buffer) => (data += c.length));
    s.on('error', () => undefined);
    if (s.destroyed) resolve({ data });
    else s.on('close', () => resolve({ data }));
  });
}

function frameHeader(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

/** Whether this host can bind ::1 at all (some containers have no IPv6 loopback). */
async function canBindIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp6');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(0, '::1', () => s.close(() => resolve(true)));
  });
}
const ipv6 = await canBindIpv6Loopback();

describe('NetTransport: packets (UDP)', () => {
  it('binds UDP and TCP on the same port and round-trips a packet', async () => {
    const a = await started();
    const b = await started();
    expect(a.address).toBe(`127.0.0.1:${a.port}`);
    expect(a.port).toBeGreaterThan(0);
    const got: Array<{ bytes: number[]; from: string }> = [];
    b.onPacket((bytes, from) => {
      got.push({ bytes: [...bytes], from });
      b.send(from, new Uint8Array([42]));
    });
    const replies: number[][] = [];
    a.onPacket((bytes) => replies.push([...bytes]));
    a.send(b.address, new Uint8Array([1, 2, 3]));
    await waitFor(() => replies.length === 1);
    expect(got).toEqual([{ bytes: [1, 2, 3], from: a.address }]);
    expect(replies).toEqual([[42]]);
    expect(a.stats).toMatchObject({ packetsSent: 1, bytesSent: 3, packetsReceived: 1, bytesReceived: 1, packetsDropped: 0 });
    // The TCP half answers on the very same port number.
    b.onRequest((req) => req);
    expect([...(await a.request(b.address, new Uint8Array([7]), 1000))]).toEqual([7]);
  });

  it('copies on send: mutating the buffer right after send does not change what is sent', async () => {
    const a = await started();
    const b = await started();
    const got: number[][] = [];
    b.onPacket((bytes) => got.push([...bytes]));
    const buf = new Uint8Array([1, 1, 1]);
    a.send(b.address, buf);
    buf.fill(9);
    await waitFor(() => got.length === 1);
    expect(got).toEqual([[1, 1, 1]]);
  });

  it('drops and counts oversized, unparsable, wrong-family and not-open sends without throwing', async () => {
    const a = await started({ maxPacketBytes: 600 });
    const b = await started();
    let received = 0;
    b.onPacket(() => received++);
    expect(() => a.send(b.address, new Uint8Array(601))).not.toThrow();
    a.send('not an address', new Uint8Array(1));
    a.send('[::1]:9', new Uint8Array(1));
    a.send(b.address, new Uint8Array(600));
    await waitFor(() => received === 1);
    expect(a.stats.dropped).toMatchObject({ oversize_out: 1, bad_address: 2 });
    expect(a.stats.packetsDropped).toBe(3);
    expect(a.stats.packetsSent).toBe(1);

    const idle = createNetTransport({ host: '127.0.0.1', port: 0, maxPacketBytes: 600, maxFrameBytes: 65_536 });
    idle.send(b.address, new Uint8Array(1));
    await a.close();
    a.send(b.address, new Uint8Array(1));
    expect(idle.stats.dropped.not_open).toBe(1);
    expect(a.stats.dropped.not_open).toBe(1);
  });

  it('drops an oversized incoming datagram before the handler', async () => {
    const b = await started({ maxPacketBytes: 600 });
    const sizes: number[] = [];
    b.onPacket((bytes) => sizes.push(bytes.length));
    const raw = createSocket('udp4');
    try {
      await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
      raw.send(Buffer.alloc(601), b.port, '127.0.0.1');
      raw.send(Buffer.alloc(600), b.port, '127.0.0.1');
      await waitFor(() => b.stats.dropped.oversize_in === 1 && sizes.length === 1);
    } finally {
      raw.close();
    }
    expect(sizes).toEqual([600]);
    expect(b.stats.packetsDropped).toBe(1);
    expect(b.stats.packetsReceived).toBe(1);
  });

  it('survives a packet handler that throws, and counts it', async () => {
    const a = await started();
    const b = await started();
    const seen: number[] = [];
    b.onPacket((bytes) => {
      seen.push(bytes[0]!);
      if (bytes[0] === 1) throw new Error('poisoned packet');
    });
    a.send(b.address, new Uint8Array([1]));
    await waitFor(() => b.stats.dropped.handler_error === 1);
    a.send(b.address, new Uint8Array([2]));
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([1, 2]);
  });

  // One case for both kinds of host, so nothing is reported as skipped: where ::1 exists it must
  // work; where it does not, start() must fail cleanly with HEARSAY_ERR_TRANSPORT.
  it('works over IPv6 loopback ([::1]) for packets and requests, or refuses cleanly without it', async () => {
    if (!ipv6) {
      const t = createNetTransport({ host: '::1', port: 0, maxPacketBytes: 1400, maxFrameBytes: 65_536 });
      open.push(t);
      expect(isHearsayError(await errorOf(t.start()), 'HEARSAY_ERR_TRANSPORT')).toBe(true);
      return;
    }
    const a = await started({ host: '::1' });
    const b = await started({ host: '::1' });
    expect(b.address).toBe(`[::1]:${b.port}`);
    const from: string[] = [];
    b.onPacket((_bytes, f) => from.push(f));
    b.onRequest((req) => new Uint8Array([req[0]! + 1]));
    a.send(b.address, new Uint8Array([5]));
    await waitFor(() => from.length === 1);
    expect(from).toEqual([a.address]);
    expect([...(await a.request(b.address, new Uint8Array([5]), 1000))]).toEqual([6]);

    // An IPv6 socket sending to an IPv4 peer never throws: ::1 is IPv6-only, so the OS refuses the
    // mapped destination and the send is counted (on "::" it would be delivered).
    const v4 = await started();
    let received = 0;
    v4.onPacket(() => received++);
    expect(() => a.send(v4.address, new Uint8Array([1]))).not.toThrow();
    await waitFor(() => a.stats.dropped.send_error + received === 1);
    expect(a.stats.dropped.bad_address).toBe(0);
  });
});

describe('NetTransport: requests (TCP)', () => {
  it('round-trips a request and counts both sides', async () => {
    const a = await started();
    const b = await started();
    const froms: string[] = [];
    b.onRequest(async (req, from) => {
      froms.push(from);
      return new Uint8Array([...req].reverse());
    });
    const res = await a.request(b.address, new Uint8Array([1, 2, 3]), 1000);
    expect([...res]).toEqual([3, 2, 1]);
    expect(froms[0]).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(a.stats).toMatchObject({ requestsSent: 1, requestsFailed: 0 });
    expect(b.stats.requestsReceived).toBe(1);
  });

  it('carries a frame of exactly maxFrameBytes both ways', async () => {
    const a = await started();
    const b = await started();
    b.onRequest((req) => req);
    const big = new Uint8Array(65_536).fill(3);
    const res = await a.request(b.address, big, 5000);
    expect(res.length).toBe(65_536);
    expect(res.every((x) => x === 3)).toBe(true);
  });

  it('refuses to send an oversized or empty request, and rejects a bad address', async () => {
    const a = await started();
    for (const [to, bytes] of [
      [a.address, new Uint8Array(65_537)],
      [a.address, new Uint8Array(0)],
      ['nope', new Uint8Array(1)],
    ] as const) {
      const e = await errorOf(a.request(to, bytes, 1000));
      expect(isHearsayError(e, 'HEARSAY_ERR_TRANSPORT')).toBe(true);
    }
    expect(a.stats.requestsFailed).toBe(3);
    expect(isHearsayError(await errorOf(a.request(a.address, new Uint8Array(1), Infinity)), 'HEARSAY_ERR_INVALID_ARGUMENT')).toBe(true);
  });

  it('closes a connection whose header declares more than maxFrameBytes, without reading the body', async () => {
    // The server deadline is long, so a quick close can only come from the header check.
    const b = await started({ maxFrameBytes: 65_536, streamTimeoutMs: 30_000 });
    let calls = 0;
    b.onRequest(() => {
      calls++;
      return new Uint8Array([1]);
    });
    const s = await rawConnect(b.port);
    const done = closed(s);
    const t0 = Date.now();
    s.write(frameHeader(65_537));
    const { data } = await done;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(data).toBe(0);
    expect(calls).toBe(0);
    expect(b.stats.dropped.bad_frame).toBe(1);
  });

  it('closes a connection whose header declares an empty frame', async () => {
    const b = await started({ streamTimeoutMs: 30_000 });
    const s = await rawConnect(b.port);
    const done = closed(s);
    s.write(frameHeader(0));
    await done;
    expect(b.stats.dropped.bad_frame).toBe(1);
  });

  it('rejects a response larger than its own maxFrameBytes', async () => {
    const a = await started({ maxFrameBytes: 100 });
    const b = await started({ maxFrameBytes: 65_536 });
    b.onRequest(() => new Uint8Array(101));
    const e = await errorOf(a.request(b.address, new Uint8Array(1), 2000));
    expect(isHearsayError(e, 'HEARSAY_ERR_TRANSPORT')).toBe(true);
    expect((e as Error).message).toContain(b.address);
    expect((e as Error).message).toContain('frame_too_large');
  });

  it('rejects with TIMEOUT within timeoutMs when the server never answers', async () => {
    const a = await started();
    const b = await started({ streamTimeoutMs: 30_000 });
    b.onRequest(() => new Promise<Uint8Array>(() => undefined));
    const t0 = Date.now();
    const e = await errorOf(a.request(b.address, new Uint8Array([1]), 250));
    const elapsed = Date.now() - t0;
    expect(isHearsayError(e, 'HEARSAY_ERR_TIMEOUT')).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(240);
    expect(elapsed).toBeLessThan(250 + 250);
    expect(a.stats.requestsFailed).toBe(1);
  });

  it('rejects with TIMEOUT when the peer accepts TCP but never reads (raw server)', async () => {
    // A bare TCP listener that holds connections open and never writes: the worst peer.
    const { createServer } = await import('node:net');
    const held: Socket[] = [];
    const server = createServer((s) => held.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const a = await started();
      const port = (server.address() as { port: number }).port;
      const t0 = Date.now();
      const e = await errorOf(a.request(`127.0.0.1:${port}`, new Uint8Array([1]), 200));
      expect(isHearsayError(e, 'HEARSAY_ERR_TIMEOUT')).toBe(true);
      expect(Date.now() - t0).toBeLessThan(200 + 250);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('cuts a silent client at the server deadline', async () => {
    const b = await started({ streamTimeoutMs: 300 });
    const s = await rawConnect(b.port);
    const t0 = Date.now();
    await closed(s);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
    expect(b.stats.dropped.deadline).toBe(1);
    await waitFor(() => b.stats.connectionsOpen === 0);
  });

  it('cuts a slowloris client that trickles a frame at the total deadline', async () => {
    const b = await started({ streamTimeoutMs: 300 });
    let calls = 0;
    b.onRequest(() => {
      calls++;
      return null;
    });
    const s = await rawConnect(b.port);
    const done = closed(s);
    s.write(frameHeader(1000));
    const trickle = setInterval(() => {
      if (!s.destroyed) s.write(Buffer.from([0]));
    }, 20);
    try {
      await done;
    } finally {
      clearInterval(trickle);
    }
    expect(b.stats.dropped.deadline).toBe(1);
    expect(calls).toBe(0);
  });

  it('closes connections beyond maxConnections at once, and counts them', async () => {
    const b = await started({ maxConnections: 2, streamTimeoutMs: 30_000 });
    const sockets = await Promise.all([rawConnect(b.port), rawConnect(b.port), rawConnect(b.port)]);
    const closes = sockets.map((s, i) => closed(s).then(() => i));
    // Whichever of the three the server accepted last is the excess one; it is closed without waiting for the deadline.
    const first = await Promise.race(closes);
    expect(first).toBeGreaterThanOrEqual(0);
    await waitFor(() => b.stats.connectionsOpen === 2);
    expect(b.stats.dropped.connection_cap).toBe(1);
    expect(sockets.filter((s) => s.destroyed)).toHaveLength(1);
    // A slot frees when a connection ends; the next one is accepted.
    const survivor = sockets.find((s) => !s.destroyed)!;
    survivor.destroy();
    await waitFor(() => b.stats.connectionsOpen === 1);
    b.onRequest(() => new Uint8Array([1]));
    const a = await started();
    expect([...(await a.request(b.address, new Uint8Array([1]), 1000))]).toEqual([1]);
  });

  it('a request handler that throws or answers null closes the connection: fast TRANSPORT, not a timeout', async () => {
    const a = await started();
    const b = await started({ streamTimeoutMs: 30_000 });
    let mode: 'throw' | 'reject' | 'null' | 'ok' = 'throw';
    b.onRequest(async () => {
      if (mode === 'throw') throw new Error('handler bug');
      if (mode === 'reject') return Promise.reject(new Error('async handler bug'));
      return mode === 'null' ? null : new Uint8Array([9]);
    });
    for (const m of ['throw', 'reject', 'null'] as const) {
      mode = m;
      const t0 = Date.now();
      const e = await errorOf(a.request(b.address, new Uint8Array([1]), 10_000));
      expect(isHearsayError(e, 'HEARSAY_ERR_TRANSPORT')).toBe(true);
      expect((e as Error).message).toContain(b.address);
      expect(Date.now() - t0).toBeLessThan(2000);
    }
    expect(b.stats.dropped.handler_error).toBe(2);
    mode = 'ok';
    expect([...(await a.request(b.address, new Uint8Array([1]), 1000))]).toEqual([9]);
  });

  it('rejects with TRANSPORT naming the address when nothing listens', async () => {
    const b = await started();
    const address = b.address;
    await b.close();
    const a = await started();
    const e = await errorOf(a.request(address, new Uint8Array([1]), 2000));
    expect(isHearsayError(e, 'HEARSAY_ERR_TRANSPORT')).toBe(true);
    expect((e as Error).message).toContain(address);
  });
});

describe('NetTransport: lifecycle', () => {
  it('close() rejects pending requests, closes everything, and frees the port for a new bind', async () => {
    const a = await started();
    const b = await started({ streamTimeoutMs: 30_000 });
    b.onRequest(() => new Promise<Uint8Array>(() => undefined));
    const pending = errorOf(a.request(b.address, new Uint8Array([1]), 30_000));
    await waitFor(() => b.stats.requestsReceived === 1);
    const t0 = Date.now();
    await a.close();
    const e = await pending;
    expect(isHearsayError(e, 'HEARSAY_ERR_TRANSPORT')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(isHearsayError(await errorOf(a.request(b.address, new Uint8Array([1]), 100)), 'HEARSAY_ERR_TRANSPORT')).toBe(true);

    const port = b.port;
    await b.close();
    await b.close(); // idempotent
    const again = await started({ port });
    expect(again.port).toBe(port);
    again.onRequest(() => new Uint8Array([2]));
    const c = await started();
    expect([...(await c.request(again.address, new Uint8Array([1]), 1000))]).toEqual([2]);
  });

  it('start() fails with TRANSPORT naming the address when an explicit port is taken', async () => {
    const a = await started();
    const clash = createNetTransport({ host: '127.0.0.1', port: a.port, maxPacketBytes: 1400, maxFrameBytes: 65_536 });
    open.push(clash);
    const e = await errorOf(clash.start());
    expect(isHearsayError(e, 'HEARSAY_ERR_TRANSPORT')).toBe(true);
    expect((e as Error).message).toContain(String(a.port));
  });

  it('uses advertiseHost in its address', async () => {
    const t = await started({ host: '127.0.0.1', advertiseHost: 'node-1.example' });
    expect(t.address).toBe(`node-1.example:${t.port}`);
  });

  it('refuses invalid options at creation (our own mistake, thrown)', () => {
    expect(() => createNetTransport({ host: '127.0.0.1', port: 70000, maxPacketBytes: 1400, maxFrameBytes: 65_536 })).toThrow(/port/);
    expect(() => createNetTransport({ host: '127.0.0.1', port: 0, maxPacketBytes: 0, maxFrameBytes: 65_536 })).toThrow(/maxPacketBytes/);
    expect(() => createNetTransport({ host: '', port: 0, maxPacketBytes: 1400, maxFrameBytes: 65_536 })).toThrow(/host/);
  });
});
