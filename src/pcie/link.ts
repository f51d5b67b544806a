/**
 * PCIe link model: spec, validation and TLP/DLLP arithmetic.
 *
 * Pure, allocation-free functions that the event-driven timing model calls per DMA request. They
 * answer "how many bytes cross the link in each direction, in how many TLPs" and "what bandwidth
 * does the pcie-bench analytic model (github.com/pcie-bench/pcie-model) predict". Time, tags and
 * credits as resources are the caller's business; this module only counts.
 *
 * What it does not model: Gen6 OHC header words, TLP prefixes, 10/14-bit tag header differences,
 * replay (NAK), L0s/L1, link errors, or the requester splitting requests on MPS/MRRS-aligned
 * addresses (requests are split greedily: as large as MPS/MRRS allows without crossing 4 KiB).
 *
 * Sources (see src/pcie/README.md for each default):
 *  - [PM] pcie-bench/pcie-model, model/pcie.py (commit 1fe7cdef: tables, encodings, header sizes)
 *    and model/mem_bw.py (commit 5bb1a716: write()/read()), Neugebauer et al., SIGCOMM 2018.
 *  - [SPEC] PCI Express Base Specification (rev 3.0-6.0): §2.2 TLP formats, §2.3.1.1 completion
 *    splitting on RCB, §2.6 flow control, §3.6 Ack latency, §4.2 encodings, Flit Mode layout.
 */
import {
  type PcieGen, type PcieLanes, type PcieSizeBytes, type TlpKind, type DmaOp, type PcieLinkSpec, FC_UNIT_BYTES,
} from '../config/pcie.js';

export {
  type PcieGen, type PcieLanes, type PcieSizeBytes, type PcieRcbBytes, type TlpKind, type DmaOp, type PcieLinkSpec,
  PCIE_DEFAULTS, PCIE_GENS, PCIE_LANES, PCIE_SIZES, PCIE_RCBS, FC_UNIT_BYTES, validatePcieSpec, resolvePcieSpec,
} from '../config/pcie.js';

// ---------------------------------------------------------------------------------------------
// Constants

/** Transfer rate per lane, GT/s, indexed by gen. [SPEC], [PM] `GTs` */
export const GT_PER_S: readonly number[] = [0, 2.5, 5, 8, 16, 32, 64];
/** Line-code efficiency indexed by gen: 8b/10b, 128b/130b, Gen6 1b/1b (PAM4, Flit Mode). [SPEC] §4.2 */
export const ENCODING: readonly number[] = [0, 8 / 10, 8 / 10, 128 / 130, 128 / 130, 128 / 130, 1];
/** Requests never cross a 4 KiB address boundary. [SPEC] §2.2.7 */
export const PAGE_BYTES = 4096;
/** A DLLP on the wire: 4 B + 2 B CRC + 2 B framing (SDP/END or 2-symbol SDP token). [PM] `Ack_Size`, `FC_Size` */
export const DLLP_BYTES = 8;
/**
 * Per-TLP link overhead outside the transaction layer before Gen6: STP (1 symbol, or a 4-symbol
 * STP token carrying the sequence number at 8 GT/s+), 2 B sequence number, 4 B LCRC, END. [PM] `DLLP_Hdr`
 */
export const TLP_FRAMING_BYTES = 8;
/** Generic TLP header DW 0, bytes. [PM] `TLP_Hdr` */
const HDR_DW0 = 4;
/** Memory request address + requester fields: 8 B (32-bit address) or 12 B (64-bit). [PM] */
const MEM_HDR_32 = 8;
const MEM_HDR_64 = 12;
/** Completion: completer ID, byte count, requester ID, tag, lower address. [PM] `TLP_CplD_Hdr` */
const CPL_HDR = 8;
/** Optional TLP digest (ECRC). [PM] `TLP_Dig` */
export const ECRC_BYTES = 4;
/** SKP ordered sets: 4 symbols every 1538 symbol times. [PM] `SKIP_Length` / `SKIP_Interval` */
export const SKP_FRACTION = 4 / 1538;
/** Gen6 Flit Mode flit layout, bytes. [SPEC] 6.0 Flit Mode: 236 TLP + 6 DLP + 8 CRC + 6 FEC = 256. */
export const FLIT_BYTES = 256;
export const FLIT_TLP_BYTES = 236;
export const FLIT_DLP_BYTES = 6;
export const FLIT_CRC_BYTES = 8;
export const FLIT_FEC_BYTES = 6;
/** Wire bytes per TLP-area byte in Flit Mode (256/236). */
const FLIT_EXPANSION = FLIT_BYTES / FLIT_TLP_BYTES;
const FOUR_GIB = 2 ** 32;

