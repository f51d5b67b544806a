/**
 * `.iotrace`: the native binary trace format (byte-level spec: docs/iotrace.md).
 *
 *   header (magic, version, record count, column list, device table, CRC32)
 *   chunk 0 … chunk N-1   (24-byte chunk header + payload: one little-endian typed array per
 *                          column, each padded to 8 bytes; CRC32 of the payload in the header)
 *   chunk index           (offset, record count and first time of every chunk)
 *   trailer               (index offset, record count, chunk count, index CRC32, end magic)
 *
 * A chunk's payload is laid out exactly like the SharedArrayBuffer `IotraceReader.chunk(i,
 * { shared: true })` returns, so a reader reads it straight into shared memory and a worker views
 * it with `columnsFromShared` without a copy.
 *
 * Every byte of a file is covered by a check (a CRC, or an exact cross-check against another
 * field), so a corrupt or truncated file is an `InputError` naming the file and the byte offset —
 * never another error type, and never an allocation larger than the file.
 *
 * The host must be little-endian (x86-64, arm64, ppc64le, riscv64): the typed arrays are views of
 * the file's bytes.
 */
import * as zlib from 'node:zlib';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { type TraceColumns, allocColumns, OP_NAMES, DMA_KINDS } from './columns.js';
import { InputError, inputError } from '../util/errors.js';

/** The first 12 bytes of every file: 0x89 'IOTRACE' CR LF 0x1A LF (latin1). */
export const IOTRACE_MAGIC = '\x89IOTRACE\r\n\x1a\n';
/** Version written. 2 added the `kind` column (uint8, last); version 1 files still read, with kind 0 (data). */
export const IOTRACE_VERSION = 2;
/** Oldest version read. */
export const IOTRACE_MIN_VERSION = 1;
export const IOTRACE_DEFAULT_CHUNK_RECORDS = 1 << 16;
export const IOTRACE_MAX_CHUNK_RECORDS = 1 << 24;

export interface IotraceWriteOptions {
  /** Records per chunk (every chunk but the last is full); 1 … 2^24, default 2^16. */
  chunkRecords?: number;
}

const MAGIC = Uint8Array.from(IOTRACE_MAGIC, (c) => c.charCodeAt(0));
const END_MAGIC = Uint8Array.from('IOTREND\n', (c) => c.charCodeAt(0));
const TAG_CHUNK = 0x4b4e4843; // 'CHNK' little-endian
const TAG_INDEX = 0x58444e49; // 'INDX'
const HEADER_FIXED = 48;
const COLUMN_DESC = 16;
const CHUNK_HEADER = 24;
const INDEX_HEADER = 8;
const INDEX_ENTRY = 24;
const TRAILER = 32;
const MAX_DEVICES = 65536; // device column is Uint16
const UNFINISHED = 0xffffffff; // count lo = hi = this: the writer has not closed the file
const TWO32 = 4294967296;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Columns of format version 2, in file order (widest first; version 1 lacks the last, `kind`, so
// its chunk layout is a prefix of version 2's). One table drives the header, the chunk layout,
// the writer, the readers and columnsFromShared.

type ColKey = 'timeNs' | 'size' | 'pasid' | 'iovaHi' | 'iovaLo' | 'paddrHi' | 'paddrLo' | 'device' | 'op' | 'dir' | 'kind';
type Column = Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

/** Type codes in a column descriptor. */
export const IOTRACE_TYPES = { uint8: 1, uint16: 2, int32: 3, uint32: 4, float64: 5 } as const;
const TYPE_NAMES = ['?', 'uint8', 'uint16', 'int32', 'uint32', 'float64'];

interface ColSpec {
  key: ColKey;
  name: string;
  type: number;
  bytes: number;
  view: (buf: ArrayBufferLike, byteOffset: number, length: number) => Column;
}

const COLS: readonly ColSpec[] = [
  { key: 'timeNs', name: 'time_ns', type: 5, bytes: 8, view: (b, o, n) => new Float64Array(b, o, n) },
  { key: 'size', name: 'size', type: 5, bytes: 8, view: (b, o, n) => new Float64Array(b, o, n) },
  { key: 'pasid', name: 'pasid', type: 3, bytes: 4, view: (b, o, n) => new Int32Array(b, o, n) },
  { key: 'iovaHi', name: 'iova_hi', type: 4, bytes: 4, view: (b, o, n) => new Uint32Array(b, o, n) },
  { key: 'iovaLo', name: 'iova_lo', type: 4, bytes: 4, view: (b, o, n) => new Uint32Array(b, o, n) },
  { key: 'paddrHi', name: 'paddr_hi', type: 4, bytes: 4, view: (b, o, n) => new Uint32Array(b, o, n) },
  { key: 'paddrLo', name: 'paddr_lo', type: 4, bytes: 4, view: (b, o, n) => new Uint32Array(b, o, n) },
  { key: 'device', name: 'device', type: 2, bytes: 2, view: (b, o, n) => new Uint16Array(b, o, n) },
  { key: 'op', name: 'op', type: 1, bytes: 1, view: (b, o, n) => new Uint8Array(b, o, n) },
  { key: 'dir', name: 'dir', type: 1, bytes: 1, view: (b, o, n) => new Uint8Array(b, o, n) },
  { key: 'kind', name: 'kind', type: 1, bytes: 1, view: (b, o, n) => new Uint8Array(b, o, n) },
];
/** The columns of each version a reader accepts. */
const COLS_OF: Record<number, readonly ColSpec[]> = { 1: COLS.slice(0, 10), 2: COLS };
/** Bytes per record in a chunk payload, padding aside (41 in version 2; 40 in version 1). */
export const IOTRACE_RECORD_BYTES = COLS.reduce((s, c) => s + c.bytes, 0);

const pad8 = (n: number): number => Math.ceil(n / 8) * 8;

/**
 * Bytes of a chunk payload (and of the SharedArrayBuffer `chunk(i, { shared: true })` returns)
 * holding `count` records: each column `count × element size` bytes, padded to a multiple of 8.
 */
export function iotraceChunkBytes(count: number): number {
  return chunkBytesOf(COLS, count);
}

/** Bytes of a chunk payload of `count` records with these columns (a file's version). */
function chunkBytesOf(cols: readonly ColSpec[], count: number): number {
  let s = 0;
  for (const c of cols) s += pad8(count * c.bytes);
  return s;
}

function col(t: TraceColumns, key: ColKey): Column {
  return t[key];
}

function viewColumns(buf: ArrayBufferLike, base: number, count: number, devices: string[]): TraceColumns {
  const t: Record<string, unknown> = { count, devices };
  let o = base;
  for (const c of COLS) {
    t[c.key] = c.view(buf, o, count);
    o += pad8(count * c.bytes);
  }
  return t as unknown as TraceColumns;
}

/**
 * View a chunk's buffer as columns, without copying. The layout (docs/iotrace.md, "Chunk
 * payload"): starting at byte 0, one array per column in the order time_ns (Float64), size
 * (Float64), pasid (Int32), iova_hi, iova_lo, paddr_hi, paddr_lo (Uint32), device (Uint16), op,
 * dir, kind (Uint8); each `count` elements in host (little-endian) order, the next one starting at the
 * next multiple of 8 bytes. `buf.byteLength` must be at least `iotraceChunkBytes(count)`.
 * This is the buffer `IotraceReader.chunk(i, { shared: true })` returns, byte for byte the
 * chunk's payload in the file.
 */
export function columnsFromShared(buf: SharedArrayBuffer | ArrayBuffer, count: number, devices: string[]): TraceColumns {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`columnsFromShared: count ${count} is not a whole number ≥ 0`);
  const need = iotraceChunkBytes(count);
  if (buf.byteLength < need) throw new RangeError(`columnsFromShared: ${count} records need ${need} bytes; the buffer has ${buf.byteLength}`);
  needLittleEndian();
  return viewColumns(buf, 0, count, devices);
}

function needLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new Error('.iotrace needs a little-endian host (its columns are views of little-endian bytes)');
}

// ---------------------------------------------------------------------------------------------
// CRC32 (IEEE 802.3, reflected, polynomial 0xEDB88320; the one zlib, PNG and gzip use),
// table-driven, 8 bytes per step ("slicing by 8").

const CRC_TABLE = (() => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 255];
  }
  return t;
})();

/** CRC32 (IEEE) of `bytes`; pass a previous result as `crc` to continue over more bytes. */
/**
 * CRC32 (IEEE). Node's zlib.crc32 (native, ~4× the table-driven loop) when present — it is on
 * every Node the package supports (≥ 20.19) — else the table-driven loop below.
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (zlibCrc32 !== undefined) return zlibCrc32(bytes, crc) >>> 0;
  return crc32Table(bytes, crc);
}

const zlibCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export function crc32Table(bytes: Uint8Array, crc = 0): number {
  const T = CRC_TABLE;
  let c = ~crc;
  let i = 0;
  const n = bytes.length;
  for (const end = n - (n & 7); i < end; i += 8) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = T[1792 + (c & 255)] ^ T[1536 + ((c >>> 8) & 255)] ^ T[1280 + ((c >>> 16) & 255)] ^ T[1024 + (c >>> 24)]
      ^ T[768 + bytes[i + 4]] ^ T[512 + bytes[i + 5]] ^ T[256 + bytes[i + 6]] ^ T[bytes[i + 7]];
  }
  for (; i < n; i++) c = T[(c ^ bytes[i]) & 255] ^ (c >>> 8);
  return ~c >>> 0;
}

const hex32 = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');
const dvOf = (u8: Uint8Array): DataView => new DataView(u8.buffer, u8.byteOffset, u8.byteLength);

// ---------------------------------------------------------------------------------------------
// Writing

function chunkRecordsOf(opts: IotraceWriteOptions | undefined): number {
  const r = opts?.chunkRecords ?? IOTRACE_DEFAULT_CHUNK_RECORDS;
  if (!Number.isInteger(r) || r < 1 || r > IOTRACE_MAX_CHUNK_RECORDS) {
    throw new RangeError(`iotrace: chunkRecords ${r} is not a whole number in 1 … ${IOTRACE_MAX_CHUNK_RECORDS}`);
  }
  return r;
}

function encodeDevices(devices: string[], where: string): Uint8Array[] {
  if (devices.length > MAX_DEVICES) throw inputError(where, `${devices.length} devices`, `an .iotrace holds at most ${MAX_DEVICES} (the device column is 16 bits)`);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  let total = 0;
  return devices.map((d, i) => {
    const b = enc.encode(d);
    if (b.length > 0xffff) throw inputError(where, `device ${i} has a name of ${b.length} bytes`, 'keep device names below 64 KiB');
    if (dec.decode(b) !== d) throw inputError(where, `device ${i} (${JSON.stringify(d)}) is not well-formed Unicode`, 'name devices with well-formed strings (no lone surrogates)');
    total += 2 + b.length;
    if (total > 1 << 30) throw inputError(where, 'the device names take more than 1 GiB', 'use shorter device names');
    return b;
  });
}

/** The header; `count` null writes the "unfinished" marker. */
function encodeHeader(names: Uint8Array[], chunkRecords: number, count: number | null): Uint8Array {
  let size = HEADER_FIXED + COLS.length * COLUMN_DESC;
  for (const b of names) size += 2 + b.length;
  size = pad8(size);
  const h = new Uint8Array(size);
  const dv = dvOf(h);
  h.set(MAGIC, 0);
  dv.setUint32(12, IOTRACE_VERSION, true);
  dv.setUint32(16, size, true);
  dv.setUint32(24, count === null ? UNFINISHED : count >>> 0, true);
  dv.setUint32(28, count === null ? UNFINISHED : Math.floor(count / TWO32), true);
  dv.setUint32(32, chunkRecords, true);
  dv.setUint32(36, COLS.length, true);
  dv.setUint32(40, names.length, true);
  dv.setUint32(44, 0, true); // flags
  let o = HEADER_FIXED;
  for (const c of COLS) {
    for (let i = 0; i < c.name.length; i++) h[o + i] = c.name.charCodeAt(i);
    h[o + 12] = c.type;
    h[o + 13] = c.bytes;
    o += COLUMN_DESC;
  }
  for (const b of names) {
    dv.setUint16(o, b.length, true);
    h.set(b, o + 2);
    o += 2 + b.length;
  }
  dv.setUint32(20, crc32(h), true); // computed with the CRC field still zero
  return h;
}

