/**
 * The root complex between the PCIe links and host memory: it translates each request's pages
 * through the IOMMU (one translation per 4 KiB page per request; the page's later pieces ride on
 * it), keeps the PCIe ordering rules of its ports, runs posted writes through its serial write
 * unit, and does the memory access of reads and writes. Every method takes the time a piece
 * arrives and returns when its work is done; nothing here keeps events.
 *
 * Ordering (PCIe base specification, ordering table; as summarised in vendors' guides):
 * - A posted write may not pass an earlier posted write of its ordering domain: it commits (becomes
 *   visible, and goes on to memory) no earlier than every earlier write of the domain has. A write
 *   whose translation misses thus holds up the younger writes behind it, and they keep their
 *   write-buffer lines meanwhile. Relaxed Ordering lifts this for the write that carries it.
 * - A read request may not pass an earlier posted write: its memory access waits until the earlier
 *   writes of its domain have committed (not with Relaxed Ordering). Reads may pass reads: a read
 *   whose translation misses holds up nobody.
 * - An ordering domain is a port (all requesters on one link), or a single requester when it uses
 *   ID-based ordering (TLPs of different requesters may then pass each other).
 * Write buffer: each port (link) has `writeLines` lines of 64 B. A write takes a line for every
 * line it touches when it arrives and holds them until its data is written to memory — through
 * its translation, any ordering wait and the memory write; when too few are free it waits at the
 * port's ingress, first come first served, and so does every write of the port behind it.
 * Whole lines: memory is read and owned a 64 B line at a time. A read fetches every line it
 * touches, a partial one whole. A write that covers a line only in part cannot just claim it: the
 * IIO reads the line for ownership (an RFO, moving its data into the IIO) when the write arrives
 * and merges the write into it, where a full line is claimed without its data (PCIItoM) —
 * Intel's uncore event descriptions (Linux tools/perf/pmu-events, IRP UNC_I_COHERENT_OPS.RFO vs
 * .PCITOM). The write commits no sooner than that line's data is in.
 * Translation is not ordered: the IOMMU looks up (and walks for) a younger write while an older
 * one is still walking; only the commit waits. pcie-bench's strictly ordered 64 B writes run at
 * 21.9 M misses/s on Broadwell, far above one miss latency at a time (src/rc/README.md).
 *
 * Times in ps; state in typed arrays.
 */
import type { IommuTiming } from '../iommu/timing.js';
import type { MemoryTiming } from '../memory/memory.js';
import { EventQueue } from '../kernel/queue.js';
import { KindCounts } from '../iommu/kinds.js';
import { growTyped } from '../util/typed.js';
import type { RcSpec } from '../config/knobs/rc.js';

/** Lines of 64 B a write of `bytes` at byte offset `off` touches. */
export function linesOf(off: number, bytes: number): number {
  return ((off + bytes + 63) >>> 6) - (off >>> 6);
}

/**
 * The root complex's spec: the `rc.*` knobs (rc.readNs: processing of a read before its memory
 * access, ns; rc.postedWriteNs: the serial posted-write unit's time per write TLP, ns;
 * rc.writeLines: each port's write buffer in 64 B lines, 0 unlimited), typed from their table
 * (src/config/knobs/rc.ts); a resolved config's `rc` section is one.
 */
export type RootComplexSpec = RcSpec;

export class RootComplex {
  readonly readPs: number;
  readonly writePs: number;
  /** When the posted-write unit is free: it takes write TLPs in arrival order. */
  private writeFree = 0;
  /** Per ordering domain: the latest commit time of its posted writes so far. */
  private readonly lastCommit: Float64Array;
  private readonly linesLimited: boolean;
  /** Per port: free write-buffer lines (as of the last write's start), when its last write got its lines, and its lines' returns (time, count). */
  private readonly freeLines: Int32Array;
  private readonly lineFree: Float64Array;
  private readonly lineReturns: EventQueue[];
  /** Writes that waited at a port's ingress for write-buffer lines, and the time (ps). */
  lineStalls = 0;
  lineStallPs = 0;
  /** Per request slot: the page translated last and when its translation is ready (-1: faulted). */
  private transPn = new Float64Array(0);
  private transReady = new Float64Array(0);
  /** Translations done (one per page per request). */
  translations = 0;
  /** The IOMMU's work by kind of DMA, counted at each translation. */
  readonly kinds = new KindCounts();
  /** Writes that waited to commit behind an earlier write of their domain, and the time (ps). */
  writeOrderStalls = 0;
  writeOrderStallPs = 0;
  /** Reads that waited for earlier writes of their domain to commit, and the time (ps). */
  readOrderStalls = 0;
  readOrderStallPs = 0;
  /** Partly written lines read for ownership (see `write`). */
  rfoLines = 0;
  /** Time the posted-write unit was busy (ps). */
  writeUnitBusyPs = 0;
  /** Time writes waited for their own translation after the write unit was done with them (ps). */
  writeTranslationWaitPs = 0;
  /** The time out of translate() (a double passed through an array is not boxed). */
  readonly io = new Float64Array(1);

  constructor(spec: Readonly<RootComplexSpec>, readonly iommuT: IommuTiming, readonly mem: MemoryTiming, domains: number, ports: number) {
    this.readPs = Math.round(spec.readNs * 1000);
    this.writePs = Math.round(spec.postedWriteNs * 1000);
    this.lastCommit = new Float64Array(domains);
    this.linesLimited = spec.writeLines > 0;
    this.freeLines = new Int32Array(ports).fill(spec.writeLines);
    this.lineFree = new Float64Array(ports);
    this.lineReturns = Array.from({ length: this.linesLimited ? ports : 0 }, () => new EventQueue(256));
  }

