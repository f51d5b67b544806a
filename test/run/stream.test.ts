/**
 * Traces read a chunk at a time (src/run/stream.ts) against the whole-file import (loadTrace):
 * the same rows, device table and count, and for a damaged file the same one-line error (and the
 * same warnings). Reads of a few bytes and chunks of a few rows put the boundaries inside lines,
 * records and gzip blocks; a zero ftrace window makes every out-of-order record "late".
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { openTraceStream, openTrace, probeTrace, type StreamFormat, type StreamTuning } from '../../src/run/stream.js';
import { loadTrace, type TraceFormat } from '../../src/run/load.js';
import type { TraceLoadConfig } from '../../src/config/config.js';
import { writeCsvTrace, CSV_HEADER } from '../../src/trace/importers/csv.js';
import { writeIotrace } from '../../src/trace/iotrace.js';
import { allocColumns, copyRow, type TraceColumns } from '../../src/trace/columns.js';
import { resolveInput } from '../../src/run/inputs.js';
import type { ReadOptions } from '../../src/trace/input.js';
import { isInputError } from '../../src/util/errors.js';
import { tempDir } from '../setup/tmp.js';

const root = join(import.meta.dirname, '../..');
const dir = tempDir('iommusim-stream-');
const file = (name: string, bytes: Uint8Array | string): string => { const f = join(dir, name); writeFileSync(f, bytes); return f; };

/** What reading gives: the rows (every column as hex) or the error, and the warnings. */
type Outcome = { rows: string; devices: string[]; count: number | undefined; kinds?: boolean } | { error: string };
const COLS = ['timeNs', 'device', 'pasid', 'op', 'iovaHi', 'iovaLo', 'size', 'dir', 'paddrHi', 'paddrLo', 'kind'] as const;
/** A digest of every column's bytes (a mismatch is reported short). */
const hexOf = (t: TraceColumns): string => COLS.map((c) => createHash('sha256').update(Buffer.from(t[c].buffer, t[c].byteOffset, t.count * t[c].BYTES_PER_ELEMENT)).digest('hex').slice(0, 16)).join('|');
const kindsOf = (t: TraceColumns): boolean => t.kind.subarray(0, t.count).some((k) => k !== 0);

function outcome(read: (r: ReadOptions) => Outcome): { out: Outcome; warnings: string[] } {
  const warnings: string[] = [];
  try {
    return { out: read({ warn: (l) => warnings.push(l) }), warnings };
  } catch (e) {
    if (!isInputError(e)) throw e;
    expect((e as Error).message).not.toContain('\n');
    return { out: { error: (e as Error).message }, warnings };
  }
}

function whole(path: string, format: TraceFormat, cfg?: TraceLoadConfig, strict = false) {
  return outcome((r) => {
    const t = loadTrace(path, format, { addressBits: 48 }, cfg, { ...r, strict }).columns;
    return { rows: hexOf(t), devices: t.devices, count: t.count, kinds: kindsOf(t) };
  });
}

function streamed(path: string, format: StreamFormat, tune: StreamTuning, cfg?: TraceLoadConfig, strict = false) {
  return outcome((r) => {
    const s = openTraceStream(path, format, { addressBits: 48 }, cfg, { ...r, strict }, tune);
    try {
      const all = allocColumns(Math.max(1, s.count ?? 1), s.devices);
      const src = s.chunks();
      let chunks = 0;
      for (let t = src.next(); t !== null; t = src.next(), chunks++) {
        if (tune.chunkRecords) expect(t.count).toBeLessThanOrEqual(tune.chunkRecords);
        expect(t.devices).toEqual(s.devices);
        for (let i = 0; i < t.count; i++) copyRow(t, i, all, all.count++);
      }
      if (tune.chunkRecords && (s.count ?? 0) > 3 * tune.chunkRecords) expect(chunks).toBeGreaterThan(3);
      expect(all.count).toBe(s.count);
      return { rows: hexOf(all), devices: s.devices, count: s.count, kinds: s.hasKinds() };
    } finally {
      s.close();
    }
  });
}

const TUNES: StreamTuning[] = [
  {},
  { readBytes: 7, chunkRecords: 5, windowNs: 0 }, // boundaries everywhere; every ftrace record made out of order is late
  { readBytes: 100, chunkRecords: 64, windowNs: 3000 },
];

