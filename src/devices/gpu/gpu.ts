/**
 * The GPU as a trace producer: memory copies (from an nsys/CUPTI profile, or synthetic) → the
 * DMA-level trace that the GPU's copy engines and the CUDA/UVM drivers cause on the host side:
 * `map` / `dma` / `unmap` records with times, for the timed replay (src/sim/system.ts).
 *
 * Per copy (details, assumptions and sources: README.md next to this file; knobs: knobs.ts):
 *  - Host-to-device (HtoD, HtoA): the copy engine DMA-reads host memory (dir read); device-to-host
 *    (DtoH, AtoH): it DMA-writes host memory (dir write). Device-only copies (DtoD, AtoA, AtoD, DtoA),
 *    host-to-host and peer copies cause no host DMA: skipped and counted.
 *  - A copy is cut into chunks of gpu.chunkBytes and each chunk into DMA requests of gpu.dmaBytes.
 *  - Times: from a profile (end > start) request j of a copy is at start + bytesBefore(j) / rate, the
 *    copy's measured rate bytes / (end − start). Without a measured duration (synthetic sources) a
 *    small chunk scheduler times it: engines take their copies in order, a copy starts after the
 *    previous copy of its stream (CUDA stream order), and the host link (one per direction) grants
 *    whole chunks to the engine whose chunk is ready first (ties round-robin); a granted chunk's
 *    requests go back-to-back at gpu.copyGBps. Concurrent copies thus share the link chunk by chunk
 *    and the trace never offers more than gpu.copyGBps per direction.
 *  - Pinned host memory: buffers per (stream, direction), mapped once at first use (static) or per
 *    copy. Pageable: through a staging buffer mapped once; the CPU copies each chunk into (or out of)
 *    it at gpu.pageable.cpuCopyGBps (d2hCpuCopyGBps) and the DMAs address the staging buffer.
 *  - Managed (UVM) memory: the region is mapped once (the UVM driver maps CPU chunks for the GPU
 *    when it populates them); a host-to-device migration of a synthetic copy is a far fault:
 *    faults are serviced in batches of gpu.uvm.faultBatch, each batch gpu.uvm.faultUs, then the
 *    pages are DMA-read; a stream's next fault is raised once its previous one was replayed.
 *
 * Hot loops run over typed arrays; the records are collected in typed arrays, put in time order
 * by a stable natural merge sort (at equal times maps first, then DMAs, then unmaps, else
 * generation order) and appended through a TraceBuilder. Static mappings are not unmapped unless
 * opts.freeAtEnd: the buffers live until program exit, and the replay is open-loop.
 */
import { TraceBuilder, type TraceColumns, OP_DMA, OP_MAP, OP_UNMAP, DIR_READ, DIR_WRITE, DIR_RW } from '../../trace/columns.js';
import type { GpuCopyColumns } from '../../trace/importers/gpu.js';
import { inputError } from '../../util/errors.js';
import { growTyped } from '../../util/typed.js';
import { canonicalBdf } from '../../config/bdf.js';
import type { GpuConfig } from '../../config/knobs/gpu.js';

export type { GpuCopyColumns } from '../../trace/importers/gpu.js';
export { GPU_KNOBS, GPU_DEFAULTS, resolveGpuConfig, type GpuConfig } from '../../config/knobs/gpu.js';

// CUpti_ActivityMemcpyKind and CUpti_ActivityMemoryKind (cupti_activity.h), as numbers: the
// importer's const enums carry the same values.
export const COPY_UNKNOWN = 0, COPY_HTOD = 1, COPY_DTOH = 2, COPY_HTOA = 3, COPY_ATOH = 4, COPY_ATOA = 5,
  COPY_ATOD = 6, COPY_DTOA = 7, COPY_DTOD = 8, COPY_HTOH = 9, COPY_PTOP = 10;
export const MEM_UNKNOWN = 0, MEM_PAGEABLE = 1, MEM_PINNED = 2, MEM_DEVICE = 3, MEM_ARRAY = 4, MEM_MANAGED = 5,
  MEM_DEVICE_STATIC = 6, MEM_MANAGED_STATIC = 7;

/**
 * Copies as the importer produces them, plus an optional host-side placement that synthetic
 * sources fill: the byte offset of the copy's host memory inside its allocation (the managed region
 * for UVM copies; ignored for pinned and pageable copies). NaN or absent: the model places it.
 */
export interface GpuCopies extends GpuCopyColumns {
  hostOffset?: Float64Array;
}

export interface GpuTraceStats {
  /** Copies of the selected GPU (every kind). */
  copies: number;
  /** Bytes the GPU DMA-read from host memory. */
  h2dBytes: number;
  /** Bytes the GPU DMA-wrote to host memory. */
  d2hBytes: number;
  deviceOnlyCopies: number;
  hostOnlyCopies: number;
  peerCopies: number;
  /** copyKind UNKNOWN whose src/dst kinds did not tell the direction: skipped. */
  unknownDirectionCopies: number;
  /** Host side of unknown (or non-host) memory kind: treated as pinned. */
  unknownHostKindCopies: number;
  /** Copies of 0 bytes. */
  emptyCopies: number;
  /** Copies of other GPUs (deviceId ≠ the one selected): not in the trace. */
  otherDeviceCopies: number;
  dmaRequests: number;
  maps: number;
  unmaps: number;
  pageableCopies: number;
  /** Modelled CPU time of the pageable staging copies (ns). */
  stagingCpuNs: number;
  /** Host-to-device migrations of managed memory (far faults). */
  uvmFaults: number;
  /** Fault batches serviced (synthetic timing only). */
  uvmBatches: number;
  /** Highest host physical address used, exclusive (bytes). */
  hostPhysEnd: number;
}

export interface GpuTraceOptions {
  /** PCI address of the GPU, e.g. 0000:3b:00.0. */
  device: string;
  /** Which GPU of the profile (deviceId); needed when the copies come from more than one. */
  deviceId?: number;
  /** auto: measured rates where a copy has end > start; nominal: model every copy's timing. */
  timing?: 'auto' | 'nominal';
  /** Subtract the earliest start so the trace begins at 0 (default true; profile timestamps are ~1e15 ns and lose precision in picoseconds). */
  rebase?: boolean;
  /** Unmap the static mappings (pinned buffers, staging buffer, managed region) when the last copy completes (default false: freed at program exit, after the trace). */
  freeAtEnd?: boolean;
}

export interface GpuTraceResult {
  trace: TraceColumns;
  stats: GpuTraceStats;
  recommendedSettings: Array<[string, string | number | boolean]>;
  /** Subtracted from the copies' times (0 when rebase is false). */
  timeBaseNs: number;
  /** Per input copy (input order): modelled start and completion, ns on the trace's time base; NaN when it caused no host DMA. */
  copyStartNs: Float64Array;
  copyEndNs: Float64Array;
}

// ------------------------------------------------------------------------------------------------
// sizes (the configuration, GpuConfig, is resolved in src/config/knobs/gpu.ts)

const KiB4 = 4096, MiB2 = 2 * 1024 ** 2, GiB1 = 1024 ** 3;

// ------------------------------------------------------------------------------------------------
// helpers