/** Checks a source trace's columns before any byte of it is written. */
function checkSource(t: TraceColumns, where: string): void {
  if (!Number.isInteger(t.count) || t.count < 0) throw inputError(where, `count ${t.count} is not a whole number`, 'pass columns from TraceBuilder or allocColumns');
  for (const c of COLS) {
    if (col(t, c.key).length < t.count) throw inputError(where, `column ${c.key} has ${col(t, c.key).length} rows but count is ${t.count}`, 'pass columns with at least count rows');
  }
}

/** Rows [s, s + n) of `t` into the chunk views `dst` at row `at`; checks device and op. */
function fillRows(dst: TraceColumns, at: number, t: TraceColumns, s: number, n: number, devices: number, where: string): void {
  const dev = t.device, op = t.op, kind = t.kind;
  for (let i = s; i < s + n; i++) {
    if (dev[i] >= devices) throw inputError(where, `row ${i} has device index ${dev[i]} but the device table has ${devices} entries`, 'add the device to the table');
    if (op[i] >= OP_NAMES.length) throw inputError(where, `row ${i} has op ${op[i]}`, `use an op below ${OP_NAMES.length} (${OP_NAMES.join(', ')})`);
    if (kind[i] >= DMA_KINDS.length) throw inputError(where, `row ${i} has kind ${kind[i]}`, `use a kind below ${DMA_KINDS.length} (${DMA_KINDS.join(', ')})`);
  }
  for (const c of COLS) (col(dst, c.key) as Uint8Array).set((col(t, c.key) as Uint8Array).subarray(s, s + n), at);
}

/** Fill the 24-byte chunk header in front of a payload already in place (CRC included). */
function sealChunk(buf: Uint8Array, at: number, chunkNo: number, count: number): void {
  const bytes = iotraceChunkBytes(count);
  const dv = new DataView(buf.buffer, buf.byteOffset + at, CHUNK_HEADER);
  dv.setUint32(0, TAG_CHUNK, true);
  dv.setUint32(4, chunkNo, true);
  dv.setUint32(8, count, true);
  dv.setUint32(12, bytes, true);
  dv.setUint32(16, crc32(buf.subarray(at + CHUNK_HEADER, at + CHUNK_HEADER + bytes)), true);
  dv.setUint32(20, 0, true);
}

interface IndexEntry { offset: number; records: number; firstTimeNs: number }

/** Index block + trailer. */
function encodeTail(index: IndexEntry[], indexOffset: number, count: number): Uint8Array {
  const n = index.length;
  const out = new Uint8Array(INDEX_HEADER + n * INDEX_ENTRY + TRAILER);
  const dv = dvOf(out);
  dv.setUint32(0, TAG_INDEX, true);
  dv.setUint32(4, n, true);
  for (let k = 0, o = INDEX_HEADER; k < n; k++, o += INDEX_ENTRY) {
    dv.setUint32(o, index[k].offset >>> 0, true);
    dv.setUint32(o + 4, Math.floor(index[k].offset / TWO32), true);
    dv.setUint32(o + 8, index[k].records, true);
    dv.setUint32(o + 12, 0, true);
    dv.setFloat64(o + 16, index[k].firstTimeNs, true);
  }
  const t = INDEX_HEADER + n * INDEX_ENTRY;
  dv.setUint32(t, indexOffset >>> 0, true);
  dv.setUint32(t + 4, Math.floor(indexOffset / TWO32), true);
  dv.setUint32(t + 8, count >>> 0, true);
  dv.setUint32(t + 12, Math.floor(count / TWO32), true);
  dv.setUint32(t + 16, n, true);
  dv.setUint32(t + 20, crc32(out.subarray(0, t)), true);
  out.set(END_MAGIC, t + 24);
  return out;
}

