/**
 * The piscina worker entry: one sweep job in, its RunResult out as two strings — compact JSON for
 * results.jsonl and the indented text of its element of results.json — so the main thread writes
 * both verbatim and never parses a result. It imports only the simulator (the run path, the
 * I/O-path comparison, the shared-trace views), never the pool, the spec parser, YAML or the CLI.
 *
 * The main thread sends the job's resolved config (it resolved every job's config when it checked
 * the spec) and, for a trace-file job, the trace as SharedArrayBuffer-backed columns or capture
 * frames (shared-trace.ts): the worker reads no file.
 */
import { threadId } from 'node:worker_threads';
import { fromColumns, fromGenerator, runResolved } from '../inputs.js';
import { compareModes } from '../../virt/compare.js';
import { deviceWorkload } from '../../virt/device-workload.js';
import { nicGenerate } from '../../trace/generators/nic.js';
import type { Config } from '../../config/config.js';
import { resultText, type SweepResult } from './result-text.js';
import { traceColumnsFor, sharedPackets, type SharedTrace, type SharedPackets } from './shared-trace.js';
import type { SweepJob } from './spec.js';

/** What a worker builds a job's run from. `label`: the workload spec's name (results carry it as the workload's name). */
export type WorkerInput =
  | { kind: 'generator'; name: string; label?: string; captured?: SharedPackets }
  | { kind: 'trace'; trace: SharedTrace; label?: string };

export type WorkerTask = { kind: 'job'; job: SweepJob; cfg: Readonly<Config>; input: WorkerInput } | { kind: 'noop' };

export interface WorkerAnswer {
  /** The result as compact JSON (one line of results.jsonl). */
  line: string;
  /** The result as its element of results.json: JSON.stringify(result, null, 2), every line after the first indented 2 more. */
  text: string;
  /** Time the job took in the worker, ms (for the sweep summary and the bench; not part of any result). */
  ms: number;
}

export function runJob(job: SweepJob, cfg: Readonly<Config>, input: WorkerInput): SweepResult {
  if (job.mode !== undefined) {
    const name = input.label ?? (input.kind === 'generator' ? input.name : input.trace.path);
    const captured = input.kind === 'generator' && input.captured ? sharedPackets(input.captured) : undefined;
    // the config already holds the path's device settings (the main thread built it as compare does)
    const c = compareModes(deviceWorkload(name, cfg.workload.kind, captured), [job.mode], job.hypervisor!, () => cfg);
    const m = c.modes[0];
    if (m.refused) throw new Error(`${job.hypervisor} refuses ${job.mode}: ${m.refused}`);
    return { ...c.runs[job.mode], path: { hypervisor: job.hypervisor!, ...m } };
  }
  const functional = job.run === 'functional';
  if (input.kind === 'trace') {
    return runResolved(fromColumns(traceColumnsFor(input.trace, cfg), input.trace.format, input.trace.path, cfg, input.label), functional);
  }
  const built = input.captured && cfg.workload.kind === 'nic-pcap' ? nicGenerate(cfg, sharedPackets(input.captured)).trace : undefined;
  return runResolved(fromGenerator(input.name, cfg, undefined, [], built, input.label), functional);
}

/** A job's answer; a no-op (the bench's dispatch probe) answers the worker's thread id. */
export default function task(t: WorkerTask): WorkerAnswer | number {
  if (t.kind === 'noop') return threadId;
  const t0 = performance.now();
  const result = runJob(t.job, t.cfg, t.input);
  const line = JSON.stringify(result);
  const text = resultText(result);
  return { line, text, ms: performance.now() - t0 };
}
