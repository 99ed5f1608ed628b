/**
 * A simulated network for deterministic tests and simulations of thousands of nodes: every
 * delivery is a timer on one injected clock (a `VirtualClock` in tests), and every random choice
 * (loss, jitter, duplicates) comes from one `SeededRandom`, so the same seed and the same calls
 * give the same deliveries in the same order, every run.
 *
 * Cost per packet: a few flag checks, two Map lookups (sender and destination records), one copy
 * of the bytes and one clock timer (whose callback is the only closure); about 4 µs on this
 * machine with 10,000 nodes. Nothing is O(N) in the number of nodes.
 *
 * Fault model (all can change at runtime):
 * - `latencyMs` one-way delay, plus `jitterMs` of uniform extra delay, which reorders packets;
 * - `lossRate` and `duplicateRate`, and per-link loss overrides (`setLinkLoss`, one direction);
 * - `partition(groups)`: traffic between different groups is dropped. **Rule:** addresses not
 *   listed in any group, including nodes created later, form one implicit group together, so
 *   `partition([[a, b]])` cuts {a, b} off from everyone else. `heal()` rejoins everything;
 * - `silence(addr)`: everything the node sends is dropped, while it still receives (a node whose
 *   replies vanish, or a mute Byzantine node);
 * - `isolate(addr)`: everything to and from the node is dropped, while its process runs on;
 * - `crash(addr)`: the node neither sends nor receives, and packets in flight to it are lost;
 *   `restart(addr)` brings the same transport back, or `createTransport(addr)` replaces it.
 *
 * Requests model one TCP exchange: the request arrives after one-way delay, the response comes
 * back after another. Loss, partitions, silence, isolation and crashes drop the request or the
 * response, so the requester times out at `timeoutMs` on the clock (a TCP connection into a dead
 * path hangs until its deadline). A handler that answers null, throws or answers oversize, and an
 * address where nothing is listening, instead fail fast with HEARSAY_ERR_TRANSPORT after the
 * delay of a close or reset travelling back. Requests are never duplicated.
 */
import type { Clock } from '../clock.js';
import { HearsayError } from '../errors.js';
import { SeededRandom, type Random } from '../random.js';
import { MemoryTransport, PendingCall, type MemoryRouter } from './memory-transport.js';
import { emptyAddressStats, emptyStats, type AddressStats, type MemoryDropReason, type NetworkStats } from './memory-stats.js';
import type { Address } from './transport.js';

export type { AddressStats, MemoryDropReason, NetworkStats } from './memory-stats.js';

export interface LinkConditions {
  latencyMs: number;
  jitterMs: number;
  lossRate: number;
  duplicateRate: number;
}

export interface MemoryNetworkOptions extends Partial<LinkConditions> {
  readonly clock: Clock;
  /** Seed of the network's SeededRandom. */
  readonly seed: number;
  /** Defaults for createTransport (1400 and 4 MiB, as in config.ts). */
  readonly maxPacketBytes?: number;
  readonly maxFrameBytes?: number;
}

interface AddressRecord {
  readonly address: Address;
  transport: MemoryTransport | null;
  crashed: boolean;
  silenced: boolean;
  isolated: boolean;
  /** 0 = the implicit group of everything not listed in partition(). */
  group: number;
  /** Outgoing per-link loss overrides; null (not an empty Map) when none, so the hot path skips them. */
  linkLoss: Map<Address, number> | null;
  readonly stats: Omit<AddressStats, 'bytesSent'>;
}

const MAX_DELAY_MS = 3_600_000;

export class MemoryNetwork implements MemoryRouter {
  readonly clock: Clock;
  private readonly rng: Random;
  private readonly records = new Map<Address, AddressRecord>();
  private readonly conditionsNow: LinkConditions = { latencyMs: 1, jitterMs: 0, lossRate: 0, duplicateRate: 0 };
  private readonly defaultMaxPacketBytes: number;
  private readonly defaultMaxFrameBytes: number;
  private nextId = 0;
  private counters: NetworkStats = emptyStats();

