import { describe, expect, it } from 'vitest';
import { encode } from '../../src/wire/codec.js';
import { EnvelopeKind, signEnvelope, type Envelope } from '../../src/wire/envelope.js';
import { checkProof, EVIDENCE_BODY, FORGED_REASONS, isForgery, UNCHARGED_REASONS } from '../../src/reputation/evidence.js';
import { rumorSlot, SlotRegistry, slotRegistry, registerSlot } from '../../src/reputation/slots.js';
import { SlotWitness } from '../../src/reputation/slot-witness.js';
import { Level } from '../../src/reputation/score.js';
import { backend, engine, hex, identity, peerId, thrown } from './helpers.js';

const T = 1_700_000_000_000;
const liar = identity('liar', T);
const other = identity('other', T);
const data = (s: string): Uint8Array => new TextEncoder().encode(s);

const EPOCH = T - 5000;

/** A rumor: [topic, epoch, seq, ...content] (the slot only reads the first three fields). */
function rumor(who: typeof liar, topic: string, seq: number, ts: number, d: string, epoch = EPOCH): Envelope {
  return signEnvelope(EnvelopeKind.RUMOR, who.nodeId, who.seed, [topic, epoch, seq, ts, 0, 0, [], data(d)], backend);
}

const a = rumor(liar, 'default/t', 7, T, 'a');
const b = rumor(liar, 'default/t', 7, T, 'b');
const deps = { backend, slots: slotRegistry };

