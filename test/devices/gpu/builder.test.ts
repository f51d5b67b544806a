/**
 * gpuTrace's phases one at a time (GpuTraceBuilder): what each phase leaves for the next, on a
 * hand-built mix of copies; and the fault servicer's stream heap. Whole traces: gpu.test.ts.
 */
import { describe, expect, test } from 'vitest';
import {
  GpuTraceBuilder, StreamHeap, gpuTrace, resolveGpuConfig,
  COPY_HTOD, COPY_DTOH, COPY_DTOD, COPY_UNKNOWN, MEM_UNKNOWN, MEM_PINNED, MEM_DEVICE, MEM_PAGEABLE, MEM_MANAGED, type GpuCopies,
} from '../../../src/devices/gpu/gpu.js';
import { OP_DMA, OP_MAP, DIR_READ, DIR_RW } from '../../../src/trace/columns.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const DEV = '0000:3b:00.0';
const IOVA_STATIC = 4 * GiB;

/** [start, end, bytes, copyKind, srcKind, dstKind, stream, device, hostOffset] */
type C = [number, number, number, number, number, number, number, number, number];
const LIST: C[] = [
  /* 0 */ [500, 500, 4 * MiB, COPY_HTOD, MEM_PINNED, MEM_DEVICE, 7, 0, NaN],
  /* 1 */ [200, 200, 2 * MiB, COPY_HTOD, MEM_PINNED, MEM_DEVICE, 7, 0, NaN],
  /* 2 */ [300, 300, 1 * MiB, COPY_DTOH, MEM_DEVICE, MEM_PINNED, 7, 0, NaN],
  /* 3 */ [400, 400, 3 * MiB, COPY_HTOD, MEM_PINNED, MEM_DEVICE, 3, 0, NaN],
  /* 4 */ [100, 100, 1 * MiB, COPY_DTOD, MEM_DEVICE, MEM_DEVICE, 9, 0, NaN],
  /* 5 */ [150, 150, 0, COPY_HTOD, MEM_PINNED, MEM_DEVICE, 9, 0, NaN],
  /* 6 */ [600, 600, 8192, COPY_HTOD, MEM_MANAGED, MEM_DEVICE, 11, 0, NaN],
  /* 7 */ [700, 700, 5000, COPY_HTOD, MEM_MANAGED, MEM_DEVICE, 12, 0, 65536],
  /* 8 */ [800, 900, 4096, COPY_HTOD, MEM_PAGEABLE, MEM_DEVICE, 13, 0, NaN],
  /* 9 */ [50, 50, 4096, COPY_UNKNOWN, MEM_UNKNOWN, MEM_UNKNOWN, 9, 0, NaN],
  /* 10 */ [10, 10, 4096, COPY_HTOD, MEM_PINNED, MEM_DEVICE, 9, 1, NaN],
  /* 11 */ [450, 450, 2 * MiB, COPY_HTOD, MEM_UNKNOWN, MEM_DEVICE, 3, 0, NaN],
];

function copies(list: C[]): GpuCopies {
  const n = list.length;
  const c: GpuCopies = {
    count: n, startNs: new Float64Array(n), endNs: new Float64Array(n), bytes: new Float64Array(n), copyKind: new Uint8Array(n),
    srcKind: new Uint8Array(n), dstKind: new Uint8Array(n), deviceId: new Uint16Array(n), streamId: new Uint32Array(n), hostOffset: new Float64Array(n),
  };
  list.forEach(([s, e, b, ck, sk, dk, st, dev, off], i) => {
    c.startNs[i] = s; c.endNs[i] = e; c.bytes[i] = b; c.copyKind[i] = ck; c.srcKind[i] = sk; c.dstKind[i] = dk;
    c.streamId[i] = st; c.deviceId[i] = dev; c.hostOffset![i] = off;
  });
  return c;
}

const builder = (): GpuTraceBuilder => new GpuTraceBuilder(copies(LIST), resolveGpuConfig({}), { device: DEV, deviceId: 0 });

