/**
 * IOMMU work split by the kind of DMA that caused it (trace column `kind`: packet data, descriptor
 * fetches, completion writes, doorbell-record reads, the ACKs a TCP receiver sends, …), so a report
 * can say which DMAs miss: the functional replay and the timed system record every translation
 * here, right after `Iommu.translate`. Counts only; typed arrays indexed by kind.
 */
import type { Iommu } from './iommu.js';
import { DMA_KINDS } from '../trace/columns.js';
import { list, statTable, type Stat, type StatTree } from '../util/stats.js';

/** One kind's counters: the element a kind's statistics read. */
interface KindView { c: KindCounts; k: number }

/** The figures of one DMA kind (an element of `metrics.byKind`), declared once (src/util/stats.ts). */
const KIND_STATS_TABLE = [
  { path: 'kind', kind: 'label', unit: 'name', desc: `the DMA kind (trace column \`kind\`: ${DMA_KINDS.join(', ')})`, read: (v) => DMA_KINDS[v.k] },
  { path: 'requests', kind: 'count', unit: 'requests', desc: 'DMA requests of this kind (their sum over the kinds is dma.requests)', read: (v) => v.c.requests[v.k] },
  { path: 'bytes', kind: 'count', unit: 'bytes', desc: 'bytes of those requests (sum: dma.bytes)', read: (v) => v.c.bytes[v.k] },
  { path: 'lookups', kind: 'count', unit: 'lookups', desc: 'IOTLB lookups of the translations of their pages (sum: iotlb.lookups)', read: (v) => v.c.lookups[v.k] },
  { path: 'misses', kind: 'count', unit: 'lookups', desc: 'of those, lookups that missed and walked (sum: iotlb.misses)', read: (v) => v.c.misses[v.k] },
  { path: 'memReads', kind: 'count', unit: 'reads', desc: 'page-table reads of their walks, context-entry reads excluded (sum: walks.memReads)', read: (v) => v.c.memReads[v.k] },
] as const satisfies readonly Stat<KindView>[];

/** One kind's figures, typed from the table. */
export type KindMetrics = StatTree<typeof KIND_STATS_TABLE>;

/** `byKind`: the kinds that had requests, in DMA_KINDS order, each with the figures above. */
export const BY_KIND_STAT = list({
  path: 'byKind', unit: 'DMA kinds',
  desc: 'the IOMMU\'s work per DMA kind (trace column `kind`), the kinds without requests left out; its sums are the totals (dma.requests, dma.bytes, iotlb.lookups, iotlb.misses, walks.memReads)',
  items: (c: KindCounts) => c.kindsSeen(),
  fields: KIND_STATS_TABLE,
});

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

  /** The kinds that had requests, in DMA_KINDS order (what `byKind` lists). */
  kindsSeen(): KindView[] {
    const out: KindView[] = [];
    for (let k = 0; k < DMA_KINDS.length; k++) if (this.requests[k] !== 0) out.push({ c: this, k });
    return out;
  }

  /** Per kind that had requests (`byKind`), built from the declared figures. */
  metrics(): KindMetrics[] {
    return KIND_STATS.build(this).byKind as KindMetrics[];
  }
}

const KIND_STATS = statTable<KindCounts>([BY_KIND_STAT]);
