/**
 * pciebench as a trace: one map of the host window (when the IOMMU translates) and `workload.count`
 * DMAs all at time 0 — the device engine then admits them as fast as it can, which is the
 * closed-loop pcie-bench method. Offsets as the PcieBenchSource (same seed → same offsets). A
 * write-then-read (workload.op=wrrd) is two records, the write and then the read of its bytes: a
 * trace carries no dependency between records, so replayed, the read does not wait for the write
 * to be sent as the generator's closed loop makes it (the NFP's firmware-driven pcie-bench
 * device, its contexts and data mover, exists only in that loop: a replay uses device.dmaEngine.*).
 *
 * `pciebenchChunks` produces the same rows a chunk at a time into one reused set of columns, so a
 * trace of any length (`trace gen pciebench`) is written with bounded memory.
 */
import type { Config } from '../../config/config.js';
import { allocColumns, OP_DMA, OP_MAP, DIR_READ, DIR_WRITE, DIR_RW, type TraceColumns, copyColumns } from '../../trace/columns.js';
import { PcieBenchSource, PCIEBENCH_DEVICE, PCIEBENCH_IOVA, PCIEBENCH_PADDR, pciebenchMapBytes } from '../../devices/pciebench.js';

const HI = 4294967296;

/**
 * The rows of the pciebench trace, `chunkRecords` at a time: `sink` gets a view of reused columns
 * (valid until it returns) of 1 … chunkRecords rows; its device table is [PCIEBENCH_DEVICE].
 */
export function pciebenchChunks(cfg: Readonly<Config>, sink: (t: TraceColumns) => void, chunkRecords = 1 << 16): void {
  const w = cfg.workload;
  const t = allocColumns(Math.max(1, Math.min(chunkRecords, (w.op === 'wrrd' ? 2 : 1) * w.count + 1)), [PCIEBENCH_DEVICE]);
  const cap = t.timeNs.length;
  let n = 0;
  const push = (op: number, iova: number, size: number, dir: number, paddr: number): void => {
    t.timeNs[n] = 0;
    t.device[n] = 0;
    t.pasid[n] = -1;
    t.op[n] = op;
    t.iovaHi[n] = Math.floor(iova / HI);
    t.iovaLo[n] = iova >>> 0;
    t.size[n] = size;
    t.dir[n] = dir;
    t.paddrHi[n] = Math.floor(paddr / HI);
    t.paddrLo[n] = paddr >>> 0;
    if (++n === cap) { t.count = n; sink(t); n = 0; }
  };
  push(OP_MAP, PCIEBENCH_IOVA, pciebenchMapBytes(w.window), DIR_RW, PCIEBENCH_PADDR);
  const src = new PcieBenchSource(cfg);
  const g = new Float64Array(6);
  while (src.remaining() > 0) {
    src.next(g);
    push(OP_DMA, g[0] * 4096 + g[1], g[2], g[3] === 0 ? DIR_READ : DIR_WRITE, 0);
    if (g[3] === 2) push(OP_DMA, g[0] * 4096 + g[1], g[2], DIR_READ, 0);
  }
  if (n > 0) { t.count = n; sink(t); }
}

/** The whole pciebench trace in memory (workload.count + 1 rows; 2 × workload.count + 1 for wrrd). */
export function pciebenchTrace(cfg: Readonly<Config>): TraceColumns {
  const out = allocColumns((cfg.workload.op === 'wrrd' ? 2 : 1) * cfg.workload.count + 1, [PCIEBENCH_DEVICE]);
  pciebenchChunks(cfg, (t) => {
    const at = out.count;
    // copy the chunk's rows to rows [at, at + t.count) of out
    const dst = { ...out, timeNs: out.timeNs.subarray(at), device: out.device.subarray(at), pasid: out.pasid.subarray(at), op: out.op.subarray(at),
      iovaHi: out.iovaHi.subarray(at), iovaLo: out.iovaLo.subarray(at), size: out.size.subarray(at), dir: out.dir.subarray(at),
      paddrHi: out.paddrHi.subarray(at), paddrLo: out.paddrLo.subarray(at) };
    copyColumns(t, dst);
    out.count += t.count;
  });
  return out;
}
