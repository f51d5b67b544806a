import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  detectCaptureFormat, flowHashOf, parseCapture, MAX_CAPTURED_LENGTH, type CaptureFile,
} from '../../../src/trace/importers/pcap.js';
import { InputError } from '../../../src/util/errors.js';
import {
  ByteWriter, concat, ethFrame, ethernet, ipPacket, joinBlocks, ng, prng, sll, sll2, writePcap,
  type FlowSpec, type Written,
} from './pcap-fixtures.js';

// Real captures ship in the repo: the one a workload replays under workloads/captures/, the others
// under test/fixtures/pcap/; their tshark/capinfos truth files under test/fixtures/pcap/truth/
// (provenance: test/fixtures/pcap/README.md).
const TRUTH_DIR = fileURLToPath(new URL('../../fixtures/pcap/truth/', import.meta.url));
const CAPTURE_DIRS = [
  fileURLToPath(new URL('../../fixtures/pcap/', import.meta.url)),
  fileURLToPath(new URL('../../../workloads/captures/', import.meta.url)),
];
/** The path of a shipped capture (the first folder that holds it). */
function capturePath(file: string): string {
  const p = CAPTURE_DIRS.map((d) => d + file).find((f) => existsSync(f));
  if (!p) throw new Error(`${file}: has truth files but no capture in ${CAPTURE_DIRS.join(' or ')}`);
  return p;
}

/** Parse, expecting success or an InputError naming the file and a byte offset; never anything else. */
function parseOrInputError(bytes: Uint8Array, name: string, allowPartial = false): CaptureFile | InputError {
  try {
    return parseCapture(bytes, name, { allowPartial });
  } catch (e) {
    if (!(e instanceof InputError)) throw new Error(`expected an InputError, got ${String(e)}`);
    expect(e.message).toContain(name);
    expect(e.message).toMatch(/ at byte \d+/);
    expect(e.message).not.toContain('\n');
    expect(e.message).not.toContain('internal error');
    return e;
  }
}

function expectInputError(fn: () => unknown, ...patterns: (string | RegExp)[]): InputError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(InputError);
  const msg = (err as InputError).message;
  expect(msg).not.toContain('\n');
  expect(msg).toMatch(/ at byte \d+/);
  for (const p of patterns) expect(msg).toMatch(p);
  return err as InputError;
}

function expectExactColumns(r: CaptureFile): void {
  const p = r.packets;
  for (const a of [p.tsNs, p.origLen, p.capLen, p.iface, p.dir, p.flowHash, p.l4]) expect(a.length).toBe(p.count);
}

// =====================================================================================
// 1. The real captures against their truth files

interface Truth {
  frames: { sec: number; ns: number; len: number; cap: number }[];
  capinfos: string;
  plen: { count: number; avg: number; min: number; max: number };
}

function loadTruth(file: string): Truth {
  const dir = `${TRUTH_DIR}${file}`;
  const frames = readFileSync(`${dir}.frames.csv`, 'utf8').trim().split('\n').map((line, i) => {
    const [no, epoch, len, cap] = line.split(',');
    expect(Number(no)).toBe(i + 1);
    const [s, frac] = epoch!.split('.');
    return { sec: Number(s), ns: Number((frac ?? '').padEnd(9, '0').slice(0, 9)), len: Number(len), cap: Number(cap) };
  });
  const plenLine = readFileSync(`${dir}.plen-tree.txt`, 'utf8').split('\n').find((l) => l.startsWith('Packet Lengths '))!;
  const [count, avg, min, max] = plenLine.trim().split(/\s+/).slice(2, 6).map(Number);
  return { frames, capinfos: readFileSync(`${dir}.capinfos.txt`, 'utf8'), plen: { count: count!, avg: avg!, min: min!, max: max! } };
}

const capinfo = (text: string, key: string, sep = '[:=]'): string => {
  const m = new RegExp(`^\\s*${key}\\s*${sep}\\s*(.*)$`, 'm').exec(text);
  if (!m) throw new Error(`capinfos has no ${key}`);
  return m[1]!.trim();
};

// every capture that has truth files (the truth files name the captures)
const realFiles = readdirSync(TRUTH_DIR).filter((f) => f.endsWith('.capinfos.txt')).map((f) => f.slice(0, -'.capinfos.txt'.length)).sort();

