/**
 * applyControl (src/iommu/control.ts): a trace's map / unmap / inv records through the functional
 * IOMMU, checked by translating afterwards and by the IOMMU's metrics.
 */
import { describe, it, expect } from 'vitest';
import { buildConfig } from '../../src/config/config.js';
import { deviceSourceIds } from '../../src/config/bdf.js';
import { Iommu } from '../../src/iommu/iommu.js';
import { applyControl } from '../../src/iommu/control.js';
import {
  TraceBuilder, OP_MAP, OP_UNMAP, OP_INV, DIR_NONE, DIR_READ, DIR_WRITE, DIR_RW, SIZE_ALL,
  INV_IOTLB, INV_CONTEXT, INV_DEVTLB, INV_PWC, INV_GLOBAL,
} from '../../src/trace/columns.js';

const NIC = '0000:03:00.0';
const NIC2 = '0000:03:00.1';
const PAGE = 4096;
/** Pages (4 KiB page numbers): A at 256 MiB; A + 1 … share its PDE; C is 1 GiB above (another PDPTE). */
const A = 0x10000;
const G = 262144;
const C = A + G;
const FRAME = 0x20000;

type Settings = Array<[string, string | number | boolean]>;

/**
 * An IOMMU (strict, 4 KiB leaves unless overridden) and a way to apply control records one at a
 * time, each built as a one-row trace through TraceBuilder, as importers build them.
 */
function ctl(settings: Settings = []) {
  const cfg = buildConfig([['iommu.mode', 'strict'], ['iommu.superpages', false], ...settings]);
  const iommu = new Iommu(cfg);
  const b = new TraceBuilder();
  for (const d of [NIC, NIC2, '*']) b.deviceIndex(d);
  /** Apply one record: op, device, iova page, bytes (SIZE_ALL: domain-wide inv), dir / inv scope, frame. */
  const rec = (op: number, dev: string, pn: number, bytes: number, dir: number, pfn = 0, offset = 0) => {
    const i = b.t.count;
    b.pushAddr(i, b.deviceIndex(dev), -1, op, pn * PAGE + offset, bytes, dir, pfn * PAGE + offset);
    const t = b.t;
    const sids = deviceSourceIds(t.devices, 'test');
    applyControl(iommu, cfg, t, i, sids[t.device[i]]);
  };
  const sid = (dev: string) => deviceSourceIds([dev], 'test')[0];
  const map = (dev: string, pn: number, pages: number, dir = DIR_RW, pfn = FRAME + (pn - A)) => rec(OP_MAP, dev, pn, pages * PAGE, dir, pfn);
  const unmap = (dev: string, pn: number, pages: number) => rec(OP_UNMAP, dev, pn, pages * PAGE, DIR_NONE);
  const inv = (dev: string, scope: number, pn = 0, pages = 0) => rec(OP_INV, dev, pn, pages === 0 ? SIZE_ALL : pages * PAGE, scope);
  const tr = (dev: string, pn: number, write = false) => iommu.translate(sid(dev), -1, pn, write);
  const m = () => iommu.metrics();
  return { cfg, iommu, rec, map, unmap, inv, tr, m, sid };
}

