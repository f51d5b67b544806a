/** Shared bench helpers: run a tinybench suite and print/record per-task figures. */
import { Bench } from 'tinybench';
import { tuneV8 } from '../src/util/v8tune.js';

// as the CLI does (src/util/v8tune.ts): bench figures are the figures a user gets
tuneV8();

export interface Figure { name: string; meanMs: number; medianMs: number; minMs: number; maxMs: number; items: number; itemsPerSec: number; unit: string }

/**
 * Each task processes `items` work items per call; we report items/s from the **median** call time
 * (this 2-CPU VM has noise spikes of ±20 %, which a median of several calls resists and a mean of
 * three does not), with the range from the slowest and fastest call.
 * Few iterations: each call is itself large (millions of items).
 */
export async function runSuite(title: string, tasks: Array<{ name: string; items: number; unit: string; fn: () => void; setup?: () => void }>, iterations = 5, quiet = false): Promise<Figure[]> {
  const bench = new Bench({ iterations, time: 0, warmup: true, warmupIterations: 1, warmupTime: 0 });
  for (const t of tasks) bench.add(t.name, t.fn, t.setup ? { beforeEach: t.setup } : undefined);
  await bench.run();
  const figs: Figure[] = [];
  if (!quiet) process.stdout.write(`\n## ${title}\n\n| task | median per call | items per call | throughput (median) | range (slowest–fastest call) |\n| --- | --- | --- | --- | --- |\n`);
  for (const task of bench.tasks) {
    const spec = tasks.find((t) => t.name === task.name)!;
    const r = task.result as unknown as { latency?: { mean: number; p50?: number; min: number; max: number } };
    const meanMs = r.latency?.mean ?? NaN;
    const medianMs = r.latency?.p50 ?? meanMs;
    const minMs = r.latency?.min ?? NaN;
    const maxMs = r.latency?.max ?? NaN;
    const rate = (ms: number) => spec.items / (ms / 1000);
    const m = (x: number) => (x / 1e6).toFixed(2);
    figs.push({ name: task.name, meanMs, medianMs, minMs, maxMs, items: spec.items, itemsPerSec: rate(medianMs), unit: spec.unit });
    if (!quiet) process.stdout.write(`| ${task.name} | ${medianMs.toFixed(1)} ms | ${spec.items.toLocaleString('en-US')} | ${m(rate(medianMs))} M ${spec.unit}/s | ${m(rate(maxMs))}–${m(rate(minMs))} M/s |\n`);
  }
  return figs;
}

/** Deterministic xorshift32 stream. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}
