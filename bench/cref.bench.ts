/**
 * Issue #17: iommusim's whole-process functional replay against a C reference of the same model
 * (bench/cref/replay.c), on the same 1.5 M-record, ~25 M-lookup CSV trace (bench/cref/gen-trace.ts),
 * each run as its own process, alternating C, iommusim, iommusim, C in each round so that both
 * meet the same minutes of this machine's drifting speed. Prints both medians, their ratio (goal:
 * iommusim ≤ 1.5 × C) and both count sets, which must be equal. Skipped with a note when no C
 * compiler is present.
 *
 *   node dist/bench/cref.bench.js [--rounds 3] [--records 1500000] [--trace FILE]
 *   node dist/bench/cref.bench.js --ab OLD_CHECKOUT   # iommusim this build vs another (built), A B B A
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildReference, crefCounts, repoRoot, type CrefCounts } from './cref/cref.js';
import { writeCrefTrace } from './cref/gen-trace.js';
import type { RunResult } from '../src/run/result.js';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** /bin/sh, when present: it runs each process and reports its CPU time (the `times` builtin). */
const SH = existsSync('/bin/sh') ? '/bin/sh' : undefined;

/**
 * One process: its wall time (ms), its CPU time (user + system over all its threads, ms; NaN
 * without /bin/sh) and its stdout; throws with its stderr when it fails. The CPU time is the
 * steadier figure on a shared machine (others' load stretches wall time more than CPU time).
 */
function timed(cmd: string, args: string[]): { ms: number; cpuMs: number; out: string } {
  const t0 = process.hrtime.bigint();
  // sh runs the command, then `times` prints the shell's and its children's user and system time
  const r = SH
    ? spawnSync(SH, ['-c', '"$0" "$@" > "$CREF_OUT"; s=$?; times >&2; exit $s', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, CREF_OUT: outFile } })
    : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  let cpuMs = NaN;
  if (SH) {
    const t = r.stderr.trim().split('\n').pop()!.match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
    if (t) cpuMs = (Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4])) * 1000;
  }
  return { ms, cpuMs, out: SH ? readFileSync(outFile, 'utf8') : r.stdout };
}
let outFile = '';

/** `node <root>/dist/src/cli/main.js run TRACE --functional --json OUT`: time and counts. */
function iommusimRun(root: string, trace: string, out: string): { ms: number; cpuMs: number; counts: CrefCounts; json: string } {
  const { ms, cpuMs } = timed(process.execPath, [join(root, 'dist', 'src', 'cli', 'main.js'), 'run', trace, '--functional', '--json', out]);
  const json = readFileSync(out, 'utf8');
  return { ms, cpuMs, counts: crefCounts(JSON.parse(json) as RunResult), json };
}

const s = (ms: number): string => (ms / 1000).toFixed(2);

