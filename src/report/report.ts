/**
 * Reports from iommusim's JSON documents only: a RunResult (iommusim.result/1), an array of them
 * (a sweep), or a CompareResult (iommusim.compare/1). Nothing here calls the models.
 *
 *   loadResults(path)              read and validate a results file
 *   writeReport(input, outDir)     report.html, one PNG per chart, summary.md, results.csv, results.json
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { writeFileAtomic, outputError } from '../util/output.js';
import { join } from 'node:path';
// a run result; one from a sweep's I/O-path job also carries `path` (the compare figures for its path)
import type { SweepResult as RunResult } from '../run/sweep/result-text.js';
import type { CompareResult, ModeResult } from '../virt/compare.js';
import { inputError } from '../util/errors.js';
import { buildCharts, type ChartSpec } from './charts.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { renderCsv } from './csv.js';

export const RESULT_SCHEMA = 'iommusim.result/1';
export const COMPARE_SCHEMA = 'iommusim.compare/1';

/** A CompareResult as written by `iommusim compare --json` (its `runs` are left out there). */
export type CompareDoc = Omit<CompareResult, 'runs'> & { runs?: Record<string, RunResult> };
export type { RunResult, ModeResult };

export type ReportInput =
  | { kind: 'runs'; runs: RunResult[]; source?: string }
  | { kind: 'compare'; compare: CompareDoc; source?: string };

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

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkRun(where: string, v: unknown): RunResult {
  if (!isObj(v)) throw inputError(where, 'not an iommusim result (expected an object)', 'pass a file written by `iommusim run --json` or `iommusim compare --json`');
  const schema = v.schema;
  if (typeof schema !== 'string') throw inputError(where, 'no "schema" field: not iommusim JSON', 'pass a file written by `iommusim run --json` or `iommusim compare --json`');
  if (schema !== RESULT_SCHEMA) {
    if (schema.startsWith('iommusim.result/')) throw inputError(where, `unknown schema version ${schema}`, `this reporter reads ${RESULT_SCHEMA}; re-run with this iommusim version`);
    throw inputError(where, `schema ${schema} is not a run result`, `expected ${RESULT_SCHEMA} (or ${COMPARE_SCHEMA} as the whole file)`);
  }
  if (!isObj(v.metrics) || !isObj(v.workload) || !isObj(v.config)) {
    throw inputError(where, 'run result without metrics, workload or config', 'the file is truncated or hand-edited; re-run `iommusim run --json`');
  }
  return v as unknown as RunResult;
}

function checkCompare(where: string, v: Record<string, unknown>): CompareDoc {
  if (!Array.isArray(v.modes) || typeof v.workload !== 'string' || !isObj(v.hypervisor)) {
    throw inputError(where, 'compare result without modes, workload or hypervisor', 'the file is truncated or hand-edited; re-run `iommusim compare --json`');
  }
  v.modes.forEach((m, i) => {
    if (!isObj(m) || typeof m.mode !== 'string' || typeof m.throughputGbps !== 'number' || !isObj(m.cyclesPerPacket)) {
      throw inputError(`${where}: modes[${i}]`, 'not a compare mode result', 're-run `iommusim compare --json`');
    }
  });
  return v as unknown as CompareDoc;
}

/** Validate an already-parsed document (`where` names it in errors). */
export function toReportInput(doc: unknown, where: string): ReportInput {
  if (Array.isArray(doc)) {
    if (doc.length === 0) throw inputError(where, 'an empty array of results', 'pass a file with at least one run');
    return { kind: 'runs', runs: doc.map((d, i) => checkRun(`${where}[${i}]`, d)), source: where };
  }
  if (isObj(doc) && typeof doc.schema === 'string') {
    if (doc.schema === COMPARE_SCHEMA) return { kind: 'compare', compare: checkCompare(where, doc), source: where };
    if (doc.schema.startsWith('iommusim.compare/')) throw inputError(where, `unknown schema version ${doc.schema}`, `this reporter reads ${COMPARE_SCHEMA}; re-run with this iommusim version`);
  }
  return { kind: 'runs', runs: [checkRun(where, doc)], source: where };
}

export function loadResults(path: string): ReportInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw inputError(path, `cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 'check the path');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw inputError(path, `not JSON (${(e as Error).message})`, 'pass a file written by `iommusim run --json` or `iommusim compare --json`');
  }
  return toReportInput(doc, path);
}

/** The input as written to results.json: runs always as an array; a compare document as is. */
export function normalise(input: ReportInput): unknown {
  return input.kind === 'runs' ? input.runs : input.compare;
}

export function defaultTitle(input: ReportInput): string {
  if (input.kind === 'compare') return `iommusim compare: ${input.compare.workload} (${input.compare.hypervisor.name})`;
  const names = [...new Set(input.runs.map((r) => r.workload.name))];
  return `iommusim run: ${names.join(', ')}${input.runs.length > 1 ? ` (${input.runs.length} runs)` : ''}`;
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
