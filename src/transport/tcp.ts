/**
 * The stream half of the real transport: framed request/response over TCP, one exchange per
 * connection (request frame, response frame, close). No multiplexing keeps the state per
 * connection to a reader and a timer, and a misbehaving peer can only ever spoil its own exchange.
 *
 * What a peer controls, and its limit:
 * - frame length: checked against maxFrameBytes (and 0) from the 4 header bytes, before the body
 *   is buffered (frame.ts); the connection is closed at once;
 * - time: every inbound connection is cut at `streamTimeoutMs` after accept (a total deadline, so
 *   a slowloris that trickles one byte a second gains nothing over a silent peer), and every
 *   outbound request at its `timeoutMs`, so nothing waits forever;
 * - connection count: beyond `maxConnections` inbound connections, new ones are closed at once.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { HearsayError } from '../errors.js';
import type { Logger } from '../log.js';
import { formatAddress, type HostPort } from './address.js';
import { encodeFrame, FrameReader } from './frame.js';
import type { NetTransportStats } from './net-stats.js';
import type { Address, RequestHandler } from './transport.js';

export interface TcpServerOptions {
  readonly maxFrameBytes: number;
  readonly maxConnections: number;
  readonly streamTimeoutMs: number;
  readonly stats: NetTransportStats;
  readonly logger: Logger;
}

export class TcpServer {
  private server: Server | null = null;
  private handler: RequestHandler | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: TcpServerOptions) {}

  onRequest(handler: RequestHandler): void {
    this.handler = handler;
  }

  /** Rejects with the raw listen error, so the caller can tell EADDRINUSE from the rest. */
  listen(host: string, port: number): Promise<void> {
    if (this.server !== null) return Promise.reject(new HearsayError('HEARSAY_ERR_INTERNAL', 'TCP server already listening'));
    const server = createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    return new Promise((resolve, reject) => {
      const onListenError = (e: Error): void => {
        server.close();
        reject(e);
      };
      server.once('error', onListenError);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', onListenError);
        server.on('error', (e) => {
          this.options.stats.dropped.socket_error++;
          this.options.logger.warn({ err: e.message }, 'TCP server error');
        });
        this.server = server;
        resolve();
      });
    });
  }

  /** Stops accepting, destroys every open connection, and resolves once the server is closed. */
  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.options.stats.connectionsOpen = 0;
    if (server === null) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private onConnection(socket: Socket): void {
    const { stats, logger } = this.options;
    // Errors after this point come from the peer (resets, aborts): count them, never let an
    // unhandled 'error' event take the process down.
    socket.on('error', (e) => {
      stats.dropped.socket_error++;
      logger.debug({ err: e.message }, 'inbound TCP connection error');
    });
    if (this.server === null || this.sockets.size >= this.options.maxConnections) {
      stats.dropped.connection_cap++;
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    stats.connectionsOpen = this.sockets.size;
    const from = formatAddress(socket.remoteAddress ?? '0.0.0.0', socket.remotePort ?? 0);
    const reader = new FrameReader(this.options.maxFrameBytes);
    const deadline = setTimeout(() => {
      stats.dropped.deadline++;
      socket.destroy();
    }, this.options.streamTimeoutMs);
    socket.on('close', () => {
      clearTimeout(deadline);
      this.sockets.delete(socket);
      stats.connectionsOpen = this.sockets.size;
    });
    socket.on('data', (chunk: Buffer) => {
      const r = reader.push(chunk);
      if (!r.ok) {
        stats.dropped.bad_frame++;
        socket.destroy();
        return;
      }
      if (r.value === null) return;
      stats.requestsReceived++;
      stats.bytesReceived += r.value.length;
      void this.answer(socket, r.value, from);
    });
  }

  private async answer(socket: Socket, request: Uint8Array, from: Address): Promise<void> {
    const { stats, logger, maxFrameBytes } = this.options;
    const handler = this.handler;
    let response: Uint8Array | null = null;
    if (handler !== null) {
      try {
        response = await handler(request, from);
      } catch (e) {
        stats.dropped.handler_error++;
        logger.debug({ err: (e as Error).message }, 'request handler threw');
        socket.destroy();
        return;
      }
    }
    if (socket.destroyed) return;
    // An empty frame is invalid on the wire and an oversized one would be refused by the peer,
    // so both are answered like null: close without a response.
    if (response === null || response.length === 0 || response.length > maxFrameBytes) {
      if (response !== null) stats.dropped.bad_frame++;
      socket.end();
      return;
    }
    stats.bytesSent += response.length;
    socket.end(encodeFrame(response));
  }
}

export interface TcpClientOptions {
  readonly maxFrameBytes: number;
  readonly stats: NetTransportStats;
}

interface PendingRequest {
  fail(error: HearsayError): void;
}

/** Outbound requests, tracked so that close() can reject every one still pending. */
export class TcpClient {
  private readonly pending = new Set<PendingRequest>();

  constructor(private readonly options: TcpClientOptions) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  request(to: Address, target: HostPort, bytes: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const { stats, maxFrameBytes } = this.options;
    stats.requestsSent++;
    stats.bytesSent += bytes.length;
    return new Promise<Uint8Array>((resolve, reject) => {
      const reader = new FrameReader(maxFrameBytes);
      const socket = connect({ host: target.host, port: target.port, noDelay: true });
      let settled = false;
      const finish = (error: HearsayError | null, response?: Uint8Array): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(entry);
        socket.destroy();
        if (error !== null || response === undefined) {
          stats.requestsFailed++;
          reject(error ?? new HearsayError('HEARSAY_ERR_INTERNAL', 'request settled without a response'));
        } else {
          stats.bytesReceived += response.length;
          resolve(response);
        }
      };
      const entry: PendingRequest = { fail: (e) => finish(e) };
      this.pending.add(entry);
      const timer = setTimeout(
        () => finish(new HearsayError('HEARSAY_ERR_TIMEOUT', `request to ${to} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.on('data', (chunk: Buffer) => {
        const r = reader.push(chunk);
        if (!r.ok) {
          finish(new HearsayError('HEARSAY_ERR_TRANSPORT', `invalid response frame from ${to}: ${r.reason}${r.detail ? ` (${r.detail})` : ''}`));
        } else if (r.value !== null) {
          finish(null, r.value);
        }
      });
      socket.on('error', (e: NodeJS.ErrnoException) => {
        finish(new HearsayError('HEARSAY_ERR_TRANSPORT', `request to ${to} failed: ${e.code ?? e.message}`, { cause: e }));
      });
      socket.on('close', () => {
        finish(new HearsayError('HEARSAY_ERR_TRANSPORT', `connection to ${to} closed before a full response`));
      });
      // Written at once: net queues it until the connection is up. Never end() our side: the
      // server would take the half-close as the end of the exchange and could not answer.
      socket.write(encodeFrame(bytes));
    });
  }

  /** Rejects every pending request with `error` and closes its connection. */
  failAll(error: HearsayError): void {
    for (const p of [...this.pending]) p.fail(error);
  }
}