describe('real captures (test/fixtures/pcap, workloads/captures) match their truth files', () => {
  it('finds the shipped captures', () => {
    expect(realFiles.length).toBeGreaterThanOrEqual(2);
    for (const f of realFiles) expect(existsSync(capturePath(f))).toBe(true);
  });

  for (const file of realFiles) {
    describe(file, () => {
      const bytes = new Uint8Array(readFileSync(capturePath(file)));
      const truth = loadTruth(file);
      const r = parseCapture(bytes, file);
      const p = r.packets;

      it('header: format, link type, snaplen, resolution, no warnings', () => {
        expect(detectCaptureFormat(bytes)).toBe('pcap');
        expect(r.format).toBe('pcap');
        expect(r.partial).toBe(false);
        expect(r.warnings).toEqual([]);
        expect(r.interfaces).toHaveLength(Number(capinfo(truth.capinfos, 'Number of interfaces in file')));
        expect(capinfo(truth.capinfos, 'Encapsulation')).toContain(`(${r.interfaces[0]!.linkType} - ether)`);
        expect(r.interfaces[0]!.snapLen).toBe(Number(capinfo(truth.capinfos, 'Capture length')));
        expect(1e9 / r.interfaces[0]!.tsResolNs).toBe(Number(capinfo(truth.capinfos, 'Time ticks per second')));
        expectExactColumns(r);
      });

      it('packet count, sum / average / min / max of original lengths', () => {
        expect(p.count).toBe(truth.frames.length);
        expect(p.count).toBe(Number(capinfo(truth.capinfos, 'Number of packets', '=')));
        expect(p.count).toBe(truth.plen.count);
        let sum = 0, min = Infinity, max = 0;
        for (let i = 0; i < p.count; i++) {
          const l = p.origLen[i]!;
          sum += l;
          if (l < min) min = l;
          if (l > max) max = l;
        }
        expect(sum).toBe(truth.frames.reduce((s, f) => s + f.len, 0));
        expect(min).toBe(truth.plen.min);
        expect(max).toBe(truth.plen.max);
        expect(Number((sum / p.count).toFixed(2))).toBe(truth.plen.avg);
        expect(capinfo(truth.capinfos, 'Average packet size')).toBe(`${(sum / p.count).toFixed(2)} bytes`);
      });

      it('every frame: timestamp (exact ns), original and captured length', () => {
        let bad = -1;
        for (let i = 0; i < p.count && bad < 0; i++) {
          const f = truth.frames[i]!;
          const want = (f.sec - r.t0Sec) * 1e9 + (f.ns - r.t0Ns);
          if (p.tsNs[i] !== want || p.origLen[i] !== f.len || p.capLen[i] !== f.cap) bad = i;
        }
        expect(bad === -1 ? 'all frames match' : `frame ${bad + 1}: ts ${p.tsNs[bad]} orig ${p.origLen[bad]} cap ${p.capLen[bad]} vs ${JSON.stringify(truth.frames[bad])}`).toBe('all frames match');
        expect(r.t0Sec).toBe(truth.frames[0]!.sec);
        expect(r.t0Ns).toBe(truth.frames[0]!.ns);
      });

      it('first/last packet time, duration and strict time order as capinfos says', () => {
        const iso = (sec: number, ns: number): string =>
          new Date(sec * 1000).toISOString().slice(0, 19).replace('T', ' ') + '.' + String(Math.round(ns / 1000)).padStart(6, '0');
        expect(capinfo(truth.capinfos, 'First packet time')).toBe(iso(r.t0Sec, r.t0Ns));
        const lastNs = r.t0Ns + p.tsNs[p.count - 1]!;
        expect(capinfo(truth.capinfos, 'Last packet time')).toBe(iso(r.t0Sec + Math.floor(lastNs / 1e9), lastNs % 1e9));
        expect(capinfo(truth.capinfos, 'Capture duration')).toBe(`${(p.tsNs[p.count - 1]! / 1e9).toFixed(6)} seconds`);
        let ordered = true;
        for (let i = 1; i < p.count; i++) if (p.tsNs[i]! < p.tsNs[i - 1]!) ordered = false;
        expect(capinfo(truth.capinfos, 'Strict time order')).toBe(ordered ? 'True' : 'False');
      });

      it('flow hashes: one hash per unordered TCP/UDP 5-tuple (checked by an independent parser)', () => {
        const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const keyToHash = new Map<string, number>();
        const hashToKey = new Map<number, string>();
        let off = 24;
        for (let i = 0; i < p.count; i++) {
          const cap = dv.getUint32(off + 8, true);
          const f = off + 16;
          off = f + cap;
          expect(dv.getUint16(f + 12)).toBe(0x0800);
          const ihl = (bytes[f + 14]! & 15) * 4;
          const proto = bytes[f + 23]!;
          const a = `${bytes.subarray(f + 26, f + 30).join('.')}:${dv.getUint16(f + 14 + ihl)}`;
          const b = `${bytes.subarray(f + 30, f + 34).join('.')}:${dv.getUint16(f + 14 + ihl + 2)}`;
          const key = `${proto} ${[a, b].sort().join(' ')}`;
          const h = p.flowHash[i]!;
          expect(p.l4[i]).toBe(proto);
          expect(h).not.toBe(0);
          expect(keyToHash.get(key) ?? h).toBe(h);
          expect(hashToKey.get(h) ?? key).toBe(key);
          keyToHash.set(key, h);
          hashToKey.set(h, key);
        }
        expect(off).toBe(bytes.length);
        expect(keyToHash.size).toBeGreaterThan(1);
      });
    });
  }
});

// =====================================================================================
// 2. Synthetic files

const A4 = [10, 0, 0, 1], B4 = [10, 0, 0, 2];
const A6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const B6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const tcp4: FlowSpec = { src: A4, dst: B4, proto: 6, sport: 40000, dport: 5201, payload: 100 };
const udp6: FlowSpec = { src: A6, dst: B6, proto: 17, sport: 5353, dport: 53, payload: 30 };
const udp6big: FlowSpec = { ...udp6, payload: 200 };
const T = 1795317689; // 2026-11-22

describe('detectCaptureFormat', () => {
  it('knows the four pcap magics and the pcapng SHB, and nothing else', () => {
    expect(detectCaptureFormat(Uint8Array.from([0xd4, 0xc3, 0xb2, 0xa1]))).toBe('pcap');
    expect(detectCaptureFormat(Uint8Array.from([0xa1, 0xb2, 0xc3, 0xd4]))).toBe('pcap');
    expect(detectCaptureFormat(Uint8Array.from([0x4d, 0x3c, 0xb2, 0xa1]))).toBe('pcap');
    expect(detectCaptureFormat(Uint8Array.from([0xa1, 0xb2, 0x3c, 0x4d]))).toBe('pcap');
    expect(detectCaptureFormat(Uint8Array.from([0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0]))).toBe('pcapng');
    expect(detectCaptureFormat(Uint8Array.from([0xd4, 0xc3, 0xb2]))).toBeNull();
    expect(detectCaptureFormat(Uint8Array.from([0x1f, 0x8b, 8, 0]))).toBeNull();
    expect(detectCaptureFormat(Uint8Array.from([0xa1, 0xb2, 0xcd, 0x34]))).toBeNull();
    expect(detectCaptureFormat(new TextEncoder().encode('time,addr\n'))).toBeNull();
  });
});