/** Slots of the caller-owned Float64Array filled by dmaWriteWire / dmaReadWire. */
export const WIRE_UP_BYTES = 0;
export const WIRE_DOWN_BYTES = 1;
export const WIRE_TLPS_UP = 2;
export const WIRE_TLPS_DOWN = 3;
/** Optional (filled when out.length >= 6): data credits (16 B units) consumed upstream / downstream. */
export const WIRE_DATA_CREDITS_UP = 4;
export const WIRE_DATA_CREDITS_DOWN = 5;
export const WIRE_OUT_LENGTH = 6;

// ---------------------------------------------------------------------------------------------
// pcie-model's Ack latency / UpdateFC tables, verbatim (model/pcie.py `Ack_Limits`, `FC_Guide`),
// symbol times, indexed [x1, x2, x4, x8, x16, x32][MPS 128 .. 4096]. Gen4-6 reuse gen3 as in pcie-model.

type Table = readonly (readonly number[])[];
const PM_ACK_GEN1: Table = [
  [237, 416, 559, 1071, 2095, 4143],
  [128, 217, 289, 545, 1057, 2081],
  [73, 118, 154, 282, 538, 1050],
  [67, 107, 86, 150, 278, 534],
  [48, 72, 86, 150, 278, 534],
  [33, 45, 52, 84, 148, 276],
];
const PM_ACK_GEN2: Table = [
  [288, 467, 610, 1122, 2146, 4194],
  [179, 268, 340, 596, 1108, 2132],
  [124, 169, 205, 333, 589, 1101],
  [118, 158, 137, 201, 329, 585],
  [99, 123, 137, 201, 329, 585],
  [84, 96, 103, 135, 199, 237],
];
const PM_GEN3: Table = [
  [333, 512, 655, 1167, 2191, 4239],
  [224, 313, 385, 641, 1153, 2177],
  [169, 214, 250, 378, 634, 1146],
  [163, 203, 182, 246, 374, 630],
  [144, 168, 182, 246, 374, 630],
  [129, 141, 148, 180, 244, 372],
];
const PM_FC_GEN1: Table = [
  [237, 416, 559, 1071, 2095, 4143],
  [128, 217, 289, 545, 1057, 2081],
  [73, 118, 154, 282, 538, 1050],
  [67, 107, 86, 150, 278, 534],
  [48, 72, 86, 150, 278, 534],
  [33, 45, 52, 84, 248, 276],
];
const PM_FC_GEN2: Table = [
  [288, 467, 610, 1122, 2146, 4194],
  [179, 268, 340, 596, 1108, 2132],
  [124, 169, 205, 333, 589, 1101],
  [118, 158, 137, 201, 329, 585],
  [99, 123, 137, 201, 329, 585],
  [84, 96, 103, 135, 199, 327],
];
const PM_ACK: readonly Table[] = [PM_ACK_GEN1, PM_ACK_GEN1, PM_ACK_GEN2, PM_GEN3, PM_GEN3, PM_GEN3, PM_GEN3];
const PM_FC: readonly Table[] = [PM_FC_GEN1, PM_FC_GEN1, PM_FC_GEN2, PM_GEN3, PM_GEN3, PM_GEN3, PM_GEN3];
/** pcie-model's line-code efficiency; Gen6 counts the flit's TLP+DLP bytes (242/256). [PM] `Gbs` */
const PM_ENCODING: readonly number[] = [0, 8 / 10, 8 / 10, 128 / 130, 128 / 130, 128 / 130, 242 / 256];

function mpsIndex(bytes: number): number {
  return 24 - Math.clz32(bytes); // 128 -> 0 ... 4096 -> 5
}
function pmLanesIndex(lanes: number): number {
  switch (lanes) {
    case 1: return 0;
    case 2: return 1;
    case 4: return 2;
    case 8: return 3;
    case 16: return 4;
    case 32: return 5;
    default: return -1; // x12: not in pcie-model
  }
}
const INTERNAL_DELAY_SYMBOLS: readonly number[] = [0, 19, 70, 115, 115, 115, 115];

