// Membership benchmark (issue 3): failure detection and dissemination of membership claims at
// N = 100, 1,000 and 10,000 on the simulator (virtual time, in-memory network).
//
// Harness: src/membership/lite-cluster.ts — every node runs the real membership code (probes,
// Lifeguard suspicion, transmit-limited gossip, push-pull, signed claims verified once per process)
// without per-pair link state or the other layers; see that file for exactly what is simulated.
// Each N runs in its own child process (memory is measured per N; 10,000 needs a larger heap).
// A full-stack cross-check (SimCluster, every layer, fastCrypto) runs at N = 100.
//
// Per N, on one cluster: a bootstrapped view (every node holds every signed ALIVE), warm-up, then
//   - bytes and packets per node per second over a quiet window (probes, acks, gossip), plus
//     push-pull amortized: 2 × (measured state frame) / pushPullInterval(N) per node;
//   - join: a new node joins through a seed; time until every node holds it alive;
//   - crash: kill a node; time until every live node declared it dead (median of repeats);
//   - false positives: live members declared dead (or left) by anyone, over a window at 10% and at
//     30% packet loss.
// Env: BENCH_MEMBERSHIP_SIZES=100,1000,10000  BENCH_MEMBERSHIP_FULLSTACK=0 to skip the cross-check.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, printTable } from './stats.mjs';

const SIZES = (process.env.BENCH_MEMBERSHIP_SIZES ?? '100,1000,10000').split(',').map(Number);
const SELF = fileURLToPath(import.meta.url);

/** memberlist's documented defaults: probe every 1 s, suspicion multiplier 4 → min timeout 4 × log10(N) s. */
const memberlistMinSuspicionS = (n) => 4 * Math.max(1, Math.log10(n)) * 1;

// Under loss the work grows like N²: the rate of (false) suspicions grows with N and each must
// reach all N members. Loss windows are therefore shorter at 10,000 (minutes of wall time each).
function plan(n) {
  const fp = (process.env.BENCH_MEMBERSHIP_FP_S ?? '').split(',').filter(Boolean).map((x) => Number(x) * 1000);
  if (n >= 10_000) return { warmup: 5000, window: 10_000, crashes: 3, fpWindow: fp[2] ?? 15_000 };
  if (n >= 1000) return { warmup: 10_000, window: 10_000, crashes: 5, fpWindow: fp[1] ?? 60_000 };
  // Small enough to measure push-pull directly: a window of several push-pull intervals.
  return { warmup: 10_000, window: 400_000, crashes: 5, fpWindow: fp[0] ?? 120_000 };
}

const progress = (n, what) => process.stderr.write(`  [N=${n} ${new Date().toISOString().slice(11, 19)}] ${what}\n`);

