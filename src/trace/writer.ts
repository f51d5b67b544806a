/**
 * Writing traces to files as rows arrive: `openTraceWriter(out, devices)` gives a writer for `.csv`
 * or `.iotrace` whose memory stays bounded (one buffer of CSV text, or one .iotrace chunk) however
 * many rows are appended. `trace gen` and `trace import` write through it, so an output of any size
 * (past 2 GiB) is written in pieces. Files are byte-identical to `writeCsvTrace` / `writeIotrace`
 * of the same rows.
 *
 * The CSV rows are encoded byte by byte into one reused buffer (no string per row); numbers that are
 * not whole numbers below 2^53 (rare: fractional times) go through `String()`, as writeCsvTrace does.
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { type TraceColumns, DMA_KINDS, OP_DMA, OP_MAP, OP_INV, DIR_READ, DIR_WRITE, INV_SCOPES, INV_IOTLB, SIZE_ALL } from './columns.js';
import { CSV_HEADER, CSV_HEADER_KIND } from './importers/csv.js';
import { IotraceWriter } from './iotrace.js';
import { atomicTarget } from '../util/output.js';
import { InputError, inputError } from '../util/errors.js';

/** Where bytes go: a file, or (tests) anything that takes them. */
export interface ByteSink {
  write(bytes: Uint8Array): void;
  close(): void;
}

/** Bytes of CSV text gathered before a write (the writer's whole buffer is this plus one row). */
export const CSV_CHUNK_BYTES = 1 << 20;

export interface TraceWriter {
  readonly path: string;
  /** Append `t.count` rows (t.devices is the writer's device table, or for CSV any table). */
  append(t: TraceColumns): void;
  /** Finish the file. */
  close(): void;
  /** Stop after a failure: close and delete the partial file. */
  abort(): void;
}