/** Indices 0..n-1 ordered by key, stable (natural merge sort: near-linear on presorted runs). */
export function stableOrder(key: Float64Array, n: number): Uint32Array {
  let a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  if (n < 2) return a;
  let nr = 1;
  for (let i = 1; i < n; i++) if (key[i]! < key[i - 1]!) nr++;
  if (nr === 1) return a;
  let runs = new Int32Array(nr + 1);
  let r = 0;
  runs[r++] = 0;
  for (let i = 1; i < n; i++) if (key[i]! < key[i - 1]!) runs[r++] = i;
  runs[nr] = n;
  let b = new Uint32Array(n);
  while (nr > 1) {
    const next = new Int32Array(((nr + 1) >> 1) + 1);
    let w = 0;
    for (let q = 0; q < nr; q += 2) {
      const lo = runs[q]!, mid = runs[q + 1]!, hi = q + 2 <= nr ? runs[q + 2]! : mid;
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (key[a[j]!]! < key[a[i]!]!) b[k++] = a[j++]!;
        else b[k++] = a[i++]!;
      }
      while (i < mid) b[k++] = a[i++]!;
      while (j < hi) b[k++] = a[j++]!;
      next[w++] = lo;
    }
    next[w] = n;
    runs = next;
    nr = w;
    const t = a; a = b; b = t;
  }
  return a;
}

/** Record order: by time; at equal times maps, then DMAs, then unmaps; otherwise generation order. */
function timeOrder(rec: Records): Uint32Array {
  const n = rec.n;
  const ord = stableOrder(rec.t, n);
  const t = rec.t, op = rec.op;
  const rank = (r: number): number => (op[r] === OP_MAP ? 0 : op[r] === OP_UNMAP ? 2 : 1);
  let tmp: Uint32Array | null = null;
  for (let a = 0; a < n;) {
    let b = a + 1;
    const ta = t[ord[a]!]!;
    let mixed = false;
    const r0 = rank(ord[a]!);
    while (b < n && t[ord[b]!] === ta) { if (rank(ord[b]!) !== r0) mixed = true; b++; }
    if (mixed) {
      tmp ??= new Uint32Array(n);
      let w = a;
      for (let r = 0; r < 3; r++) for (let q = a; q < b; q++) if (rank(ord[q]!) === r) tmp[w++] = ord[q]!;
      ord.set(tmp.subarray(a, b), a);
    }
    a = b;
  }
  return ord;
}

/** Growable record columns (time, op, iova, size, dir, paddr), in generation order. */
class Records {
  n = 0;
  t: Float64Array;
  op: Uint8Array;
  iova: Float64Array;
  size: Float64Array;
  dir: Uint8Array;
  pa: Float64Array;
  constructor(cap: number) {
    this.t = new Float64Array(cap); this.op = new Uint8Array(cap); this.iova = new Float64Array(cap);
    this.size = new Float64Array(cap); this.dir = new Uint8Array(cap); this.pa = new Float64Array(cap);
  }
  private grow(): void {
    const cap = this.t.length * 2;
    const g = <T extends Float64Array | Uint8Array>(x: T, C: new (n: number) => T): T => { const y = new C(cap); y.set(x); return y; };
    this.t = g(this.t, Float64Array); this.op = g(this.op, Uint8Array); this.iova = g(this.iova, Float64Array);
    this.size = g(this.size, Float64Array); this.dir = g(this.dir, Uint8Array); this.pa = g(this.pa, Float64Array);
  }
  push(t: number, op: number, iova: number, size: number, dir: number, pa: number): void {
    if (this.n === this.t.length) this.grow();
    const i = this.n++;
    this.t[i] = t; this.op[i] = op; this.iova[i] = iova; this.size[i] = size; this.dir[i] = dir; this.pa[i] = pa;
  }
  /** DMA requests of `len` bytes from `iova`, the first at t, spaced at `rate` bytes/ns. */
  dmas(t: number, iova: number, len: number, rate: number, dir: number, reqBytes: number): number {
    let k = 0;
    for (let off = 0; off < len; off += reqBytes, k++) {
      const sz = len - off < reqBytes ? len - off : reqBytes;
      this.push(t + off / rate, OP_DMA, iova + off, sz, dir, 0);
    }
    return k;
  }
}

const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;

/** IOVA windows: static buffers below 256 GiB, per-copy mappings in [256 GiB, 512 GiB) (fits 3-level tables), reused round-robin. */
const IOVA_STATIC_BASE = 4 * GiB1;
const IOVA_DYNAMIC_BASE = 256 * GiB1;
const IOVA_DYNAMIC_END = 512 * GiB1;
const PADDR_BASE = GiB1;

/**
 * Host memory placement. IOVAs are aligned so that the offset between IOVA and physical address
 * lets the IOMMU model build leaves up to gpu.hostPageBytes but no larger: 4 KiB pages → paddr ≡ 4 KiB
 * (mod 2 MiB); 2 MiB → IOVA 1 GiB-aligned, paddr ≡ 2 MiB (mod 1 GiB); 1 GiB → both 1 GiB-aligned.
 */
class HostMemory {
  private staticNext = IOVA_STATIC_BASE;
  private dynNext = IOVA_DYNAMIC_BASE;
  private paNext = PADDR_BASE;
  private readonly iovaAlign: number;
  private readonly paAlign: number;
  private readonly paSkew: number;
  constructor(private readonly pageBytes: number) {
    this.iovaAlign = pageBytes === KiB4 ? MiB2 : GiB1;
    this.paAlign = pageBytes === KiB4 ? MiB2 : GiB1;
    this.paSkew = pageBytes === GiB1 ? 0 : pageBytes;
  }
  get physEnd(): number { return this.paNext; }
  staticIova(bytes: number, what: string): number {
    const a = alignUp(this.staticNext, this.iovaAlign);
    if (a + bytes > IOVA_DYNAMIC_BASE) {
      throw inputError(what, `static host buffers need more than ${(IOVA_DYNAMIC_BASE - IOVA_STATIC_BASE) / GiB1} GiB of IOVA`, 'use fewer or smaller buffers (gpu.pinnedBuffers), or gpu.pinnedMapping=per-copy');
    }
    this.staticNext = a + bytes;
    return a;
  }
  dynamicIova(bytes: number, what: string): number {
    let a = alignUp(this.dynNext, this.iovaAlign);
    if (a + bytes > IOVA_DYNAMIC_END) {
      a = IOVA_DYNAMIC_BASE;
      if (a + bytes > IOVA_DYNAMIC_END) throw inputError(what, `one copy of ${bytes} bytes exceeds the ${(IOVA_DYNAMIC_END - IOVA_DYNAMIC_BASE) / GiB1} GiB per-copy IOVA window`, 'split the copy');
    }
    this.dynNext = a + bytes;
    return a;
  }
  phys(bytes: number): number {
    const p = alignUp(this.paNext, this.paAlign) + this.paSkew;
    this.paNext = p + bytes;
    return p;
  }
}

// ------------------------------------------------------------------------------------------------
// the model

const K_OTHER_DEV = 0, K_EMPTY = 1, K_DEVONLY = 2, K_HOSTONLY = 3, K_PEER = 4, K_UNKNOWN = 5, K_H2D = 6, K_D2H = 7;
const H_PINNED = 0, H_PAGEABLE = 1, H_MANAGED = 2;

const isHostMem = (k: number): boolean => k === MEM_PAGEABLE || k === MEM_PINNED || k === MEM_MANAGED || k === MEM_MANAGED_STATIC;
const isDevMem = (k: number): boolean => k === MEM_DEVICE || k === MEM_ARRAY || k === MEM_DEVICE_STATIC;

