/** `iommusim trace info|import|gen`: look at, convert and generate traces. */
import type { Command } from 'commander';
import { checkOutputFile } from '../util/output.js';
import { TRACE_FORMATS, type TraceFormat } from '../run/load.js';
import { openTrace } from '../run/stream.js';
import { readCaptureInfo } from '../trace/capture-file.js';
import { type TraceColumns, type TraceChunks, OP_NAMES, OP_DMA } from '../trace/columns.js';
import { parseSetArgs } from '../config/config.js';
import { resolveInput, resolveStream } from '../run/inputs.js';
import { inputError } from '../util/errors.js';
import { pciebenchChunks } from '../run/generators/pciebench.js';
import { PCIEBENCH_DEVICE } from '../devices/pciebench.js';
import { openTraceWriter, writeTraceFile, checkOutputName } from '../trace/writer.js';
import type { CaptureInfo } from '../trace/importers/capinfo.js';
import { formatSize } from '../util/units.js';

const collect = (v: string, prev: string[]): string[] => prev.concat([v]);

export interface TraceInfo {
  records: number;
  timeSpanNs: number;
  ops: Record<string, number>;
  devices: Array<{ device: string; records: number; dmaBytes: number }>;
  dmaSizeHistogram: Array<{ upTo: string; count: number }>;
  dmaBytes: number;
}

export function traceInfo(t: TraceColumns): TraceInfo {
  const c = new TraceInfoCounts(t.devices);
  c.add(t);
  return c.info();
}

const SIZE_BOUNDS = [64, 128, 256, 512, 1024, 2048, 4096, 16384, 65536, 1 << 20, Infinity];

/** traceInfo a chunk at a time (a streamed trace): counts carried from chunk to chunk. */
export class TraceInfoCounts {
  private records = 0;
  private first = NaN;
  private last = NaN;
  private bytes = 0;
  private readonly ops: Record<string, number> = { dma: 0, map: 0, unmap: 0, inv: 0 };
  private readonly perDev: TraceInfo['devices'];
  private readonly hist = new Array<number>(SIZE_BOUNDS.length).fill(0);

  /** `devices`: the table every chunk indexes. */
  constructor(devices: string[]) {
    this.perDev = devices.map((d) => ({ device: d, records: 0, dmaBytes: 0 }));
  }

  add(t: TraceColumns): void {
    const { ops, perDev, hist } = this;
    for (let i = 0; i < t.count; i++) {
      ops[OP_NAMES[t.op[i]]]++;
      const d = perDev[t.device[i]];
      d.records++;
      if (t.op[i] === OP_DMA) {
        const s = t.size[i];
        this.bytes += s;
        d.dmaBytes += s;
        let k = 0;
        while (s > SIZE_BOUNDS[k]) k++;
        hist[k]++;
      }
    }
    if (t.count > 0) {
      if (this.records === 0) this.first = t.timeNs[0];
      this.last = t.timeNs[t.count - 1];
    }
    this.records += t.count;
  }

  info(): TraceInfo {
    return {
      records: this.records,
      timeSpanNs: this.records ? this.last - this.first : 0,
      ops: this.ops, devices: this.perDev, dmaBytes: this.bytes,
      dmaSizeHistogram: SIZE_BOUNDS.map((b, k) => ({ upTo: b === Infinity ? 'more' : formatSize(b), count: this.hist[k] })).filter((h) => h.count > 0),
    };
  }
}

