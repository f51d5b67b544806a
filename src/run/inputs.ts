/**
 * What `run`, `trace gen` and `compare` accept as input: a trace file (any supported format), a
 * workload spec (by name or path), or a generator name. Resolves the config in the order
 * generator defaults → platform → spec settings → sweep point → command-line settings.
 */
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { buildConfig, type Config } from '../config/config.js';
import { loadTrace, type TraceFormat } from './load.js';
import { findGenerator, generators } from './generators/index.js';
import { findWorkload, specConfig, sweepPoints, type WorkloadSpec, type SettingValue } from './workloads.js';
import { summarizeTrace } from './run.js';
import type { TraceColumns, TraceChunks } from '../trace/columns.js';
import type { WorkloadSummary } from './result.js';
import { InputError, inputError } from '../util/errors.js';
import { runTimedTrace, runPciebench, runTimedChunks, type ChunkWrap } from './timed.js';
import { runTrace, runChunks } from './run.js';
import { openTraceStream, probeTrace, streamable, type StreamFormat } from './stream.js';
import type { CsvOptions } from '../trace/importers/csv.js';
import type { RunResult } from './result.js';
import type { ReadOptions } from '../trace/input.js';

export interface ResolvedInput {
  cfg: Readonly<Config>;
  /** Trace columns to replay (absent for the closed-loop pciebench source and a streamed trace). */
  columns?: TraceColumns;
  /**
   * A trace file read a chunk at a time when the run replays it (resolveInput's `stream`); its
   * `summary` names it, and the run counts the rest as it reads.
   */
  stream?: { path: string; format: StreamFormat; opts: CsvOptions; read: ReadOptions };
  summary: WorkloadSummary;
  /** The workload spec, when the input named one. */
  spec?: WorkloadSpec;
  point: Array<[string, SettingValue]>;
}

export function describeInputs(): string {
  return `a trace file, a workload (iommusim workloads lists them) or a generator (${generators().map((g) => g.name).join(', ')})`;
}

/** One run an input resolves to, before any trace is read or generated. */
interface InputPoint {
  cfg: Readonly<Config>;
  spec?: WorkloadSpec;
  point: Array<[string, SettingValue]>;
  /** A trace file to read (with its format), or ... */
  trace?: { path: string; format: TraceFormat };
  /** ... a generator to run. */
  generator?: string;
}

/** Where an input's runs come from, resolved in the order the module doc gives; nothing read yet. */
function inputPoints(input: string, settings: Array<[string, SettingValue]>, format: TraceFormat): InputPoint[] {
  const isFile = existsSync(input) && statSync(input).isFile();
  if (isFile && !/\.(ya?ml|json)$/.test(input)) {
    return [{ cfg: buildConfig(settings), point: [], trace: { path: input, format } }];
  }
  const gen = !isFile ? findGenerator(input) : undefined;
  if (gen) {
    const cfg = buildConfig([...gen.defaults.map(([k, v]) => [k, v] as [string, SettingValue]), ...settings]);
    return [{ cfg, point: [], generator: gen.name }];
  }
  const spec = findWorkload(input);
  if (!spec && !isFile && /[/\\]|\.[A-Za-z0-9]+$/.test(input)) {
    throw new InputError(`${input}: cannot read the trace (${existsSync(input) ? 'not a file' : 'ENOENT'}); check the path, or give ${describeInputs()}`);
  }
  if (!spec) {
    throw new InputError(`${input}: not a trace file, a workload or a generator; give ${describeInputs()}`);
  }
  return sweepPoints(spec).map((point) => {
    const cfg = specConfig(spec, point, settings);
    return spec.trace
      ? { cfg, spec, point, trace: { path: spec.trace, format: (spec.format as TraceFormat | undefined) ?? format } }
      : { cfg, spec, point, generator: spec.generator! };
  });
}

/**
 * Resolve an input to one or more runs (several for a workload with sweep axes). `read`: how to
 * read a trace or capture file (the CLI's --strict; where warnings go). `stream`: a trace file of a
 * format read a chunk at a time (src/run/stream.ts) is left to the run to read so (`run`), not
 * loaded now.
 */
export function resolveInput(input: string, settings: Array<[string, SettingValue]>, format: TraceFormat = 'auto', read: ReadOptions = {}, stream = false): ResolvedInput[] {
  return inputPoints(input, settings, format).map((p) =>
    p.trace ? fromTrace(p.trace.path, p.trace.format, p.cfg, p.spec, p.point, read, stream) : fromGenerator(p.generator!, p.cfg, p.spec, p.point, undefined, undefined, read));
}

/** A generator's trace as a stream: its config, the label its result carries, and the stream to open. */
export interface StreamedInput {
  cfg: Readonly<Config>;
  label: { name: string; source: string; format: string };
  open(): TraceChunks;
}

/**
 * The input as a stream, when it is one run of a generator that streams (the NIC generators: any
 * packet count in bounded memory); null otherwise (a trace file, a sweep, pciebench, a GPU
 * generator: resolveInput). The stream gives the rows the generator's build gives.
 */
