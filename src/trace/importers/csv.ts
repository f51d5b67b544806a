/**
 * The CSV trace format (see docs/trace-formats.md):
 *
 *   time_ns,device,pasid,op,iova,size,dir,paddr
 *   0,0000:01:00.0,,map,0x100000,8192,,0x2000000
 *   10,01:00.0,,dma,0x100010,1500,write,
 *
 * - time_ns: decimal nanoseconds, non-decreasing.
 * - device: PCI address (`0000:01:00.0` or `01:00.0`); `*` only on `inv:global`.
 * - pasid: empty (no PASID) or 0..1048575.
 * - op: dma | map | unmap | inv, where inv may name its target: inv (= inv:iotlb), inv:pwc,
 *   inv:devtlb, inv:context, inv:global.
 * - iova: hex with 0x (required for dma/map/unmap; on inv, empty = domain-wide).
 * - size: bytes, decimal, > 0 (required for dma/map/unmap).
 * - dir: dma: read (device reads memory) | write; map: empty or rw (read+write), read, write;
 *   empty otherwise.
 * - paddr: hex with 0x; map only. A map covers the 4 KiB pages [iova, iova+size) touches; iova and
 *   paddr must have the same offset within their pages (as dma_map_single's result has).
 * - kind (optional 9th column, header `...,paddr,kind`): the DMA's kind by name (data, desc, cqe,
 *   doorbell, ack; src/iommu/kinds.ts DMA_KINDS); empty or no such column: data.
 * Lines starting with `#` and blank lines are skipped. Any error names file:line and the fix.
 *
 * The parser works on bytes: the common lines go straight into the sink with no string per line
 * (the fast path, CsvParser.fastLine), every other line through the line-by-line parser.
 */
import { TraceBuilder, type TraceColumns, type RowSink, OP_DMA, OP_MAP, OP_UNMAP, OP_INV, DIR_NONE, DIR_READ, DIR_WRITE, DIR_RW, INV_SCOPES, INV_IOTLB, SIZE_ALL, INV_GLOBAL, DMA_KINDS, MAX_TRACE_DEVICES, pageOf, pagesTouched } from '../columns.js';
import { InputError } from '../../util/errors.js';
import { canonicalBdf } from '../../config/bdf.js';

export const CSV_HEADER = 'time_ns,device,pasid,op,iova,size,dir,paddr';
/** The header with the optional kind column. */
export const CSV_HEADER_KIND = CSV_HEADER + ',kind';

export interface CsvOptions {
  /** Reject map/unmap addresses at or beyond 2^bits (the IOMMU address width). */
  addressBits?: number;
}

export function detectCsv(head: string): boolean {
  const first = head.split(/\r?\n/).find((l) => l.trim() !== '' && !l.startsWith('#'));
  const h = first?.trim().replace(/\s+/g, '');
  return h === CSV_HEADER || h === CSV_HEADER_KIND;
}

const C_COMMA = 44, C_NL = 10, C_CR = 13, C_HASH = 35, C_0 = 48, C_9 = 57, C_DOT = 46;

export function parseCsvTrace(bytes: Uint8Array, fileName: string, opts: CsvOptions = {}): TraceColumns {
  const b = new TraceBuilder(Math.max(1024, Math.min(1 << 24, Math.floor(bytes.length / 40))));
  const p = csvLines(fileName, opts, b);
  p.lines(bytes, 0, bytes.length, Infinity);
  p.finish();
  return b.finish();
}

/**
 * The CSV trace read with the fast path off: every line through the line-by-line parser (the
 * definition of the format, and the reference the fast path is tested against).
 */
export function parseCsvTraceLineByLine(bytes: Uint8Array, fileName: string, opts: CsvOptions = {}): TraceColumns {
  const b = new TraceBuilder(1024);
  const p = csvLines(fileName, opts, b, false);
  p.lines(bytes, 0, bytes.length, Infinity);
  p.finish();
  return b.finish();
}

const KIND_BYTES = DMA_KINDS.map((k) => new TextEncoder().encode(k));

