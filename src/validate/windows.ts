/**
 * The IOTLB's reach, as pcie-bench measures it: 64 B DMAs at random offsets in windows of 4 KiB to
 * 64 MiB, IOMMU off, on with 4 KiB IO pages, and on with superpages — the model's curves, and
 * pcie-bench's measured 4 KiB-page curves (Broadwell) beside them. With 4 KiB pages the rate
 * falls once the window passes the IOTLB's reach (entries × 4 KiB), to what the page-walk stage
 * sustains; superpages keep it flat.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildConfig, type Config } from '../config/config.js';
import { runPciebench } from '../run/timed.js';
import { workloadsDir } from '../run/workloads.js';

export const SWEEP_WINDOWS = [4096, 16384, 65536, 262144, 524288, 1048576, 2097152, 4194304, 8388608, 16777216, 33554432, 67108864];

export interface WindowSeries { label: string; op: 'read' | 'write'; mode: 'off' | '4k' | 'superpages' | 'measured-4k'; mps: Array<number | null> }

export interface WindowSweep { windows: number[]; iotlbReachBytes: number; series: WindowSeries[]; measuredSource: string }

interface MeasuredFile { source: string; rows: Array<{ windowBytes: number; readMps: number; writeMps: number }> }

const MODES = [
  { mode: 'off', label: 'IOMMU off', settings: [['iommu.mode', 'off']] },
  { mode: '4k', label: 'IOMMU, 4 KiB pages', settings: [['iommu.mode', 'strict'], ['iommu.superpages', false]] },
  { mode: 'superpages', label: 'IOMMU, superpages', settings: [['iommu.mode', 'strict'], ['iommu.superpages', true]] },
] as const;

/** One point of the sweep: an operation, an IOMMU setting and a window, with its pciebench config. */
export interface WindowPoint { op: 'read' | 'write'; mode: WindowSeries['mode']; window: number; cfg: Readonly<Config> }

/** The sweep's runs, in the order of its series (per operation, per IOMMU setting, per window): `count` DMAs each, on the Broadwell platform (pcie-bench's). */
export function windowPoints(count = 40_000, windows = SWEEP_WINDOWS): WindowPoint[] {
  const points: WindowPoint[] = [];
  for (const op of ['read', 'write'] as const) {
    for (const m of MODES) {
      for (const w of windows) {
        points.push({ op, mode: m.mode, window: w, cfg: buildConfig([
          ['platform', 'broadwell-gen3x8'], ['workload.kind', 'pciebench'], ...m.settings,
          ['workload.op', op], ['workload.size', 64], ['workload.window', w], ['workload.cache', 'warm'], ['workload.count', count],
        ]) });
      }
    }
  }
  return points;
}

/** One point's rate: million DMAs per second, to 2 decimals (a worker task of `validate --out`). */
export function windowRate(cfg: Readonly<Config>): number {
  return Math.round(runPciebench(cfg).metrics.requestsPerSec! / 1e4) / 100;
}

/** The sweep from its points' rates (`rates[i]` of `points[i]`), with pcie-bench's measured curves beside the model's. */
export function windowSeries(points: WindowPoint[], rates: number[], windows = SWEEP_WINDOWS): WindowSweep {
  const measured = JSON.parse(readFileSync(join(workloadsDir(), 'validation', 'data', 'pciebench-bdw-iommu-4k-window-sweep.json'), 'utf8')) as MeasuredFile;
  const series: WindowSeries[] = [];
  let reach = 0;
  let i = 0;
  for (const op of ['read', 'write'] as const) {
    for (const m of MODES) {
      const mps = windows.map(() => {
        reach = points[i].cfg.iommu.iotlb.entries * 4096;
        return rates[i++];
      });
      series.push({ label: `${op}, ${m.label}`, op, mode: m.mode, mps });
    }
    series.push({
      label: `${op}, IOMMU, 4 KiB pages — measured (pcie-bench)`, op, mode: 'measured-4k',
      mps: windows.map((w) => { const r = measured.rows.find((x) => x.windowBytes === w); return r ? (op === 'read' ? r.readMps : r.writeMps) : null; }),
    });
  }
  return { windows, iotlbReachBytes: reach, series, measuredSource: measured.source };
}

/** Run the sweep in this thread, `count` DMAs per point. */
export function windowSweep(count = 40_000, windows = SWEEP_WINDOWS): WindowSweep {
  const points = windowPoints(count, windows);
  return windowSeries(points, points.map((p) => windowRate(p.cfg)), windows);
}
