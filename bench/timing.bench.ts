/**
 * Simulated DMA requests per second with full timing (one core): the pciebench generator
 * (64 B reads and 512 B writes through a strict IOMMU, 16 MiB window) and a NIC-like trace
 * (per-packet map, descriptor read, payload write, descriptor write-back, unmap; 1514 B frames
 * at 10 Gb/s) replayed through the timed model; and the shipped NIC workload nic-10g-tcp (the
 * NIC and driver model's trace: RSS queues, descriptor fetch and write-back batches, interrupt
 * moderation, NAPI) at 300,000 packets, with per-packet DMA-API mapping (its setting) and with
 * a page pool (buffers mapped once); and nic-10g-udp64 (64 B frames at line rate, the packet-rate
 * case) at 1,000,000 packets with a page pool. The traces are built before timing; only the replay
 * is timed. Then the NIC's floor: one event-queue push + pop, and nic-10g-udp64 with a huge-page
 * pool (the NIC case with the least translation work) replayed functionally and with full timing;
 * the timed replay does the functional one's translations plus its events, so the two give a floor
 * under its cost per DMA (bench/README.md).
 */
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { runSuite, type Figure } from './common.js';
import { buildConfig } from '../src/config/config.js';
import { runPciebench, runTimedTrace } from '../src/run/timed.js';
import { TraceBuilder, OP_DMA, OP_MAP, OP_UNMAP, DIR_READ, DIR_WRITE, DIR_RW } from '../src/trace/columns.js';
import { summarizeTrace, runTrace } from '../src/run/run.js';
import { EventQueue } from '../src/kernel/queue.js';
import { resolveInput } from '../src/run/inputs.js';
import { workloadsDir } from '../src/run/workloads.js';
import { join } from 'node:path';

const N = 1_000_000;

function nicTrace(packets: number) {
  const b = new TraceBuilder(packets * 5 + 300);
  const dev = b.deviceIndex('0000:03:00.0');
  const ring = 0xfffff000;
  b.pushAddr(0, dev, -1, OP_MAP, ring, 4096, DIR_RW, 0x7f000000);
  let t = 100;
  let iova = 0xfff00000;
  for (let k = 0; k < packets; k++) {
    const buf = iova - (k % 512) * 4096;
    b.pushAddr(t, dev, -1, OP_MAP, buf, 4096, DIR_RW, 0x100000000 + (k % 4096) * 4096);
    b.pushAddr(t + 1, dev, -1, OP_DMA, ring + (k % 256) * 16, 16, DIR_READ, 0);
    b.pushAddr(t + 2, dev, -1, OP_DMA, buf, 1514, DIR_WRITE, 0);
    b.pushAddr(t + 3, dev, -1, OP_DMA, ring + (k % 256) * 16, 16, DIR_WRITE, 0);
    b.pushAddr(t + 900, dev, -1, OP_UNMAP, buf, 4096, 0, 0);
    t += 1230;
  }
  return b.finish();
}

type Task = { name: string; items: number; unit: string; fn: () => void; eventsPerItem?: number };
type TaskFigure = Figure & { eventsPerItem?: number };

/** One push + pop per event in the engine's common case: 32 in flight over 3 kinds, each kind's pushes in time order (its FIFO lane). */
const QUEUE_EVENTS = 10_000_000;
function queueSteadyState(n: number): number {
  const q = new EventQueue(4096, [0, 1, 2, 3]);
  let s = 0;
  for (let i = 0; i < 32; i++) q.push(i * 100, 1 + (i % 3), i);
  for (let i = 0; i < n; i++) {
    q.pop();
    s += q.arg;
    q.push(q.now + 3200 + (i & 7), 1 + (i % 3), i & 31);
  }
  return s;
}

