/**
 * Equivocation detection for simulations, standing in for the layers that will detect it
 * themselves (dissemination for rumors, membership for alive claims, replicated state for KV
 * writes): it feeds every envelope a node newly accepts to a SlotWitness, which reports a proof to
 * the node's gate when one origin signed two records for one slot. Only the *detection* is the
 * harness's; the proof then takes the production path (engine check, ban, EVIDENCE gossip, every
 * other node's own check).
 */
import type { MessageContext } from '../link/link-layer.js';
import type { Node } from '../node.js';
import { SlotWitness } from '../reputation/slot-witness.js';

/** Installs the tap on a started node; returns its witness (for counts). */
export function tapEquivocation(node: Node): SlotWitness {
  const router = node.internals.router;
  const witness = new SlotWitness(node.gate, { clock: node.clock });
  const receive = router.receive.bind(router);
  router.receive = (ctx: MessageContext | null, bytes: Uint8Array, large = false): boolean => {
    const accepted = receive(ctx, bytes, large);
    if (accepted) witness.observe(bytes);
    return accepted;
  };
  return witness;
}
