// Policy decision benchmark (issue 5). The receive path asks the compiled policy whether an origin
// may publish a topic or write a key; the target is that a known (node, topic) pair costs
// no more than a map lookup. Measured side by side in one run, interleaved, medians of rounds:
//   - a bare Map<string, boolean>.get with the topic string as key (the floor);
//   - the compiled decision for a known (subject, topic) pair (decision cache hit);
//   - the uncompiled decision: glob patterns evaluated for every call (a cache miss each time).
// Uses policy/example.json: three tenants, four roles, glob grants.
import { readFileSync } from 'node:fs';
import { compilePolicy } from '../../dist/policy/compiled-policy.js';
import { parsePolicy } from '../../dist/policy/policy-document.js';
import { median, printTable } from './stats.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CALLS = 2_000_000;

export async function run() {
  const doc = parsePolicy(JSON.parse(readFileSync(new URL('../../policy/example.json', import.meta.url), 'utf8')));
  const defaults = { packetsPerSecond: 2000, maxMessageBytes: 65_536 };
  const subjects = [
    { nodeId: new Uint8Array(32).fill(1), tenant: 'acme', roles: ['publisher'] },
    { nodeId: new Uint8Array(32).fill(2), tenant: 'globex', roles: ['subscriber'] },
    { nodeId: new Uint8Array(32).fill(3), tenant: 'ops', roles: ['admin'] },
  ];
  const names = ['acme/orders/eu/1', 'globex/orders/us/7', 'acme/status/up', 'shared/announcements', 'globex/state/x/y'];
  const compiled = compilePolicy(doc, { defaults });
  const bare = new Map(names.map((n, i) => [n, i % 2 === 0]));
  let sink = 0;

  const timeBare = () => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) if (bare.get(names[i % 5])) sink++;
    return Number(process.hrtime.bigint() - t) / CALLS;
  };
  const timeCompiled = () => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) if (compiled.mayPublish(subjects[i % 3], names[i % 5])) sink++;
    return Number(process.hrtime.bigint() - t) / CALLS;
  };
  const timeUncached = () => {
    // A fresh compilation per 1,000 calls with a cache of 16 entries: nearly every call evaluates.
    const n = CALLS / 20;
    let q = compilePolicy(doc, { defaults, cacheSize: 16 });
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      if (q.mayPublish(subjects[i % 3], `${names[i % 5]}/${i}`)) sink++;
      if (i % 1000 === 999) q = compilePolicy(doc, { defaults, cacheSize: 16 });
    }
    return Number(process.hrtime.bigint() - t) / n;
  };

  const rows = { bare: [], compiled: [], uncached: [], ratio: [] };
  timeBare(); timeCompiled(); timeUncached(); // warm up
  for (let r = 0; r < ROUNDS; r++) {
    const b = timeBare();
    const c = timeCompiled();
    rows.bare.push(b);
    rows.compiled.push(c);
    rows.uncached.push(timeUncached());
    rows.ratio.push(c / b);
  }
  const fmt = (xs) => xs.map((x) => x.toFixed(1)).join(' ');
  printTable('Policy decision on the receive path (ns per call; policy/example.json)', ['measurement', 'median ns/call', 'rounds'], [
    ['bare Map<string>.get of the topic', median(rows.bare).toFixed(1), fmt(rows.bare)],
    ['compiled mayPublish, known (subject, topic) pair', median(rows.compiled).toFixed(1), fmt(rows.compiled)],
    ['glob evaluation (decision cache miss)', median(rows.uncached).toFixed(1), fmt(rows.uncached)],
  ]);
  console.log(`ratio compiled decision / bare map lookup (median of per-round ratios): ${median(rows.ratio).toFixed(2)}`);
  console.log(`ratio glob evaluation / compiled decision: ${(median(rows.uncached) / median(rows.compiled)).toFixed(0)}x`);
  if (sink < 0) console.log(sink); // keeps the loops' results alive
}
