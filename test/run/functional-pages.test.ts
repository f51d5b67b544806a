/**
 * The functional replay translates a DMA's pieces with Iommu.translatePages and adds the DMA's work
 * to its kind at once; this holds it equal to the plain definition, translate() per piece with
 * KindCounts.before/after around each, on random traces: every metric, every per-kind figure, and
 * the IOMMU's state after (a second replay of the same trace on each gives the same again).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Iommu, MODE_IDENTITY, MODE_OFF } from '../../src/iommu/iommu.js';
import { KindCounts } from '../../src/iommu/kinds.js';
import { buildConfig, deviceSettings, type Config } from '../../src/config/config.js';
import { replayFunctional, attachConfigured, newDmaCounts, deviceSids, type DmaCounts } from '../../src/run/functional.js';
import { applyControl } from '../../src/iommu/control.js';
import { TraceBuilder, OP_DMA, OP_MAP, OP_UNMAP, OP_INV, DIR_READ, DIR_WRITE, DIR_RW, DMA_KINDS, INV_IOTLB, INV_PWC, INV_CONTEXT, SIZE_ALL, pageOf, type TraceColumns } from '../../src/trace/columns.js';

const DEVS = ['0000:01:00.0', '0000:02:00.0', '0000:03:00.0', '0000:03:00.1'];

/** The replay as defined: translate() per piece, stopping at a fault; kinds counted around each. */
function replayPerPiece(t: TraceColumns, iommu: Iommu, cfg: Readonly<Config>, dma: DmaCounts, kinds: KindCounts): void {
  const sids = deviceSids(t);
  const attached = new Uint8Array(t.devices.length);
  for (let d = 0; d < t.devices.length; d++) if (sids[d] >= 0 && iommu.isAttached(sids[d])) attached[d] = 1;
  const attach = (d: number): void => {
    if (attached[d] !== 0 || iommu.mode === MODE_OFF || sids[d] < 0) return;
    attached[d] = 1;
    iommu.attach(sids[d], deviceSettings(cfg, t.devices[d]), `device ${t.devices[d]}`);
  };
  for (let i = 0; i < t.count; i++) {
    iommu.advance(t.timeNs[i]);
    const d = t.device[i];
    if (t.op[i] === OP_DMA) {
      if (iommu.mode === MODE_IDENTITY && attached[d] === 0) attach(d);
      const size = t.size[i], isWrite = t.dir[i] === DIR_WRITE, kind = t.kind[i];
      dma.requests++;
      dma.bytes += size;
      if (isWrite) dma.writes++; else dma.reads++;
      kinds.request(kind, size);
      const pn = pageOf(t.iovaHi[i], t.iovaLo[i]);
      const pieces = Math.floor(((t.iovaLo[i] & 0xfff) + size - 1) / 4096) + 1;
      for (let p = 0; p < pieces; p++) {
        dma.pieces++;
        kinds.before(iommu);
        const frame = iommu.translate(sids[d], t.pasid[i], pn + p, isWrite);
        kinds.after(iommu, kind);
        if (frame < 0) { dma.dropped++; break; }
      }
    } else {
      if (t.op[i] === OP_MAP) attach(d);
      applyControl(iommu, cfg, t, i, sids[d]);
    }
  }
  iommu.drain();
}

const op = fc.record({
  what: fc.constantFrom('map', 'map', 'dma', 'dma', 'dma', 'dma', 'unmap', 'inv'),
  dev: fc.integer({ min: 0, max: DEVS.length - 1 }),
  page: fc.oneof(fc.integer({ min: 0, max: 2100 }), fc.constant(2 ** 36 - 3)), // 8 MiB: 2 MiB leaves, PDEs shared; and the 48-bit edge
  off: fc.integer({ min: 0, max: 4095 }),
  pages: fc.integer({ min: 1, max: 1100 }),
  bytes: fc.integer({ min: 1, max: 70000 }),
  write: fc.boolean(),
  perm: fc.constantFrom(DIR_RW, DIR_RW, DIR_READ, DIR_WRITE),
  pasid: fc.constantFrom(-1, -1, 5),
  inv: fc.constantFrom(INV_IOTLB, INV_PWC, INV_CONTEXT),
  kind: fc.integer({ min: 0, max: DMA_KINDS.length - 1 }),
  dt: fc.integer({ min: 0, max: 20000 }),
});
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function build(ops: Op[]): TraceColumns {
  const b = new TraceBuilder(16);
  for (const d of DEVS) b.deviceIndex(d);
  let t = 0;
  for (const o of ops) {
    t += o.dt;
    const iova = o.page * 4096;
    if (o.what === 'map') b.pushAddr(t, o.dev, o.pasid, OP_MAP, iova, o.pages * 4096, o.perm, 0x8000_0000 + (o.page % 1024) * 4096, o.kind);
    else if (o.what === 'unmap') b.pushAddr(t, o.dev, o.pasid, OP_UNMAP, iova, o.pages * 4096, 0, 0, o.kind);
    else if (o.what === 'inv') b.push(t, o.dev, -1, OP_INV, 0, 0, SIZE_ALL, o.inv, 0, 0, 0);
    else b.pushAddr(t, o.dev, o.pasid, OP_DMA, iova + o.off, o.bytes, o.write ? DIR_WRITE : DIR_READ, 0, o.kind);
  }
  return b.finish();
}

describe('functional replay: a DMA\'s pieces at once (Iommu.translatePages) equal translate() per piece', () => {
  it('every metric and per-kind figure, on random traces and configurations (property)', () => {
    fc.assert(fc.property(
      fc.array(op, { minLength: 1, maxLength: 120 }),
      fc.constantFrom('strict', 'lazy', 'lazy', 'identity', 'off'),
      fc.boolean(), fc.boolean(), fc.constantFrom<[number, number]>([4, 4], [64, 0], [8, 2]), fc.constantFrom('second', 'second', 'first', 'nested'),
      (ops, mode, superpages, ats, [entries, ways], translation) => {
        const t = build(ops);
        const settings: Array<[string, string | number | boolean]> = [
          ['iommu.mode', mode], ['iommu.superpages', superpages], ['iommu.iotlb.entries', entries], ['iommu.iotlb.ways', ways],
          ['iommu.iotlb.2m.entries', 4], ['iommu.pwc.pde.entries', 8], ['iommu.pwc.pde.ways', 2], ['iommu.flushQueue.entries', 8],
          [`devices.${DEVS[1]}.ats`, ats], [`devices.${DEVS[2]}.domain`, 7], [`devices.${DEVS[3]}.domain`, 7], [`devices.${DEVS[0]}.translation`, translation],
        ];
        const cfg = buildConfig(settings);
        const run = (how: 'pages' | 'pieces') => {
          const iommu = new Iommu(cfg);
          attachConfigured(iommu, cfg);
          const kinds = new KindCounts();
          const dma = newDmaCounts();
          // twice over the same IOMMU: the second pass starts from the state the first left
          for (let pass = 0; pass < 2; pass++) {
            if (how === 'pages') replayFunctional(t, iommu, cfg, dma, true, kinds);
            else replayPerPiece(t, iommu, cfg, dma, kinds);
          }
          return { metrics: iommu.metrics(), dma, kinds: kinds.metrics(), last: [iommu.lastIotlbArray, iommu.lastIotlbSlot, iommu.lastWalked, iommu.lastAtsHit] };
        };
        const a = run('pages'), b = run('pieces');
        expect(a).toEqual(b);
        return true;
      },
    ), { numRuns: 250, seed: 23 });
  });
});
