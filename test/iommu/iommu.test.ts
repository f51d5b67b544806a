import { describe, it, expect } from 'vitest';
import { setup, reads, NIC, NIC2, GPU } from './helpers.js';
import { PERM_R, PERM_W, PERM_RW } from '../../src/iommu/pagetable.js';

const G = 262144; // pages per 1 GiB
const M2 = 512; // pages per 2 MiB
const T512 = 512 * G; // pages per 512 GiB

describe('walks and paging-structure caches (4-level)', () => {
  it('a hit at each paging-structure level leaves 1, 2, 3 reads; no hit leaves 4', () => {
    const { iommu, attach } = setup([['iommu.superpages', false]]);
    attach(NIC);
    const base = 5 * T512 + 7 * G + 3 * M2; // some page
    const pages = [base, base + 1, base + M2, base + G, base + T512];
    for (const p of pages) expect(iommu.map(NIC, -1, p, 0x1000 + p % 1000, 1, PERM_RW)).toBe(true);
    const seen: number[] = [];
    let before = reads(iommu);
    for (const p of pages) {
      expect(iommu.translate(NIC, -1, p, false)).toBe(0x1000 + p % 1000);
      const r = reads(iommu);
      seen.push(r - before);
      before = r;
    }
    expect(seen).toEqual([4, 1, 2, 3, 4]);
    const m = iommu.metrics();
    // probes stop at the first hit: pde probed 5×, pdpte 4× (not after the pde hit), pml4e 3×.
    expect(m.pwc.pde).toMatchObject({ hits: 1, misses: 4 });
    expect(m.pwc.pdpte).toMatchObject({ hits: 1, misses: 3 });
    expect(m.pwc.pml4e).toMatchObject({ hits: 1, misses: 2 });
    expect(m.pwc.pml5e.enabled).toBe(false);
    expect(m.walks.count).toBe(5);
    expect(m.contextCache).toMatchObject({ hits: 4, misses: 1, memReads: 2 });
    // the IOTLB now hits
    const w = m.walks.memReads;
    iommu.translate(NIC, -1, base, false);
    expect(reads(iommu)).toBe(w);
    expect(iommu.metrics().iotlb).toMatchObject({ lookups: 6, hits: 1, misses: 5 });
  });

  it('5-level tables: 5 reads cold, 4 after a pml5e hit', () => {
    const { iommu, attach } = setup([['iommu.levels', 5], ['iommu.superpages', false]]);
    attach(NIC);
    const a = 2 ** 40 + 12345; // page number in a 57-bit space
    const b = a + 2 ** 27; // another 512 GiB region, same 256 TiB region
    iommu.map(NIC, -1, a, 1, 1, PERM_RW);
    iommu.map(NIC, -1, b, 2, 1, PERM_RW);
    expect(iommu.translate(NIC, -1, a, true)).toBe(1);
    expect(reads(iommu)).toBe(5);
    expect(iommu.translate(NIC, -1, b, true)).toBe(2);
    expect(reads(iommu)).toBe(9);
    expect(iommu.metrics().pwc.pml5e).toMatchObject({ hits: 1, enabled: true });
  });

  it('a disabled paging-structure cache is never probed', () => {
    const { iommu, attach } = setup([['iommu.pwc.pde.enabled', false], ['iommu.superpages', false]]);
    attach(NIC);
    iommu.map(NIC, -1, 100, 1, 2, PERM_RW);
    iommu.translate(NIC, -1, 100, false);
    iommu.translate(NIC, -1, 101, false); // pde would hit; pdpte hits instead → 2 reads
    expect(reads(iommu)).toBe(6);
    expect(iommu.metrics().pwc.pde).toMatchObject({ hits: 0, misses: 0, enabled: false });
  });
});

