/**
 * A run result's `metrics`, declared once (src/util/stats.ts): the IOMMU's statistics
 * (src/iommu/stats.ts), then the run's own — `dma` (the DMA counts of the replay) and `per4KiB`
 * (the IOMMU's work per 4 KiB of payload), both declared here, and `byKind` (src/iommu/kinds.ts) —,
 * then for a timed run the two figures it adds to the IOMMU's sections and the timing model's
 * (src/sim/stats.ts). FUNCTIONAL_RESULT_STATS and TIMED_RESULT_STATS build `metrics` (in this
 * order: the JSON's), RunMetrics is its type, and the report's columns are these paths
 * (`RunStatColumn`).
 */
import type { Iommu } from '../iommu/iommu.js';
import type { DmaCounts } from './functional.js';
import { IOMMU_STATS, type IommuStatsTable } from '../iommu/stats.js';
import { BY_KIND_STAT, type KindCounts } from '../iommu/kinds.js';
import { TIMING_STATS, TIMED_IOMMU_STATS, type TimingView, type TimingStatsTable, type TimedIommuStatsTable } from '../sim/stats.js';
import { DMA_KINDS } from '../trace/columns.js';
import { statTable, within, type Stat, type StatTree, type OptionalStatTree, type StatColumnPath } from '../util/stats.js';

/** What a functional run's metrics read: the IOMMU, the replay's DMA counts and its per-kind counts. */
export interface RunParts { iommu: Iommu; dma: DmaCounts; kinds: KindCounts }
/** A timed run's: the same and the timing model's view (TimedSystem.statView()). */
export interface TimedParts extends RunParts { timing: TimingView }

const DATA = DMA_KINDS.indexOf('data');
/** 4 KiB units of payload: the bytes of the data DMAs (packet payload; descriptors, completions and ACKs not counted). */
const units = (p: RunParts): number => p.kinds.bytes[DATA] / 4096;
/** A count per 4 KiB unit of payload (0 when there is none). */
const per4K = (p: RunParts, x: number): number => {
  const u = units(p);
  return u > 0 ? x / u : 0;
};
const PER4K = (what: string, more = ''): string => `${what} per 4 KiB of payload (per4KiB.units; 0 when there is none)${more}`;

const RUN_STATS_TABLE = [
  { path: 'dma.requests', kind: 'count', unit: 'requests', desc: 'DMA requests of the workload (trace `dma` records; a write-then-read is two), dropped ones included', read: (p) => p.dma.requests },
  { path: 'dma.bytes', kind: 'count', unit: 'bytes', desc: 'bytes of those requests', read: (p) => p.dma.bytes },
  { path: 'dma.reads', kind: 'count', unit: 'requests', desc: 'DMA reads (device reads host memory)', read: (p) => p.dma.reads },
  { path: 'dma.writes', kind: 'count', unit: 'requests', desc: 'DMA writes (device writes host memory)', read: (p) => p.dma.writes },
  { path: 'dma.pieces', kind: 'count', unit: 'translations', desc: '4 KiB pieces translated (one translation each; a faulted DMA\'s pieces up to its fault)', read: (p) => p.dma.pieces },
  { path: 'dma.dropped', kind: 'count', unit: 'requests', desc: 'DMA requests dropped by a translation fault', read: (p) => p.dma.dropped },

  { path: 'per4KiB.units', kind: 'level', unit: '4 KiB units', desc: '4 KiB units of payload the per4KiB figures are divided by: the bytes of the data DMAs (byKind data) ÷ 4096; descriptors, completions and ACKs not counted (Rubin et al., SOSP 2024 §2.2: "per 4KB worth of data")', read: units, digits: 3 },
  { path: 'per4KiB.iotlbMisses', kind: 'level', unit: 'misses/4 KiB', desc: PER4K('iotlb.misses'), read: (p) => per4K(p, p.iommu.iotlbMisses), digits: 4 },
  { path: 'per4KiB.memReads', kind: 'level', unit: 'reads/4 KiB', desc: PER4K('walks.memReads', ': page-table reads of walks, context and PASID reads excluded'), read: (p) => per4K(p, p.iommu.walkReads - p.iommu.contextReads), digits: 4 },
  { path: 'per4KiB.pwcMisses.pml4e', kind: 'level', unit: 'misses/4 KiB', desc: PER4K('walks.readsByLevel.pml4e', ': walks the pml4e cache did not serve'), read: (p) => per4K(p, p.iommu.readsByLevel[4]), digits: 4 },
  { path: 'per4KiB.pwcMisses.pdpte', kind: 'level', unit: 'misses/4 KiB', desc: PER4K('walks.readsByLevel.pdpte', ': walks the pdpte cache did not serve'), read: (p) => per4K(p, p.iommu.readsByLevel[3]), digits: 4 },
  { path: 'per4KiB.pwcMisses.pde', kind: 'level', unit: 'misses/4 KiB', desc: PER4K('walks.readsByLevel.pde', ': walks the pde cache did not serve'), read: (p) => per4K(p, p.iommu.readsByLevel[2]), digits: 4 },
] as const satisfies readonly Stat<RunParts>[];

const RUN_TABLE = [...RUN_STATS_TABLE, ...within([BY_KIND_STAT], (p: RunParts) => p.kinds)];
/** The run's own statistics (`dma`, `per4KiB`, `byKind`), for the reference. */
export const RUN_STATS: readonly Stat<never>[] = RUN_TABLE;

const functional: Array<Stat<RunParts>> = [...within(IOMMU_STATS.stats, (p: RunParts) => p.iommu), ...RUN_TABLE];
/** A functional run's `metrics`: the IOMMU's statistics and the run's. */
export const FUNCTIONAL_RESULT_STATS = statTable<RunParts>(functional);
/** A timed run's: those, then the IOMMU sections' timed figures and the timing model's. */
export const TIMED_RESULT_STATS = statTable<TimedParts>([
  ...functional,
  ...within(TIMED_IOMMU_STATS.stats, (p: TimedParts) => p.timing),
  ...within(TIMING_STATS.stats, (p: TimedParts) => p.timing),
]);

type RunStatsTable = [...typeof RUN_STATS_TABLE, typeof BY_KIND_STAT];
/**
 * A result's `metrics`, typed from the tables: every run's figures; a timed run's sections
 * (`throughputGbps`, `pcie`, …) and its figures in the IOMMU's sections (`iotlb.mergedMisses`,
 * `walks.avgLatencyNs`) optional, a --functional run having none of them.
 */
export type RunMetrics = StatTree<[...IommuStatsTable, ...RunStatsTable]> & Partial<StatTree<TimingStatsTable>> & OptionalStatTree<TimedIommuStatsTable>;
/** A timed run's `metrics`: every figure there. */
export type TimedRunMetrics = StatTree<[...IommuStatsTable, ...RunStatsTable, ...TimedIommuStatsTable, ...TimingStatsTable]>;
/** A declared numeric path of a result's `metrics` a report column can be (a summary's fields included). */
export type RunStatColumn = StatColumnPath<[...IommuStatsTable, ...RunStatsTable, ...TimedIommuStatsTable, ...TimingStatsTable]>;
