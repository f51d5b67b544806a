/**
 * `iommusim compare`: one workload through several I/O paths under one hypervisor. For each path:
 *  1. the device side — the workload's device trace rebuilt with the path's settings (host IOMMU
 *     mode, buffer/IOVA policy, nested translation) and replayed through the timed model: what the
 *     device, link, IOMMU and memory sustain, and the IOTLB figures;
 *  2. the CPU side — per-packet events of the path (maps, invalidations, exits, copies,
 *     notifications, interrupts after moderation) costed by the CPU model, split into the vCPU's
 *     core (exits stall it) and a backend core (vhost);
 *  3. throughput = min(offered load, device-side rate, CPU-bound rate), and which one binds.
 */
import { PROFILES, type HypervisorName, type HypervisorProfile } from '../virt/hypervisors.js';
import { PATHS, packetEvents, backendPart, devicePaths, pathRefusal, pathNotes, type Mode, type DeviceStats, type DeviceClass } from '../virt/paths.js';
import { cyclesPerPacket, COST_KNOBS, type CpuBreakdown } from '../virt/cpu.js';
import { runTimedTrace } from './timed.js';
import { summarizeTrace } from './run.js';
import type { Config } from '../config/config.js';
import type { TraceColumns } from '../trace/columns.js';
import type { RunResult } from './result.js';
import { InputError } from '../util/errors.js';
import { simVersion } from './result.js';
import { deliverInterrupts, type InterruptFigures } from '../virt/interrupts.js';

export interface DeviceWorkload {
  /** Build the device trace and its statistics for a resolved config (and the I/O path it runs on: a vGPU's engines are time-sliced). */
  build(cfg: Readonly<Config>, mode?: Mode): { trace: TraceColumns; stats: DeviceStats; offeredGbps: number };
  /** The device (NIC when not given): which I/O paths exist for it. */
  device?: DeviceClass;
  name: string;
}

export interface ModeResult {
  mode: Mode;
  description: string;
  refused?: string;
  throughputGbps: number;
  packetsPerSec: number;
  /** What limits the path: the offered load, the CPU, or on the device side the part that is saturated (see deviceBottleneck). */
  bottleneck: 'offered load' | DeviceBottleneck | 'vCPU' | 'backend CPU' | 'refused';
  offeredGbps: number;
  deviceGbps: number;
  cpuBoundGbps: number;
  cyclesPerPacket: CpuBreakdown;
  coreUtilisation: { vcpu: number; backend: number };
  exitsPerSec: number;
  interruptsPerSec: number;
  iotlb: { lookups: number; hitRate: number; misses: number; walks: number; readsPerWalk: number; mergedMisses: number };
  /** Why the IOMMU costs throughput on this path: its work per 4 KiB of payload, how busy its page-walk stage was, and the waits PCIe ordering and the root port's write buffer added. */
  iommu: {
    iotlbMissesPer4KiB: number; memReadsPer4KiB: number; pwcMissesPer4KiB: { pml4e: number; pdpte: number; pde: number };
    walkStageBusy: number; writeOrderStalls: number; writeOrderStallNs: number; readOrderStalls: number; writeBufferStalls: number; writeBufferStallNs: number;
    /** DMA time spent waiting per packet: behind earlier writes (PCIe ordering), and for the root port's write lines. */
    orderingWaitNsPerPacket: number; writeBufferWaitNsPerPacket: number;
  };
  latencyNs: { p50: number; p99: number };
  /** The device's interrupts through the interrupt-remapping table and posted-interrupt descriptors. */
  interrupts?: { remapped: number; posted: number; iecHitRate: number; notificationsWithoutExit: number; hostDelivered: number; faults: number };
  settings: Array<[string, string | number | boolean]>;
  /** What the path needs from the setup (a GPU's passthrough: the whole IOMMU group bound, x-vga for a primary display). */
  notes?: string[];
}

export type DeviceBottleneck = 'IOMMU page walks' | 'PCIe link' | 'root-port write buffer' | 'root-complex write unit' | 'device/IOMMU/PCIe';

/** Busy at least this share of the run counts as the saturated part. */
const SATURATED = 0.9;

/**
 * The part of the device side a timed run was bound by: the IOMMU's page-walk stage, the PCIe
 * link, the root complex's posted-write unit, or the root port's write buffer (writes waiting for
 * lines on average longer than a write takes through the root complex unloaded); else the device,
 * its engine and tags, unnamed.
 */
export function deviceBottleneck(m: RunResult['metrics']): DeviceBottleneck {
  const ws = Math.max(0, ...(m.iommuTiming?.walkStage ?? []).map((u) => u.utilisation));
  if (ws >= SATURATED) return 'IOMMU page walks';
  if (Math.max(m.pcie?.upUtilisation ?? 0, m.pcie?.downUtilisation ?? 0) >= SATURATED) return 'PCIe link';
  if ((m.writeUnit?.utilisation ?? 0) >= SATURATED) return 'root-complex write unit';
  const writes = m.writeUnit?.writes ?? 0;
  if (writes > 0 && (m.writeBuffer?.stalls ?? 0) > 0.5 * writes) return 'root-port write buffer';
  return 'device/IOMMU/PCIe';
}

