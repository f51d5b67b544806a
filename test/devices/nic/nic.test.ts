import { packets, traceRows } from './packets.js';
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { nicTrace, resolveNicConfig, syntheticPackets, HUGE_PAGE_BYTES, type NicStats } from '../../../src/devices/nic/nic.js';
import type { PacketColumns } from '../../../src/trace/importers/pcap.js';
import { parseCapture } from '../../../src/trace/importers/pcap.js';
import { type TraceColumns, OP_DMA, OP_MAP, OP_UNMAP, DIR_READ, DIR_WRITE, DIR_RW, OP_NAMES, hexAddr, pageOf } from '../../../src/trace/columns.js';
import { buildConfig } from '../../../src/config/config.js';
import { Iommu } from '../../../src/iommu/iommu.js';
import { replayFunctional } from '../../../src/run/functional.js';
import { InputError } from '../../../src/util/errors.js';

// A real capture shipped with the nic-real-iperf3 workload (provenance: workloads/captures/README.md).
const DATA = new URL('../../../workloads/captures/', import.meta.url);
const DEV = '0000:01:00.0';

/** Packets from [timeNs, origLen, dir (1 RX, 2 TX, 0 unknown; default 1), flowHash (default 0)]. */
const pk = (list: Array<[number, number, number?, number?]>): PacketColumns => packets(list);

const DIRS = ['', 'read', 'write', 'rw'];
const rows = (t: TraceColumns, from = 0): string[] => traceRows(t, from, false);

/** One queue, rings of 8, fetch batch 4, write-back batch 4, a 10 µs moderation timer only, strict. */
const small = (o: Record<string, unknown> = {}) => resolveNicConfig({
  'nic.queues': 1, 'nic.rss': false, 'nic.rxRing.entries': 8, 'nic.txRing.entries': 8,
  'nic.descFetchBatch': 4, 'nic.writebackBatch': 4, 'nic.moderation.packets': 0, 'nic.moderation.usecs': 10,
  'nic.iova.fqEntries': 0, ...o,
});

const SETUP_SMALL = [
  '0 map 0xfffff000 4096 rw 0x100000000', // TX ring (ixgbe_open sets the TX rings up first)
  '0 map 0xffffe000 4096 rw 0x100001000', // RX ring
  '0 map 0xffffd000 2048 write 0x200000000', // 7 = 8 − 1 RX buffers, top-down IOVAs, page offsets kept
  '0 map 0xffffc800 2048 write 0x200000800',
  '0 map 0xffffb000 2048 write 0x200001000',
  '0 map 0xffffa800 2048 write 0x200001800',
  '0 map 0xffff9000 2048 write 0x200002000',
  '0 map 0xffff8800 2048 write 0x200002800',
  '0 map 0xffff7000 2048 write 0x200003000',
];

/**
 * Invariants every NIC trace keeps, checked independently of the IOMMU model: times never go back;
 * a map covers only unmapped pages; an unmap undoes exactly one live map; every DMA falls in live
 * maps whose direction allows it. Returns the number of maps still live at the end.
 */
function checkTrace(t: TraceColumns): number {
  const perm = new Map<number, number>();
  const live = new Map<string, number>();
  let last = -Infinity;
  for (let i = 0; i < t.count; i++) {
    const time = t.timeNs[i];
    if (time < last) throw new Error(`row ${i}: time ${time} after ${last}`);
    last = time;
    const pn = pageOf(t.iovaHi[i], t.iovaLo[i]);
    const off = t.iovaLo[i] & 0xfff;
    const size = t.size[i];
    const key = `${pn}:${off}:${size}`;
    if (t.op[i] === OP_MAP) {
      const pages = Math.ceil(size / 4096); // as the replay maps
      if (Math.floor((off + size - 1) / 4096) + 1 !== pages) throw new Error(`row ${i}: a map crossing a page boundary its size does not cover`);
      for (let p = pn; p < pn + pages; p++) {
        if (perm.has(p)) throw new Error(`row ${i}: page ${p.toString(16)} mapped twice`);
        perm.set(p, t.dir[i]);
      }
      live.set(key, pages);
    } else if (t.op[i] === OP_UNMAP) {
      const pages = live.get(key);
      if (pages === undefined) throw new Error(`row ${i}: unmap of ${key} that is not mapped`);
      live.delete(key);
      for (let p = pn; p < pn + pages; p++) perm.delete(p);
    } else if (t.op[i] === OP_DMA) {
      expect(size).toBeGreaterThan(0);
      const last = pn + Math.floor((off + size - 1) / 4096);
      for (let p = pn; p <= last; p++) {
        const d = perm.get(p);
        if (d === undefined) throw new Error(`row ${i}: DMA to unmapped page ${p.toString(16)}`);
        const need = t.dir[i] === DIR_WRITE ? DIR_WRITE : DIR_READ;
        if (d !== DIR_RW && d !== need) throw new Error(`row ${i}: DMA ${DIRS[need]} to a page mapped ${DIRS[d]}`);
      }
    }
  }
  return live.size;
}

