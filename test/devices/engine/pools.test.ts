/** The engine's slot pools grow every per-request and per-piece column (REQUEST_FIELDS, PIECE_FIELDS: none forgotten). */
import { describe, it, expect } from 'vitest';
import { DmaEngines } from '../../../src/devices/engine/engine.js';

const spec = { maxInFlight: 4, latencyNs: 32, issueNs: 10, clockMHz: 1000, mrrsBytes: 512, mpsBytes: 256, tags: 2, phCredits: 0 };

/** The lengths of the engine's typed-array fields named r… (requests) or p… (pieces). */
function columnLengths(e: DmaEngines, prefix: 'r' | 'p'): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, v] of Object.entries(e)) if (new RegExp(`^${prefix}[A-Z]`).test(k) && ArrayBuffer.isView(v)) m.set(k, (v as Int32Array).length);
  return m;
}

describe('DMA engine slot pools', () => {
  it('every request and piece column has a slot per pool slot, before and after growing', () => {
    const e = new DmaEngines(spec, 1);
    const check = (): void => {
      const r = columnLengths(e, 'r'), p = columnLengths(e, 'p');
      expect(r.size).toBe(19);
      expect(p.size).toBe(10);
      for (const n of r.values()) expect(n).toBe(e.rCap);
      for (const n of p.values()) expect(n).toBe(1024);
    };
    check();
    const cap = e.rCap;
    for (let i = 0; i <= cap; i++) e.allocRequest();
    expect(e.rCap).toBe(2 * cap);
    check();
  });
});
