/**
 * Packet-capture importers: classic pcap (libpcap savefile) and pcapng, read into columns (typed
 * arrays) that later become NIC DMA traffic. One reader (CaptureReader) does it a piece at a time
 * from a ByteSource (a file, a gzip stream: src/trace/capture-file.ts), a chunk of packets at a
 * time in reused columns; parseCapture is the same reader over a buffer in memory, collected.
 *
 * Sources: IETF draft-ietf-opsawg-pcap (pcap), draft-ietf-opsawg-pcapng / github.com/pcapng/pcapng
 * (pcapng), tcpdump.org link-layer header types; see README-pcap.md for what is and is not parsed,
 * the error rules and the flow hash.
 *
 * Contract: any malformed input ends in ONE `InputError` whose message names the file, the byte
 * offset and the fix. No other exception type escapes, and every record loop advances by at least 12 bytes.
 * The hot loops read with one DataView and plain byte indexing; they allocate nothing per packet.
 * A record cut by a read is carried over: the unparsed bytes move to the front of the read buffer
 * and the loop goes on after the next read (so a record is parsed only once it is whole, and every
 * message gives the same file offsets as for the whole file in memory).
 */
import { fmix32 } from '../../util/hash.js';
import { InputError, inputError } from '../../util/errors.js';
import { allocColumnArrays, columnNames, growFields, type ColumnArrays } from '../../util/typed.js';

export interface CaptureInterface {
  linkType: number;
  snapLen: number;
  /** pcapng `if_name` option; '' when absent (always '' for pcap). */
  name: string;
  /** Nanoseconds per timestamp tick (a float): 1000 for µs, 1 for ns, 1e9/2^n for base-2 resolutions. */
  tsResolNs: number;
}

/** A packet's direction (pcapng epb_flags bits 0-1): not given, inbound (received: RX), outbound (sent: TX). */
export const PKT_DIR_UNKNOWN = 0, PKT_DIR_INBOUND = 1, PKT_DIR_OUTBOUND = 2;

/** The packet columns, in order: one list declares PacketColumns, allocates, grows, appends and trims them. */
const PACKET_COLUMNS = {
  /** Time since the first timestamped packet, in ns (exact for integer-ns resolutions below 2^53 ns ≈ 104 days). */
  tsNs: Float64Array,
  /** Original (wire) length; use this for traffic. Frames cut by the snaplen keep it. */
  origLen: Uint32Array,
  /** Bytes stored in the file. */
  capLen: Uint32Array,
  /** Index into `CaptureFile.interfaces` (0 for pcap). */
  iface: Uint16Array,
  /** PKT_DIR_UNKNOWN, PKT_DIR_INBOUND (RX) or PKT_DIR_OUTBOUND (TX): pcapng's epb_flags direction bits. */
  dir: Uint8Array,
  /** Symmetric hash of the IPv4/IPv6 flow (ports for TCP/UDP/SCTP/DCCP/UDP-Lite); 0 when not IP. */
  flowHash: Uint32Array,
  /** IP protocol number (6 TCP, 17 UDP, ...), 0 when not IP. */
  l4: Uint8Array,
} as const;
const PACKET_COLUMN_NAMES = columnNames(PACKET_COLUMNS);

/** Captured packets: one typed array a column (PACKET_COLUMNS), `count` rows. */
export interface PacketColumns extends ColumnArrays<typeof PACKET_COLUMNS> {
  count: number;
}

/** Packet columns with room for `capacity` packets (zeroed), none held yet. */
export function allocPacketColumns(capacity: number): PacketColumns {
  return allocColumnArrays(PACKET_COLUMNS, capacity, { count: 0 });
}

export interface CaptureFile {
  format: 'pcap' | 'pcapng';
  interfaces: CaptureInterface[];
  packets: PacketColumns;
  /** Absolute time of the first timestamped packet: whole seconds since 1970 ... */
  t0Sec: number;
  /** ... plus nanoseconds (0 ≤ t0Ns < 1e9; fractional only for resolutions finer than 1 ns or base 2). */
  t0Ns: number;
  warnings: string[];
  /** True when the file was cut inside a record and `allowPartial` kept the packets before the cut. */
  partial: boolean;
}

export interface ParseCaptureOptions {
  /** Keep the complete packets before a truncation instead of failing (corruption still fails). */
  allowPartial?: boolean;
}

/** Largest captured length accepted (libpcap's and Wireshark's maximum snapshot length). */
export const MAX_CAPTURED_LENGTH = 262_144;
/** A record may exceed the header snaplen by this much (stale snaplens exist; libpcap tolerates them). */
export const SNAPLEN_SLACK = 65_536;
/** Larger original lengths are taken as corruption (BIG TCP GSO frames reach ~512 KiB). */
export const MAX_ORIGINAL_LENGTH = 16 * 1024 * 1024;
/** Larger pcapng blocks are taken as corruption. */
export const MAX_BLOCK_LENGTH = 16 * 1024 * 1024;

const PCAP_HEADER = 24;
const PCAP_RECORD = 16;
const SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;
const TWO32 = 4294967296;
const NO_LIMIT = 0xffffffff;

const hex = (v: number, w = 8): string => '0x' + (v >>> 0).toString(16).padStart(w, '0');
const at = (file: string, off: number): string => `${file} at byte ${off}`;
const utf8 = new TextDecoder('utf-8');

// ---------------------------------------------------------------------------------------------
// Format detection

/** 'pcap' / 'pcapng' from the first 4 (or more) bytes, or null. */
export function detectCaptureFormat(head: Uint8Array): 'pcap' | 'pcapng' | null {
  if (head.length < 4) return null;
  const a = head[0]!, b = head[1]!, c = head[2]!, d = head[3]!;
  if (a === 0x0a && b === 0x0d && c === 0x0d && d === 0x0a) return 'pcapng';
  // little-endian writers: d4 c3 b2 a1 (µs), 4d 3c b2 a1 (ns)
  if (c === 0xb2 && d === 0xa1 && ((a === 0xd4 && b === 0xc3) || (a === 0x4d && b === 0x3c))) return 'pcap';
  // big-endian writers: a1 b2 c3 d4 (µs), a1 b2 3c 4d (ns)
  if (a === 0xa1 && b === 0xb2 && ((c === 0xc3 && d === 0xd4) || (c === 0x3c && d === 0x4d))) return 'pcap';
  return null;
}

