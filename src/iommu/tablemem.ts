/**
 * Simulated physical memory for translation tables: 4 KiB table pages of 512 eight-byte entries,
 * each entry stored as two 32-bit words (lo = bits 31:0, hi = bits 63:32) exactly as VT-d lays it
 * out. A region owns the frames [baseFrame, baseFrame + capacityPages); a table page's physical
 * address is its frame number × 4096, so an entry that points at a table holds a real address.
 *
 * The page-table walker reads entries by (frame, index); the timing model later charges each read
 * to the memory model at that physical address.
 */
import { InputError } from '../util/errors.js';
import { growTyped } from '../util/typed.js';

export const ENTRIES_PER_TABLE = 512;
const WORDS_PER_TABLE = ENTRIES_PER_TABLE * 2;

export class TableMemory {
  /** First frame (physical page number) of the region. */
  readonly baseFrame: number;
  /** Most table pages the region may hold. */
  readonly capacityPages: number;
  /** Human name for errors ("host page tables", "guest page tables"). */
  readonly name: string;
  private words: Uint32Array;
  /** Present entries per table page (for reclaim of empty tables). */
  private presentCount: Uint16Array;
  private allocatedPages = 0;
  private freeList: Int32Array;
  private freeTop = 0;
  /** Tables in use now, and the peak. */
  inUse = 0;
  peakInUse = 0;

  constructor(name: string, baseFrame: number, capacityPages: number, initialPages = 64) {
    this.name = name;
    this.baseFrame = baseFrame;
    this.capacityPages = capacityPages;
    const n = Math.min(initialPages, capacityPages);
    this.words = new Uint32Array(n * WORDS_PER_TABLE);
    this.presentCount = new Uint16Array(n);
    this.freeList = new Int32Array(16);
  }

  /** Allocate a zeroed table page; returns its frame number. */
  alloc(): number {
    let idx: number;
    if (this.freeTop > 0) {
      idx = this.freeList[--this.freeTop];
      this.words.fill(0, idx * WORDS_PER_TABLE, (idx + 1) * WORDS_PER_TABLE);
      this.presentCount[idx] = 0;
    } else {
      if (this.allocatedPages >= this.capacityPages) {
        throw new InputError(`${this.name}: out of table memory (${this.capacityPages} pages of 4 KiB); map less at once or raise the region size`);
      }
      idx = this.allocatedPages++;
      if (idx >= this.presentCount.length) this.grow();
    }
    this.inUse++;
    if (this.inUse > this.peakInUse) this.peakInUse = this.inUse;
    return this.baseFrame + idx;
  }

  /** Return a table page (its entries must all be non-present). */
  release(frame: number): void {
    const idx = frame - this.baseFrame;
    if (this.freeTop >= this.freeList.length) {
      this.freeList = growTyped(this.freeList, this.freeList.length * 2);
    }
    this.freeList[this.freeTop++] = idx;
    this.inUse--;
  }

  private grow(): void {
    const pages = Math.min(this.capacityPages, this.presentCount.length * 2);
    this.words = growTyped(this.words, pages * WORDS_PER_TABLE);
    this.presentCount = growTyped(this.presentCount, pages);
  }

  /** True when the frame lies in this region and is allocated. */
  owns(frame: number): boolean {
    const idx = frame - this.baseFrame;
    return idx >= 0 && idx < this.allocatedPages;
  }

  lo(frame: number, index: number): number {
    return this.words[((frame - this.baseFrame) * ENTRIES_PER_TABLE + index) * 2];
  }

  hi(frame: number, index: number): number {
    return this.words[((frame - this.baseFrame) * ENTRIES_PER_TABLE + index) * 2 + 1];
  }

  /** Write an entry; keeps the per-table present count (present = any of the low 2 bits, or bit 0). */
  write(frame: number, index: number, lo: number, hi: number, presentMask: number): void {
    const t = frame - this.baseFrame;
    const w = (t * ENTRIES_PER_TABLE + index) * 2;
    const was = (this.words[w] & presentMask) !== 0;
    const now = (lo & presentMask) !== 0;
    this.words[w] = lo >>> 0;
    this.words[w + 1] = hi >>> 0;
    if (was !== now) this.presentCount[t] += now ? 1 : -1;
  }

  present(frame: number): number {
    return this.presentCount[frame - this.baseFrame];
  }
}

/** Frame number held in an entry's bits 51:12. */
export function entryFrame(lo: number, hi: number): number {
  return (hi & 0xfffff) * 0x100000 + (lo >>> 12);
}

/** lo/hi words for a frame number in bits 51:12 plus low flag bits. */
export function entryLo(frame: number, flags: number): number {
  return ((frame % 0x100000) * 4096 + (flags & 0xfff)) >>> 0;
}
export function entryHi(frame: number, hiFlags = 0): number {
  return ((Math.floor(frame / 0x100000) & 0xfffff) | hiFlags) >>> 0;
}
