/**
 * Shortcuts in the engine that must not change a result, each checked against the plain way on
 * random traces.
 *
 * 1. The engine handles the write pieces of one request on one page as a group (one event at the
 * root complex for all but the last piece, one completion event): this must give exactly the
 * results of an event per piece. Property test on random traces: maps, unmaps, invalidations,
 * reads and writes of any size and offset (multi-page, MPS-split), DMAs to unmapped pages (faults),
 * two functions on one bus (one link), every IOMMU mode, DDIO on and off.
 *
 * 2. The unmap gate rescans its waiting records after a completion only when the completion can
 * free one; the plain way rescans after every completion. Random overloaded traces: buffers
 * mapped, DMAed, unmapped while their DMAs are still queued, and mapped again.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { buildConfig } from '../../src/config/config.js';
import { TimedSystem } from '../../src/sim/system.js';
import { Iommu } from '../../src/iommu/iommu.js';
import { attachConfigured } from '../../src/run/functional.js';
import { TraceBuilder, OP_DMA, OP_MAP, OP_UNMAP, OP_INV, DIR_READ, DIR_WRITE, DIR_RW, SIZE_ALL, INV_IOTLB } from '../../src/trace/columns.js';

const BASE = 0x1_0000_0000;

interface Op { kind: number; dev: number; page: number; off: number; size: number; write: boolean; gap: number }

function build(ops: Op[]) {
  const b = new TraceBuilder(ops.length + 4);
  const devs = [b.deviceIndex('0000:03:00.0'), b.deviceIndex('0000:03:00.1')];
  let t = 0;
  for (const o of ops) {
    t += o.gap;
    const iova = BASE + o.page * 4096;
    const d = devs[o.dev];
    if (o.kind === 0) b.pushAddr(t, d, -1, OP_MAP, iova, 4096 * (1 + (o.size % 3)), DIR_RW, 0x2_0000_0000 + o.page * 4096);
    else if (o.kind === 1) b.pushAddr(t, d, -1, OP_UNMAP, iova, 4096, 0, 0);
    else if (o.kind === 2) b.pushAddr(t, d, -1, OP_INV, 0, SIZE_ALL, INV_IOTLB, 0);
    else b.pushAddr(t, d, -1, OP_DMA, iova + o.off, o.size, o.write ? DIR_WRITE : DIR_READ, 0);
  }
  return b.finish();
}

function run(ops: Op[], settings: Array<[string, string | number | boolean]>, groupWrites: boolean, gateRescanAlways = false) {
  const cfg = buildConfig(settings);
  const t = build(ops);
  const iommu = new Iommu(cfg);
  attachConfigured(iommu, cfg);
  const sys = new TimedSystem(cfg, t.devices, iommu, { recordLatencies: true, groupWrites, gateRescanAlways });
  sys.runTrace(t);
  const m = sys.metrics() as unknown as Record<string, unknown>;
  delete m['events'];
  return { m: JSON.stringify(m), lat: sys.latencies!, iommu: JSON.stringify(iommu.metrics()), events: sys.q.handled, gated: sys.gatedRecords };
}

const op = fc.record({
  kind: fc.integer({ min: 0, max: 9 }), // 0 map, 1 unmap, 2 inv, else DMA
  dev: fc.integer({ min: 0, max: 1 }),
  page: fc.integer({ min: 0, max: 40 }),
  off: fc.integer({ min: 0, max: 4095 }),
  size: fc.integer({ min: 1, max: 9000 }),
  write: fc.boolean(),
  gap: fc.integer({ min: 0, max: 400 }),
});

describe('timing: grouped write pieces give exactly the results of an event per piece', () => {
  for (const mode of ['off', 'strict', 'lazy']) {
    for (const ddio of [true, false]) {
      it(`iommu.mode=${mode}, DDIO ${ddio ? 'on' : 'off'}`, () => {
        const settings: Array<[string, string | number | boolean]> = [['iommu.mode', mode], ['memory.ddio', ddio], ['device.dmaEngine.maxInFlight', 8]];
        let fewer = 0;
        fc.assert(
          fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
            const a = run(ops, settings, true), b = run(ops, settings, false);
            expect(a.m).toBe(b.m);
            expect(a.lat).toEqual(b.lat);
            expect(a.iommu).toBe(b.iommu);
            if (a.events < b.events) fewer++;
          }),
          { numRuns: 60, seed: 7 },
        );
        expect(fewer).toBeGreaterThan(0); // the grouping did take place
      });
    }
  }
});

/** A buffer's life, repeated: map, a few DMAs into it, unmap soon after (often before they are done). */
const life = fc.record({
  dev: fc.integer({ min: 0, max: 1 }),
  page: fc.integer({ min: 0, max: 12 }),
  dmas: fc.array(fc.record({ off: fc.integer({ min: 0, max: 4095 }), size: fc.integer({ min: 1, max: 6000 }), write: fc.boolean() }), { minLength: 1, maxLength: 4 }),
  gap: fc.integer({ min: 0, max: 60 }),
  unmapAfter: fc.integer({ min: 0, max: 300 }),
});

function lives(ls: Array<{ dev: number; page: number; dmas: Array<{ off: number; size: number; write: boolean }>; gap: number; unmapAfter: number }>): Op[] {
  const ops: Array<Op & { t: number }> = [];
  let t = 0;
  for (const l of ls) {
    t += l.gap;
    ops.push({ kind: 0, dev: l.dev, page: l.page, off: 0, size: 1, write: false, gap: 0, t });
    for (const d of l.dmas) ops.push({ kind: 3, dev: l.dev, page: l.page, off: d.off, size: d.size, write: d.write, gap: 0, t });
    ops.push({ kind: 1, dev: l.dev, page: l.page, off: 0, size: 0, write: false, gap: 0, t: t + l.unmapAfter });
  }
  ops.sort((a, b) => a.t - b.t); // stable: a life's records stay in order
  let prev = 0;
  return ops.map((o) => { const g = o.t - prev; prev = o.t; return { ...o, gap: g }; });
}

describe('timing: the unmap gate rescans only when a completion can free a record, with the same results', () => {
  for (const mode of ['strict', 'lazy']) {
    it(`iommu.mode=${mode}`, () => {
      const settings: Array<[string, string | number | boolean]> = [['iommu.mode', mode], ['device.dmaEngine.maxInFlight', 2], ['pcie.lanes', 1]];
      let gated = 0;
      fc.assert(
        fc.property(fc.array(life, { minLength: 1, maxLength: 60 }), (ls) => {
          const ops = lives(ls);
          const a = run(ops, settings, true, false), b = run(ops, settings, true, true);
          expect(a.m).toBe(b.m);
          expect(a.lat).toEqual(b.lat);
          expect(a.iommu).toBe(b.iommu);
          gated += a.gated;
        }),
        { numRuns: 80, seed: 5 },
      );
      expect(gated).toBeGreaterThan(100); // the gate was busy
    });
  }
});
