/**
 * Sweeps on worker threads. The pool runs the compiled worker, so beforeAll compiles the project
 * (tsc -p tsconfig.json) and the tests import the sweep modules from dist/.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync, statSync, copyFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../setup/tmp.js';

type SweepMod = typeof import('../../src/run/sweep/sweep.js');
type SpecMod = typeof import('../../src/run/sweep/spec.js');
type MergeMod = typeof import('../../src/run/sweep/merge.js');

const root = resolve(import.meta.dirname, '../..');
const dist = (p: string): string => pathToFileURL(join(root, 'dist', p)).href;
let sweep: SweepMod;
let specs: SpecMod;
let merge: MergeMod;

const dir = tempDir('iommusim-sweep-');
const file = (name: string, text: string): string => { const f = join(dir, name); writeFileSync(f, text); return f; };
copyFileSync(join(root, 'workloads/examples/nic-rx-ring.csv'), join(dir, 'ring.csv'));
const outDir = (name: string): string => join(dir, name);
const read = (d: string, f = 'results.json'): string => readFileSync(join(d, f), 'utf8');

// 4 pciebench jobs (2 sizes × 2 IOMMU modes), one NIC job, three I/O-path jobs (one of them refused
// by its hypervisor) and a trace file (shared with the workers through a SharedArrayBuffer)
const SPEC = `name: small
workloads: [pciebench]
settings: { workload.count: 2000 }
axes:
  workload.size: [64, 256]
  iommu.mode: ["off", strict]
jobs:
  - { workload: nic-10g-udp64, settings: { workload.count: 2000 } }
  - { workload: nic-10g-tcp, mode: passthrough-pi, hypervisor: kvm, settings: { workload.count: 1000 } }
  - { workload: nic-10g-tcp, mode: emulated, hypervisor: xen, settings: { workload.count: 1000 } }
  - { workload: nic-10g-tcp, mode: virtio, hypervisor: xen, settings: { workload.count: 1000 } }
  - { workload: ./ring.csv, settings: { iommu.mode: strict } }
`;
const JOBS = 9;
const PCAP = join(root, 'test/fixtures/pcap/http_mixed_lo64k_snap128.pcap');
const RESULTS = 8; // the virtio job under xen is refused

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
    expect(s.jobs.map((j) => [j.index, j.workload, j.settings['workload.size'], j.settings['iommu.mode'], j.mode, j.hypervisor])).toEqual([
      [0, 'pciebench', 64, 'off', undefined, undefined], [1, 'pciebench', 64, 'strict', undefined, undefined],
      [2, 'pciebench', 256, 'off', undefined, undefined], [3, 'pciebench', 256, 'strict', undefined, undefined],
      [4, 'nic-10g-udp64', undefined, undefined, undefined, undefined],
      [5, 'nic-10g-tcp', undefined, undefined, 'passthrough-pi', 'kvm'], [6, 'nic-10g-tcp', undefined, undefined, 'emulated', 'xen'],
      [7, 'nic-10g-tcp', undefined, undefined, 'virtio', 'xen'], [8, './ring.csv', undefined, 'strict', undefined, undefined],
    ]);
    expect(new Set(s.jobs.map((j) => j.id)).size).toBe(JOBS);
    for (const j of s.jobs) expect(j.id).toMatch(/^[0-9a-f]{12}$/);
    // the id depends on the workload, run kind, path and the settings, not on key order or position
    expect(specs.jobId('pciebench', 'timed', { a: 1, b: 2 })).toBe(specs.jobId('pciebench', 'timed', { b: 2, a: 1 }));
    expect(specs.jobId('w', 'timed', {}, 'virtio', 'kvm')).not.toBe(specs.jobId('w', 'timed', {}, 'virtio', 'xen'));
    expect(specs.jobId('w', 'timed', {}, 'virtio', 'kvm')).not.toBe(specs.jobId('w', 'timed', {}));
    expect(specs.loadSweepSpec(file('again.yaml', SPEC)).jobs.map((j) => j.id)).toEqual(s.jobs.map((j) => j.id));
    // the refusal is known up front, with the hypervisor's reason
    expect(Object.keys(s.refused)).toEqual([s.jobs[7].id]);
    expect(s.refused[s.jobs[7].id]).toMatch(/^xen refuses virtio: Xen HVM guests use PV netfront/);
    // every job's config is resolved; an I/O-path job's carries the path's settings
    expect(s.configs[6].iommu.mode).toBe('lazy');
    expect(s.inputs['./ring.csv']).toEqual({ kind: 'trace', path: join(dir, 'ring.csv') });
  });
  it('mode × hypervisor axes: the I/O path and hypervisor of each job, in the order written', () => {
    const s = specs.loadSweepSpec(file('paths.yaml', `name: paths
workloads: [nic-10g-tcp]
axes:
  workload.size: [256, 1514]
  mode: [bare-metal, passthrough, virtio]
  hypervisor: [kvm, xen]
`));
    expect(s.jobs.length).toBe(12);
    expect(s.jobs.slice(0, 6).map((j) => `${j.settings['workload.size']} ${j.mode} ${j.hypervisor}`)).toEqual([
      '256 bare-metal kvm', '256 bare-metal xen', '256 passthrough kvm', '256 passthrough xen', '256 virtio kvm', '256 virtio xen',
    ]);
    expect(s.jobs.every((j) => j.run === 'timed')).toBe(true);
    expect(Object.values(s.refused)).toEqual([expect.stringMatching(/^xen refuses virtio/), expect.stringMatching(/^xen refuses virtio/)]);
    // a mode without a hypervisor is under kvm, as compare
    const k = specs.loadSweepSpec(file('kvm.yaml', 'name: k\nworkloads: [nic-10g-tcp]\naxes: { mode: [passthrough] }\n'));
    expect(k.jobs[0]).toMatchObject({ mode: 'passthrough', hypervisor: 'kvm' });
  });
  it('a JSON spec, a workload spec by path with its own sweep axes, and the run axis', () => {
    file('wl.yaml', 'name: wl\ndescription: a small NIC workload\ngenerator: nic-udp64\nsettings: { workload.count: 100 }\nsweep: { workload.flows: [1, 2] }\n');
    const s = specs.loadSweepSpec(file('s.json', JSON.stringify({ name: 'j', workloads: ['./wl.yaml', 'nic-10g-udp64'], axes: { 'iommu.superpages': [true, false], run: ['timed', 'functional'] } })));
    expect(s.jobs.length).toBe(2 * 2 * 2 + 2 * 2);
    expect(s.jobs[0]).toMatchObject({ workload: './wl.yaml', run: 'timed', settings: { 'workload.flows': 1, 'iommu.superpages': true } });
    expect(s.jobs[1]).toMatchObject({ workload: './wl.yaml', run: 'functional', settings: { 'workload.flows': 1, 'iommu.superpages': true } });
    expect(s.jobs[8]).toMatchObject({ workload: 'nic-10g-udp64', run: 'timed', settings: { 'iommu.superpages': true } });
    expect(s.jobs[9]).toMatchObject({ workload: 'nic-10g-udp64', run: 'functional' });
    expect(s.inputs['./wl.yaml']).toEqual({ kind: 'spec', file: join(dir, 'wl.yaml') });
  });
  it('a workload-spec job in a worker gives what `run` gives for that sweep point', async () => {
    const f = file('s2.json', JSON.stringify({ name: 'j', workloads: ['./wl.yaml'], axes: { 'iommu.superpages': [true], run: ['timed', 'functional'] } }));
    const o = outDir('spec-jobs');
    const s = await sweep.runSweep(f, { out: o, workers: 2, quiet: true });
    expect(s).toMatchObject({ jobs: 4, results: 4, errors: [] });
    const results = JSON.parse(read(o)) as Array<{ workload: { name: string }; metrics: { throughputGbps?: number } }>;
    expect(results.map((r) => r.workload.name)).toEqual(['wl', 'wl', 'wl', 'wl']);
    expect(results.map((r) => r.metrics.throughputGbps === undefined)).toEqual([false, true, false, true]);
    const { resolveInput, runResolved } = (await import(dist('src/run/inputs.js'))) as typeof import('../../src/run/inputs.js');
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
    ['bad run kind', 'name: x\nworkloads: [pciebench]\naxes: { run: [fast] }\n', /bad\.yaml: axes\.run\[0\]: 'fast' is not a run kind; use timed or functional/],
    ['functional pciebench', 'name: x\nworkloads: [pciebench]\naxes: { run: [functional] }\n', /bad\.yaml: .*pciebench generator runs only with timing/],
    ['old mode axis (run kinds)', 'name: x\nworkloads: [nic-10g-tcp]\naxes: { mode: [timed, functional] }\n',
      /^[^\n]*bad\.yaml: axes\.mode\[0\]: 'timed' is a run kind, not an I\/O path \(mode names the I\/O path, as in compare --modes\); rename the axis: run: \[timed, functional\]$/],
    ['old job mode', 'name: x\njobs:\n  - { workload: nic-10g-tcp, mode: functional }\n', /bad\.yaml: jobs\[0\]\.mode: 'functional' is a run kind, not an I\/O path .*; write run: functional instead of mode: functional$/],
    ['unknown I/O path', 'name: x\nworkloads: [nic-10g-tcp]\naxes: { mode: [virtio, warp] }\n', /bad\.yaml: axes\.mode\[1\]: 'warp' is not an I\/O path; use bare-metal, identity, strict/],
    ['unknown hypervisor', 'name: x\nworkloads: [nic-10g-tcp]\naxes: { mode: [virtio], hypervisor: [kvm, hyperv] }\n', /bad\.yaml: axes\.hypervisor\[1\]: 'hyperv' is not a hypervisor; use kvm, xen, virtualbox, bhyve/],
    ['hypervisor without mode', 'name: x\nworkloads: [nic-10g-tcp]\naxes: { hypervisor: [kvm] }\n', /bad\.yaml: axes\.hypervisor: a hypervisor applies to an I\/O path, and there is no mode axis; add mode:/],
    ['job hypervisor without mode', 'name: x\njobs:\n  - { workload: nic-10g-tcp, hypervisor: xen }\n', /bad\.yaml: jobs\[0\]\.hypervisor: a hypervisor applies to an I\/O path, and the job has no mode/],
    ['I/O path on pciebench', 'name: x\nworkloads: [pciebench]\naxes: { mode: [passthrough] }\n', /bad\.yaml: workloads\[0\] \(pciebench mode=passthrough\): mode passthrough: workload\.kind pciebench has no device model to compare I\/O paths with; use a NIC/],
    ['I/O path on a trace file', 'name: x\nworkloads: [./ring.csv]\naxes: { mode: [passthrough] }\n', /bad\.yaml: workloads\[0\] \(.*ring\.csv mode=passthrough\): mode passthrough: a trace file is replayed as recorded/],
    ['I/O path and run functional', 'name: x\nworkloads: [nic-10g-tcp]\naxes: { mode: [virtio], run: [functional] }\n', /bad\.yaml: workloads\[0\] .*: mode virtio with run functional: an I\/O-path job runs timed/],
    ['an axis the I/O path sets', 'name: x\nworkloads: [nic-10g-tcp]\naxes: { iommu.mode: [strict, lazy], mode: [virtio] }\n', /bad\.yaml: axes\.iommu\.mode: the I\/O path sets iommu\.mode itself \(mode virtio: iommu\.mode=lazy\); drop iommu\.mode or the mode/],
    ['a setting the I/O path sets', 'name: x\nworkloads: [nic-10g-tcp]\nsettings: { nic.iovaPolicy: hugepage }\naxes: { mode: [strict] }\n', /bad\.yaml: settings\.nic\.iovaPolicy: the I\/O path sets nic\.iovaPolicy itself/],
    ['mode as a setting', 'name: x\nworkloads: [nic-10g-tcp]\nsettings: { mode: virtio }\n', /bad\.yaml: settings\.mode: mode is not a setting; use the mode axis/],
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
  it('every shipped sweep spec loads', async () => {
    const { readdirSync } = await import('node:fs');
    const folder = join(root, 'workloads/sweeps');
    const names = readdirSync(folder).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(names).toEqual(expect.arrayContaining(['io-paths.yaml', 'iotlb-size.yaml']));
    for (const n of names) expect(specs.loadSweepSpec(join(folder, n)).jobs.length, n).toBeGreaterThan(0);
  });
});

describe('runSweep', () => {
  let reference = '';
  let referenceRefused = '';
  it('results.json is byte-identical with 1, 2 and 4 workers (and in this thread), in job order', async () => {
    const f = file('small.yaml', SPEC);
    const outs: string[] = [];
    for (const workers of [1, 2, 4, 0]) {
      const o = outDir(`w${workers}`);
      const s = await sweep.runSweep(f, { out: o, workers, quiet: true });
      expect(s).toMatchObject({ jobs: JOBS, ran: JOBS, skipped: 0, results: RESULTS, errors: [], shared: { loads: 1 } });
      expect(s.refused.map((r) => r.job.index)).toEqual([7]);
      outs.push(read(o));
      expect(read(o, 'refused.json')).toBe(read(outDir('w1'), 'refused.json'));
    }
    expect(outs[1]).toBe(outs[0]);
    expect(outs[2]).toBe(outs[0]);
    expect(outs[3]).toBe(outs[0]);
    reference = outs[0];
    referenceRefused = read(outDir('w1'), 'refused.json');
    const results = JSON.parse(reference) as Array<{ config: { iommu: { mode: string } }; workload: { name: string; records: number }; path?: { mode: string; hypervisor: string; throughputGbps: number } }>;
    expect(results.map((r) => r.config.iommu.mode)).toEqual(['off', 'strict', 'off', 'strict', 'lazy', 'strict', 'lazy', 'strict']);
    expect(results[4].workload.name).toBe('nic-10g-udp64');
    expect(results.map((r) => r.path && `${r.path.mode}/${r.path.hypervisor}`)).toEqual([undefined, undefined, undefined, undefined, undefined, 'passthrough-pi/kvm', 'emulated/xen', undefined]);
    expect(results[7].workload.name).toBe('ring.csv');
    expect(read(outDir('w1'), 'errors.json')).toBe('[]\n');
    // results.json is JSON.stringify(results, null, 2), assembled from the workers' text
    expect(reference).toBe(JSON.stringify(JSON.parse(reference), null, 2) + '\n');
    // a job's result is the same as a run in this thread
    const { resolveInput, runResolved } = (await import(dist('src/run/inputs.js'))) as typeof import('../../src/run/inputs.js');
    const direct = runResolved(resolveInput('pciebench', [['workload.count', 2000], ['workload.size', 256], ['iommu.mode', 'strict']])[0]);
    expect(JSON.stringify(results[3])).toBe(JSON.stringify(direct));
    // the shared trace gives what reading the file gives
    const byPath = runResolved(resolveInput(join(dir, 'ring.csv'), [['workload.count', 2000], ['iommu.mode', 'strict']])[0]);
    expect(JSON.stringify(results[7])).toBe(JSON.stringify(byPath));
  }, 120_000);

  it('an I/O-path job carries the figures `iommusim compare` gives for that path and hypervisor', async () => {
    const results = JSON.parse(reference) as Array<{ path?: Record<string, unknown> } & Record<string, unknown>>;
    const { compareModes } = (await import(dist('src/run/compare.js'))) as typeof import('../../src/run/compare.js');
    const { deviceWorkload, workloadConfigs } = (await import(dist('src/cli/compare.js'))) as typeof import('../../src/cli/compare.js');
    const { configFor, name } = workloadConfigs('nic-10g-tcp', [['workload.count', 1000]]);
    const c = compareModes(deviceWorkload(name, configFor([]).workload.kind), ['emulated'], 'xen', configFor);
    const { path, ...run } = results[6];
    expect(path).toEqual(JSON.parse(JSON.stringify({ hypervisor: 'xen', ...c.modes[0] })));
    expect(JSON.stringify(run)).toBe(JSON.stringify(c.runs.emulated));
  }, 60_000);

  it('a trace file is read once, in the main thread: the workers get it through a SharedArrayBuffer', async () => {
    // two parse settings (address width 48 and 57 bits) → two shared loads; then the file is moved
    // away before any job starts: a worker that read it would fail
    copyFileSync(join(dir, 'ring.csv'), join(dir, 'ring2.csv'));
    const f = file('shared.yaml', `name: shared
workloads: [./ring2.csv, ./capture.pcap]
axes:
  iommu.mode: [strict]
  iommu.levels: [4, 5]
  iommu.iotlb.entries: [32, 64]
jobs:
  - { workload: nic-pcap, settings: { workload.pcap: ${join(dir, 'capture.pcap')}, workload.count: 400 } }
  - { workload: nic-pcap, settings: { workload.pcap: ${join(dir, 'capture.pcap')}, workload.count: 400, iommu.iotlb.entries: 32 } }
  - { workload: nic-pcap, mode: passthrough, settings: { workload.pcap: ${join(dir, 'capture.pcap')}, workload.count: 400 } }
`);
    const o = outDir('shared');
    let moved = false;
    const onReady = (): void => {
      renameSync(join(dir, 'ring2.csv'), join(dir, 'ring2.moved'));
      renameSync(join(dir, 'capture.pcap'), join(dir, 'capture.moved'));
      moved = true;
    };
    copyFileSync(PCAP, join(dir, 'capture.pcap'));
    const s = await sweep.runSweep(f, { out: o, workers: 2, quiet: true, onReady });
    expect(moved).toBe(true);
    expect(s.errors).toEqual([]);
    // csv: one parse per address width; pcap trace file: one (frames); nic-pcap: one (frames)
    expect(s.shared.loads).toBe(4);
    expect(s.results).toBe(11);
    renameSync(join(dir, 'ring2.moved'), join(dir, 'ring2.csv'));
    renameSync(join(dir, 'capture.moved'), join(dir, 'capture.pcap'));
    // identical to each job reading its file itself
    const { resolveInput, runResolved } = (await import(dist('src/run/inputs.js'))) as typeof import('../../src/run/inputs.js');
    const results = read(o);
    const spec = specs.loadSweepSpec(f);
    const direct = spec.jobs.filter((j) => j.mode === undefined).map((j) => {
      const input = spec.inputs[j.workload];
      const name = input.kind === 'trace' ? input.path : j.workload;
      return runResolved(resolveInput(name, Object.entries(j.settings))[0]);
    });
    const got = JSON.parse(results) as unknown[];
    expect(JSON.stringify(got.slice(0, 10))).toBe(JSON.stringify(direct));
    // and with the file gone after the spec was loaded, every job on it fails with the read error
    const loaded = specs.loadSweepSpec(f);
    rmSync(join(dir, 'ring2.csv'));
    const s2 = await sweep.runSweep(loaded, { out: outDir('shared-gone'), workers: 2, quiet: true });
    expect(s2.errors.length).toBe(4);
    for (const e of s2.errors) expect(e.error).toMatch(/ring2\.csv: cannot read the trace \(ENOENT\); check the path/);
    expect(s2.results).toBe(7);
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
    expect(s).toMatchObject({ ran: JOBS - 2, skipped: 2, results: RESULTS });
    expect(ran.length).toBe(JOBS - 2);
    for (const id of kept) expect(ran).not.toContain(id);
    expect(read(o)).toBe(reference);
    expect(read(o, 'refused.json')).toBe(referenceRefused);
    // results.jsonl is whole again: one parseable line per job
    expect(read(o, 'results.jsonl').trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id).sort()).toEqual(
      specs.loadSweepSpec(f).jobs.map((j) => j.id).sort());
    // resuming a finished sweep runs nothing (a refusal is a final outcome too)
    const again = await sweep.runSweep(f, { out: o, workers: 2, quiet: true, resume: true });
    expect(again).toMatchObject({ ran: 0, skipped: JOBS });
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

  it('a job that throws in its worker is recorded and the others complete', async () => {
    const f = file('throw.yaml', `name: throw
jobs:
  - { workload: pciebench, settings: { workload.count: 300 } }
  - { workload: pciebench, settings: { workload.count: 300, workload.size: 128 } }
  - { workload: pciebench, settings: { workload.count: 300, workload.size: 256 } }
`);
    // a config the model cannot run (no iommu section): the worker throws a TypeError
    const s0 = specs.loadSweepSpec(f);
    s0.configs[1] = { ...s0.configs[1], iommu: undefined } as never;
    const o = outDir('throw');
    const s = await sweep.runSweep(s0, { out: o, workers: 2, quiet: true });
    expect(s).toMatchObject({ jobs: 3, ran: 3, results: 2 });
    expect(s.errors.map((e) => e.job.index)).toEqual([1]);
    expect(s.errors[0].error).toMatch(/undefined/);
    expect((JSON.parse(read(o)) as Array<{ config: { workload: { size: number } } }>).map((r) => r.config.workload.size)).toEqual([64, 256]);
  }, 60_000);

  it('shard 1/2 + shard 2/2 + merge equals the unsharded results.json', async () => {
    const f = file('small.yaml', SPEC);
    const a = outDir('shard1');
    const b = outDir('shard2');
    const sa = await sweep.runSweep(f, { out: a, workers: 2, quiet: true, shard: [1, 2] });
    const sb = await sweep.runSweep(f, { out: b, workers: 1, quiet: true, shard: sweep.parseShard('2/2') });
    expect([sa.ran, sb.ran]).toEqual([5, 4]);
    const m = merge.mergeShards([b, a], outDir('merged'));
    expect(m).toMatchObject({ jobs: JOBS, results: RESULTS, errors: [] });
    expect(m.refused.map((r) => r.job.index)).toEqual([7]);
    expect(read(outDir('merged'))).toBe(reference);
    expect(read(outDir('merged'), 'refused.json')).toBe(referenceRefused);
    // a missing shard, or one given twice, is an error naming the job
    expect(() => merge.mergeShards([a], outDir('m2'))).toThrow(/merge: job [0-9a-f]{12} #1 \(pciebench .*workload\.size=64 iommu\.mode=strict\) is in none of the shards \(and 3 more\)/);
    expect(() => merge.mergeShards([a, b, a], outDir('m3'))).toThrow(/merge: job [0-9a-f]{12} \(pciebench .*\) is in both .*shard1 and .*shard1/);
    expect(() => sweep.parseShard('3/2')).toThrow(/--shard 3\/2: not K\/N/);
  }, 120_000);
});
