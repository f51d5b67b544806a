/**
 * A sweep spec (YAML or JSON): workloads × axes (and/or an explicit job list) → a deterministic,
 * ordered job list. Each job has a stable id (a short hash of its workload name, run mode and
 * sorted settings) that resume, shards and merge refer to.
 *
 *   name: iotlb-study
 *   workloads: [pciebench, nic-10g-udp64, ./my-workload.yaml]   # generator, library name or spec path
 *   settings: { workload.count: 2000 }                           # applied to every job
 *   axes:                                                        # Cartesian product, workload-major
 *     iommu.iotlb.entries: [32, 64]
 *     iommu.superpages: [true, false]
 *     mode: [timed, functional]                                  # optional: run mode, not a config key
 *   jobs:                                                        # optional: extra jobs, after the product
 *     - { workload: pciebench, settings: { workload.size: 4KiB } }
 *
 * Every job's settings are validated through the config schema when the spec is loaded, so a typo
 * fails before any worker starts; errors are one line naming the file and the field.
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, extname, resolve, isAbsolute, basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../../util/errors.js';
import { buildConfig } from '../../config/config.js';
import { findGenerator } from '../../trace/generators/index.js';
import { findWorkload, specConfig, sweepPoints, type SettingValue, type WorkloadSpec } from '../workloads.js';

export type RunMode = 'timed' | 'functional';
export const RUN_MODES: readonly RunMode[] = ['timed', 'functional'];

/** What a worker needs to find a job's input (absolute paths: local to this machine, not part of the id). */
export type JobInput =
  | { kind: 'spec'; file: string }
  | { kind: 'generator'; name: string }
  | { kind: 'trace'; path: string };

/** One run of a sweep: plain JSON, travels to a worker and into results.jsonl. */
export interface SweepJob {
  /** Stable id: 12 hex digits of sha256(workload, mode, sorted settings). */
  id: string;
  /** Position in the full (unsharded) job list. */
  index: number;
  /** The workload as the spec names it (generator, library name, or spec/trace file name). */
  workload: string;
  mode: RunMode;
  /** Settings on top of the workload's own (a workload spec's sweep point, spec settings, axis point). */
  settings: Record<string, SettingValue>;
}

export interface SweepSpec {
  name: string;
  file: string;
  jobs: SweepJob[];
  /** Input of each workload, by SweepJob.workload. */
  inputs: Record<string, JobInput>;
}

const FIELDS = ['name', 'description', 'workloads', 'axes', 'jobs', 'settings'];
const JOB_FIELDS = ['workload', 'settings', 'mode'];

export function jobId(workload: string, mode: RunMode, settings: Record<string, SettingValue>): string {
  const sorted = Object.keys(settings).sort().map((k) => [k, settings[k]]);
  return createHash('sha256').update(JSON.stringify([workload, mode, sorted])).digest('hex').slice(0, 12);
}

/** `k=v k=v` for messages and progress lines. */
export function describeJob(j: Pick<SweepJob, 'workload' | 'mode' | 'settings'>): string {
  const s = Object.entries(j.settings).map(([k, v]) => `${k}=${v}`).join(' ');
  return `${j.workload}${j.mode === 'functional' ? ' (functional)' : ''}${s ? ' ' + s : ''}`;
}

