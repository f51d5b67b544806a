import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import ts from 'typescript';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  IOTRACE_MAGIC, IOTRACE_VERSION, IotraceReader, IotraceWriter, columnsFromShared, crc32, detectIotrace,
  iotraceChunkBytes, readIotrace, writeIotrace,
} from '../../src/trace/iotrace.js';
import { allocColumns, type TraceColumns } from '../../src/trace/columns.js';
import { InputError } from '../../src/util/errors.js';

const KEYS = ['timeNs', 'size', 'pasid', 'iovaHi', 'iovaLo', 'paddrHi', 'paddrLo', 'device', 'op', 'dir', 'kind'] as const;
type Key = (typeof KEYS)[number];

let dir = '';
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'iotrace-test-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** Byte-exact comparison of the first `count` rows (NaN payloads and -0 included). */
function expectSame(a: TraceColumns, b: TraceColumns): void {
  expect(a.count).toBe(b.count);
  expect(a.devices).toEqual(b.devices);
  for (const k of KEYS) {
    const x = a[k], y = b[k];
    const bx = Buffer.from(x.buffer, x.byteOffset, a.count * x.BYTES_PER_ELEMENT);
    const by = Buffer.from(y.buffer, y.byteOffset, b.count * y.BYTES_PER_ELEMENT);
    if (!bx.equals(by)) expect.fail(`column ${k} differs`);
  }
}

/** Rows [s, e) as columns (views). */
function rows(t: TraceColumns, s: number, e: number): TraceColumns {
  const o: Record<string, unknown> = { count: e - s, devices: t.devices };
  for (const k of KEYS) o[k] = t[k].subarray(s, e);
  return o as unknown as TraceColumns;
}

/** Concatenate a reader's chunks. */
function readChunks(r: IotraceReader, shared = false): TraceColumns {
  const out = allocColumns(r.count, r.devices);
  out.count = r.count;
  let at = 0;
  for (let i = 0; i < r.chunks; i++) {
    const c = r.chunk(i, { shared });
    for (const k of KEYS) (out[k] as Uint8Array).set(c[k] as Uint8Array, at);
    at += c.count;
  }
  expect(at).toBe(r.count);
  return out;
}

function readFile(path: string): TraceColumns {
  const r = IotraceReader.open(path);
  try { return readChunks(r); } finally { r.close(); }
}

/** Deterministic xorshift32. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

/** A trace whose every column varies: `n` rows over `devices`. */
function synth(n: number, devices = ['0000:01:00.0', '0000:02:00.0', '0000:af:1f.7'], seed = 1, kinds = true): TraceColumns {
  const r = rng(seed);
  const t = allocColumns(n, devices);
  t.count = n;
  for (let i = 0; i < n; i++) {
    t.timeNs[i] = i * 1.25;
    t.device[i] = r() % devices.length;
    t.pasid[i] = (r() & 3) === 0 ? -1 : r() & 0xfffff;
    t.op[i] = r() & 3;
    t.iovaHi[i] = r();
    t.iovaLo[i] = r();
    t.size[i] = r() % 65536;
    t.dir[i] = r() & 3;
    t.paddrHi[i] = r();
    t.paddrLo[i] = r();
    if (kinds) t.kind[i] = r() % 5;
  }
  return t;
}

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const row = (nd: number) => fc.record({
  time: fc.double(),
  dev: fc.integer({ min: 0, max: nd - 1 }),
  pasid: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 0xfffff }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  op: fc.integer({ min: 0, max: 3 }),
  iova: u64,
  size: fc.double(),
  dir: fc.integer({ min: 0, max: 255 }),
  paddr: u64,
  kind: fc.integer({ min: 0, max: 4 }),
});
const traceArb = fc.integer({ min: 0, max: 6 }).chain((nd) => fc.record({
  devices: fc.uniqueArray(fc.string({ unit: 'grapheme', maxLength: 16 }), { minLength: nd, maxLength: nd }),
  rows: nd === 0 ? fc.constant<Row[]>([]) : fc.array(row(nd), { maxLength: 200 }),
  chunkRecords: fc.integer({ min: 1, max: 70 }),
}));