/**
 * The spec's Ack latency limit (symbol times) for a link:
 *   floor((MPS + 28) * AckFactor / lanes + InternalDelay)          [SPEC] §3.6.3.1 Tables 3-7..3-9
 * AckFactor 1.4 (x1-x4), 2.5 (x8), 3.0 (x12-x32) for MPS <= 256 B, else 1.0 (x1-x8) / 2.0 (x12-x32);
 * InternalDelay 19 (Gen1), 70 (Gen2), 115 (Gen3+) symbol times. This reproduces every entry of
 * pcie-model's tables except two of its typos (test/pcie/link.test.ts); x12 uses the x16 AckFactor.
 * The spec's UpdateFC latency guideline (§2.6.1.2) has the same values; pcie-model reuses them.
 */
export function ackLatencyLimitSymbols(gen: PcieGen, lanes: PcieLanes, mpsBytes: PcieSizeBytes): number {
  const small = mpsBytes <= 256;
  const af10 = lanes <= 4 ? (small ? 14 : 10) : lanes === 8 ? (small ? 25 : 10) : small ? 30 : 20;
  const id = INTERNAL_DELAY_SYMBOLS[gen]!;
  return Math.floor(((mpsBytes + 28) * af10 + 10 * lanes * id) / (10 * lanes));
}

// ---------------------------------------------------------------------------------------------
// Link rates

/** Per-direction bit rate after line coding, Gb/s: GT/s x lanes x encoding. Gen3 x8 = 63.015. */
export function rawGbps(spec: PcieLinkSpec): number {
  return GT_PER_S[spec.gen]! * spec.lanes * ENCODING[spec.gen]!;
}

/**
 * Per-direction bytes/ns available to TLPs and DLLPs: rawGbps / 8 less SKP ordered sets. The wire
 * byte counts of dmaWriteWire/dmaReadWire divided by this give link occupancy in ns.
 */
export function bytesPerNs(spec: PcieLinkSpec): number {
  return (rawGbps(spec) / 8) * (1 - SKP_FRACTION);
}

// ---------------------------------------------------------------------------------------------
// TLP sizes

function headerBytes(spec: PcieLinkSpec, kind: TlpKind, addr: number): number {
  if (kind === 'cpl') return HDR_DW0 + CPL_HDR;
  return HDR_DW0 + (spec.addr64 && addr >= FOUR_GIB ? MEM_HDR_64 : MEM_HDR_32);
}

/**
 * Bytes one TLP of `kind` adds to the wire beyond its `payloadBytes` (data field bytes, a DW
 * multiple): framing + sequence number + header + LCRC (+ ECRC). Memory requests at `addr` below
 * 4 GiB use the 3DW header; the default address (4 GiB) gives pcie-model's convention
 * (4DW when addr64). Gen6 Flit Mode has no per-TLP framing/LCRC: the TLP's bytes (header, payload,
 * digest) are spread over flits whose DLP/CRC/FEC bytes add 20/236 on top; that amortised share
 * (including the payload's share, hence the payload argument) is returned.
 */
export function tlpOverheadBytes(
  spec: PcieLinkSpec,
  kind: TlpKind,
  payloadBytes = 0,
  addr: number = FOUR_GIB,
): number {
  const fixed = headerBytes(spec, kind, addr) + (spec.ecrc ? ECRC_BYTES : 0);
  if (spec.gen === 6) return (fixed + payloadBytes) * FLIT_EXPANSION - payloadBytes;
  return TLP_FRAMING_BYTES + fixed;
}

/** Wire bytes of one TLP: payloadBytes + tlpOverheadBytes(spec, kind, payloadBytes, addr). */
export function tlpWireBytes(spec: PcieLinkSpec, kind: TlpKind, payloadBytes = 0, addr: number = FOUR_GIB): number {
  return payloadBytes + tlpOverheadBytes(spec, kind, payloadBytes, addr);
}

/**
 * DLLP bytes (ACK + UpdateFC, opposite direction) per wire byte of TLP traffic:
 *   8 * (dllpAckFactor + fcUpdateFactor) / ackLatencyLimitSymbols() / lanes
 * (the spec's UpdateFC latency guideline has the same values as its Ack latency limit).
 * 0 in Gen6 Flit Mode, where ACKs and credit updates ride in every flit's DLP bytes.
 */
