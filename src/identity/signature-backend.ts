/**
 * One interface for Ed25519, two implementations (ARCHITECTURE.md "Signatures"):
 * `node` (OpenSSL through node:crypto, the default: ~16x faster verification) and `noble`
 * (@noble/ed25519, portable reference). Nodes that disagreed on which signatures are valid would
 * split the cluster, so both accept exactly the same set; test/identity/backend-agreement.test.ts
 * proves it on RFC 8032 vectors, hand-made edge cases and random inputs.
 */
export interface SignatureBackend {
  readonly name: 'node' | 'noble';
  /** Strict RFC 8032 verification. Never throws: a malformed key or signature is simply invalid. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  /** Signs with a 32-byte Ed25519 secret seed. Throws on a seed of the wrong length (our own bug). */
  sign(message: Uint8Array, secretSeed: Uint8Array): Uint8Array;
  /** The 32-byte public key of a 32-byte secret seed. */
  publicKeyOf(secretSeed: Uint8Array): Uint8Array;
}
