/** `iommusim run <trace>`: one trace through the model; a short summary, and JSON with --json. */
import type { Command } from 'commander';
import { checkOutputFile, writeFileAtomic } from '../util/output.js';
import { parseSetArgs, buildConfig } from '../config/config.js';
import { TRACE_FORMATS, type TraceFormat } from '../run/load.js';
import { runIotraceStreaming, runChunks } from '../run/run.js';
import { runTimedIotraceStreaming, runTimedChunks } from '../run/timed.js';
import { basename } from 'node:path';
import { resolveInput, resolveStream, describeInputs, runResolved } from '../run/inputs.js';
import { fileStartsWithIotrace } from '../trace/input.js';
import type { RunResult } from '../run/result.js';
import { inputError } from '../util/errors.js';
import { withProgress, type ProgressChunks } from './progress.js';
import type { TraceChunks } from '../trace/columns.js';

const collect = (v: string, prev: string[]): string[] => prev.concat([v]);

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a trace, workload or generator through the timed model and print a summary')
    .argument('<input>', `${describeInputs()}`)
    .option('--set <key=value>', 'set a configuration key (repeatable); `iommusim config` lists them', collect, [])
    .option('--platform <name>', 'platform preset applied before --set (`iommusim platforms` lists them)')
    .option('--format <format>', `trace format: ${TRACE_FORMATS.join(', ')}`, 'auto')
    .option('--functional', 'translation counts only, no timing (faster)')
    .option('--json <file>', 'write the full versioned result as JSON (an array for a workload with sweep axes)')
    .option('--quiet', 'print nothing but errors')
    .option('--strict', 'refuse a damaged input (a capture or gzip stream cut short) instead of using the complete records before the cut')
    .action((input: string, opts: { set: string[]; platform?: string; format: string; functional?: boolean; json?: string; quiet?: boolean; strict?: boolean }) => {
      if (!(TRACE_FORMATS as readonly string[]).includes(opts.format)) {
        throw inputError(`--format ${opts.format}`, 'unknown trace format', `use one of ${TRACE_FORMATS.join(', ')}`);
      }
      if (opts.json) checkOutputFile(opts.json, '--json');
      // a progress line for a long streamed run, on a terminal only (stderr: the result stays on stdout)
      const progressOut = opts.quiet ? null : process.stderr;
      const settings: Array<[string, string]> = [];
      if (opts.platform) settings.push(['platform', opts.platform]);
      settings.push(...parseSetArgs(opts.set));
      if (/\.iotrace$/.test(input) && fileStartsWithIotrace(input)) {
        // stream the native format chunk by chunk, timed or functional: bounded memory for any trace
        // size (a gzip-compressed one, found by its magic bytes, is decompressed in memory below;
        // CSV, JSONL and ftrace traces stream below)
        const cfg = buildConfig(settings);
        let bar: ProgressChunks | null = null;
        const wrap = (src: TraceChunks, total: number | undefined): TraceChunks => (bar = withProgress(src, progressOut, basename(input), { total }));
        let r: RunResult;
        try {
          r = opts.functional ? runIotraceStreaming(input, cfg, basename(input), wrap) : runTimedIotraceStreaming(input, cfg, basename(input), undefined, wrap);
        } finally {
          (bar as ProgressChunks | null)?.end();
        }
        if (opts.json) writeFileAtomic(opts.json, JSON.stringify(r, null, 2) + '\n', { flag: '--json' });
        if (!opts.quiet) process.stdout.write(formatSummary(r));
        return;
      }
      const streamed = resolveStream(input, settings, { strict: !!opts.strict });
      if (streamed) {
        // a NIC generator: its rows are produced a chunk at a time as the replay reads them (bounded memory for any packet count)
        const src = withProgress(streamed.open(), progressOut, streamed.label.name);
        let r: RunResult;
        try {
          r = opts.functional ? runChunks(src, streamed.cfg, streamed.label) : runTimedChunks(src, streamed.cfg, streamed.label);
        } finally {
          src.end();
        }
        if (opts.json) writeFileAtomic(opts.json, JSON.stringify(r, null, 2) + '\n', { flag: '--json' });
        if (!opts.quiet) process.stdout.write(formatSummary(r));
        return;
      }
      // a CSV, JSONL or ftrace trace, a capture (and an .iotrace named otherwise) is read a chunk at a time too
      const runs = resolveInput(input, settings, opts.format as TraceFormat, { strict: !!opts.strict }, true);
      const results: RunResult[] = runs.map((r) => {
        let bar: ProgressChunks | null = null;
        try {
          return runResolved(r, !!opts.functional, (src, total) => (bar = withProgress(src, progressOut, r.summary.name, { total })));
        } finally {
          (bar as ProgressChunks | null)?.end();
        }
      });
      if (opts.json) writeFileAtomic(opts.json, JSON.stringify(results.length === 1 && !runs[0].spec?.sweep ? results[0] : results, null, 2) + '\n', { flag: '--json' });
      if (!opts.quiet) {
        runs.forEach((r, i) => {
          if (r.point.length > 0) process.stdout.write(`\n── ${r.point.map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
          process.stdout.write(formatSummary(results[i]));
        });
      }
    });
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/**
 * Map/unmap records the model could not apply, which the JSON counts and a reader of the summary
 * should not miss: double maps (a map over pages already mapped fails and maps nothing, as
 * iommu_map returns -EEXIST: metrics.mapping.mapFailed) and stray unmaps (an unmap of a device that
 * had no page table yet is ignored: the unmap records less metrics.mapping.unmapCalls, when the
 * IOMMU translates). One line each, only when nonzero.
 */
export function mappingWarnings(r: RunResult): string[] {
  const mp = r.metrics.mapping;
  const out: string[] = [];
  if (mp.mapFailed > 0) out.push(`warning    ${plural(mp.mapFailed, 'double map', 'double maps')}: a map over pages already mapped failed and mapped nothing (-EEXIST; metrics.mapping.mapFailed)`);
  const translating = r.config.iommu.mode === 'strict' || r.config.iommu.mode === 'lazy';
  const stray = translating ? (r.workload.ops.unmap ?? 0) - mp.unmapCalls : 0;
  if (stray > 0) out.push(`warning    ${plural(stray, 'stray unmap', 'stray unmaps')}: an unmap of a device with nothing mapped yet (no map before it) was ignored (unmap records ${r.workload.ops.unmap} − metrics.mapping.unmapCalls ${mp.unmapCalls})`);
  return out;
}

const pct = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(2)}%` : '—');

export function formatSummary(r: RunResult): string {
  const m = r.metrics;
  const w = r.workload;
  const lines = [
    `iommusim ${r.iommusim} — ${w.name}: ${w.records} records (${w.ops.dma} dma, ${w.ops.map} map, ${w.ops.unmap} unmap, ${w.ops.inv} inv), ${w.devices.length} device(s)`,
    `platform ${r.config.platform}, mode ${r.config.iommu.mode}, ${r.config.iommu.levels}-level tables, superpages ${r.config.iommu.superpages ? 'on' : 'off'}, IOTLB ${r.config.iommu.iotlb.entries} entries ${r.config.iommu.iotlb.ways}-way ${r.config.iommu.iotlb.policy}`,
    `DMA        ${m.dma.requests} requests, ${m.dma.bytes} bytes, ${m.dma.pieces} 4 KiB translations, ${m.dma.dropped} dropped`,
    `IOTLB      ${m.iotlb.lookups} lookups, ${m.iotlb.hits} hits, ${m.iotlb.misses} misses (hit rate ${pct(m.iotlb.hits, m.iotlb.lookups)})`,
    `PWC        ${Object.entries(m.pwc).filter(([, v]) => v.enabled).map(([k, v]) => `${k} ${v.hits}/${v.hits + v.misses}`).join(', ')} (hits/probes)`,
    `walks      ${m.walks.count} walks, ${m.walks.memReads} memory reads (${m.walks.readsPerWalk.toFixed(2)} per walk${m.walks.nestedS2Reads ? `, ${m.walks.nestedS2Reads} second-stage reads in nested walks` : ''})`,
    ...(m.per4KiB ? [`per 4 KiB  ${m.per4KiB.iotlbMisses} IOTLB misses, ${m.per4KiB.memReads} IOMMU memory reads; PWC misses pml4e ${m.per4KiB.pwcMisses.pml4e}, pdpte ${m.per4KiB.pwcMisses.pdpte}, pde ${m.per4KiB.pwcMisses.pde} (over ${m.per4KiB.units} × 4 KiB of DMA payload)`] : []),
    ...(m.byKind && m.byKind.length > 0 ? [`by kind    ${m.byKind.map((k) => `${k.kind} ${k.lookups} lookups / ${k.misses} misses`).join(', ')}`] : []),
    `context    ${m.contextCache.hits} hits, ${m.contextCache.misses} misses`,
    `invalidate iotlb ${m.invalidations.iotlb}, pwc ${m.invalidations.pwc}, context ${m.invalidations.context}, devtlb ${m.invalidations.devtlb}, wait ${m.invalidations.wait}`,
    ...(m.throughputGbps !== undefined ? [
      `timing     ${m.throughputGbps} Gb/s over ${m.simulatedTimeNs} ns simulated, ${m.requestsPerSec} requests/s`,
      `latency    p50 ${m.latencyNs!.p50} ns, p90 ${m.latencyNs!.p90} ns, p99 ${m.latencyNs!.p99} ns, max ${m.latencyNs!.max} ns`,
      `PCIe       up ${m.pcie!.upGbps} Gb/s (${(m.pcie!.upUtilisation * 100).toFixed(1)}% busy), down ${m.pcie!.downGbps} Gb/s (${(m.pcie!.downUtilisation * 100).toFixed(1)}% busy), ${m.pcie!.tlps.up} + ${m.pcie!.tlps.down} TLPs`,
      `IOMMU time walk avg ${m.walks.avgLatencyNs} ns, ${m.iotlb.mergedMisses} merged misses, walker wait ${m.iommuTiming!.walkerWaitNs} ns, ${m.iommuTiming!.invalidationStalls} invalidation stalls`,
      `walk stage ${m.iommuTiming!.walkStage.map((u) => `unit ${u.unit}: ${u.walks} walks, ${(u.utilisation * 100).toFixed(1)}% busy`).join('; ')}`,
      `ordering   ${m.ordering!.writeStalls} writes held behind an earlier write (${m.ordering!.writeStallNs} ns), ${m.ordering!.readStalls} reads behind earlier writes (${m.ordering!.readStallNs} ns); write buffer: ${m.writeBuffer!.stalls} writes waited for lines (${m.writeBuffer!.stallNs} ns)`,
    ] : []),
    `faults     ${m.faults.count}${m.faults.count ? ' (' + Object.entries(m.faults.byReason).map(([k, v]) => `${k} ${v}`).join(', ') + ')' : ''}`,
    ...mappingWarnings(r),
  ];
  return lines.join('\n') + '\n';
}
