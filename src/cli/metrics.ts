/** `iommusim metrics`: every declared statistic of a result with its kind, unit and meaning (docs/metrics.md). */
import type { Command } from 'commander';
import { IOMMU_STATS } from '../iommu/stats.js';
import { IRQ_REMAP_STATS, POSTED_STATS } from '../iommu/irq/stats.js';
import { TIMING_STATS, TIMED_IOMMU_STATS } from '../sim/stats.js';
import { RUN_STATS } from '../run/stats.js';
import { ratioFormula, scaleText, statRows, type Stat } from '../util/stats.js';
import { registerReference } from './reference.js';

interface Section { title: string; source: string; note?: string; stats: readonly Stat<never>[] }

/** The statistics tables: a result's `metrics` in its order (src/run/stats.ts composes them), then interrupt remapping's. */
const SECTIONS: Section[] = [
  { title: 'IOMMU', source: 'src/iommu/stats.ts', stats: IOMMU_STATS.stats },
  { title: 'DMA, per 4 KiB, by kind', source: 'src/run/stats.ts, src/iommu/kinds.ts', stats: RUN_STATS },
  {
    title: 'Timed runs: in the IOMMU\'s sections', source: 'src/sim/stats.ts',
    note: 'Added to `iotlb` and `walks` above by a timed run (absent with `--functional`).', stats: TIMED_IOMMU_STATS.stats,
  },
  { title: 'Timed runs: the timing model', source: 'src/sim/stats.ts', note: 'Absent with `--functional`.', stats: TIMING_STATS.stats },
  {
    title: 'Interrupt remapping', source: 'src/iommu/irq/stats.ts',
    note: 'The remapping unit\'s figures (`InterruptRemapper.metrics()`): not under a run\'s `metrics`; `compare` summarises them per I/O path (`modes[].interrupts`).',
    stats: IRQ_REMAP_STATS.stats,
  },
  {
    title: 'Posted interrupts', source: 'src/iommu/irq/stats.ts',
    note: 'The posted-interrupt descriptors\' figures (`PostedInterrupts.metrics()`): not under a run\'s `metrics`; `compare` reports `notificationsWithoutExit` from them.',
    stats: POSTED_STATS.stats,
  },
];

const md = (s: string): string => s.replace(/\|/g, '\\|');

/** A statistic's meaning: a ratio's formula, a number's conversion. */
function meaning(s: Stat<never>, code: (x: string) => string = (x) => x): string {
  const conv = scaleText(s);
  const text = s.kind === 'ratio' ? `${s.desc} = ${ratioFormula(s, code)}` : s.desc;
  return conv ? `${text} [${conv}]` : text;
}

/** Every declared statistic as a reference row (`path`, a list's fields as `list[].field`), in result order. */
export function metricRows(): Array<{ section: string; path: string; stat: Stat<never> }> {
  return SECTIONS.flatMap((sec) => statRows(sec.stats).map((r) => ({ section: sec.title, ...r })));
}

export function metricsMarkdown(): string {
  const out = [
    '# Metrics reference',
    '',
    'Generated from the statistics tables by `iommusim metrics --markdown`; do not edit by hand.',
    'Each statistic is declared once (path, kind, unit, meaning, and how it is read from the model);',
    'the result object, its TypeScript type and this page come from that declaration. Paths are under',
    '`metrics` in a result (`iommusim run --json`, schema `iommusim.result/1`), in the result\'s order,',
    'except where a section says otherwise. A list\'s element fields are `list[].field`.',
    '',
    'Kinds: **count** an event count over the run; **level** a quantity at the end of the run (a size,',
    'pages in use, a peak, a rate over the run); **flag** true or false; **ratio** derived from figures',
    'above it (formula given); **label** the name or number of a list\'s element; **byName** counts by',
    'name, names with none left out; **records** a list of records; **summary** a distribution\'s',
    '`{ count, mean, min, p50, p90, p99, max }`; **cdf** a distribution\'s `[value, fraction]` points;',
    '**list** a list of elements whose fields follow it. [÷ 1000, rounded to 3 decimals] is how a',
    'figure kept in picoseconds is read in nanoseconds.',
    '',
  ];
  for (const sec of SECTIONS) {
    out.push(`## ${sec.title} (${sec.source})`, '');
    if (sec.note) out.push(sec.note, '');
    out.push('| path | kind | unit | meaning |', '| --- | --- | --- | --- |');
    for (const { path, stat: s } of statRows(sec.stats)) out.push(`| \`${path}\` | ${s.kind} | ${md(s.unit)} | ${md(meaning(s, (x) => `\`${x}\``))} |`);
    out.push('');
  }
  out.push(
    '## Not declared here',
    '',
    '`iommusim compare` documents (schema `iommusim.compare/1`) keep their own per-path figures',
    '(`modes[]`: throughput, bottleneck, CPU cycles, and summaries of the figures above — `iotlb`,',
    '`iommu`, `latencyNs`, `interrupts`; src/run/compare.ts `ModeResult`), derived for the comparison',
    'from the declared figures of each path\'s timed run and of its interrupt remapping.',
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
    lines: () => metricRows().map(({ path, stat: s }) => `${path.padEnd(36)} ${s.kind.padEnd(7)} ${s.unit.padEnd(14)} ${meaning(s)}`),
  });
}
