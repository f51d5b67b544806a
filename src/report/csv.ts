/**
 * Flat tables of the figures (one row per run or per compare mode), shared by results.csv,
 * summary.md and the tables in report.html.
 */
import type { ReportInput, RunResult, CompareDoc } from './input.js';
import type { RunStatColumn } from '../run/stats.js';
import { valueAt } from '../util/stats.js';

export type Cell = string | number | boolean | null;
export interface Table {
  columns: string[];
  rows: Cell[][];
}

function flatten(o: unknown, prefix: string, out: Map<string, Cell>): void {
  if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, Array.isArray(o) ? JSON.stringify(o) : (o as Cell) ?? null);
  }
}

/** Config keys whose values differ between runs (the swept keys), in config order. */
export function sweptKeys(runs: readonly RunResult[]): string[] {
  if (runs.length < 2) return [];
  const flats = runs.map((r) => {
    const m = new Map<string, Cell>();
    flatten(r.config, '', m);
    return m;
  });
  const keys: string[] = [];
  for (const k of flats[0].keys()) {
    const first = JSON.stringify(flats[0].get(k));
    if (flats.some((f) => JSON.stringify(f.get(k)) !== first)) keys.push(k);
  }
  for (const f of flats.slice(1)) for (const k of f.keys()) if (!flats[0].has(k) && !keys.includes(k)) keys.push(k);
  return keys;
}

