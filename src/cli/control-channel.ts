/**
 * A control channel between `hearsay demo` (or a test harness) and the node processes it starts:
 * Node's IPC channel of `child_process.fork`, never a network socket. The parent asks a node to
 * subscribe, publish, list members or stop; the node reports readiness, deliveries and answers.
 * Messages from the parent are validated like any other input: a malformed one is answered with
 * an error, never a crash.
 */
import type { Node } from '../node.js';

export type ControlRequest =
  | { type: 'subscribe'; topic: string }
  | { type: 'publish'; topic: string; data: string; ref: number }
  | { type: 'members'; ref: number }
  | { type: 'metrics'; ref: number }
  | { type: 'reputation'; ref: number; peer: string }
  | { type: 'kvSet'; ref: number; key: string; value: string }
  | { type: 'kvDelete'; ref: number; key: string }
  | { type: 'kvList'; ref: number; prefix: string }
  | { type: 'stop' };

export type ControlEvent =
  /** `admin`: the admin API's base URL when adminEnabled (the bound port, also with adminPort 0), else null. */
  | { type: 'ready'; id: string; name: string; address: string; pid: number; admin: string | null }
  | { type: 'delivery'; topic: string; data: string; origin: string; originName: string; seq: number; id: string; receivedAtHr: number }
  | { type: 'published'; ref: number; id: string; publishedAtHr: number }
  | { type: 'members'; ref: number; members: Array<{ name: string; state: string; address: string; self: boolean; incarnation: number }> }
  | { type: 'metrics'; ref: number; text: string }
  | { type: 'reputation'; ref: number; peer: ReputationSummary | null }
  | { type: 'kvDone'; ref: number; key: string; version: number; wall: number; logical: number }
  | { type: 'kvList'; ref: number; entries: Array<{ key: string; value: string; origin: string; version: number }> }
  | { type: 'error'; ref: number; message: string }
  | { type: 'stopping' };

/** One peer as this node's reputation engine sees it (null: never seen, or no engine). */
export interface ReputationSummary {
  readonly id: string;
  readonly level: string;
  readonly score: number;
  readonly ban: { readonly source: string; readonly reason: string; readonly until: number } | null;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one host. */
export function hrNow(): number {
  return performance.timeOrigin + performance.now();
}

const TOPIC_MAX = 200;
const DATA_MAX = 60_000;
const KEY_MAX = 4096;

function parseRequest(msg: unknown): ControlRequest | null {
  if (typeof msg !== 'object' || msg === null) return null;
  const m = msg as Record<string, unknown>;
  const str = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
  const ref = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
  switch (m.type) {
    case 'subscribe':
      return str(m.topic, TOPIC_MAX) ? { type: 'subscribe', topic: m.topic } : null;
    case 'publish':
      return str(m.topic, TOPIC_MAX) && str(m.data, DATA_MAX) && ref(m.ref) ? { type: 'publish', topic: m.topic, data: m.data, ref: m.ref } : null;
    case 'members':
      return ref(m.ref) ? { type: 'members', ref: m.ref } : null;
    case 'metrics':
      return ref(m.ref) ? { type: 'metrics', ref: m.ref } : null;
    case 'reputation':
      return ref(m.ref) && typeof m.peer === 'string' && /^[0-9a-f]{64}$/.test(m.peer) ? { type: 'reputation', ref: m.ref, peer: m.peer } : null;
    case 'kvSet':
      return ref(m.ref) && str(m.key, KEY_MAX) && str(m.value, DATA_MAX) ? { type: 'kvSet', ref: m.ref, key: m.key, value: m.value } : null;
    case 'kvDelete':
      return ref(m.ref) && str(m.key, KEY_MAX) ? { type: 'kvDelete', ref: m.ref, key: m.key } : null;
    case 'kvList':
      return ref(m.ref) && str(m.prefix, KEY_MAX) ? { type: 'kvList', ref: m.ref, prefix: m.prefix } : null;
    case 'stop':
      return { type: 'stop' };
    default:
      return null;
  }
}

/** Serves the control channel of a node started by a parent process. */
export function serveControlChannel(node: Node, send: (e: ControlEvent) => void, onStop: () => void): (msg: unknown) => void {
  const subscribed = new Set<string>();
  return (msg: unknown) => {
    const req = parseRequest(msg);
    if (req === null) {
      send({ type: 'error', ref: -1, message: 'malformed control request' });
      return;
    }
    try {
      switch (req.type) {
        case 'subscribe':
          if (subscribed.has(req.topic)) return;
          subscribed.add(req.topic);
          node.subscribe(req.topic, (d) => send({
            type: 'delivery', topic: d.topic, data: Buffer.from(d.data).toString('utf8'), origin: Buffer.from(d.origin).toString('hex'),
            originName: d.originName, seq: d.seq, id: d.id, receivedAtHr: hrNow(),
          }));
          return;
        case 'publish': {
          const publishedAtHr = hrNow();
          const id = node.publish(req.topic, req.data);
          send({ type: 'published', ref: req.ref, id, publishedAtHr });
          return;
        }
        case 'members':
          send({ type: 'members', ref: req.ref, members: node.members().map((m) => ({ name: m.name, state: m.state, address: m.address, self: m.self, incarnation: m.incarnation })) });
          return;
        case 'metrics':
          send({ type: 'metrics', ref: req.ref, text: node.metrics.render() });
          return;
        case 'reputation': {
          const d = node.reputation?.query.peer(req.peer) ?? null;
          send({
            type: 'reputation', ref: req.ref,
            peer: d === null ? null : { id: d.id, level: d.level, score: d.score, ban: d.ban === null ? null : { source: d.ban.source, reason: d.ban.reason, until: d.ban.until } },
          });
          return;
        }
        case 'kvSet':
        case 'kvDelete': {
          // Answered once the write is committed (fsynced) on this node: what a test may count as acknowledged.
          const ref = req.ref;
          const p = req.type === 'kvSet' ? node.kv.set(req.key, req.value) : node.kv.delete(req.key);
          p.then(
            (r) => send({ type: 'kvDone', ref, key: r.key, version: r.version, wall: r.wall, logical: r.logical }),
            (e: Error) => send({ type: 'error', ref, message: e.message }),
          );
          return;
        }
        case 'kvList':
          send({
            type: 'kvList', ref: req.ref,
            entries: node.kv.list(req.prefix).map((e) => ({ key: e.key, value: Buffer.from(e.value).toString('utf8'), origin: e.origin, version: e.version })),
          });
          return;
        case 'stop':
          onStop();
          return;
      }
    } catch (e) {
      send({ type: 'error', ref: 'ref' in req ? req.ref : -1, message: (e as Error).message });
    }
  };
}
