/**
 * The I/O paths (`--mode`): how the device's DMAs are translated, how interrupts are delivered,
 * and what CPU work each packet costs. A path turns (device model statistics, hypervisor profile)
 * into settings for the device-side timed run and per-packet CPU events.
 */
import type { PacketEvents } from './cpu.js';
import type { HypervisorProfile } from './hypervisors.js';
import { InputError } from '../util/errors.js';
import type { Config } from '../config/config.js';

export const MODES = ['bare-metal', 'identity', 'strict', 'lazy', 'passthrough', 'passthrough-pi', 'passthrough-viommu', 'viommu-bounce', 'emulated', 'virtio', 'sriov', 'vgpu', 'api-remoting'] as const;
export type Mode = (typeof MODES)[number];

/** The kind of device a workload drives: the I/O paths that exist differ (a GPU has no virtio or emulated CUDA device). */
export type DeviceClass = 'nic' | 'gpu' | 'blk';
export const DEVICE_BDF: Readonly<Record<DeviceClass, string>> = { nic: '03:00.0', gpu: '3b:00.0', blk: '05:00.0' };

type Settings = Array<[string, string | number | boolean]>;

export interface PathDef {
  mode: Mode;
  description: string;
  virtualized: boolean;
  /**
   * The path's device-side settings (the physical device's DMA path); `guestPageBytes`: the backing
   * of guest RAM (vm.s2PageBytes), which a passthrough device's DMAs are translated through;
   * `device`: the workload's device (NIC settings when not given).
   */
  deviceSettings(viommu: 'shadow' | 'nested', guestPageBytes: number, device?: DeviceClass): Settings;
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
  /** The device (NIC when not given). */
  device?: DeviceClass;
  /** 4 KiB pages the mapped buffers span in all (a block I/O maps each page of its data; a vIOMMU request per page). */
  mapPages?: number;
}

const host = (mode: string, policy: string, device?: DeviceClass): Settings => device === 'blk' ? [['iommu.mode', mode], ['blk.buffers', 'per-io']] : [['iommu.mode', mode], ['nic.iovaPolicy', policy]];
/**
 * A device passed through to a guest DMAs to guest-physical buffers, translated by VFIO's static
 * second stage over guest RAM, whose leaves are the RAM's backing pages (vm.s2PageBytes): the
 * NIC's buffers as premapped 4 KiB pages or 2 MiB pages, the GPU's pinned memory in pages of that size.
 */
const guestRam = (guestPageBytes: number, device?: DeviceClass): Settings => device === 'blk'
  ? [['iommu.mode', 'strict'], ['blk.buffers', 'static']]
  : [['iommu.mode', 'strict'], ['nic.iovaPolicy', guestPageBytes === 4096 ? 'page-pool' : 'hugepage'], ['gpu.hostPageBytes', guestPageBytes]];

