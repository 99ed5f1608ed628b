// Receive-pipeline benchmark (walking-skeleton issue). Measures, side by side in one run:
//   - raw Ed25519 verify rate of each signature backend (node = OpenSSL, noble = pure JS);
//   - the receive pipeline's rate for unique messages, exactly the stages the issue names: size
//     check, header, replay window, rate limit, decrypt, decode + schema, dedup (message id),
//     signature verify — the production LinkLayer and EnvelopeRouter, with a handler that counts;
//   - the same packets through a whole node (adds policy, reputation credit, dissemination
//     bookkeeping, ordering and delivery to a subscriber), for reference;
//   - the ratio pipeline / raw OpenSSL verify (target >= 0.75: verification is the only big cost).
// One 256-byte rumor per packet. Measurements are interleaved in chunks of 100 messages and each
// round's ratio is taken from figures measured under the same load; medians are reported, because
// the machine is shared and noisy.
import { VirtualClock } from '../../dist/clock.js';
import { createBackend } from '../../dist/identity/backends.js';
import { createNodeIdentityInMemory } from '../../dist/identity/node-identity.js';
import { createCertificateVerifier } from '../../dist/identity/verifier.js';
import { EnvelopeRouter } from '../../dist/link/envelope-router.js';
import { LinkLayer } from '../../dist/link/link-layer.js';
import { CountingGate } from '../../dist/link/peer-gate.js';
import { silentLogger } from '../../dist/log.js';
import { MetricsRegistry } from '../../dist/metrics.js';
import { SimCluster } from '../../dist/sim/sim-cluster.js';
import { RogueEndpoint, rumorBody } from '../../dist/sim/rogue-endpoint.js';
import { MemoryNetwork } from '../../dist/transport/memory-network.js';
import { EnvelopeKind, signedBytes } from '../../dist/wire/envelope.js';
import { RUMOR_BODY } from '../../dist/dissemination/broadcast.js';
import { median, printTable } from './stats.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const PER_ROUND = Number(process.env.BENCH_MESSAGES ?? 3000);
const CHUNK = 100;

/** The production link layer and envelope router of one receiver, with a counting RUMOR handler. */
function bareReceiver(sim) {
  const clock = new VirtualClock(sim.clock.now());
  const net = new MemoryNetwork({ clock, seed: 1 });
  const config = sim.baseConfig({ peerPacketsPerSecond: 1_000_000 });
  const identity = createNodeIdentityInMemory({ authoritySeed: sim.authoritySeed, cluster: sim.cluster, name: 'receiver', now: clock.now() });
  const backend = createBackend('node');
  const gate = new CountingGate();
  const metrics = new MetricsRegistry();
  const link = new LinkLayer({
    identity, cluster: sim.cluster, transport: net.createTransport('bench:1'), clock, verifier: createCertificateVerifier(config, backend),
    gate, metrics, logger: silentLogger, replayWindow: config.replayWindow, maxClockSkewMs: config.maxClockSkewMs,
    peerPacketsPerSecond: config.peerPacketsPerSecond, hellosPerSecond: config.hellosPerSecond, maxPeers: 1000, epoch: clock.now(),
  });
  const router = new EnvelopeRouter({ link, backend, clock, gate, metrics, seenCacheSize: config.seenCacheSize, seenTtlMs: config.seenTtlMs });
  const counter = { delivered: 0 };
  router.register(EnvelopeKind.RUMOR, RUMOR_BODY, () => { counter.delivered++; });
  return { link, identity, counter };
}

