/**
 * The devices' DMA engines, on the device side of their PCIe links: admission (in-flight limit,
 * issue interval on device-clock edges, first come first served), the requests' split into TLP
 * pieces (reads ≤ MRRS, writes ≤ MPS, never across 4 KiB), and the flow-control resource a piece
 * needs before it may be sent — a tag (reads) or a posted-header credit (writes, when limited).
 * State is typed arrays: per device, and pools of request and piece slots indexed by slot number.
 *
 * A device's engine may also have a data mover (set per device by a request source that models
 * one: the pcie-bench NFP6000's, src/devices/pciebench.ts): one request at a time, it spends a
 * fixed time per descriptor plus a time per 64 B line the request touches before the request's
 * TLPs go out. Devices without one (every trace replay) issue as before.
 *
 * The engine decides what may be sent and keeps the counts; the timed system sends pieces on the
 * link and moves them through the root complex.
 */
import { Clock } from '../../kernel/queue.js';
import { WaitList } from '../../kernel/waitlist.js';
import { SlotPool } from '../../util/typed.js';

export interface EngineSpec {
  maxInFlight: number;
  latencyNs: number;
  issueNs: number;
  clockMHz: number;
  mrrsBytes: number;
  mpsBytes: number;
  tags: number;
  /** Posted-header credits per device (0: unlimited). */
  phCredits: number;
}

/** The request pool's columns (one slot a request, fields `r*` below), grown together. */
const REQUEST_FIELDS = [
  'rDev', 'rStart', 'rWrite', 'rWarm', 'rPasid', 'rPn', 'rOff', 'rLeft', 'rBytes', 'rOut', 'rFault', 'rFaultAt', 'rWaiting',
  'rPage0', 'rPages', 'rKind', 'rRecord', 'rIssueAt', 'rPair',
] as const satisfies readonly (keyof DmaEngines)[];
/** The piece pool's columns (one slot a piece, fields `p*` below), grown together. */
const PIECE_FIELDS = [
  'pReq', 'pPn', 'pOff', 'pBytes', 'pDown', 'pDownTlps', 'pRun', 'pRunPs', 'pSent', 'pStaleRc',
] as const satisfies readonly (keyof DmaEngines)[];

export class DmaEngines {
  readonly max: number;
  readonly latencyPs: number;
  readonly issuePs: number;
  readonly mrrs: number;
  readonly mps: number;
  readonly clock: Clock;
  readonly postedLimited: boolean;

  // ---------------------------------------------------------------- per device
  readonly inFlight: Int32Array;
  /** Requests in flight allowed per device: maxInFlight, or fewer when the source has fewer contexts (setSource). */
  readonly cap: Int32Array;
  /** The data mover per device (setSource): time per descriptor and per 64 B line (ps); 0 and 0: none. */
  readonly descriptorPs: Float64Array;
  readonly linePs: Float64Array;
  readonly nextIssue: Float64Array;
  readonly tags: Int32Array;
  readonly posted: Int32Array;
  readonly admitScheduled: Uint8Array;
  /** Pending (arrived, not admitted) trace records, per device, in order. */
  readonly pending: WaitList[];
  /** Requests waiting for a tag or credit, per device, in order. */
  readonly waiting: WaitList[];

