/**
 * The component specs typed from the knob tables (src/config/knobs): each model's constructor takes
 * its slice of the resolved configuration (IommuSpec, IommuTimingSpec, MemorySpec, RcSpec, the
 * NIC's and the GPU's sections), a hand-made slice works the same, and every value is checked once,
 * by resolveConfig (a bad one is its knob's one-line message there; the models check nothing again).
 */
import { describe, it, expect } from 'vitest';
import { buildConfig, type Config } from '../../../src/config/config.js';
import { IOMMU_KNOBS, IOMMU_TIMING_KNOBS, VM_KNOBS, type IommuSpec, type IommuTimingSpec, type VmSection } from '../../../src/config/knobs/iommu.js';
import { MEMORY_KNOBS, type MemorySpec } from '../../../src/config/knobs/memory.js';
import { RC_KNOBS, type RcSpec } from '../../../src/config/knobs/rc.js';
import { PCIEBENCH_KNOBS, type PcieBenchSpec } from '../../../src/config/knobs/pciebench.js';
import { WORKLOAD_KNOBS } from '../../../src/config/knobs/workload.js';
import { NIC_DEFAULTS, resolveNicConfig, type NicConfig } from '../../../src/config/knobs/nic.js';
import { GPU_DEFAULTS, resolveGpuConfig, type GpuConfig } from '../../../src/config/knobs/gpu.js';
import { KNOBS } from '../../../src/config/schema.js';
import { InputError } from '../../../src/util/errors.js';
import { Iommu } from '../../../src/iommu/iommu.js';
import { PERM_RW } from '../../../src/iommu/pagetable.js';
import { RootComplex } from '../../../src/rc/root-complex.js';
import { MemoryTiming } from '../../../src/memory/memory.js';
import type { IommuTiming } from '../../../src/iommu/timing.js';

/** The one-line message resolveConfig refuses `settings` with. */
function refused(settings: Array<[string, string | number | boolean]>): string {
  try { buildConfig(settings); } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  return 'accepted';
}

// A resolved config is each model's spec (checked by the compiler: a spec field the table does not
// give, or of another type, fails the type check of this file).
const cfg = buildConfig([]);
const specs = {
  iommu: cfg satisfies Readonly<IommuSpec>,
  timing: cfg.iommu satisfies Readonly<IommuTimingSpec>,
  memory: cfg.memory satisfies Readonly<MemorySpec>,
  rc: cfg.rc satisfies Readonly<RcSpec>,
  nic: cfg.nic satisfies NicConfig,
  gpu: cfg.gpu satisfies GpuConfig,
  vm: cfg.vm satisfies VmSection,
  pciebench: cfg satisfies Readonly<PcieBenchSpec>,
};

describe('the spec tables', () => {
  it('are the schema\'s knobs, in place: each table a contiguous run of KNOBS', () => {
    for (const t of [IOMMU_KNOBS, IOMMU_TIMING_KNOBS, VM_KNOBS, MEMORY_KNOBS, RC_KNOBS, PCIEBENCH_KNOBS, WORKLOAD_KNOBS]) {
      const i = KNOBS.indexOf(t[0]);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(KNOBS.slice(i, i + t.length)).toEqual(t);
    }
    expect(MEMORY_KNOBS.map((k) => k.key)).toEqual(['memory.llcLatencyNs', 'memory.dramLatencyNs', 'memory.dramGBps', 'memory.ddio', 'memory.pageTables']);
    expect(RC_KNOBS.map((k) => k.key)).toEqual(['rc.readNs', 'rc.postedWriteNs', 'rc.writeLines']);
    expect(IOMMU_TIMING_KNOBS.map((k) => k.key)).toEqual(['iommu.clockMHz', 'iommu.iotlb.latencyCycles', 'iommu.pwc.latencyCycles', 'iommu.contextCache.latencyCycles', 'iommu.walker.latencyNs', 'iommu.walker.slots', 'iommu.walker.stepNs', 'iommu.invalidation.descriptorNs']);
  });

  it('their defaults are the resolved config\'s sections', () => {
    expect(specs.memory).toEqual({ llcLatencyNs: 16, dramLatencyNs: 70, dramGBps: 68.3, ddio: true, pageTables: 'llc' });
    expect(specs.rc).toEqual({ readNs: 252, postedWriteNs: 21.1, writeLines: 0 });
    expect(specs.pciebench.pciebench).toEqual({ contexts: 88, lineNs: 9, descriptorNs: 6 });
    expect(specs.vm).toEqual({ ramBytes: 4 * 1024 ** 3, s2PageBytes: 2 * 1024 ** 2 });
    expect(specs.timing.walker).toEqual({ latencyNs: 184, slots: 1, stepNs: 33 });
    expect(specs.nic).toEqual(NIC_DEFAULTS);
    expect(specs.gpu).toEqual(GPU_DEFAULTS);
    expect(Object.isFrozen(NIC_DEFAULTS.iova) && Object.isFrozen(GPU_DEFAULTS.pageable)).toBe(true);
  });
});

