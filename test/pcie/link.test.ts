import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InputError } from '../../src/util/errors.js';
import {
  PCIE_DEFAULTS,
  PCIE_LANES,
  PCIE_SIZES,
  WIRE_OUT_LENGTH,
  ackLatencyLimitSymbols,
  analyticBandwidthGbps,
  bytesPerNs,
  completionCount,
  dllpBytesPerTlpByte,
  dmaReadWire,
  dmaWriteWire,
  forEachCompletion,
  forEachReadRequest,
  forEachWriteTlp,
  linkBoundGbps,
  pcieModelAckLimitSymbols,
  pcieModelFcGuideSymbols,
  pcieModelTlpGbps,
  rawGbps,
  readRequestCount,
  resolvePcieSpec,
  tlpOverheadBytes,
  tlpWireBytes,
  validatePcieSpec,
  writeTlpCount,
  type PcieGen,
  type PcieLanes,
  type PcieLinkSpec,
  type PcieSizeBytes,
} from '../../src/pcie/link.js';

const G4 = 2 ** 32; // 4 GiB: at or above it, addr64 links use 4DW memory request headers
const spec = (o: Partial<PcieLinkSpec> = {}): PcieLinkSpec => ({ ...PCIE_DEFAULTS, ...o });
const out = new Float64Array(WIRE_OUT_LENGTH);
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(b));

describe('link rates', () => {
  it('Gen3 x8: 8 GT/s x 8 lanes x 128/130 = 63.015 Gb/s per direction', () => {
    expect(rawGbps(spec())).toBeCloseTo((8 * 8 * 128) / 130, 12);
    expect(rawGbps(spec())).toBeCloseTo(63.0154, 4);
  });

  it('published 62.96 Gb/s is 8 lanes x 7.87 Gb/s (per-lane rate rounded down first)', () => {
    const perLane = rawGbps(spec({ lanes: 1 }));
    expect(perLane).toBeCloseTo(7.8769, 4);
    expect((Math.floor(perLane * 100) / 100) * 8).toBeCloseTo(62.96, 10);
    expect(rel(rawGbps(spec()), 62.96)).toBeLessThan(0.001); // 0.09 %
  });

  it('encodings per generation', () => {
    expect(rawGbps(spec({ gen: 1, lanes: 1 }))).toBeCloseTo(2.0, 12); // 2.5 x 8/10
    expect(rawGbps(spec({ gen: 2, lanes: 4 }))).toBeCloseTo(16.0, 12); // 5 x 4 x 8/10
    expect(rawGbps(spec({ gen: 4, lanes: 16 }))).toBeCloseTo((16 * 16 * 128) / 130, 10);
    expect(rawGbps(spec({ gen: 5, lanes: 32 }))).toBeCloseTo((32 * 32 * 128) / 130, 10);
    expect(rawGbps(spec({ gen: 6, lanes: 16 }))).toBe(1024); // 64 GT/s, 1b/1b PAM4
    expect(rawGbps(spec({ gen: 3, lanes: 12 }))).toBeCloseTo((8 * 12 * 128) / 130, 10);
  });

  it('bytesPerNs = raw / 8 less SKP ordered sets (4 symbols per 1538)', () => {
    expect(bytesPerNs(spec())).toBeCloseTo((63.01538461538462 / 8) * (1 - 4 / 1538), 12);
    expect(bytesPerNs(spec())).toBeCloseTo(7.8564, 4);
  });
});

