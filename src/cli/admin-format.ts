/** Readable output of the admin commands: aligned tables, durations, times, short ids. */
import { HearsayError } from '../errors.js';

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** What the API accepts for a ban (schemas.ts BAN_BODY). */
export const MIN_DURATION_MS = 1000;
export const MAX_DURATION_MS = 365 * 86_400_000;

/** `30m`, `2h`, `7d`, `1h30m` → milliseconds; from 1 s to 365 days. */
export function parseDuration(text: string): number {
  if (!/^(\d{1,6}[smhd]){1,4}$/.test(text)) {
    throw new HearsayError('HEARSAY_ERR_USAGE', `a duration is a number and a unit s, m, h or d, e.g. 30m, 2h, 7d or 1h30m (got ${JSON.stringify(text.slice(0, 40))})`);
  }
  let ms = 0;
  for (const m of text.matchAll(/(\d+)([smhd])/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
  if (ms < MIN_DURATION_MS || ms > MAX_DURATION_MS) throw new HearsayError('HEARSAY_ERR_USAGE', `a ban lasts from 1s to 365d (got ${text})`);
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms < 0) return '-';
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size || (unit === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join('');
}

export function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function ago(ms: number | null, now = Date.now()): string {
  return ms === null ? '-' : `${formatDuration(Math.max(0, now - ms))} ago`;
}

export function shortHex(id: string | null): string {
  return id === null ? '-' : id.slice(0, 12);
}

export function score(x: number | null): string {
  return x === null ? '-' : x.toFixed(2);
}

/** Control characters out: a peer-supplied string must not move the operator's cursor or color the terminal. */
export function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '·');
}

/** Left-aligned columns, right-aligned where `numeric` says so; two spaces apart. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, numeric: ReadonlySet<number> = new Set()): string[] {
  const cells = rows.map((r) => r.map(clean));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...cells.map(line)];
}
