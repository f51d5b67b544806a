import { describe, it, expect } from 'vitest';
import { compareModes } from '../../src/run/compare.js';
import { deviceWorkload } from '../../src/cli/compare.js';
import { findGenerator } from '../../src/run/generators/index.js';
import { buildConfig } from '../../src/config/config.js';
import { findWorkload, specConfig, type SettingValue } from '../../src/run/workloads.js';
import { cyclesPerPacket, CPU_KNOBS } from '../../src/virt/cpu.js';

const costs = Object.fromEntries(CPU_KNOBS.map((k) => [k.key, k.default as number]));

function nicCompare(modes: string[], hv: 'kvm' | 'xen' | 'virtualbox' | 'bhyve' = 'kvm') {
  const gen = findGenerator('nic-tcp')!;
  const cfgFor = (extra: Array<[string, SettingValue]>) => buildConfig([...gen.defaults.map(([k, v]) => [k, v] as [string, SettingValue]), ['workload.count', 6000], ...extra]);
  return compareModes(deviceWorkload('nic-tcp', 'nic-tcp'), modes as never, hv, cfgFor);
}

describe('compare: the I/O paths at 10 GbE, 1500 B frames (KVM)', () => {
  const r = nicCompare(['bare-metal', 'strict', 'lazy', 'passthrough', 'passthrough-pi', 'virtio', 'emulated']);
  const by = Object.fromEntries(r.modes.map((m) => [m.mode, m]));
  it('throughput: bare metal ≈ passthrough-pi ≥ passthrough > virtio > emulated; lazy > strict', () => {
    expect(Math.abs(by['passthrough-pi'].throughputGbps / by['bare-metal'].throughputGbps - 1)).toBeLessThan(0.02);
    expect(by['passthrough-pi'].throughputGbps).toBeGreaterThanOrEqual(by.passthrough.throughputGbps);
    expect(by.passthrough.throughputGbps).toBeGreaterThan(by.virtio.throughputGbps);
    expect(by.virtio.throughputGbps).toBeGreaterThan(2 * by.emulated.throughputGbps);
    expect(by.lazy.throughputGbps).toBeGreaterThan(by.strict.throughputGbps);
  });
  it('CPU cycles per packet: passthrough-pi < passthrough < virtio < emulated; strict > lazy', () => {
    expect(by['passthrough-pi'].cyclesPerPacket.total).toBeLessThan(by.passthrough.cyclesPerPacket.total);
    expect(by.passthrough.cyclesPerPacket.total).toBeLessThan(by.virtio.cyclesPerPacket.total);
    expect(by.virtio.cyclesPerPacket.total).toBeLessThan(by.emulated.cyclesPerPacket.total);
    expect(by.strict.cyclesPerPacket.total).toBeGreaterThan(by.lazy.cyclesPerPacket.total);
  });
  it('exits: none for bare metal and posted interrupts; an exit and an EOI exit per interrupt without', () => {
    expect(by['bare-metal'].exitsPerSec).toBe(0);
    expect(by['passthrough-pi'].exitsPerSec).toBe(0);
    expect(Math.abs(by.passthrough.exitsPerSec - 2 * by.passthrough.interruptsPerSec)).toBeLessThanOrEqual(1);
    expect(by.emulated.exitsPerSec).toBeGreaterThan(by.emulated.packetsPerSec); // several register exits per packet
  });
  it('the static 2 MiB mapping of passthrough hits the IOTLB; per-packet mapping does not', () => {
    expect(by.passthrough.iotlb.hitRate).toBeGreaterThan(0.95);
    expect(by.strict.iotlb.hitRate).toBeLessThan(0.6);
    expect(r.passthroughOverEmulated).toBeGreaterThan(5);
  });
});

