/**
 * VT-d interrupt remapping, functional: MSI/MSI-X address/data decode (compatibility and
 * remappable formats), the 16-byte interrupt-remapping table entry (remapped and posted formats)
 * in simulated memory, the interrupt-entry cache (IEC, one SetAssocCache), source-id validation,
 * the interrupt-remapping faults and IEC invalidation.
 *
 * Bit positions (VT-d specification §5.1 and §9.10; cross-checked against Linux
 * include/linux/dmar.h `struct irte`, drivers/iommu/intel/irq_remapping.c and QEMU
 * hw/i386/intel_iommu.c `vtd_interrupt_remap_msi` / `vtd_irte_get`; see README.md):
 *
 *   remappable MSI address: 31:20 = 0xFEE, 19:5 handle[14:0], 4 = 1 (remappable format),
 *                           3 SHV, 2 handle[15], 1:0 don't care;  data 15:0 subhandle (SHV = 1),
 *                           data 31:16 reserved (0x20 when SHV = 1 and any is set).
 *   IRTE word 0 (bits 31:0):  0 P, 1 FPD, 2 DM, 3 RH, 4 TM, 7:5 DLM, 11:8 AVAIL, 14:12 reserved,
 *                             15 IM (0 remapped, 1 posted), 23:16 vector, 31:24 reserved;
 *                             posted: 7:2 and 13:12 reserved, 14 URG.
 *   IRTE word 1 (63:32):      destination id (x2APIC: 32 bits; xAPIC: bits 47:40, rest reserved);
 *                             posted: 37:32 reserved, 63:38 PDA[31:6].
 *   IRTE word 2 (95:64):      15:0 SID, 17:16 SQ, 19:18 SVT, 31:20 reserved.
 *   IRTE word 3 (127:96):     reserved; posted: PDA[63:32].
 *
 * Hot path: `remap()` allocates nothing; its decision is left in the `out*` fields.
 */
import { SetAssocCache, createCache } from '../../cache/setassoc.js';
import { TableMemory } from '../tablemem.js';
import { inputError } from '../../util/errors.js';
import { IRQ_DEFAULTS, type IrqSpec } from '../../config/knobs/irq.js';
import { IRQ_REMAP_STATS, type IrqRemapMetrics } from './stats.js';

// ------------------------------------------------------------------------------ fault reasons

/** Interrupt-remapping fault reasons (VT-d fault-reason table; Linux dmar.c irq_remap_fault_reasons, QEMU VTD_FR_IR_*). */
export const FR_IR_REQUEST_RESERVED = 0x20; // reserved field set in the interrupt request
export const FR_IR_INDEX_BEYOND_TABLE = 0x21; // interrupt index >= table size
export const FR_IR_NOT_PRESENT = 0x22; // IRTE present bit clear (qualified by FPD)
export const FR_IR_TABLE_ACCESS = 0x23; // IRT access error (not produced: the table is always readable here)
export const FR_IR_IRTE_RESERVED = 0x24; // reserved field set in a present IRTE (qualified)
export const FR_IR_COMPAT_BLOCKED = 0x25; // compatibility-format request blocked (EIME = 1 or CFIS = 0)
export const FR_IR_SOURCE_ID = 0x26; // source-id verification failed (SID/SQ/SVT; qualified)

export const IRQ_FAULT_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [FR_IR_REQUEST_RESERVED]: 'requestReserved',
  [FR_IR_INDEX_BEYOND_TABLE]: 'indexBeyondTable',
  [FR_IR_NOT_PRESENT]: 'irteNotPresent',
  [FR_IR_TABLE_ACCESS]: 'tableAccess',
  [FR_IR_IRTE_RESERVED]: 'irteReserved',
  [FR_IR_COMPAT_BLOCKED]: 'compatBlocked',
  [FR_IR_SOURCE_ID]: 'invalidSourceId',
});

// ------------------------------------------------------------------------------ MSI messages

/** Bits 31:20 of every interrupt address (the 0xFEEx_xxxx window). */
export const MSI_ADDR_BASE = 0xfee00000;
const MSI_IF = 1 << 4; // interrupt format: 1 = remappable
const MSI_SHV_BIT = 1 << 3;

export const MSI_NOT_INTERRUPT = 0;
export const MSI_COMPAT = 1;
export const MSI_REMAPPABLE = 2;
export type MsiKind = typeof MSI_NOT_INTERRUPT | typeof MSI_COMPAT | typeof MSI_REMAPPABLE;

