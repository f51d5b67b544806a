/**
 * chart.js configurations (plain, JSON-serialisable objects: no functions) built from a report
 * input; the HTML report and the PNG renderer draw the same ones. A chart whose figures are absent
 * from the input (e.g. timing charts for a --functional run) is left out.
 */
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import type { ReportInput, RunResult, CompareDoc } from './input.js';
import { sweptKeys, configValue, walkReadsPerKiB, cycleParts, type Cell } from './csv.js';
import { simVersion } from '../run/result.js';
import { findKnob } from '../config/schema.js';
import { HYPERVISORS } from '../config/hypervisors.js';

/** A PNG's size in pixels (report.ts's canvases, png.ts's files). */
export const PNG_WIDTH = 1000;
export const PNG_HEIGHT = 600;

export interface ChartSpec {
  /** file-name safe id: the PNG is `<id>.png`, the canvas `chart-<id>`. */
  id: string;
  title: string;
  caption: string;
  config: ChartConfiguration;
  /** The PNG's height in pixels when not the default (a chart that names many bars). */
  heightPx?: number;
}

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const color = (i: number): string => PALETTE[i % PALETTE.length];

type Scales = Record<string, { type?: string; title: { display: true; text: string }; stacked?: boolean; min?: number; max?: number; beginAtZero?: boolean; labels?: string[]; offset?: boolean; position?: 'left' | 'right'; grid?: { drawOnChartArea: boolean } }>;

function options(title: string, caption: string, scales: Scales): ChartConfiguration['options'] {
  return {
    animation: false,
    plugins: {
      title: { display: true, text: title, font: { size: 16 } },
      subtitle: { display: true, text: caption, position: 'bottom', font: { size: 11 } },
      legend: { display: true, position: 'top' },
    },
    scales: scales as never,
  };
}

const axis = (text: string, extra: Partial<Scales[string]> = {}): Scales[string] => ({ title: { display: true, text }, ...extra });

// ---------------------------------------------------------------- compare

function compareCaption(c: CompareDoc): string {
  const runs = Object.values(c.runs ?? {});
  const top = c as { platform?: string; iommusim?: string };
  const platforms = top.platform ? [top.platform] : [...new Set(runs.map((r) => String(configValue(r, 'platform'))))];
  const versions = top.iommusim ? [top.iommusim] : [...new Set(runs.map((r) => r.iommusim))];
  const platform = platforms.length ? platforms.join(', ') : 'not recorded in the compare JSON';
  const version = versions.length ? versions.join(', ') : `${simVersion()} (reporter; not recorded in the compare JSON)`;
  return `workload: ${c.workload} · platform: ${platform} · hypervisor: ${c.hypervisor.name} · iommusim ${version}`;
}

function compareCharts(c: CompareDoc): ChartSpec[] {
  const labels = c.modes.map((m) => (m.refused ? `${m.mode} (refused)` : m.mode));
  const out: ChartSpec[] = [];
  const add = adder(out, compareCaption(c));
  compareThroughput(add, c, labels);
  compareCycles(add, c, labels);
  compareExitsInterrupts(add, c, labels);
  compareHitRate(add, c, labels);
  // why the IOMMU costs throughput (compare JSON written before these figures existed has none)
  if (c.modes.some((m) => m.iommu)) compareIommu(add, c, labels);
  compareLatency(add, c, labels);
  return out;
}

type ModeFigures = CompareDoc['modes'][number];

/** One dataset of a compare chart: `value` of each I/O path; `extra` its stack or y axis. */
function modeBars(c: CompareDoc, label: string, value: (m: ModeFigures) => number | null, backgroundColor: string, extra: { stack?: string; yAxisID?: string } = {}): ChartDataset<'bar'> {
  return { label, data: c.modes.map(value), backgroundColor, ...extra };
}

/** A compare chart: `datasets` as bars over the I/O paths (`labels`); `scales` the y axes (and x where it is not the plain I/O path). */
function compareBars(add: Add, labels: string[], id: string, title: string, datasets: ChartDataset<'bar'>[], scales: Scales): void {
  add(id, title, { type: 'bar', data: { labels, datasets } }, { x: axis('I/O path'), ...scales });
}

