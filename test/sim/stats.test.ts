/**
 * The timing model's statistics are declared once (src/sim/stats.ts): TimedSystem.metrics() holds
 * exactly the table's statistics in its order, each list element its declared fields; the
 * picosecond figures are read in nanoseconds rounded to 3 decimals and the rates are their
 * formulas (hand-computed on a view with chosen counters).
 */
import { describe, it, expect } from 'vitest';
import { buildConfig } from '../../src/config/config.js';
import { pciebenchSystem } from '../../src/run/timed.js';
import { TIMING_STATS, TIMED_IOMMU_STATS, type TimingMetrics } from '../../src/sim/stats.js';
import { valueAt } from '../../src/util/stats.js';

const sys = pciebenchSystem(buildConfig([['workload.kind', 'pciebench'], ['workload.count', 200], ['workload.window', 1 << 24]]), true);
const r3 = (x: number) => Math.round(x * 1000) / 1000;

describe('the timing model\'s statistics (src/sim/stats.ts)', () => {
  it('TimedSystem.metrics() is the table: its statistics, in its order, each list element its fields', () => {
    const m = sys.metrics();
    const top = [...new Set(TIMING_STATS.stats.map((s) => s.path.split('.')[0]))];
    expect(Object.keys(m)).toEqual(top);
    for (const s of TIMING_STATS.stats) {
      const v = valueAt(m, s.path);
      expect(v, s.path).toBeDefined();
      if (s.kind === 'list') for (const e of v as object[]) expect(Object.keys(e), s.path).toEqual(s.fields.map((f) => f.path));
      if (s.kind === 'summary') expect(Object.keys(v as object).sort(), s.path).toEqual(['count', 'max', 'mean', 'min', 'p50', 'p90', 'p99']);
    }
    expect(m.devices.map((d) => d.device)).toEqual(sys.devNames.filter((n) => n !== '*'));
    expect(m.iommuTiming.walkStage.length).toBe(sys.iommuT.units);
  });

  it('the ps figures are ns rounded to 3 decimals; rates are their formulas (hand-computed)', () => {
    const v = sys.statView();
    const m = TIMING_STATS.build({ ...v, spanPs: 2_000_500, doneBytes: 1000, doneRequests: 3, gatedRecords: 2, gateWaitPs: 1_234_567.4 }) as TimingMetrics;
    expect(m.simulatedTimeNs).toBe(2000.5);
    expect(m.throughputGbps).toBe(3.999); // 8000 bits over 2000.5 ns = 3.99900025 Gbit/s
    expect(m.requestsPerSec).toBe(1499625); // 3 over 2.0005 µs = 1,499,625.09 /s
    expect(m.unmapGate).toEqual({ gatedRecords: 2, waitNs: 1234.567 });
    const zero = TIMING_STATS.build({ ...v, spanPs: 0 }) as TimingMetrics;
    expect([zero.throughputGbps, zero.requestsPerSec, zero.pcie.upUtilisation, zero.writeUnit.utilisation, zero.iommuTiming.walkStage[0].utilisation]).toEqual([0, 0, 0, 0, 0]);
  });

  it('on the real run: each figure is its counter converted', () => {
    const v = sys.statView();
    const m = sys.metrics();
    const up = v.links.reduce((a, l) => a + l.upBytes, 0);
    expect(m.simulatedTimeNs).toBe(r3(v.spanPs / 1000));
    expect(m.pcie.wireBytes.up).toBe(Math.round(up));
    expect(m.pcie.upGbps).toBe(r3((up * 8) / (v.spanPs / 1000)));
    expect(m.iommuTiming.walkerWaitNs).toBe(r3(sys.iommuT.walkerWaitPs / 1000));
    expect(m.iommuTiming.walkStage[0].busyNs).toBe(r3(sys.iommuT.stageBusyPs[0] / 1000));
    expect(m.writeUnit.writes).toBe(Math.round(sys.rc.writeUnitBusyPs / sys.rc.writePs));
    expect(m.latencyNs).toEqual(sys.latency.summary(1000));
    expect(m.latencyCdfNs).toEqual(sys.latency.cdf(1000));
    expect(m.requestsPerSec).toBeGreaterThan(0);
    const extra = TIMED_IOMMU_STATS.build(v) as { iotlb: { mergedMisses: number }; walks: { avgLatencyNs: number } };
    expect(extra.walks.avgLatencyNs).toBe(m.iommuTiming.walkLatencyNs.mean);
    expect(extra.iotlb.mergedMisses).toBe(m.iommuTiming.mergedMisses);
  });
});