export function dllpBytesPerTlpByte(spec: PcieLinkSpec): number {
  if (spec.gen === 6) return 0;
  const limit = ackLatencyLimitSymbols(spec.gen, spec.lanes, spec.mpsBytes);
  return (DLLP_BYTES * (spec.dllpAckFactor + spec.fcUpdateFactor)) / limit / spec.lanes;
}

/** Flow-control data credits (16 B units) for a data field of `bytes`. [SPEC] §2.6.1 */
export function dataCredits(bytes: number): number {
  return Math.ceil(bytes / FC_UNIT_BYTES);
}

// ---------------------------------------------------------------------------------------------
// Splitting: closed form per 4 KiB segment (O(1) per DMA, no allocation)

// Accumulators for one walk. Module-level so the hot path allocates nothing; not re-entrant
// across threads (each worker has its own module instance).
let tN = 0; // requests (MWr or MRd)
let tHi = 0; // ... of which with a 4DW header
let tDw = 0; // MWr payload DWs on the wire
let tCred = 0; // MWr data credits
let cN = 0; // completions
let cDw = 0; // completion payload DWs on the wire
let cCred = 0; // completion data credits

function isHi(spec: PcieLinkSpec, addr: number): number {
  return spec.addr64 && addr >= FOUR_GIB ? 1 : 0;
}

/** Greedy MPS chunks of [a, a+len) inside one page, counted `mult` times. */
function writeSegment(mps: number, a: number, len: number, mult: number, hi: number): void {
  if (mult === 0 || len <= 0) return;
  const o = a & 3; // low bits of an integer address (exact below 2^53)
  const full = Math.floor(len / mps);
  const rem = len - full * mps;
  const dwFull = mps / 4 + (o !== 0 ? 1 : 0); // a full chunk at misalignment o spans one more DW
  let n = full;
  let dw = full * dwFull;
  let cred = full * Math.ceil(dwFull / 4);
  if (rem > 0) {
    const d = Math.ceil((o + rem) / 4);
    n += 1;
    dw += d;
    cred += Math.ceil(d / 4);
  }
  tN += n * mult;
  tHi += n * mult * hi;
  tDw += dw * mult;
  tCred += cred * mult;
}

/** One MRd of [a, a+len) (inside one page) and its completions, counted `mult` times. */
function readRequest(spec: PcieLinkSpec, a: number, len: number, mult: number, hi: number): void {
  const chunk = spec.rcbChunks ? spec.rcbBytes : spec.mpsBytes;
  // First completion ends on the last RCB boundary within one chunk (chunk is a multiple of RCB).
  const first = Math.min(len, chunk - (a & (spec.rcbBytes - 1)));
  let n = 1;
  let dw = Math.ceil(((a & 3) + first) / 4);
  let cred = Math.ceil(dw / 4);
  const rest = len - first;
  if (rest > 0) {
    const full = Math.floor(rest / chunk);
    const rem = rest - full * chunk;
    n += full;
    dw += (full * chunk) / 4;
    cred += (full * chunk) / FC_UNIT_BYTES;
    if (rem > 0) {
      const d = Math.ceil(rem / 4);
      n += 1;
      dw += d;
      cred += Math.ceil(d / 4);
    }
  }
  tN += mult;
  tHi += mult * hi;
  cN += n * mult;
  cDw += dw * mult;
  cCred += cred * mult;
}

/** Greedy MRRS requests of [a, a+len) inside one page, counted `mult` times. */
function readSegment(spec: PcieLinkSpec, a: number, len: number, mult: number, hi: number): void {
  if (mult === 0 || len <= 0) return;
  const mrrs = spec.mrrsBytes;
  const full = Math.floor(len / mrrs);
  const rem = len - full * mrrs;
  // Every full request starts at a + k*MRRS: same offset modulo RCB and DW, so identical completions.
  if (full > 0) readRequest(spec, a, mrrs, full * mult, hi);
  if (rem > 0) readRequest(spec, a + full * mrrs, rem, mult, hi);
}

// The walk of a write (MWr, writeSegment) or a read (MRd and completions, readSegment) cuts
// [addr, addr+bytes) at 4 KiB boundaries: the first partial page, the full pages (counted once per
// side of 4 GiB, as their TLPs differ only in header size), the last partial page. The direction is
// a flag tested per segment, not a callback, to keep the hot path monomorphic.

