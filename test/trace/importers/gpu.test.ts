/**
 * GPU trace importer tests.
 *
 * FIXTURES ARE SYNTHETIC. No GPU was available, so test/fixtures/gpu/ holds hand-made files with
 * invented values, shaped after second-hand descriptions (see README-ftrace-gpu.md and
 * the CUPTI and Nsight Systems documentation cited there):
 *  - synthetic_nsys_cuda_gpu_trace_old.csv: `nsys stats --report cuda_gpu_trace --format csv` printed to
 *    stdout (preamble, older header with `Throughput (MBps)` and no GreenCtx, `[CUDA memcpy HtoD]` names);
 *  - synthetic_nsys_cuda_gpu_trace_new.csv: the newer header (`Throughput (MB/s)`, GreenCtx) and
 *    `[CUDA memcpy Host-to-Device]` names, as a file written with `--output`;
 *  - synthetic_nsys_cuda_gpu_trace_us.csv: the same with `--timeunit usec`;
 *  - synthetic_cupti_memcpy.csv / .json / .jsonl: CUpti_ActivityMemcpy-like records.
 * The ms/s time units are derived from the ns file inside the test.
 */
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { detectGpuTrace, parseGpuTrace, CopyKind, MemKind, type GpuTraceFile } from '../../../src/trace/importers/gpu.js';
import { InputError } from '../../../src/util/errors.js';
import { prng } from './pcap-fixtures.js';

const FIXTURES = new URL('../../fixtures/gpu/', import.meta.url);
const read = (f: string): string => readFileSync(new URL(f, FIXTURES), 'utf8');

type Copy = [start: number, end: number, bytes: number, copy: CopyKind, src: MemKind, dst: MemKind, dev: number, stream: number];

function copies(r: GpuTraceFile): Copy[] {
  const c = r.copies;
  for (const a of [c.startNs, c.endNs, c.bytes, c.copyKind, c.srcKind, c.dstKind, c.deviceId, c.streamId]) expect(a.length).toBe(c.count);
  return Array.from({ length: c.count }, (_, i) => [c.startNs[i]!, c.endNs[i]!, c.bytes[i]!, c.copyKind[i]!, c.srcKind[i]!, c.dstKind[i]!, c.deviceId[i]!, c.streamId[i]!]);
}

// Bytes (MB) are decimal megabytes rounded to 3 places by nsys: 8.389 MB → 8 389 000 bytes.
const NSYS_COPIES: Copy[] = [
  [312345678, 313150798, 8389000, CopyKind.HtoD, MemKind.Pageable, MemKind.Device, 0, 7],
  [313650000, 313653200, 4000, CopyKind.DtoH, MemKind.Device, MemKind.Pinned, 0, 7],
  [313670000, 313682000, 16777000, CopyKind.DtoD, MemKind.Device, MemKind.Device, 0, 14],
  [313690000, 315036000, 33554000, CopyKind.PtoP, MemKind.Device, MemKind.Device, 1, 21],
  [315040000, 315130000, 1049000, CopyKind.HtoH, MemKind.Pinned, MemKind.Pinned, 0, 7],
  [315210000, 315216210, 66000, CopyKind.HtoD, MemKind.Pinned, MemKind.Device, 0, 13],
];

const FILES = [
  'synthetic_nsys_cuda_gpu_trace_old.csv', 'synthetic_nsys_cuda_gpu_trace_new.csv', 'synthetic_nsys_cuda_gpu_trace_us.csv',
  'synthetic_cupti_memcpy.csv', 'synthetic_cupti_memcpy.json', 'synthetic_cupti_memcpy.jsonl',
];