/** Value of each byte as a hex digit (0-9, a-f, A-F), -1 for any other. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** The CSV parser working through a file's lines a run at a time (see `csvLines`). */
export interface CsvLines {
  /**
   * Parse the lines in bytes[pos, end) into the sink, stopping before a line once `room` rows were
   * pushed; returns where it stopped (`end` when it parsed them all). A run ends just after a
   * newline, or at the end of the file (a last line without one).
   */
  lines(bytes: Uint8Array, pos: number, end: number, room: number): number;
  /** Number the next line `n + 1` (the JSONL reader's CSV lines carry the JSONL line numbers). */
  setLine(n: number): void;
  /** After the last line: a file without a header line is an error. */
  finish(): void;
}

/**
 * The CSV parser, state kept between runs of lines: the whole-file parse gives it the whole file
 * at once, a streamed read (src/run/stream.ts) a piece at a time; both see the same lines in the
 * same order, so the rows and the first error are the same.
 *
 * Two paths, one result. The fast path reads a line of the common shape (the rows iommusim writes:
 * whole-number times, a device field seen before, dma / map / unmap, no spaces) straight from the
 * bytes, with no string per line; any other line (the header, comments, fractions, spaces, inv
 * records, a new device, and every error) goes through the line-by-line parser, which is the
 * definition of the format. The fast path takes only lines that parser reads the same way
 * (test/trace/csv.test.ts checks it against `parseCsvTraceLineByLine` on random and damaged
 * traces); `fast = false` turns it off.
 */
export function csvLines(fileName: string, opts: CsvOptions, sink: RowSink, fast = true): CsvLines {
  return new CsvParser(fileName, opts, sink, fast);
}

/** The name of the op field in messages. */
const FIELD_OP = 'op';

/**
 * The parser of `csvLines`, its state in fields: the fast path allocates nothing per line (no
 * object, closure or string); the line-by-line parser only the device field's string (and the
 * text of a field an error names).
 */
class CsvParser implements CsvLines {
  /** The run being parsed: set by each lines() call, read by the methods below. */
  private bytes: Uint8Array = new Uint8Array(0);
  /** Device field text → device index (the line-by-line parser's: one canonicalization per text). */
  private readonly devCache = new Map<string, number>();
  /** The first page number beyond the address width (Infinity: no limit). */
  private readonly maxPnHi: number;
  /** The number of the line being parsed (1-based). */
  private line = 0;
  private sawHeader = false;
  /** Fields per line: 9 with the kind column. */
  private nf = 8;
  private lastTime = -Infinity;
  /** Field boundaries of the current line: field k is bytes[fs[k], fe[k]), spaces trimmed. */
  private readonly fs = new Int32Array(9);
  private readonly fe = new Int32Array(9);
  /** The last hex number read (either path): its high and low 32 bits. */
  private hexHi = 0;
  private hexLo = 0;
  /** The inv scope parseOp found (0 for other ops). */
  private scope = 0;
  /** The device index fastDevice found. */
  private fastDev = 0;
  /** Where the kind fastKind read ends. */
  private fastKindEnd = 0;
  /**
   * The device fields the line-by-line parser read (no spaces, not '*'): their bytes and device
   * index, for the fast path; the last line's device (lastDev) tried first.
   */
  private readonly devText: Uint8Array[] = [];
  private readonly devIdx: number[] = [];
  private lastDev = -1;

  constructor(private readonly fileName: string, private readonly opts: CsvOptions, private readonly sink: RowSink, private readonly fast: boolean) {
    this.maxPnHi = opts.addressBits !== undefined ? 2 ** (opts.addressBits - 12) : Infinity;
  }

  lines(run: Uint8Array, pos: number, n: number, room: number): number {
    this.bytes = run;
    let pushed = 0;
    while (pos < n) {
      if (pushed >= room) return pos;
      let end = run.indexOf(C_NL, pos);
      if (end < 0 || end > n) end = n;
      // the fast path only for a line ending in a newline before n (its scans stop at that newline)
      if ((this.fast && this.sawHeader && end < n && this.fastLine(pos, end)) || this.slowLine(pos, end)) pushed++;
      pos = end + 1;
    }
    return pos > n ? n : pos; // past a last line without a newline
  }

  setLine(n: number): void {
    this.line = n;
  }

  finish(): void {
    if (!this.sawHeader) throw new InputError(`${this.fileName}: no header line; the first line must be ${CSV_HEADER}`);
  }

  private fail(what: string, fix: string): never {
    throw new InputError(`${this.fileName}:${this.line}: ${what}; ${fix}`);
  }