describe('applyControl: map', () => {
  it('a map attaches the device and maps its pages: translate then succeeds', () => {
    const x = ctl();
    expect(x.iommu.isAttached(x.sid(NIC))).toBe(false);
    x.map(NIC, A, 2);
    expect(x.iommu.isAttached(x.sid(NIC))).toBe(true);
    expect(x.tr(NIC, A)).toBe(FRAME);
    expect(x.tr(NIC, A + 1, true)).toBe(FRAME + 1);
    expect(x.m().mapping).toMatchObject({ mapCalls: 1, mapFailed: 0, mappedPages: 2 });
    expect(x.m().faults.count).toBe(0);
    // a page past the mapping is not present (VT-d fault 0x5/0x6 class)
    expect(x.tr(NIC, A + 2)).toBe(-1);
    expect(x.m().faults.byReason).toEqual({ notPresent: 1 });
  });

  it('a map at an offset in a page covers every page the bytes touch', () => {
    const x = ctl();
    // 4096 bytes from offset 0x800: two pages
    x.rec(OP_MAP, NIC, A, PAGE, DIR_RW, FRAME, 0x800);
    expect(x.m().mapping.mappedPages).toBe(2);
    expect(x.tr(NIC, A + 1)).toBe(FRAME + 1);
  });

  it('the dir column sets the permission: read only, write only; empty or rw is both', () => {
    const x = ctl();
    x.map(NIC, A, 1, DIR_READ);
    x.map(NIC, A + 1, 1, DIR_WRITE);
    x.map(NIC, A + 2, 1, DIR_NONE);
    x.map(NIC, A + 3, 1, DIR_RW);
    expect(x.tr(NIC, A, false)).toBe(FRAME);
    expect(x.tr(NIC, A, true)).toBe(-1);
    expect(x.tr(NIC, A + 1, true)).toBe(FRAME + 1);
    expect(x.tr(NIC, A + 1, false)).toBe(-1);
    for (const p of [A + 2, A + 3]) {
      expect(x.tr(NIC, p, false)).toBe(FRAME + p - A);
      expect(x.tr(NIC, p, true)).toBe(FRAME + p - A);
    }
    expect(x.m().faults.byReason).toEqual({ writeToReadOnly: 1, readFromWriteOnly: 1 });
  });

  it('a map over an existing mapping fails whole and is counted', () => {
    const x = ctl();
    x.map(NIC, A, 2);
    x.map(NIC, A + 1, 2, DIR_RW, 0x90000);
    expect(x.m().mapping).toMatchObject({ mapCalls: 2, mapFailed: 1, mappedPages: 2 });
    expect(x.tr(NIC, A + 2)).toBe(-1); // nothing of the failed map was mapped
  });

  it('the device is attached with its devices.<bdf> settings: two devices of one domain share the mapping', () => {
    const x = ctl([['devices.03:00.0.domain', 7], ['devices.03:00.1.domain', 7]]);
    x.map(NIC, A, 1);
    x.map(NIC2, A + 1, 1);
    expect(x.iommu.domainOf(x.sid(NIC))).toBe(7);
    expect(x.iommu.domainOf(x.sid(NIC2))).toBe(7);
    expect(x.tr(NIC2, A)).toBe(FRAME); // mapped through NIC
    expect(x.tr(NIC, A + 1)).toBe(FRAME + 1);
  });

  it('with the IOMMU off a map attaches nothing and is ignored', () => {
    const x = ctl([['iommu.mode', 'off']]);
    x.map(NIC, A, 1);
    expect(x.iommu.isAttached(x.sid(NIC))).toBe(false);
    expect(x.m().mapping).toMatchObject({ mapCalls: 0, ignoredOps: 1 });
    expect(x.tr(NIC, A)).toBe(A); // no translation: the address is the page
  });
});

describe('applyControl: unmap', () => {
  it('strict: unmap then translate faults; one page-selective invalidation + wait', () => {
    const x = ctl();
    x.map(NIC, A, 2);
    expect(x.tr(NIC, A)).toBe(FRAME); // now in the IOTLB
    x.unmap(NIC, A, 2);
    expect(x.m().mapping).toMatchObject({ unmapCalls: 1, unmappedPages: 2 });
    expect(x.m().invalidations).toMatchObject({ iotlb: 1, wait: 1, iotlbEntriesDropped: 1 });
    expect(x.tr(NIC, A)).toBe(-1);
    expect(x.tr(NIC, A + 1)).toBe(-1);
    expect(x.m().faults.byReason).toEqual({ notPresent: 2 });
  });

  it('lazy: the unmapped page still translates from its IOTLB entry until the flush; an inv drops it', () => {
    const x = ctl([['iommu.mode', 'lazy']]);
    x.map(NIC, A, 2);
    expect(x.tr(NIC, A)).toBe(FRAME);
    x.unmap(NIC, A, 2);
    expect(x.m().invalidations.iotlb).toBe(0); // queued in the flush queue
    expect(x.tr(NIC, A)).toBe(FRAME); // the stale entry (lazy mode's window)
    expect(x.tr(NIC, A + 1)).toBe(-1); // never cached: the walk finds nothing
    x.inv(NIC, INV_IOTLB); // domain-wide
    expect(x.tr(NIC, A)).toBe(-1);
  });

  it('an unmap of a device never attached (or without a source id) is ignored and counted', () => {
    const x = ctl();
    x.unmap(NIC, A, 1);
    expect(x.m().mapping).toMatchObject({ unmapCalls: 0, ignoredOps: 1 });
    x.unmap('*', A, 1);
    expect(x.m().mapping.ignoredOps).toBe(2);
    expect(x.iommu.isAttached(x.sid(NIC))).toBe(false);
  });
});

