/**
 * Functional model of VT-d DMA remapping: root and context tables in simulated memory behind a
 * context cache, a PASID cache, the IOTLB (one array per page size), the paging-structure caches,
 * the page-table walker (second stage, first stage, and nested first-over-second), invalidation
 * (page-selective with Linux's aligned address mask, domain-selective, global, context cache,
 * device TLB), the host DMA-API modes (off / identity / strict / lazy with a flush queue), ATS
 * device TLBs and faults.
 *
 * Everything here counts; nothing here takes time. The timing model (src/sim) replays the same
 * calls and charges latency to the reads this model reports (`onRead`).
 *
 * Hot path: `translate()` — typed arrays and numbers only; no allocation.
 */
import { SetAssocCache, createCache, ANY, ALL_NUMS_HI } from '../cache/setassoc.js';
import type { DeviceCfg, CacheCfg } from '../config/config.js';
import type { IommuSpec } from '../config/knobs/iommu.js';
import { TableMemory, entryFrame, entryLo, entryHi } from './tablemem.js';
import { PageTable, FMT_SECOND, FMT_FIRST, LEVEL_PAGES, LEVEL_INV, PERM_R, PERM_W, PERM_RW, levelIndex, levelRem } from './pagetable.js';
import {
  F_ROOT, F_CONTEXT, F_WIDTH, F_WRITE_RO, F_READ_WO, F_NOT_PRESENT, F_NESTED_S2, FAULT_NAMES, faultCode,
} from './faults.js';
import { inputError } from '../util/errors.js';
import { IOMMU_STATS, PWC_NAMES, type IommuMetrics } from './stats.js';

export const MODE_OFF = 0;
export const MODE_IDENTITY = 1;
export const MODE_STRICT = 2;
export const MODE_LAZY = 3;
const MODE_CODES: Record<string, number> = { off: MODE_OFF, identity: MODE_IDENTITY, strict: MODE_STRICT, lazy: MODE_LAZY };

/** Page-table type of a device (context entry TT / scalable-mode PGTT). */
export const PG_SECOND = 0;
export const PG_FIRST = 1;
export const PG_NESTED = 2;
export const PG_PASS = 3;
const PG_CODES: Record<string, number> = { second: PG_SECOND, first: PG_FIRST, nested: PG_NESTED, passthrough: PG_PASS };

/** tagB of IOTLB/PWC entries: -1 = request without PASID; -2 = second-stage entries of a nested walk. */
export const NO_PASID = -1;
export const S2_TAG = -2;

/** Where simulated memory lives (frame numbers, 4 KiB pages). */
export const HOST_TABLE_BASE_FRAME = 0x1000_0000; // 1 TiB
export const HOST_TABLE_PAGES = 1 << 24; // up to 64 GiB of host tables
export const GUEST_RAM_HPA_FRAME = 0x100_0000; // guest RAM backed at 64 GiB host physical

/** Largest page-number value we accept (57-bit address space). */
const MAX_PN = 2 ** 45;

interface Domain {
  did: number;
  s2: PageTable | null;
  /** First-stage tables by PASID (NO_PASID → index 0 via pasidIndex). Only read on PASID-cache misses. */
  s1: Array<PageTable | undefined>;
  s1Mem: TableMemory | null;
  nested: boolean;
  /** lazy flush queue */
  fqCount: number;
  fqOldestNs: number;
  /** Source-ids of ATS devices attached (for device-TLB invalidations). */
  atsSids: number[];
}

export interface InvalidationCounts { iotlb: number; pwc: number; context: number; devtlb: number; pasid: number; wait: number }

export class Iommu {
  /** The spec it was built from (the `iommu` knobs, `vm`, `seed`), validated by the config's resolver. */
  readonly cfg: Readonly<IommuSpec>;
  readonly mode: number;
  readonly levels: number;
  readonly maxPn: number;
  readonly hostMem: TableMemory;
  guestMem: TableMemory | null = null;
  private readonly rootTable: number;
  private readonly ctxTableOfBus = new Float64Array(256).fill(-1);

  readonly iotlb4k: SetAssocCache;
  readonly iotlb2m: SetAssocCache;
  readonly iotlb1g: SetAssocCache;
  /** pwc[k] caches non-leaf entries of level k+2 (pde, pdpte, pml4e, pml5e); null when disabled. */
  readonly pwc: Array<SetAssocCache | null>;
  readonly contextCache: SetAssocCache;
  /** Context-cache slot of the last translation: the first guess for the next (see lookupGuess). */
  private lastContextSlot = 0;
  readonly pasidCache: SetAssocCache;
  /** Device TLBs by source-id (null: no ATS). */
  private readonly atcBySid: Array<SetAssocCache | null> = new Array(65536).fill(null);
  private readonly domains: Domain[] = [];
  private readonly domainByDid = new Int32Array(65536).fill(-1);
  private readonly didBySid = new Int32Array(65536).fill(-1);
  private nextDid = 1;
  private readonly maxLeafLevel: number;

