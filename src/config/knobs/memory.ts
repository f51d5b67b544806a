/**
 * Knobs of host memory as the root complex sees it (`memory.*`, src/memory/memory.ts): LLC and DRAM
 * latency, DRAM bandwidth, DDIO, where page-table reads are served. Spread into the schema where
 * they stood; `MemorySpec`, the memory model's constructor argument, is derived from the table.
 */
import type { Knob } from '../knob.js';
import type { KnobTree } from '../tree.js';

const MEMORY_TABLE = [
  { key: 'memory.llcLatencyNs', kind: 'number', default: 16, min: 0, max: 100000, unit: 'ns', doc: 'latency of a DMA or walk access that hits the LLC (warm buffer, DDIO write)', source: 'pcie-bench: cold 64 B reads are 54 ns slower than warm (600 vs 546 ns) [P], with memory.dramLatencyNs = 70' },
  { key: 'memory.dramLatencyNs', kind: 'number', default: 70, min: 0, max: 100000, unit: 'ns', doc: 'latency of an access that goes to DRAM (cold buffer, walk of cold page tables, write without DDIO)', source: 'Vuppalapati et al., SIGCOMM 2024: CPU-to-memory read unloaded ~70 ns [P]; 4 such reads ≈ the ~280 ns IOTLB-miss cost on Broadwell (published-figures §2) [P]' },
  { key: 'memory.dramGBps', kind: 'number', default: 68.3, min: 0.1, max: 100000, unit: 'GB/s', doc: 'DRAM bandwidth for DMA data that misses the LLC', source: 'Xeon E5-2630 v4: 4 channels DDR4-2133 = 68.3 GB/s (Intel ARK) [C]' },
  { key: 'memory.ddio', kind: 'bool', default: true, doc: 'device writes allocate in the LLC (Intel DDIO) instead of going to DRAM', source: 'DDIO is on by default on Xeon E5 v2 and later (Intel DDIO primer) [C]' },
  { key: 'memory.pageTables', kind: 'enum', default: 'llc', values: ['dram', 'llc'], doc: 'where the IOMMU\'s page-table reads are served (walks are cache-coherent, ECAP.C = 1 on Haswell-EP and later): llc (memory.llcLatencyNs) or dram (memory.dramLatencyNs)', source: 'pcie-bench raw data: a miss adds the same ~280 ns on Broadwell with a cold data buffer (880 − 600 ns) as with a warm one (813 − 533 ns), so the page-table lines stay in the LLC [P]; coherent walks: Linux commit 933fcd01e97e [C]; DDIO does not change them (Rubin et al., SOSP 2024 §4.1) [P]' },
] as const satisfies readonly Knob[];
export const MEMORY_KNOBS: readonly Knob[] = MEMORY_TABLE;

/** The memory model's spec (MemoryTiming's constructor argument) and the configuration's `memory` section, typed from MEMORY_TABLE. */
export type MemorySpec = KnobTree<typeof MEMORY_TABLE>['memory'];