describe('large pages', () => {
  it('2 MiB leaf: 3 reads cold, then hits in the 2 MiB IOTLB array for every 4 KiB piece', () => {
    const { iommu, attach } = setup();
    attach(NIC);
    expect(iommu.map(NIC, -1, 3 * M2, 7 * M2, M2, PERM_RW)).toBe(true);
    expect(iommu.translate(NIC, -1, 3 * M2 + 5, false)).toBe(7 * M2 + 5);
    expect(reads(iommu)).toBe(3);
    expect(iommu.translate(NIC, -1, 3 * M2 + 511, false)).toBe(7 * M2 + 511);
    expect(reads(iommu)).toBe(3);
    const m = iommu.metrics();
    expect(m.iotlb.byPageSize['2m']).toMatchObject({ hits: 1, fills: 1 });
    expect(m.iotlb.byPageSize['4k'].fills).toBe(0);
  });
  it('1 GiB leaf: 2 reads cold; superpages=false maps 4 KiB leaves and walks 4', () => {
    const s = setup();
    s.attach(NIC);
    s.iommu.map(NIC, -1, 2 * G, 5 * G, G, PERM_RW);
    expect(s.iommu.translate(NIC, -1, 2 * G + 77777, true)).toBe(5 * G + 77777);
    expect(reads(s.iommu)).toBe(2);
    expect(s.iommu.metrics().iotlb.byPageSize['1g'].fills).toBe(1);
    const t = setup([['iommu.superpages', false]]);
    t.attach(NIC);
    t.iommu.map(NIC, -1, 3 * M2, 7 * M2, M2, PERM_RW);
    expect(t.iommu.translate(NIC, -1, 3 * M2 + 5, false)).toBe(7 * M2 + 5);
    expect(reads(t.iommu)).toBe(4);
  });
  it('uses the largest leaf the alignment of iova, paddr and size allows', () => {
    const { iommu, attach } = setup();
    attach(NIC);
    const t = iommu.tableFor(NIC, -1)!;
    // 2 MiB + 8 KiB at 2 MiB-aligned iova but paddr only 4 KiB aligned → all 4 KiB leaves
    iommu.map(NIC, -1, 10 * M2, 7 * M2 + 1, M2 + 2, PERM_RW);
    expect(Array.from(t.leafCount.slice(1, 4))).toEqual([M2 + 2, 0, 0]);
    // both aligned: one 2 MiB leaf and 2 pages
    iommu.map(NIC, -1, 20 * M2, 30 * M2, M2 + 2, PERM_RW);
    expect(Array.from(t.leafCount.slice(1, 4))).toEqual([M2 + 4, 1, 0]);
  });
});

describe('page-table reclaim', () => {
  it('unmap frees the table pages that become empty', () => {
    const { iommu, attach } = setup();
    attach(NIC);
    const mem = iommu.hostMem;
    const before = mem.inUse; // root table, context table, domain root (PML4)
    iommu.map(NIC, -1, 7 * G + 3, 1, 1, PERM_RW);
    iommu.map(NIC, -1, 7 * G + 4, 2, 1, PERM_RW);
    expect(mem.inUse - before).toBe(3); // PDPT, PD, PT
    iommu.unmap(NIC, -1, 7 * G + 3, 1);
    expect(mem.inUse - before).toBe(3); // PT still holds one entry
    iommu.unmap(NIC, -1, 7 * G + 4, 1);
    expect(mem.inUse - before).toBe(0);
    expect(iommu.metrics().mapping.tablesFreed).toBe(3);
    expect(iommu.translate(NIC, -1, 7 * G + 4, false)).toBe(-1);
  });
  it('unmapping part of a large leaf clears it whole (as Linux reports)', () => {
    const { iommu, attach } = setup();
    attach(NIC);
    iommu.map(NIC, -1, 4 * M2, 8 * M2, M2, PERM_RW);
    expect(iommu.unmap(NIC, -1, 4 * M2 + 10, 1)).toBe(M2);
  });
  it('map over an existing mapping fails and leaves nothing new mapped (-EEXIST)', () => {
    const { iommu, attach } = setup();
    attach(NIC);
    iommu.map(NIC, -1, 100, 1, 1, PERM_RW);
    expect(iommu.map(NIC, -1, 98, 50, 4, PERM_RW)).toBe(false);
    expect(iommu.tableFor(NIC, -1)!.translate(98)).toBe(-1);
    expect(iommu.tableFor(NIC, -1)!.translate(100)).toBe(1);
    expect(iommu.metrics().mapping.mapFailed).toBe(1);
  });
});

