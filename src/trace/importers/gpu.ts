/**
 * GPU copy-engine trace importer: memory copies from NVIDIA profiler exports → columnar rows.
 *
 * Formats: `nsys stats --report cuda_gpu_trace --format csv` (both header generations, any
 * `--timeunit`), a CUPTI-memcpy-like CSV (`start,end,bytes,copyKind,srcKind,dstKind,deviceId,streamId`)
 * and the same records as JSON (an array of objects, or JSON Lines). Kernel rows are skipped and
 * counted. Details and sources: README-ftrace-gpu.md next to this file.
 *
 * Errors: one-line `InputError` `file:line: column "X": …; fix`.
 */
import { inputError } from '../../util/errors.js';
import { growTyped } from '../../util/typed.js';

/** CUpti_ActivityMemcpyKind numbering (cupti_activity.h). */
export const enum CopyKind {
  Unknown = 0, HtoD = 1, DtoH = 2, HtoA = 3, AtoH = 4, AtoA = 5, AtoD = 6, DtoA = 7, DtoD = 8, HtoH = 9, PtoP = 10,
}
/** CUpti_ActivityMemoryKind numbering. */
export const enum MemKind {
  Unknown = 0, Pageable = 1, Pinned = 2, Device = 3, Array = 4, Managed = 5, DeviceStatic = 6, ManagedStatic = 7,
}

export interface GpuCopyColumns {
  count: number;
  /** ns, relative to `timeBaseNs` (0 unless the source timestamps exceed 2^53). */
  startNs: Float64Array;
  endNs: Float64Array;
  bytes: Float64Array;
  copyKind: Uint8Array;
  srcKind: Uint8Array;
  dstKind: Uint8Array;
  deviceId: Uint16Array;
  streamId: Uint32Array;
}

export interface GpuTraceFile {
  format: 'nsys-csv' | 'cupti-csv' | 'cupti-json';
  copies: GpuCopyColumns;
  skippedKernels: number;
  /** Non-copy, non-kernel rows (memsets, records without copyKind, …) by name. */
  skippedOther: Record<string, number>;
  /** Added to startNs/endNs gives the source's timestamps (exact, as bigint). */
  timeBaseNs: bigint;
  warnings: string[];
}

type Format = GpuTraceFile['format'];

// ---------------------------------------------------------------------------------------------
// Names

const COPY_KIND: Readonly<Record<string, number>> = {
  UNKNOWN: 0, HTOD: 1, HOSTTODEVICE: 1, DTOH: 2, DEVICETOHOST: 2, HTOA: 3, HOSTTOARRAY: 3,
  ATOH: 4, ARRAYTOHOST: 4, ATOA: 5, ARRAYTOARRAY: 5, ATOD: 6, ARRAYTODEVICE: 6, DTOA: 7, DEVICETOARRAY: 7,
  DTOD: 8, DEVICETODEVICE: 8, HTOH: 9, HOSTTOHOST: 9, PTOP: 10, PEERTOPEER: 10,
};
const MEM_KIND: Readonly<Record<string, number>> = {
  UNKNOWN: 0, PAGEABLE: 1, PINNED: 2, DEVICE: 3, ARRAY: 4, MANAGED: 5, DEVICESTATIC: 6, MANAGEDSTATIC: 7,
};
const COPY_KIND_MAX = 10;
const MEM_KIND_MAX = 7;

const normKind = (s: string, prefix: RegExp): string => s.trim().toUpperCase().replace(prefix, '').replace(/[\s_-]+/g, '');
const COPY_PREFIX = /^CUPTI_ACTIVITY_MEMCPY_KIND_/;
const MEM_PREFIX = /^CUPTI_ACTIVITY_MEMORY_KIND_/;

const TIME_POW10: Readonly<Record<string, number>> = {
  ns: 0, nsec: 0, us: 3, usec: 3, 'µs': 3, 'μs': 3, ms: 6, msec: 6, s: 9, sec: 9,
};
/** Byte units of nsys columns: nsys's MB is 10^6 bytes. */
const BYTE_SCALE: Readonly<Record<string, number>> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};
const BYTE_POW10: Readonly<Record<string, number>> = { b: 0, kb: 3, mb: 6, gb: 9 };

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Own-property lookup: input text must never reach `constructor`, `__proto__` & co. */
const lookup = <T>(table: Readonly<Record<string, T>>, key: string): T | undefined =>
  (Object.hasOwn(table, key) ? table[key] : undefined);
