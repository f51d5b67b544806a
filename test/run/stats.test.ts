/**
 * A run result's `metrics` is declared once (src/run/stats.ts): a real run's metrics hold exactly
 * the composed table's statistics, in its order (the JSON key order), every element of a list
 * exactly its declared fields; every declared path is in docs/metrics.md and in a real result; the
 * derived per-4-KiB figures and the timed figures in the IOMMU's sections are their formulas.
 */
import { describe, it, expect, expectTypeOf } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolveInput, runResolved } from '../../src/run/inputs.js';
import { FUNCTIONAL_RESULT_STATS, TIMED_RESULT_STATS, type RunMetrics, type TimedRunMetrics, type RunStatColumn } from '../../src/run/stats.js';
import { IOMMU_STATS } from '../../src/iommu/stats.js';
import { TIMING_STATS, TIMED_IOMMU_STATS } from '../../src/sim/stats.js';
import { statRows, valueAt, type Stat, type Summary } from '../../src/util/stats.js';
import { metricRows, metricsMarkdown } from '../../src/cli/metrics.js';
import type { RunResult } from '../../src/run/result.js';

const WHOLE = new Set(['byName', 'records', 'summary', 'cdf', 'list']);
/** The result's leaves as dotted paths in JSON order; a statistic whose value is an object or list (byName, summary, list …) is one leaf. */
function leaves(o: unknown, prefix: string, whole: ReadonlySet<string>, out: string[] = []): string[] {
  if (typeof o === 'object' && o !== null && !Array.isArray(o) && !whole.has(prefix)) {
    for (const [k, v] of Object.entries(o)) leaves(v, prefix ? `${prefix}.${k}` : k, whole, out);
  } else out.push(prefix);
  return out;
}
const wholeOf = (stats: readonly Stat<never>[]) => new Set(stats.filter((s) => WHOLE.has(s.kind)).map((s) => s.path));

/** The table's paths in the order their leaves appear in the built object (a path under a parent declared earlier joins it there). */
function jsonOrder(stats: readonly Stat<never>[]): string[] {
  const order: string[] = [];
  const parents: string[] = [];
  for (const s of stats) {
    const seg = s.path.split('.');
    let at = order.length;
    for (let k = seg.length - 1; k >= 1; k--) {
      const parent = seg.slice(0, k).join('.') + '.';
      if (parents.includes(parent)) { at = order.map((p) => p.startsWith(parent)).lastIndexOf(true) + 1; break; }
    }
    order.splice(at, 0, s.path);
    for (let k = 1; k < seg.length; k++) parents.push(seg.slice(0, k).join('.') + '.');
  }
  return order;
}

const run = (name: string, functional: boolean, settings: Array<[string, string | number | boolean]> = []): RunResult => runResolved(resolveInput(name, settings)[0], functional);
const timed = run('nic-10g-tcp', false, [['workload.count', 600]]);
const functional = run('nic-10g-tcp', true, [['workload.count', 600]]);
const unmaps = run('nic-10g-memcached', false, [['workload.count', 600], ['iommu.mode', 'strict']]);

