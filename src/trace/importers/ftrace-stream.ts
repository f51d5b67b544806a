/**
 * ftrace text as a DMA trace in bounded memory (src/run/stream.ts). The conversion of
 * ftrace-dma.ts makes records out of time order — a mapping's synthesized read and write are made
 * when it is unmapped (or, never unmapped, at the end) — and the whole-file import sorts them by
 * time, stably. Here the same records come out in the same order without the whole file in memory,
 * in three passes over the text:
 *
 *  A. parse only: whether dma:* maps exist (they decide which events give the mappings), the device
 *     names, the first row's time, the skipped events (for the "nothing to replay" error);
 *  B. parse and convert, records counted in the order they are made: each device's first record in
 *     time order (the device table of the sorted trace), and the records made more than `windowNs`
 *     of trace time behind the latest row ("late": in practice the read of a mapping that lives
 *     longer than the window, or is never unmapped), kept with their place;
 *  C. (each replay) parse and convert again: records wait in a heap ordered by (time, order made),
 *     the late ones are known already; a record leaves once nothing still to come can precede it,
 *     since a record that is not late is made at most windowNs behind the latest row.
 *
 * Memory: the open mappings (as the whole-file conversion), the records of the last windowNs of
 * trace time, and the late records; not the file, its rows or the trace.
 */
import { FtraceParser, type FtraceFile, type Rows } from './ftrace.js';
import { DmaRecords, ftracePlan, isDmaMapOp, noDmaEvents, pushRecord, type FtraceDmaOptions, type FtracePlan } from './ftrace-dma.js';
import { InputStream, LineBlocks, utf8 } from '../input.js';
import { ChunkSink, MAX_TRACE_DEVICES, tooManyDevices, changedWhileRead } from '../columns.js';
import { isInputError } from '../../util/errors.js';
import { growTyped } from '../../util/typed.js';

/**
 * Trace time a record may be made behind the latest row and still wait in the heap (10 ms): the
 * heap holds about this much of the trace; mappings living longer have their read kept as late.
 */
export const FTRACE_WINDOW_NS = 10_000_000;

/** A pass of the rows into a chunk: true when the chunk is full, false at the end of the trace. */
export type Fill = () => boolean;

/** What the first passes found: the sorted trace's device table and length, and how to fill its chunks. */
export interface FtraceScan {
  devices: string[];
  count: number;
  /** Pass C over a fresh read of the file. */
  fill(input: InputStream, sink: ChunkSink): Fill;
}

/** The parser over a stream, a run of lines at a time. */
class FtraceRuns {
  readonly parser: FtraceParser;
  private readonly blocks: LineBlocks;
  file: FtraceFile | null = null;

  constructor(input: InputStream) {
    this.parser = new FtraceParser(input.label, 4096, false);
    this.blocks = new LineBlocks(input);
  }

  /** The rows of the next run of lines (the previous run's are dropped); null at the end, after the parser's end checks. */
  next(): Rows | null {
    const rows = this.parser.rows;
    rows.count = 0;
    for (;;) {
      const run = this.blocks.next();
      if (run === null) { this.file = this.parser.finish(); return null; }
      this.parser.feed(utf8(run));
      if (rows.count > 0) return rows;
    }
  }
}

/** Growable columns of records (time, order made, device, op, iova, size, dir, paddr), by slot. */
class RecordSlots {
  t = new Float64Array(0); s = new Float64Array(0); dev = new Int32Array(0); op = new Uint8Array(0);
  dir = new Uint8Array(0); iova = new Float64Array(0); size = new Float64Array(0); paddr = new Float64Array(0);

  protected grow(cap: number): void {
    const g = growTyped;
    this.t = g(this.t, cap); this.s = g(this.s, cap); this.dev = g(this.dev, cap); this.op = g(this.op, cap);
    this.dir = g(this.dir, cap); this.iova = g(this.iova, cap); this.size = g(this.size, cap); this.paddr = g(this.paddr, cap);
  }

  protected set(k: number, t: number, s: number, dev: number, op: number, iova: number, size: number, dir: number, paddr: number): void {
    if (k >= this.t.length) this.grow(Math.max(1024, 2 * this.t.length));
    this.t[k] = t; this.s[k] = s; this.dev[k] = dev; this.op[k] = op; this.iova[k] = iova; this.size[k] = size; this.dir[k] = dir; this.paddr[k] = paddr;
  }

  /** Slot a before slot b in the sorted trace: by time, then by the order they were made. */
  protected before(a: number, b: number): boolean {
    return this.t[a] < this.t[b] || (this.t[a] === this.t[b] && this.s[a] < this.s[b]);
  }