describe('nsys cuda_gpu_trace CSV', () => {
  for (const f of FILES.slice(0, 3)) {
    test(f, () => {
      const text = read(f);
      expect(detectGpuTrace(text.slice(0, 4096))).toBe('nsys-csv');
      const r = parseGpuTrace(text, f);
      expect(r.format).toBe('nsys-csv');
      expect(copies(r)).toEqual(NSYS_COPIES);
      expect(r.skippedKernels).toBe(2);
      expect(r.skippedOther).toEqual({ '[CUDA memset]': 1 });
      expect(r.timeBaseNs).toBe(0n);
      expect(r.warnings).toEqual([]);
    });
  }

  test('--timeunit msec and sec scale exactly', () => {
    const ns = read('synthetic_nsys_cuda_gpu_trace_new.csv');
    const scale = (unit: string, digits: number): string => ns.split('\n').map((line, i) => {
      if (i === 0) return line.replace('Start (ns),Duration (ns)', `Start (${unit}),Duration (${unit})`);
      if (line === '') return line;
      const [s, d, ...rest] = line.split(',');
      const fmt = (v: string): string => { const p = v.padStart(digits + 1, '0'); return `${p.slice(0, -digits)}.${p.slice(-digits)}`; };
      return [fmt(s!), fmt(d!), ...rest].join(',');
    }).join('\n');
    expect(scale('ms', 6).split('\n')[1]!.startsWith('312.345678,0.805120,')).toBe(true);
    expect(copies(parseGpuTrace(scale('ms', 6), 'ms.csv'))).toEqual(NSYS_COPIES);
    expect(copies(parseGpuTrace(scale('s', 9), 's.csv'))).toEqual(NSYS_COPIES);
  });

  test('quoted fields with commas, quotes and newlines; devices without a number', () => {
    const header = read('synthetic_nsys_cuda_gpu_trace_new.csv').split('\n')[0];
    const text = `${header}\r\n` +
      '100,50,1,,,,,,,,,,0.004,80.000,Pinned,Device,"NVIDIA H100, MIG 3g.40gb (2)",1,,7,[CUDA memcpy Host-to-Device]\r\n' +
      '200,50,2,1,1,1,1,1,1,8,0,0,,,,,GPU0,1,,7,"k<""a"", b>(int,\nint)"\r\n' +
      '300,40,3,,,,,,,,,,0.004,100.000,Device,Pageable,H100,1,,9,[CUDA memcpy Device-to-Host]\r\n';
    const r = parseGpuTrace(text, 'q.csv');
    expect(copies(r)).toEqual([
      [100, 150, 4000, CopyKind.HtoD, MemKind.Pinned, MemKind.Device, 2, 7],
      [300, 340, 4000, CopyKind.DtoH, MemKind.Device, MemKind.Pageable, 0, 9],
    ]);
    expect(r.skippedKernels).toBe(1);
    expect(r.warnings).toEqual(['q.csv:5: device "H100" carries no "(N)" device number; numbered 0 in order of appearance']);
  });

  test('text after the table is ignored with a warning', () => {
    const text = `${read('synthetic_nsys_cuda_gpu_trace_new.csv')}\n ** CUDA GPU MemOps Summary (by Size) (cuda_gpu_mem_size_sum):\n\nTotal (MB),Count\n1,2\n`;
    const r = parseGpuTrace(text, 't.csv');
    expect(copies(r)).toEqual(NSYS_COPIES);
    expect(r.warnings).toEqual(['t.csv:12: text after the blank line that ends the cuda_gpu_trace table was ignored']);
  });
});

describe('CUPTI-like CSV and JSON', () => {
  test('CSV: kinds as numbers and names, any case, CUPTI_ prefixes; untimed records skipped', () => {
    const f = 'synthetic_cupti_memcpy.csv';
    const text = read(f);
    expect(detectGpuTrace(text)).toBe('cupti-csv');
    const r = parseGpuTrace(text, f);
    expect(copies(r)).toEqual([
      [1719000000123, 1719000660521, 4194304, CopyKind.HtoD, MemKind.Pinned, MemKind.Device, 0, 13],
      [1719000700000, 1719001357000, 4194304, CopyKind.DtoH, MemKind.Device, MemKind.Pinned, 0, 13],
      [1719001400000, 1719001412000, 1048576, CopyKind.DtoD, MemKind.Device, MemKind.Device, 1, 14],
      [1719001500000, 1719001530000, 65536, CopyKind.HtoD, MemKind.Pageable, MemKind.Device, 0, 7],
      [1719001600000, 1719001640000, 2097152, CopyKind.PtoP, MemKind.Device, MemKind.Device, 1, 21],
      [1719001700000, 1719001701000, 4096, CopyKind.HtoH, MemKind.Pinned, MemKind.Pageable, 0, 7],
      [1719001800000, 1719001802000, 512, CopyKind.HtoA, MemKind.Pinned, MemKind.Array, 0, 7],
    ]);
    expect(r.skippedOther).toEqual({ '(no timestamps)': 1 });
    expect(r.warnings).toEqual(['synthetic_cupti_memcpy.csv:8: copy record(s) with start = end = 0 (CUPTI could not time them) skipped']);
  });

  test('CSV: extra and reordered columns, optional ones missing', () => {
    const r = parseGpuTrace('correlationId,copyKind,bytes,end,start\n7,HTOD,64,20,10\n', 'x.csv');
    expect(copies(r)).toEqual([[10, 20, 64, CopyKind.HtoD, MemKind.Unknown, MemKind.Unknown, 0, 0]]);
  });

  test('JSON array: 64-bit timestamps kept exact by rebasing; kernels counted', () => {
    const f = 'synthetic_cupti_memcpy.json';
    const text = read(f);
    expect(detectGpuTrace(text)).toBe('cupti-json');
    const r = parseGpuTrace(text, f);
    expect(r.timeBaseNs).toBe(1719000000000000123n);
    expect(copies(r)).toEqual([
      [0, 660398, 4194304, CopyKind.HtoD, MemKind.Pinned, MemKind.Device, 0, 13],
      [799877, 1456877, 4194304, CopyKind.DtoH, MemKind.Device, MemKind.Pinned, 0, 13],
      [1499877, 2845877, 33554432, CopyKind.PtoP, MemKind.Device, MemKind.Device, 1, 21],
    ]);
    expect(r.skippedKernels).toBe(1);
    expect(r.warnings.join()).toContain('timeBaseNs = 1719000000000000123');
  });

  test('JSON Lines', () => {
    const f = 'synthetic_cupti_memcpy.jsonl';
    const text = read(f);
    expect(detectGpuTrace(text)).toBe('cupti-json');
    const r = parseGpuTrace(text, f);
    expect(copies(r)).toEqual([
      [912000, 914250, 1514, CopyKind.HtoD, MemKind.Pageable, MemKind.Device, 0, 7],
      [991000, 993100, 1514, CopyKind.DtoH, MemKind.Device, MemKind.Pageable, 0, 7],
      [994000, 994100, 64, CopyKind.HtoH, MemKind.Managed, MemKind.Managed, 0, 7],
    ]);
    expect(r.skippedKernels).toBe(1);
    expect(r.skippedOther).toEqual({ MEMSET: 1 });
    expect(r.warnings).toEqual([]);
  });
});

