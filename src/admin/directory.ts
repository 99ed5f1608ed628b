/**
 * Who a node id is — name and tenant from its certificate — for the admin API's tenant scoping
 * and for readable tables. The reputation engine knows peers only by id; the certificate is found
 * in the membership view, then among the link layer's authenticated peers (a peer evicted from the
 * view, or never a member), then in a stored proof of equivocation (certificates in accepted
 * proofs were verified against the authority). A peer found nowhere has no known tenant and is
 * shown to cluster tokens only: deny by default.
 */
import { decodeCertificate } from '../identity/certificate.js';
import type { MemberView, Node } from '../node.js';

export interface Identity {
  readonly name: string;
  readonly tenant: string;
}

export class Directory {
  private members: Map<string, MemberView> | null = null;
  private proofCerts: Map<string, Uint8Array> | null = null;

  constructor(private readonly node: Node) {}

  /** Members by id, read once per request (`members()` copies the view). */
  memberMap(): Map<string, MemberView> {
    this.members ??= new Map(this.node.members().map((m) => [m.id, m]));
    return this.members;
  }

  member(id: string): MemberView | undefined {
    return this.memberMap().get(id);
  }

  /** Name and tenant of a node id, or null if this node holds no certificate of it. */
  identify(id: string, proofCert?: string): Identity | null {
    const m = this.memberMap().get(id);
    if (m !== undefined) return { name: m.name, tenant: m.tenant };
    const peer = this.node.isRunning ? this.node.internals.link.peer(id) : undefined;
    if (peer !== undefined) return { name: peer.cert.name, tenant: peer.cert.tenant };
    if (proofCert !== undefined && proofCert !== '') return fromCert(Buffer.from(proofCert, 'base64'), id);
    const held = this.proofCertOf(id);
    return held === undefined ? null : fromCert(held, id);
  }

  /** The certificate carried by an accepted proof against `id` (equivocators are seldom members for long). */
  private proofCertOf(id: string): Uint8Array | undefined {
    if (this.proofCerts === null) {
      this.proofCerts = new Map();
      const engine = this.node.reputation;
      if (engine !== null && !engine.isClosed) {
        for (const e of engine.recentEvidence(this.node.config.reputationMaxEvidence)) if (e.cert.length > 0) this.proofCerts.set(e.origin, e.cert);
      }
    }
    return this.proofCerts.get(id);
  }
}

function fromCert(bytes: Uint8Array, id: string): Identity | null {
  const d = decodeCertificate(bytes);
  return d.ok && Buffer.from(d.value.nodeId).toString('hex') === id ? { name: d.value.name, tenant: d.value.tenant } : null;
}
