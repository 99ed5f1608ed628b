import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKxKeyPair } from '../../src/identity/kx.js';
import { clusterTag, HEADER_BYTES, PacketKind, readHeader, writeHeader } from '../../src/wire/header.js';
import { deriveLinkKey, LinkKeyCache } from '../../src/wire/link-key.js';
import { buildHelloPacket, buildSealedPacket, openPacket, packetOverhead, parsePacket } from '../../src/wire/packet.js';

const tag = clusterTag('test');
const sender = new Uint8Array(randomBytes(32));
const key = new Uint8Array(randomBytes(32));
const header = { clusterTag: tag, senderId: sender, epoch: 1_700_000_000_123, counter: 2 ** 40 + 7 };

describe('packet header', () => {
  it('round-trips 48-bit epoch and counter', () => {
    const b = new Uint8Array(HEADER_BYTES);
    writeHeader(b, { ...header, kind: PacketKind.SEALED });
    const h = readHeader(b, tag);
    expect(h.ok).toBe(true);
    if (h.ok) {
      expect(h.value.epoch).toBe(header.epoch);
      expect(h.value.counter).toBe(header.counter);
      expect(Buffer.from(h.value.senderId)).toEqual(Buffer.from(sender));
    }
  });

  it('names what is wrong with a bad header', () => {
    const b = new Uint8Array(HEADER_BYTES);
    writeHeader(b, { ...header, kind: PacketKind.SEALED });
    expect(readHeader(b.subarray(0, 51), tag)).toMatchObject({ ok: false, reason: 'too-small' });
    expect(readHeader(b, clusterTag('other'))).toMatchObject({ ok: false, reason: 'wrong-cluster' });
    const v = b.slice(); v[2] = 2;
    expect(readHeader(v, tag)).toMatchObject({ ok: false, reason: 'bad-version' });
    const k = b.slice(); k[3] = 99;
    expect(readHeader(k, tag)).toMatchObject({ ok: false, reason: 'bad-kind' });
    const m = b.slice(); m[0] = 0;
    expect(readHeader(m, tag)).toMatchObject({ ok: false, reason: 'bad-magic' });
  });

  it('refuses to write out-of-range fields (our bug, so it throws)', () => {
    const b = new Uint8Array(HEADER_BYTES);
    expect(() => writeHeader(b, { ...header, kind: PacketKind.SEALED, counter: 2 ** 48 })).toThrow(RangeError);
    expect(() => writeHeader(b, { ...header, kind: PacketKind.SEALED, senderId: new Uint8Array(31) })).toThrow(RangeError);
  });
});