/** Throughput and offered load per I/O path (the title with passthrough / emulated). */
function compareThroughput(add: Add, c: CompareDoc, labels: string[]): void {
  const ratio = c.passthroughOverEmulated;
  const tTitle = `Throughput per I/O path${ratio !== null && ratio !== undefined ? ` (passthrough / emulated = ${ratio}×)` : ''}`;
  compareBars(add, labels, 'throughput', tTitle, [
    modeBars(c, 'throughput (Gb/s)', (m) => m.throughputGbps, color(0)),
    modeBars(c, 'offered load (Gb/s)', (m) => m.offeredGbps, '#c7c7c7'),
  ], { y: axis('throughput (Gb/s)', { beginAtZero: true }) });
}

/** CPU cycles per packet per I/O path, stacked by part (guest and host). */
function compareCycles(add: Add, c: CompareDoc, labels: string[]): void {
  const parts = cycleParts(c);
  compareBars(add, labels, 'cycles-per-packet', 'CPU cycles per packet by part',
    parts.map((p, i) => modeBars(c, p, (m) => m.cyclesPerPacket.parts?.[p] ?? 0, color(i), { stack: 'cycles' })),
    { x: axis('I/O path', { stacked: true }), y: axis('CPU cycles per packet (guest + host parts)', { stacked: true, beginAtZero: true }) });
}

/** VM exits and interrupts per second per I/O path. */
function compareExitsInterrupts(add: Add, c: CompareDoc, labels: string[]): void {
  compareBars(add, labels, 'exits-interrupts', 'VM exits and interrupts per second', [
    modeBars(c, 'VM exits / s', (m) => m.exitsPerSec, color(3)),
    modeBars(c, 'interrupts / s', (m) => m.interruptsPerSec, color(1)),
  ], { y: axis('events per second (1/s)', { beginAtZero: true }) });
}

/** The IOTLB hit rate per I/O path. */
function compareHitRate(add: Add, c: CompareDoc, labels: string[]): void {
  compareBars(add, labels, 'iotlb-hit-rate', 'IOTLB hit rate per I/O path', [modeBars(c, 'IOTLB hit rate (%)', (m) => hitRatePct(m.iotlb), color(2))],
    { y: axis('IOTLB hit rate (%)', { min: 0, max: 100 }) });
}

/** Two charts of the IOMMU's work: per 4 KiB of payload, and where the device side waits. */
function compareIommu(add: Add, c: CompareDoc, labels: string[]): void {
  compareBars(add, labels, 'iommu-per-4k', 'IOMMU work per 4 KiB of payload', [
    modeBars(c, 'IOTLB misses / 4 KiB', (m) => m.iommu?.iotlbMissesPer4KiB ?? null, color(3)),
    modeBars(c, 'IOMMU memory reads / 4 KiB', (m) => m.iommu?.memReadsPer4KiB ?? null, color(1)),
  ], { y: axis('per 4 KiB of DMA payload', { beginAtZero: true }) });
  compareBars(add, labels, 'iommu-pressure', 'Where the device side waits: the page-walk stage and PCIe ordering', [
    modeBars(c, 'page-walk stage busy (%)', (m) => (m.iommu ? Math.round(m.iommu.walkStageBusy * 1000) / 10 : null), color(2), { yAxisID: 'y' }),
    modeBars(c, 'ordering wait (ns per packet)', (m) => m.iommu?.orderingWaitNsPerPacket ?? null, color(4), { yAxisID: 'y1' }),
    modeBars(c, 'write-buffer wait (ns per packet)', (m) => m.iommu?.writeBufferWaitNsPerPacket ?? null, color(5), { yAxisID: 'y1' }),
  ], { y: axis('page-walk stage busy (%)', { min: 0, max: 100, position: 'left' }), y1: axis('wait (ns per packet)', { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } }) });
}

/** DMA latency (p50, p99) per I/O path. */
function compareLatency(add: Add, c: CompareDoc, labels: string[]): void {
  compareBars(add, labels, 'latency', 'DMA latency per I/O path', [
    modeBars(c, 'p50 (ns)', (m) => m.latencyNs?.p50 ?? null, color(0)),
    modeBars(c, 'p99 (ns)', (m) => m.latencyNs?.p99 ?? null, color(3)),
  ], { y: axis('latency (ns)', { beginAtZero: true }) });
}

