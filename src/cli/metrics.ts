/** `iommusim metrics`: every declared statistic of a result with its kind, unit and meaning (docs/metrics.md). */
import type { Command } from 'commander';
import { IOMMU_STATS } from '../iommu/stats.js';
import { ratioFormula, type Stat } from '../util/stats.js';
import { registerReference } from './reference.js';

/** The statistics tables, in the order their figures appear under a result's `metrics`. */
const SECTIONS: Array<{ title: string; source: string; stats: readonly Stat<never>[] }> = [
  { title: 'IOMMU', source: 'src/iommu/stats.ts', stats: IOMMU_STATS.stats },
];

const md = (s: string): string => s.replace(/\|/g, '\\|');

/** A statistic's meaning, with a ratio's formula. */
function meaning(s: Stat<never>): string {
  return s.kind === 'ratio' ? `${s.desc} = \`${s.num} / ${s.den}\` (0 when \`${s.den}\` is 0)` : s.desc;
}

export function metricsMarkdown(): string {
  const out = [
    '# Metrics reference',
    '',
    'Generated from the statistics tables by `iommusim metrics --markdown`; do not edit by hand.',
    'Each statistic is declared once (path, kind, unit, meaning, and how it is read from the model);',
    'the result object, its TypeScript type and this page come from that declaration. Paths are under',
    '`metrics` in a result (`iommusim run --json`, schema `iommusim.result/1`), in the result\'s order.',
    '',
    'Kinds: **count** an event count over the run; **level** a quantity at the end of the run (a size,',
    'pages in use, a peak); **flag** true or false; **ratio** derived from two figures above it (formula',
    'given); **byName** counts by name, names with none left out; **records** a list of records.',
    '',
  ];
  for (const sec of SECTIONS) {
    out.push(`## ${sec.title} (${sec.source})`, '', '| path | kind | unit | meaning |', '| --- | --- | --- | --- |');
    for (const s of sec.stats) out.push(`| \`${s.path}\` | ${s.kind} | ${md(s.unit)} | ${md(meaning(s))} |`);
    out.push('');
  }
  out.push(
    '## Not declared here yet',
    '',
    'A result\'s other figures keep their hand-written shapes (src/run/result.ts): `dma` (src/run/functional.ts),',
    '`per4KiB` (src/run/result.ts), `byKind` (src/iommu/kinds.ts), the timing model\'s `simulatedTimeNs`,',
    '`throughputGbps`, `requestsPerSec`, `latencyNs`, `latencyCdfNs`, `pcie`, `iommuTiming`, `ordering`,',
    '`writeBuffer`, `writeUnit`, `memory`, `unmapGate`, `devices` (src/sim/system.ts) and the two it adds to',
    'the IOMMU\'s sections, `iotlb.mergedMisses` and `walks.avgLatencyNs` (src/run/timed.ts); interrupt',
    'remapping\'s figures in `compare` results (src/iommu/irq).',
    '',
  );
  return out.join('\n');
}

export function registerMetrics(program: Command): void {
  registerReference(program, {
    name: 'metrics',
    description: 'list every declared metric of a result with its kind, unit and meaning',
    markdownHelp: 'print the reference as Markdown (docs/metrics.md)',
    markdown: metricsMarkdown,
    lines: () => SECTIONS.flatMap((sec) => sec.stats.map((s) => `${s.path.padEnd(36)} ${s.kind.padEnd(7)} ${s.unit.padEnd(14)} ${s.kind === 'ratio' ? `${s.desc} = ${ratioFormula(s)}` : s.desc}`)),
  });
}
