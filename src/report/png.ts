/**
 * PNG charts without a browser: chart.js on @napi-rs/canvas, animation and responsiveness off,
 * a white background painted by a small plugin (a canvas starts transparent).
 */
import { createCanvas } from '@napi-rs/canvas';
import { Chart, type ChartConfiguration, type Plugin } from 'chart.js/auto';
import { MatrixController, MatrixElement } from 'chartjs-chart-matrix';
import { PNG_WIDTH, PNG_HEIGHT, type ChartSpec } from './charts.js';
import { matrixCells } from './matrix.js';

Chart.register(MatrixController, MatrixElement);

export { PNG_WIDTH, PNG_HEIGHT } from './charts.js';

export const whiteBackground: Plugin = {
  id: 'iommusimWhiteBackground',
  beforeDraw(chart) {
    const ctx = chart.ctx;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

export async function renderPng(spec: ChartSpec, width = PNG_WIDTH, height = spec.heightPx ?? PNG_HEIGHT): Promise<Buffer> {
  const canvas = createCanvas(width, height);
  // a deep copy: chart.js writes into the configuration it is given
  const cfg = JSON.parse(JSON.stringify(spec.config)) as ChartConfiguration;
  cfg.options = { ...cfg.options, animation: false, responsive: false, maintainAspectRatio: false, devicePixelRatio: 1 };
  cfg.plugins = [...(cfg.plugins ?? []), whiteBackground, matrixCells as unknown as Plugin];
  const chart = new Chart(canvas as unknown as ConstructorParameters<typeof Chart>[0], cfg);
  try {
    return await canvas.encode('png');
  } finally {
    chart.destroy();
  }
}
