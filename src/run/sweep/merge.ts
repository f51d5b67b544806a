/**
 * Sweep output files, and `mergeShards`: joins shard output folders into the results.json an
 * unsharded run writes.
 *
 *   out/sweep.json     the spec's name and full job list (and the shard), written first
 *   out/results.jsonl  one line per finished job, in completion order: {id, job, result} or {id, job, error}
 *   out/results.json   the RunResult array of the successful jobs, in job order (byte-identical
 *                      whatever the worker count, the shard split or the interruptions)
 *   out/errors.json    the failed jobs, [{id, job, error}], in job order
 *   out/refused.json   the jobs whose hypervisor refuses their I/O path, [{id, job, refused}], in job order
 */
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic, checkOutputDir, outputError } from '../../util/output.js';
import { lockFolder, readLock, holderState, describeHolder, takeoverNote, LOCK_FILE, type FolderLock } from '../../util/lock.js';
import { describeJob, type SweepJob } from './spec.js';
import { resultText, type SweepResult } from './result-text.js';

export const SWEEP_SCHEMA = 'iommusim.sweep/1';

export interface SweepManifest {
  schema: typeof SWEEP_SCHEMA;
  name: string;
  spec: string;
  /** [k, n] for shard k of n; absent when unsharded. */
  shard?: [number, number];
  jobs: SweepJob[];
}

export interface SweepRecord {
  id: string;
  job: SweepJob;
  result?: SweepResult;
  error?: string;
  /** The hypervisor refuses the job's I/O path: the reason (a final outcome, not a failure). */
  refused?: string;
}

/** A job's outcome as results.json needs it: its element's text (from a worker), or a record read back. */
export interface Outcome {
  /** The element of results.json, as resultText writes it. */
  text?: string;
  result?: SweepResult;
  error?: string;
  refused?: string;
}

/** A finished job: a result or a refusal (a failure is tried again). */
export const isFinal = (r: { result?: unknown; text?: string; refused?: string } | undefined): boolean => r !== undefined && (r.result !== undefined || r.text !== undefined || r.refused !== undefined);

export interface JsonlRead {
  records: SweepRecord[];
  /** Bytes up to the end of the last whole line (a half-written last line is dropped). */
  goodBytes: number;
  /** A half-written last line was dropped. */
  truncated: boolean;
}

/** Read results.jsonl; a half-written last line (an interrupted run) is tolerated and dropped. */
export function readResultsJsonl(file: string): JsonlRead {
  if (!existsSync(file)) return { records: [], goodBytes: 0, truncated: false };
  const buf = readFileSync(file);
  const records: SweepRecord[] = [];
  let pos = 0;
  let line = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    line++;
    const end = nl < 0 ? buf.length : nl;
    const text = buf.subarray(pos, end).toString('utf8');
    let rec: SweepRecord | undefined;
    try {
      rec = text.trim() === '' ? undefined : (JSON.parse(text) as SweepRecord);
    } catch {
      if (nl < 0 || buf.subarray(nl + 1).toString('utf8').trim() === '') return { records, goodBytes: pos, truncated: true };
      throw new InputError(`${file}:${line}: not a JSON line; remove the line (or the folder) and resume`);
    }
    // a line without its newline was cut short (even if it parses): drop it, the job runs again
    if (nl < 0) return { records, goodBytes: pos, truncated: true };
    if (rec) records.push(rec);
    pos = nl + 1;
  }
  return { records, goodBytes: pos, truncated: false };
}

/** The last record of each id, a result (or refusal) winning over an error (a retried job). */
export function latestRecords(records: SweepRecord[]): Map<string, SweepRecord> {
  const m = new Map<string, SweepRecord>();
  for (const r of records) {
    const prev = m.get(r.id);
    if (isFinal(prev) && !isFinal(r)) continue;
    m.set(r.id, r);
  }
  return m;
}

/**
 * Write results.json, errors.json and refused.json for `jobs` (in that order). results.json is
 * `JSON.stringify(results, null, 2)`, assembled from each result's text (the worker's, verbatim).
 */
