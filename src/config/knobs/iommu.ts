/**
 * Knobs of the IOMMU (`iommu.*`, and `vm.*`, the guest RAM a nested domain's second stage maps),
 * in the schema's format: the functional model's (src/iommu/iommu.ts: modes, page-table levels,
 * cache geometries, flush queue, invalidation scope) and the timing model's (src/iommu/timing.ts:
 * clock, lookup latencies, the page-walk stage, the invalidation unit). Each table is spread into
 * the schema (src/config/schema.ts) where it stood, so the knob order (docs/config.md, the config's
 * key order in every result) is unchanged; the types below are derived from the tables (KnobTree).
 */
import type { Knob } from '../knob.js';
import type { KnobTree } from '../tree.js';
import { cacheKnobs, switchableCacheKnobs } from '../cache.js';

const SRC_PCIEBENCH_IOTLB = 'pcie-bench raw data (Neugebauer et al., SIGCOMM 2018): 64 IOTLB entries inferred on Sandy Bridge to Broadwell [P]';
const SRC_ASSOC = 'associativity not published; fully associative assumed (the 64-entry knee in pcie-bench is what a 64-entry LRU array of any associativity shows for its sequential windows)';
const SRC_LARGE = 'not published for IOTLBs; sized like the CPU large-page TLB arrays of the same cores (Haswell: 32 × 2 MiB, 4 × 1 GiB L1 DTLB entries; Intel optimization manual), an assumption';
const SRC_PWC_GEM5 = 'gem5 SMMUv3 walk caches are 4-way (src/dev/arm/SMMUv3.py) [C]';
const SRC_FQ = 'Linux drivers/iommu/dma-iommu.c IOVA_FQ_SIZE = 256, IOVA_FQ_TIMEOUT = 10 ms [C]';
const SRC_LINUX_SP = 'Linux intel-iommu maps with the largest page size alignment allows (domain->iommu_superpage), on by default [C]';

const IOMMU_TABLE = [
  { key: 'iommu.mode', kind: 'enum', default: 'lazy', values: ['off', 'identity', 'strict', 'lazy'], doc: 'host DMA-API mode: off (no translation), identity (iommu=pt: pass-through context entries), strict (each unmap invalidates its pages and, like Linux with IH=0, the paging-structure caches), lazy (unmapped ranges wait in a flush queue; a domain-wide flush drains it)', source: 'Linux drivers/iommu/Kconfig: IOMMU_DEFAULT_DMA_LAZY is the default on x86 [C]' },
  { key: 'iommu.levels', kind: 'int', default: 4, min: 3, max: 5, unit: 'levels', doc: 'I/O page-table levels: 3 (39-bit), 4 (48-bit) or 5 (57-bit) address width', source: 'VT-d specification; 4 levels on Intel servers (published-figures §2)' },
  { key: 'iommu.superpages', kind: 'bool', default: true, doc: 'map with 2 MiB / 1 GiB leaves when iova, paddr and size are aligned (false: 4 KiB leaves only)', source: SRC_LINUX_SP },
  ...cacheKnobs('iommu.iotlb', 64, 0, 'IOTLB, 4 KiB-page array', SRC_PCIEBENCH_IOTLB, SRC_ASSOC),
  ...cacheKnobs('iommu.iotlb.2m', 32, 0, 'IOTLB, 2 MiB-page array', SRC_LARGE, SRC_LARGE),
  ...cacheKnobs('iommu.iotlb.1g', 4, 0, 'IOTLB, 1 GiB-page array', SRC_LARGE, SRC_LARGE),
  ...switchableCacheKnobs('iommu.pwc.pde', 64, 4, 'paging-structure cache of PDEs (key iova >> 21)', 'sizes not public (Rubin et al., SOSP 2024 §2.1 [P]); gem5 SMMUv3 stage-2 level-2 walk cache holds 92 (4-way) [C]: the nearest power-of-two-set geometry below it', SRC_PWC_GEM5),
  ...switchableCacheKnobs('iommu.pwc.pdpte', 64, 4, 'paging-structure cache of PDPTEs (key iova >> 30)', 'Rubin et al., SOSP 2024 §2.1: the PDPTE cache is "likely 64–128 entries" [P]; lower end taken', SRC_PWC_GEM5),
  ...switchableCacheKnobs('iommu.pwc.pml4e', 4, 4, 'paging-structure cache of PML4Es (key iova >> 39)', 'gem5 SMMUv3 level-0 walk cache: 4 entries [C]', SRC_PWC_GEM5),
  ...switchableCacheKnobs('iommu.pwc.pml5e', 4, 4, 'paging-structure cache of PML5Es (key iova >> 48; 5-level tables only)', 'as pml4e (no public figure)', SRC_PWC_GEM5),
  ...cacheKnobs('iommu.contextCache', 64, 0, 'context cache (source-id → domain, table root, width, type)', 'gem5 SMMUv3 configuration cache: 64 entries [C]', 'gem5 SMMUv3 config cache is fully associative [C]'),
  ...cacheKnobs('iommu.pasidCache', 64, 0, 'PASID cache ((domain, PASID) → first-stage table root)', 'no public figure; sized as the context cache (assumption)', 'assumption'),
  { key: 'iommu.flushQueue.entries', kind: 'int', default: 256, min: 1, max: 1 << 20, unit: 'entries', doc: 'lazy mode: pending unmapped ranges that trigger a domain-wide IOTLB flush', source: SRC_FQ },
  { key: 'iommu.flushQueue.timeoutNs', kind: 'timeNs', default: 10_000_000, min: 1, unit: 'ns', doc: 'lazy mode: a flush runs when the oldest pending range has waited this long', source: SRC_FQ },
  { key: 'iommu.psi.maxAddressMask', kind: 'int', default: 9, min: 0, max: 52, unit: 'log2 pages', doc: 'largest page-selective invalidation (2^n pages, CAP.MAMV); larger ranges fall back to a domain-selective invalidation, as Linux does', source: 'Intel Xeon E7 v2 datasheet vol. 2, §14.7.30 VTD_IOTLBINV: "IIO supports [AM] values of 0-9" [P]; Linux cache.c falls back to DSI when mask > cap_max_amask_val [C]' },
  { key: 'iommu.psi.pwcScope', kind: 'enum', default: 'domain', values: ['domain', 'range', 'none'], doc: 'what a page-selective invalidation with IH=0 drops from the paging-structure caches: all of the domain\'s entries, only those covering the range, or none', source: 'Intel Xeon E7 v2 datasheet vol. 2, §14.7.30: with IH=0 "IIO performs a domain-level invalidation on non-leaf entries" [P]' },
  { key: 'iommu.strict.invalidateOnUnmap', kind: 'bool', default: true, doc: 'strict mode: invalidate on every unmap (false leaves invalidation to explicit `inv` records)', source: 'Linux iommu_dma_unmap in strict mode [C]' },
] as const satisfies readonly Knob[];
export const IOMMU_KNOBS: readonly Knob[] = IOMMU_TABLE;

