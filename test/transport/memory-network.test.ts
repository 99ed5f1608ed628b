/**
 * The in-memory network. Time only moves when a test advances the VirtualClock; randomness comes
 * from the network's seed, so every expectation here is exact or count-based, never timing-based.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { isHearsayError } from '../../src/errors.js';
import { MemoryNetwork, type MemoryNetworkOptions } from '../../src/transport/memory-network.js';
import type { MemoryTransport } from '../../src/transport/memory-transport.js';

function setup(opts: Partial<MemoryNetworkOptions> = {}): { clock: VirtualClock; net: MemoryNetwork } {
  const clock = new VirtualClock(0);
  return { clock, net: new MemoryNetwork({ clock, seed: 7, latencyMs: 10, ...opts }) };
}

async function nodes(net: MemoryNetwork, ...addresses: string[]): Promise<MemoryTransport[]> {
  const out = addresses.map((a) => net.createTransport(a));
  await Promise.all(out.map((t) => t.start()));
  return out;
}

/** Records every packet a transport receives, as [from, first byte]. */
function inbox(t: MemoryTransport): Array<[string, number]> {
  const got: Array<[string, number]> = [];
  t.onPacket((bytes, from) => got.push([from, bytes[0]!]));
  return got;
}

/** Settles a promise into a plain record, so a test can advance the clock and then inspect it. */
function track<T>(p: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const r: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  p.then(
    (value) => Object.assign(r, { state: 'resolved', value }),
    (error: unknown) => Object.assign(r, { state: 'rejected', error }),
  );
  return r;
}

