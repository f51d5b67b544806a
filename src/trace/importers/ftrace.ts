/**
 * ftrace text importer: kernel `iommu`, `dma` and `intel_iommu` trace events → columnar rows.
 *
 * Reads the text the kernel writes to tracefs `trace` / `trace_pipe` and the text of
 * `trace-cmd report` (and `trace-cmd report -l`). One row per address range: a `dma_map_sg` with
 * three mapped segments gives three rows. Every other event is skipped and counted by name.
 * Formats, decoding choices and sources: README-ftrace-gpu.md next to this file.
 *
 * Errors: a malformed line of a supported event throws one-line `InputError` `file:line: …; fix`.
 * Lines that are not events at all (e.g. `CPU:1 [LOST 12 EVENTS]`, stray text) become warnings.
 */
import { inputError, isInputError } from '../../util/errors.js';
import { growTyped } from '../../util/typed.js';

export const enum FtraceOp {
  Map = 1, Unmap = 2, Fault = 3, DmaMap = 4, DmaUnmap = 5, DmaAlloc = 6, DmaFree = 7, DmaMapSg = 8,
  DmaUnmapSg = 9, SyncForCpu = 10, SyncForDevice = 11, QiSubmit = 12,
}

/** One row per address range. Absent numeric values are NaN (see README). */
export interface FtraceColumns {
  count: number;
  /** Timestamp in ns (`seconds.micro` / `seconds.nano` → ns; counter clocks: the raw value). */
  tsNs: Float64Array;
  cpu: Uint16Array;
  /** FtraceOp. */
  op: Uint8Array;
  /** Index into `devices[]`; 0xFFFF = unknown (iommu:map/unmap carry no device). */
  dev: Uint16Array;
  /** DMA direction: 0 BIDIRECTIONAL, 1 TO_DEVICE, 2 FROM_DEVICE, 3 NONE; 255 n/a. */
  dir: Uint8Array;
  /** dma_addr / iova (exact: values ≥ 2^53 are refused); NaN when the event has none. */
  iova: Float64Array;
  /** Physical address; NaN when absent. */
  paddr: Float64Array;
  /** Bytes; NaN when the event does not say (dma_unmap_sg, io_page_fault, non-range qi descriptors). */
  size: Float64Array;
  /** unmapped_size for iommu:unmap; qi descriptor type code for qi_submit; flags for io_page_fault; else 0. */
  aux: Float64Array;
}

/** The raw 256-bit descriptors of `qi_submit` rows: `qw[4*i + k]` is qwk of row `row[i]`. */
export interface FtraceQi {
  count: number;
  row: Uint32Array;
  qw: BigUint64Array;
}

export interface FtraceFile {
  layout: 'trace' | 'trace-cmd';
  columns: FtraceColumns;
  devices: string[];
  /** Events seen but not imported, by event name as printed (e.g. `net_dev_xmit`). */
  skipped: Record<string, number>;
  /** entries-written − entries-in-buffer from the tracefs header, plus `[LOST n EVENTS]` lines. */
  lost: number;
  /** `#P:` of the tracefs header or `cpus=` of trace-cmd; null when the file does not say. */
  cpus: number | null;
  warnings: string[];
  /** qw0..qw3 of every qi_submit row. */
  qi: FtraceQi;
}

export const FTRACE_DEV_UNKNOWN = 0xffff;
export const FTRACE_DIR_NA = 255;

/** `intel_iommu:qi_submit` type names (drivers/iommu/intel/trace.h) → descriptor type (qw0 & 0xf). */
export const QI_TYPE_CODE: Readonly<Record<string, number>> = Object.freeze({
  cc_inv: 1, iotlb_inv: 2, dev_tlb_inv: 3, iec_inv: 4, inv_wait: 5,
  p_iotlb_inv: 6, pc_inv: 7, p_dev_tlb_inv: 8, page_grp_resp: 9,
});

// ---------------------------------------------------------------------------------------------
// Line grammar

/**
 * tracefs / trace_pipe / trace-cmd report: `%16s-%-7d ` comm-pid, optional `(%7d) ` tgid,
 * `[%03d] ` cpu, optional 4 or 5 flag characters, ` %5lu.%06lu` (or `.%09lu`, or ` %12llu` for
 * counter clocks), `: `, then the event name (optionally `system:name`), `:` and one space (tracefs)
 * or padding (trace-cmd). Comm may contain spaces and dashes: the lazy comm stops at the first `-pid`
 * followed by the cpu column, i.e. the last `-` before ` [`. Captures: cpu, seconds (or counter),
 * fraction, name (absent on function-tracer lines).
 */
const HDR_RE =
  /^\s*.{0,64}?-\d+\s+(?:\(\s*(?:\d+|-+)\)\s+)?\[(\d{1,5})\]\s+(?:[.0-9A-Za-z]{4,5}\s+)?(\d{1,20})(?:\.(\d{1,9}))?:\s(?:([A-Za-z_]\w*(?::[A-Za-z_]\w*)?):(?:\s+|$))?/;
