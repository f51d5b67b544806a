/**
 * chart.js configurations (plain, JSON-serialisable objects: no functions) built from a report
 * input; the HTML report and the PNG renderer draw the same ones. A chart whose figures are absent
 * from the input (e.g. timing charts for a --functional run) is left out.
 */
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import type { ReportInput, RunResult, CompareDoc } from './report.js';
import { sweptKeys, configValue, walkReadsPerKiB, cycleParts, type Cell } from './csv.js';
import { simVersion } from '../run/result.js';

export interface ChartSpec {
  /** file-name safe id: the PNG is `<id>.png`, the canvas `chart-<id>`. */
  id: string;
  title: string;
  caption: string;
  config: ChartConfiguration;
}

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const color = (i: number): string => PALETTE[i % PALETTE.length];

type Scales = Record<string, { type?: string; title: { display: true; text: string }; stacked?: boolean; min?: number; max?: number; beginAtZero?: boolean }>;

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
  const caption = compareCaption(c);
  const labels = c.modes.map((m) => (m.refused ? `${m.mode} (refused)` : m.mode));
  const out: ChartSpec[] = [];
  const add = (id: string, title: string, config: Omit<ChartConfiguration, 'options'>, scales: Scales): void => {
    out.push({ id, title, caption, config: { ...config, options: options(title, caption, scales) } as ChartConfiguration });
  };

  const ratio = c.passthroughOverEmulated;
  const tTitle = `Throughput per I/O path${ratio !== null && ratio !== undefined ? ` (passthrough / emulated = ${ratio}×)` : ''}`;
  add('throughput', tTitle, {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'throughput (Gb/s)', data: c.modes.map((m) => m.throughputGbps), backgroundColor: color(0) },
        { label: 'offered load (Gb/s)', data: c.modes.map((m) => m.offeredGbps), backgroundColor: '#c7c7c7' },
      ],
    },
  }, { x: axis('I/O path'), y: axis('throughput (Gb/s)', { beginAtZero: true }) });

  const parts = cycleParts(c);
  add('cycles-per-packet', 'CPU cycles per packet by part', {
    type: 'bar',
    data: {
      labels,
      datasets: parts.map((p, i) => ({
        label: p, data: c.modes.map((m) => m.cyclesPerPacket.parts?.[p] ?? 0), backgroundColor: color(i), stack: 'cycles',
      })),
    },
  }, { x: axis('I/O path', { stacked: true }), y: axis('CPU cycles per packet (guest + host parts)', { stacked: true, beginAtZero: true }) });

  add('exits-interrupts', 'VM exits and interrupts per second', {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'VM exits / s', data: c.modes.map((m) => m.exitsPerSec), backgroundColor: color(3) },
        { label: 'interrupts / s', data: c.modes.map((m) => m.interruptsPerSec), backgroundColor: color(1) },
      ],
    },
  }, { x: axis('I/O path'), y: axis('events per second (1/s)', { beginAtZero: true }) });

  add('iotlb-hit-rate', 'IOTLB hit rate per I/O path', {
    type: 'bar',
    data: { labels, datasets: [{ label: 'IOTLB hit rate (%)', data: c.modes.map((m) => hitRatePct(m.iotlb)), backgroundColor: color(2) }] },
  }, { x: axis('I/O path'), y: axis('IOTLB hit rate (%)', { min: 0, max: 100 }) });

  add('latency', 'DMA latency per I/O path', {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'p50 (ns)', data: c.modes.map((m) => m.latencyNs?.p50 ?? null), backgroundColor: color(0) },
        { label: 'p99 (ns)', data: c.modes.map((m) => m.latencyNs?.p99 ?? null), backgroundColor: color(3) },
      ],
    },
  }, { x: axis('I/O path'), y: axis('latency (ns)', { beginAtZero: true }) });
  return out;
}

/** Hit rate in %, or no point when there were no lookups (IOMMU off): 0 % would be misleading. */
const hitRatePct = (t: { lookups?: number; hitRate?: number } | undefined): number | null => (t && (t.lookups ?? 0) > 0 ? pct(t.hitRate) : null);
const pct = (v: number | undefined): number | null => (typeof v === 'number' ? Math.round(v * 1e5) / 1e3 : null);

// ---------------------------------------------------------------- runs (single or sweep)

function runsCaption(runs: readonly RunResult[]): string {
  const workloads = [...new Set(runs.map((r) => r.workload.name))].join(', ');
  const platforms = [...new Set(runs.map((r) => String(configValue(r, 'platform'))))].join(', ');
  const versions = [...new Set(runs.map((r) => r.iommusim))].join(', ');
  return `workload: ${workloads} · platform: ${platforms} · iommusim ${versions}`;
}

