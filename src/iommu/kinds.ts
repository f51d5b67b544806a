/**
 * IOMMU work split by the kind of DMA that caused it (trace column `kind`: packet data, descriptor
 * fetches, completion writes, doorbell-record reads, the ACKs a TCP receiver sends, …), so a report
 * can say which DMAs miss: the functional replay and the timed system record every translation
 * here, right after `Iommu.translate`. Counts only; typed arrays indexed by kind.
 */
import type { Iommu } from './iommu.js';
import { DMA_KINDS, type DmaKindName } from '../trace/columns.js';

export interface KindMetrics { kind: DmaKindName; requests: number; bytes: number; lookups: number; misses: number; memReads: number }

export class KindCounts {
  readonly requests = new Float64Array(DMA_KINDS.length);
  readonly bytes = new Float64Array(DMA_KINDS.length);
  readonly lookups = new Float64Array(DMA_KINDS.length);
  readonly misses = new Float64Array(DMA_KINDS.length);
  readonly memReads = new Float64Array(DMA_KINDS.length);
  private readsBefore = 0;

  /** A DMA request of `kind` and `bytes` (once per request). */
  request(kind: number, bytes: number): void {
    this.requests[kind]++;
    this.bytes[kind] += bytes;
  }

  /** Call before `iommu.translate` … */
  before(iommu: Iommu): void {
    // walk reads only, as metrics.walks.memReads counts them (context-entry reads excluded)
    this.readsBefore = iommu.walkReads - iommu.contextReads;
  }

  /** … and after it, for the translation of a page of a DMA of `kind`. */
  after(iommu: Iommu, kind: number): void {
    if (iommu.lastIotlbArray >= 0 || iommu.lastWalked) this.lookups[kind]++;
    if (iommu.lastWalked) this.misses[kind]++;
    this.memReads[kind] += iommu.walkReads - iommu.contextReads - this.readsBefore;
  }

  /**
   * The work of translations of pages of DMAs of `kind`, added at once: `lookups` IOTLB lookups,
   * `misses` of them missed (walks), `memReads` walk reads (context-entry reads excluded). The
   * functional replay adds each DMA's differences of iommu.iotlbLookups, iotlbMisses and
   * walkReads − contextReads: per translation, `after` counts a lookup exactly when translate()
   * counts one in iotlbLookups (a hit or a walk), and a miss when it counts one in iotlbMisses.
   */
  add(kind: number, lookups: number, misses: number, memReads: number): void {
    this.lookups[kind] += lookups;
    this.misses[kind] += misses;
    this.memReads[kind] += memReads;
  }

  /** Per kind that had requests. */
  metrics(): KindMetrics[] {
    const out: KindMetrics[] = [];
    for (let k = 0; k < DMA_KINDS.length; k++) {
      if (this.requests[k] === 0) continue;
      out.push({ kind: DMA_KINDS[k], requests: this.requests[k], bytes: this.bytes[k], lookups: this.lookups[k], misses: this.misses[k], memReads: this.memReads[k] });
    }
    return out;
  }
}