export interface CompareResult {
  schema: 'iommusim.compare/1';
  iommusim: string;
  workload: string;
  platform: string;
  hypervisor: HypervisorProfile;
  modes: ModeResult[];
  /** passthrough-pi (or passthrough) throughput over emulated, when both ran. */
  passthroughOverEmulated: number | null;
  runs: Record<string, RunResult>;
}

function cpuCosts(cfg: Readonly<Config>, prof: HypervisorProfile): Record<string, number> {
  const c: Record<string, number> = {};
  for (const k of COST_KNOBS) {
    const path = k.key.split('.');
    let v: unknown = cfg;
    for (const p of path) v = (v as Record<string, unknown> | undefined)?.[p];
    c[k.key] = Number(typeof v === 'number' || typeof v === 'boolean' ? v : k.default);
  }
  c['virt.exit.userIoCycles'] *= prof.userIoExitScale;
  c['virt.exit.kernelIoCycles'] *= prof.kernelIoExitScale;
  return c;
}

export type ConfigFor = (extra: Array<[string, string | number | boolean]>) => Readonly<Config>;

export function compareModes(
  w: DeviceWorkload,
  modes: Mode[],
  hypervisor: HypervisorName,
  configFor: ConfigFor,
  viommu: 'shadow' | 'nested' = 'shadow',
): CompareResult {
  const out: ModeResult[] = [];
  const runs: Record<string, RunResult> = {};
  for (const mode of devicePaths(w.device ?? 'nic', modes)) {
    const m = compareMode(w, mode, hypervisor, configFor, viommu);
    out.push(m.result);
    if (m.run) runs[mode] = m.run;
  }
  return compareResult(w.name, configFor([]).platform, hypervisor, out, runs);
}

/**
 * One I/O path of a comparison: its figures, and the device side's timed run (none when the
 * hypervisor refuses the path). compareModes is the loop over it; `iommusim compare --workers`
 * runs each path as a job on a worker thread.
 */
