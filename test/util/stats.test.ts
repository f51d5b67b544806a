/** statTable: a table is checked when declared, and builds its nested object in table order; conversions, distributions and lists as declared. */
import { describe, it, expect, expectTypeOf } from 'vitest';
import { statTable, valueAt, list, within, statRows, scaleText, ratioFormula, type Stat, type StatTree, type Summary, type Distribution } from '../../src/util/stats.js';

interface C { a: number; b: number; on: boolean }

describe('statTable (src/util/stats.ts)', () => {
  const ok: Stat<C>[] = [
    { path: 'x.a', kind: 'count', unit: 'events', desc: 'the a counter of C', read: (c) => c.a },
    { path: 'y', kind: 'flag', unit: 'on/off', desc: 'whether C is on', read: (c) => c.on },
    { path: 'x.b', kind: 'count', unit: 'events', desc: 'the b counter of C', read: (c) => c.b },
    { path: 'x.aPerB', kind: 'ratio', unit: 'events/event', desc: 'a per b of C', num: 'x.a', den: 'x.b' },
  ];

  it('builds the nested object in table order, a parent where its first child is', () => {
    const o = statTable(ok).build({ a: 3, b: 4, on: true });
    expect(JSON.stringify(o)).toBe('{"x":{"a":3,"b":4,"aPerB":0.75},"y":true}');
    expect(statTable(ok).build({ a: 3, b: 0, on: false })).toEqual({ x: { a: 3, b: 0, aPerB: 0 }, y: false });
    expect(valueAt(o, 'x.aPerB')).toBe(0.75);
    expect(valueAt(o, 'x.c')).toBeUndefined();
  });

  it('refuses a bad table when it is declared', () => {
    const c = ok[0];
    expect(() => statTable([c, { ...c }])).toThrow(/x\.a: declared twice/);
    expect(() => statTable([c, { ...c, path: 'x.a.b' }])).toThrow(/x\.a\.b: overlaps x\.a/);
    expect(() => statTable([{ ...c, path: 'x.a.b' }, c])).toThrow(/x\.a: overlaps x\.a\.b/);
    expect(() => statTable([{ ...c, unit: ' ' }])).toThrow(/x\.a: no unit/);
    expect(() => statTable([{ ...c, desc: '' }])).toThrow(/x\.a: no description/);
    expect(() => statTable([{ ...c, path: 'x..a' }])).toThrow(/not a dotted path/);
    expect(() => statTable([ok[3], ...ok.slice(0, 3)])).toThrow(/x\.aPerB: x\.a is not declared before it/);
    expect(() => statTable([...ok.slice(0, 3), { ...ok[3], den: 'y' } as Stat<C>])).toThrow(/x\.aPerB: y is not a number/);
  });
});

/** A distribution of fixed samples (in ps) standing in for a Histogram. */
function dist(samples: number[]): Distribution {
  const r = (x: number, scale: number) => Math.round((x / scale) * 1000) / 1000;
  return {
    summary: (scale) => ({ count: samples.length, mean: r(samples.reduce((a, b) => a + b, 0) / samples.length, scale), min: r(Math.min(...samples), scale), p50: 0, p90: 0, p99: 0, max: r(Math.max(...samples), scale) }),
    cdf: (scale) => samples.map((x, i) => [r(x, scale), (i + 1) / samples.length]),
  };
}

interface Dev { name: string; busyPs: number; spanPs: number }
interface Sys { spanPs: number; bytes: number; hits: number; misses: number; lat: Distribution; devs: Dev[] }

