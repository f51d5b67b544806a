/**
 * The device model behind a workload, for `compare` and sweep I/O-path jobs: NIC, GPU or NVMe-like
 * block generators (an I/O path needs the model's per-packet statistics, which a recorded trace does
 * not carry).
 */
import type { DeviceWorkload } from './compare.js';
import type { DeviceClass, Mode } from '../virt/paths.js';
import type { PacketColumns } from '../trace/importers/pcap.js';
import type { Config } from '../config/config.js';
import { nicGenerate } from './generators/nic.js';
import { gpuGenerate } from './generators/gpu.js';
import { blkSpec, blkTrace } from '../devices/blk/blk.js';
import { OP_DMA, OP_MAP, allocColumns, copyColumns, type TraceColumns } from '../trace/columns.js';
import { inputError } from '../util/errors.js';

/** The device class of a workload.kind, or undefined when it has no device model. */
export function deviceClassOf(kind: string): DeviceClass | undefined {
  return kind.startsWith('nic-') ? 'nic' : kind.startsWith('gpu-') ? 'gpu' : kind === 'nvme' ? 'blk' : undefined;
}

/** Whether a workload.kind has a device model an I/O path can be compared with. */
export function hasDeviceModel(kind: string): boolean {
  return deviceClassOf(kind) !== undefined;
}

/**
 * A vGPU's engines run its work only in its time slices: every `tenants × (slice + switch)` the
 * vGPU holds the engines for `slice`. The trace's times are moved into the slices, in order: time t
 * of the device's own timeline lands at ⌊t / slice⌋ · period + (t mod slice). (The device's own
 * timeline is the copy model's, which already serialises its copies on the link.)
 */
export function timeSlice(t: TraceColumns, sliceNs: number, periodNs: number): TraceColumns {
  if (periodNs <= sliceNs) return t;
  const out = allocColumns(t.count, t.devices);
  copyColumns(t, out);
  out.count = t.count;
  for (let i = 0; i < t.count; i++) {
    const x = t.timeNs[i];
    const k = Math.floor(x / sliceNs);
    out.timeNs[i] = k * periodNs + (x - k * sliceNs);
  }
  return out;
}

function vgpuSlicing(cfg: Readonly<Config>): { sliceNs: number; periodNs: number } {
  const v = cfg.virt.vgpu;
  // alone on the GPU a vGPU keeps the engines: no other slices, no switches
  return { sliceNs: v.timesliceUs * 1000, periodNs: v.tenants > 1 ? v.tenants * (v.timesliceUs + v.switchUs) * 1000 : v.timesliceUs * 1000 };
}

/** `captured`: a nic-pcap workload's frames already read (shared with sweep workers). */
export function deviceWorkload(name: string, kind: string, captured?: PacketColumns): DeviceWorkload {
  const device = deviceClassOf(kind);
  if (device === 'nic') {
    return { name, device, build: (cfg) => { const g = nicGenerate(cfg, captured); return { trace: g.trace, stats: g.device, offeredGbps: g.offeredGbps }; } };
  }
  if (device === 'gpu') {
    return {
      name, device,
      build: (cfg, mode?: Mode) => {
        const { trace: raw, copies } = gpuGenerate(cfg);
        // pages the copies map for the GPU: per-copy mappings only (static pinned buffers enter the GPU's page tables when allocated, before the copies)
        const perCopy = cfg.gpu.pinnedMapping === 'per-copy';
        let bytes = 0, dmas = 0, mapped = 0;
        for (let i = 0; i < raw.count; i++) {
          if (raw.op[i] === OP_DMA) { bytes += raw.size[i]; dmas++; } else if (raw.op[i] === OP_MAP && perCopy) mapped += Math.ceil(raw.size[i] / 4096);
        }
        let span = 0;
        for (let i = 0; i < copies.count; i++) span = Math.max(span, copies.endNs[i]);
        const offered = span > 0 ? (bytes * 8) / span : Infinity;
        const s = mode === 'vgpu' ? vgpuSlicing(cfg) : undefined;
        const trace = s ? timeSlice(raw, s.sliceNs, s.periodNs) : raw;
        return { trace, stats: { packets: dmas, bytes, interrupts: copies.count, maps: 0, unmaps: 0, flushes: 0, commands: copies.count, commandCycles: cfg.cpu.gpuSubmitCycles, device, mapPages: mapped }, offeredGbps: offered };
      },
    };
  }
  if (device === 'blk') {
    return {
      name, device,
      build: (cfg) => {
        const { trace, stats } = blkTrace(blkSpec(cfg));
        const offered = stats.spanNs > 0 ? (stats.bytes * 8) / stats.spanNs : Infinity;
        const ioCycles = cfg.blk.ioCycles;
        return {
          trace, offeredGbps: offered,
          stats: { packets: stats.ios, bytes: stats.bytes, interrupts: stats.interrupts, maps: stats.maps, unmaps: stats.unmaps, flushes: 0, commands: stats.ios, commandCycles: ioCycles, device, mapPages: stats.maps > 0 ? stats.pages : undefined },
        };
      },
    };
  }
  throw inputError(`compare ${name}`, `workload.kind ${kind} has no device model to compare I/O paths with`, 'use a NIC (nic-*), GPU (gpu-*) or block (nvme) workload or generator');
}
