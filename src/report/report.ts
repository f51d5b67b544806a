/**
 * Reports from iommusim's JSON documents only (input.ts reads and checks them). Nothing here calls
 * the models.
 *
 *   loadResults(path)              read and validate a results file (input.ts)
 *   writeReport(input, outDir)     report.html, one PNG per chart, summary.md, results.csv, results.json
 */
import { mkdirSync } from 'node:fs';
import { writeFileAtomic, outputError } from '../util/output.js';
import { join } from 'node:path';
import { normalise, defaultTitle, type ReportInput } from './input.js';
import { buildCharts, type ChartSpec } from './charts.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { renderCsv } from './csv.js';

export { RESULT_SCHEMA, COMPARE_SCHEMA, toReportInput, loadResults, normalise, defaultTitle } from './input.js';
export type { CompareDoc, RunResult, ModeResult, ReportInput } from './input.js';

/** Renders one chart as PNG bytes: renderPng in this thread by default; the CLI passes its worker pool's. */
export type PngRenderer = (chart: ChartSpec) => Promise<Buffer>;

export interface ReportOptions {
  title?: string;
  /** Where the PNGs are drawn (default: renderPng, in this thread). The bytes are the same either way. */
  renderPng?: PngRenderer;
}

// chart.js and the canvas load on the first PNG drawn in this thread (a report drawn on the pool never loads them here)
let png: Promise<typeof import('./png.js')> | undefined;
const renderHere: PngRenderer = async (chart) => (await (png ??= import('./png.js'))).renderPng(chart);

/**
 * Every chart's PNG started at once (each render draws, then encodes off this thread; a pool's
 * renderer spreads them over its threads), for the caller to await in chart order. A render that
 * fails is thrown where it is awaited; none is left unobserved if an earlier file fails.
 */
export function startPngs(charts: ChartSpec[], render: PngRenderer = renderHere): Array<Promise<Buffer>> {
  return charts.map((c) => {
    const p = render(c);
    p.catch(() => {}); // observed here too: a failure while an earlier file is written is not an unhandled rejection
    return p;
  });
}

export async function writeReport(input: ReportInput, outDir: string, opts: ReportOptions = {}): Promise<{ files: string[] }> {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw outputError(outDir, e, '--out');
  }
  const title = opts.title ?? defaultTitle(input);
  const charts = buildCharts(input);
  const files: string[] = [];
  const put = (name: string, data: string | Buffer): void => {
    const p = join(outDir, name);
    writeFileAtomic(p, data, { flag: '--out' });
    files.push(p);
  };
  const pngs = startPngs(charts, opts.renderPng);
  put('report.html', renderHtml(input, charts, title));
  for (let i = 0; i < charts.length; i++) put(`${charts[i].id}.png`, await pngs[i]);
  put('summary.md', renderMarkdown(input, charts, title));
  put('results.csv', renderCsv(input));
  put('results.json', JSON.stringify(normalise(input), null, 2) + '\n');
  return { files };
}
