/**
 * Time around the functional IOMMU: the functional model decides hits, misses, walks and faults;
 * this adds when. Lookups take IOMMU clock cycles (aligned to its edges). A miss is a pipelined
 * fixed latency (`iommu.walker.latencyNs`: any number of misses overlap in it) followed by the
 * page-walk stage of its remapping unit (DRHD): `iommu.walker.slots` walks at once per unit, each
 * holding its slot for `iommu.walker.stepNs` plus its page-table reads one after another, each read
 * timed by the memory model (LLC or DRAM); more misses queue for a slot. A lookup that finds an
 * entry whose walk is still in flight waits for it and counts as a merged miss, not a second walk. Invalidations occupy the invalidation unit (`iommu.invalidation.descriptorNs` per
 * queued descriptor, the wait descriptor included); DMAs that need the entries being invalidated
 * (the range of a page-selective invalidation; anything of the domain for a domain-wide one) wait
 * until it completes.
 * Times in ps.
 */
import { Iommu, MODE_OFF } from './iommu.js';
import type { IommuTimingSpec } from '../config/knobs/iommu.js';
import type { MemoryTiming } from '../memory/memory.js';
import { Clock } from '../kernel/queue.js';
import { Histogram } from '../kernel/stats.js';

export class IommuTiming {
  readonly clock: Clock;
  private readonly iotlbPs: number;
  private readonly pwcPs: number;
  private readonly ctxPs: number;
  private readonly descPs: number;
  private readonly walkFixedPs: number;
  private readonly walkStepPs: number;
  private readonly slots: number;
  get slotsPerUnit(): number { return this.slots; }
  /** Per remapping unit, per slot of its page-walk stage: when the slot is free (ps). */
  private readonly stageFree: Float64Array;
  /** Per remapping unit: time its walk-stage slots were held (ps), and walks. */
  readonly stageBusyPs: Float64Array;
  readonly stageWalks: Float64Array;
  /** Ready time of each IOTLB entry (per page-size array), set when its walk completes. */
  private readonly ready: Float64Array[];
  /** Invalidations in progress: domain (-1: all), page range [lo, hi), completion time (ps). */
  private readonly invDid = new Int32Array(64);
  private readonly invLo = new Float64Array(64);
  private readonly invHi = new Float64Array(64);
  private readonly invDone = new Float64Array(64);
  private invCountActive = 0;
  private invFree = 0;
  mergedMisses = 0;
  invalidationStalls = 0;
  invalidationStallPs = 0;
  /** Time misses waited for a slot of the page-walk stage (ps). */
  walkerWaitPs = 0;
  readonly walkLatency = new Histogram();
  private lastInvCount = 0;

  /**
   * `spec`: the timing knobs of the IOMMU (a resolved config's `iommu` section is one), validated
   * by the config's resolver. `units`: remapping units (DRHDs) the devices are behind (translate's
   * `unit` is below it).
   */
  constructor(readonly iommu: Iommu, spec: Readonly<IommuTimingSpec>, private readonly mem: MemoryTiming, readonly units = 1) {
    this.clock = new Clock(spec.clockMHz * 1e6);
    const c = (n: number) => this.clock.cycles(n);
    this.iotlbPs = c(spec.iotlb.latencyCycles);
    this.pwcPs = c(spec.pwc.latencyCycles);
    this.ctxPs = c(spec.contextCache.latencyCycles);
    this.descPs = Math.round(spec.invalidation.descriptorNs * 1000);
    this.walkFixedPs = Math.round(spec.walker.latencyNs * 1000);
    this.walkStepPs = Math.round(spec.walker.stepNs * 1000);
    this.slots = spec.walker.slots;
    this.stageFree = new Float64Array(units * this.slots);
    this.stageBusyPs = new Float64Array(units);
    this.stageWalks = new Float64Array(units);
    this.ready = [iommu.iotlb4k, iommu.iotlb2m, iommu.iotlb1g].map((a) => new Float64Array(a.entries));
    this.lastInvCount = this.invCount();
  }

  private invCount(): number {
    const v = this.iommu.inv;
    return v.iotlb + v.devtlb + v.context + v.pasid + v.wait;
  }

  /** The least time translate() adds (ps): the context-cache lookup, unless the IOMMU is off. */
  get minTranslatePs(): number {
    return this.iommu.mode === MODE_OFF ? 0 : this.ctxPs;
  }

  /**
   * The time in and out of translate(), in ps. A double passed to or returned from a call V8
   * does not inline is boxed in a fresh heap number; through this array it is not.
   */
  readonly io = new Float64Array(1);

