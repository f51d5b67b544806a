/** `iommusim report RESULTS --out DIR`: HTML, PNG, Markdown, CSV and JSON from a results file. */
import type { Command } from 'commander';
import { loadResults, writeReport, toReportInput, type PngRenderer } from '../report/report.js';
import { checkOutputDir } from '../util/output.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write report.html (charts, offline), PNG charts, summary.md, results.csv and results.json from a results file')
    .argument('<results>', 'JSON written by run --json, compare --json or sweep')
    .requiredOption('--out <dir>', 'output folder')
    .option('--title <text>', 'report title')
    .action(async (results: string, opts: { out: string; title?: string }) => {
      checkOutputDir(opts.out, '--out');
      const { files } = await writeReport(loadResults(results), opts.out, { title: opts.title });
      process.stdout.write(`${opts.out}: ${files.length} files (${files.map((f) => f.split('/').pop()).join(', ')})\n`);
    });
}

/** Write a report for a document just produced (compare, run, sweep) when --out is given. */
export async function reportTo(doc: unknown, outDir: string, where: string, renderPng?: PngRenderer): Promise<string[]> {
  const { files } = await writeReport(toReportInput(JSON.parse(JSON.stringify(doc)), where), outDir, { renderPng });
  return files;
}
