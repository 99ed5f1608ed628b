// Dissemination and replicated-state benchmark (issue 4). On the in-memory network with a virtual
// clock, real nodes (real signatures, sealing, lazy push, holdback) with the simulator's
// accelerators (fastCrypto: each signature verified once per process, link keys derived once per
// pair, an authenticating non-encrypting AEAD with the same overhead).
//
// Cheaper faithful setup for 10,000 nodes: full membership (10,000 × 10,000 member records and
// link keys) does not fit one process, so each node gets a static random view of VIEW peers
// (symmetric edges, link keys and certificates exchanged as in a warmed-up cluster), and gossip
// samples its peers uniformly from that view; membership probing, anti-entropy and policy gossip
// are stopped so only dissemination traffic is measured.
//
// Printed per N and scenario: rounds until every correct node has the message (time / gossip
// interval) next to the push-gossip bound log_f(N) + ln(N)/f (Pittel's bound for push with fanout f),
// the longest delivery time, the mean full-payload receptions per node per message, and the bytes
// sent per node per message (all packets: pushes, IHAVE, IWANT, answers).
// Then: the time for a new node to receive 10,000 keys by anti-entropy (real crypto).
// BENCH_PROGRESS=1 prints a line per phase (the 10,000-node run takes ~12 minutes).
import { CountingGate } from '../../dist/link/peer-gate.js';
import { SimCluster } from '../../dist/sim/sim-cluster.js';
import { SeededRandom } from '../../dist/random.js';
import { printTable } from './stats.mjs';

const SIZES = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
const MESSAGES = Number(process.env.BENCH_DISSEMINATION_MESSAGES ?? 5);
const VIEW = Number(process.env.BENCH_VIEW ?? 30);
const KEYS = Number(process.env.BENCH_KEYS ?? 10_000);
const FANOUT = 3;
const GOSSIP_MS = 100;
const LATENCY_MS = 10;
const JITTER_MS = 10;

function viewSampler(view, rng) {
  return {
    selectPeers(k, exclude, filter) {
      const c = [];
      for (const p of view) if (!(exclude?.has(p.idHex)) && (filter === undefined || filter(p))) c.push(p);
      const n = Math.min(k, c.length);
      for (let i = 0; i < n; i++) {
        const j = i + rng.int(c.length - i);
        [c[i], c[j]] = [c[j], c[i]];
      }
      c.length = n;
      return c;
    },
  };
}

async function buildCluster(n, seed) {
  const sim = new SimCluster({
    seed, fastCrypto: true, network: { latencyMs: LATENCY_MS, jitterMs: JITTER_MS }, gate: () => new CountingGate(),
    config: {
      fanout: FANOUT, lazyFanout: 6, gossipIntervalMs: GOSSIP_MS, iwantTimeoutMs: 60, maxMembers: Math.max(20_000, n + 10),
      peerPacketsPerSecond: 1_000_000, seenCacheSize: 4096, maxCachedMessages: 256, antiEntropyIntervalMs: 3_600_000,
      probeIntervalMs: 60_000, probeTimeoutMs: 30_000, reconnectIntervalMs: 3_600_000, pushPullIntervalMs: 3_600_000,
    },
  });
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const node = sim.createNode({ name: `b-${i}`, tenant: 'bench', seeds: [] });
    await node.start();
    const p = node.internals;
    p.members.stop();
    p.antiEntropy.stop();
    p.policyGossip?.stop();
    nodes.push(node);
  }
  // Symmetric random views: VIEW/2 chosen edges per node, both directions.
  const rng = new SeededRandom(seed);
  const views = nodes.map(() => new Map());
  const link = (a, b) => {
    if (a === b || views[a].has(b)) return;
    const la = nodes[a].internals.link;
    const lb = nodes[b].internals.link;
    const pa = la.learnPeer(nodes[b].internals.identity.certBytes, nodes[b].address);
    const pb = lb.learnPeer(nodes[a].internals.identity.certBytes, nodes[a].address);
    if (!pa.ok || !pb.ok) throw new Error(`learnPeer failed: ${pa.reason ?? pb.reason}`);
    pa.value.address = nodes[b].address;
    pb.value.address = nodes[a].address;
    pa.value.hasOurCert = true;
    pb.value.hasOurCert = true;
    views[a].set(b, pa.value);
    views[b].set(a, pb.value);
  };
  for (let a = 0; a < n; a++) for (let e = 0; e < VIEW / 2; e++) link(a, rng.int(n));
  nodes.forEach((node, i) => node.internals.gossip.setPeerSampler(viewSampler([...views[i].values()], new SeededRandom(seed * 31 + i))));
  return { sim, nodes };
}

function counters(node) {
  const accepted = node.metrics.counter('hearsay_envelopes_accepted_total', '');
  const dup = node.metrics.counter('hearsay_envelopes_duplicate_total', '');
  return accepted.get({ kind: '2' }) + dup.get();
}

const progress = (msg) => { if (process.env.BENCH_PROGRESS) console.log(`  [${new Date().toISOString().slice(11, 19)}] ${msg}`); };

