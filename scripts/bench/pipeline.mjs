// Receive-pipeline benchmark (issue: walking skeleton). Measures, side by side in one run:
//   - raw Ed25519 verify rate of each signature backend (node = OpenSSL, noble = pure JS)
//   - the receive pipeline's rate for unique messages: size check, header, replay window,
//     decrypt, decode, schema, dedup, verify, deliver — one 256-byte rumor per packet
//   - the ratio pipeline / raw OpenSSL verify (target >= 0.75: verification is the only big cost)
// Rounds alternate between the measurements and the medians are reported, because the machine is
// shared and noisy.
import { createBackend } from '../../dist/identity/backends.js';
import { createNodeIdentityInMemory } from '../../dist/identity/node-identity.js';
import { SimCluster } from '../../dist/sim/sim-cluster.js';
import { RogueEndpoint, rumorBody } from '../../dist/sim/rogue-endpoint.js';
import { EnvelopeKind, signedBytes } from '../../dist/wire/envelope.js';
import { median, printTable } from './stats.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const PER_ROUND = Number(process.env.BENCH_MESSAGES ?? 3000);

export async function run() {
  // The virtual clock stands still during the run, so lift the per-sender rate limit out of the way.
  const sim = new SimCluster({ seed: 5, config: { peerPacketsPerSecond: 1_000_000 } });
  const [target] = await sim.startNodes(1);
  let delivered = 0;
  target.subscribe('default/topic', () => { delivered++; });
  const identity = createNodeIdentityInMemory({ authoritySeed: sim.authoritySeed, cluster: sim.cluster, name: 'sender', now: sim.clock.now() });
  const rogue = new RogueEndpoint({ identity, cluster: sim.cluster, backend: sim.backend, epoch: sim.clock.now() });
  const targetCert = target.internals.identity.cert;
  const payload = new Uint8Array(256).fill(7);
  let seq = 0;
  const makePackets = (n) => {
    const pkts = [];
    const triples = [];
    for (let i = 0; i < n; i++) {
      seq++;
      const env = rogue.sign(EnvelopeKind.RUMOR, rumorBody('default/topic', rogue.epoch, seq, sim.clock.now(), payload));
      pkts.push(rogue.seal(targetCert, [[2, env.bytes]], { withCert: seq === 1 }));
      triples.push([env.signature, signedBytes(env.kind, env.origin, env.body), env.origin]);
    }
    return { pkts, triples };
  };
  const backends = { node: createBackend('node'), noble: createBackend('noble') };
  const rates = { node: [], noble: [], pipeline: [] };
  // Warm up JIT and caches.
  { const { pkts, triples } = makePackets(200); for (const p of pkts) target.internals.link.receive(p, 'bench:1'); for (const t of triples) backends.node.verify(...t); }
  // Interleave in chunks of 100 so a burst of load from another process hits both measurements alike.
  const CHUNK = 100;
  for (let r = 0; r < ROUNDS; r++) {
    const { pkts, triples } = makePackets(PER_ROUND);
    let tNode = 0;
    let tPipe = 0;
    const before = delivered;
    for (let c = 0; c < PER_ROUND; c += CHUNK) {
      let t = performance.now();
      for (let i = c; i < c + CHUNK; i++) if (!backends.node.verify(...triples[i])) throw new Error('node verify failed');
      tNode += performance.now() - t;
      t = performance.now();
      for (let i = c; i < c + CHUNK; i++) target.internals.link.receive(pkts[i], 'bench:1');
      tPipe += performance.now() - t;
    }
    if (delivered - before !== PER_ROUND) throw new Error(`pipeline delivered ${delivered - before} of ${PER_ROUND}`);
    rates.node.push(PER_ROUND / (tNode / 1000));
    rates.pipeline.push(PER_ROUND / (tPipe / 1000));
    const nobleN = Math.max(100, PER_ROUND / 10);
    const t = performance.now();
    for (let i = 0; i < nobleN; i++) if (!backends.noble.verify(...triples[i])) throw new Error('noble verify failed');
    rates.noble.push(nobleN / ((performance.now() - t) / 1000));
  }
  await sim.stopAll();
  const m = { node: median(rates.node), noble: median(rates.noble), pipeline: median(rates.pipeline) };
  // Median of the per-round ratios: each round's two figures were measured under the same load.
  const ratio = median(rates.pipeline.map((p, i) => p / rates.node[i]));
  printTable('Receive pipeline vs raw verify (unique messages, 256 B rumor per packet)', ['measurement', 'median ops/s', 'rounds'], [
    ['raw verify, node backend (OpenSSL)', m.node.toFixed(0), rates.node.map((x) => x.toFixed(0)).join(' ')],
    ['raw verify, noble backend (pure JS)', m.noble.toFixed(0), rates.noble.map((x) => x.toFixed(0)).join(' ')],
    ['receive pipeline (node backend)', m.pipeline.toFixed(0), rates.pipeline.map((x) => x.toFixed(0)).join(' ')],
  ]);
  console.log(`ratio pipeline / raw OpenSSL verify (median of per-round ratios): ${ratio.toFixed(3)} (target >= 0.75) ${ratio >= 0.75 ? 'OK' : 'BELOW TARGET'}`);
  console.log(`ratio OpenSSL / noble verify: ${(m.node / m.noble).toFixed(1)}x`);
  return { ratio };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
