/**
 * The capture reader a piece at a time (CaptureReader over a ByteSource, src/trace/importers/pcap.ts)
 * gives exactly what parseCapture gives for the whole file in memory: every packet field, the
 * times, t0, the interfaces, the warnings and the partial flag, or the same error text. Reads of
 * 1, 7, … bytes and chunks of 1, 5, … packets put the read and chunk boundaries inside every file
 * header, record header, block, option and frame. Fixtures: the shipped real captures (every
 * record boundary cut ±3 on the small one), a pcapng with every block type the parser knows in two
 * sections of opposite byte orders, every pcap magic, and random pcap/pcapng files (fast-check)
 * cut short and corrupted.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CaptureReader, parseCapture, type ByteSource, type CaptureFile, type PacketColumns } from '../../../src/trace/importers/pcap.js';
import { InputError } from '../../../src/util/errors.js';
import { ethFrame, ethernet, ipPacket, joinBlocks, ng, prng, sll, sll2, writePcap, concat, type FlowSpec } from './pcap-fixtures.js';

const REAL = [
  fileURLToPath(new URL('../../fixtures/pcap/http_mixed_lo64k_snap128.pcap', import.meta.url)),
  fileURLToPath(new URL('../../../workloads/captures/tcp_iperf3_mtu1500_100M_snap128.pcap', import.meta.url)),
];

const FIELDS = ['tsNs', 'origLen', 'capLen', 'iface', 'dir', 'flowHash', 'l4'] as const;

/** Bytes in memory given `step` at a time (fewer when the reader asks for fewer). */
function pieces(bytes: Uint8Array, step: number): ByteSource & { closed: number } {
  let o = 0;
  return {
    closed: 0,
    read(dst, off, len) {
      const k = Math.min(len, step, bytes.length - o);
      dst.set(bytes.subarray(o, o + k), off);
      o += k;
      return k;
    },
    close() { this.closed++; },
  };
}

interface Outcome {
  error?: string;
  format?: string;
  interfaces?: unknown;
  t0?: [number, number];
  warnings?: string[];
  partial?: boolean;
  count?: number;
  /** each column's values joined (cheap to compare) */
  cols?: Record<string, string>;
}

function columnsOf(p: PacketColumns, into: Record<string, number[]>): void {
  for (const f of FIELDS) for (let i = 0; i < p.count; i++) into[f]!.push(p[f][i]!);
}
const emptyCols = (): Record<string, number[]> => Object.fromEntries(FIELDS.map((f) => [f, [] as number[]]));
const joined = (c: Record<string, number[]>): Record<string, string> => Object.fromEntries(FIELDS.map((f) => [f, c[f]!.join(',')]));

function errorText(e: unknown): string {
  if (!(e instanceof InputError)) throw e;
  return e.message;
}

function wholeOutcome(bytes: Uint8Array, name: string, allowPartial: boolean): Outcome {
  let r: CaptureFile;
  try { r = parseCapture(bytes, name, { allowPartial }); } catch (e) { return { error: errorText(e) }; }
  const cols = emptyCols();
  columnsOf(r.packets, cols);
  for (const f of FIELDS) expect(r.packets[f].length).toBe(r.packets.count);
  return { format: r.format, interfaces: r.interfaces, t0: [r.t0Sec, r.t0Ns], warnings: r.warnings, partial: r.partial, count: r.packets.count, cols: joined(cols) };
}

