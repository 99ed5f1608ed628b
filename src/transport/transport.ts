/**
 * The narrow interface every transport implements (STYLE.md §7), so the same node runs over
 * UDP+TCP on a real host and over the in-memory network in simulations.
 *
 * Packets are best-effort datagrams of at most `maxPacketBytes`. Requests are framed, reliable
 * request/response exchanges (TCP on a real host) of at most `maxFrameBytes` each way, used for
 * push-pull state sync, anti-entropy and the TCP fallback of probes. Transports move opaque bytes:
 * sealing, authentication and decoding happen above them.
 */

/** The longest a request may wait: a larger (or infinite) timeout is a caller's bug, and "never hangs" needs a bound. */
export const MAX_REQUEST_TIMEOUT_MS = 600_000;

/** "host:port" (IPv6 hosts in brackets) on real transports; any unique string in memory. */
export type Address = string;

export type PacketHandler = (bytes: Uint8Array, from: Address) => void;

/**
 * Answers a request. Resolve `null` to send no answer: the connection is closed without a
 * response and the requester rejects with HEARSAY_ERR_TRANSPORT as soon as it sees the close
 * (holding the connection open until the requester's timeout would let a peer pin our sockets).
 * An empty or oversized answer is treated like `null`. A handler that throws or rejects is
 * treated like `null`, and the transport counts it.
 *
 * `from` is the source of the connection: on TCP its port is ephemeral, so it identifies the
 * exchange, not a reply address; who the peer is comes from the authenticated payload.
 */
export type RequestHandler = (bytes: Uint8Array, from: Address) => Promise<Uint8Array | null> | Uint8Array | null;

export interface TransportStats {
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Packets refused locally: oversized, socket errors, closed transport. */
  packetsDropped: number;
  requestsSent: number;
  requestsReceived: number;
  requestsFailed: number;
}

export interface Transport {
  /** The address peers use to reach this transport; valid after `start()` resolves. */
  readonly address: Address;
  readonly maxPacketBytes: number;
  readonly maxFrameBytes: number;
  readonly stats: TransportStats;
  start(): Promise<void>;
  onPacket(handler: PacketHandler): void;
  onRequest(handler: RequestHandler): void;
  /**
   * Fire and forget. An oversized packet, an unparsable address or a send on a closed transport is
   * dropped and counted, never thrown. The transport keeps no reference to `bytes` once send
   * returns, so the caller may reuse its buffer.
   */
  send(to: Address, bytes: Uint8Array): void;
  /**
   * Rejects with HearsayError HEARSAY_ERR_TIMEOUT or HEARSAY_ERR_TRANSPORT; never hangs past
   * `timeoutMs`. A request of 0 or more than `maxFrameBytes` bytes is refused (TRANSPORT); a
   * `timeoutMs` that is not in (0, MAX_REQUEST_TIMEOUT_MS] is our own bug (INVALID_ARGUMENT).
   */
  request(to: Address, bytes: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  close(): Promise<void>;
}
