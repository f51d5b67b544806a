/**
 * The timed DMA path, wired: device DMA engines (src/devices/engine) → PCIe links (src/pcie) →
 * root complex (src/rc: translation through the IOMMU's timing, PCIe ordering, the posted-write
 * unit, memory) → back, on one event queue in integer picoseconds. Requests come from a trace
 * (each `dma` record arrives at its time_ns; map/unmap/inv happen at theirs) or from a generator
 * that keeps the engine full (closed loop, the pcie-bench method).
 *
 * Per request: the engine admits it when fewer than device.dmaEngine.maxInFlight (or the
 * source's contexts) are in flight, and issues it once its data mover (when the source models one)
 * and issue interval allow; then splits it into TLP pieces; a piece is sent when its flow-
 * control resources are free (a tag for a read; for a write a posted credit and root-port write
 * lines, each when limited). Each piece is serialized upstream, then the root complex translates
 * it, orders it and does its memory access; read completions are serialized downstream. A request
 * completes when its last piece does, plus device.dmaEngine.latencyNs.
 *
 * This file keeps the events (one switch), the trace and generator inputs, the unmap gate and the
 * shortcuts that save events exactly (write groups, eager root complex); the components keep their
 * own state. State lives in typed arrays indexed by request and piece slots; events carry a slot.
 */
import { EventQueue, Clock } from '../kernel/queue.js';
import { Histogram } from '../kernel/stats.js';
import { PageCounter } from './pagecount.js';
import { WaitList } from '../kernel/waitlist.js';
import { Iommu } from '../iommu/iommu.js';
import { IommuTiming } from '../iommu/timing.js';
import { MemoryTiming } from '../memory/memory.js';
import { PcieLinkTiming, WM_UP, WM_DOWN, WM_TLPS_UP, WM_TLPS_DOWN, WM_UP_PS, WM_DOWN_PS } from '../pcie/port.js';
import { pcieSpec, deviceSettings, type Config } from '../config/config.js';
import { DmaEngines } from '../devices/engine/engine.js';
import { RootComplex } from '../rc/root-complex.js';
import { KindCounts } from '../iommu/kinds.js';
import {
  type TraceColumns, type TraceChunks, OP_DMA, OP_UNMAP, OP_INV, DIR_WRITE, SIZE_ALL, INV_CONTEXT, INV_GLOBAL, pageOf, recordPages, pagesTouched, allocColumns, copyRow,
} from '../trace/columns.js';
import { deviceSourceIds } from '../config/bdf.js';
import { applyControl } from '../iommu/control.js';
import type { RequestSource } from '../devices/source.js';
import { TIMING_STATS, type TimingMetrics, type TimingView } from './stats.js';

const EV_TRACE = 1;
const EV_ADMIT = 2; // arg: device — admit pending requests
const EV_ISSUE = 3; // arg: request — issue its pieces
const EV_AT_RC = 4; // arg: piece
const EV_DATA = 5; // arg: piece — read data ready at the root complex
const EV_CPL = 6; // arg: piece — completions arrived at the device
const EV_WDONE = 7; // arg: piece — write retired to memory
const EV_FAULT = 8; // arg: piece — a faulted piece at the root complex (eager mode: see `eagerRc`)
const EV_READBACK = 9; // arg: request — the read of a write-then-read enters the engine (see `readBack`)
/**
 * Order of the kinds at equal times (then insertion order): by kind, except that a faulted piece
 * at the root complex ranks as the root-complex event it stands for. A fixed order, so the events
 * the eager root complex pushes at issue rather than at arrival (see `eager`) meet the other
 * kinds in the same order as the same events pushed at arrival would.
 */
const RANKS = [0, EV_TRACE, EV_ADMIT, EV_ISSUE, EV_AT_RC, EV_DATA, EV_CPL, EV_WDONE, EV_AT_RC, EV_ADMIT];
/** Reads after which sending data early stops for the run unless half went out at once. */
const EARLY_TRIAL = 4096;
/** Waiting records looked at per completion; past this many a device's later records queue in order. */
const WAIT_SCAN = 32;
/**
 * Pieces a request issues in one go; a larger request issues the rest when the link has sent them
 * (an EV_ISSUE then), so a DMA that faults stops within a batch of its fault instead of queueing
 * all its pieces first (a 2^40-byte write is 4 G pieces). Above every shipped workload's requests.
 */
const ISSUE_BATCH = 4096;

/** Mask of whole-trace runs: a record's index is its place (traces below 2^31 records). */
const RING_WHOLE = 0x7fffffff;
/** Records ahead of the cursor searched for the next map / unmap / inv (see `nextControl`). */
const CTL_AHEAD = 4096;

export type { TraceChunks } from '../trace/columns.js';

export type { RequestSource } from '../devices/source.js';

export type { TimingMetrics } from './stats.js';

export class TimedSystem {
  readonly q = new EventQueue(4096, RANKS);
  readonly iommu: Iommu;
  readonly iommuT: IommuTiming;
  readonly mem: MemoryTiming;
  readonly rc: RootComplex;
  readonly eng: DmaEngines;
  readonly links: PcieLinkTiming[] = [];
  private readonly cfg: Readonly<Config>;
  private readonly mrrs: number;
  private readonly mps: number;