interface Row { time: number; dev: number; pasid: number; op: number; iova: bigint; size: number; dir: number; paddr: bigint; kind: number }
function build(devices: string[], rs: readonly Row[]): TraceColumns {
  const t = allocColumns(rs.length, devices);
  t.count = rs.length;
  rs.forEach((r, i) => {
    t.timeNs[i] = r.time; t.device[i] = r.dev; t.pasid[i] = r.pasid; t.op[i] = r.op;
    t.iovaHi[i] = Number(r.iova >> 32n); t.iovaLo[i] = Number(r.iova & 0xffffffffn);
    t.size[i] = r.size; t.dir[i] = r.dir;
    t.paddrHi[i] = Number(r.paddr >> 32n); t.paddrLo[i] = Number(r.paddr & 0xffffffffn);
    t.kind[i] = r.kind;
  });
  return t;
}

function expectInputError(fn: () => unknown, file: string): InputError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof InputError)) throw new Error(`expected an InputError, got ${String(e)}`);
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/byte/);
    expect(e.message).not.toContain('\n');
    return e;
  }
  throw new Error('expected an InputError, the read succeeded');
}

describe('.iotrace: CRC32', () => {
  it('is the IEEE CRC32 (check value, agrees with zlib on odd lengths and continuation)', async () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const zlib = await import('node:zlib');
    const z = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
    const r = rng(9);
    for (let n = 0; n < 100; n++) {
      const b = new Uint8Array(n * 7 + (n % 5)).map(() => r() & 255);
      if (z) expect(crc32(b)).toBe(z(b));
      const cut = n % (b.length + 1);
      expect(crc32(b.subarray(cut), crc32(b.subarray(0, cut)))).toBe(crc32(b));
    }
  });
});

