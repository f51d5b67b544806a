import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Iommu } from '../../src/iommu/iommu.js';
import { KindCounts } from '../../src/iommu/kinds.js';
import { DMA_KINDS } from '../../src/trace/columns.js';
import { buildConfig } from '../../src/config/config.js';
import { replayFunctional, attachConfigured, newDmaCounts } from '../../src/run/functional.js';
import { runTrace, summarizeTrace } from '../../src/run/run.js';
import { formatSummary } from '../../src/cli/run.js';
import { TraceBuilder, OP_DMA, OP_MAP, OP_UNMAP, DIR_READ, DIR_WRITE, DIR_RW } from '../../src/trace/columns.js';

const DEVS = ['0000:01:00.0', '0000:02:00.0', '0000:03:00.0'];

const op = fc.record({
  what: fc.constantFrom('map', 'dma', 'dma', 'dma', 'unmap'),
  dev: fc.integer({ min: 0, max: DEVS.length - 1 }),
  page: fc.integer({ min: 0, max: 1100 }), // pages of a 4.3 MiB window: 2 MiB leaves and PDE sharing happen
  off: fc.integer({ min: 0, max: 4095 }),
  pages: fc.integer({ min: 1, max: 600 }),
  bytes: fc.integer({ min: 1, max: 9000 }),
  write: fc.boolean(),
  kind: fc.integer({ min: 0, max: DMA_KINDS.length - 1 }),
  dt: fc.integer({ min: 0, max: 20000 }),
});

type Op = { what: string; dev: number; page: number; off: number; pages: number; bytes: number; write: boolean; kind: number; dt: number };
function build(ops: Op[]) {
  const b = new TraceBuilder(16);
  for (const d of DEVS) b.deviceIndex(d);
  let t = 0;
  for (const o of ops) {
    t += o.dt;
    const iova = 0x4000_0000 + o.page * 4096;
    if (o.what === 'map') b.pushAddr(t, o.dev, -1, OP_MAP, iova, o.pages * 4096, DIR_RW, 0x8000_0000 + o.page * 4096, o.kind);
    else if (o.what === 'unmap') b.pushAddr(t, o.dev, -1, OP_UNMAP, iova, o.pages * 4096, 0, 0, o.kind);
    else b.pushAddr(t, o.dev, -1, OP_DMA, iova + o.off, o.bytes, o.write ? DIR_WRITE : DIR_READ, 0, o.kind);
  }
  return b.finish();
}

describe('functional replay: IOMMU work by DMA kind', () => {
  it('byKind sums equal the totals (requests, bytes, lookups, misses, walk memory reads) on random traces (property)', () => {
    fc.assert(fc.property(
      fc.array(op, { minLength: 1, maxLength: 300 }),
      fc.constantFrom('strict', 'lazy', 'identity', 'off'),
      fc.boolean(), fc.boolean(), fc.constantFrom(4, 64), fc.integer({ min: 1, max: 3 }),
      (ops, mode, superpages, ats, entries, chunks) => {
        const t = build(ops);
        const cfg = buildConfig([['iommu.mode', mode], ['iommu.superpages', superpages], ['iommu.iotlb.entries', entries], ['iommu.iotlb.ways', entries === 4 ? 4 : 8], [`devices.${DEVS[1]}.ats`, ats], [`devices.${DEVS[2]}.domain`, 7], [`devices.${DEVS[0]}.domain`, 7]]);
        const iommu = new Iommu(cfg);
        attachConfigured(iommu, cfg);
        const kinds = new KindCounts();
        const dma = newDmaCounts();
        // streamed in `chunks` pieces, as runIotraceStreaming does: the counts carry over
        const per = Math.ceil(t.count / chunks);
        for (let c = 0; c < chunks; c++) {
          const s = c * per, e = Math.min(t.count, s + per);
          const part = { ...t, count: Math.max(0, e - s) } as typeof t;
          for (const k of ['timeNs', 'device', 'pasid', 'op', 'iovaHi', 'iovaLo', 'size', 'dir', 'paddrHi', 'paddrLo', 'kind'] as const) (part as unknown as Record<string, unknown>)[k] = t[k].subarray(s, Math.max(s, e));
          replayFunctional(part, iommu, cfg, dma, c === chunks - 1, kinds);
        }
        const m = iommu.metrics();
        const by = kinds.metrics();
        const sum = (f: (k: (typeof by)[number]) => number) => by.reduce((a, k) => a + f(k), 0);
        expect(sum((k) => k.requests)).toBe(dma.requests);
        expect(sum((k) => k.bytes)).toBe(dma.bytes);
        expect(sum((k) => k.lookups)).toBe(m.iotlb.lookups);
        expect(sum((k) => k.misses)).toBe(m.iotlb.misses);
        expect(sum((k) => k.memReads)).toBe(m.walks.memReads);
        // a kind is listed iff it had DMA requests, and each kind's requests are its DMA rows
        const want = new Map<string, number>();
        for (let i = 0; i < t.count; i++) if (t.op[i] === OP_DMA) want.set(DMA_KINDS[t.kind[i]], (want.get(DMA_KINDS[t.kind[i]]) ?? 0) + 1);
        expect(new Map(by.map((k) => [k.kind, k.requests]))).toEqual(want);
        expect(by.map((k) => k.kind)).toEqual(DMA_KINDS.filter((k) => want.has(k)));
      }), { numRuns: 150, seed: 15 });
  });

  it('hand-computed: a descriptor read and a data write to a fresh mapping miss once each; a second write hits', () => {
    const b = new TraceBuilder(8);
    const d = b.deviceIndex(DEVS[0]);
    b.pushAddr(0, d, -1, OP_MAP, 0x10000, 0x3000, DIR_RW, 0x200000);
    b.pushAddr(1, d, -1, OP_DMA, 0x10000, 64, DIR_READ, 0, 1); // desc, page 0x10: miss
    b.pushAddr(2, d, -1, OP_DMA, 0x11800, 4096, DIR_WRITE, 0); // data, pages 0x11 and 0x12: two misses
    b.pushAddr(3, d, -1, OP_DMA, 0x11000, 64, DIR_WRITE, 0, 2); // cqe, page 0x11: hit
    const t = b.finish();
    const cfg = buildConfig([['iommu.mode', 'strict']]);
    const r = runTrace(t, cfg, summarizeTrace(t, 'k', 'test', 'generator'));
    expect(r.metrics.byKind).toEqual([
      { kind: 'data', requests: 1, bytes: 4096, lookups: 2, misses: 2, memReads: r.metrics.byKind![0].memReads },
      { kind: 'desc', requests: 1, bytes: 64, lookups: 1, misses: 1, memReads: r.metrics.byKind![1].memReads },
      { kind: 'cqe', requests: 1, bytes: 64, lookups: 1, misses: 0, memReads: 0 },
    ]);
    // the first walk reads all four levels; the later ones share the PWC's upper levels
    expect(r.metrics.byKind![1].memReads).toBe(4);
    expect(r.metrics.byKind![0].memReads + r.metrics.byKind![1].memReads).toBe(r.metrics.walks.memReads);
    const text = formatSummary(r);
    expect(text).toContain('by kind    data 2 lookups / 2 misses, desc 1 lookups / 1 misses, cqe 1 lookups / 0 misses\n');
  });
});
