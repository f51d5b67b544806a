/**
 * The CPU cost model: cycles of CPU work per I/O, by where they are spent, for each I/O path.
 * Inputs are per-event costs in cycles of `cpu.ghz` (knobs below; defaults from the source each knob
 * names — mostly Dall et al., ISCA 2016 Table II and USENIX ATC 2017 Table 2 — where published,
 * marked assumptions otherwise) and per-packet event counts that the I/O path and the device model
 * supply (exits per packet, interrupts per packet after moderation, map/unmap calls, invalidations,
 * bytes copied, notifications). When the cores doing the work saturate, CPU bounds throughput.
 */
import type { Knob } from '../config/knob.js';
import { NESTED_KNOBS, nestedSpec, nestedExit, type ExitKind } from './nested.js';
import { PATH_KNOBS } from './path-knobs.js';

const DALL = 'Dall et al., ISCA 2016 Table II / USENIX ATC 2017 Table 2 (Xeon E5-2450, KVM) [S]';

export const CPU_KNOBS: Knob[] = [
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
];

/** Per-packet event counts an I/O path produces (fractions: amortised per packet). */
export interface PacketEvents {
  driverCycles: number;
  interrupts: number;
  /** how interrupts reach the handler: 'host' | 'exit' (exit + injection) | 'posted' (no exit) | 'injected' (VMM injects) */
  interruptPath: 'host' | 'exit' | 'posted' | 'injected';
  /** EOIs that exit (no APICv) per packet. */
  eoiExits: number;
  maps: number;
  unmaps: number;
  invalidations: number;
  flushes: number;
  /** exits handled in host kernel / VMM user space. */
  kernelIoExits: number;
  userIoExits: number;
  copies: number;
  copyBytes: number;
  notifications: number;
  backendPackets: number;
  /** Guest map/unmap traps to the VMM (vIOMMU caching mode), each a user-space exit + host map. */
  viommuTraps: number;
  /** virtio-iommu: kicks of the request queue (an exit each, the VMM woken), requests the VMM handles, pages VFIO maps and unmaps. */
  viommuKicks?: number;
  viommuRequests?: number;
  viommuMapPages?: number;
  viommuUnmapPages?: number;
  /** Pool operations and bytes the guest CPU copies (bounce buffers; API remoting's copy into the shared buffer). */
  bounceOps?: number;
  guestCopyBytes?: number;
  /** vGPU: submissions trapped to the mediator, guest GPU page-table writes shadowed. */
  vgpuSubmits?: number;
  vgpuPteWrites?: number;
  /** API remoting: calls forwarded to the host server. */
  remotedCalls?: number;
}

export interface CpuBreakdown {
  guest: number;
  host: number;
  total: number;
  parts: Record<string, number>;
  exitsPerPacket: number;
  /** An L2 guest (virt.nested): exits of the L1 hypervisor to L0 per packet (trapped VMCS accesses, VMRESUMEs, wake IPIs). */
  l1ExitsPerPacket?: number;
}

/** Every knob the cost record of `cyclesPerPacket` reads (booleans as 1 / 0). */
export const COST_KNOBS: Knob[] = [...CPU_KNOBS, ...NESTED_KNOBS, ...PATH_KNOBS];

