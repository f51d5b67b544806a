/**
 * Progress of one long `run` on a terminal: records read, the trace time reached, records per
 * second and, when the record count is known (an .iotrace's index), the time left. Redrawn in
 * place on stderr at most every `everyMs`, cleared at the end; nothing at all when stderr is not a
 * terminal (or with --quiet), so piped and logged output stays the result alone.
 */
import type { TraceChunks, TraceColumns } from '../trace/columns.js';
import { formatClock } from '../util/units.js';

/** Where progress goes: process.stderr, or a test's stand-in. */
export interface ProgressOut {
  readonly isTTY?: boolean;
  write(s: string): unknown;
}

export interface ProgressOptions {
  /** Records in the whole trace, when known (then the line gives a share and the time left). */
  total?: number;
  /** Least time between redraws, ms (default 250). */
  everyMs?: number;
  /** The clock, ms (tests give their own). */
  now?: () => number;
}

/** A stream with a progress line; `end()` clears the line (call it when the run ends or fails). */
export interface ProgressChunks extends TraceChunks {
  end(): void;
}

/**
 * `src` with a progress line drawn as its chunks are read; no line when `out` is null or not a
 * terminal. The chunks are passed on untouched.
 */
export function withProgress(src: TraceChunks, out: ProgressOut | null, label: string, opts: ProgressOptions = {}): ProgressChunks {
  if (out === null || !out.isTTY) return { devices: src.devices, next: () => src.next(), end: () => {} };
  const now = opts.now ?? (() => performance.now());
  const every = opts.everyMs ?? 250;
  const total = opts.total;
  const start = now();
  let records = 0, first = NaN, last = NaN, drawn = -Infinity, shown = false;
  const draw = (at: number): void => {
    const el = at - start;
    const rate = el > 0 ? records / (el / 1000) : 0;
    const span = Number.isNaN(first) ? 0 : last - first;
    let line = `${label}: ${records.toLocaleString('en-US')}${total !== undefined ? `/${total.toLocaleString('en-US')} (${total > 0 ? ((100 * records) / total).toFixed(1) : '100.0'} %)` : ''} records, trace time ${(span / 1e6).toFixed(3)} ms, ${(rate / 1e6).toFixed(2)} M records/s`;
    if (total !== undefined) line += `, ETA ${formatClock(rate > 0 ? ((total - records) / rate) * 1000 : Infinity)}`;
    out.write(`\r\x1b[K${line}`);
    shown = true;
  };
  const end = (): void => {
    if (shown) out.write('\r\x1b[K');
    shown = false;
  };
  return {
    devices: src.devices,
    end,
    next(): TraceColumns | null {
      const t = src.next();
      if (t === null) { end(); return null; }
      if (t.count > 0) {
        if (Number.isNaN(first)) first = t.timeNs[0];
        last = t.timeNs[t.count - 1];
      }
      records += t.count;
      const n = now();
      if (n - drawn >= every) { drawn = n; draw(n); }
      return t;
    },
  };
}
