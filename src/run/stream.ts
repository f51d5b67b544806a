/**
 * Traces read a chunk at a time, in bounded memory (issue #17): `.iotrace` (its own chunks), CSV,
 * JSONL and ftrace text. `run`, `trace info` and `trace import` read those formats through here;
 * pcap/pcapng (through the NIC model) and GPU profiler exports (whose copies are sorted and
 * scheduled through the GPU model) are still loaded whole (src/run/load.ts).
 *
 * A text trace is read in two passes (ftrace: three, see importers/ftrace-stream.ts), a run of
 * whole lines at a time (InputStream, LineBlocks: 1 MiB reads, gzip decompressed a step at a time):
 *  1. when opened: the device table (in the whole-file order: first appearance) and the record
 *     count. CSV: a cheap scan of the device field (CsvScan), no number parsed; an error is found by
 *     the parse of pass 2, at its line, with the whole-file message. JSONL: every line parsed and
 *     dropped (a JSON object's fields can come in any order), so its errors come here, before any
 *     replay.
 *  2. each `chunks()`: the rows through the whole-file import's parser, into one reused chunk of
 *     `chunkRecords` (64 K) rows.
 * Memory: one read, the longest line, one chunk (about 2.7 MB) — not the file or the trace.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { IotraceReader, iotraceChunkBytes } from '../trace/iotrace.js';
import { InputStream, LineBlocks, STREAM_READ_BYTES, isGzip, utf8, warnOf, type ReadOptions } from '../trace/input.js';
import { csvLines, CsvScan, type CsvOptions } from '../trace/importers/csv.js';
import { JsonlRows } from '../trace/importers/jsonl.js';
import { scanFtrace, FTRACE_WINDOW_NS, type Fill } from '../trace/importers/ftrace-stream.js';
import { ChunkSink, changedWhileRead, type TraceChunks } from '../trace/columns.js';
import { ftraceOptions, loadTrace, traceFormat, type LoadedTrace, type TraceFormat } from './load.js';
import { isInputError } from '../util/errors.js';
import { captureStream } from './generators/nic.js';
import type { TraceLoadConfig } from '../config/config.js';

/**
 * The formats read a chunk at a time (an .iotrace only uncompressed: its reader seeks in the
 * file). A capture (pcap, pcapng) streams as the NIC model's rows (generators/nic.ts captureStream).
 */
export const STREAM_FORMATS = ['iotrace', 'csv', 'jsonl', 'ftrace', 'pcap', 'pcapng'] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

/** Rows in one chunk of a streamed pass. */
export const STREAM_CHUNK_RECORDS = 1 << 16;

/** Sizes of a streamed read (tests make them tiny, to put boundaries everywhere). */
export interface StreamTuning {
  /** Bytes read from the file at a time (default 1 MiB). */
  readBytes?: number;
  /** Rows per chunk (default 64 K; an .iotrace has its own). */
  chunkRecords?: number;
  /** ftrace: trace time a record may be made behind the latest row and still wait in order (FTRACE_WINDOW_NS). */
  windowNs?: number;
  /** A capture: packets per chunk read (default 64 K). */
  chunkPackets?: number;
}

/** A trace file open for reading a chunk at a time. */
export interface TraceStream {
  readonly path: string;
  readonly format: StreamFormat;
  readonly compression?: 'gzip';
  /** The device table every chunk indexes: the one the whole-file import gives. */
  readonly devices: string[];
  /** Records in the trace; undefined for a capture (its rows are the NIC model's, known once it has run). */
  readonly count: number | undefined;
  /** Whether a record has a kind other than data (a CSV output then has the kind column). */
  hasKinds(): boolean;
  /** A pass over the records, in order, a chunk at a time in one reused buffer (read a chunk before asking for the next). */
  chunks(): TraceChunks;
  /** Release the file (and any pass still open). */
  close(): void;
}

/** An uncompressed .iotrace through its reader: the chunks of the file, read into one buffer. */
function iotraceStream(path: string): TraceStream {
  const reader = IotraceReader.open(path);
  const chunks = (): TraceChunks => {
    const buffer = new ArrayBuffer(iotraceChunkBytes(reader.chunkRecords));
    let c = 0;
    return { devices: reader.devices, next: () => (c < reader.chunks ? reader.chunk(c++, { buffer }) : null) };
  };
  return {
    path, format: 'iotrace', devices: reader.devices, count: reader.count,
    hasKinds: () => {
      const src = chunks();
      for (let t = src.next(); t !== null; t = src.next()) for (let i = 0; i < t.count; i++) if (t.kind[i] !== 0) return true;
      return false;
    },
    chunks,
    close: () => reader.close(),
  };
}

