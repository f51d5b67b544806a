/**
 * Trace generators by name: each turns a resolved config (its `workload.*` and device knobs) into
 * trace columns, seeded and deterministic. `iommusim trace gen NAME`, workload specs and `run`
 * use this registry; `iommusim workloads` lists what the specs build on.
 */
import type { Config } from '../../config/config.js';
import type { TraceColumns } from '../columns.js';
import { pciebenchTrace } from './pciebench.js';
import { gpuGenerate } from './gpu.js';

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

registerGenerator({
  name: 'gpu-training',
  description: 'GPU training input pipeline: workload.count pinned H2D batches of workload.size bytes and small D2H results across workload.streams streams',
  defaults: [['workload.kind', 'gpu-training'], ['workload.count', 64], ['workload.size', '16MiB']],
  build: (cfg) => gpuGenerate(cfg).trace,
});
registerGenerator({
  name: 'gpu-pageable',
  description: 'GPU copies from pageable host memory through a pinned staging buffer (CPU copy, then DMA): workload.count copies of workload.size, workload.dir h2d or d2h',
  defaults: [['workload.kind', 'gpu-pageable'], ['workload.count', 16], ['workload.size', '16MiB'], ['workload.dir', 'h2d']],
  build: (cfg) => gpuGenerate(cfg).trace,
});
registerGenerator({
  name: 'gpu-uvm',
  description: 'GPU unified-memory far faults: workload.count faults of workload.pageBytes, serviced in batches of gpu.uvm.faultBatch (fault cost gpu.uvm.faultUs)',
  defaults: [['workload.kind', 'gpu-uvm'], ['workload.count', 2048], ['workload.pageBytes', '4KiB']],
  build: (cfg) => gpuGenerate(cfg).trace,
});