  // ---------------------------------------------------------------- requests
  rDev = new Int32Array(0);
  rStart = new Float64Array(0);
  rWrite = new Uint8Array(0);
  rWarm = new Uint8Array(0);
  rPasid = new Int32Array(0);
  rPn = new Float64Array(0);
  rOff = new Int32Array(0);
  rLeft = new Float64Array(0);
  rBytes = new Float64Array(0);
  rOut = new Int32Array(0);
  rFault = new Uint8Array(0);
  /** When the request's translation faulted at the root complex (ps; with rFault). */
  rFaultAt = new Float64Array(0);
  rWaiting = new Uint8Array(0);
  /** Trace mode: the record's first page and page count (the unmap gate's counts). */
  rPage0 = new Float64Array(0);
  rPages = new Int32Array(0);
  /** Kind of DMA (trace column `kind`), for per-kind figures. */
  rKind = new Uint8Array(0);
  /** Trace record index of the request (-1: from a generator). */
  rRecord = new Int32Array(0);
  /** When the request left the engine's data mover and issue interval: it sends nothing sooner (ps). */
  rIssueAt = new Float64Array(0);
  /**
   * A write that is the first half of a write-then-read (pcie-bench's LAT_DMA_WRRD): the request
   * slot of the read that follows it once the write has been sent, -2 once that read is on its
   * way; -1 for every other request. Such a write completes silently (the pair is one operation,
   * recorded by its read).
   */
  rPair = new Int32Array(0);
  private readonly requests: SlotPool<(typeof REQUEST_FIELDS)[number]> = new SlotPool(this, REQUEST_FIELDS);
  /** Request slots the `r*` columns hold. */
  get rCap(): number { return this.requests.cap; }

  // ---------------------------------------------------------------- pieces
  pReq = new Int32Array(0);
  pPn = new Float64Array(0);
  pOff = new Int32Array(0);
  pBytes = new Int32Array(0);
  pDown = new Float64Array(0);
  pDownTlps = new Int32Array(0);
  /** Pieces a run piece stands for (0: an ordinary piece): see TimedSystem.groupWrites. */
  pRun = new Int32Array(0);
  /** A run piece's serialization time upstream (ps): its pieces arrive this far apart. */
  pRunPs = new Float64Array(0);
  /** Per piece: its data went out early; its data-ready event does nothing (TimedSystem.eager). */
  pSent = new Uint8Array(0);
  /**
   * Per piece slot: root-complex events still queued whose work was done early (TimedSystem's
   * trace replay drains pending root-complex work); each such event, when it pops, only counts
   * down. A count, not a flag: a slot freed after early work can be reused before its event pops.
   */
  pStaleRc = new Int32Array(0);
  private readonly pieces: SlotPool<(typeof PIECE_FIELDS)[number]> = new SlotPool(this, PIECE_FIELDS);

  /** The waiting request being resumed (it keeps its place at the head of the line). */
  resuming = -1;

  constructor(spec: EngineSpec, devices: number) {
    const n = devices;
    this.max = spec.maxInFlight;
    this.latencyPs = Math.round(spec.latencyNs * 1000);
    this.issuePs = Math.round(spec.issueNs * 1000);
    this.clock = new Clock(spec.clockMHz * 1e6);
    this.mrrs = spec.mrrsBytes;
    this.mps = spec.mpsBytes;
    this.postedLimited = spec.phCredits > 0;
    this.inFlight = new Int32Array(n);
    this.cap = new Int32Array(n).fill(this.max);
    this.descriptorPs = new Float64Array(n);
    this.linePs = new Float64Array(n);
    this.nextIssue = new Float64Array(n);
    this.tags = new Int32Array(n).fill(spec.tags);
    this.posted = new Int32Array(n).fill(spec.phCredits);
    this.admitScheduled = new Uint8Array(n);
    this.pending = Array.from({ length: n }, () => new WaitList());
    this.waiting = Array.from({ length: n }, () => new WaitList());
    this.requests.grow(Math.min(1 << 16, this.max * n + 16));
    this.pieces.grow(1024);
  }

  // ---------------------------------------------------------------- pools

  /** A free request slot (the pool grows when empty). */
  allocRequest(): number {
    return this.requests.take();
  }

  freeRequest(r: number): void {
    this.requests.give(r);
  }

  /** A free piece slot (the pool grows when empty). */
  allocPiece(): number {
    return this.pieces.take();
  }

  freePiece(p: number): void {
    this.pieces.give(p);
  }

  // ---------------------------------------------------------------- admission

