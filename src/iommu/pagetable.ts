/**
 * I/O page tables in simulated memory, in the VT-d formats:
 *  - second stage (SL): bit 0 read, bit 1 write, bit 7 page size (PDE: 2 MiB, PDPTE: 1 GiB leaf),
 *    bits 51:12 address; an entry is present when read or write is set.
 *  - first stage (FL, IA-32e format): bit 0 present, bit 1 writable, bit 2 user, bit 7 page size.
 * Levels: 3 (39-bit), 4 (48-bit) or 5 (57-bit); level 1 holds PTEs, 2 PDEs, 3 PDPTEs, 4 PML4Es,
 * 5 PML5Es. Addresses are 4 KiB page numbers (doubles below 2^45), never byte addresses, so 57-bit
 * IOVAs stay exact.
 *
 * `map` uses the largest leaf that the alignment of iova, paddr and the remaining size allow when
 * superpages are on (as Linux's intel-iommu does); it fails without change if any page in the
 * range is already mapped (Linux returns -EEXIST). `unmap` clears leaves (a partly covered large
 * leaf is cleared whole and reported so, as Linux does) and frees every table page that becomes
 * empty, clearing its parent entry (page-table reclaim).
 */
import { TableMemory, entryFrame, entryLo, entryHi } from './tablemem.js';

export const FMT_SECOND = 0;
export const FMT_FIRST = 1;

export const PERM_R = 1;
export const PERM_W = 2;
export const PERM_RW = 3;

/** 512^(level-1): pages covered by one entry at `level`. */
export const LEVEL_PAGES = [0, 1, 512, 512 * 512, 512 ** 3, 512 ** 4, 512 ** 5];
/** 1 / LEVEL_PAGES[l], exact (powers of two): pn * LEVEL_INV[l] is pn / LEVEL_PAGES[l] without a divide. */
export const LEVEL_INV = new Float64Array([0, 1, 2 ** -9, 2 ** -18, 2 ** -27, 2 ** -36, 2 ** -45]);

/** pn mod LEVEL_PAGES[level]: the page's offset inside the region one entry at `level` covers. */
export function levelRem(pn: number, level: number): number {
  return pn - Math.floor(pn * LEVEL_INV[level]) * LEVEL_PAGES[level];
}

/** Index of the entry for page `pn` in a table at `level`. */
export function levelIndex(pn: number, level: number): number {
  return ((pn * LEVEL_INV[level]) >>> 0) & 511;
}

const PS = 1 << 7;

export class PageTable {
  readonly mem: TableMemory;
  readonly levels: number;
  readonly fmt: number;
  readonly rootFrame: number;
  /** Present-bit mask of this format. */
  readonly presentMask: number;
  private readonly pathFrame = new Float64Array(7);
  private readonly pathIndex = new Int32Array(7);

  /** Set by unmap: the page range actually cleared (large leaves widen it) and tables freed. */
  lastLo = 0;
  lastHi = 0;
  lastFreedTables = 0;
  /** Leaves installed by map, per size: [4K, 2M, 1G]. */
  readonly leafCount = new Float64Array(4);

  constructor(mem: TableMemory, levels: number, fmt: number) {
    this.mem = mem;
    this.levels = levels;
    this.fmt = fmt;
    this.presentMask = fmt === FMT_SECOND ? 3 : 1;
    this.rootFrame = mem.alloc();
  }

  /** Permission bits (PERM_R | PERM_W) of an entry; 0 = not present. */
  perm(lo: number): number {
    if (this.fmt === FMT_SECOND) return lo & 3;
    return (lo & 1) === 0 ? 0 : PERM_R | (lo & 2);
  }

  isLeaf(lo: number, level: number): boolean {
    return level === 1 || (lo & PS) !== 0;
  }

  private nonLeafBits(): number {
    return this.fmt === FMT_SECOND ? PERM_RW : 0x7; // FL: present | writable | user
  }

  private leafBits(perm: number, level: number): number {
    let f: number;
    if (this.fmt === FMT_SECOND) f = perm & 3;
    else f = 1 | (perm & PERM_W) | 4;
    return level > 1 ? f | PS : f;
  }

