/** The sweep result type and its text in results.json (shared by the worker and the main thread; imports nothing at run time). */
import type { RunResult } from '../result.js';
import type { ModeResult } from '../compare.js';
import type { HypervisorName } from '../../virt/hypervisors.js';

/** The figures of an I/O-path job: `iommusim compare`'s for that path, and the hypervisor's name. */
export type PathFigures = { hypervisor: HypervisorName } & ModeResult;
/** A sweep result: a RunResult; an I/O-path job's also carries `path`. */
export type SweepResult = RunResult & { path?: PathFigures };

/**
 * The text of one element of results.json: `JSON.stringify(results, null, 2)` is `[\n  `, these
 * joined by `,\n  `, then `\n]` (or `[]` for none). JSON strings hold no raw newline, so indenting
 * every line break is exact.
 */
export function resultText(result: unknown): string {
  return JSON.stringify(result, null, 2).replace(/\n/g, '\n  ');
}
