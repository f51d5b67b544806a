/**
 * `runSweep`: a sweep spec's jobs on a piscina pool of worker threads, each finished job appended to
 * out/results.jsonl as it completes, then out/results.json in job order. See README.md.
 */
import { formatClock } from '../../util/units.js';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, openSync, closeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { setMaxListeners } from 'node:events';
import type { Piscina } from 'piscina';
import { InputError } from '../../util/errors.js';
import type { Config } from '../../config/config.js';
import { loadSweepSpec, describeJob, type SweepJob, type SweepSpec } from './spec.js';
import { readResultsJsonl, latestRecords, writeFinal, readManifest, isFinal, describeSpecChange, SWEEP_SCHEMA, type SweepManifest, type SweepRecord, type Outcome } from './merge.js';
import { checkOutputDir, outputError, fsReason, writeAll, writeFileAtomic } from '../../util/output.js';
import { lockFolder, takeoverNote, type FolderLock } from '../../util/lock.js';
import { TraceShares, SHARE_LIMIT_BYTES, type TraceResult } from './shared-trace.js';
import type { WorkerTask, WorkerInput, WorkerAnswer } from './worker.js';
import { newPool } from './pool.js';

export { workerUrl } from './pool.js';

export interface SweepProgress {
  /** Jobs finished in this invocation (ok or failed). */
  done: number;
  /** Jobs this invocation runs (the shard's jobs less those a resumed run skips). */
  total: number;
  failed: number;
  /** Jobs whose hypervisor refuses their I/O path (recorded, not run). */
  refused: number;
  /** Jobs skipped because results.jsonl already holds their result (resume). */
  skipped: number;
  job: SweepJob;
  error?: string;
  elapsedMs: number;
}

export interface SweepOptions {
  /** Worker threads (default: os.availableParallelism(), at most the number of jobs); 0 runs the jobs in this thread. */
  workers?: number;
  /**
   * A pool to run the jobs on instead (its threads: `workers` is ignored), started by the caller
   * and left running: the CLI starts it before it loads its modules and draws the report's charts on it.
   */
  pool?: Piscina;
  /** Output folder (created). */
  out: string;
  /** Keep the results already in out/results.jsonl and run only the other jobs. */
  resume?: boolean;
  /** [k, n]: run only the jobs whose index % n === k - 1. */
  shard?: [number, number];
  /** No progress output. */
  quiet?: boolean;
  onProgress?: (p: SweepProgress) => void;
  /**
   * A trace file whose content is larger than this many bytes (and whose format streams) is not
   * read and shared by this thread: each job's worker streams it itself, in bounded memory (default
   * SHARE_LIMIT_BYTES, 256 MiB; 0: every trace file that streams; Infinity: every one shared).
   */
  shareLimitBytes?: number;
  /** Called once the trace files are loaded and shared, before the first job is sent to a worker. */
  onReady?: () => void;
  /**
   * Keep the lock on `out` when the sweep succeeds: it is returned as SweepSummary.lock, for the
   * caller to release (the CLI keeps it while it writes the report). It is released on errors.
   */
  keepLock?: boolean;
  /** The lock holder's command line, shown to a process that finds the folder locked (default: process.argv). */
  command?: string;
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
  /** Jobs whose hypervisor refuses their I/O path (out/refused.json). */
  refused: SweepRecord[];
  /**
   * Trace files parsed in the main thread and shared with the workers: parses, and bytes in
   * SharedArrayBuffers; `streamed`: trace files too big to share, streamed by each job's worker.
   */
  shared: { loads: number; bytes: number; streamed: number };
  /** The lock on `out`, still held (keepLock): release it when done with the folder. */
  lock?: FolderLock;
  /** Time the jobs took inside the workers (sum over jobs, ms): wall × workers − this is what the pool cost. */
  jobMs: number;
  wallMs: number;
}