/** Replay through the functional IOMMU model: faults and failed maps. */
function replay(t: TraceColumns, mode: 'lazy' | 'strict', flushQueueEntries?: number): { dropped: number; mapFailed: number } {
  const cfg = buildConfig([['iommu.mode', mode], ...(flushQueueEntries ? [['iommu.flushQueue.entries', flushQueueEntries] as [string, number]] : [])]);
  const iommu = new Iommu(cfg);
  const d = replayFunctional(t, iommu, cfg);
  return { dropped: d.dropped, mapFailed: iommu.mapFailed };
}

function count(t: TraceColumns, op: number, pred: (i: number) => boolean = () => true): number {
  let n = 0;
  for (let i = 0; i < t.count; i++) if (t.op[i] === op && pred(i)) n++;
  return n;
}

describe('nic: hand-computed traces', () => {
  it('3 RX frames of 1514 B, ring 8, fetch batch 4: setup, fetch, payloads, write-back at the timer, unmap + refill in the poll', () => {
    const { trace, stats } = nicTrace(pk([[0, 1514], [1000, 1514], [2000, 1514]]), small(), { device: DEV });
    expect(rows(trace)).toEqual([
      ...SETUP_SMALL,
      '0 dma 0xffffe000 64 read', // fetch min(4 batch, 7 posted, 8 to the ring end) descriptors
      '0 dma 0xffffd000 1514 write',
      '1000 dma 0xffffc800 1514 write',
      '2000 dma 0xffffb000 1514 write',
      '10000 dma 0xffffe000 48 write', // the timer (first completion + 10 µs): the partial write-back, then the interrupt
      '12000 unmap 0xffffd000 2048', // the poll, driver.pollDelayNs = 2 µs later
      '12000 unmap 0xffffc800 2048',
      '12000 unmap 0xffffb000 2048',
      '12000 map 0xffffb800 2048 write 0x200003800', // refill slots 7, 0, 1: IOVAs back from the magazine, last in first out
      '12000 map 0xffffc000 2048 write 0x200004000',
      '12000 map 0xffffd800 2048 write 0x200004800',
    ]);
    expect(stats).toMatchObject<Partial<NicStats>>({
      packets: 3, rxPackets: 3, txPackets: 0, rxDropped: 0, interrupts: 1, napiPolls: 1, doorbells: 2,
      descriptorReads: 1, descriptorWrites: 1, payloadBytes: 3 * 1514, maps: 12, unmaps: 3,
      iovaCacheHits: 3, iovaCacheMisses: 9, distinctIovaPages: 4, records: 20,
    });
    expect(checkTrace(trace)).toBe(2 + 7);
  });

  it('moderation every N packets: the 2nd completion interrupts; a frame arriving while masked waits for the re-armed timer', () => {
    const { trace, stats } = nicTrace(pk([[0, 1514], [1000, 1514], [2000, 1514]]), small({ 'nic.moderation.packets': 2 }), { device: DEV });
    expect(rows(trace, SETUP_SMALL.length)).toEqual([
      '0 dma 0xffffe000 64 read',
      '0 dma 0xffffd000 1514 write',
      '1000 dma 0xffffc800 1514 write',
      '1000 dma 0xffffe000 32 write', // 2 completions: interrupt, flushing 2 write-backs
      '2000 dma 0xffffb000 1514 write', // masked until the poll
      '3000 unmap 0xffffd000 2048',
      '3000 unmap 0xffffc800 2048',
      '3000 map 0xffffc800 2048 write 0x200003800',
      '3000 map 0xffffd000 2048 write 0x200004000',
      '12000 dma 0xffffe020 16 write', // re-armed by the poll: 2000 + 10 µs
      '14000 unmap 0xffffb000 2048',
      '14000 map 0xffffb800 2048 write 0x200004800',
    ]);
    expect(stats.interrupts).toBe(2);
    expect(stats.napiPolls).toBe(2);
    expect(stats.doorbells).toBe(3);
  });

  it('moderation every T µs, and off (0 µs: an interrupt per completion)', () => {
    const frames = pk(Array.from({ length: 40 }, (_, i) => [i * 1000, 1514] as [number, number]));
    const cfg = (packets: number, usecs: number) => resolveNicConfig({ 'nic.queues': 1, 'nic.moderation.packets': packets, 'nic.moderation.usecs': usecs, 'nic.driver.pollDelayNs': 0 });
    // a frame every µs: a 10 µs timer covers 10 frames (0..9 → interrupt at 10 µs, and so on)
    expect(nicTrace(frames, cfg(0, 10), { device: DEV }).stats.interrupts).toBe(4);
    expect(nicTrace(frames, cfg(0, 0), { device: DEV }).stats.interrupts).toBe(40);
    expect(nicTrace(frames, cfg(5, 1000), { device: DEV }).stats.interrupts).toBe(8);
    expect(nicTrace(frames, cfg(5, 2.5), { device: DEV }).stats.interrupts).toBe(14); // 3 frames per 2.5 µs window: ceil(40 / 3)
  });

  it('a TX frame: map, doorbell, descriptor read, payload read, completion write-back, unmap in the poll', () => {
    const { trace, stats } = nicTrace(pk([[0, 1514, 2]]), small({ 'nic.writebackBatch': 1, 'nic.moderation.packets': 1 }), { device: DEV });
    expect(rows(trace, SETUP_SMALL.length)).toEqual([
      '0 map 0xffff6000 1514 read 0x200008000', // the next IOVA down; TX buffers after the RX ones physically
      '0 dma 0xfffff000 16 read', // the TX descriptor
      '0 dma 0xffff6000 1514 read',
      '0 dma 0xfffff000 16 write', // its completion
      '2000 unmap 0xffff6000 1514',
    ]);
    expect(stats).toMatchObject({ txPackets: 1, interrupts: 1, doorbells: 2, descriptorReads: 1, descriptorWrites: 1, maps: 10, unmaps: 1, payloadBytes: 1514 });
  });

  it('a frame larger than bufferBytes spans buffers; descriptor fetches stop at the ring end; a write-back across it is split', () => {
    const frames = pk([[0, 1514], [1000, 1514], [2000, 1514], [3000, 1514], [4000, 5000], [20000, 1514], [20100, 1514]]);
    const { trace, stats } = nicTrace(frames, small(), { device: DEV });
    checkTrace(trace);
    const ring = rows(trace).filter((r) => r.includes(' dma 0xffffe'));
    expect(ring).toEqual([
      '0 dma 0xffffe000 64 read', // slots 0-3
      '3000 dma 0xffffe000 64 write', // 4 completions: a full write-back batch
      '4000 dma 0xffffe040 48 read', // slots 4-6: only 3 posted
      '10000 dma 0xffffe040 48 write',
      '20000 dma 0xffffe070 16 read', // slot 7: the fetch stops at the ring end
      '20100 dma 0xffffe000 64 read', // slots 0-3
      '30000 dma 0xffffe070 16 write', // slots 7, 0: split in two writes
      '30000 dma 0xffffe000 16 write',
    ]);
    expect(rows(trace).filter((r) => r.startsWith('4000 dma'))).toEqual([
      '4000 dma 0xffffe040 48 read',
      '4000 dma 0xffff9000 2048 write',
      '4000 dma 0xffff8800 2048 write',
      '4000 dma 0xffff7000 904 write',
    ]);
    expect(stats.payloadBytes).toBe(6 * 1514 + 5000);
    expect(stats.unmaps).toBe(4 + 3 + 2); // the 5000 B frame held three buffers
  });

  it('drops an RX frame when too few buffers are posted, and a TX frame when the ring is full', () => {
    const cfg = small({ 'nic.rxRing.entries': 4, 'nic.txRing.entries': 4 });
    const r = nicTrace(pk([[0, 9000], [1, 1514], [2, 1514], [3, 1514], [4, 1514], [5, 1514, 2], [6, 1514, 2], [7, 1514, 2], [8, 1514, 2]]), cfg, { device: DEV });
    // 9000 B needs 5 buffers of 3 posted; then 3 frames fit before the poll refills at 12 µs; TX: 3 of 4 usable
    expect(r.stats).toMatchObject({ rxPackets: 3, rxDropped: 2, txPackets: 3, txDropped: 1 });
    expect(r.stats.payloadBytes).toBe(6 * 1514);
    checkTrace(r.trace);
  });

  it('NAPI budget: each poll cleans at most napiBudget frames, refills them and rings the doorbell once', () => {
    const frames = pk(Array.from({ length: 5 }, (_, i) => [i * 100, 1514] as [number, number]));
    const r = nicTrace(frames, small({ 'nic.napiBudget': 2 }), { device: DEV });
    expect(r.stats).toMatchObject({ interrupts: 1, napiPolls: 3, doorbells: 1 + 3 });
    const polls = rows(r.trace).filter((x) => x.startsWith('12000'));
    expect(polls.map((x) => x.split(' ')[1])).toEqual(['unmap', 'unmap', 'map', 'map', 'unmap', 'unmap', 'map', 'map', 'unmap', 'map']);
  });

  it('RSS spreads flows over the queues (hash & 127 → queue mod queues); direction from the capture, else nic.direction', () => {
    const frames = pk([[0, 100, 0, 0], [1, 100, 0, 1], [2, 100, 0, 2], [3, 100, 0, 3 + 128], [4, 100, 0, 0x80]]);
    const base = { 'nic.queues': 4, 'nic.rxRing.entries': 8, 'nic.txRing.entries': 8 };
    const rx = nicTrace(frames, resolveNicConfig(base), { device: DEV });
    expect(rx.stats).toMatchObject({ rxPackets: 5, txPackets: 0 });
    // each queue fetched descriptors from its own RX ring: 4 distinct rings read
    const rings = new Set<string>();
    for (const r of rows(rx.trace)) if (r.endsWith(' 64 read')) rings.add(r.split(' ')[2]);
    expect(rings.size).toBe(4);
    expect(nicTrace(frames, resolveNicConfig({ ...base, 'nic.direction': 'tx' }), { device: DEV }).stats.txPackets).toBe(5);
    const byFlow = nicTrace(frames, resolveNicConfig({ ...base, 'nic.direction': 'both-by-flow' }), { device: DEV });
    expect(byFlow.stats).toMatchObject({ rxPackets: 3, txPackets: 2 }); // hash bit 7 set: 3 + 128 and 0x80
    const known = pk([[0, 100, 2], [1, 100, 1]]);
    expect(nicTrace(known, resolveNicConfig({ ...base, 'nic.direction': 'tx' }), { device: DEV }).stats).toMatchObject({ rxPackets: 1, txPackets: 1 });
  });
});

