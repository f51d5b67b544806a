/**
 * One sweep (or merge) at a time per output folder: the CLI end to end. A second sweep into a
 * folder in use is refused with the holder named; a stale lock is taken over; the lock goes away on
 * success, errors and signals; --resume with an edited spec says what changed.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deadPid } from '../util/dead-pid.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');

interface Ran { code: number | null; out: string; err: string }
const iommusim = (args: string[]): Ran => {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const oneLine = (r: Ran): string => {
  expect(r.code).toBe(2);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).not.toMatch(/internal error|\bat .*\.js:\d+/);
  return r.err.trim();
};

let dir: string;
let spec: string;
let slow: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  dir = mkdtempSync(join(tmpdir(), 'iommusim-sweeplock-'));
  spec = join(dir, 'small.yaml');
  writeFileSync(spec, 'name: small\nworkloads: [pciebench]\nsettings: { workload.count: 500 }\naxes:\n  workload.size: [64, 256]\n');
  // long enough (a few seconds in this thread) to be caught while it runs
  slow = join(dir, 'slow.yaml');
  writeFileSync(slow, 'name: slow\nworkloads: [pciebench]\nsettings: { workload.count: 100000 }\naxes:\n  workload.size: [64, 128, 256, 512, 1024, 2048]\n');
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const lockOf = (out: string) => JSON.parse(readFileSync(join(out, 'iommusim.lock'), 'utf8')) as { pid: number; host: string; started: string; command: string };

/** Start a sweep in the background; resolves once it holds the folder's lock. */
async function startSweep(args: string[]): Promise<{ child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }> }> {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }>((res) => child.on('exit', (code, signal) => res({ code, signal, err })));
  const out = args[args.indexOf('--out') + 1];
  for (let i = 0; i < 1000; i++) {
    if (existsSync(join(out, 'iommusim.lock')) && existsSync(join(out, 'sweep.json'))) return { child, exited };
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  throw new Error(`the sweep never locked ${out}: ${err}`);
}

