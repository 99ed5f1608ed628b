/**
 * Structured logging through pino (fastify's own logger). Log lines carry peer ids (public keys,
 * shortened), never key material: the redaction list below censors any field whose name suggests a
 * secret, as a second line of defence behind the rule that secrets are never passed to a logger.
 */
import { pino } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Field names that must never reach a log line, wherever they appear (two levels deep). */
export const REDACTED_FIELDS = [
  'secret', 'secretKey', 'privateKey', 'seed', 'linkKey', 'key', 'token', 'authorization', 'password',
];

const redactPaths = REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

export function createLogger(options: { level?: LogLevel; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const opts = {
    level: options.level ?? 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: options.name === undefined ? {} : { name: options.name },
  };
  return options.destination === undefined ? pino(opts) : pino(opts, options.destination as pino.DestinationStream);
}

const noop = (): void => {};
/** A logger that writes nothing, for simulations of thousands of nodes. */
export const silentLogger: Logger = {
  error: noop,
  warn: noop,
  info: noop,
  debug: noop,
  child: () => silentLogger,
};

/** A short, stable, public form of a node id for logs and tables. */
export function shortId(id: Uint8Array | string): string {
  const hex = typeof id === 'string' ? id : Buffer.from(id).toString('hex');
  return hex.slice(0, 12);
}
