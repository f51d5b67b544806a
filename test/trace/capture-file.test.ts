/**
 * Capture files read a piece at a time (src/trace/capture-file.ts) against the whole-file path
 * (readInputBytes + parseCapture): on every shipped capture and on files made here (gzip, gzip of
 * several members, cut short, corrupt, with trailing bytes, empty, a byte-order mark, big-endian,
 * pcapng, truncated captures), the same packets, the same warnings in the same order, or the same
 * error text, with read sizes down to 1 byte; capinfo's summary from the stream; a capture as a
 * stream of DMA rows (captureStream, nicStream) equal to the whole build.
 */
import { describe, it, expect } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { openCaptureFile, readCaptureFile, readCaptureInfo, captureChunks } from '../../src/trace/capture-file.js';
import { parseCapture } from '../../src/trace/importers/pcap.js';
import { captureInfo } from '../../src/trace/importers/capinfo.js';
import { readInputBytes, type ReadOptions } from '../../src/trace/input.js';
import { captureColumns, loadTrace } from '../../src/run/load.js';
import { captureStream, nicStream, nicGenerate } from '../../src/run/generators/nic.js';
import { resolveInput } from '../../src/run/inputs.js';
import { InputError } from '../../src/util/errors.js';
import type { TraceColumns } from '../../src/trace/columns.js';
import { concat, ethFrame, joinBlocks, ng, writePcap } from './importers/pcap-fixtures.js';
import { tempDir } from '../setup/tmp.js';

const HTTP = fileURLToPath(new URL('../fixtures/pcap/http_mixed_lo64k_snap128.pcap', import.meta.url));
const IPERF = fileURLToPath(new URL('../../workloads/captures/tcp_iperf3_mtu1500_100M_snap128.pcap', import.meta.url));
const FIELDS = ['tsNs', 'origLen', 'capLen', 'iface', 'dir', 'flowHash', 'l4'] as const;

const dir = tempDir('iommusim-capfile-');
let n = 0;
function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, bytes);
  return p;
}

interface Outcome { lines: string[]; error?: string; count?: number; cols?: string[]; t0?: number[]; interfaces?: unknown; partial?: boolean }

/** The whole-file path: readInputBytes + parseCapture, warnings after the gzip ones (as readCapturePackets did). */
function wholeOutcome(path: string, strict: boolean): Outcome {
  const lines: string[] = [];
  const read: ReadOptions = { strict, warn: (l) => lines.push(l) };
  try {
    const { bytes, label } = readInputBytes(path, read, 'capture', 'check workload.pcap');
    const cap = parseCapture(bytes, label, { allowPartial: !strict });
    lines.push(...cap.warnings);
    const p = cap.packets;
    return { lines, count: p.count, cols: FIELDS.map((f) => Array.from(p[f]).join(',')), t0: [cap.t0Sec, cap.t0Ns], interfaces: cap.interfaces, partial: cap.partial };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { lines, error: e.message };
  }
}

/** The streamed path: captureChunks with `readBytes` reads and `chunk` packets a chunk. */
function streamedOutcome(path: string, strict: boolean, readBytes: number, chunk: number): Outcome {
  const lines: string[] = [];
  const read: ReadOptions = { strict, warn: (l) => lines.push(l) };
  const cols: number[][] = FIELDS.map(() => []);
  let count = 0;
  try {
    const s = captureChunks(path, read, { what: 'capture', fix: 'check workload.pcap', readBytes, chunkPackets: chunk });
    for (let p = s.next(); p !== null; p = s.next()) {
      expect(p.count).toBeLessThanOrEqual(chunk);
      FIELDS.forEach((f, k) => { for (let i = 0; i < p.count; i++) cols[k]!.push(p[f][i]!); });
      count += p.count;
    }
    const r = s.reader;
    return { lines, count, cols: cols.map((c) => c.join(',')), t0: [r.t0Sec, r.t0Ns], interfaces: r.interfaces, partial: r.partial };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { lines, error: e.message };
  }
}

function expectSame(path: string, sizes: Array<[number, number]> = [[1 << 20, 65536], [7, 5]]): Outcome {
  let w: Outcome | undefined;
  for (const strict of [false, true]) {
    const whole = wholeOutcome(path, strict);
    if (!strict) w = whole;
    for (const [readBytes, chunk] of sizes) expect(streamedOutcome(path, strict, readBytes, chunk)).toEqual(whole);
  }
  return w!;
}

const httpBytes = new Uint8Array(readFileSync(HTTP));
const iperfBytes = new Uint8Array(readFileSync(IPERF));
const small = writePcap({ le: false, nano: true, linkType: 1, snapLen: 0, packets: Array.from({ length: 40 }, (_, k) => ({ sec: 1795317689 + k, frac: k * 1000, data: ethFrame({ src: [10, 0, 0, 1], dst: [10, 0, 0, 2], proto: 17, sport: k, dport: 53, payload: k }) })) }).bytes;
const smallNg = joinBlocks([ng.shb(false), ng.idb(false, 1, 0, { tsresol: 9 }), ...Array.from({ length: 30 }, (_, k) => ng.epb(false, 0, BigInt(k) * 1000n, ethFrame({ src: [10, 0, 0, 1], dst: [10, 0, 0, 2], proto: 6, sport: k, dport: 80 }), { flags: 1 + (k & 1) }))]).bytes;