  // --- counters (top level) ---
  iotlbLookups = 0;
  iotlbHits = 0;
  iotlbMisses = 0;
  s2Lookups = 0;
  s2Hits = 0;
  walks = 0;
  walkReads = 0;
  /** Entries a walk of the top-level translation read, by level (1 = leaf PTE … 5 = PML5E): reads at level ≥ 2 are the paging-structure-cache misses of that level. */
  readonly readsByLevel = new Float64Array(6);
  nestedS2Reads = 0;
  contextReads = 0;
  pasidReads = 0;
  atcLookups = 0;
  atcHits = 0;
  translations = 0;
  passthroughTranslations = 0;
  readonly inv: InvalidationCounts = { iotlb: 0, pwc: 0, context: 0, devtlb: 0, pasid: 0, wait: 0 };
  invalidatedIotlbEntries = 0;
  invalidatedPwcEntries = 0;
  flushQueueFlushes = 0;
  flushQueueTimeouts = 0;
  /** Lazy mode: the oldest pending range's time over all domains (Infinity: none), and the timeout. */
  private fqMinOldestNs = Infinity;
  private readonly fqTimeoutNs: number;
  mapCalls = 0;
  mapFailed = 0;
  mapPages = 0;
  unmapCalls = 0;
  unmapPages = 0;
  ignoredMapOps = 0;
  tablesFreed = 0;
  faults = 0;
  readonly faultsByKind = new Float64Array(FAULT_NAMES.length);
  readonly faultsByCode = new Float64Array(256);
  /** The first MAX_FAULT_RECORDS faults: time, source-id, page number, kind. */
  static readonly MAX_FAULT_RECORDS = 64;
  readonly faultTime = new Float64Array(Iommu.MAX_FAULT_RECORDS);
  readonly faultSid = new Int32Array(Iommu.MAX_FAULT_RECORDS);
  readonly faultPn = new Float64Array(Iommu.MAX_FAULT_RECORDS);
  readonly faultKind = new Uint8Array(Iommu.MAX_FAULT_RECORDS);

  /** Result side channels of translate(): the fault kind when it returns -1. */
  lastFault = -1;
  /** Leaf span (pages) of the last translation. */
  private lastSpan = 1;
  /** Simulated time of the current request (ns), for the lazy flush queue. */
  now = 0;

  /** Called for every memory read the walker makes (frame of the table read); the timing model hooks it. */
  onRead: ((frame: number) => void) | null = null;

  /** `cfg`: the functional spec; a resolved config is one. */
  constructor(cfg: Readonly<IommuSpec>) {
    this.cfg = cfg;
    const i = cfg.iommu;
    this.mode = MODE_CODES[i.mode];
    this.fqTimeoutNs = i.flushQueue.timeoutNs;
    this.levels = i.levels;
    this.maxPn = 2 ** (12 + 9 * i.levels - 12);
    this.maxLeafLevel = i.superpages ? 3 : 1;
    const seed = cfg.seed >>> 0;
    const mk = (c: CacheCfg, key: string, s: number) => createCache(c, key, seed + s);
    this.iotlb4k = mk(i.iotlb, 'iommu.iotlb', 1);
    this.iotlb2m = mk(i.iotlb['2m'], 'iommu.iotlb.2m', 2);
    this.iotlb1g = mk(i.iotlb['1g'], 'iommu.iotlb.1g', 3);
    this.pwc = PWC_NAMES.map((n, k) => {
      const c = i.pwc[n];
      if (c.enabled === false) return null;
      if (k + 2 > i.levels) return null; // pml5e only with 5 levels; pml4e only with >= 4
      return mk(c, `iommu.pwc.${n}`, 4 + k);
    });
    this.contextCache = mk(i.contextCache, 'iommu.contextCache', 9);
    this.pasidCache = mk(i.pasidCache, 'iommu.pasidCache', 10);
    this.hostMem = new TableMemory('host page-table memory', HOST_TABLE_BASE_FRAME, HOST_TABLE_PAGES);
    this.rootTable = this.hostMem.alloc();
  }

  // ------------------------------------------------------------------ devices and domains

  isAttached(sid: number): boolean {
    return this.didBySid[sid] >= 0;
  }

  domainOf(sid: number): number {
    return this.didBySid[sid];
  }

  /**
   * Attach a device: give it a domain (its own, or `dev.domain` shared), write its root and
   * context entries. In identity mode the context entry is pass-through.
   */
  attach(sid: number, dev: DeviceCfg, where = 'device'): number {
    if (this.didBySid[sid] >= 0) return this.didBySid[sid];
    let pg = this.mode === MODE_IDENTITY ? PG_PASS : PG_CODES[dev.translation];
    let did = dev.domain;
    if (did === 0) {
      while (this.domainByDid[this.nextDid] >= 0) this.nextDid++;
      did = this.nextDid++;
    }
    if (did > 65535) throw inputError(where, 'more than 65535 domains', 'share domains with devices.<bdf>.domain');
    let di = this.domainByDid[did];
    if (di < 0) {
      const nested = pg === PG_NESTED;
      const d: Domain = {
        did, s2: null, s1: [], s1Mem: null, nested, fqCount: 0, fqOldestNs: 0, atsSids: [],
      };
      if (pg !== PG_PASS && pg !== PG_FIRST) d.s2 = new PageTable(this.hostMem, this.levels, FMT_SECOND);
      if (nested) this.mapGuestRam(d);
      if (pg === PG_FIRST) d.s1Mem = this.hostMem;
      if (nested) d.s1Mem = this.guestTables();
      di = this.domains.length;
      this.domains.push(d);
      this.domainByDid[did] = di;
    } else {
      const d = this.domains[di];
      const existing = d.nested ? PG_NESTED : d.s2 ? PG_SECOND : d.s1Mem ? PG_FIRST : PG_PASS;
      if (existing !== pg && this.mode !== MODE_IDENTITY) {
        throw inputError(where, `device shares domain ${did} but asks for ${dev.translation} translation while the domain uses another type`, 'give it its own domain or the same devices.<bdf>.translation');
      }
      pg = existing;
    }
    this.didBySid[sid] = did;
    if (dev.ats) {
      this.atcBySid[sid] = createCache(dev.atc, `devices.${sid}.atc`, (this.cfg.seed >>> 0) + 100 + sid);
      this.domains[di].atsSids.push(sid);
    }
    this.writeContext(sid, did, pg, dev.ats);
    return did;
  }

