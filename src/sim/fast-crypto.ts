/**
 * Simulation-only accelerators for clusters of thousands of nodes in one process. They keep every
 * protocol decision and every packet size identical and keep authentication working (a tampered
 * packet or a bad signature is still refused), but cut the cost that would otherwise repeat N times:
 *
 * - `simAead`: same layout and overhead as XChaCha20-Poly1305, authenticates with a truncated
 *   SHA-256 over key, nonce, associated data and plaintext, and does not encrypt. Nothing outside
 *   src/sim/ uses it, and no config field can select it.
 * - `SharedVerifyBackend`: a real backend whose verdicts are shared by all simulated nodes, keyed
 *   by a hash of (signature, key, message): each distinct signature is checked once per process
 *   instead of once per node.
 * - `SharedLinkKeys`: each unordered pair's real X25519 + HKDF link key is derived once.
 */
import { hash, randomFillSync } from 'node:crypto';
import { fail, ok, type Result } from '../errors.js';
import type { SignatureBackend } from '../identity/signature-backend.js';
import type { LocalIdentity, PeerCertificate } from '../link/peer-certificate.js';
import { deriveLinkKey } from '../wire/link-key.js';
import { NONCE_BYTES, SEAL_OVERHEAD, TAG_BYTES, type Aead } from '../wire/seal.js';

function tag(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, pt: Uint8Array): Buffer {
  return hash('sha256', Buffer.concat([key, nonce, ad, pt]), 'buffer').subarray(0, TAG_BYTES);
}

export const simAead: Aead = {
  sealInto(out, offset, key, ad, plaintext) {
    const nonce = out.subarray(offset, offset + NONCE_BYTES);
    randomFillSync(nonce);
    out.set(plaintext, offset + NONCE_BYTES);
    out.set(tag(key, nonce, ad, plaintext), offset + NONCE_BYTES + plaintext.length);
  },
  open(key, ad, sealed): Result<Uint8Array, 'decrypt-failed'> {
    if (sealed.length < SEAL_OVERHEAD) return fail('decrypt-failed');
    const nonce = sealed.subarray(0, NONCE_BYTES);
    const pt = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
    const expected = tag(key, nonce, ad, pt);
    if (Buffer.compare(expected, sealed.subarray(sealed.length - TAG_BYTES)) !== 0) return fail('decrypt-failed');
    return ok(pt.slice());
  },
};

export class SharedVerifyBackend implements SignatureBackend {
  readonly name: SignatureBackend['name'];
  private readonly verdicts = new Map<string, boolean>();
  realVerifications = 0;

  constructor(private readonly inner: SignatureBackend, private readonly capacity = 1_000_000) {
    this.name = inner.name;
  }

  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
    if (signature.length !== 64 || publicKey.length !== 32) return false;
    const key = hash('sha256', Buffer.concat([signature, publicKey, message]), 'base64');
    const hit = this.verdicts.get(key);
    if (hit !== undefined) return hit;
    this.realVerifications++;
    const v = this.inner.verify(signature, message, publicKey);
    if (this.verdicts.size >= this.capacity) this.verdicts.clear();
    this.verdicts.set(key, v);
    return v;
  }

  sign(message: Uint8Array, secretSeed: Uint8Array): Uint8Array {
    return this.inner.sign(message, secretSeed);
  }

  publicKeyOf(secretSeed: Uint8Array): Uint8Array {
    return this.inner.publicKeyOf(secretSeed);
  }
}

export class SharedLinkKeys {
  private readonly keys = new Map<string, Uint8Array | null>();

  constructor(private readonly cluster: string) {}

  derive(self: LocalIdentity, peer: PeerCertificate): Uint8Array | null {
    const a = Buffer.from(self.nodeId).toString('base64');
    const b = Buffer.from(peer.nodeId).toString('base64');
    // Keyed by both ids and the peer's kx key, so a rotated kx key gets a new link key.
    const k = (a < b ? a + b : b + a) + Buffer.from(peer.kx).toString('base64');
    let v = this.keys.get(k);
    if (v === undefined) {
      v = deriveLinkKey(this.cluster, self.kxSecret, self.nodeId, peer.kx, peer.nodeId);
      this.keys.set(k, v);
    }
    return v;
  }
}
