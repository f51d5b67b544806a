/**
 * `iommusim validate`: the model beside published measurements. Each anchor is a file under
 * workloads/validation/ (so a user can rerun and change it): a generator or workload, platform and
 * settings through the public config keys only, the metric to read, the published figure (a value
 * with a tolerance, or a range), its source, and — where the model is known to miss — the mechanism
 * that is missing. `minus:` subtracts the same metric of a second run (its settings on top), `over:`
 * divides by it (a ratio, e.g. nested over single-level).
 *
 * Besides a run of a generator, an anchor may read a mechanism of src/virt: `probe:` names one
 * (src/virt/probes.ts: exit costs of a single-level or nested guest, page-fault flows), evaluated on
 * the config; or `mode:` (with `hypervisor:`) compares one I/O path of the generator's device model as
 * `iommusim compare` does and reads the path's figure (`overMode:` the path of the denominator).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../util/errors.js';
import { workloadsDir, type SettingValue } from '../run/workloads.js';
import { resolveInput } from '../run/inputs.js';
import { runResolved } from '../run/inputs.js';
import { findGenerator } from '../run/generators/index.js';
import { buildConfig, type Config } from '../config/config.js';
import { PROBES } from '../virt/probes.js';
import { MODES, type Mode } from '../virt/paths.js';
import { HYPERVISORS, type HypervisorName } from '../virt/hypervisors.js';
import { compareModes } from '../run/compare.js';
import { deviceWorkload } from '../run/device-workload.js';

export interface Anchor {
  name: string;
  description: string;
  source: string;
  unit: string;
  metric: string;
  generator: string;
  platform?: string;
  settings: Record<string, SettingValue>;
  minus?: Record<string, SettingValue>;
  /** Settings of the denominator run: the anchor's figure is metric(settings) / metric(settings + over). */
  over?: Record<string, SettingValue>;
  /** A mechanism of src/virt/probes.ts evaluated instead of a generator run. */
  probe?: string;
  /** An I/O path compared as `iommusim compare` does (the generator's device model), under `hypervisor`. */
  mode?: Mode;
  /** The I/O path of the denominator (with `over`), when it differs from `mode`. */
  overMode?: Mode;
  hypervisor?: HypervisorName;
  published?: number;
  tolerance?: number;
  range?: [number, number];
  fast: boolean;
  missing?: string;
  /** A published figure the model cannot be set up to reproduce yet: listed with what is missing. */
  notModelled?: string;
  file: string;
}

export interface AnchorResult {
  name: string;
  description: string;
  source: string;
  unit: string;
  published: string;
  /** The published value (a range's midpoint); null when not modelled. */
  publishedValue: number | null;
  simulated: number | null;
  error: number | null;
  /** null: not modelled. */
  pass: boolean | null;
  missing?: string;
  file: string;
}

const FIELDS = ['name', 'description', 'source', 'unit', 'metric', 'generator', 'probe', 'mode', 'overMode', 'hypervisor', 'platform', 'settings', 'minus', 'over', 'published', 'tolerance', 'range', 'fast', 'missing', 'notModelled'];

export function loadAnchor(file: string): Anchor {
  let raw: unknown;
  try { raw = parseYaml(readFileSync(file, 'utf8')); } catch (e) { throw new InputError(`${file}: not valid YAML (${(e as Error).message.split('\n')[0]}); fix the syntax`); }
  const bad = (what: string, fix: string): never => { throw new InputError(`${file}: ${what}; ${fix}`); };
  if (typeof raw !== 'object' || raw === null) bad('an anchor is a mapping', `write ${FIELDS.join(', ')}`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) bad(`unknown field '${k}'`, `use ${FIELDS.join(', ')}`);
  if (o.notModelled !== undefined) {
    for (const k of ['name', 'description', 'source', 'notModelled', 'missing']) if (typeof o[k] !== 'string' || o[k] === '') bad(`${k} is missing`, `a not-modelled anchor names ${k}`);
    return { name: o.name as string, description: o.description as string, source: o.source as string, unit: '', metric: '', generator: '', settings: {}, fast: false, missing: o.missing as string, notModelled: o.notModelled as string, file };
  }
  for (const k of ['name', 'description', 'source', 'unit', 'metric']) if (typeof o[k] !== 'string' || o[k] === '') bad(`${k} is missing`, `add ${k}:`);
  if (o.probe !== undefined) {
    if (typeof o.probe !== 'string' || !PROBES[o.probe]) bad(`unknown probe '${String(o.probe)}'`, `use one of ${Object.keys(PROBES).join(', ')}`);
    if (o.generator !== undefined || o.mode !== undefined) bad('a probe anchor has no generator or mode', 'give probe: or generator:, not both');
  } else {
    if (typeof o.generator !== 'string' || o.generator === '') bad('generator is missing', 'add generator: (or probe:)');
    if (!findGenerator(o.generator as string)) bad(`unknown generator '${String(o.generator)}'`, 'use a generator iommusim workloads lists');
  }
  for (const k of ['mode', 'overMode'] as const) {
    if (o[k] !== undefined && !(MODES as readonly unknown[]).includes(o[k])) bad(`${k} '${String(o[k])}' is not an I/O path`, `use one of ${MODES.join(', ')}`);
  }
  if (o.overMode !== undefined && o.mode === undefined) bad('overMode without mode', 'add mode: (the numerator\'s I/O path)');
  if (o.hypervisor !== undefined && !(HYPERVISORS as readonly unknown[]).includes(o.hypervisor)) bad(`hypervisor '${String(o.hypervisor)}' is unknown`, `use one of ${HYPERVISORS.join(', ')}`);
  if (o.minus !== undefined && o.over !== undefined) bad('both minus and over', 'an anchor is a difference or a ratio, not both');
  const hasValue = typeof o.published === 'number';
  const hasRange = Array.isArray(o.range) && o.range.length === 2 && o.range.every((x) => typeof x === 'number');
  if (hasValue === hasRange) bad('exactly one of published: (with tolerance:) and range: [lo, hi] is needed', 'give the published figure');
  if (hasValue && typeof o.tolerance !== 'number') bad('tolerance is missing', 'e.g. tolerance: 0.10 for ±10 %');
  return {
    name: o.name as string, description: o.description as string, source: o.source as string, unit: o.unit as string,
    metric: o.metric as string, generator: (o.generator as string | undefined) ?? '', platform: o.platform as string | undefined,
    settings: (o.settings ?? {}) as Record<string, SettingValue>, minus: o.minus as Record<string, SettingValue> | undefined,
    over: o.over as Record<string, SettingValue> | undefined, probe: o.probe as string | undefined, mode: o.mode as Mode | undefined,
    overMode: o.overMode as Mode | undefined, hypervisor: o.hypervisor as HypervisorName | undefined,
    published: hasValue ? (o.published as number) : undefined, tolerance: o.tolerance as number | undefined,
    range: hasRange ? (o.range as [number, number]) : undefined, fast: o.fast === true, missing: o.missing as string | undefined, file,
  };
}

