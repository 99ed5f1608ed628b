/** Shared helpers for policy tests: documents, signing with a test authority, real temporary folders. */
import { createBackend } from '../../src/identity/backends.js';
import type { RevocationEntry } from '../../src/identity/revocation.js';
import { signPolicy, signRevocation, type SignedPolicy, type SignedRevocation } from '../../src/policy/signed-documents.js';
import type { SignatureBackend } from '../../src/identity/signature-backend.js';
import { tempDir as sharedTempDir } from '../identity/helpers.js';

export function tempDir(prefix = 'hearsay-policy-'): string {
  return sharedTempDir(prefix);
}

export const backend: SignatureBackend = createBackend('node');

/** A valid two-tenant policy; override any top-level field. */
export function policyDoc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'hearsay-policy',
    cluster: 'sim',
    version: 1,
    tenants: ['a', 'b'],
    namespaces: ['shared'],
    roles: ['pub', 'sub', 'admin'],
    grants: [
      { tenants: ['*'], roles: ['pub'], allow: ['publish', 'write'], topics: ['t/**'], keys: ['k/**'] },
      { tenants: ['*'], roles: ['pub', 'sub'], allow: ['subscribe', 'read'], topics: ['t/**'], keys: ['k/**'] },
      { tenants: ['a'], roles: ['admin'], allow: ['publish'], topics: ['news'], namespace: 'shared' },
      { tenants: ['*'], roles: ['*'], allow: ['subscribe'], topics: ['news'], namespace: 'shared' },
    ],
    ...overrides,
  };
}

export function signDoc(doc: Record<string, unknown>, authoritySeed: Uint8Array): SignedPolicy {
  return signPolicy(JSON.stringify(doc), authoritySeed, backend);
}

export function signList(cluster: string, version: number, entries: RevocationEntry[], authoritySeed: Uint8Array, issuedAt = 1_700_000_000_000): SignedRevocation {
  return signRevocation({ cluster, version, issuedAt, entries }, authoritySeed, backend);
}

export function subject(tenant: string, roles: string[] = []): { nodeId: Uint8Array; tenant: string; roles: string[] } {
  return { nodeId: new Uint8Array(32), tenant, roles };
}
