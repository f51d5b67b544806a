/** The NVMe-like block device model: its trace, record by record, and its timing (hand-computed). */
import { describe, it, expect } from 'vitest';
import { blkTrace, blkSpec, BLK_DEVICE, type BlkSpec } from '../../../src/devices/blk/blk.js';
import { BLK_KNOBS } from '../../../src/config/knobs/blk.js';
import { OP_DMA, OP_MAP, OP_UNMAP, DIR_READ, DIR_WRITE, KIND_DATA, KIND_DESC, KIND_CQE } from '../../../src/trace/columns.js';
import { buildConfig } from '../../../src/config/config.js';
import { findGenerator } from '../../../src/run/generators/index.js';
import { resolveInput, runResolved } from '../../../src/run/inputs.js';

const spec = (o: Partial<BlkSpec> = {}): BlkSpec => ({ ios: 4, blockBytes: 16384, op: 'read', queueDepth: 2, deviceGBps: 4.096, latencyNs: 10_000, completionsPerInterrupt: 1, buffers: 'per-io', hostPageBytes: 4096, ...o });
const rows = (t: ReturnType<typeof blkTrace>['trace']) => Array.from({ length: t.count }, (_, i) => ({ t: t.timeNs[i], op: t.op[i], size: t.size[i], dir: t.dir[i], kind: t.kind[i], iova: t.iovaHi[i] * 2 ** 32 + t.iovaLo[i] }));

