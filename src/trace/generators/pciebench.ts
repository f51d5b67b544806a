/**
 * pciebench as a trace: one map of the host window (when the IOMMU translates) and `workload.count`
 * DMAs all at time 0 — the device engine then admits them as fast as it can, which is the
 * closed-loop pcie-bench method. Offsets as the PcieBenchSource (same seed → same offsets).
 */
import type { Config } from '../../config/config.js';
import { TraceBuilder, OP_DMA, OP_MAP, DIR_READ, DIR_WRITE, DIR_RW, type TraceColumns } from '../columns.js';
import { PcieBenchSource, PCIEBENCH_DEVICE, PCIEBENCH_IOVA, PCIEBENCH_PADDR } from '../../devices/pciebench.js';

export function pciebenchTrace(cfg: Readonly<Config>): TraceColumns {
  const w = cfg.workload;
  const b = new TraceBuilder(w.count + 1);
  const dev = b.deviceIndex(PCIEBENCH_DEVICE);
  const pages = Math.ceil(w.window / 4096);
  b.pushAddr(0, dev, -1, OP_MAP, PCIEBENCH_IOVA, pages * 4096, DIR_RW, PCIEBENCH_PADDR);
  const src = new PcieBenchSource(cfg);
  const g = new Float64Array(6);
  while (src.remaining() > 0) {
    src.next(g);
    b.pushAddr(0, dev, -1, OP_DMA, g[0] * 4096 + g[1], g[2], g[3] === 1 ? DIR_WRITE : DIR_READ, 0);
  }
  return b.finish();
}
