/** `iommusim workloads`: the workload library. */
import type { Command } from 'commander';
import { listWorkloads } from '../run/workloads.js';
import { generators } from '../run/generators/index.js';

export function registerWorkloads(program: Command): void {
  program
    .command('workloads')
    .description('list the shipped workloads (iommusim run NAME runs one) and the generators they use')
    .option('--json', 'machine-readable list')
    .action((opts: { json?: boolean }) => {
      const ws = listWorkloads();
      if (opts.json) {
        process.stdout.write(JSON.stringify(ws.map((w) => ({ name: w.name, description: w.description, generator: w.generator, trace: w.trace, platform: w.platform, sweep: w.sweep })), null, 2) + '\n');
        return;
      }
      const width = Math.max(...ws.map((w) => w.name.length), 8);
      for (const w of ws) process.stdout.write(`${w.name.padEnd(width)}  ${w.description}${w.sweep ? ` [sweep: ${Object.keys(w.sweep).join(', ')}]` : ''}\n`);
      process.stdout.write(`\ngenerators: ${generators().map((g) => g.name).join(', ')}\n`);
    });
}