export const PATHS: Readonly<Record<Mode, PathDef>> = {
  'bare-metal': { mode: 'bare-metal', description: 'no IOMMU (iommu=off): DMA to physical addresses', virtualized: false, deviceSettings: (_v, _g, d) => host('off', 'per-packet', d) },
  identity: { mode: 'identity', description: 'host IOMMU in pass-through (iommu=pt): identity, no IOTLB', virtualized: false, deviceSettings: (_v, _g, d) => host('identity', 'per-packet', d) },
  strict: { mode: 'strict', description: 'host DMA API, strict: map/unmap per buffer, an IOTLB invalidation and wait per unmap', virtualized: false, deviceSettings: (_v, _g, d) => host('strict', 'per-packet', d) },
  lazy: { mode: 'lazy', description: 'host DMA API, lazy: map/unmap per buffer, flush queue of 256 entries / 10 ms', virtualized: false, deviceSettings: (_v, _g, d) => host('lazy', 'per-packet', d) },
  passthrough: { mode: 'passthrough', description: 'VFIO passthrough: static second stage over guest RAM (leaves of vm.s2PageBytes, 2 MiB by default), interrupts by VM exit', virtualized: true, deviceSettings: (_v, g, d) => guestRam(g, d) },
  'passthrough-pi': { mode: 'passthrough-pi', description: 'VFIO passthrough with VT-d posted interrupts: no exit per interrupt', virtualized: true, deviceSettings: (_v, g, d) => guestRam(g, d) },
  'passthrough-viommu': {
    mode: 'passthrough-viommu', description: 'passthrough to a guest with a vIOMMU: the guest maps per buffer; caching-mode shadowing traps every map/unmap (virtio-iommu with virt.viommu.virtio: a request to the VMM per page mapped, a VFIO ioctl each), nested translation walks 2 stages', virtualized: true,
    deviceSettings: (v, _g, d) => v === 'shadow'
      ? host('strict', 'per-packet', d)
      : [...host('strict', 'per-packet', d), [`devices.${DEVICE_BDF[d ?? 'nic']}.translation`, 'nested'], ['vm.ramBytes', '64GiB']],
  },
  'viommu-bounce': {
    mode: 'viommu-bounce', description: 'passthrough to a guest with a vIOMMU whose DMA API bounces streaming DMA through a pool of buffers mapped once (dynamic iommu bounce buffers): a CPU copy per I/O instead of a map and unmap through the VMM', virtualized: true,
    deviceSettings: (_v, _g, d) => d === 'blk' ? [['iommu.mode', 'strict'], ['blk.buffers', 'pool']] : [['iommu.mode', 'strict'], ['nic.iovaPolicy', 'page-pool']],
  },
  emulated: { mode: 'emulated', description: 'e1000-style emulated NIC: an exit per register access, the VMM copies each packet, injected interrupts (host NIC lazy)', virtualized: true, deviceSettings: (_v, _g, d) => host('lazy', 'per-packet', d) },
  virtio: { mode: 'virtio', description: 'virtio-net with vhost: batched notifications, vhost copies, injected interrupts (host NIC lazy)', virtualized: true, deviceSettings: (_v, _g, d) => host('lazy', 'per-packet', d) },
  sriov: { mode: 'sriov', description: 'an SR-IOV VF passed through: as passthrough (posted interrupts when the hypervisor has them), its own domain', virtualized: true, deviceSettings: (_v, g, d) => guestRam(g, d) },
  vgpu: {
    mode: 'vgpu', description: 'a mediated or SR-IOV vGPU: the guest\'s copies DMA into guest RAM as with passthrough, but the engines are time-sliced among the vGPUs (gpu.vgpu.*), each submission traps to the mediator, guest GPU page-table writes are shadowed', virtualized: true,
    deviceSettings: (_v, g, d) => guestRam(g, d),
  },
  'api-remoting': {
    mode: 'api-remoting', description: 'CUDA API remoting: the guest library forwards each call to a host server over a shared channel (a kick and a completion per call), data is copied through a shared buffer by the CPU (gpu.remoting.*), the host runs the copies on its own GPU (host IOMMU lazy)', virtualized: true,
    deviceSettings: (_v, _g, d) => host('lazy', 'per-packet', d),
  },
};

/**
 * Paths that do not exist for a device, with the reason, and the device's own path that stands in
 * for them (a GPU's paravirtual path is API remoting, its trap-and-emulate path mediated pass-through).
 */
export const DEVICE_REFUSES: Readonly<Record<DeviceClass, Partial<Record<Mode, { reason: string; instead?: Mode }>>>> = {
  gpu: {
    virtio: { reason: 'no hypervisor offers a paravirtual CUDA device: virtio-gpu carries display and 3D commands (virgl, venus), not CUDA copies; the GPU\'s paravirtual path is API remoting', instead: 'api-remoting' },
    emulated: { reason: 'no hypervisor emulates a CUDA-capable GPU (QEMU\'s emulated display adapters have no copy engines); trap-and-emulate of a GPU is mediated pass-through, a vGPU', instead: 'vgpu' },
    sriov: { reason: 'a GPU\'s SR-IOV virtual functions are vGPUs, time-sliced by the vGPU manager', instead: 'vgpu' },
    'viommu-bounce': { reason: 'GPU copies use pinned buffers mapped once when allocated (cudaHostAlloc: nv_dma_map_alloc), not a streaming map per transfer: there is nothing to bounce' },
  },
  nic: {
    vgpu: { reason: 'a vGPU is a share of a GPU; for a NIC the shared path is an SR-IOV VF', instead: 'sriov' },
    'api-remoting': { reason: 'API remoting forwards CUDA calls to the host: a GPU path; a NIC\'s paravirtual path is virtio-net', instead: 'virtio' },
  },
  blk: {
    vgpu: { reason: 'a vGPU is a share of a GPU; for an NVMe device the shared path is an SR-IOV VF', instead: 'sriov' },
    'api-remoting': { reason: 'API remoting forwards CUDA calls to the host: a GPU path; a block device\'s paravirtual path is virtio-blk', instead: 'virtio' },
  },
};

