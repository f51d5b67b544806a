/**
 * The configuration schema: every knob iommusim has, with its unit, default, allowed values, a
 * one-line doc and the source of the default. `--set key=value`, workload specs and sweep axes
 * all go through `applySetting`, so every value is validated in one place, and docs/config.md is
 * generated from this table (`iommusim config --markdown`).
 *
 * Per-device keys use a PCI address in the path: `devices.01:00.0.domain=2`.
 */
import { inputError } from '../util/errors.js';
import { cacheKnobs } from './cache.js';
import { type Knob, closestKey } from './knob.js';
import { IRQ_KNOBS } from './knobs/irq.js';
import { CPU_KNOBS } from './knobs/cpu.js';
import { GPU_KNOBS } from './knobs/gpu.js';
import { NIC_KNOBS } from './knobs/nic.js';
import { MIGRATION_KNOBS } from './knobs/migration.js';
import { NESTED_KNOBS } from './knobs/nested.js';
import { PATH_KNOBS } from './knobs/paths.js';
import { FAULT_KNOBS } from './knobs/faults.js';
import { BLK_KNOBS } from './knobs/blk.js';
import { IOMMU_KNOBS, IOMMU_TIMING_KNOBS, VM_KNOBS } from './knobs/iommu.js';
import { MEMORY_KNOBS } from './knobs/memory.js';
import { RC_KNOBS } from './knobs/rc.js';

export { parseKnobValue, type Knob, type KnobKind } from './knob.js';

