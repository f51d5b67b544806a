/**
 * pcie-bench's transfer-size curves (validate --out): the model's DMA bandwidth at every size
 * pcie-bench swept near the line and MPS boundaries (63/64/65 B, 127/128/129 B, 255/256/257 B, …)
 * and its latency of one DMA at a time — a read, and a write then a read of the same bytes — beside
 * pcie-bench's measured Broadwell curves (workloads/validation/data/pciebench-bdw-size-sweep.json).
 * The platform is pcie-bench's (broadwell-gen3x8), IOMMU off, an 8 KiB window warm in the LLC.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildConfig, type Config } from '../config/config.js';
import { runPciebench } from '../run/timed.js';
import { workloadsDir } from '../run/workloads.js';

export const SWEEP_SIZES = [16, 32, 63, 64, 65, 127, 128, 129, 192, 255, 256, 257, 320, 384, 511, 512, 513, 640, 768, 1024, 1280, 1536, 2048];
export const LATENCY_SIZES = [16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1520, 2048];

export interface SizeSeries<Op extends string> { label: string; op: Op; kind: 'model' | 'measured'; values: Array<number | null> }

export interface SizeSweep {
  sizes: number[];
  /** Gb/s per size: the model's and the measured curve, reads and writes. */
  bandwidth: Array<SizeSeries<'read' | 'write'>>;
  latencySizes: number[];
  /** Median ns of one DMA at a time per size: reads and write-then-reads. */
  latency: Array<SizeSeries<'read' | 'wrrd'>>;
  measuredSource: string;
}

interface MeasuredFile {
  source: string;
  bandwidth: { source: string; rows: Array<{ sizeBytes: number; readGbps: number; writeGbps: number }> };
  latency: { source: string; rows: Array<{ sizeBytes: number; readNs: number; wrrdNs: number }> };
}

const base = (op: string, size: number, count: number): Array<[string, string | number]> => [
  ['platform', 'broadwell-gen3x8'], ['workload.kind', 'pciebench'], ['iommu.mode', 'off'],
  ['workload.op', op], ['workload.size', size], ['workload.window', 8192], ['workload.cache', 'warm'], ['workload.count', count],
];

/** One point of the size curves: its config and which figure of the run it gives. */
export interface SizePoint { cfg: Readonly<Config>; figure: 'gbps' | 'p50' }

/** The points of both curves, in the order sizeSeries takes their values: bandwidth (reads, writes), then latency (reads, write-then-reads). */
export function sizePoints(count = 10_000, latencyCount = 1000, sizes = SWEEP_SIZES, latencySizes = LATENCY_SIZES): SizePoint[] {
  const points: SizePoint[] = [];
  for (const op of ['read', 'write']) for (const s of sizes) points.push({ cfg: buildConfig(base(op, s, count)), figure: 'gbps' });
  for (const op of ['read', 'wrrd']) {
    for (const s of latencySizes) points.push({ cfg: buildConfig([...base(op, s, latencyCount), ['workload.pattern', 'sequential'], ['device.dmaEngine.maxInFlight', 1]]), figure: 'p50' });
  }
  return points;
}

/** A point's figure: the run's Gb/s, or its median latency in ns. */
export function sizeValue(p: SizePoint): number {
  const m = runPciebench(p.cfg).metrics;
  return p.figure === 'gbps' ? m.throughputGbps! : m.latencyNs!.p50;
}

/** The curves from the points' values (`values[i]` of `sizePoints(...)[i]`), with pcie-bench's measured curves beside the model's. */
export function sizeSeries(values: number[], sizes = SWEEP_SIZES, latencySizes = LATENCY_SIZES): SizeSweep {
  const measured = JSON.parse(readFileSync(join(workloadsDir(), 'validation', 'data', 'pciebench-bdw-size-sweep.json'), 'utf8')) as MeasuredFile;
  let k = 0;
  const bandwidth: SizeSweep['bandwidth'] = [];
  for (const op of ['read', 'write'] as const) {
    bandwidth.push({ label: `DMA ${op}, iommusim`, op, kind: 'model', values: sizes.map(() => values[k++]) });
    bandwidth.push({
      label: `DMA ${op}, measured (pcie-bench)`, op, kind: 'measured',
      values: sizes.map((s) => { const r = measured.bandwidth.rows.find((x) => x.sizeBytes === s); return r ? (op === 'read' ? r.readGbps : r.writeGbps) : null; }),
    });
  }
  const latency: SizeSweep['latency'] = [];
  for (const op of ['read', 'wrrd'] as const) {
    const what = op === 'read' ? 'DMA read' : 'DMA write, then read';
    latency.push({ label: `${what}, iommusim`, op, kind: 'model', values: latencySizes.map(() => values[k++]) });
    latency.push({
      label: `${what}, measured (pcie-bench)`, op, kind: 'measured',
      values: latencySizes.map((s) => { const r = measured.latency.rows.find((x) => x.sizeBytes === s); return r ? (op === 'read' ? r.readNs : r.wrrdNs) : null; }),
    });
  }
  return { sizes, bandwidth, latencySizes, latency, measuredSource: `${measured.source}; ${measured.bandwidth.source}; ${measured.latency.source}` };
}

/** Run both curves in this thread: `count` DMAs a bandwidth point, `latencyCount` a latency point. */
export function sizeSweep(count = 10_000, latencyCount = 1000, sizes = SWEEP_SIZES, latencySizes = LATENCY_SIZES): SizeSweep {
  return sizeSeries(sizePoints(count, latencyCount, sizes, latencySizes).map(sizeValue), sizes, latencySizes);
}
