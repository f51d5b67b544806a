/**
 * A sweep spec (YAML or JSON): workloads × axes (and/or an explicit job list) → a deterministic,
 * ordered job list. Each job has a stable id (a short hash of its workload name, run kind, I/O path,
 * hypervisor and sorted settings) that resume, shards and merge refer to.
 *
 *   name: iotlb-study
 *   workloads: [pciebench, nic-10g-udp64, ./my-workload.yaml]   # generator, library name or spec path
 *   settings: { workload.count: 2000 }                           # applied to every job
 *   axes:                                                        # Cartesian product, workload-major, in the order written
 *     iommu.iotlb.entries: [32, 64]
 *     iommu.superpages: [true, false]
 *     mode: [bare-metal, passthrough, virtio, emulated]          # optional: the I/O path (as compare --modes)
 *     hypervisor: [kvm, xen]                                     # optional, with mode: the hypervisor profile
 *     run: [timed, functional]                                   # optional: the run kind (not with mode)
 *   jobs:                                                        # optional: extra jobs, after the product
 *     - { workload: pciebench, settings: { workload.size: 4KiB } }
 *
 * Every job's config is resolved (and so validated) when the spec is loaded, so a typo fails before
 * any worker starts; errors are one line naming the file and the field. A job whose I/O path its
 * device lacks (a GPU's virtio) or its hypervisor refuses is kept, with the reason, and recorded as
 * refused without running, as `iommusim compare` shows a refused path.
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, extname, resolve, isAbsolute, basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../../util/errors.js';
import { buildConfig, type Config } from '../../config/config.js';
import { findGenerator } from '../generators/index.js';
import { MODES, PATHS, DEVICE_REFUSES, pathRefusal, type Mode, type DeviceClass } from '../../virt/paths.js';
import { HYPERVISORS, PROFILES, type HypervisorName } from '../../virt/hypervisors.js';
import { hasDeviceModel, deviceClassOf } from '../device-workload.js';
import { findWorkload, specConfig, sweepPoints, type SettingValue, type WorkloadSpec } from '../workloads.js';

/** How a job runs: through the timed model, or functionally (counts only). */
export type RunKind = 'timed' | 'functional';
export const RUN_KINDS: readonly RunKind[] = ['timed', 'functional'];
export { MODES, HYPERVISORS };
export type { Mode, HypervisorName };

/** The hypervisor of an I/O-path job that names none (as `iommusim compare`). */
export const DEFAULT_HYPERVISOR: HypervisorName = 'kvm';

/** What a worker needs to find a job's input (absolute paths: local to this machine, not part of the id). */
export type JobInput =
  | { kind: 'spec'; file: string }
  | { kind: 'generator'; name: string }
  | { kind: 'trace'; path: string };

/** One run of a sweep: plain JSON, travels to a worker and into results.jsonl. */
export interface SweepJob {
  /** Stable id: 12 hex digits of sha256(workload, run, sorted settings[, mode, hypervisor]). */
  id: string;
  /** Position in the full (unsharded) job list. */
  index: number;
  /** The workload as the spec names it (generator, library name, or spec/trace file name). */
  workload: string;
  run: RunKind;
  /** The I/O path (`iommusim compare --modes`), for an I/O-path job: the compare figures for it. */
  mode?: Mode;
  /** The hypervisor profile of an I/O-path job. */
  hypervisor?: HypervisorName;
  /** Settings on top of the workload's own (a workload spec's sweep point, spec settings, axis point). */
  settings: Record<string, SettingValue>;
}

export interface SweepSpec {
  name: string;
  file: string;
  jobs: SweepJob[];
  /** Input of each workload, by SweepJob.workload. */
  inputs: Record<string, JobInput>;
  /** The workload specs, by SweepJob.workload (spec inputs only). */
  specs: Record<string, WorkloadSpec>;
  /** Each job's resolved config, by job index (an I/O-path job's includes the path's settings). Not written to sweep.json. */
  configs: Array<Readonly<Config>>;
  /** Jobs whose I/O path their device lacks or their hypervisor refuses, by id: the reason. They are recorded as refused, not run. */
  refused: Record<string, string>;
}

const FIELDS = ['name', 'description', 'workloads', 'axes', 'jobs', 'settings'];
const JOB_FIELDS = ['workload', 'settings', 'run', 'mode', 'hypervisor'];
/** Axis and job keys that are not config keys. */
const SPECIAL = ['run', 'mode', 'hypervisor'];