describe('pcap (synthetic)', () => {
  const frames = [ethFrame(tcp4), ethFrame({ ...tcp4, src: B4, dst: A4, sport: 5201, dport: 40000 }), ethFrame(udp6)];
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      it(`${le ? 'little' : 'big'}-endian, ${nano ? 'nano' : 'micro'}second magic`, () => {
        const mul = nano ? 1 : 1000;
        const fr = nano ? [999_999_999, 5, 7] : [999_999, 5, 7];
        const w = writePcap({
          le, nano, linkType: 1, snapLen: 96,
          packets: [
            { sec: T, frac: fr[0]!, data: frames[0]! },
            { sec: T + 1, frac: fr[1]!, data: frames[1]! },
            { sec: T + 1, frac: fr[2]!, data: frames[2]!, origLen: 1514 },
          ],
        });
        const bytes = w.bytes;
        expect(bytes[0]).toBe(le ? (nano ? 0x4d : 0xd4) : 0xa1);
        const r = parseCapture(bytes, 'syn.pcap');
        expect(r.format).toBe('pcap');
        expect(r.interfaces).toEqual([{ linkType: 1, snapLen: 96, name: '', tsResolNs: mul }]);
        expect(r.t0Sec).toBe(T);
        expect(r.t0Ns).toBe(fr[0]! * mul);
        expect(Array.from(r.packets.tsNs)).toEqual([0, 1e9 + (fr[1]! - fr[0]!) * mul, 1e9 + (fr[2]! - fr[0]!) * mul]);
        expect(Array.from(r.packets.capLen)).toEqual(frames.map((f) => Math.min(96, f.length)));
        expect(Array.from(r.packets.origLen)).toEqual([frames[0]!.length, frames[1]!.length, 1514]);
        expect(Array.from(r.packets.l4)).toEqual([6, 6, 17]);
        expect(Array.from(r.packets.iface)).toEqual([0, 0, 0]);
        expect(Array.from(r.packets.dir)).toEqual([0, 0, 0]);
        expect(r.packets.flowHash[0]).toBe(r.packets.flowHash[1]);
        expect(r.packets.flowHash[0]).not.toBe(r.packets.flowHash[2]);
        expect(r.packets.flowHash[2]).not.toBe(0);
        expect(r.warnings).toEqual([]);
        expectExactColumns(r);
      });
    }
  }

  it('raw IP link types 101, 228 (IPv4) and 229 (IPv6) hash like Ethernet', () => {
    const ip4 = ipPacket(tcp4), ip6 = ipPacket(udp6);
    const eth = parseCapture(writePcap({ le: true, nano: false, linkType: 1, snapLen: 0, packets: [{ sec: T, frac: 0, data: ethFrame(tcp4) }, { sec: T, frac: 1, data: ethFrame(udp6) }] }).bytes, 'eth.pcap');
    const raw = parseCapture(writePcap({ le: true, nano: false, linkType: 101, snapLen: 0, packets: [{ sec: T, frac: 0, data: ip4 }, { sec: T, frac: 1, data: ip6 }] }).bytes, 'raw.pcap');
    const r228 = parseCapture(writePcap({ le: false, nano: false, linkType: 228, snapLen: 65535, packets: [{ sec: T, frac: 0, data: ip4 }] }).bytes, 'v4.pcap');
    const r229 = parseCapture(writePcap({ le: false, nano: false, linkType: 229, snapLen: 65535, packets: [{ sec: T, frac: 0, data: ip6 }] }).bytes, 'v6.pcap');
    expect(raw.interfaces[0]!.linkType).toBe(101);
    expect(Array.from(raw.packets.flowHash)).toEqual(Array.from(eth.packets.flowHash));
    expect(Array.from(raw.packets.l4)).toEqual([6, 17]);
    expect(r228.packets.flowHash[0]).toBe(eth.packets.flowHash[0]);
    expect(r229.packets.flowHash[0]).toBe(eth.packets.flowHash[1]);
    expect(raw.packets.origLen[0]).toBe(ip4.length);
  });

  it('Linux cooked SLL (113) and SLL2 (276): flow hash and direction from the packet type', () => {
    const ip = ipPacket(tcp4);
    for (const [lt, wrap] of [[113, sll], [276, sll2]] as const) {
      const r = parseCapture(writePcap({
        le: true, nano: false, linkType: lt, snapLen: 262144,
        packets: [0, 4, 3, 1].map((t, k) => ({ sec: T, frac: k, data: wrap(ip, t) })),
      }).bytes, 'sll.pcap');
      expect(Array.from(r.packets.dir)).toEqual([1, 2, 1, 1]);
      expect(new Set(r.packets.flowHash)).toEqual(new Set([flowHashOf(ethFrame(tcp4), 1).flowHash]));
    }
  });

  it('VLAN tags (802.1Q, 802.1ad, stacked) are skipped to find the IP header', () => {
    const plain = flowHashOf(ethFrame(tcp4), 1);
    expect(flowHashOf(ethFrame({ ...tcp4, vlan: [0x8100] }), 1)).toEqual(plain);
    expect(flowHashOf(ethFrame({ ...tcp4, vlan: [0x88a8, 0x8100] }), 1)).toEqual(plain);
    expect(flowHashOf(ethFrame({ ...udp6, vlan: [0x8100] }), 1)).toEqual(flowHashOf(ethFrame(udp6), 1));
  });

  it('LinkType comes from the low 16 bits; an FCS indication is reported as a warning', () => {
    const r = parseCapture(writePcap({ le: true, nano: false, linkType: 1, snapLen: 128, ltExtra: (2 << 28) | (1 << 26), packets: [{ sec: T, frac: 0, data: ethFrame(tcp4) }] }).bytes, 'fcs.pcap');
    expect(r.interfaces[0]!.linkType).toBe(1);
    expect(r.packets.l4[0]).toBe(6);
    expect(r.warnings.join()).toMatch(/4-byte FCS/);
  });

  it('reads a view that does not start at offset 0 of its buffer (pooled Node Buffers)', () => {
    const w = writePcap({ le: false, nano: true, linkType: 1, snapLen: 0, packets: [{ sec: T, frac: 1, data: ethFrame(tcp4) }, { sec: T, frac: 2, data: ethFrame(udp6) }] }).bytes;
    const host = new Uint8Array(w.length + 7);
    host.set(w, 3);
    const r = parseCapture(host.subarray(3, 3 + w.length), 'view.pcap');
    expect(Array.from(r.packets.tsNs)).toEqual([0, 1]);
    expect(Array.from(r.packets.l4)).toEqual([6, 17]);
  });

  it('an empty capture (header only) has no packets', () => {
    const r = parseCapture(writePcap({ le: true, nano: false, linkType: 1, snapLen: 128, packets: [] }).bytes, 'empty.pcap');
    expect(r.packets.count).toBe(0);
    expect(r.t0Sec).toBe(0);
    expectExactColumns(r);
  });

  it('grows its columns past the first guess (many tiny records)', () => {
    const data = Uint8Array.from([0x45]);
    const packets = Array.from({ length: 5000 }, (_, k) => ({ sec: T + Math.floor(k / 1000), frac: (k % 1000) * 1000, data }));
    const r = parseCapture(writePcap({ le: true, nano: false, linkType: 101, snapLen: 64, packets }).bytes, 'tiny.pcap');
    expect(r.packets.count).toBe(5000);
    expect(r.packets.tsNs[4999]).toBe(4 * 1e9 + 999 * 1e6);
    expect(r.packets.flowHash[0]).toBe(0); // one byte: not a parseable IP header
    expectExactColumns(r);
  });
});