  /**
   * Translate one 4 KiB page of a request arriving at the IOMMU at io[0], from a device behind
   * remapping unit `unit`. Returns 0 and sets io[0] to the time the translation is ready, or
   * returns -1 on a fault.
   */
  translate(sid: number, pasid: number, pn: number, isWrite: boolean, unit: number): number {
    const iommu = this.iommu;
    const io = this.io;
    if (iommu.mode === MODE_OFF) { iommu.translate(sid, pasid, pn, isWrite); return 0; }
    let now = this.clock.align(io[0]);
    iommu.advance(now / 1000); // lazy flush-queue timeouts
    if (this.invCount() !== this.lastInvCount) this.chargeInvalidations(now);
    if (this.invCountActive > 0) {
      // a DMA that needs entries an invalidation in progress drops waits for it to complete
      const did = iommu.domainOf(sid);
      const until = this.invalidatedUntil(did, pn, now);
      if (until > now) {
        this.invalidationStalls++;
        this.invalidationStallPs += until - now;
        now = until;
      }
    }
    const ctxBefore = iommu.contextReads;
    const readsBefore = iommu.walkReads;
    const frame = iommu.translate(sid, pasid, pn, isWrite);
    now += this.ctxPs;
    const ctxReads = iommu.contextReads - ctxBefore;
    for (let k = 0; k < ctxReads; k++) now = this.mem.walkRead(now);
    if (frame < 0) return -1;
    io[0] = now;
    if (iommu.lastAtsHit) return 0;
    const arr = iommu.lastIotlbArray;
    if (arr < 0) return 0; // pass-through context: no IOTLB
    now += this.iotlbPs;
    const slot = iommu.lastIotlbSlot;
    if (!iommu.lastWalked) {
      const r = this.ready[arr][slot];
      if (r > now) { this.mergedMisses++; now = r; }
      io[0] = now;
      return 0;
    }
    const t0 = now;
    now += this.pwcPs + this.walkFixedPs;
    // the unit's page-walk stage: the slot free soonest
    const sf = this.stageFree;
    const base = unit * this.slots;
    let k = base;
    for (let i = base + 1; i < base + this.slots; i++) if (sf[i] < sf[k]) k = i;
    const start = sf[k] > now ? sf[k] : now;
    this.walkerWaitPs += start - now;
    const reads = iommu.walkReads - readsBefore - ctxReads;
    let tt = start + this.walkStepPs;
    for (let i = 0; i < reads; i++) tt = this.mem.walkRead(tt);
    sf[k] = tt;
    this.stageBusyPs[unit] += tt - start;
    this.stageWalks[unit]++;
    this.ready[arr][slot] = tt;
    this.walkLatency.record(tt - t0 + this.iotlbPs);
    io[0] = tt;
    return 0;
  }

  /** Latest completion of an invalidation in progress that covers (did, pn); prunes finished ones. */
  private invalidatedUntil(did: number, pn: number, now: number): number {
    let until = 0;
    let n = 0;
    for (let k = 0; k < this.invCountActive; k++) {
      if (this.invDone[k] <= now) continue; // finished: drop
      if (k !== n) { this.invDid[n] = this.invDid[k]; this.invLo[n] = this.invLo[k]; this.invHi[n] = this.invHi[k]; this.invDone[n] = this.invDone[k]; }
      if ((this.invDid[n] < 0 || this.invDid[n] === did) && pn >= this.invLo[n] && pn < this.invHi[n] && this.invDone[n] > until) until = this.invDone[n];
      n++;
    }
    this.invCountActive = n;
    return until;
  }

  /**
   * Charge the invalidation descriptors the functional model issued since the last call (strict
   * unmaps, lazy flushes, `inv` records) to the invalidation unit at t. DMAs of domain `did` to
   * pages [lo, hi) — the entries being dropped — wait until it completes (did < 0 or no range:
   * a domain-wide flush, every page of every domain). Returns the completion time.
   */
  chargeInvalidations(t: number, did = -1, lo = 0, hi = 2 ** 53): number {
    const n = this.invCount();
    const d = n - this.lastInvCount;
    if (d === 0) return t;
    this.lastInvCount = n;
    const start = t > this.invFree ? t : this.invFree;
    this.invFree = start + d * this.descPs;
    let k = this.invCountActive;
    if (k === this.invDone.length) {
      // full: drop finished entries, else widen the oldest to cover this one too
      this.invalidatedUntil(-2, -1, t);
      k = this.invCountActive;
      if (k === this.invDone.length) { this.invDid[0] = -1; this.invLo[0] = 0; this.invHi[0] = 2 ** 53; this.invDone[0] = this.invFree; return this.invFree; }
    }
    this.invDid[k] = did; this.invLo[k] = lo; this.invHi[k] = hi; this.invDone[k] = this.invFree;
    this.invCountActive = k + 1;
    return this.invFree;
  }
}
