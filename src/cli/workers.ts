/** `--workers` of sweep, compare and validate: checked the same way, and the pool's PNG renderer for their reports. */
import { defaultWorkers, parseWorkers, type TaskRunner } from '../run/sweep/pool.js';
import type { PngRenderer } from '../report/report.js';

/** --workers as given (a whole number 0–256, else one line: InputError), or one per core. */
export function workersOption(text: string | undefined): number {
  return text === undefined ? defaultWorkers() : parseWorkers(text);
}

/**
 * The report's PNGs on the runner's threads when it has two or more (each draws its share); else
 * undefined: drawn in this thread, their encoding off it (report.ts: startPngs).
 */
export function pngOn(runner: TaskRunner): PngRenderer | undefined {
  if (runner.threads < 2) return undefined;
  return async (chart) => {
    const u8 = await runner.run<Uint8Array>({ kind: 'call', module: 'report/png.js', fn: 'renderPng', args: [chart] });
    return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  };
}