  // devices
  readonly devNames: string[];
  private readonly devSid: Int32Array;
  private readonly devLink: Int32Array;
  /** Remapping unit (DRHD) of each device: whose page-walk stage its misses use. */
  private readonly devUnit: Int32Array;
  /** Ordering domain of each device: its link's, or its own with ID-based ordering. */
  private readonly devDom: Int32Array;
  /** The device sets Relaxed Ordering on its requests. */
  private readonly devRelaxed: Uint8Array;
  /**
   * Write pieces of one request on one page, issued together, are handled as a group: the
   * full-size (MPS) pieces before the page's last piece are one run piece, whose event at the
   * root complex does the work of each of them as of its own arrival, and only the last piece has
   * an event of its own and a completion event. The run's pieces all have the same wire cost (a
   * piece's TLP depends only on its size, its address modulo 4 and whether it is above 4 GiB), so
   * they are serialized on the link in one call and their arrivals are the first's plus multiples
   * of one serialization time. Exact (the same results as an event per piece) when there is one
   * link and posted credits are unlimited: the link is FIFO, so nothing else reaches the root
   * complex between the group's pieces, and the state they touch (the posted-write unit, the
   * ordering domain, the DRAM serializer, the request's translation) is touched only there; a piece
   * returns no credit or line, and the pieces' completion times rise (they commit in order), so the
   * last piece's completion is the request's.
   */
  private readonly groupWrites: boolean;
  private readonly gateRescanAlways: boolean;
  private readonly eagerRcAllowed: boolean;
  /**
   * Eager root complex (closed-loop generator of one direction, one device on one link): a
   * piece's root-complex work is done at its issue, as of its arrival, with no event at the root
   * complex; read data safe to send is sent there at once. Why that is exact, and when a run is
   * redone without it (`eagerRerun`): src/sim/README.md, "Eager root complex" (the argument is
   * written there once).
   */
  private eager = false;
  /**
   * Eager root complex in trace replay (one device on one link), piece by piece: a piece's
   * root-complex work is done at issue, as of its arrival, when no map / unmap / inv record is due
   * by then (`ctlNextPs`) and none waits at the unmap gate; pending root-complex work is done
   * first (drainRc). Why that is exact: src/sim/README.md, "Eager root complex in trace replay".
   */
  private eagerTrace = false;
  /**
   * Pieces whose root-complex event is pending with its work not yet done (trace replay), in
   * arrival order (one FIFO link): a ring of piece slots and their arrival times. A piece that
   * may go eager first does these pieces' work, in order, as of their arrivals (see eagerTrace).
   */
  private rcPending = 0;
  private rcHead = 0;
  private rcRing = new Int32Array(64);
  private rcAt = new Float64Array(64);
  /** Index and time (ps) of the next map / unmap / inv record not yet reached by the cursor (-1, Infinity: none). */
  private ctlIdx = -1;
  private ctlNextPs = Infinity;
  /** Eager mode could not be exact (a fault, or data sent early out of order): run again without it. */
  eagerRerun = false;
  /** A read ready within this many ps of its arrival is sent at the root complex (see `eager`; -1: never). */
  private shortcutPs = -1;
  private readonly shortcutSlackPs: number;
  /**
   * Sending data early is worth it only when most reads go out at once: a read queued and sent
   * early later costs more than its event. After EARLY_TRIAL reads, if fewer than half went out
   * at once, it stops for the run (the trial's length is an option for tests; data already sent early keeps its skip marks; the check on
   * later pieces stays).
   */
  private earlyOn = false;
  private readonly earlyTrial: number;
  private earlyDirect = 0;
  private earlyQueued = 0;
  /** Read pieces whose data went out at the root complex (tests look). */
  dataSentEarly = 0;
  /** Latest ready time of read data sent at the root complex. */
  private shortMax = -Infinity;
  /** Queued read data not yet sent: (ready time, piece) in the order its data-ready events pop. */
  private readonly pendingData = new EventQueue(64);
  /** Per piece: its data went out early; its data-ready event does nothing. */
  private pSent = new Uint8Array(0);
  /** DMAs of the device queued and completed so far (trace mode), for the unmap barrier. */
  private readonly devQueued: Float64Array;
  private readonly devDone: Float64Array;
  /**
   * The unmap gate, per device: a driver unmaps a buffer after the device reports the DMAs to it
   * complete. An unmap that finds DMAs of its device to its pages still queued or in flight waits
   * for them, and every later record of that device waits behind it, in trace order — so a reused
   * IOVA is never mapped before its unmap, and a device that falls behind slows its own trace down
   * (back-pressure) instead of faulting. `outstanding` counts queued + in-flight DMAs per page.
   */
  private readonly outstanding = new PageCounter(4096);
  /** The trace has unmap records: only then can the gate close, so only then are pages counted. */
  private countPages = false;
  /** Per device, records waiting (in trace order): gated unmaps and the records that touch their pages. */
  private readonly waiting: WaitList[];
  /** Records that had to wait at the gate, and the time they waited (ps). */
  gatedRecords = 0;
  gateWaitPs = 0;

  // trace / generator
  /**
   * The trace records in reach: the whole trace (runTrace), or a ring of the records still needed
   * (runTraceChunks: from the oldest record a device still holds — pending at its engine or waiting
   * at the unmap gate — to the last loaded). Records are named by their index in the whole trace
   * everywhere (queues, latency records); `rec & mask` is where one sits.
   */
  private trace: TraceColumns | null = null;
  private mask = RING_WHOLE;
  /** Records loaded so far (the next index to load), and whether the source has ended. */
  private loaded = 0;
  /** Records read from the trace so far (all of them once a run ends). */
  get recordsLoaded(): number { return this.loaded; }
  private sourceDone = true;
  private chunks: TraceChunks | null = null;
  /** Times the ring of a streamed run had to grow (tests look). */
  ringGrowths = 0;
  /** The ring's size in records (tests look). */
  get ringRecords(): number { return this.mask + 1; }
  /** What the loaded records hold (streamed runs report them): op counts, DMA reads/writes/bytes, first/last time. */
  readonly inputCounts = { ops: new Float64Array(4), reads: 0, writes: 0, bytes: 0, firstNs: NaN, lastNs: NaN };
  private cursor = 0;
  private source: RequestSource | null = null;
  private readonly gen = new Float64Array(6);