/** The paths `compare` shows for a device by default: for a GPU the four paths a GPU has (bare metal, VFIO passthrough, vGPU, API remoting). */
export const DEFAULT_MODES: Readonly<Record<DeviceClass, readonly Mode[]>> = {
  nic: ['bare-metal', 'strict', 'lazy', 'passthrough', 'passthrough-pi', 'virtio', 'emulated'],
  gpu: ['bare-metal', 'passthrough', 'passthrough-pi', 'vgpu', 'api-remoting'],
  blk: ['bare-metal', 'strict', 'passthrough-pi', 'passthrough-viommu', 'viommu-bounce', 'virtio'],
};

/**
 * The rows `compare` shows for requested paths on a device: each requested path in order; one the
 * device does not have is kept (refused, with the reason) and followed by the device's own
 * counterpart when that is not requested too.
 */
export function devicePaths(device: DeviceClass, modes: readonly Mode[]): Mode[] {
  const out: Mode[] = [];
  for (const m of modes) {
    if (!out.includes(m)) out.push(m);
    const alt = DEVICE_REFUSES[device][m]?.instead;
    if (alt && !modes.includes(alt) && !out.includes(alt)) out.push(alt);
  }
  return out;
}

/**
 * What a GPU path needs from the setup, per hypervisor (the seeds' rules): VFIO passthrough binds the
 * GPU's whole IOMMU group (its HDMI audio function with it) to vfio-pci, and a GPU that is the
 * guest's primary display (virt.gpuPrimaryDisplay) needs its VGA ranges and ROM routed to it.
 */
export function pathNotes(mode: Mode, device: DeviceClass, prof: HypervisorProfile, cfg?: Readonly<Config>): string[] {
  if (device !== 'gpu') return [];
  const primary = cfg?.virt?.gpuPrimaryDisplay === true;
  const notes: string[] = [];
  if (mode === 'passthrough' || mode === 'passthrough-pi' || mode === 'passthrough-viommu') {
    if (prof.name === 'kvm') {
      notes.push('the GPU\'s whole IOMMU group (the GPU and its HDMI audio function) bound to vfio-pci (iommusim topology check)');
      if (primary) notes.push('primary display: -device vfio-pci,...,x-vga=on with -vga none (VGA ranges and the ROM routed to the GPU)');
    } else if (prof.name === 'xen') {
      notes.push('the GPU hidden from dom0 with pciback.hide and assigned whole');
      if (primary) notes.push('primary display: gfx_passthru=1 (the VGA BIOS and legacy ranges passed to the guest)');
    } else if (prof.name === 'virtualbox') notes.push('attached with VBoxManage modifyvm --attachpci (experimental, Linux hosts, MSI only)');
    else notes.push('the GPU listed in pptdevs and attached with -s slot,passthru,b/s/f; its I/O-port BARs trapped');
  }
  if (mode === 'vgpu') notes.push(prof.name === 'kvm' ? 'a mediated device (VFIO-mdev: NVIDIA vGPU, Intel GVT-g) or an SR-IOV VF under the vGPU manager; the vendor\'s vGPU driver in the guest' : 'a vGPU of the vendor\'s manager for this hypervisor (XenGT, NVIDIA vGPU on Citrix Hypervisor); the vendor\'s vGPU driver in the guest');
  if (mode === 'api-remoting') notes.push('no GPU in the guest: a CUDA library that forwards calls (vCUDA-, GVirtuS-, rCUDA-style) and a server on the host that owns the GPU');
  return notes;
}

