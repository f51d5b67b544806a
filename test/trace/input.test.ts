/**
 * Inputs people really have (src/trace/input.ts, src/run/load.ts): gzip-compressed files (by their
 * magic bytes), a byte-order mark in front of a text trace, an empty file, a capture cut short, and
 * a trace naming more devices than one trace can hold.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeInput, readInputBytes, InputStream, LineBlocks, HEAD_BYTES, gunzipInSteps } from '../../src/trace/input.js';
import { loadTrace } from '../../src/run/load.js';
import { parseCsvTrace, CSV_HEADER } from '../../src/trace/importers/csv.js';
import { MAX_TRACE_DEVICES, type TraceColumns } from '../../src/trace/columns.js';
import { readCapturePackets } from '../../src/run/generators/nic.js';
import { InputError } from '../../src/util/errors.js';
import { tempDir } from '../setup/tmp.js';

const root = join(import.meta.dirname, '../..');
const RING = join(root, 'workloads/examples/nic-rx-ring.csv');
const HTTP = join(root, 'test/fixtures/pcap/http_mixed_lo64k_snap128.pcap');
const FTRACE = join(root, 'test/fixtures/ftrace/synthetic_tracefs_5flags.txt');
const dir = tempDir('iommusim-input-');
const enc = new TextEncoder();
const BOM = Uint8Array.from([0xef, 0xbb, 0xbf]);
const cat = (...p: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(p));
const file = (name: string, bytes: Uint8Array | string): string => { const f = join(dir, name); writeFileSync(f, bytes); return f; };
const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** One-line InputError naming `where`. */
function inputError(fn: () => unknown): string {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(InputError);
  const m = (err as Error).message;
  expect(m).not.toContain('\n');
  return m;
}

const COLS = ['timeNs', 'device', 'pasid', 'op', 'iovaHi', 'iovaLo', 'size', 'dir', 'paddrHi', 'paddrLo'] as const;
function expectSameColumns(a: TraceColumns, b: TraceColumns): void {
  expect(b.count).toBe(a.count);
  expect(b.devices).toEqual(a.devices);
  for (const c of COLS) expect(Buffer.compare(Buffer.from(b[c].buffer, b[c].byteOffset, b[c].byteLength), Buffer.from(a[c].buffer, a[c].byteOffset, a[c].byteLength)), c).toBe(0);
}

