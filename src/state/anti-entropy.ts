/**
 * Scuttlebutt anti-entropy (van Renesse et al., "Efficient Reconciliation and Flow Control for
 * Anti-Entropy Protocols", 2008) for the replicated key/value state, over sealed stream frames.
 *
 * Every `antiEntropyIntervalMs` a node sends one random peer a digest, KV_DIGEST:
 *
 *   [9, mode, resync cursor | null, [[origin, contiguous version], ...]]
 *
 * and the peer answers with what the requester lacks, in one frame of at most maxFrameBytes:
 *
 * - normally KV_DELTA messages, one per origin, most stale origin first:
 *     [10, origin, certificate | null, from, to, items]
 *   `items` are the versions from+1 … to, in order, without gaps: each is the signed write
 *   (verbatim envelope bytes) or, for a write the requester may not read, just its version number.
 *   The requester verifies every write itself (signature, policy, timestamp) and advances its
 *   contiguous version only over what it now holds or was told is hidden from it;
 * - when the requester is behind the responder's garbage-collection floor for some origin (it
 *   missed versions that were purged: superseded writes and tombstones), a delta would silently
 *   lose deletes, so the responder sends a full resync instead, in KV_RESYNC chunks in key order:
 *     [13, after key | null, last key | null (end), [[origin, contiguous, floor, cert | null]...], winners]
 *   Each chunk is self-contained: the requester applies the winners, and drops any winner it holds
 *   in the chunk's key range that the source has seen (version ≤ source's contiguous) but did not
 *   send: it died there. When the last chunk arrives, the requester adopts the source's floors.
 *
 * Every response starts with a KV_DIGEST (the responder's own digest entries where it is behind),
 * so a response is never empty. Writes are only ever sent to peers that may read them.
 *
 * Trust: a delta's hidden markers and a resync's omissions are taken on the sender's word; a
 * withholding peer can delay a node (it asks another peer next round) except in those two cases.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { EnvelopeRouter } from '../link/envelope-router.js';
import type { LinkLayer, MessageContext, PeerRecord } from '../link/link-layer.js';
import { encodeMessage } from '../link/message-list.js';
import type { PeerGate } from '../link/peer-gate.js';
import type { Logger } from '../log.js';
import type { Counter, MetricsRegistry } from '../metrics.js';
import type { Authorizer } from '../policy/authorizer.js';
import { frameLimits } from '../wire/codec.js';
import { decodeBody, parseEnvelope } from '../wire/envelope.js';
import { MessageType, type RawMessage } from '../wire/messages.js';
import { arrayOf, bytes, literal, nullable, str, tuple, uint, type Schema } from '../wire/schema.js';
import type { PeerSampler } from '../dissemination/gossip.js';
import { KV_WRITE_BODY } from './kv-write.js';
import type { ReplicatedKv } from './replicated-kv.js';

const MAX_ENTRIES = 200_000;
const CERT = nullable(bytes(1, 4096));

/** A delta item: a signed write, or the version number of a write hidden from the requester. */
const ITEM: Schema<Uint8Array | number> = {
  name: 'envelope|version',
  check: (v: unknown): v is Uint8Array | number =>
    (v instanceof Uint8Array && v.length > 0 && v.length <= 65_536) || (typeof v === 'number' && Number.isSafeInteger(v) && v > 0),
};

export const KV_DIGEST_SCHEMA = tuple(literal(MessageType.KV_DIGEST), uint(1), nullable(str(4096)), arrayOf(tuple(bytes(32), uint()), MAX_ENTRIES));
export const KV_DELTA_SCHEMA = tuple(literal(MessageType.KV_DELTA), bytes(32), CERT, uint(), uint(), arrayOf(ITEM, MAX_ENTRIES));
export const KV_RESYNC_SCHEMA = tuple(
  literal(MessageType.KV_RESYNC), nullable(str(4096)), nullable(str(4096)),
  arrayOf(tuple(bytes(32), uint(), uint(), CERT), MAX_ENTRIES), arrayOf(bytes(1, 65_536), MAX_ENTRIES),
);

