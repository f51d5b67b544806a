/**
 * GPU trace producer: hand-computed small cases, directions, staging, mappings, UVM faults,
 * determinism, bad knobs. Calibration against published figures: calibration.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  gpuTrace, resolveGpuConfig, trainingInput, pageableCopies, uvmFaults, stableOrder, GPU_KNOBS,
  COPY_HTOD, COPY_DTOH, COPY_DTOD, MEM_PINNED, MEM_DEVICE, MEM_PAGEABLE, type GpuCopies, type GpuConfig,
} from '../../../src/devices/gpu/gpu.js';
import { OP_DMA, OP_MAP, OP_UNMAP, DIR_READ, DIR_WRITE, DIR_RW, type TraceColumns } from '../../../src/trace/columns.js';
import { parseGpuTrace } from '../../../src/trace/importers/gpu.js';
import { InputError } from '../../../src/util/errors.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const DEV = '0000:3b:00.0';
/** Layout constants of the model (gpu.ts HostMemory): static IOVAs from 4 GiB, per-copy from 256 GiB, paddr from 1 GiB. */
const IOVA_STATIC = 4 * GiB;
const IOVA_DYNAMIC = 256 * GiB;
const PADDR_4K = GiB + 4096; // 2 MiB-aligned + 4 KiB: only 4 KiB leaves can be built

type Row = [time: number, op: number, iova: number, size: number, dir: number, paddr: number];
const rows = (t: TraceColumns): Row[] =>
  Array.from({ length: t.count }, (_, i) => [t.timeNs[i]!, t.op[i]!, t.iovaHi[i]! * 2 ** 32 + t.iovaLo[i]!, t.size[i]!, t.dir[i]!, t.paddrHi[i]! * 2 ** 32 + t.paddrLo[i]!]);

/** One or more copies, given as [start, end, bytes, copyKind, srcKind, dstKind, stream, device?]. */
function copies(list: Array<[number, number, number, number, number, number, number, number?]>): GpuCopies {
  const n = list.length;
  const c: GpuCopies = {
    count: n, startNs: new Float64Array(n), endNs: new Float64Array(n), bytes: new Float64Array(n), copyKind: new Uint8Array(n),
    srcKind: new Uint8Array(n), dstKind: new Uint8Array(n), deviceId: new Uint16Array(n), streamId: new Uint32Array(n),
  };
  list.forEach(([s, e, b, ck, sk, dk, st, dev], i) => {
    c.startNs[i] = s; c.endNs[i] = e; c.bytes[i] = b; c.copyKind[i] = ck; c.srcKind[i] = sk; c.dstKind[i] = dk; c.streamId[i] = st; c.deviceId[i] = dev ?? 0;
  });
  return c;
}

const cfgOf = (s: Record<string, unknown>): GpuConfig => resolveGpuConfig(s);