  // stats
  /** All requests' latencies: the per-device histograms merged (each request is recorded once). */
  get latency(): Histogram {
    const h = new Histogram();
    for (const d of this.devLatency) h.merge(d);
    return h;
  }
  private readonly devLatency: Histogram[];
  private readonly devBytes: Float64Array;
  private readonly devRequests: Float64Array;
  private readonly devDropped: Float64Array;
  private readonly devFirst: Float64Array;
  private readonly devLast: Float64Array;
  // Totals over the devices, from the per-device figures (the hot path keeps only those; all are
  // integers or extremes, so the sums are exact in any order).
  private sumOf(a: Float64Array): number { let x = 0; for (let d = 0; d < a.length; d++) x += a[d]; return x; }
  get firstStart(): number { let x = Infinity; for (let d = 0; d < this.devFirst.length; d++) if (this.devFirst[d] < x) x = this.devFirst[d]; return x; }
  get lastDone(): number { let x = 0; for (let d = 0; d < this.devLast.length; d++) if (this.devLast[d] > x) x = this.devLast[d]; return x; }
  get doneBytes(): number { return this.sumOf(this.devBytes); }
  get doneRequests(): number { return this.sumOf(this.devRequests); }
  get dropped(): number { return this.sumOf(this.devDropped); }
  get translations(): number { return this.rc.translations; }
  /** The IOMMU's work by kind of DMA (the trace's kind column; generated requests are data). */
  get kinds(): KindCounts { return this.rc.kinds; }
  /** Per-request latencies in ps, in completion order, when asked for (tests, exports). */
  readonly latencies: number[] | null;
  /** With `latencies`: the trace record index of each (-1 for generated requests). */
  readonly latencyRecords: number[] | null;

  constructor(cfg: Readonly<Config>, devices: string[], iommu?: Iommu, opts: { recordLatencies?: boolean; /** false: an event per write piece (tests compare) */ groupWrites?: boolean; /** true: the unmap gate rescans on every completion (tests compare) */ gateRescanAlways?: boolean; /** false: a root-complex event per piece in generator runs too (tests compare; see `eager`) */ eagerRc?: boolean; /** added to the early-data bound (tests break it on purpose; see `eager`) */ shortcutSlackPs?: number; /** reads in the early-data trial (see `earlyOn`; default EARLY_TRIAL) */ earlyTrialReads?: number } = {}) {
    this.latencies = opts.recordLatencies ? [] : null;
    this.latencyRecords = opts.recordLatencies ? [] : null;
    this.cfg = cfg;
    this.iommu = iommu ?? new Iommu(cfg);
    this.mem = new MemoryTiming(cfg.memory);
    const spec = pcieSpec(cfg);
    this.mrrs = spec.mrrsBytes;
    this.mps = spec.mpsBytes;
    const n = devices.length;
    this.devNames = devices;
    this.devSid = new Int32Array(n);
    this.devLink = new Int32Array(n);
    this.devUnit = new Int32Array(n);
    this.devDom = new Int32Array(n);
    this.devRelaxed = new Uint8Array(n);
    const busLink = new Map<number, number>();
    const sids = deviceSourceIds(devices, 'trace devices');
    devices.forEach((d, i) => {
      const sid = sids[i];
      this.devSid[i] = sid;
      const bus = sid < 0 ? -1 : sid >> 8;
      let l = busLink.get(bus);
      if (l === undefined) { l = this.links.length; this.links.push(new PcieLinkTiming(spec)); busLink.set(bus, l); }
      this.devLink[i] = l;
    });
    let units = 1;
    devices.forEach((d, i) => {
      const dc = d === '*' ? null : deviceSettings(cfg, d);
      this.devUnit[i] = dc ? dc.drhd : 0;
      if (this.devUnit[i] + 1 > units) units = this.devUnit[i] + 1;
      this.devDom[i] = dc && dc.idOrdering ? this.links.length + i : this.devLink[i];
      this.devRelaxed[i] = dc && dc.relaxedOrdering ? 1 : 0;
    });
    this.iommuT = new IommuTiming(this.iommu, cfg.iommu, this.mem, units);
    this.rc = new RootComplex(cfg.rc, this.iommuT, this.mem, this.links.length + n, this.links.length);
    const e = cfg.device.dmaEngine;
    this.eng = new DmaEngines({
      maxInFlight: e.maxInFlight, latencyNs: e.latencyNs, issueNs: e.issueNs, clockMHz: cfg.device.clockMHz,
      mrrsBytes: spec.mrrsBytes, mpsBytes: spec.mpsBytes, tags: spec.tags, phCredits: spec.phCredits,
    }, n);
    this.rc.ensureRequests(this.eng.rCap);
    this.gateRescanAlways = opts.gateRescanAlways === true;
    this.eagerRcAllowed = opts.eagerRc !== false;
    this.shortcutSlackPs = opts.shortcutSlackPs ?? 0;
    this.earlyTrial = opts.earlyTrialReads ?? EARLY_TRIAL;
    this.groupWrites = opts.groupWrites !== false && !this.eng.postedLimited && this.links.length === 1;
    this.devQueued = new Float64Array(n);
    this.devDone = new Float64Array(n);
    this.waiting = devices.map(() => new WaitList());
    this.devLatency = devices.map(() => new Histogram());
    this.devBytes = new Float64Array(n);
    this.devRequests = new Float64Array(n);
    this.devDropped = new Float64Array(n);
    this.devFirst = new Float64Array(n).fill(Infinity);
    this.devLast = new Float64Array(n);
  }

  /** A request slot from the engine's pool, with the root complex's per-request state sized to it. */
  private allocRequest(): number {
    const r = this.eng.allocRequest();
    if (this.eng.rCap !== this.rcCap) { this.rc.ensureRequests(this.eng.rCap); this.rcCap = this.eng.rCap; }
    this.rc.newRequest(r);
    return r;
  }
  /** Request slots the root complex's per-request state has room for. */
  private rcCap = 0;

  // ------------------------------------------------------------------ inputs

  /** Replay a trace: records at their times. Devices must match the constructor's list (trace.devices). */
  runTrace(t: TraceColumns): void {
    if (t.count > RING_WHOLE) throw new RangeError(`a trace of ${t.count} records: replay it a chunk at a time (runTraceChunks)`);
    this.trace = t;
    this.mask = RING_WHOLE;
    this.loaded = t.count;
    this.sourceDone = true;
    this.countPages = false;
    for (let i = 0; i < t.count; i++) if (t.op[i] === OP_UNMAP) { this.countPages = true; break; }
    this.startTrace();
  }