// ---------------------------------------------------------------- pcapng builder used by several tests

interface NgFixture extends Written {
  /** for each block: is it a packet block */
  isPacket: boolean[];
}

function twoSectionPcapng(): NgFixture {
  const f0 = ethFrame(tcp4), f1 = ethFrame({ ...tcp4, src: B4, dst: A4, sport: 5201, dport: 40000 }), f2 = ethFrame(udp6big);
  const raw = ipPacket({ ...tcp4, payload: 200 });
  const blocks: [Uint8Array, boolean][] = [
    [ng.shb(true), false],
    [ng.idb(true, 1, 0, { name: 'eth0' }), false], // default if_tsresol: µs
    [ng.idb(true, 1, 1500, { name: 'eth1', tsresol: 9 }), false], // ns
    [ng.idb(true, 1, 96, { name: 'tap2', tsresol: 0x80 | 20 }), false], // 2^-20 s
    [ng.nrb(true), false],
    [ng.epb(true, 0, BigInt(T) * 1_000_000n + 250_000n, f0, { flags: 1 }), true],
    [ng.epb(true, 1, BigInt(T) * 1_000_000_000n + 250_000_123n, f1, { flags: 2 }), true],
    [ng.custom(true, 0x00000bad, 32473, [1, 2, 3, 4, 5]), false],
    [ng.epb(true, 2, (BigInt(T) << 20n) + 2048n * 200n, f2.subarray(0, 96), { origLen: f2.length }), true],
    [ng.pb(true, 0, BigInt(T) * 1_000_000n + 250_010n, f0, { flags: 2 }), true],
    [ng.isb(true, 0, BigInt(T) * 1_000_000n + 300_000n), false],
    [ng.custom(true, 0x00000042, 0, [9, 9, 9, 9]), false], // unknown block type
    // section 2, big-endian, its own interface numbering
    [ng.shb(false), false],
    [ng.idb(false, 101, 64, { name: 'raw0', tsresol: 3, tsoffset: 7n }), false], // ms + 7 s offset
    [ng.spb(false, raw, raw.length, 64), true],
    [ng.epb(false, 0, BigInt(T - 7) * 1000n + 1500n, raw.subarray(0, 64), { origLen: raw.length }), true],
    [ng.spb(false, raw.subarray(0, 40), 40, 64), true],
  ];
  const w = joinBlocks(blocks.map((b) => b[0]));
  return { ...w, isPacket: blocks.map((b) => b[1]) };
}