  // ------------------------------------------------------------------------------- the fast path

  /**
   * The fast path: the line bytes[pos, end) (end: its newline) of the common shape into the sink;
   * false, nothing pushed, for any other line (then the line-by-line parser reads it).
   */
  private fastLine(pos: number, end: number): boolean {
    const bytes = this.bytes;
    let p = pos;
    let c = bytes[p];
    // time_ns: whole, up to 15 digits (exact below 2^53), not before the last
    if (c < C_0 || c > C_9) return false;
    let time = 0;
    do { time = time * 10 + (c - C_0); c = bytes[++p]; } while (c >= C_0 && c <= C_9);
    if (c !== C_COMMA || p - pos > 15 || time < this.lastTime) return false;
    // device: the bytes of a device field read before
    p = this.fastDevice(p + 1);
    if (p < 0) return false;
    const dev = this.fastDev;
    // pasid: empty, or up to 7 digits below 2^20
    c = bytes[++p];
    let pasid = -1;
    if (c !== C_COMMA) {
      const s0 = p;
      pasid = 0;
      while (c >= C_0 && c <= C_9) { pasid = pasid * 10 + (c - C_0); c = bytes[++p]; }
      if (c !== C_COMMA || p === s0 || p - s0 > 7 || pasid > 0xfffff) return false;
    }
    // op: dma, map, unmap
    let op: number;
    c = bytes[++p];
    if (c === 0x64 && bytes[p + 1] === 0x6d && bytes[p + 2] === 0x61 && bytes[p + 3] === C_COMMA) { op = OP_DMA; p += 3; }
    else if (c === 0x6d && bytes[p + 1] === 0x61 && bytes[p + 2] === 0x70 && bytes[p + 3] === C_COMMA) { op = OP_MAP; p += 3; }
    else if (c === 0x75 && bytes[p + 1] === 0x6e && bytes[p + 2] === 0x6d && bytes[p + 3] === 0x61 && bytes[p + 4] === 0x70 && bytes[p + 5] === C_COMMA) { op = OP_UNMAP; p += 5; }
    else return false;
    // iova
    p = this.fastHex(p + 1);
    if (p < 0 || bytes[p] !== C_COMMA) return false;
    const hi = this.hexHi, lo = this.hexLo;
    // size: 1 to 15 digits, not 0
    c = bytes[++p];
    const z0 = p;
    let size = 0;
    while (c >= C_0 && c <= C_9) { size = size * 10 + (c - C_0); c = bytes[++p]; }
    if (c !== C_COMMA || p === z0 || p - z0 > 15 || size === 0) return false;
    // dir
    let dir = DIR_NONE;
    c = bytes[++p];
    if (c === 0x72 && bytes[p + 1] === 0x65 && bytes[p + 2] === 0x61 && bytes[p + 3] === 0x64 && op !== OP_UNMAP) { dir = DIR_READ; p += 4; }
    else if (c === 0x77 && bytes[p + 1] === 0x72 && bytes[p + 2] === 0x69 && bytes[p + 3] === 0x74 && bytes[p + 4] === 0x65 && op !== OP_UNMAP) { dir = DIR_WRITE; p += 5; }
    else if (op === OP_MAP) {
      if (c === 0x72 && bytes[p + 1] === 0x77) p += 2;
      dir = DIR_RW;
    } else if (op === OP_DMA) return false;
    if (bytes[p] !== C_COMMA) return false;
    // paddr: a map's, with iova's offset in the page; empty otherwise
    let paHi = 0, paLo = 0;
    ++p;
    if (op === OP_MAP) {
      p = this.fastHex(p);
      if (p < 0) return false;
      paHi = this.hexHi; paLo = this.hexLo;
      if ((paLo & 0xfff) !== (lo & 0xfff)) return false;
    }
    if (op !== OP_DMA && this.maxPnHi !== Infinity && pageOf(hi, lo) + pagesTouched(lo & 0xfff, size) - 1 >= this.maxPnHi) return false;
    // kind (9 columns), then the line's end
    let kind = 0;
    if (this.nf === 9) {
      if (bytes[p] !== C_COMMA) return false;
      kind = this.fastKind(++p);
      if (kind < 0) return false;
      p = this.fastKindEnd;
    }
    if (bytes[p] === C_CR) ++p;
    if (p !== end) return false;
    this.line++;
    this.lastTime = time;
    this.sink.push(time, dev, pasid, op, hi, lo, size, dir, paHi, paLo, kind);
    return true;
  }