/** What a capture holds, capinfos-style (trace info on a pcap/pcapng). */
export function formatCaptureInfo(c: CaptureInfo): string[] {
  const res = (ns: number): string => (ns === 1000 ? 'µs' : ns === 1 ? 'ns' : `${ns} ns`);
  return [
    `capture    ${c.frames} frames, ${c.capturedBytes} bytes captured, ${c.wireBytes} bytes on the wire (original lengths)${c.partial ? '; the file is cut short: the complete frames before the cut' : ''}`,
    ...(c.firstPacket && c.lastPacket
      ? [`           first packet ${c.firstPacket.text} UTC, last packet ${c.lastPacket.text} UTC, duration ${(c.durationNs / 1e9).toFixed(c.timeDigits)} s`]
      : ['           no packets']),
    ...c.interfaces.map((f, k) => `           interface ${k}${f.name ? ` (${f.name})` : ''}: link type ${f.linkType} (${f.linkTypeName}), snaplen ${f.snapLen}, ${res(f.tsResolNs)} timestamps`),
  ];
}

const STRICT_HELP = 'refuse a damaged input (a capture or gzip stream cut short) instead of using the complete records before the cut';

export function registerTrace(program: Command): void {
  const trace = program.command('trace').description('look at, convert and generate traces');
  trace
    .command('info')
    .description('records, time span, ops, devices and DMA size histogram of a trace')
    .argument('<file>', 'a trace file of any supported format')
    .option('--format <format>', `trace format: ${TRACE_FORMATS.join(', ')}`, 'auto')
    .option('--json', 'machine-readable')
    .option('--strict', STRICT_HELP)
    .action(traceInfoCommand);
  trace
    .command('import')
    .description('convert a trace (pcap, pcapng, ftrace, GPU CSV, CSV) into the DMA trace the simulator replays')
    .argument('<file>', 'the trace to convert')
    .requiredOption('-o, --out <file>', 'output file (.iotrace or .csv)')
    .option('--format <format>', `input format: ${TRACE_FORMATS.join(', ')}`, 'auto')
    .option('--strict', STRICT_HELP)
    .action(traceImportCommand);
  trace
    .command('gen')
    .description('generate a trace from a generator or workload')
    .argument('<generator>', 'a generator or workload name')
    .option('--set <key=value>', 'set a configuration key (repeatable)', collect, [])
    .requiredOption('-o, --out <file>', 'output file (.iotrace or .csv)')
    .option('--strict', STRICT_HELP)
    .action(traceGenCommand);
}

/** `iommusim trace info FILE`: records, span, ops, devices and DMA sizes (a capture's summary too), streamed. */
function traceInfoCommand(file: string, opts: { format: string; json?: boolean; strict?: boolean }): void {
  // .iotrace, CSV, JSONL, ftrace and captures are read a chunk at a time, the counts kept as they come
  const src = openTrace(file, opts.format as TraceFormat, {}, undefined, { strict: !!opts.strict });
  let tr: { format: string; compression?: 'gzip'; capture?: CaptureInfo };
  let info: TraceInfo;
  if ('stream' in src) {
    const s = src.stream;
    try {
      const c = new TraceInfoCounts(s.devices);
      const chunks = s.chunks();
      for (let t = chunks.next(); t !== null; t = chunks.next()) c.add(t);
      info = c.info();
    } finally {
      s.close();
    }
    // a capture: its frames' summary too, from another pass over the file (its warnings were given)
    const capture = s.format === 'pcap' || s.format === 'pcapng' ? readCaptureInfo(file, { strict: !!opts.strict, warn: () => {} }) : undefined;
    tr = { format: s.format, ...(s.compression ? { compression: s.compression } : {}), ...(capture ? { capture } : {}) };
  } else {
    tr = src.loaded;
    info = traceInfo(src.loaded.columns);
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify({ file, format: tr.format, ...(tr.compression ? { compression: tr.compression } : {}), ...(tr.capture ? { capture: tr.capture } : {}), ...info }, null, 2) + '\n');
    return;
  }
  const o = info.ops;
  process.stdout.write([
    `${file} (${tr.format}${tr.compression ? `, ${tr.compression}` : ''}): ${info.records} records over ${(info.timeSpanNs / 1e6).toFixed(3)} ms`,
    ...(tr.capture ? formatCaptureInfo(tr.capture) : []),
    `ops        dma ${o.dma}, map ${o.map}, unmap ${o.unmap}, inv ${o.inv}; ${info.dmaBytes} DMA bytes`,
    ...info.devices.map((d) => `device     ${d.device}: ${d.records} records, ${d.dmaBytes} DMA bytes`),
    `DMA sizes  ${info.dmaSizeHistogram.map((h) => `≤${h.upTo}: ${h.count}`).join(', ')}`,
  ].join('\n') + '\n');
    }

