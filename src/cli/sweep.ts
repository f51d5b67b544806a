/** `iommusim sweep SPEC` on a worker pool, and `iommusim merge` of shard outputs. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runSweep, parseShard, parseShareLimitMib } from '../run/sweep/sweep.js';
import { mergeShards } from '../run/sweep/merge.js';
import { describeJob } from '../run/sweep/spec.js';
import { loadResults, writeReport, type PngRenderer } from '../report/report.js';
import { checkOutputDir } from '../util/output.js';
import { openRunner } from '../run/sweep/pool.js';
import { workersOption, pngOn } from './workers.js';

async function reportIfAny(out: string, quiet?: boolean, renderPng?: PngRenderer): Promise<void> {
  const results = join(out, 'results.json');
  if (!existsSync(results)) return;
  const { files } = await writeReport(loadResults(results), out, { renderPng });
  if (!quiet) process.stderr.write(`report: ${join(out, 'report.html')} (${files.length} files)\n`);
}

/** This process's command line as the user typed it, for whoever finds the folder locked. */
const command = (): string => ['iommusim', ...process.argv.slice(2)].join(' ');

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('run a sweep spec (workloads × parameter axes, I/O paths × hypervisors) on a worker pool; results as jobs finish, resumable, shardable')
    .argument('<spec>', 'sweep spec (YAML or JSON): workloads, axes, settings, jobs')
    .requiredOption('--out <dir>', 'output folder: results.jsonl as jobs finish, results.json in job order, the report')
    .option('--workers <n>', 'worker threads (default: one per core; 0 runs the jobs in this thread)')
    .option('--resume', 'continue an interrupted sweep in --out, redoing no finished job')
    .option('--shard <k/n>', 'run the deterministic k-th of n parts of the jobs (merge them with iommusim merge)')
    .option('--share-limit-mib <n>', 'a trace file larger than this (MiB of content) is streamed by each worker instead of parsed once and shared (default 256; 0: every trace file that streams)')
    .option('--no-report', 'skip writing the report')
    .option('--quiet', 'no progress output')
    .action(async (spec: string, opts: { out: string; workers?: string; resume?: boolean; shard?: string; shareLimitMib?: string; report?: boolean; quiet?: boolean }) => {
      const workers = workersOption(opts.workers);
      const shard = opts.shard ? parseShard(opts.shard) : undefined;
      const shareLimitBytes = opts.shareLimitMib !== undefined ? parseShareLimitMib(opts.shareLimitMib) : undefined;
      checkOutputDir(opts.out, '--out');
      // the pool (started before the CLI's modules loaded, when main.ts could) runs the jobs, then draws the report's charts
      const runner = openRunner(workers);
      try {
        // the folder stays locked until the report is written (released on errors and signals too)
        const s = await runSweep(spec, { out: opts.out, workers, pool: runner.pool, resume: opts.resume, shard, shareLimitBytes, quiet: opts.quiet, keepLock: true, command: command() });
        try {
          if (!opts.quiet) process.stderr.write(`${s.name}: ${s.ran} jobs run, ${s.skipped} already done, ${s.results} results, ${s.errors.length} failed, ${s.refused.length} refused, ${(s.wallMs / 1000).toFixed(1)} s → ${join(opts.out, 'results.json')}\n`);
          if (!opts.quiet) for (const r of s.refused) process.stderr.write(`iommusim: job ${r.id} (${describeJob(r.job)}) not run: ${r.refused}\n`);
          for (const e of s.errors) process.stderr.write(`iommusim: job ${e.id}: ${(e as { error?: string }).error ?? 'failed'}\n`);
          if (opts.report !== false && !opts.shard) await reportIfAny(opts.out, opts.quiet, pngOn(runner));
          if (s.errors.length > 0) process.exitCode = 1;
        } finally {
          s.lock?.release();
        }
      } finally {
        await runner.destroy();
      }
    });
  program
    .command('merge')
    .description('join shard outputs of one sweep into the results an unsharded run writes')
    .argument('<dirs...>', 'shard output folders')
    .requiredOption('--out <dir>', 'output folder')
    .option('--no-report', 'skip writing the report')
    .action(async (dirs: string[], opts: { out: string; report?: boolean }) => {
      const m = mergeShards(dirs, opts.out, { keepLock: true, command: command() });
      try {
        process.stdout.write(`${join(opts.out, 'results.json')}: merged ${dirs.length} shards\n`);
        if (opts.report !== false) await reportIfAny(opts.out);
      } finally {
        m.lock?.release();
      }
    });
}