describe('decodeInput', () => {
  const text = enc.encode('time_ns,device,pasid,op,iova,size,dir,paddr\n');

  it('gzip is found by its magic bytes and decompressed; several members are read in turn', () => {
    const gz = decodeInput(gzipSync(text), 'x.csv');
    expect([hexOf(gz.bytes), gz.compression, gz.label]).toEqual([hexOf(text), 'gzip', 'x.csv (decompressed)']);
    const two = cat(gzipSync(text.subarray(0, 10)), gzipSync(text.subarray(10)));
    expect(Buffer.from(decodeInput(two, 'x').bytes).equals(Buffer.from(text))).toBe(true);
    // a plain file whose name says .gz is read as it is
    const plain = decodeInput(text, 'x.csv.gz');
    expect([hexOf(plain.bytes), plain.compression, plain.label]).toEqual([hexOf(text), undefined, 'x.csv.gz']);
  });

  it('a UTF-8 byte-order mark is dropped, UTF-16 with its mark becomes UTF-8, also inside gzip', () => {
    expect(hexOf(decodeInput(cat(BOM, text), 'b.csv').bytes)).toBe(hexOf(text));
    expect(hexOf(decodeInput(gzipSync(cat(BOM, text)), 'b.csv').bytes)).toBe(hexOf(text));
    const utf16le = cat(Uint8Array.from([0xff, 0xfe]), Buffer.from(new TextDecoder().decode(text), 'utf16le'));
    expect(hexOf(decodeInput(utf16le, 'w.csv').bytes)).toBe(hexOf(text));
    const utf16be = Buffer.from(utf16le.subarray(2)).swap16();
    expect(hexOf(decodeInput(cat(Uint8Array.from([0xfe, 0xff]), utf16be), 'w.csv').bytes)).toBe(hexOf(text));
  });

  it('an empty file (or one that holds only a mark, or an empty gzip stream) is "FILE: empty file"', () => {
    expect(inputError(() => decodeInput(new Uint8Array(0), 'e.csv'))).toMatch(/^e\.csv: empty file/);
    expect(inputError(() => decodeInput(BOM, 'b.csv'))).toMatch(/^b\.csv: empty file/);
    expect(inputError(() => decodeInput(gzipSync(new Uint8Array(0)), 'g.gz'))).toMatch(/^g\.gz: empty file/);
    expect(inputError(() => readInputBytes(file('empty.pcap', '')))).toMatch(/empty\.pcap: empty file/);
  });

  it('a file past 2 GiB (sparse here) is one line saying what to do, not "check the path"', () => {
    const f = file('huge.csv', '');
    truncateSync(f, 2 ** 31 + 1);
    const m = inputError(() => readInputBytes(f));
    expect(m).toMatch(/huge\.csv: larger than 2 GiB, .*\.iotrace.*run --functional/);
    truncateSync(f, 0);
  });

  it('a gzip stream cut short: what was decompressed, with one warning; strict refuses; corrupt gzip is an error', () => {
    const big = enc.encode(Array.from({ length: 20000 }, (_, i) => `${i},0000:01:00.0,,dma,0x${(i * 4096).toString(16)},64,read,`).join('\n'));
    const gz = gzipSync(big);
    const cut = gz.subarray(0, gz.length >> 1);
    const warnings: string[] = [];
    const part = decodeInput(cut, 'c.gz', { warn: (l) => warnings.push(l) }).bytes;
    expect(part.length).toBeGreaterThan(0);
    expect(part.length).toBeLessThan(big.length);
    expect(Buffer.from(part).equals(Buffer.from(big.subarray(0, part.length)))).toBe(true);
    expect(warnings).toEqual([`c.gz: the gzip stream is cut short (file truncated at byte ${cut.length}); read the ${part.length} byte(s) decompressed before the cut`]);
    expect(inputError(() => decodeInput(cut, 'c.gz', { strict: true }))).toMatch(/^c\.gz: the gzip stream is cut short \(file truncated at byte \d+\); .*drop --strict/);
    expect(inputError(() => decodeInput(Uint8Array.from([0x1f, 0x8b, 9, 0, 0, 0, 0, 0, 0, 3, 1, 2]), 'bad.gz'))).toMatch(/^bad\.gz: not a valid gzip file/);
  });
});