function walk(spec: PcieLinkSpec, addr: number, bytes: number, write: boolean): void {
  tN = tHi = tDw = tCred = cN = cDw = cCred = 0;
  if (!(bytes > 0)) return;
  const end = addr + bytes;
  const firstEnd = Math.min(end, (Math.floor(addr / PAGE_BYTES) + 1) * PAGE_BYTES);
  segment(spec, write, addr, firstEnd - addr, 1, isHi(spec, addr));
  if (firstEnd >= end) return;
  const lastStart = Math.floor(end / PAGE_BYTES) * PAGE_BYTES;
  const fullPages = (lastStart - firstEnd) / PAGE_BYTES;
  if (fullPages > 0) {
    const low = lowPages(spec, firstEnd, fullPages);
    segment(spec, write, 0, PAGE_BYTES, low, 0);
    segment(spec, write, 0, PAGE_BYTES, fullPages - low, 1);
  }
  if (end > lastStart) segment(spec, write, lastStart, end - lastStart, 1, isHi(spec, lastStart));
}

/** [a, a+len) inside one page, counted `mult` times: MPS chunks of a write, or MRRS requests of a read. */
function segment(spec: PcieLinkSpec, write: boolean, a: number, len: number, mult: number, hi: number): void {
  if (write) writeSegment(spec.mpsBytes, a, len, mult, hi);
  else readSegment(spec, a, len, mult, hi);
}

/** How many of `fullPages` pages from page-aligned `start` use 3DW headers (lie below 4 GiB, or addr64 off). */
function lowPages(spec: PcieLinkSpec, start: number, fullPages: number): number {
  if (!spec.addr64) return fullPages;
  return start >= FOUR_GIB ? 0 : Math.min(fullPages, (FOUR_GIB - start) / PAGE_BYTES);
}

/** Wire bytes of `n` TLPs of which `hi` carry a 4DW header, with `dw` payload DWs in total. */
function tlpStreamBytes(spec: PcieLinkSpec, n: number, hi: number, dw: number): number {
  const perTlp = HDR_DW0 + MEM_HDR_32 + (spec.ecrc ? ECRC_BYTES : 0); // 3DW header (+ digest)
  const tl = n * perTlp + hi * (MEM_HDR_64 - MEM_HDR_32) + dw * 4;
  return spec.gen === 6 ? tl * FLIT_EXPANSION : tl + n * TLP_FRAMING_BYTES;
}

/**
 * Device writes host memory: MWr TLPs (<= MPS, never crossing 4 KiB) upstream; ACK/UpdateFC
 * DLLPs for them downstream. Fills out[0..3] = upstream bytes, downstream bytes, TLPs up, TLPs
 * down (0), and when out.length >= 6 out[4] = posted data credits, out[5] = 0. bytes <= 0: zeros.
 */
export function dmaWriteWire(spec: PcieLinkSpec, addr: number, bytes: number, out: Float64Array): void {
  walk(spec, addr, bytes, true);
  const up = tlpStreamBytes(spec, tN, tHi, tDw);
  out[WIRE_UP_BYTES] = up;
  out[WIRE_DOWN_BYTES] = up * dllpBytesPerTlpByte(spec);
  out[WIRE_TLPS_UP] = tN;
  out[WIRE_TLPS_DOWN] = 0;
  if (out.length >= WIRE_OUT_LENGTH) {
    out[WIRE_DATA_CREDITS_UP] = tCred;
    out[WIRE_DATA_CREDITS_DOWN] = 0;
  }
}

/**
 * Device reads host memory: MRd requests (<= MRRS, never crossing 4 KiB) upstream; completions
 * with data (<= MPS, or RCB chunks, split on RCB boundaries) downstream; each direction also
 * carries the ACK/UpdateFC DLLPs for the other's TLPs. Fills out[0..3] = upstream bytes,
 * downstream bytes, MRd count, CplD count, and when out.length >= 6 out[4] = 0, out[5] =
 * completion data credits. bytes <= 0: zeros.
 */
