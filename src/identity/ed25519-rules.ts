/**
 * The one Ed25519 verification rule set of Hearsay, shared by both signature backends.
 *
 * Nodes that disagree on whether a signature is valid split the cluster (one half applies a write,
 * the other charges its sender's reputation), so both backends must accept exactly the same set.
 * RFC 8032 leaves two choices open (§5.1.7: "It's sufficient, but not required, to instead check
 * [S]B = R + [k]A'", and §8.4 on small-order keys), and the libraries we use chose differently:
 *
 * - OpenSSL (node:crypto, 3.0.x) checks S < L and then compares the encoding of [S]B - [k]A with
 *   the R bytes (cofactorless). It decodes A without rejecting y >= p or the x = 0 / sign-bit
 *   encodings, and accepts small-order A: with A = 0000…00, the all-zero signature verifies for
 *   any message with probability 1/4, and every one of the 14 small-order encodings admits S = 0
 *   forgeries. Non-canonical R never matches because the computed encoding is canonical.
 * - @noble/ed25519 with `zip215: false` decodes A and R strictly and rejects small-order A, but
 *   checks the cofactored equation [8][S]B = [8]R + [8][k]A. So it accepts signatures whose R has
 *   a torsion component, and signatures from mixed-order keys A + T whose k·T ≠ 0; OpenSSL
 *   rejects both.
 *
 * Hearsay's rule set (RFC 8032 §5.1.7, strict, cofactorless):
 *   1. The signature is 64 bytes and the public key 32 bytes; anything else is invalid, not an error.
 *   2. S, the second half of the signature, is an integer below L (§5.1.7 step 1: "If any of the
 *      decodings fail (including S being out of range), the signature is invalid"). Rejects S + L
 *      malleability.
 *   3. A is the canonical encoding of a curve point (§5.1.3: y < p, step 1; x = 0 with x_0 = 1
 *      fails, step 4). The challenge hash k = SHA-512(R ‖ A ‖ M) covers the raw bytes of A, so two
 *      encodings of one key would give two different signatures for one message.
 *   4. A is not one of the 8 points of small order. Beyond the RFC (libsodium and noble do the
 *      same): a small-order key "signs" anything, so it authenticates nothing.
 *   5. R is exactly the canonical encoding of [S]B - [k]A (the cofactorless equation of §5.1.7,
 *      compared by encoding as OpenSSL does), which also implies R decodes strictly. We pick the
 *      cofactorless equation because it is OpenSSL's: the fast backend then needs only the cheap
 *      byte checks 2-4 on top of its own verification.
 *
 * Mixed-order public keys (prime-order point plus a torsion point) are not rejected: honest keys
 * (a clamped scalar times B) never have a torsion component, and under rule 5 both backends give
 * the same, deterministic answer for them. Small-order R is allowed, as the RFC allows it.
 */
import { toHex } from './bytes.js';

/** The prime order of the base point, L = 2^252 + 27742317777372353535851937790883648493. */
export const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;
/** The field prime p = 2^255 - 19. */
export const ED25519_P = 2n ** 255n - 19n;

/** L little-endian, for a byte-wise comparison without BigInt on the hot path. */
const L_LE = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
]);

/** Rule 2: a 32-byte little-endian scalar S is below L. */
export function isCanonicalScalar(s: Uint8Array): boolean {
  if (s.length !== 32) return false;
  for (let i = 31; i >= 0; i--) {
    const a = s[i]!;
    const b = L_LE[i]!;
    if (a < b) return true;
    if (a > b) return false;
  }
  return false; // S == L
}

/**
 * Rule 3 (RFC 8032 §5.1.3): the encoding has y < p and is not x = 0 with the sign bit set.
 * This is a pure byte check; it does not say the point is on the curve (verification finds that).
 */
export function isCanonicalPointEncoding(a: Uint8Array): boolean {
  if (a.length !== 32) return false;
  // y >= p  <=>  y in [2^255 - 19, 2^255): bytes 1..30 are 0xff, byte 31 (sign cleared) is 0x7f, byte 0 >= 0xed.
  if ((a[31]! & 0x7f) === 0x7f && a[0]! >= 0xed) {
    let allFf = true;
    for (let i = 1; i < 31; i++) if (a[i] !== 0xff) allFf = false;
    if (allFf) return false;
  }
  // x = 0 exactly when y = 1 or y = p - 1; with the sign bit set those encodings are non-canonical.
  const hex = toHex(a);
  return hex !== X0_SIGNED_Y1 && hex !== X0_SIGNED_YP1;
}

const X0_SIGNED_Y1 = '0100000000000000000000000000000000000000000000000000000000000080';
const X0_SIGNED_YP1 = 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff';

/**
 * The canonical encodings of the 8 points of small order (the torsion subgroup E[8]), as listed by
 * libsodium and noble; test/identity/backend-agreement.test.ts recomputes them.
 */
export const SMALL_ORDER_CANONICAL: readonly string[] = Object.freeze([
  '0100000000000000000000000000000000000000000000000000000000000000', // identity, order 1
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // (0, -1), order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
]);

/** The 6 non-canonical encodings that also decode (leniently) to a small-order point. */
export const SMALL_ORDER_NON_CANONICAL: readonly string[] = Object.freeze([
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p     (= 0), order 4
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // y = p     (= 0), order 4
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1 (= 1), identity
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // y = p + 1 (= 1), identity
  X0_SIGNED_Y1, // identity with the sign bit set
  X0_SIGNED_YP1, // (0, -1) with the sign bit set
]);

const SMALL_ORDER = new Set([...SMALL_ORDER_CANONICAL, ...SMALL_ORDER_NON_CANONICAL]);

/** Rule 4: any encoding (canonical or not) of a point of small order. */
export function isSmallOrderPointEncoding(a: Uint8Array): boolean {
  return a.length === 32 && SMALL_ORDER.has(toHex(a));
}

/**
 * Rules 1, 3 and 4 for a public key: the cheap checks both backends and certificate verification
 * run before any curve arithmetic.
 */
export function isAcceptablePublicKeyEncoding(a: Uint8Array): boolean {
  return a.length === 32 && isCanonicalPointEncoding(a) && !isSmallOrderPointEncoding(a);
}
