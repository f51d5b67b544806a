/**
 * Kernel DMA-API / IOMMU events (parsed by ftrace.ts) → a DMA trace the simulator replays.
 *
 * Mapping state: the `dma:*` events carry the device and are used when present (`iommu:map` /
 * `iommu:unmap` describe the same mappings one level down, without a device, and are then
 * ignored); a trace with only `iommu:*` events maps into `device` (a knob: the events do not say
 * which device). dma_map_* / dma_alloc* → map of the pages the buffer touches (page-aligned IOVA and
 * physical address; TO_DEVICE maps read-only, FROM_DEVICE write-only, BIDIRECTIONAL read-write),
 * dma_unmap_* / dma_free* → unmap, dma_map_sg → one map per entry, dma_unmap_sg → unmaps of the
 * entries mapped by the matching dma_map_sg (by physical address), intel_iommu:qi_submit page-
 * selective IOTLB invalidations → inv. io_page_fault and sync events are counted.
 *
 * Device DMAs: kernel traces show mappings, not the device's accesses. With `synthesize: 'touch'`
 * (the default), each mapping is accessed once in its direction: a TO_DEVICE buffer is read by the
 * device `synthDelayNs` after it is mapped; a FROM_DEVICE buffer is written `synthDelayNs` before it
 * is unmapped (a mapping shorter than twice that is accessed at its midpoint); a BIDIRECTIONAL buffer
 * both; a mapping never unmapped is read (if the device reads it) and not written; a
 * dma_sync_single_for_device adds a read of that range at its time, dma_sync_single_for_cpu a write
 * just before its time. `synthesize: 'none'` replays the mapping traffic only.
 */
import { parseFtrace, FtraceOp, FTRACE_DEV_UNKNOWN, type FtraceFile } from './ftrace.js';
import { TraceBuilder, type TraceColumns, OP_DMA, OP_MAP, OP_UNMAP, OP_INV, DIR_READ, DIR_WRITE, DIR_RW, INV_IOTLB } from '../columns.js';
import { canonicalBdf } from '../../config/bdf.js';
import { InputError } from '../../util/errors.js';

export interface FtraceDmaOptions {
  /** Device of iommu:* events (they carry none). */
  device?: string;
  synthesize?: 'touch' | 'none';
  /** ns between a map and the device's read, or the device's write and the unmap. */
  synthDelayNs?: number;
}

export interface FtraceDmaStats {
  maps: number;
  unmaps: number;
  invalidations: number;
  /** qi_submit IOTLB descriptors seen (replayed only when a single device can be charged). */
  qiDescriptors: number;
  synthesizedDmas: number;
  faults: number;
  syncs: number;
  source: 'dma' | 'iommu';
  ignoredDevices: string[];
}

const HI = 4294967296;