describe('pinned host-to-device, measured timing (hand-computed)', () => {
  // One 8 MiB pinned H2D from a profile: 1 048 576 ns → 8 B/ns; 2 engines, 2 MiB chunks, 4 KiB requests.
  const c = copies([[1000, 1000 + 1048576, 8 * MiB, COPY_HTOD, MEM_PINNED, MEM_DEVICE, 7]]);
  const base = { 'gpu.copyEngines': 2, 'gpu.chunkBytes': '2MiB', 'gpu.dmaBytes': 4096 };

  test('stream assignment: one engine, 2048 requests 512 ns apart, one static map', () => {
    const r = gpuTrace(c, cfgOf(base), { device: '3b:00.0' });
    const want: Row[] = [[0, OP_MAP, IOVA_STATIC, 8 * MiB, DIR_RW, PADDR_4K]];
    for (let j = 0; j < 2048; j++) want.push([512 * j, OP_DMA, IOVA_STATIC + 4096 * j, 4096, DIR_READ, 0]);
    expect(rows(r.trace)).toEqual(want);
    expect(r.trace.devices).toEqual([DEV]);
    expect(r.timeBaseNs).toBe(1000);
    expect(r.stats).toMatchObject({ copies: 1, h2dBytes: 8 * MiB, d2hBytes: 0, dmaRequests: 2048, maps: 1, unmaps: 0, pageableCopies: 0 });
    expect([r.copyStartNs[0], r.copyEndNs[0]]).toEqual([0, 1048576]);
  });

  test('chunk assignment: chunks 0,2 on engine 0 and 1,3 on engine 1, each engine at 4 B/ns', () => {
    const r = gpuTrace(c, cfgOf({ ...base, 'gpu.engineAssignment': 'chunk' }), { device: DEV });
    const want: Row[] = [[0, OP_MAP, IOVA_STATIC, 8 * MiB, DIR_RW, PADDR_4K]];
    for (const half of [0, 1]) {
      for (let j = 0; j < 512; j++) {
        for (const eng of [0, 1]) {
          const chunk = 2 * half + eng;
          want.push([half * 524288 + 1024 * j, OP_DMA, IOVA_STATIC + chunk * 2 * MiB + 4096 * j, 4096, DIR_READ, 0]);
        }
      }
    }
    expect(rows(r.trace)).toEqual(want);
  });

  test('freeAtEnd unmaps the static buffer after the last request; rebase=false keeps profile times', () => {
    const r = gpuTrace(c, cfgOf(base), { device: DEV, freeAtEnd: true, rebase: false });
    const t = rows(r.trace);
    expect(t[0]).toEqual([1000, OP_MAP, IOVA_STATIC, 8 * MiB, DIR_RW, PADDR_4K]);
    expect(t[t.length - 1]).toEqual([1000 + 1048576, OP_UNMAP, IOVA_STATIC, 8 * MiB, DIR_RW, 0]);
    expect(r.stats.unmaps).toBe(1);
  });

  test('smaller requests: gpu.dmaBytes=256 gives 32 768 requests 32 ns apart', () => {
    const r = gpuTrace(c, cfgOf({ ...base, 'gpu.dmaBytes': 256 }), { device: DEV });
    expect(r.stats.dmaRequests).toBe(32768);
    expect(r.trace.timeNs[2]! - r.trace.timeNs[1]!).toBe(32);
    expect(r.trace.size[1]).toBe(256);
  });

  test('hostPageBytes=2MiB: paddr 2 MiB-aligned but 1 GiB-misaligned relative to a 1 GiB-aligned IOVA', () => {
    const r = gpuTrace(c, cfgOf({ ...base, 'gpu.hostPageBytes': '2MiB' }), { device: DEV });
    const [map] = rows(r.trace);
    expect(map![2] % GiB).toBe(0);
    expect(map![5] % (2 * MiB)).toBe(0);
    expect((map![5] - map![2]) % GiB).not.toBe(0);
  });
});

