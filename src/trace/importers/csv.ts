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
 * (the fast path in `csvLines`), every other line through the line-by-line parser.
 */
import { TraceBuilder, type TraceColumns, type RowSink, OP_DMA, OP_MAP, OP_UNMAP, OP_INV, DIR_NONE, DIR_READ, DIR_WRITE, DIR_RW, INV_SCOPES, SIZE_ALL, INV_GLOBAL, DMA_KINDS, MAX_TRACE_DEVICES, pageOf, pagesTouched } from '../columns.js';
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
 * at once, a streamed read (src/trace/stream.ts) a piece at a time; both see the same lines in the
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
  // the run being parsed: set by each lines() call, read by the helpers below
  let bytes: Uint8Array = new Uint8Array(0);
  const devCache = new Map<string, number>();
  const maxPnHi = opts.addressBits !== undefined ? 2 ** (opts.addressBits - 12) : Infinity;
  let line = 0;
  let sawHeader = false;
  let nf = 8; // fields per line: 9 with the kind column
  let lastTime = -Infinity;
  // field boundaries of the current line
  const fs = new Int32Array(9);
  const fe = new Int32Array(9);
  const fail = (what: string, fix: string): never => {
    throw new InputError(`${fileName}:${line}: ${what}; ${fix}`);
  };
  const text = (k: number): string => {
    let s = '';
    for (let i = fs[k]; i < fe[k]; i++) s += String.fromCharCode(bytes[i]);
    return s;
  };
  const FIELD = ['time_ns', 'device', 'pasid', 'op', 'iova', 'size', 'dir', 'paddr'];

  // hex parse result
  let hexHi = 0, hexLo = 0;
  const parseHex = (k: number, what: string): void => {
    let i = fs[k];
    const e = fe[k];
    if (e - i < 3 || bytes[i] !== C_0 || (bytes[i + 1] | 0x20) !== 0x78) fail(`${what} '${text(k)}' is not a hex address`, `write it with 0x, e.g. 0x7f001000`);
    i += 2;
    if (e - i > 16) fail(`${what} '${text(k)}' is wider than 64 bits`, 'use at most 16 hex digits');
    let hi = 0, lo = 0;
    for (; i < e; i++) {
      const c = bytes[i];
      let d: number;
      if (c >= C_0 && c <= C_9) d = c - C_0;
      else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 0x61 + 10;
      else { fail(`${what} '${text(k)}' has a character that is not hex`, 'use 0-9 and a-f after 0x'); d = 0; }
      hi = ((hi << 4) | (lo >>> 28)) >>> 0;
      lo = ((lo << 4) | d) >>> 0;
    }
    hexHi = hi;
    hexLo = lo;
  };
  const parseDec = (k: number, what: string, allowFrac: boolean): number => {
    let i = fs[k];
    const e = fe[k];
    if (i === e) fail(`${what} is empty`, `give ${what} as a decimal number`);
    let v = 0;
    let frac = 0, scale = 1, inFrac = false;
    for (; i < e; i++) {
      const c = bytes[i];
      if (c >= C_0 && c <= C_9) {
        if (inFrac) { scale /= 10; frac += (c - C_0) * scale; } else v = v * 10 + (c - C_0);
      } else if (c === C_DOT && allowFrac && !inFrac) inFrac = true;
      else fail(`${what} '${text(k)}' is not a ${allowFrac ? 'number' : 'whole number'}`, `give ${what} in decimal digits`);
    }
    if (v > Number.MAX_SAFE_INTEGER) fail(`${what} '${text(k)}' is too large`, 'use a value below 2^53');
    return v + frac;
  };
  const eq = (k: number, s: string): boolean => {
    if (fe[k] - fs[k] !== s.length) return false;
    for (let i = 0; i < s.length; i++) if (bytes[fs[k] + i] !== s.charCodeAt(i)) return false;
    return true;
  };

  // the device fields the line-by-line parser read (no spaces, not '*'): their bytes and device
  // index, for the fast path; the last line's device tried first
  const devText: Uint8Array[] = [];
  const devIdx: number[] = [];
  let lastDev = -1;

  const lines = (run: Uint8Array, pos: number, n: number, room: number): number => {
    bytes = run;
    let pushed = 0;
    while (pos < n) {
      if (pushed >= room) return pos;
      let end = bytes.indexOf(C_NL, pos);
      if (end < 0 || end > n) end = n;
      fast: if (fast && sawHeader && end < n) {
        // the fast path: a line ending in a newline before n (its scans stop at that newline)
        let p = pos;
        let c = bytes[p];
        // time_ns: whole, up to 15 digits (exact below 2^53), not before the last
        if (c < C_0 || c > C_9) break fast;
        let time = 0;
        do { time = time * 10 + (c - C_0); c = bytes[++p]; } while (c >= C_0 && c <= C_9);
        if (c !== C_COMMA || p - pos > 15 || time < lastTime) break fast;
        // device: the bytes of a device field read before (compared from the last byte: addresses
        // that differ mostly differ in their function or device)
        const ds = ++p;
        let dev = -1;
        if (lastDev >= 0) {
          const d = devText[lastDev], len = d.length;
          if (bytes[ds + len] === C_COMMA) {
            let k = len - 1;
            while (k >= 0 && bytes[ds + k] === d[k]) k--;
            if (k < 0) { dev = devIdx[lastDev]; p = ds + len; }
          }
        }
        if (dev < 0) {
          while ((c = bytes[p]) !== C_COMMA && c !== C_NL) p++;
          if (c !== C_COMMA) break fast;
          const len = p - ds;
          for (let j = 0; j < devText.length; j++) {
            const d = devText[j];
            if (d.length !== len) continue;
            let k = len - 1;
            while (k >= 0 && bytes[ds + k] === d[k]) k--;
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
        if (bytes[p] !== C_COMMA || p === h0 || p - h0 > 16) break fast;
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
        if (op !== OP_DMA && maxPnHi !== Infinity && pageOf(hi, lo) + pagesTouched(lo & 0xfff, size) - 1 >= maxPnHi) break fast;
        // kind: empty or a name (9 columns); then the line's end
        let kind = 0;
        if (nf === 9) {
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
        if (p !== end) break fast;
        line++;
        lastTime = time;
        sink.push(time, dev, pasid, op, hi, lo, size, dir, paHi, paLo, kind);
        pushed++;
        pos = end + 1;
        continue;
      }
      line++;
      let le = end;
      if (le > pos && bytes[le - 1] === C_CR) le--;
      const ls = pos;
      pos = end + 1;
      if (le === ls || bytes[ls] === C_HASH) continue;
      // split into fields
      let k = 0;
      fs[0] = ls;
      for (let i = ls; i < le; i++) {
        if (bytes[i] === C_COMMA) {
          if (k >= (sawHeader ? nf : 9) - 1) fail(`more than ${nf} fields`, `each line has ${nf === 8 ? CSV_HEADER : CSV_HEADER_KIND}`);
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
      if (!sawHeader) {
        let h = '';
        for (let i = ls; i < le; i++) h += String.fromCharCode(bytes[i]);
        const hs = h.replace(/\s+/g, '');
        if (hs !== CSV_HEADER && hs !== CSV_HEADER_KIND) fail(`the header is '${h.slice(0, 80)}'`, `the first line must be ${CSV_HEADER} (optionally followed by ,kind)`);
        if (hs === CSV_HEADER_KIND) nf = 9;
        sawHeader = true;
        continue;
      }
      if (k !== nf - 1) fail(`${k + 1} fields where ${nf} are expected`, `each line has ${nf === 8 ? CSV_HEADER : CSV_HEADER_KIND} (empty fields stay as ,,)`);

      // op
      let op: number;
      let scope = 0;
      if (eq(3, 'dma')) op = OP_DMA;
      else if (eq(3, 'map')) op = OP_MAP;
      else if (eq(3, 'unmap')) op = OP_UNMAP;
      else if (eq(3, 'inv')) op = OP_INV;
      else {
        const t = text(3);
        const m = /^inv:(\w+)$/.exec(t);
        const si = m ? (INV_SCOPES as readonly string[]).indexOf(m[1]) : -1;
        if (si < 0) fail(`unknown op '${t}'`, 'use dma, map, unmap, inv, inv:pwc, inv:devtlb, inv:context or inv:global');
        op = OP_INV;
        scope = si;
      }

      const time = parseDec(0, 'time_ns', true);
      if (time < lastTime) fail(`time_ns ${time} is before the previous record's ${lastTime}`, 'sort the trace by time_ns');
      lastTime = time;

      // device
      let dev: number;
      const dtext = text(1);
      const cached = devCache.get(dtext);
      if (cached !== undefined) dev = cached;
      else {
        if (dtext === '*') {
          if (!(op === OP_INV && scope === INV_GLOBAL)) fail(`device '*' is only for inv:global`, 'name the device as 0000:01:00.0');
          dev = sink.deviceIndex('*', `${fileName}:${line}`);
        } else {
          let canon = '';
          try { canon = canonicalBdf(dtext, 'device'); } catch { fail(`device '${dtext}' is not a PCI address`, 'write it as 0000:01:00.0 or 01:00.0'); }
          dev = sink.deviceIndex(canon, `${fileName}:${line}`);
        }
        devCache.set(dtext, dev);
      }

      // pasid
      let pasid = -1;
      if (fe[2] > fs[2]) {
        pasid = parseDec(2, 'pasid', false);
        if (pasid > 0xfffff) fail(`pasid ${pasid} is above 1048575 (20 bits)`, 'use a 20-bit PASID or leave it empty');
      }

      // iova
      let iovaHi = 0, iovaLo = 0;
      const hasIova = fe[4] > fs[4];
      if (hasIova) { parseHex(4, 'iova'); iovaHi = hexHi; iovaLo = hexLo; }
      else if (op !== OP_INV) fail(`iova is empty on a ${FIELD[3]} '${text(3)}' record`, 'give the IO virtual address in hex, e.g. 0x100000');

      // size
      let size = 0;
      const hasSize = fe[5] > fs[5];
      if (hasSize) {
        size = parseDec(5, 'size', false);
        if (size === 0) fail('size is 0', 'a DMA, map or unmap covers at least 1 byte');
      } else if (op !== OP_INV) fail('size is empty', 'give the size in bytes (decimal)');
      if (op === OP_INV && !hasIova) size = SIZE_ALL;
      else if (op === OP_INV && !hasSize) fail('inv with an iova needs a size', 'give the size in bytes, or leave iova empty for a domain-wide invalidation');

      // dir
      let dir = DIR_NONE;
      if (op === OP_DMA) {
        if (eq(6, 'read')) dir = DIR_READ;
        else if (eq(6, 'write')) dir = DIR_WRITE;
        else fail(`dir '${text(6)}' on a dma`, 'use read (the device reads memory) or write (the device writes memory)');
      } else if (op === OP_MAP) {
        if (fe[6] === fs[6] || eq(6, 'rw')) dir = DIR_RW;
        else if (eq(6, 'read')) dir = DIR_READ;
        else if (eq(6, 'write')) dir = DIR_WRITE;
        else fail(`dir '${text(6)}' on a map`, 'leave it empty (read+write) or use read, write or rw');
      } else if (op === OP_INV) {
        dir = scope;
      } else if (fe[6] > fs[6]) fail(`dir '${text(6)}' on an unmap`, 'leave dir empty on unmap');

      // paddr
      let paHi = 0, paLo = 0;
      if (op === OP_MAP) {
        if (fe[7] === fs[7]) fail('paddr is empty on a map', 'give the physical address in hex');
        parseHex(7, 'paddr');
        paHi = hexHi; paLo = hexLo;
        if ((paLo & 0xfff) !== (iovaLo & 0xfff)) {
          fail('map iova and paddr have different offsets within their 4 KiB pages', 'give them the same offset (the IOMMU maps whole pages: iova page → paddr page)');
        }
      } else if (fe[7] > fs[7]) fail(`paddr on a ${text(3)} record`, 'paddr is only for map');

      if ((op === OP_MAP || op === OP_UNMAP) && maxPnHi !== Infinity) {
        const lastPn = pageOf(iovaHi, iovaLo) + pagesTouched(iovaLo & 0xfff, size) - 1;
        if (lastPn >= maxPnHi) {
          fail(`iova ${text(4)} + size ${size} is beyond the ${opts.addressBits}-bit address width`, `use iommu.levels=${opts.addressBits! < 48 ? 4 : 5} or addresses below 2^${opts.addressBits}`);
        }
      }
      // kind (optional column): a DMA_KINDS name; empty = data
      let kind = 0;
      if (nf === 9 && fe[8] > fs[8]) {
        kind = -1;
        for (let j = 0; j < DMA_KINDS.length; j++) if (eq(8, DMA_KINDS[j])) { kind = j; break; }
        if (kind < 0) fail(`unknown kind '${text(8)}'`, `use one of ${DMA_KINDS.join(', ')} (or leave it empty: data)`);
      }
      sink.push(time, dev, pasid, op, iovaHi, iovaLo, size, dir, paHi, paLo, kind);
      pushed++;
      // a device field of no spaces: remember its bytes for the fast path
      if (fast && devText.length < 64 && dtext !== '*' && bytes[fs[1] - 1] === C_COMMA && bytes[fe[1]] === C_COMMA) {
        const len = fe[1] - fs[1];
        if (len > 0 && !devText.some((d) => d.length === len && d.every((x, i) => x === bytes[fs[1] + i]))) {
          devText.push(bytes.slice(fs[1], fe[1]));
          devIdx.push(dev);
        }
      }
    }
    return pos > n ? n : pos; // past a last line without a newline
  };
  return {
    lines,
    setLine: (n: number): void => { line = n; },
    finish: (): void => {
      if (!sawHeader) throw new InputError(`${fileName}: no header line; the first line must be ${CSV_HEADER}`);
    },
  };
}

/**
 * The cheap first pass of a streamed CSV read (src/trace/stream.ts): the device table (canonical
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