export function parseShard(s: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || k < 1 || k > n) throw new InputError(`--shard ${s}: not K/N with 1 <= K <= N; e.g. --shard 1/4`);
  return [k, n];
}

/** `--share-limit-mib N` as typed: a number of MiB ≥ 0 (fractions allowed), in bytes; else one line (InputError). */
export function parseShareLimitMib(text: string, flag = '--share-limit-mib'): number {
  const n = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || n < 0) {
    throw new InputError(`${flag} ${text}: not a number of MiB ≥ 0; e.g. ${flag} ${SHARE_LIMIT_BYTES / 2 ** 20} (a trace file larger is streamed by each worker; 0: every trace file that streams)`);
  }
  return Math.round(n * 2 ** 20);
}

/** runSweep's shareLimitBytes: a number of bytes ≥ 0 (Infinity: share every trace file), else one line (InputError). */
function checkShareLimit(bytes: number): number {
  if (typeof bytes !== 'number' || Number.isNaN(bytes) || bytes < 0) {
    throw new InputError(`shareLimitBytes ${String(bytes)}: not a number of bytes ≥ 0; e.g. ${SHARE_LIMIT_BYTES} (0: every trace file that streams is streamed by each worker)`);
  }
  return bytes;
}

export function shardJobs(jobs: SweepJob[], shard?: [number, number]): SweepJob[] {
  if (!shard) return jobs;
  const [k, n] = shard;
  if (!Number.isInteger(k) || !Number.isInteger(n) || n < 1 || k < 1 || k > n) throw new InputError(`shard ${k}/${n}: not K/N with 1 <= K <= N; e.g. 1/4`);
  return jobs.filter((j) => j.index % n === k - 1);
}

/**
 * The main thread's share of a job: its worker input (a shared trace where the job reads one, or
 * the path of one too big to share, which the worker streams) and an estimate of its cost (jobs go
 * out largest first, so a big job does not run alone at the end).
 */
function prepare(spec: SweepSpec, job: SweepJob, cfg: Readonly<Config>, shares: TraceShares): { input: WorkerInput; cost: number } | { error: string } {
  const input = spec.inputs[job.workload];
  const ws = spec.specs[job.workload];
  const w = cfg.workload;
  const perRequest = 1 + (typeof w.size === 'number' ? w.size : 0) / 1024;
  const tracePath = input.kind === 'trace' ? input.path : ws?.trace;
  if (tracePath !== undefined) {
    const s: TraceResult = shares.trace(tracePath, (ws?.format ?? 'auto') as never, cfg);
    if ('error' in s) return s;
    if ('stream' in s) return { input: { kind: 'stream', trace: s.stream, ...(ws ? { label: ws.name } : {}) }, cost: s.stream.records };
    return { input: { kind: 'trace', trace: s.trace, ...(ws ? { label: ws.name } : {}) }, cost: s.trace.count };
  }
  const name = input.kind === 'generator' ? input.name : ws!.generator!;
  const gen: WorkerInput = { kind: 'generator', name, ...(ws ? { label: ws.name } : {}) };
  if (w.kind === 'nic-pcap' && w.pcap) {
    const s = shares.capture(w.pcap);
    if ('error' in s) return s;
    if (s.trace.kind === 'packets') (gen as { captured?: unknown }).captured = s.trace;
    return { input: gen, cost: s.trace.count };
  }
  return { input: gen, cost: (w.count ?? 1) * perRequest };
}

