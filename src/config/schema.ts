/**
 * The configuration schema: every knob iommusim has, with its unit, default, allowed values, a
 * one-line doc and the source of the default. `--set key=value`, workload specs and sweep axes
 * all go through `applySetting`, so every value is validated in one place, and docs/config.md is
 * generated from this table (`iommusim config --markdown`).
 *
 * Per-device keys use a PCI address in the path: `devices.01:00.0.domain=2`.
 */
import { inputError } from '../util/errors.js';
import { cacheKnobs } from './cache.js';
import { type Knob, closestKey } from './knob.js';
import { IRQ_KNOBS } from './knobs/irq.js';
import { CPU_KNOBS } from './knobs/cpu.js';
import { GPU_KNOBS } from './knobs/gpu.js';
import { NIC_KNOBS } from './knobs/nic.js';
import { MIGRATION_KNOBS } from './knobs/migration.js';
import { NESTED_KNOBS } from './knobs/nested.js';
import { PATH_KNOBS } from './knobs/paths.js';
import { FAULT_KNOBS } from './knobs/faults.js';
import { BLK_KNOBS } from './knobs/blk.js';
import { IOMMU_KNOBS, IOMMU_TIMING_KNOBS, VM_KNOBS } from './knobs/iommu.js';
import { MEMORY_KNOBS } from './knobs/memory.js';
import { RC_KNOBS } from './knobs/rc.js';
import { PCIEBENCH_KNOBS } from './knobs/pciebench.js';
import { WORKLOAD_KNOBS } from './knobs/workload.js';

export { parseKnobValue, type Knob, type KnobKind } from './knob.js';