export function configValue(r: RunResult, key: string): Cell {
  let v: unknown = r.config;
  for (const p of key.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[p] : undefined;
  if (v === undefined) return null;
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : (v as Cell);
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const r3 = (v: number): number => Math.round(v * 1000) / 1000;

/** Memory reads by page walks per KiB moved by DMA. */
export function walkReadsPerKiB(r: RunResult): number | null {
  const bytes = num(r.metrics.dma?.bytes);
  const reads = num(r.metrics.walks?.memReads);
  if (bytes === null || reads === null || bytes <= 0) return null;
  return r3(reads / (bytes / 1024));
}

/** The I/O-path figures of a sweep's I/O-path jobs (the compare figures), as flat columns. */
const PATH_COLUMNS: Array<[string, (p: NonNullable<RunResult['path']>) => Cell]> = [
  ['path.mode', (p) => p.mode], ['path.hypervisor', (p) => p.hypervisor], ['path.bottleneck', (p) => p.bottleneck],
  ['path.throughputGbps', (p) => num(p.throughputGbps)], ['path.offeredGbps', (p) => num(p.offeredGbps)], ['path.deviceGbps', (p) => num(p.deviceGbps)],
  ['path.cpuBoundGbps', (p) => num(p.cpuBoundGbps)], ['path.packetsPerSec', (p) => num(p.packetsPerSec)],
  ['path.cyclesPerPacket.guest', (p) => num(p.cyclesPerPacket?.guest)], ['path.cyclesPerPacket.host', (p) => num(p.cyclesPerPacket?.host)],
  ['path.cyclesPerPacket.total', (p) => num(p.cyclesPerPacket?.total)], ['path.exitsPerSec', (p) => num(p.exitsPerSec)],
  ['path.interruptsPerSec', (p) => num(p.interruptsPerSec)], ['path.iotlb.hitRate', (p) => num(p.iotlb?.hitRate)],
  ['path.coreUtilisation.vcpu', (p) => num(p.coreUtilisation?.vcpu)], ['path.coreUtilisation.backend', (p) => num(p.coreUtilisation?.backend)],
];

type Column = [name: string, value: (r: RunResult) => Cell];
/** A declared statistic of a result (src/run/stats.ts, docs/metrics.md) as a column: named by its path (or `name`), read at it. */
const stat = (path: RunStatColumn, name: string = path): Column => [name, (r) => num(valueAt(r.metrics, path))];

/** A run's figures: declared statistics (a summary's fields among them), and walk reads per KiB the report derives. */
const RUN_COLUMNS: Column[] = [
  stat('dma.requests', 'requests'), stat('dma.bytes', 'bytes'), stat('simulatedTimeNs'), stat('throughputGbps'), stat('requestsPerSec'),
  stat('latencyNs.p50'), stat('latencyNs.p90'), stat('latencyNs.p99'), stat('latencyNs.max'),
  stat('iotlb.lookups'), stat('iotlb.hits'), stat('iotlb.misses'), stat('iotlb.hitRate'), stat('iotlb.mergedMisses'),
  stat('walks.count'), stat('walks.memReads'), stat('walks.readsPerWalk'), ['walks.readsPerKiB', walkReadsPerKiB],
  stat('invalidations.iotlb'), stat('invalidations.wait'), stat('faults.count', 'faults'),
  stat('pcie.upGbps'), stat('pcie.downGbps'), stat('pcie.upUtilisation'), stat('pcie.downUtilisation'),
  ['devices', (r) => (Array.isArray(r.metrics.devices) ? r.metrics.devices.map((d) => d.device).join(' ') : null)],
];

export function runsTable(runs: readonly RunResult[]): Table {
  const swept = sweptKeys(runs);
  const paths = runs.some((r) => r.path) ? PATH_COLUMNS : [];
  const columns = ['run', 'workload', 'platform', ...swept.map((k) => `config.${k}`), ...paths.map(([c]) => c), 'iommusim', ...RUN_COLUMNS.map(([c]) => c)];
  const rows = runs.map((r, i): Cell[] => [
    i, r.workload.name, configValue(r, 'platform'), ...swept.map((k) => configValue(r, k)), ...paths.map(([, f]) => (r.path ? f(r.path) : null)), r.iommusim,
    ...RUN_COLUMNS.map(([, f]) => f(r)),
  ]);
  return { columns, rows };
}

/** Every cycles-per-packet part that any mode has, in first-seen order. */
export function cycleParts(c: CompareDoc): string[] {
  const parts: string[] = [];
  for (const m of c.modes) for (const k of Object.keys(m.cyclesPerPacket.parts ?? {})) if (!parts.includes(k)) parts.push(k);
  return parts;
}

export function compareTable(c: CompareDoc): Table {
  const parts = cycleParts(c);
  const columns = [
    'workload', 'hypervisor', 'mode', 'refused', 'bottleneck', 'throughputGbps', 'offeredGbps', 'deviceGbps', 'cpuBoundGbps',
    'packetsPerSec', 'cyclesPerPacket.guest', 'cyclesPerPacket.host', 'cyclesPerPacket.total',
    ...parts.map((p) => `cycles.${p}`), 'exitsPerSec', 'interruptsPerSec',
    'iotlb.lookups', 'iotlb.hitRate', 'iotlb.misses', 'iotlb.walks', 'iotlb.readsPerWalk', 'iotlb.mergedMisses',
    'iommu.iotlbMissesPer4KiB', 'iommu.memReadsPer4KiB', 'iommu.walkStageBusy', 'iommu.orderingWaitNsPerPacket', 'iommu.writeBufferWaitNsPerPacket',
    'latencyNs.p50', 'latencyNs.p99', 'coreUtilisation.vcpu', 'coreUtilisation.backend', 'description',
  ];
  const rows = c.modes.map((m): Cell[] => [
    c.workload, c.hypervisor.name, m.mode, m.refused ?? '', m.bottleneck, num(m.throughputGbps), num(m.offeredGbps), num(m.deviceGbps), num(m.cpuBoundGbps),
    num(m.packetsPerSec), num(m.cyclesPerPacket.guest), num(m.cyclesPerPacket.host), num(m.cyclesPerPacket.total),
    ...parts.map((p) => num(m.cyclesPerPacket.parts?.[p]) ?? 0), num(m.exitsPerSec), num(m.interruptsPerSec),
    num(m.iotlb?.lookups), num(m.iotlb?.hitRate), num(m.iotlb?.misses), num(m.iotlb?.walks), num(m.iotlb?.readsPerWalk), num(m.iotlb?.mergedMisses),
    num(m.iommu?.iotlbMissesPer4KiB), num(m.iommu?.memReadsPer4KiB), num(m.iommu?.walkStageBusy), num(m.iommu?.orderingWaitNsPerPacket), num(m.iommu?.writeBufferWaitNsPerPacket),
    num(m.latencyNs?.p50), num(m.latencyNs?.p99), num(m.coreUtilisation?.vcpu), num(m.coreUtilisation?.backend), m.description ?? '',
  ]);
  return { columns, rows };
}

export function tableOf(input: ReportInput): Table {
  return input.kind === 'runs' ? runsTable(input.runs) : compareTable(input.compare);
}

/** RFC 4180 field: quoted when it holds a comma, quote, CR or LF. Missing values are empty. */
export function csvField(v: Cell): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(input: ReportInput): string {
  const t = tableOf(input);
  return [t.columns, ...t.rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}
