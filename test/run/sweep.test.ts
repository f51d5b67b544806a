/**
 * Sweeps on worker threads. The pool runs the compiled worker, so beforeAll compiles the project
 * (tsc -p tsconfig.json) and the tests import the sweep modules from dist/.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type SweepMod = typeof import('../../src/run/sweep/sweep.js');
type SpecMod = typeof import('../../src/run/sweep/spec.js');
type MergeMod = typeof import('../../src/run/sweep/merge.js');

const root = resolve(import.meta.dirname, '../..');
const dist = (p: string): string => pathToFileURL(join(root, 'dist', p)).href;
let sweep: SweepMod;
let specs: SpecMod;
let merge: MergeMod;

const dir = mkdtempSync(join(tmpdir(), 'iommusim-sweep-'));
const file = (name: string, text: string): string => { const f = join(dir, name); writeFileSync(f, text); return f; };
const outDir = (name: string): string => join(dir, name);
const read = (d: string, f = 'results.json'): string => readFileSync(join(d, f), 'utf8');

// 4 pciebench jobs (2 sizes × 2 IOMMU modes) and one NIC job
const SPEC = `name: small
workloads: [pciebench]
settings: { workload.count: 2000 }
axes:
  workload.size: [64, 256]
  iommu.mode: ["off", strict]
jobs:
  - { workload: nic-10g-udp64, settings: { workload.count: 2000 } }
`;

beforeAll(() => {
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { cwd: root, stdio: 'pipe' });
  } catch (e) {
    // another folder's type errors do not stop tsc emitting; ours must have compiled
    const w = join(root, 'dist/src/run/sweep/worker.js');
    if (!existsSync(w) || Date.now() - statSync(w).mtimeMs > 120_000) throw e;
  }
}, 180_000);

beforeAll(async () => {
  sweep = (await import(dist('src/run/sweep/sweep.js'))) as SweepMod;
  specs = (await import(dist('src/run/sweep/spec.js'))) as SpecMod;
  merge = (await import(dist('src/run/sweep/merge.js'))) as MergeMod;
});

describe('sweep spec', () => {
  it('expands workloads × axes, workload-major, then explicit jobs, with stable ids', () => {
    const s = specs.loadSweepSpec(file('small.yaml', SPEC));
    expect(s.jobs.map((j) => [j.index, j.workload, j.settings['workload.size'], j.settings['iommu.mode']])).toEqual([
      [0, 'pciebench', 64, 'off'], [1, 'pciebench', 64, 'strict'], [2, 'pciebench', 256, 'off'], [3, 'pciebench', 256, 'strict'],
      [4, 'nic-10g-udp64', undefined, undefined],
    ]);
    expect(new Set(s.jobs.map((j) => j.id)).size).toBe(5);
    for (const j of s.jobs) expect(j.id).toMatch(/^[0-9a-f]{12}$/);
    // the id depends on the workload and the settings, not on key order or position
    expect(specs.jobId('pciebench', 'timed', { a: 1, b: 2 })).toBe(specs.jobId('pciebench', 'timed', { b: 2, a: 1 }));
    expect(specs.loadSweepSpec(file('again.yaml', SPEC)).jobs.map((j) => j.id)).toEqual(s.jobs.map((j) => j.id));
  });
  it('a JSON spec, a workload spec by path with its own sweep axes, and the mode axis', () => {
    file('wl.yaml', 'name: wl\ndescription: a small NIC workload\ngenerator: nic-udp64\nsettings: { workload.count: 100 }\nsweep: { workload.flows: [1, 2] }\n');
    const s = specs.loadSweepSpec(file('s.json', JSON.stringify({ name: 'j', workloads: ['./wl.yaml', 'nic-10g-udp64'], axes: { 'iommu.superpages': [true, false], mode: ['timed', 'functional'] } })));
    expect(s.jobs.length).toBe(2 * 2 * 2 + 2 * 2);
    expect(s.jobs[0]).toMatchObject({ workload: './wl.yaml', mode: 'timed', settings: { 'workload.flows': 1, 'iommu.superpages': true } });
    expect(s.jobs[1]).toMatchObject({ workload: './wl.yaml', mode: 'functional', settings: { 'workload.flows': 1, 'iommu.superpages': true } });
    expect(s.jobs[8]).toMatchObject({ workload: 'nic-10g-udp64', mode: 'timed', settings: { 'iommu.superpages': true } });
    expect(s.jobs[9]).toMatchObject({ workload: 'nic-10g-udp64', mode: 'functional' });
    expect(s.inputs['./wl.yaml']).toEqual({ kind: 'spec', file: join(dir, 'wl.yaml') });
  });
  it('a workload-spec job in a worker gives what `run` gives for that sweep point', async () => {
    const f = file('s2.json', JSON.stringify({ name: 'j', workloads: ['./wl.yaml'], axes: { 'iommu.superpages': [true], mode: ['timed', 'functional'] } }));
    const o = outDir('spec-jobs');
    const s = await sweep.runSweep(f, { out: o, workers: 2, quiet: true });
    expect(s).toMatchObject({ jobs: 4, results: 4, errors: [] });
    const results = JSON.parse(read(o)) as Array<{ workload: { name: string }; metrics: { throughputGbps?: number } }>;
    expect(results.map((r) => r.workload.name)).toEqual(['wl', 'wl', 'wl', 'wl']);
    expect(results.map((r) => r.metrics.throughputGbps === undefined)).toEqual([false, true, false, true]);
    const { resolveInput } = (await import(dist('src/run/inputs.js'))) as typeof import('../../src/run/inputs.js');
    const { runResolved } = (await import(dist('src/run/inputs.js'))) as typeof import('../../src/run/inputs.js');
    const direct = resolveInput(join(dir, 'wl.yaml'), [['iommu.superpages', true]]).map((r) => runResolved(r));
    expect(JSON.stringify(results[2])).toBe(JSON.stringify(direct[1]));
  }, 60_000);
  const bad: Array<[string, string, RegExp]> = [
    ['unknown field', 'name: x\nworkloads: [pciebench]\ncolour: red\n', /bad\.yaml: colour: unknown field; use name,/],
    ['no name', 'workloads: [pciebench]\n', /bad\.yaml: name: undefined is missing/],
    ['nothing to run', 'name: x\n', /bad\.yaml: workloads: no workloads and no jobs/],
    ['unknown workload', 'name: x\nworkloads: [warp-drive]\n', /bad\.yaml: workloads\[0\]: 'warp-drive' is not a generator, a workload or a file/],
    ['axis not a list', 'name: x\nworkloads: [pciebench]\naxes: { workload.size: 64 }\n', /bad\.yaml: axes\.workload\.size: not a non-empty list/],
    ['bad axis value', 'name: x\nworkloads: [pciebench]\naxes: { workload.size: [64, big] }\n', /bad\.yaml: workloads\[0\] \(pciebench workload\.size=big\): workload\.size=big: not a size/],
    ['unknown key', 'name: x\nworkloads: [pciebench]\naxes: { iommu.iotlb.entires: [32] }\n', /bad\.yaml: .*iommu\.iotlb\.entires/],
    ['bad job setting', 'name: x\njobs:\n  - { workload: pciebench, settings: { pcie.lanes: 3 } }\n', /bad\.yaml: jobs\[0\]: pcie\.lanes=3: must be one of/],
    ['bad mode', 'name: x\nworkloads: [pciebench]\naxes: { mode: [fast] }\n', /bad\.yaml: axes\.mode: 'fast' is not a run mode/],
    ['functional pciebench', 'name: x\nworkloads: [pciebench]\naxes: { mode: [functional] }\n', /bad\.yaml: .*pciebench generator runs only with timing/],
    ['bad YAML', 'name: [x\n', /bad\.yaml: not valid YAML/],
  ];
  for (const [what, text, re] of bad) {
    it(`a bad spec is one error naming the file and field: ${what}`, () => {
      const f = file('bad.yaml', text);
      let msg = '';
      try { specs.loadSweepSpec(f); } catch (e) { msg = (e as Error).message; expect((e as Error).name).toBe('InputError'); }
      expect(msg).toMatch(re);
      expect(msg).not.toContain('\n');
    });
  }
  it('a missing spec file is one error', () => {
    expect(() => specs.loadSweepSpec(join(dir, 'nope.yaml'))).toThrow(/nope\.yaml: cannot read the sweep spec \(ENOENT\)/);
  });
});

describe('runSweep', () => {
  let reference = '';
  it('results.json is byte-identical with 1, 2 and 4 workers, in job order', async () => {
    const f = file('small.yaml', SPEC);
    const outs: string[] = [];
    for (const workers of [1, 2, 4]) {
      const o = outDir(`w${workers}`);
      const s = await sweep.runSweep(f, { out: o, workers, quiet: true });
      expect(s).toMatchObject({ jobs: 5, ran: 5, skipped: 0, results: 5, errors: [] });
      outs.push(read(o));
    }
    expect(outs[1]).toBe(outs[0]);
    expect(outs[2]).toBe(outs[0]);
    reference = outs[0];
    const results = JSON.parse(reference) as Array<{ config: { iommu: { mode: string } }; workload: { name: string; records: number } }>;
    expect(results.map((r) => r.config.iommu.mode)).toEqual(['off', 'strict', 'off', 'strict', 'lazy']);
    expect(results[4].workload.name).toBe('nic-10g-udp64');
    expect(read(outDir('w1'), 'errors.json')).toBe('[]\n');
    // a job's result is the same as a run in this thread
    const { resolveInput } = (await import(dist('src/run/inputs.js'))) as typeof import('../../src/run/inputs.js');
    const { runResolved } = (await import(dist('src/run/inputs.js'))) as typeof import('../../src/run/inputs.js');
    const direct = runResolved(resolveInput('pciebench', [['workload.count', 2000], ['workload.size', 256], ['iommu.mode', 'strict']])[0]);
    expect(JSON.stringify(results[3])).toBe(JSON.stringify(direct));
  }, 120_000);

  it('resume after an interruption reruns only the missing jobs and gives the same file', async () => {
    const f = file('small.yaml', SPEC);
    const o = outDir('resume');
    await sweep.runSweep(f, { out: o, workers: 2, quiet: true });
    // simulate a kill: keep 2 whole lines and half of the third
    const lines = read(o, 'results.jsonl').split('\n');
    const kept = lines.slice(0, 2).map((l) => JSON.parse(l) as { id: string }).map((r) => r.id);
    writeFileSync(join(o, 'results.jsonl'), `${lines[0]}\n${lines[1]}\n${lines[2].slice(0, lines[2].length >> 1)}`);
    const ran: string[] = [];
    const s = await sweep.runSweep(f, { out: o, workers: 2, quiet: true, resume: true, onProgress: (p) => ran.push(p.job.id) });
    expect(s).toMatchObject({ ran: 3, skipped: 2, results: 5 });
    expect(ran.length).toBe(3);
    for (const id of kept) expect(ran).not.toContain(id);
    expect(read(o)).toBe(reference);
    // results.jsonl is whole again: 5 parseable lines
    expect(read(o, 'results.jsonl').trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id).sort()).toEqual(
      specs.loadSweepSpec(f).jobs.map((j) => j.id).sort());
    // resuming a finished sweep runs nothing
    const again = await sweep.runSweep(f, { out: o, workers: 2, quiet: true, resume: true });
    expect(again).toMatchObject({ ran: 0, skipped: 5 });
    expect(read(o)).toBe(reference);
  }, 120_000);

  it('a failing job is recorded with its parameters and the others complete', async () => {
    const f = file('fail.yaml', `name: fail
workloads: [nic-pcap]
settings: { workload.count: 500 }
axes:
  workload.pcap: [${join(root, 'workloads/nic/does-not-exist.pcap')}]
jobs:
  - { workload: pciebench, settings: { workload.count: 500 } }
  - { workload: pciebench, settings: { workload.count: 500, workload.size: 128 } }
`);
    const o = outDir('fail');
    const errors: string[] = [];
    const s = await sweep.runSweep(f, { out: o, workers: 2, quiet: true, onProgress: (p) => { if (p.error) errors.push(p.error); } });
    expect(s).toMatchObject({ jobs: 3, ran: 3, results: 2 });
    expect(s.errors.length).toBe(1);
    expect(s.errors[0].job).toMatchObject({ index: 0, workload: 'nic-pcap', settings: { 'workload.pcap': expect.stringContaining('does-not-exist.pcap') } });
    expect(s.errors[0].error).toMatch(/cannot read the capture/);
    expect(errors).toEqual([s.errors[0].error]);
    expect(JSON.parse(read(o, 'errors.json'))).toEqual(JSON.parse(JSON.stringify(s.errors)));
    expect((JSON.parse(read(o)) as unknown[]).length).toBe(2);
    expect(read(o, 'results.jsonl')).toContain('"error":');
  }, 120_000);

  it('shard 1/2 + shard 2/2 + merge equals the unsharded results.json', async () => {
    const f = file('small.yaml', SPEC);
    const a = outDir('shard1');
    const b = outDir('shard2');
    const sa = await sweep.runSweep(f, { out: a, workers: 2, quiet: true, shard: [1, 2] });
    const sb = await sweep.runSweep(f, { out: b, workers: 1, quiet: true, shard: sweep.parseShard('2/2') });
    expect([sa.ran, sb.ran]).toEqual([3, 2]);
    const m = merge.mergeShards([b, a], outDir('merged'));
    expect(m).toMatchObject({ jobs: 5, results: 5, errors: [] });
    expect(read(outDir('merged'))).toBe(reference);
    // a missing shard, or one given twice, is an error naming the job
    expect(() => merge.mergeShards([a], outDir('m2'))).toThrow(/merge: job [0-9a-f]{12} #1 \(pciebench .*workload\.size=64 iommu\.mode=strict\) is in none of the shards \(and 1 more\)/);
    expect(() => merge.mergeShards([a, b, a], outDir('m3'))).toThrow(/merge: job [0-9a-f]{12} \(pciebench .*\) is in both .*shard1 and .*shard1/);
    expect(() => sweep.parseShard('3/2')).toThrow(/--shard 3\/2: not K\/N/);
  }, 120_000);
});