/** A sink writing to a file (created or truncated); write errors are InputErrors naming the path. */
export class FileSink implements ByteSink {
  private fd: number | null;
  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new InputError(`${path}: cannot create the output (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the path`);
    }
  }
  write(bytes: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.path}: write after close`);
    let done = 0;
    while (done < bytes.length) {
      try {
        done += writeSync(this.fd, bytes, done, bytes.length - done);
      } catch (e) {
        throw new InputError(`${this.path}: cannot write the output (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the disk space and the path`);
      }
    }
  }
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }
}

const enc = new TextEncoder();
const OPS = ['dma', 'map', 'unmap', 'inv'].map((s) => enc.encode(s));
const INV_OPS = INV_SCOPES.map((s) => enc.encode(`inv:${s}`));
const KIND_NAMES = DMA_KINDS.map((s) => enc.encode(s));
const READ = enc.encode('read');
const WRITE = enc.encode('write');
const HEX = enc.encode('0123456789abcdef');
const TWO53 = 2 ** 53;

/** CSV text (the format of parseCsvTrace) written in chunks of about CSV_CHUNK_BYTES. */
export class CsvTraceWriter implements TraceWriter {
  private buf: Uint8Array;
  private pos = 0;
  private devNames: Uint8Array[] = [];
  private devTable: string[] | null = null;
  private closed = false;

  /** `withKind`: write the optional kind column (a trace whose rows are all data has none, as writeCsvTrace does). */
  constructor(readonly path: string, private readonly sink: ByteSink, private readonly withKind = false) {
    this.buf = new Uint8Array(CSV_CHUNK_BYTES + 4096);
    this.pos = enc.encodeInto((withKind ? CSV_HEADER_KIND : CSV_HEADER) + '\n', this.buf).written;
  }

  append(t: TraceColumns): void {
    if (this.closed) throw new Error(`${this.path}: append after close`);
    if (t.devices !== this.devTable) {
      this.devTable = t.devices;
      this.devNames = t.devices.map((d) => enc.encode(d));
    }
    // room for one row: fixed fields ≤ ~130 bytes, a device name, and String() of two doubles
    const rowMax = 256 + this.devNames.reduce((m, d) => Math.max(m, d.length), 0);
    if (this.buf.length < CSV_CHUNK_BYTES + rowMax) {
      const b = new Uint8Array(CSV_CHUNK_BYTES + rowMax);
      b.set(this.buf.subarray(0, this.pos));
      this.buf = b;
    }
    for (let i = 0; i < t.count; i++) {
      if (this.pos >= CSV_CHUNK_BYTES) this.flush();
      this.row(t, i);
    }
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.sink.write(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } finally {
      this.sink.close();
    }
  }

  abort(): void {
    this.closed = true;
    try { this.sink.close(); } catch { /* already failing */ }
    try { unlinkSync(this.path); } catch { /* not created */ }
  }

  private bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  private comma(): void {
    this.buf[this.pos++] = 44;
  }

  /** A number as String() prints it: digits for whole numbers below 2^53, String() otherwise. */
  private num(v: number): void {
    if (v >= 0 && v < TWO53 && Math.floor(v) === v) {
      if (v === 0) { this.buf[this.pos++] = 48; return; }
      let digits = 0;
      for (let x = v; x >= 1; x = Math.floor(x / 10)) digits++;
      let p = this.pos + digits;
      this.pos = p;
      for (let x = v; x >= 1; x = Math.floor(x / 10)) this.buf[--p] = 48 + (x % 10);
      return;
    }
    this.pos += enc.encodeInto(String(v), this.buf.subarray(this.pos)).written;
  }

  /** `0x` + hex of a hi/lo address, as hexAddr prints it (no leading zeros). */
  private hex(hi: number, lo: number): void {
    const b = this.buf;
    b[this.pos++] = 48;
    b[this.pos++] = 120;
    let started = false;
    for (let s = 28; s >= 0; s -= 4) {
      const d = (hi >>> s) & 15;
      if (d !== 0 || started) { b[this.pos++] = HEX[d]!; started = true; }
    }
    for (let s = 28; s >= 0; s -= 4) {
      const d = (lo >>> s) & 15;
      if (d !== 0 || started || s === 0) { b[this.pos++] = HEX[d]!; started = true; }
    }
  }

  private row(t: TraceColumns, i: number): void {
    const op = t.op[i]!;
    this.num(t.timeNs[i]!);
    this.comma();
    this.bytes(this.devNames[t.device[i]!]!);
    this.comma();
    const pasid = t.pasid[i]!;
    if (pasid >= 0) this.num(pasid);
    this.comma();
    const dir = t.dir[i]!;
    const size = t.size[i]!;
    if (op === OP_INV) {
      this.bytes(dir !== INV_IOTLB ? INV_OPS[dir]! : OPS[op]!);
      this.comma();
      if (size !== SIZE_ALL) { this.hex(t.iovaHi[i]!, t.iovaLo[i]!); this.comma(); this.num(size); } else this.comma();
      this.comma();
    } else {
      this.bytes(OPS[op]!);
      this.comma();
      this.hex(t.iovaHi[i]!, t.iovaLo[i]!);
      this.comma();
      this.num(size);
      this.comma();
      if (op === OP_DMA) this.bytes(dir === DIR_READ ? READ : WRITE);
      else if (op === OP_MAP) { if (dir === DIR_READ) this.bytes(READ); else if (dir === DIR_WRITE) this.bytes(WRITE); }
    }
    this.comma();
    if (op === OP_MAP) this.hex(t.paddrHi[i]!, t.paddrLo[i]!);
    if (this.withKind) { this.comma(); this.bytes(KIND_NAMES[t.kind[i]!]!); }
    this.buf[this.pos++] = 10;
  }
}

class IotraceFileWriter implements TraceWriter {
  private readonly w: IotraceWriter;
  constructor(readonly path: string, devices: string[]) {
    this.w = new IotraceWriter(path, devices);
  }
  append(t: TraceColumns): void { this.w.append(t); }
  close(): void { this.w.close(); }
  abort(): void {
    try { this.w.close(); } catch { /* already failing */ }
    try { unlinkSync(this.path); } catch { /* not created */ }
  }
}

/**
 * A writer for `out` by its extension: `.csv` (text) or `.iotrace` (binary, columnar; `devices` is
 * its device table, fixed when the file is opened). Anything else is an InputError naming -o.
 */
export function openTraceWriter(out: string, devices: string[], withKind = false): TraceWriter {
  checkOutputName(out);
  // written to a temporary file beside `out`, renamed into place when whole (a reader sees all or nothing)
  const target = atomicTarget(out, { flag: '-o' });
  const inner = out.endsWith('.csv') ? new CsvTraceWriter(target.tmp, new FileSink(target.tmp), withKind) : new IotraceFileWriter(target.tmp, devices);
  return {
    path: out,
    append: (t) => inner.append(t),
    close: () => { inner.close(); target.commit(); },
    abort: () => { inner.abort(); target.abort(); },
  };
}

/** An output name must end .csv or .iotrace (checked before any work is done). */
export function checkOutputName(out: string): void {
  if (!out.endsWith('.csv') && !out.endsWith('.iotrace')) throw inputError(`-o ${out}`, 'unknown output format', 'name the output .iotrace (binary, columnar) or .csv');
}

/** Rows [from, to) of `t` as a view (no copy). */
export function sliceColumns(t: TraceColumns, from: number, to: number): TraceColumns {
  return {
    count: to - from, devices: t.devices,
    timeNs: t.timeNs.subarray(from, to), device: t.device.subarray(from, to), pasid: t.pasid.subarray(from, to),
    op: t.op.subarray(from, to), iovaHi: t.iovaHi.subarray(from, to), iovaLo: t.iovaLo.subarray(from, to),
    size: t.size.subarray(from, to), dir: t.dir.subarray(from, to),
    paddrHi: t.paddrHi.subarray(from, to), paddrLo: t.paddrLo.subarray(from, to), kind: t.kind.subarray(from, to),
  };
}

/** Write whole columns to `out` through a TraceWriter, a slice at a time; a failure deletes the partial file. */
export function writeTraceFile(t: TraceColumns, out: string, sliceRows = 1 << 16): void {
  let withKind = false;
  for (let i = 0; i < t.count && !withKind; i++) if (t.kind[i] !== 0) withKind = true;
  const w = openTraceWriter(out, t.devices, withKind);
  try {
    for (let s = 0; s < t.count; s += sliceRows) w.append(sliceColumns(t, s, Math.min(t.count, s + sliceRows)));
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
}
