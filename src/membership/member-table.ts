/**
 * The member table: what this node holds about every member it knows, in a compact layout.
 *
 * Every node holds a record of every member, so a cluster of N nodes holds N² records; a
 * simulation of 10,000 nodes in one process holds 10^8. Records are therefore columns of typed
 * arrays indexed by a small integer (the member's index in a `MemberDirectory`), plus two columns
 * of references to immutable claims, about 22 bytes per record. A node's own directory maps ids to
 * indexes and recycles the index of a forgotten member; the simulator shares one directory (and
 * one object per claim) among all its nodes, so identities and claims exist once per process.
 *
 * The table also keeps the dense list of probe-able members (alive or suspect) in random order:
 * the failure detector walks it round-robin and peer selection samples it in O(1).
 */
import type { Random } from '../random.js';
import type { Claim } from './claims.js';
import type { MemberState } from './merge.js';

export interface MemberIdentity {
  readonly index: number;
  readonly id: Uint8Array;
  readonly idHex: string;
}

export interface MemberDirectory {
  /** The identity of `idHex`, created if new. */
  intern(idHex: string, id: Uint8Array): MemberIdentity;
  lookup(idHex: string): MemberIdentity | undefined;
  at(index: number): MemberIdentity | undefined;
  /** The node forgot this member: a directory of its own may recycle the index. */
  release(identity: MemberIdentity): void;
}

/** One node's directory: indexes are recycled, so its size follows the members it holds. */
export class LocalDirectory implements MemberDirectory {
  private readonly byHex = new Map<string, MemberIdentity>();
  private readonly list: Array<MemberIdentity | undefined> = [];
  private readonly free: number[] = [];

  intern(idHex: string, id: Uint8Array): MemberIdentity {
    const existing = this.byHex.get(idHex);
    if (existing !== undefined) return existing;
    const index = this.free.pop() ?? this.list.length;
    const identity: MemberIdentity = { index, id: new Uint8Array(id), idHex };
    this.byHex.set(idHex, identity);
    this.list[index] = identity;
    return identity;
  }

  lookup(idHex: string): MemberIdentity | undefined {
    return this.byHex.get(idHex);
  }

  at(index: number): MemberIdentity | undefined {
    return this.list[index];
  }

  release(identity: MemberIdentity): void {
    if (this.byHex.get(identity.idHex) !== identity) return;
    this.byHex.delete(identity.idHex);
    this.list[identity.index] = undefined;
    this.free.push(identity.index);
  }
}

/** One directory for every node of a simulation: identities exist once; indexes are never recycled. */
export class SharedDirectory implements MemberDirectory {
  private readonly inner = new LocalDirectory();

  intern(idHex: string, id: Uint8Array): MemberIdentity {
    return this.inner.intern(idHex, id);
  }

  lookup(idHex: string): MemberIdentity | undefined {
    return this.inner.lookup(idHex);
  }

  at(index: number): MemberIdentity | undefined {
    return this.inner.at(index);
  }

  release(): void {}
}

export const NONE = 0;
const CODES: readonly MemberState[] = ['alive', 'alive', 'suspect', 'dead', 'left'];
const CODE_OF: Readonly<Record<MemberState, number>> = { alive: 1, suspect: 2, dead: 3, left: 4 };

/** Flag bits. */
export const OUTBOUND = 1;
export const EQUIVOCATION_REPORTED = 2;
/** Last reconnect ping was answered: worth a push-pull. */
export const RECONNECT_ANSWERED = 4;

export interface StateCounts {
  alive: number;
  suspect: number;
  dead: number;
  left: number;
}

export class MemberTable {
  private stateCol: Uint8Array;
  private flagCol: Uint8Array;
  /** Seconds since `base` of the last state change. */
  private changedCol: Uint32Array;
  private livePosCol: Int32Array;
  private aliveCol: Array<Claim | undefined> = [];
  private claimCol: Array<Claim | undefined> = [];
  private live: Int32Array;
  private liveLength = 0;
  private readonly base: number;
  readonly counts: StateCounts = { alive: 0, suspect: 0, dead: 0, left: 0 };

  /** `capacity` is a hint (columns grow as needed); a simulation that knows its size passes it. */
  constructor(readonly directory: MemberDirectory, now: number, capacity = 64) {
    this.base = now;
    const n = Math.max(8, capacity);
    this.stateCol = new Uint8Array(n);
    this.flagCol = new Uint8Array(n);
    this.changedCol = new Uint32Array(n);
    this.livePosCol = new Int32Array(n).fill(-1);
    this.live = new Int32Array(n);
  }

  /** Members held, in every state. */
  get size(): number {
    return this.counts.alive + this.counts.suspect + this.counts.dead + this.counts.left;
  }

  /** Index of a member we hold, or -1. */
  indexOf(idHex: string): number {
    const id = this.directory.lookup(idHex);
    if (id === undefined || id.index >= this.stateCol.length || this.stateCol[id.index] === NONE) return -1;
    return id.index;
  }

  has(index: number): boolean {
    return index >= 0 && index < this.stateCol.length && this.stateCol[index] !== NONE;
  }

  identity(index: number): MemberIdentity {
    return this.directory.at(index)!;
  }

  state(index: number): MemberState {
    return CODES[this.stateCol[index]!]!;
  }

  isLive(index: number): boolean {
    const s = this.stateCol[index];
    return s === 1 || s === 2;
  }

