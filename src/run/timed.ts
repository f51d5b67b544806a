/** Timed runs: a trace or a generator through the event-driven DMA path (src/sim/system.ts). */
import { TimedSystem } from '../sim/system.js';
import { Iommu, MODE_OFF } from '../iommu/iommu.js';
import { deviceSettings, type Config } from '../config/config.js';
import { sourceId } from '../config/bdf.js';
import { PERM_RW } from '../iommu/pagetable.js';
import { PcieBenchSource, PCIEBENCH_DEVICE, PCIEBENCH_IOVA, PCIEBENCH_PADDR, pciebenchMapBytes } from '../devices/pciebench.js';
import { attachConfigured, type DmaCounts } from './functional.js';
import { RESULT_SCHEMA, simVersion, type RunResult, type WorkloadSummary } from './result.js';
import { TIMED_RESULT_STATS, type TimedRunMetrics } from './stats.js';
import { type TraceColumns, type TraceChunks, OP_DMA, OP_MAP, OP_UNMAP, OP_INV, DIR_WRITE } from '../trace/columns.js';
import { IotraceReader, iotraceChunkBytes } from '../trace/iotrace.js';

function result(cfg: Readonly<Config>, workload: WorkloadSummary, sys: TimedSystem, dma: DmaCounts): RunResult {
  // every figure declared once (src/run/stats.ts), in the result's order
  const metrics = TIMED_RESULT_STATS.build({ iommu: sys.iommu, dma, kinds: sys.kinds, timing: sys.statView() }) as TimedRunMetrics;
  return { schema: RESULT_SCHEMA, iommusim: simVersion(), config: cfg, workload, metrics };
}

/**
 * Timed replay of an .iotrace file a chunk at a time (TimedSystem.runTraceChunks): memory bounded
 * by the records the devices still hold, not the trace's length; the same result as the whole file
 * loaded and replayed (`name` as run gives it: the file's base name).
 */
export function runTimedIotraceStreaming(path: string, cfg: Readonly<Config>, name: string, ringRecords?: number, wrap: ChunkWrap = (s) => s): RunResult {
  const reader = IotraceReader.open(path);
  try {
    // one buffer: the system copies each chunk's rows into its ring before asking for the next
    const buffer = new ArrayBuffer(iotraceChunkBytes(reader.chunkRecords));
    let c = 0;
    return runTimedChunks(wrap({ devices: reader.devices, next: () => (c < reader.chunks ? reader.chunk(c++, { buffer }) : null) }, reader.count), cfg, { name, source: path, format: 'iotrace' }, ringRecords);
  } finally {
    reader.close();
  }
}

/** What a caller puts around a file's stream (the CLI's progress line); `total` is the file's record count. */
export type ChunkWrap = (src: TraceChunks, total: number | undefined) => TraceChunks;

/**
 * Timed replay of any streamed trace (a file read a chunk at a time, a generator's stream): the
 * workload summary is counted as the records go by; the result is the one runTimedTrace gives for
 * the same records collected whole.
 */
export function runTimedChunks(src: TraceChunks, cfg: Readonly<Config>, label: { name: string; source: string; format: string }, ringRecords?: number): RunResult {
  const iommu = new Iommu(cfg);
  attachConfigured(iommu, cfg);
  const sys = new TimedSystem(cfg, src.devices, iommu);
  sys.runTraceChunks(src, ringRecords);
  const ic = sys.inputCounts;
  const records = sys.recordsLoaded;
  const workload: WorkloadSummary = {
    ...label, records, devices: src.devices.slice(),
    ops: { dma: ic.ops[OP_DMA], map: ic.ops[OP_MAP], unmap: ic.ops[OP_UNMAP], inv: ic.ops[OP_INV] },
    timeSpanNs: records > 0 ? ic.lastNs - ic.firstNs : 0,
  };
  const dma: DmaCounts = { requests: ic.reads + ic.writes, bytes: ic.bytes, reads: ic.reads, writes: ic.writes, pieces: sys.translations, dropped: sys.dropped };
  return result(cfg, workload, sys, dma);
}

/**
 * `work`, when given, receives the events the run handled: the simulator's own work (benches
 * report events per DMA), not a result, since it changes with every shortcut that saves events.
 */
export function runTimedTrace(t: TraceColumns, cfg: Readonly<Config>, workload: WorkloadSummary, work?: { events: number }): RunResult {
  const iommu = new Iommu(cfg);
  attachConfigured(iommu, cfg);
  const sys = new TimedSystem(cfg, t.devices, iommu);
  sys.runTrace(t);
  if (work) work.events = sys.q.handled;
  let reads = 0, writes = 0, bytes = 0;
  for (let i = 0; i < t.count; i++) if (t.op[i] === OP_DMA) { bytes += t.size[i]; if (t.dir[i] === DIR_WRITE) writes++; else reads++; }
  const dma: DmaCounts = { requests: reads + writes, bytes, reads, writes, pieces: sys.translations, dropped: sys.dropped };
  return result(cfg, workload, sys, dma);
}

/** The pciebench run's IOMMU and timed system, run; opts as in TimedSystem (tests compare them). */
export function pciebenchSystem(cfg: Readonly<Config>, eagerRc: boolean, recordLatencies = false, shortcutSlackPs = 0, earlyTrialReads?: number, groupWrites = true): TimedSystem {
  const iommu = new Iommu(cfg);
  const sid = sourceId(PCIEBENCH_DEVICE);
  if (iommu.mode !== MODE_OFF) {
    iommu.attach(sid, deviceSettings(cfg, PCIEBENCH_DEVICE), PCIEBENCH_DEVICE);
    const pages = pciebenchMapBytes(cfg.workload.window) / 4096;
    iommu.map(sid, -1, PCIEBENCH_IOVA / 4096, PCIEBENCH_PADDR / 4096, pages, PERM_RW);
  }
  const sys = new TimedSystem(cfg, [PCIEBENCH_DEVICE], iommu, { eagerRc, recordLatencies, shortcutSlackPs, earlyTrialReads, groupWrites });
  sys.runSource(new PcieBenchSource(cfg));
  return sys;
}

export function runPciebench(cfg: Readonly<Config>): RunResult {
  let sys = pciebenchSystem(cfg, true);
  // eager mode could not be exact (see TimedSystem.eager): run it again with events
  if (sys.eagerRerun) sys = pciebenchSystem(cfg, false);
  const iommu = sys.iommu;
  const w = cfg.workload;
  const workload: WorkloadSummary = {
    name: `pciebench ${w.op} ${w.size} B, ${w.window} B window, ${w.pattern}, ${w.cache}`,
    source: 'generator:pciebench', format: 'generator', records: w.count, devices: [PCIEBENCH_DEVICE],
    ops: { dma: w.op === 'wrrd' ? 2 * w.count : w.count, map: iommu.mode !== MODE_OFF ? 1 : 0, unmap: 0, inv: 0 }, timeSpanNs: 0,
  };
  // a write-then-read is two DMAs
  const reads = w.op === 'write' ? 0 : w.count, writes = w.op === 'read' ? 0 : w.count;
  const dma: DmaCounts = {
    requests: reads + writes, bytes: (reads + writes) * w.size, reads, writes,
    pieces: sys.translations, dropped: sys.dropped,
  };
  return result(cfg, workload, sys, dma);
}