function classify(ck: number, sk: number, dk: number): number {
  switch (ck) {
    case COPY_HTOD: case COPY_HTOA: return K_H2D;
    case COPY_DTOH: case COPY_ATOH: return K_D2H;
    case COPY_ATOA: case COPY_ATOD: case COPY_DTOA: case COPY_DTOD: return K_DEVONLY;
    case COPY_HTOH: return K_HOSTONLY;
    case COPY_PTOP: return K_PEER;
    default:
      if (isHostMem(sk) && isDevMem(dk)) return K_H2D;
      if (isDevMem(sk) && isHostMem(dk)) return K_D2H;
      if (isDevMem(sk) && isDevMem(dk)) return K_DEVONLY;
      if (isHostMem(sk) && isHostMem(dk)) return K_HOSTONLY;
      return K_UNKNOWN;
  }
}

function hostKind(k: number): number {
  if (k === MEM_PAGEABLE) return H_PAGEABLE;
  if (k === MEM_MANAGED || k === MEM_MANAGED_STATIC) return H_MANAGED;
  return H_PINNED;
}

function checkCopies(c: GpuCopies): void {
  const n = c.count;
  if (!Number.isInteger(n) || n < 0) throw inputError('copies.count', `${n} is not a record count`, 'give a whole number ≥ 0');
  const cols = ['startNs', 'endNs', 'bytes', 'copyKind', 'srcKind', 'dstKind', 'deviceId', 'streamId'] as const;
  for (const col of cols) {
    const a = c[col] as ArrayLike<number> | undefined;
    if (a === undefined || a.length < n) throw inputError(`copies.${col}`, `has ${a === undefined ? 'no column' : a.length + ' entries'} for ${n} copies`, 'give every column count entries');
  }
  if (c.hostOffset !== undefined && c.hostOffset.length < n) throw inputError('copies.hostOffset', `has ${c.hostOffset.length} entries for ${n} copies`, 'give count entries (NaN: let the model place it)');
  for (let i = 0; i < n; i++) {
    const s = c.startNs[i]!, e = c.endNs[i]!, b = c.bytes[i]!;
    if (!Number.isFinite(s) || !Number.isFinite(e)) throw inputError(`copies[${i}]`, `start ${s} / end ${e} is not a time`, 'give finite ns timestamps');
    if (e < s) throw inputError(`copies[${i}]`, `endNs ${e} is before startNs ${s}`, 'repair or remove the record');
    if (!Number.isInteger(b) || b < 0) throw inputError(`copies[${i}]`, `bytes ${b} is not a byte count`, 'give a whole number ≥ 0');
    const off = c.hostOffset?.[i];
    if (off !== undefined && !Number.isNaN(off) && (!Number.isFinite(off) || off < 0 || off % KiB4 !== 0)) {
      throw inputError(`copies[${i}]`, `hostOffset ${off} is not a 4 KiB-aligned offset`, 'give a multiple of 4096, or NaN');
    }
  }
}

/** Small growable index map (stream id → slot) with per-slot state in typed arrays. */
class StreamTable {
  private readonly ids = new Map<number, number>();
  free = new Float64Array(16).fill(-Infinity);
  engine = new Int32Array(16);
  get size(): number { return this.ids.size; }
  slot(id: number, engines: number): number {
    let s = this.ids.get(id);
    if (s === undefined) {
      s = this.ids.size;
      if (s === this.free.length) {
        this.free = growTyped(this.free, s * 2).fill(-Infinity, s);
        this.engine = growTyped(this.engine, s * 2);
      }
      this.engine[s] = s % engines;
      this.ids.set(id, s);
    }
    return s;
  }
}

/**
 * The DMA-level trace of `copies` on the GPU at `opts.device`. See the file header and README.md.
 */
export function gpuTrace(copies: GpuCopies, cfg: GpuConfig, opts: GpuTraceOptions): GpuTraceResult {
  return new GpuTraceBuilder(copies, cfg, opts).build();
}

const WHERE = 'gpuTrace';

/** The GPU whose copies are traced: `given`, else the one deviceId of all copies (more than one: an error). */
function selectDevice(deviceId: ArrayLike<number>, n: number, given: number | undefined): number | undefined {
  if (given !== undefined || n === 0) return given;
  const dev = deviceId[0]!;
  let other = -1;
  for (let i = 1; i < n; i++) if (deviceId[i] !== dev) { other = deviceId[i]!; break; }
  if (other >= 0) {
    throw inputError('gpuTrace opts.deviceId', `the copies come from more than one GPU (deviceId ${dev}, ${other}, …)`, 'pass opts.deviceId and call gpuTrace once per GPU with its PCI address');
  }
  return dev;
}

/**
 * gpuTrace for one trace: its state, and one method per phase, which build() runs once, in order:
 * classifyCopies, mapStaticRegions, allocPinnedBuffers, addressCopies (emits the measured copies),
 * scheduleNominal, serviceFaults, staticMappings, toResult. The constructor checks the input and
 * picks the GPU. Exported for tests of single phases; everything else calls gpuTrace.
 */
export class GpuTraceBuilder {
  readonly bdf: string;
  readonly n: number;
  readonly nominalOnly: boolean;
  /** gpu.copyEngines. */
  readonly E: number;
  /** The deviceId traced (undefined: no copies and none given). */
  readonly dev: number | undefined;
  readonly stats: GpuTraceStats = {
    copies: 0, h2dBytes: 0, d2hBytes: 0, deviceOnlyCopies: 0, hostOnlyCopies: 0, peerCopies: 0, unknownDirectionCopies: 0,
    unknownHostKindCopies: 0, emptyCopies: 0, otherDeviceCopies: 0, dmaRequests: 0, maps: 0, unmaps: 0, pageableCopies: 0,
    stagingCpuNs: 0, uvmFaults: 0, uvmBatches: 0, hostPhysEnd: 0,
  };
  readonly copyStartNs: Float64Array;
  readonly copyEndNs: Float64Array;
  /** Copy indices in start order (stable). */
  readonly order: Uint32Array;

  // set by classifyCopies
  /** Per copy: its class (K_*) and, for host DMA, its host memory (H_*). */
  readonly cls: Uint8Array;
  readonly hk: Uint8Array;
  /** Subtracted from the copies' times (the earliest start of the GPU's copies, or 0). */
  base = Infinity;
  pageableFirst = Infinity;
  managedFirst = Infinity;
  /** Managed region: end of the placed copies (hostOffset), and bytes of the copies the model places after them. */
  managedOffEnd = 0;
  managedBump = 0;
  /** Streams in order of first appearance (slot, engine, time its last copy completed). */
  readonly streams = new StreamTable();
  /** Pinned buffer key (stream slot × 2 + direction, 1: device-to-host) → largest copy. */
  keyMax = new Float64Array(32);

  // host memory and records
  readonly rec = new Records(1024);
  private readonly mem: HostMemory;
  readonly stagingBytes: number;
  /** Chunk slots of the staging buffer. */
  readonly slots: number;
  stagingIova = 0;
  managedIova = 0;
  managedBytes = 0;
  /** Next free offset in the managed region for copies without hostOffset. */
  managedNext = 0;

  // pinned buffers (sized by allocPinnedBuffers), per copy its buffer and per-copy mapping
  readonly staticPinned: boolean;
  bufIova = new Float64Array(0);
  bufPa = new Float64Array(0);
  bufSize = new Float64Array(0);
  bufFirst = new Float64Array(0);
  keyUses = new Float64Array(0);
  readonly copyBuf: Int32Array;
  readonly copyIova: Float64Array;

  // the copies left to the later phases, and the running end of the trace
  /** Synthetic UVM faults, in start order (one entry per fault, not per request). */
  readonly faults: number[] = [];
  /** Copies with modelled timing, in start order (the first nNom entries). */
  readonly nom: Int32Array;
  nNom = 0;
  traceEnd = -Infinity;
  /** Per engine: bytes and running time of a measured copy (emitMeasured). */
  private readonly engBytes: Float64Array;
  private readonly engT: Float64Array;
  private built = false;

