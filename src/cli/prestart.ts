/**
 * How many pool threads the command about to run will want, read from the raw command line before
 * the CLI's modules load (main.ts): `sweep`, `compare` and `validate` run on a worker pool, whose
 * threads then start and load the simulator while this thread loads commander, chart.js and the
 * rest. Only a guess to start early: the command decides (src/run/sweep/pool.ts: a pool of another
 * size is dropped, one nobody takes is destroyed). Imports nothing heavy.
 */
import { availableParallelism } from 'node:os';

/** The value of `--name V` or `--name=V` in args, if there. */
function optionValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

/** Threads to start for `iommusim <args>` (args: the command line after the script), 0 for none. */
export function earlyThreads(args: string[]): number {
  const cmd = args[0];
  if (cmd !== 'sweep' && cmd !== 'compare' && cmd !== 'validate') return 0;
  if (args.includes('--help') || args.includes('-h')) return 0;
  const text = optionValue(args, '--workers');
  const workers = text === undefined ? availableParallelism() : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) return 0; // 0 (this thread), or a bad value the command reports
  if (cmd === 'sweep') return workers;
  // compare: a job per I/O path (the default: 7 paths); validate: one per anchor, or one with --anchor and no --out
  const modes = optionValue(args, '--modes');
  const jobs = cmd === 'compare'
    ? (modes === undefined ? 7 : modes.split(',').filter((m) => m.trim() !== '').length)
    : optionValue(args, '--anchor') !== undefined && optionValue(args, '--out') === undefined ? 1 : Infinity;
  return workers <= 1 || jobs <= 1 ? 0 : Math.min(workers, jobs);
}
