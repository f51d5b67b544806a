/**
 * Issue #15: every DMA a NIC really makes the IOMMU translate, with its kind — the mlx5 (ConnectX)
 * model (completion queues, striding RQ, doorbell records, TX WQEs, EQEs), the host's TCP ACKs,
 * and the 82599 traces unchanged but for the kind column.
 */
import { packets, traceRows } from './packets.js';
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { nicTrace, resolveNicConfig, syntheticPackets, type NicStats } from '../../../src/devices/nic/nic.js';
import type { PacketColumns } from '../../../src/trace/importers/pcap.js';
import { type TraceColumns, OP_DMA, OP_MAP, OP_UNMAP, DIR_WRITE, DIR_RW, OP_NAMES, DMA_KINDS, KIND_DATA, KIND_DESC, KIND_CQE, KIND_DOORBELL, KIND_ACK, hexAddr, pageOf } from '../../../src/trace/columns.js';
import { buildConfig } from '../../../src/config/config.js';
import { Iommu } from '../../../src/iommu/iommu.js';
import { KindCounts } from '../../../src/iommu/kinds.js';
import { replayFunctional } from '../../../src/run/functional.js';
import { resolveInput } from '../../../src/run/inputs.js';
import { findWorkload, specConfig } from '../../../src/run/workloads.js';
import { findGenerator } from '../../../src/run/generators/index.js';
import { InputError } from '../../../src/util/errors.js';

const DEV = '0000:01:00.0';
const DIRS = ['', 'read', 'write', 'rw'];

/** Packets from [timeNs, origLen, dir (1 RX, 2 TX; default 1), l4 (default 6, TCP)]. */
const pk = (list: Array<[number, number, number?, number?]>): PacketColumns => packets(list.map(([t, len, dir, l4]) => [t, len, dir, 0, l4]), 6);
const every = (n: number, dtNs: number, len: number, dir = 1, l4 = 6) => pk(Array.from({ length: n }, (_, i) => [i * dtNs, len, dir, l4] as [number, number, number, number]));

const rows = (t: TraceColumns, from = 0): string[] => traceRows(t, from, true);

function count(t: TraceColumns, op: number, pred: (i: number) => boolean = () => true): number {
  let n = 0;
  for (let i = 0; i < t.count; i++) if (t.op[i] === op && pred(i)) n++;
  return n;
}
const dmaOf = (t: TraceColumns, kind: number) => count(t, OP_DMA, (i) => t.kind[i] === kind);

/**
 * Every DMA falls in live mappings whose direction allows it; maps cover unmapped pages only; each
 * unmap undoes one live map (as in nic.test.ts). Returns the maps live at the end.
 */
function checkTrace(t: TraceColumns): number {
  const perm = new Map<number, number>();
  const live = new Map<string, number>();
  let last = -Infinity;
  for (let i = 0; i < t.count; i++) {
    if (t.timeNs[i] < last) throw new Error(`row ${i}: time goes back`);
    last = t.timeNs[i];
    const pn = pageOf(t.iovaHi[i], t.iovaLo[i]);
    const off = t.iovaLo[i] & 0xfff;
    const size = t.size[i];
    const key = `${pn}:${off}:${size}`;
    const pages = Math.floor((off + size - 1) / 4096) + 1;
    if (t.op[i] === OP_MAP) {
      for (let p = pn; p < pn + pages; p++) {
        if (perm.has(p)) throw new Error(`row ${i}: page ${p.toString(16)} mapped twice`);
        perm.set(p, t.dir[i]);
      }
      live.set(key, pages);
    } else if (t.op[i] === OP_UNMAP) {
      if (!live.has(key)) throw new Error(`row ${i}: unmap of ${key} that is not mapped`);
      live.delete(key);
      for (let p = pn; p < pn + pages; p++) perm.delete(p);
    } else if (t.op[i] === OP_DMA) {
      for (let p = pn; p < pn + pages; p++) {
        const d = perm.get(p);
        if (d === undefined) throw new Error(`row ${i}: DMA (${DMA_KINDS[t.kind[i]]}) to unmapped page ${p.toString(16)}`);
        const need = t.dir[i] === DIR_WRITE ? DIR_WRITE : 1;
        if (d !== DIR_RW && d !== need) throw new Error(`row ${i}: DMA ${DIRS[need]} to a page mapped ${DIRS[d]}`);
      }
    }
  }
  return live.size;
}

