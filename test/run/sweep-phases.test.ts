/**
 * runSweep's phases on hand-made inputs: the journal line of a job, the outcomes a resume keeps, the
 * check that a resumed folder holds the same sweep and shard, results.jsonl as a journal (appends,
 * the cut on resume, a failed append), and the last line on stderr.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { journalLine, finalOutcomes, checkSameSweep, doneLine, Journal } from '../../src/run/sweep/sweep.js';
import { SWEEP_SCHEMA, type SweepManifest, type SweepRecord } from '../../src/run/sweep/merge.js';
import type { SweepJob } from '../../src/run/sweep/spec.js';

const job = (id: string, index: number): SweepJob => ({ id, index, workload: 'pciebench', run: 'timed', settings: { 'workload.size': 64 } });
const [a, b, c, d] = [job('aaaa', 0), job('bbbb', 1), job('cccc', 2), job('dddd', 3)];

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'iommusim-sweep-phases-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('journalLine', () => {
  it('the id, the job, then the one outcome field with its JSON as given', () => {
    expect(journalLine(a, 'error', JSON.stringify('boom "x"'))).toBe(
      '{"id":"aaaa","job":{"id":"aaaa","index":0,"workload":"pciebench","run":"timed","settings":{"workload.size":64}},"error":"boom \\"x\\""}');
    expect(JSON.parse(journalLine(b, 'result', '{"n":1}'))).toEqual({ id: 'bbbb', job: b, result: { n: 1 } });
    expect(JSON.parse(journalLine(c, 'refused', '"no virtio"'))).toEqual({ id: 'cccc', job: c, refused: 'no virtio' });
  });
});

describe('finalOutcomes', () => {
  it('a result or a refusal is kept, a failure or no record is not; only the given jobs, in their order', () => {
    const latest = new Map<string, SweepRecord>([
      ['dddd', { id: 'dddd', job: d, refused: 'xen refuses virtio' }],
      ['bbbb', { id: 'bbbb', job: b, error: 'boom' }],
      ['aaaa', { id: 'aaaa', job: a, result: JSON.parse('{"n":1}') }],
      ['eeee', { id: 'eeee', job: job('eeee', 4), refused: 'not this shard' }],
    ]);
    const got = finalOutcomes([a, b, c, d], latest);
    expect([...got.keys()]).toEqual(['aaaa', 'dddd']);
    expect(got.get('dddd')).toBe(latest.get('dddd'));
    expect(finalOutcomes([b, c], latest).size).toBe(0);
  });
});

describe('checkSameSweep', () => {
  const manifest = (name: string, jobs: SweepJob[], shard?: [number, number]): SweepManifest => ({ schema: SWEEP_SCHEMA, name, spec: `/s/${name}.yaml`, ...(shard ? { shard } : {}), jobs });
  const spec = { name: 'small', file: '/s/small.yaml', jobs: [a, b] };
  it('the same sweep and shard passes', () => {
    expect(() => checkSameSweep(manifest('small', [a, b]), '/o/sweep.json', spec)).not.toThrow();
    expect(() => checkSameSweep(manifest('small', [a, b], [2, 3]), '/o/sweep.json', spec, [2, 3])).not.toThrow();
  });
  it('another name or other jobs: what differs, in one line', () => {
    expect(() => checkSameSweep(manifest('old', [a, b]), '/o/sweep.json', spec)).toThrow(
      '/o/sweep.json: the folder holds another sweep (old, 2 jobs) than /s/small.yaml (small, 2 jobs): name old → small; use another --out, or drop --resume to start over');
    expect(() => checkSameSweep(manifest('small', [b, a]), '/o/sweep.json', spec)).toThrow(
      '/o/sweep.json: the folder holds another sweep (small, 2 jobs) than /s/small.yaml (small, 2 jobs): the same jobs in another order; use another --out, or drop --resume to start over');
  });
  it('another shard, or a shard and the whole sweep: how to resume it', () => {
    expect(() => checkSameSweep(manifest('small', [a, b], [1, 2]), '/o/sweep.json', spec)).toThrow(
      '/o/sweep.json: the folder holds shard 1/2 of small, not the whole sweep; resume with --shard 1/2, or use another --out');
    expect(() => checkSameSweep(manifest('small', [a, b]), '/o/sweep.json', spec, [2, 3])).toThrow(
      '/o/sweep.json: the folder holds the whole sweep of small, not shard 2/3; resume without --shard, or use another --out');
  });
});

describe('Journal', () => {
  it('a line per append; emptied when not resuming', () => {
    const f = join(dir, 'new.jsonl');
    writeFileSync(f, 'old\n');
    const j = Journal.open(f, false, 0);
    j.append('{"x":1}');
    j.append('{"é":2}');
    j.close();
    expect(readFileSync(f, 'utf8')).toBe('{"x":1}\n{"é":2}\n');
    expect(j.failed).toBeUndefined();
    expect(j.abort.signal.aborted).toBe(false);
  });
  it('resumed: cut to the whole lines (goodBytes), then appended', () => {
    const f = join(dir, 'resume.jsonl');
    writeFileSync(f, 'a\nb\n{"half');
    const j = Journal.open(f, true, 4);
    j.append('c');
    j.close();
    expect(readFileSync(f, 'utf8')).toBe('a\nb\nc\n');
  });
  it('a failed append: remembered, the pool\'s jobs aborted, JournalError thrown', () => {
    const j = Journal.open(join(dir, 'fail.jsonl'), false, 0);
    j.close(); // the next write fails (EBADF), and so does the cut after it
    expect(() => j.append('x')).toThrow('results.jsonl write failed');
    expect((j.failed as NodeJS.ErrnoException).code).toBe('EBADF');
    expect(j.abort.signal.aborted).toBe(true);
  });
  it('a folder that is not there: one line naming the file (InputError)', () => {
    const f = join(dir, 'missing', 'results.jsonl');
    expect(() => Journal.open(f, false, 0)).toThrow(`${f}: folder ${join(dir, 'missing')} does not exist; create it (mkdir -p ${join(dir, 'missing')}) or pick another --out path`);
  });
});

describe('doneLine', () => {
  const rec = (j: SweepJob, o: Partial<SweepRecord>): SweepRecord => ({ id: j.id, job: j, ...o });
  it('jobs ok of the shard\'s, failed and refused with their files when there are any, run, resumed, seconds to 0.1', () => {
    expect(doneLine({ name: 'small', out: '/o', shardJobs: 4, ran: 3, skipped: 1, results: 2, errors: [rec(b, { error: 'boom' })], refused: [rec(d, { refused: 'no' })], wallMs: 1249 })).toBe(
      'sweep small: 2/4 jobs ok, 1 failed (/o/errors.json), 1 refused by their device or hypervisor (/o/refused.json), 3 run, 1 resumed, 1.2 s → /o/results.json');
    expect(doneLine({ name: 'small', out: 'rel/o', shardJobs: 2, ran: 2, skipped: 0, results: 2, errors: [], refused: [], wallMs: 40 })).toBe(
      'sweep small: 2/2 jobs ok, 2 run, 0 resumed, 0.0 s → rel/o/results.json');
  });
});