  /**
   * Replay a trace a chunk at a time in bounded memory: only the records still needed are kept
   * (see `trace`). Gives the results of runTrace on the whole trace. Outstanding pages are counted
   * from the start (a trace read in chunks may hold unmaps further on), which changes no result.
   */
  runTraceChunks(src: TraceChunks, ringRecords = 1 << 16): void {
    this.ringGrowths = 0;
    let cap = 1024;
    while (cap < ringRecords) cap *= 2;
    this.trace = allocColumns(cap, src.devices);
    this.mask = cap - 1;
    this.loaded = 0;
    this.chunks = src;
    this.sourceDone = false;
    this.countPages = true;
    this.startTrace();
  }

  private startTrace(): void {
    this.cursor = 0;
    this.eagerTrace = this.eagerRcAllowed && this.links.length === 1 && this.devNames.length === 1;
    this.rcPending = 0;
    this.rcHead = 0;
    this.nextControl(0);
    if (this.has(0)) this.q.push(Math.round(this.trace!.timeNs[0] * 1000), EV_TRACE, 0);
    this.loop();
    this.iommu.drain();
  }

  /** Is record g in the trace (loading more when the source has it)? */
  private has(g: number): boolean {
    while (g >= this.loaded && !this.sourceDone) this.loadChunk();
    return g < this.loaded;
  }

  /** The oldest record still needed: the one being handled (just before the cursor), or one a device holds pending or waiting. */
  private oldestLive(): number {
    let m = this.cursor > 0 ? this.cursor - 1 : 0;
    for (let d = 0; d < this.devNames.length; d++) {
      const p = this.eng.pending[d], w = this.waiting[d];
      if (p.length > 0 && p.at(0) < m) m = p.at(0);
      for (let k = 0; k < w.length; k++) if (w.at(k) < m) m = w.at(k); // gated records leave out of order
    }
    return m;
  }

  /** Read the source's next chunk into the ring (growing it when the records still needed fill it). */
  private loadChunk(): void {
    const c = this.chunks!.next();
    if (c === null) { this.sourceDone = true; return; }
    const n = c.count;
    const live = this.oldestLive();
    let t = this.trace!;
    if (this.loaded + n - live > this.mask + 1) {
      let cap = this.mask + 1;
      while (this.loaded + n - live > cap) cap *= 2;
      const bigger = allocColumns(cap, t.devices);
      for (let g = live; g < this.loaded; g++) copyRow(t, g & this.mask, bigger, g & (cap - 1));
      this.trace = t = bigger;
      this.mask = cap - 1;
      this.ringGrowths++;
    }
    const ic = this.inputCounts;
    for (let k = 0; k < n; k++) {
      const g = this.loaded + k;
      copyRow(c, k, t, g & this.mask);
      const op = c.op[k];
      ic.ops[op]++;
      if (op === OP_DMA) { ic.bytes += c.size[k]; if (c.dir[k] === DIR_WRITE) ic.writes++; else ic.reads++; }
    }
    if (n > 0) {
      if (Number.isNaN(ic.firstNs)) ic.firstNs = c.timeNs[0];
      ic.lastNs = c.timeNs[n - 1];
    }
    this.loaded += n;
  }

  /** Run a closed-loop generator on device 0 until it is exhausted. */
  runSource(src: RequestSource): void {
    this.source = src;
    if (src.engine) this.eng.setSource(0, src.engine.contexts, src.engine.descriptorNs, src.engine.lineNs);
    this.eager = this.eagerRcAllowed && src.oneDirection === true && this.links.length === 1 && this.devNames.length === 1;
    this.shortcutPs = -1;
    this.earlyOn = this.eager;
    this.earlyDirect = 0;
    this.earlyQueued = 0;
    if (this.eager) {
      // the shortest read piece upstream (one byte below 4 GiB: a 3-DW MRd, one completion's ACK)
      const link = this.links[0];
      const minUpPs = link.wireMemo[link.wireAt(0, 0, 1, 0) + WM_UP_PS];
      // the least root-complex time of a read piece: its read time and an LLC or DRAM access, and
      // the translation's context lookup when every piece is translated (none rides on an earlier
      // piece's translation: requests no larger than MRRS)
      const translated = src.maxBytes !== undefined && src.maxBytes <= this.mrrs;
      const memPs = src.cache === 'warm' ? this.mem.llcPs : src.cache === 'cold' ? this.mem.dramPs : Math.min(this.mem.llcPs, this.mem.dramPs);
      const floorPs = this.rc.readPs + memPs + (translated ? this.iommuT.minTranslatePs : 0);
      this.shortcutPs = minUpPs + floorPs + this.shortcutSlackPs;
    }
    this.q.push(0, EV_ADMIT, 0);
    this.eng.admitScheduled[0] = 1;
    this.loop();
    this.iommu.drain();
  }

  /**
   * The first map / unmap / inv record at index `from` or later, looked for among the next
   * CTL_AHEAD records (see `eagerTrace`): if none is there, the time of the last one looked at is
   * the bound (records are in time order, so no later control record comes sooner) and the search
   * resumes from there when the cursor reaches it. The same in whole and streamed runs.
   */
  private nextControl(from: number): void {
    for (let i = from; i <= from + CTL_AHEAD && this.has(i); i++) {
      const t = this.trace!, p = i & this.mask; // has() may have grown the ring
      if (t.op[p] !== OP_DMA || i === from + CTL_AHEAD) { this.ctlIdx = i; this.ctlNextPs = Math.round(t.timeNs[p] * 1000); return; }
    }
    this.ctlIdx = -1;
    this.ctlNextPs = Infinity;
  }

  private loop(): void {
    const q = this.q;
    while (q.pop()) {
      const a = q.arg;
      switch (q.kind) {
        case EV_TRACE: this.onTrace(); break;
        case EV_ADMIT: this.eng.admitScheduled[a] = 0; this.admit(a); break;
        case EV_ISSUE: this.issue(a, q.now); break;
        case EV_AT_RC:
          if (this.eng.pStaleRc[a] > 0) { this.eng.pStaleRc[a]--; break; } // its work was done early
          if (this.rcPending > 0) { this.rcPending--; this.rcHead = (this.rcHead + 1) & (this.rcRing.length - 1); } // the ring's head: a
          this.atRc(a, q.now, false);
          break;
        case EV_FAULT: this.faulted(a, q.now); break;
        case EV_DATA: this.dataReady(a); break;
        case EV_CPL: this.completion(a); break;
        case EV_WDONE: this.writeDone(a); break;
        case EV_READBACK: this.readBack(a, q.now); break;
      }
    }
  }

