/**
 * Anti-replay: a sliding-window bitmap per sender in the style of RFC 6479.
 *
 * The bitmap is a ring of 32-bit blocks with one spare block, so advancing the window clears whole
 * blocks instead of shifting bits (RFC 6479 §2). Counters more than `size` behind the highest seen
 * are refused as too old; counters inside the window are refused if their bit is set.
 *
 * `check` runs before decryption (it is cheap and stops replays from costing an AEAD), `accept`
 * runs only after the packet authenticated: otherwise an attacker could forge headers with huge
 * counters and slide the window past every legitimate packet.
 */

export type ReplayVerdict = 'ok' | 'replay' | 'too-old' | 'old-epoch';

export class ReplayWindow {
  private readonly blocks: Uint32Array;
  private readonly blockMask: number;
  /** Usable window in counters: RFC 6479 keeps one block spare for the slide. */
  readonly size: number;
  private top = 0;

  constructor(windowBits: number) {
    // Round up to a power-of-two number of blocks so the ring index is a mask.
    let nBlocks = 2;
    while ((nBlocks - 1) * 32 < windowBits) nBlocks *= 2;
    this.blocks = new Uint32Array(nBlocks);
    this.blockMask = nBlocks - 1;
    this.size = (nBlocks - 1) * 32;
  }

  /** Highest accepted counter (0 before any). */
  get highest(): number {
    return this.top;
  }

  check(counter: number): ReplayVerdict {
    if (counter === 0) return 'replay'; // counters start at 1; 0 marks "never sent"
    if (counter > this.top) return 'ok';
    if (this.top - counter >= this.size) return 'too-old';
    const block = Math.floor(counter / 32) & this.blockMask;
    const bit = 1 << (counter % 32);
    return (this.blocks[block]! & bit) !== 0 ? 'replay' : 'ok';
  }

  /** Marks `counter` seen; call only after `check` said ok and the packet authenticated. */
  accept(counter: number): void {
    if (counter > this.top) {
      const topBlock = Math.floor(this.top / 32);
      const newBlock = Math.floor(counter / 32);
      const clear = Math.min(newBlock - topBlock, this.blocks.length);
      for (let i = 1; i <= clear; i++) this.blocks[(topBlock + i) & this.blockMask] = 0;
      this.top = counter;
    }
    const block = Math.floor(counter / 32) & this.blockMask;
    this.blocks[block] = this.blocks[block]! | (1 << (counter % 32));
  }
}

/**
 * One sender's replay state across restarts. The epoch is the sender's boot time: a packet from an
 * older epoch is a replay from before its restart, a newer epoch starts a fresh window, so senders
 * need not persist counters.
 */
export class SenderReplayState {
  private epoch = -1;
  private window: ReplayWindow;

  constructor(private readonly windowBits: number) {
    this.window = new ReplayWindow(windowBits);
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  check(epoch: number, counter: number): ReplayVerdict {
    if (epoch < this.epoch) return 'old-epoch';
    if (epoch > this.epoch) return counter === 0 ? 'replay' : 'ok';
    return this.window.check(counter);
  }

  accept(epoch: number, counter: number): void {
    if (epoch > this.epoch) {
      this.epoch = epoch;
      this.window = new ReplayWindow(this.windowBits);
    }
    this.window.accept(counter);
  }
}