export function loadSweepSpec(file: string): SweepSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read the sweep spec (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path`);
  }
  let raw: unknown;
  const isJson = extname(file) === '.json';
  try {
    raw = isJson ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new InputError(`${file}: not valid ${isJson ? 'JSON' : 'YAML'} (${(e as Error).message.split('\n')[0]}); fix the syntax`);
  }
  return parseSweepSpec(raw, file);
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is SettingValue => ['string', 'number', 'boolean'].includes(typeof v);

/** Validate a parsed sweep spec (`file` names it in errors and anchors relative paths). */
export function parseSweepSpec(raw: unknown, file: string): SweepSpec {
  const bad = (field: string, what: string, fix: string): never => { throw new InputError(`${file}: ${field}: ${what}; ${fix}`); };
  if (!isMap(raw)) bad('(top level)', 'a sweep spec is a mapping', 'write name:, workloads:, axes:');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) bad(k, 'unknown field', `use ${FIELDS.join(', ')}`);
  if (typeof o.name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(o.name)) bad('name', `${JSON.stringify(o.name)} is missing or not a lower-case word`, 'e.g. name: iotlb-study');

  const scalars = (field: string, v: unknown): Record<string, SettingValue> => {
    if (v === undefined) return {};
    if (!isMap(v)) bad(field, 'not a mapping', `write ${field}: { key: value }`);
    const out: Record<string, SettingValue> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (!isScalar(x)) bad(`${field}.${k}`, 'not a single value', 'give a number, a word or true/false');
      out[k] = x as SettingValue;
    }
    return out;
  };
  const settings = scalars('settings', o.settings);
  if ('mode' in settings) bad('settings.mode', 'mode is not a setting', 'use the mode axis or a job\'s mode:');

  const workloads: string[] = [];
  if (o.workloads !== undefined) {
    if (!Array.isArray(o.workloads)) bad('workloads', 'not a list', 'write workloads: [pciebench, nic-10g-tcp]');
    (o.workloads as unknown[]).forEach((w, i) => {
      if (typeof w !== 'string' || w === '') bad(`workloads[${i}]`, 'not a workload name or path', 'give a generator, a workload name or a spec file');
      workloads.push(w as string);
    });
  }

  const axes: Array<[string, SettingValue[]]> = [];
  let modes: RunMode[] = ['timed'];
  if (o.axes !== undefined) {
    if (!isMap(o.axes)) bad('axes', 'not a mapping of lists', 'write axes: { key: [v1, v2] }');
    for (const [k, v] of Object.entries(o.axes as Record<string, unknown>)) {
      if (!Array.isArray(v) || v.length === 0) bad(`axes.${k}`, 'not a non-empty list', `write ${k}: [v1, v2]`);
      (v as unknown[]).forEach((x, i) => { if (!isScalar(x)) bad(`axes.${k}[${i}]`, 'not a single value', 'give a number, a word or true/false'); });
      if (k === 'mode') {
        for (const m of v as unknown[]) if (!RUN_MODES.includes(m as RunMode)) bad('axes.mode', `'${String(m)}' is not a run mode`, `use ${RUN_MODES.join(', ')}`);
        modes = v as RunMode[];
      } else {
        axes.push([k, v as SettingValue[]]);
      }
    }
  }

  const explicit: Array<{ workload: string; mode: RunMode; settings: Record<string, SettingValue>; field: string }> = [];
  if (o.jobs !== undefined) {
    if (!Array.isArray(o.jobs)) bad('jobs', 'not a list', 'write jobs: [{ workload: pciebench, settings: { … } }]');
    (o.jobs as unknown[]).forEach((j, i) => {
      const f = `jobs[${i}]`;
      if (!isMap(j)) bad(f, 'not a mapping', 'write { workload: NAME, settings: { … } }');
      const jm = j as Record<string, unknown>;
      for (const k of Object.keys(jm)) if (!JOB_FIELDS.includes(k)) bad(`${f}.${k}`, 'unknown field', `use ${JOB_FIELDS.join(', ')}`);
      if (typeof jm.workload !== 'string' || jm.workload === '') bad(`${f}.workload`, 'missing', 'name a generator, a workload or a spec file');
      const mode = (jm.mode ?? 'timed') as RunMode;
      if (!RUN_MODES.includes(mode)) bad(`${f}.mode`, `'${String(jm.mode)}' is not a run mode`, `use ${RUN_MODES.join(', ')}`);
      explicit.push({ workload: jm.workload as string, mode, settings: scalars(`${f}.settings`, jm.settings), field: f });
    });
  }
  if (workloads.length === 0 && explicit.length === 0) bad('workloads', 'no workloads and no jobs', 'list workloads: (and axes:) or jobs:');

  // resolve each workload once: a spec (library name or file), a generator, or a trace file
  const inputs: Record<string, JobInput> = {};
  const specs = new Map<string, WorkloadSpec>();
  const resolveWorkload = (w: string, field: string): void => {
    if (inputs[w]) return;
    const asPath = isAbsolute(w) ? w : resolve(dirname(file), w);
    const isFile = existsSync(asPath) && statSync(asPath).isFile();
    try {
      if (isFile && /\.(ya?ml|json)$/.test(w)) {
        const s = findWorkload(asPath)!;
        specs.set(w, s);
        inputs[w] = { kind: 'spec', file: asPath };
      } else if (isFile) {
        inputs[w] = { kind: 'trace', path: asPath };
      } else if (findGenerator(w)) {
        inputs[w] = { kind: 'generator', name: w };
      } else {
        const s = findWorkload(w);
        if (!s) bad(field, `'${w}' is not a generator, a workload or a file`, 'iommusim workloads lists them (paths are relative to the sweep spec)');
        specs.set(w, s!);
        inputs[w] = { kind: 'spec', file: s!.file };
      }
    } catch (e) {
      if (e instanceof InputError && !e.message.startsWith(file)) throw new InputError(`${file}: ${field}: ${e.message}`);
      throw e;
    }
  };
  workloads.forEach((w, i) => resolveWorkload(w, `workloads[${i}]`));
  explicit.forEach((j) => resolveWorkload(j.workload, `${j.field}.workload`));

  // expand: workload-major, then the workload spec's own sweep points, then the axes (in order), then mode
  const axisPoints = sweepPoints({ sweep: Object.fromEntries(axes) });
  const raws: Array<{ workload: string; mode: RunMode; settings: Record<string, SettingValue>; field: string }> = [];
  workloads.forEach((w, wi) => {
    const own = specs.get(w) ? sweepPoints(specs.get(w)!) : [[]];
    for (const p of own) {
      for (const a of axisPoints) {
        for (const mode of modes) {
          raws.push({ workload: w, mode, settings: { ...Object.fromEntries(p), ...settings, ...Object.fromEntries(a) }, field: `workloads[${wi}] (${describeJob({ workload: w, mode, settings: Object.fromEntries(a) })})` });
        }
      }
    }
  });
  for (const j of explicit) raws.push({ ...j, settings: { ...settings, ...j.settings } });

  const jobs: SweepJob[] = [];
  const seen = new Set<string>();
  for (const r of raws) {
    const id = jobId(r.workload, r.mode, r.settings);
    if (seen.has(id)) continue; // the same run twice (an axis repeating a workload's own sweep): run it once
    seen.add(id);
    try {
      validateJob(r, inputs[r.workload], specs.get(r.workload));
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`${file}: ${r.field}: ${e.message}`);
      throw e;
    }
    jobs.push({ id, index: jobs.length, workload: r.workload, mode: r.mode, settings: r.settings });
  }
  return { name: o.name as string, file, jobs, inputs };
}

function validateJob(j: { mode: RunMode; settings: Record<string, SettingValue> }, input: JobInput, spec: WorkloadSpec | undefined): void {
  const entries = Object.entries(j.settings);
  if (input.kind === 'spec') specConfig({ ...spec!, sweep: undefined }, [], entries);
  else if (input.kind === 'generator') {
    buildConfig([...findGenerator(input.name)!.defaults, ...entries]);
    if (input.name === 'pciebench' && j.mode === 'functional') throw new InputError('mode functional: the pciebench generator runs only with timing; use mode timed');
  } else buildConfig(entries);
  if (input.kind === 'spec' && spec!.generator === 'pciebench' && j.mode === 'functional') {
    throw new InputError(`mode functional: ${basename(spec!.file)} uses the pciebench generator, which runs only with timing; use mode timed`);
  }
}
