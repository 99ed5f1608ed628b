import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/identity/backends.js';
import { SharedVerifyBackend, simAead } from '../../src/sim/fast-crypto.js';
import { SEAL_OVERHEAD, xchachaAead } from '../../src/wire/seal.js';

describe('simulation crypto accelerators', () => {
  it('simAead has the production layout and still refuses tampering and wrong keys', () => {
    const key = new Uint8Array(randomBytes(32));
    const ad = new Uint8Array([1, 2, 3]);
    const pt = new Uint8Array(100).fill(9);
    const out = new Uint8Array(SEAL_OVERHEAD + pt.length);
    simAead.sealInto(out, 0, key, ad, pt);
    const real = new Uint8Array(SEAL_OVERHEAD + pt.length);
    xchachaAead.sealInto(real, 0, key, ad, pt);
    expect(out.length).toBe(real.length);
    const o = simAead.open(key, ad, out);
    expect(o.ok && Buffer.from(o.value)).toEqual(Buffer.from(pt));
    for (let i = 0; i < out.length; i++) {
      const bad = out.slice();
      bad[i] = bad[i]! ^ 1;
      expect(simAead.open(key, ad, bad).ok).toBe(false);
    }
    expect(simAead.open(new Uint8Array(32), ad, out).ok).toBe(false);
    expect(simAead.open(key, new Uint8Array([9]), out).ok).toBe(false);
  });

  it('SharedVerifyBackend verifies each distinct signature once and never mixes up messages or keys', () => {
    const inner = createBackend('node');
    const shared = new SharedVerifyBackend(inner);
    const seed = new Uint8Array(randomBytes(32));
    const pub = inner.publicKeyOf(seed);
    const msg = new Uint8Array([1, 2, 3]);
    const sig = inner.sign(msg, seed);
    for (let i = 0; i < 5; i++) expect(shared.verify(sig, msg, pub)).toBe(true);
    expect(shared.realVerifications).toBe(1);
    // The same signature over another message, or under another key, is a different question.
    expect(shared.verify(sig, new Uint8Array([1, 2, 4]), pub)).toBe(false);
    expect(shared.verify(sig, msg, inner.publicKeyOf(new Uint8Array(randomBytes(32))))).toBe(false);
    expect(shared.realVerifications).toBe(3);
  });
});