describe('loadTrace: the same trace from a plain, gzip-compressed or BOM-prefixed file', () => {
  const cases: Array<[string, string]> = [['CSV', RING], ['ftrace text', FTRACE], ['pcap', HTTP]];
  for (const [what, path] of cases) {
    it(`${what}: identical columns; gzip found by content whatever the name`, () => {
      const plain = readFileSync(path);
      const ref = loadTrace(path);
      expect(ref.columns.count).toBeGreaterThan(100);
      const variants: Array<[string, Uint8Array]> = [['gz-named-plainly', gzipSync(plain)], ['x.gz', gzipSync(plain)]];
      if (what !== 'pcap') variants.push(['bom', cat(BOM, plain)], ['bom.gz', gzipSync(cat(BOM, plain))]);
      for (const [name, bytes] of variants) {
        const tr = loadTrace(file(`${what.replace(/\W/g, '')}-${name}`, bytes));
        expect(tr.format).toBe(ref.format);
        expect(tr.compression).toBe(name.includes('gz') ? 'gzip' : undefined);
        expectSameColumns(ref.columns, tr.columns);
      }
    });
  }

  it('JSONL with a byte-order mark', () => {
    const jl = '{"time_ns": 0, "device": "0000:01:00.0", "op": "map", "iova": "0x1000", "size": 4096, "paddr": "0x2000"}\n{"time_ns": 5, "device": "0000:01:00.0", "op": "dma", "iova": "0x1000", "size": 64, "dir": "read"}\n';
    const a = loadTrace(file('a.jsonl', jl));
    const b = loadTrace(file('b.jsonl', cat(BOM, enc.encode(jl))));
    expect(a.format).toBe('jsonl');
    expect(b.format).toBe('jsonl');
    expectSameColumns(a.columns, b.columns);
  });

  it('an empty file is "FILE: empty file", not "unknown format"', () => {
    const m = inputError(() => loadTrace(file('empty.csv', '')));
    expect(m).toMatch(/empty\.csv: empty file/);
    expect(m).not.toMatch(/unknown/);
  });

  it('a capture cut inside a record: the complete records before the cut and one warning; strict refuses', () => {
    const bytes = readFileSync(HTTP);
    const cut = file('cut.pcap', bytes.subarray(0, 50_000));
    const warnings: string[] = [];
    const tr = loadTrace(cut, 'auto', {}, undefined, { warn: (l) => warnings.push(l) });
    expect(tr.capture!.partial).toBe(true);
    expect(tr.capture!.frames).toBe(471); // records 1..471 end at or before byte 50 000
    expect(warnings).toEqual([`${cut}: truncated at byte 50000 inside packet record 472; kept the 471 complete packet(s) before it`]);
    expect(inputError(() => loadTrace(cut, 'auto', {}, undefined, { strict: true }))).toMatch(/cut\.pcap at byte \d+: file truncated at byte 50000 inside packet record 472 .*without --strict/);
    // the nic-pcap generator reads workload.pcap the same way
    const w2: string[] = [];
    expect(readCapturePackets(cut, { warn: (l) => w2.push(l) }).count).toBe(471);
    expect(w2).toHaveLength(1);
    expect(inputError(() => readCapturePackets(cut, { strict: true }))).toMatch(/without --strict/);
  });
});

describe('more devices than one trace holds', () => {
  const bdf = (k: number): string => {
    const h = (n: number, w: number): string => n.toString(16).padStart(w, '0');
    return `${h(k >> 16, 4)}:${h((k >> 8) & 255, 2)}:${h((k >> 3) & 31, 2)}.${k & 7}`;
  };
  const csv = (n: number): Uint8Array => {
    const lines = [CSV_HEADER];
    for (let k = 0; k < n; k++) lines.push(`${k},${bdf(k)},,dma,0x1000,64,read,`);
    return enc.encode(lines.join('\n') + '\n');
  };

  it(`${MAX_TRACE_DEVICES.toLocaleString('en-US')} distinct devices load`, () => {
    expect(MAX_TRACE_DEVICES).toBe(65_535);
    const t = parseCsvTrace(csv(MAX_TRACE_DEVICES), 'max.csv');
    expect(t.devices.length).toBe(MAX_TRACE_DEVICES);
  });

  it('70,000 distinct devices (two PCI segments): one InputError naming file:line, the device and the limit', () => {
    const m = inputError(() => parseCsvTrace(csv(70_000), 'many.csv'));
    expect(m).toMatch(/^many\.csv:65537: device 0000:ff:1f\.7 is the 65,536th distinct device of the trace; a trace holds at most 65,535 \(.*\); split the trace/);
  });
});

