/**
 * Token bucket rate limiting on an injected clock: `rate` tokens per second, bursts up to `burst`.
 * Used per authenticated sender (after the replay check, before decryption) and globally for
 * unauthenticated first contacts, which each cost a signature verification.
 */
import type { Clock } from '../clock.js';

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: number,
    private burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  take(n = 1): boolean {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Changes the rate (e.g. a new policy version's per-node limit); tokens above the new burst are dropped. */
  setRate(rate: number, burst: number): void {
    this.take(0);
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }
}
