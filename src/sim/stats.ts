/**
 * The timing model's statistics, each declared once (src/util/stats.ts): path under `metrics` in a
 * timed run's result, unit, description, how it is read from the components (`TimingView`: the
 * TimedSystem's counters and its components, gathered once per result) and, for times kept in
 * picoseconds, the conversion (`scale: 1000`, `digits: 3`). `TimedSystem.metrics()` builds its
 * object from TIMING_STATS, `TimingMetrics` is its type; TIMED_IOMMU_STATS are the two figures a
 * timed run adds to the IOMMU's sections (src/run/stats.ts puts them there).
 */
import type { IommuTiming } from '../iommu/timing.js';
import type { RootComplex } from '../rc/root-complex.js';
import type { MemoryTiming } from '../memory/memory.js';
import type { PcieLinkTiming } from '../pcie/port.js';
import { list, statTable, type Distribution, type Stat, type StatTree } from '../util/stats.js';

/** One device's counters, as the per-device statistics read them (times in ps). */
export interface DeviceView { name: string; requests: number; bytes: number; dropped: number; firstPs: number; lastPs: number; latency: Distribution }

/** What the timing statistics read: TimedSystem.statView() gathers it once per result (times in ps). */
export interface TimingView {
  /** From the first request's admission to the last one's completion (0 when none ran). */
  spanPs: number;
  doneBytes: number;
  doneRequests: number;
  /** Every completed request's latency (the devices' histograms merged). */
  latency: Distribution;
  links: readonly PcieLinkTiming[];
  iommuT: IommuTiming;
  rc: RootComplex;
  mem: MemoryTiming;
  gatedRecords: number;
  gateWaitPs: number;
  /** The trace's devices (`*` included: the per-device list leaves it out). */
  devices: readonly DeviceView[];
}

const spanNs = (v: TimingView): number => v.spanPs / 1000;
/** Gbit/s of `bytes` over `ns` (0 over no time). */
const gbps = (bytes: number, ns: number): number => (ns > 0 ? (bytes * 8) / ns : 0);
/** A sum over the PCIe links. */
const links = (v: TimingView, f: (l: PcieLinkTiming) => number): number => { let x = 0; for (const l of v.links) x += f(l); return x; };
/** A time's share of the run (0 when the run has no span). */
const share = (v: TimingView, ps: number): number => (v.spanPs > 0 ? ps / v.spanPs : 0);
const NS = { scale: 1000, digits: 3 } as const;
const R3 = { digits: 3 } as const;

/** One remapping unit's page-walk stage, an element of `iommuTiming.walkStage`. */
interface StageView { v: TimingView; unit: number }
const STAGE_STATS_TABLE = [
  { path: 'unit', kind: 'label', unit: 'index', desc: 'the remapping unit (DRHD), 0 first', read: (s) => s.unit },
  { path: 'walks', kind: 'count', unit: 'walks', desc: 'page walks through this unit\'s page-walk stage', read: (s) => s.v.iommuT.stageWalks[s.unit] },
  { path: 'busyNs', kind: 'count', unit: 'ns', desc: 'time the stage\'s slots were held by walks, summed over its slots', read: (s) => s.v.iommuT.stageBusyPs[s.unit], ...NS },
  { path: 'utilisation', kind: 'level', unit: 'fraction (0–1)', desc: 'the stage\'s busy time over its slots (iommu.walker.slots) and the run\'s span (0 when the run has no span)', read: (s) => share(s.v, s.v.iommuT.stageBusyPs[s.unit] / s.v.iommuT.slotsPerUnit), ...R3 },
] as const satisfies readonly Stat<StageView>[];

/** One device's figures, an element of `devices`. */
const DEVICE_STATS_TABLE = [
  { path: 'device', kind: 'label', unit: 'BDF', desc: 'the device (its trace name)', read: (d) => d.name },
  { path: 'requests', kind: 'count', unit: 'requests', desc: 'the device\'s DMA requests that completed (dropped ones not included)', read: (d) => d.requests },
  { path: 'bytes', kind: 'count', unit: 'bytes', desc: 'bytes of the device\'s completed requests', read: (d) => d.bytes },
  { path: 'dropped', kind: 'count', unit: 'requests', desc: 'the device\'s DMA requests dropped by a translation fault', read: (d) => d.dropped },
  { path: 'throughputGbps', kind: 'level', unit: 'Gbit/s', desc: 'the device\'s completed bytes × 8 over the time from its first request\'s admission to its last completion (0 when none)', read: (d) => gbps(d.bytes, Math.max(0, d.lastPs - d.firstPs) / 1000), ...R3 },
  { path: 'latencyNs', kind: 'summary', unit: 'ns', desc: 'the device\'s request latencies (as latencyNs)', read: (d) => d.latency, scale: 1000 },
] as const satisfies readonly Stat<DeviceView>[];

