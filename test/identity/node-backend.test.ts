import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/identity/backends.js';
import { NodeSignatureBackend } from '../../src/identity/node-backend.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const msg = new Uint8Array(Buffer.from('cache'));

describe('NodeSignatureBackend caches', () => {
  it('keeps at most publicKeyCacheSize public keys and still verifies evicted ones', () => {
    const backend = new NodeSignatureBackend({ publicKeyCacheSize: 4 });
    const signers = Array.from({ length: 10 }, () => new Uint8Array(randomBytes(32)));
    for (const seed of signers) expect(backend.verify(backend.sign(msg, seed), msg, backend.publicKeyOf(seed))).toBe(true);
    const cache = (backend as unknown as { publicKeys: { size: number } }).publicKeys;
    expect(cache.size).toBe(4);
    const first = signers[0]!;
    expect(backend.verify(backend.sign(msg, first), msg, backend.publicKeyOf(first))).toBe(true);
  });

  it('caches a refused key as refused (a small-order key stays refused on every call)', () => {
    const backend = new NodeSignatureBackend({ publicKeyCacheSize: 4 });
    const identity = Uint8Array.from([1, ...new Array<number>(31).fill(0)]);
    const forged = new Uint8Array(64);
    forged[0] = 1; // R = identity, S = 0: satisfies [S]B = R + [k]A for A = identity, any message
    for (let i = 0; i < 3; i++) expect(backend.verify(forged, msg, identity)).toBe(false);
  });

  it('does not reuse a signing key when the seed array is refilled with another seed', () => {
    const backend = new NodeSignatureBackend();
    const noble = createBackend('noble');
    const seed = new Uint8Array(randomBytes(32));
    const first = hex(backend.publicKeyOf(seed));
    seed.set(randomBytes(32));
    expect(hex(backend.publicKeyOf(seed))).not.toBe(first);
    expect(hex(backend.publicKeyOf(seed))).toBe(hex(noble.publicKeyOf(seed)));
    expect(hex(backend.sign(msg, seed))).toBe(hex(noble.sign(msg, seed)));
  });

  it('createBackend refuses an unknown name', () => {
    expect(() => createBackend('openssl' as 'node')).toThrow(expect.objectContaining({ code: 'HEARSAY_ERR_INVALID_ARGUMENT' }));
    expect(createBackend('node').name).toBe('node');
    expect(createBackend('noble').name).toBe('noble');
  });
});