function same(path: string, format: StreamFormat, cfg?: TraceLoadConfig, tunes = TUNES): Outcome {
  const w = whole(path, format, cfg);
  for (const tune of tunes) expect(streamed(path, format, tune, cfg), JSON.stringify(tune)).toEqual(w);
  return w.out;
}

// ---- traces ---------------------------------------------------------------------------------

/** CSV text → the same records as JSON Lines (fields in varying order). */
function toJsonl(csv: string): string {
  const [head, ...rows] = csv.trim().split('\n');
  const keys = head.split(',');
  return rows.map((r, n) => {
    const o: Record<string, string | number> = {};
    const cells = r.split(',').map((v, k) => [k, v] as const);
    if (n % 2) cells.reverse();
    for (const [k, v] of cells) if (v !== '') o[keys[k]] = ['time_ns', 'size', 'pasid'].includes(keys[k]) ? Number(v) : v;
    return JSON.stringify(o);
  }).join('\n') + '\n';
}

const WORKLOADS: Array<[string, Array<[string, string | number]>]> = [
  ['nic-10g-tcp', [['workload.count', 300]]],
  ['nic-10g-memcached', [['workload.count', 300]]],
  ['nic-100g-fs-5flows', [['workload.count', 300], ['iommu.mode', 'strict']]],
  ['gpu-uvm-faults', [['workload.count', 64]]],
];

/** Synthetic ftrace (kernel print formats, as test/trace/ftrace-dma.test.ts writes them). */
const FT_HEAD = '# tracer: nop\n#\n';
const ftLine = (us: number, ev: string, body: string): string =>
  `          <idle>-0       [002] d.h1. ${String(Math.floor(us / 1e6)).padStart(5)}.${String(us % 1e6).padStart(6, '0')}: ${ev}: ${body}\n`;
const hx = (v: number): string => v.toString(16);

/**
 * dma:* events of two devices: short mappings, mappings that live for milliseconds, some never
 * unmapped, scatter-gather maps, syncs, page-selective IOTLB invalidations (one device: charged to
 * it), a few lines out of time order; `iommuOnly`: iommu:map/unmap only.
 */
function syntheticFtrace(n: number, seed: number, opts: { oneDevice?: boolean; iommuOnly?: boolean } = {}): string {
  let s = seed;
  const rnd = (k: number): number => { s = (s * 1103515245 + 12345) % 2147483648; return Math.floor((s / 2147483648) * k); };
  const devs = opts.oneDevice ? ['0000:3b:00.0'] : ['0000:3b:00.0', '0000:5e:00.1'];
  const DIRS = ['TO_DEVICE', 'FROM_DEVICE', 'BIDIRECTIONAL'];
  let out = FT_HEAD;
  let t = 5_000_000;
  const open: Array<{ end: number; dev: string; dir: string; iova: number; size: number; sg: boolean; pa: number }> = [];
  for (let i = 0; i < n; i++) {
    t += 1 + rnd(4);
    const ts = rnd(20) === 0 ? t - 1 - rnd(30) : t; // now and then a line out of order
    const dev = devs[rnd(devs.length)];
    const iova = 0xff000000 + i * 0x2000 + rnd(0x800);
    const size = 64 + rnd(6000);
    const pa = 0x100000000 + i * 0x2000 + (iova & 0xfff);
    const dir = DIRS[rnd(3)];
    const life = rnd(10) === 0 ? 5000 + rnd(20000) : rnd(10) === 0 ? Infinity : 1 + rnd(40);
    if (opts.iommuOnly) {
      const pIova = Math.floor(iova / 4096) * 4096, len = Math.ceil(((iova & 0xfff) + size) / 4096) * 4096;
      out += ftLine(ts, 'map', `IOMMU: iova=0x${hx(pIova).padStart(16, '0')} - 0x${hx(pIova + len).padStart(16, '0')} paddr=0x${hx(Math.floor(pa / 4096) * 4096).padStart(16, '0')} size=${len}`);
      open.push({ end: t + life, dev, dir, iova: pIova, size: len, sg: false, pa });
    } else if (rnd(8) === 0) {
      out += ftLine(ts, 'dma_map_sg', `${dev} dir=${dir} dma_addrs={0x${hx(iova)},0x${hx(iova + 0x1000)}} sizes={0x${hx(size)},0x200} phys_addrs={0x${hx(pa)},0x${hx(pa + 0x1000)}} attrs=`);
      open.push({ end: t + life, dev, dir, iova, size, sg: true, pa });
    } else {
      out += ftLine(ts, 'dma_map_page', `${dev} dir=${dir} dma_addr=${hx(iova)} size=${size} phys_addr=${hx(pa)} attrs=`);
      open.push({ end: t + life, dev, dir, iova, size, sg: false, pa });
    }
    if (!opts.iommuOnly && rnd(6) === 0) out += ftLine(t, rnd(2) ? 'dma_sync_single_for_device' : 'dma_sync_single_for_cpu', `${dev} dir=${dir} dma_addr=${hx(iova)} size=${size}`);
    if (rnd(9) === 0) out += ftLine(t, 'qi_submit', `iotlb_inv dmar0: 0x32 0x${hx(Math.floor(iova / 4096) * 4096 + 1)} 0x0 0x0`);
    if (rnd(15) === 0) out += ftLine(t, 'net_dev_xmit', 'dev=eth0 skbaddr=00000000deadbeef len=60 rc=0');
    open.sort((a, b) => a.end - b.end);
    while (open.length > 0 && open[0].end <= t) {
      const m = open.shift()!;
      if (opts.iommuOnly) out += ftLine(t, 'unmap', `IOMMU: iova=0x${hx(m.iova).padStart(16, '0')} - 0x${hx(m.iova + m.size).padStart(16, '0')} size=${m.size} unmapped_size=${m.size}`);
      else if (m.sg) out += ftLine(t, 'dma_unmap_sg', `${m.dev} dir=${m.dir} phys_addrs={0x${hx(m.pa)},0x${hx(m.pa + 0x1000)}} attrs=`);
      else out += ftLine(t, 'dma_unmap_page', `${m.dev} dir=${m.dir} dma_addr=${hx(m.iova)} size=${m.size} attrs=`);
    }
  }
  return out; // mappings still open are never unmapped
}