  /**
   * Device d's requests come from a source with `contexts` request contexts (at most that many in
   * flight; 0: no limit besides maxInFlight) and an engine with a data mover costing
   * `descriptorNs` per request plus `lineNs` per 64 B line the request touches (0 and 0: none).
   */
  setSource(d: number, contexts: number, descriptorNs: number, lineNs: number): void {
    this.cap[d] = contexts > 0 && contexts < this.max ? contexts : this.max;
    this.descriptorPs[d] = Math.round(descriptorNs * 1000);
    this.linePs[d] = Math.round(lineNs * 1000);
  }

  /** Queue trace record i at device d's engine (admitted when there is room). */
  enqueueRecord(d: number, i: number): void {
    this.pending[d].push(i);
  }

  /** The oldest pending trace record of device d, removed (the caller checked there is one). */
  dequeueRecord(d: number): number {
    const q = this.pending[d];
    const i = q.at(0);
    q.removeAt(0);
    return i;
  }

  /**
   * Request r of device d admitted at `now` (its fields filled by the caller: page offset and bytes
   * left at least): in flight, and the time it issues (see `enter`). (The engine's latency is
   * charged when the request completes: it holds no tag.)
   */
  admitted(d: number, r: number, now: number): number {
    this.rDev[r] = d;
    this.rStart[r] = now;
    this.inFlight[d]++;
    return this.enter(d, r, now);
  }

  /**
   * Request r of device d enters the engine at `now` without a slot of its own in flight (the read
   * of a write-then-read, which holds its write's): the time it issues (see `enter`).
   */
  followUp(d: number, r: number, now: number): number {
    this.rDev[r] = d;
    return this.enter(d, r, now);
  }

  /**
   * Request r enters device d's engine at `now`: the data mover, when the device has one, takes it
   * when done with the previous request (serial, in arrival order) for descriptorPs + linePs per
   * 64 B line the request touches; it issues at the end of that, on an edge of the device clock,
   * no sooner than the issue interval after the previous request's issue.
   */
  private enter(d: number, r: number, now: number): number {
    this.rOut[r] = 0;
    this.rFault[r] = 0;
    this.rWaiting[r] = 0;
    let t = now > this.nextIssue[d] ? now : this.nextIssue[d];
    const lp = this.linePs[d], dp = this.descriptorPs[d];
    if (lp > 0 || dp > 0) {
      const off = this.rOff[r]; // within the first page: lines are 64 B aligned in it
      t += dp + lp * (Math.floor((off + this.rLeft[r] + 63) / 64) - (off >>> 6));
    }
    const issueAt = this.clock.align(t);
    this.nextIssue[d] = issueAt + this.issuePs;
    this.rIssueAt[r] = issueAt;
    return issueAt;
  }

  // ---------------------------------------------------------------- pieces

  /**
   * The flow-control resource for a piece of device d, taken if free: a tag for a read, a
   * posted-header credit for a write (when limited). False when it is short (nothing taken).
   */
  take(d: number, isWrite: boolean): boolean {
    if (!isWrite) {
      if (this.tags[d] === 0) return false;
      this.tags[d]--;
      return true;
    }
    if (this.postedLimited) {
      if (this.posted[d] === 0) return false;
      this.posted[d]--;
    }
    return true;
  }

  /** Request r waits for a tag or credit, behind those already waiting on device d. */
  waitFor(d: number, r: number): void {
    if (this.rWaiting[r] === 1) return;
    this.rWaiting[r] = 1;
    if (this.resuming === r) return; // still at the head of the line
    this.waiting[d].push(r);
  }

  /** The request at the head of device d's wait line (the caller checked there is one). */
  waitHeadRequest(d: number): number {
    return this.waiting[d].at(0);
  }

  /** Drop the head of device d's wait line (it got what it waited for). */
  popWait(d: number): void {
    this.waiting[d].removeAt(0);
  }

  /** Read piece p's completions arrived: its tag returns. */
  readDone(d: number): void {
    this.tags[d]++;
  }

  /** A write piece retired: its posted credit returns. */
  writeDone(d: number): void {
    if (this.postedLimited) this.posted[d]++;
  }
}