const IOMMU_TIMING_TABLE = [
  { key: 'iommu.clockMHz', kind: 'number', default: 2400, min: 1, max: 100000, unit: 'MHz', doc: 'IOMMU clock: lookups take whole cycles of it, aligned to its edges', source: 'assumption: Broadwell-EP uncore clock range tops at ~2.4–2.7 GHz' },
  { key: 'iommu.iotlb.latencyCycles', kind: 'int', default: 3, min: 0, max: 100000, unit: 'cycles', doc: 'IOTLB lookup latency (all page-size arrays probed in parallel)', source: 'gem5 SMMUv3 main TLB: 3 cycles [C]' },
  { key: 'iommu.pwc.latencyCycles', kind: 'int', default: 4, min: 0, max: 100000, unit: 'cycles', doc: 'latency of probing the paging-structure caches on an IOTLB miss', source: 'gem5 SMMUv3 walk caches: 4 cycles [C]' },
  { key: 'iommu.contextCache.latencyCycles', kind: 'int', default: 3, min: 0, max: 100000, unit: 'cycles', doc: 'context-cache lookup latency', source: 'as the IOTLB (gem5 SMMUv3 config cache) [C]' },
  { key: 'iommu.walker.latencyNs', kind: 'number', default: 184, min: 0, max: 1e9, unit: 'ns', doc: 'pipelined part of an IOTLB miss (miss detection, the request to the page-walk stage and the fill and replay after it): every miss pays it, any number overlap', source: 'pcie-bench raw data: an IOTLB miss adds 213–293 ns to a 64 B read (Haswell 226, Broadwell 280, Ivy Bridge 293) whether the window spans 1 or 32 PDEs and whether the data is warm or cold [P]: the cost is mostly fixed, not page-table reads. 184 puts a one-read miss (PDE-cache hit) at ~237 ns and a four-read miss (no paging-structure cache) at ~285 ns, both inside that range: fitted to the range, since three LLC reads (48 ns) separate the two cases and one value must serve both (src/iommu/README.md)' },
  { key: 'iommu.walker.slots', kind: 'int', default: 1, min: 1, max: 4096, unit: 'walks', doc: 'walks in the page-walk stage at once, per remapping unit (devices.<bdf>.drhd); a walk reads its entries one after another, so this is also the page-table reads in flight. More misses queue for the stage', source: 'derived, not a gem5 default: Rubin et al., SOSP 2024 §2.2 fit one cost per IOMMU memory read (197 ns) across workloads whose reads per 4 KiB differ 2.5× [P] — reads that overlapped would cost a fraction of a read\'s latency; pcie-bench\'s miss-bound window sweeps run one miss per 46–52 ns on Broadwell (19.2–21.9 M/s), one LLC-resident read plus iommu.walker.stepNs (src/iommu/README.md) [P]' },
  { key: 'iommu.walker.stepNs', kind: 'number', default: 33, min: 0, max: 1e9, unit: 'ns', doc: 'time a walk holds its page-walk-stage slot besides its page-table reads (paging-structure-cache probes, entry checks, the IOTLB fill)', source: 'pcie-bench raw data (Broadwell, IOMMU on, 4 KiB pages), Little\'s law: past the IOTLB\'s reach (64 MiB window, one PTE read per miss) 64 B reads run at 19.2 M misses/s and writes at 21.9 M/s: 52.1 and 45.7 ns per miss on one slot, mean 48.9 ns, less one LLC read (memory.llcLatencyNs, 16 ns) [P]' },
  { key: 'iommu.invalidation.descriptorNs', kind: 'number', default: 70, min: 0, max: 1e9, unit: 'ns', doc: 'time the IOMMU\'s invalidation unit is busy per queued descriptor (an IOTLB invalidation, a wait descriptor, …), serial; DMAs that need the entries being dropped wait until it completes. The CPU-side cost of submitting and spinning is cpu.invalidationCycles', source: 'assumption: one memory access per descriptor (reading it, or writing the wait status) at memory.dramLatencyNs; the ~2,130 cycles a strict unmap costs the CPU (rIOMMU, ASPLOS 2015 [S]) are charged to the CPU model instead' },
] as const satisfies readonly Knob[];
export const IOMMU_TIMING_KNOBS: readonly Knob[] = IOMMU_TIMING_TABLE;

