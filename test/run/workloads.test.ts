import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listWorkloads, loadWorkloadSpec, sweepPoints, specConfig } from '../../src/run/workloads.js';
import { resolveInput } from '../../src/run/inputs.js';
import { buildConfig } from '../../src/config/config.js';
import { pciebenchTrace } from '../../src/run/generators/pciebench.js';
import { runTimedTrace, runPciebench } from '../../src/run/timed.js';
import { summarizeTrace } from '../../src/run/run.js';
import { tempDir } from '../setup/tmp.js';

const dir = tempDir('iommusim-wl-');
const spec = (name: string, text: string) => { const f = join(dir, name); writeFileSync(f, text); return f; };

describe('workload library', () => {
  it('every shipped workload loads and validates', () => {
    const ws = listWorkloads();
    expect(ws.length).toBeGreaterThanOrEqual(3);
    for (const w of ws) {
      expect(w.description.length).toBeGreaterThan(10);
      for (const p of sweepPoints(w)) expect(() => specConfig(w, p)).not.toThrow();
    }
  });
  it('sweep axes expand to their Cartesian product in a fixed order', () => {
    expect(sweepPoints({ sweep: { a: [1, 2], b: ['x', 'y'] } })).toEqual([
      [['a', 1], ['b', 'x']], [['a', 1], ['b', 'y']], [['a', 2], ['b', 'x']], [['a', 2], ['b', 'y']],
    ]);
  });
  const bad: Array<[string, string, RegExp]> = [
    ['unknown field', 'name: x\ndescription: d d d d\ngenerator: pciebench\ncolour: red\n', /unknown field 'colour'/],
    ['no source', 'name: x\ndescription: d d d d\n', /exactly one of generator: and trace: is needed/],
    ['unknown generator', 'name: x\ndescription: d d d d\ngenerator: warp\n', /unknown generator 'warp'; use one of/],
    ['bad setting', 'name: x\ndescription: d d d d\ngenerator: pciebench\nsettings:\n  pcie.lanes: 3\n', /bad\.yaml: pcie\.lanes=3: must be one of 1, 2, 4/],
    ['bad sweep value', 'name: x\ndescription: d d d d\ngenerator: pciebench\nsweep:\n  workload.size: [64, big]\n', /workload\.size=big: not a size/],
    ['bad YAML', 'name: [x\n', /bad\.yaml: not valid YAML/],
    ['missing trace file', 'name: x\ndescription: d d d d\ntrace: nowhere.csv\n', /trace file .*nowhere\.csv does not exist/],
  ];
  for (const [what, text, re] of bad) {
    it(`a bad spec is one error naming the file: ${what}`, () => {
      const f = spec('bad.yaml', text);
      expect(() => loadWorkloadSpec(f)).toThrow(re);
      try { loadWorkloadSpec(f); } catch (e) { expect((e as Error).message).toContain(f); expect((e as Error).message).not.toContain('\n'); }
    });
  }
  it('precedence: generator defaults < platform < spec settings < sweep point < command line', () => {
    const f = spec('p.yaml', 'name: p\ndescription: precedence test\ngenerator: pciebench\nplatform: cascadelake-100g\nsettings:\n  pcie.lanes: 8\n  workload.size: 128\nsweep:\n  workload.size: [256]\n');
    const runs = resolveInput(f, [['workload.count', '7']]);
    expect(runs).toHaveLength(1);
    const c = runs[0].cfg;
    expect(c.workload.kind).toBe('pciebench');
    expect(c.platform).toBe('cascadelake-100g');
    expect(c.pcie.mrrsBytes).toBe(4096); // from the platform
    expect(c.pcie.lanes).toBe(8); // spec over platform
    expect(c.workload.size).toBe(256); // sweep over spec
    expect(c.workload.count).toBe(7); // command line over all
  });
  it('the pciebench trace replays like the closed-loop generator (same seeds, same offsets)', () => {
    // a trace carries the DMAs, not pcie-bench's device: its NFP data mover exists in the generator's
    // closed loop only (src/run/generators/pciebench.ts), so the two agree without it
    const cfg = buildConfig([['workload.kind', 'pciebench'], ['workload.count', 3000], ['iommu.mode', 'strict'], ['pciebench.descriptorNs', 0], ['pciebench.lineNs', 0]]);
    const t = pciebenchTrace(cfg);
    const a = runTimedTrace(t, cfg, summarizeTrace(t, 'x', 'x', 'gen')).metrics;
    const b = runPciebench(cfg).metrics;
    expect(a.throughputGbps).toBe(b.throughputGbps);
    expect(a.latencyNs).toEqual(b.latencyNs);
    expect(a.iotlb.lookups).toBe(b.iotlb.lookups);
  });
});
