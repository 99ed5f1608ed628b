/**
 * The operator commands that talk to a node's admin API: `members`, `peers`, `peer`, `ban`,
 * `unban`, `reset` and `evidence`. Readable tables by default, the API's JSON with `--json`.
 *
 * Exit codes: 0 ok, 1 other failure, 2 bad usage, 3 node unreachable, 4 not authenticated (401,
 * or 429 after too many failures), 5 forbidden (403), 6 not found (404).
 */
import { HearsayError } from '../errors.js';
import { formatFlags, parseArgs, type ArgSpec } from './args.js';
import { AdminClient, AdminRequestError, adminBaseUrl, adminToken, isAdminRequestError } from './admin-client.js';
import { ago, formatDuration, formatTime, parseDuration, score, shortHex, table } from './admin-format.js';
import { runGuarded, type Command, type CommandIo } from './command.js';

const COMMON = {
  admin: { type: 'string', metavar: 'URL', description: 'the node\'s admin API (default: $HEARSAY_ADMIN, else http://127.0.0.1:7401)' },
  'token-file': { type: 'string', metavar: 'FILE', description: 'file holding the admin token, mode 0600 (default: $HEARSAY_TOKEN)' },
  timeout: { type: 'int', min: 100, max: 120_000, default: 10_000, metavar: 'MS', description: 'give up on the node after MS milliseconds' },
  json: { type: 'boolean', description: 'print the API\'s JSON answer instead of a table' },
} as const;

const REASON = { type: 'string', required: true, metavar: 'TEXT', description: 'why (1-200 characters; kept in the audit log with the token\'s name)' } as const;
const ID_PATTERN = /^[0-9a-fA-F]{64}$/;
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const EXIT_TEXT = [
  'exit codes: 0 ok, 1 failure, 2 bad usage, 3 node unreachable, 4 not authenticated (or rate-limited), 5 forbidden, 6 not found',
  'The token comes from --token-file or HEARSAY_TOKEN, never from a flag: a command line shows in ps and shell history.',
];

interface Member { id: string; name: string; tenant: string; roles: string[]; address: string; state: string; incarnation: number; self: boolean }
interface Ban { until: number; reason: string; source: string; createdAt: number; evidence: string | null }
interface Peer {
  id: string; name: string | null; tenant: string | null; member: string | null; tracked: boolean; score: number; level: string;
  components: Record<string, { counter: number; contribution: number }>; ban: Ban | null; firstSeen: number | null; lastSeen: number | null;
}
interface Event { id: number; at: number; peer: string | null; peerName: string | null; type: string; offense: string | null; detail: string; score: number | null }
interface PeerDetail extends Peer { thresholds: Record<string, number>; thresholdsCrossed: string[]; events: Event[] }
interface Evidence { id: string; origin: string; originName: string | null; kind: number; kindName: string; slot: string; reporter: string | null; receivedAt: number }

function usageOf(synopsis: string, summary: string, spec: ArgSpec): string {
  return [`usage: hearsay ${synopsis}`, '', summary, '', 'flags:', ...formatFlags(spec), '', ...EXIT_TEXT].join('\n');
}

/** Splits a leading positional argument (a peer id or member name) from the flags. */
function positional(argv: readonly string[]): { target: string | null; rest: string[] } {
  const first = argv[0];
  if (first === undefined || first.startsWith('--')) return { target: null, rest: [...argv] };
  if (!ID_PATTERN.test(first) && !NAME_PATTERN.test(first)) {
    throw new HearsayError('HEARSAY_ERR_USAGE', `expected a peer id (64 hex characters) or a member name (got ${JSON.stringify(first.slice(0, 70))})`);
  }
  return { target: first, rest: argv.slice(1) };
}

function client(args: { admin: string | undefined; 'token-file': string | undefined; timeout: number }): AdminClient {
  return new AdminClient(adminBaseUrl(args.admin, process.env), adminToken(args['token-file'], process.env), args.timeout);
}

/** A 64-hex id as is; a name looked up among the members this token can see. */
async function resolvePeer(c: AdminClient, target: string): Promise<string> {
  if (ID_PATTERN.test(target)) return target.toLowerCase();
  const { members } = await c.get<{ members: Member[] }>('/v1/members?limit=10000');
  const hits = members.filter((m) => m.name === target);
  if (hits.length === 1) return hits[0]!.id;
  throw new AdminRequestError('HEARSAY_ERR_ADMIN_NOT_FOUND', hits.length === 0 ? `no member named ${target} visible to this token (give its 64-hex id)` : `${hits.length} members are named ${target}; give the id`, 404);
}

/**
 * Runs an admin command body: usage errors exit 2 (runGuarded), API errors exit with their own
 * code and one line naming the server's error code. The token never appears in any output.
 */