describe('.iotrace: round trip', () => {
  it('write → read is identical for random traces (property)', () => {
    fc.assert(fc.property(traceArb, ({ devices, rows: rs, chunkRecords }) => {
      const t = build(devices, rs);
      const bytes = writeIotrace(t, { chunkRecords });
      expect(detectIotrace(bytes)).toBe(true);
      expectSame(readIotrace(bytes, 'p.iotrace'), t);
    }), { numRuns: 300, seed: 11 });
  });

  it('0, 1, a chunk less one, a chunk, a chunk + 1, several chunks (small and default chunk size)', () => {
    for (const [n, cr] of [[0, 16], [1, 16], [15, 16], [16, 16], [17, 16], [32, 16], [53, 16], [1, 1], [3, 1], [65536, undefined], [65537, undefined]] as const) {
      const t = synth(n);
      const bytes = writeIotrace(t, cr === undefined ? undefined : { chunkRecords: cr });
      const back = readIotrace(bytes, 'e.iotrace');
      expectSame(back, t);
      const path = join(dir, `edge-${n}-${cr}.iotrace`);
      writeFileSync(path, bytes);
      const r = IotraceReader.open(path);
      expect(r.count).toBe(n);
      expect(r.chunks).toBe(Math.ceil(n / (cr ?? 65536)));
      expect(r.chunks === 0 || r.chunk(r.chunks - 1).count === n - (r.chunks - 1) * (cr ?? 65536)).toBe(true);
      r.close();
    }
  });

  it('keeps 64-bit addresses, PASIDs, NaN, -0 and ±Infinity exact; devices are UTF-8', () => {
    const t = allocColumns(4, ['0000:01:00.0', '*', 'gpu0 — ünïcode ✓']);
    t.count = 4;
    t.timeNs.set([NaN, -0, Infinity, 2 ** 53]);
    t.size.set([-1, -Infinity, 5e-324, 1e308]);
    t.pasid.set([-1, 0, 0xfffff, -(2 ** 31)]);
    t.iovaHi.set([0xffffffff, 0, 0xfedcba98, 1]);
    t.iovaLo.set([0xfffff000, 0, 0x76543000, 0]);
    t.paddrHi.set([0x00ffffff, 0xffffffff, 0, 0]);
    t.paddrLo.set([1, 0xffffffff, 0, 0]);
    t.device.set([0, 1, 2, 2]);
    t.op.set([0, 1, 2, 3]);
    t.dir.set([0, 1, 2, 255]);
    const back = readIotrace(writeIotrace(t), 'x.iotrace');
    expectSame(back, t);
    expect(back.devices[2]).toBe('gpu0 — ünïcode ✓');
  });

  it('the header says what the spec says (magic, version, count, columns)', () => {
    const bytes = writeIotrace(synth(5), { chunkRecords: 2 });
    expect(Buffer.from(bytes.subarray(0, 12)).toString('latin1')).toBe(IOTRACE_MAGIC);
    expect(Buffer.from(bytes.subarray(0, 12)).toString('hex')).toBe('89494f54524143450d0a1a0a');
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    expect(dv.getUint32(12, true)).toBe(IOTRACE_VERSION);
    expect(dv.getUint32(24, true)).toBe(5);
    expect(dv.getUint32(32, true)).toBe(2);
    expect(dv.getUint32(36, true)).toBe(11);
    expect(Buffer.from(bytes.subarray(48 + 16 * 10, 48 + 16 * 10 + 4)).toString('latin1')).toBe('kind');
    expect(Buffer.from(bytes.subarray(48, 55)).toString('latin1')).toBe('time_ns');
    expect(Buffer.from(bytes.subarray(bytes.length - 8)).toString('latin1')).toBe('IOTREND\n');
    expect(bytes.length % 8).toBe(0);
  });

  it('columnsFromShared uses the documented layout (each column 8-aligned, widest first)', () => {
    expect(iotraceChunkBytes(3)).toBe(160);
    const t = columnsFromShared(new SharedArrayBuffer(160), 3, []);
    expect(KEYS.map((k) => t[k].byteOffset)).toEqual([0, 24, 48, 64, 80, 96, 112, 128, 136, 144, 152]);
    expect(() => columnsFromShared(new SharedArrayBuffer(159), 3, [])).toThrow(RangeError);
  });

  it('rejects on write what it could not read back', () => {
    const t = synth(3);
    t.device[1] = 3;
    expect(() => writeIotrace(t)).toThrow(/row 1 has device index 3 but the device table has 3 entries/);
    const u = synth(3);
    u.op[2] = 9;
    expect(() => writeIotrace(u)).toThrow(/row 2 has op 9/);
    const k = synth(3);
    k.kind[0] = 5;
    expect(() => writeIotrace(k)).toThrow(/row 0 has kind 5; use a kind below 5 \(data, desc, cqe, doorbell, ack\)/);
    expect(() => writeIotrace(allocColumns(0, ['bad \ud800']))).toThrow(InputError);
    expect(() => writeIotrace(synth(3), { chunkRecords: 0 })).toThrow(RangeError);
  });
});

