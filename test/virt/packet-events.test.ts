/**
 * packetEvents and its per-path families (hostDmaEvents, passthroughEvents, viommuEvents, bounceEvents,
 * gpuShareEvents, emulatedEvents, virtioEvents) on small hand-made statistics, figures computed by hand.
 */
import { describe, it, expect } from 'vitest';
import {
  packetEvents, hostDmaEvents, passthroughEvents, viommuEvents, bounceEvents, gpuShareEvents, emulatedEvents, virtioEvents,
  type DeviceStats, type PerPacket,
} from '../../src/virt/paths.js';
import { PROFILES, type HypervisorProfile } from '../../src/virt/hypervisors.js';

/** APICv and posted interrupts (KVM), and neither (as VirtualBox). */
const kvm = PROFILES.kvm;
const plain: HypervisorProfile = { ...PROFILES.kvm, postedInterrupts: false, eoiVirtualized: false };
const costs: Record<string, number> = {
  'cpu.driverRxCycles': 1000, 'virt.pioAccessesPerPacket': 2, 'virt.emulatedExitsPerPacket': 5, 'virt.virtioBatch': 4,
  'virt.remoting.guestCopies': 1, 'virt.remoting.hostCopies': 2,
};
// a NIC: 10 packets of 1500 B, an interrupt per 2 packets, 2 maps and 2 unmaps per packet, one flush in all
const nic: DeviceStats = { packets: 10, bytes: 15000, interrupts: 5, maps: 20, unmaps: 20, flushes: 1 };
// a GPU: 4 packets of 8 KiB in 2 copy commands of 900 cycles each, an interrupt per command, 8 pages mapped
const gpu: DeviceStats = { packets: 4, bytes: 4 * 8192, interrupts: 2, maps: 0, unmaps: 0, flushes: 0, commands: 2, commandCycles: 900, device: 'gpu', mapPages: 8 };
// a block device: 10 I/Os of 16 KiB, a command and an interrupt each, one map and unmap call of 4 pages each
const blk: DeviceStats = { packets: 10, bytes: 10 * 16384, interrupts: 10, maps: 10, unmaps: 10, flushes: 0, commands: 10, commandCycles: 3600, device: 'blk', mapPages: 40 };

const per = (s: DeviceStats, prof: HypervisorProfile = kvm, c = costs): PerPacket => {
  const n = Math.max(1, s.packets);
  return { s, prof, c, n, irq: s.interrupts / n, perCommand: s.commands !== undefined ? s.commands / n : 1, bytes: s.bytes / n };
};

describe('packetEvents', () => {
  it('a host path without an IOMMU: driver work and the host\'s interrupts, nothing else', () => {
    expect(packetEvents('bare-metal', nic, kvm, costs, 'shadow')).toEqual({
      driverCycles: 1000, interrupts: 0.5, interruptPath: 'host', eoiExits: 0,
      maps: 0, unmaps: 0, invalidations: 0, flushes: 0, kernelIoExits: 0, userIoExits: 0,
      copies: 0, copyBytes: 0, notifications: 0, backendPackets: 0, viommuTraps: 0,
    });
    expect(packetEvents('identity', nic, kvm, costs, 'shadow')).toEqual(packetEvents('bare-metal', nic, kvm, costs, 'shadow'));
  });
  it('driver work per command where the device counts commands (2 commands over 4 packets: 450 cycles a packet); no packets counts as one', () => {
    expect(packetEvents('bare-metal', gpu, kvm, costs, 'shadow').driverCycles).toBe(450);
    expect(packetEvents('strict', { ...nic, packets: 0 }, kvm, costs, 'shadow')).toMatchObject({ maps: 20, unmaps: 20, invalidations: 20, interrupts: 5 });
  });
  it('each path\'s events over the base, the fields it adds after the base\'s in the order it sets them', () => {
    expect(packetEvents('lazy', nic, kvm, costs, 'shadow')).toMatchObject({ driverCycles: 1000, maps: 2, unmaps: 2, flushes: 0.1, invalidations: 0 });
    const ev = packetEvents('passthrough-viommu', blk, kvm, { ...costs, 'virt.viommu.virtio': 1 }, 'shadow');
    expect(Object.keys(ev).slice(-4)).toEqual(['viommuMapPages', 'viommuUnmapPages', 'viommuRequests', 'viommuKicks']);
    expect(Object.keys(packetEvents('api-remoting', gpu, kvm, costs, 'shadow')).slice(-2)).toEqual(['remotedCalls', 'guestCopyBytes']);
    expect(Object.keys(packetEvents('vgpu', gpu, kvm, costs, 'shadow')).slice(-2)).toEqual(['vgpuSubmits', 'vgpuPteWrites']);
    expect(Object.keys(packetEvents('viommu-bounce', blk, kvm, costs, 'shadow')).slice(-2)).toEqual(['bounceOps', 'guestCopyBytes']);
  });
});