describe('nic: IOVA policies', () => {
  const frames = (n: number, dir: 'rx' | 'by-flow' = 'rx', seed = 5) => syntheticPackets({ count: n, sizeBytes: 1514, rateGbps: 10, flows: 32, seed, dir });
  const two = { 'nic.queues': 2, 'nic.rxRing.entries': 64, 'nic.txRing.entries': 64 };

  it('per-packet, strict: one map and one unmap per frame, every refill reusing an IOVA through the magazine', () => {
    const { trace, stats } = nicTrace(frames(5000), resolveNicConfig({ ...two, 'nic.iova.fqEntries': 0 }), { device: DEV });
    const setupMaps = 2 * 2 + 2 * 63;
    expect(stats.rxPackets).toBe(5000);
    expect(stats.maps).toBe(setupMaps + 5000);
    expect(stats.unmaps).toBe(5000);
    expect(stats.iovaCacheMisses).toBe(setupMaps);
    expect(stats.iovaCacheHits).toBe(5000);
    expect(stats.distinctIovaPages).toBe(2 * 63 + 2); // the posted buffers and the RX rings, however long it runs
    expect(checkTrace(trace)).toBe(setupMaps);
    expect(replay(trace, 'strict')).toEqual({ dropped: 0, mapFailed: 0 });
  });

  it('per-packet, lazy: an unmapped IOVA is reused only after the flush (fqEntries unmaps)', () => {
    const { trace, stats } = nicTrace(frames(1000), resolveNicConfig({ ...two, 'nic.iova.fqEntries': 100 }), { device: DEV });
    const setupMaps = 2 * 2 + 2 * 63;
    // until 100 unmaps are pending every refill is a fresh IOVA from the tree
    const mapsAfterSetup: number[] = [];
    let unmapsSeen = 0;
    const unmappedBefore = new Set<number>();
    for (let i = 0; i < trace.count; i++) {
      const pn = pageOf(trace.iovaHi[i], trace.iovaLo[i]);
      if (trace.op[i] === OP_UNMAP) { unmapsSeen++; unmappedBefore.add(pn); }
      if (trace.op[i] === OP_MAP && trace.timeNs[i] > 0) {
        mapsAfterSetup.push(pn);
        if (unmapsSeen < 100) expect(unmappedBefore.has(pn)).toBe(false);
      }
    }
    expect(mapsAfterSetup.some((pn) => unmappedBefore.has(pn))).toBe(true);
    expect(stats.iovaCacheMisses).toBeGreaterThan(setupMaps + 90);
    expect(replay(trace, 'lazy', 100)).toEqual({ dropped: 0, mapFailed: 0 });
  });

  it('page-pool: maps only at start (each page of the pools once), never unmaps', () => {
    const { trace, stats } = nicTrace(frames(3000, 'by-flow'), resolveNicConfig({ ...two, 'nic.iovaPolicy': 'page-pool' }), { device: DEV });
    expect(stats.maps).toBe(2 * 2 + 2 * (32 + 32)); // rings + 64 RX and 64 TX buffers of 2 KiB, 2 per page
    expect(count(trace, OP_MAP, (i) => trace.timeNs[i] !== 0)).toBe(0);
    expect(count(trace, OP_MAP, (i) => trace.size[i] === 4096)).toBe(stats.maps);
    expect(stats.unmaps).toBe(0);
    expect(stats.iovaCacheHits).toBe(0);
    expect(stats.rxPackets + stats.txPackets).toBe(3000);
    checkTrace(trace);
    expect(replay(trace, 'strict')).toEqual({ dropped: 0, mapFailed: 0 });
  });

  it('hugepage: buffers in 2 MiB maps, 2 MiB-aligned in IOVA and physical memory', () => {
    const { trace, stats } = nicTrace(frames(3000, 'by-flow'), resolveNicConfig({ ...two, 'nic.iovaPolicy': 'hugepage' }), { device: DEV });
    const huge: number[] = [];
    for (let i = 0; i < trace.count; i++) {
      if (trace.op[i] !== OP_MAP || trace.size[i] !== HUGE_PAGE_BYTES) continue;
      const iova = trace.iovaHi[i] * 2 ** 32 + trace.iovaLo[i];
      const pa = trace.paddrHi[i] * 2 ** 32 + trace.paddrLo[i];
      expect(iova % HUGE_PAGE_BYTES).toBe(0);
      expect(pa % HUGE_PAGE_BYTES).toBe(0);
      expect(trace.dir[i]).toBe(DIR_RW);
      huge.push(iova);
    }
    expect(huge.length).toBe(2); // 128 buffers of 2 KiB per queue fit one 2 MiB page
    expect(stats.maps).toBe(2 * 2 + 2);
    expect(stats.unmaps).toBe(0);
    // every payload DMA lands inside a huge page
    for (let i = 0; i < trace.count; i++) {
      if (trace.op[i] !== OP_DMA || trace.size[i] < 1514) continue;
      const iova = trace.iovaHi[i] * 2 ** 32 + trace.iovaLo[i];
      expect(huge.some((h) => iova >= h && iova + trace.size[i] <= h + HUGE_PAGE_BYTES)).toBe(true);
    }
    checkTrace(trace);
    expect(replay(trace, 'lazy')).toEqual({ dropped: 0, mapFailed: 0 });
  });
});

