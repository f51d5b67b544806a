/** Work bounded by what happens: a DMA that faults ends at its fault in the timed model too. */
import { describe, it, expect } from 'vitest';
import { buildConfig } from '../../src/config/config.js';
import { parseCsvTrace, CSV_HEADER } from '../../src/trace/importers/csv.js';
import { runTimedTrace } from '../../src/run/timed.js';
import { runTrace, summarizeTrace } from '../../src/run/run.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('a faulting DMA ends at its fault', () => {
  for (const dir of ['write', 'read'] as const) {
    for (const devices of [1, 2]) {
      it(`a 2^40-byte ${dir} whose second page faults finishes at once (${devices} device${devices > 1 ? 's, no eager root complex' : ''})`, () => {
        const lines = [
          '0,03:00.0,,map,0x100000000,4096,,0x200000000',
          ...(devices > 1 ? ['0,04:00.0,,map,0x100000000,4096,,0x200000000', `10,04:00.0,,dma,0x100000000,64,${dir},`] : []),
          `10,03:00.0,,dma,0x100000000,${2 ** 40},${dir},`,
        ];
        const t = parseCsvTrace(enc([CSV_HEADER, ...lines].join('\n') + '\n'), 'big.csv');
        const cfg = buildConfig([['iommu.mode', 'strict']]);
        const w = summarizeTrace(t, 'big', 'big.csv', 'csv');
        const t0 = performance.now();
        const timed = runTimedTrace(t, cfg, w).metrics;
        const ms = performance.now() - t0;
        expect(ms).toBeLessThan(1000);
        const f = runTrace(t, cfg, w).metrics;
        expect(timed.faults.count).toBe(1);
        expect(timed.dma.dropped).toBe(1);
        expect(timed.dma.pieces).toBe(f.dma.pieces); // the first page and the faulting one
        expect(timed.dma.pieces).toBe(2 + (devices - 1));
        // the link carried at most a batch of the request's TLPs, not 2^40 bytes
        expect(timed.pcie!.wireBytes.up).toBeLessThan(4096 * 600);
      });
    }
  }
});
