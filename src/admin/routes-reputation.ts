/**
 * The reputation routes: peers and their scores, the audit log, proofs of equivocation, the score
 * history behind the dashboard's chart, and the admin overrides (ban, unban, reset), each with a
 * reason that goes into the audit log together with the name of the token that asked.
 *
 * A tenant token sees and acts on peers of its tenant only (directory.ts finds a peer's tenant);
 * anything else answers 404, exactly as for an id nobody knows, so a tenant cannot probe which
 * ids another tenant's nodes have.
 */
import type { ReputationEngine } from '../reputation/engine.js';
import type { EventView, EvidenceView } from '../reputation/queries.js';
import { breakdown, decayCounters, LEVELS, scoreOfCounters, type LevelName } from '../reputation/score.js';
import { seesTenant, type Caller } from './auth.js';
import type { Directory } from './directory.js';
import { notFound, unavailable } from './http-errors.js';
import { callerOf, type AdminContext, type AdminRoute } from './route.js';
import {
  BAN_BODY, BAN_RESULT, EVENT, EVENTS_QUERY, EVIDENCE, EVIDENCE_QUERY, ID_PARAMS, PEER, PEER_DETAIL, PEER_QUERY, PEERS_QUERY, REASON_BODY,
  RESET_RESULT, SCORES, SCORES_QUERY, UNBAN_RESULT, list,
} from './schemas.js';

/** Audit-log pages scanned at most for one filtered request (bounds the work a tenant token can cause). */
const MAX_SCAN_PAGES = 20;
const PAGE = 1000;
const MAX_DETAIL = 200;

function engineOf(ctx: AdminContext): ReputationEngine {
  const e = ctx.node.reputation;
  if (e === null || e.isClosed) throw unavailable('this node has no reputation engine');
  return e;
}

/** Is the peer's tenant known and visible to the caller? */
function visible(caller: Caller, dir: Directory, id: string): boolean {
  if (caller.scope.kind === 'cluster') return true;
  return seesTenant(caller, dir.identify(id)?.tenant ?? null);
}

function peerJson(engine: ReputationEngine, dir: Directory, id: string, now: number): Record<string, unknown> {
  const who = dir.identify(id);
  const member = dir.member(id)?.state ?? null;
  const s = engine.table.get(id);
  if (s === undefined) {
    return { id, name: who?.name ?? null, tenant: who?.tenant ?? null, member, tracked: false, score: 0, level: 'ok', components: {}, ban: null, firstSeen: null, lastSeen: null };
  }
  const p = engine.params;
  return {
    id, name: who?.name ?? null, tenant: who?.tenant ?? null, member, tracked: true,
    score: scoreOfCounters(decayCounters(s, p, now), p), level: LEVELS[s.level]!, components: breakdown(s, p, now),
    ban: s.ban === null ? null : { ...s.ban }, firstSeen: s.firstSeen, lastSeen: s.lastSeen,
  };
}

function eventJson(e: EventView, dir: Directory, caller: Caller): Record<string, unknown> {
  return { ...e, detail: redactReporters(e.detail, caller, dir), peerName: e.peer === null ? null : dir.identify(e.peer)?.name ?? null };
}

/**
 * A proof's audit event names the node that reported it (`from <short id>`), which may be of
 * another tenant: a tenant token sees the short id only if it is one of its own members.
 */
function redactReporters(detail: string, caller: Caller, dir: Directory): string {
  if (caller.scope.kind === 'cluster') return detail;
  return detail.replace(/\bfrom ([0-9a-f]{12})\b/g, (whole, prefix: string) => {
    for (const m of dir.memberMap().values()) if (m.id.startsWith(prefix) && seesTenant(caller, m.tenant)) return whole;
    return 'from another node';
  });
}

/** The target of an override: validated, and visible to the caller (or 404). */
function target(ctx: AdminContext, rawId: string): string {
  const id = rawId.toLowerCase();
  if (!visible(callerOf(ctx), ctx.directory, id)) throw notFound('no such peer visible to this token');
  return id;
}

/** The reason kept in the audit log: the caller's, and who gave it. */
function auditReason(reason: string, caller: Caller): string {
  const by = ` (by ${caller.name})`;
  const r = reason.trim();
  return r.length + by.length <= MAX_DETAIL ? `${r}${by}` : `${r.slice(0, MAX_DETAIL - by.length - 1)}…${by}`;
}