/** Why a path cannot run for this device under this hypervisor, or undefined. */
export function pathRefusal(mode: Mode, prof: HypervisorProfile, device: DeviceClass = 'nic'): string | undefined {
  const d = DEVICE_REFUSES[device][mode];
  if (d) return `${d.reason}${d.instead ? ` (use ${d.instead})` : ''}`;
  return prof.refuses[mode];
}

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
  const x: PerPacket = { s, prof, c, n, irq: s.interrupts / n, perCommand: s.commands !== undefined ? s.commands / n : 1, bytes: s.bytes / n };
  const e: PacketEvents = {
    driverCycles: s.commandCycles !== undefined ? s.commandCycles * x.perCommand : c['cpu.driverRxCycles'], interrupts: x.irq, interruptPath: 'host', eoiExits: 0,
    maps: 0, unmaps: 0, invalidations: 0, flushes: 0, kernelIoExits: 0, userIoExits: 0,
    copies: 0, copyBytes: 0, notifications: 0, backendPackets: 0, viommuTraps: 0,
  };
  return Object.assign(e, pathEvents(mode, x, viommu));
}

/**
 * A path's inputs, per packet: the device statistics over `n` packets (at least 1), the hypervisor
 * profile and the cost table; interrupts, device commands and bytes per packet.
 */
export interface PerPacket {
  s: DeviceStats;
  prof: HypervisorProfile;
  c: Record<string, number>;
  n: number;
  irq: number;
  perCommand: number;
  bytes: number;
}

/** The events a path sets over a host path's (driver work, the device's interrupts to the host, nothing else). */
function pathEvents(mode: Mode, x: PerPacket, viommu: 'shadow' | 'nested'): Partial<PacketEvents> {
  switch (mode) {
    case 'bare-metal':
    case 'identity':
      return {}; // dma-direct: no map cost
    case 'strict':
    case 'lazy':
      return hostDmaEvents(mode, x);
    case 'passthrough':
    case 'passthrough-pi':
    case 'sriov':
      return passthroughEvents(mode, x);
    case 'passthrough-viommu':
      return viommuEvents(x, viommu);
    case 'viommu-bounce':
      return bounceEvents(x);
    case 'vgpu':
    case 'api-remoting':
      return gpuShareEvents(mode, x);
    case 'emulated':
      return emulatedEvents(x);
    case 'virtio':
      return virtioEvents(x);
  }
}

/** The host DMA API (strict, lazy): a map and an unmap per buffer; strict invalidates per unmap, lazy queues a flush. Exported for tests, as are the other path families. */
export function hostDmaEvents(mode: 'strict' | 'lazy', { s, n }: PerPacket): Partial<PacketEvents> {
  return mode === 'strict'
    ? { maps: s.maps / n, unmaps: s.unmaps / n, invalidations: s.unmaps / n }
    : { maps: s.maps / n, unmaps: s.unmaps / n, flushes: s.flushes / n };
}

/** A device passed through (passthrough, passthrough-pi, an SR-IOV VF): interrupts posted (not plain passthrough; the hypervisor must have them) or by exit, trapped I/O-port BAR accesses. */
export function passthroughEvents(mode: 'passthrough' | 'passthrough-pi' | 'sriov', { prof, c, irq }: PerPacket): Partial<PacketEvents> {
  const posted = mode !== 'passthrough' && prof.postedInterrupts;
  return {
    interruptPath: posted ? 'posted' : 'exit',
    eoiExits: prof.eoiVirtualized && posted ? 0 : irq,
    userIoExits: c['virt.pioAccessesPerPacket'] ?? 0, // trapped I/O-port BAR accesses
  };
}

/**
 * Passthrough to a guest with a vIOMMU: the guest maps per buffer; shadowed, each map and unmap traps
 * (caching mode) or is a virtio-iommu request per page; nested, the guest's invalidations trap.
 */
export function viommuEvents({ s, prof, c, n, irq }: PerPacket, viommu: 'shadow' | 'nested'): Partial<PacketEvents> {
  const e: Partial<PacketEvents> = {
    interruptPath: prof.postedInterrupts ? 'posted' : 'exit',
    eoiExits: prof.eoiVirtualized && prof.postedInterrupts ? 0 : irq,
    maps: s.maps / n, unmaps: s.unmaps / n,
  };
  if (viommu === 'shadow' && c['virt.viommu.virtio']) {
    // virtio-iommu: a synchronous MAP request per page mapped (a kick each); a guest unmap queues an UNMAP per page, synced with one kick
    const pages = (s.mapPages ?? s.maps) / n;
    e.viommuMapPages = pages; e.viommuUnmapPages = pages;
    e.viommuRequests = 2 * pages; e.viommuKicks = pages + s.unmaps / n;
  } else if (viommu === 'shadow') e.viommuTraps = (s.maps + s.unmaps) / n; // caching mode: each guest map and unmap traps
  else e.userIoExits = s.unmaps / n; // nested: the guest's invalidations trap (strict guest)
  return e;
}