export function writeFinal(out: string, jobs: SweepJob[], byId: Map<string, Outcome>): { results: number; errors: SweepRecord[]; refused: SweepRecord[] } {
  const texts: string[] = [];
  const errors: SweepRecord[] = [];
  const refused: SweepRecord[] = [];
  for (const j of jobs) {
    const r = byId.get(j.id);
    if (r?.text !== undefined) texts.push(r.text);
    else if (r?.result !== undefined) texts.push(resultText(r.result));
    else if (r?.refused !== undefined) refused.push({ id: j.id, job: j, refused: r.refused });
    else if (r?.error !== undefined) errors.push({ id: j.id, job: j, error: r.error });
  }
  writeFileAtomic(join(out, 'results.json'), texts.length === 0 ? '[]\n' : `[\n  ${texts.join(',\n  ')}\n]\n`, { flag: '--out' });
  writeFileAtomic(join(out, 'errors.json'), JSON.stringify(errors, null, 2) + '\n', { flag: '--out' });
  writeFileAtomic(join(out, 'refused.json'), JSON.stringify(refused, null, 2) + '\n', { flag: '--out' });
  return { results: texts.length, errors, refused };
}

export function readManifest(dir: string): SweepManifest {
  const f = join(dir, 'sweep.json');
  let m: SweepManifest;
  try {
    m = JSON.parse(readFileSync(f, 'utf8')) as SweepManifest;
  } catch (e) {
    throw new InputError(`${f}: cannot read the sweep manifest (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a folder written by iommusim sweep --out`);
  }
  if (m.schema !== SWEEP_SCHEMA || !Array.isArray(m.jobs)) throw new InputError(`${f}: not an ${SWEEP_SCHEMA} manifest; give a folder written by iommusim sweep --out`);
  return m;
}

export interface MergeSummary {
  jobs: number;
  results: number;
  errors: SweepRecord[];
  refused: SweepRecord[];
  /** The lock on `out`, still held (keepLock): release it when done with the folder. */
  lock?: FolderLock;
}

export interface MergeOptions {
  /** Keep the lock on `out` after a successful merge (returned in MergeSummary.lock); released on errors. */
  keepLock?: boolean;
  /** The lock holder's command line, shown to a process that finds the folder locked. */
  command?: string;
}

/**
 * Join shard output folders into `out` (results.json, errors.json, results.jsonl, sweep.json) the
 * same as one unsharded run. Every shard must come from the same spec (same job list); a job with
 * no record in any shard, or finished in two, is an error naming it.
 */
export function mergeShards(dirs: string[], out: string, opts: MergeOptions = {}): MergeSummary {
  if (dirs.length === 0) throw new InputError('merge: no shard folders given; name the --out folders of every shard');
  checkOutputDir(out, '--out');
  const manifests = dirs.map((d) => readManifest(d));
  // a shard still being written (its sweep holds the folder's lock) is not finished
  dirs.forEach((d) => {
    const h = readLock(d);
    if (h !== null && h !== 'unreadable' && holderState(h, join(d, LOCK_FILE)).alive) {
      throw new InputError(`merge: ${d} is still being written (${describeHolder(h)}); wait for that sweep to finish, then merge (if it is gone, delete ${join(d, LOCK_FILE)})`);
    }
  });
  const first = manifests[0];
  const ids = first.jobs.map((j) => j.id).join(',');
  manifests.forEach((m, i) => {
    if (m.name !== first.name || m.jobs.map((j) => j.id).join(',') !== ids) {
      throw new InputError(`${join(dirs[i], 'sweep.json')}: a different sweep (${m.name}, ${m.jobs.length} jobs) from ${join(dirs[0], 'sweep.json')} (${first.name}, ${first.jobs.length} jobs): ${describeSpecChange(first, m.name, m.jobs)}; merge the shards of one spec`);
    }
  });
  const byId = new Map<string, SweepRecord>();
  const where = new Map<string, string>();
  /** A job finished in two of the folders: the first in spec order is reported (results.jsonl is in completion order). */
  const twice = new Map<string, string>();
  dirs.forEach((d) => {
    for (const [id, r] of latestRecords(readResultsJsonl(join(d, 'results.jsonl')).records)) {
      const prev = byId.get(id);
      if (isFinal(prev) && isFinal(r)) {
        if (!twice.has(id)) twice.set(id, `is in both ${where.get(id)} and ${d}`);
        continue;
      }
      if (isFinal(prev)) continue;
      byId.set(id, r);
      where.set(id, d);
    }
  });
  const dup = first.jobs.find((j) => twice.has(j.id));
  if (dup) throw new InputError(`merge: job ${dup.id} (${describeJob(dup)}) ${twice.get(dup.id)}; give each shard once`);
  const missing = first.jobs.filter((j) => !byId.has(j.id));
  if (missing.length > 0) {
    const j = missing[0];
    throw new InputError(`merge: job ${j.id} #${j.index} (${describeJob(j)}) is in none of the shards${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}; run the missing shard (or resume it) and merge again`);
  }
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw outputError(out, e, '--out');
  }
  const lock = lockFolder(out, { flag: '--out', command: opts.command });
  if (lock.tookOver) process.stderr.write(`iommusim: note: ${takeoverNote(lock)}\n`);
  let ok = false;
  try {
    const manifest: SweepManifest = { schema: SWEEP_SCHEMA, name: first.name, spec: first.spec, jobs: first.jobs };
    writeFileAtomic(join(out, 'sweep.json'), JSON.stringify(manifest, null, 2) + '\n', { flag: '--out' });
    writeFileAtomic(join(out, 'results.jsonl'), first.jobs.map((j) => JSON.stringify(byId.get(j.id)) + '\n').join(''), { flag: '--out' });
    const w = writeFinal(out, first.jobs, byId);
    ok = true;
    return { jobs: first.jobs.length, results: w.results, errors: w.errors, refused: w.refused, ...(opts.keepLock ? { lock } : {}) };
  } finally {
    if (!ok || !opts.keepLock) lock.release();
  }
}