/** Hit rate in %, or no point when there were no lookups (IOMMU off): 0 % would be misleading. */
const hitRatePct = (t: { lookups?: number; hitRate?: number } | undefined): number | null => (t && (t.lookups ?? 0) > 0 ? pct(t.hitRate) : null);
const pct = (v: number | undefined): number | null => (typeof v === 'number' ? Math.round(v * 1e5) / 1e3 : null);

// ---------------------------------------------------------------- runs (single or sweep)

/** The hypervisors of I/O-path runs, in profile order, or none. */
function hypervisorsOf(runs: readonly RunResult[]): string[] {
  return orderBy([...new Set(runs.map((r) => r.path?.hypervisor).filter((h): h is NonNullable<typeof h> => !!h))], HYPERVISOR_ORDER);
}

function runsCaption(runs: readonly RunResult[]): string {
  const workloads = [...new Set(runs.map((r) => r.workload.name))].join(', ');
  const platforms = [...new Set(runs.map((r) => String(configValue(r, 'platform'))))].join(', ');
  const versions = [...new Set(runs.map((r) => r.iommusim))].join(', ');
  const hv = hypervisorsOf(runs);
  const hypervisor = hv.length ? hv.join(', ') : 'none (host runs, no VM)';
  return `workload: ${workloads} · platform: ${platforms} · hypervisor: ${hypervisor} · iommusim ${versions}`;
}

const cellText = (v: Cell): string => (v === null ? '—' : String(v));
/** I/O paths in chart order: host paths, then the guest paths from the device's own (passthrough, SR-IOV) to virtio and emulation (not virt/paths.ts MODES' order). */
const MODE_ORDER: readonly string[] = ['bare-metal', 'identity', 'strict', 'lazy', 'passthrough', 'passthrough-pi', 'passthrough-viommu', 'sriov', 'virtio', 'emulated'];
const HYPERVISOR_ORDER: readonly string[] = HYPERVISORS;
const orderBy = (vs: string[], order: readonly string[]): string[] => [...vs].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));

/** One swept dimension of a set of runs: a config key, or an I/O path's mode / hypervisor. */
export interface Dim {
  key: string;
  /** Axis title, with the unit. */
  title: string;
  /** Its values in display order (numbers ascending, paths and hypervisors in profile order). */
  values: string[];
  numeric: boolean;
  of: (r: RunResult) => string;
}

/** A config key's unit from the schema (for axis titles), if it has one. */
function unitOf(key: string): string | undefined {
  try { return findKnob(key)?.knob.unit; } catch { return undefined; }
}

function configDim(key: string, runs: readonly RunResult[]): Dim {
  const of = (r: RunResult): string => cellText(configValue(r, key));
  const numeric = runs.every((r) => typeof configValue(r, key) === 'number');
  const values: string[] = [];
  for (const r of runs) if (!values.includes(of(r))) values.push(of(r));
  if (numeric) values.sort((a, b) => Number(a) - Number(b));
  const bool = runs.every((r) => typeof configValue(r, key) === 'boolean');
  const unit = unitOf(key) ?? (/size|bytes/i.test(key) ? 'bytes' : bool ? 'on/off' : undefined);
  return { key, title: unit ? `${key} (${unit})` : key, values, numeric, of };
}

/**
 * The dimensions along which runs differ: swept config keys (those an I/O path sets, such as
 * iommu.mode, left out for I/O-path runs: the path stands for them), then the I/O path and the
 * hypervisor when the runs have them.
 */