const NSYS_HEADER_RE = /^\s*\uFEFF?Start \([^)]*\),/;

// ---------------------------------------------------------------------------------------------

/** Which GPU trace format `headText` (the first few KiB of a file) is, or null. */
export function detectGpuTrace(headText: string): Format | null {
  const text = headText.charCodeAt(0) === 0xfeff ? headText.slice(1) : headText;
  const lines = text.split('\n', 400);
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (NSYS_HEADER_RE.test(line) && /(^|,)Duration \(/.test(line) && /(^|,)Name\s*$/.test(line)) return 'nsys-csv';
  }
  const first = lines.find((l) => l.trim() !== '');
  if (first === undefined) return null;
  const t = first.trim();
  if (t.startsWith('[') || t.startsWith('{')) return /"copyKind"\s*:/i.test(text) ? 'cupti-json' : null;
  const cols = t.split(',').map((c) => unquote(c.trim()).toLowerCase());
  // A copyKind column marks the CUPTI-like CSV; parsing then names any other missing column.
  if (cols.includes('copykind')) return 'cupti-csv';
  return null;
}

/** Parses a whole GPU trace. `fileName` is used in messages only. */
export function parseGpuTrace(text: string, fileName: string): GpuTraceFile {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // nsys output may carry other reports before the cuda_gpu_trace table: look past the head for it.
  const format = detectGpuTrace(body.slice(0, 65536)) ??
    (/^[ \t]*Start \([^)]*\),Duration \([^\n]*,Name\r?$/m.test(body) ? 'nsys-csv' : null);
  if (format === null) {
    throw inputError(`${fileName}:1`, 'not a recognised GPU trace',
      'expected `nsys stats --report cuda_gpu_trace --format csv` output, a CSV with header start,end,bytes,copyKind,srcKind,dstKind,deviceId,streamId, or the same records as JSON');
  }
  const p = new GpuParser(body, fileName, format);
  if (format === 'nsys-csv') p.nsys();
  else if (format === 'cupti-csv') p.cuptiCsv();
  else p.cuptiJson();
  return p.finish();
}

// ---------------------------------------------------------------------------------------------

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s;
}

/** RFC 4180 CSV records; quoted fields may hold commas, doubled quotes and newlines. */
class CsvReader {
  pos: number;
  line = 1;
  /** Line on which the last record returned started. */
  recordLine = 0;
  constructor(private readonly text: string, start: number, startLine: number, private readonly file: string) {
    this.pos = start;
    this.line = startLine;
  }
  /** Next record, or null at the end. An empty line gives []. */
  next(): string[] | null {
    const t = this.text;
    const n = t.length;
    if (this.pos >= n) return null;
    this.recordLine = this.line;
    const out: string[] = [];
    let i = this.pos;
    for (;;) {
      if (t.charCodeAt(i) === 34 /* " */) {
        let v = '';
        let j = i + 1;
        for (;;) {
          const q = t.indexOf('"', j);
          if (q < 0) {
            throw inputError(`${this.file}:${this.recordLine}`, 'unterminated quoted field', 'close the quote or remove the damaged record');
          }
          const chunk = t.slice(j, q);
          for (let k = chunk.indexOf('\n'); k >= 0; k = chunk.indexOf('\n', k + 1)) this.line++;
          v += chunk;
          if (t.charCodeAt(q + 1) === 34) { v += '"'; j = q + 2; continue; }
          i = q + 1;
          break;
        }
        out.push(v);
      } else {
        let j = i;
        while (j < n) {
          const c = t.charCodeAt(j);
          if (c === 44 || c === 10 || c === 13) break;
          if (c === 34) {
            throw inputError(`${this.file}:${this.line}`, 'a quote inside an unquoted field', 'quote the whole field and double inner quotes');
          }
          j++;
        }
        out.push(t.slice(i, j));
        i = j;
      }
      const c = i < n ? t.charCodeAt(i) : -1;
      if (c === 44) { i++; continue; }
      if (c === 13 && t.charCodeAt(i + 1) === 10) i++;
      if (c === 13 || c === 10) { i++; this.line++; break; }
      if (c === -1) break;
      throw inputError(`${this.file}:${this.line}`, 'characters after a closing quote', 'quote the whole field and double inner quotes');
    }
    this.pos = i;
    if (out.length === 1 && out[0] === '') return [];
    return out;
  }
}

