/**
 * Lifeguard's dynamic suspicion timeout (Dadgar et al., "Lifeguard: Local Health Awareness for
 * More Accurate Failure Detection", 2018; memberlist's suspicion.go), as pure functions plus a
 * small record of one suspicion.
 *
 * A suspicion starts with a long timeout (max) and shrinks toward min as independent members
 * confirm it, following max - (max - min) · log(c + 1) / log(k + 1) for c confirmations out of
 * the k expected. A real failure is confirmed quickly (every member that probes the dead node
 * suspects it too), so it is declared after about min; a false suspicion from one member's bad
 * path or slow CPU stays unconfirmed, and the long max gives the suspected member time to hear of
 * it and refute.
 *
 *   min = suspicionMult × max(1, log10(n)) × probeInterval      (memberlist's suspicionTimeout)
 *   max = suspicionMaxTimeoutMult × min
 *   k   = suspicionMult - 2, or 0 when fewer than k other members could confirm
 *
 * One extension of memberlist: the probe interval in `min` is the one stretched by this node's
 * local health (awareness.ts), as for probes. A node whose own packets are going missing (heavy
 * loss, overload) is the least able to tell a dead member from a lost refutation, so it waits
 * longer; a healthy node (score 0) uses exactly memberlist's timeouts.
 */

export interface SuspicionBounds {
  readonly minMs: number;
  readonly maxMs: number;
  /** Confirmations after which the timeout reaches min. */
  readonly k: number;
}

/** Bounds for a cluster of `n` members (this node included). */
export function suspicionBounds(suspicionMult: number, suspicionMaxTimeoutMult: number, n: number, probeIntervalMs: number): SuspicionBounds {
  const scale = Math.max(1, Math.log10(Math.max(1, n)));
  const minMs = Math.floor(suspicionMult * scale * probeIntervalMs);
  const maxMs = suspicionMaxTimeoutMult * minMs;
  // Minus ourselves and the suspect: the members that could confirm.
  let k = suspicionMult - 2;
  if (n - 2 < k) k = 0;
  return { minMs, maxMs, k: Math.max(0, k) };
}

/** Total timeout (from the suspicion's start) after `confirmations` independent confirmations. */
export function suspicionTimeout(bounds: SuspicionBounds, confirmations: number): number {
  const { minMs, maxMs, k } = bounds;
  if (k < 1) return minMs;
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  const raw = Math.floor(maxMs - frac * (maxMs - minMs));
  return Math.max(minMs, raw);
}

/** Most accusers remembered per suspicion: enough to reach k, bounded so liars cannot grow it. */
export const MAX_CONFIRMATIONS = 32;

/**
 * One running suspicion of one member's incarnation. The accuser that started it does not count as
 * a confirmation; each further distinct accuser does, once.
 */
export class Suspicion {
  private readonly accusers: string[];
  private confirmations = 0;

  constructor(
    readonly incarnation: number,
    readonly startedAt: number,
    readonly bounds: SuspicionBounds,
    firstAccuser: string,
  ) {
    this.accusers = [firstAccuser];
  }

  /** Records an accuser; true when it is a new, counted confirmation (the timeout shrank). */
  confirm(accuser: string): boolean {
    if (this.accusers.includes(accuser)) return false;
    if (this.accusers.length >= MAX_CONFIRMATIONS) return false;
    this.accusers.push(accuser);
    if (this.confirmations >= this.bounds.k) return false;
    this.confirmations++;
    return true;
  }

  get confirmationCount(): number {
    return this.confirmations;
  }

  /** Everyone who accused this incarnation (ids), for counting refuted accusations. */
  get accuserIds(): readonly string[] {
    return this.accusers;
  }

  /** When the member is to be declared dead, given the confirmations so far. */
  get deadline(): number {
    return this.startedAt + suspicionTimeout(this.bounds, this.confirmations);
  }
}
