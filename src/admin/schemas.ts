/**
 * JSON schemas of the admin API: every route validates its path parameters, query and body with
 * them (Ajv, through fastify) and serializes its answers with them (fast-json-stringify). Response
 * schemas close every object (`additionalProperties: false`), so a field added to an internal
 * object by mistake — a certificate's bytes, a token hash — is dropped, not leaked. The same
 * schemas make the OpenAPI document (openapi.ts).
 */
import { LEVELS, COMPONENTS } from '../reputation/score.js';

type Schema = Record<string, unknown>;

const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const int = (extra: Schema = {}): Schema => ({ type: 'integer', ...extra });
const num = (extra: Schema = {}): Schema => ({ type: 'number', ...extra });
const nullable = (s: Schema): Schema => ({ ...s, type: [s.type as string, 'null'] });
const arr = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
/** A closed object: every listed property required unless named in `optional`. */
export function obj(properties: Record<string, Schema>, optional: readonly string[] = []): Schema {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties).filter((k) => !optional.includes(k)), properties };
}

export const NODE_ID = str({ pattern: '^[0-9a-fA-F]{64}$', description: 'A node id: 64 hex characters (its Ed25519 public key).' });
const HEX_ID = str({ pattern: '^[0-9a-f]{64}$' });
const TIME = int({ minimum: 0, description: 'Milliseconds since the Unix epoch.' });
const REASON = str({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'Why: kept in the audit log with the action.' });
const MAX_BAN_MS = 365 * 86_400_000;

export const ERROR = obj({ error: obj({ code: str({ pattern: '^HEARSAY_ERR_[A-Z_]+$' }), message: str() }) });

export const CALLER = obj({ name: str(), scope: str(), access: str({ enum: ['read-only', 'admin'] }) });

export const MEMBER = obj({
  id: HEX_ID, name: str(), tenant: str(), roles: arr(str()), address: str(),
  state: str({ enum: ['alive', 'suspect', 'dead', 'left'] }), incarnation: int(), self: { type: 'boolean' },
});

export const HEALTH = obj({
  status: str({ enum: ['ok'] }),
  node: nullable(obj({ id: HEX_ID, name: str(), tenant: str() })),
  state: str({ enum: ['healthy', 'degraded', 'partitioned'] }),
  reachableShare: num({ minimum: 0, maximum: 1 }),
  members: obj({ alive: int(), suspect: int(), dead: int(), left: int() }),
  seeds: int(),
  seedsReachable: int(),
  policyVersion: int(),
  revocationVersion: int(),
  uptimeMs: int(),
  caller: CALLER,
});

const BAN = obj({ until: TIME, reason: str(), source: str({ enum: ['admin', 'equivocation', 'score'] }), createdAt: TIME, evidence: nullable(str()) });

const COMPONENT_VIEW = obj({ counter: num(), contribution: num() });
const COMPONENTS_SCHEMA: Schema = {
  type: 'object', additionalProperties: false,
  description: 'Nonzero score components: decayed counter and contribution to the score.',
  properties: Object.fromEntries(COMPONENTS.map((c) => [c, COMPONENT_VIEW])),
};

const PEER_FIELDS = {
  id: HEX_ID,
  name: nullable(str()),
  tenant: nullable(str()),
  member: nullable(str({ enum: ['alive', 'suspect', 'dead', 'left'], description: 'Membership state, if a member.' })),
  tracked: { type: 'boolean', description: 'Whether the reputation engine holds a record of the peer (a quiet member may have none).' },
  score: num(),
  level: str({ enum: [...LEVELS] }),
  components: COMPONENTS_SCHEMA,
  ban: nullable(BAN),
  firstSeen: nullable(TIME),
  lastSeen: nullable(TIME),
};

export const PEER = obj(PEER_FIELDS);

export const EVENT = obj({
  id: int(), at: TIME, peer: nullable(HEX_ID), peerName: nullable(str()),
  type: str({ enum: ['offense', 'threshold', 'ban', 'unban', 'reset', 'evidence', 'evidence-rejected', 'suppressed'] }),
  offense: nullable(str()), detail: str(), score: nullable(num()),
});

const THRESHOLDS = obj({ gossip: num(), evict: num(), graylist: num(), ban: num() });

export const PEER_DETAIL = obj({
  ...PEER_FIELDS,
  thresholds: THRESHOLDS,
  thresholdsCrossed: arr(str({ enum: ['gossip', 'evict', 'graylist', 'ban'] })),
  events: arr(EVENT),
});

