/**
 * The one event queue. Time is an integer number of picoseconds (held in a double: exact up to
 * 2^53 ps, about 2.5 hours of simulated time). Ties break by insertion order, so a run is
 * deterministic. An event is (time, kind, arg): `kind` picks the handler in the owner's switch,
 * `arg` indexes the owner's typed-array state. No closures, no per-event objects.
 */
export class EventQueue {
  private time: Float64Array;
  private seq: Float64Array;
  private kinds: Int32Array;
  private args: Int32Array;
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
    this.kinds = new Int32Array(capacity);
    this.args = new Int32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const t = new Float64Array(cap); t.set(this.time); this.time = t;
    const s = new Float64Array(cap); s.set(this.seq); this.seq = s;
    const k = new Int32Array(cap); k.set(this.kinds); this.kinds = k;
    const a = new Int32Array(cap); a.set(this.args); this.args = a;
  }

  /** Schedule `kind(arg)` at `t` ps (t >= now; integral). */
  push(t: number, kind: number, arg: number): void {
    if (this.n === this.time.length) this.grow();
    const time = this.time, seq = this.seq, kinds = this.kinds, args = this.args;
    const sq = this.counter++;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = time[p];
      if (pt < t || (pt === t && seq[p] < sq)) break;
      time[i] = pt; seq[i] = seq[p]; kinds[i] = kinds[p]; args[i] = args[p];
      i = p;
    }
    time[i] = t; seq[i] = sq; kinds[i] = kind; args[i] = arg;
  }

  /** Pop the earliest event into now/kind/arg; false when empty. */
  pop(): boolean {
    if (this.n === 0) return false;
    const time = this.time, seq = this.seq, kinds = this.kinds, args = this.args;
    this.now = time[0];
    this.kind = kinds[0];
    this.arg = args[0];
    this.handled++;
    const last = --this.n;
    if (last > 0) {
      const t = time[last], sq = seq[last], k = kinds[last], a = args[last];
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= last) break;
        const r = c + 1;
        if (r < last && (time[r] < time[c] || (time[r] === time[c] && seq[r] < seq[c]))) c = r;
        if (time[c] > t || (time[c] === t && seq[c] > sq)) break;
        time[i] = time[c]; seq[i] = seq[c]; kinds[i] = kinds[c]; args[i] = args[c];
        i = c;
      }
      time[i] = t; seq[i] = sq; kinds[i] = k; args[i] = a;
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
