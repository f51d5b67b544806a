/** Page-fault flows, step by step (hand-computed from the knobs' defaults). */
import { describe, it, expect } from 'vitest';
import { odpFault, priFaultInVm, FAULT_KNOBS } from '../../src/virt/faults.js';
import { PROBES } from '../../src/virt/probes.js';
import { buildConfig } from '../../src/config/config.js';

describe('ODP: a network page fault', () => {
  it('4 KiB, host IOMMU in pass-through: event 2 + interrupt 0.5 + wake-up 10 + parse 3 + one page 0.25 + UMR 5 (+ 8 B at the link) + resume 50 + retry 2 µs', () => {
    const f = odpFault(buildConfig([['iommu.mode', 'identity']]), 4096);
    expect(f.steps).toHaveLength(9);
    const link = 8 / ((8 * (128 / 130) * 8 * 1000) / 8); // Gen3 x8: bytes per µs
    expect(f.totalUs).toBeCloseTo(2 + 1200 / 2400 + 10 + 3 + 0.25 + 0 + 5 + link + 50 + 2, 6);
  });
  it('a 4 MiB message resolves and maps its 1,024 pages in the one fault; with the IOMMU translating, each page is also DMA-mapped', () => {
    const pt = odpFault(buildConfig([['iommu.mode', 'identity']]), 4 * 1024 ** 2);
    const small = odpFault(buildConfig([['iommu.mode', 'identity']]), 4096);
    const link = (8 * 1023) / ((8 * (128 / 130) * 8 * 1000) / 8);
    expect(pt.totalUs - small.totalUs).toBeCloseTo(1023 * 0.25 + link, 6);
    const mapped = odpFault(buildConfig([['iommu.mode', 'strict']]), 4 * 1024 ** 2);
    expect(mapped.totalUs - pt.totalUs).toBeCloseTo(1024 * (400 / 2400), 6);
  });
  it('deep idle states add their exit to the wake-up; a major fault adds the storage read', () => {
    const base = odpFault(buildConfig([['iommu.mode', 'identity']]), 4096).totalUs;
    expect(odpFault(buildConfig([['iommu.mode', 'identity'], ['fault.idleExitUs', 133]]), 4096).totalUs - base).toBeCloseTo(133, 6);
    expect(odpFault(buildConfig([['iommu.mode', 'identity'], ['fault.majorFaultUs', 90]]), 4096).totalUs - base).toBeCloseTo(90, 6);
  });
});

describe('PRI: an I/O page fault of a passthrough device in a guest', () => {
  it('eleven steps: two ATS round trips, the page request, the IOMMU\'s queue, four wake-ups, the VMM twice, the guest\'s handler, the response', () => {
    const f = priFaultInVm(buildConfig([]));
    expect(f.steps).toHaveLength(11);
    const ats = 2 * 0.115 + (252 + 184) / 1000;
    const us = (c: number) => c / 2400;
    const expected = ats + 0.115 + 1 + (us(1200) + 10) + (2 + 10) + (3 + us(3102)) + (us(1200) + 20) + 1.7 + (us(6732) + 3) + (2 + 0.115) + ats;
    expect(f.totalUs).toBeCloseTo(expected, 5);
    // a slower VM exit shows in the response step only
    expect(priFaultInVm(buildConfig([['virt.exit.userIoCycles', 6732 + 2400]])).totalUs - f.totalUs).toBeCloseTo(1, 6);
  });
  it('lies within the only bound published for a PRI fault: ~3× to ~80× a CPU page fault (Wang et al., OSDI 2025 §1)', () => {
    const cpu = 1.7; // fault.minorFaultUs (Vesely et al.)
    const f = priFaultInVm(buildConfig([]));
    expect(f.totalUs).toBeGreaterThan(3 * cpu);
    expect(f.totalUs).toBeLessThan(80 * cpu);
  });
  it('the fault-latency probe gives both flows; every fault knob is sourced and checked', () => {
    const p = PROBES['fault-latency'](buildConfig([['workload.size', '4KiB']]));
    expect(Object.keys(p).sort()).toEqual(['odpUs', 'priVmUs']);
    expect(p.priVmUs).toBe(priFaultInVm(buildConfig([])).totalUs);
    for (const k of FAULT_KNOBS) { expect(k.source.length).toBeGreaterThan(20); expect(k.unit).toBeDefined(); }
    expect(() => buildConfig([['fault.wakeUs', -1]])).toThrow(/^fault\.wakeUs=-1: below the minimum 0 µs/);
  });
});
