/**
 * This build's results against another build's, byte for byte: the check behind "results stay
 * byte-identical across every speed change". Runs, with each build's CLI, every shipped workload
 * (timed and functional, --json), `compare` on a NIC and a GPU workload, both shipped sweeps
 * (results.json) and `validate --json`, then compares the files after replacing each checkout's own
 * path with ROOT. Prints one line per file that differs (and per job a build could not run) and
 * exits 1 if any.
 *
 *   git worktree add /tmp/old <commit> && (cd /tmp/old && ln -s "$PWD/node_modules" . && npx tsc -p tsconfig.json)
 *   node dist/bench/same.js --old /tmp/old [--out DIR] [--only nic-10g-tcp,validate]
 *
 * `--only` keeps the named jobs (workload names, compare-nic, compare-gpu, sweep-<name>, validate).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const newDir = resolve(fileURLToPath(new URL('../..', import.meta.url))); // the checkout of dist/bench/
const oldDir = resolve(arg('--old', ''));
const outDir = resolve(arg('--out', join(tmpdir(), 'iommusim-same')));
const only = arg('--only', '').split(',').filter((s) => s !== '');
const cli = (dir: string): string => join(dir, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(cli(oldDir))) {
  process.stderr.write(`same: ${cli(oldDir)} not found; build the old checkout first (--old DIR: its dist/src/cli/main.js)\n`);
  process.exit(2);
}

/** The shipped workloads (workloads/<kind>/<name>.yaml, validation anchors and sweeps aside). */
function shippedWorkloads(): string[] {
  const names: string[] = [];
  for (const kind of readdirSync(join(newDir, 'workloads'), { withFileTypes: true })) {
    if (!kind.isDirectory() || kind.name === 'validation' || kind.name === 'sweeps' || kind.name === 'captures') continue;
    for (const f of readdirSync(join(newDir, 'workloads', kind.name))) if (f.endsWith('.yaml')) names.push(f.slice(0, -5));
  }
  return names.sort();
}

type Job = { name: string; run: (dir: string, out: string) => void };
const node = (dir: string, args: string[]): void => { execFileSync(process.execPath, [cli(dir), ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }); };
const jobList: Job[] = [
  ...shippedWorkloads().map((w): Job => ({
    name: w,
    run: (dir, out) => { node(dir, ['run', w, '--json', join(out, `${w}.timed.json`)]); node(dir, ['run', w, '--functional', '--json', join(out, `${w}.func.json`)]); },
  })),
  { name: 'compare-nic', run: (dir: string, out: string) => node(dir, ['compare', 'nic-10g-tcp', '--quiet', '--json', join(out, 'compare-nic.json')]) },
  { name: 'compare-gpu', run: (dir: string, out: string) => node(dir, ['compare', 'gpu-training-h2d', '--quiet', '--json', join(out, 'compare-gpu.json')]) },
  ...['io-paths', 'iotlb-size'].map((s): Job => ({
    name: `sweep-${s}`,
    run: (dir, out) => {
      node(dir, ['sweep', join('workloads', 'sweeps', `${s}.yaml`), '--quiet', '--out', join(out, `sweep-${s}`), '--workers', '2']);
      copyFileSync(join(out, `sweep-${s}`, 'results.json'), join(out, `sweep-${s}.json`));
    },
  })),
  { name: 'validate', run: (dir: string, out: string) => node(dir, ['validate', '--json', join(out, 'validate.json')]) },
];
const unknown = only.filter((n) => !jobList.some((j) => j.name === n));
if (unknown.length > 0) {
  process.stderr.write(`same: --only ${unknown.join(',')}: no such job; the jobs are ${jobList.map((j) => j.name).join(', ')}\n`);
  process.exit(2);
}
const jobs = jobList.filter((j) => only.length === 0 || only.includes(j.name));

rmSync(outDir, { recursive: true, force: true });
const sides = [['old', oldDir], ['new', newDir]] as const;
let failed = 0;
for (const [side, dir] of sides) {
  mkdirSync(join(outDir, side), { recursive: true });
  for (const j of jobs) {
    try { j.run(dir, join(outDir, side)); } catch (e) {
      // a job one build cannot run (an unknown workload, a refused setting): its files are missing, so it differs
      const err = (e as { stderr?: Buffer }).stderr?.toString().trim().split('\n')[0] ?? String(e);
      failed++;
      process.stdout.write(`FAIL ${j.name} (${side} build): ${err}\n`);
    }
  }
}
const norm = (file: string, dir: string): string => readFileSync(file, 'utf8').split(dir).join('ROOT');
let differ = 0, files = 0;
const names = new Set([...readdirSync(join(outDir, 'old')), ...readdirSync(join(outDir, 'new'))].filter((x) => x.endsWith('.json')));
for (const f of [...names].sort()) {
  files++;
  const b = join(outDir, 'new', f);
  const a = join(outDir, 'old', f);
  if (!existsSync(a) || !existsSync(b) || norm(a, oldDir) !== norm(b, newDir)) { differ++; process.stdout.write(`DIFF ${f}\n`); }
}
process.stdout.write(`${files} result files, ${differ} differ, ${failed} jobs failed (${outDir})\n`);
process.exit(differ > 0 || failed > 0 ? 1 : 0);