export function runDims(runs: readonly RunResult[]): Dim[] {
  const pathKeys = new Set(runs.flatMap((r) => (r.path?.settings ?? []).map(([k]) => String(k))));
  const keys = sweptKeys(runs).filter((k) => !pathKeys.has(k) && ![...pathKeys].some((p) => k.startsWith(`${p}.`) || p.startsWith(`${k}.`)));
  // a key that follows another one to one (iommu.iotlb.ways resolved from the swept entries) is not a dimension of its own
  const dims: Dim[] = [];
  for (const d of keys.map((k) => configDim(k, runs))) {
    const same = dims.some((e) => {
      const fwd = new Map<string, string>();
      const back = new Map<string, string>();
      return runs.every((r) => {
        const a = e.of(r), b = d.of(r);
        if ((fwd.get(a) ?? b) !== b || (back.get(b) ?? a) !== a) return false;
        fwd.set(a, b); back.set(b, a);
        return true;
      });
    });
    if (!same) dims.push(d);
  }
  if (runs.some((r) => r.path)) {
    const of = (r: RunResult): string => r.path?.mode ?? '—';
    dims.push({ key: 'mode', title: 'I/O path', values: orderBy([...new Set(runs.map(of))], MODE_ORDER), numeric: false, of });
    const hv = (r: RunResult): string => r.path?.hypervisor ?? '—';
    const hvs = orderBy([...new Set(runs.map(hv))], HYPERVISOR_ORDER);
    if (hvs.length > 1) dims.push({ key: 'hypervisor', title: 'hypervisor', values: hvs, numeric: false, of: hv });
  }
  return dims;
}

/** The x dimension for a line chart: the numeric one with the most values (a size first on a tie), else the first. */
function pickX(dims: Dim[]): Dim | undefined {
  const numeric = dims.filter((d) => d.numeric && d.values.length > 1);
  if (numeric.length === 0) return dims[0];
  return numeric.reduce((best, d) => (d.values.length > best.values.length || (d.values.length === best.values.length && /size/i.test(d.key) && !/size/i.test(best.key)) ? d : best));
}

/** Runs grouped by their values of `dims` (a series per group), in the dims' value order. */
function groupBy(runs: readonly RunResult[], dims: Dim[]): Array<{ label: string; runs: RunResult[] }> {
  const groups = new Map<string, RunResult[]>();
  const label = (r: RunResult): string => dims.map((d) => (d.key === 'hypervisor' ? d.of(r) : `${d.key}=${d.of(r)}`)).join(', ');
  const rank = (r: RunResult): number => dims.reduce((acc, d) => acc * (d.values.length + 1) + d.values.indexOf(d.of(r)), 0);
  for (const r of [...runs].sort((a, b) => rank(a) - rank(b))) {
    const l = label(r);
    groups.set(l, [...(groups.get(l) ?? []), r]);
  }
  return [...groups].map(([l, rs]) => ({ label: l, runs: rs }));
}

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

type Add = (id: string, title: string, config: Omit<ChartConfiguration, 'options'>, scales: Scales) => void;
function adder(out: ChartSpec[], caption: string): Add {
  return (id, title, config, scales) => { out.push({ id, title, caption, config: { ...config, options: options(title, caption, scales) } as ChartConfiguration }); };
}

function cdfDataset(r: RunResult, label: string, k: number): ChartDataset<'line'> {
  // a log axis cannot show ns <= 0; such points are left out (see README)
  return { label, data: cdfPoints(r), borderColor: color(k), backgroundColor: color(k), pointRadius: 0, borderWidth: 2, stepped: 'after' as const };
}
const cdfScales = (): Scales => ({ x: axis('latency (ns, log scale)', { type: 'logarithmic' }), y: axis('requests completed (%)', { min: 0, max: 100 }) });
const hasCdf = (r: RunResult): boolean => Array.isArray(r.metrics.latencyCdfNs) && r.metrics.latencyCdfNs.length > 0;

// ------------------------------------------------ heat maps (two swept dimensions)

const HEAT = ['#deebf7', '#9ecae1', '#4292c6', '#2171b5', '#08306b'];

/**
 * A heat map as a chart.js `matrix` chart (chartjs-chart-matrix) on two category axes: one filled
 * cell per run, coloured by value in five bins, the value written in the cell; each bin is a dataset,
 * so the legend is the colour scale. Plain JSON (no functions): cell sizes and labels come from the
 * matrixCells plugin (matrix.ts) in both renderers.
 */