describe('NVMe-like block device (hand-computed)', () => {
  it('a 16 KiB read: map, SQE fetch, PRP list (4 pages > 2), four 4 KiB data writes over 4 µs, the CQE, the unmap', () => {
    const { trace, stats } = blkTrace(spec({ ios: 1 }));
    expect(trace.devices).toEqual([BLK_DEVICE]);
    const r = rows(trace);
    // the queues' mapping first, then the command
    expect(r[0].op).toBe(OP_MAP);
    const cmd = r.slice(1);
    expect(cmd.map((x) => x.op)).toEqual([OP_MAP, OP_DMA, OP_DMA, OP_DMA, OP_DMA, OP_DMA, OP_DMA, OP_DMA, OP_UNMAP]);
    expect(cmd[1]).toMatchObject({ t: 0, size: 64, dir: DIR_READ, kind: KIND_DESC });
    expect(cmd[2]).toMatchObject({ t: 0, size: 8 * 3, dir: DIR_READ, kind: KIND_DESC });
    // latency 10 µs, then 16 KiB at 4.096 GB/s = 4 µs: pieces at 10, 11, 12, 13 µs; the CQE at 14 µs
    expect(cmd.slice(3, 7).map((x) => x.t)).toEqual([10_000, 11_000, 12_000, 13_000]);
    for (const x of cmd.slice(3, 7)) expect(x).toMatchObject({ size: 4096, dir: DIR_WRITE, kind: KIND_DATA });
    expect(cmd[7]).toMatchObject({ t: 14_000, size: 16, dir: DIR_WRITE, kind: KIND_CQE });
    expect(cmd[8].t).toBe(14_001);
    expect(stats).toEqual({ ios: 1, bytes: 16384, pages: 4, interrupts: 1, maps: 1, unmaps: 1, spanNs: 14_000 });
  });
  it('queue depth 2: the third command is submitted when the first completes; transfers share the device one after another', () => {
    const { trace } = blkTrace(spec());
    const sqe = rows(trace).filter((x) => x.kind === KIND_DESC && x.size === 64).map((x) => x.t);
    const cqe = rows(trace).filter((x) => x.kind === KIND_CQE).map((x) => x.t);
    // 1st: data 10–14 µs; 2nd: submitted at 0, its data waits for the device: 14–18 µs
    expect(cqe.slice(0, 2)).toEqual([14_000, 18_000]);
    // 3rd submitted at 14 µs, data from max(24, 18) = 24 µs to 28 µs; 4th at 18 µs, 28–32 µs
    expect(sqe).toEqual([0, 0, 14_000, 18_000]);
    expect(cqe.slice(2)).toEqual([28_000, 32_000]);
  });
  it('a write: the device reads the data; no PRP list at 8 KiB; static and pool buffers are mapped once', () => {
    const w = rows(blkTrace(spec({ ios: 1, op: 'write', blockBytes: 8192 })).trace);
    expect(w.filter((x) => x.op === OP_DMA && x.kind === KIND_DATA).map((x) => x.dir)).toEqual([DIR_READ, DIR_READ]);
    expect(w.filter((x) => x.kind === KIND_DESC)).toHaveLength(1);
    for (const buffers of ['static', 'pool'] as const) {
      const s = blkTrace(spec({ buffers, ios: 3 }));
      const ops = rows(s.trace).map((x) => x.op);
      expect(ops.filter((o) => o === OP_MAP)).toHaveLength(2);
      expect(ops.filter((o) => o === OP_UNMAP)).toHaveLength(0);
      expect(s.stats.maps).toBe(0);
    }
    // guest RAM backed by 2 MiB pages is mapped in whole 2 MiB pages
    const big = rows(blkTrace(spec({ buffers: 'static', hostPageBytes: 2 * 1024 ** 2 })).trace).filter((x) => x.op === OP_MAP);
    expect(big[1].size).toBe(2 * 1024 ** 2);
  });
  it('the controller\'s command-rate ceiling (blk.maxIops): commands taken up 1 / maxIops apart, whatever the queue depth', () => {
    // four 4 KiB reads, all submitted at 0 (queue depth 4); 4 KiB at 4.096 GB/s = 1 µs of data each
    const cqe = (o: Partial<BlkSpec>) => rows(blkTrace(spec({ ios: 4, blockBytes: 4096, queueDepth: 4, ...o })).trace).filter((x) => x.kind === KIND_CQE).map((x) => x.t);
    // no ceiling: data at 10, 11, 12, 13 µs (the device's rate serialises them), CQEs 1 µs later
    expect(cqe({})).toEqual([11_000, 12_000, 13_000, 14_000]);
    expect(cqe({ maxIops: 0 })).toEqual([11_000, 12_000, 13_000, 14_000]);
    // 500,000 IOPS: taken up at 0, 2, 4, 6 µs; data 10 µs later each: 10–11, 12–13, 14–15, 16–17 µs
    expect(cqe({ maxIops: 500_000 })).toEqual([11_000, 13_000, 15_000, 17_000]);
    // the ceiling and the data rate: at 16 KiB (4 µs of data) a 500,000 IOPS ceiling (2 µs) does not bind
    const big = rows(blkTrace(spec({ ios: 3, blockBytes: 16384, queueDepth: 3, maxIops: 500_000 })).trace).filter((x) => x.kind === KIND_CQE).map((x) => x.t);
    expect(big).toEqual([14_000, 18_000, 22_000]);
    // closed loop: with queue depth 1 the next command is submitted at the completion, later than the ceiling's 2 µs
    expect(cqe({ queueDepth: 1, maxIops: 500_000 })).toEqual([11_000, 22_000, 33_000, 44_000]);
    // the default: the 250 GB 970 EVO Plus's 250,000 IOPS
    expect(blkSpec(buildConfig([['workload.kind', 'nvme']])).maxIops).toBe(250_000);
  });
  it('interrupt coalescing: one interrupt per completionsPerInterrupt completions', () => {
    expect(blkTrace(spec({ ios: 5, completionsPerInterrupt: 2 })).stats.interrupts).toBe(3);
  });
  it('the nvme generator runs through the timed model: the device rate is the data rate once the queue fills', () => {
    expect(findGenerator('nvme')).toBeDefined();
    const [r] = resolveInput('nvme', [['workload.count', 2000], ['workload.size', '64KiB'], ['iommu.mode', 'off']]);
    const res = runResolved(r);
    // 2000 × 64 KiB at 3.2 GB/s ≈ 41 ms: the link (Gen3 x8) is faster, so the device's rate shows
    expect(res.metrics.throughputGbps).toBeGreaterThan(3.2 * 8 * 0.95);
    expect(res.metrics.throughputGbps).toBeLessThan(3.2 * 8 * 1.01);
  });
  it('knobs: sourced, and bad values are one line naming the key', () => {
    for (const k of BLK_KNOBS) expect(k.source.length).toBeGreaterThan(20);
    expect(() => buildConfig([['blk.queueDepth', 0]])).toThrow(/^blk\.queueDepth=0: below the minimum 1 commands/);
    expect(() => buildConfig([['blk.buffers', 'sometimes']])).toThrow(/blk\.buffers=sometimes: unknown value; use one of per-io, static, pool/);
    expect(() => blkSpec(buildConfig([['workload.kind', 'nvme'], ['workload.size', '256MiB']]))).toThrow(/workload\.size=268435456: an NVMe command of more than 128 MiB/);
  });
});
