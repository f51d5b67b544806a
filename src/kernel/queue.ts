import { modByReciprocal } from '../util/mod.js';
import { growTyped } from '../util/typed.js';

/**
 * The one event queue. Time is an integer number of picoseconds (held in a double: exact up to
 * 2^53 ps, about 2.5 hours of simulated time). Ties break by insertion order, so a run is
 * deterministic. An event is (time, kind, arg): `kind` picks the handler in the owner's switch,
 * `arg` indexes the owner's typed-array state. No closures, no per-event objects.
 *
 * Events are popped in (time, rank of kind, insertion number) order, exactly as one binary heap
 * would pop them. Ranks are the owner's (`ranks[kind]`, default all 0: ties in insertion order);
 * they fix the order of different kinds of event at one time, whatever order they were pushed in.
 * The pop order is the same as the plain heap's;
 * the structure is faster because most event kinds are produced in time order (a FIFO link's
 * arrivals, a serial unit's completions, a sorted trace). Each kind has a FIFO lane: a push whose
 * time is not before the lane's last one is appended to the lane in O(1); any other push goes to
 * a binary heap. A pop takes the earliest of the heap's top and the lanes' heads. Which events
 * land in a lane changes only the speed, never the order.
 */
export class EventQueue {
  // the heap: events pushed out of their kind's time order
  private time: Float64Array;
  /** rank of kind * 2^44 + insertion number: the order among events at the same time. */
  private seq: Float64Array;
  /** kind << 27 | arg. */
  private ev: Int32Array;
  private n = 0;
  private counter = 0;

  // lanes: one FIFO ring per kind, laneCap slots each (a power of two, doubled when one fills), in flat arrays
  private laneCap = 256;
  private lTime: Float64Array;
  private lSeq: Float64Array;
  private lArg: Int32Array;
  private readonly lHead = new Int32Array(KINDS);
  private readonly lLen = new Int32Array(KINDS);
  /** Time of each lane's last event (a push earlier than this goes to the heap). */
  private readonly lTail = new Float64Array(KINDS);
  /** Bit k set: lane k is not empty. */
  private laneMask = 0;

  /** Fields of the last popped event. */
  now = 0;
  kind = 0;
  arg = 0;
  /** Events handled so far. */
  handled = 0;

  /** Per kind: rank * 2^44, added to the insertion number (2^44 events: ~10 days at 20 M/s). */
  private readonly rankKey = new Float64Array(KINDS);

  /** ranks: per kind, an integer 0..255 (kinds of lower rank go first at equal times); default all 0. */
  constructor(capacity = 1024, ranks?: ArrayLike<number>) {
    if (ranks !== undefined) {
      for (let k = 0; k < KINDS && k < ranks.length; k++) {
        const r = ranks[k];
        if (!Number.isInteger(r) || r < 0 || r > 255) throw new RangeError(`EventQueue: rank of kind ${k} must be an integer 0..255, got ${r}`);
        this.rankKey[k] = r * 2 ** 44;
      }
    }
    this.time = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.ev = new Int32Array(capacity);
    this.lTime = new Float64Array(KINDS * this.laneCap);
    this.lSeq = new Float64Array(KINDS * this.laneCap);
    this.lArg = new Int32Array(KINDS * this.laneCap);
  }

  get size(): number {
    let n = this.n;
    for (let k = 0; k < KINDS; k++) n += this.lLen[k];
    return n;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    this.time = growTyped(this.time, cap);
    this.seq = growTyped(this.seq, cap);
    this.ev = growTyped(this.ev, cap);
  }

  /** Double every lane's ring, unrolling each ring to start at slot 0. */
  private growLanes(): void {
    const old = this.laneCap, cap = old * 2;
    const t = new Float64Array(KINDS * cap), s = new Float64Array(KINDS * cap), a = new Int32Array(KINDS * cap);
    for (let k = 0; k < KINDS; k++) {
      const h = this.lHead[k], len = this.lLen[k];
      for (let i = 0; i < len; i++) {
        const from = k * old + ((h + i) & (old - 1)), to = k * cap + i;
        t[to] = this.lTime[from]; s[to] = this.lSeq[from]; a[to] = this.lArg[from];
      }
      this.lHead[k] = 0;
    }
    this.lTime = t; this.lSeq = s; this.lArg = a;
    this.laneCap = cap;
  }