export const KNOBS: readonly Knob[] = [
  { key: 'seed', kind: 'int', default: 1, min: 0, max: 2 ** 32 - 1, doc: 'seed for every random choice (random replacement, generators); same inputs and seed give byte-identical results', source: 'an input of the run, not a modelled quantity: nothing to cite' },
  ...IOMMU_KNOBS,
  ...cacheKnobs('atc', 64, 0, 'device TLB (ATS address-translation cache), class default; per device: devices.<bdf>.atc.*', 'no public figure for NIC/GPU ATCs; assumption', 'assumption'),
  ...VM_KNOBS,
  // ---------------------------------------------------------------- timing (platform)
  { key: 'platform', kind: 'string', default: 'broadwell-gen3x8', doc: 'platform preset applied before other settings (iommusim platforms lists them); the defaults below are this preset', source: 'src/config/platforms.ts' },
  { key: 'pcie.gen', kind: 'int', default: 3, min: 1, max: 6, unit: 'generation', doc: 'PCIe generation (1–5: 8b/10b or 128b/130b; 6: FLIT mode)', source: 'pcie-bench: NFP6000 on PCIe Gen3 x8 (published-figures §1) [P]' },
  { key: 'pcie.lanes', kind: 'int', default: 8, min: 1, max: 32, unit: 'lanes', doc: 'link width: 1, 2, 4, 8, 12, 16 or 32 lanes', source: 'pcie-bench: Gen3 x8 [P]' },
  { key: 'pcie.mpsBytes', kind: 'int', default: 256, unit: 'bytes', doc: 'Max Payload Size: largest write or completion TLP payload (128 … 4096)', source: 'pcie-model pcie_bw.py default, consistent with the write-throughput step after 256 B in the pcie-bench raw data [C]' },
  { key: 'pcie.mrrsBytes', kind: 'int', default: 512, unit: 'bytes', doc: 'Max Read Request Size: largest read request (128 … 4096)', source: 'pcie-model pcie_bw.py default [C]' },
  { key: 'pcie.rcbBytes', kind: 'int', default: 64, unit: 'bytes', doc: 'Read Completion Boundary: completions split on these boundaries (64 or 128)', source: 'PCIe base spec: root ports use 64 B [C]' },
  { key: 'pcie.rcbChunks', kind: 'bool', default: false, doc: 'the root complex returns one completion per RCB piece (true) or MPS-sized completions (false)', source: 'pcie-bench reads reach 55.6 Gb/s, above the 47.9 Gb/s an RCB-chunked root complex allows (src/pcie/README.md) [P]' },
  { key: 'pcie.tags', kind: 'int', default: 32, min: 1, max: 1024, unit: 'requests', doc: 'outstanding non-posted requests (read requests) a device may have: the tag limit', source: '5-bit tag field without extended tags (PCIe base spec); 64 B reads in pcie-bench (62.3 M/s at ~520 ns) need ≥ 32 [P]' },
  { key: 'pcie.phCredits', kind: 'int', default: 0, min: 0, max: 4096, unit: 'TLPs', doc: 'posted-header credits at the root port (write TLP headers buffered before the device must wait; the data lines are rc.writeLines); 0 = unlimited', source: 'not published for Intel root ports: unlimited (the IIO\'s write lines, rc.writeLines, are the measured limit)' },
  { key: 'pcie.linkLatencyNs', kind: 'number', default: 115, min: 0, max: 100000, unit: 'ns', doc: 'one-way latency of the link (PHY, data link layer, wire), besides serialization', source: 'PCIe Gen3 Ack-latency internal delay (src/pcie/README.md) [C], a placeholder; the device and root-complex latencies are fitted around it' },
  ...RC_KNOBS,
  ...MEMORY_KNOBS,
  ...IOMMU_TIMING_KNOBS,
  { key: 'device.dmaEngine.maxInFlight', kind: 'int', default: 64, min: 1, max: 65536, unit: 'requests', doc: 'DMA requests a device engine keeps in flight', source: 'assumption: above the tag limit, so tags bind (pcie-bench NFP6000)' },
  { key: 'device.dmaEngine.latencyNs', kind: 'number', default: 32, min: 0, max: 1e9, unit: 'ns', doc: 'device-side latency of a DMA request (descriptor handling), added when it completes; holds no tag and limits no rate', source: 'fitted with rc.readNs (see there) to pcie-bench\'s 546 ns 64 B read latency and 62.3 M/s 64 B read rate [P]' },
  { key: 'device.dmaEngine.issueNs', kind: 'number', default: 0, min: 0, max: 1e9, unit: 'ns', doc: 'time the engine is busy per request issued (a serial limit on request rate)', source: 'pcie-bench 64 B reads reach 62.3 M/s: no engine limit is visible above the tag limit [P]' },
  { key: 'device.clockMHz', kind: 'number', default: 1200, min: 1, max: 100000, unit: 'MHz', doc: 'device clock: requests issue on its edges', source: 'Netronome NFP-6000 1.2 GHz (product brief) [C]' },
  // ---------------------------------------------------------------- pcie-bench's device (the pciebench generator)
  ...PCIEBENCH_KNOBS,
  // ---------------------------------------------------------------- workload generators
  ...WORKLOAD_KNOBS,
  { key: 'ftrace.synthesize', kind: 'enum', default: 'touch', values: ['touch', 'none'], doc: 'kernel traces show mappings, not device accesses: touch = the device reads a TO_DEVICE buffer ftrace.synthDelayNs after its map and writes a FROM_DEVICE buffer that long before its unmap (both for BIDIRECTIONAL; sync events add accesses); none = replay the mapping traffic only', source: 'the rule of src/trace/importers/ftrace-dma.ts (documented there and in docs/trace-formats.md)' },
  { key: 'ftrace.synthDelayNs', kind: 'timeNs', default: 1000, min: 0, max: 1e12, unit: 'ns', doc: 'ftrace.synthesize=touch: time between a map and the device\'s read, and between its write and the unmap', source: 'assumption: about the latency of a descriptor doorbell → DMA' },
  { key: 'ftrace.device', kind: 'string', default: '', doc: 'device that iommu:map/unmap events belong to when the trace has no dma:* events (they carry none); empty = 0000:00:00.0', source: 'an input of the run, not a modelled quantity: nothing to cite' },
  { key: 'devices.*.domain', kind: 'int', default: 0, min: 0, max: 65535, doc: 'domain id of this device (devices with the same id share one domain and page table); 0 = a domain of its own', source: 'an input of the run, not a modelled quantity: nothing to cite' },
  { key: 'devices.*.translation', kind: 'enum', default: 'second', values: ['second', 'first', 'nested', 'passthrough'], doc: 'translation type: second-stage (legacy), first-stage (scalable mode), nested (guest first stage over host second stage: a guest with a vIOMMU), passthrough', source: 'VT-d specification, scalable-mode PASID entry PGTT' },
  { key: 'devices.*.ats', kind: 'bool', default: false, doc: 'the device has an ATS device TLB: it sends translated requests that skip the IOTLB', source: 'PCIe ATS specification' },
  { key: 'devices.*.drhd', kind: 'int', default: 0, min: 0, max: 255, unit: 'unit', doc: 'DMA-remapping unit (DRHD) this device is behind: devices behind one unit share its page-walk stage (iommu.walker.*)', source: 'pcie-bench hosts (Haswell-EP, Broadwell-EP) have one remapping unit per socket (pcie-bench/data sys-dmesg.txt) [C]' },
  { key: 'devices.*.relaxedOrdering', kind: 'bool', default: false, doc: 'the device sets Relaxed Ordering on its requests: its writes may pass earlier posted writes and its reads are not held behind them', source: 'PCIe base spec ordering rules (RO attribute); Linux leaves RO off on most NICs (pcie_relaxed_ordering_enabled; mlx5 turns it on only on request) [C]' },
  { key: 'devices.*.idOrdering', kind: 'bool', default: false, doc: 'ID-based ordering: the device\'s requests are ordered only among themselves, not behind other requesters\' writes on the same link', source: 'PCIe base spec: IDO lets TLPs of different Requester IDs pass each other [C]; off unless a driver enables it' },
  ...cacheKnobs('devices.*.atc', 64, 0, 'this device\'s device TLB', 'class default `atc.*`', 'class default `atc.*`'),
  ...IRQ_KNOBS,
  ...CPU_KNOBS,
  ...NESTED_KNOBS,
  ...PATH_KNOBS,
  ...FAULT_KNOBS,
  ...GPU_KNOBS,
  ...NIC_KNOBS,
  ...BLK_KNOBS,
  ...MIGRATION_KNOBS,
];

const byKey = new Map(KNOBS.map((k) => [k.key, k]));

export function findKnob(key: string): { knob: Knob; device?: string } | undefined {
  const direct = byKey.get(key);
  if (direct) return { knob: direct };
  const m = /^devices\.((?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])\.(.+)$/.exec(key);
  if (m) {
    const k = byKey.get(`devices.*.${m[2]}`);
    if (k) return { knob: k, device: m[1] };
  }
  return undefined;
}

/** Look a knob up for `--set`, with a did-you-mean for unknown keys. */
export function requireKnob(key: string): { knob: Knob; device?: string } {
  const f = findKnob(key);
  if (f) return f;
  const near = closestKey(key, byKey.keys());
  throw inputError(`--set ${key}`, 'unknown configuration key', near ? `did you mean ${near}? (iommusim config lists every key)` : 'iommusim config lists every key');
}
