/**
 * An NVMe-like block device: a trace producer, as the NIC and GPU models are. The host keeps
 * `blk.queueDepth` commands outstanding (fio --iodepth); each command is a read (the device writes
 * host memory) or a write (the device reads it) of `workload.size` bytes. Per command the device
 * fetches the 64 B submission entry, the PRP list when the data spans more than two pages, moves
 * the data in 4 KiB pieces, and writes a 16 B completion entry; the host maps the data pages before
 * submitting and unmaps them when the completion is processed (`blk.buffers=per-io`), or uses
 * buffers mapped once (`static`: guest RAM; `pool`: a pool of bounce buffers).
 *
 * Times: command k is submitted when command k − queueDepth has completed (closed loop); the
 * controller takes it up no sooner than 1 / `blk.maxIops` after the command before it (its
 * command-rate ceiling); its data moves `blk.latencyUs` after that at the earliest, and the
 * device's data rate (`blk.deviceGBps`) is shared: commands' transfers follow one another. The trace is the device
 * side only; what the CPU spends per I/O is the CPU model's (src/virt: blk.ioCycles, the path's
 * map/unmap or bounce costs).
 */
import type { Config } from '../../config/config.js';
import { TraceBuilder, OP_DMA, OP_MAP, OP_UNMAP, DIR_READ, DIR_WRITE, DIR_RW, KIND_DATA, KIND_DESC, KIND_CQE, type TraceColumns } from '../../trace/columns.js';
import type { BlkBufferPolicy } from '../../config/knobs/blk.js';
import { inputError } from '../../util/errors.js';

export const BLK_DEVICE = '0000:05:00.0';

export interface BlkSpec {
  ios: number;
  blockBytes: number;
  op: 'read' | 'write';
  queueDepth: number;
  deviceGBps: number;
  latencyNs: number;
  /** The controller's command-rate ceiling (commands/s); 0 or absent: none. */
  maxIops?: number;
  completionsPerInterrupt: number;
  buffers: BlkBufferPolicy;
  /** Largest IOMMU leaf the buffers' memory allows (4 KiB unless huge-page backed). */
  hostPageBytes: number;
}

export interface BlkStats {
  ios: number;
  bytes: number;
  /** 4 KiB pages the data of all commands spans (a command maps its pages). */
  pages: number;
  interrupts: number;
  maps: number;
  unmaps: number;
  /** Completion time of the last command (ns). */
  spanNs: number;
}

const PAGE = 4096;
const MIB2 = 2 * 1024 * 1024;
const SQ_IOVA = 1 * 1024 ** 3; // queues and PRP lists: one 2 MiB region mapped at start
const STATIC_IOVA = 4 * 1024 ** 3; // static buffers and the bounce pool
const PER_IO_IOVA = 256 * 1024 ** 3; // per-I/O mappings, recycled
const PHYS_BASE = 1024 ** 3;

export function blkSpec(cfg: Readonly<Config>): BlkSpec {
  const b = cfg.blk;
  const w = cfg.workload;
  if (w.size > 64 * MIB2) throw inputError(`workload.size=${w.size}`, 'an NVMe command of more than 128 MiB', 'use a block size up to 128MiB (MDTS)');
  if (w.op === 'wrrd') throw inputError('workload.op=wrrd', 'an NVMe command reads or writes', 'use workload.op=read or write');
  // static buffers are guest RAM (backed by vm.s2PageBytes); per-I/O pages and the bounce pool are ordinary 4 KiB pages
  const host = b.buffers === 'static' ? cfg.vm.s2PageBytes : PAGE;
  return {
    ios: w.count, blockBytes: w.size, op: w.op === 'write' ? 'write' : 'read', queueDepth: b.queueDepth, deviceGBps: b.deviceGBps, latencyNs: b.latencyUs * 1000, maxIops: b.maxIops,
    completionsPerInterrupt: b.completionsPerInterrupt, buffers: b.buffers, hostPageBytes: host,
  };
}