  constructor(readonly copies: GpuCopies, readonly cfg: GpuConfig, readonly opts: GpuTraceOptions) {
    this.bdf = canonicalBdf(opts.device, 'gpuTrace opts.device');
    checkCopies(copies);
    const n = copies.count;
    this.n = n;
    this.nominalOnly = opts.timing === 'nominal';
    this.dev = selectDevice(copies.deviceId, n, opts.deviceId);
    this.E = cfg.copyEngines;
    this.copyStartNs = new Float64Array(n).fill(NaN);
    this.copyEndNs = new Float64Array(n).fill(NaN);
    this.order = stableOrder(copies.startNs as Float64Array, n);
    this.cls = new Uint8Array(n);
    this.hk = new Uint8Array(n);
    this.mem = new HostMemory(cfg.hostPageBytes);
    this.stagingBytes = cfg.pageable.stagingBytes;
    this.slots = this.stagingBytes / cfg.chunkBytes;
    this.staticPinned = cfg.pinnedMapping === 'static';
    this.copyBuf = new Int32Array(n).fill(-1);
    this.copyIova = new Float64Array(n);
    this.nom = new Int32Array(n);
    this.engBytes = new Float64Array(this.E);
    this.engT = new Float64Array(this.E);
  }

  /** All phases, in order (once). */
  build(): GpuTraceResult {
    if (this.built) throw new Error('GpuTraceBuilder.build: already built (one builder per trace)');
    this.built = true;
    this.classifyCopies();
    this.mapStaticRegions();
    this.allocPinnedBuffers();
    this.addressCopies();
    this.scheduleNominal();
    this.serviceFaults();
    this.staticMappings();
    return this.toResult();
  }

  /** ---- pre-pass: classify, time base, buffer sizes, managed region */
  classifyCopies(): void {
    const { startNs, endNs, bytes, copyKind, srcKind, dstKind, deviceId, streamId, hostOffset } = this.copies;
    const { order, cls, hk, stats, streams, E, dev, nominalOnly } = this;
    let base = Infinity, pageableFirst = Infinity, managedFirst = Infinity, managedOffEnd = 0, managedBump = 0;
    let keyMax = this.keyMax;
    for (let oi = 0; oi < this.n; oi++) {
      const i = order[oi]!;
      if (deviceId[i] !== dev) { cls[i] = K_OTHER_DEV; stats.otherDeviceCopies++; continue; }
      stats.copies++;
      if (startNs[i]! < base) base = startNs[i]!;
      let k = classify(copyKind[i]!, srcKind[i]!, dstKind[i]!);
      if ((k === K_H2D || k === K_D2H) && bytes[i] === 0) k = K_EMPTY;
      cls[i] = k;
      if (k === K_EMPTY) stats.emptyCopies++;
      else if (k === K_DEVONLY) stats.deviceOnlyCopies++;
      else if (k === K_HOSTONLY) stats.hostOnlyCopies++;
      else if (k === K_PEER) stats.peerCopies++;
      else if (k === K_UNKNOWN) stats.unknownDirectionCopies++;
      if (k !== K_H2D && k !== K_D2H) continue;
      const hostMem = k === K_H2D ? srcKind[i]! : dstKind[i]!;
      const h = hostKind(hostMem);
      hk[i] = h;
      if (h === H_PINNED && hostMem !== MEM_PINNED) stats.unknownHostKindCopies++;
      const s = startNs[i]!;
      // streams take engines in order of first appearance; synthetic far faults use no engine
      const fault = h === H_MANAGED && k === K_H2D && (nominalOnly || !(endNs[i]! > s));
      const sl = fault ? -1 : streams.slot(streamId[i]!, E);
      if (h === H_PAGEABLE) { stats.pageableCopies++; if (s < pageableFirst) pageableFirst = s; }
      else if (h === H_MANAGED) {
        if (s < managedFirst) managedFirst = s;
        const off = hostOffset?.[i];
        if (off !== undefined && !Number.isNaN(off)) managedOffEnd = Math.max(managedOffEnd, off + bytes[i]!);
        else managedBump += alignUp(bytes[i]!, KiB4);
      } else {
        const key = sl * 2 + (k === K_D2H ? 1 : 0);
        if (key >= keyMax.length) { const m = new Float64Array(Math.max(key + 1, keyMax.length * 2)); m.set(keyMax); keyMax = m; }
        if (bytes[i]! > keyMax[key]!) keyMax[key] = bytes[i]!;
      }
    }
    if (this.opts.rebase === false || base === Infinity) base = 0;
    this.base = base;
    this.pageableFirst = pageableFirst;
    this.managedFirst = managedFirst;
    this.managedOffEnd = managedOffEnd;
    this.managedBump = managedBump;
    this.keyMax = keyMax;
  }

  /** Static regions: the staging buffer and the managed region, mapped at their first use. */
  mapStaticRegions(): void {
    const { mem, rec, stats, base, stagingBytes } = this;
    const page = this.cfg.hostPageBytes;
    if (this.pageableFirst < Infinity) {
      this.stagingIova = mem.staticIova(stagingBytes, WHERE);
      const stagingPa = mem.phys(alignUp(stagingBytes, page));
      rec.push(this.pageableFirst - base, OP_MAP, this.stagingIova, stagingBytes, DIR_RW, stagingPa);
      stats.maps++;
    }
    if (this.managedFirst < Infinity) {
      this.managedNext = alignUp(this.managedOffEnd, KiB4);
      this.managedBytes = alignUp(this.managedNext + this.managedBump, page);
      this.managedIova = mem.staticIova(this.managedBytes, WHERE);
      const managedPa = mem.phys(this.managedBytes);
      rec.push(this.managedFirst - base, OP_MAP, this.managedIova, this.managedBytes, DIR_RW, managedPa);
      stats.maps++;
    }
  }

  /**
   * Pinned buffers: per key (stream, direction), a ring of gpu.pinnedBuffers buffers, placed at their
   * first use (addressCopies); static ones are mapped at their first use (emitted by staticMappings,
   * at the earliest use; maps sort first at a tie).
   */
  allocPinnedBuffers(): void {
    const nKeys = this.keyMax.length, m = nKeys * this.cfg.pinnedBuffers;
    this.bufIova = new Float64Array(m).fill(-1);
    this.bufPa = new Float64Array(m);
    this.bufSize = new Float64Array(m);
    this.bufFirst = new Float64Array(m).fill(Infinity);
    this.keyUses = new Float64Array(nKeys);
  }

  /** Host IOVA of managed copy i: its hostOffset, else the next free bytes of the region. */
  managedAddr(i: number): number {
    const off = this.copies.hostOffset?.[i];
    if (off !== undefined && !Number.isNaN(off)) return this.managedIova + off;
    const a = this.managedIova + this.managedNext;
    this.managedNext += alignUp(this.copies.bytes[i]!, KiB4);
    return a;
  }

  /** Map for a copy at time t (static: first use; per-copy: its own mapping); returns its host IOVA. */
  mapFor(i: number, t: number, dir: number): number {
    const b = this.copyBuf[i]!;
    if (b < 0) return 0;
    if (this.staticPinned) { if (t < this.bufFirst[b]!) this.bufFirst[b] = t; return this.bufIova[b]!; }
    const len = this.copies.bytes[i]!;
    const iova = this.mem.dynamicIova(alignUp(len, KiB4), `copies[${i}]`);
    this.copyIova[i] = iova;
    this.rec.push(t, OP_MAP, iova, len, dir, this.bufPa[b]!);
    this.stats.maps++;
    return iova;
  }

