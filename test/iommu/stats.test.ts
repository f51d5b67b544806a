/**
 * The IOMMU's statistics are declared once (src/iommu/stats.ts): every declared statistic is in
 * metrics() at its path, with a value of its kind; the result holds nothing undeclared, in the
 * table's order; ratios follow their formula; docs/metrics.md is the table's and current; the
 * IommuMetrics type is the table's.
 */
import { describe, it, expect, expectTypeOf } from 'vitest';
import { readFileSync } from 'node:fs';
import { setup, NIC, NIC2, GPU } from './helpers.js';
import { PERM_R, PERM_RW } from '../../src/iommu/pagetable.js';
import { Iommu, type IommuMetrics } from '../../src/iommu/iommu.js';
import { IOMMU_STATS, PWC_NAMES, type IommuStatPath } from '../../src/iommu/stats.js';
import { valueAt, type Stat } from '../../src/util/stats.js';
import { metricsMarkdown } from '../../src/cli/metrics.js';

/** An IOMMU that has counted a bit of everything: walks, superpages, nested walks, PASIDs, ATS, faults, invalidations, lazy flushes. */
function busy(settings: Array<[string, string | number | boolean]> = []): Iommu {
  const { iommu, attach } = setup([
    ['devices.01:00.0.translation', 'nested'], ['devices.03:00.1.ats', true], ['iommu.flushQueue.entries', 2], ['iommu.iotlb.entries', 4], ['iommu.iotlb.2m.entries', 1], ...settings,
  ]);
  attach(NIC); attach(NIC2); attach(GPU);
  iommu.map(NIC, -1, 0, 0x4000, 1024, PERM_RW); // 2 MiB leaves
  iommu.map(NIC, -1, 5000, 0x9000, 3, PERM_R);
  iommu.map(NIC, -1, 5000, 0x9000, 1, PERM_R); // a double map: fails
  iommu.map(NIC2, -1, 10, 100, 4, PERM_RW);
  iommu.map(GPU, -1, 20, 200, 4, PERM_RW);
  iommu.map(0x0600, -1, 0, 1, 1, PERM_RW); // a device never attached: ignored
  for (let p = 0; p < 8; p++) {
    iommu.translate(NIC, -1, p * 100, false);
    iommu.translate(NIC2, -1, 10 + (p & 3), true);
    iommu.translate(GPU, -1, 20 + (p & 3), false);
  }
  iommu.translate(NIC, -1, 5001, true); // write to a read-only page: a fault
  iommu.translate(NIC, -1, 99999, false); // not present: a fault
  iommu.translate(0x0500, -1, 0, false); // no root entry (bus 5): a fault
  iommu.unmap(NIC, -1, 5000, 3);
  iommu.unmap(NIC2, -1, 10, 4);
  iommu.unmap(NIC, -1, 0, 1024);
  iommu.advance(1e9);
  iommu.invalidateContext(-1);
  iommu.drain();
  return iommu;
}

const isRatio = (s: Stat<never>): s is Extract<Stat<never>, { kind: 'ratio' }> => s.kind === 'ratio';

/** The result's leaves as dotted paths, in JSON order; a byName map and a records list are one leaf each. */
function leaves(o: unknown, prefix: string, whole: ReadonlySet<string>, out: string[] = []): string[] {
  if (typeof o === 'object' && o !== null && !Array.isArray(o) && !whole.has(prefix)) {
    for (const [k, v] of Object.entries(o)) leaves(v, prefix ? `${prefix}.${k}` : k, whole, out);
  } else out.push(prefix);
  return out;
}