const show = (v: unknown): string => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

/** The values a dimension (workload, run, mode, hypervisor or a settings key) takes over `jobs`, in first-seen order. */
function dimensions(jobs: SweepJob[]): Map<string, string[]> {
  const dims = new Map<string, string[]>();
  const add = (k: string, v: unknown): void => {
    const vs = dims.get(k) ?? [];
    const t = show(v);
    if (!vs.includes(t)) vs.push(t);
    dims.set(k, vs);
  };
  const keys = new Set<string>();
  for (const j of jobs) for (const k of Object.keys(j.settings ?? {})) keys.add(k);
  for (const j of jobs) {
    add('workload', j.workload);
    add('run', j.run);
    add('mode', j.mode);
    add('hypervisor', j.hypervisor);
    for (const k of keys) add(k, j.settings?.[k]);
  }
  for (const k of ['run', 'mode', 'hypervisor']) if (dims.get(k)?.join() === '(none)') dims.delete(k);
  return dims;
}

/**
 * What differs between the sweep a folder holds (`old`) and a spec (`name`, `jobs`), in one line:
 * the name, the values each key or axis takes (`workload.size: 64, 256 → 64, 512`), and the jobs
 * added and removed (by id, with an example of each).
 */
export function describeSpecChange(old: Pick<SweepManifest, 'name' | 'jobs'>, name: string, jobs: SweepJob[]): string {
  const parts: string[] = [];
  if (old.name !== name) parts.push(`name ${old.name} → ${name}`);
  const a = dimensions(old.jobs), b = dimensions(jobs);
  const changed: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(k), y = b.get(k);
    if (!x) changed.push(`${k} added (${y!.join(', ')})`);
    else if (!y) changed.push(`${k} removed (was ${x.join(', ')})`);
    else if (x.join('\u0000') !== y.join('\u0000')) {
      // jobs without the key on both sides (explicit jobs) are not the change
      const both = x.includes('(none)') && y.includes('(none)');
      const list = (v: string[]): string => (both ? v.filter((t) => t !== '(none)') : v).join(', ');
      changed.push(`${k}: ${list(x)} → ${list(y)}`);
    }
  }
  if (changed.length > 4) parts.push(`${changed.slice(0, 4).join('; ')}; and ${changed.length - 4} more keys`);
  else parts.push(...changed);
  const oldIds = new Set(old.jobs.map((j) => j.id)), newIds = new Set(jobs.map((j) => j.id));
  const added = jobs.filter((j) => !oldIds.has(j.id)), removed = old.jobs.filter((j) => !newIds.has(j.id));
  const ex = (js: SweepJob[]): string => (js.length ? ` (e.g. ${js[0].id}: ${describeJob(js[0])})` : '');
  if (added.length || removed.length) parts.push(`${old.jobs.length} jobs → ${jobs.length}: ${added.length} added${ex(added)}, ${removed.length} removed${ex(removed)}`);
  else if (old.jobs.map((j) => j.id).join() !== jobs.map((j) => j.id).join()) parts.push('the same jobs in another order');
  return parts.length ? parts.join('; ') : 'no difference in name or jobs';
}