// ---- tests ----------------------------------------------------------------------------------

describe('streamed = whole-file: rows, device table, count', () => {
  it('the shipped CSV example, gzip-compressed, with a byte-order mark, and its JSONL twin', () => {
    const ring = readFileSync(join(root, 'workloads/examples/nic-rx-ring.csv'));
    same(join(root, 'workloads/examples/nic-rx-ring.csv'), 'csv');
    same(file('ring.csv.gz', gzipSync(ring)), 'csv');
    same(file('ring-bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ring])), 'csv');
    same(file('ring.jsonl', toJsonl(ring.toString('utf8'))), 'jsonl');
    same(file('ring.jsonl.gz', gzipSync(toJsonl(ring.toString('utf8')))), 'jsonl');
    // UTF-16 (with its mark) is read as its UTF-8 text
    const u16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ring.toString('utf8'), 'utf16le')]);
    const out = same(file('ring16.csv', u16), 'csv', undefined, [TUNES[1]]);
    expect('count' in out && out.count).toBe(5377);
  });

  for (const [name, set] of WORKLOADS) {
    it(`${name} as CSV (kind column) and JSONL`, () => {
      const [r] = resolveInput(name, set);
      const csv = writeCsvTrace(r.columns!);
      const out = same(file(`${name}.csv`, csv), 'csv');
      expect('count' in out && out.count).toBe(r.columns!.count);
      same(file(`${name}.jsonl`, toJsonl(csv)), 'jsonl', undefined, TUNES.slice(0, 2));
    });
  }

  it('every ftrace fixture (tracefs, trace_pipe, trace-cmd layouts, a counter clock)', () => {
    for (const f of ['synthetic_tracefs_5flags.txt', 'synthetic_trace_pipe_4flags_tgid.txt', 'synthetic_tracefs_noirqinfo_counter.txt',
      'synthetic_trace-cmd.txt', 'synthetic_trace-cmd_t_ns.txt', 'synthetic_trace-cmd_l.txt']) {
      const out = same(join(root, 'test/fixtures/ftrace', f), 'ftrace');
      expect('count' in out && out.count, f).toBe(296);
    }
  });

  it('ftrace: long-lived and never-unmapped mappings, scatter-gather, syncs, invalidations, lines out of order', () => {
    for (const [k, opts] of [[1, {}], [2, { oneDevice: true }], [3, { iommuOnly: true }]] as const) {
      const f = file(`synth-${k}.txt`, syntheticFtrace(3000, k, opts));
      const out = same(f, 'ftrace', undefined, [...TUNES, { readBytes: 4096, chunkRecords: 1000, windowNs: 50_000 }]);
      expect('count' in out && out.count).toBeGreaterThan(6000);
      same(file(`synth-${k}.txt.gz`, gzipSync(readFileSync(f))), 'ftrace', undefined, [TUNES[1]]);
    }
    // the config's ftrace section: no synthesized accesses, a device for iommu:* events, another delay
    const iommu = file('synth-iommu.txt', syntheticFtrace(500, 4, { iommuOnly: true }));
    same(iommu, 'ftrace', { ftrace: { device: '0000:07:00.0', synthDelayNs: 20_000 } });
    same(iommu, 'ftrace', { ftrace: { synthesize: 'none' } });
  });

  it('an .iotrace: its own chunks', () => {
    const [r] = resolveInput('nic-10g-tcp', [['workload.count', 300]]);
    const out = same(file('t.iotrace', writeIotrace(r.columns!, { chunkRecords: 100 })), 'iotrace', undefined, [{}]);
    expect('kinds' in out && out.kinds).toBe(true);
  });
});