  /**
   * The fast path's device field at ds: the bytes of a device field read before, followed by a
   * comma (compared from the last byte: addresses that differ mostly differ in their function or
   * device). The position of that comma, the device in fastDev; -1 for any other field.
   */
  private fastDevice(ds: number): number {
    const bytes = this.bytes;
    const last = this.lastDev;
    if (last >= 0) {
      const d = this.devText[last], len = d.length;
      if (bytes[ds + len] === C_COMMA) {
        let k = len - 1;
        while (k >= 0 && bytes[ds + k] === d[k]) k--;
        if (k < 0) { this.fastDev = this.devIdx[last]; return ds + len; }
      }
    }
    let p = ds, c: number;
    while ((c = bytes[p]) !== C_COMMA && c !== C_NL) p++;
    if (c !== C_COMMA) return -1;
    const len = p - ds;
    for (let j = 0; j < this.devText.length; j++) {
      const d = this.devText[j];
      if (d.length !== len) continue;
      let k = len - 1;
      while (k >= 0 && bytes[ds + k] === d[k]) k--;
      if (k < 0) { this.fastDev = this.devIdx[j]; this.lastDev = j; return p; }
    }
    return -1;
  }

  /** The fast path's hex number at p: 0x and 1 to 16 hex digits, into hexHi/hexLo; the position after it, -1 if none. */
  private fastHex(p: number): number {
    const bytes = this.bytes;
    if (bytes[p] !== C_0 || (bytes[p + 1] | 0x20) !== 0x78) return -1;
    p += 2;
    let hi = 0, lo = 0;
    const h0 = p;
    for (let d = HEX[bytes[p]]; d >= 0; d = HEX[bytes[++p]]) {
      hi = ((hi << 4) | (lo >>> 28)) >>> 0;
      lo = ((lo << 4) | d) >>> 0;
    }
    if (p === h0 || p - h0 > 16) return -1;
    this.hexHi = hi;
    this.hexLo = lo;
    return p;
  }

  /** The fast path's kind field at p: empty (data) or a kind's name; its index (end in fastKindEnd), -1 for any other. */
  private fastKind(p: number): number {
    const bytes = this.bytes;
    this.fastKindEnd = p;
    const c = bytes[p];
    if (c === C_NL || c === C_CR) return 0;
    for (let j = 0; j < KIND_BYTES.length; j++) {
      const w = KIND_BYTES[j];
      let k = 0;
      while (k < w.length && bytes[p + k] === w[k]) k++;
      if (k === w.length) { this.fastKindEnd = p + k; return j; }
    }
    return -1;
  }

  // -------------------------------------------------------------------- the line-by-line parser

  /**
   * The line-by-line parser: the line bytes[ls, end) (end: its newline, or the end of the run);
   * true when it pushed a row (false for a blank line, a comment or the header).
   */
  private slowLine(ls: number, end: number): boolean {
    const bytes = this.bytes;
    this.line++;
    let le = end;
    if (le > ls && bytes[le - 1] === C_CR) le--;
    if (le === ls || bytes[ls] === C_HASH) return false;
    const k = this.split(ls, le);
    if (!this.sawHeader) {
      this.header(ls, le);
      return false;
    }
    const nf = this.nf;
    if (k !== nf - 1) this.fail(`${k + 1} fields where ${nf} are expected`, `each line has ${nf === 8 ? CSV_HEADER : CSV_HEADER_KIND} (empty fields stay as ,,)`);
    this.record();
    return true;
  }

  /** The line bytes[ls, le) split at its commas into fs/fe, each field's spaces trimmed; the last field's index. */
  private split(ls: number, le: number): number {
    const bytes = this.bytes, fs = this.fs, fe = this.fe, nf = this.nf;
    const most = (this.sawHeader ? nf : 9) - 1;
    let k = 0;
    fs[0] = ls;
    for (let i = ls; i < le; i++) {
      if (bytes[i] === C_COMMA) {
        if (k >= most) this.fail(`more than ${nf} fields`, `each line has ${nf === 8 ? CSV_HEADER : CSV_HEADER_KIND}`);
        fe[k] = i;
        k++;
        fs[k] = i + 1;
      }
    }
    fe[k] = le;
    for (let j = 0; j <= k; j++) {
      while (fs[j] < fe[j] && bytes[fs[j]] === 32) fs[j]++;
      while (fe[j] > fs[j] && bytes[fe[j] - 1] === 32) fe[j]--;
    }
    return k;
  }