/** Field indices of a decoded MSI (see `decodeMsi`). */
export const MSI_HANDLE = 0; // remappable: handle[15:0]
export const MSI_SHV = 1; // remappable: subhandle valid
export const MSI_SUBHANDLE = 2; // remappable: data[15:0] when SHV
export const MSI_INDEX = 3; // remappable: interrupt index = handle (+ subhandle when SHV); up to 0x1fffe
export const MSI_DATA_RESERVED = 4; // remappable with SHV: 1 when data[31:16] != 0 (fault 0x20)
export const MSI_DEST = 5; // compat: destination id, address 19:12
export const MSI_RH = 6; // compat: redirection hint, address bit 3
export const MSI_DM = 7; // compat: destination mode, address bit 2
export const MSI_VECTOR = 8; // compat: data 7:0
export const MSI_DELIVERY = 9; // compat: data 10:8
export const MSI_LEVEL = 10; // compat: data bit 14
export const MSI_TRIGGER = 11; // compat: data bit 15
export const MSI_FIELDS = 12;

/** A reusable decode target (one per caller; decodeMsi writes into it). */
export function newMsiFields(): Int32Array {
  return new Int32Array(MSI_FIELDS);
}
const MSI_SCRATCH = newMsiFields();

/**
 * Decode an MSI/MSI-X write (address bits 31:0, data). Returns the kind and fills `out` (fields of
 * the other kind are zero). An address outside 0xFEEx_xxxx is MSI_NOT_INTERRUPT.
 */
export function decodeMsi(addrLo: number, data: number, out: Int32Array = MSI_SCRATCH): MsiKind {
  out.fill(0);
  addrLo >>>= 0;
  data >>>= 0;
  if (addrLo >>> 20 !== 0xfee) return MSI_NOT_INTERRUPT;
  if ((addrLo & MSI_IF) !== 0) {
    const handle = ((addrLo >>> 5) & 0x7fff) | (((addrLo >>> 2) & 1) << 15);
    const shv = (addrLo >>> 3) & 1;
    out[MSI_HANDLE] = handle;
    out[MSI_SHV] = shv;
    if (shv !== 0) {
      out[MSI_SUBHANDLE] = data & 0xffff;
      out[MSI_DATA_RESERVED] = data >>> 16 !== 0 ? 1 : 0;
      out[MSI_INDEX] = handle + (data & 0xffff);
    } else {
      out[MSI_INDEX] = handle;
    }
    return MSI_REMAPPABLE;
  }
  out[MSI_DEST] = (addrLo >>> 12) & 0xff;
  out[MSI_RH] = (addrLo >>> 3) & 1;
  out[MSI_DM] = (addrLo >>> 2) & 1;
  out[MSI_VECTOR] = data & 0xff;
  out[MSI_DELIVERY] = (data >>> 8) & 7;
  out[MSI_LEVEL] = (data >>> 14) & 1;
  out[MSI_TRIGGER] = (data >>> 15) & 1;
  return MSI_COMPAT;
}

/**
 * Address (bits 31:0) of a remappable-format MSI for `handle` (0..65535). With `subhandleValid` the
 * data register's low 16 bits are added to the handle (Linux always sets SHV and writes the
 * subhandle as data: irq_remapping.c fill_msi_msg).
 */
export function encodeRemappableMsi(handle: number, subhandleValid: boolean): number {
  if (!Number.isInteger(handle) || handle < 0 || handle > 0xffff) throw inputError(`MSI handle ${handle}`, 'must be a whole number from 0 to 65535');
  return (MSI_ADDR_BASE | ((handle & 0x7fff) << 5) | MSI_IF | (subhandleValid ? MSI_SHV_BIT : 0) | (((handle >>> 15) & 1) << 2)) >>> 0;
}

/** Address of a compatibility-format MSI: destination id (8 bits), redirection hint, destination mode. */
export function encodeCompatMsiAddress(destId: number, redirHint = 0, destMode = 0): number {
  if (!Number.isInteger(destId) || destId < 0 || destId > 0xff) throw inputError(`MSI destination id ${destId}`, 'must be a whole number from 0 to 255 in compatibility format');
  return (MSI_ADDR_BASE | (destId << 12) | ((redirHint & 1) << 3) | ((destMode & 1) << 2)) >>> 0;
}

