/**
 * Trace files shared with sweep workers through SharedArrayBuffer: the main thread reads and parses
 * each trace once, into one SharedArrayBuffer per (file, the settings its parse depends on); every
 * job on it gets the buffer (posting a SharedArrayBuffer shares it, nothing is copied) and views it
 * as columns without reading the file.
 *
 * Only the config-independent part of loading is shared:
 *   .iotrace           the columns (its parse depends on nothing)
 *   CSV, JSONL         the columns, per address width (12 + 9 × iommu.levels bits: the parse checks it)
 *   ftrace             the columns, per ftrace.* settings (synthesised DMAs depend on them)
 *   GPU CSV/JSON       the columns, per gpu.* settings (copies go through the GPU model)
 *   pcap, pcapng       the frames (before the NIC model); each worker runs the NIC model with its
 *                      job's nic section (captureColumns)
 *   nic-pcap           the frames of workload.pcap; the worker runs nicGenerate on them
 * A shared capture is the frames of every packet in one buffer, 24 B per frame (a nic-pcap capture
 * is read from its file a piece at a time, so its bytes are not held; a pcap/pcapng trace file is
 * read whole, readTraceBytes, to detect its format). A nic-pcap workload's capture is shared
 * whatever its size (a single `run` of nic-pcap streams it instead: nicStream); a pcap/pcapng trace
 * file over the share limit is streamed by each worker like the other formats (below).
 * Column buffers use the .iotrace chunk layout (`columnsFromShared`, every column including `kind`);
 * frames a layout of their own.
 *
 * A trace file too big to share whole is not read here: a file whose content is larger than the
 * sweep's share limit (SHARE_LIMIT_BYTES, or --share-limit-mib) and whose format streams (.iotrace
 * uncompressed, CSV, JSONL, ftrace, pcap, pcapng: src/run/stream.ts) is streamed by each job's
 * worker itself, through the replay `run` streams it with (a StreamedTrace: its path and format).
 * The size is decided from the file before anything is parsed: its bytes on disk, or for a gzip file
 * the larger of those and the content size its trailer gives (mod 4 GiB).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Config } from '../../config/config.js';
import { copyColumns, type TraceColumns } from '../../trace/columns.js';
import { columnsFromShared, iotraceChunkBytes, IotraceReader } from '../../trace/iotrace.js';
import { readTraceBytes, traceFormat, parseTrace, captureColumns, type TraceFormat } from '../load.js';
import { parseCapture, type PacketColumns, type CaptureFile } from '../../trace/importers/pcap.js';
import { warnToStderr, isGzip } from '../../trace/input.js';
import { probeTrace, streamable, type StreamFormat } from '../stream.js';

/** A capture for a sweep: cut short, its complete records are used with a warning on stderr, as `run` does without --strict. */
function captureWithWarnings(bytes: Uint8Array, path: string): CaptureFile {
  const c = parseCapture(bytes, path, { allowPartial: true });
  for (const w of c.warnings) warnToStderr(w);
  return c;
}
import { readCapturePackets } from '../generators/nic.js';

/** Trace columns in a SharedArrayBuffer (the .iotrace chunk layout). */
export interface SharedColumns { kind: 'columns'; buf: SharedArrayBuffer; count: number; devices: string[]; format: string; path: string }
/** Capture frames in a SharedArrayBuffer, before the NIC model. */
export interface SharedPackets { kind: 'packets'; buf: SharedArrayBuffer; count: number; format: string; path: string }
export type SharedTrace = SharedColumns | SharedPackets;

/**
 * Trace files whose content is larger than this many bytes (256 MiB) are not shared: each job's
 * worker streams the file itself (runSweep's `shareLimitBytes`, the CLI's --share-limit-mib).
 * Sharing holds the file's bytes and its parse in the main thread (about 40 B per record, the file's
 * own size for an .iotrace); streaming holds nothing there and a bounded window in each worker.
 */
export const SHARE_LIMIT_BYTES = 256 * 1024 * 1024;

/** A trace file each job's worker streams itself (too big to share): its path, its format, and an estimate of its records (for the job order). */
export interface StreamedTrace { kind: 'stream'; path: string; format: StreamFormat; bytes: number; records: number }

