/**
 * This build against another, side by side in the same minutes (this machine's speed drifts 2×
 * within minutes, so figures of different minutes cannot be compared): the timing suite's tasks,
 * each in its own process, alternating old/new as A B B A per round, and the ratio of the medians.
 *
 *   git worktree add /tmp/old <commit> && (cd /tmp/old && ln -s "$PWD/node_modules" . && npx tsc -p tsconfig.json)
 *   node dist/bench/ab.js --old /tmp/old [--tasks 0,1,2,3,4,5,8] [--rounds 3]
 *
 * A task's figure is the median per-call throughput of its process (7 calls, tinybench); the
 * ratio is new/old time per item (1.25 = 25 % slower). Both builds must define the task the same
 * way (bench/timing.bench.ts): the inputs are its own.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const oldDir = resolve(arg('--old', ''));
const tasks = arg('--tasks', '0,1,2,3,4,5,8').split(',').map(Number);
const rounds = Number(arg('--rounds', '3'));
const here = fileURLToPath(new URL('.', import.meta.url)); // dist/bench/
const newBench = join(here, 'timing.bench.js');
const oldBench = join(oldDir, 'dist', 'bench', 'timing.bench.js');
if (!existsSync(oldBench)) {
  process.stderr.write(`ab: ${oldBench} not found; build the old checkout first (--old DIR: its dist/bench/timing.bench.js)\n`);
  process.exit(2);
}

interface Fig { name: string; itemsPerSec: number; eventsPerItem?: number }
const runTask = (bench: string, k: number): Fig => {
  const out = execFileSync(process.execPath, [bench, '--task', String(k)], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`${bench} --task ${k} printed no figure`);
  return JSON.parse(line) as Fig;
};
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

process.stdout.write(`\n## this build vs ${oldDir} (M items/s, median of each process's calls; ${rounds} rounds of A B B A)\n\n| task | old | new | new/old time per item |\n| --- | --- | --- | --- |\n`);
for (const k of tasks) {
  const o: number[] = [], n: number[] = [];
  let name = '';
  for (let r = 0; r < rounds; r++) {
    o.push(runTask(oldBench, k).itemsPerSec);
    const a = runTask(newBench, k); name = a.name; n.push(a.itemsPerSec);
    n.push(runTask(newBench, k).itemsPerSec);
    o.push(runTask(oldBench, k).itemsPerSec);
  }
  const mo = median(o), mn = median(n);
  process.stdout.write(`| ${k}: ${name} | ${(mo / 1e6).toFixed(2)} (${o.map((x) => (x / 1e6).toFixed(2)).join(', ')}) | ${(mn / 1e6).toFixed(2)} (${n.map((x) => (x / 1e6).toFixed(2)).join(', ')}) | ${(mo / mn).toFixed(2)} |\n`);
}
