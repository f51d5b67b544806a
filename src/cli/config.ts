/** `iommusim config`: every configuration key with its unit, default and source. */
import type { Command } from 'commander';
import { KNOBS } from '../config/schema.js';
import { PLATFORMS } from '../config/platforms.js';
import { registerReference } from './reference.js';

export function configMarkdown(): string {
  const rows = KNOBS.map((k) => {
    const allowed = k.values ? k.values.join(' \\| ') : k.kind === 'bool' ? 'true \\| false' : [k.min !== undefined ? `≥ ${k.min}` : '', k.max !== undefined ? `≤ ${k.max}` : ''].filter(Boolean).join(', ');
    return `| \`${k.key}\` | ${String(k.default)} | ${k.unit ?? ''} | ${allowed} | ${k.doc.replace(/\|/g, '\\|')} | ${k.source.replace(/\|/g, '\\|')} |`;
  });
  return [
    '# Configuration reference',
    '',
    'Generated from src/config/schema.ts by `iommusim config --markdown`; do not edit by hand.',
    'Set any key with `--set key=value`; sizes take units (`4KiB`, `2MiB`), times too (`500ns`, `10ms`).',
    '',
    '| key | default | unit | allowed | meaning | source of the default |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

export function registerConfig(program: Command): void {
  registerReference(program, {
    name: 'config',
    description: 'list every configuration key with its default, unit and source',
    markdownHelp: 'print the reference as a Markdown table (docs/config.md)',
    markdown: configMarkdown,
    lines: () => KNOBS.map((k) => `${k.key.padEnd(34)} ${String(k.default).padEnd(10)} ${(k.unit ?? k.kind).padEnd(10)} ${k.doc}`),
  });
}

export function registerPlatforms(program: Command): void {
  program
    .command('platforms')
    .description('list the platform presets (--platform NAME) with their settings and sources')
    .action(() => {
      for (const p of PLATFORMS) {
        process.stdout.write(`${p.name}\n  ${p.description}\n`);
        if (p.settings.length === 0) process.stdout.write('  settings: the schema defaults\n');
        else process.stdout.write(`  settings: ${p.settings.map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
        for (const s of p.sources) process.stdout.write(`  source: ${s}\n`);
      }
    });
}