describe('compare: hypervisor profiles', () => {
  it('VirtualBox refuses posted interrupts with a reason; Xen refuses virtio', () => {
    const vb = nicCompare(['passthrough', 'passthrough-pi'], 'virtualbox');
    expect(vb.modes[1].refused).toMatch(/posted interrupts/);
    expect(vb.modes[0].throughputGbps).toBeGreaterThan(0);
    const xen = nicCompare(['virtio'], 'xen');
    expect(xen.modes[0].refused).toMatch(/netfront/);
  });
  it('a GPU workload: passthrough moves data at the link rate, the CPU copy path (API remoting) at CPU copy speed; no emulated GPU', () => {
    const spec = findWorkload('gpu-training-h2d')!;
    const cfgFor = (extra: Array<[string, SettingValue]>) => specConfig(spec, [], [['workload.count', 8], ...extra]);
    const r = compareModes(deviceWorkload('gpu-training-h2d', 'gpu-training'), ['passthrough-pi', 'api-remoting', 'emulated'], 'kvm', cfgFor);
    const [pt, ar, em] = r.modes;
    expect(pt.throughputGbps).toBeGreaterThan(5 * ar.throughputGbps);
    expect(ar.bottleneck).toBe('vCPU');
    // API remoting copies every byte twice at cpu.memcpyBytesPerCycle: into the shared buffer (guest), out of it (host server)
    expect(ar.cyclesPerPacket.parts['guest.guestCopy']).toBeCloseTo(4096 / costs['cpu.memcpyBytesPerCycle'], 0);
    expect(ar.cyclesPerPacket.parts['host.copy']).toBeCloseTo(4096 / costs['cpu.memcpyBytesPerCycle'], 0);
    expect(em.mode).toBe('emulated');
    expect(em.refused).toMatch(/no hypervisor emulates a CUDA-capable GPU/);
  });
});

describe('CPU cost model (hand-computed)', () => {
  it('strict: map + unmap + invalidation per packet on top of the driver', () => {
    const b = cyclesPerPacket({ driverCycles: 1000, interrupts: 0.5, interruptPath: 'host', eoiExits: 0, maps: 1, unmaps: 1, invalidations: 1, flushes: 0, kernelIoExits: 0, userIoExits: 0, copies: 0, copyBytes: 0, notifications: 0, backendPackets: 0, viommuTraps: 0 }, costs, false);
    expect(b.total).toBe(1000 + 0.5 * 1200 + 400 + 400 + 2130);
    expect(b.guest).toBe(0);
  });
  it('passthrough without posted interrupts: exit + injection and an EOI exit per interrupt, charged to the host side', () => {
    const b = cyclesPerPacket({ driverCycles: 1000, interrupts: 0.25, interruptPath: 'exit', eoiExits: 0.25, maps: 0, unmaps: 0, invalidations: 0, flushes: 0, kernelIoExits: 0, userIoExits: 0, copies: 0, copyBytes: 0, notifications: 0, backendPackets: 0, viommuTraps: 0 }, costs, true);
    expect(b.guest).toBe(1000 + 0.25 * 1200);
    expect(b.host).toBeCloseTo(0.25 * (1300 + 3102) + 0.25 * 1556, 6);
    expect(b.exitsPerPacket).toBe(0.5);
  });
});

describe('compare: interrupts through the remapping hardware', () => {
  it('passthrough remaps every interrupt to the host (then an exit); posted interrupts reach the running vCPU without one', () => {
    const r = nicCompare(['passthrough', 'passthrough-pi']);
    const [pt, pi] = r.modes;
    expect(pt.interrupts!.remapped).toBeGreaterThan(0);
    expect(pt.interrupts!.posted).toBe(0);
    expect(pt.interrupts!.hostDelivered).toBe(pt.interrupts!.remapped);
    expect(pi.interrupts!.posted).toBe(pt.interrupts!.remapped);
    expect(pi.interrupts!.notificationsWithoutExit).toBe(pi.interrupts!.posted);
    expect(pi.interrupts!.faults).toBe(0);
    expect(pi.interrupts!.iecHitRate).toBeGreaterThan(0.9); // one IRTE per queue vector, cached
  });
});