describe('directions and skipped kinds', () => {
  test('device-to-host writes host memory; D2D is skipped and counted', () => {
    const c = copies([
      [0, 1000, 8192, COPY_DTOH, MEM_DEVICE, MEM_PINNED, 1],
      [0, 10, 1 * MiB, COPY_DTOD, MEM_DEVICE, MEM_DEVICE, 1],
    ]);
    const r = gpuTrace(c, cfgOf({}), { device: DEV });
    expect(rows(r.trace)).toEqual([
      [0, OP_MAP, IOVA_STATIC, 8192, DIR_RW, PADDR_4K],
      [0, OP_DMA, IOVA_STATIC, 4096, DIR_WRITE, 0],
      [500, OP_DMA, IOVA_STATIC + 4096, 4096, DIR_WRITE, 0],
    ]);
    expect(r.stats).toMatchObject({ copies: 2, h2dBytes: 0, d2hBytes: 8192, deviceOnlyCopies: 1, dmaRequests: 2 });
    expect(r.copyEndNs[1]).toBeNaN();
  });

  test('per-copy mapping: map (copy direction, fresh IOVA) before, unmap after each copy', () => {
    const c = copies([
      [0, 1000, 1 * MiB, COPY_HTOD, MEM_PINNED, MEM_DEVICE, 1],
      [2000, 3000, 1 * MiB, COPY_DTOH, MEM_DEVICE, MEM_PINNED, 1],
    ]);
    const r = gpuTrace(c, cfgOf({ 'gpu.pinnedMapping': 'per-copy' }), { device: DEV });
    const ctl = rows(r.trace).filter((x) => x[1] !== OP_DMA);
    const pa0 = ctl[0]![5], pa1 = ctl[2]![5];
    expect(ctl).toEqual([
      [0, OP_MAP, IOVA_DYNAMIC, MiB, DIR_READ, pa0],
      [1000, OP_UNMAP, IOVA_DYNAMIC, MiB, DIR_READ, 0],
      [2000, OP_MAP, IOVA_DYNAMIC + 2 * MiB, MiB, DIR_WRITE, pa1],
      [3000, OP_UNMAP, IOVA_DYNAMIC + 2 * MiB, MiB, DIR_WRITE, 0],
    ]);
    expect(r.stats).toMatchObject({ maps: 2, unmaps: 2, dmaRequests: 512 });
    // the unmap follows the copy's last request
    const t = rows(r.trace);
    expect(t.findIndex((x) => x[1] === OP_UNMAP)).toBe(1 + 256);
  });

  test('profile fixture (importer output): kinds, other GPUs, bytes, mappings', () => {
    const file = parseGpuTrace(readFileSync(new URL('../../fixtures/gpu/synthetic_cupti_memcpy.csv', import.meta.url), 'utf8'), 'synthetic_cupti_memcpy.csv');
    expect(() => gpuTrace(file.copies, cfgOf({}), { device: DEV })).toThrow(/^gpuTrace opts\.deviceId: the copies come from more than one GPU .*; pass opts\.deviceId/);
    const r = gpuTrace(file.copies, cfgOf({}), { device: DEV, deviceId: 0 });
    expect(r.stats).toMatchObject({
      copies: 5, otherDeviceCopies: 2, hostOnlyCopies: 1, pageableCopies: 1,
      h2dBytes: 4194304 + 65536 + 512, d2hBytes: 4194304, dmaRequests: 1024 + 1024 + 16 + 1,
      maps: 4, // three pinned buffers (stream 13 both ways, stream 7 to the device) and the staging buffer
    });
    expect(r.timeBaseNs).toBe(1719000000123);
    const t = r.trace;
    for (let i = 1; i < t.count; i++) expect(t.timeNs[i]).toBeGreaterThanOrEqual(t.timeNs[i - 1]!);
    const other = gpuTrace(file.copies, cfgOf({}), { device: '3c:00.0', deviceId: 1 });
    expect(other.stats).toMatchObject({ copies: 2, deviceOnlyCopies: 1, peerCopies: 1, dmaRequests: 0 });
    expect(other.trace.count).toBe(0);
  });
});