describe('nested translation (guest first stage over host second stage)', () => {
  it('a cold walk without caches reads 4 × (4 + 1) + 4 = 24 entries', () => {
    const off = ['pde', 'pdpte', 'pml4e'].map((n) => [`iommu.pwc.${n}.enabled`, false] as [string, boolean]);
    const { iommu, attach } = setup([...off, ['devices.03:00.0.translation', 'nested'], ['vm.s2PageBytes', '4KiB'], ['iommu.superpages', false]]);
    attach(NIC);
    const gpa = 0x10000; // guest-physical page 64 KiB... as a frame number: 0x10000 = 256 MiB
    expect(iommu.map(NIC, -1, 0x12345, gpa, 1, PERM_RW)).toBe(true);
    const hpa = iommu.translate(NIC, -1, 0x12345, true);
    expect(hpa).toBe(0x100_0000 + gpa); // guest RAM is backed at 64 GiB
    const m = iommu.metrics();
    expect(m.walks.memReads).toBe(24);
    expect(m.walks.nestedS2Reads).toBe(20);
    expect(m.walks.count).toBe(1);
  });
  it('with paging-structure caches, hand-computed: 14 reads (4 KiB second stage), 9 (2 MiB)', () => {
    // guest tables sit in one 2 MiB region at the top of guest RAM; the data page is 3 GiB lower.
    const a = setup([['devices.03:00.0.translation', 'nested'], ['vm.s2PageBytes', '4KiB'], ['iommu.superpages', false]]);
    a.attach(NIC);
    a.iommu.map(NIC, -1, 0x12345, 0x10000, 1, PERM_RW);
    a.iommu.translate(NIC, -1, 0x12345, false);
    expect(a.iommu.metrics().walks.memReads).toBe(14); // (4+1) + 3×(1+1) + 3
    const b = setup([['devices.03:00.0.translation', 'nested'], ['iommu.superpages', false]]);
    b.attach(NIC);
    b.iommu.map(NIC, -1, 0x12345, 0x10000, 1, PERM_RW);
    b.iommu.translate(NIC, -1, 0x12345, false);
    expect(b.iommu.metrics().walks.memReads).toBe(9); // (3+1) + 3×(0+1) + 2
    // second DMA to the same page: IOTLB hit on the combined translation
    b.iommu.translate(NIC, -1, 0x12345, false);
    expect(b.iommu.metrics().walks.memReads).toBe(9);
  });
  it('a guest mapping to memory the guest does not have faults in the second stage', () => {
    const { iommu, attach } = setup([['devices.03:00.0.translation', 'nested']]);
    attach(NIC);
    iommu.map(NIC, -1, 5, 8 * G, 1, PERM_RW); // GPA 32 GiB, guest has 4 GiB
    expect(iommu.translate(NIC, -1, 5, false)).toBe(-1);
    expect(iommu.metrics().faults.byReason).toEqual({ nestedSecondStage: 1 });
  });
  it('first-stage translation tags the IOTLB with the PASID', () => {
    const { iommu, attach } = setup([['devices.03:00.0.translation', 'first']]);
    attach(NIC);
    iommu.map(NIC, 7, 100, 1000, 1, PERM_RW);
    iommu.map(NIC, 8, 100, 2000, 1, PERM_RW);
    expect(iommu.translate(NIC, 7, 100, false)).toBe(1000);
    expect(iommu.translate(NIC, 8, 100, false)).toBe(2000);
    expect(iommu.translate(NIC, 7, 100, false)).toBe(1000);
    const m = iommu.metrics();
    expect(m.iotlb).toMatchObject({ lookups: 3, hits: 1 });
    expect(m.pasidCache).toMatchObject({ misses: 2, hits: 1 });
    expect(iommu.translate(NIC, 9, 100, false)).toBe(-1); // no table for PASID 9
  });
});

