/** The I/O paths a GPU has: bare metal, VFIO passthrough, vGPU (time-sliced, mediated) and API remoting; the ones it has not are refused with the reason. */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareModes } from '../../src/run/compare.js';
import { deviceWorkload, timeSlice } from '../../src/run/device-workload.js';
import { devicePaths, pathRefusal, pathNotes, packetEvents, DEFAULT_MODES, MODES, type DeviceStats } from '../../src/virt/paths.js';
import { PROFILES } from '../../src/virt/hypervisors.js';
import { cyclesPerPacket, COST_KNOBS } from '../../src/virt/cpu.js';
import { PATH_KNOBS } from '../../src/config/knobs/paths.js';
import { findWorkload, specConfig, type SettingValue } from '../../src/run/workloads.js';
import { buildConfig } from '../../src/config/config.js';
import { allocColumns } from '../../src/trace/columns.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const costs = Object.fromEntries(COST_KNOBS.map((k) => [k.key, Number(k.default)]));
const spec = findWorkload('gpu-training-h2d')!;
const cfgFor = (extra: Array<[string, SettingValue]>) => specConfig(spec, [], [['workload.count', 8], ...extra]);
const gpu = deviceWorkload('gpu-training-h2d', 'gpu-training');

describe('GPU I/O paths', () => {
  it('`iommusim compare gpu-training-h2d --modes` with the NIC\'s list: the four GPU paths, virtio and emulated refused with the reason', () => {
    const nicList = 'bare-metal,strict,lazy,passthrough,passthrough-pi,virtio,emulated'; // without --modes a GPU gets its own (test/cli/compare-defaults.test.ts)
    const r = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'compare', 'gpu-training-h2d', '--modes', nicList, '--set', 'workload.count=8', '--json', '/dev/stdout', '--quiet'], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const modes = (JSON.parse(r.stdout) as { modes: Array<{ mode: string; refused?: string; throughputGbps: number }> }).modes;
    const run = modes.filter((m) => !m.refused).map((m) => m.mode);
    for (const m of ['bare-metal', 'passthrough', 'vgpu', 'api-remoting']) expect(run).toContain(m);
    expect(modes.find((m) => m.mode === 'virtio')!.refused).toMatch(/no hypervisor offers a paravirtual CUDA device.*use api-remoting/);
    expect(modes.find((m) => m.mode === 'emulated')!.refused).toMatch(/no hypervisor emulates a CUDA-capable GPU.*use vgpu/);
    for (const m of modes.filter((x) => !x.refused)) expect(m.throughputGbps).toBeGreaterThan(0);
  }, 60_000);
  it('a GPU\'s default paths are the four it has; a requested path it lacks is refused and its counterpart shown once', () => {
    expect([...DEFAULT_MODES.gpu]).toEqual(['bare-metal', 'passthrough', 'passthrough-pi', 'vgpu', 'api-remoting']);
    expect(devicePaths('gpu', ['bare-metal', 'virtio', 'emulated', 'sriov'])).toEqual(['bare-metal', 'virtio', 'api-remoting', 'emulated', 'vgpu', 'sriov']);
    expect(devicePaths('gpu', ['vgpu', 'emulated'])).toEqual(['vgpu', 'emulated']);
    expect(devicePaths('nic', ['bare-metal', 'virtio', 'emulated'])).toEqual(['bare-metal', 'virtio', 'emulated']);
    for (const m of ['virtio', 'emulated', 'sriov', 'viommu-bounce'] as const) expect(pathRefusal(m, PROFILES.kvm, 'gpu')).toBeTruthy();
    for (const m of ['vgpu', 'api-remoting'] as const) {
      expect(pathRefusal(m, PROFILES.kvm, 'nic')).toMatch(/GPU/);
      expect(pathRefusal(m, PROFILES.kvm, 'gpu')).toBeUndefined();
    }
    expect(MODES).toContain('vgpu');
  });
  it('hypervisors: VirtualBox and bhyve have no vGPU; API remoting needs no device support', () => {
    const vb = compareModes(gpu, ['vgpu', 'api-remoting'], 'virtualbox', cfgFor);
    expect(vb.modes[0].refused).toMatch(/no mediated or SR-IOV vGPU/);
    expect(vb.modes[1].refused).toBeUndefined();
    expect(pathRefusal('vgpu', PROFILES.bhyve, 'gpu')).toMatch(/no mediated-device/);
    expect(pathRefusal('vgpu', PROFILES.xen, 'gpu')).toBeUndefined();
  });
  it('passthrough notes the seeds\' rules: the whole IOMMU group to vfio-pci; x-vga only for a primary display', () => {
    expect(pathNotes('passthrough-pi', 'gpu', PROFILES.kvm, buildConfig([])).join(' ')).toMatch(/whole IOMMU group.*vfio-pci/);
    expect(pathNotes('passthrough-pi', 'gpu', PROFILES.kvm, buildConfig([])).join(' ')).not.toMatch(/x-vga/);
    expect(pathNotes('passthrough-pi', 'gpu', PROFILES.kvm, buildConfig([['virt.gpuPrimaryDisplay', true]])).join(' ')).toMatch(/x-vga=on with -vga none/);
    expect(pathNotes('passthrough', 'gpu', PROFILES.xen, buildConfig([['virt.gpuPrimaryDisplay', true]])).join(' ')).toMatch(/gfx_passthru=1/);
    expect(pathNotes('passthrough-pi', 'nic', PROFILES.kvm, buildConfig([]))).toEqual([]);
  });
});