/** Data of a compatibility-format MSI: vector, delivery mode (0 fixed, 1 lowest priority, ...), level, trigger (0 edge, 1 level). */
export function encodeCompatMsiData(vector: number, deliveryMode = 0, level = 0, trigger = 0): number {
  return ((vector & 0xff) | ((deliveryMode & 7) << 8) | ((level & 1) << 14) | ((trigger & 1) << 15)) >>> 0;
}

// ------------------------------------------------------------------------------ IRTE

/** Fields to program an IRTE with (programming time: validated, may allocate). */
export interface IrteFields {
  /** Present (default true). */
  present?: boolean;
  /** Fault processing disable: qualified faults of this entry are not recorded. */
  fpd?: boolean;
  /** IRTE mode: false remapped (default), true posted. */
  posted?: boolean;
  /** Remapped: the interrupt vector; posted: the virtual vector set in the PIR. */
  vector: number;
  /** Remapped: 0 physical (default), 1 logical. */
  destMode?: number;
  /** Remapped: redirection hint. */
  redirHint?: boolean;
  /** Remapped: 0 edge (default), 1 level. */
  triggerMode?: number;
  /** Remapped: 0 fixed (default), 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT. */
  deliveryMode?: number;
  /** Remapped: destination APIC id (32-bit x2APIC id, or 8-bit xAPIC id with irq.x2apic=false). */
  destId?: number;
  /** Posted: physical address of the 64-byte-aligned posted-interrupt descriptor (below 2^52). */
  pda?: number;
  /** Posted: urgent (a notification is sent even when the descriptor's SN is set). */
  urgent?: boolean;
  /** Source-id to verify against (bus << 8 | dev << 3 | fn; with svt = 2: start bus << 8 | end bus). */
  sid?: number;
  /** Source-id qualifier 0..3: bits of the requester id ignored with svt = 1 (see SQ_MASKS). */
  sq?: number;
  /** Source validation type: 0 none, 1 requester id under the SQ mask, 2 bus range. */
  svt?: number;
  /** Bits 11:8, available to software. */
  avail?: number;
}

export const SVT_NONE = 0;
export const SVT_REQUESTER_ID = 1;
export const SVT_BUS_RANGE = 2;
/**
 * Requester-id bits compared with SVT = 1, by SQ: 0 all 16 bits; 1 ignore bit 2; 2 ignore bits 2:1;
 * 3 ignore bits 2:0 (function number). VT-d "SQ" table; Linux SQ_13_IGNORE_1..3; QEMU vtd_svt_mask.
 */
export const SQ_MASKS: Readonly<Uint16Array> = Uint16Array.of(0xffff, 0xfffb, 0xfff9, 0xfff8);

const W0_P = 1;
const W0_FPD = 1 << 1;
const W0_IM = 1 << 15;
const W0_URG = 1 << 14;
/** Reserved bits of a remapped-format IRTE (word 0: 14:12, 31:24; word 2: 31:20; word 3: all). */
const RSV_R_W0 = 0xff007000;
/** Word 1 reserved bits in xAPIC mode (EIME = 0): destination id only in bits 47:40. */
const RSV_R_W1_XAPIC = 0xffff00ff;
/** Reserved bits of a posted-format IRTE (word 0: 7:2, 13:12, 31:24; word 1: 37:32). */
const RSV_P_W0 = 0xff0030fc;
const RSV_P_W1 = 0x3f;
const RSV_W2 = 0xfff00000;
/** Largest posted-descriptor address accepted (VT-d host address width is at most 52 bits). */
const MAX_PDA = 2 ** 52;

const checkInt = (what: string, v: number, lo: number, hi: number): number => {
  if (!Number.isInteger(v) || v < lo || v > hi) throw inputError(`IRTE ${what}=${v}`, `must be a whole number from ${lo} to ${hi}`);
  return v;
};

/**
 * Encode IRTE fields into four 32-bit words (w0 = bits 31:0 ... w3 = bits 127:96). `x2apic`
 * selects where the destination id goes (IRTA_REG.EIME). Throws an InputError on a bad field.
 */
