/**
 * Generators registered from outside src/trace (the registry there is the trace layer's; device
 * models added since register here). Imported for its effect by run/workloads.ts, which every
 * command that looks a generator up loads.
 */
import { registerGenerator } from '../trace/generators/index.js';
import { blkSpec, blkTrace } from '../devices/blk/blk.js';

registerGenerator({
  name: 'nvme',
  description: 'NVMe-like block device under fio-style load: workload.count commands of workload.size bytes (workload.op read or write), blk.queueDepth outstanding, at blk.deviceGBps after blk.latencyUs',
  defaults: [['workload.kind', 'nvme'], ['workload.count', 20000], ['workload.size', '4KiB'], ['workload.op', 'read']],
  build: (cfg) => blkTrace(blkSpec(cfg)).trace,
});