/** One mlx5 queue: rings of 8 (TX), RX ring of 16 frames of 1 KiB strides in 1-page WQEs (4 strides, 4 WQEs), a 10 µs timer, strict. */
const small = (o: Record<string, unknown> = {}) => resolveNicConfig({
  'nic.model': 'mlx5', 'nic.queues': 1, 'nic.rss': false, 'nic.rxRing.entries': 16, 'nic.txRing.entries': 8,
  'nic.strideWqePages': 1, 'nic.bufferBytes': 1024, 'nic.moderation.packets': 0, 'nic.moderation.usecs': 10,
  'nic.iova.fqEntries': 0, ...o,
});

const SETUP_SMALL = [
  '0 map 0xfffff000 4096 rw 0x100014000 doorbell', // the doorbell-record page (one 64 B record per RQ)
  '0 map 0xfffe0000 65536 rw 0x100000000 cqe', // the completion event queue: 1024 EQEs of 64 B
  '0 map 0xfffdf000 4096 rw 0x100010000 cqe', // TX CQ (8 CQEs)
  '0 map 0xfffde000 4096 rw 0x100011000 desc', // SQ (8 WQE basic blocks of 64 B)
  '0 map 0xfffdd000 4096 rw 0x100012000 cqe', // RX CQ (4 WQEs × 4 strides = 16 CQEs)
  '0 map 0xfffdc000 4096 rw 0x100013000 desc', // RQ (4 WQEs)
  '0 map 0xfffdb000 4096 write 0x200000000 data', // 3 = 4 − 1 WQEs posted (mlx5_wq_ll_missing), one page each
  '0 map 0xfffda000 4096 write 0x200001000 data',
  '0 map 0xfffd9000 4096 write 0x200002000 data',
  '0 dma 0xfffff000 64 read doorbell', // the device reads the RQ doorbell record after the initial fill
];