  /**
   * When a write needing `need` lines that reaches port `port` at `t` gets them: no earlier than
   * the port's previous write did (first come first served), and once enough earlier writes have
   * returned theirs. Every earlier write's return time is known (writes are taken in arrival order).
   */
  private takeLines(port: number, need: number, t: number): number {
    const q = this.lineReturns[port];
    let at = t > this.lineFree[port] ? t : this.lineFree[port];
    let free = this.freeLines[port];
    while (q.peekTime() <= at) { q.pop(); free += q.arg; }
    while (free < need) {
      if (!q.pop()) break; // more lines than the buffer holds: take what there is (validated away)
      if (q.now > at) at = q.now;
      free += q.arg;
    }
    if (at > t) { this.lineStalls++; this.lineStallPs += at - t; }
    this.freeLines[port] = free - need;
    this.lineFree[port] = at;
    return at;
  }

  /** Room for request slots below `cap` (the engine's pool grew). */
  ensureRequests(cap: number): void {
    if (this.transPn.length < cap) {
      this.transPn = growTyped(this.transPn, cap);
      this.transReady = growTyped(this.transReady, cap);
    }
  }

  /** Request slot r starts a new request: nothing translated yet. */
  newRequest(r: number): void {
    this.transPn[r] = -1;
  }

  /**
   * Translation of page pn for a piece of request r (a DMA of `kind`) arriving at `now`: the
   * page's translation is done by the first piece that needs it, and counted by kind. Returns 0 and sets io[0] to when it is ready, or -1 on a
   * fault (the request's later pieces fault too: the caller marks it).
   */
  translate(r: number, sid: number, pasid: number, pn: number, isWrite: boolean, unit: number, now: number, kind: number): number {
    if (pn !== this.transPn[r]) {
      this.transPn[r] = pn;
      this.translations++;
      const it = this.iommuT;
      it.io[0] = now;
      this.kinds.before(it.iommu);
      const f = it.translate(sid, pasid, pn, isWrite, unit);
      this.kinds.after(it.iommu, kind);
      if (f < 0) { this.transReady[r] = -1; return -1; }
      this.transReady[r] = it.io[0];
      this.io[0] = it.io[0];
      return 0;
    }
    const tr = this.transReady[r];
    if (tr < 0) return -1;
    this.io[0] = tr > now ? tr : now;
    return 0;
  }

  /**
   * A posted write of `bytes` at page offset `off` that reached port `port` at `arrive`, whose
   * translation is ready at `ready`: write-buffer lines (when limited), the write unit (serial, in
   * arrival order), the read for ownership of a partly written line (from the LLC when `warm`,
   * else DRAM; issued on arrival), committed in order within ordering domain `dom` (unless
   * `relaxed`), then written to memory (the LLC with DDIO, else DRAM). Returns when the memory
   * write is done — when its lines return.
   */
  write(bytes: number, off: number, arrive: number, ready: number, dom: number, relaxed: boolean, port: number, warm = true): number {
    let need = 0;
    if (this.linesLimited) {
      need = linesOf(off, bytes);
      arrive = this.takeLines(port, need, arrive);
    }
    const unitStart = arrive > this.writeFree ? arrive : this.writeFree;
    const unitDone = unitStart + this.writePs;
    this.writeFree = unitDone;
    this.writeUnitBusyPs += this.writePs;
    let commit = unitDone;
    const end = off + bytes;
    if (((off | end) & 63) !== 0) {
      // partly written lines, the first and the last (a write inside one line: that one)
      const first = off >>> 6, last = (end - 1) >>> 6;
      const partial = ((off & 63) !== 0 || (first === last && (end & 63) !== 0) ? 1 : 0) + (last !== first && (end & 63) !== 0 ? 1 : 0);
      const owned = this.mem.access(arrive, 64 * partial, warm);
      this.rfoLines += partial;
      if (owned > commit) commit = owned;
    }
    if (ready > commit) { this.writeTranslationWaitPs += ready - commit; commit = ready; }
    const last = this.lastCommit[dom];
    if (!relaxed && last > commit) {
      this.writeOrderStalls++;
      this.writeOrderStallPs += last - commit;
      commit = last;
    }
    if (commit > last) this.lastCommit[dom] = commit;
    const done = this.mem.access(commit, bytes, this.mem.ddio);
    if (need > 0) this.lineReturns[port].push(done, 0, need);
    return done;
  }

  /**
   * A read of `bytes` at page offset `off` whose translation is ready at `ready`: after the earlier
   * posted writes of domain `dom` have committed (unless `relaxed`), the root complex's read time
   * and the memory access of every line it touches, whole (LLC when `warm`; the lines are fetched
   * together). Returns when its data is ready to send downstream.
   */
  read(bytes: number, warm: boolean, ready: number, dom: number, relaxed: boolean, off = 0): number {
    let start = ready;
    const last = this.lastCommit[dom];
    if (!relaxed && last > start) {
      this.readOrderStalls++;
      this.readOrderStallPs += last - start;
      start = last;
    }
    return this.mem.access(start + this.readPs, 64 * linesOf(off, bytes), warm);
  }
}
