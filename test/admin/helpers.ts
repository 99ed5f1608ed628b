/**
 * A small simulated cluster with two tenants for admin API tests: real nodes (production crypto,
 * in-memory network, virtual clock, in-memory SQLite), a signed policy with one token of every
 * kind, reputation state and proofs of equivocation about peers of both tenants, and key/value
 * data of both tenants. The admin server is real fastify, driven with inject().
 */
import { randomBytes } from 'node:crypto';
import { AdminServer } from '../../src/admin/server.js';
import { createBackend } from '../../src/identity/backends.js';
import { createNodeIdentityInMemory, type NodeIdentity } from '../../src/identity/node-identity.js';
import type { Logger } from '../../src/log.js';
import type { Node } from '../../src/node.js';
import { signPolicy } from '../../src/policy/signed-documents.js';
import { hashToken } from '../../src/policy/tokens.js';
import { SimCluster } from '../../src/sim/sim-cluster.js';
import { EnvelopeKind, signEnvelope } from '../../src/wire/envelope.js';

const backend = createBackend('node');

export type TokenKind = 'cluster-ro' | 'cluster-admin' | 'a-ro' | 'a-admin' | 'b-ro' | 'b-admin';

export const TOKEN_KINDS: readonly TokenKind[] = ['cluster-ro', 'cluster-admin', 'a-ro', 'a-admin', 'b-ro', 'b-admin'];

function makeToken(): string {
  return `hst_${randomBytes(32).toString('base64url')}`;
}

export interface AdminFixture {
  readonly sim: SimCluster;
  /** a1 (tenant a) serves the admin API; a2 is tenant a; b1 and b2 are tenant b. */
  readonly nodes: Record<'a1' | 'a2' | 'b1' | 'b2', Node>;
  readonly server: AdminServer;
  readonly tokens: Record<TokenKind, string>;
  /** Ids by name, including rogues (not members) whose proofs of equivocation a1 holds, and a stranger of no known tenant. */
  readonly ids: Record<'a1' | 'a2' | 'b1' | 'b2' | 'rogueA' | 'rogueA2' | 'rogueB' | 'stranger', string>;
  close(): Promise<void>;
}

export function policyDocument(tokens: Record<TokenKind, string>): Record<string, unknown> {
  const scopeOf = (k: TokenKind): string => (k.startsWith('cluster') ? 'cluster' : `tenant:${k[0]}`);
  return {
    kind: 'hearsay-policy', cluster: 'sim', version: 1, tenants: ['a', 'b'], namespaces: ['shared'], roles: ['app'],
    grants: [
      { tenants: ['*'], roles: ['*'], allow: ['publish', 'subscribe'], topics: ['t/**'] },
      { tenants: ['*'], roles: ['*'], allow: ['read', 'write'], keys: ['k/**'] },
    ],
    tokens: TOKEN_KINDS.map((k) => ({ name: k, sha256: hashToken(tokens[k]), scope: scopeOf(k), access: k.endsWith('admin') ? 'admin' : 'read-only' })),
  };
}

/** Two validly signed rumors of `who` for one slot with different content: a proof of equivocation. */
function equivocation(who: NodeIdentity, topic: string, now: number): [Uint8Array, Uint8Array] {
  const rumor = (d: string): Uint8Array =>
    signEnvelope(EnvelopeKind.RUMOR, who.nodeId, who.seed, [topic, now - 5000, 7, now, 0, 0, [], new TextEncoder().encode(d)], backend).bytes;
  return [rumor('first'), rumor('second')];
}