  private guestTables(): TableMemory {
    if (!this.guestMem) {
      const ram = this.cfg.vm.ramBytes / 4096;
      const pages = Math.min(65536, Math.floor(ram / 8));
      this.guestMem = new TableMemory('guest page-table memory (top of guest RAM)', ram - pages, pages);
    }
    return this.guestMem;
  }

  /** Second stage of a nested domain: guest RAM GPA 0.. → HPA GUEST_RAM_HPA_FRAME.., as VFIO maps it. */
  private mapGuestRam(d: Domain): void {
    const pages = this.cfg.vm.ramBytes / 4096;
    const leaf = this.cfg.vm.s2PageBytes === 4096 ? 1 : this.cfg.vm.s2PageBytes === 2 * 1024 ** 2 ? 2 : 3;
    d.s2!.map(0, GUEST_RAM_HPA_FRAME, pages, PERM_RW, leaf);
  }

  private writeContext(sid: number, did: number, pg: number, ats: boolean): void {
    const mem = this.hostMem;
    const bus = sid >>> 8;
    const devfn = sid & 0xff;
    let ctx = this.ctxTableOfBus[bus];
    if (ctx < 0) {
      ctx = mem.alloc();
      this.ctxTableOfBus[bus] = ctx;
      mem.write(this.rootTable, bus * 2, entryLo(ctx, 1), entryHi(ctx), 1);
    }
    const d = this.domains[this.domainByDid[did]];
    const root = d.s2 ? d.s2.rootFrame : 0;
    // lo qword: P (0), TT (3:2): 0 untranslated only, 1 also translated (device TLB), 2 pass-through.
    const tt = pg === PG_PASS ? 2 : ats ? 1 : 0;
    mem.write(ctx, devfn * 2, entryLo(root, 1 | (tt << 2)), entryHi(root), 1);
    // hi qword: AW (2:0), DID (23:8); bits 28:26 hold the simulator's page-table type (first/nested are
    // scalable-mode PASID-entry settings in real hardware).
    const aw = this.levels - 2; // 1 = 39-bit, 2 = 48-bit, 3 = 57-bit
    mem.write(ctx, devfn * 2 + 1, (aw | (did << 8) | (pg << 26)) >>> 0, 0, 0);
  }

  private domain(did: number): Domain {
    return this.domains[this.domainByDid[did]];
  }

  // ------------------------------------------------------------------ translation (hot path)

  private faultOverride = -1;

  private fault(kind: number, sid: number, pn: number, isWrite: boolean): number {
    if (this.faultOverride >= 0) kind = this.faultOverride;
    this.faults++;
    this.faultsByKind[kind]++;
    this.faultsByCode[faultCode(kind, isWrite)]++;
    const n = this.faults - 1;
    if (n < Iommu.MAX_FAULT_RECORDS) {
      this.faultTime[n] = this.now;
      this.faultSid[n] = sid;
      this.faultPn[n] = pn;
      this.faultKind[n] = kind;
    }
    this.lastFault = kind;
    return -1;
  }

  private read(frame: number): void {
    this.walkReads++;
    if (this.onRead !== null) this.onRead(frame);
  }

  /**
   * Translate one 4 KiB piece of a DMA from `sid` at page `pn`. Returns the host frame, or -1 on a
   * fault (the kind in lastFault). pasid < 0: request without PASID.
   */
  translate(sid: number, pasid: number, pn: number, isWrite: boolean): number {
    this.translations++;
    this.lastIotlbArray = -1;
    this.lastAtsHit = false;
    this.lastWalked = false;
    if (this.mode === MODE_OFF) return pn;

    // Context cache (source-id → DID, table root, width, type).
    let cs = this.contextCache.lookupGuess(this.lastContextSlot, 0, 0, sid);
    if (cs < 0) {
      cs = this.contextMiss(sid, pn, isWrite);
      if (cs < 0) return -1;
    }
    this.lastContextSlot = cs;
    const ci = this.contextCache.dataI[cs];
    const did = ci & 0xffff;
    const pg = (ci >>> 26) & 7;
    if (pg === PG_PASS) { this.passthroughTranslations++; return pn; }
    if (pn >= this.maxPn) return this.fault(F_WIDTH, sid, pn, isWrite);

    // ATS: a device TLB hit is a translated request; the IOTLB is skipped.
    const atc = this.atcBySid[sid];
    if (atc !== null) {
      this.atcLookups++;
      const as = atc.lookup(0, pasid, pn);
      if (as >= 0) {
        const perm = atc.dataI[as];
        if (isWrite ? (perm & PERM_W) === 0 : (perm & PERM_R) === 0) return this.fault(isWrite ? F_WRITE_RO : F_READ_WO, sid, pn, isWrite);
        this.atcHits++;
        this.lastAtsHit = true;
        return atc.dataN[as];
      }
    }

    // Scalable mode: the PASID entry (PASID cache) selects the first-stage table; look it up first.
    let ps = -1;
    if (pg !== PG_SECOND) {
      ps = this.pasidLookup(did, pasid, sid, pn, isWrite);
      if (ps < 0) return -1;
    }
    const tagB = pg === PG_SECOND ? NO_PASID : pasid;
    this.iotlbLookups++;
    let frame = this.probeIotlb(did, tagB, pn);
    if (frame >= 0) {
      this.iotlbHits++;
      this.lastIotlbArray = this.probeArray;
      this.lastIotlbSlot = this.probeSlot;
      if (isWrite ? (this.probePerm & PERM_W) === 0 : (this.probePerm & PERM_R) === 0) {
        return this.fault(isWrite ? F_WRITE_RO : F_READ_WO, sid, pn, isWrite);
      }
    } else {
      this.iotlbMisses++;
      this.walks++;
      this.lastWalked = true;
      if (pg === PG_SECOND) {
        frame = this.walkSecond(did, this.contextCache.dataN[cs], pn, sid, isWrite);
      } else {
        const d = this.domain(did);
        const s2root = pg === PG_NESTED ? d.s2!.rootFrame : -1;
        frame = this.walk(did, pasid, this.pasidCache.dataN[ps], d.s1Mem!, FMT_FIRST, pn, sid, isWrite, s2root);
      }
      if (frame < 0) return -1;
      this.lastIotlbArray = this.probeArray;
      this.lastIotlbSlot = this.probeSlot;
      if (isWrite ? (this.probePerm & PERM_W) === 0 : (this.probePerm & PERM_R) === 0) {
        return this.fault(isWrite ? F_WRITE_RO : F_READ_WO, sid, pn, isWrite);
      }
    }
    if (atc !== null) atc.insert(0, pasid, pn, frame, this.probePerm);
    return frame;
  }

