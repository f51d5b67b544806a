/**
 * The validation report (`iommusim validate --out DIR`): model-vs-measured charts as PNG (chart.js on
 * @napi-rs/canvas, the report module's renderer) and one self-contained report.html with the charts
 * embedded as images and every anchor in a table (published, simulated, error, pass/miss, the missing
 * mechanism, the source). Strings are escaped.
 */
import { mkdirSync } from 'node:fs';
import { writeFileAtomic, outputError } from '../util/output.js';
import { join } from 'node:path';
import type { ChartConfiguration } from 'chart.js';
import { startPngs, type PngRenderer } from '../report/report.js';
import { escapeHtml } from '../report/html.js';
import { PNG_HEIGHT, type ChartSpec } from '../report/charts.js';
import type { AnchorResult } from './validate.js';
import type { WindowSweep } from './windows.js';
import type { SizeSweep } from './sizes.js';
import { simVersion } from '../run/result.js';

function bandwidthChart(rs: AnchorResult[]): ChartSpec | null {
  const pts = (op: string) => rs
    .map((r) => ({ r, m: new RegExp(`^pciebench-${op}-(\\d+)$`).exec(r.name) }))
    .filter((x) => x.m && x.r.simulated !== null)
    .map((x) => ({ size: Number(x.m![1]), sim: x.r.simulated as number, pub: x.r.publishedValue as number }))
    .sort((a, b) => a.size - b.size);
  const reads = pts('read'), writes = pts('write');
  if (reads.length + writes.length === 0) return null;
  const sizes = [...new Set([...reads, ...writes].map((p) => p.size))].sort((a, b) => a - b);
  const series = (label: string, p: typeof reads, key: 'sim' | 'pub', color: string, dash: boolean) => ({
    label, borderColor: color, backgroundColor: color, borderDash: dash ? [6, 4] : [], fill: false,
    data: sizes.map((s) => p.find((x) => x.size === s)?.[key] ?? null),
  });
  const config = {
    type: 'line',
    data: {
      labels: sizes.map(String),
      datasets: [
        series('DMA read, measured (pcie-bench)', reads, 'pub', '#1f77b4', true),
        series('DMA read, iommusim', reads, 'sim', '#1f77b4', false),
        series('DMA write, measured (pcie-bench)', writes, 'pub', '#d62728', true),
        series('DMA write, iommusim', writes, 'sim', '#d62728', false),
      ],
    },
    options: {
      plugins: { title: { display: true, text: 'DMA bandwidth vs transfer size: model vs measured (Gen3 x8, no IOMMU)' }, legend: { display: true, position: 'top' } },
      scales: { x: { title: { display: true, text: 'transfer size (bytes)' } }, y: { beginAtZero: true, title: { display: true, text: 'bandwidth (Gb/s)' } } },
    },
  } as unknown as ChartConfiguration;
  return { id: 'bandwidth-vs-size', title: 'DMA bandwidth vs transfer size', caption: `pcie-bench (Neugebauer et al., SIGCOMM 2018) vs iommusim ${simVersion()}, broadwell-gen3x8`, config };
}

const COLOUR = { read: '#1f77b4', write: '#d62728', wrrd: '#d62728' } as const;

/** A size curve: the model solid, the measurement dashed, per operation. */
function sizeChart<Op extends 'read' | 'write' | 'wrrd'>(id: string, title: string, caption: string, sizes: number[], series: Array<{ label: string; op: Op; kind: 'model' | 'measured'; values: Array<number | null> }>, yTitle: string, beginAtZero: boolean): ChartSpec {
  const config = {
    type: 'line',
    data: {
      labels: sizes.map(String),
      datasets: series.map((x) => ({
        label: x.label, data: x.values, borderColor: COLOUR[x.op], backgroundColor: COLOUR[x.op], fill: false, spanGaps: true,
        borderDash: x.kind === 'measured' ? [6, 4] : [], pointStyle: x.kind === 'measured' ? 'crossRot' : 'circle', pointRadius: x.kind === 'measured' ? 6 : 3,
      })),
    },
    options: {
      plugins: { title: { display: true, text: title }, legend: { display: true, position: 'top' } },
      scales: { x: { title: { display: true, text: 'transfer size (bytes)' }, ticks: { autoSkip: false } }, y: { beginAtZero, title: { display: true, text: yTitle } } },
    },
  } as unknown as ChartConfiguration;
  return { id, title, caption, config };
}

/** Bandwidth and latency against transfer size, model vs pcie-bench (see sizes.ts). */
function sizeCharts(w: SizeSweep): ChartSpec[] {
  const caption = `iommusim ${simVersion()}, broadwell-gen3x8, IOMMU off, 8 KiB warm window; dashed: ${w.measuredSource}`;
  return [
    sizeChart('bandwidth-vs-size', 'DMA bandwidth vs transfer size: model vs measured (Gen3 x8, no IOMMU)', caption, w.sizes, w.bandwidth, 'bandwidth (Gb/s)', true),
    sizeChart('latency-vs-size', 'Latency of one DMA at a time vs transfer size (median): model vs measured', caption, w.latencySizes, w.latency, 'latency (ns)', false),
  ];
}

const sizeLabel = (b: number) => (b >= 1048576 ? `${b / 1048576} MiB` : `${b / 1024} KiB`);

