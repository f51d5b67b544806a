/** Run one scenario: a trace and a config in, a versioned result out. */
import { Iommu } from '../iommu/iommu.js';
import type { Config } from '../config/config.js';
import { replayFunctional, attachConfigured, newDmaCounts } from './functional.js';
import { RESULT_SCHEMA, simVersion, type RunResult, type WorkloadSummary } from './result.js';
import { FUNCTIONAL_RESULT_STATS } from './stats.js';
import type { RunMetrics } from './stats.js';
import { type TraceColumns, type TraceChunks, OP_NAMES } from '../trace/columns.js';
import { IotraceReader, iotraceChunkBytes } from '../trace/iotrace.js';
import { KindCounts } from '../iommu/kinds.js';

export function summarizeTrace(t: TraceColumns, name: string, source: string, format: string): WorkloadSummary {
  const counts = new Float64Array(OP_NAMES.length);
  const op = t.op;
  for (let i = 0; i < t.count; i++) counts[op[i]]++;
  const ops: Record<string, number> = { dma: 0, map: 0, unmap: 0, inv: 0 };
  OP_NAMES.forEach((o, k) => { ops[o] += counts[k]; });
  return {
    name, source, format, records: t.count, devices: t.devices.slice(), ops,
    timeSpanNs: t.count > 0 ? t.timeNs[t.count - 1] - t.timeNs[0] : 0,
  };
}

export function runTrace(t: TraceColumns, cfg: Readonly<Config>, workload: WorkloadSummary): RunResult {
  const iommu = new Iommu(cfg);
  attachConfigured(iommu, cfg);
  const kinds = new KindCounts();
  const dma = replayFunctional(t, iommu, cfg, newDmaCounts(), true, kinds);
  return {
    schema: RESULT_SCHEMA,
    iommusim: simVersion(),
    config: cfg,
    workload,
    metrics: FUNCTIONAL_RESULT_STATS.build({ iommu, dma, kinds }) as RunMetrics,
  };
}

/**
 * Functional replay of an .iotrace file chunk by chunk: memory stays bounded by one chunk (two
 * reused buffers), whatever the file's size.
 */
export function runIotraceStreaming(path: string, cfg: Readonly<Config>, name: string, wrap: (src: TraceChunks, total: number) => TraceChunks = (s) => s): RunResult {
  const reader = IotraceReader.open(path);
  try {
    const bufs = [new ArrayBuffer(iotraceChunkBytes(reader.chunkRecords)), new ArrayBuffer(iotraceChunkBytes(reader.chunkRecords))];
    let c = 0;
    return runChunks(wrap({ devices: reader.devices, next: () => (c < reader.chunks ? reader.chunk(c, { buffer: bufs[c++ & 1] }) : null) }, reader.count), cfg, { name, source: path, format: 'iotrace' });
  } finally {
    reader.close();
  }
}

/** Functional replay of any streamed trace, counting the workload summary as the records go by (the result runTrace gives for them whole). */
export function runChunks(src: TraceChunks, cfg: Readonly<Config>, label: { name: string; source: string; format: string }): RunResult {
  const iommu = new Iommu(cfg);
  attachConfigured(iommu, cfg);
  const dma = newDmaCounts();
  const kinds = new KindCounts();
  const ops: Record<string, number> = { dma: 0, map: 0, unmap: 0, inv: 0 };
  let first = NaN, last = NaN, records = 0;
  for (let t = src.next(); t !== null; t = src.next()) {
    for (let i = 0; i < t.count; i++) ops[OP_NAMES[t.op[i]]]++;
    if (t.count > 0) { if (Number.isNaN(first)) first = t.timeNs[0]; last = t.timeNs[t.count - 1]; }
    records += t.count;
    replayFunctional(t, iommu, cfg, dma, false, kinds);
  }
  iommu.drain();
  return {
    schema: RESULT_SCHEMA, iommusim: simVersion(), config: cfg,
    workload: { ...label, records, devices: src.devices.slice(), ops, timeSpanNs: Number.isNaN(first) ? 0 : last - first },
    metrics: FUNCTIONAL_RESULT_STATS.build({ iommu, dma, kinds }) as RunMetrics,
  };
}