function heatMap(add: Add, id: string, title: string, runs: readonly RunResult[], xd: Dim, yd: Dim, metric: Metric, min: number, max: number): void {
  const cells = runs.map((r) => ({ x: xd.of(r), y: yd.of(r), v: metric.value(r) })).filter((c): c is { x: string; y: string; v: number } => c.v !== null);
  if (cells.length === 0) return;
  const bins = max > min ? HEAT.length : 1;
  const binOf = (v: number): number => (bins === 1 ? 0 : Math.min(bins - 1, Math.floor(((v - min) / (max - min)) * bins)));
  const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
  const edge = (i: number): number => min + ((max - min) * i) / bins;
  const datasets = Array.from({ length: bins }, (_, b) => ({
    label: bins === 1 ? `${fmt(min)} ${metric.unit}` : `${fmt(edge(b))}–${fmt(edge(b + 1))} ${metric.unit}`,
    data: cells.filter((c) => binOf(c.v) === b).map((c) => ({ x: c.x, y: c.y, v: c.v, t: fmt(c.v) })),
    backgroundColor: bins === 1 ? HEAT[2] : HEAT[b], borderColor: '#ffffff', borderWidth: 1,
    textColor: bins === 1 || b >= 2 ? '#ffffff' : '#1a1a1a',
  })).filter((d) => d.data.length > 0);
  add(id, title, { type: 'matrix', data: { datasets } } as never, {
    x: axis(xd.title, { type: 'category', labels: xd.values, offset: true, grid: { display: false } } as never),
    y: axis(yd.title, { type: 'category', labels: [...yd.values].reverse(), offset: true, grid: { display: false } } as never),
  });
}

interface Metric { label: string; unit: string; value: (r: RunResult) => number | null }

/** Heat maps of two dimensions (x: the line charts' x; y: the I/O path if any), small multiples over the rest (at most 4, one colour scale). */
function heatMaps(add: Add, prefix: string, runs: readonly RunResult[], dims: Dim[], metric: Metric): void {
  const varying = dims.filter((d) => d.values.length > 1);
  if (varying.length < 2) return;
  const xd = pickX(varying)!;
  const rest0 = varying.filter((d) => d !== xd);
  const yd = rest0.find((d) => d.key === 'mode') ?? rest0[0];
  const rest = rest0.filter((d) => d !== yd);
  const groups = groupBy(runs, rest).slice(0, 4);
  const vs = groups.flatMap((g) => g.runs.map(metric.value)).filter((v): v is number => v !== null);
  if (vs.length === 0) return;
  const min = Math.min(...vs);
  const max = Math.max(...vs);
  groups.forEach((g, i) => {
    const at = rest.length ? ` (${g.label})` : '';
    heatMap(add, groups.length > 1 ? `${prefix}heatmap-${i + 1}` : `${prefix}heatmap`, `${metric.label}: ${yd.key === 'mode' ? 'I/O path' : yd.key} × ${xd.key}${at}`, g.runs, xd, yd, metric, min, max);
  });
}

// ------------------------------------------------ I/O-path runs (sweeps over mode × hypervisor)

function pathCharts(runs: readonly RunResult[], out: ChartSpec[], prefix: string): void {
  const v = pathView(runs, out, prefix);
  pathBars(v, 'throughput', `Throughput per I/O path${v.atText}${ratioText(v.series)}`, 'throughput (Gb/s)', (p) => numOrNull(p.throughputGbps), { beginAtZero: true }, 'throughput (Gb/s)');
  pathThroughputLines(v);
  pathBars(v, 'cycles-per-packet', `CPU cycles per packet per I/O path${v.atText}`, 'CPU cycles per packet (guest + host)', (p) => numOrNull(p.cyclesPerPacket?.total), { beginAtZero: true }, 'cycles / packet');
  pathExitsInterrupts(v);
  pathBars(v, 'iotlb-hit-rate', `IOTLB hit rate per I/O path${v.atText}`, 'IOTLB hit rate (%)', (p) => hitRatePct(p.iotlb), { min: 0, max: 100 }, 'IOTLB hit rate (%)');
  pathLatencyCdf(v);
  heatMaps(v.add, prefix, runs, v.dims, { label: 'Throughput (Gb/s)', unit: 'Gb/s', value: (r) => numOrNull(r.path?.throughputGbps) });
}

/** An I/O-path run's figures (RunResult.path). */
type PathFigures = NonNullable<RunResult['path']>;
/** A series: runs grouped by their values of some dimensions (groupBy). */
type Group = { label: string; runs: RunResult[] };

