/** `iommusim validate`: every anchor (or one) — published figure, simulated figure, error, pass/fail. */
import type { Command } from 'commander';
import { checkOutputFile, checkOutputDir, writeFileAtomic } from '../util/output.js';
import { listAnchors, type AnchorResult } from '../validate/validate.js';
import { inputError } from '../util/errors.js';
import { writeValidationReport } from '../validate/report.js';
import { runAnchorsOn, windowSweepOn, sizeSweepOn, validateJobs } from '../validate/jobs.js';
import { openRunner, threadsFor } from '../run/sweep/pool.js';
import { workersOption, pngOn } from './workers.js';

export function formatValidation(rs: AnchorResult[]): string {
  const lines = ['anchor                     published          simulated   error    result', ''];
  for (const r of rs) {
    if (r.pass === null) {
      lines.push(`${r.name.padEnd(26)} ${r.published}`);
      lines.push(`${''.padEnd(27)}source: ${r.source}`);
      lines.push(`${''.padEnd(27)}not modelled: ${r.missing}`);
      continue;
    }
    lines.push(`${r.name.padEnd(26)} ${(`${r.published} ${r.unit}`).padEnd(18)} ${String(r.simulated).padStart(10)}  ${r.error === null ? '' : `${(r.error * 100).toFixed(1)}%`.padStart(6)}   ${r.pass ? 'pass' : 'MISS'}`);
    lines.push(`${''.padEnd(27)}source: ${r.source}`);
    if (!r.pass && r.missing && r.missing !== '—') lines.push(`${''.padEnd(27)}missing: ${r.missing}`);
  }
  const modelled = rs.filter((r) => r.pass !== null);
  const passed = modelled.filter((r) => r.pass).length;
  lines.push('', `${passed} of ${modelled.length} anchors within tolerance; ${rs.length - modelled.length} published figures not modelled yet`);
  return lines.join('\n') + '\n';
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('run the validation scenarios (workloads/validation/) against published measurements')
    .option('--anchor <name>', 'only this anchor')
    .option('--fast', 'only the fast subset (as npm test runs)')
    .option('--json <file>', 'write every anchor with its source as JSON')
    .option('--out <dir>', 'write a report: model-vs-measured charts (PNG: bandwidth and latency vs transfer size, the IOTLB\'s reach, errors), report.html, validation.json')
    .option('--workers <n>', 'worker threads, one anchor (and one point of the window and size sweeps) each (default: one per core; 0 or 1: in this thread)')
    .action(async (opts: { anchor?: string; fast?: boolean; json?: string; out?: string; workers?: string }) => {
      if (opts.json) checkOutputFile(opts.json, '--json');
      if (opts.out) checkOutputDir(opts.out, '--out');
      const workers = workersOption(opts.workers);
      let anchors = listAnchors();
      if (opts.anchor) {
        anchors = anchors.filter((a) => a.name === opts.anchor);
        if (anchors.length === 0) throw inputError(`--anchor ${opts.anchor}`, 'no such anchor', `use one of ${listAnchors().map((a) => a.name).join(', ')}`);
      }
      if (opts.fast) anchors = anchors.filter((a) => a.fast);
      // every anchor a job on the pool (and, with --out, every point of the window sweep, queued behind them)
      const runner = openRunner(threadsFor(workers, validateJobs(anchors, !!opts.out)));
      try {
        const anchorsDone = runAnchorsOn(runner, anchors);
        const windows = opts.out ? windowSweepOn(runner) : undefined;
        const sizes = opts.out ? sizeSweepOn(runner) : undefined;
        windows?.catch(() => {}); // awaited below, after the anchors' output
        sizes?.catch(() => {});
        const results = await anchorsDone;
        if (opts.json) writeFileAtomic(opts.json, JSON.stringify({ schema: 'iommusim.validation/1', anchors: results }, null, 2) + '\n', { flag: '--json' });
        process.stdout.write(formatValidation(results));
        if (opts.out) {
          const files = await writeValidationReport(results, opts.out, await windows, await sizes, pngOn(runner));
          process.stdout.write(`report: ${opts.out}/report.html (${files.length} files)\n`);
        }
      } finally {
        await runner.destroy();
      }
    });
}