describe('nic.model=mlx5: hand-computed traces', () => {
  it('5 RX frames of 1000 B: a WQE read per WQE, a stride and a 64 B CQE per frame, an EQE at the interrupt, the consumed WQE unmapped, reposted and announced by a doorbell-record read', () => {
    const { trace, stats } = nicTrace(every(5, 100, 1000), small(), { device: DEV });
    expect(rows(trace)).toEqual([
      ...SETUP_SMALL,
      '0 dma 0xfffdc000 64 read desc', // WQE 0 (RQ slot 0)
      '0 dma 0xfffdb000 1000 write data', // stride 0
      '0 dma 0xfffdd000 64 write cqe', // RX CQE 0
      '100 dma 0xfffdb400 1000 write data',
      '100 dma 0xfffdd040 64 write cqe',
      '200 dma 0xfffdb800 1000 write data',
      '200 dma 0xfffdd080 64 write cqe',
      '300 dma 0xfffdbc00 1000 write data', // the last stride: WQE 0 consumed
      '300 dma 0xfffdd0c0 64 write cqe',
      '400 dma 0xfffdc040 64 read desc', // WQE 1
      '400 dma 0xfffda000 1000 write data',
      '400 dma 0xfffdd100 64 write cqe',
      '10000 dma 0xfffe0000 64 write cqe', // the timer: the EQE (the MSI-X message is no DMA row)
      '12000 unmap 0xfffdb000 4096 data', // the poll: WQE 0 cleaned and consumed → unmapped as one range
      '12000 map 0xfffdb000 4096 write 0x200003000 data', // reposted (RQ slot 3), its IOVA back from the magazine
      '12000 dma 0xfffff000 64 read doorbell', // one doorbell-record update per refill, read by the device
    ]);
    expect(stats).toMatchObject<Partial<NicStats>>({
      packets: 5, rxPackets: 5, rxDropped: 0, interrupts: 1, napiPolls: 1, doorbells: 2, doorbellReads: 2,
      descriptorReads: 2, descriptorWrites: 6, eqeWrites: 1, maps: 10, unmaps: 1, payloadBytes: 5000, acks: 0,
    });
    expect(checkTrace(trace)).toBe(9);
  });

  it('a frame that does not fit the WQE\'s remaining strides: a filler CQE closes it, the frame takes the next WQE', () => {
    // 256 B strides, 16 per page-sized WQE; 1100 B frames take 5: three fit (15 strides), the fourth does not
    const { trace, stats } = nicTrace(every(4, 100, 1100), small({ 'nic.bufferBytes': 256, 'nic.rxRing.entries': 64 }), { device: DEV });
    const rs = rows(trace).filter((r) => / dma /.test(r) && !/doorbell/.test(r));
    expect(rs).toEqual([
      '0 dma 0xfffdc000 64 read desc',
      '0 dma 0xfffdb000 1100 write data',
      '0 dma 0xfffdd000 64 write cqe',
      '100 dma 0xfffdb500 1100 write data', // stride 5
      '100 dma 0xfffdd040 64 write cqe',
      '200 dma 0xfffdba00 1100 write data', // stride 10
      '200 dma 0xfffdd080 64 write cqe',
      '300 dma 0xfffdd0c0 64 write cqe', // the filler CQE for stride 15
      '300 dma 0xfffdc040 64 read desc', // WQE 1
      '300 dma 0xfffda000 1100 write data',
      '300 dma 0xfffdd100 64 write cqe',
      '10000 dma 0xfffe0000 64 write cqe', // EQE
    ]);
    expect(stats.rxPackets).toBe(4);
    expect(stats.unmaps).toBe(1); // WQE 0, closed by its filler, released in the poll
  });

  it('no posted WQE left: the frame is dropped (rx_out_of_buffer); a frame larger than a WQE too', () => {
    // 2 WQEs (8 frames of 1 KiB strides, 4 per WQE), 1 posted: the fifth frame before any poll has nowhere to go
    const { stats } = nicTrace(every(5, 100, 1000), small({ 'nic.rxRing.entries': 8 }), { device: DEV });
    expect(stats).toMatchObject({ rxPackets: 4, rxDropped: 1 });
    expect(nicTrace(pk([[0, 5000]]), small(), { device: DEV }).stats.rxDropped).toBe(1);
  });

  it('counts at scale: one 64 B CQE per frame, one WQE read per 64-page WQE, one doorbell-record read per refill', () => {
    const cfg = (o: Record<string, unknown> = {}) => resolveNicConfig({
      'nic.model': 'mlx5', 'nic.queues': 1, 'nic.rxRing.entries': 256, 'nic.bufferBytes': 4096, 'nic.moderation.packets': 64, 'nic.moderation.usecs': 1000, ...o,
    });
    const frames = every(640, 400, 4096, 1, 17); // 10 WQEs of 64 frames of 4 KiB
    const { trace, stats } = nicTrace(frames, cfg(), { device: DEV });
    expect(stats.rxDropped).toBe(0);
    expect(stats.rxPackets).toBe(640);
    expect(dmaOf(trace, KIND_DATA)).toBe(640);
    expect(dmaOf(trace, KIND_DESC)).toBe(10);
    expect(stats.interrupts).toBe(10); // every 64 completions
    expect(dmaOf(trace, KIND_CQE)).toBe(640 + 10); // a CQE per frame, an EQE per interrupt
    // each poll (after 64 frames) releases the WQE it completed: a refill and its doorbell-record read, plus the initial fill
    expect(dmaOf(trace, KIND_DOORBELL)).toBe(1 + 10);
    expect(stats.doorbellReads).toBe(11);
    expect(dmaOf(trace, KIND_ACK)).toBe(0);
    // the WQE buffers: 3 posted at start, one map and one 256 KiB unmap per consumed WQE
    const wqeMaps = count(trace, OP_MAP, (i) => trace.size[i] === 262144);
    expect(wqeMaps).toBe(3 + 10);
    expect(count(trace, OP_UNMAP, (i) => trace.size[i] === 262144)).toBe(10);
    expect(checkTrace(trace)).toBe(1 + 5 + 3);

    // CQE compression: mini-CQEs 8 to a 64 B line; 64 per interrupt, so no partial lines
    const z = nicTrace(frames, cfg({ 'nic.cqeCompression': true }), { device: DEV });
    expect(dmaOf(z.trace, KIND_CQE)).toBe(640 / 8 + 10);
    expect(z.stats.descriptorWrites).toBe(640 / 8 + 10);
    // a partial line at each interrupt: 12 frames and a timer → one full line, one line of 4
    const p = nicTrace(every(12, 100, 1000), small({ 'nic.cqeCompression': true, 'nic.rxRing.entries': 64 }), { device: DEV });
    const cq = rows(p.trace).filter((r) => / dma 0xfffdd/.test(r));
    expect(cq).toEqual(['700 dma 0xfffdd000 64 write cqe', '10000 dma 0xfffdd040 64 write cqe']);
  });

  it('TX: a 64 B WQE read, the payload read, a 64 B CQE into the TX CQ; unmapped when the poll cleans it', () => {
    const { trace, stats } = nicTrace(pk([[0, 1000, 2]]), small({ 'nic.moderation.packets': 1 }), { device: DEV });
    expect(rows(trace, SETUP_SMALL.length)).toEqual([
      '0 map 0xfffd8000 1000 read 0x200008000 data', // TX buffers after the RQ's 2 × 4 WQE buffers physically
      '0 dma 0xfffde000 64 read desc', // SQ WQE 0
      '0 dma 0xfffd8000 1000 read data',
      '0 dma 0xfffdf000 64 write cqe', // TX CQE 0
      '0 dma 0xfffe0000 64 write cqe', // EQE (moderation: every completion)
      '2000 unmap 0xfffd8000 1000 data',
    ]);
    expect(stats).toMatchObject({ txPackets: 1, descriptorReads: 1, descriptorWrites: 2, eqeWrites: 1 });
    // a frame of 3 fragments: one WQE of 32 + 3 × 16 = 80 B → two 64 B basic blocks, read at once
    const big = nicTrace(pk([[0, 3000, 2]]), small(), { device: DEV });
    expect(rows(big.trace).filter((r) => /desc$/.test(r) && / dma /.test(r))).toEqual(['0 dma 0xfffde000 128 read desc']);
    expect(dmaOf(big.trace, KIND_DATA)).toBe(3);
  });

  it('the per-packet policy unmaps a consumed WQE as one range: one page-selective invalidation in strict mode, no fault', () => {
    const frames = syntheticPackets({ count: 3000, sizeBytes: 4096, rateGbps: 100, flows: 8, seed: 5, l4: 6 });
    for (const policy of ['per-packet', 'page-pool', 'hugepage']) {
      for (const mode of ['strict', 'lazy'] as const) {
        const cfg = resolveNicConfig({ 'nic.model': 'mlx5', 'nic.queues': 4, 'nic.rxRing.entries': 256, 'nic.bufferBytes': 4096, 'nic.acks': true, 'nic.iovaPolicy': policy, 'iommu.mode': mode });
        const { trace, stats } = nicTrace(frames, cfg, { device: DEV });
        checkTrace(trace);
        expect(stats.rxDropped).toBe(0);
        const sim = buildConfig([['iommu.mode', mode]]);
        const iommu = new Iommu(sim);
        const d = replayFunctional(trace, iommu, sim);
        expect(d.dropped, `${policy} ${mode}`).toBe(0);
        expect(iommu.mapFailed).toBe(0);
        if (mode === 'strict') expect(iommu.metrics().invalidations.iotlb).toBe(stats.unmaps);
        if (policy === 'per-packet') {
          // 3000 frames in 64-frame WQEs over 4 queues: about 3000 / 64 WQE unmaps of 64 pages, and the ACKs'
          const wqeUnmaps = count(trace, OP_UNMAP, (i) => trace.size[i] === 262144);
          expect(wqeUnmaps).toBeGreaterThanOrEqual(Math.floor(3000 / 64) - 4);
          expect(wqeUnmaps).toBeLessThanOrEqual(Math.ceil(3000 / 64));
          expect(count(trace, OP_UNMAP, (i) => trace.kind[i] === KIND_ACK)).toBe(stats.acks);
        } else {
          expect(count(trace, OP_UNMAP)).toBe(0);
        }
      }
    }
  });
});

