/**
 * The NIC as a trace producer: packet arrivals (a capture's PacketColumns, or `syntheticPackets`)
 * in, the DMA-level trace a NIC and its Linux driver cause out (map / dma / unmap rows with times,
 * for the timed replay in src/sim/system.ts). See README.md for what is and is not modelled.
 *
 * Per queue pair (one CPU, one MSI-X vector): an RX and a TX descriptor ring, each mapped once at
 * start (dma_alloc_coherent). RX: rxRing.entries − 1 buffers are posted. A frame takes
 * ceil(origLen / bufferBytes) descriptors; for each, when the NIC's descriptor cache is empty it
 * reads up to descFetchBatch posted descriptors (one DMA read, never across the ring's end), then
 * DMA-writes its share of the frame into the buffer; completed descriptors are written back
 * writebackBatch at a time (one DMA write; split at the ring's end). TX: the driver maps the
 * fragments, writes the tail doorbell (MMIO, counted), the NIC reads the descriptors and the
 * payload and writes the completions back the same way. Interrupt moderation per queue: an MSI-X
 * interrupt (counted; not a DMA row) after moderation.packets completions or moderation.usecs after
 * the first one; it flushes the pending write-backs. The NAPI poll runs driver.pollDelayNs later
 * with the interrupt masked: it cleans the TX completions (unmapping them), then the written-back
 * RX frames napiBudget at a time, each chunk unmapped, refilled (mapped) and closed by one tail
 * doorbell; then the interrupt is re-armed.
 *
 * Times: every DMA of a packet carries the packet's time (the replay queues them at the device's
 * engine and charges the latencies); a partial write-back carries its interrupt's time; unmaps,
 * refill maps and doorbells the poll's time. Rows are emitted in non-decreasing time order, and for
 * equal times in causal order (map before the DMA that needs it, a DMA before its write-back).
 * A capture's time that goes backwards is held at the previous packet's time.
 *
 * nic.model=mlx5 (ConnectX, mlx5e) replaces the descriptor rings by an SQ, an RQ of striding WQEs
 * (nic.strideWqePages pages each, mapped when posted and unmapped as one range when consumed), an
 * RX and a TX completion queue (a 64 B CQE per packet, or mini-CQEs 8 to a line), an RQ doorbell
 * record the device reads after each refill, and an event-queue entry per interrupt. nic.acks adds
 * the ACK frames a TCP receiver sends, from the NAPI poll, on the queue's TX ring. Every row
 * carries its DMA kind (src/iommu/kinds.ts).
 *
 * Hot loops work on typed arrays; nothing is allocated per packet.
 */
import { fmix32 } from '../../util/hash.js';
import { TraceBuilder, allocColumns, trimColumns, type TraceColumns, OP_DMA, OP_MAP, OP_UNMAP, DIR_NONE, DIR_READ, DIR_WRITE, DIR_RW, KIND_DATA, KIND_DESC, KIND_CQE, KIND_DOORBELL, KIND_ACK, pagesTouched } from '../../trace/columns.js';
import { PKT_DIR_INBOUND, PKT_DIR_OUTBOUND, allocPacketColumns, type PacketColumns } from '../../trace/importers/pcap.js';
import { canonicalBdf } from '../../config/bdf.js';
import { inputError } from '../../util/errors.js';
import { IovaAllocator } from './iova.js';
import { strideBytesOf, type NicConfig } from '../../config/knobs/nic.js';

export { NIC_KNOBS, NIC_DEFAULTS, resolveNicConfig, type NicConfig, type NicIovaPolicy, type NicDirection, type NicModelName } from '../../config/knobs/nic.js';

/** Physical placement (any addresses work; these keep rings, buffers and huge pages apart and aligned). */
export const NIC_PADDR_RINGS = 0x1_0000_0000; // 4 GiB
export const NIC_PADDR_BUFFERS = 0x2_0000_0000; // 8 GiB, 2 MiB-aligned per queue
export const HUGE_PAGE_BYTES = 2 * 1024 * 1024;
/** RSS indirection table entries (82599 RETA; index = low 7 bits of the hash). */
export const RSS_TABLE_ENTRIES = 128;
/** Preamble + SFD (8), FCS (4) and inter-frame gap (12) around each frame on the wire. */
export const WIRE_OVERHEAD_BYTES = 24;
/** Frames shorter than this (without FCS) are padded on the wire. */
export const MIN_FRAME_BYTES = 60;
/** IP protocol number of TCP (PacketColumns.l4). */
export const IPPROTO_TCP = 6;
/** mlx5: bytes of a WQE basic block (MLX5_SEND_WQE_BB), of a CQE (struct mlx5_cqe64), of an EQE, of a doorbell record's cache line. */
export const MLX5_WQE_BB = 64;
export const MLX5_CQE_BYTES = 64;
export const MLX5_EQE_BYTES = 64;
export const MLX5_DB_BYTES = 64;
/** mlx5: mini-CQEs per 64 B line (MLX5_MINI_CQE_ARRAY_SIZE). */
export const MLX5_MINI_CQES = 8;
/** mlx5: completion event queue entries per queue (MLX5_COMP_EQ_SIZE). */
export const MLX5_EQ_ENTRIES = 1024;

export interface NicStats {
  /** Packets offered (after maxPackets). */
  packets: number;
  /** Delivered RX frames and sent TX frames. */
  rxPackets: number;
  txPackets: number;
  /** RX frames with too few posted descriptors (rx_missed); TX frames finding the ring full (queue stopped). */
  rxDropped: number;
  txDropped: number;
  /** Packets with origLen 0 (nothing to move). */
  emptyPackets: number;
  interrupts: number;
  napiPolls: number;
  /** Tail-register writes (MMIO, not DMA): RX refills and TX posts, including the initial fill (mlx5: RX refills are doorbell-record updates, each read by the device: `doorbellReads`). */
  doorbells: number;
  /** Descriptor (WQE) fetch DMA reads and write-back (CQE, mini-CQE line, EQE) DMA writes (rows). */
  descriptorReads: number;
  descriptorWrites: number;
  /** mlx5: RQ doorbell-record DMA reads (one per refill, the initial fill included). */
  doorbellReads: number;
  /** mlx5: event-queue entries written (one per interrupt; counted in descriptorWrites too). */
  eqeWrites: number;
  /** ACK frames the host sent for received TCP segments (nic.acks); counted in txPackets too. */
  acks: number;
  /** Payload bytes moved by DMA (RX writes + TX reads). */
  payloadBytes: number;
  maps: number;
  unmaps: number;
  /** IOVA allocations served by the per-CPU range cache / by the tree. */
  iovaCacheHits: number;
  iovaCacheMisses: number;
  /** Distinct 4 KiB IOVA pages the DMAs touched (rings and buffers): the IOTLB's working set. */
  distinctIovaPages: number;
  /** Rows in the trace. */
  records: number;
}

export interface NicTraceOptions {
  /** PCI address of the NIC (0000:01:00.0 or 01:00.0). */
  device: string;
  /** Use only the first this many packets. */
  maxPackets?: number;
}