/** The reader over `step`-byte reads, `chunk` packets a chunk, each chunk copied out of the reused columns. */
function streamedOutcome(bytes: Uint8Array, name: string, allowPartial: boolean, step: number, chunk: number): Outcome {
  const src = pieces(bytes, step);
  const cols = emptyCols();
  let count = 0;
  let r: CaptureReader;
  const chunks: number[] = [];
  try {
    r = new CaptureReader(src, name, { allowPartial, chunkPackets: chunk, readBytes: step });
    for (let p = r.next(); p !== null; p = r.next()) {
      chunks.push(p.count);
      columnsOf(p, cols);
      count += p.count;
    }
    expect(r.next()).toBeNull();
  } catch (e) {
    expect(src.closed).toBe(1); // an error releases the source
    return { error: errorText(e) };
  }
  expect(src.closed).toBe(1);
  // every chunk full but the last
  for (let k = 0; k + 1 < chunks.length; k++) expect(chunks[k]).toBe(chunk);
  if (chunks.length) expect(chunks[chunks.length - 1]).toBeGreaterThan(0);
  expect(r.packets).toBe(count);
  return { format: r.format, interfaces: r.interfaces, t0: [r.t0Sec, r.t0Ns], warnings: r.warnings, partial: r.partial, count, cols: joined(cols) };
}

function expectSame(bytes: Uint8Array, name: string, step: number, chunk: number, modes: boolean[] = [false, true]): Outcome[] {
  return modes.map((allowPartial) => {
    const w = wholeOutcome(bytes, name, allowPartial);
    const s = streamedOutcome(bytes, name, allowPartial, step, chunk);
    expect(s).toEqual(w);
    return w;
  });
}

// ------------------------------------------------------------------ fixtures

const A4 = [10, 0, 0, 1], B4 = [10, 0, 0, 2];
const A6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const B6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const tcp4: FlowSpec = { src: A4, dst: B4, proto: 6, sport: 40000, dport: 5201, payload: 100 };
const udp6: FlowSpec = { src: A6, dst: B6, proto: 17, sport: 5353, dport: 53, payload: 30 };
const T = 1795317689;

/** Every block type and IDB option the parser reads, two sections of opposite byte orders; with each block's start. */
function everyBlock(): { bytes: Uint8Array; bounds: number[] } {
  const f0 = ethFrame(tcp4), f1 = ethFrame({ ...tcp4, src: B4, dst: A4, sport: 5201, dport: 40000, vlan: [0x8100] }), f2 = ethFrame({ ...udp6, payload: 200 });
  const raw = ipPacket({ ...tcp4, payload: 200 });
  return joinBlocks([
    ng.shb(true),
    ng.idb(true, 1, 0, { name: 'eth0' }),
    ng.idb(true, 1, 1500, { name: 'eth1', tsresol: 9 }),
    ng.idb(true, 1, 96, { name: 'tap2', tsresol: 0x80 | 20 }),
    ng.idb(true, 113, 0, { tsresol: 12, tsoffset: BigInt(T) }),
    ng.nrb(true),
    ng.spb(true, f0, f0.length, 0), // before any timestamp
    ng.epb(true, 0, BigInt(T) * 1_000_000n + 250_000n, f0, { flags: 1 }),
    ng.epb(true, 1, BigInt(T) * 1_000_000_000n + 250_000_123n, f1, { flags: 2, extra: [{ code: 1, value: new TextEncoder().encode('a comment') }] }),
    ng.custom(true, 0x00000bad, 32473, [1, 2, 3, 4, 5]),
    ng.epb(true, 2, (BigInt(T) << 20n) + 2048n * 200n, f2.subarray(0, 96), { origLen: f2.length }),
    ng.epb(true, 3, 123_456_789_000n, sll(raw, 4)),
    ng.pb(true, 0, BigInt(T) * 1_000_000n + 250_010n, f0, { flags: 2 }),
    ng.isb(true, 0, BigInt(T) * 1_000_000n + 300_000n),
    ng.custom(true, 0x00000042, 0, [9, 9, 9, 9]),
    ng.custom(true, 0x40000bad, 32473, [7]),
    ng.epb(true, 1, BigInt(T) * 1_000_000_000n + 100n, f0, { capLen: 40, origLen: 30 }), // orig < cap; out of time order
    ng.shb(false),
    ng.idb(false, 101, 64, { name: 'raw0', tsresol: 3, tsoffset: 7n }),
    ng.idb(false, 276, 0, { tsresol: 0x80 | 30 }),
    ng.spb(false, raw, raw.length, 64),
    ng.epb(false, 0, BigInt(T - 7) * 1000n + 1500n, raw.subarray(0, 64), { origLen: raw.length }),
    ng.epb(false, 1, BigInt(T) << 30n, sll2(ipPacket(udp6), 0), { flags: 3 }),
    ng.spb(false, raw.subarray(0, 40), 40, 64),
    ng.epb(false, 0, BigInt(T - 7) * 1000n + 1600n, raw, { origLen: raw.length }), // above the snaplen
  ]);
}