  /** Schedule `kind(arg)` at `t` ps (t >= now; integral). kind < 16, arg < 2^27. */
  push(t: number, kind: number, arg: number): void {
    const sq = this.rankKey[kind] + this.counter++;
    const len = this.lLen[kind];
    if (len === 0 || t >= this.lTail[kind]) {
      if (len === this.laneCap) this.growLanes();
      const cap = this.laneCap;
      const at = kind * cap + ((this.lHead[kind] + len) & (cap - 1));
      this.lTime[at] = t; this.lSeq[at] = sq; this.lArg[at] = arg;
      this.lLen[kind] = len + 1;
      this.lTail[kind] = t;
      this.laneMask |= 1 << kind;
      return;
    }
    this.heapPush(t, sq, (kind << 27) | arg);
  }

  private heapPush(t: number, sq: number, e: number): void {
    if (this.n === this.time.length) this.grow();
    const time = this.time, seq = this.seq, ev = this.ev;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = time[p];
      if (pt < t || (pt === t && seq[p] < sq)) break;
      time[i] = pt; seq[i] = seq[p]; ev[i] = ev[p];
      i = p;
    }
    time[i] = t; seq[i] = sq; ev[i] = e;
  }

  /** Pop the earliest event into now/kind/arg; false when empty. */
  pop(): boolean {
    // the earliest lane head
    let best = -1, bt = Infinity, bs = Infinity;
    const cap = this.laneCap;
    let m = this.laneMask;
    while (m !== 0) {
      const k = 31 - Math.clz32(m & -m);
      m &= m - 1;
      const at = k * cap + this.lHead[k];
      const t = this.lTime[at];
      if (t < bt || (t === bt && this.lSeq[at] < bs)) { best = k; bt = t; bs = this.lSeq[at]; }
    }
    if (this.n > 0) {
      const t0 = this.time[0];
      if (best < 0 || t0 < bt || (t0 === bt && this.seq[0] < bs)) return this.heapPop();
    } else if (best < 0) return false;
    const at = best * cap + this.lHead[best];
    this.now = bt;
    this.kind = best;
    this.arg = this.lArg[at];
    this.handled++;
    this.lHead[best] = (this.lHead[best] + 1) & (cap - 1);
    if (--this.lLen[best] === 0) this.laneMask &= ~(1 << best);
    return true;
  }

  private heapPop(): boolean {
    const n = this.n;
    const time = this.time, seq = this.seq, ev = this.ev;
    this.now = time[0];
    const e0 = ev[0];
    this.kind = e0 >>> 27;
    this.arg = e0 & 0x7ffffff;
    this.handled++;
    const last = n - 1;
    this.n = last;
    if (last > 0) {
      const t = time[last], sq = seq[last], e = ev[last];
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= last) break;
        const r = c + 1;
        let ct = time[c];
        if (r < last) {
          const rt = time[r];
          if (rt < ct || (rt === ct && seq[r] < seq[c])) { c = r; ct = rt; }
        }
        if (ct > t || (ct === t && seq[c] > sq)) break;
        time[i] = ct; seq[i] = seq[c]; ev[i] = ev[c];
        i = c;
      }
      time[i] = t; seq[i] = sq; ev[i] = e;
    }
    return true;
  }

  /** Time of the earliest event (Infinity when empty). */
  peekTime(): number {
    let bt = this.n === 0 ? Infinity : this.time[0];
    const cap = this.laneCap;
    for (let m = this.laneMask; m !== 0; m &= m - 1) {
      const k = 31 - Math.clz32(m & -m);
      const t = this.lTime[k * cap + this.lHead[k]];
      if (t < bt) bt = t;
    }
    return bt;
  }
}

/** Event kinds (and lanes): 0..15. */
const KINDS = 16;

/** ns → ps, rounded to a whole picosecond. */
export const ps = (ns: number): number => Math.round(ns * 1000);

/** A clock domain: frequency in Hz; converts cycles to ps and aligns times to its edges. */
export class Clock {
  readonly periodPs: number;
  /** 1 / periodPs: a multiply instead of a divide in align(). */
  private readonly inv: number;
  constructor(readonly hz: number) {
    this.periodPs = Math.max(1, Math.round(1e12 / hz));
    this.inv = 1 / this.periodPs;
  }
  cycles(n: number): number {
    return n * this.periodPs;
  }
  /** The first edge at or after t. */
  align(t: number): number {
    const r = modByReciprocal(t, this.periodPs, this.inv);
    return r === 0 ? t : t + (this.periodPs - r);
  }
}