const POLICY_PER_PACKET = 0, POLICY_PAGE_POOL = 1, POLICY_HUGEPAGE = 2;
const EVT_NONE = 0, EVT_IRQ = 1, EVT_POLL = 2;
const TWO32 = 4294967296;
const TWO20 = 1048576;

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** mlx5 completion-entry flags (RX): a TCP segment the host ACKs; a filler CQE (the rest of a WQE's strides). */
const ENT_TCP = 1, ENT_FILLER = 2;

/** A NIC model's layout, derived from its config once per model (not per packet). */
export interface NicGeometry {
  /** Bytes of a buffer slot, and of an mlx5 stride (strideBytesOf(bufferBytes)). */
  slot: number;
  /** Bytes of an ACK frame's slot: ackBytes rounded up to a power of two, at least 64. */
  ackSlot: number;
  /** mlx5: bytes of a striding-RQ WQE, strides per WQE, WQEs per RQ, RX CQ entries, completion-entry FIFO entries. */
  wqeBytes: number;
  S: number;
  W: number;
  rxCqN: number;
  E: number;
  /** Buffer slots, and mlx5 WQEs, per 2 MiB huge page; huge pages per queue (nic.iovaPolicy=hugepage). */
  perHuge: number;
  perHugeWqe: number;
  hugePerQueue: number;
  /** Pages of a queue's RX and TX rings (82599 descriptor rings; mlx5 RQ and SQ), and of its mlx5 event queue, TX CQ and RX CQ. */
  rxRingPages: number;
  txRingPages: number;
  eqPages: number;
  txCqPages: number;
  rxCqPages: number;
  /** Bytes of a queue's RX buffers and of its whole buffer region (2 MiB-aligned), and where the ACK buffers start (after every queue's region). */
  rxPhysBytes: number;
  regionBytes: number;
  ackPhysBase: number;
}

/** The ring, WQE and huge-page geometry of a NIC config (throws when a buffer cannot be carved from a huge page). */
export function nicGeometry(cfg: Pick<NicConfig, 'model' | 'queues' | 'rxRing' | 'txRing' | 'descriptorBytes' | 'bufferBytes' | 'iovaPolicy' | 'ackBytes' | 'strideWqePages'>): NicGeometry {
  const Rr = cfg.rxRing.entries, Rt = cfg.txRing.entries;
  const slot = strideBytesOf(cfg.bufferBytes);
  const hugepage = cfg.iovaPolicy === 'hugepage';
  if (hugepage && slot > HUGE_PAGE_BYTES) {
    throw inputError(`nic.bufferBytes=${cfg.bufferBytes}`, 'a buffer larger than a 2 MiB huge page cannot be carved from one', 'use nic.bufferBytes ≤ 2MiB or another nic.iovaPolicy');
  }
  let ackSlot = 64;
  while (ackSlot < cfg.ackBytes) ackSlot *= 2;
  const wqeBytes = cfg.strideWqePages * 4096;
  const S = Math.floor(wqeBytes / slot);
  // mlx5e: the RQ holds rxRing.entries frames' worth of strides (log_rq_mtu_frames − log strides per WQE), at least 2 WQEs
  const W = Math.max(2, Math.ceil((Rr * slot) / wqeBytes));
  const rxCqN = W * S;
  const perHugeWqe = Math.floor(HUGE_PAGE_BYTES / wqeBytes);
  const perHuge = Math.floor(HUGE_PAGE_BYTES / slot);
  const mlx5 = cfg.model === 'mlx5';
  const rxRingPages = mlx5 ? Math.ceil((W * MLX5_WQE_BB) / 4096) : Math.ceil((Rr * cfg.descriptorBytes) / 4096);
  const txRingPages = mlx5 ? Math.ceil((Rt * MLX5_WQE_BB) / 4096) : Math.ceil((Rt * cfg.descriptorBytes) / 4096);
  const rxPhysBytes = mlx5 ? 2 * W * wqeBytes : roundUp(2 * Rr * slot, 4096);
  const hugePerQueue = mlx5 ? Math.ceil(W / perHugeWqe) + Math.ceil(Rt / perHuge) : Math.ceil((Rr + Rt) / perHuge);
  const regionBytes = roundUp(Math.max(rxPhysBytes + 2 * Rt * slot, hugepage ? hugePerQueue * HUGE_PAGE_BYTES : 0), HUGE_PAGE_BYTES);
  return {
    slot, ackSlot, wqeBytes, S, W, rxCqN, E: W * S, perHuge, perHugeWqe, hugePerQueue, rxRingPages, txRingPages,
    eqPages: Math.ceil((MLX5_EQ_ENTRIES * MLX5_EQE_BYTES) / 4096),
    txCqPages: Math.ceil((Rt * MLX5_CQE_BYTES) / 4096),
    rxCqPages: Math.ceil((rxCqN * MLX5_CQE_BYTES) / 4096),
    rxPhysBytes, regionBytes, ackPhysBase: NIC_PADDR_BUFFERS + cfg.queues * regionBytes,
  };
}

/** Fresh zero-filled typed arrays of `length` elements, as many as a destructuring takes: `[this.a, this.b] = zeroed(Int32Array, n)`. */
export function* zeroed<T>(Typed: new (length: number) => T, length: number): Generator<T, never> {
  for (;;) yield new Typed(length);
}

/** A NicStats of zeros. */
function zeroStats(): NicStats {
  return {
    packets: 0, rxPackets: 0, txPackets: 0, rxDropped: 0, txDropped: 0, emptyPackets: 0,
    interrupts: 0, napiPolls: 0, doorbells: 0, descriptorReads: 0, descriptorWrites: 0, doorbellReads: 0, eqeWrites: 0, acks: 0, payloadBytes: 0,
    maps: 0, unmaps: 0, iovaCacheHits: 0, iovaCacheMisses: 0, distinctIovaPages: 0, records: 0,
  };
}

class NicModel {
  readonly b: TraceBuilder;
  private readonly dev: number;
  private readonly iova: IovaAllocator;
  readonly st: NicStats;

  // configuration, flattened
  private readonly Q: number;
  private readonly Rr: number;
  private readonly Rt: number;
  private readonly D: number;
  private readonly fetchBatch: number;
  private readonly wbBatch: number;
  private readonly modPackets: number;
  private readonly modNs: number;
  private readonly budget: number;
  private readonly pollDelay: number;
  private readonly buf: number;
  private readonly slot: number;
  private readonly policy: number;
  private readonly rss: boolean;
  private readonly dirMode: number; // 0 rx, 1 tx, 2 by flow
  readonly mlx5: boolean;
  readonly acks: boolean;
  private readonly ackEvery: number;
  readonly ackBytes: number;
  private readonly ackSlot: number;
  // mlx5: RQ WQEs per queue, strides per WQE, WQE size, RX CQ entries, completion-entry FIFO size
  private readonly W: number;
  private readonly S: number;
  private readonly wqeBytes: number;
  private readonly wqePages: number;
  private readonly cqeCompress: boolean;
  private readonly rxCqN: number;
  private readonly E: number;

  // physical layout
  private readonly rxRingPages: number;
  private readonly txRingPages: number;
  private readonly rxPhysBytes: number;
  private readonly perHuge: number;
  private readonly hugePerQueue: number;
  private readonly regionBytes: number;
  private readonly ackPhysBase: number;
  // mlx5 rings per queue (pages): event queue, TX CQ, RX CQ; the SQ and RQ are the tx/rx ring pages
  private readonly eqPages: number;
  private readonly txCqPages: number;
  private readonly rxCqPages: number;
  private readonly perHugeWqe: number;
  private dbPfn = 0;

  // per queue
  private readonly rxRingPfn: Float64Array; // 82599 RX descriptor ring; mlx5 RQ
  private readonly txRingPfn: Float64Array; // 82599 TX descriptor ring; mlx5 SQ
  private readonly rxHead: Int32Array; // NIC: next descriptor to use
  private readonly rxCached: Int32Array; // fetched, unused
  private readonly rxAvail: Int32Array; // posted, unused (includes cached); mlx5: posted WQEs not started
  private readonly rxClean: Int32Array; // driver: next to clean
  private readonly rxVisible: Int32Array; // written back, not cleaned (mlx5: completion entries)
  private readonly rxWbStart: Int32Array;
  private readonly rxWbCount: Int32Array;
  private readonly rxPhysNext: Int32Array;
  private readonly txHead: Int32Array;
  private readonly txInUse: Int32Array;
  private readonly txClean: Int32Array;
  private readonly txVisible: Int32Array;
  private readonly txWbStart: Int32Array;
  private readonly txWbCount: Int32Array;
  private readonly txPhysNext: Int32Array;
  private readonly ackPhysNext: Int32Array;
  private readonly ackPending: Int32Array; // received TCP segments not yet ACKed
  private readonly ackDue: Int32Array; // ACKs to send at the end of the poll's chunk
  private readonly modCount: Int32Array;
  private readonly modFirst: Float64Array;
  private readonly evtKind: Uint8Array;
  private readonly evtTime: Float64Array;
  private nextEvt = Infinity; // a lower bound of min(evtTime)
  // mlx5, per queue
  private readonly eqPfn: Float64Array;
  private readonly txCqPfn: Float64Array;
  private readonly rxCqPfn: Float64Array;
  private readonly eqPos: Int32Array;
  private readonly txCqPos: Int32Array;
  private readonly rxCqPos: Int32Array;
  private readonly rxMini: Int32Array; // mini-CQEs not yet written
  private readonly curWqe: Int32Array; // NIC: the WQE being filled, -1 none
  private readonly nicStride: Int32Array; // strides of it used
  private readonly wqeNext: Int32Array; // NIC: the next posted WQE
  private readonly cleanWqe: Int32Array; // driver: the WQE whose entries it cleans
  private readonly cleanEntries: Int32Array; // entries of it cleaned
  private readonly entW: Int32Array; // completion-entry FIFO: written …
  private readonly entR: Int32Array; // … and cleaned
  private readonly wqePhysNext: Int32Array;

  // per slot (queue * ring + slot)
  private readonly rxPfn: Float64Array;
  private readonly rxOff: Int32Array;
  private readonly rxPages: Int32Array;
  private readonly rxPktDescs: Int32Array; // at a frame's first descriptor: its descriptor count
  private readonly rxPktTcp: Uint8Array; // at a frame's first descriptor: a TCP segment to ACK
  private readonly txPfn: Float64Array;
  private readonly txOff: Int32Array;
  private readonly txPages: Int32Array;
  private readonly txLen: Int32Array;
  private readonly txMapped: Uint8Array; // mapped for this frame (per-packet or ACK): unmap when cleaned
  private readonly txKind: Uint8Array;
  private readonly txPoolPfn: Float64Array; // page-pool / hugepage: the slot's premapped buffer
  private readonly txPoolOff: Int32Array;
  // mlx5, per WQE (queue * W + wqe) and per completion entry (queue * E + entry)
  private readonly wqePfn: Float64Array;
  private readonly wqeEntries: Int32Array;
  private readonly wqeClosed: Uint8Array;
  private readonly entFlags: Uint8Array;

  constructor(cfg: NicConfig, device: string, capacity: number) {
    this.b = new TraceBuilder(capacity);
    this.dev = this.b.deviceIndex(device);
    const Q = (this.Q = cfg.queues);
    const Rr = (this.Rr = cfg.rxRing.entries);
    const Rt = (this.Rt = cfg.txRing.entries);
    this.D = cfg.descriptorBytes;
    this.fetchBatch = cfg.descFetchBatch;
    this.wbBatch = cfg.writebackBatch;
    this.modPackets = cfg.moderation.packets;
    this.modNs = cfg.moderation.usecs * 1000;
    this.budget = cfg.napiBudget;
    this.pollDelay = cfg.driver.pollDelayNs;
    this.buf = cfg.bufferBytes;
    this.policy = cfg.iovaPolicy === 'per-packet' ? POLICY_PER_PACKET : cfg.iovaPolicy === 'page-pool' ? POLICY_PAGE_POOL : POLICY_HUGEPAGE;
    this.rss = cfg.rss;
    this.dirMode = cfg.direction === 'rx' ? 0 : cfg.direction === 'tx' ? 1 : 2;
    this.mlx5 = cfg.model === 'mlx5';
    this.acks = cfg.acks;
    this.ackEvery = cfg.ackEvery;
    this.ackBytes = cfg.ackBytes;
    this.cqeCompress = cfg.cqeCompression;
    this.wqePages = cfg.strideWqePages;
    ({
      slot: this.slot, ackSlot: this.ackSlot, wqeBytes: this.wqeBytes, S: this.S, W: this.W, rxCqN: this.rxCqN, E: this.E,
      perHuge: this.perHuge, perHugeWqe: this.perHugeWqe, hugePerQueue: this.hugePerQueue,
      rxRingPages: this.rxRingPages, txRingPages: this.txRingPages, eqPages: this.eqPages, txCqPages: this.txCqPages, rxCqPages: this.rxCqPages,
      rxPhysBytes: this.rxPhysBytes, regionBytes: this.regionBytes, ackPhysBase: this.ackPhysBase,
    } = nicGeometry(cfg));
    const { magazineEntries, depotMagazines, fqEntries, fqTimeoutNs, forceDac, apertureBits } = cfg.iova;
    this.iova = new IovaAllocator({ cpus: Q, magazineEntries, depotMagazines, fqEntries, fqTimeoutNs, forceDac, apertureBits });

    // per queue: ring pages, the NIC's and the driver's positions, write-back batches, ACKs, moderation, the pending event
    [this.rxRingPfn, this.txRingPfn, this.modFirst] = zeroed(Float64Array, Q);
    [this.rxHead, this.rxCached, this.rxAvail, this.rxClean, this.rxVisible, this.rxWbStart, this.rxWbCount, this.rxPhysNext] = zeroed(Int32Array, Q);
    [this.txHead, this.txInUse, this.txClean, this.txVisible, this.txWbStart, this.txWbCount, this.txPhysNext] = zeroed(Int32Array, Q);
    [this.ackPhysNext, this.ackPending, this.ackDue, this.modCount] = zeroed(Int32Array, Q);
    this.evtKind = new Uint8Array(Q);
    this.evtTime = new Float64Array(Q).fill(Infinity);
    // mlx5, per queue (empty for the 82599): EQ and CQ pages and positions, the WQE being filled and cleaned, the completion-entry FIFO
    const qm = this.mlx5 ? Q : 0;
    [this.eqPfn, this.txCqPfn, this.rxCqPfn] = zeroed(Float64Array, qm);
    [this.eqPos, this.txCqPos, this.rxCqPos, this.rxMini, this.nicStride, this.wqeNext] = zeroed(Int32Array, qm);
    [this.cleanWqe, this.cleanEntries, this.entW, this.entR, this.wqePhysNext] = zeroed(Int32Array, qm);
    this.curWqe = new Int32Array(qm).fill(-1);
    // mlx5, per WQE and per completion entry
    this.wqePfn = new Float64Array(qm * this.W);
    this.wqeEntries = new Int32Array(qm * this.W);
    this.wqeClosed = new Uint8Array(qm * this.W);
    this.entFlags = new Uint8Array(qm * this.E);
    // per slot: the 82599's RX slots (none for mlx5), and the TX slots
    const rq = this.mlx5 ? 0 : Q * Rr;
    this.rxPfn = new Float64Array(rq);
    [this.rxOff, this.rxPages, this.rxPktDescs] = zeroed(Int32Array, rq);
    this.rxPktTcp = new Uint8Array(rq);
    [this.txPfn, this.txPoolPfn] = zeroed(Float64Array, Q * Rt);
    [this.txOff, this.txPages, this.txLen, this.txPoolOff] = zeroed(Int32Array, Q * Rt);
    [this.txMapped, this.txKind] = zeroed(Uint8Array, Q * Rt);
    this.st = zeroStats();
  }

  // ------------------------------------------------------------------ rows

  /** One row; the address is page `pfn` plus `off` bytes (off may exceed a page). */
  private row(t: number, op: number, pfn: number, off: number, size: number, dir: number, paddr: number, kind: number): void {
    const pn = pfn + Math.floor(off / 4096);
    const hi = Math.floor(pn / TWO20);
    const lo = ((pn - hi * TWO20) * 4096 + (off % 4096)) >>> 0;
    const paHi = Math.floor(paddr / TWO32);
    this.b.push(t, this.dev, -1, op, hi, lo, size, dir, paHi, (paddr - paHi * TWO32) >>> 0, kind);
  }

  private dma(t: number, pfn: number, off: number, size: number, dir: number, kind: number): void {
    this.row(t, OP_DMA, pfn, off, size, dir, 0, kind);
    const pn = pfn + Math.floor(off / 4096);
    this.iova.touch(pn, pagesTouched(off % 4096, size));
  }

  /** `kind` on a map or unmap row: the kind of the DMAs the mapping serves. */
  private map(t: number, pfn: number, off: number, size: number, dir: number, paddr: number, kind: number): void {
    this.row(t, OP_MAP, pfn, off, size, dir, paddr, kind);
    this.st.maps++;
  }

  private unmap(t: number, pfn: number, off: number, size: number, pages: number, q: number, kind: number): void {
    this.row(t, OP_UNMAP, pfn, off, size, DIR_NONE, 0, kind);
    this.st.unmaps++;
    this.iova.free(pfn, pages, q, t);
  }

  /** `n` entries of `bytes` each from entry `s` of a ring of `R` entries at `pfn`: one DMA read, two at the ring's end. */
  private ringRead(t: number, pfn: number, s: number, n: number, R: number, bytes: number, kind: number): void {
    const first = n < R - s ? n : R - s;
    this.dma(t, pfn, s * bytes, first * bytes, DIR_READ, kind);
    this.st.descriptorReads++;
    if (n > first) {
      this.dma(t, pfn, 0, (n - first) * bytes, DIR_READ, kind);
      this.st.descriptorReads++;
    }
  }

  private physBase(q: number): number {
    return NIC_PADDR_BUFFERS + q * this.regionBytes;
  }

  // ------------------------------------------------------------------ setup

  setup(t: number): void {
    if (this.mlx5) { this.setupMlx5(t); return; }
    const Q = this.Q;
    const ringStride = (this.rxRingPages + this.txRingPages) * 4096;
    // ixgbe_open: the TX rings' resources, then the RX rings' (dma_alloc_coherent each)
    for (let q = 0; q < Q; q++) {
      const pfn = (this.txRingPfn[q] = this.iova.alloc(this.txRingPages, q, t));
      this.map(t, pfn, 0, this.txRingPages * 4096, DIR_RW, NIC_PADDR_RINGS + q * ringStride, KIND_DESC);
    }
    for (let q = 0; q < Q; q++) {
      const pfn = (this.rxRingPfn[q] = this.iova.alloc(this.rxRingPages, q, t));
      this.map(t, pfn, 0, this.rxRingPages * 4096, DIR_RW, NIC_PADDR_RINGS + q * ringStride + this.txRingPages * 4096, KIND_DESC);
    }
    for (let q = 0; q < Q; q++) {
      if (this.policy === POLICY_PAGE_POOL) {
        this.premapPool(q, t, false);
        this.premapPool(q, t, true);
      } else if (this.policy === POLICY_HUGEPAGE) {
        this.premapHuge(q, t);
      }
      for (let s = 0; s < this.Rr - 1; s++) this.postRx(q, s, t);
      this.rxAvail[q] = this.Rr - 1;
      this.st.doorbells++;
    }
  }

  /**
   * mlx5: the doorbell-record page, the completion event queues (created when the driver loads),
   * then per channel (mlx5e_open_channel) its TX CQ, SQ, RX CQ and RQ, each a coherent mapping;
   * then the buffers: W − 1 WQEs posted per RQ (mlx5_wq_ll_missing = size − 1 − posted) and one
   * doorbell-record update, which the device reads.
   */
  private setupMlx5(t: number): void {
    const Q = this.Q;
    const qPages = this.eqPages + this.txCqPages + this.txRingPages + this.rxCqPages + this.rxRingPages;
    const qBase = (q: number): number => NIC_PADDR_RINGS + q * qPages * 4096;
    const dbPages = Math.ceil((Q * MLX5_DB_BYTES) / 4096);
    this.dbPfn = this.iova.alloc(dbPages, 0, t);
    this.map(t, this.dbPfn, 0, dbPages * 4096, DIR_RW, qBase(Q), KIND_DOORBELL);
    for (let q = 0; q < Q; q++) {
      const pfn = (this.eqPfn[q] = this.iova.alloc(this.eqPages, q, t));
      this.map(t, pfn, 0, this.eqPages * 4096, DIR_RW, qBase(q), KIND_CQE);
    }
    for (let q = 0; q < Q; q++) {
      let pa = qBase(q) + this.eqPages * 4096;
      const ring = (pages: number, kind: number): number => {
        const pfn = this.iova.alloc(pages, q, t);
        this.map(t, pfn, 0, pages * 4096, DIR_RW, pa, kind);
        pa += pages * 4096;
        return pfn;
      };
      this.txCqPfn[q] = ring(this.txCqPages, KIND_CQE);
      this.txRingPfn[q] = ring(this.txRingPages, KIND_DESC);
      this.rxCqPfn[q] = ring(this.rxCqPages, KIND_CQE);
      this.rxRingPfn[q] = ring(this.rxRingPages, KIND_DESC);
    }
    for (let q = 0; q < Q; q++) {
      if (this.policy === POLICY_PAGE_POOL) {
        for (let w = 0; w < this.W; w++) {
          const pfn = (this.wqePfn[q * this.W + w] = this.iova.alloc(this.wqePages, q, t));
          this.map(t, pfn, 0, this.wqeBytes, DIR_WRITE, this.physBase(q) + w * this.wqeBytes, KIND_DATA);
        }
        this.premapPool(q, t, true);
      } else if (this.policy === POLICY_HUGEPAGE) {
        this.premapHugeMlx5(q, t);
      }
      for (let w = 0; w < this.W - 1; w++) this.postWqe(q, w, t);
      this.rxAvail[q] = this.W - 1;
      this.dbRead(q, t);
    }
  }

  /** page-pool: the ring's buffers packed into pages (or higher-order pages), each mapped once. */
  private premapPool(q: number, t: number, tx: boolean): void {
    const n = tx ? this.Rt : this.Rr;
    const pfns = tx ? this.txPoolPfn : this.rxPfn;
    const offs = tx ? this.txPoolOff : this.rxOff;
    const base0 = this.physBase(q) + (tx ? this.rxPhysBytes : 0);
    const at = q * (tx ? this.Rt : this.Rr);
    const dir = tx ? DIR_READ : DIR_WRITE;
    const slot = this.slot;
    if (slot <= 4096) {
      const perPage = 4096 / slot;
      const pages = Math.ceil(n / perPage);
      for (let pg = 0; pg < pages; pg++) {
        const pfn = this.iova.alloc(1, q, t);
        this.map(t, pfn, 0, 4096, dir, base0 + pg * 4096, KIND_DATA);
        for (let j = 0; j < perPage; j++) {
          const bi = pg * perPage + j;
          if (bi >= n) break;
          pfns[at + bi] = pfn;
          offs[at + bi] = j * slot;
        }
      }
    } else {
      const pages = slot / 4096;
      for (let bi = 0; bi < n; bi++) {
        const pfn = this.iova.alloc(pages, q, t);
        this.map(t, pfn, 0, slot, dir, base0 + bi * slot, KIND_DATA);
        pfns[at + bi] = pfn;
        offs[at + bi] = 0;
      }
    }
  }

  /** hugepage: RX then TX buffers carved from 2 MiB pages, each mapped once (2 MiB-aligned IOVA and paddr). */
  private premapHuge(q: number, t: number): void {
    const base0 = this.physBase(q);
    const hugePages = HUGE_PAGE_BYTES / 4096;
    for (let h = 0; h < this.hugePerQueue; h++) {
      const pfn = this.iova.alloc(hugePages, q, t);
      this.map(t, pfn, 0, HUGE_PAGE_BYTES, DIR_RW, base0 + h * HUGE_PAGE_BYTES, KIND_DATA);
      for (let j = 0; j < this.perHuge; j++) {
        const bi = h * this.perHuge + j;
        if (bi >= this.Rr + this.Rt) break;
        const off = j * this.slot;
        const tx = bi >= this.Rr;
        const i = tx ? q * this.Rt + (bi - this.Rr) : q * this.Rr + bi;
        (tx ? this.txPoolPfn : this.rxPfn)[i] = pfn + Math.floor(off / 4096);
        (tx ? this.txPoolOff : this.rxOff)[i] = off % 4096;
      }
    }
  }

  /** mlx5 hugepage: the RQ's WQE buffers, then the TX slots' buffers, carved from 2 MiB pages each mapped once. */
  private premapHugeMlx5(q: number, t: number): void {
    const base0 = this.physBase(q);
    const hugePages = HUGE_PAGE_BYTES / 4096;
    const rxHuge = Math.ceil(this.W / this.perHugeWqe);
    for (let h = 0; h < this.hugePerQueue; h++) {
      const pfn = this.iova.alloc(hugePages, q, t);
      this.map(t, pfn, 0, HUGE_PAGE_BYTES, DIR_RW, base0 + h * HUGE_PAGE_BYTES, KIND_DATA);
      if (h < rxHuge) {
        for (let j = 0; j < this.perHugeWqe; j++) {
          const w = h * this.perHugeWqe + j;
          if (w < this.W) this.wqePfn[q * this.W + w] = pfn + j * this.wqePages;
        }
      } else {
        for (let j = 0; j < this.perHuge; j++) {
          const bi = (h - rxHuge) * this.perHuge + j;
          if (bi >= this.Rt) break;
          const off = j * this.slot;
          this.txPoolPfn[q * this.Rt + bi] = pfn + Math.floor(off / 4096);
          this.txPoolOff[q * this.Rt + bi] = off % 4096;
        }
      }
    }
  }

  /** Post RX slot s: per-packet maps a fresh buffer; the premapped policies reuse the slot's own. */
  private postRx(q: number, s: number, t: number): void {
    if (this.policy !== POLICY_PER_PACKET) return;
    const i = q * this.Rr + s;
    const k = this.rxPhysNext[q];
    this.rxPhysNext[q] = k + 1 === 2 * this.Rr ? 0 : k + 1;
    const pa = this.physBase(q) + k * this.slot;
    const off = pa % 4096;
    const pages = pagesTouched(off, this.buf);
    const pfn = this.iova.alloc(pages, q, t);
    this.rxPfn[i] = pfn;
    this.rxOff[i] = off;
    this.rxPages[i] = pages;
    this.map(t, pfn, off, this.buf, DIR_WRITE, pa, KIND_DATA);
  }

  /**
   * mlx5: post RQ WQE w. Per-packet: its wqeBytes are mapped now, as one range at one IOVA (the
   * device addresses the WQE as one contiguous buffer), from 2 × W physical WQE buffers in turn;
   * the premapped policies reuse the WQE's own buffer.
   */
  private postWqe(q: number, w: number, t: number): void {
    if (this.policy !== POLICY_PER_PACKET) return;
    const k = this.wqePhysNext[q];
    this.wqePhysNext[q] = k + 1 === 2 * this.W ? 0 : k + 1;
    const pfn = (this.wqePfn[q * this.W + w] = this.iova.alloc(this.wqePages, q, t));
    this.map(t, pfn, 0, this.wqeBytes, DIR_WRITE, this.physBase(q) + k * this.wqeBytes, KIND_DATA);
  }

  /** mlx5: the driver updated queue q's RQ doorbell record; the device reads it (one 64 B line) to learn the producer counter. */
  private dbRead(q: number, t: number): void {
    const off = q * MLX5_DB_BYTES;
    this.dma(t, this.dbPfn, off, MLX5_DB_BYTES, DIR_READ, KIND_DOORBELL);
    this.st.doorbellReads++;
    this.st.doorbells++;
  }

  // ------------------------------------------------------------------ packets

  queueOf(hash: number): number {
    return this.rss ? (hash & (RSS_TABLE_ENTRIES - 1)) % this.Q : 0;
  }

  isTx(dir: number, hash: number): boolean {
    if (dir === PKT_DIR_OUTBOUND) return true;
    if (dir === PKT_DIR_INBOUND) return false;
    return this.dirMode === 1 || (this.dirMode === 2 && ((hash >>> 7) & 1) === 1);
  }

  /** A received frame of `len` bytes; `tcp`: a TCP segment the host will ACK (nic.acks). */
  rxPacket(q: number, len: number, t: number, tcp: boolean): void {
    if (this.mlx5) { this.rxPacketMlx5(q, len, t, tcp); return; }
    const R = this.Rr;
    const nb = Math.max(1, Math.ceil(len / this.buf));
    if (nb > this.rxAvail[q]) { this.st.rxDropped++; return; }
    let rem = len;
    const first = q * R + this.rxHead[q];
    for (let k = 0; k < nb; k++) {
      const s = this.rxHead[q];
      if (this.rxCached[q] === 0) {
        let n = this.fetchBatch;
        if (n > this.rxAvail[q]) n = this.rxAvail[q];
        if (n > R - s) n = R - s;
        this.dma(t, this.rxRingPfn[q], s * this.D, n * this.D, DIR_READ, KIND_DESC);
        this.st.descriptorReads++;
        this.rxCached[q] = n;
      }
      const i = q * R + s;
      const bytes = rem < this.buf ? rem : this.buf;
      rem -= bytes;
      this.dma(t, this.rxPfn[i], this.rxOff[i], bytes, DIR_WRITE, KIND_DATA);
      this.rxCached[q]--;
      this.rxAvail[q]--;
      this.rxHead[q] = s + 1 === R ? 0 : s + 1;
      this.wbAdd(false, q, s, t);
    }
    this.rxPktDescs[first] = nb;
    this.rxPktTcp[first] = tcp ? 1 : 0;
    this.st.payloadBytes += len;
    this.st.rxPackets++;
    this.complete(q, t);
  }

  /**
   * mlx5 striding RQ: the frame takes ceil(len / stride) consecutive strides of the current WQE; if
   * they do not fit, a filler CQE closes the WQE and the frame takes the next posted one (none:
   * dropped), whose 64 B WQE the NIC reads first. One payload write, then the completion (a CQE,
   * or a mini-CQE of the next line). A WQE whose last stride is used is closed.
   */
  private rxPacketMlx5(q: number, len: number, t: number, tcp: boolean): void {
    const S = this.S, W = this.W;
    const need = Math.max(1, Math.ceil(len / this.slot));
    if (need > S) { this.st.rxDropped++; return; }
    let w = this.curWqe[q];
    if (w >= 0 && this.nicStride[q] + need > S) {
      this.entry(q, w, ENT_FILLER, t);
      this.wqeClosed[q * W + w] = 1;
      this.curWqe[q] = w = -1;
    }
    if (w < 0) {
      if (this.rxAvail[q] === 0) { this.st.rxDropped++; return; }
      w = this.wqeNext[q];
      this.wqeNext[q] = w + 1 === W ? 0 : w + 1;
      this.rxAvail[q]--;
      this.curWqe[q] = w;
      this.nicStride[q] = 0;
      this.ringRead(t, this.rxRingPfn[q], w, 1, W, MLX5_WQE_BB, KIND_DESC);
    }
    const wi = q * W + w;
    this.dma(t, this.wqePfn[wi], this.nicStride[q] * this.slot, len, DIR_WRITE, KIND_DATA);
    this.nicStride[q] += need;
    if (this.nicStride[q] === S) {
      this.wqeClosed[wi] = 1;
      this.curWqe[q] = -1;
    }
    this.entry(q, w, tcp ? ENT_TCP : 0, t);
    this.st.payloadBytes += len;
    this.st.rxPackets++;
    this.complete(q, t);
  }

  /** mlx5: a completion entry of WQE w (a packet or a filler) into the RX CQ. */
  private entry(q: number, w: number, flags: number, t: number): void {
    this.wqeEntries[q * this.W + w]++;
    const e = this.entW[q];
    this.entFlags[q * this.E + e] = flags;
    this.entW[q] = e + 1 === this.E ? 0 : e + 1;
    if (!this.cqeCompress) {
      this.dma(t, this.rxCqPfn[q], this.rxCqPos[q] * MLX5_CQE_BYTES, MLX5_CQE_BYTES, DIR_WRITE, KIND_CQE);
      this.rxCqPos[q] = this.rxCqPos[q] + 1 === this.rxCqN ? 0 : this.rxCqPos[q] + 1;
      this.st.descriptorWrites++;
      this.rxVisible[q]++;
    } else if (++this.rxMini[q] === MLX5_MINI_CQES) {
      this.flushMini(q, t);
    }
  }

  /** mlx5 CQE compression: write the pending mini-CQEs as one 64 B line. */
  private flushMini(q: number, t: number): void {
    const n = this.rxMini[q];
    if (n === 0) return;
    this.dma(t, this.rxCqPfn[q], this.rxCqPos[q] * MLX5_CQE_BYTES, MLX5_CQE_BYTES, DIR_WRITE, KIND_CQE);
    this.rxCqPos[q] = this.rxCqPos[q] + 1 === this.rxCqN ? 0 : this.rxCqPos[q] + 1;
    this.st.descriptorWrites++;
    this.rxVisible[q] += n;
    this.rxMini[q] = 0;
  }

  /**
   * A frame sent on queue q: its fragments mapped (per-packet policy; the premapped policies use the
   * slot's buffer), the doorbell (MMIO), the descriptor read(s), one payload read per fragment, the
   * completion (82599: write-back batches; mlx5: one 64 B CQE). `ack`: an ACK frame of the host's
   * TCP stack (its own physical buffers; kind ack).
   */
  txPacket(q: number, len: number, t: number, ack = false): void {
    const R = this.Rt;
    const nb = Math.max(1, Math.ceil(len / this.buf));
    if (nb > R - 1 - this.txInUse[q]) { this.st.txDropped++; return; }
    const head = this.txHead[q];
    const kind = ack ? KIND_ACK : KIND_DATA;
    // driver: map the fragments, write the descriptors, ring the doorbell
    let rem = len;
    for (let k = 0, s = head; k < nb; k++, s = s + 1 === R ? 0 : s + 1) {
      const i = q * R + s;
      const bytes = rem < this.buf ? rem : this.buf;
      rem -= bytes;
      this.txLen[i] = bytes;
      this.txKind[i] = kind;
      if (this.policy === POLICY_PER_PACKET) {
        let pa: number;
        if (ack) {
          const kk = this.ackPhysNext[q];
          this.ackPhysNext[q] = kk + 1 === 2 * R ? 0 : kk + 1;
          pa = this.ackPhysBase + (q * 2 * R + kk) * this.ackSlot;
        } else {
          const kk = this.txPhysNext[q];
          this.txPhysNext[q] = kk + 1 === 2 * R ? 0 : kk + 1;
          pa = this.physBase(q) + this.rxPhysBytes + kk * this.slot;
        }
        const off = pa % 4096;
        const pages = pagesTouched(off, bytes);
        const pfn = this.iova.alloc(pages, q, t);
        this.txPfn[i] = pfn;
        this.txOff[i] = off;
        this.txPages[i] = pages;
        this.txMapped[i] = 1;
        this.map(t, pfn, off, bytes, DIR_READ, pa, kind);
      } else {
        this.txPfn[i] = this.txPoolPfn[i];
        this.txOff[i] = this.txPoolOff[i];
        this.txMapped[i] = 0;
      }
    }
    this.st.doorbells++;
    // NIC: fetch the descriptors, read the payload, write the completions back
    if (this.mlx5) {
      // one WQE: control and Ethernet segments (32 B) and a 16 B data segment per fragment, in 64 B basic blocks
      this.ringRead(t, this.txRingPfn[q], head, Math.ceil((32 + 16 * nb) / MLX5_WQE_BB), R, MLX5_WQE_BB, KIND_DESC);
    } else {
      for (let s = head, left = nb; left > 0;) {
        let n = this.fetchBatch;
        if (n > left) n = left;
        if (n > R - s) n = R - s;
        this.dma(t, this.txRingPfn[q], s * this.D, n * this.D, DIR_READ, KIND_DESC);
        this.st.descriptorReads++;
        left -= n;
        s = (s + n) % R;
      }
    }
    for (let k = 0, s = head; k < nb; k++, s = s + 1 === R ? 0 : s + 1) {
      const i = q * R + s;
      this.dma(t, this.txPfn[i], this.txOff[i], this.txLen[i], DIR_READ, kind);
    }
    if (this.mlx5) {
      this.dma(t, this.txCqPfn[q], this.txCqPos[q] * MLX5_CQE_BYTES, MLX5_CQE_BYTES, DIR_WRITE, KIND_CQE);
      this.txCqPos[q] = this.txCqPos[q] + 1 === R ? 0 : this.txCqPos[q] + 1;
      this.st.descriptorWrites++;
      this.txVisible[q] += nb;
    } else {
      for (let k = 0, s = head; k < nb; k++, s = s + 1 === R ? 0 : s + 1) this.wbAdd(true, q, s, t);
    }
    this.txHead[q] = (head + nb) % R;
    this.txInUse[q] += nb;
    this.st.payloadBytes += len;
    this.st.txPackets++;
    if (ack) this.st.acks++;
    this.complete(q, t);
  }

  /** A received TCP segment cleaned on queue q: one ACK is due per ackEvery of them. */
  private segment(q: number): void {
    if (++this.ackPending[q] >= this.ackEvery) {
      this.ackPending[q] = 0;
      this.ackDue[q]++;
    }
  }

  /** Send the ACKs due on queue q (from its poll, on its TX ring). */
  private sendAcks(q: number, t: number): void {
    for (let n = this.ackDue[q]; n > 0; n--) this.txPacket(q, this.ackBytes, t, true);
    this.ackDue[q] = 0;
  }

  // ------------------------------------------------------------------ write-back, interrupts, NAPI

  private wbAdd(tx: boolean, q: number, s: number, t: number): void {
    const count = tx ? this.txWbCount : this.rxWbCount;
    if (count[q] === 0) (tx ? this.txWbStart : this.rxWbStart)[q] = s;
    if (++count[q] >= this.wbBatch) this.wbFlush(tx, q, t);
  }

  private wbFlush(tx: boolean, q: number, t: number): void {
    const count = tx ? this.txWbCount : this.rxWbCount;
    const n = count[q];
    if (n === 0) return;
    const R = tx ? this.Rt : this.Rr;
    const start = (tx ? this.txWbStart : this.rxWbStart)[q];
    const pfn = (tx ? this.txRingPfn : this.rxRingPfn)[q];
    const first = n < R - start ? n : R - start;
    this.dma(t, pfn, start * this.D, first * this.D, DIR_WRITE, KIND_CQE);
    this.st.descriptorWrites++;
    if (n > first) {
      this.dma(t, pfn, 0, (n - first) * this.D, DIR_WRITE, KIND_CQE);
      this.st.descriptorWrites++;
    }
    (tx ? this.txVisible : this.rxVisible)[q] += n;
    count[q] = 0;
  }

  /** A frame completed on queue q at t: interrupt moderation. */
  private complete(q: number, t: number): void {
    if (++this.modCount[q] === 1) this.modFirst[q] = t;
    if (this.evtKind[q] === EVT_POLL) return; // masked until the poll re-arms
    if (this.modNs === 0 || (this.modPackets > 0 && this.modCount[q] >= this.modPackets)) this.interrupt(q, t);
    else if (this.evtKind[q] === EVT_NONE) this.setEvt(q, EVT_IRQ, this.modFirst[q] + this.modNs);
  }

  private setEvt(q: number, kind: number, time: number): void {
    this.evtKind[q] = kind;
    this.evtTime[q] = time;
    if (time < this.nextEvt) this.nextEvt = time;
  }

  /**
   * The interrupt: 82599 flushes the pending write-backs; mlx5 writes the pending mini-CQE line,
   * then an event-queue entry (the EQE the MSI-X announces). The MSI-X message itself is not a
   * DMA row (interrupt remapping, src/iommu/irq).
   */
  private interrupt(q: number, t: number): void {
    if (this.mlx5) {
      this.flushMini(q, t);
      this.dma(t, this.eqPfn[q], this.eqPos[q] * MLX5_EQE_BYTES, MLX5_EQE_BYTES, DIR_WRITE, KIND_CQE);
      this.eqPos[q] = this.eqPos[q] + 1 === MLX5_EQ_ENTRIES ? 0 : this.eqPos[q] + 1;
      this.st.descriptorWrites++;
      this.st.eqeWrites++;
    } else {
      this.wbFlush(false, q, t);
      this.wbFlush(true, q, t);
    }
    this.st.interrupts++;
    this.modCount[q] = 0;
    this.setEvt(q, EVT_POLL, t + this.pollDelay);
  }

  private poll(q: number, t: number): void {
    this.evtKind[q] = EVT_POLL; // the vector stays masked while the poll runs (ACKs it sends complete into the re-arm)
    // TX completions first (ixgbe_poll and mlx5e_napi_poll clean TX, then RX)
    if (this.txVisible[q] > 0) {
      const R = this.Rt;
      let s = this.txClean[q];
      for (let n = this.txVisible[q]; n > 0; n--) {
        const i = q * R + s;
        if (this.txMapped[i] !== 0) this.unmap(t, this.txPfn[i], this.txOff[i], this.txLen[i], this.txPages[i], q, this.txKind[i]);
        s = s + 1 === R ? 0 : s + 1;
      }
      this.txInUse[q] -= this.txVisible[q];
      this.txVisible[q] = 0;
      this.txClean[q] = s;
    }
    const polls = this.pollRx(q, t);
    this.st.napiPolls += polls === 0 ? 1 : polls;
    // napi_complete: re-arm moderation for what completed meanwhile
    this.evtKind[q] = EVT_NONE;
    this.evtTime[q] = Infinity;
    if (this.modCount[q] > 0) {
      const due = this.modFirst[q] + this.modNs;
      if (this.modNs === 0 || (this.modPackets > 0 && this.modCount[q] >= this.modPackets) || due <= t) this.interrupt(q, t);
      else this.setEvt(q, EVT_IRQ, due);
    }
  }

  /** RX: polls of napiBudget frames (cleanRx / cleanRxMlx5), each followed by its ACKs, until one finds fewer; returns the polls that found any. */
  private pollRx(q: number, t: number): number {
    let polls = 0;
    for (;;) {
      const frames = this.mlx5 ? this.cleanRxMlx5(q, t) : this.cleanRx(q, t);
      if (frames === 0) break;
      this.sendAcks(q, t);
      polls++;
      if (frames < this.budget) break;
    }
    return polls;
  }

  /** 82599 RX, one poll: up to napiBudget frames, then what it cleaned refilled and the tail written once; returns the frames (0: nothing cleaned, nothing done). */
  private cleanRx(q: number, t: number): number {
    const R = this.Rr;
    let frames = 0, cleaned = 0;
    while (frames < this.budget && this.rxVisible[q] > 0) {
      const first = this.rxClean[q];
      const nd = this.rxPktDescs[q * R + first];
      if (nd > this.rxVisible[q]) break; // the frame's last descriptors are not written back yet
      for (let k = 0, s = first; k < nd; k++, s = s + 1 === R ? 0 : s + 1) {
        const i = q * R + s;
        if (this.policy === POLICY_PER_PACKET) this.unmap(t, this.rxPfn[i], this.rxOff[i], this.buf, this.rxPages[i], q, KIND_DATA);
      }
      if (this.rxPktTcp[q * R + first] !== 0) this.segment(q);
      this.rxClean[q] = (first + nd) % R;
      this.rxVisible[q] -= nd;
      cleaned += nd;
      frames++;
    }
    if (cleaned === 0) return 0;
    for (let k = 0; k < cleaned; k++) {
      this.postRx(q, (this.rxHead[q] + this.rxAvail[q]) % R, t);
      this.rxAvail[q]++;
    }
    this.st.doorbells++;
    return frames;
  }

  /**
   * mlx5 RX, one poll: napiBudget completion entries (fillers count, as in mlx5e_poll_rx_cq); a WQE
   * whose entries are all cleaned once the NIC closed it is released (per-packet: unmapped, one
   * record of its whole range); the released WQEs are posted again at the end of the poll, and one
   * doorbell-record update (read by the device) announces them. Returns the entries cleaned.
   */
  private cleanRxMlx5(q: number, t: number): number {
    const W = this.W, E = this.E;
    let frames = 0, released = 0;
    while (frames < this.budget && this.rxVisible[q] > 0) {
      const r = this.entR[q];
      const f = this.entFlags[q * E + r];
      this.entR[q] = r + 1 === E ? 0 : r + 1;
      this.rxVisible[q]--;
      frames++;
      if ((f & ENT_TCP) !== 0) this.segment(q);
      const w = this.cleanWqe[q];
      const wi = q * W + w;
      if (++this.cleanEntries[q] === this.wqeEntries[wi] && this.wqeClosed[wi] !== 0) {
        if (this.policy === POLICY_PER_PACKET) this.unmap(t, this.wqePfn[wi], 0, this.wqeBytes, this.wqePages, q, KIND_DATA);
        this.wqeEntries[wi] = 0;
        this.wqeClosed[wi] = 0;
        this.cleanWqe[q] = w + 1 === W ? 0 : w + 1;
        this.cleanEntries[q] = 0;
        released++;
      }
    }
    if (released > 0) {
      for (let k = 0; k < released; k++) {
        this.postWqe(q, (this.wqeNext[q] + this.rxAvail[q]) % W, t);
        this.rxAvail[q]++;
      }
      this.dbRead(q, t);
    }
    return frames;
  }

  /** Run the queues' interrupts and polls due at or before t, in time order (ties: lower queue first). */
  runUntil(t: number): void {
    while (this.nextEvt <= t) {
      let best = -1;
      let bt = Infinity;
      const et = this.evtTime;
      for (let q = 0; q < this.Q; q++) if (et[q] < bt) { bt = et[q]; best = q; }
      this.nextEvt = bt;
      if (best < 0 || bt > t) return;
      const kind = this.evtKind[best];
      this.evtKind[best] = EVT_NONE;
      this.evtTime[best] = Infinity;
      if (kind === EVT_IRQ) this.interrupt(best, bt);
      else this.poll(best, bt);
    }
  }

  /** The counts at the end, `records` rows having been emitted. */
  counts(records: number): NicStats {
    this.st.iovaCacheHits = this.iova.hits;
    this.st.iovaCacheMisses = this.iova.misses;
    this.st.distinctIovaPages = this.iova.distinctTouchedPages;
    this.st.records = records;
    return this.st;
  }
}

/** Packets a chunk at a time, in time order (a capture read in pieces, or SyntheticPacketStream). */
export interface PacketChunks {
  /** The next chunk, or null at the end; its columns are read before the next call. */
  next(): PacketColumns | null;
}

/** The whole of one PacketColumns as a PacketChunks. */
export function onePacketChunk(p: PacketColumns): PacketChunks {
  let given = false;
  return { next: () => (given ? null : ((given = true), p)) };
}

/**
 * The NIC's trace a chunk at a time: packets pulled from `packets` until about `chunkRecords` rows
 * are out (a packet's rows stay together, so a chunk may run a few rows over), the chunk's
 * columns reused by the next call. Memory is bounded by the chunk and the model's per-queue state,
 * whatever the number of packets. The rows are those nicTrace gives, in the same order.
 */
export class NicTraceStream {
  readonly devices: string[];
  private readonly m: NicModel;
  private readonly chunkRecords: number;
  private readonly maxPackets: number;
  private readonly acks: boolean;
  private readonly ackBytes: number;
  private p: PacketColumns | null = null;
  private i = 0;
  private used = 0;
  private tPrev = NaN;
  private total = 0;
  private ended = false;
  private result: NicStats | null = null;

  constructor(private readonly packets: PacketChunks, cfg: NicConfig, opts: NicTraceOptions, chunkRecords = 1 << 16, capacity = chunkRecords + 1024) {
    const device = canonicalBdf(String(opts.device), 'nicTrace device');
    this.maxPackets = Infinity;
    if (opts.maxPackets !== undefined) {
      const m = opts.maxPackets;
      if (!Number.isInteger(m) || m < 0) throw inputError(`maxPackets=${String(m)}`, 'not a whole number ≥ 0', 'give the number of packets to use, e.g. 100000');
      this.maxPackets = m;
    }
    if (!(chunkRecords >= 1)) throw inputError(`chunkRecords=${String(chunkRecords)}`, 'not ≥ 1', 'give the rows per chunk, e.g. 65536');
    this.chunkRecords = chunkRecords;
    this.m = new NicModel(cfg, device, Math.max(1024, Math.min(capacity, 1 << 20)));
    this.devices = this.m.b.t.devices;
    this.acks = this.m.acks;
    this.ackBytes = this.m.ackBytes;
  }

  /** The next chunk of rows (count ≥ 1), or null when every packet's rows are out. */
  next(): TraceColumns | null {
    if (this.ended) return null;
    const m = this.m, b = m.b, limit = this.chunkRecords;
    b.t.count = 0;
    const st = m.st, acks = this.acks, ackBytes = this.ackBytes;
    while (b.t.count < limit) {
      let p = this.p;
      if (p === null || this.i === p.count) {
        p = this.used < this.maxPackets || this.tPrev !== this.tPrev ? this.packets.next() : null;
        this.p = p;
        this.i = 0;
        if (p === null) {
          if (this.tPrev !== this.tPrev) m.setup(0); // no packets: the rings are still set up, as nicTrace always did
          m.runUntil(Number.MAX_VALUE);
          this.ended = true;
          break;
        }
        continue;
      }
      const ts = p.tsNs, len = p.origLen, dir = p.dir, hash = p.flowHash, l4 = p.l4;
      const end = Math.min(p.count, this.i + (this.maxPackets - this.used));
      let i = this.i;
      if (this.tPrev !== this.tPrev && i < p.count) { this.tPrev = ts[i]; m.setup(this.tPrev); } // set up at the first packet's time
      let tPrev = this.tPrev;
      for (; i < end && b.t.count < limit; i++) {
        let t = ts[i];
        if (!(t >= tPrev)) t = tPrev;
        tPrev = t;
        m.runUntil(t);
        st.packets++;
        const l = len[i];
        if (l === 0) { st.emptyPackets++; continue; }
        const h = hash[i];
        const q = m.queueOf(h);
        if (m.isTx(dir[i], h)) m.txPacket(q, l, t);
        else m.rxPacket(q, l, t, acks && l4[i] === IPPROTO_TCP && l > ackBytes);
      }
      this.used += i - this.i;
      this.i = i;
      this.tPrev = tPrev;
      if (this.used >= this.maxPackets) this.i = p.count; // the rest is not used
    }
    this.total += b.t.count;
    if (this.ended && b.t.count === 0) return null;
    return b.t;
  }

  /** The counts, once next() has returned null. */
  stats(): NicStats {
    if (!this.ended) throw new Error('NicTraceStream.stats before the end of the stream');
    if (this.result === null) this.result = this.m.counts(this.total);
    return this.result;
  }
}

/**
 * The DMA-level trace of a NIC and its Linux driver for these packets: map / dma / unmap rows of one
 * device, in time order, plus counts. `cfg` from `resolveNicConfig`.
 */
export function nicTrace(packets: PacketColumns, cfg: NicConfig, opts: NicTraceOptions): { trace: TraceColumns; stats: NicStats } {
  // ~2-4 rows per frame; the builder doubles from here (40 B per row: keep the first allocation modest)
  const estimate = cfg.queues * (cfg.rxRing.entries + cfg.txRing.entries) + packets.count * 4 + 1024;
  const s = new NicTraceStream(onePacketChunk(packets), cfg, opts, Infinity, estimate);
  const first = s.next();
  const trace = first === null ? trimColumns(allocColumns(0, s.devices)) : trimColumns(first);
  if (first !== null && s.next() !== null) throw new Error('nicTrace: a second chunk from an unbounded stream');
  return { trace, stats: s.stats() };
}

// ------------------------------------------------------------------ synthetic packets

export interface SyntheticPacketOptions {
  count: number;
  /** Every frame this long (bytes without FCS), or ... */
  sizeBytes?: number;
  /** ... lengths drawn from [bytes, weight] pairs. */
  sizeMix?: Array<[number, number]>;
  /** Line rate the frames arrive at, back to back. */
  rateGbps: number;
  /** Flows the frames are spread over (uniformly at random). */
  flows: number;
  seed: number;
  /** rx / tx (1 / 2), unknown (0: nic.direction decides), or by-flow (even flows RX, odd TX). Default rx. */
  dir?: 'rx' | 'tx' | 'unknown' | 'by-flow' | 0 | 1 | 2;
  /** IP protocol number of every frame (PacketColumns.l4): 17 UDP (default), 6 TCP (segments nic.acks answers). */
  l4?: number;
}


/**
 * Deterministic synthetic packets: frames back to back at `rateGbps` (each occupies
 * max(len, 60) + 24 bytes of wire time: preamble, FCS, inter-frame gap, padding), flows and sizes
 * drawn with a seeded xorshift32. capLen is 0 (no bytes stored), l4 is `opts.l4` (default 17, UDP).
 */
export function syntheticPackets(opts: SyntheticPacketOptions): PacketColumns {
  const s = new SyntheticPacketStream(opts, opts.count);
  return s.next() ?? s.empty();
}

/**
 * syntheticPackets a chunk at a time (the same packets), `chunkPackets` per chunk in one reused
 * set of columns; `payloadBytes` and `wireBytes` sum the packets given so far.
 */
export class SyntheticPacketStream implements PacketChunks {
  private readonly sizes: Float64Array;
  private readonly cum: Float64Array;
  private readonly dirCode: number; // 0, 1, 2, or 3 = by flow
  private readonly count: number;
  private readonly flows: number;
  private readonly seed: number;
  private readonly nsPerByte: number;
  private readonly p: PacketColumns;
  private x: number;
  private t = 0;
  private given = 0;
  payloadBytes = 0;
  wireBytes = 0;

  constructor(opts: SyntheticPacketOptions, chunkPackets = 1 << 16) {
    const bad: (key: string, value: unknown, what: string, fix: string) => never = (key, value, what, fix) => { throw inputError(`syntheticPackets ${key}=${JSON.stringify(value)}`, what, fix); };
    const { count, rateGbps, flows, seed } = opts;
    if (!Number.isInteger(count) || count < 0 || count > 1e9) bad('count', count, 'not a whole number from 0 to 1e9', 'give the number of packets');
    if (!(typeof rateGbps === 'number' && rateGbps > 0 && Number.isFinite(rateGbps))) bad('rateGbps', rateGbps, 'not a positive number', 'give the line rate in Gb/s, e.g. 10');
    if (!Number.isInteger(flows) || flows < 1 || flows > 2 ** 32) bad('flows', flows, 'not a whole number ≥ 1', 'give the number of flows, e.g. 16');
    if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) bad('seed', seed, 'not a whole number from 0 to 2^32 − 1', 'give a seed, e.g. 1');
    const checkLen = (key: string, v: unknown): number => {
      if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 16 * 1024 * 1024) bad(key, v, 'not a frame length from 1 to 16 MiB', 'give the frame length in bytes without FCS, e.g. 1514');
      return v as number;
    };
    if (opts.sizeBytes !== undefined && opts.sizeMix !== undefined) bad('sizeMix', opts.sizeMix, 'given together with sizeBytes', 'give one of sizeBytes or sizeMix');
    if (opts.sizeBytes !== undefined) {
      this.sizes = Float64Array.of(checkLen('sizeBytes', opts.sizeBytes));
      this.cum = Float64Array.of(1);
    } else if (opts.sizeMix !== undefined) {
      const mix = opts.sizeMix;
      if (!Array.isArray(mix) || mix.length === 0) bad('sizeMix', mix, 'not a non-empty list', 'give [bytes, weight] pairs, e.g. [[64, 7], [1514, 1]]');
      const sizes = (this.sizes = new Float64Array(mix.length));
      const cum = (this.cum = new Float64Array(mix.length));
      let total = 0;
      mix.forEach((e, k) => {
        if (!Array.isArray(e) || e.length !== 2) bad(`sizeMix[${k}]`, e, 'not a [bytes, weight] pair', 'give pairs such as [1514, 1]');
        sizes[k] = checkLen(`sizeMix[${k}][0]`, e[0]);
        const w = e[1];
        if (!(typeof w === 'number' && w > 0 && Number.isFinite(w))) bad(`sizeMix[${k}][1]`, w, 'not a positive weight', 'give a positive number');
        total += w;
        cum[k] = total;
      });
      for (let k = 0; k < cum.length; k++) cum[k] /= total;
    } else {
      bad('sizeBytes', undefined, 'missing', 'give sizeBytes or sizeMix');
    }
    const d = opts.dir ?? 'rx';
    if (d === 'rx' || d === 1) this.dirCode = 1;
    else if (d === 'tx' || d === 2) this.dirCode = 2;
    else if (d === 'unknown' || d === 0) this.dirCode = 0;
    else if (d === 'by-flow') this.dirCode = 3;
    else bad('dir', d, 'unknown direction', 'use rx, tx, unknown or by-flow');
    const l4 = opts.l4 ?? 17;
    if (!Number.isInteger(l4) || l4 < 0 || l4 > 255) bad('l4', l4, 'not an IP protocol number from 0 to 255', 'use 6 (TCP) or 17 (UDP)');
    if (!(Number.isInteger(chunkPackets) && chunkPackets >= 1) && chunkPackets !== count) bad('chunkPackets', chunkPackets, 'not a whole number ≥ 1', 'give the packets per chunk, e.g. 65536');
    this.count = count;
    this.flows = flows;
    this.seed = seed;
    this.nsPerByte = 8 / rateGbps;
    const n = Math.min(count, chunkPackets);
    this.p = allocPacketColumns(n);
    this.p.l4.fill(l4);
    this.x = fmix32(seed ^ 0x9e3779b9) || 0x12345;
  }

  /** No packets, in columns of their own. */
  empty(): PacketColumns {
    return { ...this.p, count: 0 };
  }

  next(): PacketColumns | null {
    const p = this.p;
    const n = Math.min(p.tsNs.length, this.count - this.given);
    if (n <= 0) return null;
    const sizes = this.sizes, cum = this.cum, flows = this.flows, seed = this.seed, dirCode = this.dirCode, nsPerByte = this.nsPerByte;
    const single = sizes.length === 1;
    let x = this.x, t = this.t, payload = this.payloadBytes, wire = this.wireBytes;
    for (let i = 0; i < n; i++) {
      let len: number;
      if (single) len = sizes[0];
      else {
        x ^= x << 13; x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5; x >>>= 0;
        const u = x / TWO32;
        let k = 0;
        while (k < cum.length - 1 && u >= cum[k]) k++;
        len = sizes[k];
      }
      let f = 0;
      if (flows !== 1) {
        x ^= x << 13; x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5; x >>>= 0;
        f = x % flows;
      }
      p.tsNs[i] = t;
      p.origLen[i] = len;
      p.flowHash[i] = fmix32((f + 1) ^ Math.imul(seed, 0x9e3779b1)) || 1;
      p.dir[i] = dirCode === 3 ? ((f & 1) === 0 ? 1 : 2) : dirCode;
      const onWire = (len > MIN_FRAME_BYTES ? len : MIN_FRAME_BYTES) + WIRE_OVERHEAD_BYTES;
      t += onWire * nsPerByte;
      payload += len;
      wire += onWire;
    }
    this.x = x;
    this.t = t;
    this.payloadBytes = payload;
    this.wireBytes = wire;
    this.given += n;
    p.count = n;
    return p;
  }
}
