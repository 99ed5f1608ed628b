/**
 * Length-prefixed frames of the stream transport: a 4-byte big-endian length, then that many bytes.
 *
 * The length is read from a peer, so it is checked against `maxFrameBytes` (and against 0, which
 * no honest sender writes) as soon as the 4 header bytes are in, before anything is buffered for
 * the body. The body is kept as the chunks that actually arrived rather than preallocated at the
 * declared length: a peer that declares 4 MiB and sends 10 bytes costs us 10 bytes, not 4 MiB,
 * and 64 such connections cannot pin 256 MiB.
 */
import { fail, ok, type Result } from '../errors.js';

export const FRAME_HEADER_BYTES = 4;

export type FrameError = 'frame_empty' | 'frame_too_large' | 'trailing_bytes';

/** Header + payload in one buffer, so the socket gets a single write (and the caller's buffer is copied, not retained). */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, false);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Reads exactly one frame from a stream of chunks. Each connection carries one frame each way,
 * so bytes after the frame are a protocol violation, reported as `trailing_bytes`.
 */
export class FrameReader {
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private declared = -1;
  private readonly chunks: Uint8Array[] = [];
  private received = 0;
  private done = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes buffered so far for the body (never more than the declared length). */
  get bufferedBytes(): number {
    return this.received;
  }

  /**
   * Feeds one chunk. Returns ok(null) while the frame is incomplete, ok(frame) once it is, and a
   * failure as soon as the header is invalid or bytes follow the frame. After ok(frame) or a
   * failure the reader is spent.
   */
  push(chunk: Uint8Array): Result<Uint8Array | null, FrameError> {
    if (this.done) return chunk.length === 0 ? ok(null) : fail('trailing_bytes');
    let offset = 0;
    if (this.declared < 0) {
      const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length);
      this.header.set(chunk.subarray(0, take), this.headerFill);
      this.headerFill += take;
      offset = take;
      if (this.headerFill < FRAME_HEADER_BYTES) return ok(null);
      const length = new DataView(this.header.buffer).getUint32(0, false);
      if (length === 0) return this.spent(fail('frame_empty'));
      if (length > this.maxFrameBytes) {
        return this.spent(fail('frame_too_large', `declared ${length} bytes, limit ${this.maxFrameBytes}`));
      }
      this.declared = length;
    }
    const rest = chunk.length - offset;
    if (rest === 0) return ok(null);
    const need = this.declared - this.received;
    if (rest > need) return this.spent(fail('trailing_bytes'));
    this.chunks.push(chunk.subarray(offset));
    this.received += rest;
    if (this.received < this.declared) return ok(null);
    return this.spent(ok(this.assemble()));
  }

  private assemble(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.declared);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.chunks.length = 0;
    return out;
  }

  private spent<T>(r: T): T {
    this.done = true;
    return r;
  }
}
