/**
 * Time around the functional IOMMU: the functional model decides hits, misses, walks and faults;
 * this adds when. Lookups take IOMMU clock cycles (aligned to its edges); a miss waits for a
 * walker slot (`iommu.walker.slots`) and each walk read goes through the memory model; a lookup
 * that finds an entry whose walk is still in flight waits for it and counts as a merged miss, not a
 * second walk. Invalidations occupy the invalidation unit (`iommu.invalidation.descriptorNs` per
 * queued descriptor, the wait descriptor included) and DMAs of the domain wait until it completes.
 * Times in ps.
 */
import { Iommu, MODE_OFF } from './iommu.js';
import type { Config } from '../config/config.js';
import type { MemoryTiming } from '../memory/memory.js';
import { Clock } from '../sim/queue.js';
import { Histogram } from '../sim/stats.js';

export class IommuTiming {
  readonly clock: Clock;
  private readonly iotlbPs: number;
  private readonly pwcPs: number;
  private readonly ctxPs: number;
  private readonly descPs: number;
  private readonly walkerFree: Float64Array;
  /** Ready time of each IOTLB entry (per page-size array), set when its walk completes. */
  private readonly ready: Float64Array[];
  private readonly blockedUntil = new Float64Array(65536);
  private invFree = 0;
  mergedMisses = 0;
  invalidationStalls = 0;
  invalidationStallPs = 0;
  walkerWaitPs = 0;
  readonly walkLatency = new Histogram();
  private lastInvCount = 0;

  constructor(readonly iommu: Iommu, cfg: Readonly<Config>, private readonly mem: MemoryTiming) {
    this.clock = new Clock(cfg.iommu.clockMHz * 1e6);
    const c = (n: number) => this.clock.cycles(n);
    this.iotlbPs = c((cfg.iommu.iotlb as unknown as { latencyCycles: number }).latencyCycles);
    this.pwcPs = c((cfg.iommu.pwc as unknown as { latencyCycles: number }).latencyCycles);
    this.ctxPs = c((cfg.iommu.contextCache as unknown as { latencyCycles: number }).latencyCycles);
    this.descPs = Math.round(cfg.iommu.invalidation.descriptorNs * 1000);
    this.walkerFree = new Float64Array(cfg.iommu.walker.slots);
    this.ready = [iommu.iotlb4k, iommu.iotlb2m, iommu.iotlb1g].map((a) => new Float64Array(a.entries));
    this.lastInvCount = this.invCount();
  }

  private invCount(): number {
    const v = this.iommu.inv;
    return v.iotlb + v.devtlb + v.context + v.pasid + v.wait;
  }

  /**
   * Translate one 4 KiB page of a request arriving at the IOMMU at t. Returns the time the
   * translation is ready, or -1 on a fault.
   */
  translate(t: number, sid: number, pasid: number, pn: number, isWrite: boolean): number {
    const iommu = this.iommu;
    if (iommu.mode === MODE_OFF) { iommu.translate(sid, pasid, pn, isWrite); return t; }
    let now = this.clock.align(t);
    iommu.advance(now / 1000); // lazy flush-queue timeouts
    this.chargeInvalidations(now);
    const did = iommu.domainOf(sid);
    if (did >= 0 && this.blockedUntil[did] > now) {
      this.invalidationStalls++;
      this.invalidationStallPs += this.blockedUntil[did] - now;
      now = this.blockedUntil[did];
    }
    const ctxBefore = iommu.contextReads;
    const readsBefore = iommu.walkReads;
    const frame = iommu.translate(sid, pasid, pn, isWrite);
    now += this.ctxPs;
    const ctxReads = iommu.contextReads - ctxBefore;
    for (let k = 0; k < ctxReads; k++) now = this.mem.walkRead(now);
    if (frame < 0) return -1;
    if (iommu.lastAtsHit) return now;
    const arr = iommu.lastIotlbArray;
    if (arr < 0) return now; // pass-through context: no IOTLB
    now += this.iotlbPs;
    const slot = iommu.lastIotlbSlot;
    if (!iommu.lastWalked) {
      const r = this.ready[arr][slot];
      if (r > now) { this.mergedMisses++; now = r; }
      return now;
    }
    now += this.pwcPs;
    // a walker slot: the one free soonest
    const wf = this.walkerFree;
    let k = 0;
    for (let i = 1; i < wf.length; i++) if (wf[i] < wf[k]) k = i;
    const start = wf[k] > now ? wf[k] : now;
    this.walkerWaitPs += start - now;
    const reads = iommu.walkReads - readsBefore - ctxReads;
    let tt = start;
    for (let i = 0; i < reads; i++) tt = this.mem.walkRead(tt);
    wf[k] = tt;
    this.ready[arr][slot] = tt;
    this.walkLatency.record(tt - now + this.pwcPs + this.iotlbPs);
    return tt;
  }

  /**
   * Charge the invalidation descriptors the functional model issued since the last call (strict
   * unmaps, lazy flushes, `inv` records) to the invalidation unit at t; the domain's DMAs wait.
   */
  chargeInvalidations(t: number, did = -1): number {
    const n = this.invCount();
    const d = n - this.lastInvCount;
    if (d === 0) return t;
    this.lastInvCount = n;
    const start = t > this.invFree ? t : this.invFree;
    this.invFree = start + d * this.descPs;
    if (did >= 0) { if (this.blockedUntil[did] < this.invFree) this.blockedUntil[did] = this.invFree; }
    else this.blockedUntil.fill(this.invFree); // unknown domain (a flush from advance()): every domain
    return this.invFree;
  }
}