export async function runSweep(specPath: string | SweepSpec, opts: SweepOptions): Promise<SweepSummary> {
  const t0 = performance.now();
  const requested = opts.workers ?? availableParallelism();
  checkShareLimit(opts.shareLimitBytes ?? SHARE_LIMIT_BYTES);
  if (!Number.isInteger(requested) || requested < 0) throw new InputError(`workers ${requested}: not a whole number ≥ 0; e.g. 2 (0: in this thread)`);
  // the output folder before anything starts (it is created and locked once the spec is read)
  checkOutputDir(opts.out, '--out');
  if (opts.pool) return sweepOn(opts.pool, specPath, opts, t0);
  // The pool first: its threads start and load the simulator (~70 ms) while this thread checks the
  // spec, reads results.jsonl and parses the trace files. Default V8 heap limits: a larger young
  // generation (tried: 128 MiB) made two workers in one process slower than one.
  const pool = requested > 0 ? newPool(requested) : undefined;
  try {
    return await sweepOn(pool, specPath, opts, t0);
  } finally {
    await pool?.destroy();
  }
}

/**
 * Check the output folder, create it and lock it (a stale lock of a process that is gone is taken
 * over, with a note on stderr). An InputError names the folder and the reason, or the holder.
 */
function lockOut(out: string, quiet?: boolean, command?: string): FolderLock {
  checkOutputDir(out, '--out');
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw outputError(out, e, '--out');
  }
  const lock = lockFolder(out, { flag: '--out', command });
  if (lock.tookOver && !quiet) process.stderr.write(`iommusim: note: ${takeoverNote(lock)}\n`);
  return lock;
}

/** A failed append to results.jsonl: the sweep stops (the jobs recorded so far are kept for --resume). */
class JournalError extends Error {
  constructor(readonly failure: unknown) { super('results.jsonl write failed'); }
}

async function sweepOn(pool: Piscina | undefined, specPath: string | SweepSpec, opts: SweepOptions, t0: number): Promise<SweepSummary> {
  const spec = typeof specPath === 'string' ? loadSweepSpec(specPath) : specPath;
  shardJobs(spec.jobs, opts.shard); // a bad shard fails before the folder is touched
  const out = opts.out;
  // the folder: created, and locked against another sweep (or merge) writing into it
  const lock = lockOut(out, opts.quiet, opts.command);
  let ok = false;
  try {
    const summary = await sweepLocked(pool, spec, opts, t0);
    if (opts.keepLock) summary.lock = lock;
    ok = true;
    return summary;
  } finally {
    if (!ok || !opts.keepLock) lock.release();
  }
}

async function sweepLocked(pool: Piscina | undefined, spec: SweepSpec, opts: SweepOptions, t0: number): Promise<SweepSummary> {
  const mine = shardJobs(spec.jobs, opts.shard);
  const out = opts.out;
  const manifest: SweepManifest = { schema: SWEEP_SCHEMA, name: spec.name, spec: spec.file, ...(opts.shard ? { shard: opts.shard } : {}), jobs: spec.jobs };
  const { byId, goodBytes } = resumeState(spec, mine, opts);
  const todo = mine.filter((j) => !byId.has(j.id)); // failed jobs are tried again
  const skipped = mine.length - todo.length;
  const runnable = todo.filter((j) => spec.refused[j.id] === undefined);
  // workers: 0 runs the jobs in this thread, one after another (debugging, profiling, tests)
  const workers = pool === undefined ? 0 : Math.min(pool.options.maxThreads, Math.max(1, runnable.length));
  writeFileAtomic(join(out, 'sweep.json'), JSON.stringify(manifest, null, 2) + '\n', { flag: '--out' });
  const journal = Journal.open(join(out, 'results.jsonl'), !!opts.resume, goodBytes);
  const show = opts.quiet ? undefined : progressPrinter(spec.name, todo.length, skipped, workers);
  const rec = new Recorder(journal, byId, { total: todo.length, skipped, t0 }, show, opts.onProgress);
  try {
    for (const j of todo) {
      const why = spec.refused[j.id];
      if (why !== undefined) rec.refusal(j, why);
    }
    const shares = new TraceShares(opts.shareLimitBytes ?? SHARE_LIMIT_BYTES);
    const tasks = jobTasks(spec, runnable, shares, rec);
    if (!opts.quiet) noteStreamed(spec.name, shares);
    opts.onReady?.();
    if (pool === undefined && tasks.length > 0) await runInline(tasks, rec);
    if (pool && tasks.length > 0) await runOnPool(pool, tasks, rec);
    const w = writeFinal(out, mine, byId);
    const summary: SweepSummary = {
      name: spec.name, out, jobs: spec.jobs.length, shardJobs: mine.length, ran: rec.done, skipped, results: w.results, errors: w.errors, refused: w.refused,
      shared: { loads: shares.loads, bytes: shares.bytes, streamed: shares.streamed }, jobMs: rec.jobMs, wallMs: performance.now() - t0,
    };
    if (!opts.quiet) process.stderr.write(doneLine(summary) + '\n');
    return summary;
  } catch (e) {
    if (journal.failed === undefined) throw e;
    throw new InputError(`${journal.file}: cannot append: ${fsReason(journal.failed)}; the sweep stopped after ${rec.done} jobs (the ${rec.done + skipped} recorded are kept): free some space or fix the folder, then run again with --resume`);
  } finally {
    journal.close();
  }
}