/** The whole `.iotrace` file of `t`, in memory. */
export function writeIotrace(t: TraceColumns, opts?: IotraceWriteOptions): Uint8Array {
  needLittleEndian();
  const where = 'writeIotrace';
  const cr = chunkRecordsOf(opts);
  checkSource(t, where);
  const names = encodeDevices(t.devices, where);
  const header = encodeHeader(names, cr, t.count);
  const chunks = Math.ceil(t.count / cr);
  let size = header.length;
  for (let k = 0; k < chunks; k++) size += CHUNK_HEADER + iotraceChunkBytes(Math.min(cr, t.count - k * cr));
  const indexOffset = size;
  size += INDEX_HEADER + chunks * INDEX_ENTRY + TRAILER;
  const out = new Uint8Array(size);
  out.set(header, 0);
  const index: IndexEntry[] = [];
  let o = header.length;
  for (let k = 0; k < chunks; k++) {
    const s = k * cr;
    const n = Math.min(cr, t.count - s);
    fillRows(viewColumns(out.buffer, o + CHUNK_HEADER, n, t.devices), 0, t, s, n, names.length, where);
    sealChunk(out, o, k, n);
    index.push({ offset: o, records: n, firstTimeNs: t.timeNs[s] });
    o += CHUNK_HEADER + iotraceChunkBytes(n);
  }
  out.set(encodeTail(index, indexOffset, t.count), indexOffset);
  return out;
}

function writeAll(fd: number, buf: Uint8Array, position: number | null, path: string): void {
  let done = 0;
  while (done < buf.length) {
    let n: number;
    try {
      n = writeSync(fd, buf, done, buf.length - done, position === null ? null : position + done);
    } catch (e) {
      throw new InputError(`${path}: cannot write the trace (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the disk and the path`);
    }
    done += n;
  }
}

/**
 * Writes an `.iotrace` to a file as rows arrive: memory holds one chunk (plus 24 bytes of index
 * per chunk). Files are byte-identical to `writeIotrace` of the same rows and chunk size,
 * whatever the sizes of the appended batches. Until `close()` the header says "unfinished" and
 * there is no index, so a reader rejects a half-written file with a clear message.
 */
export class IotraceWriter {
  readonly devices: string[];
  private readonly chunkRecords: number;
  private readonly names: Uint8Array[];
  private fd: number | null;
  private readonly buf: Uint8Array; // chunk header + payload laid out for chunkRecords rows
  private readonly cols: TraceColumns;
  private fill = 0;
  private count = 0;
  private position: number;
  private readonly index: IndexEntry[] = [];

  constructor(readonly path: string, devices: string[], opts?: IotraceWriteOptions) {
    needLittleEndian();
    this.chunkRecords = chunkRecordsOf(opts);
    this.devices = devices.slice();
    this.names = encodeDevices(this.devices, path);
    const buf = new ArrayBuffer(CHUNK_HEADER + iotraceChunkBytes(this.chunkRecords));
    this.buf = new Uint8Array(buf);
    this.cols = viewColumns(buf, CHUNK_HEADER, this.chunkRecords, this.devices);
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new InputError(`${path}: cannot create the trace file (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the path`);
    }
    const header = encodeHeader(this.names, this.chunkRecords, null);
    try {
      writeAll(this.fd, header, null, path);
    } catch (e) {
      closeSync(this.fd);
      this.fd = null;
      throw e;
    }
    this.position = header.length;
  }

  /** Append `t.count` rows; `t.devices` must be the writer's device table. */
  append(t: TraceColumns): void {
    if (this.fd === null) throw new Error(`IotraceWriter(${this.path}): append after close`);
    checkSource(t, this.path);
    if (t.devices !== this.devices && (t.devices.length !== this.devices.length || t.devices.some((d, i) => d !== this.devices[i]))) {
      throw inputError(this.path, 'appended rows carry another device table than the writer\'s', 'open the writer with the full device table and index rows into it');
    }
    let s = 0;
    while (s < t.count) {
      const n = Math.min(t.count - s, this.chunkRecords - this.fill);
      fillRows(this.cols, this.fill, t, s, n, this.devices.length, this.path);
      this.fill += n;
      s += n;
      if (this.fill === this.chunkRecords) this.flush();
    }
  }

  private flush(): void {
    const n = this.fill;
    if (n === 0 || this.fd === null) return;
    const firstTimeNs = this.cols.timeNs[0];
    if (n < this.chunkRecords) {
      // Pack the columns of a partial chunk down to the layout of n rows (moves left only).
      let from = CHUNK_HEADER, to = CHUNK_HEADER;
      for (const c of COLS) {
        if (to !== from) this.buf.copyWithin(to, from, from + n * c.bytes);
        this.buf.fill(0, to + n * c.bytes, to + pad8(n * c.bytes));
        from += pad8(this.chunkRecords * c.bytes);
        to += pad8(n * c.bytes);
      }
    }
    const k = this.index.length;
    sealChunk(this.buf, 0, k, n);
    const len = CHUNK_HEADER + iotraceChunkBytes(n);
    writeAll(this.fd, this.buf.subarray(0, len), null, this.path);
    this.index.push({ offset: this.position, records: n, firstTimeNs });
    this.position += len;
    this.count += n;
    this.fill = 0;
  }

  /** Write the last chunk, the index and the trailer, fix up the header, close the file. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    try {
      this.flush();
      writeAll(fd, encodeTail(this.index, this.position, this.count), null, this.path);
      writeAll(fd, encodeHeader(this.names, this.chunkRecords, this.count), 0, this.path);
    } finally {
      this.fd = null;
      closeSync(fd);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

export function detectIotrace(head: Uint8Array): boolean {
  if (head.length < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (head[i] !== MAGIC[i]) return false;
  return true;
}

/** Bytes of a file: an in-memory array or a file descriptor. */
interface Source {
  readonly file: string;
  readonly size: number;
  /** `len` bytes at `pos`, fewer if the file ends first. */
  read(pos: number, len: number): Uint8Array;
}

class BytesSource implements Source {
  readonly size: number;
  constructor(readonly file: string, readonly bytes: Uint8Array) { this.size = bytes.length; }
  read(pos: number, len: number): Uint8Array { return this.bytes.subarray(pos, Math.min(pos + len, this.size)); }
}

