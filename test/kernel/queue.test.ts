import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { EventQueue, Clock, ps } from '../../src/kernel/queue.js';
import { Histogram } from '../../src/kernel/stats.js';

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
  /**
   * Pushes (kind, time ahead of now) and pops interleaved; the reference keeps every pending event
   * and takes the least (time, rank of kind, insertion number), as one binary heap would.
   */
  type QueueOp = { pop: boolean; kind: number; dt: number };
  const queueOps = (maxDt: number, maxLength: number) => fc.array(fc.record({ pop: fc.boolean(), kind: fc.integer({ min: 0, max: 15 }), dt: fc.integer({ min: 0, max: maxDt }) }), { maxLength });
  function againstReference(q: EventQueue, ops: QueueOp[], rank: (kind: number) => number): void {
    const ref: Array<[number, number, number, number]> = []; // time, seq, kind, arg
    let seq = 0, now = 0;
    const popBoth = (): void => {
      ref.sort((x, y) => x[0] - y[0] || rank(x[2]) - rank(y[2]) || x[1] - y[1]);
      const [t, , k, a] = ref.shift()!;
      expect(q.pop()).toBe(true);
      expect([q.now, q.kind, q.arg]).toEqual([t, k, a]);
      now = t;
    };
    for (const o of ops) {
      if (o.pop && ref.length > 0) { popBoth(); continue; }
      const t = now + o.dt;
      q.push(t, o.kind, seq);
      ref.push([t, seq, o.kind, seq]);
      seq++;
    }
    expect(q.size).toBe(ref.length);
    while (ref.length > 0) popBoth();
    expect(q.pop()).toBe(false);
  }
  it('several kinds, pushes in and out of each kind\'s time order, interleaved with pops: (time, insertion) order (property)', () => {
    fc.assert(fc.property(queueOps(20, 600), (ops) => againstReference(new EventQueue(2), ops, () => 0)), { numRuns: 200, seed: 5 });
  });
  it('with ranks: (time, rank of kind, insertion) order, pushes in and out of time order interleaved with pops (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 16, maxLength: 16 }),
      queueOps(6, 500),
      (ranks, ops) => againstReference(new EventQueue(2, ranks), ops, (k) => ranks[k]),
    ), { numRuns: 200, seed: 9 });
  });
  it('ranks: a lower-ranked kind pushed later still goes first at the same time; bad ranks are refused', () => {
    const q = new EventQueue(4, [0, 2, 1]);
    q.push(5, 1, 10); q.push(5, 2, 20); q.push(5, 0, 30);
    const out: number[] = [];
    while (q.pop()) out.push(q.arg);
    expect(out).toEqual([30, 20, 10]);
    expect(() => new EventQueue(4, [0, 1.5])).toThrow(/rank of kind 1 must be an integer 0\.\.255, got 1\.5/);
    expect(() => new EventQueue(4, [256])).toThrow(/rank of kind 0/);
  });
  it('a lane grows past its first 256 slots and keeps its order (ring wrapped first)', () => {
    const q = new EventQueue(4);
    // wrap the kind-3 lane's ring: 200 in, 150 out, then 1000 more in time order (grows twice)
    for (let i = 0; i < 200; i++) q.push(i, 3, i);
    for (let i = 0; i < 150; i++) { q.pop(); expect(q.arg).toBe(i); }
    for (let i = 200; i < 1200; i++) q.push(i, 3, i);
    q.push(1199, 5, 99999); // another kind at the same time as the last: later insertion, later pop
    expect(q.size).toBe(1051);
    for (let i = 150; i < 1200; i++) { expect(q.pop()).toBe(true); expect([q.now, q.kind, q.arg]).toEqual([i, 3, i]); }
    expect(q.pop() && [q.now, q.kind, q.arg]).toEqual([1199, 5, 99999]);
    expect(q.pop()).toBe(false);
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
  it('clock alignment is exact for any integral time below 2^53 (BigInt reference)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 100_000 }), fc.bigInt({ min: 0n, max: 2n ** 53n - 200_001n }), (period, t) => {
      const c = new Clock(1e12 / period);
      const p = BigInt(c.periodPs);
      const want = ((t + p - 1n) / p) * p;
      return c.align(Number(t)) === Number(want);
    }), { numRuns: 3000, seed: 3 });
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
  it('merge: the same as recording both sets in one; a different bucket layout is refused', () => {
    const a = new Histogram(), b = new Histogram(), both = new Histogram();
    [3, 7, 1000, 2 ** 35].forEach((v) => { a.record(v); both.record(v); });
    [1, 7, 65536].forEach((v) => { b.record(v); both.record(v); });
    a.merge(b);
    expect([a.count, a.sum, a.min, a.max]).toEqual([7, 3 + 7 + 1000 + 2 ** 35 + 1 + 7 + 65536, 1, 2 ** 35]);
    expect(a.summary()).toEqual(both.summary());
    expect(a.cdf()).toEqual(both.cdf());
    expect(() => a.merge(new Histogram(20))).toThrow(/different maxOctaves/);
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