async function scenario(n, name, setup) {
  progress(`N=${n} ${name}: building`);
  const { sim, nodes } = await buildCluster(n, 11);
  progress(`N=${n} ${name}: built`);
  const silent = setup(sim, nodes);
  const correct = nodes.filter((x) => !silent.has(x));
  const arrivals = new Map();
  for (const node of nodes) node.subscribe('bench/t', (d) => { let m = arrivals.get(d.id); if (!m) arrivals.set(d.id, (m = new Map())); if (!m.has(node)) m.set(node, sim.clock.now()); });
  await sim.run(200);
  sim.network.resetStats();
  const before = nodes.reduce((s, x) => s + counters(x), 0);
  const rng = new SeededRandom(99);
  const origins = Array.from({ length: MESSAGES }, () => correct[rng.int(correct.length)]);
  // With full membership every node knows every origin's certificate; in the static-view setup
  // each node is taught the publishers' (no gossip edge is added: they are not in its view).
  for (const o of new Set(origins)) {
    for (const x of nodes) if (x !== o) x.internals.link.learnPeer(o.internals.identity.certBytes, o.address);
  }
  const rows = [];
  let delivered = 0;
  let expected = 0;
  for (let m = 0; m < MESSAGES; m++) {
    const origin = origins[m];
    const t0 = sim.clock.now();
    const id = origin.publish('bench/t', new Uint8Array(256).fill(m));
    const others = correct.filter((x) => x !== origin);
    // Wait for the correct nodes only: silent ones receive the origin's pushes too, so a count of
    // all arrivals can reach others.length while a correct node still lacks the message.
    await sim.runUntil(() => { const got = arrivals.get(id); return got !== undefined && others.every((x) => got.has(x)); }, 30_000, 5);
    const got = arrivals.get(id) ?? new Map();
    let last = 0;
    for (const x of others) if (got.has(x)) last = Math.max(last, got.get(x) - t0);
    delivered += others.filter((x) => got.has(x)).length;
    expected += others.length;
    rows.push(last);
    progress(`N=${n} ${name}: message ${m + 1}/${MESSAGES} reached ${others.filter((x) => got.has(x)).length}/${others.length} correct nodes in ${last} ms`);
    // Let the message's gossip window close before the next one, so each is measured alone.
    await sim.run(1000);
  }
  const receptions = (nodes.reduce((s, x) => s + counters(x), 0) - before) / (MESSAGES * (n - 1));
  const bytes = sim.network.stats().packetBytesSent / (MESSAGES * n);
  await sim.stopAll();
  const worst = Math.max(...rows);
  return { name, delivery: delivered / expected, rounds: worst / GOSSIP_MS, worstMs: worst, receptions, bytes };
}

async function kvCatchUp() {
  const sim = new SimCluster({ seed: 3, network: { latencyMs: 1 }, gate: () => new CountingGate(), config: { antiEntropyIntervalMs: 1000, peerPacketsPerSecond: 1_000_000 } });
  const nodes = await sim.startNodes(3, 'kv', { tenant: 'bench' });
  await sim.runUntil(() => nodes.every((x) => x.members().filter((m) => m.state === 'alive').length === 3), 30_000);
  for (let i = 0; i < KEYS; i++) void nodes[i % 3].kv.set(`bench/key-${String(i).padStart(6, '0')}`, `value-${i}`);
  await sim.runUntil(() => nodes.every((x) => x.internals.kv.store.countLive() === KEYS), 120_000, 50);
  const [fresh] = await sim.startNodes(1, 'new', { tenant: 'bench' });
  const wall = performance.now();
  const t0 = sim.clock.now();
  const took = await sim.runUntil(() => fresh.internals.kv.store.countLive() === KEYS, 120_000, 20);
  const wallMs = performance.now() - wall;
  await sim.stopAll();
  return { virtualMs: took < 0 ? NaN : sim.clock.now() - t0, wallMs };
}

export async function run() {
  const bound = (n) => Math.log(n) / Math.log(FANOUT) + Math.log(n) / FANOUT;
  const out = [];
  for (const n of SIZES) {
    const t = performance.now();
    const results = [
      await scenario(n, 'no loss', () => new Set()),
      await scenario(n, '20% loss', (sim) => { sim.network.configure({ lossRate: 0.2 }); return new Set(); }),
      await scenario(n, '10% silent nodes', (sim, nodes) => {
        const rng = new SeededRandom(5);
        const s = new Set();
        while (s.size < Math.floor(n / 10)) s.add(nodes[rng.int(n)]);
        for (const x of s) sim.network.silence(x.address);
        return s;
      }),
    ];
    for (const r of results) out.push([n, r.name, `${(r.delivery * 100).toFixed(2)}%`, r.rounds.toFixed(2), bound(n).toFixed(2), (r.rounds / bound(n)).toFixed(2), r.worstMs, r.receptions.toFixed(3), Math.round(r.bytes)]);
    console.log(`(N=${n}: ${((performance.now() - t) / 1000).toFixed(1)} s wall)`);
  }
  printTable(
    `Dissemination, fanout ${FANOUT}, lazyFanout 6, gossip interval ${GOSSIP_MS} ms, link latency ${LATENCY_MS}+U(0..${JITTER_MS}) ms, 256 B payload, ${MESSAGES} messages each, view ${VIEW} peers`,
    ['N', 'scenario', 'delivery (correct nodes)', 'rounds to 100%', 'bound log3 N + ln N / 3', 'ratio', 'worst ms', 'payload receptions / node / msg', 'bytes sent / node / msg'],
    out,
  );
  const kv = await kvCatchUp();
  printTable(`Anti-entropy catch-up of a new node (${KEYS} keys, 3 peers, antiEntropyIntervalMs 1000, real Ed25519 verification)`, ['keys', 'virtual time to all keys', 'wall time'], [
    [KEYS, `${kv.virtualMs} ms`, `${(kv.wallMs / 1000).toFixed(2)} s`],
  ]);
  return { out, kv };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
