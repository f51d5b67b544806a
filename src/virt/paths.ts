/**
 * The I/O paths (`--mode`): how the device's DMAs are translated, how interrupts are delivered,
 * and what CPU work each packet costs. A path turns (device model statistics, hypervisor profile)
 * into settings for the device-side timed run and per-packet CPU events.
 */
import type { PacketEvents } from './cpu.js';
import type { HypervisorProfile } from './hypervisors.js';
import { InputError } from '../util/errors.js';

export const MODES = ['bare-metal', 'identity', 'strict', 'lazy', 'passthrough', 'passthrough-pi', 'passthrough-viommu', 'emulated', 'virtio', 'sriov'] as const;
export type Mode = (typeof MODES)[number];

export interface PathDef {
  mode: Mode;
  description: string;
  virtualized: boolean;
  /** Settings for the device-side run (the physical device's DMA path). */
  /** The path's device-side settings; `guestPageBytes`: the backing of guest RAM (vm.s2PageBytes), which a passthrough device's DMAs are translated through. */
  deviceSettings(viommu: 'shadow' | 'nested', guestPageBytes: number): Array<[string, string | number | boolean]>;
}

/** Device-model statistics per packet that the CPU model needs. */
export interface DeviceStats {
  packets: number;
  bytes: number;
  interrupts: number;
  maps: number;
  unmaps: number;
  flushes: number;
  /** Device commands (a GPU copy; a NIC packet), when fewer than packets: driver work, emulation exits and interrupts are per command. */
  commands?: number;
  /** CPU cycles of driver work per command (GPU: API call and submission); NIC: cpu.driverRxCycles per packet. */
  commandCycles?: number;
}

const host = (mode: string, policy: string): Array<[string, string | number | boolean]> => [['iommu.mode', mode], ['nic.iovaPolicy', policy]];
/**
 * A device passed through to a guest DMAs to guest-physical buffers, translated by VFIO's static
 * second stage over guest RAM, whose leaves are the RAM's backing pages (vm.s2PageBytes): the
 * NIC's buffers as premapped 4 KiB pages or 2 MiB pages, the GPU's pinned memory in pages of that size.
 */
const guestRam = (guestPageBytes: number): Array<[string, string | number | boolean]> =>
  [['iommu.mode', 'strict'], ['nic.iovaPolicy', guestPageBytes === 4096 ? 'page-pool' : 'hugepage'], ['gpu.hostPageBytes', guestPageBytes]];

export const PATHS: Readonly<Record<Mode, PathDef>> = {
  'bare-metal': { mode: 'bare-metal', description: 'no IOMMU (iommu=off): DMA to physical addresses', virtualized: false, deviceSettings: () => host('off', 'per-packet') },
  identity: { mode: 'identity', description: 'host IOMMU in pass-through (iommu=pt): identity, no IOTLB', virtualized: false, deviceSettings: () => host('identity', 'per-packet') },
  strict: { mode: 'strict', description: 'host DMA API, strict: map/unmap per buffer, an IOTLB invalidation and wait per unmap', virtualized: false, deviceSettings: () => host('strict', 'per-packet') },
  lazy: { mode: 'lazy', description: 'host DMA API, lazy: map/unmap per buffer, flush queue of 256 entries / 10 ms', virtualized: false, deviceSettings: () => host('lazy', 'per-packet') },
  passthrough: { mode: 'passthrough', description: 'VFIO passthrough: static second stage over guest RAM (leaves of vm.s2PageBytes, 2 MiB by default), interrupts by VM exit', virtualized: true, deviceSettings: (_v, g) => guestRam(g) },
  'passthrough-pi': { mode: 'passthrough-pi', description: 'VFIO passthrough with VT-d posted interrupts: no exit per interrupt', virtualized: true, deviceSettings: (_v, g) => guestRam(g) },
  'passthrough-viommu': {
    mode: 'passthrough-viommu', description: 'passthrough to a guest with a vIOMMU: the guest maps per buffer; caching-mode shadowing traps every map/unmap, nested translation walks 2 stages', virtualized: true,
    deviceSettings: (v) => v === 'shadow'
      ? host('strict', 'per-packet')
      : [['iommu.mode', 'strict'], ['nic.iovaPolicy', 'per-packet'], ['devices.03:00.0.translation', 'nested'], ['vm.ramBytes', '64GiB']],
  },
  emulated: { mode: 'emulated', description: 'e1000-style emulated NIC: an exit per register access, the VMM copies each packet, injected interrupts (host NIC lazy)', virtualized: true, deviceSettings: () => host('lazy', 'per-packet') },
  virtio: { mode: 'virtio', description: 'virtio-net with vhost: batched notifications, vhost copies, injected interrupts (host NIC lazy)', virtualized: true, deviceSettings: () => host('lazy', 'per-packet') },
  sriov: { mode: 'sriov', description: 'an SR-IOV VF passed through: as passthrough (posted interrupts when the hypervisor has them), its own domain', virtualized: true, deviceSettings: (_v, g) => guestRam(g) },
};

