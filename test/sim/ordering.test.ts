/**
 * The root complex's PCIe ordering, the root port's write buffer and the shared page-walk stage,
 * through the whole timed system on small hand-made traces. Two DMAs are admitted at the same
 * instant: A to a page the IOTLB has not seen (a miss), B to a page it has (a hit), so B's own
 * path is short and any wait it shows comes from A. Latencies are looked up by trace record.
 */
import { describe, it, expect } from 'vitest';
import { buildConfig } from '../../src/config/config.js';
import { TimedSystem } from '../../src/sim/system.js';
import { parseCsvTrace, CSV_HEADER } from '../../src/trace/importers/csv.js';

const enc = (s: string) => new TextEncoder().encode(s);

function run(lines: string[], settings: Array<[string, string | number | boolean]> = []) {
  const cfg = buildConfig([['iommu.mode', 'strict'], ['device.dmaEngine.maxInFlight', 2], ...settings]);
  const t = parseCsvTrace(enc([CSV_HEADER, ...lines].join('\n') + '\n'), 't.csv');
  const sys = new TimedSystem(cfg, t.devices, undefined, { recordLatencies: true });
  sys.runTrace(t);
  /** Latency (ps) of the request from data line i. */
  const lat = (i: number): number => sys.latencies![sys.latencyRecords!.indexOf(i)];
  const n = lines.length;
  return { sys, m: sys.metrics(), lat, a: lat(n - 2), b: lat(n - 1) };
}

const A = '0x100000000', B = '0x100001000'; // same 2 MiB region: A's miss reads one PTE
const maps = (dev: string) => [`0,${dev},,map,${A},4096,,0x200000000`, `0,${dev},,map,${B},4096,,0x200001000`];
/**
 * B's page (and the context entries) made hot by DMAs 10 µs apart (A's too when `warmA`), then A
 * and B at t = 100 µs: the last two lines.
 */
function pair(devA: string, devB: string, dir = 'write', warmA = false, size = 64): string[] {
  const warm = [`${devB},${B}`, ...(devB === devA ? [] : [`${devA},${B}`]), ...(warmA ? [`${devA},${A}`] : [])];
  return [
    ...maps(devA), ...(devB === devA ? [] : maps(devB)),
    ...warm.map((w, k) => `${(k + 1) * 10000},${w.split(',')[0]},,dma,${w.split(',')[1]},${size},${dir},`),
    `100000,${devA},,dma,${A},${size},${dir},`,
    `100000,${devB},,dma,${B},${size},${dir},`,
  ];
}

