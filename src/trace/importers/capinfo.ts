/**
 * What a capture holds, as Wireshark's capinfos reports it: frames, bytes captured and on the wire,
 * first and last packet time, duration, and per interface the link type and snaplen. `iommusim
 * trace info` prints it beside the DMA records the capture becomes.
 *
 * Definitions follow capinfos (Wireshark 4.0): "Data size" is the sum of the original (wire)
 * lengths; the first and last packet times are the earliest and latest timestamps (not the first
 * and last records, which differ only in a file out of time order); the duration is their
 * difference. Times are UTC.
 */
import type { CaptureFile, PacketColumns } from './pcap.js';

/** LINKTYPE_* names of tcpdump.org "Link-layer header types" for the link types the importer reads. */
const LINK_TYPE_NAMES: Record<number, string> = {
  0: 'NULL (BSD loopback)', 1: 'ETHERNET', 12: 'RAW (BSD)', 14: 'RAW (BSD)', 101: 'RAW (raw IP)',
  108: 'LOOP (OpenBSD loopback)', 113: 'LINUX_SLL (Linux cooked v1)', 228: 'IPV4', 229: 'IPV6',
  276: 'LINUX_SLL2 (Linux cooked v2)',
};

export function linkTypeName(linkType: number): string {
  return LINK_TYPE_NAMES[linkType] ?? 'not decoded';
}

export interface CaptureTime {
  /** Whole seconds since 1970 (UTC). */
  sec: number;
  /** Nanoseconds, 0 ≤ ns < 1e9 (fractional for resolutions finer than 1 ns). */
  ns: number;
  /** `YYYY-MM-DD HH:MM:SS.fraction` (UTC), as many fraction digits as the timestamps carry. */
  text: string;
}

export interface CaptureInfo {
  format: 'pcap' | 'pcapng';
  frames: number;
  /** Sum of the captured lengths (bytes stored in the file). */
  capturedBytes: number;
  /** Sum of the original lengths: capinfos' "Data size". */
  wireBytes: number;
  /** Earliest and latest packet time; null without packets. */
  firstPacket: CaptureTime | null;
  lastPacket: CaptureTime | null;
  durationNs: number;
  /** Fraction digits of the times (6 for µs timestamps, 9 for ns). */
  timeDigits: number;
  interfaces: Array<{ linkType: number; linkTypeName: string; snapLen: number; tsResolNs: number; name: string }>;
  /** True when the file was cut inside a record and the records before the cut were used. */
  partial: boolean;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** An absolute time from the capture's anchor (t0Sec, t0Ns) plus `relNs`; `digits` fraction digits. */
export function captureTime(t0Sec: number, t0Ns: number, relNs: number, digits: number): CaptureTime {
  const total = t0Ns + relNs; // |relNs| < 2^53: exact enough
  const sec = t0Sec + Math.floor(total / 1e9);
  const ns = total - Math.floor(total / 1e9) * 1e9;
  // the text: the fraction rounded to `digits` digits, which may carry into the seconds
  let shownSec = sec;
  let frac = Math.round(ns / 10 ** (9 - digits));
  if (frac >= 10 ** digits) { frac -= 10 ** digits; shownSec += 1; }
  const d = new Date(shownSec * 1000);
  const text = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    (digits > 0 ? '.' + String(frac).padStart(digits, '0') : '');
  return { sec, ns, text };
}

/** Fraction digits that show a timestamp of this resolution exactly (9 at most). */
function digitsOf(tsResolNs: number): number {
  for (let d = 0; d < 9; d++) if (Math.abs(tsResolNs - 10 ** (9 - d)) < 1e-9 * 10 ** (9 - d) || tsResolNs > 10 ** (9 - d)) return d;
  return 9;
}

/** The per-packet sums captureInfo reports, added a chunk at a time (a capture read in pieces). */
export class CaptureTally {
  frames = 0;
  capturedBytes = 0;
  wireBytes = 0;
  minNs = Infinity;
  maxNs = -Infinity;
  add(p: PacketColumns): void {
    let captured = this.capturedBytes, wire = this.wireBytes, min = this.minNs, max = this.maxNs;
    for (let i = 0; i < p.count; i++) {
      captured += p.capLen[i]!;
      wire += p.origLen[i]!;
      const t = p.tsNs[i]!;
      if (t < min) min = t;
      if (t > max) max = t;
    }
    this.frames += p.count;
    this.capturedBytes = captured;
    this.wireBytes = wire;
    this.minNs = min;
    this.maxNs = max;
  }
}

/** The header facts captureSummary needs: a CaptureFile's, or a CaptureReader's once it has ended. */
export type CaptureHeader = Pick<CaptureFile, 'format' | 'interfaces' | 't0Sec' | 't0Ns' | 'partial'>;

export function captureInfo(cap: CaptureFile): CaptureInfo {
  const tally = new CaptureTally();
  tally.add(cap.packets);
  return captureSummary(cap, tally);
}

/** captureInfo from a capture's header facts and its packets' tally (a capture read a chunk at a time: src/trace/capture-file.ts readCaptureInfo). */
export function captureSummary(cap: CaptureHeader, t: CaptureTally): CaptureInfo {
  const n = t.frames;
  const digits = cap.interfaces.length ? Math.max(...cap.interfaces.map((f) => digitsOf(f.tsResolNs))) : 6;
  return {
    format: cap.format,
    frames: n,
    capturedBytes: t.capturedBytes,
    wireBytes: t.wireBytes,
    firstPacket: n ? captureTime(cap.t0Sec, cap.t0Ns, t.minNs, digits) : null,
    lastPacket: n ? captureTime(cap.t0Sec, cap.t0Ns, t.maxNs, digits) : null,
    durationNs: n ? t.maxNs - t.minNs : 0,
    timeDigits: digits,
    interfaces: cap.interfaces.map((f) => ({ linkType: f.linkType, linkTypeName: linkTypeName(f.linkType), snapLen: f.snapLen, tsResolNs: f.tsResolNs, name: f.name })),
    partial: cap.partial,
  };
}