class FdSource implements Source {
  constructor(readonly file: string, readonly fd: number, readonly size: number) {}
  read(pos: number, len: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, Math.min(len, this.size - pos)));
    return out.subarray(0, this.readInto(pos, out));
  }
  /** Fill `dst` from `pos`; returns the bytes read (fewer at the end of the file). */
  readInto(pos: number, dst: Uint8Array): number {
    let done = 0;
    while (done < dst.length) {
      let n: number;
      try {
        n = readSync(this.fd, dst, done, dst.length - done, pos + done);
      } catch (e) {
        throw new InputError(`${this.file}: cannot read at byte ${pos + done} (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the file`);
      }
      if (n === 0) break;
      done += n;
    }
    return done;
  }
}

/** What the header, index and trailer say; every field checked. */
interface Layout {
  file: string;
  /** The file's format version and its columns. */
  version: number;
  cols: readonly ColSpec[];
  size: number;
  headerBytes: number;
  count: number;
  chunkRecords: number;
  devices: string[];
  indexOffset: number;
  offsets: Float64Array;
  records: Uint32Array;
  firstRecord: Float64Array;
  firstTimeNs: Float64Array;
}

const CORRUPT = 'the file is corrupt; re-export the trace';
const TRUNCATED = 're-export the trace (or copy it again in full)';

function fail(file: string, what: string, fix = CORRUPT): never {
  throw inputError(file, what, fix);
}

interface Header { version: number; cols: readonly ColSpec[]; headerBytes: number; count: number | null; chunkRecords: number; devices: string[] }

function readHeader(src: Source): Header {
  const f = src.file;
  if (src.size === 0) fail(f, 'byte 0: the file is empty', TRUNCATED);
  const head = src.read(0, HEADER_FIXED);
  if (!detectIotrace(head)) {
    if (head.length < MAGIC.length && head.every((b, i) => b === MAGIC[i])) {
      fail(f, `file truncated at byte ${src.size} inside the magic number`, TRUNCATED);
    }
    fail(f, `byte 0: not an .iotrace file (it starts with ${Buffer.from(head.subarray(0, 12)).toString('hex')}, not 89494f54524143450d0a1a0a)`,
      'pass an .iotrace file, or a trace in another format with its importer');
  }
  if (head.length < 16) fail(f, `file truncated at byte ${src.size} inside the header (bytes 0–${HEADER_FIXED - 1})`, TRUNCATED);
  const dv = dvOf(head);
  const version = dv.getUint32(12, true);
  if (version < IOTRACE_MIN_VERSION || version > IOTRACE_VERSION) {
    fail(f, `byte 12: format version ${version}${version === 0 || version > 1000 ? ' (a corrupt header?)' : ''}; this iommusim reads versions ${IOTRACE_MIN_VERSION} to ${IOTRACE_VERSION}`,
      'upgrade iommusim, or re-export the trace with this one');
  }
  if (head.length < HEADER_FIXED) fail(f, `file truncated at byte ${src.size} inside the header (bytes 0–${HEADER_FIXED - 1})`, TRUNCATED);
  const headerBytes = dv.getUint32(16, true);
  const headerCrc = dv.getUint32(20, true);
  if (headerBytes < HEADER_FIXED || headerBytes % 8 !== 0) fail(f, `byte 16: header length ${headerBytes} is not a multiple of 8 of at least ${HEADER_FIXED}`);
  if (headerBytes > src.size) fail(f, `file truncated at byte ${src.size} inside the header (bytes 0–${headerBytes - 1}), or its length at byte 16 is corrupt`, TRUNCATED);
  const h = src.read(0, headerBytes);
  const hv = dvOf(h);
  const crc = crc32(h.subarray(24), crc32(new Uint8Array(4), crc32(h.subarray(0, 20))));
  if (crc !== headerCrc) fail(f, `the header (bytes 0–${headerBytes - 1}) fails its checksum (CRC32 ${hex32(headerCrc)} stored, ${hex32(crc)} computed)`);
  const lo = hv.getUint32(24, true), hi = hv.getUint32(28, true);
  let count: number | null = null;
  if (!(lo === UNFINISHED && hi === UNFINISHED)) {
    if (hi >= 1 << 21) fail(f, `byte 24: record count ${hi} × 2^32 + ${lo} is beyond 2^53`);
    count = hi * TWO32 + lo;
  }
  const chunkRecords = hv.getUint32(32, true);
  if (chunkRecords < 1 || chunkRecords > IOTRACE_MAX_CHUNK_RECORDS) fail(f, `byte 32: records per chunk ${chunkRecords} is outside 1 … ${IOTRACE_MAX_CHUNK_RECORDS}`);
  const ncols = hv.getUint32(36, true);
  const ndev = hv.getUint32(40, true);
  const flags = hv.getUint32(44, true);
  const cols = COLS_OF[version];
  if (flags !== 0) fail(f, `byte 44: flags ${hex32(flags)} are set; version ${version} defines none`, 'upgrade iommusim, or re-export the trace with this one');
  if (ncols !== cols.length) fail(f, `byte 36: ${ncols} columns; version ${version} has ${cols.length} (${cols.map((c) => c.name).join(', ')})`);
  if (HEADER_FIXED + ncols * COLUMN_DESC > headerBytes) fail(f, `byte 16: header length ${headerBytes} cannot hold ${ncols} column descriptors`);
  let o = HEADER_FIXED;
  for (let i = 0; i < ncols; i++, o += COLUMN_DESC) {
    const c = cols[i];
    let name = '';
    for (let j = 0; j < 12 && h[o + j] !== 0; j++) name += String.fromCharCode(h[o + j]);
    let zeros = true;
    for (let j = name.length; j < 12; j++) if (h[o + j] !== 0) zeros = false;
    if (name !== c.name || !zeros || h[o + 12] !== c.type || h[o + 13] !== c.bytes || hv.getUint16(o + 14, true) !== 0) {
      fail(f, `byte ${o}: column ${i} is '${name}' of type ${TYPE_NAMES[h[o + 12]] ?? h[o + 12]} (${h[o + 13]} bytes); version ${version} has '${c.name}' of type ${TYPE_NAMES[c.type]} there`);
    }
  }
  if (ndev > MAX_DEVICES) fail(f, `byte 40: ${ndev} devices; at most ${MAX_DEVICES} fit the 16-bit device column`);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const devices: string[] = [];
  for (let i = 0; i < ndev; i++) {
    if (o + 2 > headerBytes) fail(f, `byte ${o}: device ${i} of ${ndev} runs past the end of the header at byte ${headerBytes}`);
    const len = hv.getUint16(o, true);
    if (o + 2 + len > headerBytes) fail(f, `byte ${o}: device ${i} of ${ndev} (${len} bytes) runs past the end of the header at byte ${headerBytes}`);
    try {
      devices.push(dec.decode(h.subarray(o + 2, o + 2 + len)));
    } catch {
      fail(f, `byte ${o + 2}: device ${i} is not UTF-8`);
    }
    o += 2 + len;
  }
  if (pad8(o) !== headerBytes) fail(f, `byte 16: header length ${headerBytes}, but its tables end at byte ${o}`);
  for (; o < headerBytes; o++) if (h[o] !== 0) fail(f, `byte ${o}: header padding is not zero`);
  return { version, cols, headerBytes, count, chunkRecords, devices };
}

