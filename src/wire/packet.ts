/**
 * Packet layouts (after the 52-byte header, see header.ts):
 *
 *   SEALED            header ‖ nonce(24) ‖ ciphertext ‖ tag(16)
 *   SEALED_WITH_CERT  header ‖ certLen(2) ‖ cert ‖ nonce(24) ‖ ciphertext ‖ tag(16)
 *   HELLO             header ‖ certLen(2) ‖ cert ‖ flags(1)
 *
 * For sealed kinds, everything before the nonce is the AEAD's associated data: the header and the
 * certificate are authenticated by the link key even though they travel in clear. A certificate is
 * public, and the receiver needs the sender's kx key from it before it can derive the link key.
 *
 * A HELLO is unauthenticated (anyone can replay a public certificate). It only ever causes one
 * rate-limited reply sealed to the certificate's own kx key, which only the real owner can open;
 * no state about the sender is trusted until an authenticated packet arrives.
 */
import { fail, ok, type Result } from '../errors.js';
import { HEADER_BYTES, PacketKind, readHeader, writeHeader, type HeaderFailure, type PacketHeader } from './header.js';
import { NONCE_BYTES, SEAL_OVERHEAD, xchachaAead, type Aead } from './seal.js';

/** Certificates are small; this bound keeps a hostile length field from mattering. */
export const MAX_CERT_BYTES = 1024;
/** HELLO flag: the sender has not got our certificate and asks for a reply. */
export const HELLO_WANTS_REPLY = 1;

export interface ParsedPacket {
  readonly header: PacketHeader;
  /** Certificate bytes (SEALED_WITH_CERT, HELLO); views into the packet. */
  readonly cert: Uint8Array | null;
  /** Associated data for sealed kinds. */
  readonly associatedData: Uint8Array;
  /** nonce ‖ ciphertext ‖ tag for sealed kinds; empty for HELLO. */
  readonly sealed: Uint8Array;
  /** HELLO flags. */
  readonly flags: number;
}

export type PacketFailure = HeaderFailure | 'too-large' | 'bad-cert-length' | 'truncated';

/** Bytes a sealed packet adds around its plaintext, with or without a certificate. */
export function packetOverhead(certBytes: number): number {
  return HEADER_BYTES + (certBytes > 0 ? 2 + certBytes : 0) + SEAL_OVERHEAD;
}

/** Builds a sealed packet. `cert` non-null makes it SEALED_WITH_CERT. */
export function buildSealedPacket(
  header: Omit<PacketHeader, 'kind'>,
  cert: Uint8Array | null,
  plaintext: Uint8Array,
  linkKey: Uint8Array,
  aead: Aead = xchachaAead,
): Uint8Array {
  if (cert !== null && cert.length > MAX_CERT_BYTES) throw new RangeError('packet: certificate too large');
  const adLength = HEADER_BYTES + (cert === null ? 0 : 2 + cert.length);
  const out = new Uint8Array(adLength + SEAL_OVERHEAD + plaintext.length);
  writeHeader(out, { ...header, kind: cert === null ? PacketKind.SEALED : PacketKind.SEALED_WITH_CERT });
  if (cert !== null) {
    out[HEADER_BYTES] = cert.length >>> 8;
    out[HEADER_BYTES + 1] = cert.length & 0xff;
    out.set(cert, HEADER_BYTES + 2);
  }
  aead.sealInto(out, adLength, linkKey, out.subarray(0, adLength), plaintext);
  return out;
}

export function buildHelloPacket(header: Omit<PacketHeader, 'kind'>, cert: Uint8Array, flags: number): Uint8Array {
  if (cert.length > MAX_CERT_BYTES) throw new RangeError('packet: certificate too large');
  const out = new Uint8Array(HEADER_BYTES + 2 + cert.length + 1);
  writeHeader(out, { ...header, kind: PacketKind.HELLO });
  out[HEADER_BYTES] = cert.length >>> 8;
  out[HEADER_BYTES + 1] = cert.length & 0xff;
  out.set(cert, HEADER_BYTES + 2);
  out[HEADER_BYTES + 2 + cert.length] = flags & 0xff;
  return out;
}

/** Splits an untrusted packet into its parts without any crypto. Never throws. */
export function parsePacket(bytes: Uint8Array, maxBytes: number, expectedClusterTag: Uint8Array): Result<ParsedPacket, PacketFailure> {
  if (bytes.length > maxBytes) return fail('too-large');
  const h = readHeader(bytes, expectedClusterTag);
  if (!h.ok) return h;
  const header = h.value;
  let offset = HEADER_BYTES;
  let cert: Uint8Array | null = null;
  if (header.kind !== PacketKind.SEALED) {
    if (bytes.length < offset + 2) return fail('truncated');
    const certLength = (bytes[offset]! << 8) | bytes[offset + 1]!;
    if (certLength === 0 || certLength > MAX_CERT_BYTES) return fail('bad-cert-length');
    offset += 2;
    if (bytes.length < offset + certLength) return fail('truncated');
    cert = bytes.subarray(offset, offset + certLength);
    offset += certLength;
  }
  if (header.kind === PacketKind.HELLO) {
    if (bytes.length !== offset + 1) return fail('truncated');
    return ok({ header, cert, associatedData: bytes.subarray(0, offset), sealed: bytes.subarray(offset, offset), flags: bytes[offset]! });
  }
  if (bytes.length < offset + SEAL_OVERHEAD) return fail('truncated');
  return ok({ header, cert, associatedData: bytes.subarray(0, offset), sealed: bytes.subarray(offset), flags: 0 });
}

/** Decrypts a parsed sealed packet. */
export function openPacket(p: ParsedPacket, linkKey: Uint8Array, aead: Aead = xchachaAead): Result<Uint8Array, 'decrypt-failed'> {
  return aead.open(linkKey, p.associatedData, p.sealed);
}

export { NONCE_BYTES };