describe('errors name file:line and the column, on one line', () => {
  const nsysHeader = read('synthetic_nsys_cuda_gpu_trace_old.csv').split('\n')[5];
  const row = '100,50,1,,,,,,,,,,0.004,80.000,Pinned,Device,GPU (0),1,7,[CUDA memcpy HtoD]';
  const cases: Array<[string, string, RegExp]> = [
    ['nsys bytes', `${nsysHeader}\n${row}\n${row.replace('0.004', 'four')}\n`, /^e\.csv:3: column "Bytes \(MB\)": "four" is not a byte count; /],
    ['nsys memory kind', `${nsysHeader}\n${row.replace('Pinned', 'Sticky')}\n`, /^e\.csv:2: column "SrcMemKd": "Sticky" is not a memory kind; /],
    ['nsys start', `${nsysHeader}\n${row.replace('100,', '1x0,')}\n`, /^e\.csv:2: column "Start \(ns\)": "1x0" is not a time value; /],
    ['nsys field count', `${nsysHeader}\n${row},extra\n`, /^e\.csv:2: 21 fields but the header has 20; /],
    ['nsys unit named like an Object.prototype key', `${nsysHeader.replace('Bytes (MB)', 'Bytes (constructor)')}\n${row}\n`, /^e\.csv:1: column "Bytes \(constructor\)": unknown unit/],
    ['nsys unit', `${nsysHeader.replace('Start (ns)', 'Start (fortnights)')}\n${row}\n`, /^e\.csv:1: column "Start \(fortnights\)": unknown unit/],
    ['unterminated quote', `${nsysHeader}\n${row.replace('[CUDA', '"[CUDA')}\n`, /^e\.csv:2: unterminated quoted field; /],
    ['cupti copyKind', 'start,end,bytes,copyKind\n1,2,3,HTOD\n1,2,3,42\n', /^e\.csv:3: column "copyKind": "42" is not a copy kind number; expected an integer 0–10/],
    ['cupti copyKind name', 'start,end,bytes,copyKind\n1,2,3,sideways\n', /^e\.csv:2: column "copyKind": "sideways" is not a copy kind; /],
    ['cupti end before start', 'start,end,bytes,copyKind\n5,2,3,1\n', /^e\.csv:2: column "end": end 2 is before start 5; /],
    ['cupti missing column', 'start,end,copyKind,bytez\n', /^e\.csv:1: the header has no "bytes" column; /],
    ['json syntax', '[\n{"copyKind": 1, "start": 1, "end": 2, "bytes": 3},\n{"copyKind": 1, "start": 1,, "end": 2}\n]', /^e\.csv:3: invalid JSON \(/],
    ['json field', '{"copyKind": 1, "start": 1, "end": 2, "bytes": -3}\n', /^e\.csv:1: column "bytes": "-3" is not a byte count/],
    ['json truncated', '[{"copyKind": 1, "start": 1, "end": 2, "bytes": 3},\n{"copyKind": 1', /^e\.csv:2: unterminated JSON object; /],
    ['json non-callable toString', '{"copyKind": 1, "start": {"toString": 1}, "end": 2, "bytes": 3}\n', /^e\.csv:1: column "start": "\{"toString":1\}" is not a time value/],
    ['not a GPU trace', '# tracer: nop\n', /^e\.csv:1: not a recognised GPU trace; /],
  ];
  test('detectGpuTrace says no to ftrace text', () => {
    const real = readFileSync(new URL('../../fixtures/ftrace/real_linux-6.18_net_lo_trace.txt', import.meta.url), 'utf8');
    expect(detectGpuTrace(real.slice(0, 4096))).toBeNull();
    expect(detectGpuTrace('')).toBeNull();
    expect(() => parseGpuTrace(real, 'real.txt')).toThrow(/^real\.txt:1: not a recognised GPU trace/);
  });
  for (const [what, text, re] of cases) {
    test(what, () => {
      let err: unknown;
      try { parseGpuTrace(text, 'e.csv'); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain('\n');
    });
  }
});

// ---- corruption ----------------------------------------------------------------------------------

function parsesOrInputError(text: string, name: string): void {
  let r: GpuTraceFile;
  try {
    r = parseGpuTrace(text, name);
  } catch (e) {
    if (!(e instanceof InputError)) throw new Error(`not an InputError: ${String(e)}\n--- input ---\n${text.slice(0, 2000)}`);
    expect(e.message).toContain(name);
    expect(e.message).not.toContain('\n');
    return;
  }
  const c = r.copies;
  for (const a of [c.startNs, c.endNs, c.bytes, c.copyKind, c.srcKind, c.dstKind, c.deviceId, c.streamId]) expect(a.length).toBe(c.count);
  for (let i = 0; i < c.count; i++) {
    expect(Number.isSafeInteger(c.startNs[i]) && Number.isSafeInteger(c.endNs[i])).toBe(true);
    expect(c.endNs[i]).toBeGreaterThanOrEqual(c.startNs[i]!);
    expect(c.copyKind[i]).toBeLessThanOrEqual(10);
    expect(c.srcKind[i]).toBeLessThanOrEqual(7);
  }
  for (const w of r.warnings) expect(w).not.toContain('\n');
}


const JUNK = ['0', '9', '-', '.', 'e', 'x', ' ', '\n', '\r', ',', '"', '[', ']', '{', '}', ':', 'H', 'n', '\\', 'ü', '\u0000'];
function mutate(text: string, rnd: () => number): string {
  const pick = (n: number): number => Math.floor(rnd() * n);
  let t = text;
  for (let e = 1 + pick(3); e > 0; e--) {
    const at = pick(t.length + 1);
    switch (pick(6)) {
      case 0: t = t.slice(0, at) + JUNK[pick(JUNK.length)]! + t.slice(at + 1); break;
      case 1: t = t.slice(0, at) + t.slice(at + 1 + pick(8)); break;
      case 2: t = t.slice(0, at) + JUNK[pick(JUNK.length)]! + t.slice(at); break;
      case 3: { const len = pick(40); t = t.slice(0, at) + t.slice(at, at + len) + t.slice(at); break; }
      case 4: { const ls = t.split('\n'); const i = pick(ls.length), j = pick(ls.length); [ls[i], ls[j]] = [ls[j]!, ls[i]!]; t = ls.join('\n'); break; }
      default: t = t.slice(0, at) + String(pick(10)).repeat(1 + pick(24)) + t.slice(at);
    }
  }
  return t;
}

describe('corruption: truncation and seeded mutations parse or throw InputError', () => {
  for (const f of FILES) {
    test(`${f}: truncated at every line boundary and mid-line`, () => {
      const text = read(f);
      let at = 0;
      for (;;) {
        const nl = text.indexOf('\n', at);
        const end = nl < 0 ? text.length : nl + 1;
        parsesOrInputError(text.slice(0, end), f);
        parsesOrInputError(text.slice(0, at + Math.floor((end - at) / 2)), f);
        if (nl < 0 || end >= text.length) break;
        at = end;
      }
    });
    test(`${f}: 200 seeded random mutations`, () => {
      const text = read(f);
      const rnd = prng(0xc0ffee + f.length);
      for (let i = 0; i < 200; i++) parsesOrInputError(mutate(text, rnd), f);
    });
  }
});