describe('GpuTraceBuilder phases', () => {
  test('classifyCopies: counts, time base, pinned buffer sizes, managed region; no records, no bytes yet', () => {
    const b = builder();
    b.classifyCopies();
    expect(b.base).toBe(50); // the other GPU's copy at 10 does not count
    expect(b.stats).toMatchObject({
      copies: 11, otherDeviceCopies: 1, deviceOnlyCopies: 1, emptyCopies: 1, unknownDirectionCopies: 1, unknownHostKindCopies: 1,
      pageableCopies: 1, h2dBytes: 0, d2hBytes: 0, dmaRequests: 0, maps: 0, uvmFaults: 0,
    });
    // streams 7, 3, 13 take slots in start order; far faults (streams 11, 12) and copies without host DMA take none
    expect(b.streams.size).toBe(3);
    // key = slot × 2 + (device-to-host): stream 7 both ways, stream 3 to the device (the unknown host kind counts as pinned)
    expect(Array.from(b.keyMax.subarray(0, 6))).toEqual([4 * MiB, 1 * MiB, 3 * MiB, 0, 0, 0]);
    expect([b.pageableFirst, b.managedFirst, b.managedOffEnd, b.managedBump]).toEqual([800, 600, 65536 + 5000, 8192]);
    expect(b.rec.n).toBe(0);
  });

  test('classifyCopies with rebase=false keeps the time base at 0', () => {
    const b = new GpuTraceBuilder(copies(LIST), resolveGpuConfig({}), { device: DEV, deviceId: 0, rebase: false });
    b.classifyCopies();
    expect(b.base).toBe(0);
  });

  test('mapStaticRegions: the staging buffer and the managed region, each mapped at its first use', () => {
    const b = builder();
    b.classifyCopies();
    b.mapStaticRegions();
    const managedBytes = 73728 + 8192; // placed copies end at 70536 → 18 pages, then one 8 KiB copy
    expect(b.rec.n).toBe(2);
    expect([b.rec.t[0], b.rec.op[0], b.rec.iova[0], b.rec.size[0], b.rec.dir[0]]).toEqual([750, OP_MAP, IOVA_STATIC, 4 * MiB, DIR_RW]);
    expect([b.rec.t[1], b.rec.op[1], b.rec.iova[1], b.rec.size[1], b.rec.dir[1]]).toEqual([550, OP_MAP, IOVA_STATIC + 4 * MiB, managedBytes, DIR_RW]);
    expect([b.managedIova, b.managedBytes, b.managedNext]).toEqual([IOVA_STATIC + 4 * MiB, managedBytes, 73728]);
    expect(b.stats.maps).toBe(2);
    // managed addresses: a placed copy at its offset, others one after the other from the end of the placed ones
    expect(b.managedAddr(7)).toBe(b.managedIova + 65536);
    expect(b.managedAddr(6)).toBe(b.managedIova + 73728);
    expect(b.managedNext).toBe(73728 + 8192);
  });

  test('addressCopies: measured copies emitted, modelled ones and far faults left in start order', () => {
    const b = builder();
    b.classifyCopies();
    b.mapStaticRegions();
    b.allocPinnedBuffers();
    b.addressCopies();
    expect(b.faults).toEqual([6, 7]);
    expect(Array.from(b.nom.subarray(0, b.nNom))).toEqual([1, 2, 3, 11, 0]);
    expect(b.stats).toMatchObject({ h2dBytes: 11 * MiB + 8192 + 5000 + 4096, d2hBytes: MiB, uvmFaults: 2, dmaRequests: 1 });
    // the measured pageable copy: one request from the staging buffer at its start
    expect(b.rec.n).toBe(3);
    expect([b.rec.t[2], b.rec.op[2], b.rec.iova[2], b.rec.size[2], b.rec.dir[2]]).toEqual([750, OP_DMA, IOVA_STATIC, 4096, DIR_READ]);
    expect([b.copyStartNs[8], b.copyEndNs[8], b.traceEnd]).toEqual([750, 850, 850]);
    expect(Number.isNaN(b.copyEndNs[0]!)).toBe(true);
  });

  test('build runs the phases as gpuTrace does, once', () => {
    const b = builder();
    const r = b.build();
    const g = gpuTrace(copies(LIST), resolveGpuConfig({}), { device: DEV, deviceId: 0 });
    expect(r.stats).toEqual(g.stats);
    expect(Array.from(r.trace.timeNs)).toEqual(Array.from(g.trace.timeNs));
    expect(Array.from(r.trace.iovaLo)).toEqual(Array.from(g.trace.iovaLo));
    expect(() => b.build()).toThrow(/already built/);
  });
});

describe('StreamHeap (fault servicer)', () => {
  test('pops by key, ties by stream; a stream pushed again after its pop', () => {
    const h = new StreamHeap(5);
    for (const [s, k] of [[3, 10], [1, 5], [4, 5], [0, 7], [2, 5]] as const) h.push(s, k);
    expect(h.size).toBe(5);
    const got: number[] = [];
    got.push(h.pop(), h.pop());
    expect(h.topKey).toBe(5);
    h.push(1, 6);
    while (h.size > 0) got.push(h.pop());
    expect(got).toEqual([1, 2, 4, 1, 0, 3]);
  });
});
