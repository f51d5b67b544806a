/**
 * A Linux-like IOVA allocator (drivers/iommu/iova.c + the flush queue of dma-iommu.c), state in
 * typed arrays, used by the NIC model to choose the IOVA of every map.
 *
 * - The tree: allocations are size-aligned (alignment = size rounded up to a power of two) and
 *   searched top-down, next-fit: below the cached node (the last allocation, or the node above the
 *   last free at or above it), then, if nothing fits, between the cached node and the limit
 *   (__alloc_and_insert_iova_range and __cached_rbnode_delete_update of Linux 5.x/6.x). Held as a
 *   bitmap of used pages plus each block's length at its first page, over one window of 2^20 pages
 *   (4 GiB of IOVA): below 4 GiB (pages 1 … 2^20 − 1, the x86 MSI range 0xfee00000–0xfeefffff
 *   reserved), and, once that is full or with forceDac, the 4 GiB just below the aperture's top.
 * - The range cache: sizes of 1–32 pages are rounded up to a power of two (alloc_iova_fast) and
 *   cached per size class (IOVA_RANGE_CACHE_MAX_SIZE = 6) per CPU in a loaded and a previous
 *   magazine, LIFO; full magazines go to a depot of `depotMagazines` per class; a full CPU cache with
 *   a full depot frees the loaded magazine's IOVAs to the tree (__iova_rcache_insert). A get takes
 *   from loaded, then prev (swapping), then a depot magazine (__iova_rcache_get). If the tree has no
 *   room, every cached IOVA goes back to the tree and the allocation is retried once.
 * - The flush queue (lazy mode): an unmapped IOVA is not reused until the IOTLB has been flushed.
 *   The flush points are those of this simulator's IOMMU model (src/iommu/iommu.ts, lazy mode): one
 *   queue per domain, flushed when `fqEntries` unmaps are pending or at the first event
 *   `fqTimeoutNs` after the oldest pending one, so the replay never meets a reused IOVA whose old
 *   IOTLB entry is still cached. (Linux keeps a 256-slot ring per CPU, dma-iommu.c queue_iova; a
 *   full ring or the 10 ms timer flushes the domain.) Flushed IOVAs go to the cache of the CPU
 *   that unmapped them; after a timeout, to the CPU of the oldest (where Linux's timer was armed).
 *   With fqEntries = 0 an unmapped IOVA is freed at once (strict mode).
 *
 * The allocator only decides addresses; invalidations are the IOMMU model's business (it sees the
 * trace's unmaps). Time is checked lazily: the timer fires at the first call at or after its deadline.
 */
import { inputError } from '../../util/errors.js';
import { growTyped } from '../../util/typed.js';
import type { IovaSpec } from '../../config/knobs/nic.js';

export type { IovaSpec };

export const WINDOW_PAGES = 1 << 20;
/** Size classes 0..5 (1..32 pages) are cached (IOVA_RANGE_CACHE_MAX_SIZE = 6). */
export const RCACHE_ORDERS = 6;
/** x86 interrupt (MSI) address range, reserved in every DMA domain (intel-iommu IOAPIC_RANGE_START/END). */
export const MSI_FIRST_PFN = 0xfee00;
export const MSI_PAGES = 0x100;


/** One window of the tree: pages [base, base + 2^20), allocatable from `start` to `limit` − 1. */
class Window {
  readonly used = new Uint32Array(WINDOW_PAGES >>> 5);
  /** Block length at a block's first page, 0 elsewhere. */
  readonly len = new Uint32Array(WINDOW_PAGES);
  /** Pages any DMA touched (the working set). */
  readonly touched = new Uint32Array(WINDOW_PAGES >>> 5);
  touchedCount = 0;
  /** The cached node: [cachedLo, cachedHi]; the anchor is (limit, Infinity). */
  cachedLo: number;
  cachedHi = Infinity;
  constructor(readonly base: number, readonly start: number, readonly limit: number) {
    this.cachedLo = limit;
  }

  isUsed(pfn: number): boolean {
    const i = pfn - this.base;
    return (this.used[i >>> 5] & (1 << (i & 31))) !== 0;
  }

  setRange(pfn: number, n: number, on: boolean): void {
    let i = pfn - this.base;
    const end = i + n;
    const u = this.used;
    while (i < end) {
      if ((i & 31) === 0 && end - i >= 32) { u[i >>> 5] = on ? 0xffffffff : 0; i += 32; continue; }
      if (on) u[i >>> 5] |= 1 << (i & 31); else u[i >>> 5] &= ~(1 << (i & 31));
      i++;
    }
  }

