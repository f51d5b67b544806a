/**
 * pcie-bench's device in the timed system, hand-computed (ps, broadwell-gen3x8 defaults): the NFP
 * DMA engine's data mover in series with a lone DMA and as the cap on the DMA rate, and the
 * write-then-read pair (the read issued once the write has been sent, ordered behind it at the
 * root complex).
 */
import { describe, it, expect } from 'vitest';
import { buildConfig, pcieSpec } from '../../src/config/config.js';
import { pciebenchSystem, runPciebench } from '../../src/run/timed.js';
import { dmaReadWire, dmaWriteWire, bytesPerNs } from '../../src/pcie/link.js';

const cfgOf = (s: Array<[string, string | number]>) => buildConfig([['workload.kind', 'pciebench'], ['iommu.mode', 'off'], ['workload.count', 3], ...s]);
/** The first request's latency (ps) of a run with one DMA (or pair) at a time. */
const first = (s: Array<[string, string | number]>) => pciebenchSystem(cfgOf([['device.dmaEngine.maxInFlight', 1], ...s]), true, true).latencies![0];

const PERIOD = 833; // the NFP's 1.2 GHz clock (device.clockMHz): requests issue on its edges
const align = (t: number) => Math.ceil(t / PERIOD) * PERIOD;
const DESC = 6_000, LINE = 9_000; // pciebench.descriptorNs, pciebench.lineNs
const LINK = 115_000, DEV = 32_000, RC = 252_000, LLC = 16_000; // pcie.linkLatencyNs, device.dmaEngine.latencyNs, rc.readNs, memory.llcLatencyNs
const spec = pcieSpec(buildConfig([]));
const psPerByte = 1000 / bytesPerNs(spec);
const w = new Float64Array(6);
dmaWriteWire(spec, 2 ** 32, 64, w);
const SER_W = Math.round(w[0] * psPerByte); // a 64 B MWr upstream
dmaReadWire(spec, 2 ** 32, 64, w);
const DOWN = Math.round(w[1] * psPerByte); // a 64 B completion downstream

describe('pcie-bench device: the NFP DMA engine\'s data mover', () => {
  it('sits in series with a lone DMA: a descriptor and a time per line before the TLPs go out', () => {
    const none: Array<[string, number]> = [['pciebench.descriptorNs', 0], ['pciebench.lineNs', 0]];
    for (const size of [64, 65, 2048]) {
      const lines = Math.ceil(size / 64);
      const d = first([['workload.size', size]]) - first([['workload.size', size], ...none]);
      expect(d, `${size} B`).toBe(align(DESC + lines * LINE)); // the first DMA enters at 0
    }
  });

  it('caps the DMA rate under load: 128 B reads and writes one per aligned 6 + 2 × 9 ns', () => {
    const per = align(DESC + 2 * LINE); // each turn starts on an edge (the previous issue)
    expect(per).toBe(24_157);
    for (const op of ['read', 'write']) {
      const m = runPciebench(cfgOf([['workload.op', op], ['workload.size', 128], ['workload.count', 20_000]])).metrics;
      expect(Math.abs(m.requestsPerSec! / (1e12 / per) - 1), op).toBeLessThan(0.005);
    }
  });

  it('88 contexts: no more requests in flight than the firmware\'s worker contexts', () => {
    const cfg = cfgOf([['device.dmaEngine.maxInFlight', 256], ['pciebench.contexts', 3], ['workload.count', 100]]);
    const sys = pciebenchSystem(cfg, true);
    expect(sys.eng.cap[0]).toBe(3);
    expect(pciebenchSystem(cfgOf([['device.dmaEngine.maxInFlight', 256]]), true).eng.cap[0]).toBe(88);
  });
});

describe('pcie-bench device: a write, then a read of the same bytes (LAT_DMA_WRRD)', () => {
  it('the read enters the engine once the write has been sent and the engine has handled its completion', () => {
    const read = first([['workload.size', 64]]);
    const issueW = align(DESC + LINE); // the write leaves the data mover
    const readBack = issueW + SER_W + DEV; // sent, then the engine's completion handling
    const issueR = align(readBack + DESC + LINE); // the read's own turn at the data mover
    // from there the read is a lone read (which issues at issueW from 0): no wait behind the write,
    // whose commit (arrival + 21.1 ns) is long done when the read arrives
    expect(first([['workload.op', 'wrrd'], ['workload.size', 64]])).toBe(issueR - issueW + read);
  });

  it('PCIe ordering: the read waits for the write to commit at the root complex, and so sees its data', () => {
    const unit = 400_000; // a slow posted-write unit: the write commits after the read arrives
    const issueW = align(DESC + LINE);
    const commit = issueW + SER_W + LINK + unit;
    const lat = first([['workload.op', 'wrrd'], ['workload.size', 64], ['rc.postedWriteNs', unit / 1000]]);
    expect(lat).toBe(commit + RC + LLC + DOWN + LINK + DEV);
    const sys = pciebenchSystem(cfgOf([['device.dmaEngine.maxInFlight', 1], ['workload.op', 'wrrd'], ['workload.size', 64], ['rc.postedWriteNs', 400]]), true);
    expect(sys.rc.readOrderStalls).toBe(3); // every pair's read
  });

  it('a pair is one operation moving its bytes both ways: two DMAs, one latency', () => {
    const r = runPciebench(cfgOf([['workload.op', 'wrrd'], ['workload.size', 256], ['workload.count', 50], ['device.dmaEngine.maxInFlight', 4]]));
    expect(r.metrics.devices![0].requests).toBe(50);
    expect(r.metrics.devices![0].bytes).toBe(2 * 50 * 256);
    expect(r.metrics.dma).toMatchObject({ requests: 100, reads: 50, writes: 50, bytes: 100 * 256 });
    expect(r.metrics.latencyNs!.count).toBe(50);
    expect(r.workload.ops.dma).toBe(100);
  });
});

describe('pcie-bench device: completions', () => {
  it('RCB-sized (64 B) completions would hold 2 KiB reads near 47.9 Gb/s, 14 % under pcie-bench\'s 55.6: its root complex returned MPS-sized ones', () => {
    const gbps = (rcb: string) => runPciebench(cfgOf([['workload.size', 2048], ['workload.count', 4000], ['pcie.rcbChunks', rcb]])).metrics.throughputGbps!;
    const chunked = gbps('true'), mps = gbps('false');
    expect(chunked).toBeLessThan(48.2); // 2048 B in 32 completions of 64 + 20 B: the link's bound
    expect(chunked / 55.6 - 1).toBeLessThan(-0.1);
    expect(Math.abs(mps / 55.6 - 1)).toBeLessThan(0.1);
  });
});