  /**
   * Translate the `pages` 4 KiB pieces of one DMA from page `pn`, in address order, stopping at the
   * first fault: exactly what `pages` calls of translate() do (the same counts, cache states and
   * last* fields), stopping after the one that returns -1. Returns the pieces translated before
   * that fault (`pages` when none faulted).
   *
   * After the first piece, each later piece's context-cache lookup is a hit on the slot the first
   * one used, guessed right and already the most recent (nothing between them touches the context
   * cache): counted, with no search and nothing to update. A second-stage device without ATS then
   * goes straight to the IOTLB and the walk, as translate() does; any other falls back to translate().
   * The first piece too skips translate() when its context-cache guess hits on such a device.
   */
  translatePages(sid: number, pasid: number, pn: number, pages: number, isWrite: boolean): number {
    const ctx = this.contextCache;
    let cs = this.lastContextSlot;
    // the first piece: its context-cache lookup here when it will hit on a second-stage device
    // (the same lookupGuess translate() makes; `find` looks without counting or touching), through
    // translate() otherwise
    let first = 0;
    if (this.mode !== MODE_OFF && this.atcBySid[sid] === null && this.onRead === null &&
      ((ctx.tagLo[cs] === sid && ctx.tagA[cs] === 0 && ctx.tagHi[cs] === 0 && ctx.tagB[cs] === 0) || (cs = ctx.find(0, 0, sid)) >= 0) &&
      ((ctx.dataI[cs] >>> 26) & 7) === PG_SECOND) {
      cs = ctx.lookupGuess(this.lastContextSlot, 0, 0, sid);
      this.lastContextSlot = cs;
    } else {
      if (this.translate(sid, pasid, pn, isWrite) < 0) return 0;
      if (pages === 1) return 1;
      cs = this.lastContextSlot;
      if (this.mode === MODE_OFF || ((ctx.dataI[cs] >>> 26) & 7) !== PG_SECOND || this.atcBySid[sid] !== null || this.onRead !== null) {
        for (let p = 1; p < pages; p++) if (this.translate(sid, pasid, pn + p, isWrite) < 0) return p;
        return pages;
      }
      first = 1;
    }
    // Second stage, no device TLB, no read hook: translate() past its context-cache lookup, the
    // counters it bumps per piece summed here and added at the end (nothing reads them meanwhile).
    const ci = ctx.dataI[cs];
    const did = ci & 0xffff;
    const root = ctx.dataN[cs];
    const maxPn = this.maxPn;
    const i4 = this.iotlb4k, i2 = this.iotlb2m, i1 = this.iotlb1g;
    let p = first, hits = 0, misses = 0;
    // the last piece's IOTLB array (-1: none) and slot, whether it walked; why the loop stopped
    // (0: every piece translated, 1: beyond the address width, 2: the walk faulted, 3: permission)
    let arr = -1, slot = this.lastIotlbSlot, walked = false, stop = 0;
    for (; p < pages; p++) {
      const q = pn + p;
      arr = -1;
      walked = false;
      if (q >= maxPn) { stop = 1; break; }
      // probeIotlb(): every array that holds an entry, 4 KiB first; a hit in any is a hit
      let perm = 0;
      if (i4.live !== 0) {
        const h = i4.lookup(did, NO_PASID, q);
        if (h >= 0) { arr = 0; slot = h; perm = i4.dataI[h]; }
      }
      if (arr < 0 && i2.live !== 0) {
        const h = i2.lookup(did, NO_PASID, Math.floor(q / 512));
        if (h >= 0) { arr = 1; slot = h; perm = i2.dataI[h]; }
      }
      if (arr < 0 && i1.live !== 0) {
        const h = i1.lookup(did, NO_PASID, Math.floor(q / 262144));
        if (h >= 0) { arr = 2; slot = h; perm = i1.dataI[h]; }
      }
      if (arr >= 0) {
        hits++;
      } else {
        misses++;
        walked = true;
        if (this.walkSecond(did, root, q, sid, isWrite) < 0) { stop = 2; break; }
        arr = this.probeArray;
        slot = this.probeSlot;
        perm = this.probePerm;
      }
      if (isWrite ? (perm & PERM_W) === 0 : (perm & PERM_R) === 0) { stop = 3; break; }
    }
    // pieces first … p tried (p faulted), or first … pages - 1; the context-cache hit of a piece 0 tried here is counted already
    const tried = (stop === 0 ? pages : p + 1) - first;
    this.translations += tried;
    ctx.hits += first === 0 ? tried - 1 : tried;
    this.iotlbLookups += stop === 1 ? tried - 1 : tried;
    this.iotlbHits += hits;
    this.iotlbMisses += misses;
    this.walks += misses;
    this.lastAtsHit = false;
    this.lastWalked = walked;
    this.lastIotlbArray = arr;
    this.lastIotlbSlot = slot;
    if (stop === 1) this.fault(F_WIDTH, sid, pn + p, isWrite);
    else if (stop === 3) this.fault(isWrite ? F_WRITE_RO : F_READ_WO, sid, pn + p, isWrite);
    return stop === 0 ? pages : p;
  }