describe('sealed packets', () => {
  it('seal and open, with and without a certificate', () => {
    const pt = new TextEncoder().encode('hello gossip');
    for (const cert of [null, new Uint8Array(200).fill(7)]) {
      const pkt = buildSealedPacket(header, cert, pt, key);
      expect(pkt.length).toBe(packetOverhead(cert?.length ?? 0) + pt.length);
      const p = parsePacket(pkt, 1400, tag);
      expect(p.ok).toBe(true);
      if (!p.ok) continue;
      expect(p.value.header.kind).toBe(cert === null ? PacketKind.SEALED : PacketKind.SEALED_WITH_CERT);
      const o = openPacket(p.value, key);
      expect(o.ok && Buffer.from(o.value).toString()).toBe('hello gossip');
    }
  });

  it('uses a fresh nonce for every packet', () => {
    const a = buildSealedPacket(header, null, new Uint8Array(10), key);
    const b = buildSealedPacket(header, null, new Uint8Array(10), key);
    expect(Buffer.from(a.subarray(HEADER_BYTES, HEADER_BYTES + 24))).not.toEqual(Buffer.from(b.subarray(HEADER_BYTES, HEADER_BYTES + 24)));
  });

  it('every single-byte change and every truncation fails to open or parse, without throwing', () => {
    const pkt = buildSealedPacket(header, new Uint8Array(40).fill(1), new Uint8Array(64).fill(9), key);
    let opened = 0;
    for (let i = 0; i < pkt.length; i++) {
      for (const delta of [1, 0x80, 0xff]) {
        const bad = pkt.slice();
        bad[i] = (bad[i]! + delta) & 0xff;
        const p = parsePacket(bad, 1400, tag);
        if (p.ok && openPacket(p.value, key).ok) opened++;
      }
    }
    for (let n = 0; n < pkt.length; n++) {
      const p = parsePacket(pkt.subarray(0, n), 1400, tag);
      if (p.ok && openPacket(p.value, key).ok) opened++;
    }
    expect(opened).toBe(0);
  });

  it('parsePacket never throws on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), (b) => {
        const p = parsePacket(b, 1400, tag);
        if (p.ok) expect(openPacket(p.value, key).ok).toBe(false);
      }),
      { numRuns: 3000, seed: 99 },
    );
  });

  it('hello packets carry the certificate and flags, and nothing sealed', () => {
    const cert = new Uint8Array(150).fill(3);
    const pkt = buildHelloPacket({ ...header, counter: 0 }, cert, 1);
    const p = parsePacket(pkt, 1400, tag);
    expect(p.ok).toBe(true);
    if (p.ok) {
      expect(p.value.header.kind).toBe(PacketKind.HELLO);
      expect(p.value.flags).toBe(1);
      expect(Buffer.from(p.value.cert!)).toEqual(Buffer.from(cert));
    }
    expect(parsePacket(pkt.subarray(0, pkt.length - 1), 1400, tag).ok).toBe(false);
  });

  it('refuses oversized packets and hostile certificate lengths', () => {
    expect(parsePacket(new Uint8Array(1401), 1400, tag)).toMatchObject({ ok: false, reason: 'too-large' });
    const pkt = buildSealedPacket(header, new Uint8Array(10), new Uint8Array(10), key);
    pkt[HEADER_BYTES] = 0xff; pkt[HEADER_BYTES + 1] = 0xff;
    expect(parsePacket(pkt, 1400, tag)).toMatchObject({ ok: false, reason: 'bad-cert-length' });
  });
});

describe('link keys', () => {
  it('both ends derive the same key; other pairs and clusters differ', () => {
    const a = generateKxKeyPair();
    const b = generateKxKeyPair();
    const c = generateKxKeyPair();
    const idA = new Uint8Array(randomBytes(32));
    const idB = new Uint8Array(randomBytes(32));
    const kab = deriveLinkKey('x', a.secret, idA, b.publicKey, idB)!;
    const kba = deriveLinkKey('x', b.secret, idB, a.publicKey, idA)!;
    expect(Buffer.from(kab)).toEqual(Buffer.from(kba));
    expect(Buffer.from(deriveLinkKey('y', a.secret, idA, b.publicKey, idB)!)).not.toEqual(Buffer.from(kab));
    expect(Buffer.from(deriveLinkKey('x', a.secret, idA, c.publicKey, idB)!)).not.toEqual(Buffer.from(kab));
    // Node ids are bound into the key: the same kx keys under other ids give another key.
    expect(Buffer.from(deriveLinkKey('x', a.secret, idA, b.publicKey, new Uint8Array(32))!)).not.toEqual(Buffer.from(kab));
  });

  it('refuses small-order peer keys (all-zero shared secret, RFC 7748 §6.1)', () => {
    const a = generateKxKeyPair();
    expect(deriveLinkKey('x', a.secret, new Uint8Array(32), new Uint8Array(32), new Uint8Array(32).fill(1))).toBeNull();
  });

  it('caches per peer with a bound', () => {
    const a = generateKxKeyPair();
    const cache = new LinkKeyCache('x', a.secret, new Uint8Array(32), 2);
    const peers = [0, 1, 2].map(() => ({ id: new Uint8Array(randomBytes(32)), kx: generateKxKeyPair().publicKey }));
    const k0 = cache.get(peers[0]!.id, peers[0]!.kx);
    expect(cache.get(peers[0]!.id, peers[0]!.kx)).toBe(k0);
    cache.get(peers[1]!.id, peers[1]!.kx);
    cache.get(peers[2]!.id, peers[2]!.kx);
    expect(cache.size).toBe(2);
  });
});
