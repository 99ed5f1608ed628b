/**
 * One node's endpoint on a `MemoryNetwork`: the `Transport` a simulated node is given instead of
 * UDP+TCP. It keeps only its own handlers, counters and pending requests; routing, delays and
 * faults belong to the network, so a simulation of 10,000 nodes pays for them once.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { HearsayError } from '../errors.js';
import {
  MAX_REQUEST_TIMEOUT_MS,
  type Address,
  type PacketHandler,
  type RequestHandler,
  type Transport,
  type TransportStats,
} from './transport.js';

export interface MemoryTransportStats extends TransportStats {
  /** Packet or request handlers that threw or rejected. */
  handlerErrors: number;
}

/** The side of MemoryNetwork a transport talks to. */
export interface MemoryRouter {
  readonly clock: Clock;
  routePacket(from: MemoryTransport, to: Address, bytes: Uint8Array): void;
  routeRequest(call: PendingCall, bytes: Uint8Array, timeoutMs: number): void;
}

export type MemoryTransportState = 'new' | 'open' | 'closed';

/**
 * A request in flight. It settles exactly once: response, TIMEOUT, TRANSPORT, or close of its
 * transport, whichever comes first; later events for it are ignored.
 */
export class PendingCall {
  settled = false;
  timer: TimerHandle | null = null;

  constructor(
    readonly from: MemoryTransport,
    readonly to: Address,
    private readonly resolveFn: (bytes: Uint8Array) => void,
    private readonly rejectFn: (error: HearsayError) => void,
  ) {}

  succeed(bytes: Uint8Array): void {
    if (!this.settle()) return;
    this.from.stats.bytesReceived += bytes.length;
    this.resolveFn(bytes);
  }

  fail(error: HearsayError): void {
    if (!this.settle()) return;
    this.from.stats.requestsFailed++;
    this.rejectFn(error);
  }

  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.timer?.cancel();
    this.timer = null;
    this.from.pending.delete(this);
    return true;
  }
}

export class MemoryTransport implements Transport {
  readonly stats: MemoryTransportStats = {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    packetsDropped: 0,
    requestsSent: 0,
    requestsReceived: 0,
    requestsFailed: 0,
    handlerErrors: 0,
  };
  /** @internal Requests awaiting an answer; the network settles them, close() rejects them. */
  readonly pending = new Set<PendingCall>();
  private lifecycle: MemoryTransportState = 'new';
  private packetHandler: PacketHandler | null = null;
  private requestHandler: RequestHandler | null = null;

  constructor(
    private readonly router: MemoryRouter,
    readonly address: Address,
    readonly maxPacketBytes: number,
    readonly maxFrameBytes: number,
  ) {}

  get state(): MemoryTransportState {
    return this.lifecycle;
  }

  get isOpen(): boolean {
    return this.lifecycle === 'open';
  }

  /** Receives nothing before start(), like a socket that is not bound yet. */
  start(): Promise<void> {
    if (this.lifecycle !== 'new') {
      return Promise.reject(new HearsayError('HEARSAY_ERR_TRANSPORT', `transport ${this.address} cannot start: it is ${this.lifecycle}`));
    }
    this.lifecycle = 'open';
    return Promise.resolve();
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler;
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  send(to: Address, bytes: Uint8Array): void {
    this.router.routePacket(this, to, bytes);
  }

  request(to: Address, bytes: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_REQUEST_TIMEOUT_MS) {
      return Promise.reject(new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `request timeoutMs must be in (0, ${MAX_REQUEST_TIMEOUT_MS}] (got ${timeoutMs})`));
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      const call = new PendingCall(this, to, resolve, reject);
      this.pending.add(call);
      this.router.routeRequest(call, bytes, timeoutMs);
    });
  }

  /** Stops sending and receiving; pending requests reject. The address may then be re-created. */
  close(): Promise<void> {
    this.lifecycle = 'closed';
    const error = new HearsayError('HEARSAY_ERR_TRANSPORT', `transport ${this.address} closed while the request was pending`);
    for (const call of [...this.pending]) call.fail(error);
    return Promise.resolve();
  }

  /** @internal Called by the network; returns false when the handler threw. */
  deliverPacket(bytes: Uint8Array, from: Address): boolean {
    this.stats.packetsReceived++;
    this.stats.bytesReceived += bytes.length;
    const handler = this.packetHandler;
    if (handler === null) return true;
    try {
      handler(bytes, from);
      return true;
    } catch {
      // A simulated node's bug must not stop the network's event loop, as on a real socket.
      this.stats.handlerErrors++;
      return false;
    }
  }

  /**
   * @internal Called by the network. Calls `answer` once with the response, or with null when
   * there is none (no handler, null, throw or rejection). A synchronous handler answers
   * synchronously, so simulations stay inside `VirtualClock.advance` without awaiting microtasks.
   */
  serveRequest(bytes: Uint8Array, from: Address, answer: (response: Uint8Array | null, threw: boolean) => void): void {
    this.stats.requestsReceived++;
    this.stats.bytesReceived += bytes.length;
    const handler = this.requestHandler;
    if (handler === null) return answer(null, false);
    let result: ReturnType<RequestHandler>;
    try {
      result = handler(bytes, from);
    } catch {
      this.stats.handlerErrors++;
      return answer(null, true);
    }
    if (result instanceof Uint8Array) return answer(result, false);
    // Anything that is neither bytes nor a promise (null, or undefined from a careless handler) is "no answer".
    if (result === null || typeof (result as { then?: unknown }).then !== 'function') return answer(null, false);
    result.then(
      (r) => answer(r instanceof Uint8Array ? r : null, false),
      () => {
        this.stats.handlerErrors++;
        answer(null, true);
      },
    );
  }
}
