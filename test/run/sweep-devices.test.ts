/**
 * I/O-path sweep jobs on GPU and block (nvme) workloads: the path's settings for the workload's
 * device (as compare builds them), and a path the device lacks recorded as refused with compare's
 * reason — not a worker error. The spec from src/; the sweep end to end through the CLI (dist/,
 * built by npm test).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSweepSpec } from '../../src/run/sweep/spec.js';
import { PATHS, pathRefusal } from '../../src/virt/paths.js';
import { PROFILES } from '../../src/virt/hypervisors.js';
import { tempDir } from '../setup/tmp.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const spec = (o: unknown) => parseSweepSpec(o, 's.yaml');
const modeOf = (s: ReturnType<typeof spec>, mode: string, hv = 'kvm', w?: string) => s.jobs.findIndex((j) => j.mode === mode && j.hypervisor === hv && (w === undefined || j.workload === w));

describe('sweep spec: I/O paths of a GPU and a block device', () => {
  it('a GPU over paths it lacks: refused with the reason compare gives (and its counterpart); the ones it has run with the GPU\'s settings', () => {
    const s = spec({ name: 'g', workloads: ['gpu-training-h2d'], axes: { mode: ['passthrough-pi', 'virtio', 'emulated', 'vgpu', 'api-remoting'] } });
    expect(s.jobs.length).toBe(5);
    const refused = s.jobs.filter((j) => s.refused[j.id] !== undefined).map((j) => j.mode);
    expect(refused).toEqual(['virtio', 'emulated']);
    const virtio = s.jobs[modeOf(s, 'virtio')];
    expect(s.refused[virtio.id]).toBe(`a GPU has no virtio path: ${pathRefusal('virtio', PROFILES.kvm, 'gpu')}`);
    expect(s.refused[virtio.id]).toMatch(/paravirtual CUDA device.*\(use api-remoting\)$/);
    expect(s.refused[s.jobs[modeOf(s, 'emulated')].id]).toMatch(/^a GPU has no emulated path: .*\(use vgpu\)$/);
    // a passthrough GPU's pinned memory in pages of the guest RAM's backing
    const pt = s.configs[modeOf(s, 'passthrough-pi')];
    expect(pt.iommu.mode).toBe('strict');
    expect(pt.gpu.hostPageBytes).toBe(2097152);
  });

  it('an nvme job gets the block device\'s settings (not the NIC\'s), and they are checked against the job\'s own', () => {
    const s = spec({ name: 'b', workloads: ['nvme-passthrough-read'], axes: { mode: ['strict', 'passthrough-pi', 'viommu-bounce', 'virtio', 'vgpu'], hypervisor: ['kvm', 'xen'] } });
    const blk = (i: number) => s.configs[i].blk.buffers;
    expect(blk(modeOf(s, 'strict'))).toBe('per-io');
    expect(blk(modeOf(s, 'passthrough-pi'))).toBe('static');
    expect(blk(modeOf(s, 'viommu-bounce'))).toBe('pool');
    expect(PATHS['passthrough-pi'].deviceSettings('shadow', 2097152, 'blk')).toEqual([['iommu.mode', 'strict'], ['blk.buffers', 'static']]);
    // the device's refusal, then the hypervisor's (as compare orders them)
    expect(s.refused[s.jobs[modeOf(s, 'vgpu', 'kvm')].id]).toMatch(/^a block device has no vgpu path: a vGPU is a share of a GPU.*\(use sriov\)$/);
    expect(s.refused[s.jobs[modeOf(s, 'vgpu', 'xen')].id]).toMatch(/^a block device has no vgpu path/);
    expect(s.refused[s.jobs[modeOf(s, 'virtio', 'xen')].id]).toMatch(/^xen refuses virtio: /);
    expect(Object.keys(s.refused).length).toBe(3);
    // the path sets blk.buffers itself: a job setting it too is one line naming the axis
    expect(() => spec({ name: 'b', workloads: ['nvme-passthrough-read'], axes: { 'blk.buffers': ['pool'], mode: ['passthrough-pi'] } }))
      .toThrow(/^s\.yaml: axes\.blk\.buffers: the I\/O path sets blk\.buffers itself \(mode passthrough-pi: blk\.buffers=static\); drop blk\.buffers or the mode$/);
  });

  it('a NIC\'s jobs are as before: its settings, the hypervisor\'s refusals only', () => {
    const s = spec({ name: 'n', workloads: ['nic-10g-tcp'], axes: { mode: ['passthrough-pi', 'virtio', 'vgpu'], hypervisor: ['kvm', 'xen'] } });
    expect(s.configs[modeOf(s, 'passthrough-pi')].nic.iovaPolicy).toBe('hugepage');
    expect(s.refused[s.jobs[modeOf(s, 'virtio', 'xen')].id]).toMatch(/^xen refuses virtio: Xen HVM guests use PV netfront/);
    expect(s.refused[s.jobs[modeOf(s, 'vgpu')].id]).toMatch(/^a NIC has no vgpu path: .*\(use sriov\)$/);
  });
});

describe('iommusim sweep: a GPU and an nvme workload over their paths', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(cli)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
    dir = tempDir('iommusim-sweep-devices-');
  });

  it('no worker errors: the GPU\'s virtio job is refused with the reason, the nvme job ran with the block device\'s settings', () => {
    const f = join(dir, 'd.yaml');
    writeFileSync(f, `name: devices
settings: { workload.count: 8 }
jobs:
  - { workload: gpu-training-h2d, mode: virtio }
  - { workload: gpu-training-h2d, mode: api-remoting }
  - { workload: nvme-passthrough-read, mode: passthrough-pi }
`);
    const out = join(dir, 'out');
    const r = spawnSync(process.execPath, [cli, 'sweep', f, '--out', out, '--workers', '1', '--no-report'], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/2\/3 jobs ok, 1 refused by their device or hypervisor/);
    expect(r.stderr).toMatch(/job \w+ \(gpu-training-h2d mode=virtio hypervisor=kvm workload\.count=8\) not run: a GPU has no virtio path: no hypervisor offers a paravirtual CUDA device/);
    expect(JSON.parse(readFileSync(join(out, 'errors.json'), 'utf8'))).toEqual([]);
    const refused = JSON.parse(readFileSync(join(out, 'refused.json'), 'utf8')) as Array<{ job: { mode: string }; refused: string }>;
    expect(refused.map((x) => [x.job.mode, x.refused])).toEqual([['virtio', `a GPU has no virtio path: ${pathRefusal('virtio', PROFILES.kvm, 'gpu')}`]]);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Array<{ config: { blk: { buffers: string } }; path: { mode: string; throughputGbps: number; settings: Array<[string, unknown]> } }>;
    expect(results.map((x) => x.path.mode)).toEqual(['api-remoting', 'passthrough-pi']);
    for (const x of results) expect(x.path.throughputGbps, x.path.mode).toBeGreaterThan(0);
    // the config the job ran is the one its result says the path set
    expect(results[1].path.settings).toEqual([['iommu.mode', 'strict'], ['blk.buffers', 'static']]);
    expect(results[1].config.blk.buffers).toBe('static');
  }, 60_000);
});
