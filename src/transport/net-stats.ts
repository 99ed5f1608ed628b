/**
 * Counters of the real network transport, shared by its UDP and TCP halves.
 *
 * Everything a peer can trigger is counted, never logged per event: a log line per dropped packet
 * would let any host on the network fill our disk. The reasons map one-to-one onto a Prometheus
 * label (`hearsay_transport_dropped_total{reason}`).
 */
import type { TransportStats } from './transport.js';

export type NetDropReason =
  /** We were asked to send a datagram larger than maxPacketBytes. */
  | 'oversize_out'
  /** A datagram larger than maxPacketBytes arrived; dropped before the handler. */
  | 'oversize_in'
  /** A send or request named an address we cannot parse, or of the other IP family. */
  | 'bad_address'
  /** A send before start() or after close(). */
  | 'not_open'
  /** The operating system refused a datagram (its callback reported an error). */
  | 'send_error'
  /** A packet or request handler threw or rejected. */
  | 'handler_error'
  /** A frame header declared 0 or more than maxFrameBytes, or bytes followed the one frame. */
  | 'bad_frame'
  /** An inbound connection beyond maxConnections, closed at once. */
  | 'connection_cap'
  /** An inbound connection still open at the server's deadline, cut. */
  | 'deadline'
  /** An 'error' event on a socket (UDP or an inbound TCP connection). */
  | 'socket_error';

export interface NetTransportStats extends TransportStats {
  readonly dropped: Record<NetDropReason, number>;
  /** Inbound TCP connections open now (a gauge, not a counter). */
  connectionsOpen: number;
}

export function newNetStats(): NetTransportStats {
  return {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    packetsDropped: 0,
    requestsSent: 0,
    requestsReceived: 0,
    requestsFailed: 0,
    connectionsOpen: 0,
    dropped: {
      oversize_out: 0,
      oversize_in: 0,
      bad_address: 0,
      not_open: 0,
      send_error: 0,
      handler_error: 0,
      bad_frame: 0,
      connection_cap: 0,
      deadline: 0,
      socket_error: 0,
    },
  };
}