/** `trace-cmd report -l`: `%8.8s-%-5d %3d` then the flags glued to the CPU number. */
const LAT_RE =
  /^\s*.{0,64}?-\d+\s+(\d{1,5})[^\d\s][.0-9A-Za-z]{3,4}\s+(\d{1,20})(?:\.(\d{1,9}))?:\s(?:([A-Za-z_]\w*(?::[A-Za-z_]\w*)?):(?:\s+|$))?/;
const ENTRIES_RE = /entries-in-buffer\/entries-written:\s*(\d+)\/(\d+)(?:\s+#P:(\d+))?/;
const CPUS_RE = /^cpus=(\d+)\s*$/;
const LOST_RE = /^CPU:\s*(\d+)\s+\[(?:LOST\s+(\d+)\s+EVENTS|LOST\s+EVENTS|(\d+)\s+EVENTS\s+DROPPED|EVENTS\s+DROPPED)\]\s*$/;
const QUIET_RE = /^(?:CPU\s*\d+\s+is\s+empty|version\s*=\s*\d+)\s*$/;

// Payload formats (TP_printk of the kernel; quoted in trace-formats.md and the 6.18 format files).
const HEX = '([0-9a-fA-F]{1,16})';
const ARR = '\\{([^{}\\s]*)\\}';
const IOMMU_MAP_RE = new RegExp(`^IOMMU: iova=0x${HEX} - 0x${HEX} paddr=0x${HEX} size=(\\d{1,20})$`);
const IOMMU_UNMAP_RE = new RegExp(`^IOMMU: iova=0x${HEX} - 0x${HEX} size=(\\d{1,20}) unmapped_size=(\\d{1,20})$`);
const FAULT_RE = new RegExp(`^IOMMU:(\\S*) (\\S+) iova=0x${HEX} flags=0x([0-9a-fA-F]{1,8})$`);
const QI_RE = new RegExp(`^(\\w+) (\\S+): 0x${HEX} 0x${HEX} 0x${HEX} 0x${HEX}$`);
// dma events: the part after `<device> `.
const DMA_MAP_RE = new RegExp(`^dir=(\\w+) dma_addr=${HEX} size=(\\d{1,20}) phys_addr=${HEX} attrs=(\\S*)$`);
const DMA_UNMAP_RE = new RegExp(`^dir=(\\w+) dma_addr=${HEX} size=(\\d{1,20}) attrs=(\\S*)$`);
const DMA_ALLOC_RE = new RegExp(`^dir=(\\w+) dma_addr=${HEX} size=(\\d{1,20}) virt_addr=(\\S+) flags=(\\S+) attrs=(\\S*)$`);
const DMA_ALLOC_SGT_RE = new RegExp(`^dir=(\\w+) dma_addr=${HEX} size=(\\d{1,20}) phys_addrs=${ARR} flags=(\\S+) attrs=(\\S*)$`);
const DMA_FREE_RE = new RegExp(`^dir=(\\w+) dma_addr=${HEX} size=(\\d{1,20}) virt_addr=(\\S+) attrs=(\\S*)$`);
const DMA_FREE_SGT_RE = new RegExp(`^dir=(\\w+) dma_addr=${HEX} size=(\\d{1,20}) phys_addrs=${ARR}$`);
const DMA_MAP_SG_OLD_RE = new RegExp(`^dir=(\\w+) dma_addrs=${ARR} sizes=${ARR} phys_addrs=${ARR} attrs=(\\S*)$`);
const DMA_MAP_SG_NEW_RE = new RegExp(
  `^dir=(\\w+) nents=(\\d{1,10})/(\\d{1,10}) ents=(\\d{1,10})/(\\d{1,10})( \\[TRUNCATED\\])? dma_addrs=${ARR} sizes=${ARR} phys_addrs=${ARR} attrs=(\\S*)$`);
const DMA_UNMAP_SG_RE = new RegExp(`^dir=(\\w+) phys_addrs=${ARR} attrs=(\\S*)$`);
const DMA_SYNC_RE = new RegExp(`^dir=(\\w+) dma_addr=${HEX} size=(\\d{1,20})$`);
const DMA_SYNC_SG_RE = new RegExp(`^dir=(\\w+) dma_addrs=${ARR} sizes=${ARR}$`);

const enum H {
  IommuMap, IommuUnmap, Fault, DmaMap, DmaUnmap, DmaAlloc, DmaAllocSgt, DmaFree, DmaFreeSgt,
  MapSg, UnmapSg, SyncSingle, SyncSg, Qi,
}

/** The dma:* events of one range (a row each), by handler: their payload patterns after the device. */
const RANGE_RE: Readonly<Partial<Record<H, RegExp>>> = {
  [H.DmaMap]: DMA_MAP_RE, [H.DmaUnmap]: DMA_UNMAP_RE, [H.SyncSingle]: DMA_SYNC_RE, [H.DmaAlloc]: DMA_ALLOC_RE,
  [H.DmaFree]: DMA_FREE_RE, [H.DmaAllocSgt]: DMA_ALLOC_SGT_RE, [H.DmaFreeSgt]: DMA_FREE_SGT_RE,
};
const NO_ADDRS: readonly number[] = [];
interface Handler { h: H; op: FtraceOp; sys: string; fmt: string }
const F_MAP = '%s dir=%s dma_addr=%llx size=%zu phys_addr=%llx attrs=%s';
const F_UNMAP = '%s dir=%s dma_addr=%llx size=%zu attrs=%s';
const F_ALLOC = '%s dir=%s dma_addr=%llx size=%zu virt_addr=%p flags=%s attrs=%s';
const F_FREE = '%s dir=%s dma_addr=%llx size=%zu virt_addr=%p attrs=%s';
const F_SYNC = '%s dir=%s dma_addr=%llx size=%zu';
const F_SYNC_SG = '%s dir=%s dma_addrs=%s sizes=%s';
const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['map', { h: H.IommuMap, op: FtraceOp.Map, sys: 'iommu', fmt: 'IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=%zu' }],
  ['unmap', { h: H.IommuUnmap, op: FtraceOp.Unmap, sys: 'iommu', fmt: 'IOMMU: iova=0x%016llx - 0x%016llx size=%zu unmapped_size=%zu' }],
  ['io_page_fault', { h: H.Fault, op: FtraceOp.Fault, sys: 'iommu', fmt: 'IOMMU:%s %s iova=0x%016llx flags=0x%04x' }],
  ['dma_map_page', { h: H.DmaMap, op: FtraceOp.DmaMap, sys: 'dma', fmt: F_MAP }],
  ['dma_map_phys', { h: H.DmaMap, op: FtraceOp.DmaMap, sys: 'dma', fmt: F_MAP }],
  ['dma_map_resource', { h: H.DmaMap, op: FtraceOp.DmaMap, sys: 'dma', fmt: F_MAP }],
  ['dma_unmap_page', { h: H.DmaUnmap, op: FtraceOp.DmaUnmap, sys: 'dma', fmt: F_UNMAP }],
  ['dma_unmap_phys', { h: H.DmaUnmap, op: FtraceOp.DmaUnmap, sys: 'dma', fmt: F_UNMAP }],
  ['dma_unmap_resource', { h: H.DmaUnmap, op: FtraceOp.DmaUnmap, sys: 'dma', fmt: F_UNMAP }],
  ['dma_alloc', { h: H.DmaAlloc, op: FtraceOp.DmaAlloc, sys: 'dma', fmt: F_ALLOC }],
  ['dma_alloc_pages', { h: H.DmaAlloc, op: FtraceOp.DmaAlloc, sys: 'dma', fmt: F_ALLOC }],
  ['dma_alloc_sgt', { h: H.DmaAllocSgt, op: FtraceOp.DmaAlloc, sys: 'dma', fmt: '%s dir=%s dma_addr=%llx size=%zu phys_addrs=%s flags=%s attrs=%s' }],
  ['dma_free', { h: H.DmaFree, op: FtraceOp.DmaFree, sys: 'dma', fmt: F_FREE }],
  ['dma_free_pages', { h: H.DmaFree, op: FtraceOp.DmaFree, sys: 'dma', fmt: F_FREE }],
  ['dma_free_sgt', { h: H.DmaFreeSgt, op: FtraceOp.DmaFree, sys: 'dma', fmt: '%s dir=%s dma_addr=%llx size=%zu phys_addrs=%s' }],
  ['dma_map_sg', { h: H.MapSg, op: FtraceOp.DmaMapSg, sys: 'dma', fmt: '%s dir=%s [nents=%d/%d ents=%d/%d[ [TRUNCATED]]] dma_addrs=%s sizes=%s phys_addrs=%s attrs=%s' }],
  ['dma_unmap_sg', { h: H.UnmapSg, op: FtraceOp.DmaUnmapSg, sys: 'dma', fmt: '%s dir=%s phys_addrs=%s attrs=%s' }],
  ['dma_sync_single_for_cpu', { h: H.SyncSingle, op: FtraceOp.SyncForCpu, sys: 'dma', fmt: F_SYNC }],
  ['dma_sync_single_for_device', { h: H.SyncSingle, op: FtraceOp.SyncForDevice, sys: 'dma', fmt: F_SYNC }],
  ['dma_sync_sg_for_cpu', { h: H.SyncSg, op: FtraceOp.SyncForCpu, sys: 'dma', fmt: F_SYNC_SG }],
  ['dma_sync_sg_for_device', { h: H.SyncSg, op: FtraceOp.SyncForDevice, sys: 'dma', fmt: F_SYNC_SG }],
  ['qi_submit', { h: H.Qi, op: FtraceOp.QiSubmit, sys: 'intel_iommu', fmt: '%s %s: 0x%llx 0x%llx 0x%llx 0x%llx' }],
]);