export const KNOBS: readonly Knob[] = [
  { key: 'seed', kind: 'int', default: 1, min: 0, max: 2 ** 32 - 1, doc: 'seed for every random choice (random replacement, generators); same inputs and seed give byte-identical results', source: 'an input of the run, not a modelled quantity: nothing to cite' },
  ...IOMMU_KNOBS,
  ...cacheKnobs('atc', 64, 0, 'device TLB (ATS address-translation cache), class default; per device: devices.<bdf>.atc.*', 'no public figure for NIC/GPU ATCs; assumption', 'assumption'),
  ...VM_KNOBS,
  // ---------------------------------------------------------------- timing (platform)
  { key: 'platform', kind: 'string', default: 'broadwell-gen3x8', doc: 'platform preset applied before other settings (iommusim platforms lists them); the defaults below are this preset', source: 'src/config/platforms.ts' },
  { key: 'pcie.gen', kind: 'int', default: 3, min: 1, max: 6, unit: 'generation', doc: 'PCIe generation (1–5: 8b/10b or 128b/130b; 6: FLIT mode)', source: 'pcie-bench: NFP6000 on PCIe Gen3 x8 (published-figures §1) [P]' },
  { key: 'pcie.lanes', kind: 'int', default: 8, min: 1, max: 32, unit: 'lanes', doc: 'link width: 1, 2, 4, 8, 12, 16 or 32 lanes', source: 'pcie-bench: Gen3 x8 [P]' },
  { key: 'pcie.mpsBytes', kind: 'int', default: 256, unit: 'bytes', doc: 'Max Payload Size: largest write or completion TLP payload (128 … 4096)', source: 'pcie-model pcie_bw.py default, consistent with the write-throughput step after 256 B in the pcie-bench raw data [C]' },
  { key: 'pcie.mrrsBytes', kind: 'int', default: 512, unit: 'bytes', doc: 'Max Read Request Size: largest read request (128 … 4096)', source: 'pcie-model pcie_bw.py default [C]' },
  { key: 'pcie.rcbBytes', kind: 'int', default: 64, unit: 'bytes', doc: 'Read Completion Boundary: completions split on these boundaries (64 or 128)', source: 'PCIe base spec: root ports use 64 B [C]' },
  { key: 'pcie.rcbChunks', kind: 'bool', default: false, doc: 'the root complex returns one completion per RCB piece (true) or MPS-sized completions (false)', source: 'pcie-bench reads reach 55.6 Gb/s, above the 47.9 Gb/s an RCB-chunked root complex allows (src/pcie/README.md) [P]' },
  { key: 'pcie.tags', kind: 'int', default: 32, min: 1, max: 1024, unit: 'requests', doc: 'outstanding non-posted requests (read requests) a device may have: the tag limit', source: '5-bit tag field without extended tags (PCIe base spec); 64 B reads in pcie-bench (62.3 M/s at ~520 ns) need ≥ 32 [P]' },
  { key: 'pcie.phCredits', kind: 'int', default: 0, min: 0, max: 4096, unit: 'TLPs', doc: 'posted-header credits at the root port (write TLP headers buffered before the device must wait; the data lines are rc.writeLines); 0 = unlimited', source: 'not published for Intel root ports: unlimited (the IIO\'s write lines, rc.writeLines, are the measured limit)' },
  { key: 'pcie.linkLatencyNs', kind: 'number', default: 115, min: 0, max: 100000, unit: 'ns', doc: 'one-way latency of the link (PHY, data link layer, wire), besides serialization', source: 'PCIe Gen3 Ack-latency internal delay (src/pcie/README.md) [C], a placeholder; the device and root-complex latencies are fitted around it' },
  ...RC_KNOBS,
  ...MEMORY_KNOBS,
  ...IOMMU_TIMING_KNOBS,
  { key: 'device.dmaEngine.maxInFlight', kind: 'int', default: 64, min: 1, max: 65536, unit: 'requests', doc: 'DMA requests a device engine keeps in flight', source: 'assumption: above the tag limit, so tags bind (pcie-bench NFP6000)' },
  { key: 'device.dmaEngine.latencyNs', kind: 'number', default: 32, min: 0, max: 1e9, unit: 'ns', doc: 'device-side latency of a DMA request (descriptor handling), added when it completes; holds no tag and limits no rate', source: 'fitted with rc.readNs (see there) to pcie-bench\'s 546 ns 64 B read latency and 62.3 M/s 64 B read rate [P]' },
  { key: 'device.dmaEngine.issueNs', kind: 'number', default: 0, min: 0, max: 1e9, unit: 'ns', doc: 'time the engine is busy per request issued (a serial limit on request rate)', source: 'pcie-bench 64 B reads reach 62.3 M/s: no engine limit is visible above the tag limit [P]' },
  { key: 'device.clockMHz', kind: 'number', default: 1200, min: 1, max: 100000, unit: 'MHz', doc: 'device clock: requests issue on its edges', source: 'Netronome NFP-6000 1.2 GHz (product brief) [C]' },
  // ---------------------------------------------------------------- pcie-bench's device (the pciebench generator)
  { key: 'pciebench.contexts', kind: 'int', default: 88, min: 0, max: 65536, unit: 'contexts', doc: 'pciebench: the firmware\'s DMA worker contexts; each issues one DMA and waits for its completion before the next, so at most this many are in flight (device.dmaEngine.maxInFlight applies too; 0: no limit besides it)', source: 'pcie-bench NFP firmware, github.com/pcie-bench/pciebench-nfp: me/Makefile loads the DMA worker on microengines me1–me11 (PCIEBENCH_LAST_WORKER_ME 11, me/pciebench.h), compiled with -Qnctx_mode=8 (8 contexts each); dma_bw_worker (me/pcie_dma.c) enqueues one DMA and waits for its completion signal: 11 × 8 = 88 [C]' },
  { key: 'pciebench.lineNs', kind: 'number', default: 9.0, min: 0, max: 1e6, unit: 'ns', doc: 'pciebench: the NFP6000 DMA engine\'s data mover, time per 64 B line a DMA touches (a partial line counts whole); one DMA at a time, for reads and writes alike, before the DMA\'s TLPs go out — so it adds to a lone DMA\'s latency and caps the DMA rate (0: no data mover)', source: 'pcie-bench raw data, github.com/pcie-bench/data, nfp6000-1.2GHz_bdw-Xeon-E5-2630v4-dell-t430-s0-s0-s0/lat_dma_sizes.csv: the median latency of one DMA read grows 0.2778 ns a byte from 512 B to 1520 B (706.7 → 986.7 ns); this model\'s Gen3 x8 link carries 256 B completions at 0.1372 ns a byte; the other 0.1406 ns a byte, 9.0 ns a line, is spent in series with the transfer [P]. One engine for both directions: mixed read/write runs (bw_dma_sz_sweep.csv, BW_DMA_RW) reach 52 Gb/s in all at 2 KiB, about one direction\'s rate [P]' },
  { key: 'pciebench.descriptorNs', kind: 'number', default: 6.0, min: 0, max: 1e6, unit: 'ns', doc: 'pciebench: the data mover\'s time per DMA besides its lines (descriptor handling), serial as pciebench.lineNs', source: 'pcie-bench raw data, github.com/pcie-bench/data, …-s0-s0-s0/bw_dma_sz_sweep.csv (HWarm): 16 B and 32 B reads, one line each, run at 67.0 and 66.1 M/s — 14.9 and 15.1 ns a DMA, above the rate 32 tags give 64 B reads (62.3 M/s) — less pciebench.lineNs for their line: 6.0 ns [P]' },
  // ---------------------------------------------------------------- workload generators
  { key: 'workload.kind', kind: 'enum', default: 'trace', values: ['trace', 'pciebench', 'nic-tcp', 'nic-udp64', 'nic-memcached', 'nic-fs-multiflow', 'nic-pcap', 'gpu-training', 'gpu-pageable', 'gpu-uvm', 'nvme'], doc: 'trace: replay the trace given; otherwise the generator of that name (set by the generator itself)', source: 'an input of the run, not a modelled quantity: nothing to cite' },
  { key: 'workload.rateGbps', kind: 'number', default: 10, min: 0.001, max: 100000, unit: 'Gb/s', doc: 'NIC generators: offered line rate the frames arrive at', source: '10 GbE (the comparison the project exists for)' },
  { key: 'workload.flows', kind: 'int', default: 1, min: 1, max: 1 << 20, unit: 'flows', doc: 'NIC generators: flows the packets are spread over (RSS hashes them to queues)', source: 'an input of the run, not a modelled quantity: nothing to cite' },
  { key: 'workload.mix', kind: 'enum', default: 'fixed', values: ['fixed', 'memcached', 'imix'], doc: 'NIC generators: frame sizes: fixed (workload.size), memcached (a request/response mix: 60 % 64–128 B gets, 40 % values up to 1 KiB, after Atikoglu et al., SIGMETRICS 2012), imix (7:4:1 of 64, 594, 1518 B)', source: 'Atikoglu et al., "Workload Analysis of a Large-Scale Key-Value Store", SIGMETRICS 2012 [S]; IMIX (RFC 6985 / Agilent) [C]' },
  { key: 'workload.dir', kind: 'enum', default: 'rx', values: ['rx', 'tx', 'by-flow', 'h2d', 'd2h'], doc: 'direction: NIC rx / tx / by-flow; GPU pageable copies h2d / d2h', source: 'an input of the run, not a modelled quantity: nothing to cite' },
  { key: 'workload.resultBytes', kind: 'size', default: 4096, min: 1, max: 2 ** 40, unit: 'bytes', doc: 'gpu-training: bytes of each device-to-host result', source: 'assumption: small per-batch results (losses, metrics)' },
  { key: 'workload.streams', kind: 'int', default: 2, min: 1, max: 1024, unit: 'streams', doc: 'gpu-training: CUDA streams the batches alternate on', source: 'double buffering (assumption)' },
  { key: 'workload.pageBytes', kind: 'size', default: 4096, min: 4096, max: 2 ** 30, unit: 'bytes', doc: 'gpu-uvm: bytes migrated per fault', source: 'UVM migrates 4 KiB … 2 MiB; 4 KiB per isolated fault (MSched, arXiv 2512.24637) [S]' },
  { key: 'workload.pcap', kind: 'string', default: '', doc: 'nic-pcap: the capture file to replay through the NIC model (pcap or pcapng)', source: 'an input of the run, not a modelled quantity: nothing to cite' },
  { key: 'workload.op', kind: 'enum', default: 'read', values: ['read', 'write', 'wrrd'], doc: 'pciebench: DMA reads (device reads host memory), writes, or wrrd — a write and then a read of the same bytes, the read issued once the write has been sent (how pcie-bench measures write latency; its latency is the pair\'s); nvme: read commands (the device writes host memory) or write commands', source: 'pcie-bench method (SIGCOMM 2018); wrrd: LAT_DMA_WRRD in github.com/pcie-bench/pciebench-nfp me/pcie_dma.c dma_lat (a ToPCIe DMA, wait for its completion signal, a FromPCIe DMA of the same address) [C]' },
  { key: 'workload.size', kind: 'size', default: 64, min: 1, max: 1 << 30, unit: 'bytes', doc: 'pciebench: bytes per DMA; nvme: bytes per command (the block size)', source: 'pcie-bench method' },
  { key: 'workload.window', kind: 'size', default: 8192, min: 1, max: 2 ** 40, unit: 'bytes', doc: 'pciebench: host buffer the DMAs fall in', source: 'pcie-bench: 8 KiB window (published-figures §1) [P]' },
  { key: 'workload.pattern', kind: 'enum', default: 'random', values: ['random', 'sequential'], doc: 'pciebench: where the DMAs fall: the window is cut into units of the size rounded up to whole 64 B lines, taken at random or one after the other, passing over a unit the DMA would carry across 4 KiB', source: 'pcie-bench method; addresses as the firmware lays them (github.com/pcie-bench/pciebench-nfp me/utils.c dma_addr_init: unit = roundup64(size), units crossing 4 KiB skipped) [C]' },
  { key: 'workload.cache', kind: 'enum', default: 'warm', values: ['warm', 'cold'], doc: 'pciebench: host buffer in the LLC (warm) or not (cold)', source: 'pcie-bench method' },
  { key: 'workload.count', kind: 'int', default: 100000, min: 1, max: 1e9, unit: 'requests', doc: 'pciebench: DMAs to run; nvme: commands to run', source: 'an input of the run, not a modelled quantity: nothing to cite' },
  { key: 'workload.seed', kind: 'int', default: 1, min: 0, max: 2 ** 32 - 1, unit: 'seed', doc: 'pciebench: seed of the random offsets', source: 'an input of the run, not a modelled quantity: nothing to cite' },
  { key: 'ftrace.synthesize', kind: 'enum', default: 'touch', values: ['touch', 'none'], doc: 'kernel traces show mappings, not device accesses: touch = the device reads a TO_DEVICE buffer ftrace.synthDelayNs after its map and writes a FROM_DEVICE buffer that long before its unmap (both for BIDIRECTIONAL; sync events add accesses); none = replay the mapping traffic only', source: 'the rule of src/trace/importers/ftrace-dma.ts (documented there and in docs/trace-formats.md)' },
  { key: 'ftrace.synthDelayNs', kind: 'timeNs', default: 1000, min: 0, max: 1e12, unit: 'ns', doc: 'ftrace.synthesize=touch: time between a map and the device\'s read, and between its write and the unmap', source: 'assumption: about the latency of a descriptor doorbell → DMA' },
  { key: 'ftrace.device', kind: 'string', default: '', doc: 'device that iommu:map/unmap events belong to when the trace has no dma:* events (they carry none); empty = 0000:00:00.0', source: 'an input of the run, not a modelled quantity: nothing to cite' },
  { key: 'devices.*.domain', kind: 'int', default: 0, min: 0, max: 65535, doc: 'domain id of this device (devices with the same id share one domain and page table); 0 = a domain of its own', source: 'an input of the run, not a modelled quantity: nothing to cite' },
  { key: 'devices.*.translation', kind: 'enum', default: 'second', values: ['second', 'first', 'nested', 'passthrough'], doc: 'translation type: second-stage (legacy), first-stage (scalable mode), nested (guest first stage over host second stage: a guest with a vIOMMU), passthrough', source: 'VT-d specification, scalable-mode PASID entry PGTT' },
  { key: 'devices.*.ats', kind: 'bool', default: false, doc: 'the device has an ATS device TLB: it sends translated requests that skip the IOTLB', source: 'PCIe ATS specification' },
  { key: 'devices.*.drhd', kind: 'int', default: 0, min: 0, max: 255, unit: 'unit', doc: 'DMA-remapping unit (DRHD) this device is behind: devices behind one unit share its page-walk stage (iommu.walker.*)', source: 'pcie-bench hosts (Haswell-EP, Broadwell-EP) have one remapping unit per socket (pcie-bench/data sys-dmesg.txt) [C]' },
  { key: 'devices.*.relaxedOrdering', kind: 'bool', default: false, doc: 'the device sets Relaxed Ordering on its requests: its writes may pass earlier posted writes and its reads are not held behind them', source: 'PCIe base spec ordering rules (RO attribute); Linux leaves RO off on most NICs (pcie_relaxed_ordering_enabled; mlx5 turns it on only on request) [C]' },
  { key: 'devices.*.idOrdering', kind: 'bool', default: false, doc: 'ID-based ordering: the device\'s requests are ordered only among themselves, not behind other requesters\' writes on the same link', source: 'PCIe base spec: IDO lets TLPs of different Requester IDs pass each other [C]; off unless a driver enables it' },
  ...cacheKnobs('devices.*.atc', 64, 0, 'this device\'s device TLB', 'class default `atc.*`', 'class default `atc.*`'),
  ...IRQ_KNOBS,
  ...CPU_KNOBS,
  ...NESTED_KNOBS,
  ...PATH_KNOBS,
  ...FAULT_KNOBS,
  ...GPU_KNOBS,
  ...NIC_KNOBS,
  ...BLK_KNOBS,
  ...MIGRATION_KNOBS,
];

const byKey = new Map(KNOBS.map((k) => [k.key, k]));

export function findKnob(key: string): { knob: Knob; device?: string } | undefined {
  const direct = byKey.get(key);
  if (direct) return { knob: direct };
  const m = /^devices\.((?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])\.(.+)$/.exec(key);
  if (m) {
    const k = byKey.get(`devices.*.${m[2]}`);
    if (k) return { knob: k, device: m[1] };
  }
  return undefined;
}

/** Look a knob up for `--set`, with a did-you-mean for unknown keys. */
export function requireKnob(key: string): { knob: Knob; device?: string } {
  const f = findKnob(key);
  if (f) return f;
  const near = closestKey(key, byKey.keys());
  throw inputError(`--set ${key}`, 'unknown configuration key', near ? `did you mean ${near}? (iommusim config lists every key)` : 'iommusim config lists every key');
}
