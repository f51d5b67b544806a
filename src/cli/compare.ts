/** `iommusim compare WORKLOAD --modes … --hypervisor …`: one workload through several I/O paths. */
import type { Command } from 'commander';
import { checkOutputFile, checkOutputDir, writeFileAtomic } from '../util/output.js';
import { parseSetArgs, type Config } from '../config/config.js';
import { parseModes, MODES, DEFAULT_MODES } from '../virt/paths.js';
import { HYPERVISORS, type HypervisorName } from '../virt/hypervisors.js';
import { compareModes, type CompareResult, type DeviceWorkload, type ModeResult } from '../run/compare.js';
import { formatTable, type Column } from './table.js';
import { findWorkload, specConfig, type SettingValue } from '../run/workloads.js';
import { findGenerator } from '../run/generators/index.js';
import { buildConfig } from '../config/config.js';
import { deviceWorkload } from '../run/device-workload.js';
import { inputError } from '../util/errors.js';
import { reportTo } from './report.js';
import { workersOption, pngOn } from './workers.js';
import { openRunner, threadsFor } from '../run/sweep/pool.js';
import { compareOnPool, simulatedModes } from '../run/sweep/compare-jobs.js';
import { migrationTimeline, migrationSupport, MIGRATION_KNOBS, type MigrationResult } from '../virt/migration.js';
import { PROFILES } from '../virt/hypervisors.js';

const collect = (v: string, prev: string[]): string[] => prev.concat([v]);

export { deviceWorkload } from '../run/device-workload.js';

/**
 * Configs of a workload (spec or generator) with extra settings on top: user settings first, then
 * the I/O path's (the path decides the IOMMU mode and the buffer policy).
 */
export function workloadConfigs(workload: string, user: Array<[string, SettingValue]>): { name: string; configFor: (extra: Array<[string, SettingValue]>) => Readonly<Config> } {
  const spec = findWorkload(workload);
  const gen = spec ? undefined : findGenerator(workload);
  if (!spec && !gen) throw inputError(workload, 'not a workload or generator', 'iommusim workloads lists them');
  const configFor = (extra: Array<[string, SettingValue]>): Readonly<Config> => spec
    ? specConfig(spec, [], [...user, ...extra])
    : buildConfig([...gen!.defaults.map(([k, v]) => [k, v] as [string, SettingValue]), ...user, ...extra]);
  return { name: spec?.name ?? workload, configFor };
}

/** The columns of `formatCompare`'s table: header, alignment, the cell of a mode. */
const COMPARE_COLUMNS: Array<Column<ModeResult>> = [
  { header: 'mode', align: 'left', cell: (m) => m.mode },
  { header: 'Gb/s', align: 'right', cell: (m) => m.throughputGbps.toFixed(2) },
  { header: 'bound by', align: 'left', cell: (m) => m.bottleneck },
  { header: 'cycles/pkt', align: 'right', cell: (m) => String(m.cyclesPerPacket.total) },
  { header: 'vCPU+host', align: 'left', cell: (m) => `${m.cyclesPerPacket.guest}+${m.cyclesPerPacket.host}` },
  { header: 'exits/s', align: 'right', cell: (m) => String(m.exitsPerSec) },
  { header: 'irq/s', align: 'right', cell: (m) => String(m.interruptsPerSec) },
  { header: 'IOTLB hit', align: 'right', cell: (m) => `${(m.iotlb.hitRate * 100).toFixed(1)}%` },
  { header: 'reads/walk', align: 'right', cell: (m) => m.iotlb.readsPerWalk.toFixed(2) },
  // why the IOMMU costs throughput: its misses and page-table reads per 4 KiB of payload, its page-walk stage's load, the PCIe ordering waits
  { header: 'miss/4K', align: 'right', cell: (m) => m.iommu?.iotlbMissesPer4KiB.toFixed(2) ?? '—' },
  { header: 'reads/4K', align: 'right', cell: (m) => m.iommu?.memReadsPer4KiB.toFixed(2) ?? '—' },
  { header: 'walk busy', align: 'right', cell: (m) => (m.iommu ? `${(m.iommu.walkStageBusy * 100).toFixed(0)}%` : '—') },
  { header: 'order ns/pkt', align: 'right', cell: (m) => m.iommu?.orderingWaitNsPerPacket.toFixed(0) ?? '—' },
];

