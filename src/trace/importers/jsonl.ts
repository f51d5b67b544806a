/**
 * JSON Lines trace: one object per line with the CSV format's fields —
 *   {"time_ns": 0, "device": "0000:01:00.0", "pasid": null, "op": "map", "iova": "0x100000", "size": 8192, "dir": "", "paddr": "0x2000000"}
 * Addresses are hex strings with 0x (JSON numbers cannot hold 64-bit addresses exactly); pasid is
 * null or absent for none; dir and paddr may be absent where the CSV leaves them empty; kind (optional:
 * data, desc, cqe, doorbell, ack) absent or null means data. Each line is
 * turned into the CSV record and checked by the CSV parser, so both formats accept exactly the same
 * records; an error names file:line.
 */
import { parseCsvTrace, CSV_HEADER_KIND, type CsvOptions } from './csv.js';
import type { TraceColumns } from '../columns.js';
import { InputError } from '../../util/errors.js';

const FIELDS = ['time_ns', 'device', 'pasid', 'op', 'iova', 'size', 'dir', 'paddr', 'kind'];

export function detectJsonl(head: string): boolean {
  const first = head.split(/\r?\n/).find((l) => l.trim() !== '');
  return first !== undefined && /^\s*\{\s*"(time_ns|device|op)"\s*:/.test(first) && /"op"\s*:/.test(first);
}

export function parseJsonlTrace(text: string, fileName: string, opts: CsvOptions = {}): TraceColumns {
  const out: string[] = [CSV_HEADER_KIND];
  const lines = text.split('\n');
  // line numbers of the CSV we build map back to JSONL lines
  const srcLine: number[] = [0];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (l === '') continue;
    let o: unknown;
    try { o = JSON.parse(l); } catch (e) {
      throw new InputError(`${fileName}:${i + 1}: not a JSON object (${(e as Error).message.split('\n')[0]}); one object per line with ${FIELDS.join(', ')}`);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InputError(`${fileName}:${i + 1}: not a JSON object; one object per line with ${FIELDS.join(', ')}`);
    const r = o as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!FIELDS.includes(k)) throw new InputError(`${fileName}:${i + 1}: unknown field "${k}"; use ${FIELDS.join(', ')}`);
    const cell = (k: string): string => {
      const v = r[k];
      if (v === undefined || v === null) return '';
      if (typeof v === 'string') {
        if (/[,\n]/.test(v)) throw new InputError(`${fileName}:${i + 1}: field "${k}" contains a comma or line break; give a plain value`);
        return v;
      }
      if (typeof v === 'number' && Number.isFinite(v)) {
        if ((k === 'iova' || k === 'paddr')) throw new InputError(`${fileName}:${i + 1}: "${k}" is a JSON number; give it as a hex string such as "0x1000" (JSON numbers lose 64-bit precision)`);
        return String(v);
      }
      throw new InputError(`${fileName}:${i + 1}: field "${k}" is not a string or number; give a plain value`);
    };
    out.push(FIELDS.map(cell).join(','));
    srcLine.push(i + 1);
  }
  try {
    return parseCsvTrace(new TextEncoder().encode(out.join('\n') + '\n'), fileName, opts);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    // rewrite "file:N:" (a CSV line, 1 = header) to the JSONL line
    const m = new RegExp(`^${fileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):`).exec(e.message);
    if (m) throw new InputError(e.message.replace(m[0], `${fileName}:${srcLine[Number(m[1]) - 1] ?? m[1]}:`));
    throw e;
  }
}