/** Bytes of a text or capture file per record, for the job order of a streamed trace whose records are not counted up front. */
const BYTES_PER_RECORD_GUESS = 48;

/**
 * The size of a file's content without reading it: its bytes on disk, or for a gzip stream the
 * larger of those and the content size in its trailer (ISIZE: mod 4 GiB, of the last member).
 * undefined when the file cannot be opened as a regular file (the read that follows says why).
 */
export function contentBytes(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const size = st.size;
    if (size < 18) return size;
    const b = new Uint8Array(4);
    if (readSync(fd, b, 0, 2, 0) !== 2 || !isGzip(b)) return size;
    if (readSync(fd, b, 0, 4, size - 4) !== 4) return size;
    return Math.max(size, (b[0] | (b[1] << 8) | (b[2] << 16)) + b[3] * 2 ** 24);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Copy columns into a new SharedArrayBuffer. */
export function shareColumns(t: TraceColumns, format: string, path: string): SharedColumns {
  const buf = new SharedArrayBuffer(Math.max(8, iotraceChunkBytes(t.count)));
  copyColumns(t, columnsFromShared(buf, t.count, t.devices));
  return { kind: 'columns', buf, count: t.count, devices: t.devices.slice(), format, path };
}

/** The columns a SharedColumns holds (views of the shared buffer, no copy). */
export function sharedColumns(s: SharedColumns): TraceColumns {
  return columnsFromShared(s.buf, s.count, s.devices);
}

// frames: one array per field, widest first, each starting at a multiple of 8 bytes
const PACKET_FIELDS = [
  ['tsNs', Float64Array], ['origLen', Uint32Array], ['capLen', Uint32Array], ['flowHash', Uint32Array],
  ['iface', Uint16Array], ['dir', Uint8Array], ['l4', Uint8Array],
] as const;
const pad8 = (n: number): number => Math.ceil(n / 8) * 8;
const packetBytes = (count: number): number => PACKET_FIELDS.reduce((s, [, T]) => s + pad8(count * T.BYTES_PER_ELEMENT), 0);

function packetViews(buf: SharedArrayBuffer, count: number): PacketColumns {
  const p: Record<string, unknown> = { count };
  let o = 0;
  for (const [k, T] of PACKET_FIELDS) { p[k] = new (T as unknown as new (b: ArrayBufferLike, o: number, n: number) => unknown)(buf, o, count); o += pad8(count * T.BYTES_PER_ELEMENT); }
  return p as unknown as PacketColumns;
}

export function sharePackets(p: PacketColumns, format: string, path: string): SharedPackets {
  const buf = new SharedArrayBuffer(Math.max(8, packetBytes(p.count)));
  const v = packetViews(buf, p.count) as unknown as Record<string, Float64Array>;
  for (const [k] of PACKET_FIELDS) v[k].set((p as unknown as Record<string, Float64Array>)[k].subarray(0, p.count));
  return { kind: 'packets', buf, count: p.count, format, path };
}

export function sharedPackets(s: SharedPackets): PacketColumns {
  return packetViews(s.buf, s.count);
}

/** A worker's trace columns for its job: views of the shared columns, or the shared frames through the NIC model with the job's config. */
export function traceColumnsFor(s: SharedTrace, cfg: Readonly<Config>): TraceColumns {
  return s.kind === 'columns' ? sharedColumns(s) : captureColumns(sharedPackets(s), cfg);
}

const addressBits = (cfg: Readonly<Config>): number => 12 + 9 * cfg.iommu.levels;

/** The part of a job's config a trace's parse depends on, by format ('' for none). */
function parseKey(fmt: string, cfg: Readonly<Config>): string {
  switch (fmt) {
    case 'csv':
    case 'jsonl': return `bits=${addressBits(cfg)}`;
    case 'ftrace': return JSON.stringify(cfg.ftrace ?? null);
    case 'gpu': return JSON.stringify(cfg.gpu ?? null);
    default: return ''; // iotrace: nothing; pcap/pcapng: the frames are shared, the NIC model runs per job
  }
}

export type ShareResult = { trace: SharedTrace } | { error: string };
/** A trace file for a job: shared, streamed by the job's worker, or the error every job on it gets. */
export type TraceResult = ShareResult | { stream: StreamedTrace };

/**
 * The main thread's table of shared traces: each file is read once, each (file, parse settings)
 * parsed once. A file that cannot be read or parsed gives every job on it the same error (the one
 * the job would have raised reading it itself). A file whose content is larger than `limitBytes`
 * and whose format streams is not read: every job on it streams it in its worker.
 */
export class TraceShares {
  private readonly files = new Map<string, { bytes: Uint8Array; format: Exclude<TraceFormat, 'auto'> } | { error: string }>();
  private readonly shared = new Map<string, ShareResult>();
  private readonly streams = new Map<string, StreamedTrace | null>();
  /** Bytes in shared buffers. */
  bytes = 0;
  /** Parses done (one per distinct key). */
  loads = 0;
  /** Trace files left to the workers to stream (too big to share). */
  streamed = 0;
  /** Those files, in the order first met. */
  readonly streamedFiles: StreamedTrace[] = [];

  /** `limitBytes`: a file whose content is larger (and whose format streams) is streamed by each worker (default SHARE_LIMIT_BYTES). */
  constructor(readonly limitBytes: number = SHARE_LIMIT_BYTES) {}

  /** A trace file (format as given, or detected) for a job with this config. */
  trace(path: string, format: TraceFormat, cfg: Readonly<Config>): TraceResult {
    const fkey = `${format}\0${path}`;
    let st = this.streams.get(fkey);
    if (st === undefined) {
      st = this.streamFor(fkey, path, format);
      this.streams.set(fkey, st);
      if (st) { this.streamed++; this.streamedFiles.push(st); }
    }
    if (st) return { stream: st };
    let f = this.files.get(fkey);
    if (!f) {
      try {
        const bytes = readTraceBytes(path);
        f = { bytes, format: traceFormat(bytes, path, format) };
      } catch (e) {
        f = { error: (e as Error).message };
      }
      this.files.set(fkey, f);
    }
    if ('error' in f) return { error: f.error };
    const key = `${fkey}\0${parseKey(f.format, cfg)}`;
    let s = this.shared.get(key);
    if (!s) {
      const { bytes, format: fmt } = f;
      s = this.load(() => fmt === 'pcap' || fmt === 'pcapng'
        ? sharePackets(captureWithWarnings(bytes, path).packets, fmt, path)
        : shareColumns(parseTrace(bytes, fmt, path, { addressBits: addressBits(cfg) }, cfg).columns, fmt, path));
      this.shared.set(key, s);
    }
    return s;
  }

  /** The frames of a nic-pcap workload's capture (workload.pcap). */
  capture(path: string): ShareResult {
    const key = `nic-pcap\0${path}`;
    let s = this.shared.get(key);
    if (!s) {
      s = this.load(() => sharePackets(readCapturePackets(path), 'pcap', path));
      this.shared.set(key, s);
    }
    return s;
  }

  /**
   * Whether a file is streamed by the workers rather than shared: its content is larger than the
   * limit (decided before anything is parsed) and its format streams (.iotrace only uncompressed;
   * a GPU export is shared whatever its size). Its format is probed from its first bytes here (an
   * unknown format, an .iotrace whose header is damaged: every job on it gets that error, recorded
   * in `files`).
   */
  private streamFor(fkey: string, path: string, format: TraceFormat): StreamedTrace | null {
    const bytes = contentBytes(path);
    if (bytes === undefined || bytes <= this.limitBytes) return null; // the whole read says what is wrong with it
    try {
      const p = probeTrace(path, format);
      if (!streamable(p)) return null;
      let records = Math.ceil(bytes / BYTES_PER_RECORD_GUESS);
      if (p.format === 'iotrace') {
        const r = IotraceReader.open(path);
        records = r.count;
        r.close();
      }
      return { kind: 'stream', path, format: p.format, bytes, records };
    } catch (e) {
      this.files.set(fkey, { error: (e as Error).message });
      return null;
    }
  }

  /** Forget the files' bytes (the shared buffers stay with the jobs that hold them). */
  dropFiles(): void {
    this.files.clear();
  }

  private load(f: () => SharedTrace): ShareResult {
    try {
      const trace = f();
      this.loads++;
      this.bytes += trace.buf.byteLength;
      return { trace };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }
}
