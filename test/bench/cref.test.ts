/**
 * Issue #17's C reference (bench/cref/replay.c) against iommusim's functional replay: the same
 * counts on generated traces (bench/cref/gen-trace.ts), with and without the faulting cases. Needs
 * a C compiler: without one the comparisons are skipped with a note.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../setup/tmp.js';
import { buildReference, runReference, crefCounts, repoRoot, type CrefCounts } from '../../bench/cref/cref.js';
import { writeCrefTrace, type CrefTraceOptions } from '../../bench/cref/gen-trace.js';
import { resolveInput, runResolved } from '../../src/run/inputs.js';
import type { RunResult } from '../../src/run/result.js';

const built = (() => {
  const dir = tempDir('iommusim-cref-');
  return { dir, ref: buildReference(dir) };
})();
const exe = 'exe' in built.ref ? built.ref.exe : undefined;
if (!exe) process.stderr.write(`cref.test: ${(built.ref as { note: string }).note}\n`);

/** iommusim's functional replay of a trace file, as `run FILE --functional` does it, in this process. */
function iommusimCounts(path: string): CrefCounts {
  const [r] = resolveInput(path, [], 'auto', { warn: () => {} });
  return crefCounts(runResolved(r, true));
}

describe.skipIf(!exe)('the C reference replays traces with iommusim\'s counts', () => {
  const dir = built.dir;
  const cases: Array<[string, CrefTraceOptions]> = [
    ['4 devices, seed 1', { records: 30_000, seed: 1, scale: 1 / 64 }],
    ['1 device, seed 2', { records: 20_000, seed: 2, devices: 1, scale: 1 / 16 }],
    ['8 devices, seed 3, faults and the kind column', { records: 30_000, seed: 3, devices: 8, scale: 1 / 32, faults: true }],
    ['2 devices, seed 4, faults', { records: 10_000, seed: 4, devices: 2, scale: 1 / 64, faults: true }],
  ];
  for (const [name, o] of cases) {
    it(name, () => {
      const path = join(dir, `t-${o.seed}.csv`);
      const g = writeCrefTrace(path, o);
      const c = runReference(exe!, path);
      expect(c.records).toBe(g.records);
      expect(c.dma.requests).toBe(g.dmas);
      // the traces exercise what they are meant to
      expect(c.iotlb.misses).toBeGreaterThan(0);
      expect(c.iotlb.hits).toBeGreaterThan(0);
      expect(c.walks.readsByLevel.pde).toBeGreaterThan(0);
      if (o.faults) {
        for (const f of ['rootNotPresent', 'contextNotPresent', 'addressBeyondWidth', 'writeToReadOnly', 'readFromWriteOnly', 'notPresent']) expect(c.faults.byReason[f], f).toBeGreaterThan(0);
        expect(c.mapping.mapFailed).toBe(1);
      } else {
        expect(c.dma.pieces).toBe(g.pages);
      }
      expect(c).toEqual(iommusimCounts(path));
    });
  }

  it('equals `iommusim run FILE --functional --json` (the command line, a separate process)', () => {
    const path = join(dir, 'cli.csv');
    writeCrefTrace(path, { records: 15_000, seed: 5, scale: 1 / 64, faults: true });
    const out = join(dir, 'cli.json');
    const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
    if (!existsSync(cli)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
    const r = spawnSync(process.execPath, [cli, 'run', path, '--functional', '--json', out, '--quiet'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(runReference(exe!, path)).toEqual(crefCounts(JSON.parse(readFileSync(out, 'utf8')) as RunResult));
  });

  it('tells a count that differs (a trace replayed with another IOTLB size)', () => {
    const path = join(dir, 'other.csv');
    writeCrefTrace(path, { records: 5_000, seed: 6, scale: 1 / 64 });
    const [r] = resolveInput(path, [['iommu.iotlb.entries', '32']], 'auto');
    expect(runReference(exe!, path)).not.toEqual(crefCounts(runResolved(r, true)));
  });

  it('refuses the records it does not model (unmap, inv) and bad lines, naming the line', () => {
    for (const [row, what] of [
      ['10,0000:03:00.0,,unmap,0x1000,4096,,', /:3: only map and dma/],
      ['10,0000:03:00.0,,inv,,,,', /:3: only map and dma/],
      ['10,0000:03:00.0,,dma,0x1000,0,read,', /:3: size is 0/],
      ['10,03:00.0:1,,dma,0x1000,4,read,', /:3: device is not a PCI address/],
      ['1,0000:03:00.0,,dma,0x1000,4,read,', /:3: time_ns is before/],
    ] as const) {
      const path = join(dir, 'bad.csv');
      writeFileSync(path, `time_ns,device,pasid,op,iova,size,dir,paddr\n5,0000:03:00.0,,map,0x1000,4096,,0x2000\n${row}\n`);
      const r = spawnSync(exe!, [path], { encoding: 'utf8' });
      expect(r.status, row).toBe(2);
      expect(r.stderr, row).toMatch(what);
    }
  });
});

describe('the C reference source', () => {
  it('is one file of plain C with no includes beyond the C standard library', () => {
    const src = readFileSync(join(repoRoot(), 'bench', 'cref', 'replay.c'), 'utf8');
    const includes = [...src.matchAll(/^#include <([^>]+)>/gm)].map((m) => m[1]);
    expect(includes.length).toBeGreaterThan(0);
    for (const h of includes) expect(['stdint.h', 'stdio.h', 'stdlib.h', 'string.h']).toContain(h);
    expect(src).not.toMatch(/^#include "/m);
  });
});