describe('nic: the IOVA working set (Rubin et al., SOSP 2024 §2.1: 2 × cores × MTU × ring size)', () => {
  const Q = 2, R = 64;
  const base = { 'nic.queues': Q, 'nic.rxRing.entries': R, 'nic.txRing.entries': R };
  const both = syntheticPackets({ count: 20000, sizeBytes: 1514, rateGbps: 10, flows: 64, seed: 11, dir: 'by-flow' });

  it('premapped buffers: active IOVA pages = 2 × queues × ring × buffer pages, plus the rings', () => {
    for (const policy of ['page-pool', 'hugepage']) {
      const s = nicTrace(both, resolveNicConfig({ ...base, 'nic.iovaPolicy': policy }), { device: DEV }).stats;
      expect(s.distinctIovaPages).toBe(2 * Q * R * (2048 / 4096) + 2 * Q);
    }
  });

  it('per-packet with both rings full (TX bursts of a ring): ≈ 2 × queues × ring pages (one IOVA page per buffer)', () => {
    const list: Array<[number, number, number, number]> = [];
    for (let round = 0; round < 20; round++) {
      const t0 = round * 1e6;
      for (let q = 0; q < Q; q++) {
        for (let k = 0; k < R - 1; k++) list.push([t0, 1514, 2, q]); // a burst that fills the TX ring
      }
      for (let k = 0; k < 2 * (R - 1); k++) list.push([t0 + 10_000 + k * 1230, 1514, 1, k % Q]);
    }
    const { trace, stats } = nicTrace(pk(list), resolveNicConfig({ ...base, 'nic.iova.fqEntries': 0 }), { device: DEV });
    expect(stats.rxDropped + stats.txDropped).toBe(0);
    const rubin = 2 * Q * R;
    expect(stats.distinctIovaPages).toBeGreaterThanOrEqual(2 * Q * (R - 1));
    expect(stats.distinctIovaPages).toBeLessThanOrEqual(rubin * 1.05);
    expect(replay(trace, 'strict')).toEqual({ dropped: 0, mapFailed: 0 });
  });

  it('per-packet, RX only: queues × (ring − 1) in strict mode; lazy mode adds the IOVAs waiting for a flush', () => {
    const rx = syntheticPackets({ count: 20000, sizeBytes: 1514, rateGbps: 10, flows: 64, seed: 11 });
    const strict = nicTrace(rx, resolveNicConfig({ ...base, 'nic.iova.fqEntries': 0 }), { device: DEV }).stats;
    expect(strict.distinctIovaPages).toBe(Q * (R - 1) + Q);
    const fq = 100;
    const lazy = nicTrace(rx, resolveNicConfig({ ...base, 'nic.iova.fqEntries': fq }), { device: DEV }).stats;
    expect(lazy.distinctIovaPages).toBeGreaterThanOrEqual(Q * (R - 1) + Q + fq - 1);
    expect(lazy.distinctIovaPages).toBeLessThanOrEqual(Q * (R - 1) + Q + fq + Q * 64); // + what the per-CPU caches spread
  });
});