/** One pass of a CSV file's rows into `sink`, a run of lines at a time. */
function csvFill(input: InputStream, opts: CsvOptions, sink: ChunkSink): Fill {
  const blocks = new LineBlocks(input);
  const p = csvLines(input.label, opts, sink);
  let run: Uint8Array | null = null;
  let pos = 0;
  return () => {
    for (;;) {
      if (run === null || pos >= run.length) {
        run = blocks.next();
        pos = 0;
        if (run === null) { p.finish(); return false; }
      }
      pos = p.lines(run, pos, run.length, sink.room);
      if (sink.room === 0) return true;
    }
  };
}

/** One pass of a JSONL file's rows into `sink`, a line at a time. */
function jsonlFill(input: InputStream, opts: CsvOptions, sink: ChunkSink): Fill {
  const blocks = new LineBlocks(input);
  const rows = new JsonlRows(input.label, opts, sink);
  let text = '';
  let pos = 0;
  let line = 0;
  return () => {
    for (;;) {
      if (pos >= text.length) {
        const run = blocks.next();
        if (run === null) { rows.finish(); return false; }
        text = utf8(run);
        pos = 0;
      }
      while (pos < text.length) {
        if (sink.room === 0) return true;
        let end = text.indexOf('\n', pos);
        if (end < 0) end = text.length;
        rows.line(text.slice(pos, end), ++line);
        pos = end + 1;
      }
    }
  };
}

/** Pass 1 of a CSV file: CsvScan over its lines (a fault of the file itself, gzip or UTF-16, is thrown here). */
function scanCsv(input: InputStream): CsvScan {
  const scan = new CsvScan();
  try {
    const blocks = new LineBlocks(input);
    for (let run = blocks.next(); run !== null; run = blocks.next()) scan.lines(run, 0, run.length);
  } finally {
    input.close();
  }
  return scan;
}

/**
 * Pass 1 of a JSONL file: every row parsed (and dropped), for the device table, the count and
 * whether a row has a kind. A parse error is thrown after the rest of the file is checked for a
 * fault of its own (gzip, UTF-16), as the whole-file read finds those first.
 */
function scanRows(input: InputStream, fill: (input: InputStream, sink: ChunkSink) => Fill, chunkRecords: number): { devices: string[]; count: number; kinds: boolean } {
  const sink = new ChunkSink(chunkRecords);
  let count = 0;
  let kinds = false;
  try {
    const f = fill(input, sink);
    for (let more = true; more;) {
      sink.t.count = 0;
      more = f();
      const t = sink.t;
      for (let i = 0; i < t.count && !kinds; i++) kinds = t.kind[i] !== 0;
      count += t.count;
    }
  } catch (e) {
    if (isInputError(e)) input.drain();
    throw e;
  } finally {
    input.close();
  }
  return { devices: sink.t.devices, count, kinds };
}

/** A text trace after its first pass(es): each chunks() reads the file again. */
class TextTraceStream implements TraceStream {
  private readonly open = new Set<InputStream>();

  constructor(readonly path: string, readonly format: StreamFormat, readonly compression: 'gzip' | undefined, readonly devices: string[], readonly count: number,
    private readonly kinds: boolean, private readonly label: string, private readonly chunkRecords: number,
    private readonly reopen: () => InputStream, private readonly fill: (input: InputStream, sink: ChunkSink) => Fill) {}

  hasKinds(): boolean { return this.kinds; }

  chunks(): TraceChunks {
    const input = this.reopen();
    this.open.add(input);
    const sink = new ChunkSink(this.chunkRecords, this.devices, this.label);
    let f: Fill;
    try {
      f = this.fill(input, sink);
    } catch (e) {
      this.release(input);
      throw e;
    }
    let more = true;
    let total = 0;
    return {
      devices: sink.t.devices,
      next: () => {
        if (!more) return null;
        sink.t.count = 0;
        try {
          more = f();
        } catch (e) {
          this.release(input);
          throw e;
        }
        total += sink.t.count;
        if (!more) {
          this.release(input);
          if (total !== this.count) throw changedWhileRead(this.label, `${this.count} records on the first pass, ${total} on the second`);
        }
        return sink.t.count > 0 ? sink.t : null;
      },
    };
  }

  close(): void {
    for (const s of this.open) s.close();
    this.open.clear();
  }

  private release(s: InputStream): void {
    s.close();
    this.open.delete(s);
  }
}

/**
 * Open a trace file of a streamable format (`format`, as found by probeTrace or named) for reading
 * a chunk at a time. A text trace is read through once here (see the top of this file): its
 * errors, and a gzip stream's warning, come now. `opts` and `cfg` as for loadTrace.
 */
