/** The pcie-bench request source: addresses as the NFP firmware lays them, the operations, the device it stands for. */
import { describe, it, expect } from 'vitest';
import { buildConfig } from '../../src/config/config.js';
import { PcieBenchSource } from '../../src/devices/pciebench.js';

const source = (s: Array<[string, string | number]>) => new PcieBenchSource(buildConfig([['workload.kind', 'pciebench'], ...s]));

/** Window offsets of n requests. */
function offsets(src: PcieBenchSource, n: number): number[] {
  const g = new Float64Array(6);
  const out: number[] = [];
  for (let i = 0; i < n; i++) { src.next(g); out.push((g[0] - 0x100000) * 4096 + g[1]); }
  return out;
}

describe('pciebench: addresses as dma_addr_init lays them (pciebench-nfp me/utils.c)', () => {
  it('a transfer takes a unit of its size rounded up to whole lines: 65 B DMAs start on 128 B boundaries, never sharing a line', () => {
    const offs = offsets(source([['workload.size', 65], ['workload.window', 8192]]), 5000);
    expect(offs.every((o) => o % 128 === 0 && o + 65 <= 8192)).toBe(true);
    expect(new Set(offs).size).toBe(64); // all 8 KiB / 128 B units drawn
  });

  it('a unit the transfer would carry across 4 KiB is passed over: drawn again, or the next one taken', () => {
    // 192 B units in 8 KiB: unit 21 (4032–4224) crosses 4 KiB
    const rnd = offsets(source([['workload.size', 192], ['workload.window', 8192]]), 5000);
    expect(rnd.every((o) => o % 192 === 0 && (o % 4096) + 192 <= 4096)).toBe(true);
    expect(new Set(rnd).size).toBe(41);
    expect(rnd.includes(21 * 192)).toBe(false);
    const seq = offsets(source([['workload.size', 192], ['workload.window', 8192], ['workload.pattern', 'sequential']]), 43);
    expect(seq.slice(19, 23)).toEqual([19 * 192, 20 * 192, 22 * 192, 23 * 192]);
    expect(seq.slice(40, 43)).toEqual([41 * 192, 0, 192]); // 41 usable units, then around again
  });

  it('whole-line sizes that divide 4 KiB keep the size-aligned offsets (one unit a size)', () => {
    const offs = offsets(source([['workload.size', 256], ['workload.window', 8192], ['workload.seed', 7]]), 2000);
    expect(offs.every((o) => o % 256 === 0)).toBe(true);
    expect(new Set(offs).size).toBe(32);
  });

  it('a transfer larger than 4 KiB (not pcie-bench\'s) is placed as it falls', () => {
    const offs = offsets(source([['workload.size', 6000], ['workload.window', 65536]]), 100);
    expect(offs.every((o) => o % 6016 === 0 && o + 6000 <= 65536)).toBe(true);
  });
});

describe('pciebench: operations and the device', () => {
  it('read, write, and a write then a read (direction codes 0, 1, 2); only the last is both directions', () => {
    const g = new Float64Array(6);
    for (const [op, code] of [['read', 0], ['write', 1], ['wrrd', 2]] as const) {
      const s = source([['workload.op', op]]);
      s.next(g);
      expect(g[3]).toBe(code);
      expect(s.oneDirection).toBe(op !== 'wrrd');
    }
  });

  it('the NFP6000 under pcie-bench\'s firmware: 88 contexts and its data mover; another platform\'s device has neither', () => {
    expect(source([]).engine).toEqual({ contexts: 88, descriptorNs: 6, lineNs: 9 });
    const cx = new PcieBenchSource(buildConfig([['platform', 'cascadelake-100g'], ['workload.kind', 'pciebench']]));
    expect(cx.engine).toEqual({ contexts: 0, descriptorNs: 0, lineNs: 0 });
  });

  it('wrrd is pciebench\'s alone; the knobs are checked', () => {
    expect(() => buildConfig([['workload.kind', 'nvme'], ['workload.op', 'wrrd']])).toThrow(/workload.op=wrrd: only the pciebench generator/);
    expect(() => buildConfig([['pciebench.lineNs', -1]])).toThrow(/pciebench.lineNs=-1: below the minimum 0 ns/);
    expect(() => buildConfig([['pciebench.contexts', 2.5]])).toThrow(/pciebench.contexts=2.5: must be a whole number/);
  });
});
