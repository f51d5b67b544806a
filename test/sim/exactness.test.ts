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
 *
 * 3. In a closed-loop generator run the root complex's work for a piece is done when the piece is
 * issued, as of its arrival (no event at the root complex); the plain way has an event per piece
 * there. Random pciebench configurations: reads and writes of any size (MRRS / MPS splits, page
 * crossings), random and sequential, warm and cold, every IOMMU mode, small IOTLBs and few walker
 * slots (misses, merged misses, walker waits), ATS on and off, few tags, limited posted credits,
 * an issue interval, pcie-bench's contexts and data mover. Read data is sent at the root complex
 * when that is provably its downstream order, after a trial of a few reads only if that pays; with
 * its bound broken on purpose, the out-of-order check must fire. Write-then-read runs (both
 * directions: no eager root complex) group their write pieces exactly too, the read following
 * the last piece sent either way.
 *
 * 4. In trace replay with one device on one link, a piece's root-complex work is done at issue
 * when nothing can touch that state before its arrival (no map / unmap / inv due, nothing
 * waiting at the unmap gate), after the work of pieces whose root-complex events are still
 * pending (done then, in order, as of their arrivals). Random one-device traces in every IOMMU
 * mode with faults, lazy flush timeouts, small flush queues, ATS, few tags and credits.
 * (Mutation-checked: dropping either condition, the pending pieces' work first, or doing it as
 * of another time fails it.) Trace records due before every pending event are handled without
 * an event of their own: covered by every comparison here, both runs doing it.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { buildConfig, deviceSettings } from '../../src/config/config.js';
import { TimedSystem } from '../../src/sim/system.js';
import { Iommu } from '../../src/iommu/iommu.js';
import { attachConfigured } from '../../src/run/functional.js';
import { pciebenchSystem } from '../../src/run/timed.js';
import type { RequestSource } from '../../src/sim/system.js';
import { TraceBuilder, OP_DMA, OP_MAP, OP_UNMAP, OP_INV, DIR_READ, DIR_WRITE, DIR_RW, SIZE_ALL, INV_IOTLB } from '../../src/trace/columns.js';

const BASE = 0x1_0000_0000;

interface Op { kind: number; dev: number; page: number; off: number; size: number; write: boolean; gap: number }

/** The trace of ops: two functions on one bus (one link), or only the first. */
function build(ops: Op[], oneDevice = false) {
  const b = new TraceBuilder(ops.length + 4);
  const first = b.deviceIndex('0000:03:00.0');
  const devs = oneDevice ? [first, first] : [first, b.deviceIndex('0000:03:00.1')];
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
  expect(m['events']).toBeUndefined(); // the simulator's own work is not a result (it changes with speed work)
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

/** Grouped write pieces vs an event per piece on random traces: the same results; how often grouping saved events and the write buffer filled. */
function groupedExact(settings: Array<[string, string | number | boolean]>, seed: number): { fewer: number; stalls: number } {
  let fewer = 0, stalls = 0;
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 120, size: 'max' }), (ops) => {
      const a = run(ops, settings, true), b = run(ops, settings, false);
      expect(a.m).toBe(b.m);
      expect(a.lat).toEqual(b.lat);
      expect(a.iommu).toBe(b.iommu);
      if (a.events < b.events) fewer++;
      if ((JSON.parse(a.m) as { writeBuffer: { stalls: number } }).writeBuffer.stalls > 0) stalls++;
    }),
    { numRuns: 60, seed },
  );
  return { fewer, stalls };
}

