/** statTable: a table is checked when declared, and builds its nested object in table order. */
import { describe, it, expect } from 'vitest';
import { statTable, valueAt, type Stat } from '../../src/util/stats.js';

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
