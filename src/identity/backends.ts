/**
 * Picks a signature backend by its configured name (`signatureBackend` in src/config.ts).
 * One process should share one instance per name: the node backend's key cache is per instance.
 */
import { HearsayError } from '../errors.js';
import { NobleSignatureBackend } from './noble-backend.js';
import { NodeSignatureBackend, type NodeBackendOptions } from './node-backend.js';
import type { SignatureBackend } from './signature-backend.js';

export type BackendName = SignatureBackend['name'];

export function createBackend(name: BackendName, options: NodeBackendOptions = {}): SignatureBackend {
  switch (name) {
    case 'node':
      return new NodeSignatureBackend(options);
    case 'noble':
      return new NobleSignatureBackend();
    default:
      throw new HearsayError('HEARSAY_ERR_INVALID_ARGUMENT', `unknown signature backend ${JSON.stringify(name)} (expected node or noble)`);
  }
}
