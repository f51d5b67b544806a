/** Shared bench helpers: run a tinybench suite and print/record per-task figures. */
import { Bench } from 'tinybench';

export interface Figure { name: string; meanMs: number; items: number; itemsPerSec: number; unit: string }

/**
 * Each task processes `items` work items per call; we report items/s from the mean call time.
 * Few iterations: each call is itself large (millions of items).
 */
export async function runSuite(title: string, tasks: Array<{ name: string; items: number; unit: string; fn: () => void; setup?: () => void }>, iterations = 5): Promise<Figure[]> {
  const bench = new Bench({ iterations, time: 0, warmup: true, warmupIterations: 1, warmupTime: 0 });
  for (const t of tasks) bench.add(t.name, t.fn, t.setup ? { beforeEach: t.setup } : undefined);
  await bench.run();
  const figs: Figure[] = [];
  process.stdout.write(`\n## ${title}\n\n| task | mean per call | items per call | throughput |\n| --- | --- | --- | --- |\n`);
  for (const task of bench.tasks) {
    const spec = tasks.find((t) => t.name === task.name)!;
    const r = task.result as unknown as { latency?: { mean: number } };
    const meanMs = r.latency?.mean ?? NaN;
    const perSec = spec.items / (meanMs / 1000);
    figs.push({ name: task.name, meanMs, items: spec.items, itemsPerSec: perSec, unit: spec.unit });
    process.stdout.write(`| ${task.name} | ${meanMs.toFixed(1)} ms | ${spec.items.toLocaleString('en-US')} | ${(perSec / 1e6).toFixed(2)} M ${spec.unit}/s |\n`);
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
