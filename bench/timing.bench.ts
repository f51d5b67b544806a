/**
 * Simulated DMA requests per second with full timing (one core): the pciebench generator
 * (64 B reads and 512 B writes through a strict IOMMU, 16 MiB window) and a NIC-like trace
 * (per-packet map, descriptor read, payload write, descriptor write-back, unmap; 1514 B frames
 * at 10 Gb/s) replayed through the timed model.
 */
import { fileURLToPath } from 'node:url';
import { runSuite, type Figure } from './common.js';
import { buildConfig } from '../src/config/config.js';
import { runPciebench, runTimedTrace } from '../src/run/timed.js';
import { TraceBuilder, OP_DMA, OP_MAP, OP_UNMAP, DIR_READ, DIR_WRITE, DIR_RW } from '../src/trace/columns.js';
import { summarizeTrace } from '../src/run/run.js';

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

export async function run(): Promise<Figure[]> {
  const tr = nicTrace(N / 3);
  const w = summarizeTrace(tr, 'nic-like', 'generated', 'columns');
  const dmas = w.ops.dma;
  return runSuite('timed simulation (requests per second, one core)', [
    {
      name: 'pciebench 64 B reads, strict IOMMU', items: N, unit: 'requests',
      fn: () => { runPciebench(buildConfig([['iommu.mode', 'strict'], ['workload.kind', 'pciebench'], ['workload.count', N], ['workload.size', 64], ['workload.window', '16MiB']])); },
    },
    {
      name: 'pciebench 512 B writes, strict IOMMU', items: N, unit: 'requests',
      fn: () => { runPciebench(buildConfig([['iommu.mode', 'strict'], ['workload.kind', 'pciebench'], ['workload.count', N], ['workload.size', 512], ['workload.op', 'write'], ['workload.window', '16MiB']])); },
    },
    {
      name: `NIC-like trace (${dmas.toLocaleString('en-US')} DMAs + map/unmap), lazy IOMMU`, items: dmas, unit: 'requests',
      fn: () => { runTimedTrace(tr, buildConfig([['iommu.mode', 'lazy']]), w); },
    },
  ], 5);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