  /**
   * Map `pages` 4 KiB pages from `pn` to frames from `pfn`. maxLeafLevel: 1 (4 KiB only), 2 (up to
   * 2 MiB) or 3 (up to 1 GiB). Returns true, or false (nothing left mapped) on an overlap.
   */
  map(pn: number, pfn: number, pages: number, perm: number, maxLeafLevel: number): boolean {
    const startPn = pn;
    let left = pages;
    while (left > 0) {
      let level = 1;
      for (let l = Math.min(maxLeafLevel, this.levels - 1); l > 1; l--) {
        const span = LEVEL_PAGES[l];
        if (left >= span && levelRem(pn, l) === 0 && levelRem(pfn, l) === 0) { level = l; break; }
      }
      if (!this.installLeaf(pn, pfn, level, perm)) {
        if (pn > startPn) this.unmap(startPn, pn - startPn);
        return false;
      }
      this.leafCount[level]++;
      const span = LEVEL_PAGES[level];
      pn += span;
      pfn += span;
      left -= span;
    }
    return true;
  }

  private installLeaf(pn: number, pfn: number, leafLevel: number, perm: number): boolean {
    const mem = this.mem;
    const pm = this.presentMask;
    let frame = this.rootFrame;
    for (let level = this.levels; level > leafLevel; level--) {
      const idx = levelIndex(pn, level);
      const lo = mem.lo(frame, idx);
      if ((lo & pm) === 0) {
        const t = mem.alloc();
        mem.write(frame, idx, entryLo(t, this.nonLeafBits()), entryHi(t), pm);
        frame = t;
      } else {
        if (level > 1 && (lo & PS) !== 0) return false; // a large leaf already covers it
        frame = entryFrame(lo, mem.hi(frame, idx));
      }
    }
    const idx = levelIndex(pn, leafLevel);
    if ((mem.lo(frame, idx) & pm) !== 0) return false;
    mem.write(frame, idx, entryLo(pfn, this.leafBits(perm, leafLevel)), entryHi(pfn), pm);
    return true;
  }

  /**
   * Unmap `pages` pages from `pn`. Returns pages cleared (counting whole large leaves).
   * Sets lastLo/lastHi (page range cleared) and lastFreedTables.
   */
  unmap(pn: number, pages: number): number {
    const mem = this.mem;
    const pm = this.presentMask;
    const end = pn + pages;
    let cleared = 0;
    let lo = Infinity, hi = -Infinity;
    this.lastFreedTables = 0;
    let p = pn;
    while (p < end) {
      // Walk down, remembering the path.
      let frame = this.rootFrame;
      let level = this.levels;
      let skipTo = -1;
      for (;;) {
        const idx = levelIndex(p, level);
        this.pathFrame[level] = frame;
        this.pathIndex[level] = idx;
        const elo = mem.lo(frame, idx);
        const span = LEVEL_PAGES[level];
        if ((elo & pm) === 0) { skipTo = (Math.floor(p * LEVEL_INV[level]) + 1) * span; break; }
        if (this.isLeaf(elo, level)) {
          mem.write(frame, idx, 0, 0, pm);
          const leafStart = Math.floor(p * LEVEL_INV[level]) * span;
          if (leafStart < lo) lo = leafStart;
          if (leafStart + span > hi) hi = leafStart + span;
          cleared += span;
          this.leafCount[level]--;
          skipTo = leafStart + span;
          this.reclaim(level);
          break;
        }
        frame = entryFrame(elo, mem.hi(frame, idx));
        level--;
      }
      p = skipTo;
    }
    this.lastLo = cleared > 0 ? lo : pn;
    this.lastHi = cleared > 0 ? hi : pn;
    return cleared;
  }

  /** After clearing an entry in the table at `level` of the saved path, free empty tables upward. */
  private reclaim(level: number): void {
    const mem = this.mem;
    for (let l = level; l < this.levels; l++) {
      const frame = this.pathFrame[l];
      if (mem.present(frame) !== 0) return;
      mem.release(frame);
      this.lastFreedTables++;
      mem.write(this.pathFrame[l + 1], this.pathIndex[l + 1], 0, 0, this.presentMask);
    }
  }

  /**
   * Functional lookup without caches (used by tests and by the shadowing path):
   * returns the frame for `pn` or -1, and the permission in `lookupPerm`.
   */
  lookupPerm = 0;
  translate(pn: number): number {
    const mem = this.mem;
    let frame = this.rootFrame;
    let perm = PERM_RW;
    for (let level = this.levels; level >= 1; level--) {
      const idx = levelIndex(pn, level);
      const elo = mem.lo(frame, idx);
      const p = this.perm(elo);
      if (p === 0) return -1;
      perm &= p;
      const next = entryFrame(elo, mem.hi(frame, idx));
      if (this.isLeaf(elo, level)) {
        this.lookupPerm = perm;
        return next + levelRem(pn, level);
      }
      frame = next;
    }
    return -1;
  }
}