describe('the host\'s TCP ACKs (nic.acks)', () => {
  it('mlx5: 5 segments, ackEvery 2 → 2 ACKs from the poll: map, SQ WQE read, 66 B ACK read, TX CQE; unmapped at the next poll', () => {
    const { trace, stats } = nicTrace(every(5, 100, 1000), small({ 'nic.acks': true }), { device: DEV });
    expect(rows(trace).slice(SETUP_SMALL.length + 13)).toEqual([
      '12000 unmap 0xfffdb000 4096 data',
      '12000 map 0xfffdb000 4096 write 0x200003000 data',
      '12000 dma 0xfffff000 64 read doorbell',
      '12000 map 0xfffd8000 66 read 0x200200000 ack', // ACK buffers: 128 B slots after every queue's buffer region
      '12000 dma 0xfffde000 64 read desc',
      '12000 dma 0xfffd8000 66 read ack',
      '12000 dma 0xfffdf000 64 write cqe',
      '12000 map 0xfffd7080 66 read 0x200200080 ack',
      '12000 dma 0xfffde040 64 read desc',
      '12000 dma 0xfffd7080 66 read ack',
      '12000 dma 0xfffdf040 64 write cqe',
      '22000 dma 0xfffe0040 64 write cqe', // the ACKs' completions re-armed the 10 µs timer at the poll: EQE 1
      '24000 unmap 0xfffd8000 66 ack',
      '24000 unmap 0xfffd7080 66 ack',
    ]);
    expect(stats).toMatchObject({ acks: 2, txPackets: 2, rxPackets: 5, interrupts: 2, napiPolls: 2 });
    expect(checkTrace(trace)).toBe(9);
  });

  it('one ACK per ackEvery segments per queue; none for UDP, for sent frames or for frames no longer than an ACK', () => {
    const cfg = (o: Record<string, unknown> = {}) => resolveNicConfig({ 'nic.model': 'mlx5', 'nic.queues': 1, 'nic.rxRing.entries': 1024, 'nic.acks': true, ...o });
    const acks = (p: PacketColumns, o: Record<string, unknown> = {}) => {
      const r = nicTrace(p, cfg(o), { device: DEV });
      expect(dmaOf(r.trace, KIND_ACK)).toBe(r.stats.acks);
      expect(count(r.trace, OP_MAP, (i) => r.trace.kind[i] === KIND_ACK)).toBe(r.stats.acks);
      expect(count(r.trace, OP_UNMAP, (i) => r.trace.kind[i] === KIND_ACK)).toBe(r.stats.acks);
      return r.stats.acks;
    };
    expect(acks(every(100, 1000, 1514))).toBe(50);
    expect(acks(every(100, 1000, 1514), { 'nic.ackEvery': 3 })).toBe(33);
    expect(acks(every(100, 1000, 1514), { 'nic.ackEvery': 1 })).toBe(100);
    expect(acks(every(100, 1000, 1514), { 'nic.acks': false })).toBe(0);
    expect(acks(every(100, 1000, 1514, 1, 17))).toBe(0); // UDP
    expect(acks(every(100, 1000, 1514, 2))).toBe(0); // the host sends the data
    expect(acks(every(100, 1000, 66))).toBe(0); // pure ACKs of the peer
    expect(acks(every(100, 1000, 67))).toBe(50);
    expect(acks(every(100, 1000, 1514), { 'nic.model': '82599' })).toBe(50);
  });

  it('82599: an ACK is a TX frame of kind ack — map, 16 B descriptor read, 66 B read, write-back (cqe), unmap', () => {
    const cfg = resolveNicConfig({
      'nic.queues': 1, 'nic.rss': false, 'nic.rxRing.entries': 8, 'nic.txRing.entries': 8, 'nic.descFetchBatch': 4, 'nic.writebackBatch': 4,
      'nic.moderation.packets': 0, 'nic.moderation.usecs': 10, 'nic.iova.fqEntries': 0, 'nic.acks': true,
    });
    const { trace, stats } = nicTrace(pk([[0, 1514], [1000, 1514]]), cfg, { device: DEV });
    expect(rows(trace).filter((r) => /^(12000|22000|24000) /.test(r))).toEqual([
      '12000 unmap 0xffffd000 2048 data',
      '12000 unmap 0xffffc800 2048 data',
      '12000 map 0xffffc800 2048 write 0x200003800 data',
      '12000 map 0xffffd000 2048 write 0x200004000 data',
      '12000 map 0xffff6000 66 read 0x200200000 ack', // after the queue's 2 MiB-rounded buffer region
      '12000 dma 0xfffff000 16 read desc',
      '12000 dma 0xffff6000 66 read ack',
      '22000 dma 0xfffff000 16 write cqe', // the write-back, flushed by the re-armed timer's interrupt
      '24000 unmap 0xffff6000 66 ack',
    ]);
    expect(stats.acks).toBe(1);
    checkTrace(trace);
  });

  it('the TCP generators ACK by default, the others do not; the F&S workloads are mlx5 with ACKs, the 10 GbE ones 82599', () => {
    const on = (s: ReadonlyArray<readonly [string, string | number | boolean]>) => s.some(([k, v]) => k === 'nic.acks' && v === true);
    expect(on(findGenerator('nic-tcp')!.defaults)).toBe(true);
    expect(on(findGenerator('nic-fs-multiflow')!.defaults)).toBe(true);
    for (const g of ['nic-udp64', 'nic-memcached', 'nic-pcap']) expect(on(findGenerator(g)!.defaults)).toBe(false);
    for (const w of ['nic-100g-fs-5flows', 'nic-100g-fs-40flows']) {
      const c = specConfig(findWorkload(w)!);
      expect(c.nic).toMatchObject({ model: 'mlx5', acks: true, strideWqePages: 64 });
    }
    for (const w of ['nic-10g-tcp', 'nic-10g-udp64', 'nic-10g-memcached']) {
      expect(specConfig(findWorkload(w)!).nic.model).toBe('82599');
    }
  });
});