describe('capture files read a piece at a time = readInputBytes + parseCapture', () => {
  it('the shipped captures, plain and gzip-compressed, 1 MiB and 7-byte reads', () => {
    expect(expectSame(HTTP).count).toBe(1081);
    expect(expectSame(IPERF, [[1 << 20, 65536], [4093, 97]]).count).toBe(18_761);
    expect(expectSame(file('http.pcap.gz', gzipSync(httpBytes))).count).toBe(1081);
    expect(expectSame(file('iperf.pcap.gz', gzipSync(iperfBytes)), [[1 << 20, 65536], [4093, 97]]).count).toBe(18_761);
  });

  it('a big-endian nanosecond pcap and a pcapng, 1-byte reads, plain and gzip', () => {
    for (const b of [small, smallNg]) {
      expectSame(file('s.pcap', b), [[1, 1], [3, 7], [1 << 20, 65536]]);
      expectSame(file('s.pcap.gz', gzipSync(b)), [[1, 1], [3, 7], [1 << 20, 65536]]);
    }
  });

  it('gzip of several members (cat a.gz b.gz), with trailing zeros, or trailing garbage', () => {
    const cut = 30_011;
    const multi = concat([gzipSync(httpBytes.subarray(0, cut)), gzipSync(httpBytes.subarray(cut, 70_000)), gzipSync(httpBytes.subarray(70_000))]);
    expect(expectSame(file('multi.pcap.gz', multi)).count).toBe(1081);
    expectSame(file('zeros.pcap.gz', concat([gzipSync(httpBytes), new Uint8Array(100)])));
    const garbage = expectSame(file('garbage.pcap.gz', concat([gzipSync(httpBytes), Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])])));
    expect(garbage.error).toMatch(/not a valid gzip file/);
  });

  it('gzip cut short: what was decompressed before the cut with a warning (strict: the error), at many cut points', () => {
    const gz = gzipSync(httpBytes);
    for (const c of [1, 2, 5, 10, 11, 30, 100, 1000, 5000, 20_000, Math.floor(gz.length / 2), gz.length - 9, gz.length - 4, gz.length - 1]) {
      const o = expectSame(file('cut.pcap.gz', gz.subarray(0, c)), [[1 << 20, 65536], [7, 5]]);
      if (c >= 1000 && c < gz.length - 8) expect(o.lines[0]).toMatch(/the gzip stream is cut short \(file truncated at byte \d+\); read the \d+ byte\(s\) decompressed before the cut/);
    }
  });

  it('corrupt gzip: the same error', () => {
    const gz = gzipSync(httpBytes);
    for (const at of [3, 10, 200, 5000, gz.length - 6, gz.length - 2]) {
      const bad = gz.slice();
      bad[at] ^= 0x5a;
      const o = expectSame(file('bad.pcap.gz', bad));
      expect(o.error ?? o.lines.join()).toBeTruthy();
    }
    expect(expectSame(file('method.pcap.gz', Uint8Array.from([0x1f, 0x8b, 9, 0, 0, 0, 0, 0, 0, 3, 1, 2]))).error).toMatch(/not a valid gzip file/);
  });

  it('captures cut inside a record, plain and gzip: the records before the cut and one warning; strict: the error', () => {
    for (const c of [23, 24, 25, 50_000, 50_001, httpBytes.length - 1]) {
      const o = expectSame(file('cut.pcap', httpBytes.subarray(0, c)), [[1 << 20, 65536], [7, 5]]);
      expectSame(file('cut.pcap.gz', gzipSync(httpBytes.subarray(0, c))), [[1 << 20, 65536], [7, 5]]);
      if (c === 50_000) expect(o.count).toBe(471);
    }
    for (const c of [4, 20, 100, smallNg.length - 3]) expectSame(file('cut.pcapng', smallNg.subarray(0, c)), [[1, 1], [1 << 20, 65536]]);
  });

  it('empty files, byte-order marks, not a capture, a folder, a missing file: the same error', () => {
    const cases = [
      file('empty.pcap', new Uint8Array(0)),
      file('empty.pcap.gz', gzipSync(new Uint8Array(0))),
      file('bom.pcap', concat([Uint8Array.from([0xef, 0xbb, 0xbf]), httpBytes.subarray(0, 30_000)])),
      file('bomonly.pcap', Uint8Array.from([0xef, 0xbb, 0xbf])),
      file('bom.pcap.gz', gzipSync(concat([Uint8Array.from([0xef, 0xbb, 0xbf]), small]))),
      file('utf16.pcap', Uint8Array.from([0xff, 0xfe, 0x41, 0, 0x42, 0])),
      file('utf16bad.pcap', Uint8Array.from([0xfe, 0xff, 0xd8])),
      file('text.pcap', 'time,addr\n1,2\n'),
      file('one.pcap', Uint8Array.from([0xd4])),
      file('gz1.pcap', Uint8Array.from([0x1f, 0x8b])),
      join(dir, 'missing.pcap'),
    ];
    mkdirSync(join(dir, 'folder.pcap'));
    cases.push(join(dir, 'folder.pcap'));
    const errors = cases.map((p) => expectSame(p, [[1, 1], [1 << 20, 65536]]).error);
    expect(errors.filter((e) => e !== undefined).length).toBe(cases.length - 2); // the two captures behind a UTF-8 BOM read
    expect(errors[10]).toMatch(/missing\.pcap: cannot read the capture \(ENOENT\); check workload\.pcap/);
  });

  it('the default messages name a trace (as readInputBytes(path) does)', () => {
    expect(() => openCaptureFile(join(dir, 'nope.pcap'))).toThrow(/nope\.pcap: cannot read the trace \(ENOENT\); check the path/);
    expect(() => captureStream(join(dir, 'nope.pcap'))).toThrow(/cannot read the trace \(ENOENT\)/);
    expect(captureStream(file('ng.pcapng', smallNg)).format).toBe('pcapng');
  });

  it('readCaptureFile is parseCapture of the file', () => {
    for (const p of [HTTP, file('i.pcap.gz', gzipSync(iperfBytes))]) {
      const a = readCaptureFile(p);
      const b = parseCapture(readInputBytes(p).bytes, readInputBytes(p).label);
      expect(a.packets.count).toBe(b.packets.count);
      for (const f of FIELDS) expect(a.packets[f]).toEqual(b.packets[f]);
      expect({ ...a, packets: null }).toEqual({ ...b, packets: null });
    }
  });
});

