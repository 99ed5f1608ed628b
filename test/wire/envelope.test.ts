import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/identity/backends.js';
import { packetLimits } from '../../src/wire/codec.js';
import { decodeBody, EnvelopeKind, messageId, parseEnvelope, signEnvelope, signedBytes, verifyEnvelope } from '../../src/wire/envelope.js';

const backend = createBackend('node');
const seed = new Uint8Array(randomBytes(32));
const origin = backend.publicKeyOf(seed);
const limits = packetLimits(1400);

describe('signed envelopes', () => {
  it('sign, parse, verify and decode the body', () => {
    const env = signEnvelope(EnvelopeKind.RUMOR, origin, seed, ['t', 1, 2, new Uint8Array([5])], backend);
    const p = parseEnvelope(env.bytes, limits);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(verifyEnvelope(p.value, backend)).toBe(true);
    const body = decodeBody(p.value, limits);
    expect(body.ok && body.value.slice(0, 3)).toEqual(['t', 1, 2]);
    expect(Buffer.from(messageId(p.value))).toEqual(Buffer.from(messageId(env)));
  });

  it('domain separation: the same body signed as one kind does not verify as another', () => {
    const env = signEnvelope(EnvelopeKind.HEARTBEAT, origin, seed, [1, 2], backend);
    const forged = { ...env, kind: EnvelopeKind.RUMOR };
    expect(verifyEnvelope(forged, backend)).toBe(false);
    expect(Buffer.from(signedBytes(EnvelopeKind.RUMOR, origin, env.body)).toString()).toContain('hearsay/v1/rumor\0');
  });

  it('ids differ for different messages and are stable for the same bytes', () => {
    const a = signEnvelope(EnvelopeKind.RUMOR, origin, seed, ['t', 1, 2, new Uint8Array()], backend);
    const b = signEnvelope(EnvelopeKind.RUMOR, origin, seed, ['t', 2, 2, new Uint8Array()], backend);
    expect(Buffer.from(messageId(a))).not.toEqual(Buffer.from(messageId(b)));
    const reparsed = parseEnvelope(a.bytes, limits);
    expect(reparsed.ok && Buffer.from(messageId(reparsed.value))).toEqual(Buffer.from(messageId(a)));
  });

  it('every single-byte change of an envelope is refused or fails verification', () => {
    const env = signEnvelope(EnvelopeKind.RUMOR, origin, seed, ['topic', 7, 123, new Uint8Array(20)], backend);
    let accepted = 0;
    for (let i = 0; i < env.bytes.length; i++) {
      const bad = env.bytes.slice();
      bad[i] = bad[i]! ^ 0x01;
      const p = parseEnvelope(bad, limits);
      if (p.ok && verifyEnvelope(p.value, backend)) accepted++;
    }
    expect(accepted).toBe(0);
  });

  it('refuses unknown kinds and malformed shapes without throwing', () => {
    expect(parseEnvelope(Uint8Array.from([0x94, 99, 0xc4, 0, 0xc4, 0, 0xc4, 0]), limits)).toMatchObject({ ok: false, reason: 'unknown-kind' });
    expect(parseEnvelope(Uint8Array.from([0x93, 1, 2, 3]), limits)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(parseEnvelope(new Uint8Array([0xff]), limits).ok).toBe(false);
  });
});