  /** Permission bits of the last IOTLB hit or walk. */
  private probePerm = 0;
  private probeArray = -1;
  private probeSlot = -1;
  /** The IOTLB entry the last top-level translation hit or filled: array (0 4 KiB, 1 2 MiB, 2 1 GiB; -1 none) and slot. */
  lastIotlbArray = -1;
  lastIotlbSlot = -1;
  /** True when the last translation was served by the device TLB (ATS). */
  lastAtsHit = false;
  /** True when the last translation missed the IOTLB and walked. */
  lastWalked = false;

  /** Probe every IOTLB array; returns the frame for pn or -1 (sets probePerm, lastSpan on a hit). */
  private probeIotlb(did: number, tagB: number, pn: number): number {
    let c = this.iotlb4k;
    if (c.live !== 0) {
      const s = c.lookup(did, tagB, pn);
      if (s >= 0) { this.probePerm = c.dataI[s]; this.lastSpan = 1; this.probeArray = 0; this.probeSlot = s; return c.dataN[s]; }
    }
    c = this.iotlb2m;
    if (c.live !== 0) {
      const k = Math.floor(pn / 512);
      const s = c.lookup(did, tagB, k);
      if (s >= 0) { this.probePerm = c.dataI[s]; this.lastSpan = 512; this.probeArray = 1; this.probeSlot = s; return c.dataN[s] + (pn - k * 512); }
    }
    c = this.iotlb1g;
    if (c.live !== 0) {
      const k = Math.floor(pn / 262144);
      const s = c.lookup(did, tagB, k);
      if (s >= 0) { this.probePerm = c.dataI[s]; this.lastSpan = 262144; this.probeArray = 2; this.probeSlot = s; return c.dataN[s] + (pn - k * 262144); }
    }
    return -1;
  }

  private contextMiss(sid: number, pn: number, isWrite: boolean): number {
    const mem = this.hostMem;
    const bus = sid >>> 8;
    const devfn = sid & 0xff;
    this.contextReads++;
    this.read(this.rootTable);
    const rlo = mem.lo(this.rootTable, bus * 2);
    if ((rlo & 1) === 0) return this.fault(F_ROOT, sid, pn, isWrite);
    const ctx = entryFrame(rlo, mem.hi(this.rootTable, bus * 2));
    this.contextReads++;
    this.read(ctx);
    const clo = mem.lo(ctx, devfn * 2);
    if ((clo & 1) === 0) return this.fault(F_CONTEXT, sid, pn, isWrite);
    const root = entryFrame(clo, mem.hi(ctx, devfn * 2));
    const hw = mem.lo(ctx, devfn * 2 + 1);
    const did = (hw >>> 8) & 0xffff;
    const pg = (hw >>> 26) & 7;
    return this.contextCache.insert(0, 0, sid, root, did | (pg << 26));
  }

  private pasidLookup(did: number, pasid: number, sid: number, pn: number, isWrite: boolean): number {
    let ps = this.pasidCache.lookup(did, 0, pasid);
    if (ps >= 0) return ps;
    // PASID directory entry + PASID table entry.
    this.pasidReads += 2;
    const d = this.domain(did);
    const t = d.s1[pasid < 0 ? 0 : pasid + 1];
    if (t === undefined) return this.fault(F_NOT_PRESENT, sid, pn, isWrite);
    ps = this.pasidCache.insert(did, 0, pasid, t.rootFrame, 0);
    return ps;
  }

