/** GPU generators: synthetic copies through the GPU device model (src/devices/gpu). */
import type { Config } from '../../config/config.js';
import type { TraceColumns } from '../../trace/columns.js';
import { gpuTrace, trainingInput, pageableCopies, uvmFaults, type GpuCopies } from '../../devices/gpu/gpu.js';

export const GPU_DEVICE = '0000:3b:00.0';

export function gpuCopies(cfg: Readonly<Config>): GpuCopies {
  const w = cfg.workload;
  switch (w.kind) {
    case 'gpu-pageable':
      return pageableCopies({ count: w.count, bytes: w.size, dir: w.dir === 'd2h' ? 'd2h' : 'h2d' });
    case 'gpu-uvm':
      return uvmFaults({ faults: w.count, pageBytes: w.pageBytes, batch: cfg.gpu.uvm.faultBatch, seed: w.seed });
    default:
      return trainingInput({ batches: w.count, batchBytes: w.size, resultBytes: w.resultBytes, streams: w.streams, seed: w.seed });
  }
}

export function gpuGenerate(cfg: Readonly<Config>): { trace: TraceColumns; copies: GpuCopies } {
  const copies = gpuCopies(cfg);
  // the resolved config's gpu section is the model's spec (checked once, by resolveConfig)
  return { trace: gpuTrace(copies, cfg.gpu, { device: GPU_DEVICE }).trace, copies };
}