class Warnings {
  private readonly kinds = new Map<string, { lines: number[]; count: number }>();
  add(text: string, line: number): void {
    let k = this.kinds.get(text);
    if (!k) { k = { lines: [], count: 0 }; this.kinds.set(text, k); }
    k.count++;
    if (k.lines.length < 3) k.lines.push(line);
  }
  render(file: string): string[] {
    return [...this.kinds].map(([text, k]) => {
      const where = k.lines.map((l) => `${file}:${l}`).join(', ') + (k.count > k.lines.length ? ', …' : '');
      return `${where}: ${k.count === 1 ? text : `${k.count}× ${text}`}`;
    });
  }
}

type Value = string | number | boolean | null | undefined | object;

/** A value for a message: never throws (JSON objects may carry a non-callable `toString`). */
function show(v: Value): string {
  if (typeof v === 'string') return v.slice(0, 40);
  if (v === undefined) return '';
  try { return (JSON.stringify(v) ?? '').slice(0, 40); } catch { return '?'; }
}

class GpuParser {
  private n = 0;
  private cap = 1024;
  private start = new BigInt64Array(this.cap);
  private end = new BigInt64Array(this.cap);
  private bytes = new Float64Array(this.cap);
  private copyKind = new Uint8Array(this.cap);
  private srcKind = new Uint8Array(this.cap);
  private dstKind = new Uint8Array(this.cap);
  private deviceId = new Uint16Array(this.cap);
  private streamId = new Uint32Array(this.cap);
  private skippedKernels = 0;
  private readonly skippedOther = new Map<string, number>();
  private readonly warn = new Warnings();
  private readonly deviceNames = new Map<string, number>();
  private line = 0;

  constructor(private readonly text: string, private readonly file: string, private readonly format: Format) {}

  // ---- helpers ------------------------------------------------------------------------------

  private fail(col: string | null, what: string, fix: string): never {
    throw inputError(`${this.file}:${this.line}`, col === null ? what : `column "${col}": ${what}`, fix);
  }

  private skipOther(name: string): void {
    this.skippedOther.set(name, (this.skippedOther.get(name) ?? 0) + 1);
  }

  private push(start: bigint, end: bigint, bytes: number, ck: number, sk: number, dk: number, dev: number, stream: number): void {
    if (this.n === this.cap) {
      const cap = this.cap * 2;
      const g = growTyped;
      this.start = g(this.start, cap); this.end = g(this.end, cap); this.bytes = g(this.bytes, cap);
      this.copyKind = g(this.copyKind, cap); this.srcKind = g(this.srcKind, cap); this.dstKind = g(this.dstKind, cap);
      this.deviceId = g(this.deviceId, cap); this.streamId = g(this.streamId, cap);
      this.cap = cap;
    }
    const i = this.n++;
    this.start[i] = start; this.end[i] = end; this.bytes[i] = bytes; this.copyKind[i] = ck;
    this.srcKind[i] = sk; this.dstKind[i] = dk; this.deviceId[i] = dev; this.streamId[i] = stream;
  }

