/**
 * A sweep's trace file too big to share (larger than the share limit) is streamed by each job's
 * worker through the replay `run` streams it with: the results are the shared path's, byte for byte.
 * The pool runs the compiled worker, so the modules come from dist/ (npm test builds it; a single
 * file: npm run build first).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, copyFileSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../../setup/tmp.js';
import { csvToJsonl } from '../../setup/traces.js';

type SweepMod = typeof import('../../../src/run/sweep/sweep.js');
type SharedMod = typeof import('../../../src/run/sweep/shared-trace.js');
type InputsMod = typeof import('../../../src/run/inputs.js');
type ReportMod = typeof import('../../../src/report/report.js');
type CsvMod = typeof import('../../../src/report/csv.js');
type ConfigMod = typeof import('../../../src/config/config.js');

const root = resolve(import.meta.dirname, '../../..');
const dist = (p: string): string => pathToFileURL(join(root, 'dist', p)).href;
let sweep: SweepMod, shared: SharedMod, inputs: InputsMod, report: ReportMod, csv: CsvMod, config: ConfigMod;

const dir = tempDir('iommusim-sweep-stream-');
const file = (name: string, text: string | Uint8Array): string => { const f = join(dir, name); writeFileSync(f, text); return f; };
const read = (d: string, f = 'results.json'): string => readFileSync(join(d, f), 'utf8');

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/src/run/sweep/worker.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  sweep = (await import(dist('src/run/sweep/sweep.js'))) as SweepMod;
  shared = (await import(dist('src/run/sweep/shared-trace.js'))) as SharedMod;
  inputs = (await import(dist('src/run/inputs.js'))) as InputsMod;
  report = (await import(dist('src/report/report.js'))) as ReportMod;
  csv = (await import(dist('src/report/csv.js'))) as CsvMod;
  config = (await import(dist('src/config/config.js'))) as ConfigMod;
  const { writeIotrace } = (await import(dist('src/trace/iotrace.js'))) as typeof import('../../../src/trace/iotrace.js');
  const { writeCsvTrace } = (await import(dist('src/trace/importers/csv.js'))) as typeof import('../../../src/trace/importers/csv.js');
  // a NIC trace (descriptor rings, maps and unmaps, kinds) in the formats that stream
  const t = inputs.resolveInput('nic-10g-udp64', [['workload.count', 1500]])[0].columns!;
  file('t.iotrace', writeIotrace(t));
  const text = writeCsvTrace(t);
  file('t.csv', text);
  file('t.jsonl', csvToJsonl(text));
  file('t.csv.gz', gzipSync(text));
  copyFileSync(join(root, 'test/fixtures/pcap/http_mixed_lo64k_snap128.pcap'), join(dir, 'cap.pcap'));
  copyFileSync(join(root, 'test/fixtures/ftrace/synthetic_tracefs_5flags.txt'), join(dir, 'f.txt'));
  // a workload spec naming a trace: its results carry the spec's name
  file('lbl.yaml', 'name: lbl\ndescription: the CSV trace under a workload spec\ntrace: t.csv\nsettings:\n  iommu.iotlb.entries: 32\n');
});

/** Every file streamed (limit 0) and every file shared (the default): results.json, results.csv, errors.json. */
async function bothWays(spec: string, name: string, workers: number): Promise<{ streamed: Record<string, string>; shared: Record<string, string>; s0: Awaited<ReturnType<SweepMod['runSweep']>>; s1: Awaited<ReturnType<SweepMod['runSweep']>> }> {
  const out = (o: string): Record<string, string> => {
    const r: Record<string, string> = { json: read(o), errors: read(o, 'errors.json') };
    r.csv = csv.renderCsv(report.loadResults(join(o, 'results.json')));
    return r;
  };
  const o0 = join(dir, `${name}-w${workers}-streamed`);
  const o1 = join(dir, `${name}-w${workers}-shared`);
  const s0 = await sweep.runSweep(spec, { out: o0, workers, quiet: true, shareLimitBytes: 0 });
  const s1 = await sweep.runSweep(spec, { out: o1, workers, quiet: true });
  return { streamed: out(o0), shared: out(o1), s0, s1 };
}

