// `npm run bench`: runs every benchmark in this folder, in one process, and prints their tables.
// Pick some with BENCH_ONLY=pipeline,membership.
import { cpus } from 'node:os';

const all = ['pipeline', 'policy', 'reputation', 'dissemination', 'membership'];
const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : all;
console.log(`Hearsay benchmarks — ${new Date().toISOString()} — node ${process.version} — ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);
for (const name of all.filter((n) => only.includes(n))) {
  const mod = await import(`./${name}.mjs`);
  await mod.run();
}