export function encodeIrte(f: IrteFields, x2apic = true, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  const present = f.present ?? true;
  const vector = checkInt('vector', f.vector, 0, 255);
  const sid = checkInt('sid', f.sid ?? 0, 0, 0xffff);
  const sq = checkInt('sq', f.sq ?? 0, 0, 3);
  const svt = checkInt('svt', f.svt ?? 0, 0, 2);
  const avail = checkInt('avail', f.avail ?? 0, 0, 15);
  let w0 = (present ? W0_P : 0) | (f.fpd ? W0_FPD : 0) | (avail << 8) | (vector << 16);
  let w1: number;
  let w3 = 0;
  if (f.posted) {
    const pda = f.pda ?? -1;
    if (!Number.isInteger(pda) || pda < 0 || pda >= MAX_PDA || pda % 64 !== 0) {
      throw inputError(`IRTE pda=${pda}`, 'a posted IRTE needs the physical address of a 64-byte-aligned posted-interrupt descriptor below 2^52');
    }
    w0 |= W0_IM | (f.urgent ? W0_URG : 0);
    w1 = pda % 0x100000000; // PDA[31:6] in bits 63:38; PDA[5:0] = 0 leaves bits 37:32 clear
    w3 = Math.floor(pda / 0x100000000);
  } else {
    w0 |= ((checkInt('destMode', f.destMode ?? 0, 0, 1)) << 2) | ((f.redirHint ? 1 : 0) << 3)
      | (checkInt('triggerMode', f.triggerMode ?? 0, 0, 1) << 4) | (checkInt('deliveryMode', f.deliveryMode ?? 0, 0, 7) << 5);
    const dest = checkInt('destId', f.destId ?? 0, 0, x2apic ? 0xffffffff : 0xff);
    w1 = x2apic ? dest : dest << 8;
  }
  out[0] = w0 >>> 0;
  out[1] = w1 >>> 0;
  out[2] = (sid | (sq << 16) | (svt << 18)) >>> 0;
  out[3] = w3 >>> 0;
  return out;
}

/** A decoded IRTE (a reusable view: `decode` overwrites every field). */
export class IrteView {
  present = 0;
  fpd = 0;
  /** 0 remapped, 1 posted (IM). */
  posted = 0;
  vector = 0;
  destMode = 0;
  redirHint = 0;
  triggerMode = 0;
  deliveryMode = 0;
  destId = 0;
  /** Posted: PDA bits 31:0 (bits 5:0 zero) and 63:32. */
  pdaLo = 0;
  pdaHi = 0;
  urgent = 0;
  sid = 0;
  sq = 0;
  svt = 0;
  avail = 0;

  /** Posted-descriptor address as one number (exact below 2^53). */
  get pda(): number {
    return this.pdaHi * 0x100000000 + this.pdaLo;
  }

  decode(w0: number, w1: number, w2: number, w3: number, x2apic = true): this {
    w0 >>>= 0; w1 >>>= 0; w2 >>>= 0; w3 >>>= 0;
    this.present = w0 & 1;
    this.fpd = (w0 >>> 1) & 1;
    this.posted = (w0 >>> 15) & 1;
    this.vector = (w0 >>> 16) & 0xff;
    this.avail = (w0 >>> 8) & 0xf;
    this.sid = w2 & 0xffff;
    this.sq = (w2 >>> 16) & 3;
    this.svt = (w2 >>> 18) & 3;
    if (this.posted !== 0) {
      this.urgent = (w0 >>> 14) & 1;
      this.pdaLo = (w1 & 0xffffffc0) >>> 0;
      this.pdaHi = w3;
      this.destMode = this.redirHint = this.triggerMode = this.deliveryMode = this.destId = 0;
    } else {
      this.destMode = (w0 >>> 2) & 1;
      this.redirHint = (w0 >>> 3) & 1;
      this.triggerMode = (w0 >>> 4) & 1;
      this.deliveryMode = (w0 >>> 5) & 7;
      this.destId = x2apic ? w1 : (w1 >>> 8) & 0xff;
      this.urgent = this.pdaLo = this.pdaHi = 0;
    }
    return this;
  }

  /** The fields as IrteFields (for round trips and reports). */
  toFields(): IrteFields {
    const common = { present: this.present === 1, fpd: this.fpd === 1, vector: this.vector, sid: this.sid, sq: this.sq, svt: this.svt, avail: this.avail };
    return this.posted
      ? { ...common, posted: true, pda: this.pda, urgent: this.urgent === 1 }
      : { ...common, posted: false, destMode: this.destMode, redirHint: this.redirHint === 1, triggerMode: this.triggerMode, deliveryMode: this.deliveryMode, destId: this.destId };
  }
}