describe('what a capture holds, from the stream', () => {
  it('readCaptureInfo = captureInfo(parseCapture) = trace info\'s capture', () => {
    for (const [p, b] of [[HTTP, httpBytes], [IPERF, iperfBytes], [file('ng.pcapng', smallNg), smallNg], [file('cut.pcap', httpBytes.subarray(0, 50_000)), httpBytes.subarray(0, 50_000)]] as const) {
      const warn: string[] = [];
      const info = readCaptureInfo(p, { warn: (l) => warn.push(l) }, { chunkPackets: 100, readBytes: 999 });
      const whole = parseCapture(b, p, { allowPartial: true });
      expect(info).toEqual(captureInfo(whole));
      expect(info).toEqual(loadTrace(p, 'auto', {}, undefined, { warn: () => {} }).capture);
      expect(warn).toEqual(whole.warnings);
    }
  });
});

const COLS = ['timeNs', 'device', 'pasid', 'op', 'iovaHi', 'iovaLo', 'size', 'dir', 'paddrHi', 'paddrLo', 'kind'] as const;
function rows(next: () => TraceColumns | null): string[] {
  const out: number[][] = COLS.map(() => []);
  for (let t = next(); t !== null; t = next()) COLS.forEach((c, k) => { for (let i = 0; i < t.count; i++) out[k]!.push(t[c][i]!); });
  return out.map((c) => c.join(','));
}
const wholeRows = (t: TraceColumns): string[] => COLS.map((c) => Array.from(t[c].subarray(0, t.count)).join(','));

describe('a capture as a stream of DMA rows', () => {
  it('captureStream(path, cfg) = captureColumns(parseCapture) (run FILE.pcap), gzip too, small chunks', () => {
    const [r] = resolveInput('nic-real-iperf3', []);
    for (const p of [HTTP, file('h.pcap.gz', gzipSync(httpBytes))]) {
      const whole = captureColumns(readCaptureFile(p).packets, r.cfg);
      const s = captureStream(p, r.cfg, {}, 101, 17);
      expect(s.format).toBe('pcap');
      expect(s.devices).toEqual(whole.devices);
      expect(rows(() => s.next())).toEqual(wholeRows(whole));
      const d = captureStream(p);
      expect(rows(() => d.next())).toEqual(wholeRows(captureColumns(readCaptureFile(p).packets)));
    }
  });

  it('nicStream over workload.pcap with 7-byte reads = nicGenerate; warnings once, at the end', () => {
    const cut = file('cut.pcap.gz', gzipSync(httpBytes.subarray(0, 50_000)));
    for (const pcap of [IPERF, cut]) {
      const [r] = resolveInput('nic-real-iperf3', [['workload.pcap', pcap]], 'auto', { warn: () => {} });
      const w1: string[] = [], w2: string[] = [];
      const whole = nicGenerate(r.cfg, undefined, { warn: (l) => w1.push(l) }).trace;
      const s = nicStream(r.cfg, undefined, { warn: (l) => w2.push(l) }, 333, 50, 7);
      expect(rows(() => s.next())).toEqual(wholeRows(whole));
      expect(w2).toEqual(w1);
      expect(s.next()).toBeNull();
      expect(w2).toEqual(w1);
    }
    const cfg = resolveInput('nic-real-iperf3', [['workload.pcap', cut]], 'auto', { warn: () => {} })[0]!.cfg;
    expect(() => { const s = nicStream(cfg, undefined, { strict: true }); while (s.next() !== null); }).toThrow(/without --strict/);
  });
});
