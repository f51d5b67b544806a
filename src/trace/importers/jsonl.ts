/**
 * JSON Lines trace: one object per line with the CSV format's fields —
 *   {"time_ns": 0, "device": "0000:01:00.0", "pasid": null, "op": "map", "iova": "0x100000", "size": 8192, "dir": "", "paddr": "0x2000000"}
 * Addresses are hex strings with 0x (JSON numbers cannot hold 64-bit addresses exactly); pasid is
 * null or absent for none; dir and paddr may be absent where the CSV leaves them empty; kind (optional:
 * data, desc, cqe, doorbell, ack) absent or null means data. Each line is
 * turned into the CSV record and checked by the CSV parser, so both formats accept exactly the same
 * records; an error names file:line.
 */
import { csvLines, CSV_HEADER_KIND, type CsvLines, type CsvOptions } from './csv.js';
import { TraceBuilder, type RowSink, type TraceColumns } from '../columns.js';
import { InputError } from '../../util/errors.js';

const FIELDS = ['time_ns', 'device', 'pasid', 'op', 'iova', 'size', 'dir', 'paddr', 'kind'];

export function detectJsonl(head: string): boolean {
  const first = head.split(/\r?\n/).find((l) => l.trim() !== '');
  return first !== undefined && /^\s*\{\s*"(time_ns|device|op)"\s*:/.test(first) && /"op"\s*:/.test(first);
}

export function parseJsonlTrace(text: string, fileName: string, opts: CsvOptions = {}): TraceColumns {
  const lines = text.split('\n');
  const b = new TraceBuilder(Math.max(1024, Math.min(1 << 24, lines.length)));
  const rows = new JsonlRows(fileName, opts, b);
  for (let i = 0; i < lines.length; i++) rows.line(lines[i], i + 1);
  rows.finish();
  return b.finish();
}

/**
 * JSONL lines into rows, one line at a time (the whole-file parse and the streamed read of
 * src/run/stream.ts share it). Each line becomes the CSV line the CSV parser checks, numbered
 * with its JSONL line. The errors are those of converting the whole file to CSV first and then
 * parsing it: a line that is not a valid object fails at once, while the first CSV-level error is
 * kept until every line has been checked as JSON (a later JSON error is reported instead).
 */
export class JsonlRows {
  private readonly csv: CsvLines;
  private buf = new Uint8Array(256);
  private readonly enc = new TextEncoder();
  /** The first CSV-level error, thrown by finish(); no more rows are parsed after it. */
  private failed: InputError | null = null;

  constructor(private readonly fileName: string, opts: CsvOptions, sink: RowSink) {
    this.csv = csvLines(fileName, opts, sink);
    this.feed(CSV_HEADER_KIND);
  }

  /** Line `lineNo` (1-based) of the file, without its newline; blank lines are skipped. */
  line(raw: string, lineNo: number): void {
    const l = raw.trim();
    if (l === '') return;
    const fileName = this.fileName;
    let o: unknown;
    try { o = JSON.parse(l); } catch (e) {
      throw new InputError(`${fileName}:${lineNo}: not a JSON object (${(e as Error).message.split('\n')[0]}); one object per line with ${FIELDS.join(', ')}`);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InputError(`${fileName}:${lineNo}: not a JSON object; one object per line with ${FIELDS.join(', ')}`);
    const r = o as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!FIELDS.includes(k)) throw new InputError(`${fileName}:${lineNo}: unknown field "${k}"; use ${FIELDS.join(', ')}`);
    const cell = (k: string): string => {
      const v = r[k];
      if (v === undefined || v === null) return '';
      if (typeof v === 'string') {
        if (/[,\n]/.test(v)) throw new InputError(`${fileName}:${lineNo}: field "${k}" contains a comma or line break; give a plain value`);
        return v;
      }
      if (typeof v === 'number' && Number.isFinite(v)) {
        if ((k === 'iova' || k === 'paddr')) throw new InputError(`${fileName}:${lineNo}: "${k}" is a JSON number; give it as a hex string such as "0x1000" (JSON numbers lose 64-bit precision)`);
        return String(v);
      }
      throw new InputError(`${fileName}:${lineNo}: field "${k}" is not a string or number; give a plain value`);
    };
    const csvLine = FIELDS.map(cell).join(',');
    if (this.failed) return;
    this.csv.setLine(lineNo - 1);
    try {
      this.feed(csvLine);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      this.failed = e;
    }
  }

  /** After the last line: the CSV-level error kept, if any. */
  finish(): void {
    if (this.failed) throw this.failed;
    this.csv.finish();
  }

  /** One CSV line (and its newline) through the CSV parser. */
  private feed(csvLine: string): void {
    if (this.buf.length < csvLine.length * 3 + 1) this.buf = new Uint8Array(csvLine.length * 3 + 64);
    const n = this.enc.encodeInto(csvLine, this.buf).written;
    this.buf[n] = 10;
    this.csv.lines(this.buf, 0, n + 1, Infinity);
  }
}
