import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/link/message-list.js';
import { EnvelopeRouter } from '../../src/link/envelope-router.js';
import { MessageType } from '../../src/wire/messages.js';

describe('EnvelopeRouter.message', () => {
  it('writes exactly the msgpack encoding of [ENVELOPE, bytes] at every bin size class', () => {
    for (const n of [0, 1, 200, 255, 256, 1000, 65_535, 65_536, 100_000]) {
      const bytes = new Uint8Array(n).map((_, i) => i & 0xff);
      expect(Buffer.from(EnvelopeRouter.message(bytes)).equals(Buffer.from(encodeMessage([MessageType.ENVELOPE, bytes]))), `n=${n}`).toBe(true);
    }
  });
});
