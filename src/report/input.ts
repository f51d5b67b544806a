/**
 * What a report is drawn from: iommusim's JSON documents — a RunResult (iommusim.result/1), an
 * array of them (a sweep), or a CompareResult (iommusim.compare/1) — read, checked and normalised.
 * The charts, tables and pages (charts.ts, csv.ts, html.ts, markdown.ts) take a ReportInput;
 * report.ts writes them. Nothing here calls the models.
 */
import { readFileSync } from 'node:fs';
// a run result; one from a sweep's I/O-path job also carries `path` (the compare figures for its path)
import type { SweepResult as RunResult } from '../run/sweep/result-text.js';
import type { CompareResult, ModeResult } from '../run/compare.js';
import { inputError } from '../util/errors.js';

export const RESULT_SCHEMA = 'iommusim.result/1';
export const COMPARE_SCHEMA = 'iommusim.compare/1';

/** A CompareResult as written by `iommusim compare --json` (its `runs` are left out there). */
export type CompareDoc = Omit<CompareResult, 'runs'> & { runs?: Record<string, RunResult> };
export type { RunResult, ModeResult };

export type ReportInput =
  | { kind: 'runs'; runs: RunResult[]; source?: string }
  | { kind: 'compare'; compare: CompareDoc; source?: string };

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