/** viommu-bounce: the DMA API bounces each I/O's data through a buffer of a pool mapped once: a pool operation and a CPU copy, no request to the VMM. */
export function bounceEvents({ prof, irq, bytes }: PerPacket): Partial<PacketEvents> {
  return {
    interruptPath: prof.postedInterrupts ? 'posted' : 'exit',
    eoiExits: prof.eoiVirtualized && prof.postedInterrupts ? 0 : irq,
    bounceOps: 1, guestCopyBytes: bytes,
  };
}

/** A GPU shared by guests: a vGPU's submissions trap to its mediator; API remoting forwards each call to a host server. */
export function gpuShareEvents(mode: 'vgpu' | 'api-remoting', { s, prof, c, n, irq, perCommand, bytes }: PerPacket): Partial<PacketEvents> {
  if (mode === 'vgpu') {
    // mediated / SR-IOV vGPU: the mediator injects the vGPU's interrupts; each submission traps to it; guest GPU page-table writes are shadowed
    return { interruptPath: 'injected', eoiExits: prof.eoiVirtualized ? 0 : irq, vgpuSubmits: perCommand, vgpuPteWrites: (s.mapPages ?? 0) / n };
  }
  // each call forwarded to the host server (a kick, the call, a completion injected back); the data copied through the shared buffer
  const copies = c['virt.remoting.hostCopies'];
  return {
    remotedCalls: perCommand, kernelIoExits: perCommand,
    guestCopyBytes: c['virt.remoting.guestCopies'] * bytes,
    copies, copyBytes: copies * bytes,
    interruptPath: 'injected', interrupts: perCommand,
    eoiExits: prof.eoiVirtualized ? 0 : perCommand,
  };
}

/** An emulated device: an NVMe controller's doorbell exits (the VMM does the I/O into guest RAM), an e1000's register exits and the VMM's copies. */
export function emulatedEvents({ s, prof, c, irq, perCommand, bytes }: PerPacket): Partial<PacketEvents> {
  if (s.device === 'blk') {
    // an emulated NVMe controller: two doorbell writes per command (submission tail, completion head), the VMM does the I/O into guest RAM (no copy)
    return { userIoExits: 2 * perCommand, interruptPath: 'injected', interrupts: irq, eoiExits: prof.eoiVirtualized ? 0 : irq };
  }
  // a NIC: the VMM copies each packet once; a GPU copy path: guest buffer → VMM → device staging, twice
  const copies = s.commands !== undefined ? 2 : 1;
  return {
    userIoExits: c['virt.emulatedExitsPerPacket'] * perCommand,
    copies, copyBytes: copies * bytes,
    interruptPath: 'injected', interrupts: s.commands !== undefined ? irq : 1, // e1000 in the guest: one per packet
    eoiExits: prof.eoiVirtualized ? 0 : 1,
  };
}

/** virtio with a backend: notifications and interrupts batched (virt.virtioBatch); virtio-net's vhost copies each packet, virtio-blk's backend does the I/O into the guest's pages (O_DIRECT), no copy. */
export function virtioEvents({ s, prof, c, bytes }: PerPacket): Partial<PacketEvents> {
  const copies = s.device === 'blk' ? 0 : 1;
  const interrupts = 1 / c['virt.virtioBatch'];
  return {
    copies, copyBytes: copies * bytes, backendPackets: 1,
    notifications: 1 / c['virt.virtioBatch'],
    interruptPath: 'injected', interrupts,
    eoiExits: prof.eoiVirtualized ? 0 : interrupts,
  };
}

/** CPU parts that run on the vCPU's core (exits stall the vCPU) vs a separate backend core. */
export function backendPart(mode: Mode, parts: Record<string, number>): number {
  if (mode !== 'virtio') return 0;
  return (parts['host.copy'] ?? 0) + (parts['host.backend'] ?? 0) + (parts['host.interruptInjection'] ?? 0);
}