  /** Highest used pfn in [lo, hi), or -1. */
  highestUsed(lo: number, hi: number): number {
    return this.highest(lo, hi, 0);
  }

  /** Highest free pfn in [lo, hi), or -1. */
  highestFree(lo: number, hi: number): number {
    return this.highest(lo, hi, -1);
  }

  /** Highest pfn in [lo, hi) whose used bit xor `flip` (0: used, -1: free) is set, or -1; skips a word with none a step. */
  private highest(lo: number, hi: number, flip: number): number {
    const u = this.used;
    let i = hi - 1 - this.base;
    const stop = lo - this.base;
    while (i >= stop) {
      const w = u[i >>> 5] ^ flip;
      if (w === 0) { i = (i & ~31) - 1; continue; }
      if ((w & (1 << (i & 31))) !== 0) return i + this.base;
      i--;
    }
    return -1;
  }

  /** Lowest used pfn in [lo, hi), or -1. */
  lowestUsed(lo: number, hi: number): number {
    const u = this.used;
    let i = lo - this.base;
    const stop = hi - this.base;
    while (i < stop) {
      const w = u[i >>> 5];
      if (w === 0) { i = (i | 31) + 1; continue; }
      if ((w & (1 << (i & 31))) !== 0) return i + this.base;
      i++;
    }
    return -1;
  }

  /** Highest `align`-aligned p with [p, p + size) free, p ≥ bottom, p + size ≤ top; -1 if none. */
  search(size: number, align: number, top: number, bottom: number): number {
    for (;;) {
      const p = Math.floor((top - size) / align) * align;
      if (p < bottom) return -1;
      const h = this.highestUsed(p, p + size);
      if (h < 0) return p;
      // a fit must end at or below h, and its last page must be free
      const f = this.highestFree(bottom, h);
      if (f < 0) return -1;
      top = f + 1;
    }
  }

  /** __alloc_and_insert_iova_range: below the cached node, then above it. */
  alloc(size: number, align: number): number {
    let p = this.search(size, align, this.cachedLo, this.start);
    if (p < 0 && this.cachedHi < this.limit - 1) p = this.search(size, align, this.limit, this.cachedHi + 1);
    if (p < 0) return -1;
    this.setRange(p, size, true);
    this.len[p - this.base] = size;
    this.cachedLo = p;
    this.cachedHi = p + size - 1;
    return p;
  }

  reserve(pfn: number, size: number): void {
    this.setRange(pfn, size, true);
    this.len[pfn - this.base] = size;
  }

  /** private_free_iova with __cached_rbnode_delete_update. */
  free(pfn: number): void {
    const size = this.len[pfn - this.base];
    if (size === 0) throw new Error(`internal error: IOVA pfn 0x${pfn.toString(16)} is not an allocated block`);
    if (pfn >= this.cachedLo) {
      const next = this.lowestUsed(pfn + size, this.limit);
      if (next < 0) { this.cachedLo = this.limit; this.cachedHi = Infinity; } else { this.cachedLo = next; this.cachedHi = next + this.len[next - this.base] - 1; }
    }
    this.len[pfn - this.base] = 0;
    this.setRange(pfn, size, false);
  }

  touch(pfn: number): void {
    const i = pfn - this.base;
    const bit = 1 << (i & 31);
    if ((this.touched[i >>> 5] & bit) === 0) { this.touched[i >>> 5] |= bit; this.touchedCount++; }
  }
}

function roundUpPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** order_base_2 */
function orderOf(n: number): number {
  let o = 0;
  while ((1 << o) < n) o++;
  return o;
}

export class IovaAllocator {
  readonly low: Window;
  high: Window | null = null;
  private lowFull: boolean;
  private readonly highBase: number;
  private readonly highLimit: number;

  // range cache: magazine pool
  private readonly M: number;
  private magCap = 0;
  private magPfn = new Float64Array(0);
  private magSize = new Int32Array(0);
  private magFree = new Int32Array(0);
  private magFreeTop = 0;
  /** [cpu * RCACHE_ORDERS + order] → magazine index */
  private readonly loaded: Int32Array;
  private readonly prev: Int32Array;
  private readonly depot: Int32Array;
  private readonly depotSize = new Int32Array(RCACHE_ORDERS);
  private readonly depotCap: number;