export const EVIDENCE = obj({
  id: str(), origin: HEX_ID, originName: nullable(str()), kind: int(), kindName: str(), slot: str(),
  reporter: nullable(str({ description: 'The node that gave us the proof (hex id, or "self"); null when hidden from a tenant token.' })),
  receivedAt: TIME, first: str({ contentEncoding: 'base64' }), second: str({ contentEncoding: 'base64' }), cert: str({ contentEncoding: 'base64' }),
});

const GRANT = obj({
  tenants: arr(str()), roles: arr(str()), allow: arr(str()), topics: arr(str()), keys: arr(str()), namespace: nullable(str()),
});
const LIMIT_VALUES = { packetsPerSecond: int(), maxMessageBytes: int() };
const POLICY_DOCUMENT = obj({
  cluster: str(), version: int(), description: str(), tenants: arr(str()), namespaces: arr(str()), roles: arr(str()),
  grants: arr(GRANT),
  limits: obj({
    default: obj(LIMIT_VALUES, ['packetsPerSecond', 'maxMessageBytes']),
    rules: arr(obj({ tenants: nullable(arr(str())), roles: nullable(arr(str())), ...LIMIT_VALUES }, ['packetsPerSecond', 'maxMessageBytes'])),
  }),
  // Names, scopes and access only: token hashes stay out of the API.
  tokens: arr(obj({ name: str(), scope: str(), access: str() })),
});

export const POLICY = obj({ policyVersion: int(), revocationVersion: int(), caller: CALLER, document: nullable(POLICY_DOCUMENT) });

export const KV_ENTRY = obj({
  key: str(), value: str({ contentEncoding: 'base64' }), text: nullable(str({ description: 'The value as UTF-8, when it is valid UTF-8.' })),
  origin: HEX_ID, version: int(), wall: TIME, logical: int(),
});

export const KV_RECEIPT = obj({ key: str(), origin: HEX_ID, version: int(), wall: TIME, logical: int(), id: str() });

export const SCORES = obj({
  intervalMs: int(), now: TIME,
  thresholds: THRESHOLDS,
  series: arr(obj({ id: HEX_ID, name: nullable(str()), points: arr(arr(num(), { minItems: 2, maxItems: 2 })) })),
});

// ---- inputs ------------------------------------------------------------------------------------

export const ID_PARAMS = obj({ id: NODE_ID });
export const KEY_PARAMS = obj({ '*': str({ minLength: 1, maxLength: 4096, description: 'The key, slashes included.' }) });

const LIMIT = (def: number, max: number): Schema => int({ minimum: 1, maximum: max, default: def });
const OFFSET = int({ minimum: 0, maximum: 1_000_000_000, default: 0 });
const BEFORE_ID = int({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Page backwards: events with a smaller id only.' });

export const MEMBERS_QUERY = obj({ state: str({ enum: ['alive', 'suspect', 'dead', 'left'] }), limit: LIMIT(1000, 10_000), offset: OFFSET }, ['state', 'limit', 'offset']);
export const PEERS_QUERY = obj({
  limit: LIMIT(100, 1000), offset: OFFSET, order: str({ enum: ['score', 'recent'], default: 'score' }), minLevel: str({ enum: [...LEVELS] }),
}, ['limit', 'offset', 'order', 'minLevel']);
export const PEER_QUERY = obj({ events: int({ minimum: 0, maximum: 200, default: 20 }) }, ['events']);
export const EVENTS_QUERY = obj({ limit: LIMIT(100, 1000), beforeId: BEFORE_ID }, ['limit', 'beforeId']);
export const EVIDENCE_QUERY = obj({ limit: LIMIT(100, 1000), offset: OFFSET }, ['limit', 'offset']);
export const SCORES_QUERY = obj({ peers: int({ minimum: 1, maximum: 128, default: 16 }) }, ['peers']);

export const BAN_BODY = obj({
  reason: REASON,
  durationMs: int({ minimum: 1000, maximum: MAX_BAN_MS, description: 'From 1 s to 365 days.' }),
});
export const REASON_BODY = obj({ reason: REASON });
export const KV_PUT_BODY = obj({
  value: str({ maxLength: 100_000 }),
  encoding: str({ enum: ['utf8', 'base64'], default: 'utf8' }),
}, ['encoding']);

export const BAN_RESULT = obj({ peer: HEX_ID, ban: BAN });
export const UNBAN_RESULT = obj({ peer: HEX_ID, unbanned: { type: 'boolean' } });
export const RESET_RESULT = obj({ peer: HEX_ID, reset: { type: 'boolean' } });

export const list = (key: string, item: Schema, withTotal = false): Schema =>
  obj(withTotal ? { total: int(), [key]: arr(item) } : { [key]: arr(item) });