/** Lets promise callbacks run (no time passes on any clock). */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('MemoryNetwork: packets', () => {
  it('delivers after exactly latencyMs, as a copy', async () => {
    const { clock, net } = setup({ latencyMs: 25 });
    const [a, b, c] = await nodes(net, 'a', 'b', 'c');
    const seenB: Uint8Array[] = [];
    const seenC: Uint8Array[] = [];
    b!.onPacket((bytes) => {
      seenB.push(bytes);
      bytes[0] = 99; // a receiver scribbling on its buffer must not reach anyone else
    });
    c!.onPacket((bytes) => seenC.push(bytes));
    const buf = new Uint8Array([1, 2]);
    a!.send('b', buf);
    a!.send('c', buf);
    buf[1] = 77; // nor may the sender, after send() returned
    clock.advance(24);
    expect(seenB).toHaveLength(0);
    clock.advance(1);
    expect(seenB).toHaveLength(1);
    expect([...seenC[0]!]).toEqual([1, 2]);
    expect([...buf]).toEqual([1, 77]);
  });

  it('same seed, same delivery order; jitter reorders; another seed orders differently', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const { clock, net } = setup({ seed, latencyMs: 5, jitterMs: 50 });
      const [a, b] = await nodes(net, 'a', 'b');
      const got = inbox(b!);
      for (let i = 0; i < 200; i++) a!.send('b', new Uint8Array([i]));
      clock.advance(56);
      return got.map(([, v]) => v);
    };
    const first = await run(1);
    expect(first).toHaveLength(200);
    expect(await run(1)).toEqual(first);
    expect(first).not.toEqual([...first].sort((x, y) => x - y)); // reordered
    expect(await run(2)).not.toEqual(first);
  });

  it('loses packets at lossRate (10,000 packets at 0.2: within ±2%), and the books balance', async () => {
    const { clock, net } = setup({ lossRate: 0.2 });
    const [a, b] = await nodes(net, 'a', 'b');
    let received = 0;
    b!.onPacket(() => received++);
    for (let i = 0; i < 10_000; i++) a!.send('b', new Uint8Array(10));
    clock.advance(10);
    const s = net.stats();
    expect(received).toBeGreaterThanOrEqual(7800);
    expect(received).toBeLessThanOrEqual(8200);
    expect(s.drops.loss).toBe(10_000 - received);
    expect(s.packetsSent + s.packetsDuplicated).toBe(s.packetsDelivered + s.packetsDropped);
    expect(net.statsFor('a')).toMatchObject({ packetsSent: 10_000, packetBytesSent: 100_000, packetsDropped: 10_000 - received });
    expect(net.statsFor('b')).toMatchObject({ packetsReceived: received, packetBytesReceived: received * 10 });
  });

  it('duplicates packets at duplicateRate, each copy separate', async () => {
    const { clock, net } = setup({ duplicateRate: 0.1, jitterMs: 3 });
    const [a, b] = await nodes(net, 'a', 'b');
    const buffers: Uint8Array[] = [];
    b!.onPacket((bytes) => buffers.push(bytes));
    for (let i = 0; i < 10_000; i++) a!.send('b', new Uint8Array([1]));
    clock.advance(20);
    const dups = net.stats().packetsDuplicated;
    expect(dups).toBeGreaterThanOrEqual(800);
    expect(dups).toBeLessThanOrEqual(1200);
    expect(buffers).toHaveLength(10_000 + dups);
    expect(new Set(buffers).size).toBe(buffers.length);
  });

  it('applies per-link loss in one direction only, and removes it', async () => {
    const { clock, net } = setup();
    const [a, b] = await nodes(net, 'a', 'b');
    const atB = inbox(b!);
    const atA = inbox(a!);
    net.setLinkLoss('a', 'b', 1);
    a!.send('b', new Uint8Array([1]));
    b!.send('a', new Uint8Array([2]));
    clock.advance(10);
    expect(atB).toEqual([]);
    expect(atA).toEqual([['b', 2]]);
    net.setLinkLoss('a', 'b', null);
    a!.send('b', new Uint8Array([3]));
    clock.advance(10);
    expect(atB).toEqual([['a', 3]]);
  });

  it('drops oversized packets at the sender and at a receiver with a smaller limit', async () => {
    const { clock, net } = setup({ maxPacketBytes: 100 });
    const [a, b] = await nodes(net, 'a', 'b');
    const small = net.createTransport('small', { maxPacketBytes: 50 });
    await small.start();
    const got = inbox(small);
    const gotB = inbox(b!);
    a!.send('b', new Uint8Array(101));
    a!.send('small', new Uint8Array(51));
    a!.send('small', new Uint8Array(50));
    clock.advance(10);
    expect(gotB).toEqual([]);
    expect(got).toHaveLength(1);
    expect(net.stats().drops.oversize).toBe(2);
    expect(a!.stats).toMatchObject({ packetsDropped: 1, packetsSent: 2 });
  });

  it('counts a throwing handler and keeps delivering', async () => {
    const { clock, net } = setup();
    const [a, b] = await nodes(net, 'a', 'b');
    const seen: number[] = [];
    b!.onPacket((bytes) => {
      seen.push(bytes[0]!);
      throw new Error('handler bug');
    });
    a!.send('b', new Uint8Array([1]));
    a!.send('b', new Uint8Array([2]));
    expect(() => clock.advance(10)).not.toThrow();
    expect(seen).toEqual([1, 2]);
    expect(net.stats().handlerErrors).toBe(2);
    expect(b!.stats.handlerErrors).toBe(2);
  });

  it('does not deliver to unknown, unstarted or closed transports, nor send from them', async () => {
    const { clock, net } = setup();
    const [a] = await nodes(net, 'a');
    const idle = net.createTransport('idle');
    const got = inbox(idle);
    a!.send('idle', new Uint8Array([1]));
    a!.send('nobody', new Uint8Array([1]));
    idle.send('a', new Uint8Array([1]));
    await a!.close();
    a!.send('idle', new Uint8Array([1]));
    clock.advance(10);
    expect(got).toEqual([]);
    expect(net.stats().drops).toMatchObject({ unreachable: 2, not_open: 2 });
  });

  it('assigns sim-N addresses and refuses a second running transport on one address', async () => {
    const { net } = setup();
    expect(net.createTransport().address).toBe('sim-1');
    expect(net.createTransport().address).toBe('sim-2');
    net.createTransport('sim-3');
    expect(net.createTransport().address).toBe('sim-4');
    expect(() => net.createTransport('sim-1')).toThrow(/in use/);
  });

  it('refuses invalid conditions (our own mistake)', () => {
    const { net } = setup();
    expect(() => net.configure({ lossRate: 1.5 })).toThrow(/lossRate/);
    expect(() => net.configure({ latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => net.configure({ jitterMs: Number.NaN })).toThrow(/jitterMs/);
    expect(() => net.configure({ lossRate: 0.3, duplicateRate: 2 })).toThrow(/duplicateRate/);
    expect(net.conditions().lossRate).toBe(0); // a refused call changed nothing
    net.configure({ lossRate: 0.5 });
    expect(net.conditions()).toEqual({ latencyMs: 10, jitterMs: 0, lossRate: 0.5, duplicateRate: 0 });
  });
});

