/**
 * The workload library: named, ready specs (YAML or JSON) under workloads/. A spec names either a
 * generator (src/run/generators) or a trace file (relative to the spec), optional platform and
 * settings, and optional sweep axes:
 *
 *   name: nic-10g-tcp
 *   description: 10 GbE TCP stream, MTU 1500, one flow per queue
 *   generator: nic-tcp            # or: trace: ../captures/x.pcap (format: auto)
 *   platform: broadwell-gen3x8
 *   settings: { nic.rateGbps: 10, workload.count: 20000 }
 *   sweep: { workload.size: [64, 128, 256] }
 *
 * Every setting goes through the config schema (unknown keys and bad values are errors naming the
 * spec file and the key). `iommusim workloads` lists them; `iommusim run NAME` runs one.
 */
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, dirname, resolve, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { InputError } from '../util/errors.js';
import { buildConfig, type Config } from '../config/config.js';
import { findGenerator, generators } from './generators/index.js';

export type SettingValue = string | number | boolean;

// yaml is required when a spec is read, not when this module loads: sweep workers import the run
// path (which imports this module) but never read a spec, and yaml costs ~40 ms to load per thread.
let yamlParse: ((text: string) => unknown) | undefined;
const parseYaml = (text: string): unknown => (yamlParse ??= (createRequire(import.meta.url)('yaml') as { parse: (t: string) => unknown }).parse)(text);

export interface WorkloadSpec {
  name: string;
  description: string;
  generator?: string;
  trace?: string;
  format?: string;
  platform?: string;
  settings: Record<string, SettingValue>;
  sweep?: Record<string, SettingValue[]>;
  /** The file the spec came from. */
  file: string;
}

const FIELDS = ['name', 'description', 'generator', 'trace', 'format', 'platform', 'settings', 'sweep'];

/** The shipped workloads folder (repo root /workloads), found from this file. */
export function workloadsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const w = join(dir, 'workloads');
    if (existsSync(join(w, 'README.md'))) return w;
    dir = dirname(dir);
  }
  return resolve('workloads');
}

export function loadWorkloadSpec(file: string): WorkloadSpec {
  let raw: unknown;
  const text = readFileSync(file, 'utf8');
  try {
    raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    throw new InputError(`${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'} (${msg}); fix the syntax`);
  }
  const bad = (what: string, fix: string): never => { throw new InputError(`${file}: ${what}; ${fix}`); };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('a workload spec is a mapping', 'write name:, description:, generator: or trace:, settings:');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) bad(`unknown field '${k}'`, `use ${FIELDS.join(', ')}`);
  if (typeof o.name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(o.name)) bad(`name ${JSON.stringify(o.name)} is missing or not a lower-case word`, 'e.g. name: nic-10g-tcp');
  if (typeof o.description !== 'string' || o.description.trim() === '') bad('description is missing', 'add a one-line description');
  if ((o.generator === undefined) === (o.trace === undefined)) bad('exactly one of generator: and trace: is needed', 'name a generator or a trace file');
  if (o.generator !== undefined && (typeof o.generator !== 'string' || !findGenerator(o.generator))) {
    bad(`unknown generator '${String(o.generator)}'`, `use one of ${generators().map((g) => g.name).join(', ')}`);
  }
  const settings: Record<string, SettingValue> = {};
  if (o.settings !== undefined) {
    if (typeof o.settings !== 'object' || o.settings === null || Array.isArray(o.settings)) bad('settings is not a mapping', 'write settings: { key: value }');
    for (const [k, v] of Object.entries(o.settings as Record<string, unknown>)) {
      if (!['string', 'number', 'boolean'].includes(typeof v)) bad(`settings.${k} is not a single value`, 'give a number, a word or true/false');
      // a capture named in the settings is relative to the spec file, like trace:
      settings[k] = k === 'workload.pcap' && typeof v === 'string' && v !== '' ? resolve(dirname(file), v) : (v as SettingValue);
    }
  }
  let sweep: Record<string, SettingValue[]> | undefined;
  if (o.sweep !== undefined) {
    if (typeof o.sweep !== 'object' || o.sweep === null || Array.isArray(o.sweep)) bad('sweep is not a mapping of lists', 'write sweep: { key: [v1, v2] }');
    sweep = {};
    for (const [k, v] of Object.entries(o.sweep as Record<string, unknown>)) {
      if (!Array.isArray(v) || v.length === 0) bad(`sweep.${k} is not a non-empty list`, 'write sweep: { key: [v1, v2] }');
      sweep[k] = v as SettingValue[];
    }
  }
  const spec: WorkloadSpec = {
    name: o.name as string, description: o.description as string,
    generator: o.generator as string | undefined,
    trace: o.trace === undefined ? undefined : resolve(dirname(file), String(o.trace)),
    format: o.format as string | undefined,
    platform: o.platform as string | undefined,
    settings, sweep, file,
  };
  // validate every setting (and every sweep value) through the schema now, naming the spec file
  try {
    for (const p of sweepPoints(spec)) specConfig(spec, p);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${file}: ${e.message}`);
    throw e;
  }
  if (spec.trace !== undefined && !existsSync(spec.trace)) bad(`trace file ${spec.trace} does not exist`, 'fix the path (relative to the spec file)');
  return spec;
}

/** Every workload spec in a folder (recursively), sorted by name; duplicate names are an error. */
export function listWorkloads(dir = workloadsDir()): WorkloadSpec[] {
  const out: WorkloadSpec[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) { if (f !== 'validation' && f !== 'sweeps') walk(p); continue; }
      if (['.yaml', '.yml', '.json'].includes(extname(f))) out.push(loadWorkloadSpec(p));
    }
  };
  if (existsSync(dir)) walk(dir);
  const seen = new Map<string, string>();
  for (const s of out) {
    const prev = seen.get(s.name);
    if (prev) throw new InputError(`${s.file}: workload name '${s.name}' is also used by ${prev}; rename one`);
    seen.set(s.name, s.file);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** A workload by name, or a spec file by path. */
export function findWorkload(nameOrPath: string): WorkloadSpec | undefined {
  if (/\.(ya?ml|json)$/.test(nameOrPath) && existsSync(nameOrPath)) return loadWorkloadSpec(nameOrPath);
  return listWorkloads().find((w) => w.name === nameOrPath);
}

/** The Cartesian product of the sweep axes (one empty point when there are none), in a fixed order. */
export function sweepPoints(spec: Pick<WorkloadSpec, 'sweep'>): Array<Array<[string, SettingValue]>> {
  let points: Array<Array<[string, SettingValue]>> = [[]];
  for (const [k, vs] of Object.entries(spec.sweep ?? {})) {
    const next: Array<Array<[string, SettingValue]>> = [];
    for (const p of points) for (const v of vs) next.push([...p, [k, v]]);
    points = next;
  }
  return points;
}

/** The resolved config of one point: generator defaults, platform, spec settings, point, then extra (command line). */
export function specConfig(spec: WorkloadSpec, point: Array<[string, SettingValue]> = [], extra: Array<[string, SettingValue]> = []): Readonly<Config> {
  const g = spec.generator ? findGenerator(spec.generator) : undefined;
  const s: Array<[string, SettingValue]> = [...(g?.defaults ?? []).map(([k, v]) => [k, v] as [string, SettingValue])];
  if (spec.platform) s.push(['platform', spec.platform]);
  s.push(...Object.entries(spec.settings), ...point, ...extra);
  return buildConfig(s);
}