const VM_TABLE = [
  { key: 'vm.ramBytes', kind: 'size', default: 4 * 1024 ** 3, unit: 'bytes', min: 64 * 1024 ** 2, doc: 'guest RAM mapped by the second stage for nested translation (GPA 0 .. ramBytes)', source: 'a common small-guest size; any value works' },
  { key: 'vm.s2PageBytes', kind: 'size', default: 2 * 1024 ** 2, unit: 'bytes', doc: 'leaf size of the second-stage mapping of guest RAM: 4KiB, 2MiB (transparent huge pages) or 1GiB (hugetlbfs)', source: 'QEMU guest RAM on THP is 2 MiB-backed; VFIO maps it with the largest contiguous size [C]' },
] as const satisfies readonly Knob[];
export const VM_KNOBS: readonly Knob[] = VM_TABLE;

/** The functional model's `iommu` knobs (modes, levels, cache geometries, flush queue, invalidation scope), typed from IOMMU_TABLE. */
export type IommuFunctionalSection = KnobTree<typeof IOMMU_TABLE>['iommu'];
/**
 * The timing model's spec (src/iommu/timing.ts, IommuTiming): the `iommu` knobs it reads (clock,
 * lookup latencies, the page-walk stage, the invalidation unit), typed from IOMMU_TIMING_TABLE. A
 * resolved config's `iommu` section is one.
 */
export type IommuTimingSpec = KnobTree<typeof IOMMU_TIMING_TABLE>['iommu'];
/** The configuration's `iommu` section: both tables' keys. */
export type IommuSection = KnobTree<readonly [...typeof IOMMU_TABLE, ...typeof IOMMU_TIMING_TABLE]>['iommu'];
/** The configuration's `vm` section (guest RAM of nested domains), typed from VM_TABLE. */
export type VmSection = KnobTree<typeof VM_TABLE>['vm'];
/**
 * The functional model's spec (src/iommu/iommu.ts, Iommu's constructor argument): its `iommu`
 * knobs, the guest RAM a nested domain's second stage maps (`vm`) and the `seed` of its random
 * replacement. A resolved config is one (its `iommu` section holds the timing knobs besides).
 */
export interface IommuSpec {
  readonly seed: number;
  readonly iommu: IommuFunctionalSection;
  readonly vm: VmSection;
}