  constructor(options: MemoryNetworkOptions) {
    this.clock = options.clock;
    this.rng = new SeededRandom(options.seed);
    this.defaultMaxPacketBytes = options.maxPacketBytes ?? 1400;
    this.defaultMaxFrameBytes = options.maxFrameBytes ?? 4 * 1024 * 1024;
    checkSize('maxPacketBytes', this.defaultMaxPacketBytes);
    checkSize('maxFrameBytes', this.defaultMaxFrameBytes);
    this.configure(options);
  }

  // ---- topology ---------------------------------------------------------------------------------

  /**
   * A new, unstarted transport. Without an address one is assigned ("sim-1", "sim-2", ...). An
   * address may be reused once its previous transport is closed or crashed (a restarted process).
   */
  createTransport(address?: Address, opts: { maxPacketBytes?: number; maxFrameBytes?: number } = {}): MemoryTransport {
    let addr = address;
    if (addr === undefined) {
      // Bounded: each turn takes a fresh number, and at most records.size numbers are taken.
      do addr = `sim-${++this.nextId}`;
      while (this.records.get(addr)?.transport != null);
    } else if (typeof addr !== 'string' || addr.length === 0 || addr.length > 300) {
      throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', 'a memory address must be a string of 1 to 300 characters');
    }
    const maxPacketBytes = opts.maxPacketBytes ?? this.defaultMaxPacketBytes;
    const maxFrameBytes = opts.maxFrameBytes ?? this.defaultMaxFrameBytes;
    checkSize('maxPacketBytes', maxPacketBytes);
    checkSize('maxFrameBytes', maxFrameBytes);
    const rec = this.record(addr);
    const old = rec.transport;
    if (old !== null && old.state !== 'closed') {
      if (!rec.crashed) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `address ${addr} is in use by a running transport`);
      void old.close();
    }
    rec.crashed = false;
    rec.transport = new MemoryTransport(this, addr, maxPacketBytes, maxFrameBytes);
    return rec.transport;
  }

  /** Changes latency, jitter, loss or duplication for all links from now on (in-flight packets keep their delay). */
  configure(conditions: Partial<LinkConditions>): void {
    const c = this.conditionsNow;
    // All checked before any is applied, so a refused call changes nothing.
    const next: LinkConditions = {
      latencyMs: conditions.latencyMs === undefined ? c.latencyMs : checkDelay('latencyMs', conditions.latencyMs),
      jitterMs: conditions.jitterMs === undefined ? c.jitterMs : checkDelay('jitterMs', conditions.jitterMs),
      lossRate: conditions.lossRate === undefined ? c.lossRate : checkRate('lossRate', conditions.lossRate),
      duplicateRate: conditions.duplicateRate === undefined ? c.duplicateRate : checkRate('duplicateRate', conditions.duplicateRate),
    };
    Object.assign(c, next);
  }

  conditions(): LinkConditions {
    return { ...this.conditionsNow };
  }

  /** Loss on the one-way link from → to, replacing `lossRate` there; null removes the override. */
  setLinkLoss(from: Address, to: Address, rate: number | null): void {
    const rec = this.record(from);
    if (rate === null) {
      rec.linkLoss?.delete(to);
      if (rec.linkLoss?.size === 0) rec.linkLoss = null;
      return;
    }
    (rec.linkLoss ??= new Map()).set(to, checkRate('link loss', rate));
  }

  /** Splits the network; see the partition rule at the top of this file. Replaces any earlier partition. */
  partition(groups: readonly (readonly Address[])[]): void {
    const seen = new Set<Address>();
    groups.forEach((group) => {
      for (const a of group) {
        if (seen.has(a)) throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `address ${a} is listed in two partition groups`);
        seen.add(a);
      }
    });
    for (const rec of this.records.values()) rec.group = 0;
    groups.forEach((group, i) => {
      for (const a of group) this.record(a).group = i + 1;
    });
  }

  /** Removes partitions and isolations. Silences, crashes and link loss stay: they are node or link faults. */
  heal(): void {
    for (const rec of this.records.values()) {
      rec.group = 0;
      rec.isolated = false;
    }
  }

  silence(address: Address): void {
    this.record(address).silenced = true;
  }

  unsilence(address: Address): void {
    this.record(address).silenced = false;
  }

  isolate(address: Address): void {
    this.record(address).isolated = true;
  }

  unisolate(address: Address): void {
    this.record(address).isolated = false;
  }

  crash(address: Address): void {
    this.record(address).crashed = true;
  }

  /** Brings a crashed transport back as it was (same handlers, same address). */
  restart(address: Address): void {
    this.record(address).crashed = false;
  }

  // ---- statistics -------------------------------------------------------------------------------

  stats(): NetworkStats {
    const s = this.counters;
    return { ...s, drops: { ...s.drops }, frameDrops: { ...s.frameDrops } };
  }

  /** Counters of one address across all its transports (they survive crash and re-creation). */
  statsFor(address: Address): AddressStats {
    const s = this.records.get(address)?.stats ?? emptyAddressStats();
    return { ...s, bytesSent: s.packetBytesSent + s.frameBytesSent };
  }

  /** Zeroes every counter, to measure a window (e.g. bytes per node per second after warm-up). */
  resetStats(): void {
    this.counters = emptyStats();
    for (const rec of this.records.values()) Object.assign(rec.stats, emptyAddressStats());
  }

  // ---- packets ----------------------------------------------------------------------------------

  /** @internal MemoryTransport.send */
  routePacket(src: MemoryTransport, to: Address, bytes: Uint8Array): void {
    const s = this.counters;
    const srcRec = this.record(src.address);
    s.packetsSent++;
    s.packetBytesSent += bytes.length;
    srcRec.stats.packetsSent++;
    srcRec.stats.packetBytesSent += bytes.length;
    if (!src.isOpen || srcRec.transport !== src) return this.dropPacket(srcRec, src, 'not_open', true);
    if (bytes.length > src.maxPacketBytes) return this.dropPacket(srcRec, src, 'oversize', true);
    src.stats.packetsSent++;
    src.stats.bytesSent += bytes.length;
    const dst = this.route(srcRec, to);
    if (typeof dst === 'string') return this.dropPacket(srcRec, src, dst, false);
    const from = src.address;
    const copy = bytes.slice();
    this.clock.setTimeout(() => this.deliverPacket(dst, from, copy), this.delay());
    const dup = this.conditionsNow.duplicateRate;
    if (dup > 0 && this.rng.next() < dup) {
      s.packetsDuplicated++;
      const second = bytes.slice();
      this.clock.setTimeout(() => this.deliverPacket(dst, from, second), this.delay());
    }
  }

  private deliverPacket(dst: AddressRecord, from: Address, bytes: Uint8Array): void {
    const t = dst.transport;
    // Checked again on arrival: the node may have crashed or closed while the packet was in flight.
    if (dst.crashed) return this.dropOnArrival(from, 'crashed');
    if (t === null || !t.isOpen) return this.dropOnArrival(from, 'unreachable');
    // The receiver's own limit, as a socket drops an oversized datagram before its handler.
    if (bytes.length > t.maxPacketBytes) return this.dropOnArrival(from, 'oversize');
    this.counters.packetsDelivered++;
    this.counters.packetBytesDelivered += bytes.length;
    dst.stats.packetsReceived++;
    dst.stats.packetBytesReceived += bytes.length;
    if (!t.deliverPacket(bytes, from)) this.counters.handlerErrors++;
  }

  private dropOnArrival(from: Address, reason: MemoryDropReason): void {
    this.counters.packetsDropped++;
    this.counters.drops[reason]++;
    const srcRec = this.records.get(from);
    if (srcRec !== undefined) srcRec.stats.packetsDropped++;
  }

  private dropPacket(srcRec: AddressRecord, src: MemoryTransport, reason: MemoryDropReason, local: boolean): void {
    this.counters.packetsDropped++;
    this.counters.drops[reason]++;
    srcRec.stats.packetsDropped++;
    // The transport's own counter holds local refusals only, as on a real socket.
    if (local) src.stats.packetsDropped++;
  }

  // ---- requests ---------------------------------------------------------------------------------

  /** @internal MemoryTransport.request */
  routeRequest(call: PendingCall, bytes: Uint8Array, timeoutMs: number): void {
    const src = call.from;
    const srcRec = this.record(src.address);
    const s = this.counters;
    s.requestsSent++;
    srcRec.stats.requestsSent++;
    src.stats.requestsSent++;
    if (!src.isOpen || srcRec.transport !== src) {
      s.frameDrops.not_open++;
      return this.failCall(call, `request to ${call.to} refused: transport ${src.address} is ${src.state}`);
    }
    if (bytes.length === 0 || bytes.length > src.maxFrameBytes) {
      s.frameDrops.oversize++;
      return this.failCall(call, `request to ${call.to} refused: ${bytes.length} bytes is outside 1..${src.maxFrameBytes}`);
    }
    s.frameBytesSent += bytes.length;
    srcRec.stats.frameBytesSent += bytes.length;
    src.stats.bytesSent += bytes.length;
    call.timer = this.clock.setTimeout(() => {
      if (call.settled) return;
      this.counters.requestsTimedOut++;
      call.fail(new HearsayError('HEARSAY_ERR_TIMEOUT', `request to ${call.to} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const dst = this.route(srcRec, call.to);
    if (dst === 'unreachable') {
      s.frameDrops.unreachable++;
      // Nothing listening: the reset comes back after a round trip, like ECONNREFUSED.
      return this.failLater(call, `connection to ${call.to} refused`, 2 * this.conditionsNow.latencyMs);
    }
    if (typeof dst === 'string') {
      s.frameDrops[dst]++;
      return;
    }
    const copy = bytes.slice();
    this.clock.setTimeout(() => this.deliverRequest(call, dst, copy), this.delay());
  }

  private deliverRequest(call: PendingCall, dstRec: AddressRecord, bytes: Uint8Array): void {
    const s = this.counters;
    // The requester gave up and closed its connection: the server never sees the request.
    if (call.settled) return;
    if (dstRec.crashed) {
      s.frameDrops.crashed++;
      return;
    }
    const dst = dstRec.transport;
    if (dst === null || !dst.isOpen) {
      s.frameDrops.unreachable++;
      return this.failLater(call, `connection to ${call.to} refused`, this.conditionsNow.latencyMs);
    }
    if (bytes.length > dst.maxFrameBytes) {
      // The server reads the header, sees the length and closes before reading the body.
      s.frameDrops.oversize++;
      return this.failLater(call, `${call.to} closed the connection: request of ${bytes.length} bytes exceeds its frame limit`, this.conditionsNow.latencyMs);
    }
    s.requestsDelivered++;
    dstRec.stats.requestsReceived++;
    dstRec.stats.frameBytesReceived += bytes.length;
    dst.serveRequest(bytes, call.from.address, (response, threw) => this.respond(call, dstRec, dst, response, threw));
  }

  private respond(call: PendingCall, dstRec: AddressRecord, dst: MemoryTransport, response: Uint8Array | null, threw: boolean): void {
    const s = this.counters;
    if (threw) s.handlerErrors++;
    if (call.settled) return;
    if (dstRec.crashed) {
      s.frameDrops.crashed++;
      return;
    }
    if (dstRec.transport !== dst || !dst.isOpen) {
      // Closed while its handler ran: the connection is reset under the requester.
      s.frameDrops.not_open++;
      return this.failLater(call, `connection to ${call.to} reset: its transport closed`, this.conditionsNow.latencyMs);
    }
    if (response === null || response.length === 0 || response.length > dst.maxFrameBytes) {
      if (response !== null && response.length > 0) s.frameDrops.oversize++;
      return this.failLater(call, `${call.to} closed the connection without a response`, this.conditionsNow.latencyMs);
    }
    s.frameBytesSent += response.length;
    dstRec.stats.frameBytesSent += response.length;
    dst.stats.bytesSent += response.length;
    const back = this.route(dstRec, call.from.address);
    if (typeof back === 'string') {
      s.frameDrops[back]++;
      return;
    }
    const copy = response.slice();
    this.clock.setTimeout(() => this.deliverResponse(call, back, copy), this.delay());
  }

  private deliverResponse(call: PendingCall, srcRec: AddressRecord, bytes: Uint8Array): void {
    const s = this.counters;
    if (call.settled) return;
    if (srcRec.crashed) {
      s.frameDrops.crashed++;
      return;
    }
    if (bytes.length > call.from.maxFrameBytes) {
      s.frameDrops.oversize++;
      return this.failCall(call, `invalid response frame from ${call.to}: ${bytes.length} bytes exceeds the frame limit`);
    }
    s.responsesDelivered++;
    srcRec.stats.frameBytesReceived += bytes.length;
    call.succeed(bytes);
  }

  private failCall(call: PendingCall, message: string): void {
    if (call.settled) return;
    this.counters.requestsFailed++;
    call.fail(new HearsayError('HEARSAY_ERR_TRANSPORT', message));
  }

  private failLater(call: PendingCall, message: string, delayMs: number): void {
    this.clock.setTimeout(() => this.failCall(call, message), delayMs);
  }

  // ---- routing ----------------------------------------------------------------------------------

  /** The destination record, or why the traffic from `srcRec` to `to` is dropped. */
  private route(srcRec: AddressRecord, to: Address): AddressRecord | MemoryDropReason {
    if (srcRec.crashed) return 'crashed';
    if (srcRec.silenced) return 'silenced';
    if (srcRec.isolated) return 'isolated';
    const dst = this.records.get(to);
    if (dst === undefined || dst.transport === null || !dst.transport.isOpen) return 'unreachable';
    if (dst.crashed) return 'crashed';
    if (dst.isolated) return 'isolated';
    if (dst.group !== srcRec.group) return 'partition';
    const loss = srcRec.linkLoss === null ? this.conditionsNow.lossRate : srcRec.linkLoss.get(to) ?? this.conditionsNow.lossRate;
    if (loss > 0 && this.rng.next() < loss) return 'loss';
    return dst;
  }

  /** Integer milliseconds, so virtual time stays integral for the code above the transport. */
  private delay(): number {
    const { latencyMs, jitterMs } = this.conditionsNow;
    return jitterMs > 0 ? latencyMs + this.rng.int(jitterMs + 1) : latencyMs;
  }

  private record(address: Address): AddressRecord {
    let rec = this.records.get(address);
    if (rec === undefined) {
      rec = {
        address,
        transport: null,
        crashed: false,
        silenced: false,
        isolated: false,
        group: 0,
        linkLoss: null,
        stats: emptyAddressStats(),
      };
      this.records.set(address, rec);
    }
    return rec;
  }
}

function checkRate(field: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `${field} must be a number from 0 to 1 (got ${String(v)})`);
  }
  return v;
}

function checkDelay(field: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > MAX_DELAY_MS) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `${field} must be an integer from 0 to ${MAX_DELAY_MS} ms (got ${String(v)})`);
  }
  return v;
}

function checkSize(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > 64 * 1024 * 1024) {
    throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `${field} must be an integer from 1 to 64 MiB (got ${String(v)})`);
  }
}
