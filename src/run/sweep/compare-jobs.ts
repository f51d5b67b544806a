/**
 * `iommusim compare` on the worker pool: each I/O path a job (src/run/compare.ts: compareMode),
 * the comparison assembled in the order the paths were given — the same CompareResult, to the
 * byte, as compareModes in one thread.
 *
 * The main thread resolves every config a path asks for (so a bad setting fails before anything
 * runs, as one line), reads a nic-pcap workload's capture once and shares its frames with the
 * workers (SharedArrayBuffer, shared-trace.ts), and computes a path the hypervisor refuses itself
 * (nothing to simulate).
 */
import { compareMode, compareResult, type CompareResult, type ConfigFor, type ModeResult } from '../compare.js';
import { deviceWorkload } from '../device-workload.js';
import { PATHS, devicePaths, pathRefusal, type Mode, type DeviceClass } from '../../virt/paths.js';
import { PROFILES, type HypervisorName } from '../../virt/hypervisors.js';
import { readCapturePackets } from '../generators/nic.js';
import { InputError } from '../../util/errors.js';
import type { RunResult } from '../result.js';
import { sharePackets, type SharedPackets } from './shared-trace.js';
import { runAll, type TaskRunner } from './pool.js';
import type { CompareModeTask, ModeAnswer } from './worker.js';

export interface CompareJobs {
  /** The workload's name (results carry it) and its workload.kind (a NIC or GPU model). */
  workload: string;
  workloadKind: string;
  configFor: ConfigFor;
  modes: Mode[];
  hypervisor: HypervisorName;
  viommu?: 'shadow' | 'nested';
}

/**
 * The paths that need a simulation (neither the device nor the hypervisor refuses them; a refused
 * path's counterpart added as compareModes adds it): how many jobs a comparison is.
 */
export function simulatedModes(modes: Mode[], hypervisor: HypervisorName, device: DeviceClass = 'nic'): Mode[] {
  const prof = PROFILES[hypervisor];
  if (!prof) throw new InputError(`--hypervisor ${hypervisor}: unknown; use kvm, xen, virtualbox or bhyve`);
  return devicePaths(device, modes).filter((m) => !pathRefusal(m, prof, device));
}

/** compareModes with each path a task on `runner` (its threads, or this thread). */
export async function compareOnPool(runner: TaskRunner, c: CompareJobs): Promise<CompareResult> {
  const viommu = c.viommu ?? 'shadow';
  const base = c.configFor([]);
  const w = deviceWorkload(c.workload, c.workloadKind);
  // the paths as compareModes runs them: a path the device lacks, then its counterpart
  const modes = devicePaths(w.device ?? 'nic', c.modes);
  const simulated = new Set(simulatedModes(c.modes, c.hypervisor, w.device));
  // a nic-pcap workload's frames: read once here (an unreadable capture stops here, as one line), shared with every path
  const pcap = base.workload.pcap;
  let captured: SharedPackets | undefined;
  if (base.workload.kind === 'nic-pcap' && pcap && simulated.size > 0) captured = sharePackets(readCapturePackets(pcap), 'pcap', pcap);
  // every config first (a bad one fails before any path runs), then the paths' tasks
  const tasks = modes.map((mode): CompareModeTask | undefined => {
    if (!simulated.has(mode)) return undefined;
    const settings = PATHS[mode].deviceSettings(viommu, base.vm.s2PageBytes, w.device);
    const cfg = c.configFor(settings);
    const own = captured && cfg.workload.pcap === pcap ? captured : undefined;
    return {
      kind: 'compare-mode', workload: c.workload, workloadKind: c.workloadKind, mode, hypervisor: c.hypervisor, viommu,
      configs: [['[]', base], [JSON.stringify(settings), cfg]], ...(own ? { captured: own } : {}),
    };
  });
  const answers = await runAll<ModeAnswer>(runner, tasks.filter((t): t is CompareModeTask => t !== undefined));
  // refused paths: compareMode answers without simulating (or building the path's config)
  let k = 0;
  const byMode = tasks.map((t, i) => (t ? answers[k++] : compareMode(w, modes[i], c.hypervisor, c.configFor, viommu)));
  const out: ModeResult[] = [];
  const runs: Record<string, RunResult> = {};
  modes.forEach((mode, i) => {
    out.push(byMode[i].result);
    if (byMode[i].run) runs[mode] = byMode[i].run!;
  });
  return compareResult(c.workload, base.platform, c.hypervisor, out, runs);
}
