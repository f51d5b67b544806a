/**
 * The worker pool compare and validate share with sweep (pool.ts), and compare's paths as jobs on
 * it (compare-jobs.ts). Threads run the compiled worker, so the modules come from dist/ (npm test
 * builds it; a single file: npm run build first).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, copyFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../../setup/tmp.js';
import type { TaskRunner } from '../../../src/run/sweep/pool.js';
import type { Anchor } from '../../../src/validate/validate.js';
import type { SettingValue } from '../../../src/run/workloads.js';

type PoolMod = typeof import('../../../src/run/sweep/pool.js');
type JobsMod = typeof import('../../../src/run/sweep/compare-jobs.js');
type CompareMod = typeof import('../../../src/run/compare.js');
type CliCompareMod = typeof import('../../../src/cli/compare.js');
type PrestartMod = typeof import('../../../src/cli/prestart.js');
type WindowsMod = typeof import('../../../src/validate/windows.js');
type ValJobsMod = typeof import('../../../src/validate/jobs.js');

const root = resolve(import.meta.dirname, '../../..');
const dist = (p: string): string => pathToFileURL(join(root, 'dist', p)).href;
let pool: PoolMod, jobs: JobsMod, cmp: CompareMod, cli: CliCompareMod, early: PrestartMod, win: WindowsMod, val: ValJobsMod;
let two: TaskRunner;

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/src/run/sweep/pool.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  pool = (await import(dist('src/run/sweep/pool.js'))) as PoolMod;
  jobs = (await import(dist('src/run/sweep/compare-jobs.js'))) as JobsMod;
  cmp = (await import(dist('src/run/compare.js'))) as CompareMod;
  cli = (await import(dist('src/cli/compare.js'))) as CliCompareMod;
  early = (await import(dist('src/cli/prestart.js'))) as PrestartMod;
  win = (await import(dist('src/validate/windows.js'))) as WindowsMod;
  val = (await import(dist('src/validate/jobs.js'))) as ValJobsMod;
  two = pool.openRunner(2);
});
afterAll(async () => { await two?.destroy(); });

/** compareOnPool's arguments and compareModes' result for a workload, in this thread. */
function inThread(workload: string, user: Array<[string, SettingValue]>, modes: string[], hypervisor: 'kvm' | 'virtualbox' = 'kvm') {
  const { configFor, name } = cli.workloadConfigs(workload, user);
  const kind = configFor([]).workload.kind;
  const args = { workload: name, workloadKind: kind, configFor, modes: modes as never, hypervisor };
  return { args, expected: JSON.stringify(cmp.compareModes(cli.deviceWorkload(name, kind), modes as never, hypervisor, configFor)) };
}

describe('compare: each I/O path a job', () => {
  it('on 2 threads: the CompareResult of compareModes in one thread, byte for byte (runs included)', async () => {
    const { args, expected } = inThread('nic-10g-tcp', [['workload.count', 1500]], ['bare-metal', 'strict', 'lazy', 'passthrough', 'passthrough-pi', 'virtio', 'emulated']);
    const r = await jobs.compareOnPool(two, args);
    expect(Object.keys(r.runs)).toHaveLength(7);
    expect(JSON.stringify(r)).toBe(expected);
  });

  it('a path the hypervisor refuses is answered in this thread, in its place', async () => {
    const { args, expected } = inThread('nic-10g-tcp', [['workload.count', 1000]], ['passthrough-pi', 'passthrough', 'sriov'], 'virtualbox');
    expect(jobs.simulatedModes(args.modes, 'virtualbox')).toEqual(['passthrough']);
    const sent: string[] = [];
    const spy: TaskRunner = { threads: 2, run: (t) => { sent.push((t as { mode: string }).mode); return two.run(t); }, destroy: async () => {} };
    const r = await jobs.compareOnPool(spy, args);
    expect(sent).toEqual(['passthrough']);
    expect(r.modes.map((m) => m.refused !== undefined)).toEqual([true, false, true]);
    expect(JSON.stringify(r)).toBe(expected);
  });

  it('a capture workload: the capture is read once, here; the workers get its frames through a SharedArrayBuffer', async () => {
    const d = tempDir('iommusim-cmp-pcap-');
    const pcap = join(d, 'cap.pcap');
    copyFileSync(join(root, 'test/fixtures/pcap/http_mixed_lo64k_snap128.pcap'), pcap);
    const { args, expected } = inThread('nic-pcap', [['workload.pcap', pcap]], ['bare-metal', 'strict', 'passthrough']);
    // the file goes away as the first job is sent: a worker that read it would fail
    let moved = false;
    const mover: TaskRunner = {
      threads: 2,
      run: (t) => {
        if (!moved) { renameSync(pcap, `${pcap}.gone`); moved = true; }
        expect((t as { captured?: { buf: unknown } }).captured?.buf).toBeInstanceOf(SharedArrayBuffer);
        return two.run(t);
      },
      destroy: async () => {},
    };
    const r = await jobs.compareOnPool(mover, args);
    expect(moved).toBe(true);
    expect(JSON.stringify(r)).toBe(expected);
  });
});