describe('.iotrace: streaming writer and reader', () => {
  it('IotraceWriter files are byte-identical to writeIotrace, whatever the batch sizes; IotraceReader gives the same columns (property)', () => {
    let run = 0;
    fc.assert(fc.property(traceArb, fc.array(fc.integer({ min: 1, max: 90 }), { minLength: 1, maxLength: 8 }), ({ devices, rows: rs, chunkRecords }, batches) => {
      const t = build(devices, rs);
      const path = join(dir, `s${run++}.iotrace`);
      const w = new IotraceWriter(path, devices, { chunkRecords });
      for (let s = 0, b = 0; s < t.count; b++) {
        const e = Math.min(t.count, s + batches[b % batches.length]);
        w.append(rows(t, s, e));
        s = e;
      }
      w.append(rows(t, 0, 0));
      w.close();
      w.close(); // idempotent
      const file = readFileSync(path);
      expect(Buffer.compare(file, Buffer.from(writeIotrace(t, { chunkRecords })))).toBe(0);
      const r = IotraceReader.open(path);
      expect(r.count).toBe(t.count);
      expect(r.devices).toEqual(devices);
      expectSame(readChunks(r, false), t);
      expectSame(readChunks(r, true), readIotrace(file, path));
      r.close();
      rmSync(path);
    }), { numRuns: 120, seed: 5 });
  });

  it('chunk(i, { shared: true }) is one SharedArrayBuffer; chunkInfo seeks by record and time', () => {
    const t = synth(100);
    const path = join(dir, 'shared.iotrace');
    writeFileSync(path, writeIotrace(t, { chunkRecords: 32 }));
    const r = IotraceReader.open(path);
    expect(r.chunks).toBe(4);
    const c = r.chunk(2, { shared: true });
    const buf = c.timeNs.buffer;
    expect(buf).toBeInstanceOf(SharedArrayBuffer);
    for (const k of KEYS) expect(c[k].buffer).toBe(buf);
    expect(buf.byteLength).toBe(iotraceChunkBytes(32));
    expect(r.chunk(2).timeNs.buffer).toBeInstanceOf(ArrayBuffer);
    const header = new DataView(readFileSync(path).buffer).getUint32(16, true);
    expect(r.chunkInfo(3)).toEqual({ offset: header + 3 * (24 + iotraceChunkBytes(32)), records: 4, firstRecord: 96, firstTimeNs: 96 * 1.25 });
    expectSame(c, rows(t, 64, 96));
    expect(() => r.chunk(4)).toThrow(RangeError);
    r.close();
    expect(() => r.chunk(0)).toThrow(/after close/);
  });

  it('chunk(i, { buffer }) reads into a buffer the caller reuses', () => {
    const t = synth(100);
    const path = join(dir, 'reuse.iotrace');
    writeFileSync(path, writeIotrace(t, { chunkRecords: 32 }));
    const r = IotraceReader.open(path);
    const buf = new SharedArrayBuffer(iotraceChunkBytes(r.chunkRecords));
    for (let k = 0; k < r.chunks; k++) {
      const c = r.chunk(k, { buffer: buf });
      expect(c.timeNs.buffer).toBe(buf);
      expectSame(c, rows(t, k * 32, Math.min(100, k * 32 + 32)));
    }
    expect(() => r.chunk(0, { buffer: new ArrayBuffer(iotraceChunkBytes(32) - 8) })).toThrow(RangeError);
    r.close();
  });

  it('rejects rows with another device table', () => {
    const path = join(dir, 'devs.iotrace');
    const w = new IotraceWriter(path, ['0000:01:00.0']);
    expect(() => w.append(synth(2, ['0000:02:00.0']))).toThrow(/another device table/);
    w.close();
  });

  it('a file whose writer was never closed is rejected with a clear message', () => {
    const path = join(dir, 'unclosed.iotrace');
    const w = new IotraceWriter(path, ['0000:01:00.0', '0000:02:00.0', '0000:af:1f.7'], { chunkRecords: 16 });
    w.append(synth(40));
    const e = expectInputError(() => readIotrace(readFileSync(path), 'unclosed.iotrace'), 'unclosed.iotrace');
    expect(e.message).toMatch(/ends at byte \d+ after chunk 1, without its chunk index: its writer was never closed/);
    w.close();
    expectSame(readFile(path), synth(40));
  });

  it('a file that shrinks after open gives a truncation error from chunk()', () => {
    const path = join(dir, 'shrink.iotrace');
    writeFileSync(path, writeIotrace(synth(100), { chunkRecords: 16 }));
    const r = IotraceReader.open(path);
    const at = r.chunkInfo(3).offset + 100;
    truncateSync(path, at);
    r.chunk(2);
    const e = expectInputError(() => r.chunk(3), path);
    expect(e.message).toContain(`truncated at byte ${at} inside chunk 3`);
    r.close();
  });
});