export function jobId(workload: string, run: RunKind, settings: Record<string, SettingValue>, mode?: Mode, hypervisor?: HypervisorName): string {
  const sorted = Object.keys(settings).sort().map((k) => [k, settings[k]]);
  // without an I/O path the hashed text is what it was before paths existed (old ids stay valid)
  const key = mode === undefined ? [workload, run, sorted] : [workload, run, sorted, mode, hypervisor ?? DEFAULT_HYPERVISOR];
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 12);
}

/** `workload [functional] [mode=… hypervisor=…] k=v …` for messages and progress lines. */
export function describeJob(j: Pick<SweepJob, 'workload' | 'run' | 'mode' | 'hypervisor' | 'settings'>): string {
  const parts = [j.workload];
  if (j.run === 'functional') parts.push('(functional)');
  if (j.mode !== undefined) parts.push(`mode=${j.mode}`);
  if (j.hypervisor !== undefined) parts.push(`hypervisor=${j.hypervisor}`);
  for (const [k, v] of Object.entries(j.settings ?? {})) parts.push(`${k}=${v}`);
  return parts.join(' ');
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

/** A job before its id and config: an axis point of a workload, or an explicit job. */
export interface RawJob {
  workload: string;
  run: RunKind;
  mode?: Mode;
  hypervisor?: HypervisorName;
  settings: Record<string, SettingValue>;
  /** Where the job comes from, for messages: `workloads[0] (…)` or `jobs[2]`. */
  field: string;
  /** Where each setting of the job comes from (for messages about one setting). */
  origin: (key: string) => string;
}

/** Throws the spec's one-line error: `file: field: what; fix`. */
type Bad = (field: string, what: string, fix: string) => never;

/** Validate a parsed sweep spec (`file` names it in errors and anchors relative paths). */
export function parseSweepSpec(raw: unknown, file: string): SweepSpec {
  const bad: Bad = (field, what, fix) => { throw new InputError(`${file}: ${field}: ${what}; ${fix}`); };
  const o = topLevel(raw, bad);
  const settings = scalarSettings('settings', o.settings, bad);
  const workloads = workloadList(o.workloads, bad);
  const axes = axisList(o.axes, bad);
  const explicit = explicitJobs(o.jobs, settings, bad);
  if (workloads.length === 0 && explicit.length === 0) bad('workloads', 'no workloads and no jobs', 'list workloads: (and axes:) or jobs:');
  const { inputs, specs } = resolveWorkloads([
    ...workloads.map((w, i): [string, string] => [w, `workloads[${i}]`]),
    ...explicit.map((j): [string, string] => [j.workload, `${j.field}.workload`]),
  ], file, bad);
  const { jobs, configs, refused } = sweepJobs([...axisJobs(workloads, specs, axes, settings), ...explicit], inputs, specs, file);
  return { name: o.name as string, file, jobs, inputs, specs, configs, refused };
}

/** The top level: a mapping of known fields, with a lower-case name. */
function topLevel(raw: unknown, bad: Bad): Record<string, unknown> {
  if (!isMap(raw)) bad('(top level)', 'a sweep spec is a mapping', 'write name:, workloads:, axes:');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) bad(k, 'unknown field', `use ${FIELDS.join(', ')}`);
  if (typeof o.name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(o.name)) bad('name', `${JSON.stringify(o.name)} is missing or not a lower-case word`, 'e.g. name: iotlb-study');
  return o;
}

/** A settings mapping at `field` (the spec's or a job's): single values, none of them run, mode or hypervisor. */
function scalarSettings(field: string, v: unknown, bad: Bad): Record<string, SettingValue> {
  if (v === undefined) return {};
  if (!isMap(v)) bad(field, 'not a mapping', `write ${field}: { key: value }`);
  const out: Record<string, SettingValue> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!isScalar(x)) bad(`${field}.${k}`, 'not a single value', 'give a number, a word or true/false');
    if (SPECIAL.includes(k)) bad(`${field}.${k}`, `${k} is not a setting`, `use the ${k} axis or a job's ${k}:`);
    out[k] = x as SettingValue;
  }
  return out;
}

/** A run kind at `field`. */
function runOf(field: string, v: unknown, bad: Bad): RunKind {
  if (!RUN_KINDS.includes(v as RunKind)) bad(field, `'${String(v)}' is not a run kind`, `use ${RUN_KINDS.join(' or ')}`);
  return v as RunKind;
}

