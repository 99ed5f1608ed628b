/**
 * The authorization decisions the layers ask for, as one narrow interface. The policy module
 * compiles each signed policy version into an `Authorizer`; dissemination and replicated state
 * call it on every hop (publish, forward, subscribe, read, write), so a compromised node can only
 * do what its own certificate and the policy in force allow.
 *
 * Until a policy is adopted, `TenantAuthorizer` applies the rule every policy builds on: a node
 * may publish, subscribe, read and write only inside its own tenant's namespace `<tenant>/`.
 */

/** Who is asking: the fields of a verified certificate the policy decides on. */
export interface Subject {
  readonly nodeId: Uint8Array;
  readonly tenant: string;
  readonly roles: readonly string[];
}

export interface PeerLimits {
  /** Packets per second accepted from this node. */
  readonly packetsPerSecond: number;
  /** Largest published message or written value, in bytes. */
  readonly maxMessageBytes: number;
}

export interface Authorizer {
  /** The policy version this authorizer was compiled from (0 = no policy adopted yet). */
  readonly version: number;
  mayPublish(subject: Subject, topic: string): boolean;
  /** May subscribe to, and therefore be sent, messages of this topic. */
  maySubscribe(subject: Subject, topic: string): boolean;
  /** May be sent, and read, this key's value. */
  mayRead(subject: Subject, key: string): boolean;
  mayWrite(subject: Subject, key: string): boolean;
  limits(subject: Subject): PeerLimits;
}

/** True when `name` lies inside `<tenant>/`. */
export function inTenant(tenant: string, name: string): boolean {
  return name.length > tenant.length + 1 && name.startsWith(tenant) && name.charCodeAt(tenant.length) === 0x2f;
}

/** Deny by default, except each tenant's own namespace. */
export class TenantAuthorizer implements Authorizer {
  readonly version = 0;

  constructor(private readonly defaults: PeerLimits) {}

  mayPublish(s: Subject, topic: string): boolean {
    return inTenant(s.tenant, topic);
  }

  maySubscribe(s: Subject, topic: string): boolean {
    return inTenant(s.tenant, topic);
  }

  mayRead(s: Subject, key: string): boolean {
    return inTenant(s.tenant, key);
  }

  mayWrite(s: Subject, key: string): boolean {
    return inTenant(s.tenant, key);
  }

  limits(): PeerLimits {
    return this.defaults;
  }
}