export function reputationRoutes(): AdminRoute[] {
  return [
    {
      method: 'GET', url: '/v1/peers', access: 'read',
      summary: 'Peers tracked by the reputation engine, lowest score first (or most recently active first), paged.',
      schema: { querystring: PEERS_QUERY, response: { 200: list('peers', PEER, true) } },
      handler: (ctx, req) => {
        const q = req.query as { limit: number; offset: number; order: 'score' | 'recent'; minLevel?: LevelName };
        const engine = engineOf(ctx);
        const caller = callerOf(ctx);
        const now = engine.now();
        const min = q.minLevel === undefined ? 0 : LEVELS.indexOf(q.minLevel);
        const rows: Array<{ id: string; score: number; lastSeen: number }> = [];
        for (const s of engine.table.values()) {
          if (s.level < min || !visible(caller, ctx.directory, s.id)) continue;
          rows.push({ id: s.id, score: scoreOfCounters(decayCounters(s, engine.params, now), engine.params), lastSeen: s.lastSeen });
        }
        if (q.order === 'recent') rows.sort((a, b) => b.lastSeen - a.lastSeen || (a.id < b.id ? -1 : 1));
        else rows.sort((a, b) => a.score - b.score || (a.id < b.id ? -1 : 1));
        return { total: rows.length, peers: rows.slice(q.offset, q.offset + q.limit).map((r) => peerJson(engine, ctx.directory, r.id, now)) };
      },
    },
    {
      method: 'GET', url: '/v1/peers/:id', access: 'read',
      summary: 'One peer: score with each component, thresholds and those crossed, ban, recent audit events.',
      schema: { params: ID_PARAMS, querystring: PEER_QUERY, response: { 200: PEER_DETAIL } },
      handler: (ctx, req) => {
        const engine = engineOf(ctx);
        const id = (req.params as { id: string }).id.toLowerCase();
        const { events } = req.query as { events: number };
        const known = engine.table.get(id) !== undefined || ctx.directory.identify(id) !== null;
        if (!known || !visible(callerOf(ctx), ctx.directory, id)) throw notFound('no such peer known to this node and visible to this token');
        const now = engine.now();
        const view = peerJson(engine, ctx.directory, id, now);
        const t = engine.params.thresholds;
        const score = view.score as number;
        return {
          ...view,
          thresholds: { ...t },
          thresholdsCrossed: (['gossip', 'evict', 'graylist', 'ban'] as const).filter((k) => score < t[k]),
          events: events === 0 ? [] : engine.query.events({ peer: id, limit: events }).map((e) => eventJson(e, ctx.directory, callerOf(ctx))),
        };
      },
    },
    {
      method: 'GET', url: '/v1/peers/:id/events', access: 'read',
      summary: 'The audit log of one peer, newest first; page back with beforeId.',
      schema: { params: ID_PARAMS, querystring: EVENTS_QUERY, response: { 200: list('events', EVENT) } },
      handler: (ctx, req) => {
        const engine = engineOf(ctx);
        const id = target(ctx, (req.params as { id: string }).id);
        const q = req.query as { limit: number; beforeId?: number };
        const rows = engine.query.events({ peer: id, limit: q.limit, ...(q.beforeId === undefined ? {} : { beforeId: q.beforeId }) });
        return { events: rows.map((e) => eventJson(e, ctx.directory, callerOf(ctx))) };
      },
    },
    {
      method: 'GET', url: '/v1/events', access: 'read',
      summary: 'The reputation audit log of every visible peer, newest first; page back with beforeId.',
      schema: { querystring: EVENTS_QUERY, response: { 200: list('events', EVENT) } },
      handler: (ctx, req) => {
        const engine = engineOf(ctx);
        const caller = callerOf(ctx);
        const q = req.query as { limit: number; beforeId?: number };
        if (caller.scope.kind === 'cluster') {
          const rows = engine.query.events({ limit: q.limit, ...(q.beforeId === undefined ? {} : { beforeId: q.beforeId }) });
          return { events: rows.map((e) => eventJson(e, ctx.directory, callerOf(ctx))) };
        }
        // A tenant token: filter page by page (events about no peer, or another tenant's, are skipped).
        const out: EventView[] = [];
        let before = q.beforeId;
        for (let i = 0; i < MAX_SCAN_PAGES && out.length < q.limit; i++) {
          const rows = engine.query.events({ limit: PAGE, ...(before === undefined ? {} : { beforeId: before }) });
          for (const e of rows) if (e.peer !== null && visible(caller, ctx.directory, e.peer) && out.length < q.limit) out.push(e);
          if (rows.length < PAGE) break;
          before = rows[rows.length - 1]!.id;
        }
        return { events: out.map((e) => eventJson(e, ctx.directory, callerOf(ctx))) };
      },
    },
    {
      method: 'POST', url: '/v1/peers/:id/ban', access: 'admin',
      summary: 'Bans a peer for durationMs (persisted; every packet from it is dropped before any crypto).',
      schema: { params: ID_PARAMS, body: BAN_BODY, response: { 200: BAN_RESULT } },
      handler: (ctx, req) => {
        const engine = engineOf(ctx);
        const id = target(ctx, (req.params as { id: string }).id);
        const body = req.body as { reason: string; durationMs: number };
        const ban = engine.ban(id, { reason: auditReason(body.reason, callerOf(ctx)), durationMs: body.durationMs });
        ctx.log({ action: 'ban', peer: id, durationMs: body.durationMs, reason: body.reason }, 'admin: peer banned');
        return { peer: id, ban: { ...ban } };
      },
    },
    {
      method: 'DELETE', url: '/v1/peers/:id/ban', access: 'admin',
      summary: 'Lifts a peer\'s ban (of any source; stored evidence stays). unbanned is false if there was none.',
      schema: { params: ID_PARAMS, body: REASON_BODY, response: { 200: UNBAN_RESULT } },
      handler: (ctx, req) => {
        const engine = engineOf(ctx);
        const id = target(ctx, (req.params as { id: string }).id);
        const { reason } = req.body as { reason: string };
        const unbanned = engine.unban(id, { reason: auditReason(reason, callerOf(ctx)) });
        ctx.log({ action: 'unban', peer: id, reason, unbanned }, 'admin: peer unbanned');
        return { peer: id, unbanned };
      },
    },
    {
      method: 'POST', url: '/v1/peers/:id/reset', access: 'admin',
      summary: 'Zeroes a peer\'s score counters (not its ban). reset is false for a peer the engine does not track.',
      schema: { params: ID_PARAMS, body: REASON_BODY, response: { 200: RESET_RESULT } },
      handler: (ctx, req) => {
        const engine = engineOf(ctx);
        const id = target(ctx, (req.params as { id: string }).id);
        const { reason } = req.body as { reason: string };
        const reset = engine.reset(id, { reason: auditReason(reason, callerOf(ctx)) });
        ctx.log({ action: 'reset', peer: id, reason, reset }, 'admin: peer score reset');
        return { peer: id, reset };
      },
    },
    {
      method: 'GET', url: '/v1/evidence', access: 'read',
      summary: 'Stored proofs of equivocation, newest first, with both signed envelopes and the origin\'s certificate (base64) so anyone can check them again.',
      schema: { querystring: EVIDENCE_QUERY, response: { 200: list('evidence', EVIDENCE) } },
      handler: (ctx, req) => {
        const engine = engineOf(ctx);
        const caller = callerOf(ctx);
        const q = req.query as { limit: number; offset: number };
        let rows: EvidenceView[];
        if (caller.scope.kind === 'cluster') {
          rows = engine.query.evidence({ limit: q.limit, offset: q.offset });
        } else {
          // The envelopes carry the origin's data: only the origin's tenant sees a proof.
          const mine: EvidenceView[] = [];
          for (let page = 0; page < MAX_SCAN_PAGES * 5 && mine.length < q.offset + q.limit; page++) {
            const batch = engine.query.evidence({ limit: PAGE, offset: page * PAGE });
            for (const e of batch) if (seesTenant(caller, ctx.directory.identify(e.origin, e.cert)?.tenant ?? null)) mine.push(e);
            if (batch.length < PAGE) break;
          }
          rows = mine.slice(q.offset, q.offset + q.limit);
        }
        return {
          evidence: rows.map((e) => ({
            ...e,
            originName: ctx.directory.identify(e.origin, e.cert)?.name ?? null,
            reporter: caller.scope.kind === 'cluster' || e.reporter === 'self' || visible(caller, ctx.directory, e.reporter) ? e.reporter : null,
          })),
        };
      },
    },
    {
      method: 'GET', url: '/v1/scores', access: 'read',
      summary: 'Score history of the lowest-scored watched peers (the dashboard chart): one sample per adminScoreSampleMs.',
      schema: { querystring: SCORES_QUERY, response: { 200: SCORES } },
      handler: (ctx, req) => {
        const engine = engineOf(ctx);
        const caller = callerOf(ctx);
        const { peers } = req.query as { peers: number };
        const series = ctx.history?.series((id) => visible(caller, ctx.directory, id), peers) ?? [];
        return {
          intervalMs: ctx.history?.intervalMs ?? 0, now: engine.now(), thresholds: { ...engine.params.thresholds },
          series: series.map((s) => ({ id: s.id, name: ctx.directory.identify(s.id)?.name ?? null, points: s.points })),
        };
      },
    },
  ];
}