/**
 * What a resumed sweep keeps: the outcomes results.jsonl holds as final for `jobs` (a failed job is
 * run again), and where its last whole line ends (a half-written last line is cut off before the
 * sweep appends). The folder must hold the same sweep and shard. Nothing without opts.resume.
 */
function resumeState(spec: SweepSpec, jobs: SweepJob[], opts: SweepOptions): { byId: Map<string, Outcome>; goodBytes: number } {
  if (!opts.resume) return { byId: new Map(), goodBytes: 0 };
  if (existsSync(join(opts.out, 'sweep.json'))) checkSameSweep(readManifest(opts.out), join(opts.out, 'sweep.json'), spec, opts.shard);
  const r = readResultsJsonl(join(opts.out, 'results.jsonl'));
  return { byId: finalOutcomes(jobs, latestRecords(r.records)), goodBytes: r.goodBytes };
}

/** `--resume` into a folder whose sweep.json (`file`) is `old`: the same sweep (name and job ids) and the same shard, else one line (InputError). Exported for tests, as are the other phases. */
export function checkSameSweep(old: SweepManifest, file: string, spec: Pick<SweepSpec, 'name' | 'file' | 'jobs'>, shard?: [number, number]): void {
  if (old.name !== spec.name || old.jobs.map((j) => j.id).join(',') !== spec.jobs.map((j) => j.id).join(',')) {
    throw new InputError(`${file}: the folder holds another sweep (${old.name}, ${old.jobs.length} jobs) than ${spec.file} (${spec.name}, ${spec.jobs.length} jobs): ${describeSpecChange(old, spec.name, spec.jobs)}; use another --out, or drop --resume to start over`);
  }
  const part = (s?: [number, number]): string => (s ? `shard ${s.join('/')}` : 'the whole sweep');
  if (part(old.shard) !== part(shard)) throw new InputError(`${file}: the folder holds ${part(old.shard)} of ${spec.name}, not ${part(shard)}; resume ${old.shard ? `with --shard ${old.shard.join('/')}` : 'without --shard'}, or use another --out`);
}

/** The outcomes of `jobs`, in job order, whose latest record is final (a result or a refusal; not an error). */
export function finalOutcomes(jobs: SweepJob[], latest: Map<string, SweepRecord>): Map<string, Outcome> {
  const byId = new Map<string, Outcome>();
  for (const j of jobs) {
    const p = latest.get(j.id);
    if (isFinal(p)) byId.set(j.id, p!);
  }
  return byId;
}

/** A job's line in results.jsonl: its id, the job, and its result, error or refusal (`json`: that value as JSON). */
export function journalLine(job: SweepJob, field: 'result' | 'error' | 'refused', json: string): string {
  return `{"id":${JSON.stringify(job.id)},"job":${JSON.stringify(job)},${JSON.stringify(field)}:${json}}`;
}