describe('invalidation: strict vs lazy', () => {
  function unmapMany(mode: string, extra: Array<[string, string | number | boolean]> = []) {
    const { iommu, attach } = setup([['iommu.mode', mode], ...extra]);
    attach(NIC);
    for (let p = 0; p < 300; p++) iommu.map(NIC, -1, p, 1000 + p, 1, PERM_RW);
    for (let p = 0; p < 300; p++) { iommu.translate(NIC, -1, p, true); iommu.unmap(NIC, -1, p, 1); }
    iommu.drain();
    return iommu.metrics();
  }
  it('strict: one page-selective IOTLB invalidation (and PWC drop) and one wait per unmap', () => {
    const m = unmapMany('strict');
    expect(m.invalidations).toMatchObject({ iotlb: 300, pwc: 300, wait: 300, devtlb: 0 });
    expect(m.invalidations.iotlbEntriesDropped).toBe(300);
    // every walk after the first starts cold: the PWCs were dropped by the previous unmap
    expect(m.walks.memReads).toBe(1200);
  });
  it('lazy: a domain-wide flush per 256 queued unmaps, one more at the end; one PWC drop for reclaim', () => {
    const m = unmapMany('lazy');
    expect(m.invalidations).toMatchObject({ iotlb: 2, flushQueueFlushes: 2, flushQueueTimeouts: 0 });
    expect(m.invalidations.pwc).toBe(3); // two flushes + the reclaim of the last unmap (PT, PD, PDPT)
    // pages 0..255: 4 reads, then pde hits; the flush at the 256th unmap drops the PWCs: 4 again
    expect(m.walks.memReads).toBe(4 + 255 + 4 + 43);
  });
  it('lazy: the 10 ms timeout flushes the queue', () => {
    const { iommu, attach } = setup([['iommu.mode', 'lazy']]);
    attach(NIC);
    for (let p = 0; p < 10; p++) iommu.map(NIC, -1, p, 1000 + p, 1, PERM_RW);
    iommu.advance(1000);
    for (let p = 0; p < 9; p++) iommu.unmap(NIC, -1, p, 1);
    iommu.advance(1000 + 9_999_999);
    expect(iommu.metrics().invalidations.flushQueueFlushes).toBe(0);
    iommu.advance(1000 + 10_000_000);
    expect(iommu.metrics().invalidations).toMatchObject({ flushQueueFlushes: 1, flushQueueTimeouts: 1 });
  });
  it('lazy: each domain\'s timeout runs from its own oldest range (one flushed by its queue filling, the other still times out on time)', () => {
    const { iommu, attach } = setup([['iommu.mode', 'lazy'], ['iommu.flushQueue.entries', 4]]);
    attach(NIC); attach(GPU); // two domains
    for (let p = 0; p < 8; p++) { iommu.map(NIC, -1, p, 1000 + p, 1, PERM_RW); iommu.map(GPU, -1, p, 2000 + p, 1, PERM_RW); }
    iommu.advance(100);
    iommu.unmap(NIC, -1, 0, 1); // NIC's queue: oldest at 100
    iommu.advance(5_000_000);
    iommu.unmap(GPU, -1, 0, 1); // GPU's queue: oldest at 5 ms
    for (let p = 1; p < 4; p++) iommu.unmap(NIC, -1, p, 1); // NIC's queue fills: flushed now
    expect(iommu.metrics().invalidations).toMatchObject({ flushQueueFlushes: 1, flushQueueTimeouts: 0 });
    iommu.advance(10_000_100); // NIC's old range would be due now, but it was flushed; GPU's is not due
    expect(iommu.metrics().invalidations).toMatchObject({ flushQueueFlushes: 1, flushQueueTimeouts: 0 });
    iommu.advance(14_999_999);
    expect(iommu.metrics().invalidations.flushQueueTimeouts).toBe(0);
    iommu.advance(15_000_000);
    expect(iommu.metrics().invalidations).toMatchObject({ flushQueueFlushes: 2, flushQueueTimeouts: 1 });
    iommu.advance(40_000_000); // nothing pending
    expect(iommu.metrics().invalidations).toMatchObject({ flushQueueFlushes: 2, flushQueueTimeouts: 1 });
  });
  it('page-selective invalidation uses Linux\'s aligned mask and falls back to domain-selective', () => {
    const { iommu, attach } = setup([['iommu.mode', 'strict'], ['iommu.superpages', false]]);
    attach(NIC);
    iommu.map(NIC, -1, 0, 5000, 2048, PERM_RW);
    for (let p = 0; p < 8; p++) iommu.translate(NIC, -1, p, false);
    iommu.unmap(NIC, -1, 3, 2); // pages 3..4 → the aligned block is 0..7
    let m = iommu.metrics();
    expect(m.invalidations.iotlbEntriesDropped).toBe(8);
    expect(m.invalidations.iotlb).toBe(1);
    iommu.unmap(NIC, -1, 1024, 1024); // 2^10 pages > 2^9 (MAMV) → domain-selective
    m = iommu.metrics();
    expect(m.invalidations.iotlb).toBe(2);
  });
  it('psi.pwcScope=range keeps PWC entries of other regions', () => {
    const { iommu, attach } = setup([['iommu.mode', 'strict'], ['iommu.psi.pwcScope', 'range']]);
    attach(NIC);
    iommu.map(NIC, -1, 0, 1, 1, PERM_RW);
    iommu.map(NIC, -1, 1, 2, 1, PERM_RW);
    iommu.map(NIC, -1, 10 * M2, 3, 2, PERM_RW);
    iommu.translate(NIC, -1, 10 * M2, false); // fills pde for region 10
    iommu.unmap(NIC, -1, 0, 1); // region 0
    const before = reads(iommu);
    iommu.translate(NIC, -1, 10 * M2 + 1, false);
    expect(reads(iommu) - before).toBe(1); // pde of region 10 survived
  });
});