describe('applyControl: inv scopes', () => {
  /** NIC with A, A + 1, A + 2, A + 3 and C mapped; A and C translated (in the IOTLB). */
  function warm(settings: Settings = []) {
    const x = ctl(settings);
    x.map(NIC, A, 4);
    x.map(NIC, C, 2, DIR_RW, 0x30000);
    expect(x.tr(NIC, A)).toBe(FRAME);
    expect(x.tr(NIC, C)).toBe(0x30000);
    // paging-structure caches of NIC's domain now: pde(A), pde(C), pdpte(A), pdpte(C), pml4e (shared)
    return x;
  }
  /** Walk reads of translating pn (and whether it hit the IOTLB). */
  const readsOf = (x: ReturnType<typeof ctl>, pn: number) => {
    const r0 = x.m().walks.memReads, h0 = x.m().iotlb.hits;
    expect(x.tr(NIC, pn)).toBeGreaterThanOrEqual(0);
    return { reads: x.m().walks.memReads - r0, hit: x.m().iotlb.hits > h0 };
  };

  it('inv (IOTLB) of a range drops that page only, and with IH = 0 the domain\'s paging-structure caches (pwcScope = domain)', () => {
    const x = warm();
    x.inv(NIC, INV_IOTLB, A, 1);
    expect(x.m().invalidations).toMatchObject({ iotlb: 1, pwc: 1, wait: 1, iotlbEntriesDropped: 1, pwcEntriesDropped: 5 });
    expect(readsOf(x, C)).toEqual({ reads: 0, hit: true }); // kept
    expect(readsOf(x, A)).toEqual({ reads: 4, hit: false }); // dropped, and no PWC entry left
  });

  it('inv (IOTLB) with pwcScope = none keeps the paging-structure caches', () => {
    const x = warm([['iommu.psi.pwcScope', 'none']]);
    x.inv(NIC, INV_IOTLB, A, 1);
    expect(x.m().invalidations).toMatchObject({ iotlb: 1, pwc: 0, wait: 1, iotlbEntriesDropped: 1, pwcEntriesDropped: 0 });
    expect(readsOf(x, A)).toEqual({ reads: 1, hit: false }); // PDE-cache hit: the PTE only
  });

  it('inv (IOTLB) of 3 pages from A + 1 uses the aligned mask: [A, A + 4) is dropped', () => {
    const x = warm();
    for (const p of [A + 1, A + 2, A + 3]) x.tr(NIC, p);
    const before = x.m().invalidations.iotlbEntriesDropped;
    x.inv(NIC, INV_IOTLB, A + 1, 3); // 3 pages: mask 2 (4 pages), A is 4-aligned
    expect(x.m().invalidations.iotlbEntriesDropped - before).toBe(4);
    expect(readsOf(x, A).hit).toBe(false);
    expect(readsOf(x, C).hit).toBe(true);
  });

  it('inv (IOTLB) above iommu.psi.maxAddressMask falls back to domain-selective', () => {
    const x = warm([['iommu.psi.maxAddressMask', 1]]);
    x.inv(NIC, INV_IOTLB, A, 4); // mask 2 > 1
    expect(x.m().invalidations).toMatchObject({ iotlb: 1, wait: 1, iotlbEntriesDropped: 2 });
    expect(readsOf(x, C).hit).toBe(false);
  });

  it('inv (IOTLB) domain-wide drops every entry of the device\'s domain, not another domain\'s', () => {
    const x = warm();
    x.map(NIC2, A, 1, DIR_RW, 0x40000);
    expect(x.tr(NIC2, A)).toBe(0x40000);
    const nic2Hits = x.m().iotlb.hits;
    x.inv(NIC, INV_IOTLB);
    expect(x.m().invalidations).toMatchObject({ iotlb: 1, pwc: 1, wait: 1, iotlbEntriesDropped: 2 });
    expect(x.tr(NIC2, A)).toBe(0x40000);
    expect(x.m().iotlb.hits).toBe(nic2Hits + 1); // NIC2's entry kept
    expect(readsOf(x, A)).toEqual({ reads: 4, hit: false });
    expect(readsOf(x, C)).toEqual({ reads: 3, hit: false }); // the PML4E refilled by A's walk: PDPTE, PDE, PTE
  });

  it('inv:pwc of a range drops the paging-structure entries covering it; the IOTLB stays', () => {
    const x = warm();
    x.inv(NIC, INV_PWC, A, 1);
    // pde(A), pdpte(A) and the pml4e (its 512 GiB cover A); pde(C) and pdpte(C) stay
    expect(x.m().invalidations).toMatchObject({ iotlb: 0, pwc: 1, wait: 1, pwcEntriesDropped: 3, iotlbEntriesDropped: 0 });
    expect(readsOf(x, A)).toEqual({ reads: 0, hit: true });
    expect(readsOf(x, A + 1)).toEqual({ reads: 4, hit: false }); // nothing cached above it
    expect(readsOf(x, C + 1)).toEqual({ reads: 1, hit: false }); // pde(C) kept
  });

  it('inv:pwc domain-wide drops every paging-structure entry of the domain', () => {
    const x = warm();
    x.inv(NIC, INV_PWC);
    expect(x.m().invalidations).toMatchObject({ iotlb: 0, pwc: 1, wait: 1, pwcEntriesDropped: 5 });
    expect(readsOf(x, C + 1)).toEqual({ reads: 4, hit: false });
  });

  it('inv:context drops the device\'s context entry: the next lookup reads root and context entries again', () => {
    const x = warm();
    const ctx0 = x.m().contextCache;
    expect(ctx0).toMatchObject({ misses: 1, memReads: 2 });
    x.inv(NIC, INV_CONTEXT);
    expect(x.m().invalidations).toMatchObject({ context: 1, wait: 1, iotlb: 0 });
    expect(readsOf(x, A)).toEqual({ reads: 0, hit: true }); // walk reads exclude context reads
    expect(x.m().contextCache).toMatchObject({ misses: 2, memReads: 4 });
  });

  it('inv:global (device *) drops the IOTLB and paging-structure entries of every domain', () => {
    const x = warm();
    x.map(NIC2, A, 1, DIR_RW, 0x40000);
    x.tr(NIC2, A);
    x.inv('*', INV_GLOBAL);
    expect(x.m().invalidations).toMatchObject({ iotlb: 1, pwc: 1, wait: 1, iotlbEntriesDropped: 3 });
    const r0 = x.m().walks.memReads;
    expect(x.tr(NIC2, A)).toBe(0x40000);
    expect(x.m().walks.memReads - r0).toBe(4);
    expect(readsOf(x, A)).toEqual({ reads: 4, hit: false }); // another domain: its own tables and PWC tags
  });

  it('inv:devtlb drops an ATS device\'s device-TLB entries (range or all); the IOTLB stays', () => {
    const x = ctl([['devices.03:00.0.ats', true]]);
    x.map(NIC, A, 2);
    x.tr(NIC, A);
    x.tr(NIC, A + 1);
    x.tr(NIC, A); // a device-TLB hit
    expect(x.m().atc).toEqual({ lookups: 3, hits: 1 });
    x.inv(NIC, INV_DEVTLB, A, 1);
    expect(x.m().invalidations).toMatchObject({ devtlb: 1, wait: 1, iotlb: 0 });
    const h0 = x.m().iotlb.hits;
    x.tr(NIC, A); // device-TLB miss, IOTLB hit
    expect(x.m().atc).toEqual({ lookups: 4, hits: 1 });
    expect(x.m().iotlb.hits).toBe(h0 + 1);
    x.tr(NIC, A + 1); // outside the range: still in the device TLB
    expect(x.m().atc).toEqual({ lookups: 5, hits: 2 });
    x.inv(NIC, INV_DEVTLB); // all
    x.tr(NIC, A + 1);
    expect(x.m().atc).toEqual({ lookups: 6, hits: 2 });
    expect(x.m().invalidations).toMatchObject({ devtlb: 2, wait: 2 });
  });

  it('an inv naming a device never attached, or no device (but not global), changes nothing', () => {
    const x = warm();
    const inv0 = x.m().invalidations;
    x.inv(NIC2, INV_IOTLB);
    x.inv(NIC2, INV_PWC, A, 1);
    x.inv('*', INV_IOTLB);
    x.inv('*', INV_CONTEXT);
    expect(x.m().invalidations).toEqual(inv0);
    expect(readsOf(x, A)).toEqual({ reads: 0, hit: true });
  });
});