/** An I/O path at `field` (a run kind there is the old meaning of mode: `list` is the axis, to rename it). */
function modeOf(field: string, v: unknown, bad: Bad, list?: unknown[]): Mode {
  if (v === 'timed' || v === 'functional') {
    bad(field, `'${v}' is a run kind, not an I/O path (mode names the I/O path, as in compare --modes)`,
      list ? `rename the axis: run: [${list.map(String).join(', ')}]` : `write run: ${String(v)} instead of mode: ${String(v)}`);
  }
  if (!(MODES as readonly unknown[]).includes(v)) bad(field, `'${String(v)}' is not an I/O path`, `use ${MODES.join(', ')}`);
  return v as Mode;
}

/** A hypervisor profile at `field`. */
function hypervisorOf(field: string, v: unknown, bad: Bad): HypervisorName {
  if (!(HYPERVISORS as readonly unknown[]).includes(v)) bad(field, `'${String(v)}' is not a hypervisor`, `use ${HYPERVISORS.join(', ')}`);
  return v as HypervisorName;
}

/** The workloads: list, as written. */
function workloadList(v: unknown, bad: Bad): string[] {
  const workloads: string[] = [];
  if (v === undefined) return workloads;
  if (!Array.isArray(v)) bad('workloads', 'not a list', 'write workloads: [pciebench, nic-10g-tcp]');
  (v as unknown[]).forEach((w, i) => {
    if (typeof w !== 'string' || w === '') bad(`workloads[${i}]`, 'not a workload name or path', 'give a generator, a workload name or a spec file');
    workloads.push(w as string);
  });
  return workloads;
}

/** The axes in the order written; run, mode and hypervisor are axes like the config keys (checked as those). */
function axisList(v: unknown, bad: Bad): Array<[string, SettingValue[]]> {
  const axes: Array<[string, SettingValue[]]> = [];
  if (v !== undefined) {
    if (!isMap(v)) bad('axes', 'not a mapping of lists', 'write axes: { key: [v1, v2] }');
    for (const [k, xs] of Object.entries(v as Record<string, unknown>)) {
      if (!Array.isArray(xs) || xs.length === 0) bad(`axes.${k}`, 'not a non-empty list', `write ${k}: [v1, v2]`);
      (xs as unknown[]).forEach((x, i) => {
        if (!isScalar(x)) bad(`axes.${k}[${i}]`, 'not a single value', 'give a number, a word or true/false');
        if (k === 'run') runOf(`axes.run[${i}]`, x, bad);
        if (k === 'mode') modeOf(`axes.mode[${i}]`, x, bad, xs as unknown[]);
        if (k === 'hypervisor') hypervisorOf(`axes.hypervisor[${i}]`, x, bad);
      });
      axes.push([k, xs as SettingValue[]]);
    }
  }
  const keys = new Set(axes.map(([k]) => k));
  if (keys.has('hypervisor') && !keys.has('mode')) {
    bad('axes.hypervisor', 'a hypervisor applies to an I/O path, and there is no mode axis', 'add mode: [passthrough, virtio, emulated, …] to the axes');
  }
  return axes;
}

/** The jobs: list, each job's settings on top of the spec's `settings`. */
function explicitJobs(v: unknown, settings: Record<string, SettingValue>, bad: Bad): RawJob[] {
  const explicit: RawJob[] = [];
  if (v === undefined) return explicit;
  if (!Array.isArray(v)) bad('jobs', 'not a list', 'write jobs: [{ workload: pciebench, settings: { … } }]');
  (v as unknown[]).forEach((j, i) => {
    const f = `jobs[${i}]`;
    if (!isMap(j)) bad(f, 'not a mapping', 'write { workload: NAME, settings: { … } }');
    const jm = j as Record<string, unknown>;
    for (const k of Object.keys(jm)) if (!JOB_FIELDS.includes(k)) bad(`${f}.${k}`, 'unknown field', `use ${JOB_FIELDS.join(', ')}`);
    if (typeof jm.workload !== 'string' || jm.workload === '') bad(`${f}.workload`, 'missing', 'name a generator, a workload or a spec file');
    const run = jm.run === undefined ? 'timed' : runOf(`${f}.run`, jm.run, bad);
    const mode = jm.mode === undefined ? undefined : modeOf(`${f}.mode`, jm.mode, bad);
    const hypervisor = jm.hypervisor === undefined ? undefined : hypervisorOf(`${f}.hypervisor`, jm.hypervisor, bad);
    if (hypervisor !== undefined && mode === undefined) bad(`${f}.hypervisor`, 'a hypervisor applies to an I/O path, and the job has no mode', 'add mode: passthrough (or another I/O path) to the job');
    const own = scalarSettings(`${f}.settings`, jm.settings, bad);
    explicit.push({
      workload: jm.workload as string, run, mode, hypervisor, settings: { ...settings, ...own }, field: f,
      origin: (k) => (k in own ? `${f}.settings.${k}` : `settings.${k}`),
    });
  });
  return explicit;
}