/** 64 B DMA rate vs window: the model's three curves per direction and pcie-bench's measured 4 KiB-page curve. */
function windowChart(w: WindowSweep, op: 'read' | 'write'): ChartSpec {
  const colours: Record<string, string> = { off: '#7f7f7f', '4k': '#d62728', superpages: '#2ca02c', 'measured-4k': '#d62728' };
  const config = {
    type: 'line',
    data: {
      labels: w.windows.map(sizeLabel),
      datasets: w.series.filter((x) => x.op === op).map((x) => ({
        label: x.label, data: x.mps, borderColor: colours[x.mode], backgroundColor: colours[x.mode], fill: false, spanGaps: true,
        borderDash: x.mode === 'measured-4k' ? [6, 4] : [], pointStyle: x.mode === 'measured-4k' ? 'crossRot' : 'circle', pointRadius: x.mode === 'measured-4k' ? 6 : 3,
      })),
    },
    options: {
      plugins: { title: { display: true, text: `64 B DMA ${op}s vs window: the IOTLB's reach is ${sizeLabel(w.iotlbReachBytes)}` }, legend: { display: true, position: 'top' } },
      scales: { x: { title: { display: true, text: 'window (random offsets)' } }, y: { beginAtZero: true, title: { display: true, text: `million ${op}s per second` } } },
    },
  } as unknown as ChartConfiguration;
  return {
    id: `window-${op}`, title: `64 B DMA ${op}s vs window, IOMMU off / 4 KiB pages / superpages`,
    caption: `iommusim ${simVersion()}, broadwell-gen3x8; dashed: ${w.measuredSource}`, config,
  };
}

function errorChart(rs: AnchorResult[]): ChartSpec {
  const m = rs.filter((r) => r.pass !== null && r.error !== null);
  const config = {
    type: 'bar',
    data: {
      labels: m.map((r) => r.name),
      datasets: [{ label: 'error vs published (%)', data: m.map((r) => Math.round((r.error as number) * 1000) / 10), backgroundColor: m.map((r) => (r.pass ? '#2ca02c' : '#d62728')) }],
    },
    options: {
      indexAxis: 'y',
      plugins: { title: { display: true, text: 'Error per anchor (green: within tolerance, red: missed)' }, legend: { display: true, position: 'top' } },
      scales: { x: { title: { display: true, text: 'error vs the published figure (%)' } }, y: { title: { display: true, text: 'anchor' }, ticks: { autoSkip: false } } },
    },
  } as unknown as ChartConfiguration;
  // the chart names every anchor: ~22 px a bar
  const heightPx = Math.max(PNG_HEIGHT, 120 + 22 * rs.filter((r) => r.pass !== null).length);
  return { id: 'anchor-error', title: 'Error per anchor', caption: `iommusim ${simVersion()}; the range's midpoint for range anchors`, config, heightPx };
}

export async function writeValidationReport(rs: AnchorResult[], outDir: string, windows?: WindowSweep, sizes?: SizeSweep, render?: PngRenderer): Promise<string[]> {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw outputError(outDir, e, '--out');
  }
  // the size curves from the sweep when there is one, else the bandwidth anchors' points
  const charts = [...(sizes ? sizeCharts(sizes) : [bandwidthChart(rs)]), ...(windows ? [windowChart(windows, 'read'), windowChart(windows, 'write')] : []), errorChart(rs)].filter((c): c is ChartSpec => c !== null);
  const files: string[] = [];
  const imgs: string[] = [];
  const pngs = startPngs(charts, render);
  for (const [i, c] of charts.entries()) {
    const png = await pngs[i];
    const p = join(outDir, `${c.id}.png`);
    writeFileAtomic(p, png, { flag: '--out' });
    files.push(p);
    imgs.push(`<figure><img alt="${escapeHtml(c.title)}" src="data:image/png;base64,${png.toString('base64')}"><figcaption>${escapeHtml(c.title)} — ${escapeHtml(c.caption)}</figcaption></figure>`);
  }
  const row = (r: AnchorResult) => `<tr class="${r.pass === null ? 'nm' : r.pass ? 'ok' : 'miss'}"><td>${escapeHtml(r.name)}</td><td>${escapeHtml(r.published)} ${escapeHtml(r.unit)}</td><td class="n">${r.simulated === null ? 'n/a' : r.simulated}</td><td class="n">${r.error === null ? '' : `${(r.error * 100).toFixed(1)} %`}</td><td>${r.pass === null ? 'not modelled' : r.pass ? 'pass' : 'MISS'}</td><td>${escapeHtml(r.pass ? '' : r.missing ?? '')}</td><td>${escapeHtml(r.source)}</td></tr>`;
  const modelled = rs.filter((r) => r.pass !== null);
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>iommusim validation</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}img{max-width:100%}table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top}td.n{text-align:right}tr.miss td{background:#fdecea}tr.ok td{background:#eef7ee}tr.nm td{color:#666}</style>
</head><body>
<h1>iommusim ${escapeHtml(simVersion())}: validation against published measurements</h1>
<p>${modelled.filter((r) => r.pass).length} of ${modelled.length} anchors within tolerance; ${rs.length - modelled.length} published figures not modelled yet. Each anchor is a scenario file under workloads/validation/.</p>
${imgs.join('\n')}
<table><thead><tr><th>anchor</th><th>published</th><th>simulated</th><th>error</th><th>result</th><th>missing mechanism</th><th>source</th></tr></thead><tbody>
${rs.map(row).join('\n')}
</tbody></table>
</body></html>
`;
  const hp = join(outDir, 'report.html');
  writeFileAtomic(hp, html, { flag: '--out' });
  files.push(hp);
  const jp = join(outDir, 'validation.json');
  writeFileAtomic(jp, JSON.stringify({ schema: 'iommusim.validation/1', iommusim: simVersion(), anchors: rs, ...(windows ? { windowSweep: windows } : {}), ...(sizes ? { sizeSweep: sizes } : {}) }, null, 2) + '\n', { flag: '--out' });
  files.push(jp);
  return files;
}