/** The device trace and statistics of a block workload. */
export function blkTrace(s: BlkSpec): { trace: TraceColumns; stats: BlkStats } {
  const tb = new TraceBuilder(Math.max(1024, s.ios * 8));
  const dev = tb.deviceIndex(BLK_DEVICE);
  const pagesPer = Math.ceil(s.blockBytes / PAGE);
  const span = pagesPer * PAGE;
  const dataDir = s.op === 'read' ? DIR_WRITE : DIR_READ;
  // physical placement: with 4 KiB backing, physical ≡ 4 KiB (mod 2 MiB) against 2 MiB-aligned IOVAs so no superpage leaf can form (as the GPU model does)
  const physSkew = s.hostPageBytes >= MIB2 ? 0 : PAGE;
  // queues: SQ (64 B entries), CQ (16 B entries), PRP lists (one page per slot), mapped once
  const sqEntries = Math.max(2, s.queueDepth + 1);
  const cqBase = SQ_IOVA + 64 * sqEntries;
  const prpBase = SQ_IOVA + Math.ceil((cqBase - SQ_IOVA + 16 * sqEntries) / PAGE) * PAGE;
  const queueBytes = prpBase - SQ_IOVA + s.queueDepth * PAGE;
  tb.pushAddr(0, dev, -1, OP_MAP, SQ_IOVA, Math.ceil(queueBytes / PAGE) * PAGE, DIR_RW, PHYS_BASE + physSkew);
  // buffers
  const slots = s.queueDepth;
  const bufPhys = PHYS_BASE + 64 * MIB2 + physSkew; // fio's buffers (and, for pool, the bounce pool)
  // static buffers are part of guest RAM, mapped whole in its backing's pages (the region rounded up to them); the pool is its own 4 KiB pages
  const region = s.buffers === 'static' ? Math.ceil((slots * span) / s.hostPageBytes) * s.hostPageBytes : slots * span;
  if (s.buffers !== 'per-io') tb.pushAddr(0, dev, -1, OP_MAP, STATIC_IOVA, region, DIR_RW, bufPhys);
  const perIoSlots = 4 * slots; // IOVAs recycled: a freed range is reused later (the IOVA allocator's caches)
  const done = new Float64Array(s.ios);
  let deviceFree = 0;
  let interrupts = 0;
  let pending = 0;
  const xferNs = s.blockBytes / s.deviceGBps; // bytes / (GB/s) = ns
  const cmdIntervalNs = s.maxIops && s.maxIops > 0 ? 1e9 / s.maxIops : 0; // the controller's command-rate ceiling
  let taken = -Infinity; // when the controller took up the previous command
  for (let k = 0; k < s.ios; k++) {
    const submit = k < s.queueDepth ? 0 : done[k - s.queueDepth];
    const slot = k % slots;
    const iova = s.buffers === 'per-io' ? PER_IO_IOVA + (k % perIoSlots) * span : STATIC_IOVA + slot * span;
    const phys = bufPhys + slot * span;
    if (s.buffers === 'per-io') tb.pushAddr(submit, dev, -1, OP_MAP, iova, span, dataDir, phys);
    // the device fetches the submission entry (and the PRP list past two pages)
    tb.pushAddr(submit, dev, -1, OP_DMA, SQ_IOVA + 64 * (k % sqEntries), 64, DIR_READ, PHYS_BASE + physSkew + 64 * (k % sqEntries), KIND_DESC);
    if (pagesPer > 2) tb.pushAddr(submit, dev, -1, OP_DMA, prpBase + slot * PAGE, 8 * (pagesPer - 1), DIR_READ, PHYS_BASE + physSkew + (prpBase - SQ_IOVA) + slot * PAGE, KIND_DESC);
    taken = Math.max(submit, taken + cmdIntervalNs);
    const start = Math.max(taken + s.latencyNs, deviceFree);
    const end = start + xferNs;
    deviceFree = end;
    // data in 4 KiB pieces, spread over the transfer
    for (let p = 0; p < pagesPer; p++) {
      const bytes = Math.min(PAGE, s.blockBytes - p * PAGE);
      tb.pushAddr(start + (xferNs * p) / pagesPer, dev, -1, OP_DMA, iova + p * PAGE, bytes, dataDir, phys + p * PAGE, KIND_DATA);
    }
    tb.pushAddr(end, dev, -1, OP_DMA, cqBase + 16 * (k % sqEntries), 16, DIR_WRITE, PHYS_BASE + physSkew + (cqBase - SQ_IOVA) + 16 * (k % sqEntries), KIND_CQE);
    if (++pending >= s.completionsPerInterrupt || k === s.ios - 1) { interrupts++; pending = 0; }
    done[k] = end;
    if (s.buffers === 'per-io') tb.pushAddr(end + 1, dev, -1, OP_UNMAP, iova, span, dataDir, phys);
  }
  const trace = sortByTime(tb.finish());
  const maps = s.buffers === 'per-io' ? s.ios : 0;
  return { trace, stats: { ios: s.ios, bytes: s.ios * s.blockBytes, pages: s.ios * pagesPer, interrupts, maps, unmaps: maps, spanNs: s.ios ? done[s.ios - 1] : 0 } };
}

/** Records in time order (stable: at equal times in generation order). */
function sortByTime(t: TraceColumns): TraceColumns {
  const idx = Array.from({ length: t.count }, (_, i) => i);
  idx.sort((a, b) => t.timeNs[a] - t.timeNs[b] || a - b);
  let sorted = true;
  for (let i = 0; i < idx.length; i++) if (idx[i] !== i) { sorted = false; break; }
  if (sorted) return t;
  const tb = new TraceBuilder(t.count);
  for (const d of t.devices) tb.deviceIndex(d);
  for (const i of idx) tb.push(t.timeNs[i], t.device[i], t.pasid[i], t.op[i], t.iovaHi[i], t.iovaLo[i], t.size[i], t.dir[i], t.paddrHi[i], t.paddrLo[i], t.kind[i]);
  return tb.finish();
}