/** Cycles per packet, split into guest (vCPU) and host (VMM, vhost, host driver) sides. */
export function cyclesPerPacket(ev: PacketEvents, c: Record<string, number>, virtualized: boolean): CpuBreakdown {
  const parts: Record<string, number> = {};
  const addG = (k: string, v: number) => { if (v > 0) parts[`guest.${k}`] = (parts[`guest.${k}`] ?? 0) + v; };
  const addH = (k: string, v: number) => { if (v > 0) parts[`host.${k}`] = (parts[`host.${k}`] ?? 0) + v; };
  const add = virtualized ? addG : addH;
  add('driver', ev.driverCycles);
  add('interrupt', ev.interrupts * c['cpu.interruptCycles']);
  if (ev.interruptPath === 'exit') addH('interruptExit', ev.interrupts * (c['virt.exit.hypercallCycles'] + c['virt.ipiCycles']));
  if (ev.interruptPath === 'injected') addH('interruptInjection', ev.interrupts * c['virt.ipiCycles']);
  addH('eoiExit', ev.eoiExits * c['virt.eoiCycles']);
  add('dmaMap', ev.maps * c['cpu.dmaMapCycles']);
  add('dmaUnmap', ev.unmaps * c['cpu.dmaUnmapCycles']);
  add('invalidation', ev.invalidations * c['cpu.invalidationCycles']);
  add('flush', ev.flushes * c['cpu.flushCycles']);
  addH('kernelIoExit', ev.kernelIoExits * c['virt.exit.kernelIoCycles']);
  addH('userIoExit', ev.userIoExits * c['virt.exit.userIoCycles']);
  addH('copy', ev.copyBytes / c['cpu.memcpyBytesPerCycle']);
  addG('notify', ev.notifications * c['virt.notifyCycles']);
  addH('backend', ev.backendPackets * c['virt.backendPacketCycles']);
  addH('viommuTrap', ev.viommuTraps * (c['virt.exit.userIoCycles'] + c['cpu.dmaMapCycles'] + c['cpu.invalidationCycles']));
  // virtio-iommu requests (a kick: an I/O exit and the VMM's wake-up; the request; VFIO's ioctl, pinning and the host IOMMU's map or unmap and invalidation)
  const kicks = ev.viommuKicks ?? 0, vgpuTraps = (ev.vgpuSubmits ?? 0) + (ev.vgpuPteWrites ?? 0);
  addH('viommuKick', kicks * (c['virt.exit.kernelIoCycles'] + c['virt.viommu.wakeCycles']));
  addH('viommuRequest', (ev.viommuRequests ?? 0) * c['virt.viommu.requestCycles']);
  addH('vfioMap', (ev.viommuMapPages ?? 0) * (c['virt.vfio.ioctlCycles'] + c['virt.vfio.pinPageCycles'] + c['cpu.dmaMapCycles']));
  addH('vfioUnmap', (ev.viommuUnmapPages ?? 0) * (c['virt.vfio.ioctlCycles'] + c['virt.vfio.pinPageCycles'] + c['cpu.dmaUnmapCycles'] + c['cpu.invalidationCycles']));
  // the guest's own copies (bounce buffers, API remoting's shared buffer) and pool operations run on the vCPU
  addG('guestCopy', (ev.guestCopyBytes ?? 0) / c['cpu.memcpyBytesPerCycle']);
  addG('bouncePool', (ev.bounceOps ?? 0) * c['virt.bounce.poolCycles']);
  // vGPU mediation: a trapped submission (an I/O exit) and its command-buffer shadowing; a trapped GPU page-table write and its shadow entry
  addH('vgpuSubmit', (ev.vgpuSubmits ?? 0) * (c['virt.exit.kernelIoCycles'] + c['virt.vgpu.submitCycles']));
  addH('vgpuShadowPte', (ev.vgpuPteWrites ?? 0) * (c['virt.exit.kernelIoCycles'] + c['virt.vgpu.shadowPteCycles']));
  addG('remoteCall', (ev.remotedCalls ?? 0) * c['virt.remoting.callCycles']);
  // an L2 guest: each of its exits goes through L0 to L1 (src/virt/nested.ts); L1's injections are IPIs that exit to L0
  const n = nestedSpec(c);
  let l1Exits = 0;
  if (n.enabled) {
    const costs = { hypercallCycles: c['virt.exit.hypercallCycles'], kernelIoCycles: c['virt.exit.kernelIoCycles'], ipiCycles: c['virt.ipiCycles'] };
    const exits: Array<[ExitKind, number]> = [
      ['exit', ev.interruptPath === 'exit' ? ev.interrupts : 0], ['io', ev.kernelIoExits + ev.userIoExits + ev.viommuTraps + kicks + vgpuTraps],
      ['eoi', ev.eoiExits], ['kick', ev.notifications],
    ];
    let cycles = 0;
    for (const [kind, count] of exits) {
      if (count <= 0) continue;
      const x = nestedExit(kind, n, costs);
      cycles += count * x.extraCycles;
      l1Exits += count * x.l1Exits;
    }
    if (ev.interruptPath === 'injected') { cycles += ev.interrupts * c['virt.ipiCycles']; l1Exits += ev.interrupts; }
    addH('nested', cycles);
  }
  let guest = 0, host = 0;
  for (const [k, v] of Object.entries(parts)) { if (k.startsWith('guest.')) guest += v; else host += v; }
  const exits = ev.interruptPath === 'exit' ? ev.interrupts : 0;
  const b: CpuBreakdown = { guest, host, total: guest + host, parts, exitsPerPacket: exits + ev.eoiExits + ev.kernelIoExits + ev.userIoExits + ev.viommuTraps + kicks + vgpuTraps };
  if (n.enabled) b.l1ExitsPerPacket = l1Exits;
  return b;
}