  /**
   * Walk for page pn in the table rooted at `root` (in `mem`), probing the paging-structure caches
   * deepest first. With s2root >= 0 the table is a guest first stage: each table address and the
   * final address are guest-physical and go through the second stage (counted as nested reads).
   * Fills the IOTLB (leaf) and the PWCs (non-leaf). Returns the frame or -1.
   */
  private walk(did: number, tagB: number, root: number, mem: TableMemory, fmt: number, pn: number, sid: number, isWrite: boolean, s2root: number): number {
    let level = this.probePwc(did, tagB, root, pn);
    let frame = this.walkFrame;
    let perm = this.walkPerm;
    const firstStage = fmt === FMT_FIRST;
    for (; level >= 1; level--) {
      const idx = levelIndex(pn, level);
      if (s2root >= 0) {
        // The table page is guest-physical: translate it through the second stage first.
        const before = this.walkReads;
        const hpa = this.translateS2(did, s2root, frame, false, sid);
        this.nestedS2Reads += this.walkReads - before;
        if (hpa < 0) return -1;
        this.read(hpa);
      } else {
        this.read(frame);
      }
      if (tagB !== S2_TAG) this.readsByLevel[level]++;
      const lo = mem.lo(frame, idx);
      const p = firstStage ? ((lo & 1) === 0 ? 0 : PERM_R | (lo & 2)) : lo & 3;
      if (p === 0) return this.fault(F_NOT_PRESENT, sid, pn, isWrite);
      perm &= p;
      const next = entryFrame(lo, mem.hi(frame, idx));
      if (level === 1 || (lo & 0x80) !== 0) {
        // Leaf: 4 KiB, 2 MiB (level 2) or 1 GiB (level 3).
        let span = LEVEL_PAGES[level];
        let out = next + levelRem(pn, level);
        if (s2root >= 0) {
          const before = this.walkReads;
          const h = this.translateS2(did, s2root, out, isWrite, sid);
          this.nestedS2Reads += this.walkReads - before;
          if (h < 0) return -1;
          if (this.lastSpan < span) span = this.lastSpan;
          out = h;
        }
        this.fillLeaf(did, tagB, pn, span, out, perm);
        return out;
      }
      this.fillPwc(did, tagB, pn, level, next, perm);
      frame = next;
    }
    return this.fault(F_NOT_PRESENT, sid, pn, isWrite);
  }

  /**
   * walk() for a second-stage table in host memory and a request without PASID (tag NO_PASID, no
   * nesting): the same probes, reads, fills, faults and counts, in a smaller function for the hot
   * path of translate() and translatePages().
   */
  private walkSecond(did: number, root: number, pn: number, sid: number, isWrite: boolean): number {
    const mem = this.hostMem;
    let level = this.probePwc(did, NO_PASID, root, pn);
    let frame = this.walkFrame;
    let perm = this.walkPerm;
    for (; level >= 1; level--) {
      const idx = levelIndex(pn, level);
      this.read(frame);
      this.readsByLevel[level]++;
      const lo = mem.lo(frame, idx);
      const p = lo & 3;
      if (p === 0) return this.fault(F_NOT_PRESENT, sid, pn, isWrite);
      perm &= p;
      const next = entryFrame(lo, mem.hi(frame, idx));
      if (level === 1 || (lo & 0x80) !== 0) {
        const out = level === 1 ? next : next + levelRem(pn, level);
        this.fillLeaf(did, NO_PASID, pn, LEVEL_PAGES[level], out, perm);
        return out;
      }
      this.fillPwc(did, NO_PASID, pn, level, next, perm);
      frame = next;
    }
    return this.fault(F_NOT_PRESENT, sid, pn, isWrite);
  }

  /** What probePwc found: the frame of the table the walk reads next, and the permission so far. */
  private walkFrame = 0;
  private walkPerm = 0;

  /**
   * The start of a walk for page pn (walk and walkSecond): the paging-structure caches probed
   * deepest first, stopping at the first hit. Returns the level the walk reads next, with
   * walkFrame / walkPerm that level's table and the permission so far (the root and PERM_RW when
   * every PWC misses). Small, so that V8 inlines it into both walks.
   */
  private probePwc(did: number, tagB: number, root: number, pn: number): number {
    const pwc = this.pwc;
    const levels = this.levels;
    for (let k = 0; k < levels - 1; k++) {
      const c = pwc[k];
      if (c === null) continue;
      const s = c.lookup(did, tagB, Math.floor(pn * LEVEL_INV[k + 2]));
      if (s >= 0) {
        this.walkFrame = c.dataN[s];
        this.walkPerm = c.dataI[s];
        return k + 1; // the cached entry is at level k+2; continue reading at level k+1
      }
    }
    this.walkFrame = root;
    this.walkPerm = PERM_RW;
    return levels;
  }

  /**
   * A walk's leaf for page pn, `span` pages (1, 512 or 262144) mapped so that pn is at frame
   * `out`: its IOTLB entry filled (keyed by the span's first page, holding the span's first frame)
   * and the probe state set (probePerm, probeArray, probeSlot, lastSpan) as a hit would.
   */
  private fillLeaf(did: number, tagB: number, pn: number, span: number, out: number, perm: number): void {
    this.probePerm = perm;
    this.lastSpan = span;
    if (span === 1) { this.probeSlot = this.iotlb4k.fillAbsent(did, tagB, pn, out, perm); this.probeArray = 0; return; }
    const key = Math.floor(pn / span);
    const base = out - (pn - key * span);
    if (span === 512) { this.probeSlot = this.iotlb2m.fillAbsent(did, tagB, key, base, perm); this.probeArray = 1; }
    else { this.probeSlot = this.iotlb1g.fillAbsent(did, tagB, key, base, perm); this.probeArray = 2; }
  }

  /** A walk's non-leaf entry at `level` (2 = PDE, ...) on the way to page pn: filled in that level's paging-structure cache, if there is one. */
  private fillPwc(did: number, tagB: number, pn: number, level: number, next: number, perm: number): void {
    const c = this.pwc[level - 2];
    if (c !== null) c.fillAbsent(did, tagB, Math.floor(pn * LEVEL_INV[level]), next, perm);
  }