describe('MemoryNetwork: faults', () => {
  it('partitions: listed groups are cut from each other; unlisted addresses form one group; heal() rejoins', async () => {
    const { clock, net } = setup();
    const ts = await nodes(net, 'a', 'b', 'c', 'd', 'e');
    const boxes = Object.fromEntries(ts.map((t) => [t.address, inbox(t)]));
    net.partition([['a', 'b'], ['c']]);
    const all = ['a', 'b', 'c', 'd', 'e'];
    const sendAll = (): void => {
      for (const t of ts) for (const to of all) if (to !== t.address) t.send(to, new Uint8Array([0]));
    };
    sendAll();
    clock.advance(10);
    const reached = (to: string): string[] => boxes[to]!.map(([from]) => from).sort();
    expect(reached('a')).toEqual(['b']);
    expect(reached('b')).toEqual(['a']);
    expect(reached('c')).toEqual([]);
    expect(reached('d')).toEqual(['e']); // d and e are unlisted: together
    expect(net.stats().drops.partition).toBe(20 - 4);

    // Nodes created later join the unlisted group.
    const [f] = await nodes(net, 'f');
    const atF = inbox(f!);
    ts[3]!.send('f', new Uint8Array([0]));
    ts[0]!.send('f', new Uint8Array([0]));
    clock.advance(10);
    expect(atF).toEqual([['d', 0]]);

    net.heal();
    for (const box of Object.values(boxes)) box.length = 0;
    sendAll();
    clock.advance(10);
    for (const to of all) expect(reached(to)).toHaveLength(4);
  });

  it('partition([[x]]) cuts one group off from everyone else, and refuses an address in two groups', async () => {
    const { clock, net } = setup();
    const [a, b, c, d] = await nodes(net, 'a', 'b', 'c', 'd');
    const atA = inbox(a!);
    const atC = inbox(c!);
    const atD = inbox(d!);
    net.partition([['a']]);
    b!.send('a', new Uint8Array([1]));
    b!.send('c', new Uint8Array([2]));
    clock.advance(10);
    expect(atA).toEqual([]);
    expect(atC).toEqual([['b', 2]]);
    expect(() => net.partition([['a'], ['a', 'b']])).toThrow(/two partition groups/);

    // A new partition replaces the old one: b, listed alone before, returns to the unlisted group with d.
    net.partition([['a'], ['b']]);
    net.partition([['a', 'c']]);
    b!.send('a', new Uint8Array([3]));
    b!.send('d', new Uint8Array([4]));
    c!.send('a', new Uint8Array([5]));
    clock.advance(10);
    expect(atA).toEqual([['c', 5]]);
    expect(atD).toEqual([['b', 4]]);
  });

  it('silence drops everything a node sends while it still receives', async () => {
    const { clock, net } = setup();
    const [a, b] = await nodes(net, 'a', 'b');
    const atA = inbox(a!);
    const atB = inbox(b!);
    net.silence('a');
    a!.send('b', new Uint8Array([1]));
    b!.send('a', new Uint8Array([2]));
    clock.advance(10);
    expect(atB).toEqual([]);
    expect(atA).toEqual([['b', 2]]);
    expect(net.stats().drops.silenced).toBe(1);
    expect(net.statsFor('a').packetsDropped).toBe(1);
    net.unsilence('a');
    a!.send('b', new Uint8Array([3]));
    clock.advance(10);
    expect(atB).toEqual([['a', 3]]);
  });

  it('isolate drops both directions until heal()', async () => {
    const { clock, net } = setup();
    const [a, b] = await nodes(net, 'a', 'b');
    const atA = inbox(a!);
    const atB = inbox(b!);
    net.isolate('a');
    a!.send('b', new Uint8Array([1]));
    b!.send('a', new Uint8Array([2]));
    clock.advance(10);
    expect([atA, atB]).toEqual([[], []]);
    expect(net.stats().drops.isolated).toBe(2);
    net.heal();
    b!.send('a', new Uint8Array([3]));
    clock.advance(10);
    expect(atA).toEqual([['b', 3]]);
  });

  it('crash stops sending and receiving, loses packets in flight; restart and re-create bring it back', async () => {
    const { clock, net } = setup();
    const [a, b] = await nodes(net, 'a', 'b');
    const atA = inbox(a!);
    const atB = inbox(b!);
    a!.send('b', new Uint8Array([1]));
    clock.advance(5);
    net.crash('b'); // the packet is still in flight
    clock.advance(5);
    b!.send('a', new Uint8Array([2]));
    a!.send('b', new Uint8Array([3]));
    clock.advance(10);
    expect([atA, atB]).toEqual([[], []]);
    expect(net.stats().drops.crashed).toBe(3);

    net.restart('b');
    a!.send('b', new Uint8Array([4]));
    clock.advance(10);
    expect(atB).toEqual([['a', 4]]);

    net.crash('b');
    const b2 = net.createTransport('b');
    await b2.start();
    const atB2 = inbox(b2);
    a!.send('b', new Uint8Array([5]));
    clock.advance(10);
    expect(atB2).toEqual([['a', 5]]);
    expect(atB).toHaveLength(1);
    expect(b!.state).toBe('closed');
  });
});