/**
 * results.jsonl as a journal: appended a line per finished job, so an interrupted sweep keeps what it
 * finished. A failed append (disk full) cuts the file back to its last whole line, aborts `abort`
 * (the jobs queued on the pool) and throws JournalError: the sweep stops.
 */
export class Journal {
  /** Why an append failed (the sweep stopped), or undefined. */
  failed: unknown;
  readonly abort = new AbortController();
  private constructor(readonly file: string, private readonly fd: number, private end: number) {
    setMaxListeners(0, this.abort.signal); // one listener per job queued on the pool
  }

  /** Opened to append after the first `goodBytes` (resume), or emptied. */
  static open(file: string, resume: boolean, goodBytes: number): Journal {
    let fd: number;
    try {
      fd = openSync(file, resume ? 'a' : 'w');
      if (resume) ftruncateSync(fd, goodBytes);
    } catch (e) {
      throw outputError(file, e, '--out');
    }
    return new Journal(file, fd, resume ? goodBytes : 0);
  }

  append(line: string): void {
    try {
      const buf = Buffer.from(line + '\n', 'utf8');
      writeAll(this.fd, buf);
      this.end += buf.length;
    } catch (e) {
      this.failed = e;
      try { ftruncateSync(this.fd, this.end); } catch { /* the partial line is cut off on --resume */ }
      this.abort.abort();
      throw new JournalError(e);
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Each finished job: its line in the journal, its outcome kept for results.json, the counts, and the progress shown and reported. */
class Recorder {
  done = 0;
  failed = 0;
  refused = 0;
  /** Time the jobs took inside the workers (ms). */
  jobMs = 0;
  constructor(
    readonly journal: Journal, private readonly byId: Map<string, Outcome>, private readonly run: { total: number; skipped: number; t0: number },
    private readonly show?: (p: SweepProgress) => void, private readonly onProgress?: (p: SweepProgress) => void,
  ) {}

  result(job: SweepJob, a: WorkerAnswer): void {
    this.jobMs += a.ms;
    this.finish(job, journalLine(job, 'result', a.line), { text: a.text });
  }

  fail(job: SweepJob, error: string): void {
    this.finish(job, journalLine(job, 'error', JSON.stringify(error)), { error });
  }

  refusal(job: SweepJob, why: string): void {
    this.finish(job, journalLine(job, 'refused', JSON.stringify(why)), { refused: why });
  }

  private finish(job: SweepJob, line: string, o: Outcome): void {
    if (this.journal.failed !== undefined) return;
    this.journal.append(line);
    this.byId.set(job.id, o);
    this.done++;
    if (o.error !== undefined) this.failed++;
    if (o.refused !== undefined) this.refused++;
    const p: SweepProgress = { done: this.done, total: this.run.total, failed: this.failed, refused: this.refused, skipped: this.run.skipped, job, error: o.error, elapsedMs: performance.now() - this.run.t0 };
    this.show?.(p);
    this.onProgress?.(p);
  }
}

type Task = { job: SweepJob; task: WorkerTask; cost: number };

/**
 * The jobs as worker tasks, largest first (stable: the last jobs to start are the short ones); a job
 * whose input cannot be prepared is recorded as failed. Each trace file is read and parsed once here,
 * shared with the workers (shared-trace.ts); one too big to share is left to each job's worker to stream.
 */
function jobTasks(spec: SweepSpec, jobs: SweepJob[], shares: TraceShares, rec: Recorder): Task[] {
  const tasks: Task[] = [];
  for (const job of jobs) {
    const cfg = spec.configs[job.index];
    const p = prepare(spec, job, cfg, shares);
    if ('error' in p) rec.fail(job, p.error);
    else tasks.push({ job, task: { kind: 'job', job, cfg, input: p.input }, cost: p.cost });
  }
  shares.dropFiles();
  return tasks.sort((a, b) => b.cost - a.cost || a.job.index - b.job.index);
}

/** A note on stderr for each trace file streamed by each job's worker instead of shared. */
function noteStreamed(name: string, shares: TraceShares): void {
  const mib = (n: number): string => `${+(n / 2 ** 20).toFixed(1)} MiB`;
  for (const t of shares.streamedFiles) process.stderr.write(`sweep ${name}: ${t.path} (${mib(t.bytes)}) is streamed by each job's worker, not shared (larger than the share limit, ${mib(shares.limitBytes)})\n`);
}

/** The tasks one after another in this thread (workers 0), with a turn of the event loop between jobs for signals (SIGINT releases the folder's lock). */
async function runInline(tasks: Task[], rec: Recorder): Promise<void> {
  const { default: run } = (await import('./worker.js')) as { default: (t: WorkerTask) => WorkerAnswer };
  for (const { job, task } of tasks) {
    let a: WorkerAnswer | undefined;
    try { a = run(task); } catch (e) { rec.fail(job, (e as Error)?.message ?? String(e)); }
    if (a) rec.result(job, a);
    // let signals in between jobs (SIGINT releases the folder's lock)
    await new Promise((r) => setImmediate(r));
  }
}

/** The tasks on the pool; a job that fails there is recorded as failed, unless the journal failed (then it is not recorded: a resume runs it). */
async function runOnPool(pool: Piscina, tasks: Task[], rec: Recorder): Promise<void> {
  await Promise.all(tasks.map(async ({ job, task }) => {
    let a: WorkerAnswer;
    try {
      a = (await pool.run(task, { signal: rec.journal.abort.signal })) as WorkerAnswer;
    } catch (e) {
      if (rec.journal.failed !== undefined) return; // stopped: this job is not recorded, a resume runs it
      rec.fail(job, (e as Error)?.message ?? String(e));
      return;
    }
    rec.result(job, a);
  }));
}

/** The sweep's last line on stderr: jobs ok, failed and refused (with their files), run and resumed, the wall time, results.json. */
export function doneLine(s: Pick<SweepSummary, 'name' | 'out' | 'shardJobs' | 'ran' | 'skipped' | 'results' | 'errors' | 'refused' | 'wallMs'>): string {
  const failed = s.errors.length ? `, ${s.errors.length} failed (${join(s.out, 'errors.json')})` : '';
  const refused = s.refused.length ? `, ${s.refused.length} refused by their device or hypervisor (${join(s.out, 'refused.json')})` : '';
  return `sweep ${s.name}: ${s.results}/${s.shardJobs} jobs ok${failed}${refused}, ${s.ran} run, ${s.skipped} resumed, ${(s.wallMs / 1000).toFixed(1)} s → ${join(s.out, 'results.json')}`;
}

/** A bar on a TTY (redrawn in place), plain lines (at most one a second, and every failure) otherwise. */
function progressPrinter(name: string, total: number, skipped: number, workers: number): (p: SweepProgress) => void {
  const tty = !!process.stderr.isTTY;
  const start = performance.now();
  let last = 0;
  process.stderr.write(`sweep ${name}: ${total} jobs ${workers === 0 ? 'in this thread' : `on ${workers} worker${workers === 1 ? '' : 's'}`}${skipped ? ` (${skipped} already done)` : ''}\n`);
  return (p) => {
    const el = performance.now() - start;
    const rate = p.done / (el / 1000);
    const eta = rate > 0 ? ((p.total - p.done) / rate) * 1000 : Infinity;
    if (p.error !== undefined) {
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}job ${p.job.id} failed (${describeJob(p.job)}): ${p.error}\n`);
    }
    const figures = `${p.done}/${p.total}${p.failed ? ` (${p.failed} failed)` : ''}${p.refused ? ` (${p.refused} refused)` : ''}  ${rate.toFixed(1)} jobs/s  ETA ${formatClock(eta)}`;
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