describe('the runner', () => {
  const anchor = (file: string, count: number, metric = 'nope'): Anchor => ({
    name: file, description: 'd', source: 's', unit: 'x', metric, generator: 'pciebench', settings: { 'workload.count': count }, published: 1, tolerance: 0.1, fast: false, file,
  });

  it('an InputError thrown in a worker is an InputError here; of several failures the first in task order is thrown', async () => {
    // the first failing task is the slow one: on 2 threads the second fails first in time
    const err = await val.runAnchorsOn(two, [anchor('ok', 100, 'throughputGbps'), anchor('slow-bad', 200_000), anchor('fast-bad', 100)]).catch((e: Error) => e);
    expect((err as Error).name).toBe('InputError');
    expect((err as Error).message).toBe("slow-bad: metric 'nope' is not a number in the result; name a numeric metric (see iommusim run --json)");
  });

  it('in this thread (0 threads): tasks run one at a time, in order; those queued when it is destroyed do not run', async () => {
    const here = pool.openRunner(0);
    expect(here.threads).toBe(0);
    const done: string[] = [];
    const a = here.run<number>({ kind: 'call', module: 'validate/windows.js', fn: 'windowRate', args: [win.windowPoints(500, [4096])[0].cfg] }).then((x) => { done.push('a'); return x; });
    const b = here.run<number>({ kind: 'call', module: 'validate/windows.js', fn: 'windowRate', args: [win.windowPoints(500, [4096])[1].cfg] }).then((x) => { done.push('b'); return x; });
    const c = here.run<number>({ kind: 'call', module: 'validate/windows.js', fn: 'windowRate', args: [win.windowPoints(500, [4096])[2].cfg] });
    expect(await a).toBeGreaterThan(0);
    expect(done).toEqual(['a']); // b waits for a turn of the event loop after a
    await here.destroy();
    await expect(b).rejects.toThrow(/destroyed before this task ran/);
    await expect(c).rejects.toThrow(/destroyed before this task ran/);
    expect(done).toEqual(['a']);
  });

  it('validate --out\'s window sweep on 2 threads is windowSweep in this thread', async () => {
    const windows = [4096, 1048576, 67108864];
    expect(JSON.stringify(await val.windowSweepOn(two, 3000, windows))).toBe(JSON.stringify(win.windowSweep(3000, windows)));
  });

  it('a PNG drawn on a worker thread has the bytes of one drawn here', async () => {
    const { renderPng } = (await import(dist('src/report/png.js'))) as typeof import('../../../src/report/png.js');
    const chart = { id: 'c', title: 't', caption: 'c', config: { type: 'bar', data: { labels: ['a', 'b'], datasets: [{ label: 'x', data: [1, 3] }] }, options: {} } } as never;
    const there = Buffer.from(await two.run<Uint8Array>({ kind: 'call', module: 'report/png.js', fn: 'renderPng', args: [chart] }));
    expect(there.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(there.equals(await renderPng(chart))).toBe(true);
  });

  it('threadsFor: none for 0 or 1 worker or one job, else one per job up to the workers', () => {
    expect([[0, 7], [1, 7], [2, 1], [2, 0], [2, 7], [4, 3], [8, 100]].map(([w, j]) => pool.threadsFor(w, j))).toEqual([0, 0, 0, 0, 2, 3, 8]);
  });

  it('the pool started from the command line: its size, or none', () => {
    const n = (args: string): number => early.earlyThreads(args.split(' '));
    expect(n('sweep s.yaml --out o --workers 3')).toBe(3);
    expect(n('sweep s.yaml --out o --workers=1')).toBe(1);
    expect(n('sweep s.yaml --out o --workers 0')).toBe(0);
    expect(n('compare nic-10g-tcp --workers 4')).toBe(4);
    expect(n('compare nic-10g-tcp --modes virtio,emulated --workers 4')).toBe(2);
    expect(n('compare nic-10g-tcp --modes virtio --workers 4')).toBe(0);
    expect(n('compare nic-10g-tcp --workers 1')).toBe(0);
    expect(n('validate --workers 2')).toBe(2);
    expect(n('validate --anchor x --workers 2')).toBe(0);
    expect(n('validate --anchor x --out d --workers 2')).toBe(2);
    expect(n('compare nic-10g-tcp --workers x')).toBe(0);
    expect(n('compare nic-10g-tcp --workers 4 --help')).toBe(0);
    expect(n('run pciebench --workers 4')).toBe(0);
  });
});