export function compareMode(
  w: DeviceWorkload,
  mode: Mode,
  hypervisor: HypervisorName,
  configFor: ConfigFor,
  viommu: 'shadow' | 'nested' = 'shadow',
): { result: ModeResult; run?: RunResult } {
  const prof = profileOf(hypervisor);
  const probe = configFor([]);
  const guestPageBytes = probe.vm.s2PageBytes;
  const device = w.device ?? 'nic';
  const path = PATHS[mode];
  const settings = path.deviceSettings(viommu, guestPageBytes, w.device);
  const refused = pathRefusal(mode, prof, device);
  if (refused) {
    return { result: {
      mode, description: path.description, refused, throughputGbps: 0, packetsPerSec: 0, bottleneck: 'refused',
      offeredGbps: 0, deviceGbps: 0, cpuBoundGbps: 0, cyclesPerPacket: { guest: 0, host: 0, total: 0, parts: {}, exitsPerPacket: 0 },
      coreUtilisation: { vcpu: 0, backend: 0 }, exitsPerSec: 0, interruptsPerSec: 0,
      iotlb: { lookups: 0, hitRate: 0, misses: 0, walks: 0, readsPerWalk: 0, mergedMisses: 0 }, latencyNs: { p50: 0, p99: 0 }, settings,
      iommu: { iotlbMissesPer4KiB: 0, memReadsPer4KiB: 0, pwcMissesPer4KiB: { pml4e: 0, pdpte: 0, pde: 0 }, walkStageBusy: 0, writeOrderStalls: 0, writeOrderStallNs: 0, readOrderStalls: 0, writeBufferStalls: 0, writeBufferStallNs: 0, orderingWaitNsPerPacket: 0, writeBufferWaitNsPerPacket: 0 },
    } };
  }
  const cfg = configFor(settings);
  const { trace, stats, offeredGbps } = w.build(cfg, mode);
  const res = runTimedTrace(trace, cfg, summarizeTrace(trace, w.name, `generator:${w.name}`, 'generator'));
  const m = res.metrics;
  const bytesPerPacket = stats.bytes / Math.max(1, stats.packets);
  // the device side: payload throughput the timed run sustained for the packets' bytes
  const spanNs = Math.max(1, m.simulatedTimeNs ?? 1);
  const deviceGbps = (stats.bytes * 8) / spanNs;
  const c = cpuCosts(cfg, prof);
  const ev = packetEvents(mode, { ...stats, flushes: m.invalidations.flushQueueFlushes }, prof, c, viommu);
  const cpu = cyclesPerPacket(ev, c, path.virtualized);
  const backendCores = c['virt.backendCores'];
  const backend = backendCores > 0 ? backendPart(mode, cpu.parts) : 0;
  const vcpuCycles = cpu.total - backend;
  const hz = c['cpu.ghz'] * 1e9 * c['cpu.cores'];
  const hzBackend = c['cpu.ghz'] * 1e9 * Math.max(1, backendCores);
  const cpuPps = Math.min(vcpuCycles > 0 ? hz / vcpuCycles : Infinity, backend > 0 ? hzBackend / backend : Infinity);
  const cpuBoundGbps = (cpuPps * bytesPerPacket * 8) / 1e9;
  const tput = Math.min(offeredGbps, deviceGbps, cpuBoundGbps);
  // within 1 % of the offered load counts as carrying it (the device's span includes its last latency)
  const bottleneck = tput >= 0.99 * offeredGbps ? 'offered load'
    : tput === deviceGbps ? deviceBottleneck(m)
    : backend > 0 && hzBackend / backend <= cpuPps + 1e-9 ? 'backend CPU' : 'vCPU';
  const pps = (tput * 1e9) / 8 / bytesPerPacket;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  // the device's interrupts through the remapping hardware (assigned devices; the host's own NIC otherwise)
  const notes = pathNotes(mode, device, prof, probe);
  const postedPath = (mode === 'passthrough-pi' || mode === 'sriov' || mode === 'passthrough-viommu' || mode === 'viommu-bounce') && prof.postedInterrupts;
  const irq: InterruptFigures = deliverInterrupts(cfg, 0x0300, cfg.nic.queues, Math.min(stats.interrupts, 200000), postedPath);
  return { run: res, result: {
    mode, description: path.description, throughputGbps: r3(tput), packetsPerSec: Math.round(pps), bottleneck,
    offeredGbps: r3(offeredGbps), deviceGbps: r3(deviceGbps), cpuBoundGbps: r3(cpuBoundGbps),
    cyclesPerPacket: { ...cpu, guest: Math.round(cpu.guest), host: Math.round(cpu.host), total: Math.round(cpu.total), parts: Object.fromEntries(Object.entries(cpu.parts).map(([k, v]) => [k, Math.round(v)])) },
    coreUtilisation: { vcpu: r3(Math.min(1, (pps * vcpuCycles) / hz)), backend: r3(Math.min(1, (pps * backend) / hzBackend)) },
    exitsPerSec: Math.round(pps * cpu.exitsPerPacket),
    interruptsPerSec: Math.round(pps * ev.interrupts),
    iotlb: { lookups: m.iotlb.lookups, hitRate: r3(m.iotlb.hitRate), misses: m.iotlb.misses, walks: m.walks.count, readsPerWalk: r3(m.walks.readsPerWalk), mergedMisses: m.iotlb.mergedMisses ?? 0 },
    latencyNs: { p50: m.latencyNs?.p50 ?? 0, p99: m.latencyNs?.p99 ?? 0 },
    iommu: {
      iotlbMissesPer4KiB: m.per4KiB.iotlbMisses, memReadsPer4KiB: m.per4KiB.memReads, pwcMissesPer4KiB: m.per4KiB.pwcMisses,
      walkStageBusy: Math.max(0, ...(m.iommuTiming?.walkStage ?? []).map((u) => u.utilisation)),
      writeOrderStalls: m.ordering?.writeStalls ?? 0, writeOrderStallNs: m.ordering?.writeStallNs ?? 0, readOrderStalls: m.ordering?.readStalls ?? 0,
      writeBufferStalls: m.writeBuffer?.stalls ?? 0, writeBufferStallNs: m.writeBuffer?.stallNs ?? 0,
      orderingWaitNsPerPacket: r3(((m.ordering?.writeStallNs ?? 0) + (m.ordering?.readStallNs ?? 0)) / Math.max(1, stats.packets)),
      writeBufferWaitNsPerPacket: r3((m.writeBuffer?.stallNs ?? 0) / Math.max(1, stats.packets)),
    },
    interrupts: {
      remapped: irq.remap.remapped, posted: irq.remap.posted, iecHitRate: r3(irq.remap.iec.hitRate),
      notificationsWithoutExit: irq.posted?.deliveredWithoutExit ?? 0, hostDelivered: irq.hostDelivered, faults: irq.remap.faults.count,
    },
    settings,
    ...(notes.length ? { notes } : {}),
  } };
}

function profileOf(hypervisor: HypervisorName): HypervisorProfile {
  const prof = PROFILES[hypervisor];
  if (!prof) throw new InputError(`--hypervisor ${hypervisor}: unknown; use kvm, xen, virtualbox or bhyve`);
  return prof;
}

/** The comparison of the paths compareMode gave, in the order given (`runs`: the device-side runs by mode). */
export function compareResult(workload: string, platform: string, hypervisor: HypervisorName, out: ModeResult[], runs: Record<string, RunResult>): CompareResult {
  const prof = profileOf(hypervisor);
  const pt = out.find((r) => r.mode === 'passthrough-pi' && !r.refused) ?? out.find((r) => r.mode === 'passthrough' && !r.refused);
  const em = out.find((r) => r.mode === 'emulated' && !r.refused);
  return {
    schema: 'iommusim.compare/1', iommusim: simVersion(), workload, platform, hypervisor: prof, modes: out,
    passthroughOverEmulated: pt && em && em.throughputGbps > 0 ? Math.round((pt.throughputGbps / em.throughputGbps) * 100) / 100 : null,
    runs,
  };
}