describe('damaged input: the whole-file import\'s error (and warnings), in its order', () => {
  const csv = (body: string): string => `${CSV_HEADER}\n${body}`;
  const ok = '0,01:00.0,,map,0x1000,8192,,0x5000\n5,01:00.0,,dma,0x1000,64,read,\n';
  const cases: Array<[string, StreamFormat, string | Uint8Array, RegExp]> = [
    ['a malformed CSV line', 'csv', csv(ok + '7,01:00.0,,dma,0x1000\n'), /:4: 5 fields where 8 are expected/],
    ['an unknown op', 'csv', csv(ok + ok.replace(/^0,/, '9,').replace('dma', 'copy')), /:5: unknown op 'copy'/],
    ['time going back', 'csv', csv(ok + '3,01:00.0,,dma,0x1000,64,read,\n'), /:4: time_ns 3 is before/],
    ['a bad device', 'csv', csv(ok + '6,01:00.z,,dma,0x1000,64,read,\n'), /:4: device '01:00\.z' is not a PCI address/],
    ['* outside inv:global', 'csv', csv(ok + '6,*,,dma,0x1000,64,read,\n'), /:4: device '\*' is only for inv:global/],
    ['a bad header', 'csv', 'time,device\n' + ok, /:1: the header is 'time,device'/],
    ['no header line', 'csv', '# nothing\n\n', /: no header line/],
    ['a line cut short at the end', 'csv', csv(ok + '6,01:00.0,,dm'), /:4: 5 fields where 8 are expected|:4: 4 fields/],
    ['JSONL: a CSV-level error, then a line that is not JSON (that one is reported)', 'jsonl',
      '{"time_ns":0,"device":"01:00.0","op":"zap","iova":"0x1000","size":4096}\n{"time_ns":1,\n', /:2: not a JSON object/],
    ['JSONL: a CSV-level error only', 'jsonl', '{"time_ns":0,"device":"01:00.0","op":"map","iova":"0x1000","size":4096,"paddr":"0x2000"}\n\n{"time_ns":1,"device":"01:00.0","op":"zap","iova":"0x1000","size":64}\n', /:3: unknown op 'zap'/],
    ['JSONL: an unknown field', 'jsonl', '{"time_ns":0,"op":"dma","colour":1}\n', /:1: unknown field "colour"/],
    ['ftrace: not ftrace', 'ftrace', 'hello\nworld\n', /:1: not an ftrace text trace/],
    ['ftrace: a malformed dma event', 'ftrace', FT_HEAD + ftLine(1, 'dma_map_page', '0000:01:00.0 dir=SIDEWAYS dma_addr=1000 size=64 phys_addr=2000 attrs='), /:3: unknown DMA direction/],
    ['ftrace: nothing to replay', 'ftrace', readFileSync(join(root, 'test/fixtures/ftrace/real_linux-6.18_net_lo_trace.txt')), /no DMA-API or IOMMU map\/unmap events to replay \(net_dev_queue 66/],
  ];
  for (const [what, fmt, body, re] of cases) {
    it(what, () => {
      const f = file(`bad-${what.replace(/\W+/g, '-')}.${fmt}`, body);
      const w = whole(f, fmt);
      expect('error' in w.out && w.out.error).toMatch(re);
      for (const tune of TUNES) expect(streamed(f, fmt, tune), JSON.stringify(tune)).toEqual(w);
      const gz = file(`bad-${what.replace(/\W+/g, '-')}.gz`, gzipSync(body));
      expect(streamed(gz, fmt, TUNES[1])).toEqual(whole(gz, fmt));
    });
  }

  it('ftrace: a bad device knob for iommu:* events', () => {
    const f = file('iommu-knob.txt', syntheticFtrace(50, 5, { iommuOnly: true }));
    const cfg = { ftrace: { device: 'eth0' } };
    const w = whole(f, 'ftrace', cfg);
    expect('error' in w.out && w.out.error).toMatch(/ftrace device 'eth0': not a PCI address/);
    expect(streamed(f, 'ftrace', TUNES[1], cfg)).toEqual(w);
  });

  it('a CSV of 70,000 devices: the 65,536th is refused at its line', () => {
    const bdf = (k: number): string => `${(k >> 16).toString(16).padStart(4, '0')}:${((k >> 8) & 255).toString(16).padStart(2, '0')}:${((k >> 3) & 31).toString(16).padStart(2, '0')}.${k & 7}`;
    const lines = [CSV_HEADER];
    for (let k = 0; k < 70_000; k++) lines.push(`${k},${bdf(k)},,dma,0x1000,64,read,`);
    const f = file('many.csv', lines.join('\n') + '\n');
    const w = whole(f, 'csv');
    expect('error' in w.out && w.out.error).toMatch(/many\.csv:65537: device 0000:ff:1f\.7 is the 65,536th distinct device/);
    expect(streamed(f, 'csv', { readBytes: 4096, chunkRecords: 1000 })).toEqual(w);
  });

  it('gzip cut short: the same rows and one warning; --strict: the same error, before any parse error', () => {
    const [r] = resolveInput('nic-10g-tcp', [['workload.count', 1000]]);
    const text = writeCsvTrace(r.columns!);
    const gz = gzipSync(text);
    for (const [name, fmt, bytes] of [['cut.csv.gz', 'csv', gz], ['cut.jsonl.gz', 'jsonl', gzipSync(toJsonl(text))], ['cut.txt.gz', 'ftrace', gzipSync(syntheticFtrace(2000, 6))]] as const) {
      const f = file(name, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const w = whole(f, fmt);
      expect(w.warnings).toHaveLength(1);
      expect(w.warnings[0]).toMatch(/the gzip stream is cut short \(file truncated at byte \d+\); read the \d+ byte\(s\) decompressed before the cut/);
      for (const tune of TUNES.slice(0, 2)) expect(streamed(f, fmt, tune), name).toEqual(w);
      const s = whole(f, fmt, undefined, true);
      expect('error' in s.out && s.out.error).toMatch(/cut short.*drop --strict/);
      expect(streamed(f, fmt, TUNES[1], undefined, true)).toEqual(s);
    }
    // a bad checksum at the end, past a malformed line: the whole-file read decompresses first, so
    // the gzip error wins
    const bad = Buffer.from(gzipSync(text.replace('\n1', '\nx1')));
    bad[bad.length - 8] ^= 0xff;
    const f = file('corrupt.csv.gz', bad);
    const w = whole(f, 'csv');
    expect('error' in w.out && w.out.error).toMatch(/not a valid gzip file/);
    expect(streamed(f, 'csv', TUNES[1])).toEqual(w);
  });

  it('empty, a mark alone, an empty gzip stream, bad UTF-16: the same one line', () => {
    for (const [name, bytes] of [['e.csv', ''], ['b.csv', Buffer.from([0xef, 0xbb, 0xbf])], ['g.csv.gz', gzipSync('')],
      ['u.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(CSV_HEADER + '\n', 'utf16le'), Buffer.from([0x41])])],
      ['u2.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from((CSV_HEADER + '\n').repeat(500), 'utf16le'), Buffer.from([0x00, 0xd8, 0x41, 0x00])])]] as const) {
      const f = file(name, bytes);
      const w = whole(f, 'csv');
      expect('error' in w.out, name).toBe(true);
      for (const tune of TUNES.slice(0, 2)) expect(streamed(f, 'csv', tune), name).toEqual(w);
    }
  });

  it('random damage (bytes changed, lines cut, duplicated, swapped): the same rows or the same error', () => {
    const ring = readFileSync(join(root, 'workloads/examples/nic-rx-ring.csv'), 'utf8').slice(0, 4000);
    const [r] = resolveInput('nic-10g-tcp', [['workload.count', 40]]);
    const bases: Array<[StreamFormat, string]> = [['csv', ring], ['csv', writeCsvTrace(r.columns!)], ['jsonl', toJsonl(ring)], ['ftrace', syntheticFtrace(60, 7)]];
    const JUNK = ['0', '9', 'f', 'x', ' ', '\n', ',', ':', '#', '"', '{', '}', '\r', '.', '-', '*'];
    let k = 0;
    fc.assert(fc.property(fc.nat(bases.length - 1), fc.array(fc.tuple(fc.nat(5), fc.nat(1 << 20), fc.nat(JUNK.length - 1)), { minLength: 1, maxLength: 4 }), (b, edits) => {
      const [fmt, base] = bases[b];
      let t = base;
      for (const [op, at0, j] of edits) {
        const at = at0 % (t.length + 1);
        if (op === 0) t = t.slice(0, at) + JUNK[j] + t.slice(at + 1);
        else if (op === 1) t = t.slice(0, at) + t.slice(at + 1 + (j % 9));
        else if (op === 2) t = t.slice(0, at) + JUNK[j] + t.slice(at);
        else if (op === 3) t = t.slice(0, at); // cut
        else if (op === 4) t = t.slice(0, at) + t.slice(at, at + 40 + j) + t.slice(at);
        else { const ls = t.split('\n'); const i = at % ls.length, m = (at >> 5) % ls.length; [ls[i], ls[m]] = [ls[m], ls[i]]; t = ls.join('\n'); }
      }
      const f = file(`fuzz-${k++}.${fmt}`, t);
      const w = whole(f, fmt);
      expect(streamed(f, fmt, TUNES[1])).toEqual(w);
      expect(streamed(f, fmt, TUNES[2])).toEqual(w);
    }), { numRuns: 150 });
  });
});

describe('which files stream', () => {
  it('probeTrace finds the format from the first bytes; a pcap streams (through the NIC model), GPU exports and a gzip .iotrace are loaded whole', () => {
    const [r] = resolveInput('nic-10g-tcp', [['workload.count', 100]]);
    const iot = writeIotrace(r.columns!);
    expect(probeTrace(file('p.iotrace', iot))).toEqual({ format: 'iotrace' });
    expect(probeTrace(file('p.iotrace.gz', gzipSync(iot)))).toEqual({ format: 'iotrace', compression: 'gzip' });
    expect('loaded' in openTrace(join(dir, 'p.iotrace.gz'))).toBe(true);
    expect('stream' in openTrace(join(dir, 'p.iotrace'))).toBe(true);
    const cap = openTrace(join(root, 'test/fixtures/pcap/http_mixed_lo64k_snap128.pcap'));
    expect('stream' in cap && cap.stream.format).toBe('pcap');
    if ('stream' in cap) { expect(cap.stream.count).toBeUndefined(); cap.stream.close(); }
    expect('loaded' in openTrace(join(root, 'test/fixtures/gpu/synthetic_cupti_memcpy.csv'))).toBe(true);
    const s = openTrace(join(root, 'workloads/examples/nic-rx-ring.csv'));
    expect('stream' in s && s.stream.format).toBe('csv');
    if ('stream' in s) s.stream.close();
    expect(() => probeTrace(file('x.bin', 'hello, world\n'))).toThrow(/x\.bin: unknown trace format/);
  });

  it('a file that changes between the passes is refused in one line', () => {
    const f = file('changing.csv', `${CSV_HEADER}\n0,01:00.0,,dma,0x1000,64,read,\n`);
    const s = openTraceStream(f, 'csv');
    writeFileSync(f, `${CSV_HEADER}\n0,02:00.0,,dma,0x1000,64,read,\n1,01:00.0,,dma,0x1000,64,read,\n`);
    expect(() => s.chunks().next()).toThrow(/changing\.csv: changed while being read \(device 0000:02:00\.0 was not in it on the first pass\)/);
    s.close();
  });
});
