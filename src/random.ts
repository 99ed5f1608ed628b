/**
 * Randomness, injected. Protocol choices (peer selection, shuffles, loss in the in-memory network)
 * take a `Random` so simulations are reproducible from a seed. Key material and nonces never use
 * this: they come from the CSPRNG inside the crypto functions (node:crypto / @noble).
 */
import { randomInt } from 'node:crypto';

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

/** Non-reproducible randomness for real nodes (peer selection must not be predictable by an attacker). */
export const cryptoRandom: Random = {
  next: () => randomInt(0, 2 ** 48 - 1) / 2 ** 48,
  int: (n) => (n <= 1 ? 0 : randomInt(0, n)),
};

/** Reproducible randomness (xoshiro128**, seeded by SplitMix32) for simulations and tests. */
export class SeededRandom implements Random {
  private readonly s: Uint32Array;

  constructor(seed: number) {
    let x = seed >>> 0;
    const splitmix32 = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = new Uint32Array([splitmix32(), splitmix32(), splitmix32(), splitmix32()]);
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  next(): number {
    return this.u32() / 4294967296;
  }

  int(n: number): number {
    return n <= 1 ? 0 : Math.floor(this.next() * n);
  }

  private u32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Fisher-Yates shuffle in place. */
export function shuffle<T>(items: T[], rng: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}

/** Up to `k` distinct random items (partial Fisher-Yates on a copy). */
export function sample<T>(items: readonly T[], k: number, rng: Random): T[] {
  const copy = items.slice();
  const n = Math.min(k, copy.length);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(copy.length - i);
    const tmp = copy[i]!;
    copy[i] = copy[j]!;
    copy[j] = tmp;
  }
  copy.length = n;
  return copy;
}