/** Transpile a module and the relative imports it reaches into `out` (for a plain-JS worker). */
function transpileTree(entry: string, srcRoot: string, out: string): void {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const js = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    const dst = join(out, file.slice(srcRoot.length).replace(/\.ts$/, '.js'));
    mkdirSync(dirname(dst), { recursive: true });
    writeFileSync(dst, js);
    for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) visit(resolve(dirname(file), m[1] + '.ts'));
  };
  visit(entry);
}

describe('.iotrace: SharedArrayBuffer chunks in a worker', () => {
  it('a chunk crosses to a worker_threads Worker without a copy; the worker\'s writes are visible here', async () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
    const wdir = join(dir, 'worker');
    transpileTree(join(root, 'trace/iotrace.ts'), root, wdir);
    writeFileSync(join(wdir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(wdir, 'worker.mjs'), `
import { parentPort } from 'node:worker_threads';
import { columnsFromShared } from './trace/iotrace.js';
parentPort.on('message', ({ buf, count, devices }) => {
  const t = columnsFromShared(buf, count, devices);
  const keys = ${JSON.stringify(KEYS)};
  const shared = buf instanceof SharedArrayBuffer && keys.every((k) => t[k].buffer === buf);
  let sum = 0;
  for (let i = 0; i < count; i++) sum += t.iovaLo[i] + t.device[i] + t.timeNs[i];
  t.size[0] = 123456789;
  t.pasid[count - 1] = 4242;
  t.dir[1] = 7;
  parentPort.postMessage({ shared, sum, devices: t.devices });
});
`);
    const t = synth(1000);
    const path = join(dir, 'w.iotrace');
    writeFileSync(path, writeIotrace(t, { chunkRecords: 300 }));
    const r = IotraceReader.open(path);
    const c = r.chunk(1, { shared: true });
    r.close();
    const buf = c.timeNs.buffer as SharedArrayBuffer;
    expect(buf).toBeInstanceOf(SharedArrayBuffer);
    let sum = 0;
    for (let i = 0; i < c.count; i++) sum += c.iovaLo[i] + c.device[i] + c.timeNs[i];
    const w = new Worker(join(wdir, 'worker.mjs'));
    try {
      const reply = await new Promise<{ shared: boolean; sum: number; devices: string[] }>((ok, bad) => {
        w.once('message', ok);
        w.once('error', bad);
        w.postMessage({ buf, count: c.count, devices: c.devices });
      });
      expect(reply.shared).toBe(true);
      expect(reply.sum).toBe(sum);
      expect(reply.devices).toEqual(t.devices);
      expect(c.size[0]).toBe(123456789);
      expect(c.pasid[c.count - 1]).toBe(4242);
      expect(c.dir[1]).toBe(7);
    } finally {
      await w.terminate();
    }
  });
});