  /** Slot k's record into the chunk. */
  emit(k: number, sink: ChunkSink): void {
    pushRecord(sink, this.t[k], this.dev[k], this.op[k], this.iova[k], this.size[k], this.dir[k], this.paddr[k]);
  }
}

/** Records in the order they were made (the late ones of pass B), sorted once complete. */
class RecordList extends RecordSlots {
  n = 0;
  add(t: number, s: number, dev: number, op: number, iova: number, size: number, dir: number, paddr: number): void {
    this.set(this.n++, t, s, dev, op, iova, size, dir, paddr);
  }
  /** The slots in sorted-trace order. */
  sorted(): Int32Array {
    return Int32Array.from(Array.from({ length: this.n }, (_, k) => k).sort((a, b) => (this.before(a, b) ? -1 : this.before(b, a) ? 1 : 0)));
  }
}

/** A binary min-heap of records by (time, order made), in slots reused as records leave. */
class RecordHeap extends RecordSlots {
  private heap = new Int32Array(1024);
  private free: number[] = [];
  private slots = 0;
  length = 0;

  push(t: number, s: number, dev: number, op: number, iova: number, size: number, dir: number, paddr: number): void {
    const k = this.free.length > 0 ? this.free.pop()! : this.slots++;
    this.set(k, t, s, dev, op, iova, size, dir, paddr);
    if (this.length === this.heap.length) { const h = new Int32Array(2 * this.heap.length); h.set(this.heap); this.heap = h; }
    let i = this.length++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(k, this.heap[p])) break;
      this.heap[i] = this.heap[p];
      i = p;
    }
    this.heap[i] = k;
  }

  /** The earliest record's slot (the heap is not empty). */
  top(): number { return this.heap[0]; }

  /** Drop the earliest record (its slot is reused). */
  pop(): void {
    this.free.push(this.heap[0]);
    const last = this.heap[--this.length];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.length) break;
      if (c + 1 < this.length && this.before(this.heap[c + 1], this.heap[c])) c++;
      if (!this.before(this.heap[c], last)) break;
      this.heap[i] = this.heap[c];
      i = c;
    }
    this.heap[i] = last;
  }
}

/** An error in a streamed pass: a fault of the file itself (gzip, UTF-16) further on wins, as in the whole-file read. */
function drainOnError(input: InputStream, e: unknown): never {
  if (isInputError(e)) input.drain();
  throw e;
}

/**
 * Passes A and B over `first` (opened, not yet read; closed here) and `reopen()`; the result fills
 * chunks with pass C. Errors are the whole-file import's, in its order: parse errors, the device
 * knob, too many devices, nothing to replay.
 */
export function scanFtrace(first: InputStream, reopen: () => InputStream, opts: FtraceDmaOptions, windowNs = FTRACE_WINDOW_NS): FtraceScan {
  const label = first.label;
  const a = parsePass(first);
  const plan = ftracePlan(a.hasDma, a.file.devices, opts);
  const made = countPass(reopen(), plan, opts, a.t0, windowNs);
  const index = deviceTable(label, made, a.file.skipped);
  const late = made.late;
  const replay: Replay = {
    label, plan, opts, t0: a.t0, windowNs, index, late, count: made.count,
    lateOrder: late.sorted(), // emitted in this order
    lateSeq: late.s.slice(0, late.n), // made in this order: skipped when made again
  };
  return { devices: [...index.keys()], count: made.count, fill: (input, sink) => replayPass(input, sink, replay) };
}

/**
 * Pass A, parse only (`input` closed here): whether dma:* maps exist, the first row's time (0
 * without rows), and the file (its devices and skipped events).
 */
function parsePass(input: InputStream): { hasDma: boolean; t0: number; file: FtraceFile } {
  let hasDma = false;
  let t0 = NaN;
  try {
    const runs = new FtraceRuns(input);
    for (let r = runs.next(); r !== null; r = runs.next()) {
      if (Number.isNaN(t0)) t0 = r.tsNs[0];
      for (let i = 0; i < r.count && !hasDma; i++) hasDma = isDmaMapOp(r.op[i]);
    }
    return { hasDma, t0: Number.isNaN(t0) ? 0 : t0, file: runs.file! };
  } catch (e) {
    drainOnError(input, e);
  } finally {
    input.close();
  }
}

/** What pass B found: the devices in order of their first record made, each one's first record in time order, the late records, the records made. */
interface Made {
  names: string[];
  /** Device (in `names`) → time and order made of its first record in time order. */
  firstT: Float64Array;
  firstS: Float64Array;
  late: RecordList;
  count: number;
}

