import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { EventQueue, Clock, ps } from '../../src/sim/queue.js';
import { Histogram } from '../../src/sim/stats.js';

describe('event queue', () => {
  it('pops in time order, ties in insertion order (property)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 400 }), (times) => {
      const q = new EventQueue(2);
      times.forEach((t, i) => q.push(t, 1, i));
      const out: Array<[number, number]> = [];
      while (q.pop()) out.push([q.now, q.arg]);
      const expected = times.map((t, i) => [t, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      expect(out).toEqual(expected);
    }), { numRuns: 200, seed: 3 });
  });
  it('interleaved pushes and pops; kind and arg survive packing', () => {
    const q = new EventQueue(1);
    q.push(10, 7, 123456); q.push(5, 1, 2);
    expect(q.pop()).toBe(true);
    expect([q.now, q.kind, q.arg]).toEqual([5, 1, 2]);
    q.push(7, 3, 0x7ffffff);
    expect(q.pop() && [q.now, q.kind, q.arg]).toEqual([7, 3, 0x7ffffff]);
    expect(q.pop() && [q.now, q.kind, q.arg]).toEqual([10, 7, 123456]);
    expect(q.pop()).toBe(false);
    expect(q.handled).toBe(3);
  });
  it('clock domains: cycles and edge alignment in integer ps', () => {
    const c = new Clock(2.4e9);
    expect(c.periodPs).toBe(417);
    expect(c.cycles(3)).toBe(1251);
    expect(c.align(0)).toBe(0);
    expect(c.align(1)).toBe(417);
    expect(c.align(834)).toBe(834);
    expect(ps(1.2345)).toBe(1235);
  });
});

describe('histogram', () => {
  it('exact count, sum, min, max; percentiles within the 1/32 bucket width', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100000; v++) h.record(v);
    expect(h.count).toBe(100000);
    expect(h.min).toBe(1);
    expect(h.max).toBe(100000);
    expect(h.mean()).toBeCloseTo(50000.5, 6);
    for (const q of [0.5, 0.9, 0.99]) expect(Math.abs(h.quantile(q) / (q * 100000) - 1)).toBeLessThan(1 / 32);
  });
  it('small integers are exact; values above 2^32 work', () => {
    const h = new Histogram();
    [3, 3, 3, 7].forEach((v) => h.record(v));
    expect(h.quantile(0.5)).toBe(3);
    expect(h.quantile(1)).toBe(7);
    const g = new Histogram();
    g.record(2 ** 40);
    expect(Math.abs(g.quantile(0.5) / 2 ** 40 - 1)).toBeLessThan(1 / 32);
    const cdf = h.cdf();
    expect(cdf[cdf.length - 1][1]).toBe(1);
  });
});
