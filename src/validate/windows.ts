/**
 * The IOTLB's reach, as pcie-bench measures it: 64 B DMAs at random offsets in windows of 4 KiB to
 * 64 MiB, IOMMU off, on with 4 KiB IO pages, and on with superpages — the model's curves, and
 * pcie-bench's measured 4 KiB-page curves (Broadwell) beside them. With 4 KiB pages the rate
 * falls once the window passes the IOTLB's reach (entries × 4 KiB), to what the page-walk stage
 * sustains; superpages keep it flat.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildConfig } from '../config/config.js';
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

/** Run the sweep on the Broadwell platform (pcie-bench's), `count` DMAs per point. */
export function windowSweep(count = 40_000, windows = SWEEP_WINDOWS): WindowSweep {
  const measured = JSON.parse(readFileSync(join(workloadsDir(), 'validation', 'data', 'pciebench-bdw-iommu-4k-window-sweep.json'), 'utf8')) as MeasuredFile;
  const series: WindowSeries[] = [];
  let reach = 0;
  for (const op of ['read', 'write'] as const) {
    for (const m of MODES) {
      const mps = windows.map((w) => {
        const cfg = buildConfig([
          ['platform', 'broadwell-gen3x8'], ['workload.kind', 'pciebench'], ...m.settings,
          ['workload.op', op], ['workload.size', 64], ['workload.window', w], ['workload.cache', 'warm'], ['workload.count', count],
        ]);
        reach = cfg.iommu.iotlb.entries * 4096;
        return Math.round(runPciebench(cfg).metrics.requestsPerSec! / 1e4) / 100;
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
