/** `iommusim validate`: every anchor (or one) — published figure, simulated figure, error, pass/fail. */
import type { Command } from 'commander';
import { checkOutputFile, checkOutputDir, writeFileAtomic } from '../util/output.js';
import { listAnchors, runAnchor, type AnchorResult } from '../validate/validate.js';
import { inputError } from '../util/errors.js';
import { writeValidationReport } from '../validate/report.js';
import { windowSweep } from '../validate/windows.js';
import { sizeSweep } from '../validate/sizes.js';

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
    .action(async (opts: { anchor?: string; fast?: boolean; json?: string; out?: string }) => {
      if (opts.json) checkOutputFile(opts.json, '--json');
      if (opts.out) checkOutputDir(opts.out, '--out');
      let anchors = listAnchors();
      if (opts.anchor) {
        anchors = anchors.filter((a) => a.name === opts.anchor);
        if (anchors.length === 0) throw inputError(`--anchor ${opts.anchor}`, 'no such anchor', `use one of ${listAnchors().map((a) => a.name).join(', ')}`);
      }
      if (opts.fast) anchors = anchors.filter((a) => a.fast);
      const results = anchors.map(runAnchor);
      if (opts.json) writeFileAtomic(opts.json, JSON.stringify({ schema: 'iommusim.validation/1', anchors: results }, null, 2) + '\n', { flag: '--json' });
      process.stdout.write(formatValidation(results));
      if (opts.out) {
        const files = await writeValidationReport(results, opts.out, windowSweep(), sizeSweep());
        process.stdout.write(`report: ${opts.out}/report.html (${files.length} files)\n`);
      }
    });
}
