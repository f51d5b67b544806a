/** summary.md: the title, the captions, the headline figures and the flat table. */
import type { ReportInput } from './input.js';
import type { ChartSpec } from './charts.js';
import { tableOf, type Cell } from './csv.js';

/** A table cell: no line breaks, `|` escaped, HTML-ish characters as entities. */
export function mdCell(v: Cell): string {
  if (v === null) return '';
  return String(v)
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/`/g, '\\`')
    .replace(/[\r\n]+/g, ' ');
}

export function mdTable(columns: string[], rows: Cell[][]): string {
  const lines = [`| ${columns.map(mdCell).join(' | ')} |`, `| ${columns.map((_, i) => (typeof rows[0]?.[i] === 'number' ? '---:' : '---')).join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.map(mdCell).join(' | ')} |`);
  return lines.join('\n');
}

export function renderMarkdown(input: ReportInput, charts: ChartSpec[], title: string): string {
  const out: string[] = [`# ${mdCell(title)}`, ''];
  if (charts[0]) out.push(mdCell(charts[0].caption), '');
  if (input.kind === 'compare') {
    const c = input.compare;
    out.push(`Hypervisor: ${mdCell(c.hypervisor.name)} — ${mdCell(c.hypervisor.description ?? '')}`, '');
    if (c.passthroughOverEmulated !== null && c.passthroughOverEmulated !== undefined) {
      out.push(`Passthrough / emulated throughput: **${c.passthroughOverEmulated}×**`, '');
    }
    const best = [...c.modes].filter((m) => !m.refused).sort((a, b) => b.throughputGbps - a.throughputGbps)[0];
    if (best) out.push(`Highest throughput: ${mdCell(best.mode)} at ${best.throughputGbps} Gb/s (bound by ${mdCell(best.bottleneck)})`, '');
    const short = ['mode', 'throughputGbps', 'bottleneck', 'cyclesPerPacket.total', 'exitsPerSec', 'interruptsPerSec', 'iotlb.hitRate', 'latencyNs.p50', 'latencyNs.p99'];
    const t = tableOf(input);
    const idx = short.map((k) => t.columns.indexOf(k));
    out.push('## Per I/O path', '', mdTable(short, t.rows.map((r) => idx.map((i) => r[i]))), '');
  }
  const t = tableOf(input);
  out.push(input.kind === 'compare' ? '## All figures' : '## Runs', '', mdTable(t.columns, t.rows), '');
  if (charts.length) {
    out.push('## Charts', '');
    for (const c of charts) out.push(`- ${mdCell(c.title)}: \`${c.id}.png\``);
    out.push('');
  }
  return out.join('\n');
}