describe('PCIe ordering at the root port', () => {
  it('a write that misses holds up a younger write of the same requester: B commits with A', () => {
    const held = run(pair('03:00.0', '03:00.0'));
    expect(held.b).toBe(held.a); // B goes to memory when A does: one commit, the LLC write's latency
    expect(held.m.ordering.writeStalls).toBe(1);
    // with A's page hot too nothing waits, and B is faster by A's miss
    const hot = run(pair('03:00.0', '03:00.0', 'write', true));
    expect(hot.m.ordering.writeStalls).toBe(0);
    expect(held.b - hot.b).toBeGreaterThan(150_000);
  });

  it('but not another requester\'s on another root port, nor one with ID-based ordering on the same port', () => {
    const hitAlone = run(pair('03:00.0', '03:00.0', 'write', true)).b;
    // 04:00.0 is on its own link (bus 4): another port, another ordering domain
    const other = run(pair('03:00.0', '04:00.0'));
    expect(other.m.ordering.writeStalls).toBe(0);
    expect(other.a - other.b).toBeGreaterThan(150_000);
    expect(Math.abs(other.b - hitAlone)).toBeLessThan(20_000); // its own hit path (the links differ in queueing only)
    // 03:00.1 shares 03:00.0's link: the port orders all its posted writes …
    const samePort = run(pair('03:00.0', '03:00.1'));
    expect(samePort.m.ordering.writeStalls).toBe(1);
    expect(samePort.b).toBe(samePort.a);
    // … unless the requester uses ID-based ordering
    const ido = run(pair('03:00.0', '03:00.1'), [['devices.03:00.1.idOrdering', true]]);
    expect(ido.m.ordering.writeStalls).toBe(0);
    expect(ido.a - ido.b).toBeGreaterThan(150_000);
  });

  it('a Relaxed Ordering write does not wait for the earlier write', () => {
    const ro = run(pair('03:00.0', '03:00.0'), [['devices.03:00.0.relaxedOrdering', true]]);
    expect(ro.m.ordering.writeStalls).toBe(0);
    expect(ro.a - ro.b).toBeGreaterThan(150_000);
    expect(ro.b).toBe(run(pair('03:00.0', '03:00.0', 'write', true)).b); // as when A hits
  });

  it('Relaxed Ordering lets the write that carries it pass, not the strongly ordered write behind it', () => {
    // A from a Relaxed Ordering requester misses; B from another requester on the same port does not set RO
    const r = run(pair('03:00.0', '03:00.1'), [['devices.03:00.0.relaxedOrdering', true]]);
    expect(r.m.ordering.writeStalls).toBe(1);
    expect(r.b).toBe(r.a);
  });

  it('a read miss does not block a later read (reads pass reads)', () => {
    const r = run(pair('03:00.0', '03:00.0', 'read'));
    expect(r.m.ordering.readStalls).toBe(0);
    expect(r.a - r.b).toBeGreaterThan(150_000);
    // B's latency is a lone hit's, plus its request's serialization behind A's MRd
    const hot = run(pair('03:00.0', '03:00.0', 'read', true));
    expect(r.b).toBeLessThanOrEqual(hot.b); // A's completion no longer goes down before B's
  });

  it('a read may not pass an earlier posted write: it waits for the write\'s commit (not with Relaxed Ordering)', () => {
    const lines = [...maps('03:00.0'), `10000,03:00.0,,dma,${B},64,read,`, `100000,03:00.0,,dma,${A},64,write,`, `100000,03:00.0,,dma,${B},64,read,`];
    const held = run(lines);
    expect(held.m.ordering.readStalls).toBe(1);
    const ro = run(lines, [['devices.03:00.0.relaxedOrdering', true]]);
    expect(ro.m.ordering.readStalls).toBe(0);
    expect(held.b - ro.b).toBeGreaterThan(150_000);
  });
});

describe('the root port\'s write buffer (rc.writeLines)', () => {
  it('a write that misses keeps its lines until it is translated and written: the next write waits for them', () => {
    // 256 B writes take 4 lines; a 5-line buffer holds one at a time. B is another requester with
    // ID-based ordering on the same port, so only the buffer can hold it up.
    const lines = pair('03:00.0', '03:00.1', 'write', false, 256);
    const set: Array<[string, string | number | boolean]> = [['devices.03:00.1.idOrdering', true]];
    const unlimited = run(lines, set);
    const five = run(lines, [...set, ['rc.writeLines', 5]]);
    expect(unlimited.m.writeBuffer.stalls).toBe(0);
    expect(unlimited.a - unlimited.b).toBeGreaterThan(150_000);
    expect(five.m.writeBuffer.stalls).toBe(1);
    // B got its lines when A's write was done, then did its own write: it ends after A
    expect(five.b).toBeGreaterThan(five.a);
  });
});

describe('the page-walk stage of a remapping unit', () => {
  const lines = [
    ...maps('03:00.0'), ...maps('04:00.0'),
    `10000,03:00.0,,dma,${B},64,read,`, `20000,04:00.0,,dma,${B},64,read,`,
    `100000,03:00.0,,dma,${A},64,read,`,
    `100000,04:00.0,,dma,${A},64,read,`,
  ];
  it('two devices behind one unit share it: the second of two simultaneous misses waits for the first\'s step and read', () => {
    const shared = run(lines);
    const own = run(lines, [['devices.04:00.0.drhd', 1]]);
    // the same paths on separate links; behind one unit the second walk starts when the first's
    // step (iommu.walker.stepNs, 33 ns) and its one LLC read (16 ns) are done
    expect(shared.b - shared.a).toBe(33_000 + 16_000);
    expect(shared.m.iommuTiming.walkerWaitNs).toBe(49);
    expect(own.b).toBe(own.a);
    expect(own.m.iommuTiming.walkerWaitNs).toBe(0);
    expect(own.m.iommuTiming.walkStage.map((u) => u.walks)).toEqual([2, 2]);
  });
});
