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
import { parseFtrace, FtraceOp, FTRACE_DEV_UNKNOWN, DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_DIR_NA, type FtraceFile, type FtraceColumns } from './ftrace.js';
import { TraceBuilder, type RowSink, type TraceColumns, OP_DMA, OP_MAP, OP_UNMAP, OP_INV, DIR_READ, DIR_WRITE, DIR_RW, INV_IOTLB } from '../columns.js';
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

/** Rows whose op says the trace's mappings come from the dma:* events (they carry the device). */
export const isDmaMapOp = (op: number): boolean => op === FtraceOp.DmaMap || op === FtraceOp.DmaAlloc || op === FtraceOp.DmaMapSg;

/** What converting a row needs to know about the whole file: found before the first row. */
export interface FtracePlan {
  source: 'dma' | 'iommu';
  /** The device of events that carry none (iommu:* only): the `device` knob, or 0000:00:00.0. */
  fallback: string | null;
  /** Canonical PCI address of each parsed device name; null for a non-PCI device (skipped). */
  devBdf: Array<string | null>;
  /** The file's one PCI device name, when exactly one parses as one (qi_submit invalidations are charged to it). */
  only: string | null;
  ignored: string[];
}

/** The plan of a file with these device names, dma:* maps or not (a bad `device` knob is an InputError). */
export function ftracePlan(hasDma: boolean, devices: string[], opts: FtraceDmaOptions): FtracePlan {
  const source: 'dma' | 'iommu' = hasDma ? 'dma' : 'iommu';
  // device names → canonical BDFs (non-PCI devices are skipped)
  const devBdf: Array<string | null> = devices.map((d) => {
    try { return canonicalBdf(d, 'device'); } catch { return null; }
  });
  const ignored = devices.filter((_, i) => devBdf[i] === null);
  let fallback: string | null = null;
  if (source === 'iommu') {
    if (opts.device === undefined) fallback = '0000:00:00.0';
    else {
      try { fallback = canonicalBdf(opts.device, 'device'); } catch { throw new InputError(`ftrace device '${opts.device}': not a PCI address; write it as 0000:01:00.0`); }
    }
  }
  const pci = devBdf.filter((d) => d !== null);
  return { source, fallback, devBdf, only: pci.length === 1 ? pci[0] : null, ignored };
}

/** A record of the DMA trace, as the conversion makes it: time (ns after the first row), device, op, iova, size, dir, paddr. */
export type AddRecord = (t: number, dev: string, op: number, iova: number, size: number, dir: number, paddr: number) => void;

/** Nothing mappable: said rather than an empty trace replayed silently. */
export function noDmaEvents(fileName: string, skipped: Record<string, number>): InputError {
  return new InputError(`${fileName}: no DMA-API or IOMMU map/unmap events to replay (${Object.entries(skipped).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'} skipped); record with the dma and iommu event systems enabled (echo 1 > events/dma/enable; echo 1 > events/iommu/enable)`);
}

/**
 * The conversion, a row at a time: records go to `add` in the order they are made (not in time
 * order: a synthesized access is made when its mapping ends). The whole-file conversion sorts them
 * by time, stably; a streamed read (ftrace-stream.ts) puts them in the same order as they come.
 */
export class DmaRecords {
  readonly stats: FtraceDmaStats;
  /** The latest row time so far (ns after the first row): set before a row's records are made. */
  frontier = -Infinity;
  private readonly synth: boolean;
  private readonly delay: number;
  // open mappings by device + page-aligned iova (for the FROM_DEVICE write before unmap, and sg unmaps by paddr)
  private readonly open = new Map<string, { t: number; iova: number; size: number; dir: number; paddr: number }>();
  private readonly byPaddr = new Map<string, string>();

  constructor(private readonly plan: FtracePlan, opts: FtraceDmaOptions, private readonly t0: number, private readonly add: AddRecord) {
    this.synth = (opts.synthesize ?? 'touch') === 'touch';
    this.delay = opts.synthDelayNs ?? 1000;
    this.stats = { maps: 0, unmaps: 0, invalidations: 0, qiDescriptors: 0, synthesizedDmas: 0, faults: 0, syncs: 0, source: plan.source, ignoredDevices: plan.ignored };
  }

