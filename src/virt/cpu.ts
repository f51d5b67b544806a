/**
 * The CPU cost model: cycles of CPU work per I/O, by where they are spent, for each I/O path.
 * Inputs are per-event costs in cycles of `cpu.ghz` (knobs below; defaults from the source each knob
 * names — mostly Dall et al., ISCA 2016 Table II and USENIX ATC 2017 Table 2 — where published,
 * marked assumptions otherwise) and per-packet event counts that the I/O path and the device model
 * supply (exits per packet, interrupts per packet after moderation, map/unmap calls, invalidations,
 * bytes copied, notifications). When the cores doing the work saturate, CPU bounds throughput.
 */
import type { Knob } from '../config/knob.js';
import { CPU_KNOBS } from '../config/knobs/cpu.js';
import { nestedSpec, nestedExit, type ExitKind } from './nested.js';
import { NESTED_KNOBS } from '../config/knobs/nested.js';
import { PATH_KNOBS } from '../config/knobs/paths.js';



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
export { CPU_KNOBS };

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
