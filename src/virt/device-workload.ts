/**
 * The device model behind a workload, for `compare` and sweep I/O-path jobs: NIC or GPU generators
 * (an I/O path needs the model's per-packet statistics, which a recorded trace does not carry).
 */
import type { DeviceWorkload } from './compare.js';
import type { PacketColumns } from '../trace/importers/pcap.js';
import { nicGenerate } from '../trace/generators/nic.js';
import { gpuGenerate } from '../trace/generators/gpu.js';
import { inputError } from '../util/errors.js';

/** Whether a workload.kind has a device model an I/O path can be compared with. */
export function hasDeviceModel(kind: string): boolean {
  return kind.startsWith('nic-') || kind.startsWith('gpu-');
}

/** `captured`: a nic-pcap workload's frames already read (shared with sweep workers). */
export function deviceWorkload(name: string, kind: string, captured?: PacketColumns): DeviceWorkload {
  if (kind.startsWith('nic-')) {
    return { name, build: (cfg) => { const g = nicGenerate(cfg, captured); return { trace: g.trace, stats: g.device, offeredGbps: g.offeredGbps }; } };
  }
  if (kind.startsWith('gpu-')) {
    return {
      name,
      build: (cfg) => {
        const { trace, copies } = gpuGenerate(cfg);
        let bytes = 0, dmas = 0;
        for (let i = 0; i < trace.count; i++) if (trace.op[i] === 0) { bytes += trace.size[i]; dmas++; }
        let span = 0;
        for (let i = 0; i < copies.count; i++) span = Math.max(span, copies.endNs[i]);
        const offered = span > 0 ? (bytes * 8) / span : Infinity;
        return { trace, stats: { packets: dmas, bytes, interrupts: copies.count, maps: 0, unmaps: 0, flushes: 0, commands: copies.count, commandCycles: (cfg as unknown as { cpu: { gpuSubmitCycles: number } }).cpu.gpuSubmitCycles }, offeredGbps: offered };
      },
    };
  }
  throw inputError(`compare ${name}`, `workload.kind ${kind} has no device model to compare I/O paths with`, 'use a NIC (nic-*) or GPU (gpu-*) workload or generator');
}