  // flush queue: one per domain (the NIC's), a FIFO of IOVAs and the CPUs that unmapped them
  private readonly fqSlots: number;
  private readonly fqPfn: Float64Array;
  private readonly fqCpu: Int32Array;
  private fqLen = 0;
  private fqOldestNs = 0;

  hits = 0;
  misses = 0;
  flushes = 0;
  timerFlushes = 0;
  rcacheFlushes = 0;

  constructor(readonly spec: IovaSpec) {
    this.low = new Window(0, 1, WINDOW_PAGES);
    this.low.reserve(MSI_FIRST_PFN, MSI_PAGES);
    // the upper window: the 4 GiB just below the aperture's top (none for a 32-bit aperture)
    this.highLimit = spec.apertureBits > 32 ? 2 ** (spec.apertureBits - 12) : 0;
    this.highBase = this.highLimit - WINDOW_PAGES;
    this.lowFull = spec.forceDac && this.highLimit > WINDOW_PAGES;
    this.M = spec.magazineEntries;
    const slots = spec.cpus * RCACHE_ORDERS;
    this.loaded = new Int32Array(slots);
    this.prev = new Int32Array(slots);
    this.growMags(slots * 2 + 8);
    for (let i = 0; i < slots; i++) { this.loaded[i] = this.newMag(); this.prev[i] = this.newMag(); }
    this.depotCap = spec.depotMagazines;
    this.depot = new Int32Array(RCACHE_ORDERS * Math.max(1, spec.depotMagazines));
    this.fqSlots = spec.fqEntries;
    this.fqPfn = new Float64Array(spec.fqEntries);
    this.fqCpu = new Int32Array(spec.fqEntries);
  }

  // ------------------------------------------------------------------ magazines

  private growMags(cap: number): void {
    const old = this.magCap;
    const pfn = growTyped(this.magPfn, cap * this.M);
    const size = growTyped(this.magSize, cap);
    const free = new Int32Array(cap);
    free.set(this.magFree.subarray(0, this.magFreeTop));
    for (let i = cap - 1; i >= old; i--) free[this.magFreeTop++] = i;
    this.magPfn = pfn; this.magSize = size; this.magFree = free; this.magCap = cap;
  }

  private newMag(): number {
    if (this.magFreeTop === 0) this.growMags(this.magCap * 2);
    const m = this.magFree[--this.magFreeTop];
    this.magSize[m] = 0;
    return m;
  }

  private releaseMag(m: number): void {
    this.magFree[this.magFreeTop++] = m;
  }

  private rcacheGet(order: number, cpu: number): number {
    const s = cpu * RCACHE_ORDERS + order;
    let m = this.loaded[s];
    if (this.magSize[m] === 0) {
      const p = this.prev[s];
      if (this.magSize[p] > 0) {
        this.prev[s] = m;
        this.loaded[s] = m = p;
      } else if (this.depotSize[order] > 0) {
        this.releaseMag(m);
        m = this.depot[order * this.depotCap + --this.depotSize[order]];
        this.loaded[s] = m;
      } else {
        return -1;
      }
    }
    return this.magPfn[m * this.M + --this.magSize[m]];
  }

  private rcacheInsert(order: number, cpu: number, pfn: number): void {
    const s = cpu * RCACHE_ORDERS + order;
    let m = this.loaded[s];
    if (this.magSize[m] === this.M) {
      const p = this.prev[s];
      if (this.magSize[p] < this.M) {
        this.prev[s] = m;
        this.loaded[s] = m = p;
      } else {
        const fresh = this.newMag();
        if (this.depotSize[order] < this.depotCap) {
          this.depot[order * this.depotCap + this.depotSize[order]++] = m;
        } else {
          for (let k = 0; k < this.magSize[m]; k++) this.treeFree(this.magPfn[m * this.M + k]);
          this.releaseMag(m);
        }
        this.loaded[s] = m = fresh;
      }
    }
    this.magPfn[m * this.M + this.magSize[m]++] = pfn;
  }

  /** free_cpu_cached_iovas + free_global_cached_iovas: everything cached back to the tree. */
  private flushRcaches(): void {
    this.rcacheFlushes++;
    const drain = (m: number): void => {
      for (let k = 0; k < this.magSize[m]; k++) this.treeFree(this.magPfn[m * this.M + k]);
      this.magSize[m] = 0;
    };
    for (let s = 0; s < this.loaded.length; s++) { drain(this.loaded[s]); drain(this.prev[s]); }
    for (let o = 0; o < RCACHE_ORDERS; o++) {
      while (this.depotSize[o] > 0) {
        const m = this.depot[o * this.depotCap + --this.depotSize[o]];
        drain(m);
        this.releaseMag(m);
      }
    }
  }