/** What the I/O-path charts share: the runs' dimensions, the slice the bar charts show, and its series. */
interface PathView {
  runs: readonly RunResult[];
  add: Add;
  prefix: string;
  dims: Dim[];
  modeDim: Dim;
  /** The dimensions other than the I/O path. */
  others: Dim[];
  /** The numeric ones with several values: the bar charts show their largest. */
  fixed: Dim[];
  /** The runs at those largest values, and their series (by the remaining dimensions). */
  slice: RunResult[];
  series: Group[];
  modes: string[];
  /** ` at key=value, …` for the titles ('' when nothing is fixed). */
  atText: string;
}

/** The I/O-path runs' view: bars at the other numeric dims' largest value (the line chart shows how they change), the rest as series. */
function pathView(runs: readonly RunResult[], out: ChartSpec[], prefix: string): PathView {
  const dims = runDims(runs);
  const modeDim = dims.find((d) => d.key === 'mode')!;
  const others = dims.filter((d) => d !== modeDim);
  const fixed = others.filter((d) => d.numeric && d.values.length > 1);
  const at = fixed.map((d) => `${d.key}=${d.values[d.values.length - 1]}`).join(', ');
  const slice = runs.filter((r) => fixed.every((d) => d.of(r) === d.values[d.values.length - 1]));
  const series = groupBy(slice, others.filter((d) => !fixed.includes(d)));
  return { runs, add: adder(out, runsCaption(runs)), prefix, dims, modeDim, others, fixed, slice, series, modes: modeDim.values, atText: at ? ` at ${at}` : '' };
}

/** `f` of the run of `mode` among `rs` (null when there is none). */
function pathValue(rs: readonly RunResult[], mode: string, f: (p: PathFigures) => number | null): number | null {
  const r = rs.find((x) => x.path?.mode === mode);
  return r?.path ? f(r.path) : null;
}

/** A bar chart of `f` per I/O path, one bar per series (left out when no run has a value). */
function pathBars(v: PathView, id: string, title: string, yTitle: string, f: (p: PathFigures) => number | null, yExtra: Partial<Scales[string]> = {}, what = ''): void {
  const { series, modes } = v;
  const datasets = series.map((s, i) => ({ label: series.length > 1 ? `${what || yTitle}: ${s.label}` : (what || yTitle), data: modes.map((m) => pathValue(s.runs, m, f)), backgroundColor: color(i) }));
  if (!datasets.some((d) => d.data.some((x) => x !== null))) return;
  v.add(`${v.prefix}${id}`, title, { type: 'bar', data: { labels: modes, datasets } }, { x: axis('I/O path'), y: axis(yTitle, yExtra) });
}

/** ` (passthrough / emulated = N×)` per series (passthrough with posted interrupts if run), or '' when no series has both. */
export function ratioText(series: readonly Group[]): string {
  const ratios = series.map((s) => {
    const pt = pathValue(s.runs, 'passthrough-pi', (p) => p.throughputGbps) ?? pathValue(s.runs, 'passthrough', (p) => p.throughputGbps);
    const em = pathValue(s.runs, 'emulated', (p) => p.throughputGbps);
    return { label: s.label, ratio: pt !== null && em !== null && em > 0 ? Math.round((pt / em) * 100) / 100 : null };
  }).filter((x) => x.ratio !== null);
  return ratios.length === 0 ? ''
    : ratios.length === 1 ? ` (passthrough / emulated = ${ratios[0].ratio}×)`
      : ` (passthrough / emulated: ${ratios.map((x) => `${x.label} ${x.ratio}×`).join(', ')})`;
}