describe('pcapng (synthetic)', () => {
  it('two sections with opposite byte orders, several IDBs and if_tsresol forms, EPB/PB/SPB, skipped NRB/ISB/custom', () => {
    const fx = twoSectionPcapng();
    expect(detectCaptureFormat(fx.bytes)).toBe('pcapng');
    const r = parseCapture(fx.bytes, 'syn.pcapng');
    expect(r.format).toBe('pcapng');
    expect(r.partial).toBe(false);
    expect(r.interfaces).toEqual([
      { linkType: 1, snapLen: 0, name: 'eth0', tsResolNs: 1000 },
      { linkType: 1, snapLen: 1500, name: 'eth1', tsResolNs: 1 },
      { linkType: 1, snapLen: 96, name: 'tap2', tsResolNs: 1e9 / 2 ** 20 },
      { linkType: 101, snapLen: 64, name: 'raw0', tsResolNs: 1e6 },
    ]);
    const p = r.packets;
    expect(p.count).toBe(7);
    expectExactColumns(r);
    expect(r.t0Sec).toBe(T);
    expect(r.t0Ns).toBe(250_000_000);
    // µs, ns (+123), 2^-20 (2048*200 ticks = 390.625 ms), PB µs, SPB (previous time), ms + tsoffset, SPB
    expect(Array.from(p.tsNs)).toEqual([0, 123, 140_625_000, 10_000, 10_000, 1_250_000_000, 1_250_000_000]);
    expect(Array.from(p.iface)).toEqual([0, 1, 2, 0, 3, 3, 3]);
    expect(Array.from(p.dir)).toEqual([1, 2, 0, 2, 0, 0, 0]);
    expect(Array.from(p.l4)).toEqual([6, 6, 17, 6, 6, 6, 6]);
    const raw = ipPacket({ ...tcp4, payload: 200 });
    expect(Array.from(p.capLen)).toEqual([ethFrame(tcp4).length, ethFrame(tcp4).length, 96, ethFrame(tcp4).length, 64, 64, 40]);
    expect(Array.from(p.origLen)).toEqual([ethFrame(tcp4).length, ethFrame(tcp4).length, ethFrame(udp6big).length, ethFrame(tcp4).length, raw.length, raw.length, 40]);
    expect(p.flowHash[0]).toBe(p.flowHash[1]); // both directions of one flow
    expect(p.flowHash[4]).toBe(p.flowHash[0]); // raw IP, same 5-tuple
    expect(p.flowHash[2]).not.toBe(p.flowHash[0]);
    expect(r.warnings.join('\n')).toMatch(/2 Simple Packet Block\(s\) carry no timestamp/);
    expect(r.warnings.join('\n')).toMatch(/unknown type \(0x00000042\)/);
    expect(r.warnings.every((w) => w.startsWith('syn.pcapng: '))).toBe(true);
  });

  it('if_tsresol base 10 beyond ns (ps) and exactness of absolute ns timestamps', () => {
    const le = false;
    const bytes = concat([
      // picoseconds since 1970 overflow 64 bits after 213 days: such interfaces need if_tsoffset
      ng.shb(le), ng.idb(le, 1, 0, { tsresol: 12, tsoffset: 1_795_317_689n }), ng.idb(le, 1, 0, { tsresol: 9 }),
      ng.epb(le, 1, 1_795_317_689_123_456_789n, ethFrame(tcp4)),
      ng.epb(le, 0, 123_456_790_500n, ethFrame(tcp4)),
      ng.epb(le, 1, 1_795_317_689_123_456_789n + 3_600_000_000_000n, ethFrame(tcp4)),
    ]);
    const r = parseCapture(bytes, 'ps.pcapng');
    expect(r.t0Sec).toBe(1_795_317_689);
    expect(r.t0Ns).toBe(123_456_789);
    expect(r.interfaces[0]!.tsResolNs).toBeCloseTo(0.001, 15);
    expect(r.packets.tsNs[0]).toBe(0);
    expect(r.packets.tsNs[1]).toBeCloseTo(1.5, 9);
    expect(r.packets.tsNs[2]).toBe(3_600_000_000_000);
  });

  it('a pcapng with no IDB and no packets is valid and empty', () => {
    const r = parseCapture(ng.shb(true), 'bare.pcapng');
    expect(r.packets.count).toBe(0);
    expect(r.interfaces).toEqual([]);
  });

  it('a custom block 0x40000BAD and unknown options inside EPBs are skipped', () => {
    const le = true;
    const bytes = concat([
      ng.shb(le), ng.idb(le, 1, 0),
      ng.custom(le, 0x40000bad, 32473, [1, 2, 3]),
      ng.epb(le, 0, 5n, ethFrame(tcp4), { extra: [{ code: 1, value: new TextEncoder().encode('a comment') }, { code: 4, value: new Uint8Array(8) }], flags: 1 }),
    ]);
    const r = parseCapture(bytes, 'opts.pcapng');
    expect(r.packets.count).toBe(1);
    expect(r.packets.dir[0]).toBe(1);
    expect(r.warnings).toEqual([]);
  });
});

// =====================================================================================
// 3. Errors: one line, file name, byte offset, a fix; never another exception type