const cellText = (v: Cell): string => (v === null ? '—' : String(v));

/**
 * x axis: the first swept config key; the other swept keys (if any) split the runs into series.
 * Without a sweep, each run is one point labelled by its index and workload.
 */
export function sweepAxes(runs: readonly RunResult[]): { xKey: string | null; xLabels: string[]; xOf: (r: RunResult, i: number) => string; series: Array<{ label: string; runs: number[] }> } {
  const swept = sweptKeys(runs);
  if (swept.length === 0) {
    const xOf = (r: RunResult, i: number): string => `${i}: ${r.workload.name}`;
    return { xKey: null, xLabels: runs.map(xOf), xOf, series: [{ label: 'runs', runs: runs.map((_, i) => i) }] };
  }
  const xKey = swept[0];
  const xOf = (r: RunResult): string => cellText(configValue(r, xKey));
  const xLabels: string[] = [];
  for (const r of runs) if (!xLabels.includes(xOf(r))) xLabels.push(xOf(r));
  const allNumeric = runs.every((r) => typeof configValue(r, xKey) === 'number');
  if (allNumeric) xLabels.sort((a, b) => Number(a) - Number(b));
  const rest = swept.slice(1);
  const groups = new Map<string, number[]>();
  runs.forEach((r, i) => {
    const label = rest.length ? rest.map((k) => `${k}=${cellText(configValue(r, k))}`).join(', ') : 'runs';
    groups.set(label, [...(groups.get(label) ?? []), i]);
  });
  return { xKey, xLabels, xOf, series: [...groups].map(([label, idx]) => ({ label, runs: idx })) };
}

function runsCharts(runs: readonly RunResult[]): ChartSpec[] {
  const caption = runsCaption(runs);
  const { xKey, xLabels, xOf, series } = sweepAxes(runs);
  const xTitle = xKey ? `${xKey}${/size|bytes/i.test(xKey) ? ' (bytes)' : ''}` : 'run';
  const out: ChartSpec[] = [];
  const vsX = (id: string, title: string, yTitle: string, seriesLabel: string, value: (r: RunResult) => number | null, yExtra: Partial<Scales[string]> = {}): void => {
    if (!runs.some((r) => value(r) !== null)) return;
    const datasets: ChartDataset<'line'>[] = series.map((s, si) => ({
      label: series.length > 1 ? `${seriesLabel}: ${s.label}` : seriesLabel,
      data: xLabels.map((x) => {
        const i = s.runs.find((ri) => xOf(runs[ri], ri) === x);
        return i === undefined ? null : value(runs[i]);
      }),
      borderColor: color(si), backgroundColor: color(si), pointRadius: 4, spanGaps: true,
    }));
    const t = xKey ? `${title} vs ${xKey}` : title;
    out.push({ id, title: t, caption, config: { type: 'line', data: { labels: xLabels, datasets }, options: options(t, caption, { x: axis(xTitle), y: axis(yTitle, yExtra) }) } });
  };
  vsX('throughput', 'Throughput', 'throughput (Gb/s)', 'throughput (Gb/s)', (r) => numOrNull(r.metrics.throughputGbps), { beginAtZero: true });
  vsX('iotlb-hit-rate', 'IOTLB hit rate', 'IOTLB hit rate (%)', 'IOTLB hit rate (%)', (r) => hitRatePct(r.metrics.iotlb), { min: 0, max: 100 });
  vsX('walk-reads', 'Page-walk memory reads per KiB of DMA', 'walk reads per KiB (reads/KiB)', 'walk reads / KiB', walkReadsPerKiB, { beginAtZero: true });

  const withCdf = runs.map((r, i) => ({ r, i })).filter(({ r }) => Array.isArray(r.metrics.latencyCdfNs) && r.metrics.latencyCdfNs.length > 0);
  if (withCdf.length > 0) {
    const datasets: ChartDataset<'line'>[] = withCdf.map(({ r, i }, k) => ({
      label: xKey ? `${xKey}=${xOf(r, i)}` : xOf(r, i),
      // a log axis cannot show ns <= 0; such points are left out (see README)
      data: cdfPoints(r),
      borderColor: color(k), backgroundColor: color(k), pointRadius: 0, borderWidth: 2, stepped: 'after' as const,
    }));
    const t = 'DMA latency CDF per run';
    out.push({ id: 'latency-cdf', title: t, caption, config: { type: 'line', data: { datasets }, options: options(t, caption, { x: axis('latency (ns, log scale)', { type: 'logarithmic' }), y: axis('requests completed (%)', { min: 0, max: 100 }) }) } });
  }
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

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function buildCharts(input: ReportInput): ChartSpec[] {
  return input.kind === 'compare' ? compareCharts(input.compare) : runsCharts(input.runs);
}
