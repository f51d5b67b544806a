/** pciebench as a trace: the source's offsets as records; a write-then-read is a write record then a read of its bytes. */
import { describe, it, expect } from 'vitest';
import { buildConfig } from '../../../src/config/config.js';
import { pciebenchTrace, pciebenchChunks } from '../../../src/run/generators/pciebench.js';
import { OP_DMA, OP_MAP, DIR_READ, DIR_WRITE } from '../../../src/trace/columns.js';

const cfg = (op: string) => buildConfig([['workload.kind', 'pciebench'], ['iommu.mode', 'strict'], ['workload.op', op], ['workload.size', 65], ['workload.count', 40]]);

describe('pciebench trace', () => {
  it('wrrd: each DMA is a write record followed by a read record of the same bytes', () => {
    const t = pciebenchTrace(cfg('wrrd'));
    expect(t.count).toBe(81);
    expect(t.op[0]).toBe(OP_MAP);
    for (let i = 1; i < t.count; i += 2) {
      expect([t.op[i], t.dir[i], t.op[i + 1], t.dir[i + 1]]).toEqual([OP_DMA, DIR_WRITE, OP_DMA, DIR_READ]);
      expect([t.iovaLo[i + 1], t.size[i + 1]]).toEqual([t.iovaLo[i], 65]);
      expect(t.iovaLo[i] % 128).toBe(0); // 65 B on whole-line units, as pcie-bench lays them
    }
  });
  it('the same rows a chunk at a time, and the same offsets as a plain read run', () => {
    const whole = pciebenchTrace(cfg('wrrd'));
    const rows: number[] = [];
    pciebenchChunks(cfg('wrrd'), (c) => { for (let i = 0; i < c.count; i++) rows.push(c.iovaLo[i], c.dir[i]); }, 7);
    const expected: number[] = [];
    for (let i = 0; i < whole.count; i++) expected.push(whole.iovaLo[i], whole.dir[i]);
    expect(rows).toEqual(expected);
    const reads = pciebenchTrace(cfg('read'));
    for (let k = 0; k < 40; k++) expect(reads.iovaLo[1 + k]).toBe(whole.iovaLo[1 + 2 * k]);
  });
});