describe('back-to-back (synthetic) timing', () => {
  test('pinned: requests at gpu.copyGBps from the start; a stream runs its copies in order', () => {
    const c = copies([
      [0, 0, 8192, COPY_HTOD, MEM_PINNED, MEM_DEVICE, 3],
      [0, 0, 4096, COPY_DTOH, MEM_DEVICE, MEM_PINNED, 3],
    ]);
    const r = gpuTrace(c, cfgOf({ 'gpu.copyGBps': 8 }), { device: DEV });
    const dmas = rows(r.trace).filter((x) => x[1] === OP_DMA).map((x) => [x[0], x[4]]);
    expect(dmas).toEqual([[0, DIR_READ], [512, DIR_READ], [1024, DIR_WRITE]]);
    expect(Array.from(r.copyEndNs)).toEqual([1024, 1536]);
  });

  test('two streams on two engines share the link chunk by chunk', () => {
    const c = copies([
      [0, 0, 4 * MiB, COPY_HTOD, MEM_PINNED, MEM_DEVICE, 0],
      [0, 0, 4 * MiB, COPY_HTOD, MEM_PINNED, MEM_DEVICE, 1],
    ]);
    const r = gpuTrace(c, cfgOf({ 'gpu.copyGBps': 8 }), { device: DEV });
    const chunk = (2 * MiB) / 8; // 262 144 ns per chunk on the link
    expect(Array.from(r.copyStartNs)).toEqual([0, 0]);
    expect(Array.from(r.copyEndNs)).toEqual([3 * chunk, 4 * chunk]);
    // the link carries one request per 512 ns throughout: never two copies at once
    const dmaT = rows(r.trace).filter((x) => x[1] === OP_DMA).map((x) => x[0]);
    dmaT.forEach((t, j) => expect(t).toBe(512 * j));
  });

  test('pageable H2D: CPU copies chunks into the staging buffer at the knob rate; DMAs read the staging IOVA', () => {
    // 8 MiB, 2 MiB chunks, 4 MiB staging (2 slots), CPU 4 GB/s (524 288 ns a chunk), DMA 8 GB/s (262 144 ns)
    const r = gpuTrace(pageableCopies({ count: 1, bytes: 8 * MiB }), cfgOf({ 'gpu.pageable.cpuCopyGBps': 4, 'gpu.copyGBps': 8 }), { device: DEV });
    const t = rows(r.trace);
    expect(t[0]).toEqual([0, OP_MAP, IOVA_STATIC, 4 * MiB, DIR_RW, PADDR_4K]);
    const dmas = t.filter((x) => x[1] === OP_DMA);
    expect(dmas.length).toBe(2048);
    for (let k = 0; k < 4; k++) {
      for (const j of [0, 511]) {
        const d = dmas[k * 512 + j]!;
        expect(d[0]).toBe((k + 1) * 524288 + 512 * j); // after the CPU copy of chunk k
        expect(d[2]).toBe(IOVA_STATIC + (k % 2) * 2 * MiB + 4096 * j); // slot k mod 2 of the staging buffer
        expect(d[4]).toBe(DIR_READ);
      }
    }
    expect(r.stats).toMatchObject({ pageableCopies: 1, stagingCpuNs: 4 * 524288, maps: 1, h2dBytes: 8 * MiB });
    expect(r.copyEndNs[0]).toBe(4 * 524288 + 262144);
  });

  test('pageable D2H: the DMA fills a slot once the CPU has copied out its previous chunk', () => {
    // DMA 262 144 ns a chunk, CPU copy-out 1 048 576 ns a chunk (2 GB/s)
    const r = gpuTrace(pageableCopies({ count: 1, bytes: 8 * MiB, dir: 'd2h' }), cfgOf({ 'gpu.pageable.d2hCpuCopyGBps': 2, 'gpu.copyGBps': 8 }), { device: DEV });
    const dmas = rows(r.trace).filter((x) => x[1] === OP_DMA);
    expect([0, 1, 2, 3].map((k) => dmas[k * 512]![0])).toEqual([0, 262144, 1310720, 2359296]);
    expect(dmas.every((d) => d[4] === DIR_WRITE)).toBe(true);
    expect(r.stats.stagingCpuNs).toBe(4 * 1048576);
    expect(r.copyEndNs[0]).toBe(4456448); // the last CPU copy-out ends the copy
  });

  test('one staging slot: CPU copy and DMA alternate', () => {
    const r = gpuTrace(pageableCopies({ count: 1, bytes: 4 * MiB }), cfgOf({ 'gpu.pageable.stagingBytes': '2MiB', 'gpu.pageable.cpuCopyGBps': 4, 'gpu.copyGBps': 8 }), { device: DEV });
    const dmas = rows(r.trace).filter((x) => x[1] === OP_DMA);
    expect([dmas[0]![0], dmas[512]![0]]).toEqual([524288, 524288 + 262144 + 524288]);
    expect(dmas[512]![2]).toBe(IOVA_STATIC);
  });
});

describe('UVM far faults', () => {
  test('a single fault: service time, then the page is DMA-read from the managed region', () => {
    const c = uvmFaults({ faults: 1, pageBytes: 4096, batch: 1, seed: 5 });
    const r = gpuTrace(c, cfgOf({ 'gpu.copyGBps': 8 }), { device: DEV });
    const t = rows(r.trace);
    expect(t.length).toBe(2);
    expect(t[0]![1]).toBe(OP_MAP);
    expect(t[1]).toEqual([30440, OP_DMA, t[0]![2] + c.hostOffset![0]!, 4096, DIR_READ, 0]);
    expect(r.stats).toMatchObject({ uvmFaults: 1, uvmBatches: 1, h2dBytes: 4096 });
    expect(r.copyEndNs[0]).toBe(30440 + 512);
  });

  test('faults are serviced in batches of gpu.uvm.faultBatch; a stream faults again after its replay', () => {
    const c = uvmFaults({ faults: 512, pageBytes: 4096, batch: 512, seed: 9 });
    const r = gpuTrace(c, cfgOf({ 'gpu.copyGBps': 8, 'gpu.uvm.faultBatch': 256, 'gpu.uvm.faultUs': 10 }), { device: DEV });
    expect(r.stats.uvmBatches).toBe(2);
    const dmas = rows(r.trace).filter((x) => x[1] === OP_DMA);
    expect(dmas[0]![0]).toBe(10000);
    expect(dmas[255]![0]).toBe(10000 + 255 * 512);
    const firstEnd = 10000 + 256 * 512;
    expect(dmas[256]![0]).toBe(firstEnd + 10000);
    // distinct, page-aligned, inside the managed mapping
    const map = rows(r.trace)[0]!;
    const addrs = new Set(dmas.map((d) => d[2]));
    expect(addrs.size).toBe(512);
    for (const a of addrs) { expect(a % 4096).toBe(0); expect(a).toBeGreaterThanOrEqual(map[2]); expect(a + 4096).toBeLessThanOrEqual(map[2] + map[3]); }
    // 2 slots: each slot's next fault waits for the batch that serviced its previous one
    const two = gpuTrace(uvmFaults({ faults: 4, pageBytes: 4096, batch: 2, seed: 9 }), cfgOf({ 'gpu.copyGBps': 8, 'gpu.uvm.faultUs': 10 }), { device: DEV });
    expect(two.stats.uvmBatches).toBe(2);
    expect(Array.from(two.copyStartNs)).toEqual([0, 0, 11024, 11024]);
  });

  test('64 KiB pages migrate as 16 requests each', () => {
    const r = gpuTrace(uvmFaults({ faults: 3, pageBytes: 65536, batch: 3, seed: 1 }), cfgOf({}), { device: DEV });
    expect(r.stats.dmaRequests).toBe(48);
  });
});

