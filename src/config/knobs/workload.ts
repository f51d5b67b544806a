/**
 * Knobs of the workload generators (`workload.*`: pciebench, nic-*, gpu-*, nvme), in the schema's
 * format. Spread into the schema where they stood; the configuration's `workload` section is
 * typed from the table.
 */
import type { Knob } from '../knob.js';
import type { KnobTree } from '../tree.js';

const WORKLOAD_TABLE = [
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
] as const satisfies readonly Knob[];
export const WORKLOAD_KNOBS: readonly Knob[] = WORKLOAD_TABLE;

/** The configuration's `workload` section, typed from WORKLOAD_TABLE. */
export type WorkloadSection = KnobTree<typeof WORKLOAD_TABLE>['workload'];
