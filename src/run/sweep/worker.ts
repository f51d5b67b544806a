/**
 * The piscina worker entry (pool.ts runs the same function in the main thread for 0 workers).
 *
 * A sweep job in, its RunResult out as two strings — compact JSON for results.jsonl and the
 * indented text of its element of results.json — so the main thread writes both verbatim and never
 * parses a result. The main thread sends the job's resolved config (it resolved every job's config
 * when it checked the spec) and, for a trace-file job, the trace as SharedArrayBuffer-backed columns
 * or capture frames (shared-trace.ts): the worker reads no file — unless the file is too big to
 * share (larger than the sweep's share limit): then the worker streams it itself, a chunk at a time,
 * through the replay `run` streams it with (inputs.ts fromStream, runResolved).
 *
 * The other tasks: one I/O path of `compare` (its figures and device-side run, by structured clone),
 * one `validate` anchor, one point of validate's window sweep, one report chart as PNG.
 *
 * It imports the simulator (the run path, the I/O-path comparison, the shared-trace views), never
 * the pool, the spec parser or the CLI; validate's anchors (which load YAML) and the PNG renderer
 * (chart.js, canvas) are imported on their first task.
 */
import { threadId } from 'node:worker_threads';
import { fromColumns, fromGenerator, fromStream, runResolved } from '../inputs.js';
import { compareMode, type ModeResult } from '../compare.js';
import { deviceWorkload } from '../device-workload.js';
import { nicGenerate } from '../generators/nic.js';
import type { Config } from '../../config/config.js';
import type { Mode } from '../../virt/paths.js';
import type { HypervisorName } from '../../virt/hypervisors.js';
import type { RunResult } from '../result.js';
import { InputError } from '../../util/errors.js';
import { resultText, type SweepResult } from './result-text.js';
import { traceColumnsFor, sharedPackets, type SharedTrace, type SharedPackets, type StreamedTrace } from './shared-trace.js';
import type { SweepJob } from './spec.js';

/**
 * What a worker builds a job's run from. `label`: the workload spec's name (results carry it as the
 * workload's name). `stream`: a trace file too big to share, which the worker streams itself.
 */
export type WorkerInput =
  | { kind: 'generator'; name: string; label?: string; captured?: SharedPackets }
  | { kind: 'trace'; trace: SharedTrace; label?: string }
  | { kind: 'stream'; trace: StreamedTrace; label?: string };

/**
 * One I/O path of a comparison (compare-jobs.ts). `configs`: the configs compareMode asks for, by
 * the JSON of the extra settings (`[]`: the workload's own; the path's settings) — built by the
 * main thread, so the worker resolves nothing. `captured`: a nic-pcap workload's frames, shared.
 */
export interface CompareModeTask {
  kind: 'compare-mode';
  workload: string;
  workloadKind: string;
  mode: Mode;
  hypervisor: HypervisorName;
  viommu: 'shadow' | 'nested';
  configs: Array<[string, Readonly<Config>]>;
  captured?: SharedPackets;
}

export type WorkerTask =
  | { kind: 'job'; job: SweepJob; cfg: Readonly<Config>; input: WorkerInput }
  | CompareModeTask
  | CallTask
  | { kind: 'noop' };

/**
 * A call of an exported function of a module above this one (validate's anchors and sweep points,
 * the report's PNGs): the caller names the module (relative to src/, as compiled) and the function,
 * so the pool depends on none of its callers. The arguments and the answer cross threads by
 * structured clone.
 */
export interface CallTask { kind: 'call'; module: CallModule; fn: string; args: unknown[] }
/** The modules a call task may name. */
export type CallModule = 'validate/validate.js' | 'validate/windows.js' | 'validate/sizes.js' | 'report/png.js';

/** A compare-mode task's answer: compareMode's. */
export interface ModeAnswer { result: ModeResult; run?: RunResult }

/**
 * The answer of a task other than a sweep job: its value, or the message of the InputError it
 * threw (an error's class does not survive the trip between threads; the runner throws it again as
 * an InputError, so bad input stays one line and exit 2).
 */
export type Settled<T> = { value: T } | { inputError: string };

async function settle<T>(f: () => T | Promise<T>): Promise<Settled<T>> {
  try {
    return { value: await f() };
  } catch (e) {
    if (e instanceof InputError) return { inputError: e.message };
    throw e;
  }
}

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
    const { result: m, run } = compareMode(deviceWorkload(name, cfg.workload.kind, captured), job.mode, job.hypervisor!, () => cfg);
    if (m.refused) throw new Error(`${job.hypervisor} refuses ${job.mode}: ${m.refused}`);
    return { ...run!, path: { hypervisor: job.hypervisor!, ...m } };
  }
  const functional = job.run === 'functional';
  if (input.kind === 'stream') {
    // the file a chunk at a time, as `run` reads it (its first pass and its errors here: an InputError, one line)
    return runResolved(fromStream(input.trace.path, input.trace.format, cfg, input.label), functional);
  }
  if (input.kind === 'trace') {
    return runResolved(fromColumns(traceColumnsFor(input.trace, cfg), input.trace.format, input.trace.path, cfg, input.label), functional);
  }
  const built = input.captured && cfg.workload.kind === 'nic-pcap' ? nicGenerate(cfg, sharedPackets(input.captured)).trace : undefined;
  return runResolved(fromGenerator(input.name, cfg, undefined, [], built, input.label), functional);
}

/** compareMode for one path, with the configs the main thread resolved. */
export function runCompareMode(t: CompareModeTask): ModeAnswer {
  const configs = new Map(t.configs);
  const configFor = (extra: Array<[string, string | number | boolean]>): Readonly<Config> => {
    const cfg = configs.get(JSON.stringify(extra));
    if (!cfg) throw new Error(`compare ${t.mode}: no config resolved for settings ${JSON.stringify(extra)}`);
    return cfg;
  };
  const captured = t.captured ? sharedPackets(t.captured) : undefined;
  return compareMode(deviceWorkload(t.workload, t.workloadKind, captured), t.mode, t.hypervisor, configFor, t.viommu);
}

/** A call task's module, loaded on its first call in this thread. */
const callModules = new Map<string, Promise<Record<string, unknown>>>();
async function call(t: CallTask): Promise<unknown> {
  let m = callModules.get(t.module);
  if (m === undefined) callModules.set(t.module, (m = import(new URL(`../../${t.module}`, import.meta.url).href) as Promise<Record<string, unknown>>));
  const fn = (await m)[t.fn];
  if (typeof fn !== 'function') throw new Error(`worker: ${t.module} exports no function ${t.fn}`);
  return (fn as (...a: unknown[]) => unknown)(...t.args);
}

/**
 * A task's answer: a sweep job's WorkerAnswer (it throws: the job failed); compare-mode: a
 * ModeAnswer, call: the function's answer (an anchor's AnchorResult, a point's figure, a PNG's bytes), each Settled;
 * a no-op (the bench's dispatch probe): the thread id.
 */
export default function task(t: WorkerTask): WorkerAnswer | number | Promise<Settled<unknown>> {
  switch (t.kind) {
    case 'noop': return threadId;
    case 'compare-mode': return settle(() => runCompareMode(t));
    case 'call': return settle(() => call(t));
    case 'job': break;
  }
  const t0 = performance.now();
  const result = runJob(t.job, t.cfg, t.input);
  const line = JSON.stringify(result);
  const text = resultText(result);
  return { line, text, ms: performance.now() - t0 };
}