describe('determinism', () => {
  test('same inputs and seed → identical trace; another seed → another trace', () => {
    const p = { batches: 20, batchBytes: 3 * MiB + 4096, resultBytes: 1000, streams: 3, stepNs: 1e6 };
    const cfg = cfgOf({ 'gpu.pinnedMapping': 'per-copy' });
    const a = gpuTrace(trainingInput({ ...p, seed: 7 }), cfg, { device: DEV });
    const b = gpuTrace(trainingInput({ ...p, seed: 7 }), cfg, { device: DEV });
    expect(rows(a.trace)).toEqual(rows(b.trace));
    expect(a.stats).toEqual(b.stats);
    const c = gpuTrace(trainingInput({ ...p, seed: 8 }), cfg, { device: DEV });
    expect(Array.from(c.trace.timeNs)).not.toEqual(Array.from(a.trace.timeNs));
    const u1 = uvmFaults({ faults: 100, pageBytes: 4096, batch: 8, seed: 3 });
    const u2 = uvmFaults({ faults: 100, pageBytes: 4096, batch: 8, seed: 3 });
    expect(Array.from(u1.hostOffset!)).toEqual(Array.from(u2.hostOffset!));
  });

  test('records are in time order, and at equal times a map precedes the DMAs and an unmap follows them', () => {
    const r = gpuTrace(trainingInput({ batches: 6, batchBytes: 5 * MiB, resultBytes: 64, streams: 2, seed: 1 }), cfgOf({ 'gpu.pinnedMapping': 'per-copy' }), { device: DEV });
    const t = r.trace;
    const rank = [1, 0, 2];
    for (let i = 1; i < t.count; i++) {
      expect(t.timeNs[i]).toBeGreaterThanOrEqual(t.timeNs[i - 1]!);
      if (t.timeNs[i] === t.timeNs[i - 1]) expect(rank[t.op[i]!]).toBeGreaterThanOrEqual(rank[t.op[i - 1]!]!);
    }
    expect(r.stats.maps).toBe(12);
    expect(r.stats.unmaps).toBe(12);
  });

  test('stableOrder sorts by key and keeps ties in index order', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }), (xs) => {
      const key = Float64Array.from(xs);
      const o = Array.from(stableOrder(key, key.length));
      const want = xs.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0] || p[1] - q[1]).map((p) => p[1]);
      expect(o).toEqual(want);
    }));
  });
});