describe('a run result\'s metrics (src/run/stats.ts)', () => {
  it('a functional run holds the IOMMU\'s statistics and the run\'s, in table order; a timed run those and the timing model\'s', () => {
    const f = FUNCTIONAL_RESULT_STATS.stats, t = TIMED_RESULT_STATS.stats;
    expect(leaves(functional.metrics, '', wholeOf(f))).toEqual(f.map((s) => s.path));
    expect(leaves(timed.metrics, '', wholeOf(t))).toEqual(jsonOrder(t));
    // the two timed figures of the IOMMU's sections end their sections, the timing model's sections follow the run's
    expect(Object.keys(timed.metrics.iotlb).at(-1)).toBe('mergedMisses');
    expect(Object.keys(timed.metrics.walks).at(-1)).toBe('avgLatencyNs');
    expect(Object.keys(timed.metrics).slice(0, Object.keys(functional.metrics).length)).toEqual(Object.keys(functional.metrics));
    expect(t.map((s) => s.path)).toEqual([...f, ...TIMED_IOMMU_STATS.stats, ...TIMING_STATS.stats].map((s) => s.path));
    expect(f.slice(0, IOMMU_STATS.stats.length).map((s) => s.path)).toEqual(IOMMU_STATS.stats.map((s) => s.path));
  });

  it('every element of a list holds exactly its declared fields, in order', () => {
    for (const s of TIMED_RESULT_STATS.stats) {
      if (s.kind !== 'list') continue;
      const v = valueAt(timed.metrics, s.path) as object[];
      expect(v.length, s.path).toBeGreaterThan(0);
      for (const e of v) expect(leaves(e, '', wholeOf(s.fields)), s.path).toEqual(s.fields.map((q) => q.path));
    }
    expect(timed.metrics.devices!.map((d) => d.device)).toEqual(timed.workload.devices.filter((d) => d !== '*'));
  });

  it('every declared path is in a real result (a list\'s fields in its elements) and in docs/metrics.md', () => {
    const md = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    expect(md).toBe(metricsMarkdown());
    for (const { path, stat } of metricRows()) expect(md, path).toContain(`| \`${path}\` | ${stat.kind} | ${stat.unit.replace(/\|/g, '\\|')} | `);
    for (const { path } of statRows(TIMED_RESULT_STATS.stats)) {
      const [list, field] = path.split('[].');
      const v = valueAt(timed.metrics, list);
      expect(v, path).toBeDefined();
      if (field !== undefined) expect((v as object[]).every((e) => valueAt(e, field) !== undefined), path).toBe(true);
    }
    expect(metricRows().filter((r) => r.section !== 'Interrupt remapping' && r.section !== 'Posted interrupts').map((r) => r.path)).toEqual(statRows(TIMED_RESULT_STATS.stats).map((r) => r.path));
  });

  it('per4KiB: the counts over the data DMAs\' bytes ÷ 4096, rounded to 4 decimals (units to 3)', () => {
    for (const r of [timed, functional, unmaps]) {
      const m = r.metrics;
      const data = m.byKind.find((k) => k.kind === 'data')!;
      const units = data.bytes / 4096;
      const r4 = (x: number) => Math.round((x / units) * 1e4) / 1e4;
      expect(units).toBeGreaterThan(0);
      expect(m.per4KiB.units).toBe(Math.round(units * 1000) / 1000);
      expect(m.per4KiB.iotlbMisses).toBe(r4(m.iotlb.misses));
      expect(m.per4KiB.memReads).toBe(r4(m.walks.memReads));
      expect(m.per4KiB.pwcMisses).toEqual({ pml4e: r4(m.walks.readsByLevel.pml4e), pdpte: r4(m.walks.readsByLevel.pdpte), pde: r4(m.walks.readsByLevel.pde) });
      expect(m.byKind.reduce((a, k) => a + k.requests, 0)).toBe(m.dma.requests);
      expect(m.byKind.reduce((a, k) => a + k.misses, 0)).toBe(m.iotlb.misses);
    }
  });

  it('the timed figures: in ns from ps (3 decimals), the IOMMU sections\' two equal the timing model\'s', () => {
    const m = timed.metrics;
    expect(m.iotlb.mergedMisses).toBe(m.iommuTiming!.mergedMisses);
    expect(m.walks.avgLatencyNs).toBe(m.iommuTiming!.walkLatencyNs.mean);
    expect(m.walks.avgLatencyNs).toBeGreaterThan(0);
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    expect(m.throughputGbps).toBe(r3((m.devices!.reduce((a, d) => a + d.bytes, 0) * 8) / m.simulatedTimeNs!));
    expect(unmaps.metrics.unmapGate!.gatedRecords).toBeGreaterThanOrEqual(0);
    expect(functional.metrics.throughputGbps).toBeUndefined();
    expect(functional.metrics.iotlb.mergedMisses).toBeUndefined();
  });

  it('RunMetrics is the tables\' type: the timed figures optional, the columns a report may use typed (tsc -p tsconfig.test.json)', () => {
    expectTypeOf<RunMetrics['dma']['pieces']>().toEqualTypeOf<number>();
    expectTypeOf<RunMetrics['iotlb']['mergedMisses']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<RunMetrics['latencyNs']>().toEqualTypeOf<Summary | undefined>();
    expectTypeOf<TimedRunMetrics['iommuTiming']['walkStage'][number]>().toEqualTypeOf<{ unit: number; walks: number; busyNs: number; utilisation: number }>();
    expectTypeOf<TimedRunMetrics['byKind'][number]['kind']>().toEqualTypeOf<'data' | 'desc' | 'cqe' | 'doorbell' | 'ack'>();
    expectTypeOf<'latencyNs.p99'>().toMatchTypeOf<RunStatColumn>();
    expectTypeOf<'iotlb.mergedMisses'>().toMatchTypeOf<RunStatColumn>();
  });
});