  /** The header line bytes[ls, le): with or without the kind column. */
  private header(ls: number, le: number): void {
    let h = '';
    for (let i = ls; i < le; i++) h += String.fromCharCode(this.bytes[i]);
    const hs = h.replace(/\s+/g, '');
    if (hs !== CSV_HEADER && hs !== CSV_HEADER_KIND) this.fail(`the header is '${h.slice(0, 80)}'`, `the first line must be ${CSV_HEADER} (optionally followed by ,kind)`);
    if (hs === CSV_HEADER_KIND) this.nf = 9;
    this.sawHeader = true;
  }

  /** A data line's fields into a row, each checked in the format's order (the first error wins). */
  private record(): void {
    const fs = this.fs, fe = this.fe;
    const op = this.parseOp();
    const scope = this.scope;
    const time = this.parseDec(0, 'time_ns', true);
    if (time < this.lastTime) this.fail(`time_ns ${time} is before the previous record's ${this.lastTime}`, 'sort the trace by time_ns');
    this.lastTime = time;
    const dev = this.parseDevice(op, scope);
    const pasid = this.parsePasid();
    // iova
    let iovaHi = 0, iovaLo = 0;
    const hasIova = fe[4] > fs[4];
    if (hasIova) { this.parseHex(4, 'iova'); iovaHi = this.hexHi; iovaLo = this.hexLo; }
    else if (op !== OP_INV) this.fail(`iova is empty on a ${FIELD_OP} '${this.text(3)}' record`, 'give the IO virtual address in hex, e.g. 0x100000');
    const size = this.parseSize(op, hasIova);
    const dir = op === OP_INV ? scope : this.parseDir(op);
    // paddr
    let paHi = 0, paLo = 0;
    if (op === OP_MAP) {
      if (fe[7] === fs[7]) this.fail('paddr is empty on a map', 'give the physical address in hex');
      this.parseHex(7, 'paddr');
      paHi = this.hexHi; paLo = this.hexLo;
      if ((paLo & 0xfff) !== (iovaLo & 0xfff)) {
        this.fail('map iova and paddr have different offsets within their 4 KiB pages', 'give them the same offset (the IOMMU maps whole pages: iova page → paddr page)');
      }
    } else if (fe[7] > fs[7]) this.fail(`paddr on a ${this.text(3)} record`, 'paddr is only for map');
    if ((op === OP_MAP || op === OP_UNMAP) && this.maxPnHi !== Infinity) this.checkWidth(iovaHi, iovaLo, size);
    const kind = this.parseKind();
    this.sink.push(time, dev, pasid, op, iovaHi, iovaLo, size, dir, paHi, paLo, kind);
    if (this.fast) this.rememberDevice(dev);
  }

  /** The op field: its code; an inv's scope in `scope`. */
  private parseOp(): number {
    this.scope = 0;
    if (this.eq(3, 'dma')) return OP_DMA;
    if (this.eq(3, 'map')) return OP_MAP;
    if (this.eq(3, 'unmap')) return OP_UNMAP;
    if (this.eq(3, 'inv')) return OP_INV;
    const t = this.text(3);
    const m = /^inv:(\w+)$/.exec(t);
    const si = m ? (INV_SCOPES as readonly string[]).indexOf(m[1]) : -1;
    if (si < 0) this.fail(`unknown op '${t}'`, 'use dma, map, unmap, inv, inv:pwc, inv:devtlb, inv:context or inv:global');
    this.scope = si;
    return OP_INV;
  }

  /** The device field: its index in the sink (`*` only on inv:global). */
  private parseDevice(op: number, scope: number): number {
    const dtext = this.text(1);
    const cached = this.devCache.get(dtext);
    if (cached !== undefined) return cached;
    const where = `${this.fileName}:${this.line}`;
    let dev: number;
    if (dtext === '*') {
      if (!(op === OP_INV && scope === INV_GLOBAL)) this.fail(`device '*' is only for inv:global`, 'name the device as 0000:01:00.0');
      dev = this.sink.deviceIndex('*', where);
    } else {
      let canon = '';
      try { canon = canonicalBdf(dtext, 'device'); } catch { this.fail(`device '${dtext}' is not a PCI address`, 'write it as 0000:01:00.0 or 01:00.0'); }
      dev = this.sink.deviceIndex(canon, where);
    }
    this.devCache.set(dtext, dev);
    return dev;
  }

