/**
 * The piscina worker entry: one sweep job in, its RunResult out as a JSON string (a string crosses
 * the thread boundary as one cheap copy, and the main thread writes it to results.jsonl verbatim).
 * It imports only the simulator (input resolution and the run), never the pool or the CLI program.
 *
 * A trace-file job is given the path and the worker reads and parses it itself, per job (see
 * README.md: cost and the SharedArrayBuffer alternative).
 */
import { resolveInput } from '../inputs.js';
import { runResolved } from '../inputs.js';
import { loadWorkloadSpec, type WorkloadSpec, type SettingValue } from '../workloads.js';
import type { TraceFormat } from '../../trace/load.js';
import type { JobInput, SweepJob } from './spec.js';

export type WorkerTask = { kind: 'job'; job: SweepJob; input: JobInput } | { kind: 'noop' };

const specs = new Map<string, WorkloadSpec>();

export function runJob(job: SweepJob, input: JobInput): string {
  const settings = Object.entries(job.settings) as Array<[string, SettingValue]>;
  let name: string;
  let spec: WorkloadSpec | undefined;
  let format: TraceFormat = 'auto';
  let entries: Array<[string, SettingValue]>;
  if (input.kind === 'spec') {
    spec = specs.get(input.file);
    if (!spec) { spec = loadWorkloadSpec(input.file); specs.set(input.file, spec); }
    // the same order as specConfig: (generator defaults →) platform → spec settings → job settings
    entries = [...(spec.platform ? [['platform', spec.platform] as [string, SettingValue]] : []), ...Object.entries(spec.settings), ...settings];
    name = spec.generator ?? spec.trace!;
    if (spec.format) format = spec.format as TraceFormat;
  } else {
    entries = settings;
    name = input.kind === 'generator' ? input.name : input.path;
  }
  const runs = resolveInput(name, entries, format);
  if (runs.length !== 1) throw new Error(`${job.workload}: resolved to ${runs.length} runs, expected 1`);
  const result = runResolved(runs[0], job.mode === 'functional');
  if (spec) result.workload = { ...result.workload, name: spec.name };
  return JSON.stringify(result);
}

export default function task(t: WorkerTask): string {
  if (t.kind === 'noop') return '';
  return runJob(t.job, t.input);
}
