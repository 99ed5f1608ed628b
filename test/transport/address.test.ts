import { describe, expect, it } from 'vitest';
import { AddressCache, formatAddress, parseAddress } from '../../src/transport/address.js';

describe('parseAddress', () => {
  it('parses IPv4, host names and bracketed IPv6', () => {
    expect(parseAddress('127.0.0.1:7400')).toEqual({ ok: true, value: { host: '127.0.0.1', port: 7400, family: 4 } });
    expect(parseAddress('node-1.example.org:1')).toEqual({ ok: true, value: { host: 'node-1.example.org', port: 1, family: 0 } });
    expect(parseAddress('[::1]:65535')).toEqual({ ok: true, value: { host: '::1', port: 65535, family: 6 } });
    expect(parseAddress('[fe80::1:2]:80')).toMatchObject({ ok: true, value: { host: 'fe80::1:2', family: 6 } });
  });

  it.each([
    ['', 'malformed'],
    ['7400', 'malformed'],
    [':7400', 'malformed'],
    ['::1:7400', 'malformed'],
    ['[::1:7400', 'malformed'],
    ['[::1]7400', 'bad_port'],
    ['[1.2.3.4]:80', 'bad_host'],
    ['[::1]x:80', 'malformed'],
    ['host:0', 'bad_port'],
    ['host:65536', 'bad_port'],
    ['host:123456', 'bad_port'],
    ['host:-1', 'bad_port'],
    ['host:', 'bad_port'],
    ['host:8o', 'bad_port'],
    ['1.2.3.999:80', 'bad_host'],
    ['bad_host:80', 'bad_host'],
    ['-lead.example:80', 'bad_host'],
    ['a..b:80', 'bad_host'],
    ['sp ace:80', 'bad_host'],
  ])('refuses %j (%s)', (input, reason) => {
    const r = parseAddress(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe(reason);
  });

  it('refuses over-long input without scanning it', () => {
    const r = parseAddress(`${'a'.repeat(1_000_000)}:80`);
    expect(r).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('never throws on non-string input from a careless caller', () => {
    expect(parseAddress(42 as unknown as string).ok).toBe(false);
  });

  it('formats IPv6 in brackets and round-trips', () => {
    expect(formatAddress('::1', 80)).toBe('[::1]:80');
    expect(formatAddress('10.0.0.1', 80)).toBe('10.0.0.1:80');
    for (const a of ['[::1]:80', '10.0.0.1:80', 'example.org:9']) {
      const r = parseAddress(a);
      expect(r.ok).toBe(true);
      if (r.ok) expect(formatAddress(r.value.host, r.value.port)).toBe(a);
    }
  });

  it('the cache stays bounded and agrees with parseAddress', () => {
    const cache = new AddressCache(8);
    for (let i = 1; i <= 100; i++) {
      expect(cache.parse(`10.0.0.${i % 250}:${i}`)).toEqual(parseAddress(`10.0.0.${i % 250}:${i}`));
    }
    expect(cache.parse('nope')).toMatchObject({ ok: false });
    expect((cache as unknown as { entries: Map<string, unknown> }).entries.size).toBeLessThanOrEqual(8);
  });
});
