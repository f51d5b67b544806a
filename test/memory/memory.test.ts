/**
 * MemoryTiming on its own (src/memory/memory.ts): hand-computed times in ps.
 *
 * The model takes its spec slice (MemorySpec, typed from the memory.* knob table); the cases hand it
 * one. Knobs of every case unless it says otherwise:
 *   memory.llcLatencyNs = 16   → LLC  = 16000
 *   memory.dramLatencyNs = 70  → DRAM = 70000
 *   memory.dramGBps = 64       → 1000 / 64 = 15.625 ps per byte: a 64 B line holds the serializer
 *                                 1000 ps, a 4 KiB page 64000 ps (each access rounded to whole ps)
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { buildConfig } from '../../src/config/config.js';
import type { MemorySpec } from '../../src/config/knobs/memory.js';
import { InputError } from '../../src/util/errors.js';
import { MemoryTiming } from '../../src/memory/memory.js';
import { RootComplex } from '../../src/rc/root-complex.js';
import type { IommuTiming } from '../../src/iommu/timing.js';

const LLC = 16_000, DRAM = 70_000;
/** The spec of every case: hand-made, as the memory.* knobs give it (ddio and pageTables at their defaults). */
const SPEC: MemorySpec = { llcLatencyNs: 16, dramLatencyNs: 70, dramGBps: 64, ddio: true, pageTables: 'llc' };
const mem = (extra: Partial<MemorySpec> = {}) => new MemoryTiming({ ...SPEC, ...extra });

describe('MemoryTiming: its spec (MemorySpec)', () => {
  it('a resolved config\'s memory section is the spec: the same times as the hand-made one', () => {
    const cfg = buildConfig([['memory.llcLatencyNs', 16], ['memory.dramLatencyNs', 70], ['memory.dramGBps', 64]]);
    expect(cfg.memory).toEqual(SPEC);
    const a = new MemoryTiming(cfg.memory), b = mem();
    for (const m of [a, b]) expect([m.llcPs, m.dramPs, m.psPerByte, m.ddio, m.walkInLlc]).toEqual([LLC, DRAM, 15.625, true, true]);
    expect(a.access(0, 4096, false)).toBe(b.access(0, 4096, false));
  });

  it('a bad value is refused once, by the config\'s resolver, in the knob\'s one line; the model trusts its spec', () => {
    const msg = (settings: Array<[string, string | number]>): string => {
      try { buildConfig(settings); } catch (e) { expect(e).toBeInstanceOf(InputError); return (e as Error).message; }
      return 'accepted';
    };
    expect(msg([['memory.dramGBps', 0]])).toBe('memory.dramGBps=0: below the minimum 0.1 GB/s');
    expect(msg([['memory.llcLatencyNs', -1]])).toBe('memory.llcLatencyNs=-1: below the minimum 0 ns');
    expect(msg([['memory.pageTables', 'l3']])).toBe('memory.pageTables=l3: unknown value; use one of dram, llc');
    // the constructor checks nothing again: a slice the resolver would refuse is taken as given
    expect(mem({ dramGBps: 0.05 }).psPerByte).toBe(20_000);
  });
});

describe('MemoryTiming: the LLC', () => {
  it('an LLC access is ready at t + llcLatencyNs, whatever its size, and uses no DRAM bandwidth', () => {
    const m = mem();
    expect(m.llcPs).toBe(LLC);
    expect(m.access(0, 64, true)).toBe(LLC);
    expect(m.access(0, 4096, true)).toBe(LLC); // no serializer: the same time for a page
    expect(m.access(123_456, 64, true)).toBe(123_456 + LLC);
    expect(m.llcAccesses).toBe(3);
    expect(m.dramAccesses).toBe(0);
    expect(m.dramBytes).toBe(0);
    // the DRAM serializer is still idle: a DRAM access at 0 starts at once
    expect(m.access(0, 64, false)).toBe(1000 + DRAM);
  });

  it('an LLC access is not held up by a busy DRAM serializer', () => {
    const m = mem();
    expect(m.access(0, 4096, false)).toBe(64_000 + DRAM);
    expect(m.access(1000, 64, true)).toBe(1000 + LLC);
  });

  it('fractional latencies are rounded to whole ps; zero latency is allowed', () => {
    expect(mem({ llcLatencyNs: 16.4 }).access(1000, 64, true)).toBe(1000 + 16_400);
    expect(mem({ dramLatencyNs: 70.0004 }).dramPs).toBe(70_000);
    expect(mem({ llcLatencyNs: 0 }).access(5000, 64, true)).toBe(5000);
  });
});