describe('the path families', () => {
  it('host DMA API: strict invalidates per unmap, lazy flushes its queue', () => {
    expect(hostDmaEvents('strict', per(nic))).toEqual({ maps: 2, unmaps: 2, invalidations: 2 });
    expect(hostDmaEvents('lazy', per(nic))).toEqual({ maps: 2, unmaps: 2, flushes: 0.1 });
  });
  it('passthrough: posted interrupts only with -pi or a VF on a hypervisor that has them; EOIs exit without APICv or posting', () => {
    expect(passthroughEvents('passthrough', per(nic))).toEqual({ interruptPath: 'exit', eoiExits: 0.5, userIoExits: 2 });
    expect(passthroughEvents('passthrough-pi', per(nic))).toEqual({ interruptPath: 'posted', eoiExits: 0, userIoExits: 2 });
    expect(passthroughEvents('sriov', per(nic))).toEqual({ interruptPath: 'posted', eoiExits: 0, userIoExits: 2 });
    expect(passthroughEvents('sriov', per(nic, plain))).toEqual({ interruptPath: 'exit', eoiExits: 0.5, userIoExits: 2 });
    expect(passthroughEvents('passthrough-pi', per(nic, kvm, {})).userIoExits).toBe(0); // no I/O-port BARs trapped
  });
  it('vIOMMU: caching mode traps each map and unmap; virtio-iommu a request per page; nested, the guest\'s invalidations exit', () => {
    expect(viommuEvents(per(nic), 'shadow')).toEqual({ interruptPath: 'posted', eoiExits: 0, maps: 2, unmaps: 2, viommuTraps: 4 });
    // 4 pages per I/O: 4 MAP requests with a kick each, 4 UNMAP requests and one kick
    expect(viommuEvents(per(blk, kvm, { ...costs, 'virt.viommu.virtio': 1 }), 'shadow')).toEqual({
      interruptPath: 'posted', eoiExits: 0, maps: 1, unmaps: 1, viommuMapPages: 4, viommuUnmapPages: 4, viommuRequests: 8, viommuKicks: 5,
    });
    // without the pages counted, a page per map
    expect(viommuEvents(per(nic, kvm, { ...costs, 'virt.viommu.virtio': 1 }), 'shadow')).toMatchObject({ viommuMapPages: 2, viommuRequests: 4, viommuKicks: 4 });
    expect(viommuEvents(per(nic, plain, { ...costs, 'virt.viommu.virtio': 1 }), 'nested')).toEqual({ interruptPath: 'exit', eoiExits: 0.5, maps: 2, unmaps: 2, userIoExits: 2 });
  });
  it('bounce buffers: a pool operation and the I/O\'s bytes copied by the guest', () => {
    expect(bounceEvents(per(blk))).toEqual({ interruptPath: 'posted', eoiExits: 0, bounceOps: 1, guestCopyBytes: 16384 });
    expect(bounceEvents(per(blk, plain))).toEqual({ interruptPath: 'exit', eoiExits: 1, bounceOps: 1, guestCopyBytes: 16384 });
  });
  it('a shared GPU: a vGPU traps each submission and shadows page-table writes; API remoting forwards each call and copies the data', () => {
    expect(gpuShareEvents('vgpu', per(gpu))).toEqual({ interruptPath: 'injected', eoiExits: 0, vgpuSubmits: 0.5, vgpuPteWrites: 2 });
    expect(gpuShareEvents('vgpu', per(gpu, plain))).toMatchObject({ eoiExits: 0.5 });
    expect(gpuShareEvents('vgpu', per({ ...gpu, mapPages: undefined })).vgpuPteWrites).toBe(0);
    expect(gpuShareEvents('api-remoting', per(gpu))).toEqual({
      remotedCalls: 0.5, kernelIoExits: 0.5, guestCopyBytes: 8192, copies: 2, copyBytes: 16384, interruptPath: 'injected', interrupts: 0.5, eoiExits: 0,
    });
    expect(gpuShareEvents('api-remoting', per(gpu, plain)).eoiExits).toBe(0.5);
  });
  it('emulated: NVMe doorbells (2 exits a command, no copy); an e1000 copies each packet once and interrupts per packet; a GPU copy path copies twice', () => {
    expect(emulatedEvents(per(blk))).toEqual({ userIoExits: 2, interruptPath: 'injected', interrupts: 1, eoiExits: 0 });
    expect(emulatedEvents(per(nic))).toEqual({ userIoExits: 5, copies: 1, copyBytes: 1500, interruptPath: 'injected', interrupts: 1, eoiExits: 0 });
    expect(emulatedEvents(per(nic, plain)).eoiExits).toBe(1);
    expect(emulatedEvents(per(gpu))).toEqual({ userIoExits: 2.5, copies: 2, copyBytes: 16384, interruptPath: 'injected', interrupts: 0.5, eoiExits: 0 });
  });
  it('virtio: notifications and interrupts per batch of 4; vhost-net copies each packet, virtio-blk none', () => {
    expect(virtioEvents(per(nic))).toEqual({ copies: 1, copyBytes: 1500, backendPackets: 1, notifications: 0.25, interruptPath: 'injected', interrupts: 0.25, eoiExits: 0 });
    expect(virtioEvents(per(nic, plain)).eoiExits).toBe(0.25);
    expect(virtioEvents(per(blk))).toMatchObject({ copies: 0, copyBytes: 0, backendPackets: 1 });
  });
});