function notACapture(bytes: Uint8Array, file: string): InputError {
  const seen = Array.from(bytes.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ');
  const b0 = bytes[0], b1 = bytes[1], b2 = bytes[2], b3 = bytes[3];
  let hint = 'expected the pcap magic a1b2c3d4 or a1b23c4d (in either byte order) or the pcapng block type 0a0d0d0a';
  let fix = 'pass a pcap or pcapng capture (tcpdump -w, dumpcap, editcap -F pcap)';
  if (b0 === 0x1f && b1 === 0x8b) {
    hint = 'the file is gzip-compressed';
    fix = 'decompress it first (gunzip)';
  } else if ((b0 === 0xa1 && b1 === 0xb2 && b2 === 0xcd && b3 === 0x34) || (b0 === 0x34 && b1 === 0xcd && b2 === 0xb2 && b3 === 0xa1)) {
    hint = 'this is the "modified" (Kuznetzov) pcap variant, which is not supported';
    fix = 'convert it with editcap -F pcap';
  }
  return inputError(at(file, 0), `not a capture file (first bytes ${seen || 'none'}); ${hint}`, fix);
}

// ---------------------------------------------------------------------------------------------
// Column storage: one chunk's (fixed), or the whole capture's (grows by doubling; trimmed to `count` at the end)

class Columns {
  cap: number;
  /** The arrays, grown in place; `p.count` packets held. */
  readonly p: PacketColumns;
  constructor(capacity: number) {
    this.cap = Math.max(1, Math.min(capacity, 2 ** 30) | 0);
    this.p = allocPacketColumns(this.cap);
  }
  grow(): void {
    this.cap *= 2;
    growFields(this.p, PACKET_COLUMN_NAMES, this.cap);
  }
  /** Add a chunk's packets after the ones held. */
  append(q: PacketColumns): void {
    const p = this.p, k = q.count, at = p.count;
    while (at + k > this.cap) this.grow();
    for (const c of PACKET_COLUMN_NAMES) (p[c] as Uint8Array).set((q[c] as Uint8Array).subarray(0, k), at);
    p.count = at + k;
  }
  /** The packets held, in arrays of their own length (the arrays themselves when full). */
  finish(): PacketColumns {
    const p = this.p, n = p.count;
    if (n === this.cap) return p;
    const out = { count: n } as PacketColumns;
    for (const c of PACKET_COLUMN_NAMES) (out[c] as Uint8Array) = (p[c] as Uint8Array).slice(0, n);
    return out;
  }
}

/** A first guess at the packet count: most captures average ≥ 96 bytes per record. */
function guessCount(bytes: number): number {
  return Math.min(Math.ceil(bytes / 16) + 1, Math.max(256, Math.ceil(bytes / 96)));
}

// ---------------------------------------------------------------------------------------------
// Link layer → IP → flow hash (symmetric). Results besides the hash go through module scratch
// variables so the hot loop allocates nothing.

let outL4 = 0;
let outLinkDir = 0;

function mixK(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}


const rd32 = (b: Uint8Array, p: number): number => ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) | 0;

function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 132 || proto === 33 || proto === 136;
}

/** Combine two endpoint hashes order-independently, with the protocol and address family. */
function combine(ea: number, eb: number, proto: number, family: number): number {
  const lo = ea < eb ? ea : eb;
  const hi = ea < eb ? eb : ea;
  let h = mixK(0x2545f491, lo);
  h = mixK(h, hi);
  h = mixK(h, proto | (family << 8));
  h = fmix32(h ^ 12);
  return h === 0 ? 1 : h;
}

function ipv4Flow(b: Uint8Array, q: number, end: number): number {
  if (q + 20 > end) return 0;
  const vihl = b[q]!;
  if (vihl >> 4 !== 4) return 0;
  const ihl = (vihl & 15) << 2;
  if (ihl < 20) return 0;
  const proto = b[q + 9]!;
  outL4 = proto;
  const frag = ((b[q + 6]! << 8) | b[q + 7]!) & 0x3fff; // MF flag + fragment offset
  const l4 = q + ihl;
  let sp = 0, dp = 0;
  if (frag === 0 && hasPorts(proto) && l4 + 4 <= end) {
    sp = (b[l4]! << 8) | b[l4 + 1]!;
    dp = (b[l4 + 2]! << 8) | b[l4 + 3]!;
  }
  const ea = fmix32(mixK(mixK(0x3c6ef372, rd32(b, q + 12)), sp));
  const eb = fmix32(mixK(mixK(0x3c6ef372, rd32(b, q + 16)), dp));
  return combine(ea, eb, proto, 4);
}

function ipv6Flow(b: Uint8Array, q: number, end: number): number {
  if (q + 40 > end) return 0;
  if (b[q]! >> 4 !== 6) return 0;
  let nh = b[q + 6]!;
  let r = q + 40;
  let ports = true;
  // Walk extension headers: hop-by-hop 0, routing 43, fragment 44, AH 51, dest-opts 60, mobility 135.
  for (let k = 0; k < 8; k++) {
    if (nh === 0 || nh === 43 || nh === 60 || nh === 135) {
      if (r + 8 > end) { ports = false; break; }
      const next = b[r]!;
      r += (b[r + 1]! + 1) << 3;
      nh = next;
    } else if (nh === 44) {
      if (r + 8 > end) { ports = false; break; }
      const offM = ((b[r + 2]! << 8) | b[r + 3]!) & 0xfff9; // offset + M flag
      if (offM !== 0) ports = false; // a real fragment: hash addresses only (as RSS does)
      nh = b[r]!;
      r += 8;
    } else if (nh === 51) {
      if (r + 8 > end) { ports = false; break; }
      const next = b[r]!;
      r += (b[r + 1]! + 2) << 2;
      nh = next;
    } else {
      break;
    }
  }
  outL4 = nh;
  let sp = 0, dp = 0;
  if (ports && hasPorts(nh) && r + 4 <= end) {
    sp = (b[r]! << 8) | b[r + 1]!;
    dp = (b[r + 2]! << 8) | b[r + 3]!;
  }
  let ea = mixK(0x3c6ef372, rd32(b, q + 8));
  ea = mixK(ea, rd32(b, q + 12));
  ea = mixK(ea, rd32(b, q + 16));
  ea = fmix32(mixK(mixK(ea, rd32(b, q + 20)), sp));
  let eb = mixK(0x3c6ef372, rd32(b, q + 24));
  eb = mixK(eb, rd32(b, q + 28));
  eb = mixK(eb, rd32(b, q + 32));
  eb = fmix32(mixK(mixK(eb, rd32(b, q + 36)), dp));
  return combine(ea, eb, nh, 6);
}

/**
 * Flow hash of the frame at b[p .. p+len) for a link type; sets `outL4` (IP protocol or 0) and
 * `outLinkDir` (direction known from the link header, Linux cooked captures only).
 */