/** The kernel's enum dma_data_direction (include/linux/dma-direction.h), and 255 where an event has none. */
export const DMA_BIDIRECTIONAL = 0, DMA_TO_DEVICE = 1, DMA_FROM_DEVICE = 2, DMA_NONE = 3, DMA_DIR_NA = 255;
const DIR_CODE: Readonly<Record<string, number>> = { BIDIRECTIONAL: DMA_BIDIRECTIONAL, TO_DEVICE: DMA_TO_DEVICE, FROM_DEVICE: DMA_FROM_DEVICE, NONE: DMA_NONE };
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Own-property lookup: input text must never reach `constructor`, `__proto__` & co. */
const lookup = <T>(table: Readonly<Record<string, T>>, key: string): T | undefined =>
  (Object.hasOwn(table, key) ? table[key] : undefined);
const FIX_LINE = 'the line does not follow the kernel print format; re-capture the trace, or delete or repair this line';

// ---------------------------------------------------------------------------------------------

/** True when the first lines look like ftrace text (tracefs header, `cpus=`, or an event line). */
export function detectFtrace(headText: string): boolean {
  const lines = headText.split('\n', 64);
  let checked = 0;
  for (let i = 0; i < lines.length && checked < 20; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (checked === 0 && (/^# tracer: /.test(line) || CPUS_RE.test(line))) return true;
    checked++;
    if (line.startsWith('#')) {
      if (ENTRIES_RE.test(line)) return true;
      continue;
    }
    // The last line of a head may be cut short: only whole lines count.
    if (i === lines.length - 1 && !headText.endsWith('\n')) break;
    const m = HDR_RE.exec(line) ?? LAT_RE.exec(line);
    if (m && m[4] !== undefined) return true;
  }
  return false;
}

/** Parses a whole ftrace text file. `fileName` is used in messages only. */
export function parseFtrace(text: string, fileName: string): FtraceFile {
  const p = new FtraceParser(fileName, Math.ceil(text.length / 100));
  p.feed(text);
  return p.finish();
}

// ---------------------------------------------------------------------------------------------

/** Rows as they are parsed (growing by doubling); `count = 0` starts over, keeping the room. */
export class Rows {
  cap: number;
  count = 0;
  tsNs: Float64Array; cpu: Uint16Array; op: Uint8Array; dev: Uint16Array; dir: Uint8Array;
  iova: Float64Array; paddr: Float64Array; size: Float64Array; aux: Float64Array;
  constructor(cap: number) {
    this.cap = cap;
    this.tsNs = new Float64Array(cap); this.cpu = new Uint16Array(cap); this.op = new Uint8Array(cap);
    this.dev = new Uint16Array(cap); this.dir = new Uint8Array(cap); this.iova = new Float64Array(cap);
    this.paddr = new Float64Array(cap); this.size = new Float64Array(cap); this.aux = new Float64Array(cap);
  }
  private grow(): void {
    const cap = this.cap * 2;
    const g = growTyped;
    this.tsNs = g(this.tsNs, cap); this.cpu = g(this.cpu, cap); this.op = g(this.op, cap);
    this.dev = g(this.dev, cap); this.dir = g(this.dir, cap); this.iova = g(this.iova, cap);
    this.paddr = g(this.paddr, cap); this.size = g(this.size, cap); this.aux = g(this.aux, cap);
    this.cap = cap;
  }
  push(ts: number, cpu: number, op: number, dev: number, dir: number, iova: number, paddr: number, size: number, aux: number): number {
    if (this.count === this.cap) this.grow();
    const i = this.count++;
    this.tsNs[i] = ts; this.cpu[i] = cpu; this.op[i] = op; this.dev[i] = dev; this.dir[i] = dir;
    this.iova[i] = iova; this.paddr[i] = paddr; this.size[i] = size; this.aux[i] = aux;
    return i;
  }
  finish(): FtraceColumns {
    const n = this.count;
    return {
      count: n, tsNs: this.tsNs.slice(0, n), cpu: this.cpu.slice(0, n), op: this.op.slice(0, n),
      dev: this.dev.slice(0, n), dir: this.dir.slice(0, n), iova: this.iova.slice(0, n),
      paddr: this.paddr.slice(0, n), size: this.size.slice(0, n), aux: this.aux.slice(0, n),
    };
  }
}

/** Warnings of one kind are counted and reported once, naming the first few lines. */
class Warnings {
  private readonly kinds = new Map<string, { lines: number[]; count: number; extra: number }>();
  private readonly order: string[] = [];
  add(kind: string, line: number, extra = 0): void {
    let k = this.kinds.get(kind);
    if (!k) { k = { lines: [], count: 0, extra: 0 }; this.kinds.set(kind, k); this.order.push(kind); }
    k.count++;
    k.extra += extra;
    if (k.lines.length < 3) k.lines.push(line);
  }
  render(file: string, text: (kind: string, count: number, extra: number) => string): string[] {
    return this.order.map((kind) => {
      const k = this.kinds.get(kind)!;
      const where = k.lines.map((l) => `${file}:${l}`).join(', ') + (k.count > k.lines.length ? ', …' : '');
      return `${where}: ${text(kind, k.count, k.extra)}`;
    });
  }
}

const WARN_TEXT: Record<string, (n: number, extra: number) => string> = {
  unknown: (n) => `${n} line(s) are neither events nor header lines; ignored`,
  lost: (n, e) => `${n} lost-events marker(s): ${e} event(s) the ring buffer dropped are missing from this trace`,
  lostUnknown: (n) => `${n} lost-events marker(s) without a count; some events are missing from this trace`,
  truncated: (n) => `${n} dma_map_sg event(s) marked [TRUNCATED]: the kernel kept only the first 128 entries, which are imported`,
  sgCount: (n) => `${n} dma_map_sg event(s) whose array lengths differ from the nents/ents counts; entries imported as printed`,
  sgMerged: (n) => `${n} dma_map_sg event(s) with fewer mapped segments than scatterlist entries (IOMMU merging): paddr is NaN for their rows`,
  failedToParse: (n) => `${n} event(s) printed as [FAILED TO PARSE] by trace-cmd (its libtraceevent could not evaluate the kernel format); counted in skipped. Read the tracefs trace file instead, or a newer trace-cmd`,
  notIommu: (n) => `${n} map/unmap event(s) without the "IOMMU:" prefix (not iommu:map/unmap?); counted in skipped`,
  incomplete: () => 'the last line is incomplete (no newline at the end of the file); ignored',
  bigTs: (n) => `${n} timestamp(s) ≥ 2^53 ns (about 104 days of uptime, or a counter clock): tsNs is rounded to the nearest representable value`,
  qiWrap: (n) => `${n} qi_submit device-TLB descriptor(s) with the S bit set but no zero address bit; iova/size left NaN`,
};

/**
 * The parser, state kept between runs of lines: `parseFtrace` feeds it the whole text at once, a
 * streamed read (ftrace-stream.ts) a run of whole lines at a time, taking the rows after each run.
 */
export class FtraceParser {
  readonly rows: Rows;
  private readonly devIndex = new Map<string, number>();
  /** The last dma device name and its index (consecutive events mostly name the same device). */
  private lastDev = '';
  private lastDevIdx = -1;
  readonly devices: string[] = [];
  private readonly skipped = new Map<string, number>();
  private readonly warn = new Warnings();
  private qiRows: number[] = [];
  private qiWords: bigint[] = [];
  private lineNo = 0;
  /** The line being parsed is the last one and has no newline (possibly cut off). */
  private lastLine = false;
  private layoutTraceCmd = false;
  private headerLost = 0;
  private markerLost = 0;
  private cpus: number | null = null;
  private events = 0;
  private firstUnknown = 0;
  private sawHeader = false;
  private fed = false;

  /**
   * `rowsHint`: rows to make room for at first. `qi`: keep every qi_submit row's raw descriptor
   * words (FtraceFile.qi; a streamed read, which takes the rows a run at a time, does not).
   */
  constructor(private readonly file: string, rowsHint = 256, private readonly keepQi = true) {
    this.rows = new Rows(Math.max(256, rowsHint));
  }

  /**
   * Parse a run of whole lines (ending just after a newline; only the file's last line may lack
   * one), appending to `rows`.
   */
  feed(text: string): void {
    const n = text.length;
    let pos = !this.fed && text.charCodeAt(0) === 0xfeff ? 1 : 0;
    this.fed = true;
    while (pos < n) {
      let end = text.indexOf('\n', pos);
      const lastNoNewline = end < 0;
      if (end < 0) end = n;
      const start = pos;
      pos = end + 1;
      this.lineNo++;
      this.lastLine = lastNoNewline;
      if (end > start && text.charCodeAt(end - 1) === 13) end--;
      const line = text.slice(start, end);
      const c0 = line.charCodeAt(0);
      if (c0 === 35 /* # */) {
        this.sawHeader = true;
        const m = ENTRIES_RE.exec(line);
        if (m) {
          this.headerLost += Math.max(0, Number(m[2]) - Number(m[1]));
          if (m[3] !== undefined) this.cpus = Number(m[3]);
        }
        continue;
      }
      if (line.length === 0) continue;
      let m = HDR_RE.exec(line);
      if (m === null) {
        m = LAT_RE.exec(line);
        if (m !== null) this.layoutTraceCmd = true;
      }
      if (m !== null) {
        try {
          this.event(m, line);
        } catch (e) {
          // A cut-off last line (trace still being written) is not worth failing the whole file.
          if (lastNoNewline && isInputError(e)) { this.warn.add('incomplete', this.lineNo); continue; }
          throw e;
        }
        continue;
      }
      if (line.trim() === '') continue;
      if (this.nonEvent(line)) { this.sawHeader = true; continue; }
      if (lastNoNewline) { this.warn.add('incomplete', this.lineNo); continue; }
      if (this.firstUnknown === 0) this.firstUnknown = this.lineNo;
      this.warn.add('unknown', this.lineNo);
    }
  }

  /** After the last line: the file (columns: the rows not yet taken). Not ftrace at all is an error. */
  finish(): FtraceFile {
    if (this.events === 0 && !this.sawHeader && this.firstUnknown !== 0) {
      throw inputError(`${this.file}:${this.firstUnknown}`, 'not an ftrace text trace (no event line and no tracefs or trace-cmd header)',
        'pass the text of /sys/kernel/tracing/trace, trace_pipe or `trace-cmd report`');
    }
    const qiN = this.qiRows.length;
    const qw = new BigUint64Array(qiN * 4);
    for (let i = 0; i < qw.length; i++) qw[i] = this.qiWords[i]!;
    return {
      layout: this.layoutTraceCmd ? 'trace-cmd' : 'trace',
      columns: this.rows.finish(),
      devices: this.devices,
      skipped: Object.fromEntries(this.skipped),
      lost: this.headerLost + this.markerLost,
      cpus: this.cpus,
      warnings: this.warn.render(this.file, (kind, count, extra) => WARN_TEXT[kind]!(count, extra)),
      qi: { count: qiN, row: Uint32Array.from(this.qiRows), qw },
    };
  }

  /** Header lines, lost-event markers and other non-event lines; true when consumed. */
  private nonEvent(line: string): boolean {
    const t = line.trim();
    let m = CPUS_RE.exec(t);
    if (m) { this.cpus = Number(m[1]); this.layoutTraceCmd = true; return true; }
    m = LOST_RE.exec(t);
    if (m) {
      const count = m[2] ?? m[3];
      if (count !== undefined) {
        const k = Number(count);
        if (!Number.isSafeInteger(k)) return false;
        this.markerLost += k;
        this.warn.add('lost', this.lineNo, k);
      } else {
        this.warn.add('lostUnknown', this.lineNo);
      }
      return true;
    }
    return QUIET_RE.test(t);
  }

  private fail(what: string, fix = FIX_LINE): never {
    throw inputError(`${this.file}:${this.lineNo}`, what, fix);
  }

  private skip(name: string): void {
    this.skipped.set(name, (this.skipped.get(name) ?? 0) + 1);
  }

  private event(m: RegExpExecArray, line: string): void {
    const full = m[4];
    this.events++;
    if (full === undefined) {
      if (this.lastLine) { this.events--; this.warn.add('incomplete', this.lineNo); return; }
      // Function-tracer lines (`func <-parent`) and other non-event output: no `name:`.
      this.skip('(no event name)');
      return;
    }
    const colon = full.indexOf(':');
    const name = colon < 0 ? full : full.slice(colon + 1);
    const handler = HANDLERS.get(name);
    if (handler === undefined || (colon >= 0 && full.slice(0, colon) !== handler.sys)) { this.skip(full); return; }
    const cpu = Number(m[1]);
    if (cpu > 0xffff) this.fail(`CPU number ${m[1]} is out of range`);
    this.payloadEvent(handler, full, line.slice(m[0].length), this.timestamp(m[2]!, m[3]), cpu);
  }

  private payloadEvent(handler: Handler, full: string, payload: string, ts: number, cpu: number): void {
    if (payload.length > 0 && payload.charCodeAt(payload.length - 1) <= 32) payload = payload.trimEnd();
    if (payload.startsWith('[FAILED TO PARSE]')) { this.skip(full); this.warn.add('failedToParse', this.lineNo); return; }
    this.dispatch(handler, full, payload, ts, cpu);
  }

  private timestamp(secs: string, frac: string | undefined): number {
    let ts: number;
    if (frac === undefined) {
      ts = Number(secs); // counter clock: the raw value
    } else {
      let f = Number(frac);
      for (let k = frac.length; k < 9; k++) f *= 10;
      ts = Number(secs) * 1e9 + f;
    }
    if (ts > MAX_SAFE) this.warn.add('bigTs', this.lineNo);
    return ts;
  }

  private hex(s: string, what: string): number {
    const v = parseInt(s, 16);
    if (v > MAX_SAFE) this.fail(`${what} 0x${s} is ≥ 2^53 and cannot be stored exactly`, 'such addresses are not supported; split or filter the trace');
    return v;
  }

  private dec(s: string, what: string): number {
    const v = Number(s);
    if (!(v <= MAX_SAFE)) this.fail(`${what} ${s} is ≥ 2^53 and cannot be stored exactly`);
    return v;
  }

  private dir(s: string): number {
    const d = lookup(DIR_CODE, s);
    if (d !== undefined) return d;
    if (/^0x[0-3]$/.test(s)) return Number(s);
    return this.fail(`unknown DMA direction "dir=${s.slice(0, 40)}"`, 'expected BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE or NONE; repair this line');
  }

  private array(s: string, what: string): number[] {
    if (s === '') return [];
    const parts = s.split(',');
    const out = new Array<number>(parts.length);
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (!/^0x[0-9a-fA-F]{1,16}$/.test(p)) this.fail(`${what} element "${p.slice(0, 40)}" is not a 0x-prefixed hex number`);
      out[i] = this.hex(p.slice(2), what);
    }
    return out;
  }

  private device(name: string): number {
    let i = this.devIndex.get(name);
    if (i === undefined) {
      i = this.devices.length;
      if (i >= FTRACE_DEV_UNKNOWN) this.fail('more than 65535 distinct devices', 'split the trace');
      this.devices.push(name);
      this.devIndex.set(name, i);
    }
    return i;
  }

  private mismatch(name: string, fmt: string, payload: string): never {
    const shown = payload.length > 100 ? `${payload.slice(0, 100)}…` : payload;
    return this.fail(`${name}: payload "${shown}" does not match the kernel format "${fmt}"`);
  }

  private checkEnd(iova: number, size: number, endHex: string, name: string): void {
    const end = parseInt(endHex, 16);
    if (end !== iova + size) this.fail(`${name}: end address 0x${endHex} is not iova + size (0x${(iova + size).toString(16)})`);
  }

  /** An event's payload into rows, by its family: iommu map/unmap, io_page_fault, qi_submit, dma:*. */
  private dispatch(hd: Handler, name: string, payload: string, ts: number, cpu: number): void {
    switch (hd.h) {
      case H.IommuMap:
      case H.IommuUnmap: return this.iommuEvent(hd, name, payload, ts, cpu);
      case H.Fault: {
        const r = FAULT_RE.exec(payload) ?? this.mismatch(name, hd.fmt, payload);
        this.rows.push(ts, cpu, hd.op, this.device(r[2]!), FTRACE_DIR_NA, this.hex(r[3]!, 'iova'), NaN, NaN, parseInt(r[4]!, 16));
        return;
      }
      case H.Qi: return this.qi(hd, name, payload, ts, cpu);
      default: return this.dmaEvent(hd, name, payload, ts, cpu);
    }
  }

  /**
   * `iommu:map` (IOMMU: iova=… - … paddr=… size=…) and `iommu:unmap` (IOMMU: iova=… - … size=…
   * unmapped_size=…); an event without the IOMMU: prefix is skipped.
   */
  private iommuEvent(hd: Handler, name: string, payload: string, ts: number, cpu: number): void {
    const map = hd.h === H.IommuMap;
    const r = (map ? IOMMU_MAP_RE : IOMMU_UNMAP_RE).exec(payload);
    if (r === null) {
      if (!payload.startsWith('IOMMU')) { this.skip(name); this.warn.add('notIommu', this.lineNo); return; }
      this.mismatch(name, hd.fmt, payload);
    }
    const iova = this.hex(r[1]!, 'iova');
    const size = this.dec(r[map ? 4 : 3]!, 'size');
    this.checkEnd(iova, size, r[2]!, name);
    if (map) this.rows.push(ts, cpu, hd.op, FTRACE_DEV_UNKNOWN, FTRACE_DIR_NA, iova, this.hex(r[3]!, 'paddr'), size, 0);
    else this.rows.push(ts, cpu, hd.op, FTRACE_DEV_UNKNOWN, FTRACE_DIR_NA, iova, NaN, size, this.dec(r[4]!, 'unmapped_size'));
  }

  /** The dma:* events (`<device> dir=<DIR> …`): the device, then one row per range (the scatterlist ones: sgEvent). */
  private dmaEvent(hd: Handler, name: string, payload: string, ts: number, cpu: number): void {
    const rows = this.rows;
    const op = hd.op;
    const at = payload.indexOf(' dir=');
    if (at <= 0) this.mismatch(name, hd.fmt, payload);
    let dev = this.lastDevIdx;
    if (at !== this.lastDev.length || !payload.startsWith(this.lastDev)) {
      this.lastDev = payload.slice(0, at);
      dev = this.lastDevIdx = this.device(this.lastDev);
    }
    const body = payload.slice(at + 1);
    const re = RANGE_RE[hd.h];
    if (re === undefined) return this.sgEvent(hd, name, payload, body, ts, cpu, dev);
    // One range: dir, dma_addr and size (groups 1-3), then the event's own fields. The *_sgt events'
    // phys_addrs list is read first (its first entry is the row's physical address); dma_map_* gives one phys_addr.
    const r = re.exec(body) ?? this.mismatch(name, hd.fmt, payload);
    const sgt = hd.h === H.DmaAllocSgt || hd.h === H.DmaFreeSgt ? this.array(r[4]!, 'phys_addrs') : NO_ADDRS;
    const d = this.dir(r[1]!), dma = this.hex(r[2]!, 'dma_addr');
    const phys = hd.h === H.DmaMap ? this.hex(r[4]!, 'phys_addr') : sgt.length > 0 ? sgt[0]! : NaN;
    rows.push(ts, cpu, op, dev, d, dma, phys, this.dec(r[3]!, 'size'), 0);
  }

  /** The scatterlist dma:* events (map_sg, unmap_sg, sync_sg): a row per entry. `body`: the payload from `dir=`. */
  private sgEvent(hd: Handler, name: string, payload: string, body: string, ts: number, cpu: number, dev: number): void {
    const rows = this.rows;
    const op = hd.op;
    switch (hd.h) {
      case H.MapSg: return this.mapSg(hd, name, payload, body, ts, cpu, dev);
      case H.UnmapSg: {
        const r = DMA_UNMAP_SG_RE.exec(body) ?? this.mismatch(name, hd.fmt, payload);
        const d = this.dir(r[1]!);
        const phys = this.array(r[2]!, 'phys_addrs');
        for (let i = 0; i < phys.length; i++) rows.push(ts, cpu, op, dev, d, NaN, phys[i]!, NaN, 0);
        return;
      }
      case H.SyncSg: {
        const r = DMA_SYNC_SG_RE.exec(body) ?? this.mismatch(name, hd.fmt, payload);
        const d = this.dir(r[1]!);
        const dma = this.array(r[2]!, 'dma_addrs');
        const sizes = this.array(r[3]!, 'sizes');
        if (dma.length !== sizes.length) this.fail(`${name}: ${dma.length} dma_addrs but ${sizes.length} sizes`);
        for (let i = 0; i < dma.length; i++) rows.push(ts, cpu, op, dev, d, dma[i]!, NaN, sizes[i]!, 0);
        return;
      }
      default:
        this.mismatch(name, hd.fmt, payload);
    }
  }

  /** `dma:dma_map_sg`, in the newer (nents=%d/%d ents=%d/%d) or the older layout: a row per mapped segment. */
  private mapSg(hd: Handler, name: string, payload: string, body: string, ts: number, cpu: number, dev: number): void {
    let r = DMA_MAP_SG_NEW_RE.exec(body);
    const isNew = r !== null;
    let dmaS: string, sizeS: string, physS: string;
    if (r !== null) {
      dmaS = r[7]!; sizeS = r[8]!; physS = r[9]!;
    } else {
      r = DMA_MAP_SG_OLD_RE.exec(body) ?? this.mismatch(name, hd.fmt, payload);
      dmaS = r[2]!; sizeS = r[3]!; physS = r[4]!;
    }
    const d = this.dir(r[1]!);
    const dma = this.array(dmaS, 'dma_addrs');
    const sizes = this.array(sizeS, 'sizes');
    const phys = this.array(physS, 'phys_addrs');
    if (dma.length !== sizes.length) this.fail(`${name}: ${dma.length} dma_addrs but ${sizes.length} sizes`);
    if (isNew) { // newer layout: nents=%d/%d ents=%d/%d
      if (r[6] !== undefined) this.warn.add('truncated', this.lineNo);
      if (Number(r[2]) !== phys.length || Number(r[4]) !== dma.length) this.warn.add('sgCount', this.lineNo);
    }
    const paired = phys.length === dma.length;
    if (!paired && dma.length > 0) this.warn.add('sgMerged', this.lineNo);
    for (let i = 0; i < dma.length; i++) this.rows.push(ts, cpu, hd.op, dev, d, dma[i]!, paired ? phys[i]! : NaN, sizes[i]!, 0);
  }

  /**
   * `qi_submit`: type name, iommu name, qw0..qw3. Decoding (VT-d spec §6.5.2; Linux
   * drivers/iommu/intel/iommu.h QI_* macros):
   *  - type = qw0 & 0xf (the printed name must agree).
   *  - IOTLB (2) and PASID-based IOTLB (6): granularity qw0[5:4]; only page-selective (3) carries an
   *    address: iova = qw1[63:12], size = 2^AM × 4 KiB with AM = qw1[5:0] (IH = qw1[6]).
   *    Global/domain/PASID-selective flushes cover no single range: iova = size = NaN.
   *  - Device-TLB (3) / PASID-based device-TLB (8): address qw1[63:12]; S bit qw1[0] (type 3) or
   *    qw1[11] (type 8): S = 0 → one 4 KiB page; S = 1 → the lowest zero address bit p ≥ 12 gives
   *    2^(p+1) bytes, base = the address with bits p..0 cleared.
   *  - Other types: iova = size = NaN.
   */
  private qi(hd: Handler, name: string, payload: string, ts: number, cpu: number): void {
    const r = QI_RE.exec(payload) ?? this.mismatch(name, hd.fmt, payload);
    const typeName = r[1]!;
    const qw0 = BigInt(`0x${r[3]!}`), qw1 = BigInt(`0x${r[4]!}`), qw2 = BigInt(`0x${r[5]!}`), qw3 = BigInt(`0x${r[6]!}`);
    const type = Number(qw0 & 0xfn);
    const named = lookup(QI_TYPE_CODE, typeName) ?? (/^0x[0-9a-f]+$/i.test(typeName) ? parseInt(typeName.slice(2), 16) : -1);
    if (named < 0) this.fail(`${name}: unknown descriptor type "${typeName.slice(0, 40)}"`, `expected one of ${Object.keys(QI_TYPE_CODE).join(', ')}; repair this line`);
    if (named !== type) this.fail(`${name}: descriptor type "${typeName}" does not match qw0 & 0xf = ${type}`);
    let iova = NaN, size = NaN;
    if (type === 2 || type === 6) {
      if (((qw0 >> 4n) & 3n) === 3n) {
        iova = this.hex((qw1 & ~0xfffn).toString(16), 'qw1 address');
        size = 4096 * 2 ** Number(qw1 & 0x3fn);
      }
    } else if (type === 3 || type === 8) {
      const addr = qw1 & ~0xfffn;
      const s = type === 3 ? qw1 & 1n : (qw1 >> 11n) & 1n;
      if (s === 0n) {
        iova = this.hex(addr.toString(16), 'qw1 address');
        size = 4096;
      } else {
        let p = 12n;
        while (p < 64n && ((addr >> p) & 1n) === 1n) p++;
        if (p < 64n) {
          iova = this.hex((addr & ~((1n << (p + 1n)) - 1n)).toString(16), 'qw1 address');
          size = 2 ** Number(p + 1n);
        } else {
          this.warn.add('qiWrap', this.lineNo);
        }
      }
    }
    const row = this.rows.push(ts, cpu, FtraceOp.QiSubmit, this.device(r[2]!), FTRACE_DIR_NA, iova, NaN, size, type);
    if (!this.keepQi) return;
    this.qiRows.push(row);
    this.qiWords.push(qw0, qw1, qw2, qw3);
  }
}
