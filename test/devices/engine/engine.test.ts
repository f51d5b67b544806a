/** The DMA engines on their own: admission on device-clock edges, the data mover, tags and posted credits, the wait line, the slot pools. */
import { describe, it, expect } from 'vitest';
import { DmaEngines } from '../../../src/devices/engine/engine.js';

const spec = { maxInFlight: 4, latencyNs: 32, issueNs: 10, clockMHz: 1000, mrrsBytes: 512, mpsBytes: 256, tags: 2, phCredits: 0 };

describe('DMA engines', () => {
  it('a request issues on a device-clock edge, no sooner than the issue interval after the previous one', () => {
    const e = new DmaEngines(spec, 1);
    const r1 = e.allocRequest(), r2 = e.allocRequest();
    expect(e.admitted(0, r1, 1_500)).toBe(2_000); // next 1 ns edge
    expect(e.admitted(0, r2, 2_000)).toBe(12_000); // 10 ns issue interval
    expect(e.inFlight[0]).toBe(2);
    expect(e.latencyPs).toBe(32_000);
  });

  it('a data mover (setSource): one request at a time, per descriptor plus per 64 B line touched, before the request issues', () => {
    const e = new DmaEngines({ ...spec, issueNs: 0 }, 1);
    e.setSource(0, 2, 6, 9);
    expect(e.cap[0]).toBe(2); // fewer contexts than maxInFlight
    const r1 = e.allocRequest(), r2 = e.allocRequest(), r3 = e.allocRequest();
    e.rOff[r1] = 0; e.rLeft[r1] = 64; // one line
    expect(e.admitted(0, r1, 1_500)).toBe(17_000); // 1.5 + 6 + 9 = 16.5 ns, on the next 1 ns edge
    e.rOff[r2] = 32; e.rLeft[r2] = 64; // two lines, each in part
    expect(e.admitted(0, r2, 2_000)).toBe(17_000 + 6_000 + 2 * 9_000); // behind r1's turn
    expect(e.rIssueAt[r2]).toBe(41_000);
    e.rOff[r3] = 4000; e.rLeft[r3] = 2 ** 40; // lines past the first page counted alike (doubles): 2^34 + 1 from a mid-line start
    expect(e.followUp(0, r3, 50_000)).toBe(50_000 + 6_000 + 9_000 * (2 ** 34 + 1));
    expect(e.inFlight[0]).toBe(2); // a follow-up (the read of a write-then-read) takes no slot
    e.setSource(0, 0, 0, 0);
    expect(e.cap[0]).toBe(4); // no context limit: maxInFlight; no data mover
    e.setSource(0, 100, 0, 0);
    expect(e.cap[0]).toBe(4);
  });

  it('the issue interval counts from the end of the data mover\'s turn', () => {
    const e = new DmaEngines(spec, 1); // issueNs 10
    e.setSource(0, 0, 5, 0);
    const r1 = e.allocRequest(), r2 = e.allocRequest();
    e.rOff[r1] = 0; e.rLeft[r1] = 100; e.rOff[r2] = 0; e.rLeft[r2] = 100;
    expect(e.admitted(0, r1, 0)).toBe(5_000);
    expect(e.admitted(0, r2, 0)).toBe(5_000 + 10_000 + 5_000);
  });

  it('reads take tags; writes take posted credits only when limited', () => {
    const e = new DmaEngines(spec, 1);
    expect(e.take(0, false)).toBe(true);
    expect(e.take(0, false)).toBe(true);
    expect(e.take(0, false)).toBe(false); // 2 tags
    e.readDone(0);
    expect(e.take(0, false)).toBe(true);
    for (let k = 0; k < 100; k++) expect(e.take(0, true)).toBe(true); // unlimited credits
    const c = new DmaEngines({ ...spec, phCredits: 1 }, 1);
    expect(c.take(0, true)).toBe(true);
    expect(c.take(0, true)).toBe(false);
    c.writeDone(0);
    expect(c.take(0, true)).toBe(true);
  });

  it('waiting requests form one line per device, oldest first, each entered once', () => {
    const e = new DmaEngines(spec, 2);
    const rs = Array.from({ length: 100 }, () => e.allocRequest()); // the pool grows past its first size
    for (const r of rs) e.waitFor(1, r);
    e.waitFor(1, rs[0]); // already waiting: not queued twice
    expect(e.waiting[1].length).toBe(100);
    expect(e.waiting[0].length).toBe(0);
    for (const r of rs) { expect(e.waitHeadRequest(1)).toBe(r); e.popWait(1); }
    expect(e.waiting[1].length).toBe(0);
  });

  it('pending trace records come out in order; slots are reused', () => {
    const e = new DmaEngines(spec, 1);
    for (let i = 0; i < 200; i++) e.enqueueRecord(0, i);
    for (let i = 0; i < 200; i++) expect(e.dequeueRecord(0)).toBe(i);
    const p = e.allocPiece();
    e.freePiece(p);
    expect(e.allocPiece()).toBe(p);
  });
});