/** `fn()`, with an InputError that does not name the spec file prefixed by the file and `field`. */
function within<T>(file: string, field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InputError && !e.message.startsWith(file)) throw new InputError(`${file}: ${field}: ${e.message}`);
    throw e;
  }
}

/** Each workload (with the field naming it) resolved once: a spec (library name or file), a generator, or a trace file. */
function resolveWorkloads(named: Array<[string, string]>, file: string, bad: Bad): { inputs: Record<string, JobInput>; specs: Record<string, WorkloadSpec> } {
  const inputs: Record<string, JobInput> = {};
  const specs: Record<string, WorkloadSpec> = {};
  for (const [w, field] of named) {
    if (inputs[w]) continue;
    const asPath = isAbsolute(w) ? w : resolve(dirname(file), w);
    const isFile = existsSync(asPath) && statSync(asPath).isFile();
    within(file, field, () => {
      if (isFile && /\.(ya?ml|json)$/.test(w)) {
        specs[w] = findWorkload(asPath)!;
        inputs[w] = { kind: 'spec', file: asPath };
      } else if (isFile) {
        inputs[w] = { kind: 'trace', path: asPath };
      } else if (findGenerator(w)) {
        inputs[w] = { kind: 'generator', name: w };
      } else {
        const s = findWorkload(w);
        if (!s) bad(field, `'${w}' is not a generator, a workload or a file`, 'iommusim workloads lists them (paths are relative to the sweep spec)');
        specs[w] = s!;
        inputs[w] = { kind: 'spec', file: s!.file };
      }
    });
  }
  return { inputs, specs };
}

/**
 * The product's jobs: workload-major, then the workload spec's own sweep points, then the axes (in
 * order, last fastest), each on top of the spec's `settings`.
 */
export function axisJobs(workloads: readonly string[], specs: Readonly<Record<string, WorkloadSpec>>, axes: Array<[string, SettingValue[]]>, settings: Record<string, SettingValue>): RawJob[] {
  const axisKeys = new Set(axes.map(([k]) => k));
  const topOrigin = (k: string): string => (axisKeys.has(k) ? `axes.${k}` : k in settings ? `settings.${k}` : '');
  const axisPoints = sweepPoints({ sweep: Object.fromEntries(axes) });
  const raws: RawJob[] = [];
  workloads.forEach((w, wi) => {
    const own = specs[w] ? sweepPoints(specs[w]) : [[]];
    for (const p of own) {
      for (const a of axisPoints) {
        const point: Record<string, SettingValue> = {};
        let run: RunKind = 'timed';
        let mode: Mode | undefined;
        let hypervisor: HypervisorName | undefined;
        for (const [k, v] of a) {
          if (k === 'run') run = v as RunKind;
          else if (k === 'mode') mode = v as Mode;
          else if (k === 'hypervisor') hypervisor = v as HypervisorName;
          else point[k] = v;
        }
        const ownKeys = new Set(p.map(([k]) => k));
        const job = { workload: w, run, mode, hypervisor, settings: { ...Object.fromEntries(p), ...settings, ...point } };
        raws.push({
          ...job, field: `workloads[${wi}] (${describeJob({ ...job, settings: point })})`,
          origin: (k) => topOrigin(k) || (ownKeys.has(k) ? `workloads[${wi}] (its sweep: ${k})` : `workloads[${wi}]`),
        });
      }
    }
  });
  return raws;
}

/** The job list: ids (a repeated run kept once), each job's config resolved, and the refused I/O paths with their reasons. */
function sweepJobs(raws: readonly RawJob[], inputs: Record<string, JobInput>, specs: Record<string, WorkloadSpec>, file: string): Pick<SweepSpec, 'jobs' | 'configs' | 'refused'> {
  const jobs: SweepJob[] = [];
  const configs: Array<Readonly<Config>> = [];
  const refused: Record<string, string> = {};
  const seen = new Set<string>();
  for (const r of raws) {
    const hypervisor = r.mode !== undefined ? r.hypervisor ?? DEFAULT_HYPERVISOR : undefined;
    const id = jobId(r.workload, r.run, r.settings, r.mode, hypervisor);
    if (seen.has(id)) continue; // the same run twice (an axis repeating a workload's own sweep): run it once
    seen.add(id);
    const cfg = within(file, r.field, () => jobConfig(r, inputs[r.workload], specs[r.workload], file));
    const job: SweepJob = { id, index: jobs.length, workload: r.workload, run: r.run, ...(r.mode !== undefined ? { mode: r.mode, hypervisor } : {}), settings: r.settings };
    if (r.mode !== undefined) {
      const why = pathRefusal(r.mode, PROFILES[hypervisor!], deviceClassOf(cfg.workload.kind));
      if (why) refused[id] = refusal(r.mode, hypervisor!, deviceClassOf(cfg.workload.kind)!, why);
    }
    jobs.push(job);
    configs.push(cfg);
  }
  return { jobs, configs, refused };
}

