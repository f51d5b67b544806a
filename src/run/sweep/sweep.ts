/**
 * `runSweep`: a sweep spec's jobs on a piscina pool of worker threads, each finished job appended to
 * out/results.jsonl as it completes, then out/results.json in job order. See README.md.
 */
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, openSync, writeSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { InputError } from '../../util/errors.js';
import { loadSweepSpec, describeJob, type SweepJob, type SweepSpec } from './spec.js';
import { readResultsJsonl, latestRecords, writeFinal, readManifest, SWEEP_SCHEMA, type SweepManifest, type SweepRecord } from './merge.js';
import type { WorkerTask } from './worker.js';

export interface SweepProgress {
  /** Jobs finished in this invocation (ok or failed). */
  done: number;
  /** Jobs this invocation runs (the shard's jobs less those a resumed run skips). */
  total: number;
  failed: number;
  /** Jobs skipped because results.jsonl already holds their result (resume). */
  skipped: number;
  job: SweepJob;
  error?: string;
  elapsedMs: number;
}

export interface SweepOptions {
  /** Worker threads (default: os.availableParallelism(), at most the number of jobs). */
  workers?: number;
  /** Output folder (created). */
  out: string;
  /** Keep the results already in out/results.jsonl and run only the other jobs. */
  resume?: boolean;
  /** [k, n]: run only the jobs whose index % n === k - 1. */
  shard?: [number, number];
  /** No progress output. */
  quiet?: boolean;
  onProgress?: (p: SweepProgress) => void;
}

export interface SweepSummary {
  name: string;
  out: string;
  /** Jobs in the spec, and in this shard. */
  jobs: number;
  shardJobs: number;
  ran: number;
  skipped: number;
  /** Successful results in out/results.json. */
  results: number;
  errors: SweepRecord[];
  wallMs: number;
}

/** The compiled worker next to this file; from TypeScript source (vitest, tsx) the copy under dist/. */
export function workerUrl(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const dist = new URL('../../../dist/src/run/sweep/worker.js', import.meta.url);
  if (existsSync(fileURLToPath(dist))) return dist;
  throw new Error(`the sweep worker ${fileURLToPath(here)} is not compiled; run npm run build`);
}

export function parseShard(s: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || k < 1 || k > n) throw new InputError(`--shard ${s}: not K/N with 1 <= K <= N; e.g. --shard 1/4`);
  return [k, n];
}

export function shardJobs(jobs: SweepJob[], shard?: [number, number]): SweepJob[] {
  if (!shard) return jobs;
  const [k, n] = shard;
  if (!Number.isInteger(k) || !Number.isInteger(n) || n < 1 || k < 1 || k > n) throw new InputError(`shard ${k}/${n}: not K/N with 1 <= K <= N; e.g. 1/4`);
  return jobs.filter((j) => j.index % n === k - 1);
}