  unmapFor(i: number, t: number, dir: number): void {
    if (this.copyBuf[i]! < 0 || this.staticPinned) return;
    this.rec.push(t, OP_UNMAP, this.copyIova[i]!, this.copies.bytes[i]!, dir, 0);
    this.stats.unmaps++;
  }

  finish(i: number, start: number, end: number): void {
    this.copyStartNs[i] = start;
    this.copyEndNs[i] = end;
    if (end > this.traceEnd) this.traceEnd = end;
  }

  /** ---- pass over the copies in start order: addresses; measured copies are emitted here */
  addressCopies(): void {
    const { startNs, endNs, bytes, streamId } = this.copies;
    const { order, cls, hk, cfg, stats, streams, E, base, nominalOnly, mem, staticPinned } = this;
    const { keyMax, keyUses, bufIova, bufSize, bufPa, copyBuf, copyIova, faults, nom } = this;
    const B = cfg.pinnedBuffers, page = cfg.hostPageBytes;
    for (let oi = 0; oi < this.n; oi++) {
      const i = order[oi]!;
      const k = cls[i]!;
      if (k !== K_H2D && k !== K_D2H) continue;
      const h = hk[i]!;
      const len = bytes[i]!;
      const toDev = k === K_H2D;
      if (toDev) stats.h2dBytes += len; else stats.d2hBytes += len;
      const t0 = startNs[i]! - base;
      const dur = endNs[i]! - startNs[i]!;
      const measured = !nominalOnly && dur > 0;
      if (h === H_MANAGED && toDev) {
        stats.uvmFaults++;
        if (!measured) { faults.push(i); continue; }
      }
      const sl = streams.slot(streamId[i]!, E);
      if (h === H_PINNED) {
        const key = sl * 2 + (toDev ? 0 : 1);
        const b = key * B + (keyUses[key]! % B);
        keyUses[key] = keyUses[key]! + 1;
        if (bufIova[b]! < 0) {
          bufSize[b] = alignUp(keyMax[key]!, KiB4);
          bufPa[b] = mem.phys(alignUp(bufSize[b]!, page));
          bufIova[b] = staticPinned ? mem.staticIova(bufSize[b]!, WHERE) : 0;
        }
        copyBuf[i] = b;
      } else if (h === H_MANAGED) {
        copyIova[i] = this.managedAddr(i);
      }
      if (h === H_PAGEABLE) stats.stagingCpuNs += len / (toDev ? cfg.pageable.cpuCopyGBps : cfg.pageable.d2hCpuCopyGBps);
      if (!measured) { nom[this.nNom++] = i; continue; }
      this.emitMeasured(i, sl, t0, dur);
    }
  }

  /**
   * A copy with a measured duration (addressed; stream slot sl): request j at t0 + bytesBefore(j) / rate;
   * with engineAssignment=chunk the chunks are dealt over the engines, which run in parallel, the
   * busiest ending at the copy's end.
   */
  emitMeasured(i: number, sl: number, t0: number, dur: number): void {
    const { E, cfg, engBytes, engT, stats, rec } = this;
    const chunkBytes = cfg.chunkBytes, mode = cfg.engineAssignment;
    const h = this.hk[i]!, len = this.copies.bytes[i]!;
    const toDev = this.cls[i] === K_H2D;
    const dir = toDev ? DIR_READ : DIR_WRITE;
    const nChunks = Math.ceil(len / chunkBytes);
    const e0 = mode === 'direction' ? (toDev ? 0 : 1 % E) : this.streams.engine[sl]!;
    const nEng = mode === 'chunk' ? Math.min(E, nChunks) : 1;
    engBytes.fill(0);
    let most = 0;
    for (let c = 0; c < nChunks; c++) {
      const e = (e0 + (c % nEng)) % E;
      const v = engBytes[e]! + Math.min(chunkBytes, len - c * chunkBytes);
      engBytes[e] = v;
      if (v > most) most = v;
    }
    const rate = most / dur;
    for (let q = 0; q < nEng; q++) engT[(e0 + q) % E] = t0;
    const hostIova = h === H_PAGEABLE ? 0 : h === H_MANAGED ? this.copyIova[i]! : this.mapFor(i, t0, dir);
    for (let c = 0; c < nChunks; c++) {
      const e = (e0 + (c % nEng)) % E;
      const clen = Math.min(chunkBytes, len - c * chunkBytes);
      const iova = h === H_PAGEABLE ? this.stagingIova + (c % this.slots) * chunkBytes : hostIova + c * chunkBytes;
      stats.dmaRequests += rec.dmas(engT[e]!, iova, clen, rate, dir, cfg.dmaBytes);
      engT[e] = engT[e]! + clen / rate;
    }
    this.unmapFor(i, t0 + dur, dir);
    this.finish(i, t0, t0 + dur);
  }

  /**
   * ---- copies with modelled timing: engines take their copies in order (CUDA stream order kept);
   * the host link, one per direction, grants one chunk at a time to the engine whose chunk is ready
   * first (ties: round-robin), so concurrent copies share it chunk by chunk at gpu.copyGBps
   */
  scheduleNominal(): void {
    if (this.nNom > 0) new LinkScheduler(this).run();
  }

  /**
   * ---- UVM far faults with modelled timing: one fault servicer per GPU. Far faults of managed
   * memory (host-to-device migrations without measured times). The fault buffer is FIFO: the
   * servicer takes up to gpu.uvm.faultBatch raised faults, earliest raised first (ties: stream order
   * of first appearance), spends gpu.uvm.faultUs, then DMA-reads their pages back-to-back at
   * gpu.copyGBps; the batch is replayed when its last page has arrived, and each of its streams may
   * then raise its next fault.
   */
  serviceFaults(): void {
    const { faults, cfg, rec, stats, copyStartNs, copyEndNs, base } = this;
    const nf = faults.length;
    if (nf === 0) return;
    const { startNs, bytes } = this.copies;
    const q = new FaultQueues(faults, this.copies.streamId);
    const { head, next, stream } = q;
    const heap = new StreamHeap(q.streams);
    for (let s = 0; s < q.streams; s++) heap.push(s, startNs[faults[head[s]!]!]! - base);
    const batchMax = Math.min(cfg.uvm.faultBatch, nf);
    const taken = new Int32Array(batchMax);
    const rate = cfg.copyGBps;
    const serviceNs = cfg.uvm.faultUs * 1000;
    let free = -Infinity;
    let last = -Infinity;
    while (heap.size > 0) {
      const now = free > heap.topKey ? free : heap.topKey;
      let nt = 0;
      while (heap.size > 0 && nt < batchMax && heap.topKey <= now) {
        const s = heap.pop();
        taken[nt++] = head[s]!;
        head[s] = next[head[s]!]!;
      }
      let t = now + serviceNs;
      for (let j = 0; j < nt; j++) {
        const i = faults[taken[j]!]!;
        const len = bytes[i]!;
        stats.dmaRequests += rec.dmas(t, this.managedAddr(i), len, rate, DIR_READ, cfg.dmaBytes);
        copyStartNs[i] = now;
        t += len / rate;
      }
      // replay: the batch's streams may raise their next faults
      for (let j = 0; j < nt; j++) {
        copyEndNs[faults[taken[j]!]!] = t;
        const s = stream[taken[j]!]!;
        if (head[s] !== -1) { const st = startNs[faults[head[s]!]!]! - base; heap.push(s, st > t ? st : t); }
      }
      free = t;
      last = t;
      stats.uvmBatches++;
    }
    if (last > this.traceEnd) this.traceEnd = last;
  }