  private devOf(d: number): string | null {
    if (d === FTRACE_DEV_UNKNOWN) return this.plan.fallback;
    return this.plan.devBdf[d] ?? null;
  }

  private mapRange(t: number, dev: string, iova: number, size: number, paddr: number, dmaDir: number): void {
    const pageIova = Math.floor(iova / 4096) * 4096;
    const pagePa = Math.floor(paddr / 4096) * 4096;
    const bytes = Math.ceil((iova - pageIova + size) / 4096) * 4096;
    this.add(t, dev, OP_MAP, pageIova, bytes, dmaDir === 1 ? DIR_READ : dmaDir === 2 ? DIR_WRITE : DIR_RW, pagePa);
    this.stats.maps++;
    this.open.set(`${dev}@${pageIova}`, { t, iova, size, dir: dmaDir, paddr });
    this.byPaddr.set(`${dev}#${paddr}`, `${dev}@${pageIova}`);
  }

  /** The device's accesses to a mapping that lives from m.t to `end` (Infinity: never unmapped). */
  private touch(dev: string, m: { t: number; iova: number; size: number; dir: number }, end: number): void {
    if (!this.synth) return;
    const delay = this.delay;
    const short = end - m.t < 2 * delay;
    if (m.dir === DMA_TO_DEVICE || m.dir === DMA_BIDIRECTIONAL) { this.add(short ? (m.t + end) / 2 : m.t + delay, dev, OP_DMA, m.iova, m.size, DIR_READ, 0); this.stats.synthesizedDmas++; }
    if ((m.dir === DMA_FROM_DEVICE || m.dir === DMA_BIDIRECTIONAL) && end !== Infinity) { this.add(short ? (m.t + end) / 2 : end - delay, dev, OP_DMA, m.iova, m.size, DIR_WRITE, 0); this.stats.synthesizedDmas++; }
  }

  private unmapRange(t: number, dev: string, iova: number, size: number): void {
    const pageIova = Math.floor(iova / 4096) * 4096;
    const key = `${dev}@${pageIova}`;
    const m = this.open.get(key);
    if (m) {
      this.touch(dev, m, t);
      this.open.delete(key);
      if (!(size > 0)) size = m.size;
    }
    if (!(size > 0)) return;
    this.add(t, dev, OP_UNMAP, iova, size, 0, 0);
    this.stats.unmaps++;
  }

  /** Row i of `c`. */
  row(c: FtraceColumns, i: number): void {
    const t = c.tsNs[i] - this.t0;
    if (t > this.frontier) this.frontier = t;
    const op = c.op[i];
    const dev = this.devOf(c.dev[i]);
    const iova = c.iova[i], size = c.size[i], paddr = c.paddr[i];
    const source = this.plan.source, stats = this.stats;
    switch (op) {
      case FtraceOp.Map:
        if (source === 'iommu' && dev && size > 0) this.mapRange(t, dev, iova, size, paddr, 0);
        break;
      case FtraceOp.Unmap:
        if (source === 'iommu' && dev) this.unmapRange(t, dev, iova, size > 0 ? size : c.aux[i]);
        break;
      case FtraceOp.DmaMap:
      case FtraceOp.DmaAlloc:
      case FtraceOp.DmaMapSg:
        if (dev && size > 0 && !Number.isNaN(iova)) this.mapRange(t, dev, iova, size, Number.isNaN(paddr) ? iova : paddr, c.dir[i] === DMA_DIR_NA ? DMA_BIDIRECTIONAL : c.dir[i]);
        break;
      case FtraceOp.DmaUnmap:
      case FtraceOp.DmaFree:
        if (dev && !Number.isNaN(iova)) this.unmapRange(t, dev, iova, size);
        break;
      case FtraceOp.DmaUnmapSg: {
        if (!dev || Number.isNaN(paddr)) break;
        const key = this.byPaddr.get(`${dev}#${paddr}`);
        const m = key ? this.open.get(key) : undefined;
        if (m) { this.byPaddr.delete(`${dev}#${paddr}`); this.unmapRange(t, dev, m.iova, m.size); }
        break;
      }
      case FtraceOp.SyncForDevice:
        stats.syncs++;
        if (this.synth && dev && size > 0) { this.add(t, dev, OP_DMA, iova, size, DIR_READ, 0); stats.synthesizedDmas++; }
        break;
      case FtraceOp.SyncForCpu:
        stats.syncs++;
        if (this.synth && dev && size > 0) { this.add(Math.max(0, t - this.delay), dev, OP_DMA, iova, size, DIR_WRITE, 0); stats.synthesizedDmas++; }
        break;
      case FtraceOp.QiSubmit:
        // page-selective IOTLB invalidations carry iova and size, but name the IOMMU (dmar0), not a
        // device: replayed only when the trace has a single device to charge them to
        if (size > 0 && !Number.isNaN(iova)) {
          stats.qiDescriptors++;
          const only = dev ?? this.plan.fallback ?? this.plan.only;
          if (only) { this.add(t, only, OP_INV, iova, size, INV_IOTLB, 0); stats.invalidations++; }
        }
        break;
      case FtraceOp.Fault:
        stats.faults++;
        break;
    }
  }

