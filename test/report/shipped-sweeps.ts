/**
 * The shipped sweep specs (workloads/sweeps/io-paths.yaml: frame size × I/O path × hypervisor;
 * iotlb-size.yaml: IOTLB entries × superpages), run once per test file in this thread
 * (`workers: 0`, so no compiled worker is needed), for the report tests.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runSweep } from '../../src/run/sweep/sweep.js';
import { toReportInput, type ReportInput } from '../../src/report/report.js';
import { tempDir } from '../setup/tmp.js';

const root = resolve(import.meta.dirname, '../..');
const cache = new Map<string, Promise<ReportInput>>();

export function shippedSweep(name: 'io-paths' | 'iotlb-size'): Promise<ReportInput> {
  let p = cache.get(name);
  if (!p) {
    p = (async () => {
      const out = tempDir(`iommusim-${name}-`);
      await runSweep(join(root, 'workloads/sweeps', `${name}.yaml`), { out, workers: 0, quiet: true });
      return toReportInput(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')), `${name}/results.json`);
    })();
    cache.set(name, p);
  }
  return p;
}

export const IO_PATHS_CHARTS = ['throughput', 'throughput-vs-workload-size', 'cycles-per-packet', 'exits-interrupts', 'iotlb-hit-rate', 'latency-cdf', 'heatmap-1', 'heatmap-2'];
export const IOTLB_SIZE_CHARTS = ['throughput', 'iotlb-hit-rate', 'walk-reads', 'latency-cdf', 'heatmap'];
