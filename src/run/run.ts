/** Run one scenario: a trace and a config in, a versioned result out. */
import { Iommu } from '../iommu/iommu.js';
import type { Config } from '../config/config.js';
import { replayFunctional, attachConfigured, newDmaCounts } from './functional.js';
import { RESULT_SCHEMA, simVersion, type RunResult, type WorkloadSummary } from './result.js';
import { type TraceColumns, OP_NAMES } from '../trace/columns.js';

export function summarizeTrace(t: TraceColumns, name: string, source: string, format: string): WorkloadSummary {
  const ops: Record<string, number> = { dma: 0, map: 0, unmap: 0, inv: 0 };
  for (let i = 0; i < t.count; i++) ops[OP_NAMES[t.op[i]]]++;
  return {
    name, source, format, records: t.count, devices: t.devices.slice(), ops,
    timeSpanNs: t.count > 0 ? t.timeNs[t.count - 1] - t.timeNs[0] : 0,
  };
}

export function runTrace(t: TraceColumns, cfg: Readonly<Config>, workload: WorkloadSummary): RunResult {
  const iommu = new Iommu(cfg);
  attachConfigured(iommu, cfg);
  const dma = replayFunctional(t, iommu, cfg, newDmaCounts());
  return {
    schema: RESULT_SCHEMA,
    iommusim: simVersion(),
    config: cfg,
    workload,
    metrics: { ...iommu.metrics(), dma },
  };
}