/** Throughput vs a numeric dimension (packet or transfer size), one line per path (× the other series); colour by path, dashes by the rest. */
function pathThroughputLines(v: PathView): void {
  const { runs, others, fixed, modeDim, modes } = v;
  const xd = pickX(others.filter((d) => d.numeric && d.values.length > 1));
  if (!xd) return;
  const otherFixed = fixed.filter((d) => d !== xd);
  const rs = runs.filter((r) => otherFixed.every((d) => d.of(r) === d.values[d.values.length - 1]));
  const rest = others.filter((d) => d !== xd && !otherFixed.includes(d));
  const lines = groupBy(rs, [modeDim, ...rest]);
  // colour by I/O path, dashes and point style by the rest (e.g. the hypervisor)
  const restLabels = groupBy(rs, rest).map((g) => g.label);
  const DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
  const POINTS = ['circle', 'rect', 'triangle', 'rectRot'];
  const datasets: ChartDataset<'line'>[] = lines.map((l) => {
    const m = modes.indexOf(l.runs[0].path!.mode);
    const k = Math.max(0, restLabels.indexOf(groupBy(l.runs.slice(0, 1), rest)[0]?.label ?? '')) % DASHES.length;
    return {
      label: l.label.replace(/^mode=/, ''),
      data: xd.values.map((x) => numOrNull(l.runs.find((r) => xd.of(r) === x)?.path?.throughputGbps)),
      borderColor: color(m), backgroundColor: color(m), borderDash: DASHES[k], pointStyle: POINTS[k] as 'circle', pointRadius: 4, spanGaps: true,
    };
  });
  const t = `Throughput vs ${xd.key} per I/O path${otherFixed.length ? ` at ${otherFixed.map((d) => `${d.key}=${d.values[d.values.length - 1]}`).join(', ')}` : ''}`;
  v.add(`${v.prefix}throughput-vs-${xd.key.replace(/[^A-Za-z0-9]+/g, '-')}`, t, { type: 'line', data: { labels: xd.values, datasets } }, { x: axis(xd.title), y: axis('throughput (Gb/s)', { beginAtZero: true }) });
}

/** VM exits and interrupts per second per I/O path: two bars per series. */
function pathExitsInterrupts(v: PathView): void {
  const { series, modes } = v;
  const ei = series.flatMap((s, i) => [
    { label: `VM exits / s${series.length > 1 ? `: ${s.label}` : ''}`, data: modes.map((m) => pathValue(s.runs, m, (p) => numOrNull(p.exitsPerSec))), backgroundColor: color(2 * i + 3) },
    { label: `interrupts / s${series.length > 1 ? `: ${s.label}` : ''}`, data: modes.map((m) => pathValue(s.runs, m, (p) => numOrNull(p.interruptsPerSec))), backgroundColor: color(2 * i + 4) },
  ]);
  v.add(`${v.prefix}exits-interrupts`, `VM exits and interrupts per second per I/O path${v.atText}`, { type: 'bar', data: { labels: modes, datasets: ei } }, { x: axis('I/O path'), y: axis('events per second (1/s)', { beginAtZero: true }) });
}

/**
 * The DMA latency CDF, one line per distinct device-side distribution: paths with the same host
 * IOMMU setup (and every hypervisor: the device side does not depend on it) share theirs, and the
 * legend says so.
 */
function pathLatencyCdf(v: PathView): void {
  const { slice, series, modes } = v;
  const cdf = slice.filter(hasCdf).sort((a, b) => modes.indexOf(a.path!.mode) - modes.indexOf(b.path!.mode));
  if (cdf.length === 0) return;
  const same = new Map<string, RunResult[]>();
  for (const r of cdf) { const k = JSON.stringify(r.metrics.latencyCdfNs); same.set(k, [...(same.get(k) ?? []), r]); }
  const label = (rs: RunResult[]): string => {
    const ms = [...new Set(rs.map((r) => r.path!.mode))].join(', ');
    const hs = [...new Set(rs.map((r) => r.path!.hypervisor))];
    return series.length > 1 && hs.length < hypervisorsOf(slice).length ? `${ms} (${hs.join(', ')})` : ms;
  };
  const t = `DMA latency CDF per I/O path${v.atText}`;
  v.add(`${v.prefix}latency-cdf`, t, { type: 'line', data: { datasets: [...same.values()].map((rs, k) => cdfDataset(rs[0], label(rs), k)) } }, cdfScales());
}

// ------------------------------------------------ host runs (single or sweep)