/**
 * The trailer or index is missing or wrong: walk the chunk headers from the front to say where
 * the file ends, or what is broken. Each step moves forward by at least 32 bytes.
 */
function diagnose(src: Source, h: Header, problem: string): never {
  const f = src.file;
  let pos = h.headerBytes;
  for (let k = 0; ; k++) {
    const after = k === 0 ? 'right after the header' : `after chunk ${k - 1}`;
    if (pos === src.size) {
      fail(f, `the file ends at byte ${pos} ${after}, without its chunk index: ${h.count === null ? 'its writer was never closed (interrupted export?)' : 'it is truncated'}`, TRUNCATED);
    }
    const head = src.read(pos, CHUNK_HEADER);
    if (head.length < 4) fail(f, `file truncated at byte ${src.size} ${after}, inside the next chunk header or the index (from byte ${pos})`, TRUNCATED);
    const dv = dvOf(head);
    const tag = dv.getUint32(0, true);
    if (tag === TAG_CHUNK) {
      if (head.length < CHUNK_HEADER) fail(f, `file truncated at byte ${src.size} inside the header of chunk ${k} (starts at byte ${pos})`, TRUNCATED);
      const n = dv.getUint32(8, true);
      if (dv.getUint32(4, true) !== k || n === 0 || n > h.chunkRecords) fail(f, `chunk ${k} at byte ${pos}: its header is corrupt (chunk number ${dv.getUint32(4, true)}, ${n} records)`);
      const end = pos + CHUNK_HEADER + chunkBytesOf(h.cols, n);
      if (end > src.size) fail(f, `file truncated at byte ${src.size} inside chunk ${k} (bytes ${pos}–${end - 1})`, TRUNCATED);
      pos = end;
    } else if (tag === TAG_INDEX) {
      if (head.length < INDEX_HEADER) fail(f, `file truncated at byte ${src.size} inside the chunk index (starts at byte ${pos})`, TRUNCATED);
      const end = pos + INDEX_HEADER + dv.getUint32(4, true) * INDEX_ENTRY + TRAILER;
      if (src.size < end) fail(f, `file truncated at byte ${src.size} inside the chunk index and trailer (bytes ${pos}–${end - 1})`, TRUNCATED);
      if (src.size > end) fail(f, `byte ${end}: ${src.size - end} bytes follow the end of the trace`, 'remove them (was another file appended?), or re-export the trace');
      fail(f, problem);
    } else {
      fail(f, `byte ${pos}: expected chunk ${k} (tag CHNK) or the chunk index (tag INDX), found ${hex32(tag)}`);
    }
  }
}