/** Decode four IRTE words. */
export function decodeIrte(words: ArrayLike<number>, x2apic = true, out: IrteView = new IrteView()): IrteView {
  return out.decode(words[0], words[1], words[2], words[3], x2apic);
}

/**
 * True when a reserved bit of a present IRTE is set (fault 0x24). SVT = 3 is a reserved encoding
 * but is checked as a source-id failure (0x26), as QEMU does. Without posted-interrupt support
 * (CAP.PI = 0) bit 15 (IM) is reserved.
 */
export function irteReservedSet(w0: number, w1: number, w2: number, w3: number, x2apic: boolean, postedCap: boolean): boolean {
  if ((w2 & RSV_W2) !== 0) return true;
  if ((w0 & W0_IM) !== 0) {
    if (!postedCap) return true;
    return (w0 & RSV_P_W0) !== 0 || (w1 & RSV_P_W1) !== 0;
  }
  if ((w0 & RSV_R_W0) !== 0 || w3 !== 0) return true;
  return !x2apic && (w1 & RSV_R_W1_XAPIC) !== 0;
}

/**
 * Source-id verification of an IRTE against the requester id of the interrupt request.
 * SVT 0: none; 1: requester id equals SID under SQ_MASKS[sq]; 2: requester bus within
 * [SID[15:8], SID[7:0]] (start bus, end bus: VT-d SVT table, Linux set_irte_verify_bus);
 * 3 (reserved): fails.
 */
export function sourceIdMatches(requesterId: number, sid: number, sq: number, svt: number): boolean {
  if (svt === SVT_NONE) return true;
  if (svt === SVT_REQUESTER_ID) return ((requesterId ^ sid) & SQ_MASKS[sq & 3]) === 0;
  if (svt === SVT_BUS_RANGE) {
    const bus = (requesterId >>> 8) & 0xff;
    return bus >= ((sid >>> 8) & 0xff) && bus <= (sid & 0xff);
  }
  return false;
}

// ------------------------------------------------------------------------------ the remapping unit

/** remap() results. */
export const IRQ_BLOCKED = 0;
export const IRQ_REMAPPED = 1;
export const IRQ_POSTED = 2;
/** A compatibility-format interrupt let through unremapped (irq.blockCompat=false, irq.x2apic=false). */
export const IRQ_COMPAT = 3;
export type IrqResult = typeof IRQ_BLOCKED | typeof IRQ_REMAPPED | typeof IRQ_POSTED | typeof IRQ_COMPAT;

/** First frame of the interrupt-remapping table (just below the host page tables at 1 TiB). */
export const IRT_BASE_FRAME = 0x0ff0_0000;
const IRTES_PER_PAGE = 256; // 4 KiB / 16 B

export type { IrqRemapMetrics };

export class InterruptRemapper {
  static readonly MAX_FAULT_RECORDS = 64;

  readonly spec: IrqSpec;
  /** The interrupt-remapping table in simulated memory: 256 IRTEs (two 8-byte slots each) per page. */
  readonly irt: TableMemory;
  /** First frame of the (physically contiguous) table; IRTA_REG would hold irtFrame × 4096. */
  readonly irtFrame: number;
  /** The interrupt-entry cache, keyed (0, 0, interrupt index). */
  readonly iec: SetAssocCache;
  /** The four IRTE words cached in each IEC slot (slot × 4 ...). */
  private readonly iecWords: Uint32Array;
  private readonly irtEntries: number;
  private readonly x2apic: boolean;
  private readonly blockCompat: boolean;
  private readonly postedCap: boolean;

  /** Caller's time (ns), stamped on fault records. */
  now = 0;
  /** Called with the frame of every IRTE read from memory (IEC misses), for the timing model. */
  onRead: ((frame: number) => void) | null = null;

  // ---- the decision of the last remap()
  /** Interrupt index looked up (-1 when none: compatibility format or not an interrupt address). */
  outIndex = -1;
  /** Remapped / compat: vector; posted: virtual vector to set in the PIR. */
  outVector = 0;
  outDestId = 0;
  outDestMode = 0;
  outRedirHint = 0;
  outTriggerMode = 0;
  outDeliveryMode = 0;
  /** Posted: descriptor address bits 31:0 and 63:32. */
  outPdaLo = 0;
  outPdaHi = 0;
  outUrgent = 0;
  /** Fault reason when blocked (0 otherwise). */
  outFault = 0;

