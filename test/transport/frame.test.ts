import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameReader } from '../../src/transport/frame.js';

const header = (n: number): Uint8Array => {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, n, false);
  return h;
};

describe('frames', () => {
  it('encodes a 4-byte big-endian length before the payload', () => {
    expect([...encodeFrame(new Uint8Array([9, 8, 7]))]).toEqual([0, 0, 0, 3, 9, 8, 7]);
  });

  it('reads a frame delivered in one chunk', () => {
    const r = new FrameReader(100).push(encodeFrame(new Uint8Array([1, 2, 3])));
    expect(r).toEqual({ ok: true, value: new Uint8Array([1, 2, 3]) });
  });

  it('reads a frame split at every byte, including inside the header', () => {
    const payload = Uint8Array.from({ length: 50 }, (_, i) => i);
    const wire = encodeFrame(payload);
    const reader = new FrameReader(100);
    for (let i = 0; i < wire.length - 1; i++) {
      expect(reader.push(wire.subarray(i, i + 1))).toEqual({ ok: true, value: null });
    }
    expect(reader.push(wire.subarray(wire.length - 1))).toEqual({ ok: true, value: payload });
  });

  it('refuses a declared length above the limit from the header alone', () => {
    const reader = new FrameReader(1000);
    const r = reader.push(header(1001));
    expect(r).toMatchObject({ ok: false, reason: 'frame_too_large' });
    expect(reader.bufferedBytes).toBe(0);
  });

  it('refuses a declared length of 4 GiB - 1 without allocating it', () => {
    expect(new FrameReader(1 << 20).push(header(0xffffffff))).toMatchObject({ ok: false, reason: 'frame_too_large' });
  });

  it('refuses an empty frame', () => {
    expect(new FrameReader(10).push(header(0))).toMatchObject({ ok: false, reason: 'frame_empty' });
  });

  it('accepts exactly the limit', () => {
    const r = new FrameReader(5).push(encodeFrame(new Uint8Array(5)));
    expect(r.ok && r.value?.length).toBe(5);
  });

  it('buffers only what arrived, never the declared length up front', () => {
    const reader = new FrameReader(4 << 20);
    reader.push(header(4 << 20));
    reader.push(new Uint8Array(10));
    expect(reader.bufferedBytes).toBe(10);
  });

  it('refuses bytes after the frame, in the same chunk or later', () => {
    const wire = encodeFrame(new Uint8Array([1]));
    const joined = new Uint8Array([...wire, 0]);
    expect(new FrameReader(10).push(joined)).toMatchObject({ ok: false, reason: 'trailing_bytes' });
    const reader = new FrameReader(10);
    expect(reader.push(wire).ok).toBe(true);
    expect(reader.push(new Uint8Array([0]))).toMatchObject({ ok: false, reason: 'trailing_bytes' });
  });
});