describe('configuration errors: one line naming the key', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ 'gpu.copyEngines': 0 }, /^gpu\.copyEngines=0: below the minimum 1 engines$/],
    [{ 'gpu.copyEngine': 2 }, /^gpu\.copyEngine: unknown GPU setting; did you mean gpu\.copyEngines\?/],
    [{ 'gpu.pinnedMapping': 'lazy' }, /^gpu\.pinnedMapping=lazy: unknown value; use one of static, per-copy$/],
    [{ 'gpu.chunkBytes': '3KiB' }, /^gpu\.chunkBytes=3KiB: below the minimum 4096 bytes$/],
    [{ 'gpu.chunkBytes': 6144 }, /^gpu\.chunkBytes=6144: must be a multiple of gpu\.dmaBytes \(4096\)/],
    [{ 'gpu.dmaBytes': 1000 }, /^gpu\.dmaBytes=1000: must be a power of two/],
    [{ 'gpu.pageable.stagingBytes': '3MiB' }, /^gpu\.pageable\.stagingBytes=3145728: must be a whole number of gpu\.chunkBytes/],
    [{ 'gpu.hostPageBytes': '64KiB' }, /^gpu\.hostPageBytes=65536: must be a page size; use 4KiB, 2MiB or 1GiB$/],
    [{ 'gpu.uvm.faultUs': 'slow' }, /^gpu\.uvm\.faultUs=slow: not a number$/],
    [{ 'gpu.ats': 'maybe' }, /^gpu\.ats=maybe: expected true or false$/],
    [{ gpu: { uvm: { faultBatch: 0 } } }, /^gpu\.uvm\.faultBatch=0: below the minimum 1 faults$/],
    [{ 'gpu.copyGBps': [1] }, /^gpu\.copyGBps: expected a value, got object/],
  ];
  test.each(bad)('%o', (settings, re) => {
    let err: unknown;
    try { resolveGpuConfig(settings); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).not.toContain('\n');
  });

  test('values with units, nested objects, and keys outside gpu.* ignored', () => {
    const c = resolveGpuConfig({ 'iommu.mode': 'strict', 'gpu.chunkBytes': '4MiB', gpu: { pageable: { stagingBytes: '8MiB' }, ats: 'true' } });
    expect(c).toMatchObject({ chunkBytes: 4 * MiB, ats: true, pageable: { stagingBytes: 8 * MiB } });
  });

  test('every knob has a gpu.* key, a doc, a cited source and a unit where numeric', () => {
    for (const k of GPU_KNOBS) {
      expect(k.key).toMatch(/^gpu\./);
      expect(k.doc.length, k.key).toBeGreaterThan(20);
      expect(k.source.length, k.key).toBeGreaterThan(10);
      if (['int', 'number', 'size', 'timeNs'].includes(k.kind)) expect(k.unit, k.key).toBeTruthy();
    }
    expect(() => resolveGpuConfig({})).not.toThrow();
  });

  test('bad inputs: copies and generator parameters', () => {
    const c = copies([[10, 5, 4096, COPY_HTOD, MEM_PINNED, MEM_DEVICE, 0]]);
    expect(() => gpuTrace(c, cfgOf({}), { device: DEV })).toThrow(/^copies\[0\]: endNs 5 is before startNs 10; repair or remove the record$/);
    expect(() => gpuTrace(copies([]), cfgOf({}), { device: 'gpu0' })).toThrow(/^gpuTrace opts\.device: 'gpu0' is not a PCI address/);
    expect(() => uvmFaults({ faults: 10, pageBytes: 3000, batch: 1, seed: 1 })).toThrow(/^uvmFaults pageBytes=3000: must be a whole number 4096–2097152/);
    expect(() => uvmFaults({ faults: 10, pageBytes: 4096, batch: 1, seed: 1, regionBytes: 8192 })).toThrow(/^uvmFaults faults=10: more than the 2 distinct pages/);
    expect(() => trainingInput({ batches: 0, batchBytes: 1, resultBytes: 0 })).toThrow(/^trainingInput batches=0: must be a whole number/);
    expect(() => pageableCopies({ count: 1, bytes: 10, dir: 'up' as 'h2d' })).toThrow(/^pageableCopies dir=up: unknown direction; use h2d or d2h$/);
  });
});

describe('recommended settings', () => {
  test('ATS is passed to the simulator per device; a GPU link is x16', () => {
    const r = gpuTrace(pageableCopies({ count: 1, bytes: 4096, hostKind: 'pinned' }), cfgOf({ 'gpu.ats': true }), { device: '3b:00.0' });
    expect(r.recommendedSettings).toContainEqual(['devices.0000:3b:00.0.ats', true]);
    expect(r.recommendedSettings).toContainEqual(['pcie.lanes', 16]);
  });
  test('unknown host memory kinds are treated as pinned and counted', () => {
    const r = gpuTrace(copies([[0, 0, 4096, COPY_HTOD, 0, MEM_DEVICE, 0], [0, 0, 4096, 0, MEM_PAGEABLE, MEM_DEVICE, 0]]), cfgOf({}), { device: DEV });
    expect(r.stats).toMatchObject({ unknownHostKindCopies: 1, pageableCopies: 1, dmaRequests: 2 });
  });
});
