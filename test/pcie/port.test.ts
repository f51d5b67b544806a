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
});