function adminCommand<const S extends ArgSpec>(synopsis: string, summary: string, spec: S, needsTarget: boolean, body: (c: AdminClient, args: ReturnType<typeof parseArgs<S>>, target: string | null, io: CommandIo) => Promise<void>): Command {
  const usage = usageOf(synopsis, summary, spec);
  return {
    summary,
    usage,
    run: (argv, io) => runGuarded(usage, argv, io, async () => {
      const split = positional(argv);
      if (needsTarget && split.target === null) throw new HearsayError('HEARSAY_ERR_USAGE', `hearsay ${synopsis.split(' ')[0]} needs a peer id or member name`);
      if (!needsTarget && split.target !== null) throw new HearsayError('HEARSAY_ERR_USAGE', `unexpected argument ${JSON.stringify(split.target)} (flags start with --)`);
      const args = parseArgs(split.rest, spec);
      const c = client(args as unknown as { admin: string | undefined; 'token-file': string | undefined; timeout: number });
      try {
        await body(c, args, split.target, io);
        return 0;
      } catch (e) {
        if (!isAdminRequestError(e)) throw e;
        io.err(`error: ${e.message} [${e.code}]`);
        return e.exitCode;
      }
    }),
  };
}

function printJson(io: CommandIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

function who(name: string | null, id: string): string {
  return name === null ? shortHex(id) : `${name} (${shortHex(id)})`;
}

function banText(b: Ban | null, now: number): string {
  return b === null ? '-' : `${b.source}, ${formatDuration(b.until - now)} left`;
}

const membersSpec = { ...COMMON, state: { type: 'string', pattern: /^(alive|suspect|dead|left)$/, patternText: 'alive, suspect, dead or left', metavar: 'STATE', description: 'only members in this state' } } as const;
const peersSpec = {
  ...COMMON,
  limit: { type: 'int', min: 1, max: 1000, default: 50, description: 'at most N peers' },
  'min-level': { type: 'string', pattern: /^(ok|no-gossip|evicted|graylisted|banned)$/, patternText: 'ok, no-gossip, evicted, graylisted or banned', metavar: 'LEVEL', description: 'only peers at this level or worse' },
  recent: { type: 'boolean', description: 'most recently active first (default: lowest score first)' },
} as const;
const peerSpec = { ...COMMON, events: { type: 'int', min: 0, max: 200, default: 20, description: 'recent audit events to show' } } as const;
const banSpec = { ...COMMON, reason: REASON, for: { type: 'string', required: true, metavar: 'DURATION', description: 'how long: 30m, 2h, 7d, 1h30m (1s to 365d)' } } as const;
const reasonSpec = { ...COMMON, reason: REASON } as const;
const evidenceSpec = { ...COMMON, limit: { type: 'int', min: 1, max: 1000, default: 50, description: 'at most N proofs' } } as const;

export const adminCommands: Record<string, Command> = {
  members: adminCommand('members [--state STATE] [--json]', 'List the members a node sees (a tenant token: its tenant\'s only).', membersSpec, false, async (c, args, _t, io) => {
    const r = await c.get<{ total: number; members: Member[] }>(`/v1/members${args.state === undefined ? '' : `?state=${args.state}`}`);
    if (args.json) return printJson(io, r);
    for (const line of table(['NAME', 'TENANT', 'STATE', 'ADDRESS', 'ROLES', 'ID'], r.members.map((m) => [
      m.self ? `${m.name} *` : m.name, m.tenant, m.state, m.address, m.roles.join(',') || '-', shortHex(m.id),
    ]))) io.out(line);
    io.out(`${r.total} member(s); * = the node answering`);
  }),

  peers: adminCommand('peers [--limit N] [--min-level LEVEL] [--recent] [--json]', 'List peers by reputation score, lowest first.', peersSpec, false, async (c, args, _t, io) => {
    const q = new URLSearchParams({ limit: String(args.limit), order: args.recent ? 'recent' : 'score' });
    if (args['min-level'] !== undefined) q.set('minLevel', args['min-level']);
    const r = await c.get<{ total: number; peers: Peer[] }>(`/v1/peers?${q.toString()}`);
    if (args.json) return printJson(io, r);
    const now = Date.now();
    for (const line of table(['NAME', 'ID', 'TENANT', 'SCORE', 'LEVEL', 'BAN', 'LAST SEEN'], r.peers.map((p) => [
      p.name ?? '?', shortHex(p.id), p.tenant ?? '?', score(p.score), p.level, banText(p.ban, now), ago(p.lastSeen, now),
    ]), new Set([3]))) io.out(line);
    io.out(`${r.peers.length} of ${r.total} peer(s)${r.total === 0 ? ' (no peer has a reputation record yet: quiet peers are neutral, score 0)' : ''}`);
  }),

  peer: adminCommand('peer ID|NAME [--events N] [--json]', 'Show one peer: score and its components, thresholds crossed, ban, recent events.', peerSpec, true, async (c, args, target, io) => {
    const id = await resolvePeer(c, target!);
    const p = await c.get<PeerDetail>(`/v1/peers/${id}?events=${args.events}`);
    if (args.json) return printJson(io, p);
    const now = Date.now();
    io.out(`peer      ${p.id}`);
    io.out(`name      ${p.name ?? '?'} (tenant ${p.tenant ?? '?'})${p.member === null ? '' : `, member ${p.member}`}`);
    io.out(`score     ${score(p.score)} (${p.level})${p.thresholdsCrossed.length === 0 ? '' : `, below: ${p.thresholdsCrossed.join(', ')}`}`);
    io.out(`limits    gossip ${p.thresholds.gossip}, evict ${p.thresholds.evict}, graylist ${p.thresholds.graylist}, ban ${p.thresholds.ban}`);
    io.out(`ban       ${p.ban === null ? 'none' : `${p.ban.source}: ${p.ban.reason}; until ${formatTime(p.ban.until)} (${formatDuration(p.ban.until - now)} left)`}`);
    io.out(`seen      first ${formatTime(p.firstSeen)}, last ${ago(p.lastSeen, now)}`);
    const comps = Object.entries(p.components);
    if (comps.length > 0) {
      io.out('');
      for (const line of table(['COMPONENT', 'COUNTER', 'CONTRIBUTION'], comps.map(([k, v]) => [k, v.counter.toFixed(2), score(v.contribution)]), new Set([1, 2]))) io.out(line);
    }
    if (p.events.length > 0) {
      io.out('');
      for (const line of table(['TIME', 'TYPE', 'OFFENSE', 'SCORE', 'DETAIL'], p.events.map((e) => [formatTime(e.at), e.type, e.offense ?? '-', score(e.score), e.detail]), new Set([3]))) io.out(line);
    }
  }),

  ban: adminCommand('ban ID|NAME --reason TEXT --for DURATION [--json]', 'Ban a peer: every packet from it is dropped before any crypto, until the ban ends.', banSpec, true, async (c, args, target, io) => {
    const durationMs = parseDuration(args.for);
    const id = await resolvePeer(c, target!);
    const r = await c.request<{ peer: string; ban: Ban }>('POST', `/v1/peers/${id}/ban`, { reason: args.reason, durationMs });
    if (args.json) return printJson(io, r);
    io.out(`banned ${shortHex(r.peer)} until ${formatTime(r.ban.until)} (${formatDuration(durationMs)}): ${r.ban.reason}`);
  }),

  unban: adminCommand('unban ID|NAME --reason TEXT [--json]', 'Lift a peer\'s ban (admin, score or equivocation ban; stored evidence stays).', reasonSpec, true, async (c, args, target, io) => {
    const id = await resolvePeer(c, target!);
    const r = await c.request<{ peer: string; unbanned: boolean }>('DELETE', `/v1/peers/${id}/ban`, { reason: args.reason });
    if (args.json) return printJson(io, r);
    io.out(r.unbanned ? `unbanned ${shortHex(r.peer)}` : `${shortHex(r.peer)} was not banned`);
  }),

  reset: adminCommand('reset ID|NAME --reason TEXT [--json]', 'Zero a peer\'s score counters (its ban, if any, stays).', reasonSpec, true, async (c, args, target, io) => {
    const id = await resolvePeer(c, target!);
    const r = await c.request<{ peer: string; reset: boolean }>('POST', `/v1/peers/${id}/reset`, { reason: args.reason });
    if (args.json) return printJson(io, r);
    io.out(r.reset ? `reset the score of ${shortHex(r.peer)}` : `${shortHex(r.peer)} has no reputation record; nothing to reset`);
  }),

  evidence: adminCommand('evidence [--limit N] [--json]', 'List stored proofs of equivocation (--json includes the signed envelopes).', evidenceSpec, false, async (c, args, _t, io) => {
    const r = await c.get<{ evidence: Evidence[] }>(`/v1/evidence?limit=${args.limit}`);
    if (args.json) return printJson(io, r);
    for (const line of table(['ORIGIN', 'KIND', 'SLOT', 'RECEIVED', 'REPORTER', 'PROOF'], r.evidence.map((e) => [
      who(e.originName, e.origin), e.kindName, e.slot, formatTime(e.receivedAt), e.reporter === null ? '-' : e.reporter === 'self' || e.reporter === 'unknown' ? e.reporter : shortHex(e.reporter), e.id.slice(0, 16),
    ]))) io.out(line);
    io.out(`${r.evidence.length} proof(s)`);
  }),
};