describe('nic: determinism and synthetic packets', () => {
  it('the same seed gives identical packets and identical trace columns; another seed does not', () => {
    const opts = { count: 3000, sizeMix: [[64, 3], [576, 1], [1514, 4]] as Array<[number, number]>, rateGbps: 25, flows: 100, seed: 42, dir: 'by-flow' as const };
    const a = syntheticPackets(opts), b = syntheticPackets(opts), c = syntheticPackets({ ...opts, seed: 43 });
    for (const k of ['tsNs', 'origLen', 'dir', 'flowHash'] as const) expect(a[k]).toEqual(b[k]);
    expect(a.origLen).not.toEqual(c.origLen);
    const cfg = resolveNicConfig({ 'nic.queues': 3 });
    const ta = nicTrace(a, cfg, { device: DEV }).trace, tb = nicTrace(b, cfg, { device: DEV }).trace;
    for (const k of ['timeNs', 'op', 'iovaHi', 'iovaLo', 'size', 'dir', 'paddrHi', 'paddrLo', 'device', 'pasid'] as const) expect(ta[k]).toEqual(tb[k]);
    expect(ta.devices).toEqual([DEV]);
  });

  it('frames arrive back to back at the line rate, 24 B of preamble, FCS and gap each (short frames padded to 60 B)', () => {
    const p = syntheticPackets({ count: 3, sizeBytes: 1514, rateGbps: 10, flows: 1, seed: 1 });
    expect(Array.from(p.tsNs)).toEqual([0, 1230.4, 2460.8]); // (1514 + 24) × 8 bits / 10 Gb/s
    expect(syntheticPackets({ count: 2, sizeBytes: 64, rateGbps: 10, flows: 1, seed: 1 }).tsNs[1]).toBeCloseTo(70.4, 9);
    expect(syntheticPackets({ count: 2, sizeBytes: 42, rateGbps: 10, flows: 1, seed: 1 }).tsNs[1]).toBeCloseTo(67.2, 9);
    const mix = syntheticPackets({ count: 20000, sizeMix: [[64, 3], [1514, 1]], rateGbps: 100, flows: 8, seed: 3, dir: 'tx' });
    const small = mix.origLen.filter((x) => x === 64).length;
    expect(small / 20000).toBeCloseTo(0.75, 1);
    expect(new Set(mix.flowHash).size).toBe(8);
    expect(mix.dir.every((d) => d === 2)).toBe(true);
    const byFlow = syntheticPackets({ count: 1000, sizeBytes: 100, rateGbps: 1, flows: 4, seed: 3, dir: 'by-flow' });
    expect(new Set(byFlow.dir)).toEqual(new Set([1, 2]));
  });

  it('bad synthetic options are one-line InputErrors naming the option', () => {
    const bad = (o: object, re: RegExp) => {
      let err: unknown;
      try { syntheticPackets({ count: 1, sizeBytes: 100, rateGbps: 1, flows: 1, seed: 1, ...o } as never); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain('\n');
    };
    bad({ rateGbps: 0 }, /^syntheticPackets rateGbps=0: not a positive number; /);
    bad({ count: -1 }, /^syntheticPackets count=-1: /);
    bad({ flows: 0 }, /^syntheticPackets flows=0: /);
    bad({ sizeBytes: 0 }, /^syntheticPackets sizeBytes=0: /);
    bad({ sizeBytes: undefined }, /^syntheticPackets sizeBytes=undefined: missing; give sizeBytes or sizeMix/);
    bad({ sizeBytes: undefined, sizeMix: [[64, -1]] }, /^syntheticPackets sizeMix\[0\]\[1\]=-1: /);
    bad({ dir: 'up' }, /^syntheticPackets dir="up": unknown direction; use rx, tx, unknown or by-flow/);
  });

  it('bad device or maxPackets are InputErrors; maxPackets cuts the input', () => {
    const p = syntheticPackets({ count: 100, sizeBytes: 100, rateGbps: 1, flows: 1, seed: 1 });
    expect(() => nicTrace(p, resolveNicConfig({}), { device: 'eth0' })).toThrow(/^nicTrace device: 'eth0' is not a PCI address; /);
    expect(() => nicTrace(p, resolveNicConfig({}), { device: DEV, maxPackets: -2 })).toThrow(InputError);
    expect(nicTrace(p, resolveNicConfig({}), { device: '01:00.0', maxPackets: 10 }).stats.packets).toBe(10);
  });
});

describe('nic: properties of every trace', () => {
  it('time order, maps/unmaps/DMAs consistent, bytes conserved, and the IOMMU model never faults', () => {
    fc.assert(fc.property(
      fc.record({
        queues: fc.integer({ min: 1, max: 3 }),
        rx: fc.integer({ min: 2, max: 24 }),
        tx: fc.integer({ min: 2, max: 24 }),
        desc: fc.constantFrom(16, 32, 64),
        fetch: fc.integer({ min: 1, max: 9 }),
        wb: fc.integer({ min: 1, max: 9 }),
        modP: fc.integer({ min: 0, max: 6 }),
        modUs: fc.constantFrom(0, 0.5, 3, 20),
        budget: fc.integer({ min: 1, max: 8 }),
        poll: fc.constantFrom(0, 500, 2000),
        buf: fc.constantFrom(256, 1000, 2048, 4096, 9000),
        policy: fc.constantFrom('per-packet', 'page-pool', 'hugepage'),
        fq: fc.constantFrom(0, 1, 7, 256),
        dir: fc.constantFrom('rx', 'tx', 'both-by-flow'),
      }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 20000 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })), { maxLength: 120 }),
      (k, raw) => {
        let t = 0;
        const list = raw.map(([dt, len, dir, hash]) => { t += dt; return [t, len, dir, hash] as [number, number, number, number]; });
        const mode = k.fq === 0 ? 'strict' : 'lazy';
        // one set of settings for both: the NIC follows the IOMMU's flush queue
        const settings: Record<string, string | number> = {
          'iommu.mode': mode, 'iommu.flushQueue.entries': Math.max(1, k.fq),
          'nic.queues': k.queues, 'nic.rxRing.entries': k.rx, 'nic.txRing.entries': k.tx, 'nic.descriptorBytes': k.desc,
          'nic.descFetchBatch': k.fetch, 'nic.writebackBatch': k.wb, 'nic.moderation.packets': k.modP, 'nic.moderation.usecs': k.modUs,
          'nic.napiBudget': k.budget, 'nic.driver.pollDelayNs': k.poll, 'nic.bufferBytes': k.buf, 'nic.iovaPolicy': k.policy,
          'nic.direction': k.dir,
        };
        const cfg = resolveNicConfig(settings);
        expect(cfg.iova.fqEntries).toBe(k.fq);
        const { trace, stats } = nicTrace(pk(list), cfg, { device: DEV });
        const live = checkTrace(trace);
        expect(stats.records).toBe(trace.count);
        expect(stats.maps).toBe(count(trace, OP_MAP));
        expect(stats.unmaps).toBe(count(trace, OP_UNMAP));
        expect(stats.packets).toBe(list.length);
        expect(stats.rxPackets + stats.txPackets + stats.rxDropped + stats.txDropped + stats.emptyPackets).toBe(list.length);
        // every delivered byte is moved by a payload DMA; the other DMAs hit the rings (the first 2 × queues maps)
        const ringPages = new Set<number>();
        for (let j = 0, m = 0; j < trace.count && m < 2 * k.queues; j++) {
          if (trace.op[j] !== OP_MAP) continue;
          m++;
          const pn = pageOf(trace.iovaHi[j], trace.iovaLo[j]);
          for (let p = 0; p < trace.size[j] / 4096; p++) ringPages.add(pn + p);
        }
        let payload = 0;
        for (let i = 0; i < trace.count; i++) {
          if (trace.op[i] === OP_DMA && !ringPages.has(pageOf(trace.iovaHi[i], trace.iovaLo[i]))) payload += trace.size[i];
        }
        expect(payload).toBe(stats.payloadBytes);
        // nothing left half-done: per-packet, only the rings and the posted RX buffers stay mapped
        if (k.policy === 'per-packet') {
          expect(live).toBe(stats.maps - stats.unmaps);
          expect(live).toBe(2 * k.queues + k.queues * (k.rx - 1));
        }
        const cfgIommu = buildConfig(Object.entries(settings).filter(([key]) => key.startsWith('iommu.')));
        const iommu = new Iommu(cfgIommu);
        expect(replayFunctional(trace, iommu, cfgIommu).dropped).toBe(0);
        expect(iommu.mapFailed).toBe(0);
      }), { numRuns: 120 });
  });
});