  /** The newest ALIVE claim the member signed that we hold. */
  alive(index: number): Claim {
    return this.aliveCol[index]!;
  }

  /** The SUSPECT, DEAD or LEAVE claim behind a non-alive state (undefined while alive). */
  stateClaim(index: number): Claim | undefined {
    return this.claimCol[index];
  }

  changedAt(index: number): number {
    return this.base + this.changedCol[index]! * 1000;
  }

  hasFlag(index: number, flag: number): boolean {
    return (this.flagCol[index]! & flag) !== 0;
  }

  setFlag(index: number, flag: number, on = true): void {
    this.flagCol[index] = on ? this.flagCol[index]! | flag : this.flagCol[index]! & ~flag;
  }

  /** Adds a member from its first ALIVE claim. */
  add(idHex: string, id: Uint8Array, aliveClaim: Claim, now: number, rng: Random): number {
    const identity = this.directory.intern(idHex, id);
    const i = identity.index;
    this.ensure(i);
    if (this.stateCol[i] !== NONE) throw new RangeError('MemberTable.add: member already held');
    this.flagCol[i] = 0;
    this.aliveCol[i] = aliveClaim;
    this.claimCol[i] = undefined;
    this.setCode(i, 1, now, rng);
    return i;
  }

  /** Replaces the member's ALIVE claim (a newer incarnation) and makes it alive. */
  refresh(index: number, aliveClaim: Claim, now: number, rng: Random): void {
    this.aliveCol[index] = aliveClaim;
    this.claimCol[index] = undefined;
    this.setCode(index, 1, now, rng);
  }

  /** Moves the member to a non-alive state, backed by the claim that put it there. */
  mark(index: number, state: Exclude<MemberState, 'alive'>, claim: Claim, now: number, rng: Random): void {
    this.claimCol[index] = claim;
    this.setCode(index, CODE_OF[state], now, rng);
  }

  /** Forgets a member (reaped after deadReapMs). */
  remove(index: number): void {
    const code = this.stateCol[index]!;
    if (code === NONE) return;
    this.countFor(code, -1);
    if (code === 1 || code === 2) this.unlist(index);
    this.stateCol[index] = NONE;
    this.flagCol[index] = 0;
    this.aliveCol[index] = undefined;
    this.claimCol[index] = undefined;
    this.directory.release(this.directory.at(index)!);
  }

  /** Number of alive or suspect members: the probe-able ones. */
  get liveCount(): number {
    return this.liveLength;
  }

  /** The k-th probe-able member in the current random order. */
  liveAt(k: number): number {
    return this.live[k]!;
  }

  /** A fresh random probe order (memberlist reshuffles at the end of every round). */
  shuffleLive(rng: Random): void {
    const live = this.live;
    for (let i = this.liveLength - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const a = live[i]!;
      const b = live[j]!;
      live[i] = b;
      live[j] = a;
      this.livePosCol[b] = i;
      this.livePosCol[a] = j;
    }
  }

  /** Indexes of every member held, in any state. */
  *indexes(): IterableIterator<number> {
    const s = this.stateCol;
    for (let i = 0; i < s.length; i++) if (s[i] !== NONE) yield i;
  }

  private setCode(index: number, code: number, now: number, rng: Random): void {
    const old = this.stateCol[index]!;
    if (old !== NONE) this.countFor(old, -1);
    this.countFor(code, +1);
    this.stateCol[index] = code;
    this.changedCol[index] = Math.max(0, Math.floor((now - this.base) / 1000));
    const wasLive = old === 1 || old === 2;
    const isLive = code === 1 || code === 2;
    if (isLive && !wasLive) this.list(index, rng);
    else if (!isLive && wasLive) this.unlist(index);
  }

  private countFor(code: number, d: number): void {
    if (code === 1) this.counts.alive += d;
    else if (code === 2) this.counts.suspect += d;
    else if (code === 3) this.counts.dead += d;
    else if (code === 4) this.counts.left += d;
  }

  /** Inserts at a random position of the probe order (memberlist: new nodes are swapped in at random). */
  private list(index: number, rng: Random): void {
    if (this.liveLength === this.live.length) this.live = grow(this.live, this.live.length * 2);
    const at = rng.int(this.liveLength + 1);
    const displaced = this.live[at]!;
    this.live[this.liveLength] = displaced;
    if (at < this.liveLength) this.livePosCol[displaced] = this.liveLength;
    this.live[at] = index;
    this.livePosCol[index] = at;
    this.liveLength++;
  }

  private unlist(index: number): void {
    const pos = this.livePosCol[index]!;
    if (pos < 0) return;
    const last = this.live[this.liveLength - 1]!;
    this.live[pos] = last;
    this.livePosCol[last] = pos;
    this.liveLength--;
    this.livePosCol[index] = -1;
  }

  private ensure(index: number): void {
    if (index < this.stateCol.length) return;
    let n = this.stateCol.length;
    while (n <= index) n = Math.ceil(n * 1.5);
    this.stateCol = grow(this.stateCol, n);
    this.flagCol = grow(this.flagCol, n);
    this.changedCol = grow(this.changedCol, n);
    const pos = new Int32Array(n).fill(-1);
    pos.set(this.livePosCol);
    this.livePosCol = pos;
  }
}

function grow<T extends Uint8Array | Uint32Array | Int32Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