export async function runSweep(specPath: string | SweepSpec, opts: SweepOptions): Promise<SweepSummary> {
  const t0 = performance.now();
  const spec = typeof specPath === 'string' ? loadSweepSpec(specPath) : specPath;
  const mine = shardJobs(spec.jobs, opts.shard);
  const out = opts.out;
  mkdirSync(out, { recursive: true });
  const manifest: SweepManifest = { schema: SWEEP_SCHEMA, name: spec.name, spec: spec.file, ...(opts.shard ? { shard: opts.shard } : {}), jobs: spec.jobs };
  const jsonl = join(out, 'results.jsonl');

  // resume: keep the finished jobs (a half-written last line is cut off before we append)
  let prior = new Map<string, SweepRecord>();
  let goodBytes = 0;
  if (opts.resume && existsSync(join(out, 'sweep.json'))) {
    const old = readManifest(out);
    if (old.name !== spec.name || old.jobs.map((j) => j.id).join(',') !== spec.jobs.map((j) => j.id).join(',')) {
      throw new InputError(`${join(out, 'sweep.json')}: the folder holds another sweep (${old.name}, ${old.jobs.length} jobs) than ${spec.file} (${spec.name}, ${spec.jobs.length} jobs); use another --out, or drop --resume to start over`);
    }
  }
  if (opts.resume) {
    const r = readResultsJsonl(jsonl);
    prior = latestRecords(r.records);
    goodBytes = r.goodBytes;
  }
  writeFileSync(join(out, 'sweep.json'), JSON.stringify(manifest, null, 2) + '\n');
  const fd = openSync(jsonl, opts.resume ? 'a' : 'w');
  if (opts.resume) ftruncateSync(fd, goodBytes);

  const byId = new Map<string, SweepRecord>();
  for (const j of mine) { const p = prior.get(j.id); if (p) byId.set(j.id, p); }
  const todo = mine.filter((j) => !byId.get(j.id)?.result); // failed jobs are tried again
  const skipped = mine.length - todo.length;
  const workers = Math.max(1, Math.min(opts.workers ?? availableParallelism(), Math.max(1, todo.length)));
  const show = opts.quiet ? undefined : progressPrinter(spec.name, todo.length, skipped, workers);

  let done = 0;
  let failed = 0;
  const finish = (job: SweepJob, line: string, rec: SweepRecord): void => {
    writeSync(fd, line + '\n');
    byId.set(job.id, rec);
    done++;
    if (rec.error !== undefined) failed++;
    const p: SweepProgress = { done, total: todo.length, failed, skipped, job, error: rec.error, elapsedMs: performance.now() - t0 };
    show?.(p);
    opts.onProgress?.(p);
  };

  if (todo.length > 0) {
    // A larger young generation per worker: a job allocates its model's typed arrays and result
    // afresh, and with the default 16 MiB semi-space two workers spend their time in scavenges
    // (measured: 64 jobs × 20,000 requests, 2 workers, 1.75 s → 1.45 s).
    const pool = new Piscina({ filename: workerUrl().href, minThreads: workers, maxThreads: workers, idleTimeout: 1000, resourceLimits: { maxYoungGenerationSizeMb: 128 } });
    try {
      await Promise.all(todo.map(async (job) => {
        const task: WorkerTask = { kind: 'job', job, input: spec.inputs[job.workload] };
        try {
          const json = (await pool.run(task)) as string;
          const head = `{"id":${JSON.stringify(job.id)},"job":${JSON.stringify(job)},"result":`;
          finish(job, `${head}${json}}`, { id: job.id, job, result: JSON.parse(json) });
        } catch (e) {
          const error = (e as Error)?.message ?? String(e);
          const rec: SweepRecord = { id: job.id, job, error };
          finish(job, JSON.stringify(rec), rec);
        }
      }));
    } finally {
      closeSync(fd);
      await pool.destroy();
    }
  } else {
    closeSync(fd);
  }
  const w = writeFinal(out, mine, byId);
  const summary: SweepSummary = { name: spec.name, out, jobs: spec.jobs.length, shardJobs: mine.length, ran: done, skipped, results: w.results, errors: w.errors, wallMs: performance.now() - t0 };
  if (!opts.quiet) {
    process.stderr.write(`sweep ${spec.name}: ${w.results}/${mine.length} jobs ok${w.errors.length ? `, ${w.errors.length} failed (${join(out, 'errors.json')})` : ''}, ${done} run, ${skipped} resumed, ${(summary.wallMs / 1000).toFixed(1)} s → ${join(out, 'results.json')}\n`);
  }
  return summary;
}

const fmtTime = (ms: number): string => {
  if (!Number.isFinite(ms)) return '--:--';
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** A bar on a TTY (redrawn in place), plain lines (at most one a second, and every failure) otherwise. */
function progressPrinter(name: string, total: number, skipped: number, workers: number): (p: SweepProgress) => void {
  const tty = !!process.stderr.isTTY;
  const start = performance.now();
  let last = 0;
  process.stderr.write(`sweep ${name}: ${total} jobs on ${workers} worker${workers === 1 ? '' : 's'}${skipped ? ` (${skipped} already done)` : ''}\n`);
  return (p) => {
    const el = performance.now() - start;
    const rate = p.done / (el / 1000);
    const eta = rate > 0 ? ((p.total - p.done) / rate) * 1000 : Infinity;
    const figures = `${p.done}/${p.total}${p.failed ? ` (${p.failed} failed)` : ''}  ${rate.toFixed(1)} jobs/s  ETA ${fmtTime(eta)}`;
    if (p.error !== undefined) {
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}job ${p.job.id} failed (${describeJob(p.job)}): ${p.error}\n`);
    }
    if (tty) {
      const width = 30;
      const fill = p.total ? Math.round((width * p.done) / p.total) : width;
      process.stderr.write(`\r\x1b[K[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${figures}${p.done === p.total ? '\n' : ''}`);
    } else if (el - last >= 1000 || p.done === p.total) {
      last = el;
      process.stderr.write(`sweep ${name}: ${figures}\n`);
    }
  };
}