async function child(n) {
  const { LiteCluster } = await import('../../dist/membership/lite-cluster.js');
  const { detectionBound, pushPullInterval } = await import('../../dist/membership/timing.js');
  const p = plan(n);
  const out = { n };
  let t0 = performance.now();
  const lc = new LiteCluster({ seed: 1000 + n, capacity: n + 16, network: { latencyMs: 1, jitterMs: 2 } });
  const nodes = lc.createNodes(n);
  await lc.start();
  lc.bootstrap();
  out.setupWallS = (performance.now() - t0) / 1000;
  global.gc?.();
  const mem = process.memoryUsage();
  out.heapMB = mem.heapUsed / 1e6;
  out.rssMB = mem.rss / 1e6;
  out.bound = detectionBound(lc.config, n);
  progress(n, `set up in ${out.setupWallS.toFixed(0)} s, heap ${out.heapMB.toFixed(0)} MB, RSS ${out.rssMB.toFixed(0)} MB`);

  // Steady state.
  const wall0 = performance.now();
  await lc.run(p.warmup);
  lc.network.resetStats();
  t0 = performance.now();
  await lc.run(p.window);
  out.wallPerVirtualS = (performance.now() - t0) / 1000 / (p.window / 1000);
  const st = lc.network.stats();
  out.windowS = p.window / 1000;
  out.pktsPerNodeS = st.packetsSent / n / (p.window / 1000);
  out.probeBytesPerNodeS = st.packetBytesSent / n / (p.window / 1000);
  out.measuredFrameBytesPerNodeS = st.frameBytesSent / n / (p.window / 1000);
  // Push-pull, amortized: each node starts one exchange per interval and answers one on average;
  // each exchange carries one state each way (the frame as the code builds it, plus packet overhead).
  let stateBytes = nodes[0].members.ownClaim.bytes.length + 3 + 92 + 8;
  for (const i of nodes[0].members.table.indexes()) stateBytes += nodes[0].members.table.alive(i).bytes.length + 3;
  out.stateFrameKB = stateBytes / 1024;
  out.pushPullIntervalS = pushPullInterval(lc.config, n) / 1000;
  out.pushPullBytesPerNodeS = (2 * stateBytes) / (pushPullInterval(lc.config, n) / 1000);
  out.bytesPerNodeS = out.probeBytesPerNodeS + out.pushPullBytesPerNodeS;

  progress(n, 'quiet window done');
  // Join through a seed.
  const [joiner] = lc.createNodes(1, [nodes[0].address]);
  await lc.start([joiner]);
  const everyone = [...nodes, joiner];
  out.joinMs = await lc.runUntil(() => everyone.every((x) => x === joiner ? x.members.table.counts.alive === n : x.members.get(joiner.idHex)?.state === 'alive'), 60_000, 10, 10);

  // Crashes, one after another.
  const crashed = new Set();
  const crashTimes = [];
  for (let r = 0; r < p.crashes; r++) {
    const victim = everyone[1 + ((r * 7919) % (everyone.length - 2))];
    if (crashed.has(victim)) continue;
    crashed.add(victim);
    lc.crash(victim);
    const live = everyone.filter((x) => !crashed.has(x));
    const took = await lc.runUntil(() => live.every((x) => x.members.get(victim.idHex)?.state === 'dead'), out.bound.boundMs + 10_000, 10, 10);
    crashTimes.push(took);
    await lc.run(3000);
  }
  out.crashMs = crashTimes;
  progress(n, `join ${out.joinMs} ms, crashes ${crashTimes.join(' ')} ms`);

  // False positives under loss: live members declared dead (or left) by anyone.
  const fp = { count: 0, pairs: new Set(), suspicions: 0 };
  const crashedIds = new Set([...crashed].map((x) => x.idHex));
  for (const x of everyone) {
    if (crashed.has(x)) continue;
    x.members.on((event, m) => {
      if ((event === 'dead' || event === 'leave') && !crashedIds.has(m.idHex)) {
        fp.count++;
        fp.pairs.add(`${x.idHex}/${m.idHex}`);
      }
      if (event === 'suspect') fp.suspicions++;
    });
  }
  out.fp = {};
  for (const loss of [0.1, 0.3]) {
    fp.count = 0;
    fp.pairs.clear();
    fp.suspicions = 0;
    lc.network.configure({ lossRate: loss });
    lc.network.resetStats();
    t0 = performance.now();
    await lc.run(p.fpWindow, 50);
    const ls = lc.network.stats();
    out.fp[loss] = {
      events: fp.count, pairs: fp.pairs.size, suspicions: fp.suspicions, windowS: p.fpWindow / 1000, wallS: (performance.now() - t0) / 1000,
      bytesPerNodeS: (ls.packetBytesSent + ls.frameBytesSent) / everyone.length / (p.fpWindow / 1000),
    };
    progress(n, `loss ${loss}: ${fp.pairs.size} false-positive pairs in ${p.fpWindow / 1000} s, ${out.fp[loss].wallS.toFixed(0)} s wall`);
    lc.network.configure({ lossRate: 0 });
    await lc.run(20_000, 50); // recover: refutations settle before the next window
  }
  out.verifications = lc.verifications;
  out.totalWallS = (performance.now() - wall0) / 1000 + out.setupWallS;
  lc.stopAll();
  return out;
}

async function fullStack(n) {
  const { SimCluster } = await import('../../dist/sim/sim-cluster.js');
  const { CountingGate } = await import('../../dist/link/peer-gate.js');
  const sim = new SimCluster({ seed: 77, fastCrypto: true, network: { latencyMs: 1, jitterMs: 2 }, gate: () => new CountingGate() });
  const t0 = performance.now();
  const nodes = await sim.startNodes(n);
  const formMs = await sim.runUntil(() => nodes.every((x) => x.internals.members.alive().length === n - 1), 120_000, 20);
  await sim.run(5000);
  const [joiner] = await sim.startNodes(1);
  const all = [...nodes, joiner];
  const joinMs = await sim.runUntil(() => all.every((x) => x.internals.members.alive().length === n), 30_000, 10);
  const crashTimes = [];
  const crashed = new Set();
  for (let r = 0; r < 3; r++) {
    const victim = all[5 + r * 17];
    const vid = victim.id;
    crashed.add(victim);
    sim.network.crash(victim.address);
    const live = all.filter((x) => !crashed.has(x));
    crashTimes.push(await sim.runUntil(() => live.every((x) => x.internals.members.get(vid)?.state === 'dead'), 30_000, 10));
    await sim.run(3000);
  }
  const wallS = (performance.now() - t0) / 1000;
  for (const x of all) if (!crashed.has(x)) await x.stop();
  return { n, formMs, joinMs, crashMs: crashTimes, wallS };
}

