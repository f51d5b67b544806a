/**
 * Timed vs functional replay of the same NIC traces, per DMA, side by side in the same minutes
 * (issue #17's goal: the timed replay at most 3× the functional one's time per DMA). The traces:
 * nic-10g-tcp as shipped (300,000 packets: per-packet map/unmap, the host's ACKs), nic-10g-udp64
 * at 1,000,000 packets with a page pool and with a huge-page pool. Each figure is a task of
 * bench/timing.bench.ts in its own process (tinybench, 7 calls, median), functional and timed
 * alternating F T T F for `--rounds` rounds; the ratio is of the medians. The events per DMA are
 * the timed run's (each at least one push and one pop of the event queue).
 *
 *   npm run build && node dist/bench/ratio.bench.js [--rounds 2]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure } from './common.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const timing = join(here, 'timing.bench.js');
/** [functional task, timed task] of bench/timing.bench.ts. */
const PAIRS: Array<[number, number]> = [[9, 10], [11, 12], [7, 8]];

interface TaskFigure extends Figure { eventsPerItem?: number }
const runTask = (k: number): TaskFigure => {
  const out = execFileSync(process.execPath, [timing, '--task', String(k)], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`timing bench task ${k} printed no figure:\n${out}`);
  return JSON.parse(line) as TaskFigure;
};
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

export async function run(rounds = 1): Promise<Figure[]> {
  process.stdout.write(`\n## timed vs functional replay, ns per DMA (medians; ${rounds} round${rounds === 1 ? '' : 's'} of F T T F, each in its own process)\n\n| trace | functional | timed | timed / functional (goal ≤ 3) | events per DMA |\n| --- | ---: | ---: | ---: | ---: |\n`);
  const figs: Figure[] = [];
  for (const [fk, tk] of PAIRS) {
    const f: number[] = [], t: number[] = [];
    let name = '', events = NaN;
    for (let r = 0; r < rounds; r++) {
      const a = runTask(fk); f.push(1e9 / a.itemsPerSec); name = a.name.split(':')[0];
      const b = runTask(tk); t.push(1e9 / b.itemsPerSec); events = b.eventsPerItem ?? NaN; figs.push(b);
      t.push(1e9 / runTask(tk).itemsPerSec);
      const c = runTask(fk); f.push(1e9 / c.itemsPerSec); figs.push(c);
    }
    const mf = median(f), mt = median(t);
    process.stdout.write(`| ${name} | ${mf.toFixed(0)} ns (${f.map((x) => x.toFixed(0)).join(', ')}) | ${mt.toFixed(0)} ns (${t.map((x) => x.toFixed(0)).join(', ')}) | **${(mt / mf).toFixed(2)}** | ${events.toFixed(2)} |\n`);
  }
  return figs;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--rounds');
  await run(i > 0 ? Number(process.argv[i + 1]) : 1);
}