  /**
   * The trace's next record, and the ones after it while each is due no later than every pending
   * event: those would pop next anyway (time order, and a trace event ranks first among events
   * at one time; there is one at a time), so they are handled here with the clock moved to
   * their time instead of each taking a push and a pop. The same order, the same results.
   */
  private onTrace(): void {
    const q = this.q;
    let now = q.now;
    for (;;) {
      const i = this.cursor++;
      if (i === this.ctlIdx) this.nextControl(i + 1);
      const t = this.trace!;
      const d = t.device[i & this.mask];
      this.iommu.advance(now / 1000);
      const wl = this.waiting[d].length;
      if (wl > 0 && (wl >= WAIT_SCAN || this.overlapsWaiting(t, i, d, wl))) {
        this.waiting[d].push(i); // touches the pages of an unmap still waiting: keep trace order
        this.gatedRecords++;
      } else {
        this.process(t, i, d, now);
      }
      if (!this.has(this.cursor)) return;
      const tn = Math.round(this.trace!.timeNs[this.cursor & this.mask] * 1000);
      const next = tn > now ? tn : now;
      if (next > q.peekTime()) { q.push(next, EV_TRACE, 0); return; }
      q.now = now = next;
    }
  }

  /** One record of device d at time now; an unmap / inv may close the gate. */
  private process(t: TraceColumns, i: number, d: number, now: number): void {
    const p = i & this.mask;
    const op = t.op[p];
    if (op === OP_DMA) {
      // queue at the device's engine
      this.eng.enqueueRecord(d, i);
      this.devQueued[d]++;
      if (this.countPages) {
        const p0 = pageOf(t.iovaHi[p], t.iovaLo[p]);
        const pages = recordPages(t, p);
        for (let k = 0; k < pages; k++) this.outstanding.add(d, p0 + k, 1);
      }
      this.admit(d);
    } else if (op === OP_UNMAP && this.busy(t, i, d)) {
      this.waiting[d].push(i);
      this.gatedRecords++;
    } else {
      this.applyControl(t, i, d, now);
    }
  }

  private applyControl(t: TraceColumns, i: number, d: number, now: number): void {
    const p = i & this.mask;
    applyControl(this.iommu, this.cfg, t, p, this.devSid[d]);
    const did = this.devSid[d] >= 0 ? this.iommu.domainOf(this.devSid[d]) : -1;
    const op = t.op[p];
    const scope = t.dir[p];
    if (op === OP_UNMAP || (op === OP_INV && scope !== INV_GLOBAL && scope !== INV_CONTEXT && t.size[p] !== SIZE_ALL)) {
      this.range(t, i);
      this.iommuT.chargeInvalidations(now, did, this.lo, this.hi);
    } else {
      this.iommuT.chargeInvalidations(now, op === OP_INV && scope === INV_GLOBAL ? -1 : did);
    }
  }

  /** Does a DMA of device d to a page of unmap record i remain queued or in flight? */
  private busy(t: TraceColumns, i: number, d: number): boolean {
    if (this.devDone[d] >= this.devQueued[d]) return false;
    const p = i & this.mask;
    const p0 = pageOf(t.iovaHi[p], t.iovaLo[p]);
    const pages = recordPages(t, p);
    for (let k = 0; k < pages; k++) if (this.outstanding.get(d, p0 + k) > 0) return true;
    return false;
  }

  /** Page range [lo, hi) of record i (an inv without an address covers everything). */
  private lo = 0;
  private hi = 0;
  private range(t: TraceColumns, i: number): void {
    const p = i & this.mask;
    if (t.op[p] === OP_INV && t.size[p] === SIZE_ALL) { this.lo = 0; this.hi = 2 ** 53; return; }
    this.lo = pageOf(t.iovaHi[p], t.iovaLo[p]);
    this.hi = this.lo + recordPages(t, p);
  }

  /** Does record i overlap any of the first `upto` waiting records of device d? */
  private overlapsWaiting(t: TraceColumns, i: number, d: number, upto: number): boolean {
    this.range(t, i);
    const lo = this.lo, hi = this.hi;
    const w = this.waiting[d];
    for (let k = 0; k < upto; k++) {
      this.range(t, w.at(k));
      if (this.lo < hi && lo < this.hi) return true;
    }
    return false;
  }

  /**
   * A DMA of device d to pages [lo, hi) completed: let waiting records whose way is now clear go,
   * in trace order. Every record in the scanned window is blocked after each call, and a
   * completion changes only the outstanding counts of its own pages (and the device's idle state),
   * so nothing can go unless the device is now idle or a waiting unmap of those pages is no longer
   * busy; that check comes first, and the full scan (quadratic in the window) runs only then.
   */
  private releaseWaiting(d: number, lo: number, hi: number): void {
    const t = this.trace!;
    const w = this.waiting[d];
    if (this.devDone[d] < this.devQueued[d] && !this.gateRescanAlways) {
      let free = false;
      const end = w.length < WAIT_SCAN ? w.length : WAIT_SCAN;
      for (let k = 0; k < end && !free; k++) {
        const i = w.at(k);
        if (t.op[i & this.mask] !== OP_UNMAP) continue;
        this.range(t, i);
        if (this.lo < hi && lo < this.hi && !this.busy(t, i, d)) free = true;
      }
      if (!free) return;
    }
    const now = this.q.now;
    let k = 0;
    while (k < w.length && k < WAIT_SCAN) {
      const i = w.at(k);
      const isUnmap = t.op[i & this.mask] === OP_UNMAP;
      const blocked = (isUnmap && this.busy(t, i, d)) || this.overlapsWaiting(t, i, d, k);
      if (blocked) { k++; continue; }
      w.removeAt(k);
      this.gateWaitPs += now - Math.round(t.timeNs[i & this.mask] * 1000);
      if (isUnmap) this.applyControl(t, i, d, now);
      else this.process(t, i, d, now);
    }
  }

