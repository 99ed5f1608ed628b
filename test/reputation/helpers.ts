/** Shared helpers for reputation tests: engines on a virtual clock, identities, temporary folders. */
import { randomBytes } from 'node:crypto';
import { afterEach } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { createBackend } from '../../src/identity/backends.js';
import { createNodeIdentityInMemory, type NodeIdentity } from '../../src/identity/node-identity.js';
import { createCertificateVerifier } from '../../src/identity/verifier.js';
import { MetricsRegistry } from '../../src/metrics.js';
import { ReputationEngine } from '../../src/reputation/engine.js';
import type { ReputationParams } from '../../src/reputation/params.js';
import type { SlotRegistry } from '../../src/reputation/slots.js';
import type { StoreLimits } from '../../src/reputation/store.js';
import { tempDir as sharedTempDir } from '../identity/helpers.js';

export { thrown } from '../identity/helpers.js';

const engines: ReputationEngine[] = [];

// Registered after the shared helper's hook, so it runs before it: engines close, then folders go.
afterEach(() => {
  while (engines.length > 0) engines.pop()!.close();
});

export function tempDir(prefix = 'hearsay-reputation-'): string {
  return sharedTempDir(prefix);
}

export const backend = createBackend('node');
export const authoritySeed = new Uint8Array(randomBytes(32));
export const authorityPublicKey = Buffer.from(backend.publicKeyOf(authoritySeed)).toString('hex');
export const CLUSTER = 'rep';

export const verifier = createCertificateVerifier({ authorityPublicKey, cluster: CLUSTER, maxClockSkewMs: 30_000 }, backend);

export function identity(name: string, now: number): NodeIdentity {
  return createNodeIdentityInMemory({ authoritySeed, cluster: CLUSTER, name, now, backend });
}

export const LIMITS: StoreLimits = { maxPeers: 1000, maxEvents: 10_000, maxBans: 100, maxEvidence: 50, retentionMs: 3_600_000 };

export interface EngineSetup {
  clock?: VirtualClock;
  dir?: string;
  params?: ReputationParams;
  limits?: Partial<StoreLimits>;
  slots?: SlotRegistry;
  self?: Uint8Array;
  tickMs?: number;
  /** Leave it open after the test (the test closes it). */
  keepOpen?: boolean;
}

export function engine(setup: EngineSetup = {}): { engine: ReputationEngine; clock: VirtualClock; metrics: MetricsRegistry } {
  const clock = setup.clock ?? new VirtualClock();
  const metrics = new MetricsRegistry();
  const e = new ReputationEngine({
    clock,
    dataDir: setup.dir ?? ':memory:',
    tickMs: setup.tickMs ?? 1000,
    limits: { ...LIMITS, ...setup.limits },
    backend,
    metrics,
    ...(setup.params === undefined ? {} : { params: setup.params }),
    ...(setup.slots === undefined ? {} : { slots: setup.slots }),
    ...(setup.self === undefined ? {} : { self: setup.self }),
    verifyCertificate: (bytes, now) => {
      const r = verifier.verify(bytes, now);
      return r.ok ? r.value.nodeId : null;
    },
  });
  if (setup.keepOpen !== true) engines.push(e);
  return { engine: e, clock, metrics };
}

/** A random 32-byte peer id. */
export function peerId(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

export function hex(id: Uint8Array): string {
  return Buffer.from(id).toString('hex');
}
