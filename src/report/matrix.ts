/**
 * Heat maps are chart.js `matrix` charts (chartjs-chart-matrix). The chart configurations are plain
 * JSON (they are embedded in report.html), so what needs a function lives in this one plugin, used
 * by both renderers: the PNG renderer imports it, report.html embeds its source (the functions are
 * self-contained: no imports, no closures, so `toString()` of each is the code the page runs).
 *  - beforeInit: every cell is the size of its grid slot (chart area / categories, minus a gap);
 *  - afterDatasetsDraw: the cell's value (`t` of each data point) written in its middle, in the
 *    dataset's `textColor` (light text on the dark bins of the colour scale).
 */
/* eslint-disable @typescript-eslint/no-explicit-any */

type AnyChart = any;

function beforeInit(chart: AnyChart): void {
  if (chart.config.type !== 'matrix') return;
  const scales = chart.config.options && chart.config.options.scales ? chart.config.options.scales : {};
  const nx = scales.x && scales.x.labels ? scales.x.labels.length : 1;
  const ny = scales.y && scales.y.labels ? scales.y.labels.length : 1;
  chart.config.data.datasets.forEach((ds: any) => {
    ds.width = (c: any) => { const a = c.chart.chartArea; return a ? Math.max(1, a.width / nx - 3) : 0; };
    ds.height = (c: any) => { const a = c.chart.chartArea; return a ? Math.max(1, a.height / ny - 3) : 0; };
  });
}

function afterDatasetsDraw(chart: AnyChart): void {
  if (chart.config.type !== 'matrix') return;
  const ctx = chart.ctx;
  ctx.save();
  ctx.font = '13px sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  chart.data.datasets.forEach((ds: any, i: number) => {
    ctx.fillStyle = ds.textColor || '#222222';
    chart.getDatasetMeta(i).data.forEach((el: any, j: number) => {
      const d = ds.data[j];
      if (!d || d.t === undefined) return;
      const p = el.getCenterPoint();
      ctx.fillText(String(d.t), p.x, p.y);
    });
  });
  ctx.restore();
}

/** The plugin object (PNG renderer). */
export const matrixCells = { id: 'iommusimMatrixCells', beforeInit, afterDatasetsDraw };

/** The same plugin as JavaScript source, for report.html's inline script. */
export function matrixCellsSource(): string {
  return `{ id: 'iommusimMatrixCells', beforeInit: ${beforeInit.toString()}, afterDatasetsDraw: ${afterDatasetsDraw.toString()} }`;
}
