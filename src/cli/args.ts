/**
 * A small, strict flag parser for the CLI. Strict because a typo in a provisioning command should
 * stop it, not silently fall back to a default: unknown flags, repeated flags, missing values,
 * positional arguments and out-of-range values all throw HEARSAY_ERR_USAGE naming the flag.
 *
 * Flags are long-form only: `--name value` or `--name=value`; booleans take no value.
 */
import { HearsayError } from '../errors.js';

interface FlagBase {
  /** One line for the usage text. */
  readonly description: string;
}

export interface StringFlag extends FlagBase {
  readonly type: 'string';
  readonly required?: boolean;
  readonly default?: string;
  readonly pattern?: RegExp;
  /** How the pattern reads to a person, for the error message. */
  readonly patternText?: string;
  /** Placeholder in the usage text, e.g. DIR. */
  readonly metavar?: string;
}

export interface IntFlag extends FlagBase {
  readonly type: 'int';
  readonly required?: boolean;
  readonly default?: number;
  readonly min: number;
  readonly max: number;
  readonly metavar?: string;
}

export interface BooleanFlag extends FlagBase {
  readonly type: 'boolean';
}

/** Comma-separated values, e.g. `--roles a,b`; an empty string is an empty list. */
export interface ListFlag extends FlagBase {
  readonly type: 'list';
  readonly default?: readonly string[];
  readonly pattern?: RegExp;
  readonly patternText?: string;
  readonly maxItems?: number;
  readonly metavar?: string;
}

export type FlagSpec = StringFlag | IntFlag | BooleanFlag | ListFlag;
export type ArgSpec = Readonly<Record<string, FlagSpec>>;

type HasValue<F> = F extends { required: true } ? true : F extends { default: unknown } ? true : false;

export type FlagValue<F extends FlagSpec> = F extends BooleanFlag
  ? boolean
  : F extends ListFlag
    ? string[]
    : F extends IntFlag
      ? HasValue<F> extends true ? number : number | undefined
      : HasValue<F> extends true ? string : string | undefined;

export type ArgValues<S extends ArgSpec> = { -readonly [K in keyof S]: FlagValue<S[K]> };

export function parseArgs<const S extends ArgSpec>(argv: readonly string[], spec: S): ArgValues<S> {
  const raw = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      throw usage(`unexpected argument ${JSON.stringify(arg)} (flags start with --)`);
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const flag = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (flag === undefined) {
      const known = Object.keys(spec).map((k) => `--${k}`).join(', ');
      throw usage(`unknown flag --${name} (known flags: ${known})`);
    }
    if (raw.has(name)) throw usage(`--${name} is given more than once`);
    if (flag.type === 'boolean') {
      if (eq !== -1) throw usage(`--${name} takes no value`);
      raw.set(name, true);
      continue;
    }
    let value: string;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw usage(`--${name} needs a value (${metavar(flag)})`);
      value = next;
      i++;
    }
    raw.set(name, value);
  }

  const out: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(spec)) {
    const given = raw.get(name);
    out[name] = convert(name, flag, given);
  }
  return out as ArgValues<S>;
}

function convert(name: string, flag: FlagSpec, given: string | true | undefined): unknown {
  switch (flag.type) {
    case 'boolean':
      return given === true;
    case 'string': {
      if (given === undefined) {
        if (flag.required === true) throw usage(`--${name} is required (${flag.description})`);
        return flag.default;
      }
      const value = given as string;
      if (value === '') throw usage(`--${name} must not be empty`);
      if (flag.pattern !== undefined && !flag.pattern.test(value)) {
        throw usage(`--${name} must be ${flag.patternText ?? `a value matching ${String(flag.pattern)}`} (got ${show(value)})`);
      }
      return value;
    }
    case 'int': {
      if (given === undefined) {
        if (flag.required === true) throw usage(`--${name} is required (${flag.description})`);
        return flag.default;
      }
      const value = given as string;
      const n = /^-?\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < flag.min || n > flag.max) {
        throw usage(`--${name} must be an integer from ${flag.min} to ${flag.max} (got ${show(value)})`);
      }
      return n;
    }
    case 'list': {
      if (given === undefined) return [...(flag.default ?? [])];
      const value = given as string;
      const items = value === '' ? [] : value.split(',').map((s) => s.trim());
      if (flag.maxItems !== undefined && items.length > flag.maxItems) {
        throw usage(`--${name} takes at most ${flag.maxItems} values (got ${items.length})`);
      }
      for (const item of items) {
        if (item === '' || (flag.pattern !== undefined && !flag.pattern.test(item))) {
          throw usage(`--${name}: each value must be ${flag.patternText ?? `a value matching ${String(flag.pattern)}`} (got ${show(item)})`);
        }
      }
      return items;
    }
  }
}

/** The flag lines of a usage text, aligned. */
export function formatFlags(spec: ArgSpec): string[] {
  const rows = Object.entries(spec).map(([name, flag]) => {
    const left = flag.type === 'boolean' ? `--${name}` : `--${name} ${metavar(flag)}`;
    const notes: string[] = [];
    if ((flag.type === 'string' || flag.type === 'int') && flag.required === true) notes.push('required');
    if ((flag.type === 'string' || flag.type === 'int') && flag.default !== undefined) notes.push(`default ${String(flag.default)}`);
    return [left, notes.length === 0 ? flag.description : `${flag.description} (${notes.join(', ')})`] as const;
  });
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

function metavar(flag: Exclude<FlagSpec, BooleanFlag>): string {
  return flag.metavar ?? (flag.type === 'int' ? 'N' : flag.type === 'list' ? 'A,B' : 'VALUE');
}

function show(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
}

function usage(message: string): HearsayError {
  return new HearsayError('HEARSAY_ERR_USAGE', message);
}
