/**
 * Parsing of numbers with units, as accepted on the command line and in specs:
 * sizes (`4096`, `4KiB`, `2MiB`, `1GiB`, `1.5KB`), times (`250ns`, `10us`, `10µs`, `10ms`, `1s`),
 * rates (`10Gbps`, `100Gb/s`, `2.5GT/s`), frequencies (`2.4GHz`, `800MHz`).
 * Each returns NaN when the text is not of that kind; callers turn that into an InputError naming the key.
 */
const SIZE: Record<string, number> = {
  '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, k: 1024, m: 1024 ** 2, g: 1024 ** 3,
};
const TIME_NS: Record<string, number> = {
  '': 1, ps: 1e-3, ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9,
};
const RATE_BPS: Record<string, number> = {
  '': 1, bps: 1, 'b/s': 1, kbps: 1e3, mbps: 1e6, gbps: 1e9, 'gb/s': 1e9, 'mb/s': 1e6, tbps: 1e12,
};
const FREQ_HZ: Record<string, number> = { '': 1, hz: 1, khz: 1e3, mhz: 1e6, ghz: 1e9 };

const NUM_UNIT = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([a-zµμ/]*)\s*$/i;

function parseWith(text: string | number, table: Record<string, number>): number {
  if (typeof text === 'number') return text;
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  const m = NUM_UNIT.exec(t);
  if (!m) return NaN;
  const unit = m[2]!.toLowerCase();
  const mult = table[unit];
  if (mult === undefined) return NaN;
  return Number(m[1]) * mult;
}

/** Bytes. */
export const parseSize = (text: string | number): number => parseWith(text, SIZE);
/** Nanoseconds. */
export const parseTimeNs = (text: string | number): number => parseWith(text, TIME_NS);
/** Bits per second. */
export const parseRateBps = (text: string | number): number => parseWith(text, RATE_BPS);
/** Hertz. */
export const parseFreqHz = (text: string | number): number => parseWith(text, FREQ_HZ);

/** `4096` → `4KiB`, `2097152` → `2MiB`; exact multiples only, else bytes. */
export function formatSize(bytes: number): string {
  for (const [u, m] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= m && bytes % m === 0) return `${bytes / m}${u}`;
  }
  return `${bytes}B`;
}

/** A duration in ms as m:ss or h:mm:ss (`--:--` when not finite): progress lines' elapsed and remaining times. */
export function formatClock(ms: number): string {
  if (!Number.isFinite(ms)) return '--:--';
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