describe('.iotrace: corrupt and truncated files', () => {
  // 7 chunks of 16 (the last 4), 3 devices: every structure of the format is present.
  const name = 'small.iotrace';
  const good = writeIotrace(synth(100), { chunkRecords: 16 });
  const offsets = (() => {
    const dv = new DataView(good.buffer, good.byteOffset, good.byteLength);
    const indexAt = dv.getUint32(good.length - 32, true);
    const out = [dv.getUint32(16, true)];
    for (let k = 0; k < 7; k++) out.push(dv.getUint32(indexAt + 8 + k * 24, true));
    return { header: out[0], chunks: out.slice(1), index: indexAt, trailer: good.length - 32 };
  })();

  it('every truncation (every length, 0 … size − 1) is an InputError naming the file and the byte it ends at', () => {
    expect(offsets.chunks[0]).toBe(offsets.header);
    for (let n = 0; n < good.length; n++) {
      const e = expectInputError(() => readIotrace(good.subarray(0, n), name), name);
      expect(e.message).toContain(`byte ${n}`);
      const k = offsets.chunks.findIndex((o, i) => n >= o + 24 && n < (offsets.chunks[i + 1] ?? offsets.index));
      if (k >= 0) expect(e.message).toContain(`inside chunk ${k} `);
      if (k >= 0) expect(e.message).toContain('re-export the trace');
    }
  });

  it('truncation at every chunk boundary ± 1…3 bytes, through IotraceReader', () => {
    const cuts = new Set<number>();
    for (const o of [offsets.header, ...offsets.chunks, offsets.index, offsets.trailer]) for (let d = -3; d <= 3; d++) cuts.add(o + d);
    for (const n of cuts) {
      const path = join(dir, `cut-${n}.iotrace`);
      writeFileSync(path, good.subarray(0, n));
      const e = expectInputError(() => readFile(path), path);
      expect(e.message).toContain(`byte ${n}`);
      rmSync(path);
    }
  });

  it('every single-bit flip anywhere in the file is caught (every byte is covered by a check)', () => {
    for (let p = 0; p < good.length; p++) {
      const bad = good.slice();
      bad[p] ^= 1 << (p % 8);
      expectInputError(() => readIotrace(bad, name), name);
    }
  });

  it('200 seeded random multi-byte mutations: a clean, identical read or an InputError', () => {
    const r = rng(2024);
    const ref = readIotrace(good, name);
    let caught = 0;
    for (let i = 0; i < 200; i++) {
      const bad = good.slice();
      const m = 1 + (r() % 4);
      for (let j = 0; j < m; j++) { const p = r() % bad.length; bad[p] = good[p] ^ (1 + (r() % 255)); }
      let back: TraceColumns | null = null;
      try {
        back = readIotrace(bad, name);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        expect(e.message).toContain(name);
        expect(e.message).toContain('byte');
        caught++;
      }
      if (back) expectSame(back, ref);
      if (i < 20) {
        const path = join(dir, `mut-${i}.iotrace`);
        writeFileSync(path, bad);
        if (back) expectSame(readFile(path), ref);
        else expectInputError(() => readFile(path), path);
      }
    }
    expect(caught).toBe(200); // CRC32 + cross-checks: nothing slips through
  });

  it('names what is wrong: not an iotrace, newer version, checksum, trailing bytes, bad length field', () => {
    expect(expectInputError(() => readIotrace(new TextEncoder().encode('time_ns,device\n'), name), name).message).toMatch(/byte 0: not an \.iotrace file/);
    expect(expectInputError(() => readIotrace(new Uint8Array(0), name), name).message).toMatch(/byte 0: the file is empty/);
    const v3 = good.slice();
    v3[12] = 3;
    expect(expectInputError(() => readIotrace(v3, name), name).message).toMatch(/byte 12: format version 3; this iommusim reads versions 1 to 2; upgrade iommusim/);
    const crc = good.slice();
    crc[offsets.chunks[3] + 24 + 40] ^= 0x10;
    expect(expectInputError(() => readIotrace(crc, name), name).message)
      .toMatch(new RegExp(`chunk 3 at byte ${offsets.chunks[3]} fails its checksum .*re-export the trace`));
    const extra = new Uint8Array(good.length + 5);
    extra.set(good);
    expect(expectInputError(() => readIotrace(extra, name), name).message).toMatch(new RegExp(`byte ${good.length}: 5 bytes follow the end of the trace`));
    // A corrupt record count in the trailer cannot make the reader allocate: the count comes from the checked header.
    const big = good.slice();
    new DataView(big.buffer).setUint32(offsets.trailer + 8, 0xffffffff, true);
    expectInputError(() => readIotrace(big, name), name);
    expect(detectIotrace(good)).toBe(true);
    expect(detectIotrace(good.subarray(0, 11))).toBe(false);
  });
});

