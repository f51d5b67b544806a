import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { PcieLinkTiming, WM_UP, WM_DOWN, WM_TLPS_UP, WM_TLPS_DOWN, WM_UP_PS, WM_DOWN_PS } from '../../src/pcie/port.js';
import { dmaReadWire, dmaWriteWire, resolvePcieSpec } from '../../src/pcie/link.js';

describe('link timing: the wire memo', () => {
  it('every entry equals the closed-form wire counts, whatever shapes collide in the table', () => {
    for (const spec of [resolvePcieSpec({}), resolvePcieSpec({ gen: 6, lanes: 16, mpsBytes: 512, rcbChunks: true })]) {
      const link = new PcieLinkTiming(spec);
      const w = new Float64Array(6);
      fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 24 }), fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 1, max: 4096 }), fc.boolean(), (pn, off, len, write) => {
        const bytes = Math.min(len, 4096 - off); // a piece never crosses 4 KiB
        const b = link.wireAt(pn, off, bytes, write ? 1 : 0);
        (write ? dmaWriteWire : dmaReadWire)(spec, pn * 4096 + off, bytes, w);
        const m = link.wireMemo;
        return m[b + WM_UP] === w[0] && m[b + WM_DOWN] === w[1] && m[b + WM_TLPS_UP] === w[2] && m[b + WM_TLPS_DOWN] === w[3]
          && m[b + WM_UP_PS] === Math.round(w[0] * link.psPerByte) && m[b + WM_DOWN_PS] === Math.round(w[1] * link.psPerByte);
      }), { numRuns: 20000, seed: 11 });
    }
  });

  it('sendUpPs / sendDownPs: FIFO per direction, hand-computed', () => {
    const link = new PcieLinkTiming(resolvePcieSpec({ linkLatencyNs: 100 }));
    const L = 100_000;
    expect(link.sendUpPs(0, 1000, 280, 1)).toBe(1000 + L);
    expect(link.sendUpPs(0, 1000, 280, 1)).toBe(2000 + L); // queues behind the first
    expect(link.sendUpPs(5000, 300, 64, 1)).toBe(5300 + L); // the link was idle again
    expect(link.sendDownPs(1500, 700, 44, 0)).toBe(2200 + L); // the other direction is independent
    expect([link.upBusy, link.upBytes, link.upTlps, link.downBusy, link.downBytes, link.downTlps]).toEqual([2300, 624, 3, 700, 44, 0]);
  });

  it('sendUpRun / sendDownRun: n TLPs back to back, hand-computed, and the same state as n single sends', () => {
    const L = 100_000;
    const link = new PcieLinkTiming(resolvePcieSpec({ linkLatencyNs: 100 }));
    link.sendUpPs(0, 2500, 300, 1); // busy until 2500
    // 4 pieces at t = 1000: the first starts at 2500, ends at 3500; the rest 1000 apart
    expect(link.sendUpRun(1000, 4, 1000, 280, 1)).toBe(3500 + L);
    expect(link.upFree).toBe(6500);
    expect(link.sendUpRun(9000, 1, 300, 64, 1)).toBe(9300 + L); // idle again
    expect(link.sendDownRun(0, 3, 700, 44, 0)).toBe(700 + L);
    expect([link.upBusy, link.upBytes, link.upTlps, link.downFree, link.downBusy, link.downBytes, link.downTlps]).toEqual([6800, 1484, 6, 2100, 2100, 132, 0]);
    // property: a run equals n sendUpPs / sendDownPs calls at the same time, whatever came before
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 5e4 }), fc.double({ min: 1, max: 5000, noNaN: true })), { minLength: 1, maxLength: 30 }), (sends) => {
      const a = new PcieLinkTiming(resolvePcieSpec({}));
      const b = new PcieLinkTiming(resolvePcieSpec({}));
      let t = 0;
      for (const [dt, n, dur, bytes] of sends) {
        t += dt;
        const ra = a.sendUpRun(t, n, dur, bytes, 1);
        a.sendDownRun(t, n, dur, bytes, 0);
        let rb = 0;
        for (let k = 0; k < n; k++) { const x = b.sendUpPs(t, dur, bytes, 1); if (k === 0) rb = x; b.sendDownPs(t, dur, bytes, 0); }
        if (ra !== rb) return false;
      }
      return [a.upFree, a.upBusy, a.upBytes, a.upTlps, a.downFree, a.downBusy, a.downBytes].join() === [b.upFree, b.upBusy, b.upBytes, b.upTlps, b.downFree, b.downBusy, b.downBytes].join();
    }), { numRuns: 2000, seed: 5 });
  });
});