  /** Admit pending requests of device d while its engine has room. */
  private admit(d: number): void {
    const now = this.q.now;
    const e = this.eng;
    while (e.inFlight[d] < e.cap[d]) {
      let r: number;
      if (this.source !== null) {
        if (this.source.remaining() <= 0) return;
        r = this.allocRequest();
        const g = this.gen;
        this.source.next(g);
        e.rPn[r] = g[0];
        e.rOff[r] = g[1];
        e.rLeft[r] = g[2];
        e.rBytes[r] = g[2];
        e.rWrite[r] = g[3] === 0 ? 0 : 1;
        e.rWarm[r] = g[4];
        e.rPasid[r] = g[5];
        e.rRecord[r] = -1;
        e.rKind[r] = 0;
        const pair = g[3] === 2 ? this.pairRead(r, now) : -1; // (first: pairRead may grow the pools)
        e.rPair[r] = pair;
        this.kinds.request(0, g[2]);
      } else {
        if (e.pending[d].length === 0) return;
        const i = e.dequeueRecord(d);
        const t = this.trace!, p = i & this.mask;
        r = this.allocRequest();
        const pn = pageOf(t.iovaHi[p], t.iovaLo[p]), off = t.iovaLo[p] & 0xfff, size = t.size[p];
        e.rPn[r] = pn;
        e.rOff[r] = off;
        e.rLeft[r] = size;
        e.rBytes[r] = size;
        e.rWrite[r] = t.dir[p] === DIR_WRITE ? 1 : 0;
        e.rWarm[r] = 1;
        e.rPasid[r] = t.pasid[p];
        e.rRecord[r] = i;
        e.rKind[r] = t.kind[p];
        e.rPair[r] = -1;
        this.kinds.request(t.kind[p], size);
        // the pages whose outstanding counts the unmap gate keeps (trace mode only)
        e.rPage0[r] = pn;
        e.rPages[r] = pagesTouched(off, size);
      }
      if (now < this.devFirst[d]) this.devFirst[d] = now;
      const issueAt = e.admitted(d, r, now);
      if (e.waiting[d].length > 0) e.waitFor(d, r); // behind requests already waiting for a tag or credit
      else this.issue(r, issueAt);
    }
  }

  /**
   * Issue, at time `now`, as many pieces of request r as tags and credits allow (at most
   * ISSUE_BATCH; the rest when the link has sent them). A request whose translation faulted at the
   * root complex before `now` issues no more: the DMA ends at its fault (a read learns it from its
   * Unsupported Request completion; the model stops a write there too). The fault's time decides,
   * not when the model learnt of it, so eager and event-per-piece runs stop alike.
   */
  private issue(r: number, now: number): void {
    const e = this.eng;
    const d = e.rDev[r];
    // first come, first served: a request never takes a tag ahead of one already waiting
    if (e.waiting[d].length > 0 && e.resuming !== r) { e.waitFor(d, r); return; }
    const isWrite = e.rWrite[r] === 1;
    const link = this.links[this.devLink[d]];
    const limit = isWrite ? this.mps : this.mrrs;
    const group = isWrite && this.groupWrites;
    let budget = ISSUE_BATCH;
    while (e.rLeft[r] > 0) {
      if (e.rFault[r] === 1 && e.rFaultAt[r] < now) {
        e.rLeft[r] = 0;
        if (e.rPair[r] >= 0) this.allSent(r, now);
        if (e.rOut[r] === 0) this.requestDone(r, d);
        return;
      }
      if (budget <= 0) { this.q.push(link.up.free > now ? link.up.free : now, EV_ISSUE, r); return; }
      const off = e.rOff[r];
      const left = e.rLeft[r];
      let bytes = 4096 - off;
      if (bytes > limit) bytes = limit;
      if (bytes > left) bytes = left;
      if (!e.take(d, isWrite)) { e.waitFor(d, r); return; }
      const p = e.allocPiece();
      const pn = e.rPn[r];
      e.pReq[p] = r;
      e.pPn[p] = pn;
      e.pOff[p] = off;
      e.pBytes[p] = bytes;
      const wb = link.wireAt(pn, off, bytes, isWrite ? 1 : 0);
      const wm = link.wireMemo;
      // a run: the full pieces of a write group before its last piece on this page (n of them)
      let n = 0;
      if (group && bytes === limit && left > limit && off + limit < 4096) {
        const seg = 4096 - off < left ? 4096 - off : left;
        n = Math.floor((seg - 1) / limit);
      }
      e.pRun[p] = n;
      const k = n > 0 ? n : 1;
      budget -= k;
      e.pDown[p] = wm[wb + WM_DOWN];
      e.pDownTlps[p] = wm[wb + WM_TLPS_DOWN];
      const upPs = wm[wb + WM_UP_PS];
      e.pRunPs[p] = upPs;
      const arrive = link.sendUpRun(now, k, upPs, wm[wb + WM_UP], wm[wb + WM_TLPS_UP]);
      if (isWrite && wm[wb + WM_DOWN] > 0) link.sendDownRun(now, k, wm[wb + WM_DOWN_PS], wm[wb + WM_DOWN], 0); // ACK/FC DLLPs
      e.rOut[r]++;
      if (this.eager) this.atRc(p, arrive, true);
      else if (this.eagerTrace && arrive < this.ctlNextPs && this.waiting[d].length === 0) {
        if (this.rcPending > 0) this.drainRc();
        this.atRc(p, arrive, true);
      } else if (this.eagerTrace) this.pendRc(p, arrive);
      else this.q.push(arrive, EV_AT_RC, p);
      const all = k * bytes;
      e.rLeft[r] = left - all;
      if (off + all >= 4096) { e.rPn[r] = pn + 1; e.rOff[r] = 0; } else e.rOff[r] = off + all;
    }
    if (e.rPair[r] >= 0) this.allSent(r, link.up.free);
  }