export interface AntiEntropyOptions {
  readonly kv: ReplicatedKv;
  readonly link: LinkLayer;
  readonly router: EnvelopeRouter;
  readonly peers: PeerSampler;
  readonly clock: Clock;
  readonly gate: PeerGate;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  readonly authorizer: () => Authorizer;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly maxFrameBytes: number;
}

/** Winners scanned per resync chunk at most (the byte budget usually stops it first). */
const RESYNC_ROWS = 20_000;
/** Chunks fetched back to back in one resync session before yielding to the next round. */
const MAX_CHUNKS_PER_SESSION = 1000;

export class AntiEntropy {
  private readonly o: AntiEntropyOptions;
  private peers: PeerSampler;
  private timer: TimerHandle | null = null;
  private busy = false;
  private stopped = false;
  private readonly c: Record<'rounds' | 'deltas' | 'resyncs' | 'failures' | 'served' | 'unsettled', Counter>;

  constructor(options: AntiEntropyOptions) {
    this.o = options;
    this.peers = options.peers;
    const m = options.metrics;
    this.c = {
      rounds: m.counter('hearsay_kv_antientropy_rounds_total', 'Anti-entropy exchanges started.'),
      deltas: m.counter('hearsay_kv_antientropy_writes_received_total', 'Writes received in anti-entropy deltas and resyncs.'),
      resyncs: m.counter('hearsay_kv_resyncs_total', 'Full resyncs completed (this node was behind a peer\'s garbage-collection floor).'),
      failures: m.counter('hearsay_kv_antientropy_failures_total', 'Anti-entropy exchanges that failed, by reason.'),
      served: m.counter('hearsay_kv_antientropy_served_total', 'Anti-entropy requests answered, by kind.'),
      unsettled: m.counter('hearsay_kv_resyncs_unsettled_total', 'Resyncs whose omissions came from a peer that may not write the keys: not believed, floors not adopted.'),
    };
    options.link.onRequest(MessageType.KV_DIGEST, KV_DIGEST_SCHEMA, (ctx, msgs) => this.serve(ctx, msgs));
    options.link.declare(MessageType.KV_DELTA, KV_DELTA_SCHEMA);
    options.link.declare(MessageType.KV_RESYNC, KV_RESYNC_SCHEMA);
  }