function readLayout(src: Source): Layout {
  const f = src.file;
  const h = readHeader(src);
  const size = src.size;
  if (size < h.headerBytes + INDEX_HEADER + TRAILER) diagnose(src, h, 'no trailer');
  const tr = src.read(size - TRAILER, TRAILER);
  const tv = dvOf(tr);
  const at = size - TRAILER;
  for (let i = 0; i < 8; i++) if (tr[24 + i] !== END_MAGIC[i]) diagnose(src, h, `byte ${at + 24}: the trailer's end magic is not IOTREND`);
  const indexOffset = tv.getUint32(4, true) * TWO32 + tv.getUint32(0, true);
  const count = tv.getUint32(12, true) * TWO32 + tv.getUint32(8, true);
  const chunks = tv.getUint32(16, true);
  const indexCrc = tv.getUint32(20, true);
  if (h.count === null) diagnose(src, h, 'byte 24: the header says the writer did not finish, yet the file has a trailer');
  if (count !== h.count) diagnose(src, h, `byte ${at + 8}: the trailer counts ${count} records, the header (byte 24) ${h.count}`);
  if (chunks !== Math.ceil(h.count / h.chunkRecords)) diagnose(src, h, `byte ${at + 16}: the trailer counts ${chunks} chunks; ${h.count} records in chunks of ${h.chunkRecords} make ${Math.ceil(h.count / h.chunkRecords)}`);
  if (indexOffset + INDEX_HEADER + chunks * INDEX_ENTRY + TRAILER !== size || indexOffset < h.headerBytes || indexOffset % 8 !== 0) {
    diagnose(src, h, `byte ${at}: the trailer puts the index of ${chunks} chunks at byte ${indexOffset}, which does not fit a file of ${size} bytes`);
  }
  const idx = src.read(indexOffset, size - TRAILER - indexOffset);
  const crc = crc32(idx);
  if (crc !== indexCrc) fail(f, `the chunk index (bytes ${indexOffset}–${at - 1}) fails its checksum (CRC32 ${hex32(indexCrc)} stored, ${hex32(crc)} computed)`);
  const iv = dvOf(idx);
  if (iv.getUint32(0, true) !== TAG_INDEX || iv.getUint32(4, true) !== chunks) fail(f, `byte ${indexOffset}: the chunk index header does not match the trailer`);
  const offsets = new Float64Array(chunks);
  const records = new Uint32Array(chunks);
  const firstRecord = new Float64Array(chunks);
  const firstTimeNs = new Float64Array(chunks);
  let expect = h.headerBytes;
  let total = 0;
  for (let k = 0, o = INDEX_HEADER; k < chunks; k++, o += INDEX_ENTRY) {
    const off = iv.getUint32(o + 4, true) * TWO32 + iv.getUint32(o, true);
    const n = iv.getUint32(o + 8, true);
    const e = indexOffset + o;
    if (off !== expect) fail(f, `byte ${e}: the index puts chunk ${k} at byte ${off}, but the chunk before it ends at byte ${expect}`);
    const want = Math.min(h.chunkRecords, h.count - total);
    if (n !== want) fail(f, `byte ${e + 8}: the index gives chunk ${k} ${n} records; every chunk but the last holds ${h.chunkRecords}, so it should hold ${want}`);
    if (iv.getUint32(o + 12, true) !== 0) fail(f, `byte ${e + 12}: a reserved field of the index is not zero`);
    offsets[k] = off;
    records[k] = n;
    firstRecord[k] = total;
    firstTimeNs[k] = iv.getFloat64(o + 16, true);
    total += n;
    expect = off + CHUNK_HEADER + chunkBytesOf(h.cols, n);
    if (expect > indexOffset) fail(f, `byte ${e}: chunk ${k} (${n} records from byte ${off}) runs past the index at byte ${indexOffset}`);
  }
  if (expect !== indexOffset) fail(f, `byte ${expect}: the chunks end here but the index starts at byte ${indexOffset}`);
  if (total !== h.count) fail(f, `byte 24: the header counts ${h.count} records, the chunks hold ${total}`);
  return { file: f, version: h.version, cols: h.cols, size, headerBytes: h.headerBytes, count: total, chunkRecords: h.chunkRecords, devices: h.devices, indexOffset, offsets, records, firstRecord, firstTimeNs };
}

/** Check chunk k's header (read into `head`) against the index. */
function checkChunkHeader(L: Layout, k: number, head: Uint8Array): number {
  const f = L.file;
  const off = L.offsets[k];
  if (head.length < CHUNK_HEADER) fail(f, `file truncated at byte ${off + head.length} inside the header of chunk ${k} (starts at byte ${off})`, TRUNCATED);
  const dv = dvOf(head);
  const n = L.records[k];
  const bytes = chunkBytesOf(L.cols, n);
  if (dv.getUint32(0, true) !== TAG_CHUNK || dv.getUint32(4, true) !== k || dv.getUint32(8, true) !== n || dv.getUint32(12, true) !== bytes || dv.getUint32(20, true) !== 0) {
    fail(f, `chunk ${k} at byte ${off}: its header (tag ${hex32(dv.getUint32(0, true))}, number ${dv.getUint32(4, true)}, ${dv.getUint32(8, true)} records, ${dv.getUint32(12, true)} bytes) does not match the index (CHNK, ${k}, ${n} records, ${bytes} bytes)`);
  }
  return dv.getUint32(16, true);
}

function checkChunkPayload(L: Layout, k: number, payload: Uint8Array, storedCrc: number): void {
  const f = L.file;
  const off = L.offsets[k];
  if (payload.length < chunkBytesOf(L.cols, L.records[k])) {
    fail(f, `file truncated at byte ${off + CHUNK_HEADER + payload.length} inside chunk ${k} (bytes ${off}–${off + CHUNK_HEADER + chunkBytesOf(L.cols, L.records[k]) - 1})`, TRUNCATED);
  }
  const crc = crc32(payload);
  if (crc !== storedCrc) {
    fail(f, `chunk ${k} at byte ${off} fails its checksum (CRC32 ${hex32(storedCrc)} stored, ${hex32(crc)} computed over bytes ${off + CHUNK_HEADER}–${off + CHUNK_HEADER + payload.length - 1})`);
  }
}

/** What a valid CRC cannot vouch for: the writer's own invariants. */
function checkChunkValues(L: Layout, k: number, t: TraceColumns): void {
  const f = L.file;
  const at = `chunk ${k} at byte ${L.offsets[k]}`;
  const nd = L.devices.length, nop = OP_NAMES.length, nkind = DMA_KINDS.length;
  const dev = t.device, op = t.op, kind = t.kind;
  for (let i = 0; i < t.count; i++) {
    if (dev[i] >= nd) fail(f, `${at}: record ${L.firstRecord[k] + i} has device index ${dev[i]} but the device table has ${nd} entries`);
    if (op[i] >= nop) fail(f, `${at}: record ${L.firstRecord[k] + i} has op ${op[i]} (version ${L.version} knows ${nop})`);
    if (kind[i] >= nkind) fail(f, `${at}: record ${L.firstRecord[k] + i} has kind ${kind[i]} (this iommusim knows ${nkind}: ${DMA_KINDS.join(', ')})`);
  }
  const a = t.timeNs[0], b = L.firstTimeNs[k];
  if (!(a === b || (a !== a && b !== b))) fail(f, `${at}: its first time ${a} ns differs from the index's ${b} ns`);
}