const TIMING_STATS_TABLE = [
  { path: 'simulatedTimeNs', kind: 'level', unit: 'ns', desc: 'the run\'s span: from the first request\'s admission to the last completion', read: (v) => v.spanPs, ...NS },
  { path: 'throughputGbps', kind: 'level', unit: 'Gbit/s', desc: 'bytes of completed DMA requests × 8 over the span (0 when the span is 0)', read: (v) => gbps(v.doneBytes, spanNs(v)), ...R3 },
  { path: 'requestsPerSec', kind: 'level', unit: 'requests/s', desc: 'completed DMA requests per second of the span (0 when the span is 0)', read: (v) => (spanNs(v) > 0 ? (v.doneRequests / spanNs(v)) * 1e9 : 0), digits: 0 },
  { path: 'latencyNs', kind: 'summary', unit: 'ns', desc: 'request latency, every device: from the request\'s admission by its DMA engine (a write-then-read: the write\'s) to its completion (its last piece done plus device.dmaEngine.latencyNs); dropped requests not included', read: (v) => v.latency, scale: 1000 },
  { path: 'latencyCdfNs', kind: 'cdf', unit: 'ns', desc: 'the request latencies\' CDF: [latency, fraction of requests at most it], one point per non-empty histogram bucket (its upper edge, at most the maximum)', read: (v) => v.latency, scale: 1000 },

  { path: 'pcie.upGbps', kind: 'level', unit: 'Gbit/s', desc: 'upstream wire bytes (TLP headers and framing included) × 8 over the span, every link', read: (v) => gbps(links(v, (l) => l.upBytes), spanNs(v)), ...R3 },
  { path: 'pcie.downGbps', kind: 'level', unit: 'Gbit/s', desc: 'downstream wire bytes × 8 over the span, every link', read: (v) => gbps(links(v, (l) => l.downBytes), spanNs(v)), ...R3 },
  { path: 'pcie.upUtilisation', kind: 'level', unit: 'fraction (0–1)', desc: 'share of the span the upstream direction was busy serializing TLPs, averaged over the links', read: (v) => share(v, links(v, (l) => l.upBusy) / Math.max(1, v.links.length)), ...R3 },
  { path: 'pcie.downUtilisation', kind: 'level', unit: 'fraction (0–1)', desc: 'share of the span the downstream direction was busy, averaged over the links', read: (v) => share(v, links(v, (l) => l.downBusy) / Math.max(1, v.links.length)), ...R3 },
  { path: 'pcie.tlps.up', kind: 'count', unit: 'TLPs', desc: 'TLPs sent upstream (requests and posted writes), every link', read: (v) => links(v, (l) => l.upTlps) },
  { path: 'pcie.tlps.down', kind: 'count', unit: 'TLPs', desc: 'TLPs sent downstream (read completions), every link', read: (v) => links(v, (l) => l.downTlps) },
  { path: 'pcie.wireBytes.up', kind: 'count', unit: 'bytes', desc: 'bytes on the wire upstream, TLP overheads included, every link', read: (v) => links(v, (l) => l.upBytes), digits: 0 },
  { path: 'pcie.wireBytes.down', kind: 'count', unit: 'bytes', desc: 'bytes on the wire downstream, every link', read: (v) => links(v, (l) => l.downBytes), digits: 0 },

  { path: 'iommuTiming.mergedMisses', kind: 'count', unit: 'misses', desc: 'IOTLB lookups that hit an entry whose walk was still in flight and waited for it (counted in iotlb.hits by the functional model: the entry is filled at once, the time it is ready later)', read: (v) => v.iommuT.mergedMisses },
  { path: 'iommuTiming.walkLatencyNs', kind: 'summary', unit: 'ns', desc: 'page-walk latency: from the IOTLB miss to the entry\'s fill (IOTLB lookup, paging-structure-cache lookup, the walker\'s fixed latency, the wait for a walk-stage slot and the walk\'s memory reads)', read: (v) => v.iommuT.walkLatency, scale: 1000 },
  { path: 'iommuTiming.walkerWaitNs', kind: 'count', unit: 'ns', desc: 'time walks waited for a slot of their unit\'s page-walk stage, summed', read: (v) => v.iommuT.walkerWaitPs, ...NS },
  { path: 'iommuTiming.invalidationStalls', kind: 'count', unit: 'translations', desc: 'translations that waited for an invalidation of their page in progress', read: (v) => v.iommuT.invalidationStalls },
  { path: 'iommuTiming.invalidationStallNs', kind: 'count', unit: 'ns', desc: 'time translations waited for invalidations in progress, summed', read: (v) => v.iommuT.invalidationStallPs, ...NS },
  list({ path: 'iommuTiming.walkStage', unit: 'remapping units', desc: 'per remapping unit (DRHD): walks through its page-walk stage and the share of the run its slots were held', items: (v: TimingView) => Array.from(v.iommuT.stageWalks, (_, unit) => ({ v, unit })), fields: STAGE_STATS_TABLE }),

  { path: 'ordering.writeStalls', kind: 'count', unit: 'writes', desc: 'PCIe ordering at the root complex: posted writes held behind an earlier write of their ordering domain', read: (v) => v.rc.writeOrderStalls },
  { path: 'ordering.writeStallNs', kind: 'count', unit: 'ns', desc: 'time writes were held so, summed', read: (v) => v.rc.writeOrderStallPs, ...NS },
  { path: 'ordering.readStalls', kind: 'count', unit: 'reads', desc: 'reads that waited for the earlier writes of their ordering domain to commit', read: (v) => v.rc.readOrderStalls },
  { path: 'ordering.readStallNs', kind: 'count', unit: 'ns', desc: 'time reads waited so, summed', read: (v) => v.rc.readOrderStallPs, ...NS },
  { path: 'ordering.writeTranslationWaitNs', kind: 'count', unit: 'ns', desc: 'time writes waited for their own translation after the posted-write unit was done with them, summed', read: (v) => v.rc.writeTranslationWaitPs, ...NS },
  { path: 'writeBuffer.stalls', kind: 'count', unit: 'writes', desc: 'the root ports\' write buffers (rc.writeLines): writes that waited at a port\'s ingress for lines', read: (v) => v.rc.lineStalls },
  { path: 'writeBuffer.stallNs', kind: 'count', unit: 'ns', desc: 'time writes waited for write-buffer lines, summed', read: (v) => v.rc.lineStallPs, ...NS },
  { path: 'writeUnit.writes', kind: 'count', unit: 'writes', desc: 'write TLPs through the root complex\'s serial posted-write unit: its busy time over one write\'s (rc.postedWriteNs; 0 when that is 0)', read: (v) => (v.rc.writePs > 0 ? v.rc.writeUnitBusyPs / v.rc.writePs : 0), digits: 0 },
  { path: 'writeUnit.utilisation', kind: 'level', unit: 'fraction (0–1)', desc: 'share of the span the posted-write unit was busy', read: (v) => share(v, v.rc.writeUnitBusyPs), ...R3 },
  { path: 'memory.llcAccesses', kind: 'count', unit: 'accesses', desc: 'memory accesses served by the LLC (DDIO writes, reads of lines in the LLC)', read: (v) => v.mem.llcAccesses },
  { path: 'memory.dramAccesses', kind: 'count', unit: 'accesses', desc: 'memory accesses that went to DRAM', read: (v) => v.mem.dramAccesses },
  { path: 'memory.dramBytes', kind: 'count', unit: 'bytes', desc: 'bytes moved to or from DRAM', read: (v) => v.mem.dramBytes },
  { path: 'unmapGate.gatedRecords', kind: 'count', unit: 'records', desc: 'trace records that waited for the device\'s earlier DMAs behind an unmap (the unmap and the records behind it)', read: (v) => v.gatedRecords },
  { path: 'unmapGate.waitNs', kind: 'count', unit: 'ns', desc: 'time records waited at the unmap gate, summed', read: (v) => v.gateWaitPs, ...NS },
  list({ path: 'devices', unit: 'devices', desc: 'per device of the trace (the `*` device of control records left out)', items: (v: TimingView) => v.devices.filter((d) => d.name !== '*'), fields: DEVICE_STATS_TABLE }),
] as const satisfies readonly Stat<TimingView>[];