  /**
   * A write-then-read pair (pcie-bench's LAT_DMA_WRRD, me/pcie_dma.c dma_lat): the read of request
   * r's bytes, allocated with it; it enters the engine once the write has been sent (readBack).
   * Returns its request slot.
   */
  private pairRead(r: number, now: number): number {
    const e = this.eng;
    const r2 = this.allocRequest();
    e.rPn[r2] = e.rPn[r]; e.rOff[r2] = e.rOff[r]; e.rLeft[r2] = e.rLeft[r];
    e.rBytes[r2] = 2 * e.rBytes[r]; // the pair moved the bytes both ways
    e.rWrite[r2] = 0; e.rWarm[r2] = e.rWarm[r]; e.rPasid[r2] = e.rPasid[r];
    e.rRecord[r2] = -1; e.rKind[r2] = e.rKind[r]; e.rPair[r2] = -1;
    e.rStart[r2] = now; // the pair's latency runs from the write's admission
    this.kinds.request(0, e.rLeft[r]);
    return r2;
  }

  /**
   * The write of a pair sent its last TLP at t (a posted write: the device knows no more): after
   * the engine's completion handling (device.dmaEngine.latencyNs) the read enters the engine. PCIe
   * ordering at the root complex (a read may not pass an earlier posted write) makes it see the
   * write's data.
   */
  private allSent(r: number, t: number): void {
    const e = this.eng;
    this.q.push(t + e.latencyPs, EV_READBACK, e.rPair[r]);
    e.rPair[r] = -2; // still the write of a pair (it completes silently), its read on its way
  }

  /** The read r2 of a write-then-read enters the engine at `now` (the pair holds one slot in flight). */
  private readBack(r2: number, now: number): void {
    const e = this.eng;
    const issueAt = e.followUp(0, r2, now);
    if (e.waiting[0].length > 0) e.waitFor(0, r2); // behind requests already waiting for a tag
    else this.issue(r2, issueAt);
  }

  /** Piece p's root-complex work waits for its event at `arrive` (trace replay: in the ring, for drainRc). */
  private pendRc(p: number, arrive: number): void {
    const n = this.rcRing.length;
    if (this.rcPending === n) {
      const ring = new Int32Array(2 * n), at = new Float64Array(2 * n);
      for (let k = 0; k < n; k++) { const j = (this.rcHead + k) & (n - 1); ring[k] = this.rcRing[j]; at[k] = this.rcAt[j]; }
      this.rcRing = ring; this.rcAt = at; this.rcHead = 0;
    }
    const j = (this.rcHead + this.rcPending++) & (this.rcRing.length - 1);
    this.rcRing[j] = p;
    this.rcAt[j] = arrive;
    this.q.push(arrive, EV_AT_RC, p);
  }

  /**
   * Do the pending pieces' root-complex work now, in arrival order, each as of its arrival (a
   * piece about to go eager arrives after them all); their events, when they pop, do nothing.
   * Exact for the reason eager work is (see eagerTrace): the caller has checked that no map /
   * unmap / inv is due and nothing waits at the unmap gate before its own piece's arrival.
   */
  private drainRc(): void {
    const e = this.eng, mask = this.rcRing.length - 1;
    while (this.rcPending > 0) {
      const p = this.rcRing[this.rcHead], at = this.rcAt[this.rcHead];
      this.rcHead = (this.rcHead + 1) & mask;
      this.rcPending--;
      e.pStaleRc[p]++;
      this.atRc(p, at, true);
    }
  }

  /** A tag or credit came back on device d: resume waiting requests, oldest first. */
  private resume(d: number): void {
    const e = this.eng;
    const now = this.q.now;
    while (e.waiting[d].length > 0) {
      const r = e.waitHeadRequest(d);
      e.rWaiting[r] = 0;
      e.resuming = r;
      this.issue(r, now > e.rIssueAt[r] ? now : e.rIssueAt[r]); // not before it has left the engine's data mover
      e.resuming = -1;
      if (e.rWaiting[r] === 1) return; // still short: stays first in line
      e.popWait(d);
    }
  }

  /** Piece p at the root complex at `now` (its arrival); early: called at its issue (see `eager`, `eagerTrace`). */
  private atRc(p: number, now: number, early: boolean): void {
    const e = this.eng;
    const r = e.pReq[p];
    const d = e.rDev[r];
    const isWrite = e.rWrite[r] === 1;
    let ready = now;
    if (e.rFault[r] === 0) {
      const rc = this.rc;
      if (rc.translate(r, this.devSid[d], e.rPasid[r], e.pPn[p], isWrite, this.devUnit[d], now, e.rKind[r]) < 0) { e.rFault[r] = 1; e.rFaultAt[r] = now; } else ready = rc.io[0];
    }
    if (e.rFault[r] === 1) {
      if (early) { if (this.eager) this.eagerRerun = true; this.q.push(now, EV_FAULT, p); } else this.faulted(p, now);
      return;
    }
    if (isWrite) {
      if (e.pRun[p] === 0) this.q.push(this.rc.write(e.pBytes[p], e.pOff[p], now, ready, this.devDom[d], this.devRelaxed[d] === 1, this.devLink[d], e.rWarm[r] === 1), EV_WDONE, p);
      else this.runDone(p, r, d, ready, now);
    } else {
      const done = this.rc.read(e.pBytes[p], e.rWarm[r] === 1, ready, this.devDom[d], this.devRelaxed[d] === 1, e.pOff[p]);
      if (this.eager && done < this.shortMax) this.eagerRerun = true; // data sent early went out of order
      if (this.earlyOn) {
        const safe = now + this.shortcutPs; // no piece still to come is ready before this
        const pd = this.pendingData;
        // queued data that is now safe goes first, in order
        for (let h = pd.peekTime(); h <= done && h < safe; h = pd.peekTime()) {
          pd.pop();
          e.pSent[pd.arg] = 1;
          this.sendEarly(pd.arg, h);
        }
        if (done < safe && pd.peekTime() > done) { this.earlyDirect++; this.sendEarly(p, done); return; }
        pd.push(done, 0, p);
        if (++this.earlyQueued + this.earlyDirect === this.earlyTrial && this.earlyDirect < this.earlyTrial / 2) this.earlyOn = false;
      }
      this.q.push(done, EV_DATA, p);
    }
  }

