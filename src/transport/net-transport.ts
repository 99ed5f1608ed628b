/**
 * The real network transport: one UDP socket for packets and one TCP server for requests, bound to
 * the same port number, so a node has one advertised address ("host:port") for both, as in
 * memberlist.
 */
import { isIP } from 'node:net';
import { HearsayError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { AddressCache, formatAddress } from './address.js';
import { newNetStats, type NetTransportStats } from './net-stats.js';
import { TcpClient, TcpServer } from './tcp.js';
import { MAX_REQUEST_TIMEOUT_MS, type Address, type PacketHandler, type RequestHandler, type Transport } from './transport.js';
import { UdpEndpoint } from './udp.js';

export interface NetTransportOptions {
  /** IP address (or name) to bind; an IPv6 literal selects udp6. */
  readonly host: string;
  /** 0 picks a free port, the same for UDP and TCP. */
  readonly port: number;
  /** Host written into `address` when the bind host is not what peers should dial (0.0.0.0, NAT). */
  readonly advertiseHost?: string;
  readonly maxPacketBytes: number;
  readonly maxFrameBytes: number;
  /** Concurrent inbound TCP connections; the excess is closed at once. Default 64. */
  readonly maxConnections?: number;
  /** Total deadline of an inbound TCP exchange, from accept to close. Default 5000 ms. */
  readonly streamTimeoutMs?: number;
  readonly logger?: Logger;
}

export const DEFAULT_MAX_CONNECTIONS = 64;
export const DEFAULT_STREAM_TIMEOUT_MS = 5000;
/** With port 0, UDP gets a free port first and TCP may find that number taken; a few fresh tries make that race harmless. */
export const BIND_ATTEMPTS = 5;
// UDP's largest payload over IPv4; 64 MiB matches config.ts's ceiling for maxFrameBytes.
const MAX_UDP_PAYLOAD = 65_507;
const MAX_FRAME_CEILING = 64 * 1024 * 1024;

type State = 'new' | 'starting' | 'open' | 'closed';

export class NetTransport implements Transport {
  readonly maxPacketBytes: number;
  readonly maxFrameBytes: number;
  readonly stats: NetTransportStats = newNetStats();
  private addressText: Address = '';
  private boundPort = 0;
  private state: State = 'new';
  private starting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private packetHandler: PacketHandler | null = null;
  private udp: UdpEndpoint | null = null;
  private readonly tcpServer: TcpServer;
  private readonly tcpClient: TcpClient;
  private readonly addresses = new AddressCache();
  private readonly logger: Logger;

  constructor(private readonly options: NetTransportOptions) {
    checkInt('port', options.port, 0, 65535);
    checkInt('maxPacketBytes', options.maxPacketBytes, 1, MAX_UDP_PAYLOAD);
    checkInt('maxFrameBytes', options.maxFrameBytes, 1, MAX_FRAME_CEILING);
    checkInt('maxConnections', options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, 1, 100_000);
    checkInt('streamTimeoutMs', options.streamTimeoutMs ?? DEFAULT_STREAM_TIMEOUT_MS, 1, MAX_REQUEST_TIMEOUT_MS);
    if (typeof options.host !== 'string' || options.host.length === 0) {
      throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', 'transport host must be a non-empty string');
    }
    this.maxPacketBytes = options.maxPacketBytes;
    this.maxFrameBytes = options.maxFrameBytes;
    this.logger = (options.logger ?? silentLogger).child({ component: 'transport' });
    this.tcpServer = new TcpServer({
      maxFrameBytes: options.maxFrameBytes,
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      streamTimeoutMs: options.streamTimeoutMs ?? DEFAULT_STREAM_TIMEOUT_MS,
      stats: this.stats,
      logger: this.logger,
    });
    this.tcpClient = new TcpClient({ maxFrameBytes: options.maxFrameBytes, stats: this.stats });
  }

  /** "host:port" peers dial; empty until start() resolves. */
  get address(): Address {
    return this.addressText;
  }

  /** The bound port (0 before start). */
  get port(): number {
    return this.boundPort;
  }

  start(): Promise<void> {
    if (this.state !== 'new') {
      return Promise.reject(new HearsayError('HEARSAY_ERR_TRANSPORT', `transport cannot start: it is ${this.state}`));
    }
    this.state = 'starting';
    this.starting = this.bind().then(
      () => {
        if (this.state === 'starting') this.state = 'open';
      },
      (e: unknown) => {
        this.state = 'closed';
        throw e;
      },
    );
    return this.starting;
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler;
    this.udp?.onPacket(handler);
  }

  onRequest(handler: RequestHandler): void {
    this.tcpServer.onRequest(handler);
  }

  send(to: Address, bytes: Uint8Array): void {
    if (this.state !== 'open' || this.udp === null) {
      this.stats.packetsDropped++;
      this.stats.dropped.not_open++;
      return;
    }
    this.udp.send(to, bytes);
  }

  request(to: Address, bytes: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_REQUEST_TIMEOUT_MS) {
      return Promise.reject(new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `request timeoutMs must be in (0, ${MAX_REQUEST_TIMEOUT_MS}] (got ${timeoutMs})`));
    }
    const refuse = (why: string): Promise<never> => {
      this.stats.requestsFailed++;
      return Promise.reject(new HearsayError('HEARSAY_ERR_TRANSPORT', `request to ${to} refused: ${why}`));
    };
    if (this.state !== 'open') return refuse(`transport is ${this.state}`);
    if (bytes.length === 0 || bytes.length > this.maxFrameBytes) {
      return refuse(`request of ${bytes.length} bytes is outside 1..${this.maxFrameBytes}`);
    }
    const target = this.addresses.parse(to);
    if (!target.ok) {
      this.stats.dropped.bad_address++;
      return refuse(`bad address (${target.reason})`);
    }
    return this.tcpClient.request(to, target.value, bytes, timeoutMs);
  }

  /** Closes the UDP socket, the server and every connection; pending requests reject. Idempotent. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    const wasStarting = this.starting;
    this.state = 'closed';
    this.closing = (async () => {
      // A close during start waits for the bind to finish, so no socket is left behind.
      if (wasStarting !== null) await wasStarting.catch(() => undefined);
      this.tcpClient.failAll(new HearsayError('HEARSAY_ERR_TRANSPORT', 'transport closed while the request was pending'));
      const udp = this.udp;
      this.udp = null;
      await Promise.all([udp?.close(), this.tcpServer.close()]);
    })();
    return this.closing;
  }

  private async bind(): Promise<void> {
    const { host, port } = this.options;
    for (let attempt = 1; attempt <= BIND_ATTEMPTS; attempt++) {
      const udp = new UdpEndpoint({ maxPacketBytes: this.maxPacketBytes, stats: this.stats, logger: this.logger });
      if (this.packetHandler !== null) udp.onPacket(this.packetHandler);
      const udpPort = await udp.bind(host, port);
      try {
        await this.tcpServer.listen(host, udpPort);
      } catch (e) {
        await udp.close();
        const code = (e as NodeJS.ErrnoException).code;
        if (port === 0 && code === 'EADDRINUSE' && attempt < BIND_ATTEMPTS) {
          this.logger.debug({ port: udpPort, attempt }, 'TCP port taken, retrying with a new UDP port');
          continue;
        }
        throw new HearsayError('HEARSAY_ERR_TRANSPORT', `cannot bind TCP ${formatAddress(host, udpPort)}: ${(e as Error).message}`, { cause: e });
      }
      this.udp = udp;
      this.boundPort = udpPort;
      const advertised = this.options.advertiseHost ?? host;
      this.addressText = formatAddress(advertised, udpPort);
      if (this.options.advertiseHost === undefined && (host === '0.0.0.0' || host === '::')) {
        this.logger.warn({ address: this.addressText }, 'bound to a wildcard host without advertiseHost: peers cannot dial this address');
      }
      this.logger.debug({ address: this.addressText, family: isIP(host) === 6 ? 6 : 4 }, 'transport bound');
      return;
    }
    // The loop either returns or throws; reaching here means BIND_ATTEMPTS < 1.
    throw new HearsayError('HEARSAY_ERR_INTERNAL', 'bind loop ended without a result');
  }
}

/** Creates an unstarted transport; call `start()` to bind. Throws on invalid options (our own mistake). */
export function createNetTransport(options: NetTransportOptions): NetTransport {
  return new NetTransport(options);
}

function checkInt(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `transport option ${field} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
}
