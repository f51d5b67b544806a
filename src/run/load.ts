/**
 * Load a trace file of any supported format into columns. Format detection looks at the first
 * bytes, not the file name; `format` forces one. A gzip-compressed file is decompressed first (by
 * its magic bytes), a byte-order mark dropped, an empty file refused (src/trace/input.ts).
 */
import { parseCsvTrace, detectCsv, type CsvOptions } from '../trace/importers/csv.js';
import { detectFtrace } from '../trace/importers/ftrace.js';
import { loadFtraceTrace, type FtraceDmaOptions } from '../trace/importers/ftrace-dma.js';
import { detectGpuTrace, parseGpuTrace } from '../trace/importers/gpu.js';
import { gpuTrace, GPU_DEFAULTS } from '../devices/gpu/gpu.js';
import { GPU_DEVICE } from './generators/gpu.js';
import { detectCaptureFormat, parseCapture, type PacketColumns } from '../trace/importers/pcap.js';
import { captureInfo, type CaptureInfo } from '../trace/importers/capinfo.js';
import { readInputBytes, warnOf, type ReadOptions } from '../trace/input.js';
import { detectIotrace, readIotrace } from '../trace/iotrace.js';
import { detectJsonl, parseJsonlTrace } from '../trace/importers/jsonl.js';
import { nicTrace, NIC_DEFAULTS } from '../devices/nic/nic.js';
import type { TraceLoadConfig } from '../config/config.js';
import { NIC_DEVICE } from './generators/nic.js';
import type { TraceColumns } from '../trace/columns.js';
import { InputError } from '../util/errors.js';

export const TRACE_FORMATS = ['auto', 'iotrace', 'csv', 'jsonl', 'pcap', 'pcapng', 'ftrace', 'gpu'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

export interface LoadedTrace {
  path: string;
  format: Exclude<TraceFormat, 'auto'>;
  columns: TraceColumns;
  /** 'gzip' when the file was gzip-compressed. */
  compression?: 'gzip';
  /** For a pcap/pcapng: what the capture holds (frames, bytes, times, link types), as capinfos says. */
  capture?: CaptureInfo;
}

export function detectFormat(head: Uint8Array): Exclude<TraceFormat, 'auto'> | null {
  if (detectIotrace(head)) return 'iotrace';
  const cap = detectCaptureFormat(head);
  if (cap) return cap;
  const text = Buffer.from(head.subarray(0, 4096)).toString('latin1');
  if (detectCsv(text)) return 'csv';
  if (detectJsonl(text)) return 'jsonl';
  if (detectFtrace(text)) return 'ftrace';
  if (detectGpuTrace(text)) return 'gpu';
  return null;
}

/**
 * Load a trace file. `read`: how strict to be with damaged input (a capture cut short) and where
 * warnings go (default: stderr).
 */
export function loadTrace(path: string, format: TraceFormat = 'auto', opts: CsvOptions = {}, cfg?: TraceLoadConfig, read: ReadOptions = {}): LoadedTrace {
  const { bytes, compression, label } = readInputBytes(path, read);
  const tr = parseTrace(bytes, traceFormat(bytes, label, format), label, opts, cfg, read);
  return compression ? { ...tr, path, compression } : tr;
}

/**
 * A trace file's bytes, decompressed (gzip) and without a byte-order mark; a missing file, a
 * folder or an empty file is an InputError naming the path.
 */
export function readTraceBytes(path: string, read: ReadOptions = {}): Uint8Array {
  return readInputBytes(path, read).bytes;
}

/** The format of a trace's bytes (`format` unless 'auto'); an unknown one is an InputError naming the file. */
export function traceFormat(bytes: Uint8Array, name: string, format: TraceFormat = 'auto'): Exclude<TraceFormat, 'auto'> {
  if (bytes.length === 0) throw new InputError(`${name}: empty file; nothing to read (was the export or copy interrupted?)`);
  const fmt = format === 'auto' ? detectFormat(bytes) : format;
  if (fmt === null) {
    throw new InputError(`${name}: unknown trace format (first bytes: ${Buffer.from(bytes.subarray(0, 16)).toString('hex')}); give a supported file (${TRACE_FORMATS.filter((f) => f !== 'auto').join(', ')}) or name it with --format`);
  }
  return fmt;
}

/** The ftrace conversion's options from a config's `ftrace` section (none: the defaults). */
export function ftraceOptions(cfg?: TraceLoadConfig): FtraceDmaOptions {
  const f = cfg?.ftrace ?? {};
  return { synthesize: f.synthesize, synthDelayNs: f.synthDelayNs, device: f.device || undefined };
}

/** A capture's frames through the NIC model (RX or TX by direction), host buffers per nic.iovaPolicy: the config-dependent step of loading a pcap/pcapng trace. */
export function captureColumns(packets: PacketColumns, cfg?: TraceLoadConfig): TraceColumns {
  return nicTrace(packets, cfg?.nic ?? NIC_DEFAULTS, { device: NIC_DEVICE }).trace;
}

/**
 * Parse a trace's bytes in a known format (`path` names it in errors and in the result). A capture
 * cut inside a record gives the complete records before the cut and a warning, or with
 * `read.strict` an InputError.
 */
export function parseTrace(bytes: Uint8Array, fmt: Exclude<TraceFormat, 'auto'>, path: string, opts: CsvOptions = {}, cfg?: TraceLoadConfig, read: ReadOptions = {}): LoadedTrace {
  switch (fmt) {
    case 'iotrace':
      return { path, format: fmt, columns: readIotrace(bytes, path) };
    case 'csv':
      return { path, format: fmt, columns: parseCsvTrace(bytes, path, opts) };
    case 'jsonl':
      return { path, format: fmt, columns: parseJsonlTrace(Buffer.from(bytes).toString('utf8'), path, opts) };
    case 'ftrace':
      return { path, format: fmt, columns: loadFtraceTrace(Buffer.from(bytes).toString('utf8'), path, ftraceOptions(cfg)).trace };
    case 'pcap':
    case 'pcapng': {
      // packet captures: each frame through the NIC model
      const cap = parseCapture(bytes, path, { allowPartial: !read.strict });
      for (const w of cap.warnings) warnOf(read)(w);
      return { path, format: fmt, columns: captureColumns(cap.packets, cfg), capture: captureInfo(cap) };
    }
    case 'gpu': {
      // GPU profiler exports (nsys cuda_gpu_trace CSV, CUPTI-like CSV/JSON): copies through the GPU model
      const g = parseGpuTrace(Buffer.from(bytes).toString('utf8'), path);
      const gcfg = cfg?.gpu ?? GPU_DEFAULTS;
      const ids = new Set(Array.from(g.copies.deviceId.subarray(0, g.copies.count)));
      const deviceId = ids.size > 1 ? Math.min(...ids) : undefined;
      return { path, format: fmt, columns: gpuTrace(g.copies, gcfg, { device: GPU_DEVICE, deviceId }).trace };
    }
  }
}
