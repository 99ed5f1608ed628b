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
  | { type: 'stop' };

export type ControlEvent =
  | { type: 'ready'; id: string; name: string; address: string; pid: number }
  | { type: 'delivery'; topic: string; data: string; origin: string; originName: string; seq: number; id: string; receivedAtHr: number }
  | { type: 'published'; ref: number; id: string; publishedAtHr: number }
  | { type: 'members'; ref: number; members: Array<{ name: string; state: string; address: string; self: boolean }> }
  | { type: 'metrics'; ref: number; text: string }
  | { type: 'error'; ref: number; message: string }
  | { type: 'stopping' };

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one host. */
export function hrNow(): number {
  return performance.timeOrigin + performance.now();
}

const TOPIC_MAX = 200;
const DATA_MAX = 60_000;

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
          send({ type: 'members', ref: req.ref, members: node.members().map((m) => ({ name: m.name, state: m.state, address: m.address, self: m.self })) });
          return;
        case 'metrics':
          send({ type: 'metrics', ref: req.ref, text: node.metrics.render() });
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