describe('MemoryTiming: DRAM', () => {
  it('one DRAM access of B bytes: B × ps-per-byte through the serializer, then the DRAM latency', () => {
    const m = mem();
    expect(m.psPerByte).toBe(15.625);
    expect(m.access(0, 64, false)).toBe(1000 + DRAM); // 71000
    expect(m.dramAccesses).toBe(1);
    expect(m.dramBytes).toBe(64);
    expect(mem().access(10_000, 4096, false)).toBe(10_000 + 64_000 + DRAM);
  });

  it('two back-to-back DRAM accesses serialize on the bandwidth: the second completes one transfer later', () => {
    const m = mem();
    expect(m.access(0, 64, false)).toBe(1000 + DRAM); // serializer busy 0–1000
    expect(m.access(0, 64, false)).toBe(2000 + DRAM); // starts at 1000
    expect(m.access(500, 64, false)).toBe(3000 + DRAM); // arrives while busy: starts at 2000
    expect(m.dramBytes).toBe(192);
    expect(m.dramAccesses).toBe(3);
  });

  it('a large transfer delays a small one behind it; once idle, an access starts on arrival', () => {
    const m = mem();
    expect(m.access(0, 4096, false)).toBe(64_000 + DRAM); // busy until 64000
    expect(m.access(10_000, 64, false)).toBe(64_000 + 1000 + DRAM); // waits 54000
    expect(m.access(1_000_000, 64, false)).toBe(1_000_000 + 1000 + DRAM); // idle again
  });

  it('each access rounds its own transfer time: 100 B = 1562.5 → 1563 ps', () => {
    const m = mem();
    expect(m.access(0, 100, false)).toBe(1563 + DRAM);
    expect(m.access(0, 100, false)).toBe(2 * 1563 + DRAM);
  });

  it('the default bandwidth (68.3 GB/s): a 64 B line takes round(64000 / 68.3) = 937 ps', () => {
    const m = new MemoryTiming(buildConfig([]).memory);
    expect(m.psPerByte).toBeCloseTo(1000 / 68.3, 12);
    expect(m.access(0, 64, false)).toBe(937 + 70_000);
    expect(m.access(0, 4096, false)).toBe(937 + 59_971 + 70_000); // 4096000 / 68.3 = 59970.7
  });

  it('DRAM completion times are in arrival order, no earlier than arrival + transfer + latency, and work-conserving', () => {
    const reqs = fc.array(fc.record({ gap: fc.integer({ min: 0, max: 20_000 }), bytes: fc.integer({ min: 1, max: 8192 }) }), { minLength: 1, maxLength: 100 });
    fc.assert(fc.property(reqs, (rs) => {
      const m = mem();
      let t = 0, prev = -Infinity, sum = 0, first = -1;
      for (const r of rs) {
        t += r.gap;
        if (first < 0) first = t;
        const xfer = Math.round(r.bytes * 15.625);
        const done = m.access(t, r.bytes, false);
        expect(done).toBeGreaterThanOrEqual(t + xfer + DRAM);
        expect(done).toBeGreaterThan(prev);
        // the serializer is never idle while work waits: the last done is no earlier than the first
        // arrival plus all transfers, and exactly that when everything arrives at once
        sum += xfer;
        expect(done).toBeGreaterThanOrEqual(first + sum + DRAM);
        if (t === first) expect(done).toBe(first + sum + DRAM);
        prev = done;
      }
      expect(m.dramBytes).toBe(rs.reduce((a, r) => a + r.bytes, 0));
    }));
  });
});

describe('MemoryTiming: page-table reads', () => {
  it('memory.pageTables = llc (default): a walk read takes the LLC latency', () => {
    const m = mem();
    expect(m.walkInLlc).toBe(true);
    expect(m.walkRead(1000)).toBe(1000 + LLC);
    expect(m.llcAccesses).toBe(1);
    expect(m.dramAccesses).toBe(0);
  });

  it('memory.pageTables = dram: a walk read takes the DRAM latency, outside the bandwidth serializer', () => {
    const m = mem({ pageTables: 'dram' });
    expect(m.walkInLlc).toBe(false);
    expect(m.walkRead(1000)).toBe(1000 + DRAM);
    expect(m.walkRead(1000)).toBe(1000 + DRAM); // not serialized: reads at the same time overlap
    expect(m.dramAccesses).toBe(2);
    expect(m.dramBytes).toBe(0);
    // the serializer was not reserved by the walk reads
    expect(m.access(0, 64, false)).toBe(1000 + DRAM);
  });

  it('a walk read does not wait for a busy serializer', () => {
    const m = mem({ pageTables: 'dram' });
    m.access(0, 4096, false); // serializer busy until 64000
    expect(m.walkRead(0)).toBe(DRAM);
  });
});

describe('MemoryTiming: DDIO', () => {
  const W = 21_100; // rc.postedWriteNs (default 21.1 ns): the root complex's write unit
  const rc = (ddio: boolean) => {
    const cfg = buildConfig([]);
    const m = new MemoryTiming({ ...SPEC, ddio });
    // translate() is not used: the write's translation time is passed in
    return { m, r: new RootComplex(cfg.rc, null as unknown as IommuTiming, m, 1, 1) };
  };

  it('memory.ddio is read from the spec', () => {
    expect(mem().ddio).toBe(true); // the default
    expect(mem({ ddio: false }).ddio).toBe(false);
    expect(new MemoryTiming(buildConfig([['memory.ddio', false]]).memory).ddio).toBe(false);
  });

  it('with DDIO a device write lands in the LLC; without, it goes through DRAM and its bandwidth', () => {
    const on = rc(true);
    // a full 64 B line: no read for ownership; the write unit (21100), then the LLC
    expect(on.r.write(64, 0, 0, 0, 0, false, 0)).toBe(W + LLC);
    expect(on.m.llcAccesses).toBe(1);
    expect(on.m.dramBytes).toBe(0);
    const off = rc(false);
    // the write unit, then 64 B through the DRAM serializer (1000) and the DRAM latency
    expect(off.r.write(64, 0, 0, 0, 0, false, 0)).toBe(W + 1000 + DRAM);
    expect(off.m.dramBytes).toBe(64);
    expect(off.m.llcAccesses).toBe(0);
    // a 4 KiB write without DDIO: the unit at 21100–42200, then 64000 through the serializer
    expect(off.r.write(4096, 0, 0, 0, 0, false, 0)).toBe(2 * W + 64_000 + DRAM);
  });
});