describe('MemoryNetwork: requests', () => {
  it('answers after a round trip of latency', async () => {
    const { clock, net } = setup({ latencyMs: 30 });
    const [a, b] = await nodes(net, 'a', 'b');
    b!.onRequest((req, from) => new Uint8Array([req[0]! + 1, from === 'a' ? 1 : 0]));
    const r = track(a!.request('b', new Uint8Array([41]), 1000));
    clock.advance(59);
    await flush();
    expect(r.state).toBe('pending');
    clock.advance(1);
    await flush();
    expect(r.state).toBe('resolved');
    expect([...r.value!]).toEqual([42, 1]);
    expect(net.stats()).toMatchObject({ requestsSent: 1, requestsDelivered: 1, responsesDelivered: 1, frameBytesSent: 3 });
    expect(net.statsFor('a')).toMatchObject({ requestsSent: 1, frameBytesSent: 1, frameBytesReceived: 2, bytesSent: 1 });
    expect(net.statsFor('b')).toMatchObject({ requestsReceived: 1, frameBytesSent: 2, bytesSent: 2 });
  });

  it('serves async handlers', async () => {
    const { clock, net } = setup();
    const [a, b] = await nodes(net, 'a', 'b');
    b!.onRequest(async (req) => new Uint8Array([req[0]! * 2]));
    const r = track(a!.request('b', new Uint8Array([21]), 1000));
    clock.advance(10);
    await flush(); // the handler's promise settles here, scheduling the response
    clock.advance(10);
    await flush();
    expect(r.state).toBe('resolved');
    expect([...r.value!]).toEqual([42]);
  });

  it('times out at exactly timeoutMs under a partition, and succeeds after heal()', async () => {
    const { clock, net } = setup();
    const [a, b] = await nodes(net, 'a', 'b');
    let served = 0;
    b!.onRequest(() => {
      served++;
      return new Uint8Array([1]);
    });
    net.partition([['a'], ['b']]);
    const r = track(a!.request('b', new Uint8Array([1]), 500));
    clock.advance(499);
    await flush();
    expect(r.state).toBe('pending');
    clock.advance(1);
    await flush();
    expect(r.state).toBe('rejected');
    expect(isHearsayError(r.error, 'HEARSAY_ERR_TIMEOUT')).toBe(true);
    expect(served).toBe(0);
    expect(net.stats()).toMatchObject({ requestsTimedOut: 1, frameDrops: expect.objectContaining({ partition: 1 }) });

    net.heal();
    const ok = track(a!.request('b', new Uint8Array([1]), 500));
    clock.advance(20);
    await flush();
    expect(ok.state).toBe('resolved');
  });

  it('times out when the response is lost (the server ran, the answer vanished)', async () => {
    const { clock, net } = setup();
    const [a, b] = await nodes(net, 'a', 'b');
    let served = 0;
    b!.onRequest(() => {
      served++;
      return new Uint8Array([1]);
    });
    net.silence('b');
    const r = track(a!.request('b', new Uint8Array([1]), 300));
    clock.advance(300);
    await flush();
    expect(served).toBe(1);
    expect(isHearsayError(r.error, 'HEARSAY_ERR_TIMEOUT')).toBe(true);
    expect(net.stats().frameDrops.silenced).toBe(1);
  });

  it('times out against a crashed node, and loss applies to requests', async () => {
    const { clock, net } = setup();
    const [a, b] = await nodes(net, 'a', 'b');
    b!.onRequest(() => new Uint8Array([1]));
    net.crash('b');
    const r1 = track(a!.request('b', new Uint8Array([1]), 100));
    clock.advance(100);
    await flush();
    expect(isHearsayError(r1.error, 'HEARSAY_ERR_TIMEOUT')).toBe(true);
    net.restart('b');
    net.configure({ lossRate: 1 });
    const r2 = track(a!.request('b', new Uint8Array([1]), 100));
    clock.advance(100);
    await flush();
    expect(isHearsayError(r2.error, 'HEARSAY_ERR_TIMEOUT')).toBe(true);
    expect(net.stats().frameDrops).toMatchObject({ crashed: 1, loss: 1 });
  });

  it('fails fast with TRANSPORT on null, throwing handlers, oversize, and nothing listening', async () => {
    const { clock, net } = setup();
    const [a, b] = await nodes(net, 'a', 'b');
    const small = net.createTransport('small', { maxFrameBytes: 8 });
    await small.start();
    small.onRequest(() => new Uint8Array(1));
    let mode: 'null' | 'throw' | 'reject' | 'huge' = 'null';
    b!.onRequest(() => {
      if (mode === 'throw') throw new Error('bug');
      if (mode === 'reject') return Promise.reject(new Error('async bug'));
      return mode === 'huge' ? new Uint8Array(9) : null;
    });
    const cases: Array<[string, () => Promise<Uint8Array>]> = [
      ['null', () => a!.request('b', new Uint8Array([1]), 10_000)],
      ['throw', () => a!.request('b', new Uint8Array([1]), 10_000)],
      ['reject', () => a!.request('b', new Uint8Array([1]), 10_000)],
      ['huge', () => small.request('b', new Uint8Array([1]), 10_000)], // response above the requester's limit
      ['null', () => a!.request('small', new Uint8Array(9), 10_000)], // request above the server's limit
      ['null', () => a!.request('nobody', new Uint8Array(1), 10_000)],
    ];
    for (const [m, call] of cases) {
      mode = m as typeof mode;
      const r = track(call());
      clock.advance(20);
      await flush();
      clock.advance(20);
      await flush();
      expect(r.state, m).toBe('rejected');
      expect(isHearsayError(r.error, 'HEARSAY_ERR_TRANSPORT'), String(r.error)).toBe(true);
    }
    expect(net.stats().handlerErrors).toBe(2);
    expect(net.stats().requestsTimedOut).toBe(0);
    // Refused locally, before the network: empty, oversized, bad timeout.
    await expect(a!.request('b', new Uint8Array(0), 100)).rejects.toMatchObject({ code: 'HEARSAY_ERR_TRANSPORT' });
    await expect(small.request('b', new Uint8Array(9), 100)).rejects.toMatchObject({ code: 'HEARSAY_ERR_TRANSPORT' });
    await expect(a!.request('b', new Uint8Array(1), Infinity)).rejects.toMatchObject({ code: 'HEARSAY_ERR_INVALID_ARGUMENT' });
  });

  it('close() rejects pending requests at once', async () => {
    const { clock, net } = setup();
    const [a, b] = await nodes(net, 'a', 'b');
    b!.onRequest(() => new Promise<Uint8Array>(() => undefined));
    const r = track(a!.request('b', new Uint8Array([1]), 10_000));
    clock.advance(10);
    await a!.close();
    await flush();
    expect(r.state).toBe('rejected');
    expect(isHearsayError(r.error, 'HEARSAY_ERR_TRANSPORT')).toBe(true);
    expect(a!.pending.size).toBe(0);
  });

  it('per-address stats give bytes per node per second, and reset for a new window', async () => {
    const { clock, net } = setup();
    const [a, b, c] = await nodes(net, 'a', 'b', 'c');
    c!.onRequest(() => new Uint8Array(30));
    for (let ms = 0; ms < 1000; ms += 100) {
      a!.send('b', new Uint8Array(100));
      b!.send('a', new Uint8Array(50));
      clock.advance(100);
    }
    void a!.request('c', new Uint8Array(20), 1000);
    clock.advance(20);
    await flush();
    expect(net.statsFor('a')).toMatchObject({ packetsSent: 10, packetBytesSent: 1000, frameBytesSent: 20, bytesSent: 1020, packetsReceived: 10 });
    expect(net.statsFor('b').bytesSent).toBe(500);
    expect(net.statsFor('c')).toMatchObject({ bytesSent: 30, requestsReceived: 1 });
    expect(net.statsFor('unknown').bytesSent).toBe(0);
    net.resetStats();
    expect(net.statsFor('a').bytesSent).toBe(0);
    expect(net.stats().packetsSent).toBe(0);
  });

  it('a 10,000-node network routes with bounded work per packet', async () => {
    const { clock, net } = setup({ latencyMs: 5, jitterMs: 5 });
    const ts: MemoryTransport[] = [];
    for (let i = 0; i < 10_000; i++) ts.push(net.createTransport());
    await Promise.all(ts.map((t) => t.start()));
    let received = 0;
    for (const t of ts) t.onPacket(() => received++);
    for (let i = 0; i < ts.length; i++) ts[i]!.send(ts[(i * 7919 + 1) % ts.length]!.address, new Uint8Array(64));
    clock.advance(10);
    expect(received).toBe(10_000);
    expect(clock.pending).toBe(0);
  });
});