describe('MSI-X interrupts are not DMA rows', () => {
  it('no row in the interrupt range 0xfee00000–0xfeefffff; every DMA row is a payload, descriptor, completion, doorbell or ACK', () => {
    const frames = syntheticPackets({ count: 4000, sizeMix: [[60, 3], [1514, 1]], rateGbps: 40, flows: 16, seed: 9, dir: 'by-flow', l4: 6 });
    for (const model of ['82599', 'mlx5']) {
      const { trace, stats } = nicTrace(frames, resolveNicConfig({ 'nic.model': model, 'nic.queues': 4, 'nic.acks': true, 'nic.moderation.usecs': 0 }), { device: DEV });
      expect(stats.interrupts).toBeGreaterThan(100);
      for (let i = 0; i < trace.count; i++) {
        const a = trace.iovaHi[i] * 2 ** 32 + trace.iovaLo[i];
        if (a >= 0xfee00000 && a <= 0xfeefffff) throw new Error(`row ${i} (${OP_NAMES[trace.op[i]]}) in the MSI range`);
      }
      const dma = count(trace, OP_DMA);
      expect(dma).toBe(stats.descriptorReads + stats.descriptorWrites + stats.doorbellReads + dmaOf(trace, KIND_DATA) + dmaOf(trace, KIND_ACK));
      expect(dmaOf(trace, KIND_DESC)).toBe(stats.descriptorReads);
      expect(dmaOf(trace, KIND_CQE)).toBe(stats.descriptorWrites);
      expect(dmaOf(trace, KIND_DOORBELL)).toBe(stats.doorbellReads);
      expect(stats.eqeWrites).toBe(model === 'mlx5' ? stats.interrupts : 0);
    }
  });
});