describe('nic: the iperf3 capture', () => {
  const cap = parseCapture(readFileSync(new URL('tcp_iperf3_mtu1500_100M_snap128.pcap', DATA)), 'tcp_iperf3_mtu1500_100M_snap128.pcap');

  it('every byte of the 18,761 frames lands by DMA (26,142,165 bytes); the IOMMU model faults nowhere', () => {
    let sum = 0;
    for (let i = 0; i < cap.packets.count; i++) sum += cap.packets.origLen[i];
    expect(sum).toBe(26_142_165);
    const { trace, stats } = nicTrace(cap.packets, resolveNicConfig({}), { device: DEV });
    expect(stats.payloadBytes).toBe(26_142_165);
    expect(stats).toMatchObject({ packets: 18_761, rxPackets: 18_761, txPackets: 0, rxDropped: 0, txDropped: 0, unmaps: 18_761 });
    expect(stats.maps).toBe(4 * 2 + 4 * 511 + 18_761);
    expect(stats.interrupts).toBeGreaterThan(0);
    checkTrace(trace);
    expect(replay(trace, 'lazy')).toEqual({ dropped: 0, mapFailed: 0 });
    // strict mode (free at unmap) through the same capture
    const strict = nicTrace(cap.packets, resolveNicConfig({ 'iommu.mode': 'strict' }), { device: DEV });
    expect(strict.stats.payloadBytes).toBe(26_142_165);
    expect(replay(strict.trace, 'strict')).toEqual({ dropped: 0, mapFailed: 0 });
  });
});