export function dmaReadWire(spec: PcieLinkSpec, addr: number, bytes: number, out: Float64Array): void {
  walk(spec, addr, bytes, false);
  const req = tlpStreamBytes(spec, tN, tHi, 0);
  const cpl = tlpStreamBytes(spec, cN, 0, cDw);
  const r = dllpBytesPerTlpByte(spec);
  out[WIRE_UP_BYTES] = req + cpl * r;
  out[WIRE_DOWN_BYTES] = cpl + req * r;
  out[WIRE_TLPS_UP] = tN;
  out[WIRE_TLPS_DOWN] = cN;
  if (out.length >= WIRE_OUT_LENGTH) {
    out[WIRE_DATA_CREDITS_UP] = 0;
    out[WIRE_DATA_CREDITS_DOWN] = cCred;
  }
}

/** MRd requests a device read of [addr, addr+bytes) needs (each takes a tag and an NPH credit). */
export function readRequestCount(spec: PcieLinkSpec, addr: number, bytes: number): number {
  walk(spec, addr, bytes, false);
  return tN;
}

/** Completions with data the root port returns for a device read of [addr, addr+bytes). */
export function completionCount(spec: PcieLinkSpec, addr: number, bytes: number): number {
  walk(spec, addr, bytes, false);
  return cN;
}

/** MWr TLPs a device write of [addr, addr+bytes) needs (each takes a PH credit). */
export function writeTlpCount(spec: PcieLinkSpec, addr: number, bytes: number): number {
  walk(spec, addr, bytes, true);
  return tN;
}

// ---------------------------------------------------------------------------------------------
// Enumerators: one callback per TLP, in address order. Straightforward loops (O(TLPs)), the
// reference the closed forms above are tested against; also for callers that act per TLP
// (e.g. one IOMMU translation per request TLP).

/** Called with the byte range a TLP covers (its Length field spans the DWs of that range). */
export type TlpVisitor = (addr: number, bytes: number) => void;

function forEachChunk(addr: number, bytes: number, max: number, visit: TlpVisitor): number {
  let n = 0;
  let a = addr;
  const end = addr + bytes;
  while (a < end) {
    const pageEnd = (Math.floor(a / PAGE_BYTES) + 1) * PAGE_BYTES;
    const len = Math.min(max, end - a, pageEnd - a);
    visit(a, len);
    a += len;
    n += 1;
  }
  return n;
}

/** Visits each MWr of a device write; returns the count. */
export function forEachWriteTlp(spec: PcieLinkSpec, addr: number, bytes: number, visit: TlpVisitor): number {
  return forEachChunk(addr, bytes, spec.mpsBytes, visit);
}

/** Visits each MRd of a device read; returns the count. */
export function forEachReadRequest(spec: PcieLinkSpec, addr: number, bytes: number, visit: TlpVisitor): number {
  return forEachChunk(addr, bytes, spec.mrrsBytes, visit);
}

