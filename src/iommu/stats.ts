/**
 * The IOMMU's statistics, each declared once (src/util/stats.ts): its path under `metrics` in the
 * result (`iommusim.result/1`), unit, description and the accessor that reads it from the Iommu's
 * plain counter fields — in the result's JSON order. `Iommu.metrics()` builds the result object
 * from this table, `IommuMetrics` is its type, docs/metrics.md lists it (`iommusim metrics
 * --markdown`), and the report's IOMMU columns are its paths. The hot path still increments
 * numeric fields; the accessors run once per metrics() call.
 */
import type { Iommu } from './iommu.js';
import type { SetAssocCache } from '../cache/setassoc.js';
import { FAULT_NAMES } from './faults.js';
import { statTable, type Stat, type StatTree } from '../util/stats.js';

/** The paging-structure caches, by the level of the entries they hold (pde = level 2 … pml5e = level 5). */
export const PWC_NAMES = ['pde', 'pdpte', 'pml4e', 'pml5e'] as const;
const PAGE_SIZES = ['4k', '2m', '1g'] as const;
const PAGE_SIZE_TEXT = { '4k': '4 KiB', '2m': '2 MiB', '1g': '1 GiB' } as const;

/** One IOTLB array's counters, `iotlb.byPageSize.<size>.{hits,misses,fills,evictions}`. */
function iotlbArray<const N extends (typeof PAGE_SIZES)[number]>(n: N, cacheOf: (s: Iommu) => SetAssocCache) {
  const what = `IOTLB, ${PAGE_SIZE_TEXT[n]}-page array`;
  const p = `iotlb.byPageSize.${n}` as const;
  return [
    { path: `${p}.hits`, kind: 'count', unit: 'probes', desc: `${what}: probes that hit (every probe of the array: top-level lookups and the second-stage lookups of nested walks; an array with no valid entry is not probed)`, read: (s: Iommu) => cacheOf(s).hits },
    { path: `${p}.misses`, kind: 'count', unit: 'probes', desc: `${what}: probes that missed`, read: (s: Iommu) => cacheOf(s).misses },
    { path: `${p}.fills`, kind: 'count', unit: 'entries', desc: `${what}: entries filled by walks whose leaf (for a nested translation, the smaller of the two stages' leaves) is this size, the second-stage walks of nested translations included`, read: (s: Iommu) => cacheOf(s).fills },
    { path: `${p}.evictions`, kind: 'count', unit: 'entries', desc: `${what}: fills that replaced a valid entry`, read: (s: Iommu) => cacheOf(s).evictions },
  ] as const;
}

/** One paging-structure cache, `pwc.<name>.{hits,misses,entries,enabled}`; a disabled (or, for the table depth, absent) cache reads 0 and false. */
function pwcCache<const N extends (typeof PWC_NAMES)[number]>(n: N) {
  const k = PWC_NAMES.indexOf(n);
  const what = `paging-structure cache of ${n.toUpperCase()}s (level ${k + 2} entries)`;
  const p = `pwc.${n}` as const;
  return [
    { path: `${p}.hits`, kind: 'count', unit: 'probes', desc: `${what}: probes that hit (walks probe the caches deepest first and stop at the first hit; 0 when the cache is disabled)`, read: (s: Iommu) => s.pwc[k]?.hits ?? 0 },
    { path: `${p}.misses`, kind: 'count', unit: 'probes', desc: `${what}: probes that missed`, read: (s: Iommu) => s.pwc[k]?.misses ?? 0 },
    { path: `${p}.entries`, kind: 'level', unit: 'entries', desc: `${what}: its capacity (iommu.pwc.${n}.entries; 0 when disabled)`, read: (s: Iommu) => s.pwc[k]?.entries ?? 0 },
    { path: `${p}.enabled`, kind: 'flag', unit: 'on/off', desc: `${what}: present (false when iommu.pwc.${n}.enabled is off${k + 2 > 3 ? ` or iommu.levels is below ${k + 2}` : ''})`, read: (s: Iommu) => s.pwc[k] !== null },
  ] as const;
}