describe('proofs of equivocation', () => {
  it('accepts two validly signed rumors for one slot with different content, in either order', () => {
    const r1 = checkProof(a.bytes, b.bytes, deps);
    const r2 = checkProof(b.bytes, a.bytes, deps);
    expect(r1.ok && r2.ok).toBe(true);
    if (!r1.ok || !r2.ok) return;
    expect(r1.value.id).toBe(r2.value.id);
    expect(r1.value.originHex).toBe(hex(liar.nodeId));
    expect(r1.value.slot).toBe(`default/t\u0000${EPOCH}\u00007`);
    // The timestamp is content, not slot: re-signing seq 7 with another time is equivocation too.
    expect(checkProof(a.bytes, rumor(liar, 'default/t', 7, T + 5, 'a').bytes, deps).ok).toBe(true);
    expect(Buffer.compare(r1.value.first, r2.value.first)).toBe(0);
  });

  const badSig = (e: Envelope): Uint8Array => {
    const sig = new Uint8Array(e.signature);
    sig[0] = sig[0]! ^ 1;
    return encode([e.kind, e.origin, e.body, sig]);
  };
  const cases: Array<[string, Uint8Array, Uint8Array]> = [
    ['malformed', new Uint8Array([1, 2, 3]), b.bytes],
    ['different-origin', a.bytes, rumor(other, 'default/t', 7, T, 'b').bytes],
    ['different-kind', a.bytes, signEnvelope(EnvelopeKind.KV_WRITE, liar.nodeId, liar.seed, ['default/t', data('b'), T, 0, 7], backend).bytes],
    ['bad-signature', a.bytes, badSig(b)],
    ['bad-signature', badSig(a), b.bytes],
    ['different-slot', a.bytes, rumor(liar, 'default/t', 8, T, 'b').bytes],
    ['different-slot', a.bytes, rumor(liar, 'default/t', 7, T, 'b', EPOCH + 60_000).bytes], // a restart (new epoch) re-using seq 7 is not equivocation
    ['different-slot', a.bytes, rumor(liar, 'default/u', 7, T, 'b').bytes],
    ['same-content', a.bytes, a.bytes],
    ['evidence-of-evidence', signEnvelope(EnvelopeKind.EVIDENCE, liar.nodeId, liar.seed, [1, a.bytes, b.bytes, liar.certBytes], backend).bytes, a.bytes],
    ['no-slot', signEnvelope(EnvelopeKind.LEAVE, liar.nodeId, liar.seed, [1], backend).bytes, signEnvelope(EnvelopeKind.LEAVE, liar.nodeId, liar.seed, [2], backend).bytes],
  ];
  for (const [reason, x, y] of cases) {
    it(`refuses a proof: ${reason}`, () => {
      const r = checkProof(x, y, deps);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toBe(reason);
    });
  }

  it('classifies refusals: what honest nodes never forward is forgery, skew is not', () => {
    for (const r of FORGED_REASONS) expect(isForgery(r)).toBe(true);
    for (const r of UNCHARGED_REASONS) expect(isForgery(r)).toBe(false);
  });

  it('has a pluggable slot registry: one definition per kind, replace on request, extractors cannot throw', () => {
    const reg = new SlotRegistry();
    reg.register(EnvelopeKind.ALIVE, (body) => (typeof body[0] === 'number' ? String(body[0]) : null));
    expect(thrown(() => reg.register(EnvelopeKind.ALIVE, () => 'x')).code).toBe('HEARSAY_ERR_INTERNAL');
    expect(thrown(() => reg.register(EnvelopeKind.EVIDENCE, () => 'x')).code).toBe('HEARSAY_ERR_INTERNAL');
    reg.register(EnvelopeKind.ALIVE, () => { throw new Error('bug'); }, { replace: true });
    expect(reg.slotOf(EnvelopeKind.ALIVE, [1])).toBeNull();
    reg.register(EnvelopeKind.ALIVE, () => 'x'.repeat(1000), { replace: true });
    expect(reg.slotOf(EnvelopeKind.ALIVE, [1])).toBeNull();
    // A kind may narrow what conflicts (e.g. ignore a cosmetic field).
    reg.register(EnvelopeKind.ALIVE, (body) => String(body[0]), { replace: true, conflicts: (x, y) => x[1] !== y[1] });
    const alive = (inc: number, addr: string, note: string) => signEnvelope(EnvelopeKind.ALIVE, liar.nodeId, liar.seed, [inc, addr, note], backend).bytes;
    expect(checkProof(alive(3, 'h:1', 'x'), alive(3, 'h:1', 'y'), { backend, slots: reg })).toMatchObject({ ok: false, reason: 'no-conflict' });
    expect(checkProof(alive(3, 'h:1', 'x'), alive(3, 'h:2', 'x'), { backend, slots: reg }).ok).toBe(true);
    expect(rumorSlot(['t', 1, 2, 3, 0, [], data('x')])).toBe('t\u00001\u00002');
    expect(rumorSlot(['t', 1, 2, 3, 4, 0, [], data('x')])).toBe('t\u00001\u00002');
    expect(rumorSlot(['t', 1, 2])).toBeNull();
    expect(rumorSlot(['t', -1, 2, 3, 0, [], data('x')])).toBeNull();
    expect(rumorSlot([7, 1, 2, 3, 0, [], data('x')])).toBeNull();
    // Key/value writes: one write per (origin, version), whatever the key.
    const kv = (key: string, version: number, v: string) => signEnvelope(EnvelopeKind.KV_WRITE, liar.nodeId, liar.seed, [key, data(v), T, 0, version], backend).bytes;
    expect(checkProof(kv('default/a', 3, 'x'), kv('default/b', 3, 'x'), deps).ok).toBe(true);
    expect(checkProof(kv('default/a', 3, 'x'), kv('default/a', 4, 'y'), deps)).toMatchObject({ ok: false, reason: 'different-slot' });
    // The shared registry already has RUMOR; registering it again needs replace.
    expect(thrown(() => registerSlot(EnvelopeKind.RUMOR, rumorSlot)).code).toBe('HEARSAY_ERR_INTERNAL');
  });
});