  /** The pasid field: -1 when empty. */
  private parsePasid(): number {
    if (this.fe[2] === this.fs[2]) return -1;
    const pasid = this.parseDec(2, 'pasid', false);
    if (pasid > 0xfffff) this.fail(`pasid ${pasid} is above 1048575 (20 bits)`, 'use a 20-bit PASID or leave it empty');
    return pasid;
  }

  /** The size field: bytes, > 0; SIZE_ALL for a domain-wide inv (no iova). */
  private parseSize(op: number, hasIova: boolean): number {
    let size = 0;
    const hasSize = this.fe[5] > this.fs[5];
    if (hasSize) {
      size = this.parseDec(5, 'size', false);
      if (size === 0) this.fail('size is 0', 'a DMA, map or unmap covers at least 1 byte');
    } else if (op !== OP_INV) this.fail('size is empty', 'give the size in bytes (decimal)');
    if (op === OP_INV && !hasIova) size = SIZE_ALL;
    else if (op === OP_INV && !hasSize) this.fail('inv with an iova needs a size', 'give the size in bytes, or leave iova empty for a domain-wide invalidation');
    return size;
  }

  /** The dir field of a dma, map or unmap (an inv's dir column holds its scope). */
  private parseDir(op: number): number {
    if (op === OP_DMA) {
      if (this.eq(6, 'read')) return DIR_READ;
      if (this.eq(6, 'write')) return DIR_WRITE;
      this.fail(`dir '${this.text(6)}' on a dma`, 'use read (the device reads memory) or write (the device writes memory)');
    }
    if (op === OP_MAP) {
      if (this.fe[6] === this.fs[6] || this.eq(6, 'rw')) return DIR_RW;
      if (this.eq(6, 'read')) return DIR_READ;
      if (this.eq(6, 'write')) return DIR_WRITE;
      this.fail(`dir '${this.text(6)}' on a map`, 'leave it empty (read+write) or use read, write or rw');
    }
    if (this.fe[6] > this.fs[6]) this.fail(`dir '${this.text(6)}' on an unmap`, 'leave dir empty on unmap');
    return DIR_NONE;
  }

  /** A map's or unmap's last page below the address width. */
  private checkWidth(iovaHi: number, iovaLo: number, size: number): void {
    const lastPn = pageOf(iovaHi, iovaLo) + pagesTouched(iovaLo & 0xfff, size) - 1;
    if (lastPn >= this.maxPnHi) {
      const bits = this.opts.addressBits!;
      this.fail(`iova ${this.text(4)} + size ${size} is beyond the ${bits}-bit address width`, `use iommu.levels=${bits < 48 ? 4 : 5} or addresses below 2^${bits}`);
    }
  }

  /** The kind field (optional column): a DMA_KINDS name; empty or no column = data. */
  private parseKind(): number {
    if (this.nf !== 9 || this.fe[8] === this.fs[8]) return 0;
    for (let j = 0; j < DMA_KINDS.length; j++) if (this.eq(8, DMA_KINDS[j])) return j;
    return this.fail(`unknown kind '${this.text(8)}'`, `use one of ${DMA_KINDS.join(', ')} (or leave it empty: data)`);
  }

  /** A device field of no spaces (and not '*'): its bytes remembered for the fast path (at most 64). */
  private rememberDevice(dev: number): void {
    const bytes = this.bytes, s = this.fs[1], e = this.fe[1];
    if (this.devText.length >= 64 || this.eq(1, '*') || bytes[s - 1] !== C_COMMA || bytes[e] !== C_COMMA) return;
    const len = e - s;
    if (len > 0 && !this.devText.some((d) => d.length === len && d.every((x, i) => x === bytes[s + i]))) {
      this.devText.push(bytes.slice(s, e));
      this.devIdx.push(dev);
    }
  }

  // -------------------------------------------------------------------------- field helpers

