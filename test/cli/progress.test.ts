/** The progress line of a long streamed run (src/cli/progress.ts): on a terminal only, chunks untouched, cleared at the end. */
import { describe, it, expect } from 'vitest';
import { withProgress } from '../../src/cli/progress.js';
import { allocColumns, type TraceColumns } from '../../src/trace/columns.js';
import { formatClock } from '../../src/util/units.js';

/** n chunks of 1,000 records, record i at time i × 10 ns. */
function source(n: number) {
  let k = 0;
  const t = allocColumns(1000, ['0000:03:00.0']);
  return {
    devices: t.devices,
    next(): TraceColumns | null {
      if (k === n) return null;
      for (let i = 0; i < 1000; i++) t.timeNs[i] = (k * 1000 + i) * 10;
      t.count = 1000;
      k++;
      return t;
    },
  };
}

describe('run progress', () => {
  it('on a terminal: records, trace time, rate and ETA, redrawn in place, cleared at the end', () => {
    const out: string[] = [];
    let clock = 0;
    const src = source(4);
    const p = withProgress(src, { isTTY: true, write: (s) => out.push(s) }, 'big.iotrace', { total: 4000, everyMs: 0, now: () => clock });
    expect(p.devices).toBe(src.devices);
    const seen: number[] = [];
    for (let t = (clock += 1000, p.next()); t !== null; t = (clock += 1000, p.next())) seen.push(t.count);
    expect(seen).toEqual([1000, 1000, 1000, 1000]);
    expect(out).toHaveLength(5);
    // after the second chunk: 2,000 of 4,000 records in 2 s → 1,000 records/s, 2 s left; trace time 1,999 × 10 ns
    expect(out[1]).toBe('\r\x1b[Kbig.iotrace: 2,000/4,000 (50.0 %) records, trace time 0.020 ms, 0.00 M records/s, ETA 0:02');
    expect(out[4]).toBe('\r\x1b[K');
    p.end(); // already cleared: nothing more
    expect(out).toHaveLength(5);
  });

  it('throttled: at most one redraw per everyMs', () => {
    const out: string[] = [];
    let clock = 0;
    const p = withProgress(source(10), { isTTY: true, write: (s) => out.push(s) }, 'x', { everyMs: 250, now: () => (clock += 100) });
    while (p.next() !== null);
    // chunks read at 200, 300, ..., 1,100 ms of clock (each next() reads the clock once): redraws at 200, 500, 800, 1,100
    expect(out.filter((s) => s.length > 4)).toHaveLength(4);
    expect(out.at(-1)).toBe('\r\x1b[K');
    expect(out.every((s) => !s.includes('ETA'))).toBe(true); // no total: no ETA
  });

  it('not a terminal, or no output: nothing written, the same chunks', () => {
    const out: string[] = [];
    for (const o of [{ isTTY: false, write: (s: string) => out.push(s) }, null]) {
      const p = withProgress(source(3), o, 'x', { everyMs: 0 });
      let n = 0;
      for (let t = p.next(); t !== null; t = p.next()) n += t.count;
      p.end();
      expect(n).toBe(3000);
    }
    expect(out).toEqual([]);
  });

  it('a failed run clears the line', () => {
    const out: string[] = [];
    const p = withProgress(source(3), { isTTY: true, write: (s) => out.push(s) }, 'x', { everyMs: 0 });
    p.next();
    p.end();
    expect(out.at(-1)).toBe('\r\x1b[K');
  });

  it('formatClock', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(61_400)).toBe('1:01');
    expect(formatClock(3_725_000)).toBe('1:02:05');
    expect(formatClock(Infinity)).toBe('--:--');
  });
});