describe('timing: grouped write pieces give exactly the results of an event per piece', () => {
  for (const mode of ['off', 'strict', 'lazy']) {
    for (const ddio of [true, false]) {
      it(`iommu.mode=${mode}, DDIO ${ddio ? 'on' : 'off'}`, () => {
        const { fewer } = groupedExact([['iommu.mode', mode], ['memory.ddio', ddio], ['device.dmaEngine.maxInFlight', 8]], 7);
        expect(fewer).toBeGreaterThan(0); // the grouping did take place
      });
    }
  }
  it('with a small root-port write buffer, Relaxed Ordering on one function, ID-based ordering and another remapping unit on the other', () => {
    const { fewer, stalls } = groupedExact([
      ['iommu.mode', 'strict'], ['memory.ddio', false], ['device.dmaEngine.maxInFlight', 8], ['rc.writeLines', 8],
      ['devices.0000:03:00.0.relaxedOrdering', true], ['devices.0000:03:00.1.idOrdering', true], ['devices.0000:03:00.1.drhd', 1],
    ], 11);
    expect(fewer).toBeGreaterThan(0);
    expect(stalls).toBeGreaterThan(0); // the buffer did fill
  });
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
        fc.property(fc.array(life, { minLength: 1, maxLength: 60, size: 'max' }), (ls) => {
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

describe('timing: the eager root complex of generator runs gives exactly the results of an event per piece', () => {
  const setting = fc.record({
    op: fc.constantFrom<'read' | 'write' | 'wrrd'>('read', 'write'),
    size: fc.integer({ min: 1, max: 9000 }),
    windowPages: fc.integer({ min: 1, max: 4096 }),
    pattern: fc.constantFrom('random', 'sequential'),
    cache: fc.constantFrom('warm', 'cold'),
    mode: fc.constantFrom('off', 'identity', 'strict', 'lazy'),
    superpages: fc.boolean(),
    iotlb: fc.constantFrom(4, 16, 64),
    walkers: fc.integer({ min: 1, max: 4 }),
    tags: fc.integer({ min: 1, max: 32 }),
    ph: fc.constantFrom(0, 0, 2, 8),
    mrrs: fc.constantFrom(128, 512, 4096),
    mps: fc.constantFrom(128, 256, 512),
    inFlight: fc.integer({ min: 1, max: 64 }),
    issueNs: fc.constantFrom(0, 0, 3, 40),
    ddio: fc.boolean(),
    ats: fc.boolean(),
    trial: fc.constantFrom(undefined, 8, 64),
    seed: fc.integer({ min: 1, max: 1000 }),
    lines: fc.constantFrom(0, 0, 9, 40),
    relaxed: fc.boolean(),
    stepNs: fc.constantFrom(0, 30, 200),
    // pcie-bench's device: its contexts and its DMA engine's data mover
    contexts: fc.constantFrom(0, 0, 3, 88),
    descNs: fc.constantFrom(0, 0, 6, 40),
    lineNs: fc.constantFrom(0, 0, 9, 30),
  });
  type Setting = typeof setting extends fc.Arbitrary<infer T> ? T : never;
  const config = (s: Setting) => buildConfig([
    ['iommu.mode', s.mode], ['iommu.superpages', s.superpages], ['iommu.iotlb.entries', s.iotlb], ['iommu.walker.slots', s.walkers],
    ['pcie.tags', s.tags], ['pcie.phCredits', s.ph], ['pcie.mrrsBytes', s.mrrs], ['pcie.mpsBytes', s.mps],
    ['device.dmaEngine.maxInFlight', s.inFlight], ['device.dmaEngine.issueNs', s.issueNs], ['memory.ddio', s.ddio], ['devices.0000:03:00.0.ats', s.ats],
    ['rc.writeLines', s.lines], ['devices.0000:03:00.0.relaxedOrdering', s.relaxed], ['iommu.walker.stepNs', s.stepNs],
    ['pciebench.contexts', s.contexts], ['pciebench.descriptorNs', s.descNs], ['pciebench.lineNs', s.lineNs],
    ['workload.kind', 'pciebench'], ['workload.op', s.op], ['workload.size', s.size], ['workload.window', Math.max(s.size, s.windowPages * 4096)],
    ['workload.pattern', s.pattern], ['workload.cache', s.cache], ['workload.count', 300], ['workload.seed', s.seed],
  ]);
  const same = (a: TimedSystem, b: TimedSystem) => {
    const ma = a.metrics() as unknown as Record<string, unknown>, mb = b.metrics() as unknown as Record<string, unknown>;
    expect(a.q.handled).toBeLessThan(b.q.handled); // the shortcut was taken
    expect(JSON.stringify(ma)).toBe(JSON.stringify(mb));
    expect(a.latencies).toEqual(b.latencies);
    expect(JSON.stringify(a.iommu.metrics())).toBe(JSON.stringify(b.iommu.metrics()));
  };
  let early = 0;
  it('same metrics and the same latency of every request, on random configurations; no rerun needed', () => {
    fc.assert(fc.property(setting, (s) => {
      const cfg = config(s);
      const a = pciebenchSystem(cfg, true, true, 0, s.trial);
      const b = pciebenchSystem(cfg, false, true);
      expect(a.eagerRerun).toBe(false);
      early += a.dataSentEarly;
      same(a, b);
    }), { numRuns: 150, seed: 3 });
    expect(early).toBeGreaterThan(0);
  });

  it('read data sent early out of order is caught: with the bound broken on purpose, eager runs that flag no rerun are still exact', () => {
    let reruns = 0;
    fc.assert(fc.property(setting.map((s) => ({ ...s, op: 'read' as const })), (s) => {
      const cfg = config(s);
      const a = pciebenchSystem(cfg, true, true, 1e9, s.trial); // every read's data sent at the root complex when nothing is queued before it
      const b = pciebenchSystem(cfg, false, true);
      if (a.eagerRerun) { reruns++; return; }
      same(a, b);
    }), { numRuns: 150, seed: 4 });
    expect(reruns).toBeGreaterThan(0); // the check can fire
  });

  it('write-then-read runs: grouped write pieces give exactly the results of an event per piece', () => {
    let fewer = 0;
    fc.assert(fc.property(setting.map((s) => ({ ...s, op: 'wrrd' as const })), (s) => {
      const cfg = config(s);
      const a = pciebenchSystem(cfg, true, true), b = pciebenchSystem(cfg, true, true, 0, undefined, false);
      expect(a.eagerRerun).toBe(false);
      if (a.q.handled < b.q.handled) fewer++;
      expect(JSON.stringify(a.metrics())).toBe(JSON.stringify(b.metrics()));
      expect(a.latencies).toEqual(b.latencies);
      expect(JSON.stringify(a.iommu.metrics())).toBe(JSON.stringify(b.iommu.metrics()));
      expect(a.metrics().devices[0].requests + a.dropped).toBe(300); // every pair completed once
    }), { numRuns: 100, seed: 6 });
    expect(fewer).toBeGreaterThan(0); // the grouping did take place
  });

  it('a fault in eager mode is reported (the pciebench runner then runs again with events)', () => {
    const cfg = buildConfig([['iommu.mode', 'strict'], ['workload.kind', 'pciebench']]);
    const iommu = new Iommu(cfg);
    iommu.attach(0x300, deviceSettings(cfg, '0000:03:00.0'), '0000:03:00.0'); // nothing mapped: every DMA faults
    let left = 5;
    const src: RequestSource = { oneDirection: true, remaining: () => left, next: (out) => { left--; out[0] = 0x100000 + left; out[1] = 0; out[2] = 64; out[3] = 0; out[4] = 1; out[5] = -1; } };
    const sys = new TimedSystem(cfg, ['0000:03:00.0'], iommu);
    sys.runSource(src);
    expect(sys.eagerRerun).toBe(true);
    expect(sys.dropped).toBe(5);
  });
});

describe('timing: the eager root complex of trace replay (one device, one link) gives exactly the results of an event per piece', () => {
  // One device: maps (sometimes of pages already mapped, or never mapped: faults), unmaps, global
  // invalidations and DMAs of any size, offset and direction, at random gaps; every IOMMU mode,
  // small IOTLBs, few walkers, ATS, short lazy flush timeouts and small flush queues, few tags,
  // limited posted credits, small engines (requests queue at the engine), an issue interval.
  const setting = fc.record({
    mode: fc.constantFrom('off', 'identity', 'strict', 'lazy', 'lazy'),
    iotlb: fc.constantFrom(4, 16, 64),
    walkers: fc.integer({ min: 1, max: 4 }),
    ats: fc.boolean(),
    timeoutNs: fc.constantFrom(200, 2000, 10_000_000),
    fq: fc.constantFrom(2, 16, 256),
    tags: fc.integer({ min: 1, max: 32 }),
    ph: fc.constantFrom(0, 0, 2, 8),
    mps: fc.constantFrom(128, 256),
    mrrs: fc.constantFrom(128, 512, 4096),
    inFlight: fc.integer({ min: 1, max: 16 }),
    issueNs: fc.constantFrom(0, 0, 3, 40),
    ddio: fc.boolean(),
    lanes: fc.constantFrom(1, 8),
    // a slow link (Gen1 x1: 4 ns a byte, long queues), 1 GHz clocks, whole-ns latencies
    coarse: fc.boolean(),
    lines: fc.constantFrom(0, 0, 9, 40),
    relaxed: fc.boolean(),
    stepNs: fc.constantFrom(0, 30, 200),
  });
  type Setting = typeof setting extends fc.Arbitrary<infer T> ? T : never;
  const oneDevice = fc.array(op.map((o) => ({ ...o, dev: 0 })), { minLength: 1, maxLength: 150, size: 'max' });
  const replay = (ops: Op[], s: Setting, eagerRc: boolean) => {
    const cfg = buildConfig([
      ['iommu.mode', s.mode], ['iommu.iotlb.entries', s.iotlb], ['iommu.walker.slots', s.walkers], ['devices.0000:03:00.0.ats', s.ats],
      ['iommu.flushQueue.timeoutNs', s.timeoutNs], ['iommu.flushQueue.entries', s.fq], ['pcie.tags', s.tags], ['pcie.phCredits', s.ph],
      ['pcie.mpsBytes', s.mps], ['pcie.mrrsBytes', s.mrrs], ['pcie.lanes', s.lanes], ['device.dmaEngine.maxInFlight', s.inFlight],
      ['device.dmaEngine.issueNs', s.issueNs], ['memory.ddio', s.ddio],
      ['rc.writeLines', s.lines], ['devices.0000:03:00.0.relaxedOrdering', s.relaxed], ['iommu.walker.stepNs', s.stepNs],
      ...(s.coarse ? [['pcie.gen', 1], ['pcie.lanes', 1], ['device.clockMHz', 1000], ['iommu.clockMHz', 1000], ['rc.postedWriteNs', 20], ['memory.dramGBps', 1]] as Array<[string, number]> : []),
    ]);
    const tr = build(ops, true);
    const iommu = new Iommu(cfg);
    attachConfigured(iommu, cfg);
    const sys = new TimedSystem(cfg, tr.devices, iommu, { recordLatencies: true, eagerRc });
    sys.runTrace(tr);
    return sys;
  };
  it('same metrics, latencies and IOMMU metrics (fault records and their times included) on random traces', () => {
    let fewer = 0, faults = 0, timeouts = 0;
    fc.assert(fc.property(oneDevice, setting, (ops, s) => {
      const a = replay(ops, s, true), b = replay(ops, s, false);
      const ma = a.metrics() as unknown as Record<string, unknown>, mb = b.metrics() as unknown as Record<string, unknown>;
      if (a.q.handled < b.q.handled) fewer++;
      expect(JSON.stringify(ma)).toBe(JSON.stringify(mb));
      expect(a.latencies).toEqual(b.latencies);
      expect(JSON.stringify(a.iommu.metrics())).toBe(JSON.stringify(b.iommu.metrics()));
      faults += a.iommu.faults;
      timeouts += a.iommu.flushQueueTimeouts;
    }), { numRuns: 250, seed: 11 });
    expect(fewer).toBeGreaterThan(150); // the shortcut was taken in most runs
    expect(faults).toBeGreaterThan(0);
    expect(timeouts).toBeGreaterThan(0);
  });
});