  // ---- counters
  requests = 0;
  remapped = 0;
  posted = 0;
  compatPassed = 0;
  blocked = 0;
  irteReads = 0;
  irteWrites = 0;
  iecInvGlobal = 0;
  iecInvSelective = 0;
  iecEntriesInvalidated = 0;
  faults = 0;
  faultsRecorded = 0;
  faultsSuppressed = 0;
  readonly faultsByCode = new Float64Array(256);
  private readonly faultTime = new Float64Array(InterruptRemapper.MAX_FAULT_RECORDS);
  private readonly faultSid = new Int32Array(InterruptRemapper.MAX_FAULT_RECORDS);
  private readonly faultIndex = new Int32Array(InterruptRemapper.MAX_FAULT_RECORDS);
  private readonly faultCode = new Uint8Array(InterruptRemapper.MAX_FAULT_RECORDS);
  private readonly faultRec = new Uint8Array(InterruptRemapper.MAX_FAULT_RECORDS);

  constructor(spec: IrqSpec = IRQ_DEFAULTS, seed = 1, baseFrame = IRT_BASE_FRAME) {
    this.spec = spec;
    this.irtEntries = spec.irtEntries;
    this.x2apic = spec.x2apic;
    this.blockCompat = spec.blockCompat;
    this.postedCap = spec.postedInterrupts;
    const pages = Math.ceil(spec.irtEntries / IRTES_PER_PAGE);
    this.irt = new TableMemory('interrupt-remapping table', baseFrame, pages, pages);
    this.irtFrame = this.irt.alloc();
    for (let p = 1; p < pages; p++) this.irt.alloc(); // contiguous: frames irtFrame .. irtFrame + pages - 1
    this.iec = createCache(spec.iec, 'irq.iec', seed);
    this.iecWords = new Uint32Array(spec.iec.entries * 4);
  }

  /** Physical address of IRTE `index` (IRTA + index × 16). */
  irteAddress(index: number): number {
    return this.irtFrame * 4096 + index * 16;
  }

  /** Posted-descriptor address of the last posted decision. */
  get outPda(): number {
    return this.outPdaHi * 0x100000000 + this.outPdaLo;
  }

