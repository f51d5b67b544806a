/**
 * Hot-plug around live migration (Xen VT-d HowTo, KVM): a passthrough device cannot be migrated,
 * so it is hot-removed before the migration and a new one hot-added on the target; meanwhile the
 * guest's traffic falls back to a paravirtual or emulated NIC (a bonding / failover pair). The
 * scenario is a timeline of phases, each with the throughput of its I/O path from `compare`:
 *
 *   passthrough ─ unplug ─ fallback during pre-copy ─ downtime (stop-and-copy) ─ fallback ─ re-plug ─ passthrough
 *
 * Pre-copy time follows the usual iterative model: each round sends what the previous one left
 * dirty, at migration.bandwidthGbps, while the guest dirties memory at migration.dirtyGBps; it
 * stops when the rest fits in the downtime budget (QEMU's max downtime), or after maxRounds.
 */
import type { HypervisorName } from './hypervisors.js';
import { InputError } from '../util/errors.js';
import { MIGRATION_KNOBS } from '../config/knobs/migration.js';

export { MIGRATION_KNOBS };

export interface MigrationPhase {
  phase: string;
  mode: string;
  durationMs: number;
  throughputGbps: number;
}

export interface MigrationResult {
  schema: 'iommusim.migration/1';
  hypervisor: HypervisorName;
  fallbackMode: string;
  phases: MigrationPhase[];
  precopyRounds: number;
  totalMs: number;
  downtimeMs: number;
  /** Time spent below passthrough throughput (unplug + fallback + downtime + re-plug). */
  degradedMs: number;
  /** Data moved vs staying on passthrough the whole time. */
  bytesLostVsPassthrough: number;
}

/** Which hypervisors can hot-remove a passthrough device around a live migration (seeds). */
export function migrationSupport(h: HypervisorName): string | null {
  switch (h) {
    case 'kvm': return null;
    case 'xen': return null;
    case 'virtualbox': return 'VirtualBox cannot teleport or save a VM with an attached PCI device (VirtualBox manual, PCI passthrough)';
    case 'bhyve': return 'bhyve has no live migration for guests with ppt passthrough devices';
  }
}

/** What the timeline needs of an I/O path's comparison (src/run/compare.ts ModeResult has it). */
export interface PathThroughput { mode: string; throughputGbps: number }

export function migrationTimeline(h: HypervisorName, passthrough: PathThroughput, fallback: PathThroughput, k: Record<string, number>): MigrationResult {
  const refused = migrationSupport(h);
  if (refused) throw new InputError(`migrate --hypervisor ${h}: ${refused}; use kvm or xen`);
  const bwBytesPerMs = (k['migration.bandwidthGbps'] * 1e9) / 8 / 1000;
  const dirtyPerMs = (k['migration.dirtyGBps'] * 1e9) / 1000;
  const budget = k['migration.downtimeMs'] * bwBytesPerMs;
  let left = k['migration.ramBytes'];
  let precopyMs = 0;
  let rounds = 0;
  while (left > budget && rounds < k['migration.maxRounds']) {
    const t = left / bwBytesPerMs;
    precopyMs += t;
    left = Math.min(k['migration.ramBytes'], dirtyPerMs * t);
    rounds++;
  }
  const downtimeMs = left / bwBytesPerMs;
  const phases: MigrationPhase[] = [
    { phase: 'hot-unplug of the passthrough device', mode: fallback.mode, durationMs: k['migration.unplugMs'], throughputGbps: fallback.throughputGbps },
    { phase: `pre-copy (${rounds} rounds) on the fallback path`, mode: fallback.mode, durationMs: precopyMs, throughputGbps: fallback.throughputGbps },
    { phase: 'stop-and-copy (downtime)', mode: 'none', durationMs: downtimeMs, throughputGbps: 0 },
    { phase: 'hot-plug of a device on the target', mode: fallback.mode, durationMs: k['migration.replugMs'], throughputGbps: fallback.throughputGbps },
    { phase: 'passthrough again', mode: passthrough.mode, durationMs: 0, throughputGbps: passthrough.throughputGbps },
  ];
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  for (const p of phases) p.durationMs = r3(p.durationMs);
  const degradedMs = phases.slice(0, 4).reduce((a, p) => a + p.durationMs, 0);
  const moved = phases.slice(0, 4).reduce((a, p) => a + (p.throughputGbps * 1e9 / 8) * (p.durationMs / 1000), 0);
  const ideal = (passthrough.throughputGbps * 1e9 / 8) * (degradedMs / 1000);
  return {
    schema: 'iommusim.migration/1', hypervisor: h, fallbackMode: fallback.mode, phases, precopyRounds: rounds,
    totalMs: r3(degradedMs), downtimeMs: r3(downtimeMs), degradedMs: r3(degradedMs), bytesLostVsPassthrough: Math.round(ideal - moved),
  };
}
