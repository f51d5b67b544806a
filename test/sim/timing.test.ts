import { describe, it, expect } from 'vitest';
import { buildConfig, pcieSpec } from '../../src/config/config.js';
import { TimedSystem } from '../../src/sim/system.js';
import { PcieLinkTiming } from '../../src/pcie/port.js';
import { dmaReadWire, bytesPerNs } from '../../src/pcie/link.js';
import { parseCsvTrace, CSV_HEADER } from '../../src/trace/importers/csv.js';
import { runTrace, summarizeTrace } from '../../src/run/run.js';
import { runTimedTrace } from '../../src/run/timed.js';

const enc = (s: string) => new TextEncoder().encode(s);
const trace = (lines: string[]) => parseCsvTrace(enc([CSV_HEADER, ...lines].join('\n') + '\n'), 't.csv');

/** Run a CSV trace with timing, one request in flight, and return per-request latencies (ps). */
function latencies(lines: string[], settings: Array<[string, string | number | boolean]> = []) {
  const cfg = buildConfig([['device.dmaEngine.maxInFlight', 1], ...settings]);
  const t = trace(lines);
  const sys = new TimedSystem(cfg, t.devices, undefined, { recordLatencies: true });
  sys.runTrace(t);
  return { lat: sys.latencies!, sys, cfg };
}

// Hand computation of the platform defaults (broadwell-gen3x8):
const cfg0 = buildConfig([]);
const spec = pcieSpec(cfg0);
const psPerByte = 1000 / bytesPerNs(spec); // Gen3 x8: 8 GT/s × 8 × 128/130 × (1 − 4/1538 SKP) / 8 bits
const wire = new Float64Array(6);
dmaReadWire(spec, 2 ** 32, 64, wire); // a 64 B read above 4 GiB: one MRd up, one completion down
const UP = Math.round(wire[0] * psPerByte);
const DOWN = Math.round(wire[1] * psPerByte);
const LINK = 115_000, DEV = 32_000, RC = 252_000, LLC = 16_000;
/** A miss: the pipelined fixed latency (iommu.walker.latencyNs), then the walk stage: its step and one LLC read per level (memory.pageTables = llc). */
const MISS_FIXED = 184_000, STEP = 33_000, WALK_READ = LLC;
const DEVICE_PERIOD = Math.round(1e12 / 1.2e9); // 833 ps: requests issue on device-clock edges
const IOMMU_PERIOD = Math.round(1e12 / 2.4e9); // 417 ps
const align = (t: number, p: number) => Math.ceil(t / p) * p;
/** Latency of a 64 B read with no translation, admitted at a device-clock edge. */
const BASE = DEV + UP + LINK + RC + LLC + DOWN + LINK;