  /** Faulted piece p at the root complex at `now`: a read gets an Unsupported Request completion, a write vanishes. */
  private faulted(p: number, now: number): void {
    const e = this.eng;
    const r = e.pReq[p];
    if (e.rWrite[r] === 0) this.q.push(this.links[this.devLink[e.rDev[r]]].sendDown(now, 20, 1), EV_CPL, p);
    else if (e.pRun[p] === 0) this.q.push(now, EV_WDONE, p);
    else this.runDone(p, r, e.rDev[r], -1, now);
  }

  /**
   * Run piece p (see `groupWrites`) is at the root complex at `now`: its first piece's
   * translation is ready at `ready` (-1: faulted, the writes vanish). Each of its pieces goes
   * through the root complex's write path as of its own arrival (the later ones ride on the same
   * translation); then it retires (the group's last piece, which has its own event, completes the
   * request).
   */
  private runDone(p: number, r: number, d: number, ready: number, now: number): void {
    const e = this.eng;
    if (ready >= 0) {
      const rc = this.rc, bytes = e.pBytes[p], dom = this.devDom[d], ro = this.devRelaxed[d] === 1, port = this.devLink[d], warm = e.rWarm[r] === 1;
      let off = e.pOff[p];
      rc.write(bytes, off, now, ready, dom, ro, port, warm);
      const n = e.pRun[p], dt = e.pRunPs[p];
      let a = now;
      for (let k = 1; k < n; k++) {
        a += dt;
        off += bytes;
        rc.write(bytes, off, a, ready > a ? ready : a, dom, ro, port, warm);
      }
    }
    e.freePiece(p);
    e.rOut[r]--;
  }

  private dataReady(p: number): void {
    if (this.eager) {
      const e = this.eng;
      if (e.pSent[p] === 1) { e.pSent[p] = 0; return; } // sent early
      // the earliest queued data is this piece's (the queue is left behind once early sending stops)
      if (this.earlyOn && (!this.pendingData.pop() || this.pendingData.arg !== p)) this.eagerRerun = true; // cannot happen
    }
    this.sendData(p, this.q.now);
  }

  /** Read piece p's data, ready at t, sent at the root complex (see `eager`). */
  private sendEarly(p: number, t: number): void {
    if (t > this.shortMax) this.shortMax = t;
    this.dataSentEarly++;
    this.sendData(p, t);
  }

  /** Read piece p's completions downstream at t; their arrival at the device is an event. */
  private sendData(p: number, t: number): void {
    const e = this.eng;
    const d = e.rDev[e.pReq[p]];
    this.q.push(this.links[this.devLink[d]].sendDown(t, e.pDown[p], e.pDownTlps[p]), EV_CPL, p);
  }

  private completion(p: number): void {
    const e = this.eng;
    const r = e.pReq[p];
    const d = e.rDev[r];
    e.readDone(d);
    if (e.waiting[d].length > 0) this.resume(d); // waiting requests before any newly admitted one
    this.pieceDone(p, r, d);
  }

  private writeDone(p: number): void {
    const e = this.eng;
    const r = e.pReq[p];
    const d = e.rDev[r];
    e.writeDone(d);
    // only a returned credit can let a waiting request go (with unlimited credits a write frees
    // nothing, and a run piece has no write-done event: resuming here would make the two differ)
    if (e.postedLimited && e.waiting[d].length > 0) this.resume(d);
    this.pieceDone(p, r, d);
  }

  private pieceDone(p: number, r: number, d: number): void {
    const e = this.eng;
    e.freePiece(p);
    if (--e.rOut[r] > 0 || e.rLeft[r] > 0) return;
    this.requestDone(r, d);
  }

  /** Request r of device d complete: its last piece is done (or it faulted with none in flight). */
  private requestDone(r: number, d: number): void {
    const e = this.eng;
    if (e.rPair[r] !== -1) { e.freeRequest(r); return; } // the write of a pair: its read records the pair
    // the device's own latency — descriptor handling — added here
    const now = this.q.now + e.latencyPs;
    if (e.rFault[r] === 1) {
      this.devDropped[d]++;
    } else {
      const lat = now - e.rStart[r];
      if (this.latencies !== null) { this.latencies.push(lat); this.latencyRecords!.push(e.rRecord[r]); }
      this.devLatency[d].record(lat);
      this.devBytes[d] += e.rBytes[r];
      this.devRequests[d]++;
    }
    if (now > this.devLast[d]) this.devLast[d] = now;
    if (this.trace !== null) {
      this.devDone[d]++;
      if (this.countPages) {
        const p0 = e.rPage0[r];
        const pages = e.rPages[r];
        for (let k = 0; k < pages; k++) this.outstanding.add(d, p0 + k, -1);
        // (without unmaps nothing ever waits)
        if (this.waiting[d].length > 0) this.releaseWaiting(d, p0, p0 + pages);
      }
    }
    e.freeRequest(r);
    e.inFlight[d]--;
    if (e.admitScheduled[d] === 0 && (e.pending[d].length > 0 || this.source !== null)) this.admit(d);
  }

  // ------------------------------------------------------------------ results

  /**
   * What the timing statistics (src/sim/stats.ts) read: the counters and components, and the run's
   * span, gathered once per result.
   */
  statView(): TimingView {
    const first = this.firstStart;
    return {
      spanPs: Math.max(0, this.lastDone - (Number.isFinite(first) ? first : 0)),
      doneBytes: this.doneBytes, doneRequests: this.doneRequests, latency: this.latency,
      links: this.links, iommuT: this.iommuT, rc: this.rc, mem: this.mem,
      gatedRecords: this.gatedRecords, gateWaitPs: this.gateWaitPs,
      devices: this.devNames.map((name, d) => ({
        name, requests: this.devRequests[d], bytes: this.devBytes[d], dropped: this.devDropped[d],
        firstPs: this.devFirst[d], lastPs: this.devLast[d], latency: this.devLatency[d],
      })),
    };
  }

  /** The timing figures of a result: every statistic of the timing table (stats.ts), read once, in its order. */
  metrics(): TimingMetrics {
    return TIMING_STATS.build(this.statView()) as TimingMetrics;
  }
}
