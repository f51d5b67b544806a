/** `iommusim run <trace>`: one trace through the model; a short summary, and JSON with --json. */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { buildConfig, parseSetArgs } from '../config/config.js';
import { loadTrace, TRACE_FORMATS, type TraceFormat } from '../trace/load.js';
import { runTrace, summarizeTrace } from '../run/run.js';
import type { RunResult } from '../run/result.js';
import { inputError } from '../util/errors.js';

const collect = (v: string, prev: string[]): string[] => prev.concat([v]);

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('replay a trace through the IOMMU model and print a summary')
    .argument('<trace>', 'trace file (CSV: time_ns,device,pasid,op,iova,size,dir,paddr)')
    .option('--set <key=value>', 'set a configuration key (repeatable); `iommusim config` lists them', collect, [])
    .option('--format <format>', `trace format: ${TRACE_FORMATS.join(', ')}`, 'auto')
    .option('--json <file>', 'write the full versioned result as JSON')
    .option('--quiet', 'print nothing but errors')
    .action((tracePath: string, opts: { set: string[]; format: string; json?: string; quiet?: boolean }) => {
      if (!(TRACE_FORMATS as readonly string[]).includes(opts.format)) {
        throw inputError(`--format ${opts.format}`, 'unknown trace format', `use one of ${TRACE_FORMATS.join(', ')}`);
      }
      const cfg = buildConfig(parseSetArgs(opts.set));
      const addressBits = 12 + 9 * cfg.iommu.levels;
      const tr = loadTrace(tracePath, opts.format as TraceFormat, { addressBits });
      const result = runTrace(tr.columns, cfg, summarizeTrace(tr.columns, basename(tracePath), tracePath, tr.format));
      if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2) + '\n');
      if (!opts.quiet) process.stdout.write(formatSummary(result));
    });
}

const pct = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(2)}%` : '—');

export function formatSummary(r: RunResult): string {
  const m = r.metrics;
  const w = r.workload;
  const lines = [
    `iommusim ${r.iommusim} — ${w.name}: ${w.records} records (${w.ops.dma} dma, ${w.ops.map} map, ${w.ops.unmap} unmap, ${w.ops.inv} inv), ${w.devices.length} device(s)`,
    `mode ${r.config.iommu.mode}, ${r.config.iommu.levels}-level tables, superpages ${r.config.iommu.superpages ? 'on' : 'off'}, IOTLB ${r.config.iommu.iotlb.entries} entries ${r.config.iommu.iotlb.ways}-way ${r.config.iommu.iotlb.policy}`,
    `DMA        ${m.dma.requests} requests, ${m.dma.bytes} bytes, ${m.dma.pieces} 4 KiB translations, ${m.dma.dropped} dropped`,
    `IOTLB      ${m.iotlb.lookups} lookups, ${m.iotlb.hits} hits, ${m.iotlb.misses} misses (hit rate ${pct(m.iotlb.hits, m.iotlb.lookups)})`,
    `PWC        ${Object.entries(m.pwc).filter(([, v]) => v.enabled).map(([k, v]) => `${k} ${v.hits}/${v.hits + v.misses}`).join(', ')} (hits/probes)`,
    `walks      ${m.walks.count} walks, ${m.walks.memReads} memory reads (${m.walks.readsPerWalk.toFixed(2)} per walk${m.walks.nestedS2Reads ? `, ${m.walks.nestedS2Reads} second-stage reads in nested walks` : ''})`,
    `context    ${m.contextCache.hits} hits, ${m.contextCache.misses} misses`,
    `invalidate iotlb ${m.invalidations.iotlb}, pwc ${m.invalidations.pwc}, context ${m.invalidations.context}, devtlb ${m.invalidations.devtlb}, wait ${m.invalidations.wait}`,
    `faults     ${m.faults.count}${m.faults.count ? ' (' + Object.entries(m.faults.byReason).map(([k, v]) => `${k} ${v}`).join(', ') + ')' : ''}`,
  ];
  return lines.join('\n') + '\n';
}