export async function run(): Promise<void> {
  const rounds = Number(arg('--rounds') ?? process.env.CREF_BENCH_ROUNDS ?? 3);
  const records = Number(arg('--records') ?? 1_500_000);
  const ab = arg('--ab');
  const root = repoRoot();
  const ref = ab ? undefined : buildReference();
  if (ref && 'note' in ref) {
    process.stdout.write(`\n## functional replay vs C (issue #17)\n\nskipped: ${ref.note}\n`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'iommusim-cref-bench-'));
  outFile = join(dir, 'stdout.txt');
  try {
    let trace = arg('--trace');
    if (!trace) {
      trace = join(dir, 'cref.csv');
      const g = writeCrefTrace(trace, { records, seed: 1 });
      process.stdout.write(`\ntrace: ${g.records.toLocaleString('en-US')} records, ${g.dmas.toLocaleString('en-US')} DMAs, ${g.pages.toLocaleString('en-US')} page lookups (bench/cref/gen-trace.ts, seed 1)\n`);
    }
    if (ab) {
      const old = resolve(ab);
      if (!existsSync(join(old, 'dist', 'src', 'cli', 'main.js'))) throw new Error(`--ab ${old}: no dist/src/cli/main.js there; build that checkout first`);
      const o: number[] = [], n: number[] = [], oc: number[] = [], nc: number[] = [];
      let same = true;
      for (let r = 0; r < rounds; r++) {
        const a1 = iommusimRun(old, trace, join(dir, 'old.json'));
        const b1 = iommusimRun(root, trace, join(dir, 'new.json'));
        const b2 = iommusimRun(root, trace, join(dir, 'new.json'));
        const a2 = iommusimRun(old, trace, join(dir, 'old.json'));
        o.push(a1.ms, a2.ms);
        n.push(b1.ms, b2.ms);
        oc.push(a1.cpuMs, a2.cpuMs);
        nc.push(b1.cpuMs, b2.cpuMs);
        // the whole result, byte for byte, but for the version fields
        if (a1.json.replace(/"iommusim": "[^"]*"/, '') !== b1.json.replace(/"iommusim": "[^"]*"/, '')) same = false;
      }
      process.stdout.write(`\n## iommusim functional replay: this build vs ${old} (${rounds} rounds of A B B A, whole processes)\n\n| build | wall, median | runs (s) | CPU, median | runs (s) |\n| --- | --- | --- | --- | --- |\n`);
      process.stdout.write(`| old | ${s(median(o))} s | ${o.map(s).join(', ')} | ${s(median(oc))} s | ${oc.map(s).join(', ')} |\n`);
      process.stdout.write(`| new | ${s(median(n))} s | ${n.map(s).join(', ')} | ${s(median(nc))} s | ${nc.map(s).join(', ')} |\n\n`);
      process.stdout.write(`new/old: **${(median(n) / median(o)).toFixed(3)}** wall, ${(median(nc) / median(oc)).toFixed(3)} CPU; results ${same ? 'byte-identical' : '**DIFFER**'}\n`);
      return;
    }
    const exe = (ref as { exe: string }).exe;
    const c: number[] = [], m: number[] = [], ccpu: number[] = [], mcpu: number[] = [];
    let cc: CrefCounts | undefined, mc: CrefCounts | undefined;
    for (let r = 0; r < rounds; r++) {
      const c1 = timed(exe, [trace]);
      const m1 = iommusimRun(root, trace, join(dir, 'r.json'));
      const m2 = iommusimRun(root, trace, join(dir, 'r.json'));
      const c2 = timed(exe, [trace]);
      c.push(c1.ms, c2.ms);
      m.push(m1.ms, m2.ms);
      ccpu.push(c1.cpuMs, c2.cpuMs);
      mcpu.push(m1.cpuMs, m2.cpuMs);
      cc = JSON.parse(c2.out) as CrefCounts;
      mc = m2.counts;
    }
    const equal = isDeepStrictEqual(cc, mc);
    const ratio = median(m) / median(c);
    process.stdout.write(`\n## functional replay vs C (issue #17): whole processes, ${rounds} rounds of C, iommusim, iommusim, C\n\n| program | wall, median | runs (s) | CPU, median | runs (s) |\n| --- | --- | --- | --- | --- |\n`);
    process.stdout.write(`| C reference (cc -O2 bench/cref/replay.c) | ${s(median(c))} s | ${c.map(s).join(', ')} | ${s(median(ccpu))} s | ${ccpu.map(s).join(', ')} |\n`);
    process.stdout.write(`| iommusim run FILE --functional --json | ${s(median(m))} s | ${m.map(s).join(', ')} | ${s(median(mcpu))} s | ${mcpu.map(s).join(', ')} |\n\n`);
    process.stdout.write(`iommusim / C: **${ratio.toFixed(2)}×** wall (goal ≤ 1.5×), ${(median(mcpu) / median(ccpu)).toFixed(2)}× CPU (user + system, all threads)\n\ncounts ${equal ? 'equal' : '**DIFFER**'}:\n\n`);
    const flat = (o: unknown, p = ''): Array<[string, unknown]> => (typeof o === 'object' && o !== null ? Object.entries(o).flatMap(([k, v]) => flat(v, p ? `${p}.${k}` : k)) : [[p, o]]);
    const mm = new Map(flat(mc));
    process.stdout.write('| count | C | iommusim |\n| --- | --- | --- |\n');
    for (const [k, v] of flat(cc)) process.stdout.write(`| ${k} | ${String(v)} | ${String(mm.get(k))}${mm.get(k) === v ? '' : ' ≠'} |\n`);
    if (!equal) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
