/**
 * Trace generators by name: each turns a resolved config (its `workload.*` and device knobs) into
 * trace columns, seeded and deterministic. `iommusim trace gen NAME`, workload specs and `run`
 * use this registry; `iommusim workloads` lists what the specs build on.
 */
import type { Config } from '../../config/config.js';
import type { TraceColumns } from '../columns.js';
import { pciebenchTrace } from './pciebench.js';

export interface Generator {
  name: string;
  description: string;
  /** Settings this generator implies (applied before the user's). */
  defaults: ReadonlyArray<readonly [string, string | number | boolean]>;
  build(cfg: Readonly<Config>): TraceColumns;
}

const registry = new Map<string, Generator>();

export function registerGenerator(g: Generator): void {
  registry.set(g.name, g);
}

export function findGenerator(name: string): Generator | undefined {
  return registry.get(name);
}

export function generators(): Generator[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

registerGenerator({
  name: 'pciebench',
  description: 'pcie-bench DMA microbenchmark: workload.op/size/window/pattern/cache/count/seed (closed loop)',
  defaults: [['workload.kind', 'pciebench']],
  build: pciebenchTrace,
});
