/**
 * The one event queue. Time is an integer number of picoseconds (held in a double: exact up to
 * 2^53 ps, about 2.5 hours of simulated time). Ties break by insertion order, so a run is
 * deterministic. An event is (time, kind, arg): `kind` picks the handler in the owner's switch,
 * `arg` indexes the owner's typed-array state. No closures, no per-event objects.
 */
export class EventQueue {
  private time: Float64Array;
  /** Insertion number, for FIFO order among events at the same time. */
  private seq: Float64Array;
  /** kind << 27 | arg. */
  private ev: Int32Array;
  private n = 0;
  private counter = 0;
  /** Fields of the last popped event. */
  now = 0;
  kind = 0;
  arg = 0;
  /** Events handled so far. */
  handled = 0;

  constructor(capacity = 1024) {
    this.time = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.ev = new Int32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const t = new Float64Array(cap); t.set(this.time); this.time = t;
    const s = new Float64Array(cap); s.set(this.seq); this.seq = s;
    const e = new Int32Array(cap); e.set(this.ev); this.ev = e;
  }

  /** Schedule `kind(arg)` at `t` ps (t >= now; integral). kind < 16, arg < 2^27. */
  push(t: number, kind: number, arg: number): void {
    if (this.n === this.time.length) this.grow();
    const time = this.time, seq = this.seq, ev = this.ev;
    const sq = this.counter++;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = time[p];
      if (pt < t || (pt === t && seq[p] < sq)) break;
      time[i] = pt; seq[i] = seq[p]; ev[i] = ev[p];
      i = p;
    }
    time[i] = t; seq[i] = sq; ev[i] = (kind << 27) | arg;
  }

  /** Pop the earliest event into now/kind/arg; false when empty. */
  pop(): boolean {
    const n = this.n;
    if (n === 0) return false;
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
    return this.n === 0 ? Infinity : this.time[0];
  }
}

/** ns → ps, rounded to a whole picosecond. */
export const ps = (ns: number): number => Math.round(ns * 1000);

/** A clock domain: frequency in Hz; converts cycles to ps and aligns times to its edges. */
export class Clock {
  readonly periodPs: number;
  constructor(readonly hz: number) {
    this.periodPs = Math.max(1, Math.round(1e12 / hz));
  }
  cycles(n: number): number {
    return n * this.periodPs;
  }
  /** The first edge at or after t. */
  align(t: number): number {
    const r = t % this.periodPs;
    return r === 0 ? t : t + (this.periodPs - r);
  }
}