/** Task k alone; only its own inputs are built. */
function task(k: number): Task {
  const tcpYaml = join(workloadsDir(), 'nic', 'nic-10g-tcp.yaml');
  const udpYaml = join(workloadsDir(), 'nic', 'nic-10g-udp64.yaml');
  const pb = (extra: Array<[string, string | number]>) => buildConfig([['iommu.mode', 'strict'], ['workload.kind', 'pciebench'], ['workload.count', N], ['workload.window', '16MiB'], ...extra]);
  switch (k) {
    case 0: return { name: 'pciebench 64 B reads, strict IOMMU', items: N, unit: 'requests', fn: () => { runPciebench(pb([['workload.size', 64]])); } };
    case 1: return { name: 'pciebench 512 B writes, strict IOMMU', items: N, unit: 'requests', fn: () => { runPciebench(pb([['workload.size', 512], ['workload.op', 'write']])); } };
    case 2: {
      const tr = nicTrace(N / 3);
      const w = summarizeTrace(tr, 'nic-like', 'generated', 'columns');
      return { name: `NIC-like trace (${w.ops.dma.toLocaleString('en-US')} DMAs + map/unmap), lazy IOMMU`, items: w.ops.dma, unit: 'requests', fn: () => { runTimedTrace(tr, buildConfig([['iommu.mode', 'lazy']]), w); } };
    }
    case 5: {
      const [r] = resolveInput(udpYaml, [['workload.count', 1_000_000], ['nic.iovaPolicy', 'page-pool']]);
      return {
        name: `nic-10g-udp64, 1,000,000 packets (${r.summary.ops.dma.toLocaleString('en-US')} DMAs), page pool, lazy IOMMU`,
        items: r.summary.ops.dma, unit: 'requests', fn: () => { runTimedTrace(r.columns!, r.cfg, r.summary); },
      };
    }
    case 6: return { name: 'event queue push + pop (32 in flight, 3 kinds, each in time order)', items: QUEUE_EVENTS, unit: 'events', fn: () => { if (queueSteadyState(QUEUE_EVENTS) < 0) throw new Error('unreachable'); } };
    case 7: case 8: {
      // the NIC case with the least translation work: 2 MiB pages, every IOTLB lookup a hit
      const [r] = resolveInput(udpYaml, [['workload.count', 1_000_000], ['nic.iovaPolicy', 'hugepage']]);
      const what = `nic-10g-udp64, 1,000,000 packets (${r.summary.ops.dma.toLocaleString('en-US')} DMAs), huge-page pool, lazy IOMMU`;
      if (k === 7) return { name: `${what}: functional replay only (translations, no timing)`, items: r.summary.ops.dma, unit: 'requests', fn: () => { runTrace(r.columns!, r.cfg, r.summary); } };
      const work = { events: 0 };
      runTimedTrace(r.columns!, r.cfg, r.summary, work);
      const events = work.events;
      return { name: `${what}: full timing`, items: r.summary.ops.dma, unit: 'requests', eventsPerItem: events / r.summary.ops.dma, fn: () => { runTimedTrace(r.columns!, r.cfg, r.summary); } };
    }
    case 9: case 10: case 11: case 12: {
      // the timed/functional ratio (bench/ratio.bench.ts): nic-10g-tcp as shipped (per-packet map/unmap, the host's ACKs), nic-10g-udp64 with a page pool
      const tcp = k <= 10;
      const [r] = tcp ? resolveInput(tcpYaml, [['workload.count', 300_000]]) : resolveInput(udpYaml, [['workload.count', 1_000_000], ['nic.iovaPolicy', 'page-pool']]);
      const what = tcp ? `nic-10g-tcp as shipped, 300,000 packets (${r.summary.ops.dma.toLocaleString('en-US')} DMAs), per-packet map/unmap, ACKs` : `nic-10g-udp64, 1,000,000 packets (${r.summary.ops.dma.toLocaleString('en-US')} DMAs), page pool`;
      if (k === 9 || k === 11) return { name: `${what}: functional replay only`, items: r.summary.ops.dma, unit: 'requests', fn: () => { runTrace(r.columns!, r.cfg, r.summary); } };
      const work = { events: 0 };
      runTimedTrace(r.columns!, r.cfg, r.summary, work);
      const events = work.events;
      return { name: `${what}: full timing`, items: r.summary.ops.dma, unit: 'requests', eventsPerItem: events / r.summary.ops.dma, fn: () => { runTimedTrace(r.columns!, r.cfg, r.summary); } };
    }
    default: {
      const pool = k === 4;
      // without the host's ACKs (on by default since they were modelled), so that builds compare on the same trace
      const [r] = resolveInput(tcpYaml, [['workload.count', 300_000], ['nic.acks', false], ...(pool ? [['nic.iovaPolicy', 'page-pool'] as [string, string]] : [])]);
      return {
        name: `nic-10g-tcp, 300,000 packets (${r.summary.ops.dma.toLocaleString('en-US')} DMAs), ${pool ? 'page pool' : 'per-packet map/unmap'}, lazy IOMMU`,
        items: r.summary.ops.dma, unit: 'requests', fn: () => { runTimedTrace(r.columns!, r.cfg, r.summary); },
      };
    }
  }
}
/** Tasks run() measures; 9-12 are measured by bench/ratio.bench.ts with 7-8. */
const TASKS = 9;