/**
 * What the paths need from the setup (ModeResult.notes), each note once with the paths it is for:
 * `  passthrough, passthrough-pi: the GPU's whole IOMMU group … bound to vfio-pci`. None: no lines.
 */
export function formatNotes(modes: readonly ModeResult[]): string[] {
  const byNote = new Map<string, string[]>();
  for (const m of modes) for (const n of m.notes ?? []) byNote.set(n, [...(byNote.get(n) ?? []), m.mode]);
  if (byNote.size === 0) return [];
  return ['', 'setup needed:', ...[...byNote].map(([n, ms]) => `  ${ms.join(', ')}: ${n}`)];
}

export function formatCompare(r: CompareResult): string {
  const lines = [`${r.workload} under ${r.hypervisor.name}: ${r.hypervisor.description}`, ''];
  // a refused path: its mode, then the reason from the second column on
  lines.push(...formatTable(COMPARE_COLUMNS, r.modes.map((m) => (m.refused ? { row: m, note: `refused: ${m.refused}` } : { row: m }))));
  lines.push(...formatNotes(r.modes));
  if (r.passthroughOverEmulated !== null) lines.push('', `passthrough / emulated throughput: ${r.passthroughOverEmulated}×`);
  return lines.join('\n') + '\n';
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('one workload through several I/O paths under a hypervisor: throughput, CPU cycles per packet, exits, interrupts, IOTLB')
    .argument('<workload>', 'a NIC, GPU or block (nvme) workload or generator (iommusim workloads lists them)')
    .option('--modes <list>', `I/O paths, comma-separated: ${MODES.join(', ')} (default: the workload's device's own paths — NIC: ${DEFAULT_MODES.nic.join(', ')}; GPU: ${DEFAULT_MODES.gpu.join(', ')}; block (nvme): ${DEFAULT_MODES.blk.join(', ')})`)
    .option('--hypervisor <name>', `hypervisor profile: ${HYPERVISORS.join(', ')}`, 'kvm')
    .option('--viommu <how>', 'passthrough-viommu: shadow (caching mode) or nested', 'shadow')
    .option('--set <key=value>', 'set a configuration key (repeatable)', collect, [])
    .option('--platform <name>', 'platform preset')
    .option('--json <file>', 'write the comparison as JSON')
    .option('--out <dir>', 'write a report (report.html, PNG charts, summary.md, results.csv/json) into this folder')
    .option('--quiet', 'print nothing but errors')
    .option('--workers <n>', 'worker threads, one I/O path each (default: one per core; 0 or 1: in this thread)')
    .action(async (workload: string, opts: { modes?: string; hypervisor: string; viommu: string; set: string[]; platform?: string; json?: string; out?: string; quiet?: boolean; workers?: string }) => {
      if (opts.json) checkOutputFile(opts.json, '--json');
      if (opts.out) checkOutputDir(opts.out, '--out');
      const workers = workersOption(opts.workers);
      const requested = opts.modes === undefined ? undefined : parseModes(opts.modes);
      if (!(HYPERVISORS as readonly string[]).includes(opts.hypervisor)) throw inputError(`--hypervisor ${opts.hypervisor}`, 'unknown hypervisor', `use one of ${HYPERVISORS.join(', ')}`);
      if (opts.viommu !== 'shadow' && opts.viommu !== 'nested') throw inputError(`--viommu ${opts.viommu}`, 'unknown', 'use shadow or nested');
      const user: Array<[string, SettingValue]> = [];
      if (opts.platform) user.push(['platform', opts.platform]);
      user.push(...parseSetArgs(opts.set));
      const { configFor, name } = workloadConfigs(workload, user);
      const probe = configFor([]);
      const device = deviceWorkload(name, probe.workload.kind).device; // a workload without a device model stops here
      // no --modes: the device's own paths (a GPU's four, not the NIC's list with the GPU's counterparts added)
      const modes = requested ?? [...DEFAULT_MODES[device ?? 'nic']];
      const hypervisor = opts.hypervisor as HypervisorName;
      // each I/O path a job on the pool (or, for one worker or one path, all in this thread): the same bytes either way
      const runner = openRunner(threadsFor(workers, simulatedModes(modes, hypervisor, device).length));
      try {
        const r = await compareOnPool(runner, { workload: name, workloadKind: probe.workload.kind, configFor, modes, hypervisor, viommu: opts.viommu });
        const { runs: _runs, ...rest } = r;
        if (opts.json) writeFileAtomic(opts.json, JSON.stringify(rest, null, 2) + '\n', { flag: '--json' });
        if (!opts.quiet) process.stdout.write(formatCompare(r));
        if (opts.out) {
          const files = await reportTo(rest, opts.out, 'compare', pngOn(runner));
          if (!opts.quiet) process.stdout.write(`\nreport: ${opts.out}/report.html (${files.length} files)\n`);
        }
      } finally {
        await runner.destroy();
      }
    });
}