/** Pass B, parse and convert (`input` closed here): the records counted in the order they are made (see Made). */
function countPass(input: InputStream, plan: FtracePlan, opts: FtraceDmaOptions, t0: number, windowNs: number): Made {
  const names: string[] = [];
  const ids = new Map<string, number>();
  let firstT = new Float64Array(16), firstS = new Float64Array(16);
  const late = new RecordList();
  let made = 0;
  try {
    const conv: DmaRecords = new DmaRecords(plan, opts, t0, (t, dev, op, iova, size, dir, paddr) => {
      const s = made++;
      let d = ids.get(dev);
      if (d === undefined) {
        d = names.length;
        names.push(dev);
        ids.set(dev, d);
        if (d === firstT.length) {
          const ft = new Float64Array(2 * d), fs = new Float64Array(2 * d);
          ft.set(firstT); fs.set(firstS); firstT = ft; firstS = fs;
        }
        firstT[d] = t; firstS[d] = s;
      } else if (t < firstT[d]) { firstT[d] = t; firstS[d] = s; }
      if (t < conv.frontier - windowNs) late.add(t, s, d, op, iova, size, dir, paddr);
    });
    const runs = new FtraceRuns(input);
    for (let r = runs.next(); r !== null; r = runs.next()) for (let i = 0; i < r.count; i++) conv.row(r, i);
    conv.end();
  } finally {
    input.close();
  }
  return { names, firstT, firstS, late, count: made };
}

/**
 * The device table of the sorted trace, devices by their first record (name → index, in table
 * order); the late records renumbered to it. Errors: too many devices, nothing to replay.
 */
function deviceTable(label: string, made: Made, skipped: Record<string, number>): Map<string, number> {
  const { names, firstT, firstS, late } = made;
  const byFirst = names.map((_, d) => d).sort((a, b) => firstT[a] - firstT[b] || firstS[a] - firstS[b]);
  if (byFirst.length > MAX_TRACE_DEVICES) throw tooManyDevices(label, names[byFirst[MAX_TRACE_DEVICES]]);
  if (made.count === 0) throw noDmaEvents(label, skipped);
  const index = new Map(byFirst.map((d, k) => [names[d], k]));
  const tableOf = Int32Array.from(names, (d) => index.get(d)!);
  for (let k = 0; k < late.n; k++) late.dev[k] = tableOf[late.dev[k]];
  return index;
}

/** What pass C needs from the passes before it. */
interface Replay {
  label: string;
  plan: FtracePlan;
  opts: FtraceDmaOptions;
  t0: number;
  windowNs: number;
  /** Device name → index in the sorted trace's table. */
  index: Map<string, number>;
  late: RecordList;
  /** The late records' slots in sorted-trace order, and the order each was made in (pass C skips them). */
  lateOrder: Int32Array;
  lateSeq: Float64Array;
  count: number;
}

/** Pass C over `src`: convert once more; records leave the heap (or the late list) into the chunk in sorted order. */
function replayPass(src: InputStream, sink: ChunkSink, p: Replay): Fill {
  const { label, index, late, lateOrder, lateSeq, count, windowNs } = p;
  const heap = new RecordHeap();
  const runs = new FtraceRuns(src);
  let seq = 0, skip = 0, next = 0;
  const conv = new DmaRecords(p.plan, p.opts, p.t0, (t, dev, op, iova, size, dir, paddr) => {
    const s = seq++;
    if (skip < lateSeq.length && lateSeq[skip] === s) { skip++; return; }
    const d = index.get(dev);
    if (d === undefined) throw changedWhileRead(label, `device ${dev} was not in it on the first pass`);
    heap.push(t, s, d, op, iova, size, dir, paddr);
  });
  let ended = false;
  return () => {
    for (;;) {
      // nothing still to come precedes (bound, seq), unless late (and then it is in the list)
      const bound = ended ? Infinity : conv.frontier - windowNs;
      while (sink.room > 0) {
        const h = heap.length > 0 ? heap.top() : -1;
        const l = next < lateOrder.length ? lateOrder[next] : -1;
        if (l >= 0 && (h < 0 || late.t[l] < heap.t[h] || (late.t[l] === heap.t[h] && late.s[l] < heap.s[h]))) {
          if (!(ended || late.t[l] < bound || (late.t[l] === bound && late.s[l] < seq))) break;
          late.emit(l, sink);
          next++;
        } else if (h >= 0) {
          if (!(ended || heap.t[h] <= bound)) break;
          heap.emit(h, sink);
          heap.pop();
        } else break;
      }
      if (sink.room === 0) return true;
      if (ended) {
        if (seq !== count) throw changedWhileRead(label, `${count} records on the first pass, ${seq} on the second`);
        return false;
      }
      const r = runs.next();
      if (r === null) { conv.end(); ended = true; continue; }
      for (let i = 0; i < r.count; i++) conv.row(r, i);
    }
  };
}
