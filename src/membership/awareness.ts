/**
 * Lifeguard's local health (memberlist's awareness.go): a score in [0, max - 1] of how much this
 * node doubts itself. A node that is slow (CPU starved, GC pauses, a lossy NIC) sees its probes
 * fail although the probed members are fine; the tell is that the helpers it asked to probe
 * indirectly do not even send their NACKs back. Each missing NACK, and each time the node has to
 * refute a suspicion of itself, raises the score; each clean probe lowers it. Probe intervals are
 * stretched by (score + 1), so a struggling node probes less often and waits longer before it
 * accuses anyone: it stops spreading false suspicions about healthy members.
 */
export class Awareness {
  private value = 0;

  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('Awareness: max must be a positive integer');
  }

  get score(): number {
    return this.value;
  }

  /** Adds `delta` (negative to improve), clamped to [0, max - 1]. Returns the new score. */
  apply(delta: number): number {
    this.value = Math.min(this.max - 1, Math.max(0, this.value + delta));
    return this.value;
  }

  /** `ms` stretched by the current score. */
  scale(ms: number): number {
    return ms * (this.value + 1);
  }
}