  /** Second-stage translation of a guest-physical frame during a nested walk (IOTLB/PWC tag S2_TAG). */
  private translateS2(did: number, s2root: number, gpaFrame: number, isWrite: boolean, sid: number): number {
    this.s2Lookups++;
    const f = this.probeIotlb(did, S2_TAG, gpaFrame);
    if (f >= 0) { this.s2Hits++; return f; }
    // A fault inside the second stage is recorded as a nested second-stage fault.
    this.faultOverride = F_NESTED_S2;
    const r = this.walk(did, S2_TAG, s2root, this.hostMem, FMT_SECOND, gpaFrame, sid, isWrite, -1);
    this.faultOverride = -1;
    return r;
  }

  // ------------------------------------------------------------------ DMA API: map / unmap

  /** First-stage table for (domain, pasid), created on first use (guest or host memory). */
  private s1Table(d: Domain, pasid: number): PageTable {
    const i = pasid < 0 ? 0 : pasid + 1;
    let t = d.s1[i];
    if (!t) {
      t = new PageTable(d.s1Mem!, this.levels, FMT_FIRST);
      d.s1[i] = t;
    }
    return t;
  }

  /** Page table that `map`/`unmap` for this device and PASID edit (null: mode or type has none). */
  tableFor(sid: number, pasid: number): PageTable | null {
    const did = this.didBySid[sid];
    if (did < 0) return null;
    const d = this.domain(did);
    if (d.s1Mem) return this.s1Table(d, pasid);
    return d.s2;
  }

  /**
   * DMA-API map of `pages` pages at iova page `pn` to frame `pfn` (guest-physical for nested
   * devices). perm: PERM_R | PERM_W. Returns false when the range overlaps a mapping (-EEXIST).
   */
  map(sid: number, pasid: number, pn: number, pfn: number, pages: number, perm: number): boolean {
    if (this.mode === MODE_OFF || this.mode === MODE_IDENTITY) { this.ignoredMapOps++; return true; }
    const t = this.tableFor(sid, pasid);
    if (!t) { this.ignoredMapOps++; return true; }
    this.mapCalls++;
    const ok = t.map(pn, pfn, pages, perm, Math.min(this.maxLeafLevel, this.levels - 1));
    if (ok) this.mapPages += pages;
    else this.mapFailed++;
    return ok;
  }

  /** DMA-API unmap; returns pages unmapped. Invalidates per mode (strict now, lazy via the flush queue). */
  unmap(sid: number, pasid: number, pn: number, pages: number): number {
    if (this.mode === MODE_OFF || this.mode === MODE_IDENTITY) { this.ignoredMapOps++; return 0; }
    const t = this.tableFor(sid, pasid);
    if (!t) { this.ignoredMapOps++; return 0; }
    this.unmapCalls++;
    const cleared = t.unmap(pn, pages);
    this.unmapPages += cleared;
    const freed = t.lastFreedTables;
    this.tablesFreed += freed;
    if (cleared === 0) return 0;
    const did = this.didBySid[sid];
    const lo = t.lastLo, hi = t.lastHi;
    if (this.mode === MODE_STRICT) {
      if (this.cfg.iommu.strict.invalidateOnUnmap) {
        this.invalidatePages(did, lo, hi, false);
        this.inv.wait++;
      }
    } else {
      // lazy: page-table pages that were freed still need their cached non-leaf entries dropped now
      // (the VT-d rule for modified non-leaf entries); the leaf IOTLB entries wait in the flush queue.
      if (freed > 0) { this.invalidatePwcRange(did, lo, hi); this.inv.pwc++; this.inv.wait++; }
      const d = this.domain(did);
      if (d.fqCount === 0) { d.fqOldestNs = this.now; if (this.now < this.fqMinOldestNs) this.fqMinOldestNs = this.now; }
      d.fqCount++;
      if (d.fqCount >= this.cfg.iommu.flushQueue.entries) this.flushQueue(d);
    }
    return cleared;
  }

  /** Advance simulated time to `ns`: runs lazy flushes whose timeout expired. */
  advance(ns: number): void {
    this.now = ns;
    // nothing can be due: every pending range is no older than the oldest (x - a falls as a rises,
    // in floating point too, so this is the loop's own test, for all domains at once)
    if (this.mode !== MODE_LAZY || ns - this.fqMinOldestNs < this.fqTimeoutNs) return;
    const timeout = this.fqTimeoutNs;
    for (let i = 0; i < this.domains.length; i++) {
      const d = this.domains[i];
      if (d.fqCount > 0 && ns - d.fqOldestNs >= timeout) {
        this.flushQueueTimeouts++;
        this.flushQueue(d);
      }
    }
  }

  /** Drain a domain's flush queue: one domain-selective IOTLB invalidation (plus device TLBs). */
  private flushQueue(d: Domain): void {
    this.flushQueueFlushes++;
    d.fqCount = 0;
    let min = Infinity;
    for (let i = 0; i < this.domains.length; i++) { const e = this.domains[i]; if (e.fqCount > 0 && e.fqOldestNs < min) min = e.fqOldestNs; }
    this.fqMinOldestNs = min;
    this.invalidateDomain(d.did);
    this.inv.wait++;
  }

  /** Drain every flush queue (end of a run). */
  drain(): void {
    for (const d of this.domains) if (d.fqCount > 0) this.flushQueue(d);
  }