  start(): void {
    this.timer ??= this.o.clock.setInterval(() => void this.round(), this.o.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  setPeerSampler(peers: PeerSampler): void {
    this.peers = peers;
  }

  /** One round: collect garbage, then reconcile with one random peer. Resolves when done. */
  async round(peer?: PeerRecord): Promise<void> {
    if (this.busy || this.stopped) return;
    this.o.kv.gc();
    const target = peer ?? this.peers.selectPeers(1)[0];
    if (target === undefined) return;
    this.busy = true;
    this.c.rounds.inc();
    try {
      await this.exchange(target);
    } catch (e) {
      // Never out of a timer: a store closed under an exchange at shutdown, or a bug, is counted and logged.
      this.c.failures.inc({ reason: 'error' });
      if (!this.stopped) this.o.logger.error({ err: (e as Error).message, peer: target.idHex.slice(0, 12) }, 'anti-entropy exchange failed');
    } finally {
      this.busy = false;
    }
  }

  // ---- requester ---------------------------------------------------------------------------------

  private async exchange(peer: PeerRecord): Promise<void> {
    let cursor: string | null = null;
    let floors: Map<string, { origin: Uint8Array; floor: number }> | null = null;
    // Origins of winners the source omitted but may not write. Any origin's purged write could be
    // what superseded them, so then no floor is adopted at all: we stay behind the floors, and a
    // later resync from a peer that may write the keys settles them.
    const unsettled = new Set<string>();
    for (let chunk = 0; chunk < MAX_CHUNKS_PER_SESSION && !this.stopped; chunk++) {
      const digest = this.o.kv.originRecords().map((r) => [r.origin, r.contiguous]);
      const req = encodeMessage([MessageType.KV_DIGEST, cursor === null ? 0 : 1, cursor, digest]);
      const res = await this.o.link.request(peer, [req], this.o.timeoutMs);
      if (!res.ok) {
        this.c.failures.inc({ reason: res.reason });
        return;
      }
      if (this.stopped) return;
      const ctx: MessageContext = { peer, from: peer.address ?? '', viaStream: true };
      let next: string | null | undefined;
      for (const m of res.value) {
        if (m.type === MessageType.KV_DELTA) this.applyDelta(ctx, m);
        else if (m.type === MessageType.KV_RESYNC) {
          const r = this.applyChunk(ctx, m, cursor, unsettled);
          if (r === null) return;
          floors ??= r.floors;
          next = r.next;
        }
      }
      if (next === undefined) return;
      if (next === null) {
        if (unsettled.size === 0) this.o.kv.adoptFloors(floors!);
        else this.c.unsettled.inc();
        this.c.resyncs.inc();
        return;
      }
      cursor = next;
    }
  }

  private applyDelta(ctx: MessageContext, m: RawMessage): void {
    const [, origin, cert, from, to, items] = m.fields as [number, Uint8Array, Uint8Array | null, number, number, Array<Uint8Array | number>];
    const kv = this.o.kv;
    if (to < from || items.length !== to - from) {
      this.o.gate.charge(ctx.peer.id, 'malformed', 'delta range');
      return;
    }
    if (cert !== null && !kv.learnCert(origin, cert)) {
      this.o.gate.charge(ctx.peer.id, 'bad-certificate', 'delta origin certificate');
      return;
    }
    const rec = kv.originRecord(Buffer.from(origin).toString('hex'), origin);
    if (from > rec.contiguous) return; // we moved back? never; or a stale answer: it would leave a gap
    const hidden = new Set<number>();
    kv.batch(() => {
      for (let i = 0; i < items.length; i++) {
        const v = from + i + 1;
        if (v <= rec.contiguous) continue;
        const item = items[i]!;
        if (typeof item === 'number') {
          if (item !== v) {
            this.o.gate.charge(ctx.peer.id, 'malformed', 'delta hidden version out of place');
            break;
          }
          hidden.add(v);
          continue;
        }
        this.o.router.receive(ctx, item, true);
        this.c.deltas.inc();
      }
      kv.advance(rec, hidden);
    });
  }

  private applyChunk(ctx: MessageContext, m: RawMessage, cursor: string | null, unsettled: Set<string>): { next: string | null; floors: Map<string, { origin: Uint8Array; floor: number }> } | null {
    const [, after, last, vector, envelopes] = m.fields as [number, string | null, string | null, Array<[Uint8Array, number, number, Uint8Array | null]>, Uint8Array[]];
    if ((after ?? '') !== (cursor ?? '') || (last !== null && last <= (after ?? ''))) {
      this.o.gate.charge(ctx.peer.id, 'malformed', 'resync chunk out of order');
      return null;
    }
    const kv = this.o.kv;
    const seen = new Map<string, number>();
    const floors = new Map<string, { origin: Uint8Array; floor: number }>();
    for (const [origin, contiguous, floor, cert] of vector) {
      if (floor > contiguous) {
        this.o.gate.charge(ctx.peer.id, 'malformed', 'resync floor above contiguous');
        return null;
      }
      if (cert !== null) kv.learnCert(origin, cert);
      const hex = Buffer.from(origin).toString('hex');
      seen.set(hex, contiguous);
      floors.set(hex, { origin, floor });
    }
    const kept = new Set<string>();
    const limits = frameLimits(1 << 20);
    kv.resyncing = true;
    try {
      kv.batch(() => {
        for (const bytes of envelopes) {
          const env = parseEnvelope(bytes, limits);
          if (!env.ok) continue;
          const body = decodeBody(env.value, limits);
          if (!body.ok || !KV_WRITE_BODY.check(body.value)) continue;
          const key = body.value[0];
          // Only keys inside the chunk's range count as sent.
          if (key <= (after ?? '') || (last !== null && key > last)) continue;
          kept.add(key);
          this.o.router.receive(ctx, bytes, true);
          this.c.deltas.inc();
        }
        const auth = this.o.authorizer();
        for (const hex of kv.dropMissing(after ?? '', last, kept, seen, (key) => auth.mayWrite(ctx.peer.cert, key))) unsettled.add(hex);
      });
    } finally {
      kv.resyncing = false;
    }
    return { next: last, floors };
  }

  // ---- responder ---------------------------------------------------------------------------------

  private serve(ctx: MessageContext, msgs: RawMessage[]): Uint8Array[] | null {
    if (this.stopped) return null;
    const [, , cursor, entries] = msgs[0]!.fields as [number, number, string | null, Array<[Uint8Array, number]>];
    const theirs = new Map<string, number>();
    for (const [origin, v] of entries) theirs.set(Buffer.from(origin).toString('hex'), v);
    const records = this.o.kv.originRecords();
    const behind = records.filter((r) => (theirs.get(r.hex) ?? 0) < r.floor);
    // What we lack of theirs, so a response is never empty and they may push it to us later.
    const wants: Array<[Uint8Array, number]> = [];
    for (const r of records) if ((theirs.get(r.hex) ?? 0) > r.contiguous) wants.push([r.origin, r.contiguous]);
    const out = [encodeMessage([MessageType.KV_DIGEST, 0, null, wants])];
    const budget = Math.floor(this.o.maxFrameBytes * 0.8);
    if (cursor !== null || behind.length > 0) {
      this.c.served.inc({ kind: 'resync' });
      out.push(this.resyncChunk(ctx.peer, cursor ?? '', cursor, records, budget));
    } else {
      this.c.served.inc({ kind: 'delta' });
      out.push(...this.deltas(ctx.peer, theirs, records, budget));
    }
    return out;
  }

  private deltas(peer: PeerRecord, theirs: ReadonlyMap<string, number>, records: ReturnType<ReplicatedKv['originRecords']>, budget: number): Uint8Array[] {
    const auth = this.o.authorizer();
    const store = this.o.kv.store;
    const stale = records
      .filter((r) => r.contiguous > (theirs.get(r.hex) ?? 0))
      .sort((a, b) => (b.contiguous - (theirs.get(b.hex) ?? 0)) - (a.contiguous - (theirs.get(a.hex) ?? 0)));
    const out: Uint8Array[] = [];
    let used = 0;
    for (const r of stale) {
      if (used >= budget) break;
      const from = theirs.get(r.hex) ?? 0;
      const cert = from === 0 ? r.cert : null;
      used += 64 + (cert?.length ?? 0);
      const items: Array<Uint8Array | number> = [];
      let to = from;
      let done = false;
      while (!done && to < r.contiguous) {
        const rows = store.writesAfter(r.origin, to, 512);
        if (rows.length === 0) break;
        for (const w of rows) {
          // Stop at the first version we do not hold (hidden from us, or not arrived): gap-free runs only.
          if (w.version !== to + 1 || w.version > r.contiguous) {
            done = true;
            break;
          }
          const item = auth.mayRead(peer.cert, w.key) ? w.envelope : w.version;
          const size = typeof item === 'number' ? 9 : item.length + 5;
          if (used + size > budget) {
            done = true;
            break;
          }
          used += size;
          items.push(item);
          to = w.version;
        }
      }
      if (to > from) out.push(encodeMessage([MessageType.KV_DELTA, r.origin, cert, from, to, items]));
    }
    return out;
  }

  private resyncChunk(peer: PeerRecord, after: string, cursor: string | null, records: ReturnType<ReplicatedKv['originRecords']>, budget: number): Uint8Array {
    const auth = this.o.authorizer();
    const vector = records.map((r) => [r.origin, r.contiguous, Math.min(r.floor, r.contiguous), r.cert]);
    let used = 64 + records.length * 64 + records.reduce((s, r) => s + (r.cert?.length ?? 0), 0);
    const envelopes: Uint8Array[] = [];
    let last: string | null = null;
    let key = after;
    let full = false;
    while (!full) {
      const rows = this.o.kv.store.winnersAfter(key, Math.min(RESYNC_ROWS, 2048));
      if (rows.length === 0) break;
      for (const w of rows) {
        const size = w.envelope.length + 5;
        if (envelopes.length > 0 && used + size > budget) {
          full = true;
          break;
        }
        key = w.key;
        last = w.key;
        if (!auth.mayRead(peer.cert, w.key)) continue;
        used += size;
        envelopes.push(w.envelope);
      }
      if (envelopes.length >= RESYNC_ROWS) full = true;
    }
    // `last` null when the scan reached the end of the key space.
    return encodeMessage([MessageType.KV_RESYNC, cursor, full ? last : null, vector, envelopes]);
  }
}