export function ftraceToTrace(f: FtraceFile, fileName: string, opts: FtraceDmaOptions = {}): { trace: TraceColumns; stats: FtraceDmaStats } {
  const c = f.columns;
  const synth = (opts.synthesize ?? 'touch') === 'touch';
  const delay = opts.synthDelayNs ?? 1000;
  let hasDma = false;
  for (let i = 0; i < c.count; i++) {
    const op = c.op[i];
    if (op === FtraceOp.DmaMap || op === FtraceOp.DmaAlloc || op === FtraceOp.DmaMapSg) { hasDma = true; break; }
  }
  const source: 'dma' | 'iommu' = hasDma ? 'dma' : 'iommu';
  // device names → canonical BDFs (non-PCI devices are skipped)
  const devBdf: Array<string | null> = f.devices.map((d) => {
    try { return canonicalBdf(d, 'device'); } catch { return null; }
  });
  const ignored = f.devices.filter((_, i) => devBdf[i] === null);
  let fallback: string | null = null;
  if (source === 'iommu') {
    if (opts.device === undefined) fallback = '0000:00:00.0';
    else {
      try { fallback = canonicalBdf(opts.device, 'device'); } catch { throw new InputError(`ftrace device '${opts.device}': not a PCI address; write it as 0000:01:00.0`); }
    }
  }
  // Records: time, device name, op, iova, size, dir, paddr; collected then sorted by time (stable).
  const n0 = c.count * 3 + 16;
  const rt = new Float64Array(n0), ra = new Float64Array(n0), rs = new Float64Array(n0), rp = new Float64Array(n0);
  const rop = new Uint8Array(n0), rdir = new Uint8Array(n0);
  const rdev: string[] = new Array(n0);
  let n = 0;
  const add = (t: number, dev: string, op: number, iova: number, size: number, dir: number, paddr: number): void => {
    rt[n] = t; rdev[n] = dev; rop[n] = op; ra[n] = iova; rs[n] = size; rdir[n] = dir; rp[n] = paddr; n++;
  };
  const stats: FtraceDmaStats = { maps: 0, unmaps: 0, invalidations: 0, qiDescriptors: 0, synthesizedDmas: 0, faults: 0, syncs: 0, source, ignoredDevices: ignored };
  const t0 = c.count > 0 ? c.tsNs[0] : 0;
  // open mappings by device + page-aligned iova (for the FROM_DEVICE write before unmap, and sg unmaps by paddr)
  const open = new Map<string, { t: number; iova: number; size: number; dir: number; paddr: number }>();
  const byPaddr = new Map<string, string>();
  const devOf = (i: number): string | null => {
    const d = c.dev[i];
    if (d === FTRACE_DEV_UNKNOWN) return fallback;
    return devBdf[d] ?? null;
  };
  const mapDir = (dmaDir: number): number => (dmaDir === 1 ? DIR_READ : dmaDir === 2 ? DIR_WRITE : DIR_RW);
  const mapRange = (i: number, dev: string, iova: number, size: number, paddr: number, dmaDir: number): void => {
    const t = c.tsNs[i] - t0;
    const pageIova = Math.floor(iova / 4096) * 4096;
    const pagePa = Math.floor(paddr / 4096) * 4096;
    const bytes = Math.ceil((iova - pageIova + size) / 4096) * 4096;
    add(t, dev, OP_MAP, pageIova, bytes, mapDir(dmaDir), pagePa);
    stats.maps++;
    open.set(`${dev}@${pageIova}`, { t, iova, size, dir: dmaDir, paddr });
    byPaddr.set(`${dev}#${paddr}`, `${dev}@${pageIova}`);
  };
  /** The device's accesses to a mapping that lives from m.t to `end` (Infinity: never unmapped). */
  const touch = (dev: string, m: { t: number; iova: number; size: number; dir: number }, end: number): void => {
    if (!synth) return;
    const short = end - m.t < 2 * delay;
    if (m.dir === 1 || m.dir === 0) { add(short ? (m.t + end) / 2 : m.t + delay, dev, OP_DMA, m.iova, m.size, DIR_READ, 0); stats.synthesizedDmas++; }
    if ((m.dir === 2 || m.dir === 0) && end !== Infinity) { add(short ? (m.t + end) / 2 : end - delay, dev, OP_DMA, m.iova, m.size, DIR_WRITE, 0); stats.synthesizedDmas++; }
  };
  const unmapRange = (i: number, dev: string, iova: number, size: number): void => {
    const t = c.tsNs[i] - t0;
    const pageIova = Math.floor(iova / 4096) * 4096;
    const key = `${dev}@${pageIova}`;
    const m = open.get(key);
    if (m) {
      touch(dev, m, t);
      open.delete(key);
      if (!(size > 0)) size = m.size;
    }
    if (!(size > 0)) return;
    add(t, dev, OP_UNMAP, iova, size, 0, 0);
    stats.unmaps++;
  };

  for (let i = 0; i < c.count; i++) {
    const op = c.op[i];
    const dev = devOf(i);
    const iova = c.iova[i], size = c.size[i], paddr = c.paddr[i];
    switch (op) {
      case FtraceOp.Map:
        if (source === 'iommu' && dev && size > 0) mapRange(i, dev, iova, size, paddr, 0);
        break;
      case FtraceOp.Unmap:
        if (source === 'iommu' && dev) unmapRange(i, dev, iova, size > 0 ? size : c.aux[i]);
        break;
      case FtraceOp.DmaMap:
      case FtraceOp.DmaAlloc:
      case FtraceOp.DmaMapSg:
        if (dev && size > 0 && !Number.isNaN(iova)) mapRange(i, dev, iova, size, Number.isNaN(paddr) ? iova : paddr, c.dir[i] === 255 ? 0 : c.dir[i]);
        break;
      case FtraceOp.DmaUnmap:
      case FtraceOp.DmaFree:
        if (dev && !Number.isNaN(iova)) unmapRange(i, dev, iova, size);
        break;
      case FtraceOp.DmaUnmapSg: {
        if (!dev || Number.isNaN(paddr)) break;
        const key = byPaddr.get(`${dev}#${paddr}`);
        const m = key ? open.get(key) : undefined;
        if (m) { byPaddr.delete(`${dev}#${paddr}`); unmapRange(i, dev, m.iova, m.size); }
        break;
      }
      case FtraceOp.SyncForDevice:
        stats.syncs++;
        if (synth && dev && size > 0) { add(c.tsNs[i] - t0, dev, OP_DMA, iova, size, DIR_READ, 0); stats.synthesizedDmas++; }
        break;
      case FtraceOp.SyncForCpu:
        stats.syncs++;
        if (synth && dev && size > 0) { add(Math.max(0, c.tsNs[i] - t0 - delay), dev, OP_DMA, iova, size, DIR_WRITE, 0); stats.synthesizedDmas++; }
        break;
      case FtraceOp.QiSubmit:
        // page-selective IOTLB invalidations (iova and size decoded); others carry NaN
        // page-selective IOTLB invalidations carry iova and size, but name the IOMMU (dmar0), not a
        // device: replayed only when the trace has a single device to charge them to
        if (size > 0 && !Number.isNaN(iova)) {
          stats.qiDescriptors++;
          const only = dev ?? fallback ?? (devBdf.filter((d) => d !== null).length === 1 ? devBdf.find((d) => d !== null)! : null);
          if (only) { add(c.tsNs[i] - t0, only, OP_INV, iova, size, INV_IOTLB, 0); stats.invalidations++; }
        }
        break;
      case FtraceOp.Fault:
        stats.faults++;
        break;
    }
  }
  for (const [key, m] of open) touch(key.slice(0, key.indexOf('@')), m, Infinity); // never unmapped
  // stable sort by time
  const idx = new Int32Array(n);
  for (let k = 0; k < n; k++) idx[k] = k;
  const order = Array.from(idx).sort((a, b) => rt[a] - rt[b] || a - b);
  const b = new TraceBuilder(Math.max(16, n));
  for (const k of order) {
    const dev = b.deviceIndex(rdev[k], fileName);
    b.push(rt[k], dev, -1, rop[k], Math.floor(ra[k] / HI), ra[k] % HI >>> 0, rs[k], rdir[k], Math.floor(rp[k] / HI), rp[k] % HI >>> 0);
  }
  if (n === 0) {
    // nothing mappable: say so rather than replay an empty trace silently
    throw new InputError(`${fileName}: no DMA-API or IOMMU map/unmap events to replay (${Object.entries(f.skipped).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'} skipped); record with the dma and iommu event systems enabled (echo 1 > events/dma/enable; echo 1 > events/iommu/enable)`);
  }
  return { trace: b.finish(), stats };
}

export function loadFtraceTrace(text: string, fileName: string, opts: FtraceDmaOptions = {}): { trace: TraceColumns; stats: FtraceDmaStats; file: FtraceFile } {
  const file = parseFtrace(text, fileName);
  const { trace, stats } = ftraceToTrace(file, fileName, opts);
  return { trace, stats, file };
}