/** A recorded fault, as `metrics.faults.first` lists it. */
export interface FaultRecord { timeNs: number; sourceId: number; iova: string; reason: string }

function faultsByReason(s: Iommu): Record<string, number> {
  const byReason: Record<string, number> = {};
  FAULT_NAMES.forEach((n, k) => { if (s.faultsByKind[k] > 0) byReason[n] = s.faultsByKind[k]; });
  return byReason;
}

function faultsByCode(s: Iommu): Record<string, number> {
  const byCode: Record<string, number> = {};
  for (let c = 0; c < 256; c++) if (s.faultsByCode[c] > 0) byCode[`0x${c.toString(16)}`] = s.faultsByCode[c];
  return byCode;
}

function faultRecords(s: Iommu): FaultRecord[] {
  const records: FaultRecord[] = [];
  for (let i = 0; i < Math.min(s.faults, s.faultTime.length); i++) {
    records.push({ timeNs: s.faultTime[i], sourceId: s.faultSid[i], iova: '0x' + (s.faultPn[i] * 4096).toString(16), reason: FAULT_NAMES[s.faultKind[i]] });
  }
  return records;
}

const IOMMU_STATS_TABLE = [
  { path: 'translations', kind: 'count', unit: 'requests', desc: 'translation requests: every 4 KiB piece of a DMA the IOMMU was asked to translate (pass-through, device-TLB hits and faulting ones included; with iommu.mode=off each is counted and returned untranslated)', read: (s) => s.translations },

  { path: 'iotlb.lookups', kind: 'count', unit: 'lookups', desc: 'IOTLB lookups of top-level translations (requests answered by a device TLB, pass-through requests and requests that fault before it — root, context, width, PASID — do not look up; the second-stage lookups of nested walks are iotlb.nestedS2)', read: (s) => s.iotlbLookups },
  { path: 'iotlb.hits', kind: 'count', unit: 'lookups', desc: 'IOTLB lookups that hit in one of the page-size arrays', read: (s) => s.iotlbHits },
  { path: 'iotlb.misses', kind: 'count', unit: 'lookups', desc: 'IOTLB lookups that missed every array; each starts a page walk (walks.count)', read: (s) => s.iotlbMisses },
  { path: 'iotlb.hitRate', kind: 'ratio', unit: 'fraction (0–1)', desc: 'share of IOTLB lookups that hit', num: 'iotlb.hits', den: 'iotlb.lookups' },
  ...iotlbArray('4k', (s) => s.iotlb4k),
  ...iotlbArray('2m', (s) => s.iotlb2m),
  ...iotlbArray('1g', (s) => s.iotlb1g),
  { path: 'iotlb.nestedS2.lookups', kind: 'count', unit: 'lookups', desc: 'nested walks: IOTLB lookups of second-stage (guest-physical) translations, one per guest table page a walk reads and one for the final address', read: (s) => s.s2Lookups },
  { path: 'iotlb.nestedS2.hits', kind: 'count', unit: 'lookups', desc: 'nested walks: second-stage IOTLB lookups that hit (a miss walks the second stage)', read: (s) => s.s2Hits },

  ...pwcCache('pde'),
  ...pwcCache('pdpte'),
  ...pwcCache('pml4e'),
  ...pwcCache('pml5e'),

  { path: 'walks.count', kind: 'count', unit: 'walks', desc: 'page walks: one per IOTLB miss of a top-level translation', read: (s) => s.walks },
  { path: 'walks.memReads', kind: 'count', unit: 'reads', desc: 'page-table entries read from memory by walks, the second-stage reads of nested walks included (context-entry reads are contextCache.memReads, PASID-entry reads pasidCache.memReads)', read: (s) => s.walkReads - s.contextReads },
  { path: 'walks.nestedS2Reads', kind: 'count', unit: 'reads', desc: 'nested walks: the part of walks.memReads that walked the second stage (guest table pages and the final guest-physical address)', read: (s) => s.nestedS2Reads },
  { path: 'walks.readsPerWalk', kind: 'ratio', unit: 'reads/walk', desc: 'memory reads per page walk', num: 'walks.memReads', den: 'walks.count' },
  { path: 'walks.readsByLevel.pte', kind: 'count', unit: 'reads', desc: 'reads of leaf PTEs (level 1) by walks of top-level translations (second-stage reads of nested walks not counted by level)', read: (s) => s.readsByLevel[1] },
  { path: 'walks.readsByLevel.pde', kind: 'count', unit: 'reads', desc: 'reads of PDEs (level 2) by walks of top-level translations: each a walk the pde cache did not serve', read: (s) => s.readsByLevel[2] },
  { path: 'walks.readsByLevel.pdpte', kind: 'count', unit: 'reads', desc: 'reads of PDPTEs (level 3) by walks of top-level translations: each a walk the pdpte cache did not serve', read: (s) => s.readsByLevel[3] },
  { path: 'walks.readsByLevel.pml4e', kind: 'count', unit: 'reads', desc: 'reads of PML4Es (level 4) by walks of top-level translations: each a walk the pml4e cache did not serve', read: (s) => s.readsByLevel[4] },
  { path: 'walks.readsByLevel.pml5e', kind: 'count', unit: 'reads', desc: 'reads of PML5Es (level 5, 5-level tables only) by walks of top-level translations: each a walk the pml5e cache did not serve', read: (s) => s.readsByLevel[5] },

  { path: 'contextCache.hits', kind: 'count', unit: 'lookups', desc: 'context-cache lookups (by source-id) that hit', read: (s) => s.contextCache.hits },
  { path: 'contextCache.misses', kind: 'count', unit: 'lookups', desc: 'context-cache lookups that missed: each reads the root and context entries', read: (s) => s.contextCache.misses },
  { path: 'contextCache.memReads', kind: 'count', unit: 'reads', desc: 'root- and context-entry reads of context-cache misses (not in walks.memReads)', read: (s) => s.contextReads },
  { path: 'pasidCache.hits', kind: 'count', unit: 'lookups', desc: 'PASID-cache lookups (first-stage and nested devices) that hit', read: (s) => s.pasidCache.hits },
  { path: 'pasidCache.misses', kind: 'count', unit: 'lookups', desc: 'PASID-cache lookups that missed', read: (s) => s.pasidCache.misses },
  { path: 'pasidCache.memReads', kind: 'count', unit: 'reads', desc: 'PASID-directory and PASID-table entry reads of PASID-cache misses (2 per miss; not in walks.memReads)', read: (s) => s.pasidReads },
  { path: 'atc.lookups', kind: 'count', unit: 'lookups', desc: 'device-TLB (ATS) lookups, over every ATS device', read: (s) => s.atcLookups },
  { path: 'atc.hits', kind: 'count', unit: 'lookups', desc: 'device-TLB lookups that hit: translated requests that skip the IOTLB', read: (s) => s.atcHits },

  { path: 'invalidations.iotlb', kind: 'count', unit: 'descriptors', desc: 'IOTLB invalidations: page-selective, domain-selective (flush-queue drains included) and global', read: (s) => s.inv.iotlb },
  { path: 'invalidations.pwc', kind: 'count', unit: 'descriptors', desc: 'invalidations that dropped paging-structure-cache entries (IH = 0, domain-selective, global, and lazy mode\'s drops for freed table pages)', read: (s) => s.inv.pwc },
  { path: 'invalidations.context', kind: 'count', unit: 'descriptors', desc: 'context-cache invalidations (one device or all)', read: (s) => s.inv.context },
  { path: 'invalidations.devtlb', kind: 'count', unit: 'descriptors', desc: 'device-TLB invalidations, one per ATS device reached', read: (s) => s.inv.devtlb },
  { path: 'invalidations.pasid', kind: 'count', unit: 'descriptors', desc: 'PASID-cache invalidations', read: (s) => s.inv.pasid },
  { path: 'invalidations.wait', kind: 'count', unit: 'descriptors', desc: 'invalidation-wait descriptors (software waits for the invalidations before it to complete)', read: (s) => s.inv.wait },
  { path: 'invalidations.iotlbEntriesDropped', kind: 'count', unit: 'entries', desc: 'IOTLB entries the invalidations dropped (all page-size arrays)', read: (s) => s.invalidatedIotlbEntries },
  { path: 'invalidations.pwcEntriesDropped', kind: 'count', unit: 'entries', desc: 'paging-structure-cache entries the invalidations dropped', read: (s) => s.invalidatedPwcEntries },
  { path: 'invalidations.flushQueueFlushes', kind: 'count', unit: 'flushes', desc: 'lazy mode: flush-queue drains (full queue, timeout, or end of run), each a domain-selective invalidation and a wait', read: (s) => s.flushQueueFlushes },
  { path: 'invalidations.flushQueueTimeouts', kind: 'count', unit: 'flushes', desc: 'lazy mode: the drains of invalidations.flushQueueFlushes that iommu.flushQueue.timeoutNs started', read: (s) => s.flushQueueTimeouts },

  { path: 'mapping.mapCalls', kind: 'count', unit: 'calls', desc: 'map operations applied to a page table (failed ones included; ignored ones are mapping.ignoredOps)', read: (s) => s.mapCalls },
  { path: 'mapping.mapFailed', kind: 'count', unit: 'calls', desc: 'map operations that failed whole because a page was already mapped (Linux: -EEXIST)', read: (s) => s.mapFailed },
  { path: 'mapping.mappedPages', kind: 'count', unit: '4 KiB pages', desc: '4 KiB pages the successful map operations mapped', read: (s) => s.mapPages },
  { path: 'mapping.unmapCalls', kind: 'count', unit: 'calls', desc: 'unmap operations applied to a page table', read: (s) => s.unmapCalls },
  { path: 'mapping.unmappedPages', kind: 'count', unit: '4 KiB pages', desc: '4 KiB pages the unmap operations unmapped (a partly covered large leaf counts whole: it is cleared whole, as Linux does)', read: (s) => s.unmapPages },
  { path: 'mapping.ignoredOps', kind: 'count', unit: 'calls', desc: 'map and unmap operations ignored: iommu.mode off or identity, or a device with no page table yet', read: (s) => s.ignoredMapOps },
  { path: 'mapping.tablesFreed', kind: 'count', unit: 'table pages', desc: 'page-table pages freed by unmaps that emptied them (reclaim)', read: (s) => s.tablesFreed },
  { path: 'mapping.tablePagesInUse', kind: 'level', unit: 'table pages', desc: 'page-table pages allocated at the end of the run (root and context tables, host and guest tables)', read: (s) => s.hostMem.inUse + (s.guestMem?.inUse ?? 0) },
  { path: 'mapping.tablePagesPeak', kind: 'level', unit: 'table pages', desc: 'the most page-table pages allocated at once (host peak plus guest peak)', read: (s) => s.hostMem.peakInUse + (s.guestMem?.peakInUse ?? 0) },

  { path: 'faults.count', kind: 'count', unit: 'faults', desc: 'DMA remapping faults (each drops its DMA)', read: (s) => s.faults },
  { path: 'faults.byReason', kind: 'byName', unit: 'faults', desc: `faults by reason (${FAULT_NAMES.join(', ')}); reasons with none left out`, read: faultsByReason },
  { path: 'faults.byCode', kind: 'byName', unit: 'faults', desc: 'faults by VT-d fault-reason code (`0x1` …); codes with none left out', read: faultsByCode },
  { path: 'faults.first', kind: 'records', unit: 'faults', desc: 'the first 64 faults recorded: timeNs (simulated time), sourceId, iova (hex), reason', read: faultRecords },
] as const satisfies readonly Stat<Iommu>[];

/** The IOMMU's statistics, checked, with the builder of `metrics()`'s object. */
export const IOMMU_STATS = statTable<Iommu>(IOMMU_STATS_TABLE);

/** The IOMMU's part of a result's metrics, typed from the table. */
export type IommuMetrics = StatTree<typeof IOMMU_STATS_TABLE>;

/** The IOMMU's table's type (src/run/stats.ts types a run's metrics from it and the others). */
export type IommuStatsTable = typeof IOMMU_STATS_TABLE;

/** A declared path of the IOMMU's statistics (a typo or a renamed statistic does not compile). */
export type IommuStatPath = (typeof IOMMU_STATS_TABLE)[number]['path'];