export async function adminFixture(options: { authFailuresPerMinute?: number; logger?: Logger } = {}): Promise<AdminFixture> {
  const sim = new SimCluster({ seed: 7, network: { latencyMs: 1, jitterMs: 1 }, config: { reputationTickMs: 1000 }, ...(options.logger === undefined ? {} : { logger: options.logger }) });
  const tokens = Object.fromEntries(TOKEN_KINDS.map((k) => [k, makeToken()])) as Record<TokenKind, string>;
  const a1 = sim.createNode({ name: 'a1', tenant: 'a', roles: ['app'] });
  await a1.start();
  const a2 = sim.createNode({ name: 'a2', tenant: 'a', roles: ['app'] });
  const b1 = sim.createNode({ name: 'b1', tenant: 'b', roles: ['app'] });
  const b2 = sim.createNode({ name: 'b2', tenant: 'b', roles: ['app'] });
  for (const n of [a2, b1, b2]) await n.start();
  const signed = signPolicy(JSON.stringify(policyDocument(tokens)), sim.authoritySeed, backend);
  for (const n of [a1, a2, b1, b2]) n.policy.adoptPolicy(signed, 'api');
  const all = [a1, a2, b1, b2];
  const formed = await sim.runUntil(() => all.every((n) => n.members().filter((m) => m.state === 'alive').length === 4), 30_000);
  if (formed < 0) throw new Error('the simulated cluster did not form');

  const hex = (n: Node): string => n.id;
  const now = sim.clock.now();
  const rogueA = createNodeIdentityInMemory({ authoritySeed: sim.authoritySeed, cluster: 'sim', name: 'rogue-a', tenant: 'a', roles: ['app'], now, backend });
  // Its proof reaches a1 from b1: the audit event names b1, which tenant a must not learn.
  const rogueA2 = createNodeIdentityInMemory({ authoritySeed: sim.authoritySeed, cluster: 'sim', name: 'rogue-a2', tenant: 'a', roles: ['app'], now, backend });
  const rogueB = createNodeIdentityInMemory({ authoritySeed: sim.authoritySeed, cluster: 'sim', name: 'rogue-b', tenant: 'b', roles: ['app'], now, backend });
  const stranger = randomBytes(32).toString('hex');
  const engine = a1.reputation!;
  for (let i = 0; i < 3; i++) engine.charge(a2.internals.identity.nodeId, 'malformed', 'test: a2 malformed');
  for (let i = 0; i < 5; i++) engine.charge(b1.internals.identity.nodeId, 'malformed', 'test: b1 malformed');
  engine.charge(Buffer.from(stranger, 'hex'), 'invalid-signature', 'test: stranger');
  const [fa, sa] = equivocation(rogueA, 'a/t/x', now);
  const [fb, sb] = equivocation(rogueB, 'b/t/y', now);
  if (engine.receiveEvidence(fa, sa, rogueA.certBytes, null, null) !== 'accepted') throw new Error('proof about rogue-a refused');
  if (engine.receiveEvidence(fb, sb, rogueB.certBytes, null, null) !== 'accepted') throw new Error('proof about rogue-b refused');
  const [fa2, sa2] = equivocation(rogueA2, 'a/t/z', now);
  const b1Id = b1.internals.identity.nodeId;
  if (engine.receiveEvidence(fa2, sa2, rogueA2.certBytes, b1Id, b1Id) !== 'accepted') throw new Error('proof about rogue-a2 refused');
  await a1.kv.set('a/k/x', 'tenant a value');
  await b1.kv.set('b/k/y', 'tenant b value');
  await sim.run(2000);
  engine.flush();

  const server = new AdminServer(a1, { scoreSampleMs: 1000, ...(options.authFailuresPerMinute === undefined ? {} : { authFailuresPerMinute: options.authFailuresPerMinute }) });
  await sim.run(3000);
  return {
    sim, nodes: { a1, a2, b1, b2 }, server, tokens,
    ids: {
      a1: hex(a1), a2: hex(a2), b1: hex(b1), b2: hex(b2), rogueA: Buffer.from(rogueA.nodeId).toString('hex'), rogueA2: Buffer.from(rogueA2.nodeId).toString('hex'), rogueB: Buffer.from(rogueB.nodeId).toString('hex'), stranger,
    },
    close: async () => {
      await server.close();
      await sim.stopAll();
    },
  };
}

export function auth(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