  /**
   * Static pinned buffers are mapped at their first use. ---- static mappings live until the buffers
   * are freed, at program exit: unmapped only on request (an open-loop replay that lags the modelled
   * times would otherwise see them vanish under queued DMAs)
   */
  staticMappings(): void {
    const { bufIova, bufFirst, bufSize, bufPa, rec, stats, staticPinned } = this;
    for (let b = 0; b < bufIova.length; b++) {
      if (staticPinned && bufFirst[b]! < Infinity) { rec.push(bufFirst[b]!, OP_MAP, bufIova[b]!, bufSize[b]!, DIR_RW, bufPa[b]!); stats.maps++; }
    }
    if (this.traceEnd === -Infinity) this.traceEnd = 0;
    const end = this.traceEnd;
    if (this.opts.freeAtEnd === true) {
      for (let b = 0; b < bufIova.length; b++) {
        if (staticPinned && bufFirst[b]! < Infinity) { rec.push(end, OP_UNMAP, bufIova[b]!, bufSize[b]!, DIR_RW, 0); stats.unmaps++; }
      }
      if (this.pageableFirst < Infinity) { rec.push(end, OP_UNMAP, this.stagingIova, this.stagingBytes, DIR_RW, 0); stats.unmaps++; }
      if (this.managedFirst < Infinity) { rec.push(end, OP_UNMAP, this.managedIova, this.managedBytes, DIR_RW, 0); stats.unmaps++; }
    }
    stats.hostPhysEnd = this.mem.physEnd;
  }

  /** ---- time order, then the trace */
  toResult(): GpuTraceResult {
    const { rec, stats, cfg, bdf } = this;
    const ord = timeOrder(rec);
    const tb = new TraceBuilder(Math.max(16, rec.n));
    const d = tb.deviceIndex(bdf);
    for (let q = 0; q < rec.n; q++) {
      const r = ord[q]!;
      tb.pushAddr(rec.t[r]!, d, -1, rec.op[r]!, rec.iova[r]!, rec.size[r]!, rec.dir[r]!, rec.pa[r]!);
    }
    const recommendedSettings: Array<[string, string | number | boolean]> = [
      [`devices.${bdf}.ats`, cfg.ats],
      ['pcie.lanes', 16],
    ];
    if (stats.hostPhysEnd > 4 * GiB1) recommendedSettings.push(['vm.ramBytes', alignUp(stats.hostPhysEnd, GiB1)]);
    return { trace: tb.finish(), stats, recommendedSettings, timeBaseNs: this.base, copyStartNs: this.copyStartNs, copyEndNs: this.copyEndNs };
  }
}

/**
 * The chunk scheduler of scheduleNominal, over the builder's copies with modelled timing (positions
 * j in b.nom): per engine a queue of its copies in start order, per stream its copies in start order;
 * each step grants one chunk (pick, then grant).
 */
class LinkScheduler {
  private readonly E: number;
  /** Engine queues: engine e's copies are queue[qHead[e] .. qEnd[e]). */
  private readonly qHead: Int32Array;
  private readonly qEnd: Int32Array;
  private readonly queue: Int32Array;
  /** Stream order: each stream's next copy to start (streamNext) and the one after each copy (nextInStream). */
  private readonly nextInStream: Int32Array;
  private readonly streamNext: Int32Array;
  private readonly slotOf: Int32Array;
  private readonly streamBusy: Uint8Array;
  /** Per engine: its current copy (-1: none), next chunk, start, host IOVA, when it can take a chunk, running completion. */
  private readonly engCur: Int32Array;
  private readonly engChunk: Int32Array;
  private readonly engStart: Float64Array;
  private readonly engIova: Float64Array;
  private readonly engFree: Float64Array;
  private readonly engDone: Float64Array;
  /** Host link per direction (0: host-to-device), staging slots and the CPU doing the staging copies: when free. */
  private readonly linkFree = new Float64Array(2).fill(-Infinity);
  private readonly slotFree: Float64Array;
  private cpuFree = -Infinity;
  /** The engine granted last (round-robin start). */
  private rr: number;
  /** pick's choice: grant time and, for a pageable host-to-device chunk, when its CPU copy starts. */
  private bestG = Infinity;
  private bestFill = 0;

  constructor(private readonly b: GpuTraceBuilder) {
    const { E, nNom, nom, cls, streams } = b;
    const streamId = b.copies.streamId, mode = b.cfg.engineAssignment;
    this.E = E;
    // engine queues (start order)
    const qCount = new Int32Array(E + 1);
    const engOf = new Int32Array(nNom);
    for (let j = 0; j < nNom; j++) {
      const i = nom[j]!;
      const toDev = cls[i] === K_H2D;
      const e = mode === 'direction' ? (toDev ? 0 : 1 % E) : streams.engine[streams.slot(streamId[i]!, E)]!;
      engOf[j] = e;
      qCount[e + 1]!++;
    }
    for (let e = 0; e < E; e++) qCount[e + 1] = qCount[e + 1]! + qCount[e]!;
    this.qHead = qCount.slice(0, E);
    this.qEnd = qCount.slice(1, E + 1);
    this.queue = new Int32Array(nNom);
    const fill = qCount.slice(0, E);
    for (let j = 0; j < nNom; j++) this.queue[fill[engOf[j]!]!++] = j;
    // stream order: each stream's copies in start order (next pointers over positions in `nom`)
    const S = streams.size;
    this.nextInStream = new Int32Array(nNom).fill(-1);
    this.streamNext = new Int32Array(S).fill(-1);
    const streamLast = new Int32Array(S).fill(-1);
    this.slotOf = new Int32Array(nNom);
    for (let j = 0; j < nNom; j++) {
      const sl = streams.slot(streamId[nom[j]!]!, E);
      this.slotOf[j] = sl;
      if (this.streamNext[sl] === -1) this.streamNext[sl] = j; else this.nextInStream[streamLast[sl]!] = j;
      streamLast[sl] = j;
    }
    this.streamBusy = new Uint8Array(S);
    this.engCur = new Int32Array(E).fill(-1);
    this.engChunk = new Int32Array(E);
    this.engStart = new Float64Array(E);
    this.engIova = new Float64Array(E);
    this.engFree = new Float64Array(E).fill(-Infinity);
    this.engDone = new Float64Array(E);
    this.slotFree = new Float64Array(b.slots).fill(-Infinity);
    this.rr = E - 1;
  }

  run(): void {
    for (;;) {
      const e = this.pick();
      if (e === -1) break;
      this.grant(e);
    }
    for (let e = 0; e < this.E; e++) {
      if (this.qHead[e] !== this.qEnd[e]) throw new Error(`gpuTrace: internal error, engine ${e} left ${this.qEnd[e]! - this.qHead[e]!} copies unscheduled`);
    }
  }

