/** Knobs of the NVMe-like block device model (`blk.*`): unit, default and source of each. */
import type { Knob } from '../knob.js';
import type { KnobTree } from '../tree.js';

export const BLK_BUFFER_POLICIES = ['per-io', 'static', 'pool'] as const;
export type BlkBufferPolicy = (typeof BLK_BUFFER_POLICIES)[number];

const BLK_TABLE = [
  { key: 'blk.queueDepth', kind: 'int', default: 64, min: 1, max: 65535, unit: 'commands', doc: 'commands the host keeps outstanding on the device\'s submission queue (fio --iodepth): a new command is submitted when one completes', source: 'fio --iodepth=64, the setting of D. Stevens\' passthrough-NVMe measurement (iommu list, Aug 2021; published-figures §4) [C]; NVMe allows up to 65,535 per queue' },
  { key: 'blk.deviceGBps', kind: 'number', default: 3.2, min: 0.01, max: 1000, unit: 'GB/s', doc: 'the device\'s own data rate (media and controller), shared by the commands in flight: a command\'s data moves at this rate once its latency has passed', source: 'assumption: a PCIe Gen3 x4 NVMe SSD\'s sequential read, 3.0–3.5 GB/s on spec sheets (e.g. Samsung 970 EVO Plus: 3,500 MB/s) [C]' },
  { key: 'blk.maxIops', kind: 'number', default: 250000, min: 0, max: 1e8, unit: 'commands/s', doc: 'the controller\'s command-rate ceiling (its 4 KiB random-read IOPS at a deep queue): the device starts its commands no closer together than 1 / maxIops, whatever their size — it binds small blocks, blk.deviceGBps large ones; 0: no ceiling', source: 'Samsung SSD 970 EVO Plus data sheet (the drive blk.deviceGBps cites): 4 KiB random read at QD32 up to 250,000 IOPS for the 250 GB model, 480,000 for 500 GB, 600,000 for 1 TB, 620,000 for 2 TB (reproduced in digit.in\'s review, digit.in/reviews/general/samsung-970-evo-plus-nvme-m-2-ssd-250-gb-review-177943.html) [C]; the 250 GB figure is an assumption as to capacity: a U-series laptop\'s base configuration ships the smallest drive of its line' },
  { key: 'blk.latencyUs', kind: 'number', default: 80, min: 0, max: 1e7, unit: 'µs', doc: 'device latency of a command before its data moves (NAND read, controller): with blk.queueDepth it bounds the command rate (queue depth / latency)', source: 'assumption: a TLC NAND page read of ~50–80 µs plus the controller (consumer NVMe 4 KiB QD1 read latency is ~70–90 µs on spec sheets) [C]' },
  { key: 'blk.ioCycles', kind: 'number', default: 3600, min: 0, unit: 'cycles', doc: 'CPU work per I/O besides the DMA API and interrupts: the benchmark (fio, libaio), the block layer and the NVMe driver\'s submission and completion', source: 'assumption: ~1.5 µs per I/O at 2.4 GHz, a few hundred thousand I/Os per second per core through libaio' },
  { key: 'blk.completionsPerInterrupt', kind: 'number', default: 1, min: 1, max: 65535, unit: 'completions', doc: 'completions per MSI-X interrupt (NVMe interrupt coalescing, Set Features 08h)', source: 'Linux nvme does not enable interrupt coalescing: an interrupt per completion (drivers/nvme/host/pci.c) [C]' },
  { key: 'blk.buffers', kind: 'enum', default: 'per-io', values: BLK_BUFFER_POLICIES, doc: 'where the data buffers come from: per-io (each I/O\'s pages mapped before it and unmapped after: the DMA API\'s streaming maps), static (guest RAM mapped once: passthrough without a vIOMMU), pool (a pool of bounce buffers mapped once, reused: the DMA API bounces through it); set by the I/O path', source: 'Linux dma_map_sg per request in the NVMe driver (drivers/nvme/host/pci.c nvme_map_data) [C]; pooled bounce buffers: D. Stevens, "Add dynamic iommu backed bounce buffers", iommu list, Aug 2021 [C]' },
] as const satisfies readonly Knob[];
export const BLK_KNOBS: readonly Knob[] = BLK_TABLE;

/** The configuration's `blk` section, typed from BLK_KNOBS's table. */
export type BlkSection = KnobTree<typeof BLK_TABLE>['blk'];