describe('one sweep per output folder', () => {
  it('a folder whose lock is held by a live process: the second sweep is refused naming the holder (pid, start time), exit 2, nothing touched', () => {
    const out = join(dir, 'held');
    iommusim(['sweep', spec, '--out', out, '--workers', '0', '--quiet', '--no-report']);
    const other = join(dir, 'held-other');
    iommusim(['sweep', spec, '--out', other, '--workers', '0', '--quiet', '--no-report']);
    const before = readFileSync(join(out, 'results.jsonl'), 'utf8');
    // held by this test process: alive, on this host
    const started = new Date().toISOString();
    writeFileSync(join(out, 'iommusim.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started, command: 'iommusim sweep other.yaml --out held', token: 'abc' }));
    const err = oneLine(iommusim(['sweep', spec, '--out', out, '--workers', '0', '--no-report']));
    expect(err).toBe(`iommusim: ${out}: in use by another iommusim (pid ${process.pid}, started ${started}: iommusim sweep other.yaml --out held); wait for it to finish or pick another --out`);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8')).toBe(before);
    // merge into it, or from it while it is being written, is refused too
    expect(oneLine(iommusim(['merge', other, '--out', out]))).toMatch(new RegExp(`^iommusim: ${out}: in use by another iommusim \\(pid ${process.pid}, `));
    expect(oneLine(iommusim(['merge', out, '--out', join(dir, 'merged')]))).toMatch(new RegExp(`merge: ${out} is still being written \\(pid ${process.pid}, started ${started}`));
  });

  it('two sweeps at once into one --out: the second is refused naming the first (pid, start time); the first finishes as if alone', async () => {
    const out = join(dir, 'race');
    const a = await startSweep(['sweep', slow, '--out', out, '--workers', '0', '--quiet', '--no-report']);
    a.child.kill('SIGSTOP'); // hold it mid-sweep
    try {
      const holder = lockOf(out);
      expect(holder.pid).toBe(a.child.pid);
      expect(holder.command).toBe(`iommusim sweep ${slow} --out ${out} --workers 0 --quiet --no-report`);
      const err = oneLine(iommusim(['sweep', slow, '--out', out, '--workers', '0', '--no-report']));
      expect(err).toBe(`iommusim: ${out}: in use by another iommusim (pid ${a.child.pid}, started ${holder.started}: ${holder.command}); wait for it to finish or pick another --out`);
      expect(oneLine(iommusim(['sweep', slow, '--out', out, '--resume', '--no-report']))).toMatch(`pid ${a.child.pid}`);
    } finally {
      a.child.kill('SIGCONT');
    }
    const done = await a.exited;
    expect(done.code).toBe(0);
    expect(existsSync(join(out, 'iommusim.lock'))).toBe(false);
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).id)).toHaveLength(6);
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))).toHaveLength(6);
    // and a resume now has nothing left to do
    const again = iommusim(['sweep', slow, '--out', out, '--resume', '--no-report']);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/0 jobs run, 6 already done/);
  }, 120_000);

  it('a stale lock (its process is gone) is taken over with a note naming it, and removed at the end', () => {
    const out = join(dir, 'stale');
    iommusim(['sweep', spec, '--out', out, '--workers', '0', '--quiet', '--no-report']);
    const pid = deadPid();
    writeFileSync(join(out, 'iommusim.lock'), JSON.stringify({ pid, host: hostname(), started: '2026-01-02T03:04:05.000Z', command: 'iommusim sweep small.yaml', token: 'dead' }));
    const r = iommusim(['sweep', spec, '--out', out, '--workers', '0', '--resume', '--no-report']);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`iommusim: note: ${join(out, 'iommusim.lock')}: took over the lock of pid ${pid}, started 2026-01-02T03:04:05.000Z: iommusim sweep small.yaml, which is no longer running\n`);
    expect(existsSync(join(out, 'iommusim.lock'))).toBe(false);
  });

  it('SIGINT (in this thread) and SIGTERM (on workers) release the lock; the whole lines written are kept for --resume', async () => {
    for (const [sig, workers] of [['SIGINT', '0'], ['SIGTERM', '1']] as const) {
      const out = join(dir, `signal-${sig}`);
      const a = await startSweep(['sweep', slow, '--out', out, '--workers', workers, '--quiet', '--no-report']);
      a.child.kill(sig);
      const done = await a.exited;
      expect(done.signal).toBe(sig); // died of it, as without the handler
      expect(existsSync(join(out, 'iommusim.lock'))).toBe(false);
      const text = readFileSync(join(out, 'results.jsonl'), 'utf8');
      for (const l of text.split('\n').filter((x) => x !== '')) JSON.parse(l);
    }
  }, 60_000);

  it('a failing sweep (a broken sweep.json on --resume) releases the lock it took', () => {
    const out = join(dir, 'error');
    iommusim(['sweep', spec, '--out', out, '--workers', '0', '--quiet', '--no-report']);
    writeFileSync(join(out, 'sweep.json'), '{ not json');
    // a stale lock, so that the failing sweep takes the lock (with a note) before it fails
    writeFileSync(join(out, 'iommusim.lock'), JSON.stringify({ pid: deadPid(), host: hostname(), started: new Date().toISOString(), command: 'iommusim sweep', token: 'dead' }));
    const r = iommusim(['sweep', spec, '--out', out, '--workers', '0', '--resume', '--no-report']);
    expect(r.code).toBe(2);
    const lines = r.err.trim().split('\n');
    expect(lines[0]).toMatch(/^iommusim: note: .*iommusim\.lock: took over the lock of pid \d+/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^iommusim: ${out}/sweep\\.json: cannot read the sweep manifest`));
    expect(existsSync(join(out, 'iommusim.lock'))).toBe(false);
  });
});

describe('--resume with an edited spec', () => {
  it('says what differs: the values of an axis, an axis added, the jobs added and removed', () => {
    const out = join(dir, 'edited');
    expect(iommusim(['sweep', spec, '--out', out, '--workers', '0', '--quiet', '--no-report']).code).toBe(0);
    const edited = join(dir, 'edited.yaml');
    writeFileSync(edited, 'name: small\nworkloads: [pciebench]\nsettings: { workload.count: 500 }\naxes:\n  workload.size: [64, 512]\n  iommu.mode: ["off", strict]\n');
    const err = oneLine(iommusim(['sweep', edited, '--out', out, '--workers', '0', '--resume', '--no-report']));
    expect(err).toMatch(new RegExp(`^iommusim: ${out}/sweep\\.json: the folder holds another sweep \\(small, 2 jobs\\) than ${edited} \\(small, 4 jobs\\): `));
    expect(err).toContain(': workload.size: 64, 256 → 64, 512; iommu.mode added (off, strict); 2 jobs → 4: 4 added (e.g. ');
    expect(err).toMatch(/, 2 removed \(e\.g\. [0-9a-f]{12}: pciebench workload\.count=500 workload\.size=64\); use another --out, or drop --resume to start over$/);
    // a renamed sweep, a changed setting
    writeFileSync(edited, 'name: bigger\nworkloads: [pciebench]\nsettings: { workload.count: 800 }\naxes:\n  workload.size: [64, 256]\n');
    expect(oneLine(iommusim(['sweep', edited, '--out', out, '--workers', '0', '--resume', '--no-report']))).toContain(': name small → bigger; workload.count: 500 → 800; 2 jobs → 2: 2 added');
    // the same spec, another shard
    expect(oneLine(iommusim(['sweep', spec, '--out', out, '--workers', '0', '--resume', '--shard', '1/2', '--no-report'])))
      .toBe(`iommusim: ${out}/sweep.json: the folder holds the whole sweep of small, not shard 1/2; resume without --shard, or use another --out`);
  });
});