describe('context cache and domains', () => {
  it('devices in one domain share IOTLB entries; a context invalidation forces a re-read', () => {
    const { iommu, attach } = setup([['devices.03:00.0.domain', 5], ['devices.03:00.1.domain', 5]]);
    expect(attach(NIC)).toBe(5);
    expect(attach(NIC2)).toBe(5);
    iommu.map(NIC, -1, 42, 4200, 1, PERM_RW);
    iommu.translate(NIC, -1, 42, false);
    iommu.translate(NIC2, -1, 42, false);
    let m = iommu.metrics();
    expect(m.iotlb).toMatchObject({ hits: 1, misses: 1 });
    expect(m.contextCache).toMatchObject({ misses: 2, memReads: 4 });
    iommu.invalidateContext(NIC);
    iommu.translate(NIC, -1, 42, false);
    m = iommu.metrics();
    expect(m.contextCache.misses).toBe(3);
    expect(m.invalidations.context).toBe(1);
  });
  it('identity mode: pass-through context, no IOTLB lookups; off: nothing at all', () => {
    const id = setup([['iommu.mode', 'identity']]);
    id.attach(NIC);
    expect(id.iommu.translate(NIC, -1, 12345, true)).toBe(12345);
    expect(id.iommu.metrics().iotlb.lookups).toBe(0);
    expect(id.iommu.metrics().contextCache.misses).toBe(1);
    const off = setup([['iommu.mode', 'off']]);
    expect(off.iommu.translate(NIC, -1, 12345, true)).toBe(12345);
    expect(off.iommu.metrics().contextCache.misses).toBe(0);
  });
});

describe('ATS device TLB', () => {
  it('translated requests skip the IOTLB; strict unmap invalidates the device TLB', () => {
    const { iommu, attach } = setup([['iommu.mode', 'strict'], ['devices.03:00.0.ats', true]]);
    attach(NIC);
    iommu.map(NIC, -1, 10, 100, 2, PERM_RW);
    iommu.translate(NIC, -1, 10, false); // ATC miss → IOTLB miss → walk
    iommu.translate(NIC, -1, 10, false); // ATC hit
    iommu.translate(NIC, -1, 10, true);
    let m = iommu.metrics();
    expect(m.atc).toEqual({ lookups: 3, hits: 2 });
    expect(m.iotlb.lookups).toBe(1);
    iommu.unmap(NIC, -1, 10, 1);
    m = iommu.metrics();
    expect(m.invalidations.devtlb).toBe(1);
    expect(iommu.translate(NIC, -1, 10, false)).toBe(-1);
    expect(iommu.metrics().atc).toEqual({ lookups: 4, hits: 2 });
  });
});

describe('faults: recorded with the VT-d reason, the DMA dropped, never a crash', () => {
  it('each reason', () => {
    const { iommu, attach } = setup();
    attach(NIC);
    iommu.map(NIC, -1, 10, 100, 1, PERM_R); // device may only read
    iommu.map(NIC, -1, 11, 101, 1, PERM_W); // device may only write
    expect(iommu.translate(NIC, -1, 10, false)).toBe(100);
    expect(iommu.translate(NIC, -1, 10, true)).toBe(-1); // write to read-only, on an IOTLB hit
    expect(iommu.translate(NIC, -1, 11, false)).toBe(-1); // read of a write-only page, on a walk
    expect(iommu.translate(NIC, -1, 12, false)).toBe(-1); // not present
    expect(iommu.translate(NIC, -1, 2 ** 36, false)).toBe(-1); // beyond the 48-bit width
    expect(iommu.translate(NIC2, -1, 10, false)).toBe(-1); // 03:00.1 has no context entry
    expect(iommu.translate(GPU, -1, 10, false)).toBe(-1); // bus 1 has no root entry
    const f = iommu.metrics().faults;
    expect(f.count).toBe(6);
    expect(f.byReason).toEqual({ writeToReadOnly: 1, readFromWriteOnly: 1, notPresent: 1, addressBeyondWidth: 1, contextNotPresent: 1, rootNotPresent: 1 });
    expect(f.byCode).toEqual({ '0x1': 1, '0x2': 1, '0x4': 1, '0x5': 1, '0x6': 2 });
    expect(f.first[0]).toMatchObject({ sourceId: NIC, iova: '0xa000', reason: 'writeToReadOnly' });
  });
});