/**
 * Each task runs in its own Node process, as `iommusim run` does: in one process the tasks'
 * calls would shape V8's type feedback for each other (trace replay vs generator, reads vs
 * writes) and each figure would depend on which tasks ran before it.
 */
export async function run(): Promise<Figure[]> {
  const figs: TaskFigure[] = [];
  process.stdout.write('\n## timed simulation (requests per second, one core, each task in its own process)\n\n| task | median per call | items per call | throughput (median) | range (slowest–fastest call) |\n| --- | --- | --- | --- | --- |\n');
  for (let k = 0; k < TASKS; k++) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--task', String(k)], { encoding: 'utf8' });
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`timing bench task ${k} printed no figure:\n${out}`);
    const f = JSON.parse(line) as TaskFigure;
    figs.push(f);
    const m = (x: number) => (x / 1e6).toFixed(2);
    const rate = (ms: number) => f.items / (ms / 1000);
    process.stdout.write(`| ${f.name} | ${f.medianMs.toFixed(1)} ms | ${f.items.toLocaleString('en-US')} | ${m(f.itemsPerSec)} M ${f.unit}/s | ${m(rate(f.maxMs))}–${m(rate(f.minMs))} M/s |\n`);
  }
  // A floor under the NIC's cost per DMA, from tasks 6-8 measured in the same minutes: the timed run
  // does the functional run's translations plus eventsPerItem events, each at least one push + pop.
  const [queue, func, timed] = [figs[6], figs[7], figs[8]];
  const eventsPerDma = timed.eventsPerItem!;
  const floorNs = 1e9 / func.itemsPerSec + (eventsPerDma * 1e9) / queue.itemsPerSec;
  process.stdout.write(`\nfloor for ${timed.name.split(':')[0]}: translations ${(1e9 / func.itemsPerSec).toFixed(0)} ns + ${eventsPerDma.toFixed(2)} events × ${(1e9 / queue.itemsPerSec).toFixed(0)} ns = ${floorNs.toFixed(0)} ns per DMA before any link, memory or statistics work, i.e. at most ${(1e3 / floorNs).toFixed(2)} M DMAs/s (goal 5; measured with full timing: ${(timed.itemsPerSec / 1e6).toFixed(2)}, ${(1e9 / timed.itemsPerSec).toFixed(0)} ns per DMA)\n`);
  return figs;
}

const at = process.argv.indexOf('--task');
if (at > 0) {
  const t = task(Number(process.argv[at + 1]));
  const [f] = await runSuite('task', [t], 7, true);
  process.stdout.write(`${JSON.stringify({ ...f, eventsPerItem: t.eventsPerItem })}\n`);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