describe('bad input', () => {
  const good = writePcap({ le: true, nano: false, linkType: 1, snapLen: 128, packets: [{ sec: T, frac: 0, data: ethFrame(tcp4) }, { sec: T, frac: 1, data: ethFrame(tcp4) }] }).bytes;

  it('empty file, not a capture, gzip, modified pcap', () => {
    expectInputError(() => parseCapture(new Uint8Array(0), 'e.pcap'), /e\.pcap at byte 0: the file is empty/);
    expectInputError(() => parseCapture(new TextEncoder().encode('hello world'), 'h.pcap'), /not a capture file \(first bytes 68 65 6c 6c 6f 20 77 6f\)/);
    expectInputError(() => parseCapture(Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0]), 'z.pcap.gz'), /gzip/, /gunzip/);
    expectInputError(() => parseCapture(Uint8Array.from([0x34, 0xcd, 0xb2, 0xa1, 2, 0, 4, 0]), 'k.pcap'), /Kuznetzov/);
  });

  it('pcap: bad version, impossible captured/original length', () => {
    const v = good.slice(); v[4] = 9;
    expectInputError(() => parseCapture(v, 'v.pcap'), /v\.pcap at byte 4: unsupported pcap version 9\.4/);
    const c = good.slice(); new DataView(c.buffer).setUint32(24 + 8, 70_000, true);
    expectInputError(() => parseCapture(c, 'c.pcap'), /c\.pcap at byte 32: packet record 1 has captured length 70000, impossible with snaplen 128/);
    const c2 = good.slice(); new DataView(c2.buffer).setUint32(16, 0, true); new DataView(c2.buffer).setUint32(24 + 8, MAX_CAPTURED_LENGTH + 1, true);
    expectInputError(() => parseCapture(c2, 'c2.pcap'), /captured length 262145/);
    const o = good.slice(); new DataView(o.buffer).setUint32(24 + 12, 0xffffffff, true);
    expectInputError(() => parseCapture(o, 'o.pcap'), /original length 4294967295/);
  });

  it('pcap: a file header cut short fails even with allowPartial', () => {
    for (let n = 4; n < 24; n++) {
      expectInputError(() => parseCapture(good.subarray(0, n), 'h.pcap', { allowPartial: true }), /inside the 24-byte pcap file header/);
    }
  });

  it('pcap: the truncation message', () => {
    const cut = good.subarray(0, good.length - 10);
    const rec = 16 + Math.min(128, ethFrame(tcp4).length);
    const e = expectInputError(() => parseCapture(cut, 'cut.pcap'));
    expect(e.message).toBe(`cut.pcap at byte ${24 + rec}: file truncated at byte ${cut.length} inside packet record 2 (header says ${rec} bytes); re-capture, or read it without --strict (allowPartial) to use the 1 complete packet(s) before it`);
    const r = parseCapture(cut, 'cut.pcap', { allowPartial: true });
    expect(r.partial).toBe(true);
    expect(r.packets.count).toBe(1);
    expect(r.warnings[0]).toMatch(/truncated at byte \d+ inside packet record 2; kept the 1 complete packet/);
  });

  it('pcapng: bad byte-order magic, bad block lengths, trailer mismatch, short blocks, bad interface, SPB without IDB, option overrun, version', () => {
    const le = true;
    const base = concat([ng.shb(le), ng.idb(le, 1, 0), ng.epb(le, 0, 1n, ethFrame(tcp4))]);
    const shbLen = ng.shb(le).length, idbLen = ng.idb(le, 1, 0).length;
    const epbAt = shbLen + idbLen;
    const set = (b: Uint8Array, at: number, v: number): Uint8Array => { const c = b.slice(); new DataView(c.buffer).setUint32(at, v, true); return c; };

    expectInputError(() => parseCapture(set(base, 8, 0x11223344), 'bom.pcapng'), /bom\.pcapng at byte 8: .*byte-order magic 0x44332211/);
    expectInputError(() => parseCapture(set(base, epbAt + 4, 0x41), 'len.pcapng'), new RegExp(`at byte ${epbAt + 4}: Enhanced Packet Block \\(block 3\\) has impossible length 65`));
    expectInputError(() => parseCapture(set(base, epbAt + 4, 8), 'len8.pcapng'), /impossible length 8/);
    expectInputError(() => parseCapture(set(base, base.length - 4, 999), 'tr.pcapng'), /ends with length 999 but starts with/);
    expectInputError(() => parseCapture(set(base, epbAt + 8, 5), 'if.pcapng'), /refers to interface 5 but its section describes 1/);
    expectInputError(() => parseCapture(set(base, epbAt + 20, 4000), 'cap.pcapng'), /captured length 4000, which does not fit in its \d+-byte block/);
    expectInputError(() => parseCapture(set(base, 12, 0x00000002), 'ver.pcapng'), /unsupported version 2\.0/);
    const short = concat([ng.shb(le), Uint8Array.from([6, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0])]);
    expectInputError(() => parseCapture(short, 'short.pcapng'), /is 16 bytes long, shorter than its fixed part \(32 bytes\)/);
    expectInputError(() => parseCapture(concat([ng.shb(le), ng.spb(le, ethFrame(tcp4), 80, 0)]), 'spb.pcapng'), /before any Interface Description Block/);
    const badOpt = ng.idb(le, 1, 0, { name: 'eth0' });
    new DataView(badOpt.buffer).setUint16(18, 200, true); // if_name length runs past the block
    expectInputError(() => parseCapture(concat([ng.shb(le), badOpt]), 'opt.pcapng'), /an option of Interface Description Block \(block 2\) runs past the end/);
    expectInputError(() => parseCapture(concat([ng.shb(le), ng.idb(le, 1, 0, { tsresol: 0xff })]), 'res.pcapng'), /if_tsresol 0xff/);
    // the first block of a pcapng must be its SHB, complete
    expectInputError(() => parseCapture(ng.shb(le).subarray(0, 20), 'shb.pcapng', { allowPartial: true }), /inside block 1/);
  });
});

// =====================================================================================
// 3b. Truncation at every boundary (±1..3 bytes) and random corruption

/** Expected result of cutting at `cut`: number of complete records, and whether the cut is clean. */
function expectCut(bytes: Uint8Array, bounds: number[], countBefore: (k: number) => number, cut: number, name: string, minCut: number): void {
  const sub = bytes.subarray(0, cut);
  // k = number of records/blocks wholly inside the cut
  let k = 0;
  while (k + 1 < bounds.length && bounds[k + 1]! <= cut) k++;
  const clean = bounds.includes(cut);
  const strict = parseOrInputError(sub, name, false);
  const lenient = parseOrInputError(sub, name, true);
  if (cut < minCut) {
    expect(strict).toBeInstanceOf(InputError);
    expect(lenient).toBeInstanceOf(InputError);
    return;
  }
  if (clean) {
    expect(strict).not.toBeInstanceOf(InputError);
    expect((strict as CaptureFile).packets.count).toBe(countBefore(k));
    expect((strict as CaptureFile).partial).toBe(false);
  } else {
    expect(strict).toBeInstanceOf(InputError);
    expect((strict as InputError).message).toMatch(new RegExp(`file truncated at byte ${cut} inside`));
    expect((strict as InputError).message).toMatch(/allowPartial/);
  }
  expect(lenient).not.toBeInstanceOf(InputError);
  const lr = lenient as CaptureFile;
  expect(lr.packets.count).toBe(countBefore(k));
  expect(lr.partial).toBe(!clean);
  expectExactColumns(lr);
}