  /** The engine whose next chunk the link can grant first (ties: round-robin after rr), -1 if none can go; sets bestG, bestFill. */
  private pick(): number {
    const { b, E, engCur, engStart, engChunk, engFree, qHead, qEnd, queue, slotOf, streamNext, streamBusy, slotFree, linkFree } = this;
    const { startNs, bytes } = b.copies;
    const { nom, cls, hk, base, streams, slots } = b;
    const chunkBytes = b.cfg.chunkBytes;
    let best = -1, bestG = Infinity, bestFill = 0;
    for (let q = 1; q <= E; q++) {
      const e = (this.rr + q) % E;
      let j = engCur[e]!;
      let cs: number, c: number;
      if (j === -1) {
        if (qHead[e] === qEnd[e]) continue;
        j = queue[qHead[e]!]!;
        const sl = slotOf[j]!;
        if (streamNext[sl] !== j || streamBusy[sl] === 1) continue; // an earlier copy of its stream is not done
        cs = Math.max(startNs[nom[j]!]! - base, streams.free[sl]!);
        c = 0;
      } else {
        cs = engStart[e]!;
        c = engChunk[e]!;
      }
      const i = nom[j]!;
      const toDev = cls[i] === K_H2D;
      const clen = Math.min(chunkBytes, bytes[i]! - c * chunkBytes);
      let ready = Math.max(cs, engFree[e]!);
      let fillStart = 0;
      if (hk[i] === H_PAGEABLE) {
        const s = c % slots;
        if (toDev) {
          fillStart = Math.max(this.cpuFree, slotFree[s]!, cs);
          const filled = fillStart + clen / b.cfg.pageable.cpuCopyGBps;
          if (filled > ready) ready = filled;
        } else if (slotFree[s]! > ready) ready = slotFree[s]!;
      }
      const lf = linkFree[toDev ? 0 : 1]!;
      const g = ready > lf ? ready : lf;
      if (g < bestG) { best = e; bestG = g; bestFill = fillStart; }
    }
    this.bestG = bestG;
    this.bestFill = bestFill;
    return best;
  }

  /** Grants engine e's next chunk at bestG: starts its next copy if it has none, emits the chunk's DMAs, completes the copy after its last chunk. */
  private grant(e: number): void {
    const { b, engCur, engStart, engChunk, engFree, engDone, engIova, qHead, queue, slotOf, streamNext, nextInStream, streamBusy, slotFree, linkFree, bestG } = this;
    const { startNs, bytes } = b.copies;
    const { nom, cls, hk, base, streams, cfg } = b;
    const chunkBytes = cfg.chunkBytes, rate = cfg.copyGBps;
    this.rr = e;
    let j = engCur[e]!;
    const starting = j === -1;
    if (starting) {
      j = queue[qHead[e]!++]!;
      const sl = slotOf[j]!;
      engCur[e] = j;
      engChunk[e] = 0;
      streamBusy[sl] = 1;
      streamNext[sl] = nextInStream[j]!;
    }
    const i = nom[j]!;
    const toDev = cls[i] === K_H2D;
    const dir = toDev ? DIR_READ : DIR_WRITE;
    const c = engChunk[e]!;
    const clen = Math.min(chunkBytes, bytes[i]! - c * chunkBytes);
    if (starting) {
      const cs = Math.max(startNs[i]! - base, streams.free[slotOf[j]!]!);
      engStart[e] = cs;
      engDone[e] = cs;
      engIova[e] = hk[i] === H_PINNED ? b.mapFor(i, cs, dir) : hk[i] === H_MANAGED ? b.copyIova[i]! : 0;
    }
    let iova: number;
    const end = bestG + clen / rate;
    let done = end;
    if (hk[i] === H_PAGEABLE) {
      const s = c % b.slots;
      iova = b.stagingIova + s * chunkBytes;
      if (toDev) {
        this.cpuFree = this.bestFill + clen / cfg.pageable.cpuCopyGBps;
        slotFree[s] = end;
      } else {
        const cstart = this.cpuFree > end ? this.cpuFree : end;
        this.cpuFree = cstart + clen / cfg.pageable.d2hCpuCopyGBps;
        slotFree[s] = this.cpuFree;
        done = this.cpuFree;
      }
    } else {
      iova = engIova[e]! + c * chunkBytes;
    }
    b.stats.dmaRequests += b.rec.dmas(bestG, iova, clen, rate, dir, cfg.dmaBytes);
    linkFree[toDev ? 0 : 1] = end;
    engFree[e] = end;
    if (done > engDone[e]!) engDone[e] = done;
    engChunk[e] = c + 1;
    if ((c + 1) * chunkBytes >= bytes[i]!) {
      const completion = engDone[e]!;
      const sl = slotOf[j]!;
      streamBusy[sl] = 0;
      streams.free[sl] = completion;
      engCur[e] = -1;
      b.unmapFor(i, completion, dir);
      b.finish(i, engStart[e]!, completion);
    }
  }
}

/** Far faults per stream: FIFO queues in start order, linked through `next`; streams numbered in order of first appearance. */
class FaultQueues {
  readonly streams: number;
  /** Per fault (position in `faults`): its stream, and the next fault of that stream (-1: none). */
  readonly stream: Int32Array;
  readonly next: Int32Array;
  /** Per stream: its first fault not yet taken (-1: none). */
  readonly head: Int32Array;
  constructor(faults: readonly number[], streamId: ArrayLike<number>) {
    const nf = faults.length;
    const ids = new Map<number, number>();
    this.stream = new Int32Array(nf);
    for (let f = 0; f < nf; f++) {
      const id = streamId[faults[f]!]!;
      let s = ids.get(id);
      if (s === undefined) { s = ids.size; ids.set(id, s); }
      this.stream[f] = s;
    }
    const S = ids.size;
    this.streams = S;
    this.head = new Int32Array(S).fill(-1);
    const tail = new Int32Array(S).fill(-1);
    this.next = new Int32Array(nf).fill(-1);
    for (let f = 0; f < nf; f++) {
      const s = this.stream[f]!;
      if (this.head[s] === -1) this.head[s] = f; else this.next[tail[s]!] = f;
      tail[s] = f;
    }
  }
}

/** Min-heap of streams 0..capacity-1 (each at most once) by (key, stream). */
export class StreamHeap {
  private readonly heap: Int32Array;
  private readonly key: Float64Array;
  private n = 0;
  constructor(capacity: number) {
    this.heap = new Int32Array(capacity);
    this.key = new Float64Array(capacity);
  }
  get size(): number { return this.n; }
  /** The smallest key (only when size > 0). */
  get topKey(): number { return this.key[this.heap[0]!]!; }
  private less(a: number, b: number): boolean {
    const key = this.key;
    return key[a]! < key[b]! || (key[a] === key[b] && a < b);
  }
  push(s: number, key: number): void {
    const heap = this.heap;
    this.key[s] = key;
    let j = this.n++;
    while (j > 0) {
      const p = (j - 1) >> 1;
      if (!this.less(s, heap[p]!)) break;
      heap[j] = heap[p]!;
      j = p;
    }
    heap[j] = s;
  }
  /** Removes and returns the stream of the smallest (key, stream) (only when size > 0). */
  pop(): number {
    const heap = this.heap;
    const top = heap[0]!;
    const x = heap[--this.n]!;
    const hn = this.n;
    let j = 0;
    for (;;) {
      let m = 2 * j + 1;
      if (m >= hn) break;
      if (m + 1 < hn && this.less(heap[m + 1]!, heap[m]!)) m++;
      if (!this.less(heap[m]!, x)) break;
      heap[j] = heap[m]!;
      j = m;
    }
    if (hn > 0) heap[j] = x;
    return top;
  }
}

// ------------------------------------------------------------------------------------------------
// synthetic sources (all copies without measured durations: end = start)

function allocCopies(n: number, withOffset = false): GpuCopies {
  const c: GpuCopies = {
    count: n, startNs: new Float64Array(n), endNs: new Float64Array(n), bytes: new Float64Array(n),
    copyKind: new Uint8Array(n), srcKind: new Uint8Array(n), dstKind: new Uint8Array(n),
    deviceId: new Uint16Array(n), streamId: new Uint32Array(n),
  };
  if (withOffset) c.hostOffset = new Float64Array(n).fill(NaN);
  return c;
}