  /**
   * Exact decimal → integer scaled by 10^pow10 (as bigint), rounding half up beyond the last
   * digit kept. Accepts `123`, `-1.5`, `1.25e3`; null when not a number.
   */
  private static decimal(s: string, pow10: number): bigint | null {
    const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?\s*$/.exec(s);
    if (m === null || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return null;
    const exp = pow10 + (m[4] !== undefined ? Number(m[4]) : 0);
    const intPart = m[2]!;
    const frac = m[3] ?? '';
    let digits = (intPart + frac).replace(/^0+(?=\d)/, '') || '0';
    const shift = exp - frac.length; // value = digits × 10^shift
    if (shift > 40 || digits.length > 60) return null;
    let v: bigint;
    if (shift >= 0) {
      v = BigInt(digits) * 10n ** BigInt(shift);
    } else {
      const cut = -shift;
      if (cut >= digits.length) digits = digits.padStart(cut + 1, '0');
      const keep = digits.slice(0, digits.length - cut);
      v = BigInt(keep);
      if (digits.charCodeAt(digits.length - cut) >= 53 /* '5' */) v += 1n;
    }
    return m[1] === '-' ? -v : v;
  }

  private time(col: string, v: Value, pow10: number): bigint {
    const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v : '';
    const r = s === '' ? null : GpuParser.decimal(s, pow10);
    if (r === null) this.fail(col, `"${show(v)}" is not a time value`, 'expected a number (ns unless the header names another unit)');
    if (r > 0x7fffffffffffffffn || r < -0x7fffffffffffffffn) this.fail(col, `"${s.slice(0, 40)}" is out of range`, 'expected a 64-bit ns timestamp');
    return r;
  }

  private int(col: string, v: Value, max: number, what: string): number {
    const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
    if (!/^\d{1,16}$/.test(s) || Number(s) > max) this.fail(col, `"${show(v)}" is not ${what}`, `expected an integer 0–${max}`);
    return Number(s);
  }

  private kind(col: string, v: Value, table: Readonly<Record<string, number>>, prefix: RegExp, max: number, what: string): number {
    if (v === undefined || v === null || v === '') return 0;
    if (typeof v === 'number' || (typeof v === 'string' && /^\s*\d+\s*$/.test(v))) return this.int(col, v, max, `a ${what} number`);
    if (typeof v === 'string') {
      const k = lookup(table, normKind(v, prefix));
      if (k !== undefined) return k;
    }
    return this.fail(col, `"${show(v)}" is not a ${what}`, `expected a number 0–${max} or one of ${Object.keys(table).filter((k) => k.length <= 8).join(', ')}`);
  }

  // ---- nsys ---------------------------------------------------------------------------------

  nsys(): void {
    const t = this.text;
    // Skip the preamble (`Generating …`, `Processing …`, other reports) up to the trace header.
    let pos = 0;
    let lineNo = 1;
    for (;;) {
      const e = t.indexOf('\n', pos);
      const line = t.slice(pos, e < 0 ? t.length : e);
      if (NSYS_HEADER_RE.test(line) && /(^|,)Duration \(/.test(line)) break;
      if (e < 0) throw inputError(`${this.file}:1`, 'no cuda_gpu_trace header line', 'expected a line starting "Start (ns),Duration (ns),…"');
      pos = e + 1;
      lineNo++;
    }
    const csv = new CsvReader(t, pos, lineNo, this.file);
    const header = csv.next()!;
    this.line = csv.recordLine;
    const col = (re: RegExp): number => header.findIndex((h) => re.test(h.trim()));
    const iStart = col(/^Start \(/), iDur = col(/^Duration \(/);
    const iBytes = col(/^(?:Bytes|Size) \(/), iName = col(/^Name$/);
    const iSrc = col(/^SrcMemKd$/), iDst = col(/^DstMemKd$/), iDev = col(/^Device$/), iStrm = col(/^(?:Strm|Stream)$/);
    const unitOf = (i: number, table: Readonly<Record<string, number>>): number => {
      const h = header[i]!.trim();
      const u = /\(([^)]*)\)$/.exec(h)?.[1] ?? '';
      const p = lookup(table, u) ?? lookup(table, u.toLowerCase());
      if (p === undefined) this.fail(h, `unknown unit "${u}"`, `expected one of ${Object.keys(table).join(', ')}`);
      return p;
    };
    for (const [i, name] of [[iStart, 'Start (ns)'], [iDur, 'Duration (ns)'], [iBytes, 'Bytes (MB)'], [iName, 'Name']] as const) {
      if (i < 0) this.fail(null, `the cuda_gpu_trace header has no "${name}" column`, 'export with `nsys stats --report cuda_gpu_trace --format csv`');
    }
    const pStart = unitOf(iStart, TIME_POW10), pDur = unitOf(iDur, TIME_POW10);
    const bytesUnit = (/\(([^)]*)\)$/.exec(header[iBytes]!.trim())?.[1] ?? '').toLowerCase();
    if (lookup(BYTE_SCALE, bytesUnit) === undefined) this.fail(header[iBytes]!, `unknown unit "${bytesUnit}"`, 'expected B, KB, MB, GB, KiB, MiB or GiB');
    const bytesCol = header[iBytes]!.trim();
    for (;;) {
      const rec = csv.next();
      if (rec === null) break;
      this.line = csv.recordLine;
      if (rec.length === 0) {
        // A blank line ends the table; anything after it belongs to another report.
        const at = t.slice(csv.pos).search(/\S/);
        if (at >= 0) {
          let line = csv.line;
          for (let k = t.indexOf('\n', csv.pos); k >= 0 && k < csv.pos + at; k = t.indexOf('\n', k + 1)) line++;
          this.warn.add('text after the blank line that ends the cuda_gpu_trace table was ignored', line);
        }
        break;
      }
      if (rec.length !== header.length) {
        this.fail(null, `${rec.length} fields but the header has ${header.length}`, 'quote fields that contain commas, or remove the damaged row');
      }
      const name = rec[iName]!.trim();
      if (!name.startsWith('[')) { this.skippedKernels++; continue; }
      const mm = /^\[CUDA\b.*\bmemcpy\b\s*(.*?)\]$/i.exec(name);
      if (mm === null) {
        this.skipOther(name);
        if (!/^\[CUDA memset\]$/i.test(name)) this.warn.add(`row "${name.slice(0, 60)}" is neither a kernel nor a memcpy; skipped`, this.line);
        continue;
      }
      const dirKey = normKind(mm[1]!, /^$/);
      let ck = lookup(COPY_KIND, dirKey);
      if (ck === undefined) {
        if (dirKey !== '') this.warn.add(`unrecognised memcpy direction in "${name.slice(0, 60)}"; copyKind Unknown`, this.line);
        ck = CopyKind.Unknown;
      }
      const start = this.time(header[iStart]!.trim(), rec[iStart], pStart);
      const dur = this.time(header[iDur]!.trim(), rec[iDur], pDur);
      if (dur < 0n) this.fail(header[iDur]!.trim(), `negative duration "${rec[iDur]}"`, 'repair or remove the row');
      const bytes = this.bytesValue(bytesCol, rec[iBytes]!, bytesUnit);
      const sk = iSrc >= 0 ? this.kind('SrcMemKd', rec[iSrc], MEM_KIND, MEM_PREFIX, MEM_KIND_MAX, 'memory kind') : 0;
      const dk = iDst >= 0 ? this.kind('DstMemKd', rec[iDst], MEM_KIND, MEM_PREFIX, MEM_KIND_MAX, 'memory kind') : 0;
      const dev = iDev >= 0 ? this.nsysDevice(rec[iDev]!) : 0;
      const strm = iStrm >= 0 ? this.int('Strm', rec[iStrm], 0xffffffff, 'a stream id') : 0;
      this.push(start, start + dur, bytes, ck, sk, dk, dev, strm);
    }
  }

  private bytesValue(col: string, s: string, unit: string): number {
    const p10 = lookup(BYTE_POW10, unit);
    let v: number;
    if (p10 !== undefined) {
      const b = GpuParser.decimal(s, p10);
      if (b === null || b < 0n || b > BigInt(MAX_SAFE)) this.fail(col, `"${s.slice(0, 40)}" is not a byte count`, 'expected a non-negative number');
      v = Number(b);
    } else {
      const x = Number(s.trim());
      if (s.trim() === '' || !Number.isFinite(x) || x < 0) this.fail(col, `"${s.slice(0, 40)}" is not a byte count`, 'expected a non-negative number');
      v = Math.round(x * lookup(BYTE_SCALE, unit)!);
    }
    return v;
  }

  /** `NVIDIA A100-SXM4-80GB (0)` → 0; a bare number → itself; other names → order of appearance. */
  private nsysDevice(s: string): number {
    const t = s.trim();
    const m = /\((\d{1,5})\)$/.exec(t) ?? /^(\d{1,5})$/.exec(t);
    if (m !== null && Number(m[1]) <= 0xffff) return Number(m[1]);
    let id = this.deviceNames.get(t);
    if (id === undefined) {
      id = this.deviceNames.size;
      if (id > 0xffff) this.fail('Device', 'more than 65536 distinct devices', 'split the trace');
      this.deviceNames.set(t, id);
      this.warn.add(`device "${t.slice(0, 60)}" carries no "(N)" device number; numbered ${id} in order of appearance`, this.line);
    }
    return id;
  }

  // ---- CUPTI --------------------------------------------------------------------------------

  /** One CUPTI-like record; `get` looks a field up by lower-case name. */
  private record(get: (key: string) => Value, keyName: (key: string) => string): void {
    const ckV = get('copykind');
    if (ckV === undefined) {
      const kind = get('kind');
      const k = typeof kind === 'string' ? kind : '';
      if (/KERNEL/i.test(k)) { this.skippedKernels++; return; }
      if (k !== '') { this.skipOther(k); return; }
      this.skipOther('(no copyKind)');
      this.warn.add('record(s) with neither copyKind nor kind skipped', this.line);
      return;
    }
    if (ckV === '' || ckV === null) {
      this.fail(keyName('copykind'), 'empty', 'expected a CUpti_ActivityMemcpyKind number or name such as HTOD');
    }
    const start = this.time(keyName('start'), get('start'), 0);
    const end = this.time(keyName('end'), get('end'), 0);
    if (start === 0n && end === 0n) {
      // CUPTI: both zero = timestamps could not be collected for this copy.
      this.skipOther('(no timestamps)');
      this.warn.add('copy record(s) with start = end = 0 (CUPTI could not time them) skipped', this.line);
      return;
    }
    if (end < start) this.fail(keyName('end'), `end ${end} is before start ${start}`, 'repair or remove the record');
    const bytes = this.int(keyName('bytes'), get('bytes'), MAX_SAFE, 'a byte count');
    const ck = this.kind(keyName('copykind'), ckV, COPY_KIND, COPY_PREFIX, COPY_KIND_MAX, 'copy kind');
    const sk = this.kind(keyName('srckind'), get('srckind'), MEM_KIND, MEM_PREFIX, MEM_KIND_MAX, 'memory kind');
    const dk = this.kind(keyName('dstkind'), get('dstkind'), MEM_KIND, MEM_PREFIX, MEM_KIND_MAX, 'memory kind');
    const devV = get('deviceid');
    const dev = devV === undefined || devV === '' ? 0 : this.int(keyName('deviceid'), devV, 0xffff, 'a device id');
    const sV = get('streamid');
    const strm = sV === undefined || sV === '' ? 0 : this.int(keyName('streamid'), sV, 0xffffffff, 'a stream id');
    this.push(start, end, bytes, ck, sk, dk, dev, strm);
  }

  cuptiCsv(): void {
    const csv = new CsvReader(this.text, 0, 1, this.file);
    let header: string[] | null = null;
    while (header === null) {
      const r = csv.next();
      if (r === null) return;
      if (r.length > 0) header = r;
    }
    this.line = csv.recordLine;
    const names = header.map((h) => h.trim());
    const index = new Map<string, number>();
    names.forEach((h, i) => { if (!index.has(h.toLowerCase())) index.set(h.toLowerCase(), i); });
    for (const need of ['start', 'end', 'bytes', 'copykind']) {
      if (!index.has(need)) this.fail(null, `the header has no "${need}" column`, 'expected start,end,bytes,copyKind,srcKind,dstKind,deviceId,streamId');
    }
    let rec: string[] | null = null;
    const get = (k: string): Value => { const i = index.get(k); return i === undefined ? undefined : rec![i]; };
    const keyName = (k: string): string => { const i = index.get(k); return i === undefined ? k : names[i]!; };
    for (;;) {
      rec = csv.next();
      if (rec === null) break;
      this.line = csv.recordLine;
      if (rec.length === 0) continue;
      if (rec.length !== names.length) this.fail(null, `${rec.length} fields but the header has ${names.length}`, 'quote fields that contain commas, or remove the damaged row');
      this.record(get, keyName);
    }
  }

  cuptiJson(): void {
    const t = this.text;
    const n = t.length;
    let i = 0;
    let line = 1;
    const ws = (): void => {
      while (i < n) {
        const c = t.charCodeAt(i);
        if (c === 10) line++;
        else if (c !== 32 && c !== 9 && c !== 13) break;
        i++;
      }
    };
    ws();
    const isArray = t.charCodeAt(i) === 91; /* [ */
    if (isArray) { i++; ws(); }
    let first = true;
    for (;;) {
      ws();
      if (i >= n) {
        if (isArray) { this.line = line; this.fail(null, 'the JSON array is not closed', 'the file is truncated; add the closing "]" or re-export'); }
        break;
      }
      if (isArray && t.charCodeAt(i) === 93 /* ] */) {
        i++; ws();
        if (i < n) { this.line = line; this.fail(null, 'text after the closing "]"', 'remove it, or use JSON Lines (one object per line)'); }
        break;
      }
      if (isArray && !first) {
        if (t.charCodeAt(i) !== 44) { this.line = line; this.fail(null, 'expected "," between array elements', 'repair the JSON'); }
        i++; ws();
      }
      first = false;
      if (t.charCodeAt(i) !== 123 /* { */) {
        this.line = line;
        this.fail(null, `expected a JSON object, found "${t.slice(i, i + 20).split('\n')[0]}"`, 'each record must be an object like {"start":…,"end":…,"bytes":…,"copyKind":…}');
      }
      // Find the matching brace, skipping strings.
      const objLine = line;
      const s0 = i;
      let depth = 0;
      for (; i < n; i++) {
        const c = t.charCodeAt(i);
        if (c === 34) {
          for (i++; i < n; i++) {
            const d = t.charCodeAt(i);
            if (d === 92) { i++; continue; }
            if (d === 34) break;
            if (d === 10) line++;
          }
        } else if (c === 123 || c === 91) depth++;
        else if (c === 125 || c === 93) { depth--; if (depth === 0) { i++; break; } }
        else if (c === 10) line++;
      }
      this.line = objLine;
      if (depth !== 0) this.fail(null, 'unterminated JSON object', 'the file is truncated or damaged; repair or re-export');
      // Integers of 16+ digits (CUPTI timestamps exceed 2^53) are quoted so JSON.parse keeps them exact.
      const src = t.slice(s0, i).replace(/([:[,]\s*)(-?\d{16,})(?=\s*[,}\]])/g, '$1"$2"');
      let obj: unknown;
      try {
        obj = JSON.parse(src);
      } catch (e) {
        const msg = e instanceof Error ? e.message.split('\n')[0]!.slice(0, 120) : 'syntax error';
        this.fail(null, `invalid JSON (${msg})`, 'repair the record or re-export');
      }
      const o = obj as Record<string, Value>;
      const lower = new Map<string, string>();
      for (const k of Object.keys(o)) { const l = k.toLowerCase(); if (!lower.has(l)) lower.set(l, k); }
      const get = (k: string): Value => { const key = lower.get(k); return key === undefined ? undefined : o[key]; };
      this.record(get, (k) => lower.get(k) ?? k);
      if (!isArray) {
        // JSON Lines: the next object must start on a later line.
        const j = i;
        while (i < n && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9 || t.charCodeAt(i) === 13)) i++;
        if (i < n && t.charCodeAt(i) !== 10) { this.line = line; this.fail(null, 'text after a JSON Lines record', 'put one object per line'); }
        i = j;
      }
    }
  }

  // ---- result -------------------------------------------------------------------------------

  finish(): GpuTraceFile {
    const n = this.n;
    let base = 0n;
    let big = false;
    const SAFE = BigInt(MAX_SAFE);
    for (let i = 0; i < n; i++) {
      const s = this.start[i]!, e = this.end[i]!;
      if (e > SAFE || s < -SAFE || e < -SAFE || s > SAFE) { big = true; break; }
    }
    if (big) {
      base = this.start[0]!;
      for (let i = 1; i < n; i++) if (this.start[i]! < base) base = this.start[i]!;
      this.warn.add(`timestamps exceed 2^53 ns; startNs/endNs are relative to timeBaseNs = ${base}`, 1);
    }
    const startNs = new Float64Array(n), endNs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = this.start[i]! - base, e = this.end[i]! - base;
      if (e > SAFE || s > SAFE) {
        throw inputError(`${this.file}`, 'the copies span more than 2^53 ns (104 days)', 'split the trace');
      }
      startNs[i] = Number(s); endNs[i] = Number(e);
    }
    return {
      format: this.format,
      copies: {
        count: n, startNs, endNs, bytes: this.bytes.slice(0, n), copyKind: this.copyKind.slice(0, n),
        srcKind: this.srcKind.slice(0, n), dstKind: this.dstKind.slice(0, n), deviceId: this.deviceId.slice(0, n),
        streamId: this.streamId.slice(0, n),
      },
      skippedKernels: this.skippedKernels,
      skippedOther: Object.fromEntries(this.skippedOther),
      timeBaseNs: base,
      warnings: this.warn.render(this.file),
    };
  }
}