describe('truncation', () => {
  const small = realFiles.find((f) => f.startsWith('http')) ?? realFiles[0];
  const big = realFiles.find((f) => f.startsWith('tcp_iperf3')) ?? realFiles[realFiles.length - 1];

  function pcapBounds(bytes: Uint8Array): number[] {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = bytes[0] === 0xd4 || bytes[0] === 0x4d;
    const b = [24];
    for (let o = 24; o < bytes.length;) { o += 16 + dv.getUint32(o + 8, le); b.push(o); }
    expect(b[b.length - 1]).toBe(bytes.length);
    return b;
  }

  it.runIf(small !== undefined)('the small real pcap cut at every record boundary and boundary ±1..3', () => {
    const bytes = new Uint8Array(readFileSync(capturePath(small!)));
    const bounds = pcapBounds(bytes);
    const cuts = new Set<number>();
    for (const b of bounds) for (let d = -3; d <= 3; d++) if (b + d > 0 && b + d <= bytes.length) cuts.add(b + d);
    for (let c = 1; c < 24; c++) cuts.add(c);
    for (const cut of cuts) expectCut(bytes, bounds, (k) => k, cut, small!, 24);
    expect(cuts.size).toBeGreaterThan(7000);
  });

  it.runIf(big !== undefined)('the big real pcap cut at ~200 sampled boundaries ±0..3', () => {
    const bytes = new Uint8Array(readFileSync(capturePath(big!)));
    const bounds = pcapBounds(bytes);
    const rnd = prng(0xb16);
    for (let s = 0; s < 200; s++) {
      const b = bounds[Math.floor(rnd() * bounds.length)]!;
      const cut = Math.min(bytes.length, Math.max(1, b + Math.floor(rnd() * 7) - 3));
      expectCut(bytes, bounds, (k) => k, cut, big!, 24);
    }
  });

  it('the synthetic two-section pcapng cut at every block boundary and boundary ±1..3', () => {
    const fx = twoSectionPcapng();
    const packetsBefore = (k: number): number => fx.isPacket.slice(0, k).filter(Boolean).length;
    const firstShb = fx.bounds[1]!;
    for (const b of fx.bounds) {
      for (let d = -3; d <= 3; d++) {
        const cut = b + d;
        if (cut <= 0 || cut > fx.bytes.length) continue;
        expectCut(fx.bytes, fx.bounds, packetsBefore, cut, 'cut.pcapng', firstShb);
      }
    }
    // and every single byte offset inside the file, for good measure
    for (let cut = 1; cut <= fx.bytes.length; cut++) expectCut(fx.bytes, fx.bounds, packetsBefore, cut, 'cut.pcapng', firstShb);
  });
});

describe('random corruption never escapes as another error type', () => {
  function mutate(src: Uint8Array, bounds: number[], rnd: () => number): Uint8Array {
    const b = src.slice();
    const flips = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < flips; k++) {
      // half the time hit a record/block header (first 32 bytes after a boundary), else anywhere
      const pos = rnd() < 0.5
        ? Math.min(b.length - 1, bounds[Math.floor(rnd() * bounds.length)]! + Math.floor(rnd() * 32))
        : Math.floor(rnd() * b.length);
      const r = rnd();
      b[pos] = r < 0.3 ? 0xff : r < 0.5 ? 0 : r < 0.7 ? b[pos]! ^ (1 << Math.floor(rnd() * 8)) : Math.floor(rnd() * 256);
    }
    return b;
  }

  it.runIf(realFiles.length > 0)('200 seeded mutations of the small real pcap', () => {
    const file = realFiles.find((f) => f.startsWith('http')) ?? realFiles[0]!;
    const bytes = new Uint8Array(readFileSync(capturePath(file)));
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const bounds = [0];
    for (let o = 24; o < bytes.length;) { bounds.push(o); o += 16 + dv.getUint32(o + 8, true); }
    const rnd = prng(20261122);
    let errors = 0;
    for (let s = 0; s < 200; s++) {
      const m = mutate(bytes, bounds, rnd);
      const r1 = parseOrInputError(m, file);
      const r2 = parseOrInputError(m, file, true);
      if (r1 instanceof InputError) errors++;
      else expect(r2).not.toBeInstanceOf(InputError);
    }
    expect(errors).toBeGreaterThan(10); // the header hits must be caught
  });

  it('200 seeded mutations of the synthetic pcapng', () => {
    const fx = twoSectionPcapng();
    const rnd = prng(7);
    let errors = 0;
    for (let s = 0; s < 200; s++) {
      const m = mutate(fx.bytes, fx.bounds.slice(0, -1), rnd);
      if (parseOrInputError(m, 'mut.pcapng') instanceof InputError) errors++;
      parseOrInputError(m, 'mut.pcapng', true);
    }
    expect(errors).toBeGreaterThan(10);
  });

  it('fast-check: arbitrary bytes behind a valid magic', () => {
    const heads = [
      Uint8Array.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 1, 0, 0, 0]),
      Uint8Array.from([0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 101]),
      ng.shb(true, []).subarray(0, 28),
      concat([ng.shb(false, []), ng.idb(false, 1, 0)]),
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: heads.length - 1 }), fc.uint8Array({ maxLength: 600 }), fc.boolean(), (h, tail, partial) => {
        parseOrInputError(concat([heads[h]!, tail]), 'fuzz.bin', partial);
      }),
      { seed: 42, numRuns: 200 },
    );
    // and wholly random buffers
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => { parseOrInputError(b, 'noise.bin'); }),
      { seed: 43, numRuns: 200 },
    );
  });

  it('structured fuzz: well-formed pcapng blocks with random lengths and fields', () => {
    const rnd = prng(99);
    for (let s = 0; s < 200; s++) {
      const le = rnd() < 0.5;
      const w = new ByteWriter(le);
      const parts: Uint8Array[] = [ng.shb(le), ng.idb(le, [1, 101, 113, 276, 0][Math.floor(rnd() * 5)]!, Math.floor(rnd() * 200), { tsresol: Math.floor(rnd() * 256) })];
      for (let k = 0; k < 4; k++) {
        const len = 4 * Math.floor(rnd() * 24);
        w.len = 0;
        w.u32([1, 2, 3, 4, 5, 6, 0xbad][Math.floor(rnd() * 7)]!).u32(len);
        for (let j = 8; j < Math.max(len, 12) - 4; j += 4) w.u32(rnd() < 0.5 ? Math.floor(rnd() * 70) : Math.floor(rnd() * 2 ** 32));
        w.u32(len);
        parts.push(w.bytes());
      }
      parseOrInputError(concat(parts), 'blocks.pcapng', rnd() < 0.5);
    }
  });
});