function hostCharts(runs: readonly RunResult[], out: ChartSpec[]): void {
  const caption = runsCaption(runs);
  const add = adder(out, caption);
  const dims = runDims(runs);
  const xd = pickX(dims);
  const seriesDims = dims.filter((d) => d !== xd);
  const xLabels = xd ? xd.values : runs.map((r, i) => `${i}: ${r.workload.name}`);
  const xOf = (r: RunResult): string => (xd ? xd.of(r) : `${runs.indexOf(r)}: ${r.workload.name}`);
  const series = xd ? groupBy(runs, seriesDims) : [{ label: 'runs', runs: [...runs] }];
  const xTitle = xd ? xd.title : 'run';
  const vsX = (id: string, title: string, yTitle: string, seriesLabel: string, value: (r: RunResult) => number | null, yExtra: Partial<Scales[string]> = {}): void => {
    if (!runs.some((r) => value(r) !== null)) return;
    const datasets: ChartDataset<'line'>[] = series.map((s, si) => ({
      label: series.length > 1 ? `${seriesLabel}: ${s.label}` : seriesLabel,
      data: xLabels.map((x) => {
        const r = s.runs.find((q) => xOf(q) === x);
        return r === undefined ? null : value(r);
      }),
      borderColor: color(si), backgroundColor: color(si), pointRadius: 4, spanGaps: true,
    }));
    const t = xd ? `${title} vs ${xd.key}` : title;
    add(id, t, { type: 'line', data: { labels: xLabels, datasets } }, { x: axis(xTitle), y: axis(yTitle, yExtra) });
  };
  vsX('throughput', 'Throughput', 'throughput (Gb/s)', 'throughput (Gb/s)', (r) => numOrNull(r.metrics.throughputGbps), { beginAtZero: true });
  vsX('iotlb-hit-rate', 'IOTLB hit rate', 'IOTLB hit rate (%)', 'IOTLB hit rate (%)', (r) => hitRatePct(r.metrics.iotlb), { min: 0, max: 100 });
  vsX('walk-reads', 'Page-walk memory reads per KiB of DMA', 'walk reads per KiB (reads/KiB)', 'walk reads / KiB', walkReadsPerKiB, { beginAtZero: true });

  const withCdf = runs.filter(hasCdf);
  if (withCdf.length > 0) {
    const label = (r: RunResult): string => (dims.length ? dims.map((d) => `${d.key}=${d.of(r)}`).join(', ') : xOf(r));
    add('latency-cdf', 'DMA latency CDF per run', { type: 'line', data: { datasets: withCdf.map((r, k) => cdfDataset(r, label(r), k)) } }, cdfScales());
  }

  // a heat map of two swept dimensions: the IOTLB hit rate when it varies, else throughput
  const hit = (r: RunResult): number | null => hitRatePct(r.metrics.iotlb);
  const hits = runs.map(hit).filter((v): v is number => v !== null);
  const hitVaries = hits.length === runs.length && Math.max(...hits) > Math.min(...hits);
  heatMaps(add, '', runs, dims, hitVaries
    ? { label: 'IOTLB hit rate (%)', unit: '%', value: hit }
    : { label: 'Throughput (Gb/s)', unit: 'Gb/s', value: (r) => numOrNull(r.metrics.throughputGbps) });
}

function runsCharts(runs: readonly RunResult[]): ChartSpec[] {
  const out: ChartSpec[] = [];
  const path = runs.filter((r) => r.path);
  const host = runs.filter((r) => !r.path);
  if (path.length > 0) pathCharts(path, out, host.length > 0 ? 'path-' : '');
  if (host.length > 0) hostCharts(host, out);
  return out;
}

/** latencyCdfNs as % points, starting at 0 % at the minimum latency so the first step shows. */
function cdfPoints(r: RunResult): Array<{ x: number; y: number }> {
  const pts = (r.metrics.latencyCdfNs ?? []).filter(([ns]) => ns > 0).map(([ns, f]) => ({ x: ns, y: Math.round(f * 1e5) / 1e3 }));
  if (pts.length === 0) return pts;
  const min = r.metrics.latencyNs?.min;
  pts.unshift({ x: typeof min === 'number' && min > 0 && min < pts[0].x ? min : pts[0].x, y: 0 });
  return pts;
}

export function buildCharts(input: ReportInput): ChartSpec[] {
  return input.kind === 'compare' ? compareCharts(input.compare) : runsCharts(input.runs);
}