/** A whole `.iotrace` file (in memory) to columns; every chunk verified. */
export function readIotrace(bytes: Uint8Array, fileName: string): TraceColumns {
  needLittleEndian();
  const src = new BytesSource(fileName, bytes);
  const L = readLayout(src);
  const out = allocColumns(L.count, L.devices);
  out.count = L.count;
  for (let k = 0; k < L.offsets.length; k++) {
    const off = L.offsets[k];
    const n = L.records[k];
    const crc = checkChunkHeader(L, k, src.read(off, CHUNK_HEADER));
    const payload = src.read(off + CHUNK_HEADER, chunkBytesOf(L.cols, n));
    checkChunkPayload(L, k, payload, crc);
    const first = L.firstRecord[k];
    let p = 0;
    for (const c of L.cols) { // a version 1 file has no kind column: allocColumns left it 0
      const dst = col(out, c.key);
      new Uint8Array(dst.buffer, dst.byteOffset + first * c.bytes, n * c.bytes).set(payload.subarray(p, p + n * c.bytes));
      p += pad8(n * c.bytes);
    }
    const view: TraceColumns = { ...out, count: n } as TraceColumns;
    for (const c of COLS) (view as unknown as Record<string, Column>)[c.key] = col(out, c.key).subarray(first, first + n);
    checkChunkValues(L, k, view);
  }
  return out;
}

/**
 * Reads an `.iotrace` file chunk by chunk: open() reads the header, index and trailer; each
 * chunk(i) reads, verifies and returns one chunk. Memory: one chunk per call (the caller decides
 * how many it keeps; with `buffer` the caller's own) plus 24 bytes per chunk of index.
 */
export class IotraceReader {
  readonly count: number;
  readonly devices: string[];
  readonly chunks: number;
  /** Records per full chunk (the writer's chunkRecords). */
  readonly chunkRecords: number;
  private src: FdSource | null;
  private readonly L: Layout;

  private constructor(src: FdSource, L: Layout) {
    this.src = src;
    this.L = L;
    this.count = L.count;
    this.devices = L.devices;
    this.chunks = L.offsets.length;
    this.chunkRecords = L.chunkRecords;
  }

  static open(path: string): IotraceReader {
    needLittleEndian();
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new InputError(`${path}: cannot open the trace (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the path`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new InputError(`${path}: is not a regular file; name an .iotrace file`);
      const src = new FdSource(path, fd, st.size);
      return new IotraceReader(src, readLayout(src));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Where chunk i is and what it holds (from the index; nothing is read). */
  chunkInfo(i: number): { offset: number; records: number; firstRecord: number; firstTimeNs: number } {
    this.checkIndex(i);
    return { offset: this.L.offsets[i], records: this.L.records[i], firstRecord: this.L.firstRecord[i], firstTimeNs: this.L.firstTimeNs[i] };
  }

  /**
   * Chunk i's records, verified. All columns are views of one buffer in the layout
   * columnsFromShared expects (docs/iotrace.md, "Chunk payload"); the file's bytes are read
   * straight into it.
   * - `shared`: a new SharedArrayBuffer (post `t.timeNs.buffer` and `t.count` to a worker).
   * - `buffer`: read into this buffer instead (at least `iotraceChunkBytes(reader.chunkRecords)`
   *   bytes holds any chunk) and return views of it. Reuse buffers when streaming a long file
   *   through workers: V8 frees a dropped SharedArrayBuffer only at a later full GC, so a fresh
   *   one per chunk lets RSS climb by hundreds of MB before it falls back. The caller must not
   *   reuse a buffer a worker is still reading.
   * - neither: a new ArrayBuffer.
   */
  chunk(i: number, opts?: { shared?: boolean; buffer?: SharedArrayBuffer | ArrayBuffer }): TraceColumns {
    this.checkIndex(i);
    const src = this.src;
    if (src === null) throw new Error(`IotraceReader(${this.L.file}): chunk() after close()`);
    const L = this.L;
    const off = L.offsets[i];
    const n = L.records[i];
    const bytes = iotraceChunkBytes(n);
    const given = opts?.buffer;
    if (given !== undefined && given.byteLength < bytes) {
      throw new RangeError(`IotraceReader(${L.file}): chunk ${i} needs a buffer of ${bytes} bytes; the one given has ${given.byteLength}`);
    }
    const crc = checkChunkHeader(L, i, src.read(off, CHUNK_HEADER));
    const buf = given ?? (opts?.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    // the file's payload; a version 1 chunk lacks the kind column (the layout's tail): zero it
    const fileBytes = chunkBytesOf(L.cols, n);
    const payload = new Uint8Array(buf, 0, fileBytes);
    const got = src.readInto(off + CHUNK_HEADER, payload);
    checkChunkPayload(L, i, payload.subarray(0, got), crc);
    if (fileBytes < bytes) new Uint8Array(buf, fileBytes, bytes - fileBytes).fill(0);
    const t = viewColumns(buf, 0, n, this.devices);
    checkChunkValues(L, i, t);
    return t;
  }

  close(): void {
    if (this.src === null) return;
    const fd = this.src.fd;
    this.src = null;
    closeSync(fd);
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.chunks) throw new RangeError(`IotraceReader(${this.L.file}): chunk ${i} is not in 0 … ${this.chunks - 1}`);
  }
}