describe('the engine and proofs', () => {
  it('bans the origin of a valid proof, stores it once, and never trusts the reporter', () => {
    const { engine: e } = engine();
    const sender = peerId();
    expect(e.receiveEvidence(a.bytes, b.bytes, liar.certBytes, sender, sender)).toBe('accepted');
    expect(e.levelOf(liar.nodeId)).toBe(Level.BANNED);
    expect(e.query.bans()[0]).toMatchObject({ peer: hex(liar.nodeId), source: 'equivocation' });
    expect(e.scoreOf(sender)).toBe(0);
    expect(e.receiveEvidence(b.bytes, a.bytes, liar.certBytes, sender, sender)).toBe('known');
    // Another proof against the same origin adds nothing.
    const c = rumor(liar, 'default/t', 9, T, 'c');
    const d = rumor(liar, 'default/t', 9, T, 'd');
    expect(e.receiveEvidence(c.bytes, d.bytes, liar.certBytes, sender, sender)).toBe('duplicate-origin');
    const ev = e.query.evidence();
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ origin: hex(liar.nodeId), kind: EnvelopeKind.RUMOR, kindName: 'rumor', reporter: hex(sender) });
    // The stored proof checks out again from its base64 form.
    expect(checkProof(Buffer.from(ev[0]!.first, 'base64'), Buffer.from(ev[0]!.second, 'base64'), deps).ok).toBe(true);
  });

  it('charges forged evidence to the link sender and to a different reporter; known forgeries are charged without re-checking', () => {
    const { engine: e, metrics } = engine();
    const sender = peerId();
    const reporter = peerId();
    const forged = signEnvelope(EnvelopeKind.RUMOR, other.nodeId, liar.seed, ['default/t', EPOCH, 7, T, 0, [], data('framed')], backend);
    expect(e.receiveEvidence(a.bytes, forged.bytes, other.certBytes, sender, reporter)).toBe('different-origin');
    const framed1 = signEnvelope(EnvelopeKind.RUMOR, other.nodeId, liar.seed, ['default/t', EPOCH, 1, T, 0, [], data('x')], backend);
    const framed2 = signEnvelope(EnvelopeKind.RUMOR, other.nodeId, liar.seed, ['default/t', EPOCH, 1, T, 0, [], data('y')], backend);
    expect(e.receiveEvidence(framed1.bytes, framed2.bytes, other.certBytes, sender, sender)).toBe('bad-signature');
    expect(e.receiveEvidence(framed2.bytes, framed1.bytes, other.certBytes, sender, sender)).toBe('known-forged');
    expect(e.scoreOf(sender)).toBe(-15 * 9);
    expect(e.scoreOf(reporter)).toBe(-15);
    expect(e.isBlocked(sender)).toBe(true);
    // The victim named in the forged proofs is untouched.
    expect(e.scoreOf(other.nodeId)).toBe(0);
    expect(e.levelOf(other.nodeId)).toBe(Level.OK);
    expect(metrics.render()).toContain('hearsay_reputation_proofs_total{outcome="known-forged"} 1');
  });

  it('drops, uncharged, a valid proof whose certificate does not certify the origin (skew, revocation)', () => {
    const { engine: e } = engine();
    const sender = peerId();
    expect(e.receiveEvidence(a.bytes, b.bytes, other.certBytes, sender, sender)).toBe('bad-certificate');
    expect(e.scoreOf(sender)).toBe(0);
    expect(e.levelOf(liar.nodeId)).toBe(Level.OK);
  });

  it('refuses a valid proof against itself (a cloned key) without banning itself', () => {
    const { engine: e } = engine({ self: liar.nodeId });
    e.reportEquivocation(a.bytes, b.bytes);
    expect(e.query.bans()).toHaveLength(0);
  });

  it('evidence bodies have a fixed shape', () => {
    expect(EVIDENCE_BODY.check([1, a.bytes, b.bytes, liar.certBytes])).toBe(true);
    expect(EVIDENCE_BODY.check([2, a.bytes, b.bytes, liar.certBytes])).toBe(false);
    expect(EVIDENCE_BODY.check([1, a.bytes, b.bytes])).toBe(false);
  });
});

describe('slot witness', () => {
  it('reports the second record of a slot, once per differing record, and ignores repeats', () => {
    const { engine: e } = engine();
    const w = new SlotWitness(e);
    expect(w.observe(a.bytes)).toBe(false);
    expect(w.observe(a.bytes)).toBe(false);
    expect(w.observe(rumor(liar, 'default/t', 8, T, 'z').bytes)).toBe(false);
    expect(w.observe(b.bytes)).toBe(true);
    expect(w.observe(new Uint8Array([9, 9]))).toBe(false);
    expect(e.levelOf(liar.nodeId)).toBe(Level.BANNED);
  });
});