function classify(b: Uint8Array, p: number, len: number, linkType: number): number {
  outL4 = 0;
  outLinkDir = 0;
  const end = p + len;
  let et: number;
  let q: number;
  switch (linkType) {
    case 1: // Ethernet
      if (len < 14) return 0;
      et = (b[p + 12]! << 8) | b[p + 13]!;
      q = p + 14;
      break;
    case 101: case 12: case 14: { // raw IP (101; 12 and 14 are DLT_RAW on BSDs)
      if (len < 1) return 0;
      const v = b[p]! >> 4;
      return v === 4 ? ipv4Flow(b, p, end) : v === 6 ? ipv6Flow(b, p, end) : 0;
    }
    case 228: return ipv4Flow(b, p, end);
    case 229: return ipv6Flow(b, p, end);
    case 0: case 108: { // BSD loopback: 4-byte address family, then IP
      if (len < 5) return 0;
      const v = b[p + 4]! >> 4;
      return v === 4 ? ipv4Flow(b, p + 4, end) : v === 6 ? ipv6Flow(b, p + 4, end) : 0;
    }
    case 113: { // Linux cooked (SLL): packet type (2), ARPHRD (2), addr len (2), addr (8), protocol (2)
      if (len < 16) return 0;
      const pt = (b[p]! << 8) | b[p + 1]!;
      outLinkDir = pt === 4 ? 2 : pt <= 3 ? 1 : 0;
      et = (b[p + 14]! << 8) | b[p + 15]!;
      q = p + 16;
      break;
    }
    case 276: { // Linux cooked v2 (SLL2): protocol (2), reserved (2), ifindex (4), ARPHRD (2), packet type (1), ...
      if (len < 20) return 0;
      const pt = b[p + 10]!;
      outLinkDir = pt === 4 ? 2 : pt <= 3 ? 1 : 0;
      et = (b[p]! << 8) | b[p + 1]!;
      q = p + 20;
      break;
    }
    default:
      return 0;
  }
  // 802.1Q / 802.1ad / legacy QinQ tags: TCI (2) then the inner EtherType (2)
  while ((et === 0x8100 || et === 0x88a8 || et === 0x9100) && q + 4 <= end) {
    et = (b[q + 2]! << 8) | b[q + 3]!;
    q += 4;
  }
  if (et === 0x0800) return ipv4Flow(b, q, end);
  if (et === 0x86dd) return ipv6Flow(b, q, end);
  return 0;
}