describe('RcSpec: the root complex from a hand-made slice', () => {
  it('gives the hand-computed write times; a bad value is refused once, by the resolver', () => {
    const mem = new MemoryTiming({ llcLatencyNs: 16, dramLatencyNs: 70, dramGBps: 64, ddio: true, pageTables: 'llc' });
    const rc = new RootComplex({ readNs: 100, postedWriteNs: 10, writeLines: 0 }, null as unknown as IommuTiming, mem, 1, 1);
    // a full 64 B line with DDIO: the write unit (10000 ps), then the LLC (16000)
    expect(rc.write(64, 0, 0, 0, 0, false, 0)).toBe(10_000 + 16_000);
    expect(rc.write(64, 64, 0, 0, 0, false, 0)).toBe(20_000 + 16_000); // the unit is serial
    expect(refused([['rc.postedWriteNs', -1]])).toBe('rc.postedWriteNs=-1: below the minimum 0 ns');
    expect(refused([['rc.writeLines', 2]])).toBe('rc.writeLines=2: smaller than one write TLP (256 B = up to 5 lines); use 0 (unlimited) or at least 5');
  });
});

describe('IommuSpec: the functional IOMMU from a hand-made slice', () => {
  it('seed, vm and the iommu knobs are all it reads: the same translations as from the whole config', () => {
    const whole = buildConfig([['iommu.mode', 'strict'], ['iommu.iotlb.entries', 8]]);
    const slice: IommuSpec = { seed: whole.seed, vm: { ...whole.vm }, iommu: JSON.parse(JSON.stringify(whole.iommu)) as Config['iommu'] };
    const run = (spec: Readonly<IommuSpec>) => {
      const iommu = new Iommu(spec);
      iommu.attach(0x0300, { domain: 0, translation: 'second', ats: false, drhd: 0, relaxedOrdering: false, idOrdering: false, atc: { entries: 64, ways: 64, policy: 'lru' } });
      expect(iommu.map(0x0300, -1, 0x40000, 0x5000, 64, PERM_RW)).toBe(true);
      const out: number[] = [];
      for (let k = 0; k < 200; k++) out.push(iommu.translate(0x0300, -1, 0x40000 + (k * 7) % 64, false));
      return { out, m: iommu.metrics() };
    };
    const a = run(whole), b = run(slice);
    expect(b).toEqual(a);
    expect(a.m.iotlb.misses).toBeGreaterThan(8); // 64 pages through an 8-entry IOTLB
  });

  it('a bad value is refused once, by the resolver, in the knob\'s or the geometry\'s one line', () => {
    expect(refused([['iommu.levels', 6]])).toBe('iommu.levels=6: above the maximum 5 levels');
    expect(refused([['iommu.iotlb.ways', 3]])).toBe('iommu.iotlb.ways=3: sets = entries (64) / ways must be a whole power of two; use one of 1, 2, 4, 8, 16, 32, 64');
    expect(refused([['vm.s2PageBytes', '8KiB']])).toBe('vm.s2PageBytes=8192: must be a page size; use 4KiB, 2MiB or 1GiB');
  });
});

describe('the NIC and GPU sections are their models\' specs, checked once by resolveConfig', () => {
  it('a resolved section equals what the raw-settings resolver makes of the same settings', () => {
    const settings: Array<[string, string | number | boolean]> = [['nic.model', 'mlx5'], ['nic.queues', 2], ['nic.bufferBytes', '4KiB'], ['gpu.chunkBytes', '4MiB'], ['gpu.pageable.stagingBytes', '8MiB']];
    const c = buildConfig(settings);
    const raw = Object.fromEntries(settings);
    expect(c.nic).toEqual(resolveNicConfig(raw));
    expect(c.gpu).toEqual(resolveGpuConfig(raw));
    expect(Object.isFrozen(c.nic.iova) && Object.isFrozen(c.gpu.uvm)).toBe(true);
  });

  it('the checks across knobs run in resolveConfig, with the resolvers\' one-line messages', () => {
    expect(refused([['nic.descriptorBytes', 24]])).toBe('nic.descriptorBytes=24: not a power of two; use 16 (Intel 82599) or 64 (ConnectX CQE)');
    expect(refused([['nic.model', 'mlx5'], ['nic.strideWqePages', 1], ['nic.bufferBytes', 9000]])).toBe('nic.strideWqePages=1: a WQE of 4096 B holds no stride of 12288 B (nic.bufferBytes=9000); use nic.strideWqePages ≥ 3 or a smaller nic.bufferBytes');
    expect(refused([['gpu.dmaBytes', 1000]])).toBe('gpu.dmaBytes=1000: must be a power of two (so no request crosses a 4 KiB page); use e.g. 256, 512, 1024 or 4096');
    expect(refused([['gpu.chunkBytes', 6144]])).toBe('gpu.chunkBytes=6144: must be a multiple of gpu.dmaBytes (4096); use e.g. 8192');
    expect(refused([['gpu.hostPageBytes', '8KiB']])).toBe('gpu.hostPageBytes=8192: must be a page size; use 4KiB, 2MiB or 1GiB');
    // the raw-settings resolvers give the same lines
    expect(() => resolveNicConfig({ 'nic.descriptorBytes': 24 })).toThrow(/^nic\.descriptorBytes=24: not a power of two; /);
    expect(() => resolveGpuConfig({ 'gpu.dmaBytes': 1000 })).toThrow(/^gpu\.dmaBytes=1000: must be a power of two /);
  });
});