describe('statTable: conversions, summed denominators, distributions and lists', () => {
  const devFields = [
    { path: 'name', kind: 'label', unit: 'name', desc: 'the device\'s name', read: (d) => d.name },
    { path: 'busyNs', kind: 'count', unit: 'ns', desc: 'time the device was busy', read: (d) => d.busyPs, scale: 1000, digits: 3 },
    { path: 'utilisation', kind: 'level', unit: 'fraction', desc: 'busy time over the span', read: (d) => d.busyPs / d.spanPs, digits: 4 },
  ] as const satisfies readonly Stat<Dev>[];
  const table = [
    { path: 'timeNs', kind: 'level', unit: 'ns', desc: 'the span in ns', read: (s) => s.spanPs, scale: 1000, digits: 3 },
    { path: 'gbps', kind: 'level', unit: 'Gbit/s', desc: 'bytes × 8 over the span', read: (s) => (s.bytes * 8) / (s.spanPs / 1000), digits: 3 },
    { path: 'perSec', kind: 'level', unit: '1/s', desc: 'bytes per second, an integer', read: (s) => s.bytes / (s.spanPs / 1e12), digits: 0 },
    { path: 'c.hits', kind: 'count', unit: 'lookups', desc: 'cache hits of the system', read: (s) => s.hits },
    { path: 'c.misses', kind: 'count', unit: 'lookups', desc: 'cache misses of the system', read: (s) => s.misses },
    { path: 'c.hitRate', kind: 'ratio', unit: 'fraction', desc: 'hits over lookups', num: 'c.hits', den: ['c.hits', 'c.misses'] },
    { path: 'latNs', kind: 'summary', unit: 'ns', desc: 'latencies in ns', read: (s) => s.lat, scale: 1000 },
    { path: 'latCdfNs', kind: 'cdf', unit: 'ns', desc: 'latencies\' CDF in ns', read: (s) => s.lat, scale: 1000 },
    list({ path: 'devs', unit: 'devices', desc: 'per device of the system', items: (s: Sys) => s.devs.filter((d) => d.name !== '*'), fields: devFields }),
  ] as const satisfies readonly Stat<Sys>[];
  const sys: Sys = { spanPs: 2_000_500, bytes: 1000, hits: 1, misses: 2, lat: dist([1500, 2500]), devs: [{ name: 'a', busyPs: 1_234_567, spanPs: 3_000_000 }, { name: '*', busyPs: 0, spanPs: 1 }] };

  it('a number is read, divided by its scale and rounded to its digits (hand-computed)', () => {
    const o = statTable(table).build(sys);
    expect(o.timeNs).toBe(2000.5); // 2,000,500 ps
    expect(o.gbps).toBe(3.999); // 8000 bits / 2000.5 ns = 3.99900025
    expect(o.perSec).toBe(499875031); // 1000 B / 2.0005 µs = 499,875,031.24 B/s
    expect(valueAt(o, 'c.hitRate')).toBe(1 / 3); // hits / (hits + misses)
    expect(o.latNs).toEqual({ count: 2, mean: 2, min: 1.5, p50: 0, p90: 0, p99: 0, max: 2.5 });
    expect(o.latCdfNs).toEqual([[1.5, 0.5], [2.5, 1]]);
    expect(o.devs).toEqual([{ name: 'a', busyNs: 1234.567, utilisation: 0.4115 }]); // 1,234,567 / 3,000,000 = 0.41152…
    expect(JSON.stringify(Object.keys(o))).toBe('["timeNs","gbps","perSec","c","latNs","latCdfNs","devs"]');
  });

  it('a summed denominator of 0 gives 0; the type follows each kind', () => {
    const o = statTable(table).build({ ...sys, hits: 0, misses: 0 });
    expect(valueAt(o, 'c.hitRate')).toBe(0);
    type T = StatTree<typeof table>;
    expectTypeOf<T['latNs']>().toEqualTypeOf<Summary>();
    expectTypeOf<T['latCdfNs']>().toEqualTypeOf<Array<[number, number]>>();
    expectTypeOf<T['devs'][number]>().toEqualTypeOf<{ name: 'a' | string; busyNs: number; utilisation: number }>();
    expectTypeOf<T['c']['hitRate']>().toEqualTypeOf<number>();
  });

  it('within() reads a component\'s table from a whole that holds it; statRows lists a list\'s fields', () => {
    const whole = statTable(within<Sys, { sys: Sys }>(table, (w) => w.sys));
    expect(whole.build({ sys })).toEqual(statTable(table).build(sys));
    expect(statRows(table).map((r) => r.path)).toEqual(['timeNs', 'gbps', 'perSec', 'c.hits', 'c.misses', 'c.hitRate', 'latNs', 'latCdfNs', 'devs', 'devs[].name', 'devs[].busyNs', 'devs[].utilisation']);
    expect(scaleText(table[0])).toBe('÷ 1000, rounded to 3 decimals');
    expect(scaleText(table[2])).toBe('rounded to an integer');
    expect(scaleText(table[6])).toBe('samples ÷ 1000, rounded to 3 decimals');
    expect(ratioFormula(table[5])).toBe('c.hits / (c.hits + c.misses) (0 when (c.hits + c.misses) is 0)');
  });

  it('refuses bad conversions, a summed denominator not declared before, and a bad list of fields', () => {
    const t0 = table[0];
    expect(() => statTable<Sys>([{ ...t0, scale: 0 }])).toThrow(/timeNs: bad scale or digits/);
    expect(() => statTable<Sys>([{ ...t0, digits: 1.5 }])).toThrow(/timeNs: bad scale or digits/);
    expect(() => statTable<Sys>([{ ...table[6], scale: -1 }])).toThrow(/latNs: bad scale/);
    expect(() => statTable<Sys>([table[3], table[5]])).toThrow(/c\.hitRate: c\.misses is not declared before it/);
    expect(() => statTable<Sys>([list({ path: 'devs', unit: 'devices', desc: 'per device of the system', items: (s: Sys) => s.devs, fields: [devFields[0], devFields[0]] })])).toThrow(/devs\[\]: statistic name: declared twice/);
  });
});
