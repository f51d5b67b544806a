/** virtio-iommu with a passthrough device, and the pooled-bounce alternative (hand-computed). */
import { describe, it, expect } from 'vitest';
import { packetEvents, pathRefusal, type DeviceStats } from '../../src/virt/paths.js';
import { PROFILES } from '../../src/virt/hypervisors.js';
import { cyclesPerPacket, COST_KNOBS } from '../../src/virt/cpu.js';
import { compareModes } from '../../src/run/compare.js';
import { deviceWorkload } from '../../src/run/device-workload.js';
import { findGenerator } from '../../src/run/generators/index.js';
import { buildConfig } from '../../src/config/config.js';
import type { SettingValue } from '../../src/run/workloads.js';

const costs = Object.fromEntries(COST_KNOBS.map((k) => [k.key, Number(k.default)]));
const virtio = { ...costs, 'virt.viommu.virtio': 1 };
// 100 reads of 16 KiB: 4 pages each, one map and one unmap call per I/O
const blk: DeviceStats = { packets: 100, bytes: 100 * 16384, interrupts: 100, maps: 100, unmaps: 100, flushes: 0, commands: 100, commandCycles: 3600, device: 'blk', mapPages: 400 };

describe('virtio-iommu: every guest map and unmap goes to the VMM', () => {
  it('per 16 KiB I/O: 4 synchronous MAP requests (a kick each), 4 UNMAP requests synced with one kick; VFIO maps and unmaps 4 pages', () => {
    const ev = packetEvents('passthrough-viommu', blk, PROFILES.kvm, virtio, 'shadow');
    expect(ev).toMatchObject({ viommuMapPages: 4, viommuUnmapPages: 4, viommuRequests: 8, viommuKicks: 5, viommuTraps: 0, maps: 1, unmaps: 1 });
    const b = cyclesPerPacket(ev, virtio, true);
    expect(b.parts['host.viommuKick']).toBe(5 * (2565 + 7200));
    expect(b.parts['host.viommuRequest']).toBe(8 * 2000);
    expect(b.parts['host.vfioMap']).toBe(4 * (1200 + 600 + 400));
    expect(b.parts['host.vfioUnmap']).toBe(4 * (1200 + 600 + 400 + 2130));
    expect(b.total).toBe(3600 + 1200 + 400 + 400 + 5 * 9765 + 8 * 2000 + 4 * 2200 + 4 * 4330); // driver, interrupt (posted: no exit), guest DMA API, the requests
    expect(b.exitsPerPacket).toBe(5);
  });
  it('an emulated VT-d in caching mode (the default) traps once per map and unmap call instead', () => {
    const ev = packetEvents('passthrough-viommu', blk, PROFILES.kvm, costs, 'shadow');
    expect(ev.viommuTraps).toBe(2);
    expect(ev.viommuKicks).toBeUndefined();
  });
});

describe('pooled bounce buffers (viommu-bounce)', () => {
  it('per I/O: a pool operation and a CPU copy of the data in the guest, no exit', () => {
    const ev = packetEvents('viommu-bounce', blk, PROFILES.kvm, costs, 'shadow');
    const b = cyclesPerPacket(ev, costs, true);
    expect(b.parts['guest.bouncePool']).toBe(300);
    expect(b.parts['guest.guestCopy']).toBeCloseTo(16384 / 1.7, 9);
    expect(b.total).toBeCloseTo(3600 + 1200 + 300 + 16384 / 1.7, 9);
    expect(b.exitsPerPacket).toBe(0);
    expect(pathRefusal('viommu-bounce', PROFILES.bhyve, 'blk')).toMatch(/no virtual IOMMU/);
    expect(pathRefusal('viommu-bounce', PROFILES.kvm, 'gpu')).toMatch(/pinned buffers mapped once/);
  });
  it('compare on the nvme generator: bouncing beats a round trip to the VMM per page, by less as blocks grow past the device\'s rate', () => {
    const gen = findGenerator('nvme')!;
    const w = deviceWorkload('nvme', 'nvme');
    const ratio = (size: string) => {
      const cfgFor = (extra: Array<[string, SettingValue]>) => buildConfig([...gen.defaults.map(([k, v]) => [k, v] as [string, SettingValue]), ['workload.size', size], ['workload.count', 1500], ['virt.viommu.virtio', true], ...extra]);
      const r = compareModes(w, ['passthrough-viommu', 'viommu-bounce'], 'kvm', cfgFor);
      const [map, bounce] = r.modes;
      expect(map.bottleneck).toBe('vCPU');
      return { r: bounce.throughputGbps / map.throughputGbps, bounce };
    };
    const small = ratio('16KiB'), big = ratio('128KiB');
    expect(small.r).toBeGreaterThan(2);
    expect(big.bounce.bottleneck).toBe('offered load'); // the device's 3.2 GB/s
    // past the device's rate the gain is the VMM round trips per page against the device: 128 KiB gains less than the CPU ratio
    const perPageMap = (2565 + 7200 + 2000 + 2200) + 2000 + 4330; // a MAP request with its kick, an UNMAP request with its VFIO unmap
    expect(big.r).toBeLessThan(perPageMap / (4096 / 1.7));
  });
  it('at 4 KiB the bounce path meets the SSD\'s command-rate ceiling (blk.maxIops) before its CPU bound', () => {
    const gen = findGenerator('nvme')!;
    const w = deviceWorkload('nvme', 'nvme');
    const cfgFor = (extra: Array<[string, SettingValue]>, ceiling: number) => buildConfig([...gen.defaults.map(([k, v]) => [k, v] as [string, SettingValue]), ['workload.size', '4KiB'], ['workload.count', 1500], ['virt.viommu.virtio', true], ['blk.maxIops', ceiling], ...extra]);
    const bounce = (ceiling: number) => compareModes(w, ['viommu-bounce'], 'kvm', (x) => cfgFor(x, ceiling)).modes[0];
    // the CPU bound: 3600 (fio, block layer, driver) + 1200 (interrupt) + 300 (pool) + 4096 / 1.7 (copy) cycles an I/O at 2.4 GHz
    const cpuIops = 2.4e9 / (3600 + 1200 + 300 + 4096 / 1.7);
    const free = bounce(0);
    expect(free.bottleneck).toBe('vCPU');
    expect(free.throughputGbps).toBeCloseTo((cpuIops * 4096 * 8) / 1e9, 1);
    // 250,000 IOPS (< 319,600): the device takes a command every 4 µs; 1500 commands span 1499 × 4 µs + 80 µs latency + 1.28 µs of data
    const capped = bounce(250_000);
    expect(capped.bottleneck).toBe('offered load');
    expect(capped.throughputGbps).toBeCloseTo((1500 * 4096 * 8) / (1499 * 4000 + 80_000 + 1280), 1);
  });
});