/** The timing model's statistics, checked, with the builder of `TimedSystem.metrics()`'s object. */
export const TIMING_STATS = statTable<TimingView>(TIMING_STATS_TABLE);
/** A timed run's timing figures, typed from the table. */
export type TimingMetrics = StatTree<typeof TIMING_STATS_TABLE>;
export type TimingStatsTable = typeof TIMING_STATS_TABLE;

const TIMED_IOMMU_STATS_TABLE = [
  { path: 'iotlb.mergedMisses', kind: 'count', unit: 'misses', desc: 'timed runs: IOTLB hits that waited for the walk in flight that fills their entry (= iommuTiming.mergedMisses; counted in iotlb.hits)', read: (v) => v.iommuT.mergedMisses },
  { path: 'walks.avgLatencyNs', kind: 'level', unit: 'ns', desc: 'timed runs: mean page-walk latency (= iommuTiming.walkLatencyNs.mean)', read: (v) => v.iommuT.walkLatency.mean(), ...NS },
] as const satisfies readonly Stat<TimingView>[];

/** The figures a timed run adds to the IOMMU's sections (`iotlb`, `walks`). */
export const TIMED_IOMMU_STATS = statTable<TimingView>(TIMED_IOMMU_STATS_TABLE);
export type TimedIommuStatsTable = typeof TIMED_IOMMU_STATS_TABLE;