  /** After the last row: the reads of mappings never unmapped. */
  end(): void {
    for (const [key, m] of this.open) this.touch(key.slice(0, key.indexOf('@')), m, Infinity);
  }
}

/** A record's row (addresses below 2^53 split into 32-bit halves), as both conversions push it. */
export function pushRecord(b: RowSink, t: number, dev: number, op: number, iova: number, size: number, dir: number, paddr: number): void {
  b.push(t, dev, -1, op, Math.floor(iova / HI), iova % HI >>> 0, size, dir, Math.floor(paddr / HI), paddr % HI >>> 0);
}

export function ftraceToTrace(f: FtraceFile, fileName: string, opts: FtraceDmaOptions = {}): { trace: TraceColumns; stats: FtraceDmaStats } {
  const c = f.columns;
  let hasDma = false;
  for (let i = 0; i < c.count && !hasDma; i++) hasDma = isDmaMapOp(c.op[i]);
  const plan = ftracePlan(hasDma, f.devices, opts);
  // Records: time, device name, op, iova, size, dir, paddr; collected then sorted by time (stable).
  const n0 = c.count * 3 + 16;
  const rt = new Float64Array(n0), ra = new Float64Array(n0), rs = new Float64Array(n0), rp = new Float64Array(n0);
  const rop = new Uint8Array(n0), rdir = new Uint8Array(n0);
  const rdev: string[] = new Array(n0);
  let n = 0;
  const conv = new DmaRecords(plan, opts, c.count > 0 ? c.tsNs[0] : 0, (t, dev, op, iova, size, dir, paddr) => {
    rt[n] = t; rdev[n] = dev; rop[n] = op; ra[n] = iova; rs[n] = size; rdir[n] = dir; rp[n] = paddr; n++;
  });
  for (let i = 0; i < c.count; i++) conv.row(c, i);
  conv.end();
  // stable sort by time
  const idx = new Int32Array(n);
  for (let k = 0; k < n; k++) idx[k] = k;
  const order = Array.from(idx).sort((a, b) => rt[a] - rt[b] || a - b);
  const b = new TraceBuilder(Math.max(16, n));
  for (const k of order) pushRecord(b, rt[k], b.deviceIndex(rdev[k], fileName), rop[k], ra[k], rs[k], rdir[k], rp[k]);
  if (n === 0) throw noDmaEvents(fileName, f.skipped);
  return { trace: b.finish(), stats: conv.stats };
}

export function loadFtraceTrace(text: string, fileName: string, opts: FtraceDmaOptions = {}): { trace: TraceColumns; stats: FtraceDmaStats; file: FtraceFile } {
  const file = parseFtrace(text, fileName);
  const { trace, stats } = ftraceToTrace(file, fileName, opts);
  return { trace, stats, file };
}