/** Visits each completion the root port returns for ONE read request [reqAddr, reqAddr+reqBytes); returns the count. */
export function forEachCompletion(spec: PcieLinkSpec, reqAddr: number, reqBytes: number, visit: TlpVisitor): number {
  const chunk = spec.rcbChunks ? spec.rcbBytes : spec.mpsBytes;
  const rcb = spec.rcbBytes;
  let n = 0;
  let a = reqAddr;
  const end = reqAddr + reqBytes;
  while (a < end) {
    // Largest RCB-aligned address within one chunk of a; the last completion ends the request.
    const stop = Math.min(end, Math.floor((a + chunk) / rcb) * rcb);
    visit(a, stop - a);
    a = stop;
    n += 1;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Bandwidth bounds

/**
 * pcie-model's TLP-layer bandwidth per direction, Gb/s (model/pcie.py `TLP_bw`):
 *   Raw * (1 - 8/AckLimit - 8/FCGuide - 4/1538),  Raw = GT/s * lanes * encoding (Gen6: 242/256).
 * x12 (absent from pcie-model) uses ackLatencyLimitSymbols().
 */
export function pcieModelTlpGbps(spec: PcieLinkSpec): number {
  const raw = GT_PER_S[spec.gen]! * PM_ENCODING[spec.gen]! * spec.lanes;
  const ack = pcieModelAckLimitSymbols(spec.gen, spec.lanes, spec.mpsBytes);
  const fc = pcieModelFcGuideSymbols(spec.gen, spec.lanes, spec.mpsBytes);
  const overheads = DLLP_BYTES / ack + DLLP_BYTES / fc + SKP_FRACTION;
  return raw - raw * overheads;
}

/** pcie-model's `Ack_Limits[gen][lanes][mps]` verbatim (Gen4-6 = Gen3); x12 from ackLatencyLimitSymbols(). */
export function pcieModelAckLimitSymbols(gen: PcieGen, lanes: PcieLanes, mpsBytes: PcieSizeBytes): number {
  const li = pmLanesIndex(lanes);
  return li < 0 ? ackLatencyLimitSymbols(gen, lanes, mpsBytes) : PM_ACK[gen]![li]![mpsIndex(mpsBytes)]!;
}

/** pcie-model's `FC_Guide[gen][lanes][mps]` verbatim (Gen4-6 = Gen3); x12 from ackLatencyLimitSymbols(). */
export function pcieModelFcGuideSymbols(gen: PcieGen, lanes: PcieLanes, mpsBytes: PcieSizeBytes): number {
  const li = pmLanesIndex(lanes);
  return li < 0 ? ackLatencyLimitSymbols(gen, lanes, mpsBytes) : PM_FC[gen]![li]![mpsIndex(mpsBytes)]!;
}

/**
 * pcie-model's effective payload bandwidth, Gb/s, for back-to-back transfers of `transferBytes`
 * (model/mem_bw.py write()/read() with BW_Spec(TLP_bw, TLP_bw, BW_RAW)):
 *   write: size * TLP_bw / (ceil(size/MPS) * MWrHdr + size)
 *   read:  size * TLP_bw / max(ceil(size/CHUNK) * CplDHdr + size, ceil(size/MRRS) * MRdHdr)
 * with CHUNK = RCB if rcbChunks else MPS, MWrHdr = MRdHdr = 8 + 4 + (12 | 8 with addr64) (+4 ECRC),
 * CplDHdr = 8 + 4 + 8 (+4). No latency, tag or credit limits; ACK/FC cost charged to the data's
 * own direction; ignores addresses, 4 KiB and RCB boundaries and dllpAckFactor/fcUpdateFactor.
 */
export function analyticBandwidthGbps(spec: PcieLinkSpec, op: DmaOp, transferBytes: number): number {
  if (!(transferBytes > 0)) return 0;
  const bw = pcieModelTlpGbps(spec);
  const dig = spec.ecrc ? ECRC_BYTES : 0;
  const memHdr = TLP_FRAMING_BYTES + HDR_DW0 + (spec.addr64 ? MEM_HDR_64 : MEM_HDR_32) + dig;
  if (op === 'write') {
    const raw = Math.ceil(transferBytes / spec.mpsBytes) * memHdr + transferBytes;
    return (transferBytes * bw) / raw;
  }
  const tx = Math.ceil(transferBytes / spec.mrrsBytes) * memHdr;
  const chunk = spec.rcbChunks ? spec.rcbBytes : spec.mpsBytes;
  const rx = Math.ceil(transferBytes / chunk) * (TLP_FRAMING_BYTES + HDR_DW0 + CPL_HDR + dig) + transferBytes;
  return (transferBytes * bw) / Math.max(rx, tx);
}

const boundScratch = new Float64Array(WIRE_OUT_LENGTH);

/**
 * This module's own link bound, Gb/s of payload, for back-to-back transfers of `transferBytes`
 * each starting at `addr` (default 4 GiB: aligned, 4DW headers when addr64): the busier
 * direction of dmaWriteWire/dmaReadWire at bytesPerNs. Like analyticBandwidthGbps it ignores
 * latency, tags and credits; unlike it, DLLPs load the opposite direction, payloads are DW-rounded,
 * 4 KiB/RCB splits follow `addr`, and Gen6 uses Flit Mode.
 */
export function linkBoundGbps(spec: PcieLinkSpec, op: DmaOp, transferBytes: number, addr: number = FOUR_GIB): number {
  if (!(transferBytes > 0)) return 0;
  if (op === 'write') dmaWriteWire(spec, addr, transferBytes, boundScratch);
  else dmaReadWire(spec, addr, transferBytes, boundScratch);
  const busiest = Math.max(boundScratch[WIRE_UP_BYTES]!, boundScratch[WIRE_DOWN_BYTES]!);
  return (transferBytes * 8 * bytesPerNs(spec)) / busiest;
}
