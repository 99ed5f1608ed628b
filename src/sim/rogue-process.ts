/**
 * A rogue node *process* for the real-process tests: a certified identity on a real UDP socket
 * that runs one attack from attackers.ts against real node processes, every `intervalMs`. It is a
 * separate entry point on purpose: `hearsay start` has no attacker mode and no config field can
 * turn one on.
 *
 * Started with `fork(dist/sim/rogue-process.js)` and driven over the IPC channel:
 *
 *   parent → { type: 'start', identityDir, authorityPublicKey, cluster, attack, intervalMs,
 *              targets: [{ address, certFile }] }
 *   child  → { type: 'ready', id, address }   then { type: 'round', round } after each round
 *   parent → { type: 'stop' }                 (or disconnect)
 */
import { loadNodeIdentity, readCertificateFile } from '../identity/node-identity.js';
import { createBackend } from '../identity/backends.js';
import { createNetTransport } from '../transport/net-transport.js';
import { ATTACK_NAMES, createAttack, type AttackName, type AttackTarget } from './attackers.js';
import { RogueEndpoint } from './rogue-endpoint.js';

interface StartRequest {
  type: 'start';
  identityDir: string;
  authorityPublicKey: string;
  cluster: string;
  attack: AttackName;
  intervalMs: number;
  targets: Array<{ address: string; certFile: string }>;
}

function parseStart(m: unknown): StartRequest | null {
  if (typeof m !== 'object' || m === null) return null;
  const r = m as Record<string, unknown>;
  const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 4096;
  if (r.type !== 'start' || !str(r.identityDir) || !str(r.authorityPublicKey) || !str(r.cluster)) return null;
  if (!(ATTACK_NAMES as readonly unknown[]).includes(r.attack)) return null;
  if (typeof r.intervalMs !== 'number' || r.intervalMs < 10 || r.intervalMs > 60_000) return null;
  if (!Array.isArray(r.targets) || r.targets.length === 0 || r.targets.length > 64) return null;
  for (const t of r.targets as unknown[]) {
    const x = t as Record<string, unknown>;
    if (typeof t !== 'object' || t === null || !str(x.address) || !str(x.certFile)) return null;
  }
  return r as unknown as StartRequest;
}

async function run(req: StartRequest): Promise<() => Promise<void>> {
  const backend = createBackend('node');
  const identity = loadNodeIdentity(req.identityDir, { authorityPublicKey: req.authorityPublicKey, cluster: req.cluster, now: Date.now(), backend });
  const transport = createNetTransport({ host: '127.0.0.1', port: 0, maxPacketBytes: 1400, maxFrameBytes: 4 * 1024 * 1024 });
  transport.onPacket(() => {});
  transport.onRequest(() => null);
  await transport.start();
  const rogue = new RogueEndpoint({ identity, cluster: req.cluster, backend, epoch: Date.now() });
  const targets: AttackTarget[] = req.targets.map((t) => ({ address: t.address, cert: readCertificateFile(t.certFile) }));
  const attack = createAttack(req.attack);
  let round = 0;
  const tick = (): void => {
    attack.step({
      rogue, now: Date.now(), round, targets, victim: { nodeId: identity.nodeId, certBytes: identity.certBytes },
      seenTtlMs: 120_000, maxClockSkewMs: 30_000, send: (t, pkt) => transport.send(t.address, pkt),
    });
    process.send?.({ type: 'round', round });
    round++;
  };
  tick();
  const timer = setInterval(tick, req.intervalMs);
  process.send?.({ type: 'ready', id: Buffer.from(identity.nodeId).toString('hex'), address: transport.address });
  return async () => {
    clearInterval(timer);
    await transport.close();
  };
}

let stop: (() => Promise<void>) | null = null;
const exit = (): void => {
  void (stop ?? (async () => {}))().finally(() => process.exit(0));
};
process.on('message', (m) => {
  if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'stop') return exit();
  const req = parseStart(m);
  if (req === null || stop !== null) {
    process.send?.({ type: 'error', message: 'malformed or repeated start request' });
    return;
  }
  run(req).then((s) => { stop = s; }, (e: unknown) => {
    process.send?.({ type: 'error', message: (e as Error).message });
    process.exit(1);
  });
});
process.once('disconnect', exit);
process.once('SIGTERM', exit);