export function resolveStream(input: string, settings: Array<[string, SettingValue]>, read: ReadOptions = {}): StreamedInput | null {
  const points = inputPoints(input, settings, 'auto');
  if (points.length !== 1 || points[0].generator === undefined) return null;
  const p = points[0];
  const gen = findGenerator(p.generator!)!;
  if (!gen.stream) return null;
  const stream = gen.stream;
  return {
    cfg: p.cfg,
    label: { name: p.spec?.name ?? gen.name, source: `generator:${gen.name}`, format: 'generator' },
    open: () => stream(p.cfg, read),
  };
}

function fromTrace(path: string, format: TraceFormat, cfg: Readonly<Config>, spec: WorkloadSpec | undefined, point: Array<[string, SettingValue]>, read: ReadOptions, stream: boolean): ResolvedInput {
  if (stream) {
    const p = probeTrace(path, format, read);
    if (streamable(p)) return { ...fromStream(path, p.format, cfg, spec?.name, point, read), spec };
    format = p.format;
  }
  const tr = loadTrace(path, format, { addressBits: 12 + 9 * cfg.iommu.levels }, cfg, read);
  return { ...fromColumns(tr.columns, tr.format, path, cfg, spec?.name, point), spec };
}

/**
 * A trace file of a format that streams (probed already), as a run input read a chunk at a time
 * when the run replays it (runResolved); `label` is the workload spec's name. A sweep worker runs a
 * trace too big to share through this.
 */
export function fromStream(path: string, format: StreamFormat, cfg: Readonly<Config>, label?: string, point: Array<[string, SettingValue]> = [], read: ReadOptions = {}): ResolvedInput {
  const opts: CsvOptions = { addressBits: 12 + 9 * cfg.iommu.levels };
  const summary: WorkloadSummary = { name: label ?? basename(path), source: path, format, records: 0, devices: [], ops: { dma: 0, map: 0, unmap: 0, inv: 0 }, timeSpanNs: 0 };
  return { cfg, summary, point, stream: { path, format, opts, read } };
}

/** A trace file's columns, already loaded (e.g. shared with a sweep worker), as a run input; `label` is the workload spec's name. */
export function fromColumns(columns: TraceColumns, format: string, path: string, cfg: Readonly<Config>, label?: string, point: Array<[string, SettingValue]> = []): ResolvedInput {
  const summary = summarizeTrace(columns, label ?? basename(path), path, format);
  return { cfg, columns, summary, point };
}

/**
 * A generator's run input; `label` names it (a workload spec's name). `built`: the generator's
 * columns, already built (a sweep worker builds nic-pcap from shared frames). `read`: how the
 * generator reads a file it replays (nic-pcap's capture).
 */
export function fromGenerator(name: string, cfg: Readonly<Config>, spec: WorkloadSpec | undefined, point: Array<[string, SettingValue]>, built?: TraceColumns, label?: string, read: ReadOptions = {}): ResolvedInput {
  label ??= spec?.name ?? name;
  if (name === 'pciebench') {
    const w = cfg.workload;
    const summary: WorkloadSummary = {
      name: label, source: `generator:pciebench (${w.op} ${w.size} B, ${w.window} B window, ${w.pattern}, ${w.cache})`, format: 'generator',
      records: w.count, devices: ['0000:03:00.0'], ops: { dma: w.count, map: cfg.iommu.mode === 'off' ? 0 : 1, unmap: 0, inv: 0 }, timeSpanNs: 0,
    };
    return { cfg, summary, spec, point };
  }
  const columns = built ?? findGenerator(name)!.build(cfg, read);
  return { cfg, columns, summary: summarizeTrace(columns, label, `generator:${name}`, 'generator'), spec, point };
}

/**
 * One resolved input through the timed (or functional) model. `wrap`: what the caller puts around
 * a streamed trace's chunks (the CLI's progress line), given its record count.
 */
export function runResolved(r: ResolvedInput, functional = false, wrap: ChunkWrap = (src) => src): RunResult {
  if (r.stream) {
    // the first pass (and its errors) here, when this run starts: a sweep holds one file open at a time
    const s = openTraceStream(r.stream.path, r.stream.format, r.stream.opts, r.cfg, r.stream.read);
    try {
      const src = wrap(s.chunks(), s.count);
      const label = { name: r.summary.name, source: s.path, format: s.format };
      return functional ? runChunks(src, r.cfg, label) : runTimedChunks(src, r.cfg, label);
    } finally {
      s.close();
    }
  }
  if (!r.columns) {
    if (functional) throw inputError('--functional', 'the pciebench generator runs only with timing', 'drop --functional');
    const res = runPciebench(r.cfg);
    res.workload = r.summary;
    return res;
  }
  return functional ? runTrace(r.columns, r.cfg, r.summary) : runTimedTrace(r.columns, r.cfg, r.summary);
}