describe('sweep: a trace too big to share is streamed by each worker', () => {
  const SPEC = `name: streamed
workloads: [./t.iotrace, ./t.csv, ./t.jsonl, ./t.csv.gz, ./cap.pcap, ./f.txt, ./lbl.yaml]
axes:
  run: [timed, functional]
  iommu.mode: [strict, lazy]
`;
  let reference = '';
  for (const workers of [1, 2]) {
    it(`.iotrace, CSV (plain and gzip), JSONL, pcap, ftrace, timed and functional, on ${workers} worker(s): results.json and results.csv the shared path's, byte for byte`, async () => {
      const f = file('streamed.yaml', SPEC);
      const { streamed, shared: sh, s0, s1 } = await bothWays(f, 'all', workers);
      // streamed: nothing parsed in the main thread; shared: every file parsed once (ftrace and CSV/JSONL keyed by their settings: one each here)
      expect(s0.shared).toEqual({ loads: 0, bytes: 0, streamed: 6 });
      expect(s1.shared).toMatchObject({ loads: 6, streamed: 0 });
      expect(s0).toMatchObject({ jobs: 28, results: 28, errors: [] });
      expect(s1).toMatchObject({ jobs: 28, results: 28, errors: [] });
      expect(streamed.json).toBe(sh.json);
      expect(streamed.csv).toBe(sh.csv);
      expect(streamed.errors).toBe('[]\n');
      if (reference) expect(sh.json).toBe(reference); // 1 and 2 workers agree too
      reference = sh.json;
      const results = JSON.parse(sh.json) as Array<{ workload: { name: string; format: string; records: number }; metrics: { throughputGbps?: number } }>;
      expect(results.map((r) => r.workload.format)).toEqual(['iotrace', 'csv', 'jsonl', 'csv', 'pcap', 'ftrace', 'csv'].flatMap((f) => Array(4).fill(f)));
      expect(results[24].workload.name).toBe('lbl');
      // timed jobs have timing figures, functional ones none
      expect(results.slice(0, 4).map((r) => r.metrics.throughputGbps !== undefined)).toEqual([true, true, false, false]);
    }, 180_000);
  }

  it('in this thread (workers: 0) too, and the limit is a size: a file at the limit is shared, one byte over it streamed', async () => {
    const f = file('two.yaml', 'name: two\nworkloads: [./t.iotrace, ./t.csv]\naxes:\n  run: [timed, functional]\n');
    const { streamed, shared: sh } = await bothWays(f, 'two', 0);
    expect(streamed.json).toBe(sh.json);
    const size = statSync(join(dir, 't.csv')).size;
    const at = await sweep.runSweep(f, { out: join(dir, 'at'), workers: 0, quiet: true, shareLimitBytes: size });
    expect(at.shared).toMatchObject({ loads: 2, streamed: 0 });
    // t.iotrace is smaller than t.csv: it is still shared
    expect(statSync(join(dir, 't.iotrace')).size).toBeLessThan(size - 1);
    const over = await sweep.runSweep(f, { out: join(dir, 'over'), workers: 0, quiet: true, shareLimitBytes: size - 1 });
    expect(over.shared).toMatchObject({ loads: 1, streamed: 1 });
    expect(read(join(dir, 'at'))).toBe(sh.json);
    expect(read(join(dir, 'over'))).toBe(sh.json);
  }, 120_000);

  it('bad input in a streamed job fails that job with the one-line error of the shared path (CSV: in the replay; JSONL: on the first pass)', async () => {
    const lines = readFileSync(join(dir, 't.csv'), 'utf8').split('\n');
    lines[700] = lines[700].replace(/,(\d+),/, ',12x,');
    file('bad.csv', lines.join('\n'));
    const jl = readFileSync(join(dir, 't.jsonl'), 'utf8').split('\n');
    jl[300] = jl[300].slice(0, -5);
    file('bad.jsonl', jl.join('\n'));
    const f = file('bad.yaml', 'name: bad\nworkloads: [./bad.csv, ./bad.jsonl, ./t.iotrace]\naxes:\n  run: [timed, functional]\n');
    for (const workers of [2, 0]) {
      const { streamed, shared: sh, s0, s1 } = await bothWays(f, 'bad', workers);
      expect(s0.errors.length).toBe(4);
      expect(s0.results).toBe(2);
      expect(streamed.errors).toBe(sh.errors);
      expect(streamed.json).toBe(sh.json);
      const errs = s0.errors.map((e) => (e as { error: string }).error);
      expect(errs.map((e) => e.includes('\n'))).toEqual([false, false, false, false]);
      expect(errs[0]).toMatch(/bad\.csv:701: size '12x' is not a whole number/);
      expect(errs[2]).toMatch(/bad\.jsonl:301: /);
      expect(s1.errors.map((e) => (e as { error: string }).error)).toEqual(errs);
    }
  }, 180_000);

  it('a file vanished after the decision fails each job with the read error, one line', async () => {
    copyFileSync(join(dir, 't.csv'), join(dir, 'gone.csv'));
    const f = file('gone.yaml', 'name: gone\nworkloads: [./gone.csv]\naxes:\n  run: [timed, functional]\n');
    const { rmSync } = await import('node:fs');
    const s = await sweep.runSweep(f, { out: join(dir, 'gone'), workers: 2, quiet: true, shareLimitBytes: 0, onReady: () => rmSync(join(dir, 'gone.csv')) });
    expect(s.errors.length).toBe(2);
    for (const e of s.errors) expect((e as { error: string }).error).toMatch(/^[^\n]*gone\.csv: cannot read the trace \(ENOENT\); check the path[^\n]*$/);
  }, 60_000);
});

