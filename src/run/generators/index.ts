/**
 * Trace generators by name: each turns a resolved config (its `workload.*` and device knobs) into
 * trace columns, seeded and deterministic. `iommusim trace gen NAME`, workload specs and `run`
 * use this registry; `iommusim workloads` lists what the specs build on.
 */
import type { Config } from '../../config/config.js';
import type { TraceColumns, TraceChunks } from '../../trace/columns.js';
import { pciebenchTrace } from './pciebench.js';
import { gpuGenerate } from './gpu.js';
import { nicGenerate, nicStream } from './nic.js';
import { blkSpec, blkTrace } from '../../devices/blk/blk.js';
import type { ReadOptions } from '../../trace/input.js';

export interface Generator {
  name: string;
  description: string;
  /** Settings this generator implies (applied before the user's). */
  defaults: ReadonlyArray<readonly [string, string | number | boolean]>;
  /** `read`: how to read an input file the generator replays (nic-pcap's capture). */
  build(cfg: Readonly<Config>, read?: ReadOptions): TraceColumns;
  /** The same rows a chunk at a time in bounded memory, for generators that can (the NIC's). */
  stream?(cfg: Readonly<Config>, read?: ReadOptions): TraceChunks;
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

const nic = (name: string, description: string, defaults: Array<readonly [string, string | number | boolean]>) =>
  registerGenerator({ name, description, defaults: [['workload.kind', name], ...defaults], build: (cfg, read) => nicGenerate(cfg, undefined, read).trace, stream: (cfg, read) => nicStream(cfg, undefined, read) });
// The TCP generators' hosts are TCP receivers: nic.acks (one ACK per nic.ackEvery received segments) is on by default.
nic('nic-tcp', 'NIC TCP-like stream: workload.count frames of workload.size bytes (MTU) at workload.rateGbps over workload.flows flows, RSS to nic.queues; the host ACKs received segments (nic.acks)', [['workload.count', 20000], ['workload.size', 1514], ['workload.rateGbps', 10], ['workload.flows', 4], ['nic.moderation.usecs', 50], ['nic.acks', true]]);
nic('nic-udp64', 'NIC 64 B UDP: minimum-size frames at workload.rateGbps (the packet-rate stress case)', [['workload.count', 50000], ['workload.rateGbps', 10], ['workload.flows', 4]]);
nic('nic-memcached', 'NIC request/response traffic with a memcached-like frame-size mix (workload.mix=memcached)', [['workload.count', 30000], ['workload.mix', 'memcached'], ['workload.rateGbps', 10], ['workload.flows', 64]]);
nic('nic-fs-multiflow', 'multi-flow TCP ring workload after Fast & Safe IO Memory Protection: 4 KiB MTU, ring 256, 100 Gb/s, workload.flows flows; the host ACKs received segments (nic.acks)', [['workload.count', 40000], ['workload.size', 4096], ['workload.rateGbps', 100], ['workload.flows', 5], ['nic.rxRing.entries', 256], ['nic.bufferBytes', 4096], ['nic.acks', true]]);
// nic-pcap leaves nic.acks off: a capture taken on the host already holds its ACKs (as sent frames), and one
// without direction replays every frame, the peer's ACKs too, as received; nic.acks=true adds ACKs for its received TCP frames.
nic('nic-pcap', 'a real capture (workload.pcap) replayed through the NIC model at its own timestamps', [['workload.count', 1000000]]);

registerGenerator({
  name: 'nvme',
  description: 'NVMe-like block device under fio-style load: workload.count commands of workload.size bytes (workload.op read or write), blk.queueDepth outstanding, at blk.deviceGBps after blk.latencyUs',
  defaults: [['workload.kind', 'nvme'], ['workload.count', 20000], ['workload.size', '4KiB'], ['workload.op', 'read']],
  build: (cfg) => blkTrace(blkSpec(cfg)).trace,
});
