/** The root complex on its own: hand-computed times (ps) with the Broadwell defaults. */
import { describe, it, expect } from 'vitest';
import { buildConfig } from '../../src/config/config.js';
import { MemoryTiming } from '../../src/memory/memory.js';
import { RootComplex, linesOf } from '../../src/rc/root-complex.js';
import type { IommuTiming } from '../../src/iommu/timing.js';

const W = 21_100, LLC = 16_000; // rc.postedWriteNs, memory.llcLatencyNs (DDIO on: writes go to the LLC)

function rc(settings: Array<[string, string | number | boolean]> = [], domains = 2, ports = 1) {
  const cfg = buildConfig(settings);
  // translate() is not used here: the times below pass the translation's ready time in
  return new RootComplex(cfg.rc, null as unknown as IommuTiming, new MemoryTiming(cfg.memory), domains, ports);
}

describe('root complex: posted writes', () => {
  it('the write unit takes writes in arrival order, one per rc.postedWriteNs', () => {
    const r = rc();
    expect(r.write(64, 0, 1_000_000, 1_000_000, 0, false, 0)).toBe(1_000_000 + W + LLC);
    expect(r.write(64, 64, 1_000_000, 1_000_000, 0, false, 0)).toBe(1_000_000 + 2 * W + LLC);
  });

  it('a write commits no earlier than the earlier writes of its domain; not with Relaxed Ordering; other domains are free', () => {
    const r = rc();
    // A's translation is ready late (a miss), B's at once
    const a = r.write(64, 0, 0, 500_000, 0, false, 0);
    expect(a).toBe(500_000 + LLC);
    // the unit is busy 0–21.1 ns with A: B (arrived at 10 ns) leaves it at 42.2 ns, then waits for A
    expect(r.write(64, 0, 10_000, 10_000, 0, false, 0)).toBe(500_000 + LLC); // held: commits with A
    expect(r.write(64, 0, 20_000, 20_000, 0, true, 0)).toBe(3 * W + LLC); // Relaxed Ordering: passes
    expect(r.write(64, 0, 30_000, 30_000, 1, false, 0)).toBe(4 * W + LLC); // another domain
    expect(r.writeOrderStalls).toBe(1);
    expect(r.writeOrderStallPs).toBe(500_000 - 2 * W);
    // and a strongly ordered write after the Relaxed Ordering one still waits for A
    expect(r.write(64, 0, 40_000, 40_000, 0, false, 0)).toBe(500_000 + LLC);
  });

  it('a read waits for the earlier writes of its domain to commit (not with Relaxed Ordering)', () => {
    const r = rc();
    r.write(64, 0, 0, 400_000, 0, false, 0);
    const readNs = 252_000;
    expect(r.read(64, true, 5_000, 0, false)).toBe(400_000 + readNs + LLC);
    expect(r.read(64, true, 5_000, 0, true)).toBe(5_000 + readNs + LLC);
    expect(r.read(64, true, 5_000, 1, false)).toBe(5_000 + readNs + LLC);
    expect(r.readOrderStalls).toBe(1);
  });
});

describe('root complex: the port write buffer', () => {
  it('lines touched by a write', () => {
    expect(linesOf(0, 64)).toBe(1);
    expect(linesOf(0, 65)).toBe(2);
    expect(linesOf(32, 64)).toBe(2);
    expect(linesOf(0, 256)).toBe(4);
    expect(linesOf(60, 256)).toBe(5);
  });

  it('a write waits at the port until enough lines are back, first come first served', () => {
    const r = rc([['rc.writeLines', 5]]);
    const a = r.write(256, 0, 0, 300_000, 0, false, 0); // 4 lines, held until written
    expect(a).toBe(300_000 + LLC);
    // 4 more lines: only 1 free until A's return at `a`; it starts then (its own domain: no ordering wait)
    expect(r.write(256, 0, 1_000, 1_000, 1, false, 0)).toBe(a + W + LLC);
    expect(r.lineStalls).toBe(1);
    expect(r.lineStallPs).toBe(a - 1_000);
    // a 1-line write behind it waits its turn (first come first served), though a line is free
    expect(r.write(64, 0, 2_000, 2_000, 1, false, 0)).toBe(a + 2 * W + LLC);
    // unlimited: nobody waits
    const u = rc();
    u.write(256, 0, 0, 300_000, 0, false, 0);
    expect(u.write(256, 0, 1_000, 1_000, 1, false, 0)).toBe(2 * W + LLC); // behind A in the write unit only
  });
});

describe('root complex: whole lines', () => {
  const DRAM = 70_000; // memory.dramLatencyNs
  const dramPs = (bytes: number) => Math.round(bytes * (1000 / 68.3)); // memory.dramGBps: the serializer's time

  it('a partly written line is read for ownership on arrival; the write commits once it is in', () => {
    const r = rc();
    // warm: the line comes from the LLC (16 ns), sooner than the write unit is done with it (21.1 ns)
    expect(r.write(32, 0, 0, 0, 0, false, 0, true)).toBe(W + LLC);
    expect(r.rfoLines).toBe(1);
    // cold: from DRAM, later than the unit: the commit waits for it
    const c = rc([['memory.ddio', true]]);
    expect(c.write(32, 0, 0, 0, 0, false, 0, false)).toBe(dramPs(64) + DRAM + LLC);
    // a full line needs no data (PCIItoM): no read
    const f = rc();
    expect(f.write(64, 128, 0, 0, 0, false, 0, false)).toBe(W + LLC);
    expect(f.rfoLines).toBe(0);
  });

  it('counts the partial lines: first, last, or one inside a line', () => {
    const r = rc();
    r.write(64, 32, 0, 0, 0, false, 0); // two halves: both lines read
    expect(r.rfoLines).toBe(2);
    r.write(65, 0, 0, 0, 0, false, 0); // a full line and one byte of the next
    expect(r.rfoLines).toBe(3);
    r.write(8, 16, 0, 0, 0, false, 0); // inside one line
    expect(r.rfoLines).toBe(4);
    r.write(128, 64, 0, 0, 0, false, 0); // two full lines
    expect(r.rfoLines).toBe(4);
    // a cold write with two partial lines reads both: 128 B through the DRAM serializer
    const c = rc();
    expect(c.write(64, 32, 0, 0, 0, false, 0, false)).toBe(dramPs(128) + DRAM + LLC);
    expect(c.mem.dramBytes).toBe(128);
  });

  it('a read fetches every line it touches whole (DRAM bytes); an ordered read still waits for the partial write before it', () => {
    const r = rc();
    r.read(65, false, 0, 0, false, 0);
    expect(r.mem.dramBytes).toBe(128);
    r.read(64, false, 0, 0, false, 32);
    expect(r.mem.dramBytes).toBe(256);
    r.read(64, false, 0, 0, false, 64);
    expect(r.mem.dramBytes).toBe(320);
    // the write's commit waits for its line; the read behind it in the domain waits for the commit
    const w = rc();
    w.write(16, 0, 0, 0, 0, false, 0, false); // commits at dramPs(64) + DRAM
    expect(w.read(64, true, 1_000, 0, false)).toBe(dramPs(64) + DRAM + 252_000 + LLC);
    expect(w.readOrderStalls).toBe(1);
  });
});
