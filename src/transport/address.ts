/**
 * "host:port" addresses of the real network transport.
 *
 * Addresses reach us from peers (advertised in membership claims and certificates), so parsing is
 * a decoder of untrusted input: it returns a `Result` and never throws (STYLE.md §4), and it has a
 * hard length limit so a hostile address cannot make us scan megabytes.
 */
import { isIP } from 'node:net';
import { fail, ok, type Result } from '../errors.js';
import type { Address } from './transport.js';

export interface HostPort {
  /** IP literal or DNS name, without brackets. */
  readonly host: string;
  readonly port: number;
  /** 4 or 6 for IP literals; 0 for a DNS name (its family is only known after resolution). */
  readonly family: 0 | 4 | 6;
}

export type AddressError = 'malformed' | 'bad_host' | 'bad_port';

/** Longest accepted address: "[" + 45-character IPv6 + zone id + "]:" + 5-digit port, or a 253-character DNS name. */
export const MAX_ADDRESS_LENGTH = 300;

// RFC 1123 host names: labels of letters, digits and inner hyphens, at most 63 each, 253 in all.
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const DOTTED_NUMBERS = /^[0-9.]+$/;
const PORT = /^[0-9]{1,5}$/;

/**
 * Parses "host:port", "a.b.c.d:port" or "[v6]:port". A bare IPv6 address without brackets is
 * refused: "::1:80" is ambiguous. Port 0 is refused because it is never a reachable destination.
 */
export function parseAddress(address: string): Result<HostPort, AddressError> {
  if (typeof address !== 'string' || address.length === 0 || address.length > MAX_ADDRESS_LENGTH) {
    return fail('malformed', 'empty or longer than 300 characters');
  }
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return fail('malformed', 'expected host:port');
  const portText = address.slice(colon + 1);
  if (!PORT.test(portText)) return fail('bad_port', 'port must be 1 to 5 digits');
  const port = Number(portText);
  if (port < 1 || port > 65535) return fail('bad_port', 'port must be from 1 to 65535');

  let host = address.slice(0, colon);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return fail('malformed', 'unclosed bracket');
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return fail('bad_host', 'brackets must hold an IPv6 address');
    return ok({ host, port, family: 6 });
  }
  if (host.includes(':')) return fail('malformed', 'IPv6 addresses must be written in brackets');
  if (isIP(host) === 4) return ok({ host, port, family: 4 });
  // "1.2.3.999" matches the host-name grammar but is a typo of an IPv4 address, not a name.
  if (DOTTED_NUMBERS.test(host) || !HOSTNAME.test(host)) return fail('bad_host', 'not an IP address or host name');
  return ok({ host, port, family: 0 });
}

/** The canonical text form: IPv6 hosts in brackets so the last ':' always separates the port. */
export function formatAddress(host: string, port: number): Address {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A bounded memo of parsed addresses, for the send path: a node sends to the same few dozen peers
 * over and over. The bound matters because the keys come from peers; when full it starts over,
 * which costs one re-parse per address instead of unbounded memory.
 */
export class AddressCache {
  private readonly entries = new Map<string, Result<HostPort, AddressError>>();

  constructor(private readonly maxEntries = 4096) {}

  parse(address: string): Result<HostPort, AddressError> {
    let r = this.entries.get(address);
    if (r === undefined) {
      r = parseAddress(address);
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      // Long garbage strings are not worth remembering.
      if (r.ok) this.entries.set(address, r);
    }
    return r;
  }
}
