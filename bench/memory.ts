/**
 * Bounded memory (issue #17): generate traces of 1 M, 10 M and 100 M records with `trace gen`
 * (streamed) and replay each with `run` (timed, streamed), each command in its own process;
 * print their peak RSS and wall time. Goal: `run` of 100 M records in ≤ 400 MB peak RSS, and the
 * same peak within 20 % for every size.
 *
 *   npm run build && node dist/bench/memory.js                      # 1e6,1e7,1e8 records (~10 min, 5 GB of disk)
 *   node dist/bench/memory.js --records 1e6,1e7 --functional        # also the functional replay
 *   node dist/bench/memory.js --workload nic-10g-tcp --set nic.iovaPolicy=page-pool
 *   node dist/bench/memory.js --records 1e6,5e6 --as csv                # the traces as CSV (streamed too)
 *
 * The trace: nic-10g-udp64 with a huge-page pool by default (packets at line rate, time-spread;
 * about 1.39 records per packet), the packet count chosen for the record count asked for. Files
 * go to a temporary directory, each deleted after its run (--keep keeps them; --dir puts them
 * elsewhere).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '../src/cli/main.js');
const hook = pathToFileURL(join(here, 'rss-hook.js')).href;

interface Measured { wallS: number; rssMiB: number; stdout: string }

/** One CLI command in its own process, its wall time and peak RSS; a failure stops the bench with the command's stderr. */
function measure(args: string[]): Measured {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', hook, cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallS = (performance.now() - t0) / 1000;
  const m = /maxRSS-KiB (\d+)\s*$/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) {
    process.stderr.write(`iommusim ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}\n`);
    process.exit(1);
  }
  return { wallS, rssMiB: Number(m[1]) / 1024, stdout: r.stdout };
}

const program = new Command()
  .option('--records <list>', 'record counts, comma-separated (1e6 style allowed)', '1e6,1e7,1e8')
  .option('--workload <name>', 'a NIC workload or generator that streams', 'nic-10g-udp64')
  .option('--set <key=value>', 'settings for trace gen and run (repeatable)', (v: string, a: string[]) => [...a, v], [] as string[])
  .option('--functional', 'also replay each trace functionally (translations only)')
  .option('--as <ext>', 'the traces\' format: iotrace or csv (CSV, JSONL and ftrace are streamed as well)', 'iotrace')
  .option('--dir <dir>', 'where the traces go (default: a new temporary directory)')
  .option('--keep', 'keep the traces')
  .parse();
const o = program.opts<{ records: string; workload: string; set: string[]; functional?: boolean; as: string; dir?: string; keep?: boolean }>();
if (o.as !== 'iotrace' && o.as !== 'csv') { process.stderr.write(`--as ${o.as}: give iotrace or csv\n`); process.exit(2); }
const sets = (o.set.length > 0 ? o.set : ['nic.iovaPolicy=hugepage']).flatMap((s) => ['--set', s]);
const targets = o.records.split(',').map((s) => Math.round(Number(s)));
if (targets.some((n) => !(n >= 1))) { process.stderr.write(`--records ${o.records}: give record counts ≥ 1, e.g. 1e6,1e7\n`); process.exit(2); }
const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'iommusim-mem-'));

// records per packet of this workload and policy, from a small trace
const probe = join(dir, 'probe.iotrace');
const p = measure(['trace', 'gen', o.workload, ...sets, '--set', 'workload.count=100000', '-o', probe]);
const perPacket = Number(/: (\d+) records/.exec(p.stdout)![1]) / 100000;
rmSync(probe);

process.stdout.write(`# bounded memory: ${o.workload} ${sets.filter((s) => s !== '--set').join(' ')}, ${perPacket.toFixed(4)} records per packet, traces as .${o.as}; Node ${process.version}\n\n`);
process.stdout.write('| records | packets | file | trace gen wall | trace gen peak RSS | run (timed) wall | run (timed) peak RSS | run rate |' + (o.functional ? ' run --functional wall | peak RSS |' : '') + '\n');
process.stdout.write('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |' + (o.functional ? ' ---: | ---: |' : '') + '\n');
const runRss: number[] = [];
for (const target of targets) {
  const packets = Math.max(1, Math.ceil(target / perPacket));
  const f = join(dir, `mem-${target}.${o.as}`);
  const g = measure(['trace', 'gen', o.workload, ...sets, '--set', `workload.count=${packets}`, '-o', f]);
  const records = Number(/: (\d+) records/.exec(g.stdout)![1]);
  const bytes = statSync(f).size;
  const r = measure(['run', f, ...sets, '--quiet']);
  runRss.push(r.rssMiB);
  let extra = '';
  if (o.functional) {
    const fr = measure(['run', f, ...sets, '--functional', '--quiet']);
    extra = ` ${fr.wallS.toFixed(1)} s | ${fr.rssMiB.toFixed(0)} MiB |`;
  }
  if (!o.keep) rmSync(f);
  process.stdout.write(`| ${records.toLocaleString('en-US')} | ${packets.toLocaleString('en-US')} | ${(bytes / 2 ** 20).toFixed(0)} MiB | ${g.wallS.toFixed(1)} s | ${g.rssMiB.toFixed(0)} MiB | ${r.wallS.toFixed(1)} s | ${r.rssMiB.toFixed(0)} MiB | ${(records / r.wallS / 1e6).toFixed(2)} M records/s |${extra}\n`);
}
if (!o.keep && o.dir === undefined) rmSync(dir, { recursive: true, force: true });
const hi = Math.max(...runRss), lo = Math.min(...runRss);
process.stdout.write(`\nrun peak RSS: largest ${hi.toFixed(0)} MiB (goal ≤ ${(400e6 / 2 ** 20).toFixed(0)} MiB = 400 MB: ${hi * 2 ** 20 <= 400e6 ? 'met' : 'NOT met'}), largest/smallest ${(hi / lo).toFixed(3)} (goal ≤ 1.20: ${hi / lo <= 1.2 ? 'met' : 'NOT met'})\n`);