describe('the IOMMU statistics table (src/iommu/stats.ts)', () => {
  const stats = IOMMU_STATS.stats;

  it('every declared statistic is in metrics() at its path, a value of its kind, with a unit and a description', () => {
    const m = busy().metrics();
    for (const s of stats) {
      const v = valueAt(m, s.path);
      expect(s.unit.trim(), `${s.path}: unit`).not.toBe('');
      expect(s.desc.length, `${s.path}: description`).toBeGreaterThan(10);
      if (s.kind === 'flag') expect(typeof v, s.path).toBe('boolean');
      else if (s.kind === 'byName') {
        expect(typeof v === 'object' && v !== null && !Array.isArray(v), s.path).toBe(true);
        for (const n of Object.values(v as object)) expect(n, s.path).toBeGreaterThan(0);
      } else if (s.kind === 'records') expect(Array.isArray(v), s.path).toBe(true);
      else {
        expect(typeof v, s.path).toBe('number');
        expect(Number.isFinite(v), s.path).toBe(true);
      }
    }
  });

  it('the result holds the declared statistics only, in the table\'s order (the JSON key order)', () => {
    for (const settings of [[], [['iommu.levels', 5]], [['iommu.mode', 'strict'], ['iommu.pwc.pdpte.enabled', false]]] as Array<Array<[string, string | number | boolean]>>) {
      const whole = new Set(stats.filter((s) => s.kind === 'byName' || s.kind === 'records').map((s) => s.path));
      expect(leaves(busy(settings).metrics(), '', whole)).toEqual(stats.map((s) => s.path));
    }
  });

  it('the scenario counts something in nearly every statistic (so the checks above see real values)', () => {
    const m = busy().metrics();
    const zero = stats.filter((s) => s.kind === 'count' && valueAt(m, s.path) === 0).map((s) => s.path);
    // pml5e only with 5-level tables; 1 GiB leaves, PASID-cache and device-TLB/PWC invalidation not exercised here
    expect(zero.filter((p) => !/pml5e|byPageSize\.1g|invalidations\.(devtlb|pasid)|flushQueueTimeouts|pwcEntriesDropped|mapping\.tablesFreed/.test(p))).toEqual([]);
    expect(m.faults.count).toBe(3);
    expect(m.atc.hits).toBeGreaterThan(0);
    expect(m.iotlb.nestedS2.lookups).toBeGreaterThan(0);
  });

  it('ratios are their formula over the figures declared before them, 0 when the denominator is 0', () => {
    const ratios = stats.filter(isRatio);
    expect(ratios.map((s) => s.path)).toEqual(['iotlb.hitRate', 'walks.readsPerWalk']);
    const m = busy().metrics();
    for (const s of ratios) {
      expect(typeof s.den, s.path).toBe('string'); // the IOMMU's ratios divide by one figure
      const dp = String(s.den);
      const den = valueAt(m, dp) as number;
      expect(den, dp).toBeGreaterThan(0);
      expect(valueAt(m, s.path), s.path).toBe((valueAt(m, s.num) as number) / den);
      expect(stats.findIndex((q) => q.path === s.num)).toBeLessThan(stats.indexOf(s));
      expect(stats.findIndex((q) => q.path === dp)).toBeLessThan(stats.indexOf(s));
    }
    const idle = setup().iommu.metrics();
    for (const s of ratios) expect(valueAt(idle, s.path), s.path).toBe(0);
  });

  it('the accessors read the counters: a disabled or absent cache reads 0 and off; fault records stop at Iommu.MAX_FAULT_RECORDS', () => {
    const m = busy([['iommu.pwc.pdpte.enabled', false]]).metrics();
    expect(m.pwc.pdpte).toEqual({ hits: 0, misses: 0, entries: 0, enabled: false });
    expect(m.pwc.pml5e.enabled).toBe(false);
    expect(Object.keys(m.pwc)).toEqual([...PWC_NAMES]);
    expect(m.faults.byReason).toEqual({ rootNotPresent: 1, writeToReadOnly: 1, notPresent: 1 });
    expect(m.faults.first.map((f) => f.reason)).toEqual(['writeToReadOnly', 'notPresent', 'rootNotPresent']);
    const { iommu } = setup();
    for (let i = 0; i < Iommu.MAX_FAULT_RECORDS + 5; i++) iommu.translate(0x0500, -1, i, false);
    expect(iommu.metrics().faults.first.length).toBe(Iommu.MAX_FAULT_RECORDS);
    expect(stats.find((s) => s.path === 'faults.first')!.desc).toContain(`first ${Iommu.MAX_FAULT_RECORDS} faults`);
  });

  it('docs/metrics.md is generated from the table (`iommusim metrics --markdown`) and current', () => {
    const md = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    expect(md).toBe(metricsMarkdown());
    for (const s of stats) expect(md, s.path).toContain(`| \`${s.path}\` | ${s.kind} | ${s.unit} | `);
  });

  it('IommuMetrics is the table\'s type (checked by tsc -p tsconfig.test.json)', () => {
    expectTypeOf<IommuMetrics['iotlb']['hitRate']>().toEqualTypeOf<number>();
    expectTypeOf<IommuMetrics['pwc']['pml5e']>().toEqualTypeOf<{ hits: number; misses: number; entries: number; enabled: boolean }>();
    expectTypeOf<IommuMetrics['iotlb']['byPageSize']>().toHaveProperty('2m');
    expectTypeOf<IommuMetrics['faults']['byReason']>().toEqualTypeOf<Record<string, number>>();
    expectTypeOf<IommuMetrics['faults']['first'][number]['iova']>().toEqualTypeOf<string>();
    expectTypeOf<'walks.readsByLevel.pml4e'>().toExtend<IommuStatPath>();
    expectTypeOf<'walks.readsByLevel.pte5'>().not.toExtend<IommuStatPath>();
    expectTypeOf<keyof IommuMetrics>().toEqualTypeOf<'translations' | 'iotlb' | 'pwc' | 'walks' | 'contextCache' | 'pasidCache' | 'atc' | 'invalidations' | 'mapping' | 'faults'>();
  });
});
