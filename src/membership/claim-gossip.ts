/**
 * Spreading membership claims (memberlist's broadcast queue and gossip()): every update goes into
 * the transmit-limited queue (transmit-queue.ts) and leaves it on two paths, until it has been
 * sent retransmitMult × log10(N + 1) times:
 *
 * - piggybacked on every probe, ack, indirect probe and nack this node sends, in the bytes left in
 *   the packet;
 * - pushed to membershipGossipFanout random live members every membershipGossipIntervalMs while
 *   the queue holds anything (nothing is sent when it is empty), which is what spreads an update
 *   to 1,000 nodes in about a second instead of a few probe rounds.
 */
import type { HearsayConfig } from '../config.js';
import type { Random } from '../random.js';
import { claimMessage, type Claim } from './claims.js';
import type { MembershipEdge, Target } from './edge.js';
import type { MemberTable } from './member-table.js';
import { randomLive } from './peer-selection.js';
import { retransmitLimit, TransmitQueue } from './transmit-queue.js';

export class ClaimGossip {
  private readonly queue: TransmitQueue;

  constructor(
    private readonly edge: MembershipEdge,
    private readonly table: MemberTable,
    private readonly random: Random,
    private readonly c: Pick<HearsayConfig, 'maxMembers' | 'retransmitMult' | 'membershipGossipFanout'>,
  ) {
    this.queue = new TransmitQueue(c.maxMembers + 1);
  }

  get size(): number {
    return this.queue.size;
  }

  /**
   * Queues the claim, replacing any queued update about the same member. `urgent`: it may end a
   * suspicion somewhere (an ALIVE of a newer incarnation, a LEAVE), so under congestion it goes
   * first (transmit-queue.ts). A newcomer's first ALIVE is not urgent: after a wave of joins every
   * queue holds hundreds of them, and accusations queued behind them would reach the cluster
   * seconds late.
   */
  enqueue(claim: Claim, urgent: boolean): void {
    this.queue.enqueue(claim.subjectHex, claimMessage(claim), urgent);
  }

  forget(subjectHex: string): void {
    this.queue.delete(subjectHex);
  }

  /** Queued updates that fit in a packet to `to` after `used` bytes of other messages. */
  piggyback(to: Target, used: number): Uint8Array[] {
    if (this.queue.size === 0) return [];
    return this.queue.take(this.edge.budget(to) - used, this.limit());
  }

  /** One gossip round: a packet of queued updates to each of a few random live members. */
  push(): void {
    if (this.queue.size === 0) return;
    const limit = this.limit();
    for (const i of randomLive(this.table, this.c.membershipGossipFanout, this.random)) {
      const to = this.table.alive(i);
      const msgs = this.queue.take(this.edge.budget(to), limit);
      if (msgs.length === 0) return;
      this.edge.send(to, msgs);
    }
  }

  private limit(): number {
    return retransmitLimit(this.c.retransmitMult, this.table.liveCount + 1);
  }
}