  // ------------------------------------------------------------------ tree

  private windowOf(pfn: number): Window {
    if (pfn < WINDOW_PAGES) return this.low;
    return this.high!;
  }

  private treeAlloc(size: number, align: number): number {
    if (!this.lowFull) {
      const p = this.low.alloc(size, align);
      if (p >= 0) return p;
      if (this.highLimit <= WINDOW_PAGES) return -1;
      this.lowFull = true; // dev->iommu->pci_32bit_workaround = false: full width from now on
    }
    if (this.high === null) this.high = new Window(this.highBase, this.highBase, this.highLimit);
    return this.high.alloc(size, align);
  }

  private treeFree(pfn: number): void {
    this.windowOf(pfn).free(pfn);
  }

  // ------------------------------------------------------------------ DMA API

  /** alloc_iova_fast for a mapping of `pages` pages on `cpu`; returns the first pfn. */
  alloc(pages: number, cpu: number, nowNs: number): number {
    if (this.fqLen > 0 && nowNs - this.fqOldestNs >= this.spec.fqTimeoutNs) this.timerFire();
    const size = pages < 32 ? roundUpPow2(pages) : pages;
    const order = orderOf(size);
    if (order < RCACHE_ORDERS) {
      const p = this.rcacheGet(order, cpu);
      if (p >= 0) { this.hits++; return p; }
    }
    this.misses++;
    const align = 2 ** order;
    let p = this.treeAlloc(size, align);
    if (p < 0) { this.flushRcaches(); p = this.treeAlloc(size, align); }
    if (p < 0) {
      throw inputError('nic.iova', `the IOVA space is exhausted allocating ${pages} page(s) (${this.spec.apertureBits}-bit aperture, 4 GiB below 4 GiB and 4 GiB below the top modelled)`,
        'use fewer or smaller rings (nic.rxRing.entries, nic.txRing.entries, nic.queues) or smaller buffers (nic.bufferBytes)');
    }
    return p;
  }

  /** The DMA-API unmap of `pages` pages at `pfn` on `cpu`: queued (lazy) or freed at once (strict). */
  free(pfn: number, pages: number, cpu: number, nowNs: number): void {
    if (this.fqLen > 0 && nowNs - this.fqOldestNs >= this.spec.fqTimeoutNs) this.timerFire();
    if (this.fqSlots === 0) { this.freeFast(pfn, pages, cpu); return; }
    if (this.fqLen === 0) this.fqOldestNs = nowNs;
    this.fqPfn[this.fqLen] = pfn;
    this.fqCpu[this.fqLen] = cpu;
    if (++this.fqLen >= this.fqSlots) {
      this.flushes++;
      this.fqFree(-1);
    }
  }

  /** free_iova_fast */
  private freeFast(pfn: number, pages: number, cpu: number): void {
    const size = pages < 32 ? roundUpPow2(pages) : pages;
    const order = orderOf(size);
    if (order < RCACHE_ORDERS) this.rcacheInsert(order, cpu, pfn);
    else this.treeFree(pfn);
  }

  /** After a flush: every queued IOVA, oldest first, into its CPU's cache (or `intoCpu`'s, ≥ 0). */
  private fqFree(intoCpu: number): void {
    for (let k = 0; k < this.fqLen; k++) {
      const pfn = this.fqPfn[k];
      const w = this.windowOf(pfn);
      this.freeFast(pfn, w.len[pfn - w.base], intoCpu >= 0 ? intoCpu : this.fqCpu[k]);
    }
    this.fqLen = 0;
  }

  /** The flush timeout: everything queued, into the cache of the CPU that queued the oldest. */
  private timerFire(): void {
    this.flushes++;
    this.timerFlushes++;
    this.fqFree(this.fqCpu[0]);
  }

  /** Mark the pages a DMA touches (the working set). */
  touch(pfn: number, pages: number): void {
    for (let k = 0; k < pages; k++) this.windowOf(pfn + k).touch(pfn + k);
  }

  get distinctTouchedPages(): number {
    return this.low.touchedCount + (this.high ? this.high.touchedCount : 0);
  }

  /** IOVAs waiting in flush queues (tests). */
  get queued(): number {
    return this.fqLen;
  }
}