describe('nic knobs of issue #15', () => {
  it('defaults, and one-line errors naming the key', () => {
    expect(resolveNicConfig({})).toMatchObject({ model: '82599', strideWqePages: 64, cqeCompression: false, acks: false, ackEvery: 2, ackBytes: 66 });
    const err = (s: Record<string, unknown>): string => {
      try { resolveNicConfig(s); } catch (e) { expect(e).toBeInstanceOf(InputError); expect((e as Error).message).not.toContain('\n'); return (e as Error).message; }
      throw new Error('no error');
    };
    expect(err({ 'nic.model': 'cx7' })).toMatch(/nic\.model=cx7: unknown value; use one of 82599, mlx5/);
    expect(err({ 'nic.ackEvery': 0 })).toMatch(/nic\.ackEvery=0: below the minimum 1/);
    expect(err({ 'nic.model': 'mlx5', 'nic.strideWqePages': 1, 'nic.bufferBytes': 9000 })).toMatch(/nic\.strideWqePages=1: a WQE of 4096 B holds no stride of 12288 B \(nic\.bufferBytes=9000\); use nic\.strideWqePages ≥ 3/);
    expect(err({ 'nic.strideWqePages': 513 })).toMatch(/above the maximum 512 pages/);
  });
});

// ------------------------------------------------------------------ 82599 unchanged