export function listAnchors(dir = join(workloadsDir(), 'validation')): Anchor[] {
  return readdirSync(dir).filter((f) => ['.yaml', '.yml'].includes(extname(f))).sort().map((f) => loadAnchor(join(dir, f)));
}

/** A metric of a result: a path under `metrics`, or under the result itself when it starts with `workload.`. */
function metricOf(doc: unknown, path: string, where: string): number {
  let v: unknown = path.startsWith('workload.') ? doc : (doc as { metrics: unknown }).metrics;
  for (const p of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[p];
  if (typeof v !== 'number') throw new InputError(`${where}: metric '${path}' is not a number in the result; name a numeric metric (see iommusim run --json)`);
  return v;
}

function runMetric(a: Anchor, extra: Record<string, SettingValue>, mode = a.mode): number {
  const settings: Array<[string, SettingValue]> = [];
  if (a.platform) settings.push(['platform', a.platform]);
  settings.push(...Object.entries(a.settings), ...Object.entries(extra));
  if (a.probe) {
    const out = PROBES[a.probe](buildConfig(settings));
    const v = out[a.metric];
    if (typeof v !== 'number') throw new InputError(`${a.file}: metric '${a.metric}' is not a figure of probe ${a.probe}; use one of ${Object.keys(out).join(', ')}`);
    return v;
  }
  if (mode) {
    const gen = findGenerator(a.generator)!;
    const configFor = (more: Array<[string, SettingValue]>): Readonly<Config> => buildConfig([...gen.defaults.map(([k, v]) => [k, v] as [string, SettingValue]), ...settings, ...more]);
    const kind = configFor([]).workload.kind;
    const r = compareModes(deviceWorkload(a.generator, kind), [mode], a.hypervisor ?? 'kvm', configFor);
    const m = r.modes.find((x) => x.mode === mode)!;
    if (m.refused) throw new InputError(`${a.file}: ${a.hypervisor ?? 'kvm'} refuses ${mode} for ${a.generator}: ${m.refused}`);
    let v: unknown = m;
    for (const p of a.metric.split('.')) v = (v as Record<string, unknown> | undefined)?.[p];
    if (typeof v !== 'number') throw new InputError(`${a.file}: metric '${a.metric}' is not a number of an I/O path's result; name one (see iommusim compare --json)`);
    return v;
  }
  const [r] = resolveInput(a.generator, settings);
  return metricOf(runResolved(r), a.metric, a.file);
}

export function runAnchor(a: Anchor): AnchorResult {
  if (a.notModelled) {
    return { name: a.name, description: a.description, source: a.source, unit: '', published: a.notModelled, publishedValue: null, simulated: null, error: null, pass: null, missing: a.missing, file: a.file };
  }
  let sim = runMetric(a, {});
  if (a.minus) sim -= runMetric(a, a.minus);
  if (a.over !== undefined || a.overMode !== undefined) sim /= runMetric(a, a.over ?? {}, a.overMode ?? a.mode);
  sim = Math.round(sim * 1000) / 1000;
  let pass: boolean, error: number | null, published: string;
  if (a.range) {
    pass = sim >= a.range[0] && sim <= a.range[1];
    const mid = (a.range[0] + a.range[1]) / 2;
    error = Math.round((sim / mid - 1) * 1000) / 1000;
    published = `${a.range[0]}–${a.range[1]}`;
  } else {
    error = Math.round((sim / a.published! - 1) * 1000) / 1000;
    pass = Math.abs(error) <= a.tolerance!;
    published = `${a.published} ±${Math.round(a.tolerance! * 100)} %`;
  }
  const publishedValue = a.range ? (a.range[0] + a.range[1]) / 2 : a.published!;
  return { name: a.name, description: a.description, source: a.source, unit: a.unit, published, publishedValue, simulated: sim, error, pass, missing: pass ? undefined : a.missing, file: a.file };
}