export function openTraceStream(path: string, format: StreamFormat, opts: CsvOptions = {}, cfg?: TraceLoadConfig, read: ReadOptions = {}, tune: StreamTuning = {}): TraceStream {
  if (format === 'iotrace') return iotraceStream(path);
  if (format === 'pcap' || format === 'pcapng') return captureTraceStream(path, cfg, read, tune);
  const readBytes = tune.readBytes ?? STREAM_READ_BYTES;
  const chunkRecords = tune.chunkRecords ?? STREAM_CHUNK_RECORDS;
  const first = InputStream.open(path, read, readBytes);
  // later passes read the same content again: its warnings were given by the first
  const reopen = (): InputStream => InputStream.open(path, { strict: read.strict, warn: () => {} }, readBytes);
  const { label, compression } = first;
  if (format === 'ftrace') {
    const f = scanFtrace(first, reopen, ftraceOptions(cfg), tune.windowNs ?? FTRACE_WINDOW_NS);
    return new TextTraceStream(path, format, compression, f.devices, f.count, false, label, chunkRecords, reopen, f.fill);
  }
  if (format === 'csv') {
    const scan = scanCsv(first);
    return new TextTraceStream(path, format, compression, scan.devices, scan.count, scan.kinds, label, chunkRecords, reopen, (s, sink) => csvFill(s, opts, sink));
  }
  const fill = (s: InputStream, sink: ChunkSink): Fill => jsonlFill(s, opts, sink);
  const scan = scanRows(first, fill, chunkRecords);
  return new TextTraceStream(path, format, compression, scan.devices, scan.count, scan.kinds, label, chunkRecords, reopen, fill);
}

/**
 * A capture as the NIC model's rows (the ones loadTrace's captureColumns gives), each pass reading
 * the file again a piece at a time; its warnings with the first pass only. Every NIC trace maps its
 * descriptor rings first, so it has kinds other than data.
 */
function captureTraceStream(path: string, cfg: TraceLoadConfig | undefined, read: ReadOptions, tune: StreamTuning): TraceStream {
  const open = (r: ReadOptions) => captureStream(path, cfg, r, tune.chunkRecords, tune.chunkPackets);
  let next: ReturnType<typeof open> | null = open(read); // opened here: a file that is not a capture fails now
  const format = next.format;
  const opened: Array<ReturnType<typeof open>> = [next];
  return {
    path, format, ...(startsGzip(path) ? { compression: 'gzip' as const } : {}), devices: next.devices.slice(), count: undefined,
    hasKinds: () => true,
    chunks(): TraceChunks {
      const s = next ?? open({ strict: read.strict, warn: () => {} });
      if (next === null) opened.push(s);
      next = null;
      return s;
    },
    close(): void {
      for (const s of opened) s.close();
      opened.length = 0;
    },
  };
}

/** Whether the file starts with gzip's magic bytes (it was opened already: an error here is a race, and says no). */
function startsGzip(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const b = new Uint8Array(2);
      return readSync(fd, b, 0, 2, 0) === 2 && isGzip(b);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Bytes the probe reads at a time (it needs the first 4 KiB of content). */
const PROBE_READ_BYTES = 1 << 16;

/**
 * A trace file's format from its first bytes (`format` unless 'auto') and whether it is
 * gzip-compressed, without reading it all. The errors are loadTrace's (a missing or empty file, an
 * unknown format), and so is their order: a fault of the file itself is found first; the warnings
 * of a file read to its end here are given only with an error (a reader reading it again gives them).
 */
export function probeTrace(path: string, format: TraceFormat = 'auto', read: ReadOptions = {}): { format: Exclude<TraceFormat, 'auto'>; compression?: 'gzip' } {
  const warnings: string[] = [];
  try {
    const s = InputStream.open(path, { strict: read.strict, warn: (l) => warnings.push(l) }, PROBE_READ_BYTES);
    try {
      const fmt = traceFormat(s.head, s.label, format);
      return s.compression ? { format: fmt, compression: s.compression } : { format: fmt };
    } catch (e) {
      if (isInputError(e)) s.drain();
      throw e;
    } finally {
      s.close();
    }
  } catch (e) {
    for (const w of warnings) warnOf(read)(w);
    throw e;
  }
}

/** Whether a probed trace reads a chunk at a time (an .iotrace only uncompressed). */
export function streamable(p: { format: string; compression?: 'gzip' }): p is { format: StreamFormat } {
  return (STREAM_FORMATS as readonly string[]).includes(p.format) && !(p.format === 'iotrace' && p.compression);
}

/**
 * A trace file, streamed when its format allows (openTraceStream), else loaded whole (loadTrace:
 * pcap/pcapng, GPU exports, a gzip-compressed .iotrace). Arguments as loadTrace.
 */
export function openTrace(path: string, format: TraceFormat = 'auto', opts: CsvOptions = {}, cfg?: TraceLoadConfig, read: ReadOptions = {}, tune: StreamTuning = {}): { stream: TraceStream } | { loaded: LoadedTrace } {
  const p = probeTrace(path, format, read);
  if (streamable(p)) return { stream: openTraceStream(path, p.format, opts, cfg, read, tune) };
  return { loaded: loadTrace(path, p.format, opts, cfg, read) };
}