/** `iommusim trace import FILE -o OUT`: the DMA trace of any input, written a chunk at a time when it streams. */
function traceImportCommand(file: string, opts: { out: string; format: string; strict?: boolean }): void {
  checkOutputName(opts.out);
  checkOutputFile(opts.out, '-o');
  const src = openTrace(file, opts.format as TraceFormat, {}, undefined, { strict: !!opts.strict });
  if ('loaded' in src) {
    writeTraceFile(src.loaded.columns, opts.out);
    process.stdout.write(`${opts.out}: ${src.loaded.columns.count} records from ${file} (${src.loaded.format})\n`);
    return;
  }
  // .iotrace, CSV, JSONL, ftrace and captures: written a chunk at a time as they are read
  const s = src.stream;
  let count = 0;
  try {
    const w = openTraceWriter(opts.out, s.devices, s.hasKinds());
    try {
      const chunks = s.chunks();
      for (let t = chunks.next(); t !== null; t = chunks.next()) { w.append(t); count += t.count; }
      w.close();
    } catch (e) {
      w.abort();
      throw e;
    }
  } finally {
    s.close();
  }
  process.stdout.write(`${opts.out}: ${count} records from ${file} (${s.format})\n`);
    }

/** `iommusim trace gen NAME -o OUT`: a generator's or workload's trace, written a chunk at a time where it can be. */
function traceGenCommand(name: string, opts: { set: string[]; out: string; strict?: boolean }): void {
  checkOutputName(opts.out);
  checkOutputFile(opts.out, '-o');
  const settings = parseSetArgs(opts.set);
  const read = { strict: !!opts.strict };
  const streamed = resolveStream(name, settings, read);
  let count = 0;
  if (streamed) {
    // a NIC generator: rows produced and written a chunk at a time (bounded memory for any count)
    count = writeStream(streamed.open(), opts.out);
  } else {
    const [r] = resolveInput(name, settings, 'auto', read);
    if (r.columns) {
      writeTraceFile(r.columns, opts.out);
      count = r.columns.count;
    } else {
      // pciebench: rows are produced and written a chunk at a time (bounded memory for any count)
      const w = openTraceWriter(opts.out, [PCIEBENCH_DEVICE]);
      try {
        pciebenchChunks(r.cfg, (t) => { w.append(t); count += t.count; });
        w.close();
      } catch (e) {
        w.abort();
        throw e;
      }
    }
  }
  process.stdout.write(`${opts.out}: ${count} records (${name})\n`);
    }

/**
 * Write a stream to `out`, returning the rows written. A CSV gets the kind column when the first
 * chunk has a row of another kind than data, as writeTraceFile decides for whole columns (a NIC
 * stream's first rows map its descriptor rings); a later chunk that would change that is refused.
 */
function writeStream(src: TraceChunks, out: string): number {
  let t = src.next();
  let withKind = false;
  if (t !== null) for (let i = 0; i < t.count && !withKind; i++) if (t.kind[i] !== 0) withKind = true;
  const w = openTraceWriter(out, src.devices, withKind);
  let count = 0;
  try {
    for (; t !== null; t = src.next()) {
      if (!withKind && out.endsWith('.csv')) for (let i = 0; i < t.count; i++) if (t.kind[i] !== 0) throw new Error(`writeStream: row ${count + i} has a DMA kind but the CSV was opened without the kind column`);
      w.append(t);
      count += t.count;
    }
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
  return count;
}