/** Every pcap magic (µs/ns, both byte orders) with a few link types. */
function everyPcap(): Array<{ name: string; bytes: Uint8Array; bounds: number[] }> {
  const out: Array<{ name: string; bytes: Uint8Array; bounds: number[] }> = [];
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      const w = writePcap({
        le, nano, linkType: 1, snapLen: 96, ltExtra: le ? 0 : (2 << 28) | (1 << 26),
        packets: [
          { sec: T, frac: nano ? 999_999_999 : 999_999, data: ethFrame(tcp4) },
          { sec: T + 1, frac: 5, data: ethFrame(udp6), origLen: 1514 },
          { sec: T + 1, frac: nano ? 2e9 : 2e6, data: ethernet(ipPacket(udp6), [0x88a8, 0x8100]) }, // sub-second field ≥ 1 s
          { sec: T, frac: 7, data: Uint8Array.from([1, 2, 3]) }, // too short to hash; back in time
        ],
      });
      out.push({ name: `${le ? 'le' : 'be'}-${nano ? 'ns' : 'us'}.pcap`, ...w });
    }
  }
  return out;
}

// ------------------------------------------------------------------ tests

describe('the capture reader a piece at a time equals parseCapture', () => {
  it('the small real capture: 1-byte reads, chunks of 1, 7 and 1000 packets', () => {
    const bytes = new Uint8Array(readFileSync(REAL[0]!));
    for (const [step, chunk] of [[1, 7], [7, 1], [4096, 1000], [1 << 20, 65536]] as const) {
      const [strict] = expectSame(bytes, 'http.pcap', step, chunk, [false]);
      expect(strict!.count).toBe(1081);
    }
  });

  it('the big real capture: 7-byte and 64 KiB reads, chunks of 97 and 65 536 packets', () => {
    const bytes = new Uint8Array(readFileSync(REAL[1]!));
    for (const [step, chunk] of [[7, 97], [65536, 65536], [1000, 5000]] as const) {
      const [strict] = expectSame(bytes, 'iperf3.pcap', step, chunk, [false]);
      expect(strict!.count).toBe(18_761);
    }
  });

  it('the small real capture cut at every 4th record boundary ±3 (strict and allowPartial), 61-byte reads', () => {
    const bytes = new Uint8Array(readFileSync(REAL[0]!));
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const cuts = new Set<number>();
    for (let c = 0; c <= 30; c++) cuts.add(c);
    let k = 0;
    for (let o = 24; o < bytes.length; o += 16 + dv.getUint32(o + 8, true)) if (k++ % 4 === 0) for (let d = -3; d <= 3; d++) cuts.add(o + d);
    cuts.add(bytes.length - 1);
    for (const c of cuts) if (c >= 0 && c <= bytes.length) expectSame(bytes.subarray(0, c), 'cut.pcap', 61, 64);
  });

  it('every pcap magic and byte order, FCS bits, odd sub-second fields, short frames: every cut, 1- and 3-byte reads', () => {
    for (const f of everyPcap()) {
      for (const [step, chunk] of [[1, 1], [3, 2], [100, 100]] as const) expectSame(f.bytes, f.name, step, chunk);
      for (let c = 0; c <= f.bytes.length; c++) expectSame(f.bytes.subarray(0, c), f.name, 3, 1);
    }
  });

  it('a pcapng with every block type, two sections of opposite byte orders: every cut, 1- to 13-byte reads', () => {
    const f = everyBlock();
    const [whole] = expectSame(f.bytes, 'every.pcapng', 1, 1);
    expect(whole!.count).toBe(12);
    expect(whole!.warnings!.length).toBeGreaterThanOrEqual(4);
    for (const [step, chunk] of [[2, 3], [7, 2], [13, 5], [4096, 65536]] as const) expectSame(f.bytes, 'every.pcapng', step, chunk);
    for (let c = 0; c <= f.bytes.length; c++) expectSame(f.bytes.subarray(0, c), 'every.pcapng', 7, 2);
  });

  it('errors: empty, not a capture, gzip, corrupt blocks and records give the same text', () => {
    const f = everyBlock();
    const cases: Uint8Array[] = [
      new Uint8Array(0), new TextEncoder().encode('hello world'), Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0]),
      Uint8Array.from([0x34, 0xcd, 0xb2, 0xa1, 2, 0, 4, 0]),
    ];
    // every 4-byte word of the pcapng and of a pcap set to a large value, one at a time
    const pc = everyPcap()[1]!.bytes;
    for (const src of [f.bytes, pc]) {
      for (let o = 0; o + 4 <= src.length; o += 4) {
        const c = src.slice();
        new DataView(c.buffer).setUint32(o, 0x7fff0001 ^ o, true);
        cases.push(c);
      }
    }
    let errors = 0;
    for (const c of cases) {
      for (const o of expectSame(c, 'bad.pcapng', 3, 2)) if (o.error) errors++;
    }
    expect(errors).toBeGreaterThan(50);
  });

  it('a record larger than the read size grows the buffer to one record (and no more)', () => {
    const big = ethFrame({ ...tcp4, payload: 60_000 });
    const w = writePcap({ le: true, nano: false, linkType: 1, snapLen: 0, packets: [{ sec: T, frac: 0, data: big }, { sec: T, frac: 1, data: ethFrame(tcp4) }] });
    expectSame(w.bytes, 'big.pcap', 1000, 1);
    const p = joinBlocks([ng.shb(true), ng.idb(true, 1, 0), ng.epb(true, 0, 1n, big), ng.epb(true, 0, 2n, ethFrame(udp6))]);
    expectSame(p.bytes, 'big.pcapng', 1000, 1);
  });

  it('chunks reuse one set of columns; close() ends the reader and releases the source', () => {
    const bytes = new Uint8Array(readFileSync(REAL[0]!));
    const src = pieces(bytes, 4096);
    const r = new CaptureReader(src, 'http.pcap', { chunkPackets: 100 });
    const a = r.next()!, b = r.next()!;
    expect(a).toBe(b);
    expect(a.tsNs.length).toBe(100);
    expect(r.packets).toBe(200);
    r.close();
    expect(src.closed).toBe(1);
    expect(r.next()).toBeNull();
  });
});

