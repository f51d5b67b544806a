/**
 * `iommusim validate` on the worker pool: each anchor a task, each point of the window sweep
 * (`--out`) a task; answers in the order of the anchors and points, so the output is the same
 * bytes whatever the number of threads.
 */
import { runAll, type TaskRunner } from '../run/sweep/pool.js';
import type { Anchor, AnchorResult } from './validate.js';
import { windowPoints, windowSeries, SWEEP_WINDOWS, type WindowSweep } from './windows.js';
import { sizePoints, sizeSeries, SWEEP_SIZES, LATENCY_SIZES, type SizeSweep } from './sizes.js';

/** runAnchor of every anchor, on the runner's threads; the results in the anchors' order. */
export function runAnchorsOn(runner: TaskRunner, anchors: Anchor[]): Promise<AnchorResult[]> {
  return runAll<AnchorResult>(runner, anchors.map((anchor) => ({ kind: 'call', module: 'validate/validate.js', fn: 'runAnchor', args: [anchor] })));
}

/** windowSweep with every point a task on the runner's threads. */
export async function windowSweepOn(runner: TaskRunner, count = 40_000, windows = SWEEP_WINDOWS): Promise<WindowSweep> {
  const points = windowPoints(count, windows);
  const rates = await runAll<number>(runner, points.map((p) => ({ kind: 'call', module: 'validate/windows.js', fn: 'windowRate', args: [p.cfg] })));
  return windowSeries(points, rates, windows);
}

/** sizeSweep with every point a task on the runner's threads. */
export async function sizeSweepOn(runner: TaskRunner): Promise<SizeSweep> {
  const points = sizePoints();
  return sizeSeries(await runAll<number>(runner, points.map((p) => ({ kind: 'call', module: 'validate/sizes.js', fn: 'sizeValue', args: [p] }))));
}

/** Tasks `validate` gives the pool: the anchors that simulate, and the window and size sweeps' points with --out. */
export function validateJobs(anchors: Anchor[], sweeps: boolean, windows = SWEEP_WINDOWS): number {
  return anchors.filter((a) => !a.notModelled).length + (sweeps ? 2 * 3 * windows.length + 2 * SWEEP_SIZES.length + 2 * LATENCY_SIZES.length : 0);
}