function wholeParam(where: string, name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(v) || v < min || v > max) throw inputError(`${where} ${name}=${v}`, `must be a whole number ${min}–${max}`, `give ${name} as an integer ≥ ${min}`);
  return v;
}

/** xorshift32 in [0, 1). */
function rng(seed: number): () => number {
  let x = (seed >>> 0) || 0x9e3779b9;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

export interface TrainingInputParams {
  batches: number;
  /** Bytes of each input batch (pinned host → device). */
  batchBytes: number;
  /** Bytes of each result (device → pinned host); 0: none. */
  resultBytes: number;
  /** Streams the batches are spread over round-robin (default 2). */
  streams?: number;
  seed?: number;
  /** Step period: batch b is issued at b × stepNs plus a seeded jitter below jitter × stepNs (default 0: all at 0, paced by stream order). */
  stepNs?: number;
  /** Jitter as a fraction of stepNs (default 0.1). */
  jitter?: number;
}

/** A training input pipeline: large pinned H2D batches, each followed on its stream by a small D2H result. */
export function trainingInput(p: TrainingInputParams): GpuCopies {
  const w = 'trainingInput';
  const batches = wholeParam(w, 'batches', p.batches, 1, 1 << 26);
  const batchBytes = wholeParam(w, 'batchBytes', p.batchBytes, 1);
  const resultBytes = wholeParam(w, 'resultBytes', p.resultBytes, 0);
  const streams = wholeParam(w, 'streams', p.streams ?? 2, 1, 1 << 16);
  const seed = wholeParam(w, 'seed', p.seed ?? 1, 0, 2 ** 32 - 1);
  const stepNs = p.stepNs ?? 0;
  const jitter = p.jitter ?? 0.1;
  if (!(stepNs >= 0) || !Number.isFinite(stepNs)) throw inputError(`${w} stepNs=${stepNs}`, 'must be a time ≥ 0 ns', 'give stepNs in ns, or 0');
  if (!(jitter >= 0 && jitter <= 1)) throw inputError(`${w} jitter=${jitter}`, 'must be a fraction 0–1', 'e.g. 0.1');
  const per = resultBytes > 0 ? 2 : 1;
  const c = allocCopies(batches * per);
  const rand = rng(seed);
  for (let b = 0, i = 0; b < batches; b++) {
    const t = stepNs > 0 ? b * stepNs + Math.floor(rand() * jitter * stepNs) : 0;
    const s = b % streams;
    c.startNs[i] = t; c.endNs[i] = t; c.bytes[i] = batchBytes;
    c.copyKind[i] = COPY_HTOD; c.srcKind[i] = MEM_PINNED; c.dstKind[i] = MEM_DEVICE; c.streamId[i] = s;
    i++;
    if (per === 2) {
      c.startNs[i] = t; c.endNs[i] = t; c.bytes[i] = resultBytes;
      c.copyKind[i] = COPY_DTOH; c.srcKind[i] = MEM_DEVICE; c.dstKind[i] = MEM_PINNED; c.streamId[i] = s;
      i++;
    }
  }
  return c;
}

export interface PageableCopiesParams {
  count: number;
  bytes: number;
  /** h2d (default) or d2h. */
  dir?: 'h2d' | 'd2h';
  /** Stream (default 0): copies of one stream run one after the other. */
  stream?: number;
  /** Host memory kind (default pageable; pinned gives the comparison case). */
  hostKind?: 'pageable' | 'pinned';
}

/** `count` copies of `bytes` between pageable (or pinned) host memory and the device, one after the other. */
export function pageableCopies(p: PageableCopiesParams): GpuCopies {
  const w = 'pageableCopies';
  const count = wholeParam(w, 'count', p.count, 1, 1 << 26);
  const bytes = wholeParam(w, 'bytes', p.bytes, 1);
  const stream = wholeParam(w, 'stream', p.stream ?? 0, 0, 2 ** 32 - 1);
  const dir = p.dir ?? 'h2d';
  if (dir !== 'h2d' && dir !== 'd2h') throw inputError(`${w} dir=${String(dir)}`, 'unknown direction', 'use h2d or d2h');
  const host = (p.hostKind ?? 'pageable') === 'pinned' ? MEM_PINNED : MEM_PAGEABLE;
  const c = allocCopies(count);
  for (let i = 0; i < count; i++) {
    c.bytes[i] = bytes;
    c.streamId[i] = stream;
    if (dir === 'h2d') { c.copyKind[i] = COPY_HTOD; c.srcKind[i] = host; c.dstKind[i] = MEM_DEVICE; }
    else { c.copyKind[i] = COPY_DTOH; c.srcKind[i] = MEM_DEVICE; c.dstKind[i] = host; }
  }
  return c;
}

export interface UvmFaultsParams {
  faults: number;
  /** Bytes migrated per fault: a power of two 4 KiB–2 MiB (4 KiB and 64 KiB are typical). */
  pageBytes: number;
  /** Faults outstanding at once (warps that fault concurrently): fault i is raised on stream i mod batch, after that stream's previous fault was replayed. */
  batch: number;
  seed: number;
  /** Managed allocation the gathers scatter over (default 1 GiB); pages are distinct. */
  regionBytes?: number;
}

/** Irregular gathers over managed memory: scattered pages, each a far fault that migrates it to the GPU. */
export function uvmFaults(p: UvmFaultsParams): GpuCopies {
  const w = 'uvmFaults';
  const faults = wholeParam(w, 'faults', p.faults, 1, 1 << 26);
  const pageBytes = wholeParam(w, 'pageBytes', p.pageBytes, KiB4, MiB2);
  if ((pageBytes & (pageBytes - 1)) !== 0) throw inputError(`${w} pageBytes=${pageBytes}`, 'must be a power of two', 'use 4096 or 65536');
  const batch = wholeParam(w, 'batch', p.batch, 1, 1 << 20);
  const seed = wholeParam(w, 'seed', p.seed, 0, 2 ** 32 - 1);
  const region = wholeParam(w, 'regionBytes', p.regionBytes ?? GiB1, pageBytes, 2 ** 40);
  if (region % pageBytes !== 0) throw inputError(`${w} regionBytes=${region}`, `must be a multiple of pageBytes (${pageBytes})`, 'round it');
  const pages = region / pageBytes;
  if (faults > pages) throw inputError(`${w} faults=${faults}`, `more than the ${pages} distinct pages of the region`, 'raise regionBytes or lower faults');
  const rand = rng(seed);
  const c = allocCopies(faults, true);
  const pick = new Float64Array(faults);
  if (faults * 2 <= pages) {
    const used = new Uint8Array(pages);
    for (let i = 0; i < faults; i++) {
      let pg: number;
      do pg = Math.floor(rand() * pages); while (used[pg] === 1);
      used[pg] = 1;
      pick[i] = pg;
    }
  } else {
    const all = new Uint32Array(pages);
    for (let i = 0; i < pages; i++) all[i] = i;
    for (let i = 0; i < faults; i++) {
      const j = i + Math.floor(rand() * (pages - i));
      const t = all[i]!; all[i] = all[j]!; all[j] = t;
      pick[i] = all[i]!;
    }
  }
  for (let i = 0; i < faults; i++) {
    c.bytes[i] = pageBytes;
    c.copyKind[i] = COPY_HTOD; c.srcKind[i] = MEM_MANAGED; c.dstKind[i] = MEM_DEVICE;
    c.streamId[i] = i % batch;
    c.hostOffset![i] = pick[i]! * pageBytes;
  }
  return c;
}