export function formatMigration(r: MigrationResult, workload: string): string {
  const lines = [`${workload}: passthrough device hot-removed around a live migration under ${r.hypervisor} (fallback: ${r.fallbackMode})`, ''];
  for (const p of r.phases) lines.push(`${p.phase.padEnd(44)} ${p.durationMs.toFixed(1).padStart(10)} ms  ${p.throughputGbps.toFixed(2).padStart(7)} Gb/s  (${p.mode})`);
  lines.push('', `downtime ${r.downtimeMs} ms after ${r.precopyRounds} pre-copy rounds; ${r.degradedMs} ms below passthrough throughput; ${(r.bytesLostVsPassthrough / 1e9).toFixed(3)} GB less moved than staying on passthrough`);
  return lines.join('\n') + '\n';
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('hot-plug around live migration: passthrough device removed before, re-added after; downtime and fallback throughput')
    .argument('<workload>', 'a NIC workload or generator')
    .option('--hypervisor <name>', 'kvm or xen (VirtualBox and bhyve cannot migrate with a passthrough device)', 'kvm')
    .option('--set <key=value>', 'set a configuration key (repeatable), e.g. migration.bandwidthGbps=25', collect, [])
    .option('--json <file>', 'write the timeline as JSON')
    .action((workload: string, opts: { hypervisor: string; set: string[]; json?: string }) => {
      if (opts.json) checkOutputFile(opts.json, '--json');
      if (!(HYPERVISORS as readonly string[]).includes(opts.hypervisor)) throw inputError(`--hypervisor ${opts.hypervisor}`, 'unknown hypervisor', `use one of ${HYPERVISORS.join(', ')}`);
      const h = opts.hypervisor as HypervisorName;
      const refused = migrationSupport(h);
      if (refused) throw inputError(`migrate --hypervisor ${h}`, refused, 'use kvm or xen');
      const user = parseSetArgs(opts.set) as Array<[string, SettingValue]>;
      const { configFor, name } = workloadConfigs(workload, user);
      const probe = configFor([]);
      const w = deviceWorkload(name, probe.workload.kind);
      const pt = PROFILES[h].postedInterrupts ? 'passthrough-pi' : 'passthrough';
      const fb = PROFILES[h].refuses.virtio ? 'emulated' : 'virtio';
      const c = compareModes(w, [pt, fb], h, configFor);
      const k: Record<string, number> = {};
      const m: Record<string, number> = probe.migration;
      for (const kn of MIGRATION_KNOBS) k[kn.key] = m[kn.key.slice('migration.'.length)];
      const r = migrationTimeline(h, c.modes[0], c.modes[1], k);
      if (opts.json) writeFileAtomic(opts.json, JSON.stringify(r, null, 2) + '\n', { flag: '--json' });
      process.stdout.write(formatMigration(r, name));
    });
}