// ------------------------------------------------------------------ random files

interface Gen { bytes: Uint8Array }

/** A random pcap or pcapng file from a seed: frames of several link types, interfaces, sections, options and block types. */
function randomCapture(seed: number, pcapng: boolean, packets: number): Gen {
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const int = (n: number): number => Math.floor(rnd() * n);
  const flows: FlowSpec[] = [tcp4, udp6, { ...tcp4, sport: 1 + int(60000), payload: int(300) }, { ...udp6, dport: int(65536), payload: int(100) }, { src: A4, dst: B4, proto: 1 }];
  const frameFor = (link: number): Uint8Array => {
    const f = pick(flows);
    const ip = ipPacket(f);
    switch (link) {
      case 1: return ethernet(ip, rnd() < 0.2 ? [0x8100] : []);
      case 113: return sll(ip, pick([0, 1, 3, 4]));
      case 276: return sll2(ip, pick([0, 4]));
      case 0: return concat([Uint8Array.from([2, 0, 0, 0]), ip]);
      case 101: case 228: case 229: return ip;
      default: return Uint8Array.from({ length: 1 + int(80) }, () => int(256));
    }
  };
  if (!pcapng) {
    const link = pick([1, 101, 113, 276, 0, 147]);
    const nano = rnd() < 0.5;
    const snapLen = pick([0, 64, 96, 65535]);
    let sec = T, frac = 0;
    const ps = Array.from({ length: packets }, () => {
      sec += int(3);
      frac = rnd() < 0.05 ? (nano ? 1e9 : 1e6) + int(100) : int(nano ? 1e9 : 1e6);
      const data = frameFor(link);
      return { sec, frac, data, origLen: rnd() < 0.1 ? int(data.length + 1) : undefined };
    });
    return { bytes: writePcap({ le: rnd() < 0.5, nano, linkType: link, snapLen, packets: ps }).bytes };
  }
  const blocks: Uint8Array[] = [];
  const sections = 1 + int(3);
  let left = packets;
  for (let s = 0; s < sections; s++) {
    const le = rnd() < 0.5;
    blocks.push(ng.shb(le));
    const ifs: Array<{ link: number; snap: number }> = [];
    const nIf = int(4);
    for (let k = 0; k < nIf; k++) {
      const link = pick([1, 101, 113, 276, 228, 229, 0, 147]);
      const snap = pick([0, 64, 96, 65535]);
      const tsresol = pick([undefined, 6, 9, 3, 0x80 | 20, 12]);
      blocks.push(ng.idb(le, link, snap, { name: rnd() < 0.5 ? `if${k}` : undefined, tsresol, tsoffset: tsresol === 12 ? BigInt(T) : rnd() < 0.2 ? BigInt(int(100)) : undefined }));
      ifs.push({ link, snap });
    }
    const here = s === sections - 1 ? left : int(left + 1);
    left -= here;
    let ticks = BigInt(T) * 1000n;
    for (let k = 0; k < here; k++) {
      const r = rnd();
      ticks += BigInt(int(1_000_000));
      if (r < 0.08) blocks.push(pick([ng.nrb(le), ng.isb(le, 0, ticks), ng.custom(le, 0x0bad, 1, [1, 2, 3]), ng.custom(le, 0x1234, 0, [0, 0, 0, 0])]));
      if (ifs.length === 0) continue;
      const g = int(ifs.length);
      const data = frameFor(ifs[g]!.link);
      if (r < 0.15) blocks.push(ng.spb(le, data, data.length, ifs[0]!.snap));
      else if (r < 0.22) blocks.push(ng.pb(le, g, ticks, data, { flags: rnd() < 0.5 ? int(4) : undefined }));
      else blocks.push(ng.epb(le, g, ticks, data, { flags: rnd() < 0.5 ? int(4) : undefined, origLen: rnd() < 0.1 ? data.length + int(2000) : undefined }));
    }
  }
  return { bytes: concat(blocks) };
}

describe('random pcap and pcapng files (fast-check): streamed = whole', () => {
  it('whole, cut short, or with a few bytes changed; any read size and chunk size', () => {
    fc.assert(fc.property(
      fc.record({
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        pcapng: fc.boolean(),
        packets: fc.integer({ min: 0, max: 60 }),
        cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        flips: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        step: fc.integer({ min: 1, max: 300 }),
        chunk: fc.integer({ min: 1, max: 20 }),
      }),
      ({ seed, pcapng, packets, cut, flips, step, chunk }) => {
        let bytes = randomCapture(seed, pcapng, packets).bytes;
        if (cut !== null) bytes = bytes.slice(0, Math.floor(cut * bytes.length));
        else bytes = bytes.slice();
        for (const [at, v] of flips) if (bytes.length > 0) bytes[Math.floor(at * bytes.length)] = v;
        expectSame(bytes, pcapng ? 'r.pcapng' : 'r.pcap', step, chunk);
      },
    ), { numRuns: 1000 });
  });
});