describe('InputStream: the content of readInputBytes, a piece at a time', () => {
  const text = readFileSync(RING).subarray(0, 6000);
  const member = (b: Uint8Array): Uint8Array => gzipSync(b);
  /** Everything next() gives, or the error; and the warnings. */
  const readAll = (path: string, readBytes: number, opts: { strict?: boolean } = {}) => {
    const warnings: string[] = [];
    try {
      const s = InputStream.open(path, { ...opts, warn: (l) => warnings.push(l) }, readBytes);
      const parts: Uint8Array[] = [];
      for (let p = s.next(); p !== null; p = s.next()) parts.push(p.slice());
      s.close();
      return { bytes: hexOf(cat(...parts)), label: s.label, compression: s.compression, warnings };
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return { error: (e as Error).message, warnings };
    }
  };
  const wholeRead = (path: string, opts: { strict?: boolean } = {}) => {
    const warnings: string[] = [];
    try {
      const r = readInputBytes(path, { ...opts, warn: (l) => warnings.push(l) });
      return { bytes: hexOf(r.bytes), label: r.label, compression: r.compression, warnings };
    } catch (e) {
      return { error: (e as Error).message, warnings };
    }
  };

  it('plain, BOM, UTF-16 LE/BE, gzip (several members, zero padding, garbage after), cut or corrupt gzip, empty: every read size', () => {
    const u16 = Buffer.from(new TextDecoder().decode(text), 'utf16le');
    const gz = member(text);
    const cutGz = gz.subarray(0, gz.length - 700);
    const badCrc = Uint8Array.from(gz);
    badCrc[badCrc.length - 6] ^= 0xff;
    const inputs: Array<[string, Uint8Array]> = [
      ['plain', text], ['bom', cat(BOM, text)], ['le', cat(Uint8Array.from([0xff, 0xfe]), u16)],
      ['be', cat(Uint8Array.from([0xfe, 0xff]), Buffer.from(u16).swap16())], ['le-odd', cat(Uint8Array.from([0xff, 0xfe]), u16, Uint8Array.from([0x41]))],
      ['gz', gz], ['gz-members', cat(member(text.subarray(0, 1000)), member(new Uint8Array(0)), member(text.subarray(1000)))],
      ['gz-zeros', cat(gz, new Uint8Array(9), enc.encode('zz'))], ['gz-garbage', cat(gz, enc.encode('zz'))], ['gz-bom-le', member(cat(Uint8Array.from([0xff, 0xfe]), u16))],
      ['gz-cut', cutGz], ['gz-crc', badCrc], ['gz-empty', member(new Uint8Array(0))], ['bom-only', BOM], ['empty', new Uint8Array(0)], ['one', enc.encode('x')],
    ];
    for (const [name, bytes] of inputs) {
      const f = file(`is-${name}`, bytes);
      for (const strict of [false, true]) {
        const want = wholeRead(f, { strict });
        for (const rb of [1, 2, 3, 7, 64, 4097, 1 << 20]) expect(readAll(f, rb, { strict }), `${name} ${rb}${strict ? ' strict' : ''}`).toEqual(want);
      }
    }
  });

  it('gzip is decompressed a step at a time on this Node (the zlib handle InputStream drives is there)', () => {
    expect(gunzipInSteps()).toBe(true);
  });

  it('the head: the first 4 KiB of content (or all of it), for format detection', () => {
    const s = InputStream.open(file('head.csv.gz', gzipSync(text)), {}, 7);
    expect(s.head.length).toBeGreaterThanOrEqual(HEAD_BYTES);
    expect(hexOf(s.head)).toBe(hexOf(text.subarray(0, s.head.length)));
    s.close();
    const small = InputStream.open(file('small.csv', text.subarray(0, 100)));
    expect(hexOf(small.head)).toBe(hexOf(text.subarray(0, 100)));
    small.close();
  });

  it('LineBlocks: runs of whole lines, the partial last line carried to the next read', () => {
    const body = enc.encode('a,b\nccc\n\nlong line without end');
    for (const rb of [1, 3, 5, 64]) {
      const blocks = new LineBlocks(InputStream.open(file('lines.txt', body), {}, rb));
      const runs: string[] = [];
      for (let r = blocks.next(); r !== null; r = blocks.next()) runs.push(Buffer.from(r).toString());
      expect(runs.join('')).toBe('a,b\nccc\n\nlong line without end');
      expect(runs.slice(0, -1).every((r) => r.endsWith('\n'))).toBe(true);
      expect(runs.at(-1)).toMatch(/long line without end$/);
    }
  });
});