  /** Field k as a string. */
  private text(k: number): string {
    let s = '';
    for (let i = this.fs[k]; i < this.fe[k]; i++) s += String.fromCharCode(this.bytes[i]);
    return s;
  }

  /** Field k is exactly s. */
  private eq(k: number, s: string): boolean {
    const a = this.fs[k];
    if (this.fe[k] - a !== s.length) return false;
    for (let i = 0; i < s.length; i++) if (this.bytes[a + i] !== s.charCodeAt(i)) return false;
    return true;
  }

  /** Field k as a 0x hex number of at most 64 bits, into hexHi/hexLo. */
  private parseHex(k: number, what: string): void {
    const bytes = this.bytes;
    let i = this.fs[k];
    const e = this.fe[k];
    if (e - i < 3 || bytes[i] !== C_0 || (bytes[i + 1] | 0x20) !== 0x78) this.fail(`${what} '${this.text(k)}' is not a hex address`, `write it with 0x, e.g. 0x7f001000`);
    i += 2;
    if (e - i > 16) this.fail(`${what} '${this.text(k)}' is wider than 64 bits`, 'use at most 16 hex digits');
    let hi = 0, lo = 0;
    for (; i < e; i++) {
      const d = HEX[bytes[i]];
      if (d < 0) this.fail(`${what} '${this.text(k)}' has a character that is not hex`, 'use 0-9 and a-f after 0x');
      hi = ((hi << 4) | (lo >>> 28)) >>> 0;
      lo = ((lo << 4) | d) >>> 0;
    }
    this.hexHi = hi;
    this.hexLo = lo;
  }

  /** Field k as a decimal number below 2^53 (with a fraction when allowFrac). */
  private parseDec(k: number, what: string, allowFrac: boolean): number {
    const bytes = this.bytes;
    let i = this.fs[k];
    const e = this.fe[k];
    if (i === e) this.fail(`${what} is empty`, `give ${what} as a decimal number`);
    let v = 0;
    let frac = 0, scale = 1, inFrac = false;
    for (; i < e; i++) {
      const c = bytes[i];
      if (c >= C_0 && c <= C_9) {
        if (inFrac) { scale /= 10; frac += (c - C_0) * scale; } else v = v * 10 + (c - C_0);
      } else if (c === C_DOT && allowFrac && !inFrac) inFrac = true;
      else this.fail(`${what} '${this.text(k)}' is not a ${allowFrac ? 'number' : 'whole number'}`, `give ${what} in decimal digits`);
    }
    if (v > Number.MAX_SAFE_INTEGER) this.fail(`${what} '${this.text(k)}' is too large`, 'use a value below 2^53');
    return v + frac;
  }
}

/**
 * The cheap first pass of a streamed CSV read (src/run/stream.ts): the device table (canonical
 * addresses in order of first appearance, as the parser builds it), the number of data lines, and
 * whether a row names a kind other than data — from the device and kind fields alone: no number is
 * parsed and nothing is checked, several times faster than the parse. For a file the parser
 * accepts this is exactly what the parse finds. For any other, the parse of the second pass stops
 * at the first error, at its line, with the whole-file message; a device that is not in the table
 * is refused there as the parser would (see ChunkSink).
 */
export class CsvScan {
  /** Canonical addresses (and `*`), in order of first appearance, at most MAX_TRACE_DEVICES. */
  readonly devices: string[] = [];
  /** Data lines (the rows of a valid file). */
  count = 0;
  /** A row's kind column names a kind other than data. */
  kinds = false;
  private header = false;
  private withKind = false;
  /** Device field text → seen (the parser's cache: one canonicalization per distinct text). */
  private readonly texts = new Set<string>();
  private readonly known = new Set<string>();
  /** Device fields' bytes seen before (at most 64), the last line's first to try. */
  private readonly seen: Uint8Array[] = [];
  private last = -1;

