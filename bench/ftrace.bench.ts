/**
 * ftrace text import speed: ~1 M synthetic event lines generated in memory (a strict-mode DMA
 * pattern: dma_map_phys, iommu:map, iommu:unmap, dma_unmap_phys per buffer), parsed in the tracefs
 * layout and in the `trace-cmd report` layout. Prints records (rows) per second.
 */
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { parseFtrace } from '../src/trace/importers/ftrace.js';

const LINES = 1_000_000;

const hex16 = (v: number): string => v.toString(16).padStart(16, '0');
const COMMS = ['irq/128-nvme0q1', 'fio', '<idle>', 'kworker/u16:3', 'Web Content'];
const FLAGS = ['..s1.', 'd.h1.', 'b....', '.N.2.'];

/** `lines` event lines in the tracefs (`trace`) or `trace-cmd report` layout. */
export function makeTrace(lines: number, layout: 'trace' | 'trace-cmd'): string {
  const out: string[] = [];
  out.push(layout === 'trace'
    ? `# tracer: nop\n#\n# entries-in-buffer/entries-written: ${lines}/${lines}   #P:8\n#`
    : 'cpus=8');
  let x = 0x9e3779b9;
  for (let i = 0; i < lines; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const buf = i >> 2;
    const iova = 0xfff00000 - (buf % 4096) * 4096;
    const phys = 0x100000000 + ((x >>> 4) % 0x400000) * 4096;
    const len = 64 + (x % 1451);
    const dev = '0000:3b:00.0';
    let name: string, payload: string;
    switch (i & 3) {
      case 0: name = 'dma_map_phys'; payload = `${dev} dir=FROM_DEVICE dma_addr=${(iova + 0xc2).toString(16)} size=${len} phys_addr=${(phys + 0xc2).toString(16)} attrs=`; break;
      case 1: name = 'map'; payload = `IOMMU: iova=0x${hex16(iova)} - 0x${hex16(iova + 4096)} paddr=0x${hex16(phys)} size=4096`; break;
      case 2: name = 'unmap'; payload = `IOMMU: iova=0x${hex16(iova)} - 0x${hex16(iova + 4096)} size=4096 unmapped_size=4096`; break;
      default: name = 'dma_unmap_phys'; payload = `${dev} dir=FROM_DEVICE dma_addr=${(iova + 0xc2).toString(16)} size=${len} attrs=`;
    }
    const us = 100_000_000 + i * 3;
    const ts = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
    const comm = COMMS[i % COMMS.length]!.padStart(16);
    const cpu = String(i % 8).padStart(3, '0');
    out.push(layout === 'trace'
      ? `${comm}-${String(1000 + (i % 7)).padEnd(7)} [${cpu}] ${FLAGS[i % FLAGS.length]} ${ts.padStart(12)}: ${name}: ${payload}`
      : `${comm}-${1000 + (i % 7)} [${cpu}] ${ts.padStart(12)}: ${`${name}:`.padEnd(21)} ${payload}`);
  }
  return `${out.join('\n')}\n`;
}

export async function run(): Promise<void> {
  const texts = { trace: makeTrace(LINES, 'trace'), 'trace-cmd': makeTrace(LINES, 'trace-cmd') };
  const bench = new Bench({ iterations: 5, time: 0, warmup: true, warmupIterations: 1, warmupTime: 0 });
  const rows: Record<string, number> = {};
  for (const layout of ['trace', 'trace-cmd'] as const) {
    const name = `parseFtrace ${layout} layout`;
    bench.add(name, () => { rows[name] = parseFtrace(texts[layout], 'bench.txt').columns.count; });
  }
  await bench.run();
  process.stdout.write('\n## ftrace text import\n\n| task | lines | MB | mean per call | records/s | MB/s |\n| --- | --- | --- | --- | --- | --- |\n');
  for (const task of bench.tasks) {
    const layout = task.name.includes('trace-cmd') ? 'trace-cmd' : 'trace';
    const mb = texts[layout].length / 1e6;
    const meanMs = (task.result as unknown as { latency?: { mean: number } }).latency?.mean ?? NaN;
    const n = rows[task.name] ?? 0;
    process.stdout.write(`| ${task.name} | ${LINES.toLocaleString('en-US')} | ${mb.toFixed(1)} | ${meanMs.toFixed(1)} ms | ` +
      `${(n / (meanMs / 1000) / 1e6).toFixed(2)} M | ${(mb / (meanMs / 1000)).toFixed(0)} |\n`);
  }
}

// Run directly (`node dist/bench/ftrace.bench.js`); a suite runner imports run() instead.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