function runChild(n) {
  return new Promise((resolve, reject) => {
    const heap = n >= 10_000 ? 14_000 : 4096;
    const c = fork(SELF, ['--child', String(n)], { execArgv: [`--max-old-space-size=${heap}`, '--expose-gc'] });
    let result = null;
    c.on('message', (m) => { result = m; });
    c.on('exit', (code) => (result !== null ? resolve(result) : reject(new Error(`membership bench child for N=${n} exited with ${code}`))));
  });
}

const fmtS = (ms) => (ms < 0 ? 'not within limit' : (ms / 1000).toFixed(2));

export async function run() {
  const results = [];
  for (const n of SIZES) {
    console.log(`membership: N=${n} ...`);
    results.push(await runChild(n));
  }
  printTable('Membership on the simulator (lite harness: real membership code, bootstrapped view; virtual time)', [
    'N', 'join known by all (s)', 'crash known by all, median (s)', 'crash runs (s)', 'memberlist anchor: min suspicion (s)', 'derived bound (s)',
    'FP pairs @10% loss', 'FP pairs @30% loss', 'pkts/node/s', 'packet bytes/node/s', 'push-pull bytes/node/s amortized (measured)', 'bytes/node/s total',
  ], results.map((r) => [
    r.n, fmtS(r.joinMs), fmtS(median(r.crashMs.filter((x) => x >= 0))), r.crashMs.map((x) => fmtS(x)).join(' '), memberlistMinSuspicionS(r.n).toFixed(0),
    (r.bound.boundMs / 1000).toFixed(1),
    `${r.fp[0.1].pairs} / ${r.fp[0.1].windowS} s (${r.fp[0.1].suspicions} susp., ${r.fp[0.1].bytesPerNodeS.toFixed(0)} B/node/s)`,
    `${r.fp[0.3].pairs} / ${r.fp[0.3].windowS} s (${r.fp[0.3].suspicions} susp., ${r.fp[0.3].bytesPerNodeS.toFixed(0)} B/node/s)`,
    r.pktsPerNodeS.toFixed(1), r.probeBytesPerNodeS.toFixed(0),
    `${r.pushPullBytesPerNodeS.toFixed(0)} (${r.measuredFrameBytesPerNodeS.toFixed(0)} over ${r.windowS} s)`, r.bytesPerNodeS.toFixed(0),
  ]));
  printTable('Cost of the simulation', ['N', 'heap after bootstrap (MB)', 'RSS (MB)', 'setup wall (s)', 'wall s per virtual s (quiet)', 'push-pull state (KiB) / interval (s)', 'real verifications', 'total wall (s)'],
    results.map((r) => [r.n, r.heapMB.toFixed(0), r.rssMB.toFixed(0), r.setupWallS.toFixed(1), r.wallPerVirtualS.toFixed(2), `${r.stateFrameKB.toFixed(0)} / ${r.pushPullIntervalS.toFixed(0)}`, r.verifications, r.totalWallS.toFixed(0)]));
  const k1000 = results.find((r) => r.n === 1000);
  if (k1000 !== undefined) {
    const m = median(k1000.crashMs.filter((x) => x >= 0));
    console.log(`target: crash known by all within 5 s at N = 1,000: median ${fmtS(m)} s, worst ${fmtS(Math.max(...k1000.crashMs))} s ${Math.max(...k1000.crashMs) <= 5000 && Math.min(...k1000.crashMs) >= 0 ? 'OK' : 'MISSED'}`);
  }
  const fp10 = results.reduce((a, r) => a + r.fp[0.1].pairs, 0);
  console.log(`target: no false positives at 10% loss: ${fp10} ${fp10 === 0 ? 'OK' : 'MISSED'}`);
  const small = results.find((r) => r.n === Math.min(...SIZES));
  const large = results.find((r) => r.n === Math.max(...SIZES));
  if (small !== large) {
    const ratio = large.bytesPerNodeS / small.bytesPerNodeS;
    console.log(`target: bytes/node/s flat within 20% from N=${small.n} to N=${large.n}: ratio ${ratio.toFixed(3)} ${Math.abs(ratio - 1) <= 0.2 ? 'OK' : 'MISSED'}`);
  }
  if (process.env.BENCH_MEMBERSHIP_FULLSTACK !== '0') {
    const f = await fullStack(100);
    printTable('Cross-check on the full node stack (SimCluster, all layers, fastCrypto), N = 100', ['N', 'formation, all started at once (s)', 'join known by all (s)', 'crash known by all, median (s)', 'crash runs (s)', 'wall (s)'],
      [[f.n, fmtS(f.formMs), fmtS(f.joinMs), fmtS(median(f.crashMs)), f.crashMs.map((x) => fmtS(x)).join(' '), f.wallS.toFixed(0)]]);
  }
  return { results };
}

if (process.argv[2] === '--child') {
  const n = Number(process.argv[3]);
  const r = await child(n);
  process.send(r);
  process.exit(0);
}