describe('the share limit', () => {
  it('TraceShares: decided from the content size before parsing; formats that do not stream are shared whatever their size', () => {
    const cfg = config.buildConfig([]);
    const shares = new shared.TraceShares(0);
    const io = shares.trace(join(dir, 't.iotrace'), 'auto', cfg);
    expect(io).toMatchObject({ stream: { kind: 'stream', format: 'iotrace', path: join(dir, 't.iotrace') } });
    // an .iotrace's records are counted from its header (the job order); a text file's are guessed from its size
    expect('stream' in io && io.stream.records).toBe(inputs.resolveInput(join(dir, 't.iotrace'), [])[0].columns!.count);
    expect(shares.trace(join(dir, 't.csv.gz'), 'auto', cfg)).toMatchObject({ stream: { format: 'csv' } });
    // a gzip .iotrace and a GPU export are shared (they do not stream)
    file('t.iotrace.gz', gzipSync(readFileSync(join(dir, 't.iotrace'))));
    expect(shares.trace(join(dir, 't.iotrace.gz'), 'auto', cfg)).toMatchObject({ trace: { kind: 'columns', format: 'iotrace' } });
    copyFileSync(join(root, 'test/fixtures/gpu/synthetic_cupti_memcpy.csv'), join(dir, 'gpu.csv'));
    expect(shares.trace(join(dir, 'gpu.csv'), 'gpu', config.buildConfig([['workload.kind', 'gpu-uvm']]))).toMatchObject({ trace: { kind: 'columns', format: 'gpu' } });
    expect(shares.streamed).toBe(2);
    expect(shares.streamedFiles.map((s) => s.path)).toEqual([join(dir, 't.iotrace'), join(dir, 't.csv.gz')]);
    // an unknown format: every job on it gets the whole read's error, found by the probe
    file('junk.bin', new Uint8Array(64).fill(7));
    const junk = shares.trace(join(dir, 'junk.bin'), 'auto', cfg);
    expect(junk).toEqual({ error: expect.stringMatching(/junk\.bin: unknown trace format/) });
    expect(new shared.TraceShares().trace(join(dir, 'junk.bin'), 'auto', cfg)).toEqual(junk);
    // a missing file: the whole read's error
    expect(shares.trace(join(dir, 'nope.csv'), 'auto', cfg)).toEqual({ error: expect.stringMatching(/nope\.csv: cannot read the trace \(ENOENT\)/) });
  });

  it('contentBytes: the size on disk; a gzip file the size its trailer gives when larger', () => {
    expect(shared.contentBytes(join(dir, 't.csv'))).toBe(statSync(join(dir, 't.csv')).size);
    expect(shared.contentBytes(join(dir, 't.csv.gz'))).toBe(statSync(join(dir, 't.csv')).size);
    expect(statSync(join(dir, 't.csv.gz')).size).toBeLessThan(statSync(join(dir, 't.csv')).size);
    expect(shared.contentBytes(join(dir, 'nope.csv'))).toBeUndefined();
    expect(shared.contentBytes(dir)).toBeUndefined();
  });

  it('--share-limit-mib: a number of MiB ≥ 0, else one line; runSweep checks shareLimitBytes', async () => {
    expect(sweep.parseShareLimitMib('0')).toBe(0);
    expect(sweep.parseShareLimitMib('256')).toBe(256 * 2 ** 20);
    expect(sweep.parseShareLimitMib('0.5')).toBe(2 ** 19);
    for (const bad of ['-1', 'x', '', '1e3', '2 MiB']) {
      expect(() => sweep.parseShareLimitMib(bad)).toThrow(new RegExp(`^--share-limit-mib ${bad.replace('+', '\\+')}: not a number of MiB ≥ 0; e\\.g\\. --share-limit-mib 256 \\(`));
    }
    await expect(sweep.runSweep(join(dir, 'two.yaml'), { out: join(dir, 'neg'), workers: 0, quiet: true, shareLimitBytes: -1 })).rejects.toThrow(/^shareLimitBytes -1: not a number of bytes ≥ 0/);
    expect(existsSync(join(dir, 'neg'))).toBe(false);
  });

  it('end to end: iommusim sweep --share-limit-mib (a bad value: one line, exit 2; 0: the streamed file named on stderr, the same results)', () => {
    const cli = (args: string[]) => spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'sweep', join(dir, 'two.yaml'), ...args], { cwd: dir, encoding: 'utf8' });
    const bad = cli(['--out', join(dir, 'cli-bad'), '--share-limit-mib', 'lots', '--workers', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('iommusim: --share-limit-mib lots: not a number of MiB ≥ 0; e.g. --share-limit-mib 256 (a trace file larger is streamed by each worker; 0: every trace file that streams)\n');
    expect(existsSync(join(dir, 'cli-bad'))).toBe(false);
    const ok = cli(['--out', join(dir, 'cli-0'), '--share-limit-mib', '0', '--workers', '1', '--no-report']);
    expect(ok.status).toBe(0);
    expect(ok.stderr).toContain(`sweep two: ${join(dir, 't.iotrace')} (`);
    expect(ok.stderr).toMatch(/t\.csv \(0\.\d MiB\) is streamed by each job's worker, not shared \(larger than the share limit, 0 MiB\)/);
    expect(read(join(dir, 'cli-0'))).toBe(read(join(dir, 'two-w0-shared')));
  }, 60_000);
});
