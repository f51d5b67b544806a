/**
 * Knobs of pcie-bench's device (`pciebench.*`: the NFP firmware's DMA worker contexts and data
 * mover), in the schema's format, spread into the schema where they stood. `PcieBenchSpec`, the
 * pciebench source's constructor argument (src/devices/pciebench.ts), is typed from this table and
 * the workload table.
 */
import type { Knob } from '../knob.js';
import type { KnobTree } from '../tree.js';
import type { WorkloadSection } from './workload.js';

const PCIEBENCH_TABLE = [
  { key: 'pciebench.contexts', kind: 'int', default: 88, min: 0, max: 65536, unit: 'contexts', doc: 'pciebench: the firmware\'s DMA worker contexts; each issues one DMA and waits for its completion before the next, so at most this many are in flight (device.dmaEngine.maxInFlight applies too; 0: no limit besides it)', source: 'pcie-bench NFP firmware, github.com/pcie-bench/pciebench-nfp: me/Makefile loads the DMA worker on microengines me1–me11 (PCIEBENCH_LAST_WORKER_ME 11, me/pciebench.h), compiled with -Qnctx_mode=8 (8 contexts each); dma_bw_worker (me/pcie_dma.c) enqueues one DMA and waits for its completion signal: 11 × 8 = 88 [C]' },
  { key: 'pciebench.lineNs', kind: 'number', default: 9.0, min: 0, max: 1e6, unit: 'ns', doc: 'pciebench: the NFP6000 DMA engine\'s data mover, time per 64 B line a DMA touches (a partial line counts whole); one DMA at a time, for reads and writes alike, before the DMA\'s TLPs go out — so it adds to a lone DMA\'s latency and caps the DMA rate (0: no data mover)', source: 'pcie-bench raw data, github.com/pcie-bench/data, nfp6000-1.2GHz_bdw-Xeon-E5-2630v4-dell-t430-s0-s0-s0/lat_dma_sizes.csv: the median latency of one DMA read grows 0.2778 ns a byte from 512 B to 1520 B (706.7 → 986.7 ns); this model\'s Gen3 x8 link carries 256 B completions at 0.1372 ns a byte; the other 0.1406 ns a byte, 9.0 ns a line, is spent in series with the transfer [P]. One engine for both directions: mixed read/write runs (bw_dma_sz_sweep.csv, BW_DMA_RW) reach 52 Gb/s in all at 2 KiB, about one direction\'s rate [P]' },
  { key: 'pciebench.descriptorNs', kind: 'number', default: 6.0, min: 0, max: 1e6, unit: 'ns', doc: 'pciebench: the data mover\'s time per DMA besides its lines (descriptor handling), serial as pciebench.lineNs', source: 'pcie-bench raw data, github.com/pcie-bench/data, …-s0-s0-s0/bw_dma_sz_sweep.csv (HWarm): 16 B and 32 B reads, one line each, run at 67.0 and 66.1 M/s — 14.9 and 15.1 ns a DMA, above the rate 32 tags give 64 B reads (62.3 M/s) — less pciebench.lineNs for their line: 6.0 ns [P]' },
] as const satisfies readonly Knob[];
export const PCIEBENCH_KNOBS: readonly Knob[] = PCIEBENCH_TABLE;

/** The configuration's `pciebench` section, typed from PCIEBENCH_TABLE. */
export type PciebenchSection = KnobTree<typeof PCIEBENCH_TABLE>['pciebench'];

/**
 * The pciebench source's spec (PcieBenchSource): the device's knobs and the workload knobs it reads
 * (op, size, window, pattern, cache, count, seed). A resolved config is one.
 */
export interface PcieBenchSpec {
  readonly pciebench: PciebenchSection;
  readonly workload: Pick<WorkloadSection, 'op' | 'size' | 'window' | 'pattern' | 'cache' | 'count' | 'seed'>;
}
