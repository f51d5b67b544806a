/** The struct-of-arrays helpers of src/util/typed.ts on small hand-checked cases. */
import { describe, it, expect } from 'vitest';
import { allocColumnArrays, columnNames, growFields, growTyped, SlotPool } from '../../src/util/typed.js';

const SPEC = { a: Float64Array, b: Uint8Array, c: Int32Array } as const;

describe('typed-array helpers', () => {
  it('growTyped keeps the type and the contents, zeroes the rest', () => {
    const g = growTyped(Int32Array.of(-1, 2), 4);
    expect(g).toBeInstanceOf(Int32Array);
    expect([...g]).toEqual([-1, 2, 0, 0]);
  });

  it('a column list: names in order, one zeroed array a column added to the object given', () => {
    expect(columnNames(SPEC)).toEqual(['a', 'b', 'c']);
    const t = allocColumnArrays(SPEC, 3, { count: 0 });
    expect(Object.keys(t)).toEqual(['count', 'a', 'b', 'c']);
    expect(t.a).toBeInstanceOf(Float64Array);
    expect(t.b).toBeInstanceOf(Uint8Array);
    expect(t.c).toBeInstanceOf(Int32Array);
    expect([t.a.length, t.b.length, t.c.length]).toEqual([3, 3, 3]);
    expect([...t.c]).toEqual([0, 0, 0]);
  });

  it('growFields grows the fields named, in place, contents kept; the others untouched', () => {
    const t = allocColumnArrays(SPEC, 2, {});
    t.a[1] = 1.5; t.b[0] = 255; t.c[1] = -7;
    const c = t.c;
    growFields(t, ['a', 'b'], 5);
    expect([...t.a]).toEqual([0, 1.5, 0, 0, 0]);
    expect([...t.b]).toEqual([255, 0, 0, 0, 0]);
    expect(t.c).toBe(c);
  });

  it('a slot pool hands out the lowest free slot, reuses freed ones, and doubles its columns when full', () => {
    const o = { x: new Float64Array(0), y: new Uint16Array(0) };
    const pool = new SlotPool(o, ['x', 'y']);
    pool.grow(2);
    expect([pool.cap, o.x.length, o.y.length]).toEqual([2, 2, 2]);
    expect(pool.take()).toBe(0);
    expect(pool.take()).toBe(1);
    o.x[1] = 3; o.y[1] = 4;
    expect(pool.take()).toBe(2); // full: 2 → 4 slots, the new ones 2 and 3
    expect([pool.cap, o.x.length, o.y.length]).toEqual([4, 4, 4]);
    expect([o.x[1], o.y[1]]).toEqual([3, 4]);
    pool.give(1);
    expect(pool.take()).toBe(1);
    expect(pool.take()).toBe(3);
    expect(pool.take()).toBe(4); // 4 → 8
    expect(pool.cap).toBe(8);
  });
});