const DEVICE_NAMES: Readonly<Record<DeviceClass, string>> = { nic: 'a NIC', gpu: 'a GPU', blk: 'a block device' };

/**
 * A refused job's reason, saying who refuses: the device (`a GPU has no virtio path: no hypervisor
 * offers a paravirtual CUDA device: … (use api-remoting)`, the reason compare shows) or the
 * hypervisor (`xen refuses virtio: …`).
 */
function refusal(mode: Mode, hypervisor: HypervisorName, device: DeviceClass, why: string): string {
  return DEVICE_REFUSES[device][mode] ? `${DEVICE_NAMES[device]} has no ${mode} path: ${why}` : `${hypervisor} refuses ${mode}: ${why}`;
}

/**
 * A job's resolved config (throws the config's InputError for a bad setting). An I/O-path job's has
 * the path's device settings last, as `iommusim compare` builds it.
 */
function jobConfig(r: RawJob, input: JobInput, spec: WorkloadSpec | undefined, file: string): Readonly<Config> {
  const entries = Object.entries(r.settings);
  // the guest RAM's backing, as the job's own settings (and its workload's) give it, decides a passthrough path's leaves
  const probe = r.mode === undefined || input.kind === 'trace' ? undefined
    : input.kind === 'spec' ? specConfig({ ...spec!, sweep: undefined }, [], entries) : buildConfig([...findGenerator(input.name)!.defaults, ...entries]);
  // the path's settings for the workload's device (a GPU's pinned pages, a block device's buffers), as compare builds them
  const pathSettings = r.mode !== undefined ? PATHS[r.mode].deviceSettings('shadow', probe?.vm.s2PageBytes ?? 2097152, probe && deviceClassOf(probe.workload.kind)) : [];
  if (r.mode !== undefined) {
    if (r.run === 'functional') throw new InputError(`${file}: ${r.field}: mode ${r.mode} with run functional: an I/O-path job runs timed; drop run: functional or the mode`);
    if (input.kind === 'trace') throw new InputError(`${file}: ${r.field}: mode ${r.mode}: a trace file is replayed as recorded and has no device model to compare I/O paths with; use a NIC (nic-*), GPU (gpu-*) or block (nvme) workload, or drop mode`);
    for (const [k, v] of pathSettings) {
      if (k in r.settings) throw new InputError(`${file}: ${r.origin(k)}: the I/O path sets ${k} itself (mode ${r.mode}: ${k}=${v}); drop ${k} or the mode`);
    }
  }
  let cfg: Readonly<Config>;
  if (input.kind === 'spec') cfg = specConfig({ ...spec!, sweep: undefined }, [], [...entries, ...pathSettings]);
  else if (input.kind === 'generator') cfg = buildConfig([...findGenerator(input.name)!.defaults, ...entries, ...pathSettings]);
  else cfg = buildConfig(entries);
  const generator = input.kind === 'generator' ? input.name : spec?.generator;
  if (generator === 'pciebench' && r.run === 'functional') {
    const what = input.kind === 'spec' ? `${basename(spec!.file)} uses the pciebench generator, which` : 'the pciebench generator';
    throw new InputError(`run functional: ${what} runs only with timing; use run timed`);
  }
  if (r.mode !== undefined && (input.kind === 'spec' && spec!.trace !== undefined)) {
    throw new InputError(`${file}: ${r.field}: mode ${r.mode}: ${basename(spec!.file)} replays a trace file, which has no device model to compare I/O paths with; use a NIC (nic-*), GPU (gpu-*) or block (nvme) workload, or drop mode`);
  }
  if (r.mode !== undefined && !hasDeviceModel(cfg.workload.kind)) {
    throw new InputError(`${file}: ${r.field}: mode ${r.mode}: workload.kind ${cfg.workload.kind} has no device model to compare I/O paths with; use a NIC (nic-*), GPU (gpu-*) or block (nvme) workload, or drop mode`);
  }
  return cfg;
}