describe('timing: hand-computed latencies', () => {
  it('one MPS-sized TLP: serialization of 256 B + 24 B of header and framing on Gen3 x8', () => {
    const link = new PcieLinkTiming(spec);
    expect(bytesPerNs(spec)).toBeCloseTo((8 * 8 * (128 / 130) * (1 - 4 / 1538)) / 8, 12);
    const arrive = link.sendUp(0, 280, 1);
    expect(arrive).toBe(Math.round(280 * psPerByte) + LINK);
    expect(Math.round(280 * psPerByte)).toBe(35_640); // 35.64 ns
    // a second TLP queues behind the first
    expect(link.sendUp(0, 280, 1)).toBe(2 * 35_640 + LINK);
  });

  it('one 64 B DMA read without an IOMMU: device + link + root complex + LLC + link', () => {
    const { lat } = latencies(['0,03:00.0,,dma,0x100000000,64,read,'], [['iommu.mode', 'off']]);
    expect(lat).toEqual([BASE]);
    expect(BASE / 1000).toBeCloseTo(546, -1); // within 10 ns of pcie-bench's 546 ns median
  });

  it('with the IOMMU: an IOTLB hit adds the context and IOTLB lookup cycles; a miss adds the PWC probe, the fixed miss latency, the walk step and 4 page-table reads', () => {
    const A = '0x100000000', B = '0x8100000000'; // B: another 512 GiB region, so no paging-structure cache hit
    const { lat } = latencies([
      `0,03:00.0,,map,${A},4096,,0x200000000`,
      `0,03:00.0,,map,${B},4096,,0x300000000`,
      `0,03:00.0,,dma,${A},64,read,`, // cold: context miss and a walk
      `100000,03:00.0,,dma,${A},64,read,`, // IOTLB hit
      `200000,03:00.0,,dma,${B},64,read,`, // IOTLB miss, walk of 4 reads
    ], [['iommu.mode', 'strict']]);
    const arrive = (t0: number) => align(t0, DEVICE_PERIOD) + UP + LINK;
    const after = (t: number) => RC + LLC + DOWN + LINK + DEV + t;
    const hitReady = align(arrive(100_000_000), IOMMU_PERIOD) + 3 * IOMMU_PERIOD + 3 * IOMMU_PERIOD;
    expect(lat[1]).toBe(after(hitReady) - 100_000_000);
    const walkReady = align(arrive(200_000_000), IOMMU_PERIOD) + (3 + 3 + 4) * IOMMU_PERIOD + MISS_FIXED + STEP + 4 * WALK_READ;
    expect(lat[2]).toBe(after(walkReady) - 200_000_000);
    // 282.7 ns (alignment aside): inside pcie-bench's 226–293 ns per miss
    const miss = lat[2] - lat[1] - (align(arrive(200_000_000), IOMMU_PERIOD) - 200_000_000) + (align(arrive(100_000_000), IOMMU_PERIOD) - 100_000_000);
    expect(miss).toBe(4 * IOMMU_PERIOD + MISS_FIXED + STEP + 4 * WALK_READ);
    expect(miss).toBe(282_668);
  });

  it('walk stage: with one slot the second of two simultaneous misses waits for the first walk\'s step and reads, not its fixed latency', () => {
    const lines = [
      '0,03:00.0,,map,0x100000000,4096,,0x200000000',
      '0,03:00.0,,map,0x8100000000,4096,,0x300000000',
      '0,03:00.0,,map,0x10100000000,4096,,0x400000000',
      '0,03:00.0,,dma,0x10100000000,64,read,', // warms the context cache
      '100000,03:00.0,,dma,0x100000000,64,read,',
      '100000,03:00.0,,dma,0x8100000000,64,read,',
    ];
    const one = latencies(lines, [['iommu.mode', 'strict'], ['iommu.walker.slots', 1], ['device.dmaEngine.maxInFlight', 2]]);
    const two = latencies(lines, [['iommu.mode', 'strict'], ['iommu.walker.slots', 2], ['device.dmaEngine.maxInFlight', 2]]);
    const stage = STEP + 4 * WALK_READ; // 97 ns: the fixed latency overlaps
    expect(one.lat[2] - one.lat[1]).toBe(stage);
    expect(one.sys.metrics().iommuTiming.walkerWaitNs).toBeGreaterThan(0);
    expect(two.sys.metrics().iommuTiming.walkerWaitNs).toBe(0);
    // with two walkers both walks overlap; the second completion only queues behind the first on the link
    expect(two.lat[2] - two.lat[1]).toBe(DOWN);
  });

  it('an invalidation delays a DMA that needs the entries it drops until it completes', () => {
    const base = [
      '0,03:00.0,,map,0x100000000,4096,,0x200000000',
      '0,03:00.0,,map,0x100001000,4096,,0x200001000',
      '0,03:00.0,,dma,0x100000000,64,read,',
    ];
    // an explicit page-selective invalidation of A's page (as after a permission change)
    const withInv = latencies([...base, '100000,03:00.0,,inv,0x100000000,4096,,', '100001,03:00.0,,dma,0x100000000,64,read,'], [['iommu.mode', 'strict']]);
    const without = latencies([...base, '100001,03:00.0,,dma,0x100000000,64,read,'], [['iommu.mode', 'strict']]);
    // a DMA to another page is not held up by it
    const other = latencies([...base, '100000,03:00.0,,inv,0x100000000,4096,,', '100001,03:00.0,,dma,0x100001000,64,read,'], [['iommu.mode', 'strict']]);
    const arrival = align(100_001_000, DEVICE_PERIOD) + UP + LINK;
    const invDone = 100_000_000 + 2 * 70_000; // a page-selective invalidation and a wait descriptor
    // the invalidation also dropped A's IOTLB entry and (IH = 0, domain scope) the domain's
    // paging-structure caches: after the wait, A walks again, all 4 levels
    expect(withInv.lat[1] - without.lat[1]).toBe(invDone - align(arrival, IOMMU_PERIOD) + (4 * IOMMU_PERIOD + MISS_FIXED + STEP + 4 * WALK_READ));
    expect(withInv.sys.metrics().iommuTiming.invalidationStalls).toBe(1);
    expect(without.sys.metrics().iommuTiming.invalidationStalls).toBe(0);
    expect(other.sys.metrics().iommuTiming.invalidationStalls).toBe(0);
  });
});

describe('timing: the functional counts are unchanged when requests never overlap', () => {
  it('same IOTLB, PWC, walk, context, invalidation and fault counts as the functional run', () => {
    const lines: string[] = [];
    let t = 0;
    for (let k = 0; k < 40; k++) lines.push(`0,03:00.0,,map,0x${(0x100000 + k * 0x1000).toString(16)},4096,,0x${(0x7000000 + k * 0x1000).toString(16)}`);
    for (let i = 0; i < 400; i++) {
      t += 20_000; // 20 µs apart: each request is done long before the next
      const k = (i * 7) % 45; // some pages unmapped → faults
      lines.push(`${t},03:00.0,,dma,0x${(0x100000 + k * 0x1000 + 100).toString(16)},1000,${i % 3 ? 'write' : 'read'},`);
      if (i % 50 === 49) { t += 20_000; lines.push(`${t},03:00.0,,unmap,0x${(0x100000 + (i % 40) * 0x1000).toString(16)},4096,,`); }
    }
    for (const mode of ['strict', 'lazy'] as const) {
      const cfg = buildConfig([['iommu.mode', mode], ['iommu.iotlb.entries', 16]]);
      const tr = trace(lines);
      const w = summarizeTrace(tr, 't', 't.csv', 'csv');
      const f = runTrace(tr, cfg, w).metrics;
      const s = runTimedTrace(tr, cfg, w).metrics;
      const pick = (m: typeof f) => ({ iotlb: [m.iotlb.lookups, m.iotlb.hits, m.iotlb.misses], pwc: m.pwc, walks: [m.walks.count, m.walks.memReads], ctx: m.contextCache, inv: m.invalidations, faults: m.faults.byReason, dropped: m.dma.dropped, pieces: m.dma.pieces });
      expect(pick(s)).toEqual(pick(f));
      expect(s.iotlb.mergedMisses).toBe(0);
      expect(f.faults.count).toBeGreaterThan(0);
    }
  });
});