  /** The whole lines in bytes[pos, end) (a run as csvLines takes it). */
  lines(b: Uint8Array, pos: number, end: number): void {
    while (pos < end) {
      let e = b.indexOf(C_NL, pos);
      if (e < 0 || e > end) e = end;
      let le = e;
      if (le > pos && b[le - 1] === C_CR) le--;
      const ls = pos;
      pos = e + 1;
      if (le === ls || b[ls] === C_HASH) continue;
      if (!this.header) {
        this.header = true;
        this.withKind = Buffer.from(b.buffer, b.byteOffset + ls, le - ls).toString('latin1').replace(/\s+/g, '') === CSV_HEADER_KIND;
        continue;
      }
      this.count++;
      // the device: the second field, spaces trimmed
      let a = ls;
      while (a < le && b[a] !== C_COMMA) a++;
      if (a === le) continue; // one field: the parse refuses the line
      let z = ++a;
      while (z < le && b[z] !== C_COMMA) z++;
      while (a < z && b[a] === 32) a++;
      while (z > a && b[z - 1] === 32) z--;
      if (!this.same(b, a, z, this.last)) {
        let j = this.seen.length - 1;
        while (j >= 0 && !this.same(b, a, z, j)) j--;
        if (j >= 0) this.last = j;
        else this.device(b, a, z);
      }
      if (this.withKind && !this.kinds) {
        // the kind: the last field
        let k = le;
        while (k > ls && b[k - 1] !== C_COMMA) k--;
        while (k < le && b[k] === 32) k++;
        let ke = le;
        while (ke > k && b[ke - 1] === 32) ke--;
        this.kinds = ke > k && !(ke - k === 4 && b[k] === 100 && b[k + 1] === 97 && b[k + 2] === 116 && b[k + 3] === 97); // not "data"
      }
    }
  }

  /** bytes[a, z) are those of seen[j] (compared from the last byte: addresses mostly differ in their function). */
  private same(b: Uint8Array, a: number, z: number, j: number): boolean {
    if (j < 0) return false;
    const d = this.seen[j];
    if (d.length !== z - a) return false;
    let k = d.length - 1;
    while (k >= 0 && b[a + k] === d[k]) k--;
    return k < 0;
  }

  private device(b: Uint8Array, a: number, z: number): void {
    if (this.seen.length < 64) {
      this.seen.push(b.slice(a, z));
      this.last = this.seen.length - 1;
    }
    const text = Buffer.from(b.buffer, b.byteOffset + a, z - a).toString('latin1');
    if (this.texts.has(text)) return;
    this.texts.add(text);
    let canon = text;
    if (text !== '*') {
      try { canon = canonicalBdf(text, 'device'); } catch { return; } // the parse refuses it
    }
    if (this.known.has(canon) || this.devices.length >= MAX_TRACE_DEVICES) return;
    this.known.add(canon);
    this.devices.push(canon);
  }
}

/** Write columns back as CSV text (round trip of parseCsvTrace); the kind column only when a row has a kind other than data. */
export function writeCsvTrace(t: TraceColumns): string {
  let kinds = false;
  for (let i = 0; i < t.count && !kinds; i++) if (t.kind[i] !== 0) kinds = true;
  const out: string[] = [kinds ? CSV_HEADER_KIND : CSV_HEADER];
  const hex = (hi: number, lo: number) => (hi === 0 ? '0x' + lo.toString(16) : '0x' + hi.toString(16) + lo.toString(16).padStart(8, '0'));
  const opName = ['dma', 'map', 'unmap', 'inv'];
  for (let i = 0; i < t.count; i++) {
    const op = t.op[i];
    let o = opName[op];
    let iova = hex(t.iovaHi[i], t.iovaLo[i]);
    let size = String(t.size[i]);
    let dir = '';
    if (op === OP_INV) {
      if (t.dir[i] !== INV_IOTLB) o = `inv:${INV_SCOPES[t.dir[i]]}`;
      if (t.size[i] === SIZE_ALL) { iova = ''; size = ''; }
    } else if (op === OP_DMA) dir = t.dir[i] === DIR_READ ? 'read' : 'write';
    else if (op === OP_MAP) dir = t.dir[i] === DIR_READ ? 'read' : t.dir[i] === DIR_WRITE ? 'write' : '';
    const pasid = t.pasid[i] < 0 ? '' : String(t.pasid[i]);
    const paddr = op === OP_MAP ? hex(t.paddrHi[i], t.paddrLo[i]) : '';
    out.push(`${t.timeNs[i]},${t.devices[t.device[i]]},${pasid},${o},${iova},${size},${dir},${paddr}${kinds ? ',' + DMA_KINDS[t.kind[i]] : ''}`);
  }
  return out.join('\n') + '\n';
}