  // ------------------------------------------------------------------ invalidation

  /**
   * Page-selective IOTLB invalidation of pages [lo, hi) in domain `did`, with Linux's aligned
   * address mask (cache.c calculate_psi_aligned_address); falls back to domain-selective when the
   * mask exceeds iommu.psi.maxAddressMask. ih = false also drops paging-structure-cache entries
   * (scope: iommu.psi.pwcScope). Device TLBs of ATS devices in the domain are invalidated too.
   */
  invalidatePages(did: number, lo: number, hi: number, ih: boolean): void {
    const pages = Math.max(1, hi - lo);
    let mask = Math.ceil(Math.log2(pages));
    while (Math.floor(lo / 2 ** mask) !== Math.floor((hi - 1) / 2 ** mask)) mask++;
    if (mask > this.cfg.iommu.psi.maxAddressMask) {
      this.invalidateDomain(did);
      return;
    }
    const size = 2 ** mask;
    const start = Math.floor(lo / size) * size;
    const end = start + size;
    this.inv.iotlb++;
    this.invalidatedIotlbEntries += this.dropIotlbRange(did, start, end);
    if (!ih) {
      const scope = this.cfg.iommu.psi.pwcScope;
      if (scope === 'domain') { this.invalidatePwcDomain(did); this.inv.pwc++; }
      else if (scope === 'range') { this.invalidatePwcRange(did, start, end); this.inv.pwc++; }
    }
    const d = this.domain(did);
    for (const sid of d.atsSids) this.invalidateDevtlb(sid, start, end);
  }

  private dropIotlbRange(did: number, lo: number, hi: number): number {
    return this.iotlb4k.invalidateWhere(did, ANY, lo, hi)
      + this.iotlb2m.invalidateWhere(did, ANY, Math.floor(lo / 512), Math.ceil(hi / 512))
      + this.iotlb1g.invalidateWhere(did, ANY, Math.floor(lo / 262144), Math.ceil(hi / 262144));
  }

  /** Drop the paging-structure-cache entries of `did` that cover pages [lo, hi). */
  invalidatePwcRange(did: number, lo: number, hi: number): void {
    for (let k = 0; k < this.pwc.length; k++) {
      const c = this.pwc[k];
      if (c === null) continue;
      const span = LEVEL_PAGES[k + 2];
      this.invalidatedPwcEntries += c.invalidateWhere(did, ANY, Math.floor(lo / span), Math.ceil(hi / span));
    }
  }

  invalidatePwcDomain(did: number): void {
    for (const c of this.pwc) if (c !== null) this.invalidatedPwcEntries += c.invalidateWhere(did, ANY, 0, ALL_NUMS_HI);
  }

  /** Domain-selective IOTLB invalidation (drops the domain's IOTLB and PWC entries, and its device TLBs). */
  invalidateDomain(did: number): void {
    this.inv.iotlb++;
    this.inv.pwc++;
    this.invalidatedIotlbEntries += this.iotlb4k.invalidateWhere(did, ANY, 0, ALL_NUMS_HI)
      + this.iotlb2m.invalidateWhere(did, ANY, 0, ALL_NUMS_HI)
      + this.iotlb1g.invalidateWhere(did, ANY, 0, ALL_NUMS_HI);
    this.invalidatePwcDomain(did);
    const d = this.domains[this.domainByDid[did]];
    if (d) for (const sid of d.atsSids) this.invalidateDevtlb(sid, 0, ALL_NUMS_HI);
  }

  /** Global IOTLB invalidation: every IOTLB, PWC and device-TLB entry. */
  invalidateGlobal(): void {
    this.inv.iotlb++;
    this.inv.pwc++;
    this.invalidatedIotlbEntries += this.iotlb4k.invalidateAll() + this.iotlb2m.invalidateAll() + this.iotlb1g.invalidateAll();
    for (const c of this.pwc) if (c !== null) this.invalidatedPwcEntries += c.invalidateAll();
    for (let sid = 0; sid < 65536; sid++) if (this.atcBySid[sid] !== null) this.invalidateDevtlb(sid, 0, ALL_NUMS_HI);
  }

  /** Context-cache invalidation: one device (sid >= 0) or all (sid < 0). */
  invalidateContext(sid: number): void {
    this.inv.context++;
    if (sid < 0) this.contextCache.invalidateAll();
    else this.contextCache.invalidateKey(0, 0, sid);
  }

  /** Device-TLB invalidation of pages [lo, hi) on one ATS device. */
  invalidateDevtlb(sid: number, lo: number, hi: number): void {
    const atc = this.atcBySid[sid];
    if (atc === null) return;
    this.inv.devtlb++;
    atc.invalidateWhere(0, ANY, lo, hi);
  }

  /** PASID-cache invalidation for a domain. */
  invalidatePasid(did: number): void {
    this.inv.pasid++;
    this.pasidCache.invalidateWhere(did, ANY, 0, ALL_NUMS_HI);
  }

  /** Record an invalidation-wait descriptor (software waits for completion). */
  waitDescriptor(): void {
    this.inv.wait++;
  }

  // ------------------------------------------------------------------ results

  /** The result's IOMMU metrics: every statistic of the declaration table (stats.ts), read once, in its order. */
  metrics(): IommuMetrics {
    return IOMMU_STATS.build(this) as IommuMetrics;
  }
}

export type { IommuMetrics } from './stats.js';

export { MAX_PN };