  // ---------------------------------------------------------------- programming (software side)

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.irtEntries) {
      throw inputError(`IRTE index ${index}`, `outside the interrupt-remapping table (irq.irtEntries=${this.irtEntries})`);
    }
  }

  private readonly encBuf = new Uint32Array(4);

  /**
   * Write IRTE `index` in memory. Like hardware, the IEC is not updated: software invalidates it
   * (`invalidateIecIndex`), as Linux modify_irte does with qi_flush_iec after every write.
   */
  programIrte(index: number, fields: IrteFields): void {
    this.checkIndex(index);
    const w = encodeIrte(fields, this.x2apic, this.encBuf);
    this.programIrteRaw(index, w[0], w[1], w[2], w[3]);
  }

  /** Write raw IRTE words (reserved bits and all). */
  programIrteRaw(index: number, w0: number, w1: number, w2: number, w3: number): void {
    this.checkIndex(index);
    const frame = this.irtFrame + Math.floor(index / IRTES_PER_PAGE);
    const slot = (index % IRTES_PER_PAGE) * 2;
    this.irt.write(frame, slot, w0, w1, W0_P);
    this.irt.write(frame, slot + 1, w2, w3, 0);
    this.irteWrites++;
  }

  /** The IRTE in memory (not the IEC's copy); no counting. */
  readIrte(index: number, out: IrteView = new IrteView()): IrteView {
    this.checkIndex(index);
    const frame = this.irtFrame + Math.floor(index / IRTES_PER_PAGE);
    const slot = (index % IRTES_PER_PAGE) * 2;
    return out.decode(this.irt.lo(frame, slot), this.irt.hi(frame, slot), this.irt.lo(frame, slot + 1), this.irt.hi(frame, slot + 1), this.x2apic);
  }

  // ---------------------------------------------------------------- the interrupt request

  private fault(reason: number, sid: number, index: number, record: boolean): IrqResult {
    this.faults++;
    this.faultsByCode[reason]++;
    if (record) this.faultsRecorded++;
    else this.faultsSuppressed++;
    const n = this.faults - 1;
    if (n < InterruptRemapper.MAX_FAULT_RECORDS) {
      this.faultTime[n] = this.now;
      this.faultSid[n] = sid;
      this.faultIndex[n] = index;
      this.faultCode[n] = reason;
      this.faultRec[n] = record ? 1 : 0;
    }
    this.blocked++;
    this.outFault = reason;
    return IRQ_BLOCKED;
  }

  /**
   * An interrupt request (a DWORD write to 0xFEEx_xxxx) from `sourceId` (bus << 8 | devfn) with
   * address bits 31:0 and data. Returns IRQ_REMAPPED, IRQ_POSTED, IRQ_COMPAT or IRQ_BLOCKED; the
   * decision (vector, destination or descriptor address, urgent, fault reason) is in the out*
   * fields. The VT-d interrupt-remapping flow (§5.1): decode; index check (0x21); IEC lookup, on
   * a miss one IRTE read (present 0x22, reserved 0x24; FPD suppresses recording of these qualified
   * faults) and fill; source-id check (0x26, qualified); deliver.
   */
  remap(sourceId: number, addrLo: number, data: number): IrqResult {
    this.requests++;
    this.outFault = 0;
    this.outIndex = -1;
    addrLo >>>= 0;
    data >>>= 0;
    if (addrLo >>> 20 !== 0xfee) return this.fault(FR_IR_REQUEST_RESERVED, sourceId, 0, true); // as QEMU
    if ((addrLo & MSI_IF) === 0) {
      if (this.blockCompat || this.x2apic) return this.fault(FR_IR_COMPAT_BLOCKED, sourceId, 0, true);
      this.compatPassed++;
      this.outVector = data & 0xff;
      this.outInterrupt((addrLo >>> 12) & 0xff, (addrLo >>> 2) & 1, (addrLo >>> 3) & 1, (data >>> 15) & 1, (data >>> 8) & 7);
      return IRQ_COMPAT;
    }
    let index = ((addrLo >>> 5) & 0x7fff) | (((addrLo >>> 2) & 1) << 15);
    if ((addrLo & MSI_SHV_BIT) !== 0) {
      if (data >>> 16 !== 0) return this.fault(FR_IR_REQUEST_RESERVED, sourceId, index, true);
      index += data & 0xffff;
    }
    this.outIndex = index;
    if (index >= this.irtEntries) return this.fault(FR_IR_INDEX_BEYOND_TABLE, sourceId, index, true);

    let w0: number, w1: number, w2: number, w3: number;
    const words = this.iecWords;
    let slot = this.iec.lookup(0, 0, index);
    if (slot >= 0) {
      const b = slot * 4;
      w0 = words[b]; w1 = words[b + 1]; w2 = words[b + 2]; w3 = words[b + 3];
    } else {
      const frame = this.irtFrame + (index >>> 8);
      const s = (index & 0xff) * 2;
      const mem = this.irt;
      w0 = mem.lo(frame, s); w1 = mem.hi(frame, s); w2 = mem.lo(frame, s + 1); w3 = mem.hi(frame, s + 1);
      this.irteReads++;
      if (this.onRead !== null) this.onRead(frame);
      const record = (w0 & W0_FPD) === 0;
      if ((w0 & W0_P) === 0) return this.fault(FR_IR_NOT_PRESENT, sourceId, index, record);
      if (irteReservedSet(w0, w1, w2, w3, this.x2apic, this.postedCap)) return this.fault(FR_IR_IRTE_RESERVED, sourceId, index, record);
      slot = this.iec.fillAbsent(0, 0, index, 0, 0);
      const b = slot * 4;
      words[b] = w0; words[b + 1] = w1; words[b + 2] = w2; words[b + 3] = w3;
    }
    if (!sourceIdMatches(sourceId, w2 & 0xffff, (w2 >>> 16) & 3, (w2 >>> 18) & 3)) {
      return this.fault(FR_IR_SOURCE_ID, sourceId, index, (w0 & W0_FPD) === 0);
    }
    this.outVector = (w0 >>> 16) & 0xff;
    if ((w0 & W0_IM) !== 0) {
      this.posted++;
      this.outPdaLo = (w1 & 0xffffffc0) >>> 0;
      this.outPdaHi = w3;
      this.outUrgent = (w0 >>> 14) & 1;
      this.outDestId = this.outDestMode = this.outRedirHint = this.outTriggerMode = this.outDeliveryMode = 0;
      return IRQ_POSTED;
    }
    this.remapped++;
    this.outInterrupt(this.x2apic ? w1 : (w1 >>> 8) & 0xff, (w0 >>> 2) & 1, (w0 >>> 3) & 1, (w0 >>> 4) & 1, (w0 >>> 5) & 7);
    return IRQ_REMAPPED;
  }

  /** The out* fields of an interrupt delivered as such (compatibility or remapped; not posted). */
  private outInterrupt(destId: number, destMode: number, redirHint: number, triggerMode: number, deliveryMode: number): void {
    this.outDestId = destId;
    this.outDestMode = destMode;
    this.outRedirHint = redirHint;
    this.outTriggerMode = triggerMode;
    this.outDeliveryMode = deliveryMode;
    this.outUrgent = this.outPdaLo = this.outPdaHi = 0;
  }

  // ---------------------------------------------------------------- IEC invalidation

  /** Global interrupt-entry-cache invalidation; returns the entries dropped. */
  invalidateIecGlobal(): number {
    const n = this.iec.invalidateAll();
    this.iecInvGlobal++;
    this.iecEntriesInvalidated += n;
    return n;
  }

  /**
   * Index-selective invalidation of 2^mask entries starting at `index` aligned down to 2^mask
   * (the descriptor's IIDX and IM fields); returns the entries dropped.
   */
  invalidateIecIndex(index: number, mask = 0): number {
    if (!Number.isInteger(index) || index < 0 || index > 0xffff) throw inputError(`IEC invalidation index ${index}`, 'must be a whole number from 0 to 65535');
    if (!Number.isInteger(mask) || mask < 0 || mask > 31) throw inputError(`IEC invalidation index mask ${mask}`, 'must be a whole number from 0 to 31 (IM is 5 bits)');
    const span = 2 ** Math.min(mask, 16);
    const lo = index - (index % span);
    const n = this.iec.invalidateWhere(0, 0, lo, lo + span);
    this.iecInvSelective++;
    this.iecEntriesInvalidated += n;
    return n;
  }

  /**
   * Execute an interrupt-entry-cache invalidation descriptor (queued-invalidation type 4) given its
   * low qword as two 32-bit words: type 3:0 = 4, G bit 4 (0 global, 1 index-selective), IM 31:27,
   * IIDX 47:32 (Linux QI_IEC_SELECTIVE / QI_IEC_IM / QI_IEC_IIDEX). Returns the entries dropped.
   */
  invalidateIecDescriptor(qw0Lo: number, qw0Hi: number): number {
    if ((qw0Lo & 0xf) !== 4) throw inputError(`invalidation descriptor type ${qw0Lo & 0xf}`, 'not an interrupt-entry-cache invalidation (type 4)');
    if ((qw0Lo & 0x10) === 0) return this.invalidateIecGlobal();
    return this.invalidateIecIndex(qw0Hi & 0xffff, (qw0Lo >>> 27) & 0x1f);
  }

  // ---------------------------------------------------------------- results

  resetStats(): void {
    this.requests = this.remapped = this.posted = this.compatPassed = this.blocked = 0;
    this.irteReads = this.irteWrites = this.iecInvGlobal = this.iecInvSelective = this.iecEntriesInvalidated = 0;
    this.faults = this.faultsRecorded = this.faultsSuppressed = 0;
    this.faultsByCode.fill(0);
    this.iec.resetStats();
  }

  /** Faults counted by code, named by `name(code, reason name)`; codes with none left out. */
  faultsByName(name: (code: number, reason: string | undefined) => string): Record<string, number> {
    const out: Record<string, number> = {};
    for (let c = 0; c < 256; c++) if (this.faultsByCode[c] > 0) out[name(c, IRQ_FAULT_NAMES[c])] = this.faultsByCode[c];
    return out;
  }

  /** The first faults (up to MAX_FAULT_RECORDS), as `faults.first` lists them. */
  faultRecords(): Array<{ timeNs: number; sourceId: number; index: number; reason: string; recorded: boolean }> {
    const first = [];
    for (let i = 0; i < Math.min(this.faults, InterruptRemapper.MAX_FAULT_RECORDS); i++) {
      first.push({ timeNs: this.faultTime[i], sourceId: this.faultSid[i], index: this.faultIndex[i], reason: IRQ_FAULT_NAMES[this.faultCode[i]], recorded: this.faultRec[i] === 1 });
    }
    return first;
  }

  /** The unit's figures: every statistic of its table (stats.ts), read once, in its order. */
  metrics(): IrqRemapMetrics {
    return IRQ_REMAP_STATS.build(this) as IrqRemapMetrics;
  }
}