describe('vGPU: time-sliced engines (hand-computed)', () => {
  it('times move into the vGPU\'s slices, in order', () => {
    const t = allocColumns(4);
    t.count = 4;
    t.timeNs.set([0, 999, 1000, 2500]);
    const s = timeSlice(t, 1000, 2050);
    expect([...s.timeNs]).toEqual([0, 999, 2050, 2 * 2050 + 500]);
    expect(timeSlice(t, 1000, 1000)).toBe(t); // alone: no gaps
  });
  it('two tenants with 1 ms slices and 25 µs switches: the device side is stretched by the slicing, about 2050 / 1000', () => {
    const long = (e: Array<[string, SettingValue]>) => cfgFor([['workload.count', 32], ...e]);
    const r = compareModes(gpu, ['passthrough-pi', 'vgpu'], 'kvm', long);
    const [pt, vg] = r.modes;
    // the copies' own timeline ends at T; sliced, it ends at ⌊T / 1 ms⌋ · 2.05 ms + (T mod 1 ms)
    const t = gpu.build(long(r.modes[0].settings)).trace;
    const T = t.timeNs[t.count - 1];
    const stretched = Math.floor(T / 1e6) * 2.05e6 + (T % 1e6);
    expect(Math.abs(vg.deviceGbps / pt.deviceGbps / (T / stretched) - 1)).toBeLessThan(0.01);
    expect(vg.deviceGbps / pt.deviceGbps).toBeLessThan(0.56);
    const alone = compareModes(gpu, ['vgpu'], 'kvm', (e) => long([['virt.vgpu.tenants', 1], ...e]));
    expect(alone.modes[0].deviceGbps).toBeCloseTo(pt.deviceGbps, 0);
  });
  it('CPU: a trapped submission per copy and a trapped, shadowed GPU page-table write per page mapped', () => {
    const s: DeviceStats = { packets: 4096, bytes: 4096 * 4096, interrupts: 1, maps: 0, unmaps: 0, flushes: 0, commands: 1, commandCycles: 12000, device: 'gpu', mapPages: 8192 };
    const ev = packetEvents('vgpu', s, PROFILES.kvm, costs, 'shadow');
    expect(ev.vgpuSubmits).toBe(1 / 4096);
    expect(ev.vgpuPteWrites).toBe(2);
    const b = cyclesPerPacket(ev, costs, true);
    expect(b.parts['host.vgpuSubmit']).toBeCloseTo((2565 + 10000) / 4096, 9);
    expect(b.parts['host.vgpuShadowPte']).toBeCloseTo(2 * (2565 + 500), 9);
    expect(b.exitsPerPacket).toBeCloseTo(1 / 4096 + 2, 9);
  });
});

describe('API remoting (hand-computed)', () => {
  it('per copy call: a kick, the forwarded call, a completion injected; every byte copied into and out of the shared buffer', () => {
    const s: DeviceStats = { packets: 512, bytes: 512 * 4096, interrupts: 1, maps: 0, unmaps: 0, flushes: 0, commands: 1, commandCycles: 12000, device: 'gpu' };
    const ev = packetEvents('api-remoting', s, PROFILES.kvm, costs, 'shadow');
    const b = cyclesPerPacket(ev, costs, true);
    const per = 1 / 512;
    expect(b.parts['guest.remoteCall']).toBeCloseTo(per * 20000, 9);
    expect(b.parts['host.kernelIoExit']).toBeCloseTo(per * 2565, 9);
    expect(b.parts['host.interruptInjection']).toBeCloseTo(per * 3102, 9);
    expect(b.parts['guest.guestCopy']).toBeCloseTo(4096 / 1.7, 9);
    expect(b.parts['host.copy']).toBeCloseTo(4096 / 1.7, 9);
    const zeroCopy = cyclesPerPacket(packetEvents('api-remoting', s, PROFILES.kvm, { ...costs, 'virt.remoting.hostCopies': 0 }, 'shadow'), costs, true);
    expect(zeroCopy.parts['host.copy']).toBeUndefined();
  });
  it('every new knob has a unit, a source, and a one-line error naming it', () => {
    for (const k of PATH_KNOBS) { expect(k.source.length).toBeGreaterThan(15); expect(k.kind === 'bool' || k.kind === 'enum' || !!k.unit).toBe(true); }
    expect(() => buildConfig([['virt.vgpu.tenants', 0]])).toThrow(/^virt\.vgpu\.tenants=0: below the minimum 1 vGPUs/);
    expect(() => buildConfig([['virt.remoting.guestCopies', 'two']])).toThrow(/virt\.remoting\.guestCopies=two: not a number/);
  });
});