describe('.iotrace: 10 M records with bounded memory', () => {
  it('IotraceWriter writes 10 M records and IotraceReader reads them back chunk by chunk; peak RSS stays bounded', () => {
    const N = 10_000_000;
    const path = join(dir, 'big.iotrace');
    const devices = ['0000:01:00.0', '0000:02:00.0', '0000:03:00.0'];
    const batch = allocColumns(50_000, devices);
    const rss = (): number => process.memoryUsage().rss;
    const base = rss();
    let peak = base;
    const t0 = performance.now();
    const w = new IotraceWriter(path, devices);
    for (let s = 0; s < N; s += batch.timeNs.length) {
      const n = Math.min(batch.timeNs.length, N - s);
      batch.count = n;
      for (let j = 0; j < n; j++) {
        const i = s + j;
        batch.timeNs[j] = i; batch.size[j] = i & 0xffff; batch.pasid[j] = (i % 5) - 1;
        batch.iovaHi[j] = i >>> 20; batch.iovaLo[j] = (i * 4096) >>> 0; batch.paddrHi[j] = 7; batch.paddrLo[j] = i;
        batch.device[j] = i % 3; batch.op[j] = i & 3; batch.dir[j] = (i >>> 2) & 3;
      }
      w.append(batch);
      peak = Math.max(peak, rss());
    }
    w.close();
    const t1 = performance.now();
    const r = IotraceReader.open(path);
    expect(r.count).toBe(N);
    // Pass 1: a fresh ArrayBuffer per chunk. Pass 2: two SharedArrayBuffers, reused in turn.
    const pool = [new SharedArrayBuffer(iotraceChunkBytes(r.chunkRecords)), new SharedArrayBuffer(iotraceChunkBytes(r.chunkRecords))];
    let bad = 0;
    const passMs: number[] = [];
    for (const pass of [1, 2]) {
      const p0 = performance.now();
      for (let k = 0; k < r.chunks; k++) {
        const c = pass === 1 ? r.chunk(k) : r.chunk(k, { buffer: pool[k & 1] });
        if (pass === 2 && c.timeNs.buffer !== pool[k & 1]) bad++;
        const s = r.chunkInfo(k).firstRecord;
        for (let j = 0; j < c.count; j++) {
          const i = s + j;
          if (c.timeNs[j] !== i || c.size[j] !== (i & 0xffff) || c.pasid[j] !== (i % 5) - 1 || c.iovaHi[j] !== i >>> 20
            || c.iovaLo[j] !== (i * 4096) >>> 0 || c.paddrHi[j] !== 7 || c.paddrLo[j] !== i || c.device[j] !== i % 3
            || c.op[j] !== (i & 3) || c.dir[j] !== ((i >>> 2) & 3)) bad++;
        }
        peak = Math.max(peak, rss());
      }
      passMs.push(performance.now() - p0);
    }
    r.close();
    const size = statSync(path).size;
    rmSync(path);
    const mb = (b: number): string => `${(b / 1048576).toFixed(0)} MB`;
    const rate = (ms: number): string => `${(ms / 1000).toFixed(2)} s (${(N / (ms / 1000) / 1e6).toFixed(1)} M records/s)`;
    console.log(`iotrace 10 M records (${mb(size)} file, ${r.chunks} chunks): write ${rate(t1 - t0)} incl. generating the rows; ` +
      `read+verify with fresh buffers ${rate(passMs[0])}, into 2 reused SharedArrayBuffers ${rate(passMs[1])}; ` +
      `RSS before ${mb(base)}, peak ${mb(peak)} (+${mb(peak - base)})`);
    expect(bad).toBe(0);
    expect(peak).toBeLessThan(600 * 1048576);
    expect(peak - base).toBeLessThan(256 * 1048576); // the file is 381 MB: it never was in memory
  }, 180_000);
});