describe('TLP sizes', () => {
  it('Gen1-5: 8 B framing/seq/LCRC + 3DW or 4DW header (+4 B ECRC)', () => {
    const s = spec();
    expect(tlpOverheadBytes(s, 'mwr')).toBe(24); // 8 + 16 (4DW, 64-bit address)
    expect(tlpOverheadBytes(s, 'mrd')).toBe(24);
    expect(tlpOverheadBytes(s, 'cpl')).toBe(20); // 8 + 12
    expect(tlpOverheadBytes(s, 'mwr', 0, 0x2000)).toBe(20); // below 4 GiB the spec requires 3DW
    expect(tlpOverheadBytes(spec({ addr64: false }), 'mwr')).toBe(20);
    expect(tlpOverheadBytes(spec({ ecrc: true }), 'mwr')).toBe(28);
    expect(tlpOverheadBytes(spec({ ecrc: true }), 'cpl')).toBe(24);
    expect(tlpWireBytes(s, 'mwr', 256)).toBe(280);
  });

  it('Gen6 Flit Mode: no per-TLP framing; TLP bytes expand by 256/236 (6 DLP + 8 CRC + 6 FEC)', () => {
    const s = spec({ gen: 6, lanes: 16 });
    expect(tlpOverheadBytes(s, 'mwr')).toBeCloseTo((16 * 256) / 236, 12);
    expect(tlpWireBytes(s, 'mwr', 256)).toBeCloseTo(((16 + 256) * 256) / 236, 12);
    expect(tlpOverheadBytes(s, 'mwr', 256) + 256).toBeCloseTo(tlpWireBytes(s, 'mwr', 256), 12);
    expect(dllpBytesPerTlpByte(s)).toBe(0);
  });

  it('DLLP rate: one 8 B ACK and one 8 B UpdateFC per Ack latency limit of traffic', () => {
    // Gen3 x8 MPS 256: limit 203 symbol times; 8 lanes move 8 B per symbol time.
    expect(dllpBytesPerTlpByte(spec())).toBeCloseTo((8 * 2) / 203 / 8, 15);
    expect(dllpBytesPerTlpByte(spec({ dllpAckFactor: 8, fcUpdateFactor: 8 }))).toBeCloseTo(16 / 203, 15);
  });
});

