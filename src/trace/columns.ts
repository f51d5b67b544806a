/**
 * The in-memory trace: one typed array per column, one row per record. Every importer and
 * generator produces this; the simulator reads only this. 64-bit addresses are kept exact as two
 * 32-bit halves (hi, lo).
 */
import { InputError } from '../util/errors.js';
import { allocColumnArrays, columnNames, type ColumnArrays } from '../util/typed.js';

export const OP_DMA = 0;
export const OP_MAP = 1;
export const OP_UNMAP = 2;
export const OP_INV = 3;
export const OP_NAMES = ['dma', 'map', 'unmap', 'inv'] as const;

/** dir: 0 none, 1 read (device reads memory), 2 write (device writes memory), 3 both (map only). */
export const DIR_NONE = 0;
export const DIR_READ = 1;
export const DIR_WRITE = 2;
export const DIR_RW = 3;

/** inv scope, kept in the `dir` column of an `inv` row. */
export const INV_IOTLB = 0;
export const INV_CONTEXT = 1;
export const INV_DEVTLB = 2;
export const INV_PWC = 3;
export const INV_GLOBAL = 4;
export const INV_SCOPES = ['iotlb', 'context', 'devtlb', 'pwc', 'global'] as const;

/** Sentinel `size` of an inv row without an address (domain-wide). */
export const SIZE_ALL = -1;

/**
 * `kind` column: what a row's DMA is for (src/iommu/kinds.ts): 0 data, 1 desc (descriptor / WQE
 * fetch), 2 cqe (completion / write-back write), 3 doorbell (doorbell-record read), 4 ack (the data
 * of an ACK frame a TCP receiver sends). 0 wherever a source does not say.
 */
/** Kinds of DMA (the `kind` column, by value): packet data, descriptor fetches, completion writes, doorbell-record reads, the ACKs a TCP receiver sends. */
export const DMA_KINDS = ['data', 'desc', 'cqe', 'doorbell', 'ack'] as const;
export type DmaKindName = (typeof DMA_KINDS)[number];
export const KIND_DATA = 0;
export const KIND_DESC = 1;
export const KIND_CQE = 2;
export const KIND_DOORBELL = 3;
export const KIND_ACK = 4;

/** The trace's columns, in order: one list declares TraceColumns, allocates them and names them for copies and trims. */
const TRACE_COLUMNS = {
  timeNs: Float64Array,
  /** Index into `devices`. */
  device: Uint16Array,
  /** -1: no PASID. */
  pasid: Int32Array,
  op: Uint8Array,
  iovaHi: Uint32Array,
  iovaLo: Uint32Array,
  /** Bytes; SIZE_ALL on a domain-wide inv. */
  size: Float64Array,
  dir: Uint8Array,
  paddrHi: Uint32Array,
  paddrLo: Uint32Array,
  /** DMA kind (DMA_KINDS index); 0 (data) unless the source knows better. */
  kind: Uint8Array,
} as const;
const COLS = columnNames(TRACE_COLUMNS);

/** A trace: one typed array a column (TRACE_COLUMNS), `count` rows, and the device table. */
export interface TraceColumns extends ColumnArrays<typeof TRACE_COLUMNS> {
  count: number;
  /** Canonical PCI addresses (0000:01:00.0); `*` for a global row. */
  devices: string[];
}

export function allocColumns(capacity: number, devices: string[] = []): TraceColumns {
  return Object.assign(allocColumnArrays(TRACE_COLUMNS, capacity, { count: 0 }), { devices });
}

/**
 * Distinct devices one trace can name. The device column is 16-bit (indices 0 … 65534; a global
 * `inv` row's `*` takes one too), and the model has one IOMMU, whose requester IDs (bus, device,
 * function) span one PCI segment: 65,536 functions. More is refused with an InputError.
 */
export const MAX_TRACE_DEVICES = 65535;

/** The error for one device too many; `where` is `file:line` (or the file) naming the first one over. */
export function tooManyDevices(where: string, bdf: string): InputError {
  return new InputError(
    `${where}: device ${bdf} is the ${(MAX_TRACE_DEVICES + 1).toLocaleString('en-US')}th distinct device of the trace; a trace holds at most ` +
    `${MAX_TRACE_DEVICES.toLocaleString('en-US')} (one 16-bit device column, the requester IDs of one PCI segment behind one IOMMU); ` +
    'split the trace so that each part names fewer devices (e.g. one file per PCI segment) and run the parts one by one',
  );
}

/** Copy the first `t.count` rows of every column of `t` into `dst` (which holds at least as many rows). */
export function copyColumns(t: TraceColumns, dst: TraceColumns): void {
  for (const c of COLS) (dst[c] as Float64Array).set((t[c] as Float64Array).subarray(0, t.count));
}

/** Copy row `from` of `src` into row `to` of `dst`, every column (written out, as in TraceBuilder.push: per row, a loop over COLS would be a keyed access a column). */
export function copyRow(src: TraceColumns, from: number, dst: TraceColumns, to: number): void {
  dst.timeNs[to] = src.timeNs[from];
  dst.device[to] = src.device[from];
  dst.pasid[to] = src.pasid[from];
  dst.op[to] = src.op[from];
  dst.iovaHi[to] = src.iovaHi[from];
  dst.iovaLo[to] = src.iovaLo[from];
  dst.size[to] = src.size[from];
  dst.dir[to] = src.dir[from];
  dst.paddrHi[to] = src.paddrHi[from];
  dst.paddrLo[to] = src.paddrLo[from];
  dst.kind[to] = src.kind[from];
}