describe('.iotrace: the kind column (version 2) and version 1 files', () => {
  const V1 = fileURLToPath(new URL('../fixtures/iotrace/v1-synth-37.iotrace', import.meta.url));
  // The fixture was written by the version 1 writer (commit 581d882) from synth(37, default devices, seed 7) in chunks of 10.
  const ref = (): TraceColumns => synth(37, undefined, 7, false);

  it('kinds round-trip, in memory and through the streaming reader', () => {
    const t = synth(500, undefined, 3);
    const seen = new Set(t.kind);
    expect(seen.size).toBe(5);
    const bytes = writeIotrace(t, { chunkRecords: 64 });
    expectSame(readIotrace(bytes, 'k.iotrace'), t);
    const path = join(dir, 'kinds.iotrace');
    writeFileSync(path, bytes);
    expectSame(readFile(path), t);
  });

  it('a version 1 file (written by the old writer) still reads, every row of kind 0 (data)', () => {
    const bytes = new Uint8Array(readFileSync(V1));
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true)).toBe(1);
    const want = ref();
    expect(want.kind.every((k) => k === 0)).toBe(true);
    const back = readIotrace(bytes, V1);
    expectSame(back, want);
    // the streaming reader, into reused buffers whose kind bytes hold garbage from a version 2 chunk
    const r = IotraceReader.open(V1);
    try {
      expect(r.chunks).toBe(4);
      const buf = new ArrayBuffer(iotraceChunkBytes(r.chunkRecords));
      const out = allocColumns(r.count, r.devices);
      out.count = r.count;
      for (let i = 0, at = 0; i < r.chunks; i++) {
        columnsFromShared(buf, r.chunkRecords, r.devices).kind.fill(4);
        const c = r.chunk(i, { buffer: buf });
        expect(Array.from(c.kind).every((x) => x === 0)).toBe(true);
        for (const k of KEYS) (out[k] as Uint8Array).set(c[k] as Uint8Array, at);
        at += c.count;
      }
      expectSame(out, want);
      const s = r.chunk(3, { shared: true });
      expect(s.timeNs.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(s.count).toBe(7);
      expect(s.kind.length).toBe(7);
    } finally { r.close(); }
  });

  it('a version 1 file keeps its checks: a flipped payload bit or a truncation is still an InputError with the byte', () => {
    const bytes = new Uint8Array(readFileSync(V1));
    for (let cut = 0; cut < bytes.length; cut += 37) expectInputError(() => readIotrace(bytes.subarray(0, cut), 'v1.iotrace'), 'v1.iotrace');
    for (let at = 0; at < bytes.length; at += 29) {
      const bad = bytes.slice();
      bad[at] ^= 0x04;
      expectInputError(() => readIotrace(bad, 'v1.iotrace'), 'v1.iotrace');
    }
  });

  it('a kind beyond the known ones in a file is an InputError naming the record', () => {
    const t = synth(20, undefined, 5);
    const bytes = writeIotrace(t, { chunkRecords: 8 });
    // patch record 10 (chunk 1, row 2) to kind 9 and fix the chunk's CRC, so only the value check can catch it
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const H = dv.getUint32(16, true);
    const c1 = H + 24 + iotraceChunkBytes(8);
    const payload = c1 + 24;
    const kindAt = payload + iotraceChunkBytes(8) - 8; // kind is the last column: 8 rows, no padding
    bytes[kindAt + 2] = 9;
    dv.setUint32(c1 + 16, crc32(bytes.subarray(payload, payload + iotraceChunkBytes(8))), true);
    expect(expectInputError(() => readIotrace(bytes, 'k9.iotrace'), 'k9.iotrace').message).toMatch(/record 10 has kind 9 \(this iommusim knows 5: data, desc, cqe, doorbell, ack\)/);
  });
});
