import { describe, it, expect } from 'vitest';
import { migrationTimeline, MIGRATION_KNOBS } from '../../src/virt/migration.js';
import type { ModeResult } from '../../src/run/compare.js';

const k = Object.fromEntries(MIGRATION_KNOBS.map((x) => [x.key, x.default as number]));
const mode = (m: string, gbps: number) => ({ mode: m, throughputGbps: gbps }) as unknown as ModeResult;

describe('hot-plug around live migration', () => {
  it('hand-computed: 4 GiB at 10 Gb/s with 0.1 GB/s dirtied converges in one round; downtime sends the rest', () => {
    const r = migrationTimeline('kvm', mode('passthrough-pi', 9.8), mode('virtio', 7.5), k);
    const round1 = (4 * 1024 ** 3) / (10e9 / 8) * 1000; // 3,435.97 ms
    const dirty = 0.1e9 * (round1 / 1000); // bytes dirtied meanwhile
    expect(r.precopyRounds).toBe(1);
    expect(r.phases[1].durationMs).toBeCloseTo(round1, 2);
    expect(r.downtimeMs).toBeCloseTo(dirty / (10e9 / 8) * 1000, 2); // 274.9 ms, within the 300 ms budget
    expect(r.phases.map((p) => p.mode)).toEqual(['virtio', 'virtio', 'none', 'virtio', 'passthrough-pi']);
    expect(r.degradedMs).toBeCloseTo(2000 + round1 + r.downtimeMs + 1000, 2);
    const lost = (9.8e9 / 8) * (r.degradedMs / 1000) - (7.5e9 / 8) * ((r.degradedMs - r.downtimeMs) / 1000);
    expect(r.bytesLostVsPassthrough).toBeCloseTo(lost, -3);
  });
  it('a guest that dirties memory faster than the link needs more rounds, then stops at the round limit', () => {
    const r = migrationTimeline('xen', mode('passthrough-pi', 9.8), mode('emulated', 0.7), { ...k, 'migration.dirtyGBps': 2 });
    expect(r.precopyRounds).toBe(k['migration.maxRounds']);
    expect(r.downtimeMs).toBeGreaterThan(300);
  });
  it('VirtualBox and bhyve cannot migrate with a passthrough device', () => {
    expect(() => migrationTimeline('virtualbox', mode('passthrough', 9), mode('virtio', 7), k)).toThrow(/cannot teleport or save a VM with an attached PCI device/);
    expect(() => migrationTimeline('bhyve', mode('passthrough', 9), mode('virtio', 7), k)).toThrow(/no live migration/);
  });
});
