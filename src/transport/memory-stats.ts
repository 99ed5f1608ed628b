/**
 * Counters of a MemoryNetwork: what was sent, delivered and dropped, and why, for the whole
 * network and per address. Simulations and benchmarks read them (bytes per node per second,
 * delivery ratios under loss); tests assert on them, so every drop has exactly one reason.
 */

export type MemoryDropReason =
  | 'loss'
  | 'partition'
  | 'isolated'
  | 'silenced'
  | 'crashed'
  /** Larger than the sender's or the receiver's limit. */
  | 'oversize'
  /** No started transport at the destination (never created, not started, or closed). */
  | 'unreachable'
  /** The sender's transport is not started or is closed. */
  | 'not_open';

export interface NetworkStats {
  /** Every send() call, including those refused locally. Invariant once quiet: sent + duplicated = delivered + dropped. */
  packetsSent: number;
  packetsDuplicated: number;
  packetsDelivered: number;
  packetsDropped: number;
  packetBytesSent: number;
  packetBytesDelivered: number;
  /** Packet drops by reason. */
  drops: Record<MemoryDropReason, number>;
  requestsSent: number;
  requestsDelivered: number;
  responsesDelivered: number;
  requestsTimedOut: number;
  /** Requests rejected with HEARSAY_ERR_TRANSPORT by the network (refused, closed without answer, oversize). */
  requestsFailed: number;
  /** Request and response payload bytes put on the network. */
  frameBytesSent: number;
  /** Request and response frame drops by reason. */
  frameDrops: Record<MemoryDropReason, number>;
  handlerErrors: number;
}

export interface AddressStats {
  /** send() calls made by this address. */
  packetsSent: number;
  packetBytesSent: number;
  /** Of those, packets dropped on the way (for any reason). */
  packetsDropped: number;
  packetsReceived: number;
  packetBytesReceived: number;
  requestsSent: number;
  requestsReceived: number;
  /** Request and response payload bytes this address sent / received. */
  frameBytesSent: number;
  frameBytesReceived: number;
  /** packetBytesSent + frameBytesSent: this node's offered load, for bytes per node per second. */
  bytesSent: number;
}

function emptyDrops(): Record<MemoryDropReason, number> {
  return { loss: 0, partition: 0, isolated: 0, silenced: 0, crashed: 0, oversize: 0, unreachable: 0, not_open: 0 };
}

export function emptyStats(): NetworkStats {
  return {
    packetsSent: 0,
    packetsDuplicated: 0,
    packetsDelivered: 0,
    packetsDropped: 0,
    packetBytesSent: 0,
    packetBytesDelivered: 0,
    drops: emptyDrops(),
    requestsSent: 0,
    requestsDelivered: 0,
    responsesDelivered: 0,
    requestsTimedOut: 0,
    requestsFailed: 0,
    frameBytesSent: 0,
    frameDrops: emptyDrops(),
    handlerErrors: 0,
  };
}

export function emptyAddressStats(): Omit<AddressStats, 'bytesSent'> {
  return {
    packetsSent: 0,
    packetBytesSent: 0,
    packetsDropped: 0,
    packetsReceived: 0,
    packetBytesReceived: 0,
    requestsSent: 0,
    requestsReceived: 0,
    frameBytesSent: 0,
    frameBytesReceived: 0,
  };
}