/** Flow hash and IP protocol of one frame (for tests and tools; the parsers inline the same code). */
export function flowHashOf(frame: Uint8Array, linkType: number): { flowHash: number; l4: number } {
  const h = classify(frame, 0, frame.length, linkType);
  return { flowHash: h, l4: outL4 };
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** Where the parse is, for the last-resort error (see parseCapture). */
let cursor = 0;

interface WarnCounts {
  overSnap: number;
  origBelowCap: number;
  badFraction: number;
  spbNoTime: number;
  tsPrecision: number;
}

const newCounts = (): WarnCounts => ({ overSnap: 0, origBelowCap: 0, badFraction: 0, spbNoTime: 0, tsPrecision: 0 });

function countWarnings(file: string, c: WarnCounts, warnings: string[]): void {
  if (c.overSnap) warnings.push(`${file}: ${c.overSnap} packet(s) have a captured length above the interface snaplen (kept; the header snaplen is probably stale)`);
  if (c.origBelowCap) warnings.push(`${file}: ${c.origBelowCap} packet(s) have an original length below the captured length (kept as written)`);
  if (c.badFraction) warnings.push(`${file}: ${c.badFraction} packet(s) have a sub-second timestamp field of one second or more (used as written)`);
  if (c.spbNoTime) warnings.push(`${file}: ${c.spbNoTime} Simple Packet Block(s) carry no timestamp; each was given the time of the packet before it`);
  if (c.tsPrecision) warnings.push(`${file}: ${c.tsPrecision} packet(s) are more than 2^53 ticks away from their interface's first packet; their times are rounded`);
}

function truncatedError(file: string, recStart: number, end: number, what: string, k: number, need: number, kept: number): InputError {
  return inputError(
    at(file, recStart),
    `file truncated at byte ${end} inside ${what} ${k} (header says ${need} bytes)`,
    `re-capture, or read it without --strict (allowPartial) to use the ${kept} complete packet(s) before it`,
  );
}

// ---------------------------------------------------------------------------------------------
// pcapng block names and interface table

const BLOCK_NAMES: Record<number, string> = {
  0x0a0d0d0a: 'Section Header Block', 1: 'Interface Description Block', 2: 'Packet Block',
  3: 'Simple Packet Block', 4: 'Name Resolution Block', 5: 'Interface Statistics Block',
  6: 'Enhanced Packet Block', 9: 'systemd Journal Export Block', 0x0a: 'Decryption Secrets Block',
  0x0bad: 'Custom Block', 0x40000bad: 'Custom Block',
};
const blockName = (t: number): string => BLOCK_NAMES[t] ?? `block of type ${hex(t)}`;

/** Per-interface state kept in flat arrays (indexed by the global interface number). */
interface IfaceTable {
  list: CaptureInterface[];
  link: number[];
  snapCheck: number[];
  capLimit: number[];
  resNs: number[];
  /** if_tsresol byte and if_tsoffset seconds, for the exact anchor computation */
  resol: number[];
  offsetSec: number[];
  anchored: boolean[];
  hi0: number[];
  lo0: number[];
  baseNs: number[];
}

function tsResolNs(resol: number): number {
  return resol & 0x80 ? 1e9 / 2 ** (resol & 0x7f) : resol <= 9 ? 10 ** (9 - resol) : 1e9 / 10 ** resol;
}

/** Exact absolute time of a 64-bit tick count: [whole seconds, nanoseconds (maybe fractional)]. */
function absTime(hi: number, lo: number, resol: number, offsetSec: number): [number, number] {
  const ticks = (BigInt(hi) << 32n) | BigInt(lo);
  if (resol & 0x80) {
    const e = BigInt(resol & 0x7f);
    const rem = Number(ticks & ((1n << e) - 1n));
    return [Number(ticks >> e) + offsetSec, rem * (1e9 / 2 ** (resol & 0x7f))];
  }
  const d = 10n ** BigInt(resol);
  const rem = Number(ticks % d); // < 10^resol: exact up to resol 15
  const ns = resol <= 9 ? rem * 10 ** (9 - resol) : rem / 10 ** (resol - 9);
  return [Number(ticks / d) + offsetSec, ns];
}

/** Direction bits (0-1) of epb_flags / pack_flags (option code 2), 0 when absent; `base` turns buffer offsets into file offsets. */
function packetFlagsDir(dv: DataView, file: string, base: number, p: number, end: number, le: boolean, type: number, blockNo: number): number {
  let dir = 0;
  for (;;) {
    const olen = optionAt(dv, file, base, p, end, le, type, blockNo);
    if (olen < 0) return dir;
    if (optCode === 2 && olen >= 4) {
      const d = dv.getUint32(p + 4, le) & 3;
      dir = d === 3 ? 0 : d;
    }
    p += 4 + ((olen + 3) & ~3);
  }
}

/** The code of the option optionAt read last. */
let optCode = 0;

/**
 * The pcapng option at buf[p] of a block's options (which end at `end`), checked: the length of its
 * value (at p + 4; the next option at p + 4 + the length rounded up to 4), its code in `optCode`;
 * -1 at opt_endofopt or the end. `base` turns buffer offsets into file offsets for the error.
 */
function optionAt(dv: DataView, file: string, base: number, p: number, end: number, le: boolean, type: number, blockNo: number): number {
  if (p >= end) return -1;
  if (end - p < 4) throw badOption(file, base + p, type, blockNo);
  optCode = dv.getUint16(p, le);
  const olen = dv.getUint16(p + 2, le);
  if (optCode === 0) return -1;
  if (p + 4 + olen > end) throw badOption(file, base + p, type, blockNo);
  return olen;
}

function blockTooShort(file: string, off: number, type: number, blockNo: number, len: number, min: number): InputError {
  return inputError(at(file, off + 4), `${blockName(type)} (block ${blockNo}) is ${len} bytes long, shorter than its fixed part (${min} bytes)`,
    'the file is corrupt; re-capture it or repair it with pcapfix');
}

function badInterface(file: string, off: number, type: number, blockNo: number, id: number, count: number): InputError {
  return inputError(at(file, off), `${blockName(type)} (block ${blockNo}) refers to interface ${id} but its section describes ${count}`,
    'the file is corrupt or was cut and re-joined; re-capture it or merge captures with mergecap');
}

function badOption(file: string, p: number, type: number, blockNo: number): InputError {
  return inputError(at(file, p), `an option of ${blockName(type)} (block ${blockNo}) runs past the end of the block`,
    'the file is corrupt; re-capture it or repair it with pcapfix');
}

// ---------------------------------------------------------------------------------------------
// The reader: pcap and pcapng, a piece of the file at a time

/**
 * Where a capture's bytes come from, a piece at a time (a file descriptor, a gzip stream being
 * inflated): `read` puts up to `len` bytes at dst[off ..] and returns how many, 0 at the end. It
 * may throw an InputError (a read error, a corrupt gzip stream).
 */
export interface ByteSource {
  read(dst: Uint8Array, off: number, len: number): number;
  /** Release the source (called once, at its end or when the reader is closed early). */
  close?(): void;
}

export interface CaptureReaderOptions extends ParseCaptureOptions {
  /**
   * Packets per chunk (default 65 536): each `next()` fills one reused set of columns this long.
   * `Infinity`: the whole capture in one chunk, in columns that grow and are trimmed (parseCapture).
   */
  chunkPackets?: number;
  /** Bytes asked of the source per read (default 1 MiB); the buffer grows only to hold one record (≤ 16 MiB). */
  readBytes?: number;
  /** The source's length when known (the first column allocation for chunkPackets = Infinity). */
  sizeHint?: number;
}

export const DEFAULT_CHUNK_PACKETS = 1 << 16;
export const DEFAULT_READ_BYTES = 1 << 20;

/**
 * A pcap or pcapng capture read a piece at a time: `next()` gives the next chunk of packets (in
 * one reused set of columns, `count` of them valid) or null at the end, so memory is bounded by
 * the chunk, the read buffer (`readBytes`, or the largest record) and the interface table,
 * whatever the capture's length. The packets, times, warnings and errors are exactly those of
 * `parseCapture` (which is this reader over bytes in memory, collected). The file header is read
 * by the constructor (a file that is not a capture fails there); `interfaces` fill in as they are
 * read; `t0Sec`, `t0Ns` (pcap: set at the end), `warnings` and `partial` are final once `next()`
 * returned null. An error (InputError) releases the source.
 */
export class CaptureReader {
  readonly file: string;
  readonly format: 'pcap' | 'pcapng';
  readonly interfaces: CaptureInterface[] = [];
  t0Sec = 0;
  t0Ns = 0;
  readonly warnings: string[] = [];
  partial = false;
  /** Packets given so far. */
  packets = 0;
  /** True once the end of the capture (or the cut, with allowPartial) was reached. */
  ended = false;

  private src: ByteSource | null;
  private buf: Uint8Array;
  private dv: DataView;
  /** buf[pos .. lim) holds the bytes not parsed yet; buf[0] is byte `base` of the (decompressed) file. */
  private pos = 0;
  private lim = 0;
  private base = 0;
  private eof: boolean;
  private readonly readBytes: number;
  private readonly allowPartial: boolean;
  private readonly whole: boolean;
  /** Packets per chunk (Infinity: whole). */
  private readonly chunk: number;
  private readonly cols: Columns;
  private readonly counts = newCounts();
  private given = false;
  // pcap
  private le = true;
  private linkType = 0;
  private snapLen = 0;
  private capLimit = 0;
  private snapCheck = 0;
  private fracMul = 1000;
  private fracMax = 1e6;
  private sec0 = 0;
  private frac0 = 0;
  // pcapng
  private readonly ifs: IfaceTable = {
    list: this.interfaces, link: [], snapCheck: [], capLimit: [], resNs: [], resol: [], offsetSec: [],
    anchored: [], hi0: [], lo0: [], baseNs: [],
  };
  private blockNo = 0;
  /** The type of the block blockHead checked last. */
  private blockType = 0;
  private secBase = 0; // global index of this section's interface 0
  private secCount = 0; // interfaces in this section
  private haveT0 = false;
  private lastTs = 0;
  private pendingNoTime = 0; // SPBs seen before the first timestamped packet (their time is t0 = 0)
  private unknownBlocks = 0;
  private unknownTypes = '';

  /** `input`: the whole capture in memory, or a source read `readBytes` at a time. `file` only labels messages. */
  constructor(input: Uint8Array | ByteSource, file: string, opts: CaptureReaderOptions = {}) {
    this.file = file;
    this.allowPartial = opts.allowPartial === true;
    const chunk = opts.chunkPackets ?? DEFAULT_CHUNK_PACKETS;
    if (!(chunk >= 1)) throw new RangeError(`CaptureReader chunkPackets=${chunk}: give the packets per chunk (≥ 1), or Infinity`);
    this.readBytes = Math.max(1, Math.floor(opts.readBytes ?? DEFAULT_READ_BYTES));
    if (input instanceof Uint8Array) {
      this.src = null;
      this.buf = input;
      this.lim = input.length;
      this.eof = true;
    } else {
      this.src = input;
      this.buf = new Uint8Array(Math.max(64, Math.min(this.readBytes, 1 << 24)));
      this.eof = false;
    }
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.whole = chunk === Infinity;
    this.chunk = this.whole ? Infinity : Math.floor(chunk);
    const size = opts.sizeHint ?? (input instanceof Uint8Array ? input.length : 0);
    this.cols = new Columns(this.whole ? guessCount(size) : this.chunk);
    try {
      if (!this.eof) this.more(8);
      if (this.lim === 0) throw inputError(at(file, 0), 'the file is empty', 'pass a pcap or pcapng capture');
      const format = detectCaptureFormat(this.buf.subarray(0, this.lim));
      if (format === null) throw notACapture(this.buf.subarray(0, this.lim), file);
      this.format = format;
      if (format === 'pcap') this.pcapHeader();
    } catch (e) {
      this.release();
      throw e;
    }
  }

  /** The next chunk of packets (count ≥ 1; with chunkPackets = Infinity, every packet, maybe none), or null at the end. */
  next(): PacketColumns | null {
    if (this.ended) {
      if (this.whole && !this.given) { this.given = true; return this.cols.finish(); }
      return null;
    }
    cursor = this.base + this.pos;
    let k: number;
    try {
      k = this.format === 'pcap' ? this.pcapRecords() : this.pcapngBlocks();
    } catch (e) {
      this.release();
      if (e instanceof InputError) throw e;
      // Last resort, so a reader bug never surfaces as a TypeError/RangeError from a CLI.
      throw inputError(at(this.file, cursor), `internal error while reading the record here (${e instanceof Error ? e.message : String(e)})`,
        'please report this with the file attached');
    }
    this.packets += k;
    if (this.ended) this.finishWarnings();
    this.cols.p.count = k;
    if (this.whole) {
      this.given = true;
      return this.cols.finish();
    }
    return k === 0 ? null : this.cols.p;
  }

  /** The rest of the capture, every packet in columns of their own, with the header facts: what parseCapture returns. */
  collect(): CaptureFile {
    let packets: PacketColumns;
    if (this.whole) {
      packets = this.next() ?? new Columns(0).finish();
    } else {
      const all = new Columns(this.chunk);
      for (let p = this.next(); p !== null; p = this.next()) all.append(p);
      packets = all.finish();
    }
    return { format: this.format, interfaces: this.interfaces, packets, t0Sec: this.t0Sec, t0Ns: this.t0Ns, warnings: this.warnings, partial: this.partial };
  }

  /** Stop reading before the end: the source (a file, a gzip worker) is released and next() gives null. */
  close(): void {
    this.release();
    this.ended = true;
    this.given = true;
  }

  /** The source is done with (at its end, at an error, or closed). */
  private release(): void {
    const s = this.src;
    this.src = null;
    this.eof = true;
    if (s) s.close?.();
  }

  /**
   * Keep buf[pos .. lim), moved to the front, and read until at least `need` bytes are there or
   * the source ends (the buffer grows to `need` if it must: one record).
   */
  private more(need: number): void {
    const keep = this.lim - this.pos;
    let b = this.buf;
    if (need > b.length) {
      const nb = new Uint8Array(Math.max(need, Math.min(2 * b.length, MAX_BLOCK_LENGTH)));
      nb.set(b.subarray(this.pos, this.lim));
      b = this.buf = nb;
      this.dv = new DataView(nb.buffer);
    } else if (this.pos > 0) {
      b.copyWithin(0, this.pos, this.lim);
    }
    this.base += this.pos;
    this.pos = 0;
    this.lim = keep;
    const src = this.src;
    while (this.lim < need && src !== null) {
      const k = src.read(b, this.lim, Math.min(this.readBytes, b.length - this.lim));
      if (k > 0) { this.lim += k; continue; }
      this.release();
      break;
    }
  }

  private finishWarnings(): void {
    const file = this.file, warnings = this.warnings;
    if (this.format === 'pcap') {
      // absolute start; a sub-second field ≥ 1 s (corrupt but tolerated) carries into the seconds
      const t0Frac = this.frac0 * this.fracMul;
      const carry = Math.floor(t0Frac / 1e9);
      this.t0Sec = this.sec0 + carry;
      this.t0Ns = t0Frac - carry * 1e9;
    } else {
      if (this.unknownBlocks) warnings.push(`${file}: skipped ${this.unknownBlocks} block(s) of unknown type (${this.unknownTypes})`);
      if (this.counts.spbNoTime && !this.haveT0) warnings.push(`${file}: no packet carries a timestamp; all times are 0 and t0 is the epoch`);
      else if (this.pendingNoTime) warnings.push(`${file}: ${this.pendingNoTime} Simple Packet Block(s) before the first timestamped packet were given its time`);
    }
    countWarnings(file, this.counts, warnings);
  }

  /** The end of the data at a cut (allowPartial): the warning, and the reader ends. */
  private cut(warning: string): void {
    this.partial = true;
    this.ended = true;
    this.warnings.push(warning);
  }

  // ------------------------------------------------------------------------------------------- pcap

  private pcapHeader(): void {
    const file = this.file;
    if (this.lim < PCAP_HEADER && !this.eof) this.more(PCAP_HEADER);
    const dv = this.dv, n = this.lim;
    const m = dv.getUint32(0, false);
    const le = m === 0xd4c3b2a1 || m === 0x4d3cb2a1;
    const nano = m === 0xa1b23c4d || m === 0x4d3cb2a1;
    if (n < PCAP_HEADER) {
      throw inputError(at(file, 0), `file truncated at byte ${n} inside the ${PCAP_HEADER}-byte pcap file header`, 're-capture the file; no packets can be read without the header');
    }
    const major = dv.getUint16(4, le);
    const minor = dv.getUint16(6, le);
    if (major !== 2) {
      throw inputError(at(file, 4), `unsupported pcap version ${major}.${minor} (expected 2.4)`, 'convert the file with editcap -F pcap');
    }
    const snapLen = dv.getUint32(16, le);
    const ltWord = dv.getUint32(20, le);
    const linkType = ltWord & 0xffff;
    if (ltWord & 0x04000000) {
      const fcsBytes = (ltWord >>> 28) * 2;
      this.warnings.push(`${file}: the header says frames carry a ${fcsBytes}-byte FCS; lengths include it`);
    }
    this.le = le;
    this.linkType = linkType;
    this.snapLen = snapLen;
    this.capLimit = snapLen === 0 ? MAX_CAPTURED_LENGTH : Math.min(MAX_CAPTURED_LENGTH, snapLen + SNAPLEN_SLACK);
    this.snapCheck = snapLen === 0 ? NO_LIMIT : snapLen;
    this.fracMul = nano ? 1 : 1000;
    this.fracMax = nano ? 1e9 : 1e6;
    this.interfaces.push({ linkType, snapLen, name: '', tsResolNs: this.fracMul });
    this.pos = PCAP_HEADER;
  }

  /** Records into the columns until the chunk is full or the data ends; the packets read. */
  private pcapRecords(): number {
    const file = this.file, cols = this.cols, p = cols.p, counts = this.counts, allowPartial = this.allowPartial;
    const le = this.le, capLimit = this.capLimit, snapCheck = this.snapCheck, snapLen = this.snapLen, linkType = this.linkType;
    const fracMul = this.fracMul, fracMax = this.fracMax, seen = this.packets;
    const limit = this.chunk;
    let bytes = this.buf, dv = this.dv, off = this.pos, n = this.lim, base = this.base;
    let sec0 = this.sec0, frac0 = this.frac0;
    let i = 0;
    while (i < limit) {
      cursor = base + off;
      if (n - off < PCAP_RECORD) {
        if (!this.eof) {
          this.pos = off; this.more(PCAP_RECORD);
          bytes = this.buf; dv = this.dv; off = this.pos; n = this.lim; base = this.base;
          continue;
        }
        if (off === n) { this.ended = true; break; }
        const k = seen + i;
        if (!allowPartial) throw truncatedError(file, base + off, base + n, 'the header of packet record', k + 1, PCAP_RECORD, k);
        this.cut(`${file}: truncated at byte ${base + n} inside the header of packet record ${k + 1}; kept the ${k} complete packet(s) before it`);
        break;
      }
      const sec = dv.getUint32(off, le);
      const frac = dv.getUint32(off + 4, le);
      const capLen = dv.getUint32(off + 8, le);
      const origLen = dv.getUint32(off + 12, le);
      if (capLen > capLimit) {
        throw inputError(at(file, base + off + 8), `packet record ${seen + i + 1} has captured length ${capLen}, impossible with snaplen ${snapLen} (limit ${capLimit})`,
          'the file is corrupt (or not really pcap); re-capture it or repair it with pcapfix');
      }
      if (origLen > MAX_ORIGINAL_LENGTH) {
        throw inputError(at(file, base + off + 12), `packet record ${seen + i + 1} has original length ${origLen}, above the ${MAX_ORIGINAL_LENGTH}-byte limit`,
          'the file is corrupt; re-capture it or repair it with pcapfix');
      }
      const data = off + PCAP_RECORD;
      const next = data + capLen;
      if (next > n) {
        if (!this.eof) {
          this.pos = off; this.more(PCAP_RECORD + capLen);
          bytes = this.buf; dv = this.dv; off = this.pos; n = this.lim; base = this.base;
          continue;
        }
        const k = seen + i;
        if (!allowPartial) throw truncatedError(file, base + off, base + n, 'packet record', k + 1, PCAP_RECORD + capLen, k);
        this.cut(`${file}: truncated at byte ${base + n} inside packet record ${k + 1}; kept the ${k} complete packet(s) before it`);
        break;
      }
      if (i === cols.cap) cols.grow();
      if (i === 0 && seen === 0) { sec0 = this.sec0 = sec; frac0 = this.frac0 = frac; }
      if (frac >= fracMax) counts.badFraction++;
      if (capLen > snapCheck) counts.overSnap++;
      if (origLen < capLen) counts.origBelowCap++;
      p.tsNs[i] = (sec - sec0) * 1e9 + (frac - frac0) * fracMul;
      p.origLen[i] = origLen;
      p.capLen[i] = capLen;
      p.flowHash[i] = classify(bytes, data, capLen, linkType);
      p.l4[i] = outL4;
      p.dir[i] = outLinkDir;
      i++;
      off = next;
    }
    this.pos = off;
    return i;
  }

  // ------------------------------------------------------------------------------------------- pcapng

  /** Blocks until the chunk is full or the data ends; the packets read. */
  private pcapngBlocks(): number {
    const seen = this.packets;
    const limit = this.chunk;
    let i = 0;
    while (i < limit) {
      cursor = this.base + this.pos;
      const len = this.blockHead(seen + i);
      if (len === 0) continue; // more bytes were read
      if (len < 0) break;
      const off = this.pos;
      const type = this.blockType;
      switch (type) {
        case 6: // Enhanced Packet Block
        case 2: // obsolete Packet Block
          this.enhancedPacket(i++, type, off, len);
          break;
        case 3: // Simple Packet Block
          this.simplePacket(i++, off, len);
          break;
        case SHB:
          this.sectionHeader(off, len);
          break;
        case 1: // Interface Description Block
          this.idb(this.buf, this.dv, this.base, off, off + len - 4, len, this.le, this.blockNo);
          break;
        case 4: case 5: case 9: case 0x0a: case 0x0bad: case 0x40000bad:
          break; // NRB, ISB, journal, DSB, custom: nothing for traffic
        default:
          this.unknownBlocks++;
          if (this.unknownTypes.length < 80 && !this.unknownTypes.includes(hex(type))) this.unknownTypes += (this.unknownTypes ? ', ' : '') + hex(type);
          break;
      }
      this.pos = off + len;
    }
    return i;
  }

  /**
   * The block at buf[pos]: once it is whole in the buffer, its header and trailer checked (the
   * byte order set by a Section Header Block), its length (its type in blockType, blockNo counted).
   * 0 when more bytes were read (call again); -1 at the end of the data, or at a cut (allowPartial).
   * `kept`: the packets before it. (The rare cases are methods of their own: this runs per packet.)
   */
  private blockHead(kept: number): number {
    const bytes = this.buf, dv = this.dv, off = this.pos;
    const left = this.lim - off;
    if (left < 12) {
      const r = this.shortHead(kept);
      if (r <= 0) return r;
    }
    const blockNo = this.blockNo + 1;
    let le = this.le;
    if (bytes[off] === 0x0a && bytes[off + 1] === 0x0d && bytes[off + 2] === 0x0d && bytes[off + 3] === 0x0a) le = this.byteOrder(blockNo);
    else if (blockNo === 1) throw notACapture(bytes.subarray(off, this.lim), this.file);
    const type = dv.getUint32(off, le);
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || (len & 3) !== 0 || len > MAX_BLOCK_LENGTH) throw this.badBlock(type, blockNo, 4, `has impossible length ${len} (must be a multiple of 4, at least 12 and at most ${MAX_BLOCK_LENGTH})`);
    if (len > left) return this.shortBlock(type, len, blockNo, kept);
    this.blockNo = blockNo;
    this.le = le;
    const trailer = dv.getUint32(off + len - 4, le);
    if (trailer !== len) throw this.badBlock(type, blockNo, len - 4, `ends with length ${trailer} but starts with ${len}`);
    this.blockType = type;
    return len;
  }

  /**
   * Fewer than 12 bytes left at buf[pos] (blockHead): 0 when more were read; -1 at the end of the
   * data, or at a cut; 1 for the 8-byte header of a block other than a Section Header Block.
   */
  private shortHead(kept: number): number {
    const bytes = this.buf, off = this.pos, left = this.lim - off;
    // need type + length (+ the byte-order magic for an SHB) to know the block's size
    if (!this.eof) { this.more(12); return 0; }
    if (left === 0) { this.ended = true; return -1; }
    const blockNo = this.blockNo + 1;
    const isShb = left >= 4 && bytes[off] === 0x0a && bytes[off + 1] === 0x0d && bytes[off + 2] === 0x0d && bytes[off + 3] === 0x0a;
    if (left < (isShb ? 12 : 8)) return this.truncated(blockNo, kept, `the header of block ${blockNo}`, `the header of block ${blockNo}`);
    return 1;
  }

  /** The byte order a Section Header Block at buf[pos] gives (little-endian: true). */
  private byteOrder(blockNo: number): boolean {
    const bom = this.dv.getUint32(this.pos + 8, false);
    if (bom === BOM) return false;
    if (bom === 0x4d3c2b1a) return true;
    throw inputError(at(this.file, this.base + this.pos + 8), `Section Header Block ${blockNo} has byte-order magic ${hex(bom)}, expected 1a2b3c4d in either byte order`,
      'the file is corrupt; re-capture it or repair it with pcapfix');
  }

  /** A block at buf[pos] longer than the bytes left (blockHead): 0 when more were read, else the end (-1) or the error. */
  private shortBlock(type: number, len: number, blockNo: number, kept: number): number {
    if (!this.eof) { this.more(len); return 0; }
    return this.truncated(blockNo, kept, `block ${blockNo} (${blockName(type)}, header says ${len} bytes)`, `block ${blockNo} (${blockName(type)})`);
  }

  /** The error for a corrupt block at buf[pos]: `what` it has, at its byte `at0`. */
  private badBlock(type: number, blockNo: number, at0: number, what: string): InputError {
    return inputError(at(this.file, this.base + this.pos + at0), `${blockName(type)} (block ${blockNo}) ${what}`, 'the file is corrupt; re-capture it or repair it with pcapfix');
  }

  /**
   * The data ends inside block `blockNo` (`where`: its header, or the block; `cutWhere` in the
   * warning): the error, or with allowPartial past the first block the cut; -1.
   */
  private truncated(blockNo: number, kept: number, where: string, cutWhere: string): -1 {
    const file = this.file, at0 = this.base + this.pos, n = this.base + this.lim;
    if (!this.allowPartial || blockNo === 1) {
      throw inputError(at(file, at0), `file truncated at byte ${n} inside ${where}`,
        blockNo === 1 ? 're-capture the file; no packets can be read without the section header'
          : `re-capture, or read it without --strict (allowPartial) to use the ${kept} complete packet(s) before it`);
    }
    this.cut(`${file}: truncated at byte ${n} inside ${cutWhere}; kept the ${kept} complete packet(s) before it`);
    return -1;
  }

  /** An Enhanced (type 6) or obsolete (type 2) Packet Block at buf[off], `len` bytes: packet `i` of the chunk. */
  private enhancedPacket(i: number, type: number, off: number, len: number): void {
    const dv = this.dv, le = this.le, ifs = this.ifs, counts = this.counts;
    if (len < 32) throw blockTooShort(this.file, this.base + off, type, this.blockNo, len, 32);
    const ifLocal = type === 6 ? dv.getUint32(off + 8, le) : dv.getUint16(off + 8, le);
    if (ifLocal >= this.secCount) throw badInterface(this.file, this.base + off + 8, type, this.blockNo, ifLocal, this.secCount);
    const g = this.secBase + ifLocal;
    const capLen = dv.getUint32(off + 20, le);
    const origLen = dv.getUint32(off + 24, le);
    const end = off + len - 4;
    const optStart = off + 28 + ((capLen + 3) & ~3);
    if (capLen > ifs.capLimit[g]! || optStart > end || origLen > MAX_ORIGINAL_LENGTH) throw this.badPacketLength(type, off, len, g, capLen, origLen);
    const flagsDir = optStart < end ? packetFlagsDir(dv, this.file, this.base, optStart, end, le, type, this.blockNo) : 0;
    if (i === this.cols.cap) this.cols.grow();
    const ts = this.packetTime(g, dv.getUint32(off + 12, le), dv.getUint32(off + 16, le));
    this.lastTs = ts;
    if (capLen > ifs.snapCheck[g]!) counts.overSnap++;
    if (origLen < capLen) counts.origBelowCap++;
    this.packetRow(i, ts, origLen, capLen, g, off + 28, flagsDir);
  }

  /** Packet `i` of the chunk into the columns: its frame at buf[data], `capLen` bytes; `dir` 0: the link layer's. */
  private packetRow(i: number, ts: number, origLen: number, capLen: number, g: number, data: number, dir: number): void {
    const p = this.cols.p;
    p.tsNs[i] = ts;
    p.origLen[i] = origLen;
    p.capLen[i] = capLen;
    p.iface[i] = g;
    p.flowHash[i] = classify(this.buf, data, capLen, this.ifs.link[g]!);
    p.l4[i] = outL4;
    p.dir[i] = dir !== 0 ? dir : outLinkDir;
  }

  /** The error for an Enhanced or obsolete Packet Block at buf[off] whose captured or original length cannot be (in the order checked). */
  private badPacketLength(type: number, off: number, len: number, g: number, capLen: number, origLen: number): InputError {
    const file = this.file, base = this.base, blockNo = this.blockNo, ifs = this.ifs;
    if (capLen > ifs.capLimit[g]!) {
      return inputError(at(file, base + off + 20), `${blockName(type)} (block ${blockNo}) has captured length ${capLen}, impossible with snaplen ${ifs.list[g]!.snapLen} (limit ${ifs.capLimit[g]})`,
        'the file is corrupt; re-capture it or repair it with pcapfix');
    }
    if (off + 28 + ((capLen + 3) & ~3) > off + len - 4) {
      return inputError(at(file, base + off + 20), `${blockName(type)} (block ${blockNo}) has captured length ${capLen}, which does not fit in its ${len}-byte block`,
        'the file is corrupt; re-capture it or repair it with pcapfix');
    }
    return inputError(at(file, base + off + 24), `${blockName(type)} (block ${blockNo}) has original length ${origLen}, above the ${MAX_ORIGINAL_LENGTH}-byte limit`,
      'the file is corrupt; re-capture it or repair it with pcapfix');
  }

  /** The time of a packet on interface g stamped hi:lo (ticks), in ns since t0. */
  private packetTime(g: number, hi: number, lo: number): number {
    const ifs = this.ifs;
    if (!ifs.anchored[g]) this.anchor(g, hi, lo);
    const dTicks = (hi - ifs.hi0[g]!) * TWO32 + (lo - ifs.lo0[g]!);
    if (dTicks > 9007199254740991 || dTicks < -9007199254740991) this.counts.tsPrecision++;
    return ifs.baseNs[g]! + dTicks * ifs.resNs[g]!;
  }

  /**
   * Interface g's first packet, stamped hi:lo (ticks): the interface's times count from it (and t0
   * is its absolute time if it is the capture's first timestamped packet).
   */
  private anchor(g: number, hi: number, lo: number): void {
    const ifs = this.ifs;
    const [s, ns] = absTime(hi, lo, ifs.resol[g]!, ifs.offsetSec[g]!);
    if (!this.haveT0) { this.haveT0 = true; this.t0Sec = s; this.t0Ns = ns; }
    ifs.anchored[g] = true;
    ifs.hi0[g] = hi;
    ifs.lo0[g] = lo;
    ifs.baseNs[g] = (s - this.t0Sec) * 1e9 + (ns - this.t0Ns);
  }

  /** A Simple Packet Block at buf[off], `len` bytes: packet `i` of the chunk, at the time of the packet before it. */
  private simplePacket(i: number, off: number, len: number): void {
    const file = this.file, cols = this.cols, ifs = this.ifs, dv = this.dv, base = this.base, blockNo = this.blockNo;
    if (len < 16) throw blockTooShort(file, base + off, 3, blockNo, len, 16);
    if (this.secCount === 0) {
      throw inputError(at(file, base + off), `Simple Packet Block (block ${blockNo}) appears before any Interface Description Block in its section`,
        'the file is corrupt; re-write it with editcap');
    }
    const g = this.secBase;
    const origLen = dv.getUint32(off + 8, this.le);
    if (origLen > MAX_ORIGINAL_LENGTH) {
      throw inputError(at(file, base + off + 8), `Simple Packet Block (block ${blockNo}) has original length ${origLen}, above the ${MAX_ORIGINAL_LENGTH}-byte limit`,
        'the file is corrupt; re-capture it or repair it with pcapfix');
    }
    const room = len - 16;
    const snap = ifs.snapCheck[g]!;
    let capLen = origLen < snap ? origLen : snap;
    if (capLen > room) capLen = room;
    if (i === cols.cap) cols.grow();
    this.counts.spbNoTime++;
    if (!this.haveT0) this.pendingNoTime++;
    this.packetRow(i, this.lastTs, origLen, capLen, g, off + 12, 0);
  }

  /** A Section Header Block at buf[off], `len` bytes: a new section, with no interfaces yet. */
  private sectionHeader(off: number, len: number): void {
    const dv = this.dv, le = this.le, blockNo = this.blockNo;
    if (len < 28) throw blockTooShort(this.file, this.base + off, SHB, blockNo, len, 28);
    const major = dv.getUint16(off + 12, le);
    const minor = dv.getUint16(off + 14, le);
    if (major !== 1) {
      throw inputError(at(this.file, this.base + off + 12), `Section Header Block (block ${blockNo}) has unsupported version ${major}.${minor} (expected 1.0)`,
        'convert the file with editcap -F pcapng');
    }
    this.secBase = this.ifs.list.length;
    this.secCount = 0;
  }

  /** An Interface Description Block at bytes[off .. end) (end: its trailing length). */
  private idb(bytes: Uint8Array, dv: DataView, base: number, off: number, end: number, len: number, le: boolean, blockNo: number): void {
    const file = this.file, ifs = this.ifs, type = 1;
    if (len < 20) throw blockTooShort(file, base + off, type, blockNo, len, 20);
    if (ifs.list.length >= 65535) {
      throw inputError(at(file, base + off), `more than 65535 interfaces`, 'split the capture with editcap');
    }
    const linkType = dv.getUint16(off + 8, le);
    const snapLen = dv.getUint32(off + 12, le);
    let name = '';
    let resol = 6;
    let offsetSec = 0;
    let p = off + 16;
    for (;;) {
      const olen = optionAt(dv, file, base, p, end, le, type, blockNo);
      if (olen < 0) break;
      const v = p + 4;
      if (optCode === 2) name = utf8.decode(bytes.subarray(v, v + olen));
      else if (optCode === 9 && olen >= 1) resol = bytes[v]!;
      else if (optCode === 14 && olen >= 8) offsetSec = Number(dv.getBigInt64(v, le));
      p = v + ((olen + 3) & ~3);
    }
    if ((resol & 0x80 ? resol & 0x7f : resol) > (resol & 0x80 ? 63 : 19)) {
      throw inputError(at(file, base + off), `Interface Description Block (block ${blockNo}) has if_tsresol ${hex(resol, 2)}, finer than a 64-bit timestamp can span`,
        'the file is corrupt; re-capture it');
    }
    const g = ifs.list.length;
    const res = tsResolNs(resol);
    ifs.list.push({ linkType, snapLen, name, tsResolNs: res });
    ifs.link[g] = linkType;
    ifs.snapCheck[g] = snapLen === 0 ? NO_LIMIT : snapLen;
    ifs.capLimit[g] = snapLen === 0 ? MAX_CAPTURED_LENGTH : Math.min(MAX_CAPTURED_LENGTH, snapLen + SNAPLEN_SLACK);
    ifs.resNs[g] = res;
    ifs.resol[g] = resol;
    ifs.offsetSec[g] = offsetSec;
    ifs.anchored[g] = false;
    ifs.hi0[g] = 0;
    ifs.lo0[g] = 0;
    ifs.baseNs[g] = 0;
    this.secCount++;
  }
}

// ---------------------------------------------------------------------------------------------
// Entry point

/**
 * Parse a whole pcap or pcapng file held in memory. `fileName` only labels messages.
 * Throws `InputError` (one line: file, byte offset, fix) on bad input; see README-pcap.md.
 * This is the CaptureReader over the bytes, every chunk collected (one chunk: its columns grow).
 */
export function parseCapture(bytes: Uint8Array, fileName: string, opts?: ParseCaptureOptions): CaptureFile {
  return new CaptureReader(bytes, fileName, { allowPartial: opts?.allowPartial, chunkPackets: Infinity }).collect();
}
