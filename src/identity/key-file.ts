/**
 * Key files on disk. A secret key file is a small JSON document `{"kind": …, "key": "<hex>"}`,
 * mode 0600 in a 0700 folder, written atomically and never silently replaced. Like ssh, a secret
 * file that group or others can read is refused: the key may already have leaked, and refusing is
 * the only way the operator learns it.
 *
 * No secret byte ever reaches an error message: errors name the file and the problem, never the
 * content (even JSON.parse's message is dropped, because it quotes the text it failed on).
 */
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { HearsayError } from '../errors.js';
import { fromHex, toHex } from './bytes.js';

/** Kinds of secret key files; the kind stops an X25519 secret from being loaded as an Ed25519 seed. */
export const SECRET_KEY_KINDS = {
  /** An Ed25519 secret seed (RFC 8032 §5.1.5): authority.key, node.key. */
  'hearsay-ed25519-secret': 32,
  /** An X25519 secret scalar (RFC 7748 §6.1): node.kx.key. */
  'hearsay-x25519-secret': 32,
} as const;

export type SecretKeyKind = keyof typeof SECRET_KEY_KINDS;

/** Secret files are tiny; anything larger is not one of ours, and is not read into memory. */
const MAX_KEY_FILE_BYTES = 4096;
/** Public JSON files (authority.pub, node.cert) are also small. */
const MAX_PUBLIC_FILE_BYTES = 64 * 1024;

export interface WriteOptions {
  /** Replace an existing file; without it an existing file is an error (HEARSAY_ERR_KEY_EXISTS). */
  force?: boolean;
}

export function writeSecretFile(path: string, kind: SecretKeyKind, bytes: Uint8Array, options: WriteOptions = {}): void {
  if (!(kind in SECRET_KEY_KINDS)) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `unknown secret key kind ${JSON.stringify(kind)}`);
  }
  if (!(bytes instanceof Uint8Array) || bytes.length !== SECRET_KEY_KINDS[kind]) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `a ${kind} key must be ${SECRET_KEY_KINDS[kind]} bytes`);
  }
  const text = Buffer.from(`${JSON.stringify({ kind, key: toHex(bytes) })}\n`, 'utf8');
  try {
    writeFileAtomic(path, text, 0o600, options.force === true);
  } finally {
    text.fill(0);
  }
}

export function readSecretFile(path: string, kind: SecretKeyKind): Uint8Array {
  const raw = readLimited(path, MAX_KEY_FILE_BYTES, true);
  try {
    let doc: unknown;
    try {
      doc = JSON.parse(raw.toString('utf8'));
    } catch {
      throw keyFileError(path, 'is not valid JSON');
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw keyFileError(path, 'is not a JSON object');
    const record = doc as Record<string, unknown>;
    if (record['kind'] !== kind) {
      const found = typeof record['kind'] === 'string' && /^[a-z0-9-]{1,64}$/.test(record['kind']) ? record['kind'] : 'none';
      throw keyFileError(path, `holds a key of kind ${found}, expected ${kind}`);
    }
    const key = record['key'];
    const bytes = typeof key === 'string' ? fromHex(key, SECRET_KEY_KINDS[kind]) : null;
    if (bytes === null) {
      throw keyFileError(path, `must hold "key": ${SECRET_KEY_KINDS[kind] * 2} hex characters (${SECRET_KEY_KINDS[kind]} bytes)`);
    }
    return bytes;
  } finally {
    raw.fill(0);
  }
}

/** Writes a public JSON document (authority.pub, node.cert): mode 0644, atomic, same overwrite rule. */
export function writePublicJsonFile(path: string, document: object, options: WriteOptions = {}): void {
  writeFileAtomic(path, Buffer.from(`${JSON.stringify(document, null, 2)}\n`, 'utf8'), 0o644, options.force === true);
}

/** Reads a public JSON document; HEARSAY_ERR_KEY_FILE when it is missing, too large or not JSON. */
export function readPublicJsonFile(path: string): Record<string, unknown> {
  const raw = readLimited(path, MAX_PUBLIC_FILE_BYTES, false);
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw keyFileError(path, 'is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw keyFileError(path, 'is not a JSON object');
  return doc as Record<string, unknown>;
}

export function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw keyFileError(path, `cannot be checked (${errnoCode(e) ?? 'unknown error'})`, e);
  }
}

/** The error for a file that would be overwritten, naming the file and the way out. */
export function keyExistsError(path: string): HearsayError {
  return new HearsayError('HEARSAY_ERR_KEY_EXISTS', `${path} already exists; refusing to overwrite a key (pass --force to replace it)`);
}

function keyFileError(path: string, problem: string, cause?: unknown): HearsayError {
  return new HearsayError('HEARSAY_ERR_KEY_FILE', `key file ${path} ${problem}`, cause === undefined ? undefined : { cause });
}

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;
}

/**
 * Reads a whole small file through one descriptor, so the permission check (fstat) and the read
 * see the same file even if the path is swapped in between.
 */
function readLimited(path: string, maxBytes: number, secret: boolean): Buffer {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY);
  } catch (e) {
    const code = errnoCode(e);
    throw keyFileError(path, code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code ?? 'unknown error'})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw keyFileError(path, 'is not a regular file');
    // Like ssh's "UNPROTECTED PRIVATE KEY FILE": group/other bits mean the key may have leaked.
    // Windows has no POSIX modes (node reports 0o666), so the rule cannot apply there.
    if (secret && process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new HearsayError(
        'HEARSAY_ERR_KEY_PERMISSIONS',
        `private key file ${path} is accessible by group or others (mode ${mode}); it must be readable by its owner only. Fix: chmod 600 ${path}`,
      );
    }
    if (st.size > maxBytes) throw keyFileError(path, `is larger than ${maxBytes} bytes`);
    const buf = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw keyFileError(path, `is larger than ${maxBytes} bytes`);
    }
    const out = Buffer.from(buf.subarray(0, length));
    buf.fill(0);
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one: a
 * temporary file in the same folder (created exclusively, with its final mode, fsynced), then
 * `link` (fails if `path` exists: no overwrite without force, and no check-then-write race) or
 * `rename` (replaces atomically). Parent folders are created 0700.
 */
export function writeFileAtomic(path: string, data: Uint8Array, mode: number, force: boolean): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw keyFileError(dir, `cannot be created (${errnoCode(e) ?? 'unknown error'})`, e);
  }
  if (!force && fileExists(path)) throw keyExistsError(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
  } catch (e) {
    throw keyFileError(path, `cannot be written in ${dir} (${errnoCode(e) ?? 'unknown error'})`, e);
  }
  let placed = false;
  try {
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (force) {
      renameSync(tmp, path);
      placed = true;
    } else {
      try {
        linkSync(tmp, path);
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'EEXIST') throw keyExistsError(path);
        // Some filesystems (FAT, some network mounts) have no hard links: fall back to
        // check-then-rename, which only loses the race-freedom.
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
        if (fileExists(path)) throw keyExistsError(path);
        renameSync(tmp, path);
        placed = true;
      }
    }
  } catch (e) {
    if (e instanceof HearsayError) throw e;
    throw keyFileError(path, `cannot be written (${errnoCode(e) ?? 'unknown error'})`, e);
  } finally {
    if (!placed) {
      try {
        unlinkSync(tmp);
      } catch {
        // Already gone; nothing to clean up.
      }
    }
  }
  syncDirectory(dir);
}

function writeAll(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
}

/** Makes the new directory entry durable; not every platform can open a directory, which is fine. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, fsConstants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // Best effort (e.g. Windows); the file itself was fsynced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
