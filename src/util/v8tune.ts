/**
 * V8 inlining budgets for the simulator's hot loops. The timed path is an event loop whose
 * handlers call many small methods (link sends, memory accesses, cache probes); with V8's default
 * budgets (460 bytecodes per inlined function, 920 in all per optimized function) the loop runs
 * out of budget and the rest become real calls, each boxing its double arguments and results.
 * Larger budgets inline them: 10–25 % more simulated requests per second on the timing bench
 * (pciebench reads and both nic-10g-tcp tasks, measured)
 * (bench/README.md), identical results (inlining changes no semantics). The flags are process-wide
 * (worker threads share them) and are read when a function is optimized, so setting them at
 * start-up, before any simulation runs hot, is enough.
 */
import { setFlagsFromString } from 'node:v8';

export const V8_INLINING_FLAGS = '--max-inlined-bytecode-size=1000 --max-inlined-bytecode-size-cumulative=3000';

let done = false;
export function tuneV8(): void {
  if (done) return;
  done = true;
  setFlagsFromString(V8_INLINING_FLAGS);
}
