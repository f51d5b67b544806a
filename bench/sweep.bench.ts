/**
 * Sweep on worker threads: a 64-job sweep (pciebench, 2000 requests per job, 8 sizes × 4 IOMMU
 * modes × superpages on/off) on 1 vs 2 workers — wall time (pool start-up included) and speedup —
 * and the per-job cost of the pool itself (dispatch of a job that does nothing).
 */
import { Bench } from 'tinybench';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { runSweep, workerUrl } from '../src/run/sweep/sweep.js';
import { loadSweepSpec } from '../src/run/sweep/spec.js';

const SPEC = `name: bench-64
workloads: [pciebench]
settings: { workload.count: 2000 }
axes:
  workload.size: [64, 128, 256, 512, 1024, 2048, 4096, 8192]
  iommu.mode: ["off", identity, strict, lazy]
  iommu.superpages: [true, false]
`;

const COUNTS = [2000, 20000];
const writeSpec = (dir: string, text: string): string => { const f = join(dir, `spec-${text.length}.yaml`); writeFileSync(f, text); return f; };
const meanMs = (t: { result: unknown }): number => (t.result as { latency?: { mean: number } }).latency?.mean ?? NaN;

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'iommusim-sweep-bench-'));
  const specFile = join(dir, 'bench.yaml');
  writeFileSync(specFile, SPEC);
  const spec = loadSweepSpec(specFile);
  const jobs = spec.jobs.length;

  const bench = new Bench({ iterations: 3, time: 0, warmup: false });
  let n = 0;
  // CPU time of the whole process (all threads) over wall time: how many CPUs the sweep really got
  const cpu = new Map<string, number[]>();
  for (const count of COUNTS) {
    // the same 64 jobs with more requests each, so the pool's start-up is amortised
    const s = count === 2000 ? spec : loadSweepSpec(writeSpec(dir, SPEC.replace('workload.count: 2000', `workload.count: ${count}`)));
    for (const workers of [1, 2]) {
      bench.add(`${jobs} jobs × ${count} requests, ${workers} worker${workers > 1 ? 's' : ''}`, async () => {
        const out = join(dir, `out-${n++}`);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await runSweep(s, { out, workers, quiet: true });
        const c = process.cpuUsage(c0);
        cpu.set(`${count}/${workers}`, [...(cpu.get(`${count}/${workers}`) ?? []), (c.user + c.system) / 1000 / (performance.now() - t0)]);
        rmSync(out, { recursive: true, force: true });
      });
    }
  }
  await bench.run();
  const walls = bench.tasks.map(meanMs);

  // pool overhead: round trip of a job that does nothing (one at a time, and 1000 queued at once)
  const pool = new Piscina({ filename: workerUrl().href, minThreads: 2, maxThreads: 2 });
  await Promise.all([pool.run({ kind: 'noop' }), pool.run({ kind: 'noop' })]);
  const ob = new Bench({ iterations: 2000, time: 0, warmup: true, warmupIterations: 200 });
  ob.add('noop dispatch, one at a time', async () => { await pool.run({ kind: 'noop' }); });
  await ob.run();
  const qb = new Bench({ iterations: 5, time: 0, warmup: true, warmupIterations: 1 });
  qb.add('noop dispatch, 1000 queued', async () => { await Promise.all(Array.from({ length: 1000 }, () => pool.run({ kind: 'noop' }))); });
  await qb.run();
  await pool.destroy();
  const rt = meanMs(ob.tasks[0]);
  const batch = meanMs(qb.tasks[0]) / 1000;
  rmSync(dir, { recursive: true, force: true });

  process.stdout.write(`\n## sweep (${availableParallelism()} CPUs)\n\n| task | wall | per job | speedup | CPU time / wall |\n| --- | --- | --- | --- | --- |\n`);
  bench.tasks.forEach((t, i) => {
    const base = walls[i - (i % 2)];
    const c = cpu.get(`${COUNTS[i >> 1]}/${(i % 2) + 1}`) ?? [];
    const ratio = c.reduce((a, b) => a + b, 0) / c.length;
    process.stdout.write(`| ${t.name} | ${walls[i].toFixed(0)} ms | ${(walls[i] / jobs).toFixed(1)} ms | ${(base / walls[i]).toFixed(2)}×${i % 2 ? ' (goal ≥ 1.8×)' : ''} | ${ratio.toFixed(2)} |\n`);
  });
  process.stdout.write(`| pool dispatch of a no-op job, one at a time | ${(rt * 1000).toFixed(0)} µs | | | |\n`);
  process.stdout.write(`| pool dispatch of a no-op job, 1000 queued | ${(batch * 1000).toFixed(1)} µs per job | | | |\n`);
  process.stdout.write('\nA CPU time / wall near 1 with 2 workers means the machine gave the sweep one CPU (other load): the speedup is then not the pool\'s.\n');
}

// `node dist/bench/sweep.bench.js` runs it alone
if (import.meta.url === `file://${process.argv[1]}`) await run();