// =====================================================================================
// 4. flow hash

describe('flowHash', () => {
  const h = (f: FlowSpec): number => flowHashOf(ethFrame(f), 1).flowHash;
  const swap = (f: FlowSpec): FlowSpec => ({ ...f, src: f.dst, dst: f.src, sport: f.dport, dport: f.sport });
  const cases: FlowSpec[] = [
    tcp4, udp6,
    { src: [192, 168, 1, 10], dst: [8, 8, 8, 8], proto: 17, sport: 51000, dport: 53 },
    { src: [127, 0, 0, 1], dst: [127, 0, 0, 1], proto: 6, sport: 8080, dport: 50123 },
    { src: A6, dst: B6, proto: 6, sport: 443, dport: 60000 },
    { src: A4, dst: B4, proto: 1 }, // ICMP: addresses + protocol
  ];

  it('is symmetric: swapping source and destination gives the same hash', () => {
    for (const f of cases) {
      expect(h(f)).not.toBe(0);
      expect(h(swap(f))).toBe(h(f));
    }
  });

  it('differs for different ports, addresses and protocols', () => {
    const seen = new Set<number>();
    for (let p = 0; p < 64; p++) seen.add(h({ ...tcp4, sport: 40000 + p }));
    for (let p = 0; p < 64; p++) seen.add(h({ ...tcp4, dport: 6000 + p }));
    seen.add(h({ ...tcp4, proto: 17 }));
    seen.add(h({ ...tcp4, src: [10, 0, 0, 3] }));
    expect(seen.size).toBe(64 + 64 + 2);
    expect(h({ ...tcp4, sport: 1, dport: 2 })).not.toBe(h({ ...tcp4, sport: 2, dport: 1 }));
  });

  it('is 0 for non-IP frames and reports the IP protocol', () => {
    const arp = concat([Uint8Array.from([255, 255, 255, 255, 255, 255, 2, 0, 0, 0, 0, 1, 0x08, 0x06]), new Uint8Array(28)]);
    expect(flowHashOf(arp, 1)).toEqual({ flowHash: 0, l4: 0 });
    expect(flowHashOf(ethFrame(tcp4), 147 /* user DLT */)).toEqual({ flowHash: 0, l4: 0 });
    expect(flowHashOf(ethFrame(udp6), 1).l4).toBe(17);
    expect(flowHashOf(ethFrame({ src: A4, dst: B4, proto: 1 }), 1).l4).toBe(1);
  });

  it('IPv4 fragments and frames cut before the ports hash by addresses only (all pieces of a datagram agree)', () => {
    const first = ethFrame({ ...tcp4, proto: 17 });
    const ipOff = 14;
    const mf = first.slice(); mf[ipOff + 6] = 0x20; // MF set, offset 0
    const later = first.slice(); later[ipOff + 6] = 0x00; later[ipOff + 7] = 0xb9; // offset 185*8
    const hm = flowHashOf(mf, 1).flowHash, hl = flowHashOf(later, 1).flowHash;
    expect(hm).toBe(hl);
    expect(hm).not.toBe(flowHashOf(first, 1).flowHash);
    expect(flowHashOf(first.subarray(0, ipOff + 20 + 2), 1).flowHash).toBe(hm);
  });

  it('walks IPv6 extension headers (hop-by-hop, fragment) to the transport header', () => {
    const base = ipPacket(udp6);
    const ext = (nextHdr: number, hdr: number[]): Uint8Array => {
      const w = new ByteWriter(false);
      w.raw(base.subarray(0, 6)).u8(nextHdr).raw(base.subarray(7, 40)).raw(hdr).raw(base.subarray(40));
      return ethernet(w.bytes());
    };
    const hbh = ext(0, [17, 0, 1, 4, 0, 0, 0, 0]);
    expect(flowHashOf(hbh, 1)).toEqual(flowHashOf(ethFrame(udp6), 1));
    const atomicFrag = ext(44, [17, 0, 0, 0, 0, 0, 0, 1]); // offset 0, M=0: not really fragmented
    expect(flowHashOf(atomicFrag, 1)).toEqual(flowHashOf(ethFrame(udp6), 1));
    const realFrag = ext(44, [17, 0, 0, 1, 0, 0, 0, 1]); // M=1
    expect(flowHashOf(realFrag, 1).l4).toBe(17);
    expect(flowHashOf(realFrag, 1).flowHash).not.toBe(flowHashOf(ethFrame(udp6), 1).flowHash);
  });

  it('is a fixed function (a change would re-map every trace to other RSS queues)', () => {
    expect(h(tcp4)).toBe(3987958048);
    expect(h(udp6)).toBe(3121908613);
  });
});
