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
 * The parser works on bytes: the common lines go straight into the columns with no string per
 * line (parseCsvTrace's fast path), every other line through the line-by-line parser.
 */
import { TraceBuilder, growColumns, type TraceColumns, OP_DMA, OP_MAP, OP_UNMAP, OP_INV, DIR_NONE, DIR_READ, DIR_WRITE, DIR_RW, INV_SCOPES, SIZE_ALL, INV_GLOBAL, DMA_KINDS } from '../columns.js';
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
const FIELD = ['time_ns', 'device', 'pasid', 'op', 'iova', 'size', 'dir', 'paddr'];

/**
 * Parse a CSV trace. Two paths, one result: a fast path reads the lines of the common shape (the
 * rows iommusim writes: whole-number times, a device seen before, dma / map / unmap, no spaces)
 * straight from the bytes into the columns, with no string per line; every other line (the header,
 * comments, fractions, spaces, inv records, a new device, and every error) goes through the
 * line-by-line parser (`CsvLines`), which is the definition of the format. The fast path accepts
 * only lines that the line-by-line parser reads the same way (test/trace/csv.test.ts checks it
 * against `parseCsvTraceLineByLine` on random and damaged traces).
 */
export function parseCsvTrace(bytes: Uint8Array, fileName: string, opts: CsvOptions = {}): TraceColumns {
  // every line ends with a newline (a copy with one added when the last does not), so the scans
  // below stop at it without a bounds test
  if (bytes.length > 0 && bytes[bytes.length - 1] !== C_NL) {
    const b = new Uint8Array(bytes.length + 1);
    b.set(bytes);
    b[bytes.length] = C_NL;
    bytes = b;
  }
  const n = bytes.length;
  const P = new CsvLines(bytes, fileName, opts);
  const b = P.b;
  const maxPnHi = P.maxPnHi;
  // the device fields seen on lines the line-by-line parser read: their bytes (start, length in
  // `bytes`) and device index, the most recent first to try
  const devStart: number[] = [], devLen: number[] = [], devIdx: number[] = [];
  let lastDev = -1; // index into devStart of the last line's device
  let pos = 0;
  let line = 0;
  let lastTime = -Infinity;
  let t = b.t;
  let cap = t.timeNs.length;
  let count = 0;
  let timeCol = t.timeNs, devCol = t.device, pasidCol = t.pasid, opCol = t.op, ihCol = t.iovaHi, ilCol = t.iovaLo;
  let sizeCol = t.size, dirCol = t.dir, phCol = t.paddrHi, plCol = t.paddrLo, kindCol = t.kind;
  while (pos < n) {
    fast: if (P.sawHeader) {
      let p = pos;
      let c = bytes[p];
      // time_ns: whole, up to 15 digits (exact below 2^53), not before the last
      if (c < C_0 || c > C_9) break fast;
      let time = 0;
      do { time = time * 10 + (c - C_0); c = bytes[++p]; } while (c >= C_0 && c <= C_9);
      if (c !== C_COMMA || p - pos > 15 || time < lastTime) break fast;
      // device: the bytes of a device field read before
      const ds = ++p;
      let dev = -1;
      // (compared from the last byte: addresses that differ mostly differ in their function or device)
      if (lastDev >= 0) {
        const s0 = devStart[lastDev], len = devLen[lastDev];
        if (bytes[ds + len] === C_COMMA) {
          let k = len - 1;
          while (k >= 0 && bytes[ds + k] === bytes[s0 + k]) k--;
          if (k < 0) { dev = devIdx[lastDev]; p = ds + len; }
        }
      }
      if (dev < 0) {
        while ((c = bytes[p]) !== C_COMMA && c !== C_NL) p++;
        if (c !== C_COMMA) break fast;
        const len = p - ds;
        for (let j = 0; j < devStart.length; j++) {
          if (devLen[j] !== len) continue;
          const s0 = devStart[j];
          let k = len - 1;
          while (k >= 0 && bytes[ds + k] === bytes[s0 + k]) k--;
          if (k < 0) { dev = devIdx[j]; lastDev = j; break; }
        }
        if (dev < 0) break fast;
      }
      // pasid: empty, or up to 7 digits below 2^20
      c = bytes[++p];
      let pasid = -1;
      if (c !== C_COMMA) {
        const s0 = p;
        pasid = 0;
        while (c >= C_0 && c <= C_9) { pasid = pasid * 10 + (c - C_0); c = bytes[++p]; }
        if (c !== C_COMMA || p === s0 || p - s0 > 7 || pasid > 0xfffff) break fast;
      }
      // op: dma, map, unmap
      let op: number;
      c = bytes[++p];
      if (c === 0x64 && bytes[p + 1] === 0x6d && bytes[p + 2] === 0x61 && bytes[p + 3] === C_COMMA) { op = OP_DMA; p += 3; }
      else if (c === 0x6d && bytes[p + 1] === 0x61 && bytes[p + 2] === 0x70 && bytes[p + 3] === C_COMMA) { op = OP_MAP; p += 3; }
      else if (c === 0x75 && bytes[p + 1] === 0x6e && bytes[p + 2] === 0x6d && bytes[p + 3] === 0x61 && bytes[p + 4] === 0x70 && bytes[p + 5] === C_COMMA) { op = OP_UNMAP; p += 5; }
      else break fast;
      // iova: 0x and 1 to 16 hex digits
      if (bytes[++p] !== C_0 || (bytes[p + 1] | 0x20) !== 0x78) break fast;
      p += 2;
      let hi = 0, lo = 0;
      const h0 = p;
      for (let d = HEX[bytes[p]]; d >= 0; d = HEX[bytes[++p]]) {
        hi = ((hi << 4) | (lo >>> 28)) >>> 0;
        lo = ((lo << 4) | d) >>> 0;
      }
      c = bytes[p];
      if (c !== C_COMMA || p === h0 || p - h0 > 16) break fast;
      // size: 1 to 15 digits, not 0
      c = bytes[++p];
      const z0 = p;
      let size = 0;
      while (c >= C_0 && c <= C_9) { size = size * 10 + (c - C_0); c = bytes[++p]; }
      if (c !== C_COMMA || p === z0 || p - z0 > 15 || size === 0) break fast;
      // dir
      let dir = DIR_NONE;
      c = bytes[++p];
      if (c === 0x72 && bytes[p + 1] === 0x65 && bytes[p + 2] === 0x61 && bytes[p + 3] === 0x64 && op !== OP_UNMAP) { dir = DIR_READ; p += 4; }
      else if (c === 0x77 && bytes[p + 1] === 0x72 && bytes[p + 2] === 0x69 && bytes[p + 3] === 0x74 && bytes[p + 4] === 0x65 && op !== OP_UNMAP) { dir = DIR_WRITE; p += 5; }
      else if (op === OP_MAP) {
        if (c === 0x72 && bytes[p + 1] === 0x77) p += 2;
        dir = DIR_RW;
      } else if (op === OP_DMA) break fast;
      if (bytes[p] !== C_COMMA) break fast;
      // paddr: a map's, 0x and 1 to 16 hex digits, with iova's offset in the page; empty otherwise
      let paHi = 0, paLo = 0;
      c = bytes[++p];
      if (op === OP_MAP) {
        if (c !== C_0 || (bytes[p + 1] | 0x20) !== 0x78) break fast;
        p += 2;
        const a0 = p;
        for (let d = HEX[bytes[p]]; d >= 0; d = HEX[bytes[++p]]) {
          paHi = ((paHi << 4) | (paLo >>> 28)) >>> 0;
          paLo = ((paLo << 4) | d) >>> 0;
        }
        c = bytes[p];
        if (p === a0 || p - a0 > 16 || (paLo & 0xfff) !== (lo & 0xfff)) break fast;
      }
      if (op !== OP_DMA && maxPnHi !== Infinity && hi * 1048576 + (lo >>> 12) + Math.ceil(((lo & 0xfff) + size) / 4096) - 1 >= maxPnHi) break fast;
      // kind: empty or a name (9 columns); then the line's end
      let kind = 0;
      if (P.nf === 9) {
        if (c !== C_COMMA) break fast;
        c = bytes[++p];
        if (c !== C_NL && c !== C_CR) {
          kind = -1;
          for (let j = 0; j < KIND_BYTES.length; j++) {
            const w = KIND_BYTES[j];
            let k = 0;
            while (k < w.length && bytes[p + k] === w[k]) k++;
            if (k === w.length) { kind = j; p += k; c = bytes[p]; break; }
          }
          if (kind < 0) break fast;
        }
      }
      if (c === C_CR) c = bytes[++p];
      if (c !== C_NL) break fast;
      // the line is read: store it
      if (count === cap) {
        t.count = count;
        t = b.t = growColumns(t, cap * 2);
        cap = t.timeNs.length;
        timeCol = t.timeNs; devCol = t.device; pasidCol = t.pasid; opCol = t.op; ihCol = t.iovaHi; ilCol = t.iovaLo;
        sizeCol = t.size; dirCol = t.dir; phCol = t.paddrHi; plCol = t.paddrLo; kindCol = t.kind;
      }
      timeCol[count] = time; devCol[count] = dev; pasidCol[count] = pasid; opCol[count] = op; ihCol[count] = hi; ilCol[count] = lo;
      sizeCol[count] = size; dirCol[count] = dir; phCol[count] = paHi; plCol[count] = paLo; kindCol[count] = kind;
      count++;
      lastTime = time;
      line++;
      pos = p + 1;
      continue;
    }
    // any other line: the line-by-line parser
    line++;
    let end = pos;
    while (bytes[end] !== C_NL) end++;
    t.count = count;
    P.line = line;
    P.lastTime = lastTime;
    const before = b.t.count;
    P.parseLine(pos, end);
    t = b.t;
    count = t.count;
    lastTime = P.lastTime;
    if (t.timeNs !== timeCol) {
      cap = t.timeNs.length;
      timeCol = t.timeNs; devCol = t.device; pasidCol = t.pasid; opCol = t.op; ihCol = t.iovaHi; ilCol = t.iovaLo;
      sizeCol = t.size; dirCol = t.dir; phCol = t.paddrHi; plCol = t.paddrLo; kindCol = t.kind;
    }
    // a record with a device field of no spaces: remember its bytes for the fast path
    if (count > before && devStart.length < 64) {
      const s0 = P.fs[1], e0 = P.fe[1];
      const d = devCol[count - 1];
      if (e0 > s0 && bytes[s0 - 1] === C_COMMA && bytes[e0] === C_COMMA && t.devices[d] !== '*' && !devStart.some((x, j) => devLen[j] === e0 - s0 && sameBytes(bytes, x, s0, e0 - s0))) {
        devStart.push(s0); devLen.push(e0 - s0); devIdx.push(d);
      }
    }
    pos = end + 1;
  }
  t.count = count;
  return P.finish();
}

/**
 * The CSV trace read line by line (the definition of the format, and the reference the fast path
 * of parseCsvTrace is tested against).
 */
export function parseCsvTraceLineByLine(bytes: Uint8Array, fileName: string, opts: CsvOptions = {}): TraceColumns {
  const P = new CsvLines(bytes, fileName, opts);
  const n = bytes.length;
  let pos = 0;
  while (pos < n) {
    P.line++;
    let end = pos;
    while (end < n && bytes[end] !== C_NL) end++;
    P.parseLine(pos, end);
    pos = end + 1;
  }
  return P.finish();
}

const KIND_BYTES = DMA_KINDS.map((k) => new TextEncoder().encode(k));

/** Value of each byte as a hex digit (0-9, a-f, A-F), -1 for any other. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

function sameBytes(b: Uint8Array, x: number, y: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (b[x + k] !== b[y + k]) return false;
  return true;
}

/** The line-by-line parser: one line at a time through `parseLine`, its state in fields. */
class CsvLines {
  readonly b: TraceBuilder;
  readonly maxPnHi: number;
  private readonly devCache = new Map<string, number>();
  /** Line number of the line being read (1-based). */
  line = 0;
  sawHeader = false;
  /** Fields per line: 9 with the kind column. */
  nf = 8;
  lastTime = -Infinity;
  /** Field boundaries of the current line (after trimming spaces). */
  readonly fs = new Int32Array(9);
  readonly fe = new Int32Array(9);
  private hexHi = 0;
  private hexLo = 0;

  constructor(private readonly bytes: Uint8Array, private readonly fileName: string, private readonly opts: CsvOptions) {
    this.b = new TraceBuilder(Math.max(1024, Math.min(1 << 24, Math.floor(bytes.length / 40))));
    this.maxPnHi = opts.addressBits !== undefined ? 2 ** (opts.addressBits - 12) : Infinity;
  }

  finish(): TraceColumns {
    if (!this.sawHeader) throw new InputError(`${this.fileName}: no header line; the first line must be ${CSV_HEADER}`);
    return this.b.finish();
  }

  private fail(what: string, fix: string): never {
    throw new InputError(`${this.fileName}:${this.line}: ${what}; ${fix}`);
  }

  private text(k: number): string {
    let s = '';
    for (let i = this.fs[k]; i < this.fe[k]; i++) s += String.fromCharCode(this.bytes[i]);
    return s;
  }

  private parseHex(k: number, what: string): void {
    const bytes = this.bytes;
    let i = this.fs[k];
    const e = this.fe[k];
    if (e - i < 3 || bytes[i] !== C_0 || (bytes[i + 1] | 0x20) !== 0x78) this.fail(`${what} '${this.text(k)}' is not a hex address`, `write it with 0x, e.g. 0x7f001000`);
    i += 2;
    if (e - i > 16) this.fail(`${what} '${this.text(k)}' is wider than 64 bits`, 'use at most 16 hex digits');
    let hi = 0, lo = 0;
    for (; i < e; i++) {
      const c = bytes[i];
      let d: number;
      if (c >= C_0 && c <= C_9) d = c - C_0;
      else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 0x61 + 10;
      else { this.fail(`${what} '${this.text(k)}' has a character that is not hex`, 'use 0-9 and a-f after 0x'); }
      hi = ((hi << 4) | (lo >>> 28)) >>> 0;
      lo = ((lo << 4) | d) >>> 0;
    }
    this.hexHi = hi;
    this.hexLo = lo;
  }

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

  private eq(k: number, s: string): boolean {
    const fs = this.fs[k];
    if (this.fe[k] - fs !== s.length) return false;
    for (let i = 0; i < s.length; i++) if (this.bytes[fs + i] !== s.charCodeAt(i)) return false;
    return true;
  }

  /** Read the line of bytes [ls, le) (without its newline): the header, a comment, a blank line or a record. */
  parseLine(ls: number, le: number): void {
    const bytes = this.bytes, fs = this.fs, fe = this.fe, b = this.b, nf = this.nf;
    if (le > ls && bytes[le - 1] === C_CR) le--;
    if (le === ls || bytes[ls] === C_HASH) return;
    // split into fields
    let k = 0;
    fs[0] = ls;
    for (let i = ls; i < le; i++) {
      if (bytes[i] === C_COMMA) {
        if (k >= (this.sawHeader ? nf : 9) - 1) this.fail(`more than ${nf} fields`, `each line has ${nf === 8 ? CSV_HEADER : CSV_HEADER_KIND}`);
        fe[k] = i;
        k++;
        fs[k] = i + 1;
      }
    }
    fe[k] = le;
    // trim spaces
    for (let j = 0; j <= k; j++) {
      while (fs[j] < fe[j] && bytes[fs[j]] === 32) fs[j]++;
      while (fe[j] > fs[j] && bytes[fe[j] - 1] === 32) fe[j]--;
    }
    if (!this.sawHeader) {
      let h = '';
      for (let i = ls; i < le; i++) h += String.fromCharCode(bytes[i]);
      const hs = h.replace(/\s+/g, '');
      if (hs !== CSV_HEADER && hs !== CSV_HEADER_KIND) this.fail(`the header is '${h.slice(0, 80)}'`, `the first line must be ${CSV_HEADER} (optionally followed by ,kind)`);
      if (hs === CSV_HEADER_KIND) this.nf = 9;
      this.sawHeader = true;
      return;
    }
    if (k !== nf - 1) this.fail(`${k + 1} fields where ${nf} are expected`, `each line has ${nf === 8 ? CSV_HEADER : CSV_HEADER_KIND} (empty fields stay as ,,)`);

    // op
    let op: number;
    let scope = 0;
    if (this.eq(3, 'dma')) op = OP_DMA;
    else if (this.eq(3, 'map')) op = OP_MAP;
    else if (this.eq(3, 'unmap')) op = OP_UNMAP;
    else if (this.eq(3, 'inv')) op = OP_INV;
    else {
      const t = this.text(3);
      const m = /^inv:(\w+)$/.exec(t);
      const si = m ? (INV_SCOPES as readonly string[]).indexOf(m[1]) : -1;
      if (si < 0) this.fail(`unknown op '${t}'`, 'use dma, map, unmap, inv, inv:pwc, inv:devtlb, inv:context or inv:global');
      op = OP_INV;
      scope = si;
    }

    const time = this.parseDec(0, 'time_ns', true);
    if (time < this.lastTime) this.fail(`time_ns ${time} is before the previous record's ${this.lastTime}`, 'sort the trace by time_ns');
    this.lastTime = time;

    // device
    let dev: number;
    const dtext = this.text(1);
    const cached = this.devCache.get(dtext);
    if (cached !== undefined) dev = cached;
    else {
      if (dtext === '*') {
        if (!(op === OP_INV && scope === INV_GLOBAL)) this.fail(`device '*' is only for inv:global`, 'name the device as 0000:01:00.0');
        dev = b.deviceIndex('*', `${this.fileName}:${this.line}`);
      } else {
        let canon = '';
        try { canon = canonicalBdf(dtext, 'device'); } catch { this.fail(`device '${dtext}' is not a PCI address`, 'write it as 0000:01:00.0 or 01:00.0'); }
        dev = b.deviceIndex(canon, `${this.fileName}:${this.line}`);
      }
      this.devCache.set(dtext, dev);
    }

    // pasid
    let pasid = -1;
    if (fe[2] > fs[2]) {
      pasid = this.parseDec(2, 'pasid', false);
      if (pasid > 0xfffff) this.fail(`pasid ${pasid} is above 1048575 (20 bits)`, 'use a 20-bit PASID or leave it empty');
    }

    // iova
    let iovaHi = 0, iovaLo = 0;
    const hasIova = fe[4] > fs[4];
    if (hasIova) { this.parseHex(4, 'iova'); iovaHi = this.hexHi; iovaLo = this.hexLo; }
    else if (op !== OP_INV) this.fail(`iova is empty on a ${FIELD[3]} '${this.text(3)}' record`, 'give the IO virtual address in hex, e.g. 0x100000');

    // size
    let size = 0;
    const hasSize = fe[5] > fs[5];
    if (hasSize) {
      size = this.parseDec(5, 'size', false);
      if (size === 0) this.fail('size is 0', 'a DMA, map or unmap covers at least 1 byte');
    } else if (op !== OP_INV) this.fail('size is empty', 'give the size in bytes (decimal)');
    if (op === OP_INV && !hasIova) size = SIZE_ALL;
    else if (op === OP_INV && !hasSize) this.fail('inv with an iova needs a size', 'give the size in bytes, or leave iova empty for a domain-wide invalidation');

    // dir
    let dir = DIR_NONE;
    if (op === OP_DMA) {
      if (this.eq(6, 'read')) dir = DIR_READ;
      else if (this.eq(6, 'write')) dir = DIR_WRITE;
      else this.fail(`dir '${this.text(6)}' on a dma`, 'use read (the device reads memory) or write (the device writes memory)');
    } else if (op === OP_MAP) {
      if (fe[6] === fs[6] || this.eq(6, 'rw')) dir = DIR_RW;
      else if (this.eq(6, 'read')) dir = DIR_READ;
      else if (this.eq(6, 'write')) dir = DIR_WRITE;
      else this.fail(`dir '${this.text(6)}' on a map`, 'leave it empty (read+write) or use read, write or rw');
    } else if (op === OP_INV) {
      dir = scope;
    } else if (fe[6] > fs[6]) this.fail(`dir '${this.text(6)}' on an unmap`, 'leave dir empty on unmap');

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

    if ((op === OP_MAP || op === OP_UNMAP) && this.maxPnHi !== Infinity) {
      const lastPn = iovaHi * 1048576 + (iovaLo >>> 12) + Math.ceil(((iovaLo & 0xfff) + size) / 4096) - 1;
      if (lastPn >= this.maxPnHi) {
        const bits = this.opts.addressBits!;
        this.fail(`iova ${this.text(4)} + size ${size} is beyond the ${bits}-bit address width`, `use iommu.levels=${bits < 48 ? 4 : 5} or addresses below 2^${bits}`);
      }
    }
    // kind (optional column): a DMA_KINDS name; empty = data
    let kind = 0;
    if (nf === 9 && fe[8] > fs[8]) {
      kind = -1;
      for (let j = 0; j < DMA_KINDS.length; j++) if (this.eq(8, DMA_KINDS[j])) { kind = j; break; }
      if (kind < 0) this.fail(`unknown kind '${this.text(8)}'`, `use one of ${DMA_KINDS.join(', ')} (or leave it empty: data)`);
    }
    b.push(time, dev, pasid, op, iovaHi, iovaLo, size, dir, paHi, paLo, kind);
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
      if (t.dir[i] !== 0) o = `inv:${INV_SCOPES[t.dir[i]]}`;
      if (t.size[i] === SIZE_ALL) { iova = ''; size = ''; }
    } else if (op === OP_DMA) dir = t.dir[i] === DIR_READ ? 'read' : 'write';
    else if (op === OP_MAP) dir = t.dir[i] === DIR_READ ? 'read' : t.dir[i] === DIR_WRITE ? 'write' : '';
    const pasid = t.pasid[i] < 0 ? '' : String(t.pasid[i]);
    const paddr = op === OP_MAP ? hex(t.paddrHi[i], t.paddrLo[i]) : '';
    out.push(`${t.timeNs[i]},${t.devices[t.device[i]]},${pasid},${o},${iova},${size},${dir},${paddr}${kinds ? ',' + DMA_KINDS[t.kind[i]] : ''}`);
  }
  return out.join('\n') + '\n';
}
