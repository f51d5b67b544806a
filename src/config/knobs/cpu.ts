/**
 * The CPU cost model's knobs (`cpu.*`, `virt.*` exit and path costs; src/virt/cpu.ts): cycles per
 * event with their sources (published-figures §4 where published; assumptions marked).
 */
import type { Knob } from '../knob.js';
import type { KnobTree } from '../tree.js';

const DALL = 'Dall et al., ISCA 2016 Table II / USENIX ATC 2017 Table 2 (Xeon E5-2450, KVM) [S]';

const CPU_TABLE = [
  { key: 'cpu.ghz', kind: 'number', default: 2.4, min: 0.1, max: 10, unit: 'GHz', doc: 'core clock the cycle costs are counted in', source: 'Xeon E5-2630 v4 turbo-less 2.2 GHz / E5-2450 2.1 GHz class; 2.4 GHz assumed (Broadwell-EP all-core)' },
  { key: 'cpu.cores', kind: 'int', default: 1, min: 1, max: 1024, unit: 'cores', doc: 'cores serving the I/O path (guest vCPUs for the guest side, host cores for the VMM / vhost / host driver side)', source: 'one queue per core, one queue measured (as pcie-bench and F&S measure per core)' },
  { key: 'cpu.driverRxCycles', kind: 'number', default: 1800, min: 0, unit: 'cycles', doc: 'driver + network stack work per received packet (descriptor handling, skb, protocol), bare metal', source: 'assumption: ~0.75 µs per 1500 B packet at 2.4 GHz, which puts one core near 10 GbE line rate without GRO, as Linux manages (Cai et al., SIGCOMM 2021, one core ~ tens of Gb/s only with GRO/TSO) [S]' },
  { key: 'cpu.driverTxCycles', kind: 'number', default: 1500, min: 0, unit: 'cycles', doc: 'driver + stack work per transmitted packet, bare metal', source: 'assumption, as driverRxCycles' },
  { key: 'cpu.gpuSubmitCycles', kind: 'number', default: 12000, min: 0, unit: 'cycles', doc: 'CPU work per GPU copy command (CUDA API call, push buffer, doorbell)', source: 'assumption: ~5 µs per cudaMemcpyAsync at 2.4 GHz (a few µs of API and launch overhead is commonly measured)' },
  { key: 'cpu.interruptCycles', kind: 'number', default: 1200, min: 0, unit: 'cycles', doc: 'host interrupt entry, handler and NAPI scheduling, per interrupt (after moderation)', source: 'assumption: ~0.5 µs per interrupt' },
  { key: 'cpu.dmaMapCycles', kind: 'number', default: 400, min: 0, unit: 'cycles', doc: 'DMA-API map with the IOMMU: IOVA allocation (per-CPU cache hit) and page-table update', source: 'assumption consistent with Malka et al. (rIOMMU, ASPLOS 2015): invalidation dominates unmap [S]' },
  { key: 'cpu.dmaUnmapCycles', kind: 'number', default: 400, min: 0, unit: 'cycles', doc: 'DMA-API unmap without the IOTLB invalidation: page-table clear, IOVA free', source: 'as dmaMapCycles (Amit et al., ATC 2011: invalidation is over 40 % of unmap time) [S]' },
  { key: 'cpu.invalidationCycles', kind: 'number', default: 2130, min: 0, unit: 'cycles', doc: 'strict unmap: queue an IOTLB invalidation and spin on its wait descriptor', source: 'Malka et al., rIOMMU, ASPLOS 2015, Table 1: ~2,127–2,135 cycles [S]' },
  { key: 'cpu.flushCycles', kind: 'number', default: 4000, min: 0, unit: 'cycles', doc: 'lazy mode: one domain-selective flush of the flush queue (amortised over its entries)', source: 'assumption: a domain-selective invalidation and wait, about twice a page-selective one' },
  { key: 'cpu.memcpyBytesPerCycle', kind: 'number', default: 1.7, min: 0.01, unit: 'bytes/cycle', doc: 'copy bandwidth of a core for I/O copies (emulated and virtio paths, GPU staging): ~4.1 GB/s at 2.4 GHz', source: 'the pageable→pinned staging copy of published-figures §5 (T4: pageable H2D 3.96 GB/s vs pinned 12.18, i.e. a CPU copy of ~4.1 GB/s; gpu.pageable.cpuCopyGBps) [C]' },
  { key: 'virt.exit.hypercallCycles', kind: 'number', default: 1300, min: 0, unit: 'cycles', doc: 'VM exit + entry round trip handled in the hypervisor (e.g. external-interrupt exit)', source: DALL + ': 1,300 (ISCA\'16), 1,437 (ATC\'17)' },
  { key: 'virt.exit.kernelIoCycles', kind: 'number', default: 2565, min: 0, unit: 'cycles', doc: 'an I/O exit (MMIO/PIO) handled in the host kernel', source: DALL + ': 2,565' },
  { key: 'virt.exit.userIoCycles', kind: 'number', default: 6732, min: 0, unit: 'cycles', doc: 'an I/O exit handled in the VMM in user space (QEMU device model)', source: DALL + ': 6,732' },
  { key: 'virt.ipiCycles', kind: 'number', default: 3102, min: 0, unit: 'cycles', doc: 'a virtual IPI / interrupt injection into a running vCPU', source: DALL + ': 3,102' },
  { key: 'virt.notifyCycles', kind: 'number', default: 560, min: 0, unit: 'cycles', doc: 'guest notification to the backend through ioeventfd (virtio kick)', source: DALL + ': 560' },
  { key: 'virt.eoiCycles', kind: 'number', default: 1556, min: 0, unit: 'cycles', doc: 'virtual EOI when the EOI is not virtualised (an exit)', source: DALL + ': 1,556' },
  { key: 'virt.backendPacketCycles', kind: 'number', default: 900, min: 0, unit: 'cycles', doc: 'paravirtual backend (vhost) work per packet besides the copy: ring handling, skb', source: 'assumption' },
  { key: 'virt.emulatedExitsPerPacket', kind: 'number', default: 5, min: 0, unit: 'exits', doc: 'MMIO register accesses per packet an e1000-style driver makes (tail doorbell, ICR read, IMS/IMC writes), each an exit to the VMM', source: 'e1000 driver register accesses per packet (Intel 8254x SDM register model; Linux e1000 xmit/clean paths), an estimate' },
  { key: 'virt.backendCores', kind: 'int', default: 0, min: 0, max: 1024, unit: 'cores', doc: 'cores for the paravirtual backend (vhost): 0 = it shares the vCPU\'s core, so every path is charged to the same cpu.cores (the cycles-per-packet efficiency comparison)', source: 'one core per flow for every path, as efficiency comparisons count it (assumption; set 1 for a dedicated vhost core)' },
  { key: 'virt.pioAccessesPerPacket', kind: 'number', default: 0, min: 0, unit: 'accesses', doc: 'I/O-port BAR accesses per packet of an assigned device; each is trapped (bhyve traps I/O-port BARs per access, VFIO forwards them through the VMM) and costs a user-space I/O exit', source: 'bhyve seed (N. Natu, 2011): I/O-port BARs trapped, MMIO direct; 0 for MMIO-only NICs' },
  { key: 'virt.virtioBatch', kind: 'number', default: 32, min: 1, unit: 'packets', doc: 'packets per notification and per injected interrupt on the virtio path with event-index suppression under load', source: 'assumption: NAPI budget-sized batches' },
] as const satisfies readonly Knob[];
export const CPU_KNOBS: readonly Knob[] = CPU_TABLE;

/** The configuration's `cpu` section and the `virt` exit costs, typed from CPU_KNOBS's table. */
export type CpuSection = KnobTree<typeof CPU_TABLE>['cpu'];
export type CpuVirtSection = KnobTree<typeof CPU_TABLE>['virt'];