export function parseModes(text: string): Mode[] {
  const ms = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const m of ms) {
    if (!(MODES as readonly string[]).includes(m)) throw new InputError(`--modes ${m}: unknown I/O path; use ${MODES.join(', ')}`);
  }
  if (ms.length === 0) throw new InputError(`--modes: empty; use ${MODES.join(', ')}`);
  return ms as Mode[];
}

/** Per-packet CPU events of a path, from the device model's statistics. */
export function packetEvents(mode: Mode, s: DeviceStats, prof: HypervisorProfile, c: Record<string, number>, viommu: 'shadow' | 'nested'): PacketEvents {
  const n = Math.max(1, s.packets);
  const irq = s.interrupts / n;
  const perCommand = s.commands !== undefined ? s.commands / n : 1;
  const e: PacketEvents = {
    driverCycles: s.commandCycles !== undefined ? s.commandCycles * perCommand : c['cpu.driverRxCycles'], interrupts: irq, interruptPath: 'host', eoiExits: 0,
    maps: 0, unmaps: 0, invalidations: 0, flushes: 0, kernelIoExits: 0, userIoExits: 0,
    copies: 0, copyBytes: 0, notifications: 0, backendPackets: 0, viommuTraps: 0,
  };
  const bytes = s.bytes / n;
  switch (mode) {
    case 'bare-metal':
    case 'identity':
      break; // dma-direct: no map cost
    case 'strict':
      e.maps = s.maps / n; e.unmaps = s.unmaps / n; e.invalidations = s.unmaps / n;
      break;
    case 'lazy':
      e.maps = s.maps / n; e.unmaps = s.unmaps / n; e.flushes = s.flushes / n;
      break;
    case 'passthrough':
    case 'passthrough-pi':
    case 'sriov': {
      const posted = mode !== 'passthrough' && prof.postedInterrupts;
      e.interruptPath = posted ? 'posted' : 'exit';
      e.eoiExits = prof.eoiVirtualized && posted ? 0 : irq;
      e.userIoExits = c['virt.pioAccessesPerPacket'] ?? 0; // trapped I/O-port BAR accesses
      break;
    }
    case 'passthrough-viommu':
      e.interruptPath = prof.postedInterrupts ? 'posted' : 'exit';
      e.eoiExits = prof.eoiVirtualized && prof.postedInterrupts ? 0 : irq;
      e.maps = s.maps / n; e.unmaps = s.unmaps / n;
      if (viommu === 'shadow') e.viommuTraps = (s.maps + s.unmaps) / n; // caching mode: each guest map and unmap traps
      else e.userIoExits = s.unmaps / n; // nested: the guest's invalidations trap (strict guest)
      break;
    case 'emulated':
      e.userIoExits = c['virt.emulatedExitsPerPacket'] * perCommand;
      // a NIC: the VMM copies each packet once; a GPU copy path: guest buffer → VMM → device staging, twice
      e.copies = s.commands !== undefined ? 2 : 1; e.copyBytes = e.copies * bytes;
      e.interruptPath = 'injected'; e.interrupts = s.commands !== undefined ? irq : 1; // e1000 in the guest: one per packet
      e.eoiExits = prof.eoiVirtualized ? 0 : 1;
      break;
    case 'virtio':
      e.copies = 1; e.copyBytes = bytes; e.backendPackets = 1;
      e.notifications = 1 / c['virt.virtioBatch'];
      e.interruptPath = 'injected'; e.interrupts = 1 / c['virt.virtioBatch'];
      e.eoiExits = prof.eoiVirtualized ? 0 : e.interrupts;
      break;
  }
  return e;
}

/** CPU parts that run on the vCPU's core (exits stall the vCPU) vs a separate backend core. */
export function backendPart(mode: Mode, parts: Record<string, number>): number {
  if (mode !== 'virtio') return 0;
  return (parts['host.copy'] ?? 0) + (parts['host.backend'] ?? 0) + (parts['host.interruptInjection'] ?? 0);
}