describe('hand-computed DMAs (Gen3 x8, MPS 256, MRRS 512, RCB 64)', () => {
  it('one 256 B MWr above 4 GiB: 280 B up, ACK/FC DLLPs down', () => {
    dmaWriteWire(spec(), G4, 256, out);
    expect(out[0]).toBe(280); // 8 framing + 16 header + 256 payload
    expect(out[1]).toBeCloseTo((280 * 2) / 203, 12); // 280 B = 35 symbol times on x8; 2 DLLPs per 203
    expect(out[2]).toBe(1);
    expect(out[3]).toBe(0);
    expect(out[4]).toBe(16); // posted data credits
    expect(out[5]).toBe(0);
  });

  it('the same MWr below 4 GiB uses the 3DW header: 276 B', () => {
    dmaWriteWire(spec(), 0x2000, 256, out);
    expect(out[0]).toBe(276);
  });

  it('payloads are whole DWs: 65 B -> 68 B, 4 B at offset 2 -> 8 B', () => {
    dmaWriteWire(spec(), G4, 65, out);
    expect(out[0]).toBe(68 + 24);
    expect(out[4]).toBe(5);
    dmaWriteWire(spec(), G4 + 2, 4, out);
    expect(out[0]).toBe(8 + 24);
  });

  it('2048 B read at ...1010 (16 B past a 64 B line): 4 MRd, 12 CplD split on RCB', () => {
    const a = G4 + 0x1010;
    expect(readRequestCount(spec(), a, 2048)).toBe(4); // [1010,1210) [1210,1410) [1410,1610) [1610,1810)
    // per request: 1010-1100 (240 B, ends on RCB), 1100-1200 (256 B), 1200-1210 (16 B)
    const seen: [number, number][] = [];
    forEachCompletion(spec(), a, 512, (x, n) => seen.push([x - G4, n]));
    expect(seen).toEqual([
      [0x1010, 240],
      [0x1100, 256],
      [0x1200, 16],
    ]);
    expect(completionCount(spec(), a, 2048)).toBe(12);
    dmaReadWire(spec(), a, 2048, out);
    const cpl = 12 * 20 + 2048;
    const req = 4 * 24;
    expect(out[0]).toBeCloseTo(req + (cpl * 2) / 203, 10);
    expect(out[1]).toBeCloseTo(cpl + (req * 2) / 203, 10);
    expect(out[2]).toBe(4);
    expect(out[3]).toBe(12);
    expect(out[4]).toBe(0);
    expect(out[5]).toBe(4 * (15 + 16 + 1)); // 60, 64, 4 DWs -> 15 + 16 + 1 credits per request
  });

  it('same read with RCB-sized completions (rcbChunks): 9 per request, 36 in all', () => {
    const s = spec({ rcbChunks: true });
    expect(forEachCompletion(s, G4 + 0x1010, 512, () => {})).toBe(9); // 48 + 7 x 64 + 16
    expect(completionCount(s, G4 + 0x1010, 2048)).toBe(36);
  });

  it('2048 B read 2 B past a DW boundary: first completion carries an extra DW', () => {
    const a = G4 + 0x1012;
    expect(completionCount(spec(), a, 2048)).toBe(12);
    dmaReadWire(spec(), a, 2048, out);
    // per request: 238 B (60 DW incl. the partial first), 256 B (64 DW), 18 B (5 DW) = 129 DW
    expect(out[1]).toBeCloseTo(4 * (129 * 4) + 12 * 20 + (4 * 24 * 2) / 203, 10);
  });

  it('2048 B read across a 4 KiB boundary: 5 MRd, 9 CplD', () => {
    const a = G4 + 0xf80;
    const reqs: number[] = [];
    forEachReadRequest(spec(), a, 2048, (_x, n) => reqs.push(n));
    expect(reqs).toEqual([128, 512, 512, 512, 384]);
    expect(readRequestCount(spec(), a, 2048)).toBe(5);
    expect(completionCount(spec(), a, 2048)).toBe(1 + 3 * 2 + 2);
  });

  it('writes split at 4 KiB boundaries', () => {
    const lens = (addr: number, bytes: number): number[] => {
      const l: number[] = [];
      forEachWriteTlp(spec(), addr, bytes, (_a, n) => l.push(n));
      return l;
    };
    expect(lens(0xfc0, 256)).toEqual([64, 192]);
    expect(lens(0xf00, 300)).toEqual([256, 44]);
    expect(writeTlpCount(spec(), 0x800, 4096)).toBe(16);
    expect(writeTlpCount(spec(), 0x840, 4096)).toBe(17); // 1984 = 7x256 + 192, then 2112 = 8x256 + 64
    expect(writeTlpCount(spec(), 0, 8192)).toBe(32);
  });

  it('a write straddling 4 GiB: 3DW headers below, 4DW above', () => {
    dmaWriteWire(spec(), G4 - 4096, 8192, out);
    expect(out[2]).toBe(32);
    expect(out[0]).toBe(8192 + 32 * 20 + 16 * 4);
    dmaWriteWire(spec(), G4 - 4096 - 64, 8192 + 128, out); // partial pages on both ends
    expect(out[0]).toBe(8320 + 34 * 20 + 17 * 4);
  });

  it('zero or negative sizes move nothing', () => {
    dmaReadWire(spec(), 0, 0, out);
    expect([...out]).toEqual([0, 0, 0, 0, 0, 0]);
    dmaWriteWire(spec(), 0, -5, out);
    expect([...out]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('fills only out[0..3] when given a 4-slot array', () => {
    const o4 = new Float64Array(4);
    dmaReadWire(spec(), G4, 64, o4);
    expect(o4[2]).toBe(1);
    expect(o4[3]).toBe(1);
  });

  it('Gen6 Flit Mode: 256 B MWr = (16 + 256) x 256/236 bytes, no DLLPs', () => {
    dmaWriteWire(spec({ gen: 6, lanes: 16 }), G4, 256, out);
    expect(out[0]).toBeCloseTo((272 * 256) / 236, 10);
    expect(out[1]).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// pcie-model agreement. Reference values: model/pcie.py (commit 1fe7cdef) and model/mem_bw.py
// (commit 5bb1a716) of github.com/pcie-bench/pcie-model, run with BW_Spec(TLP_bw, TLP_bw, BW_RAW)
// as pcie_bw.py does:
//   TLP_bw = Raw - Raw * (8/Ack_Limits + 8/FC_Guide + 4/1538),  Raw = GT/s * lanes * encoding
//   write  = size * TLP_bw / (ceil(size/MPS) * MWr_Hdr + size)
//   read   = size * TLP_bw / max(ceil(size/(RCB|MPS)) * CplD_Hdr + size, ceil(size/MRRS) * MRd_Hdr)
//   MWr_Hdr = MRd_Hdr = 8 + 4 + (12 | 8) (+4 ECRC), CplD_Hdr = 8 + 4 + 8 (+4)
// The numbers below were printed by those Python functions (copied, not re-derived).

interface PmPoint {
  s: Partial<PcieLinkSpec>;
  size: number;
  w: number;
  r: number;
}
const PM_POINTS: PmPoint[] = [
  { s: {}, size: 1, w: 2.3153906250692944, r: 2.411865234447182 }, // requests bind (24 B > 21 B)
  { s: {}, size: 64, w: 42.09801136489626, r: 44.10267857274847 },
  { s: {}, size: 65, w: 42.27539062626521, r: 44.26482077338357 },
  { s: {}, size: 128, w: 48.745065790932514, r: 50.06250000149826 },
  { s: {}, size: 256, w: 52.92321428729816, r: 53.69021739291117 },
  { s: {}, size: 1500, w: 52.81456717767551, r: 53.597005209937365 },
  { s: {}, size: 2048, w: 52.92321428729816, r: 53.69021739291117 },
  { s: { gen: 1, lanes: 1, mpsBytes: 128 }, size: 64, w: 1.3525653399894153, r: 1.4169732133222446 },
  { s: { gen: 1, lanes: 1, mpsBytes: 128 }, size: 1500, w: 1.560215891346851, r: 1.603256329728833 },
  { s: { gen: 2, lanes: 4, addr64: false, mpsBytes: 128, mrrsBytes: 256 }, size: 1500, w: 11.9774753338126, r: 11.9774753338126 },
  { s: { gen: 3, lanes: 16, ecrc: true, mpsBytes: 512, mrrsBytes: 1024 }, size: 65, w: 80.11310305534057, r: 83.71369195670418 },
  { s: { gen: 4, lanes: 16, mpsBytes: 512, mrrsBytes: 4096 }, size: 256, w: 209.59700632324706, r: 212.63464409604774 },
  { s: { gen: 5, lanes: 32, mpsBytes: 4096, mrrsBytes: 4096, rcbBytes: 128 }, size: 4096, w: 956.6531118788607, r: 957.582803921503 },
  { s: { gen: 5, lanes: 32, mpsBytes: 4096, mrrsBytes: 4096, rcbBytes: 128 }, size: 1500, w: 947.1048240219251, r: 949.5972051377722 },
  { s: { rcbChunks: true }, size: 65, w: 42.27539062626521, r: 35.83342634035813 },
  { s: { rcbChunks: true }, size: 2048, w: 52.92321428729816, r: 44.10267857274847 },
  { s: { gen: 6, lanes: 16 }, size: 512, w: 798.438371239263, r: 810.0099418369334 }, // pcie-model's Gen6 guess
  { s: { gen: 1, lanes: 32, mpsBytes: 2048, mrrsBytes: 2048 }, size: 2048, w: 57.63417399996569, r: 57.745652092808946 },
  { s: { gen: 2, lanes: 32, mpsBytes: 4096, mrrsBytes: 4096 }, size: 4096, w: 119.51464542805078, r: 119.63079182788367 },
];

describe('agreement with pcie-model', () => {
  it('TLP-layer bandwidth, Gen3 x8 MPS 256: 57.885 Gb/s', () => {
    expect(pcieModelTlpGbps(spec())).toBeCloseTo(57.88476562673236, 10);
  });

  it.each(PM_POINTS)('mem_bw write/read %#', ({ s, size, w, r }) => {
    expect(rel(analyticBandwidthGbps(spec(s), 'write', size), w)).toBeLessThan(1e-12);
    expect(rel(analyticBandwidthGbps(spec(s), 'read', size), r)).toBeLessThan(1e-12);
  });

  it('the spec Ack-latency formula reproduces pcie-model tables except two typos', () => {
    const lanes: PcieLanes[] = [1, 2, 4, 8, 16, 32];
    const mismatches: string[] = [];
    for (const gen of [1, 2, 3, 4, 5] as PcieGen[]) {
      for (const l of lanes) {
        for (const m of PCIE_SIZES) {
          const f = ackLatencyLimitSymbols(gen, l, m);
          if (pcieModelAckLimitSymbols(gen, l, m) !== f) mismatches.push(`ack gen${gen} x${l} ${m}`);
          if (pcieModelFcGuideSymbols(gen, l, m) !== f) mismatches.push(`fc gen${gen} x${l} ${m}`);
        }
      }
    }
    // Ack_Limits gen2 x32 4096 = 237 (formula 327, FC_Guide 327); FC_Guide gen1 x32 2048 = 248 (formula 148, Ack 148).
    expect(mismatches.sort()).toEqual(['ack gen2 x32 4096', 'fc gen1 x32 2048']);
    expect(ackLatencyLimitSymbols(3, 8, 256)).toBe(203);
    expect(ackLatencyLimitSymbols(1, 12, 128)).toBe(58); // x12: (156 x 3.0 / 12) + 19
  });

  it('for an aligned in-page write the wire bytes are pcie-model raw_bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1024 }), fc.constantFrom(...PCIE_SIZES), (dws, mps) => {
        const size = dws * 4;
        const s = spec({ mpsBytes: mps });
        dmaWriteWire(s, G4, size, out);
        const pmRaw = (size * pcieModelTlpGbps(s)) / analyticBandwidthGbps(s, 'write', size);
        return rel(out[0]!, pmRaw) < 1e-12 && out[2] === Math.ceil(size / mps);
      }),
    );
  });

  it('the wire-model bound is at or above pcie-model for Gen1-5 (DLLPs on the other direction)', () => {
    for (const size of [64, 128, 256, 512, 2048]) {
      for (const op of ['read', 'write'] as const) {
        expect(linkBoundGbps(spec(), op, size)).toBeGreaterThan(analyticBandwidthGbps(spec(), op, size));
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const arbSpec = fc.record({
  gen: fc.constantFrom<PcieGen>(1, 2, 3, 4, 5, 6),
  lanes: fc.constantFrom<PcieLanes>(...PCIE_LANES),
  mpsBytes: fc.constantFrom<PcieSizeBytes>(...PCIE_SIZES),
  mrrsBytes: fc.constantFrom<PcieSizeBytes>(...PCIE_SIZES),
  rcbBytes: fc.constantFrom<64 | 128>(64, 128),
  rcbChunks: fc.boolean(),
  addr64: fc.boolean(),
  ecrc: fc.boolean(),
});
const arbAddr = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 2 ** 28 }), fc.integer({ min: 0, max: 4095 })).map(([p, o]) => p * 4096 + o),
  fc.integer({ min: -70000, max: 70000 }).map((d) => G4 + d), // around the 3DW/4DW switch
  fc.integer({ min: 0, max: 2 ** 20 }).map((p) => p * 64), // cache-line aligned
);
const arbBytes = fc.oneof(fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 1, max: 1 << 20 }));

const hdr = (s: PcieLinkSpec, a: number): number => (s.addr64 && a >= G4 ? 16 : 12);
const inPage = (a: number, n: number): boolean => Math.floor(a / 4096) === Math.floor((a + n - 1) / 4096);
const dwSpan = (a: number, n: number): number => Math.ceil(((a % 4) + n) / 4);
/** Wire bytes of a TLP stream computed TLP by TLP (reference for the closed forms). */
const wire = (s: PcieLinkSpec, header: number, dws: number): number => {
  const tl = header + (s.ecrc ? 4 : 0) + dws * 4;
  return s.gen === 6 ? (tl * 256) / 236 : tl + 8;
};

describe('properties', () => {
  it('writes: TLPs tile the buffer, respect MPS and 4 KiB, and match the closed form', () => {
    fc.assert(
      fc.property(arbSpec, arbAddr, arbBytes, (p, addr, bytes) => {
        const s = spec(p);
        let next = addr;
        let sum = 0;
        let up = 0;
        let credits = 0;
        const n = forEachWriteTlp(s, addr, bytes, (a, len) => {
          if (a !== next || len <= 0 || len > s.mpsBytes || !inPage(a, len)) throw new Error(`bad TLP ${a}+${len}`);
          next = a + len;
          sum += len;
          up += wire(s, hdr(s, a), dwSpan(a, len));
          credits += Math.ceil(dwSpan(a, len) / 4);
        });
        expect(sum).toBe(bytes);
        dmaWriteWire(s, addr, bytes, out);
        expect(out[2]).toBe(n);
        expect(writeTlpCount(s, addr, bytes)).toBe(n);
        expect(rel(out[0]!, up)).toBeLessThan(1e-12);
        expect(rel(out[1]!, up * dllpBytesPerTlpByte(s))).toBeLessThan(1e-12);
        expect(out[4]).toBe(credits);
      }),
      { numRuns: 400 },
    );
  });

  it('reads: requests and completions tile the buffer, respect MRRS/MPS/RCB/4 KiB, match the closed form', () => {
    fc.assert(
      fc.property(arbSpec, arbAddr, arbBytes, (p, addr, bytes) => {
        const s = spec(p);
        const maxCpl = s.rcbChunks ? s.rcbBytes : s.mpsBytes;
        let next = addr;
        let sum = 0;
        let reqBytes = 0;
        let cplBytes = 0;
        let ncpl = 0;
        let credits = 0;
        const nreq = forEachReadRequest(s, addr, bytes, (a, len) => {
          if (a !== next || len <= 0 || len > s.mrrsBytes || !inPage(a, len)) throw new Error(`bad MRd ${a}+${len}`);
          next = a + len;
          sum += len;
          reqBytes += wire(s, hdr(s, a), 0);
          let cnext = a;
          const k = forEachCompletion(s, a, len, (c, clen) => {
            if (c !== cnext || clen <= 0 || clen > maxCpl) throw new Error(`bad CplD ${c}+${clen}`);
            cnext = c + clen;
            // every completion but the last ends on an RCB boundary
            if (cnext !== a + len && cnext % s.rcbBytes !== 0) throw new Error(`CplD ends off RCB at ${cnext}`);
            cplBytes += wire(s, 12, dwSpan(c, clen));
            credits += Math.ceil(dwSpan(c, clen) / 4);
          });
          if (cnext !== a + len) throw new Error('completions do not cover the request');
          ncpl += k;
        });
        expect(sum).toBe(bytes);
        dmaReadWire(s, addr, bytes, out);
        const r = dllpBytesPerTlpByte(s);
        expect(out[2]).toBe(nreq);
        expect(out[3]).toBe(ncpl);
        expect(readRequestCount(s, addr, bytes)).toBe(nreq);
        expect(completionCount(s, addr, bytes)).toBe(ncpl);
        expect(rel(out[0]!, reqBytes + cplBytes * r)).toBeLessThan(1e-12);
        expect(rel(out[1]!, cplBytes + reqBytes * r)).toBeLessThan(1e-12);
        expect(out[5]).toBe(credits);
      }),
      { numRuns: 400 },
    );
  });

  it('in one page from an aligned address, counts are pcie-model ceil(size/MPS), ceil(size/MRRS)', () => {
    fc.assert(
      fc.property(arbSpec, fc.integer({ min: 1, max: 4096 }), (p, bytes) => {
        const s = spec({ ...p, rcbChunks: false });
        // A completion never exceeds its request: with MRRS < MPS each request returns in one
        // completion, where pcie-model still counts ceil(size/MPS).
        const cpl = Math.ceil(bytes / Math.min(s.mpsBytes, s.mrrsBytes));
        return (
          writeTlpCount(s, G4, bytes) === Math.ceil(bytes / s.mpsBytes) &&
          readRequestCount(s, G4, bytes) === Math.ceil(bytes / s.mrrsBytes) &&
          completionCount(s, G4, bytes) === cpl
        );
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Validation

describe('validatePcieSpec', () => {
  const bad = (o: Record<string, unknown>, prefix = 'pcie'): string => {
    try {
      validatePcieSpec({ ...PCIE_DEFAULTS, ...o } as PcieLinkSpec, prefix);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      const m = (e as Error).message;
      expect(m).not.toContain('\n');
      return m;
    }
    throw new Error(`accepted ${JSON.stringify(o)}`);
  };

  it('accepts the defaults and every enumerated value', () => {
    expect(() => validatePcieSpec(PCIE_DEFAULTS, 'pcie')).not.toThrow();
    for (const lanes of PCIE_LANES) expect(() => validatePcieSpec(spec({ lanes }), 'pcie')).not.toThrow();
    expect(Object.isFrozen(PCIE_DEFAULTS)).toBe(true);
  });

  it('names the key, the value and the allowed values', () => {
    expect(bad({ lanes: 3 })).toBe('pcie.lanes=3: must be one of 1, 2, 4, 8, 12, 16, 32');
    expect(bad({ mpsBytes: 100 })).toBe('pcie.mpsBytes=100: must be one of 128, 256, 512, 1024, 2048, 4096');
    expect(bad({ mrrsBytes: 64 })).toBe('pcie.mrrsBytes=64: must be one of 128, 256, 512, 1024, 2048, 4096');
    expect(bad({ gen: 7 })).toBe('pcie.gen=7: must be one of 1, 2, 3, 4, 5, 6');
    expect(bad({ rcbBytes: 256 })).toBe('pcie.rcbBytes=256: must be one of 64, 128');
    expect(bad({ lanes: '8' })).toBe('pcie.lanes="8": must be one of 1, 2, 4, 8, 12, 16, 32');
    expect(bad({ addr64: 'yes' })).toBe('pcie.addr64="yes": must be true or false');
    expect(bad({ lanes: 3 }, 'devices[0].pcie')).toMatch(/^devices\[0\]\.pcie\.lanes=3: /);
  });

  it('tags, credits, factors and latency', () => {
    expect(bad({ tags: 0 })).toMatch(/^pcie\.tags=0: must be an integer from 1 to 1024; 32 with 5-bit tags/);
    expect(bad({ tags: 2048 })).toMatch(/^pcie\.tags=2048: must be an integer from 1 to 1024/);
    expect(() => validatePcieSpec(spec({ gen: 6, tags: 2048 }), 'pcie')).not.toThrow();
    expect(bad({ tags: 1.5 })).toMatch(/^pcie\.tags=1\.5: /);
    expect(bad({ phCredits: -1 })).toBe('pcie.phCredits=-1: must be a non-negative integer; 0 means infinite');
    expect(bad({ pdCredits: 8 })).toBe(
      'pcie.pdCredits=8: too few to ever send one maximum-size TLP (needs 16 data credits of 16 B for mpsBytes=256); set at least 16, or 0 for infinite',
    );
    expect(() => validatePcieSpec(spec({ pdCredits: 16, phCredits: 1 }), 'pcie')).not.toThrow();
    expect(bad({ cpldCredits: 31, mpsBytes: 512 })).toMatch(/^pcie\.cpldCredits=31: too few .* set at least 32/);
    expect(bad({ dllpAckFactor: Number.NaN })).toMatch(/^pcie\.dllpAckFactor=NaN: must be a finite number >= 0/);
    expect(bad({ fcUpdateFactor: -1 })).toMatch(/^pcie\.fcUpdateFactor=-1: /);
    expect(bad({ linkLatencyNs: -5 })).toMatch(/^pcie\.linkLatencyNs=-5: must be a finite number >= 0/);
    expect(bad({ rcbChunks: 1 })).toBe('pcie.rcbChunks=1: must be true or false');
  });

  it('rejects a non-object', () => {
    expect(() => validatePcieSpec(null as unknown as PcieLinkSpec, 'pcie')).toThrow(/^pcie=null: must be an object/);
  });

  it('resolvePcieSpec merges, validates and freezes', () => {
    const s = resolvePcieSpec({ gen: 4, lanes: 16 });
    expect(s.gen).toBe(4);
    expect(s.mpsBytes).toBe(256);
    expect(Object.isFrozen(s)).toBe(true);
    expect(() => resolvePcieSpec({ lanes: 3 as PcieLanes }, 'nic.pcie')).toThrow(/^nic\.pcie\.lanes=3: /);
  });
});
