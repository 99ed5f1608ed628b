/**
 * Tiny schema combinators for decoded wire values. Every field of every message type is checked
 * for type and range before any handler sees it, so handlers work on typed, bounded data and the
 * receive path never meets `undefined.foo`. A schema is a type guard; `Infer<S>` gives its type.
 */

export interface Schema<T> {
  /** Human-readable shape, for drop details and tests. */
  readonly name: string;
  readonly check: (v: unknown) => v is T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function schema<T>(name: string, check: (v: unknown) => boolean): Schema<T> {
  return { name, check: check as (v: unknown) => v is T };
}

/** Byte string of an exact length, or of a length in [min, max]. */
export function bytes(min: number, max = min): Schema<Uint8Array> {
  return schema(`bytes[${min}..${max}]`, (v) => v instanceof Uint8Array && v.length >= min && v.length <= max);
}

/** Safe non-negative integer up to `max`. */
export function uint(max = Number.MAX_SAFE_INTEGER): Schema<number> {
  return schema(`uint<=${max}`, (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max);
}

export function int(min: number, max: number): Schema<number> {
  return schema(`int[${min}..${max}]`, (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max);
}

/** Finite float (NaN and infinities would poison aggregates and comparisons). */
export function finite(): Schema<number> {
  return schema('finite', (v) => typeof v === 'number' && Number.isFinite(v));
}

export const bool: Schema<boolean> = schema('bool', (v) => typeof v === 'boolean');

/** String of at most `maxBytes` UTF-8 bytes, optionally matching a pattern. */
export function str(maxBytes: number, pattern?: RegExp): Schema<string> {
  return schema(`str<=${maxBytes}${pattern ? ` ${pattern}` : ''}`, (v) =>
    typeof v === 'string' && v.length <= maxBytes && Buffer.byteLength(v) <= maxBytes && (pattern === undefined || pattern.test(v)));
}

export function literal<T extends number | string>(value: T): Schema<T> {
  return schema(`=${String(value)}`, (v) => v === value);
}

export function oneOf<T extends number | string>(values: readonly T[]): Schema<T> {
  const set = new Set<unknown>(values);
  return schema(`oneOf(${values.join(',')})`, (v) => set.has(v));
}

export function nullable<T>(s: Schema<T>): Schema<T | null> {
  return schema(`${s.name}?`, (v) => v === null || s.check(v));
}

export function arrayOf<T>(item: Schema<T>, maxLength: number): Schema<T[]> {
  return schema(`${item.name}[<=${maxLength}]`, (v) => Array.isArray(v) && v.length <= maxLength && v.every((x) => item.check(x)));
}

type TupleOf<S extends readonly Schema<unknown>[]> = { -readonly [K in keyof S]: Infer<S[K]> };

/** A fixed-length array with one schema per position. */
export function tuple<S extends readonly Schema<unknown>[]>(...items: S): Schema<TupleOf<S>> {
  return schema(`[${items.map((i) => i.name).join(', ')}]`, (v) =>
    Array.isArray(v) && v.length === items.length && items.every((s, i) => s.check(v[i])));
}