/** SHA-256 (first 16 hex digits) of the ten columns of issue #14 and the device table: everything but `kind`. */
function digest(t: TraceColumns): string {
  const h = createHash('sha256');
  for (const c of ['timeNs', 'device', 'pasid', 'op', 'iovaHi', 'iovaLo', 'size', 'dir', 'paddrHi', 'paddrLo'] as const) {
    const a = t[c].subarray(0, t.count);
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  h.update(JSON.stringify(t.devices));
  return h.digest('hex').slice(0, 16);
}

describe('nic.model=82599 traces are those of before issue #15, but for the kind column', () => {
  // Digests of the traces the code before issue #15 (commit 581d882) generated for these inputs. The
  // TCP generators now ACK by default (nic.acks) and the F&S workloads are mlx5: those are set back.
  const OLD: Array<[string, Array<[string, string]>, number, string]> = [
    ['nic-10g-tcp', [['nic.acks', 'false']], 69890, 'c795dfa478d3f78a'],
    ['nic-10g-udp64', [], 171411, '6020e0b3ea436463'],
    ['nic-10g-memcached', [], 106967, 'be14db7aa1a1f82f'],
    ['nic-100g-fs-5flows', [['nic.acks', 'false'], ['nic.model', '82599']], 141087, '746370bc3b103417'],
    ['nic-100g-fs-40flows', [['workload.count', '4000'], ['nic.acks', 'false'], ['nic.model', '82599']], 26156, 'f88b098300a74234'],
    ['nic-10g-tcp', [['nic.iovaPolicy', 'page-pool'], ['workload.dir', 'by-flow'], ['nic.acks', 'false']], 37754, '253984d94432f3cf'],
    ['nic-10g-udp64', [['nic.iovaPolicy', 'hugepage'], ['workload.dir', 'tx'], ['iommu.mode', 'strict']], 106870, '38edb323feab1411'],
    ['nic-10g-memcached', [['nic.moderation.usecs', '0'], ['nic.bufferBytes', '512'], ['workload.dir', 'by-flow']], 161991, '21b1776efb4374d6'],
    ['gpu-uvm-faults', [], 2049, 'd2de543b9aca99cc'],
    ['gpu-pageable-copies', [], 65537, '45532e276bdaf641'],
  ];
  for (const [w, set, n, d] of OLD) {
    it(`${w} ${set.map(([k, v]) => `${k}=${v}`).join(' ')}`, () => {
      const t = resolveInput(w, set)[0].columns!;
      expect(t.count).toBe(n);
      expect(digest(t)).toBe(d);
      if (w.startsWith('gpu')) expect(t.kind.every((k) => k === KIND_DATA)).toBe(true); // copy-engine DMAs are data
      else {
        // every descriptor fetch is desc, every write-back cqe, payload data
        expect(dmaOf(t, KIND_DESC)).toBeGreaterThan(0);
        expect(dmaOf(t, KIND_CQE)).toBeGreaterThan(0);
        expect(dmaOf(t, KIND_DOORBELL) + dmaOf(t, KIND_ACK)).toBe(0);
      }
    });
  }

  it('nic-10g-tcp with its default ACKs: the same received frames plus one ACK per two segments', () => {
    const t = resolveInput('nic-10g-tcp', [])[0].columns!;
    const acks = count(t, OP_DMA, (i) => t.kind[i] === KIND_ACK);
    expect(acks).toBeGreaterThanOrEqual(20000 / 2 - 4); // 4 queues: at most one segment left unacknowledged each
    expect(acks).toBeLessThanOrEqual(20000 / 2);
    expect(count(t, OP_DMA, (i) => t.kind[i] === KIND_DATA)).toBe(20000);
    const cfg = buildConfig([['iommu.mode', 'strict']]);
    const iommu = new Iommu(cfg);
    const kinds = new KindCounts();
    const dma = replayFunctional(t, iommu, cfg, undefined, true, kinds);
    expect(dma.dropped).toBe(0);
    const ack = kinds.metrics().find((k) => k.kind === 'ack')!;
    expect(ack.requests).toBe(acks);
    expect(ack.bytes).toBe(acks * 66);
  });
});
