/**
 * `iommusim compare` without --modes: the workload's device's own paths (DEFAULT_MODES), a GPU's
 * four (bare metal, VFIO passthrough — with and without posted interrupts —, vGPU, API remoting),
 * a block device's; a NIC's list unchanged to the byte. The table's `setup needed:` lines: each
 * path's notes, once per note. The CLI end to end (dist/, built by npm test).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatCompare, formatNotes } from '../../src/cli/compare.js';
import { DEFAULT_MODES } from '../../src/virt/paths.js';
import type { CompareResult, ModeResult } from '../../src/run/compare.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');

function iommusim(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Json { modes: Array<{ mode: string; refused?: string; throughputGbps: number; notes?: string[] }> }
const json = (args: string[]): Json => {
  const r = iommusim([...args, '--json', '/dev/stdout', '--quiet', '--workers', '0']);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as Json;
};

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
});

describe('compare: default paths per device', () => {
  it('compare gpu-training-h2d: the GPU\'s paths only (bare metal, VFIO passthrough, vGPU, API remoting), none refused, each moving data', () => {
    const modes = json(['compare', 'gpu-training-h2d']).modes;
    expect(modes.map((m) => m.mode)).toEqual(['bare-metal', 'passthrough', 'passthrough-pi', 'vgpu', 'api-remoting']);
    expect(modes.map((m) => m.mode)).toEqual([...DEFAULT_MODES.gpu]);
    for (const m of modes) {
      expect(m.refused, m.mode).toBeUndefined();
      expect(m.throughputGbps, m.mode).toBeGreaterThan(0);
    }
    // each GPU path says what it needs from the setup
    expect(modes.find((m) => m.mode === 'passthrough')!.notes!.join(' ')).toMatch(/IOMMU group.*vfio-pci/);
    expect(modes.find((m) => m.mode === 'vgpu')!.notes).toHaveLength(1);
  }, 60_000);

  it('compare nvme-passthrough-read: the block device\'s paths, none refused', () => {
    const modes = json(['compare', 'nvme-passthrough-read']).modes;
    expect(modes.map((m) => m.mode)).toEqual(['bare-metal', 'strict', 'passthrough-pi', 'passthrough-viommu', 'viommu-bounce', 'virtio']);
    for (const m of modes) {
      expect(m.refused, m.mode).toBeUndefined();
      expect(m.throughputGbps, m.mode).toBeGreaterThan(0);
    }
  }, 60_000);

  it('compare nic-10g-tcp: the NIC\'s default is the list it always was, to the byte (JSON and table)', () => {
    const old = ['--modes', 'bare-metal,strict,lazy,passthrough,passthrough-pi,virtio,emulated'];
    const args = ['compare', 'nic-10g-tcp', '--hypervisor', 'kvm', '--set', 'workload.count=2000', '--workers', '0'];
    const a = iommusim([...args, '--json', '/dev/stdout', '--quiet']);
    const b = iommusim([...args, ...old, '--json', '/dev/stdout', '--quiet']);
    expect(a.code, a.err).toBe(0);
    expect(a.out).toBe(b.out);
    const t = iommusim(args);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toBe(iommusim([...args, ...old]).out);
    // a NIC path needs nothing of the setup: no notes, no lines for them
    expect(t.out).not.toMatch(/setup needed/);
  }, 60_000);

  it('an explicit --modes is kept: a GPU path the device lacks is refused with the reason, its counterpart added', () => {
    const modes = json(['compare', 'gpu-training-h2d', '--set', 'workload.count=8', '--modes', 'bare-metal,virtio']).modes;
    expect(modes.map((m) => m.mode)).toEqual(['bare-metal', 'virtio', 'api-remoting']);
    expect(modes[1].refused).toMatch(/paravirtual CUDA device.*use api-remoting/);
  }, 60_000);

  it('--help says the default depends on the device', () => {
    const r = iommusim(['compare', '--help']);
    expect(r.code).toBe(0);
    const help = r.out.replace(/\s+/g, ' ');
    expect(help).toMatch(/default: the workload's device's own paths — NIC: bare-metal, strict, lazy, passthrough, passthrough-pi, virtio, emulated; GPU: bare-metal, passthrough, passthrough-pi, vgpu, api-remoting; block \(nvme\): /);
  });
});

describe('compare table: the paths\' notes under it', () => {
  const row = (mode: string, notes?: string[], refused?: string): ModeResult => ({
    mode, throughputGbps: 1, bottleneck: 'vCPU', cyclesPerPacket: { total: 1, guest: 0, host: 1 }, exitsPerSec: 0, interruptsPerSec: 0,
    iotlb: { hitRate: 1, readsPerWalk: 1 }, ...(refused ? { refused } : {}), ...(notes ? { notes } : {}),
  } as unknown as ModeResult);

  it('each note once, with the paths it is for, in the order the paths came', () => {
    const group = 'the GPU\'s whole IOMMU group bound to vfio-pci';
    const vga = 'primary display: x-vga=on';
    expect(formatNotes([row('bare-metal'), row('passthrough', [group, vga]), row('passthrough-pi', [group, vga]), row('vgpu', ['a mediated device'])])).toEqual([
      '', 'setup needed:',
      `  passthrough, passthrough-pi: ${group}`,
      `  passthrough, passthrough-pi: ${vga}`,
      '  vgpu: a mediated device',
    ]);
    expect(formatNotes([row('bare-metal'), row('virtio', undefined, 'xen refuses virtio')])).toEqual([]);
  });

  it('the text output: the notes between the table and the passthrough/emulated ratio', () => {
    const r = {
      workload: 'w', hypervisor: { name: 'kvm', description: 'd' }, passthroughOverEmulated: 2,
      modes: [row('bare-metal'), row('passthrough', ['bind the group'])],
    } as unknown as CompareResult;
    const lines = formatCompare(r).split('\n');
    const at = lines.indexOf('setup needed:');
    expect(at).toBeGreaterThan(3);
    expect(lines[at - 1]).toBe('');
    expect(lines.slice(at + 1, at + 4)).toEqual(['  passthrough: bind the group', '', 'passthrough / emulated throughput: 2×']);
  });
});