export async function run() {
  // The virtual clock stands still during the run, so lift the per-sender rate limit out of the way.
  const sim = new SimCluster({ seed: 5, config: { peerPacketsPerSecond: 1_000_000 } });
  const [node] = await sim.startNodes(1);
  const full = { delivered: 0 };
  node.subscribe('default/topic', () => { full.delivered++; });
  const bare = bareReceiver(sim);
  const identity = createNodeIdentityInMemory({ authoritySeed: sim.authoritySeed, cluster: sim.cluster, name: 'sender', now: sim.clock.now() });
  const rogue = new RogueEndpoint({ identity, cluster: sim.cluster, backend: sim.backend, epoch: sim.clock.now() });
  const payload = new Uint8Array(256).fill(7);
  let seq = 0;
  const makePackets = (n) => {
    const toBare = [];
    const toNode = [];
    const triples = [];
    for (let i = 0; i < n; i++) {
      seq++;
      const env = rogue.sign(EnvelopeKind.RUMOR, rumorBody('default/topic', rogue.epoch, seq, sim.clock.now(), payload));
      toBare.push(rogue.seal(bare.identity.cert, [[2, env.bytes]], { withCert: seq === 1 }));
      toNode.push(rogue.seal(node.internals.identity.cert, [[2, env.bytes]], { withCert: seq === 1 }));
      triples.push([env.signature, signedBytes(env.kind, env.origin, env.body), env.origin]);
    }
    return { toBare, toNode, triples };
  };
  const backends = { node: createBackend('node'), noble: createBackend('noble') };
  const rates = { node: [], noble: [], pipeline: [], full: [] };
  // Warm up JIT and caches.
  {
    const { toBare, toNode, triples } = makePackets(300);
    for (const p of toBare) bare.link.receive(p, 'sender:1');
    for (const p of toNode) node.internals.link.receive(p, 'sender:1');
    for (const t of triples) backends.node.verify(...t);
  }
  for (let r = 0; r < ROUNDS; r++) {
    const { toBare, toNode, triples } = makePackets(PER_ROUND);
    let tNode = 0;
    let tPipe = 0;
    let tFull = 0;
    const before = [bare.counter.delivered, full.delivered];
    for (let c = 0; c < PER_ROUND; c += CHUNK) {
      let t = performance.now();
      for (let i = c; i < c + CHUNK; i++) if (!backends.node.verify(...triples[i])) throw new Error('node verify failed');
      tNode += performance.now() - t;
      t = performance.now();
      for (let i = c; i < c + CHUNK; i++) bare.link.receive(toBare[i], 'sender:1');
      tPipe += performance.now() - t;
      t = performance.now();
      for (let i = c; i < c + CHUNK; i++) node.internals.link.receive(toNode[i], 'sender:1');
      tFull += performance.now() - t;
    }
    if (bare.counter.delivered - before[0] !== PER_ROUND) throw new Error(`pipeline delivered ${bare.counter.delivered - before[0]} of ${PER_ROUND}`);
    if (full.delivered - before[1] !== PER_ROUND) throw new Error(`node delivered ${full.delivered - before[1]} of ${PER_ROUND}`);
    rates.node.push(PER_ROUND / (tNode / 1000));
    rates.pipeline.push(PER_ROUND / (tPipe / 1000));
    rates.full.push(PER_ROUND / (tFull / 1000));
    const nobleN = Math.max(100, PER_ROUND / 10);
    const t = performance.now();
    for (let i = 0; i < nobleN; i++) if (!backends.noble.verify(...triples[i])) throw new Error('noble verify failed');
    rates.noble.push(nobleN / ((performance.now() - t) / 1000));
  }
  await sim.stopAll();
  const m = { node: median(rates.node), noble: median(rates.noble), pipeline: median(rates.pipeline), full: median(rates.full) };
  // Median of the per-round ratios: each round's figures were measured under the same load.
  const ratio = median(rates.pipeline.map((p, i) => p / rates.node[i]));
  const fullRatio = median(rates.full.map((p, i) => p / rates.node[i]));
  const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(' ');
  printTable('Receive pipeline vs raw verify (unique messages, 256 B rumor per packet)', ['measurement', 'median msgs/s', 'µs/msg', 'rounds'], [
    ['raw verify, node backend (OpenSSL)', m.node.toFixed(0), (1e6 / m.node).toFixed(1), fmt(rates.node)],
    ['raw verify, noble backend (pure JS)', m.noble.toFixed(0), (1e6 / m.noble).toFixed(1), fmt(rates.noble)],
    ['receive pipeline: size..verify (node backend)', m.pipeline.toFixed(0), (1e6 / m.pipeline).toFixed(1), fmt(rates.pipeline)],
    ['whole node: pipeline + policy, reputation, gossip, delivery', m.full.toFixed(0), (1e6 / m.full).toFixed(1), fmt(rates.full)],
  ]);
  console.log(`ratio pipeline / raw OpenSSL verify (median of per-round ratios): ${ratio.toFixed(3)} (target >= 0.75) ${ratio >= 0.75 ? 'OK' : 'BELOW TARGET'}`);
  console.log(`ratio whole node / raw OpenSSL verify: ${fullRatio.toFixed(3)}`);
  console.log(`ratio OpenSSL / noble verify: ${(m.node / m.noble).toFixed(1)}x`);
  return { ratio, fullRatio };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
