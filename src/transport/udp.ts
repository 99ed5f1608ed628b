/**
 * The datagram half of the real transport: one UDP socket, best effort, at most maxPacketBytes.
 *
 * Invariants: nothing a peer sends can throw out of the receive callback or crash the socket
 * (oversized datagrams are dropped before the handler, a throwing handler is caught, socket errors
 * are counted); and `send` never throws, whatever address or size it is given, because gossip code
 * sends to peer-supplied addresses in loops where one bad peer must not stop the rest.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { HearsayError } from '../errors.js';
import type { Logger } from '../log.js';
import { AddressCache, formatAddress } from './address.js';
import type { NetTransportStats } from './net-stats.js';
import type { Address, PacketHandler } from './transport.js';

export interface UdpEndpointOptions {
  readonly maxPacketBytes: number;
  readonly stats: NetTransportStats;
  readonly logger: Logger;
}

export class UdpEndpoint {
  private socket: Socket | null = null;
  private family: 4 | 6 = 4;
  private handler: PacketHandler | null = null;
  private readonly addresses = new AddressCache();
  private readonly maxPacketBytes: number;
  private readonly stats: NetTransportStats;
  private readonly logger: Logger;

  constructor(options: UdpEndpointOptions) {
    this.maxPacketBytes = options.maxPacketBytes;
    this.stats = options.stats;
    this.logger = options.logger;
  }

  onPacket(handler: PacketHandler): void {
    this.handler = handler;
  }

  /** Binds a new socket (udp6 for an IPv6 host, udp4 otherwise); resolves with the bound port. */
  bind(host: string, port: number): Promise<number> {
    if (this.socket !== null) return Promise.reject(new HearsayError('HEARSAY_ERR_INTERNAL', 'UDP socket already bound'));
    this.family = isIP(host) === 6 ? 6 : 4;
    // exclusive: a second process (or cluster worker) must not share our port and see half our traffic.
    const socket = createSocket({ type: this.family === 6 ? 'udp6' : 'udp4', reuseAddr: false });
    return new Promise((resolve, reject) => {
      const onBindError = (e: Error): void => {
        socket.close();
        reject(new HearsayError('HEARSAY_ERR_TRANSPORT', `cannot bind UDP ${formatAddress(host, port)}: ${e.message}`, { cause: e }));
      };
      socket.once('error', onBindError);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.off('error', onBindError);
        socket.on('error', (e) => this.onSocketError(e));
        socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
        this.socket = socket;
        resolve(socket.address().port);
      });
    });
  }

  send(to: Address, bytes: Uint8Array): void {
    const socket = this.socket;
    if (socket === null) return this.drop('not_open');
    if (bytes.length > this.maxPacketBytes) return this.drop('oversize_out');
    const parsed = this.addresses.parse(to);
    if (!parsed.ok) return this.drop('bad_address');
    let host = parsed.value.host;
    if (parsed.value.family === 6 && this.family === 4) {
      // A udp4 socket cannot reach an IPv6 literal; the OS would only say so later, as a send error.
      return this.drop('bad_address');
    }
    if (parsed.value.family === 4 && this.family === 6) {
      // A dual-stack udp6 socket (bound to "::") reaches IPv4 peers through mapped addresses;
      // on an IPv6-only bind the OS refuses it and the send is counted as send_error.
      host = `::ffff:${host}`;
    }
    this.stats.packetsSent++;
    this.stats.bytesSent += bytes.length;
    // dgram sends on a later tick (after its address lookup) and keeps a reference until then;
    // copying makes "the caller may reuse its buffer once send returns" true, as in memory.
    socket.send(Buffer.from(bytes), parsed.value.port, host, this.afterSend);
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (socket === null) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        // Already closed by an error path: nothing left to release.
        resolve();
      }
    });
  }

  // One shared callback instead of a closure per datagram.
  private readonly afterSend = (err: Error | null): void => {
    if (err) this.drop('send_error');
  };

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.socket === null) return;
    if (msg.length > this.maxPacketBytes) return this.drop('oversize_in');
    this.stats.packetsReceived++;
    this.stats.bytesReceived += msg.length;
    const handler = this.handler;
    if (handler === null) return;
    try {
      handler(msg, formatAddress(rinfo.address, rinfo.port));
    } catch (e) {
      // The handler is the whole receive pipeline; one poisoned packet must not stop the next.
      this.stats.dropped.handler_error++;
      this.logger.debug({ err: (e as Error).message }, 'packet handler threw');
    }
  }

  private onSocketError(e: Error): void {
    this.stats.dropped.socket_error++;
    this.logger.warn({ err: e.message }, 'UDP socket error');
  }

  private drop(reason: 'not_open' | 'oversize_out' | 'oversize_in' | 'bad_address' | 'send_error'): void {
    this.stats.packetsDropped++;
    this.stats.dropped[reason]++;
  }
}