/** Grow to at least `capacity` rows (keeps contents). */
export function growColumns(t: TraceColumns, capacity: number): TraceColumns {
  const n = allocColumns(capacity, t.devices);
  copyColumns(t, n);
  n.count = t.count;
  return n;
}

/** Trim arrays to `count` rows (views, no copy). */
export function trimColumns(t: TraceColumns): TraceColumns {
  const n = { ...t };
  for (const c of COLS) (n as unknown as Record<string, unknown>)[c] = (t[c] as Float64Array).subarray(0, t.count);
  return n;
}

/**
 * Where an importer puts rows: a TraceBuilder (the whole trace in memory) or a ChunkSink (one
 * reused chunk, src/run/stream.ts). `where` (file:line) names the place in a device-table error.
 */
export interface RowSink {
  deviceIndex(bdf: string, where: string): number;
  push(timeNs: number, device: number, pasid: number, op: number, iovaHi: number, iovaLo: number, size: number, dir: number, paddrHi: number, paddrLo: number, kind?: number): void;
}

/** Append-only builder used by importers and generators (grows by doubling). */
export class TraceBuilder implements RowSink {
  t: TraceColumns;
  protected readonly devIndex = new Map<string, number>();

  constructor(capacity = 1024) {
    this.t = allocColumns(capacity);
  }

  /** The index of a device, added if new; `where` (file:line) names the place in the error past MAX_TRACE_DEVICES. */
  deviceIndex(bdf: string, where = 'trace'): number {
    let i = this.devIndex.get(bdf);
    if (i === undefined) {
      i = this.t.devices.length;
      if (i >= MAX_TRACE_DEVICES) throw tooManyDevices(where, bdf);
      this.t.devices.push(bdf);
      this.devIndex.set(bdf, i);
    }
    return i;
  }

  /** Append a row; addresses as hi/lo 32-bit halves; `kind` a DMA_KINDS index (default 0, data). */
  push(timeNs: number, device: number, pasid: number, op: number, iovaHi: number, iovaLo: number, size: number, dir: number, paddrHi: number, paddrLo: number, kind = 0): void {
    let t = this.t;
    if (t.count === t.timeNs.length) t = this.t = growColumns(t, t.count * 2);
    const i = t.count++;
    t.timeNs[i] = timeNs;
    t.device[i] = device;
    t.pasid[i] = pasid;
    t.op[i] = op;
    t.iovaHi[i] = iovaHi;
    t.iovaLo[i] = iovaLo;
    t.size[i] = size;
    t.dir[i] = dir;
    t.paddrHi[i] = paddrHi;
    t.paddrLo[i] = paddrLo;
    t.kind[i] = kind;
  }

  /** Append with byte addresses below 2^53. */
  pushAddr(timeNs: number, device: number, pasid: number, op: number, iova: number, size: number, dir: number, paddr: number, kind = 0): void {
    this.push(timeNs, device, pasid, op, Math.floor(iova / 4294967296), iova >>> 0, size, dir, Math.floor(paddr / 4294967296), paddr >>> 0, kind);
  }

  finish(): TraceColumns {
    return trimColumns(this.t);
  }
}

/**
 * One reused chunk of rows: what a streamed importer fills (src/run/stream.ts), `room` rows at a
 * time, emptied (`t.count = 0`) by its reader between chunks. Without `devices` the table grows as
 * rows name new devices (a first pass finds it); with them it is that table, fixed: a device not in
 * it is one too many when the table is full (the whole-file error, at the same line), else a sign
 * that the file changed since the first pass.
 */
export class ChunkSink extends TraceBuilder {
  private readonly fixed: boolean;

  constructor(capacity: number, devices?: readonly string[], private readonly label = 'trace') {
    super(capacity);
    for (const d of devices ?? []) super.deviceIndex(d);
    this.fixed = devices !== undefined;
  }

  /** Rows that fit before the chunk is full. */
  get room(): number { return this.t.timeNs.length - this.t.count; }

  override deviceIndex(bdf: string, where = 'trace'): number {
    if (this.fixed && !this.devIndex.has(bdf)) {
      if (this.t.devices.length >= MAX_TRACE_DEVICES) throw tooManyDevices(where, bdf);
      throw changedWhileRead(this.label, `device ${bdf} was not in it on the first pass`);
    }
    return super.deviceIndex(bdf, where);
  }
}

/** A streamed file that differs between two passes over it (it was being written). */
export function changedWhileRead(label: string, what: string): InputError {
  return new InputError(`${label}: changed while being read (${what}); read a file that is not being written, or copy it first`);
}

/** 4 KiB page number of a hi/lo address (exact for 64-bit addresses below 2^57). */
export function pageOf(hi: number, lo: number): number {
  return hi * 1048576 + (lo >>> 12);
}

/** 4 KiB pages a transfer of `size` bytes (≥ 1) starting `offset` bytes into a page touches. */
export function pagesTouched(offset: number, size: number): number {
  return Math.floor((offset + size - 1) / 4096) + 1;
}

/** 4 KiB pages [iova, iova + size) of record i touches. */
export function recordPages(t: TraceColumns, i: number): number {
  return pagesTouched(t.iovaLo[i] & 0xfff, t.size[i]);
}

/** Hex text of a hi/lo address. */
export function hexAddr(hi: number, lo: number): string {
  return hi === 0 ? '0x' + lo.toString(16) : '0x' + hi.toString(16) + lo.toString(16).padStart(8, '0');
}

/** A trace a chunk at a time, in time order (streamed inputs: .iotrace files, generators, importers). */
export interface TraceChunks {
  /** The device table every chunk's `device` column indexes (known before the first chunk). */
  readonly devices: string[];
  /** The next chunk, or null at the end; its columns are read before the next call (a source may reuse them). */
  next(): TraceColumns | null;
}
