/**
 * report.html: one self-contained file that opens offline. chart.js's UMD build is inlined from
 * node_modules, the data (the input and the chart configurations) is embedded as JSON in a
 * <script type="application/json"> block with `<`, `>` and `&` written as \u escapes, and every
 * string from the input that lands in markup goes through escapeHtml.
 *
 * After the charts are drawn the page writes a self-check into <pre id="selftest"> (hidden):
 * charts drawn, per canvas the non-background pixel count and drawn data points, and any errors
 * caught by window.onerror / console.error. The headless-browser test reads it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { normalise, type ReportInput } from './input.js';
import type { ChartSpec } from './charts.js';
import { tableOf, type Cell } from './csv.js';
import { matrixCellsSource } from './matrix.js';

let chartJsSource: string | undefined;
/** chart.js's UMD build (dist/chart.umd.js next to the package's main entry). */
export function chartJsUmd(): string {
  if (chartJsSource === undefined) {
    const main = createRequire(import.meta.url).resolve('chart.js');
    const src = readFileSync(join(dirname(main), 'chart.umd.js'), 'utf8');
    // cannot end the inline <script> early
    chartJsSource = src.replace(/<\/(script)/gi, '<\\/$1').replace(/\n?\/\/# sourceMappingURL=.*$/m, '');
  }
  return chartJsSource;
}

let matrixSource: string | undefined;
/** chartjs-chart-matrix's UMD build (registers itself with the page's Chart). */
export function chartJsMatrixUmd(): string {
  if (matrixSource === undefined) {
    const req = createRequire(import.meta.url);
    const dir = dirname(req.resolve('chartjs-chart-matrix'));
    matrixSource = readFileSync(join(dir, 'chartjs-chart-matrix.min.js'), 'utf8').replace(/<\/(script)/gi, '<\\/$1').replace(/\n?\/\/# sourceMappingURL=.*$/m, '');
  }
  return matrixSource;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON safe inside a <script> element: no `<` (so no `</script>` or `<!--`), `>` or `&` appear literally. */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const cellHtml = (v: Cell): string => (v === null ? '' : escapeHtml(typeof v === 'number' ? String(v) : String(v)));

function tableHtml(input: ReportInput): string {
  const t = tableOf(input);
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = t.rows.map((r) => `<tr>${r.map((v) => `<td${typeof v === 'number' ? ' class="n"' : ''}>${cellHtml(v)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table"><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function headerHtml(input: ReportInput, charts: ChartSpec[]): string {
  const parts: string[] = [];
  if (charts[0]) parts.push(`<p class="caption">${escapeHtml(charts[0].caption)}</p>`);
  if (input.kind === 'compare') {
    const c = input.compare;
    parts.push(`<p>Hypervisor <b>${escapeHtml(c.hypervisor.name)}</b>: ${escapeHtml(c.hypervisor.description ?? '')}</p>`);
    if (c.passthroughOverEmulated !== null && c.passthroughOverEmulated !== undefined) {
      parts.push(`<p>Passthrough / emulated throughput: <b>${escapeHtml(String(c.passthroughOverEmulated))}×</b></p>`);
    }
    const notes = [...(c.hypervisor.notes ?? []), ...(c.hypervisor.sources ?? [])];
    if (notes.length) parts.push(`<ul class="notes">${notes.map((n) => `<li>${escapeHtml(String(n))}</li>`).join('')}</ul>`);
    const refused = c.modes.filter((m) => m.refused);
    if (refused.length) parts.push(`<p>Refused by the hypervisor: ${refused.map((m) => `${escapeHtml(m.mode)} (${escapeHtml(m.refused ?? '')})`).join('; ')}</p>`);
  } else {
    const descs = [...new Set(input.runs.map((r) => `${r.workload.name}: ${r.workload.source} (${r.workload.format}, ${r.workload.records} records)`))];
    parts.push(`<ul class="notes">${descs.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>`);
  }
  if (input.source) parts.push(`<p class="caption">Source: ${escapeHtml(input.source)}</p>`);
  return parts.join('\n');
}

/** The in-page script: draws every chart from the embedded JSON, then writes the self-check. */
const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var bg = { id: 'iommusimWhiteBackground', beforeDraw: function (chart) {
    var ctx = chart.ctx; ctx.save(); ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = '#ffffff'; ctx.fillRect(0, 0, chart.width, chart.height); ctx.restore(); } };
  var matrixCells = __MATRIX_CELLS__;
  var result = { charts: 0, canvases: [], errors: window.__reportErrors };
  data.charts.forEach(function (spec) {
    var canvas = document.getElementById('chart-' + spec.id);
    var cfg = spec.config;
    cfg.options = Object.assign({}, cfg.options, { animation: false, responsive: true, maintainAspectRatio: false });
    cfg.plugins = [bg, matrixCells];
    try {
      var chart = new Chart(canvas, cfg);
      result.charts++;
      var points = 0;
      chart.data.datasets.forEach(function (_, i) {
        chart.getDatasetMeta(i).data.forEach(function (el) { if (el && !el.skip && isFinite(el.x) && isFinite(el.y)) points++; });
      });
      var ctx = canvas.getContext('2d');
      var img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      var nonBg = 0;
      for (var p = 0; p < img.length; p += 4) if (img[p] !== 255 || img[p + 1] !== 255 || img[p + 2] !== 255 || img[p + 3] !== 255) nonBg++;
      result.canvases.push({ id: spec.id, width: canvas.width, height: canvas.height, nonBackgroundPixels: nonBg, points: points });
    } catch (e) {
      window.__reportErrors.push('chart ' + spec.id + ': ' + (e && e.message ? e.message : String(e)));
    }
  });
  document.getElementById('selftest').textContent = JSON.stringify(result);
})();
`;

const ERROR_CAPTURE = `
window.__reportErrors = [];
window.addEventListener('error', function (e) { window.__reportErrors.push('error: ' + (e.message || String(e))); });
(function () { var orig = console.error; console.error = function () {
  window.__reportErrors.push('console.error: ' + Array.prototype.map.call(arguments, String).join(' '));
  return orig.apply(console, arguments); }; })();
`;

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 1100px; }
figure { margin: 1.5em 0; }
.chart { position: relative; width: 100%; max-width: 1000px; height: 500px; }
figcaption, .caption { color: #555; font-size: 0.9em; }
.table { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
#selftest { display: none; }
`;

export function renderHtml(input: ReportInput, charts: ChartSpec[], title: string): string {
  const figures = charts.map((c) => `<figure>
<div class="chart"><canvas id="chart-${escapeHtml(c.id)}" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div>
<figcaption>${escapeHtml(c.title)} — ${escapeHtml(c.caption)}</figcaption>
</figure>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
<script>${ERROR_CAPTURE}</script>
<script>${chartJsUmd()}</script>
<script>${chartJsMatrixUmd()}</script>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${headerHtml(input, charts)}
<h2>Charts</h2>
${figures || '<p>No chart: the input holds no figures to plot.</p>'}
<h2>Figures</h2>
${tableHtml(input)}
<pre id="selftest"></pre>
<script type="application/json" id="report-data">${jsonForScript({ input: normalise(input), charts })}</script>
<script>${PAGE_SCRIPT.replace("__MATRIX_CELLS__", matrixCellsSource())}</script>
</body>
</html>
`;
}
