/**
 * VT-d posted interrupts, functional: posted-interrupt descriptors (PIDs) in simulated memory, the
 * remapping unit's posting step, and the vCPU side (notification handled in guest mode, or a host
 * wakeup; the PIR consumed into the virtual APIC).
 *
 * Descriptor layout (64 B, 64-byte aligned; VT-d §9.11; Linux arch/x86/include/asm/posted_intr.h
 * `struct pi_desc`, POSTED_INTR_ON = 0, POSTED_INTR_SN = 1), as eight 8-byte slots of a
 * TableMemory page (64 descriptors per 4 KiB page):
 *   slots 0–3  PIR, bits 255:0 (slot k: lo = vectors 64k..64k+31, hi = 64k+32..64k+63)
 *   slot 4     lo: bit 0 ON (outstanding notification), bit 1 SN (suppress notification),
 *                  bits 23:16 NV (notification vector)   [descriptor bits 256, 257, 279:272]
 *              hi: NDST (notification destination, x2APIC id; xAPIC: bits 15:8)   [319:288]
 *   slots 5–7  reserved (zero)
 *
 * Posting (VT-d §5.2): set PIR[vector]; then if ON = 0 and (SN = 0 or URG = 1): set ON and send
 * NV to NDST. If ON was already set the notification is suppressed (one is outstanding); if SN is
 * set (and the IRTE is not urgent) none is sent. All of it one atomic read-modify-write of the PID.
 *
 * The vCPU side is a model of KVM's use of the descriptor: a running vCPU takes the notification
 * in guest mode (no VM exit); a vCPU that is not running gets it through the host: a blocked
 * (halted) vCPU is woken (KVM points NV at its wakeup vector while the vCPU blocks); a preempted
 * one is runnable already (KVM normally sets SN then, so no notification is sent at all). `syncPir` is the vCPU consuming
 * the PIR into its virtual APIC's IRR (hardware posted-interrupt processing on a running vCPU, or
 * KVM's sync at the next VM entry): it clears ON and the PIR. The caller decides when that happens.
 *
 * Hot path: `post()` and `syncPir()` allocate nothing.
 */
import { TableMemory } from '../tablemem.js';
import { inputError } from '../../util/errors.js';
import { POSTED_STATS, type PostedMetrics } from './stats.js';

/** Bytes per posted-interrupt descriptor. */
export const PID_BYTES = 64;
const PIDS_PER_PAGE = 64;
/** First frame of descriptor memory (above the interrupt-remapping table region). */
export const PID_BASE_FRAME = 0x0ff8_0000;

const ON = 1;
const SN = 2;

/** vCPU states (scheduler state, not part of the PID). */
export const VCPU_BLOCKED = 0;
export const VCPU_RUNNING = 1;
export const VCPU_PREEMPTED = 2;
export type VcpuState = typeof VCPU_BLOCKED | typeof VCPU_RUNNING | typeof VCPU_PREEMPTED;

/** post() results. */
export const POST_BAD_DESCRIPTOR = -1;
/** Notification sent to a running vCPU: handled in guest mode, no VM exit. */
export const POST_NOTIFIED_GUEST = 1;
/** Notification sent while the vCPU is blocked: the host takes it and wakes the vCPU. */
export const POST_NOTIFIED_HOST = 2;
/** Notification sent while the vCPU is preempted (runnable): the host takes it; no wakeup needed. */
export const POST_NOTIFIED_HOST_RUNNABLE = 5;
/** ON was already set: the notification already outstanding covers this vector. */
export const POST_SUPPRESSED_OUTSTANDING = 3;
/** SN was set (and the IRTE not urgent): no notification. */
export const POST_SUPPRESSED_SN = 4;
export type PostResult = typeof POST_BAD_DESCRIPTOR | typeof POST_NOTIFIED_GUEST | typeof POST_NOTIFIED_HOST
  | typeof POST_SUPPRESSED_OUTSTANDING | typeof POST_SUPPRESSED_SN | typeof POST_NOTIFIED_HOST_RUNNABLE;

export type { PostedMetrics };

const popcount32 = (x: number): number => {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
};

export class PostedInterrupts {
  /** Descriptor memory: 64 PIDs per 4 KiB page. */
  readonly mem: TableMemory;
  readonly maxDescriptors: number;
  private readonly baseFrame: number;
  private count = 0;
  /** Per descriptor: its vCPU's state (VCPU_*). Not part of the PID: scheduler state. */
  private readonly state: Uint8Array;
  /** Per descriptor: the virtual APIC's IRR (256 bits as 8 words) the PIR is synced into. */
  readonly virr: Uint32Array;

  // ---- counters
  posts = 0;
  /** Posts whose vector was already pending in the PIR (coalesced into one interrupt). */
  pirAlreadySet = 0;
  notifications = 0;
  /** Notifications taken by a running vCPU in guest mode (no VM exit). */
  deliveredWithoutExit = 0;
  /** Notifications that reached the host (vCPU not running). */
  hostNotifications = 0;
  /** Host notifications that woke a blocked vCPU. */
  wakeups = 0;
  suppressedOutstanding = 0;
  suppressedSn = 0;
  /** Notifications sent despite SN because the IRTE was urgent. */
  urgentOverrides = 0;
  badDescriptor = 0;
  /** Atomic read-modify-writes of a descriptor by the remapping unit (one per post). */
  pidAccesses = 0;
  syncs = 0;
  vectorsSynced = 0;

  constructor(maxDescriptors = 4096, baseFrame = PID_BASE_FRAME) {
    if (!Number.isInteger(maxDescriptors) || maxDescriptors < 1 || maxDescriptors > 1 << 20) {
      throw inputError(`posted-interrupt descriptors ${maxDescriptors}`, 'must be a whole number from 1 to 1048576');
    }
    this.maxDescriptors = maxDescriptors;
    this.baseFrame = baseFrame;
    const pages = Math.ceil(maxDescriptors / PIDS_PER_PAGE);
    this.mem = new TableMemory('posted-interrupt descriptors', baseFrame, pages, Math.min(pages, 4));
    this.state = new Uint8Array(maxDescriptors);
    this.virr = new Uint32Array(maxDescriptors * 8);
  }

  /** Descriptors allocated so far. */
  get descriptors(): number {
    return this.count;
  }

  /**
   * A new descriptor for one vCPU: notification vector `nv` (KVM: POSTED_INTR_VECTOR), destination
   * `ndst` (the physical CPU's APIC id). Returns its physical address (the IRTE's PDA).
   */
  allocDescriptor(nv: number, ndst: number, opts: { sn?: boolean; running?: boolean; state?: VcpuState } = {}): number {
    if (this.count >= this.maxDescriptors) throw inputError('posted-interrupt descriptors', `all ${this.maxDescriptors} are in use`, 'raise maxDescriptors');
    const id = this.count++;
    if (id % PIDS_PER_PAGE === 0) this.mem.alloc(); // pages are handed out in order: frame = base + id / 64
    this.setNotification(this.pdaOf(id), nv, ndst);
    if (opts.sn) this.setSuppress(this.pdaOf(id), true);
    this.state[id] = opts.state ?? (opts.running ? VCPU_RUNNING : VCPU_BLOCKED);
    return this.pdaOf(id);
  }

  private pdaOf(id: number): number {
    return (this.baseFrame + Math.floor(id / PIDS_PER_PAGE)) * 4096 + (id % PIDS_PER_PAGE) * PID_BYTES;
  }

  /** Descriptor number of a PDA, or -1 when it is not an allocated descriptor. */
  idOf(pda: number): number {
    if (!(pda >= 0) || pda % PID_BYTES !== 0) return -1;
    const frame = Math.floor(pda / 4096);
    const id = (frame - this.baseFrame) * PIDS_PER_PAGE + (pda % 4096) / PID_BYTES;
    return id >= 0 && id < this.count ? id : -1;
  }

  private need(pda: number): number {
    const id = this.idOf(pda);
    if (id < 0) throw inputError(`posted-interrupt descriptor 0x${pda.toString(16)}`, 'not an allocated descriptor');
    return id;
  }

  private ctlLo(id: number): number {
    return this.mem.lo(this.baseFrame + (id >>> 6), (id & 63) * 8 + 4);
  }
  private ctlHi(id: number): number {
    return this.mem.hi(this.baseFrame + (id >>> 6), (id & 63) * 8 + 4);
  }
  private setCtl(id: number, lo: number, hi: number): void {
    this.mem.write(this.baseFrame + (id >>> 6), (id & 63) * 8 + 4, lo, hi, 0);
  }

  // ---------------------------------------------------------------- software (hypervisor) side

  /** Set NV and NDST (KVM changes both when the vCPU migrates or blocks). */
  setNotification(pda: number, nv: number, ndst: number): void {
    const id = this.need(pda);
    if (!Number.isInteger(nv) || nv < 0 || nv > 255) throw inputError(`notification vector ${nv}`, 'must be a whole number from 0 to 255');
    if (!Number.isInteger(ndst) || ndst < 0 || ndst > 0xffffffff) throw inputError(`notification destination ${ndst}`, 'must be a 32-bit APIC id');
    this.setCtl(id, (this.ctlLo(id) & ~0xff0000) | (nv << 16), ndst);
  }

  /** Set or clear SN (KVM sets it while a runnable vCPU is preempted). */
  setSuppress(pda: number, sn: boolean): void {
    const id = this.need(pda);
    const lo = this.ctlLo(id);
    this.setCtl(id, sn ? lo | SN : lo & ~SN, this.ctlHi(id));
  }

  /** The vCPU of this descriptor enters guest mode (true) or blocks (false). */
  setVcpuRunning(pda: number, running: boolean): void {
    this.state[this.need(pda)] = running ? VCPU_RUNNING : VCPU_BLOCKED;
  }

  /** Set the vCPU state (VCPU_RUNNING, VCPU_BLOCKED, VCPU_PREEMPTED). */
  setVcpuState(pda: number, state: VcpuState): void {
    if (state !== VCPU_RUNNING && state !== VCPU_BLOCKED && state !== VCPU_PREEMPTED) throw inputError(`vCPU state ${String(state)}`, 'use VCPU_RUNNING, VCPU_BLOCKED or VCPU_PREEMPTED');
    this.state[this.need(pda)] = state;
  }

  on(pda: number): boolean { return (this.ctlLo(this.need(pda)) & ON) !== 0; }
  sn(pda: number): boolean { return (this.ctlLo(this.need(pda)) & SN) !== 0; }
  nv(pda: number): number { return (this.ctlLo(this.need(pda)) >>> 16) & 0xff; }
  ndst(pda: number): number { return this.ctlHi(this.need(pda)); }
  vcpuRunning(pda: number): boolean { return this.state[this.need(pda)] === VCPU_RUNNING; }
  vcpuState(pda: number): VcpuState { return this.state[this.need(pda)] as VcpuState; }

  /** PIR bit of `vector`. */
  pirTest(pda: number, vector: number): boolean {
    const id = this.need(pda);
    const frame = this.baseFrame + (id >>> 6);
    const slot = (id & 63) * 8 + (vector >>> 6);
    const w = (vector & 32) === 0 ? this.mem.lo(frame, slot) : this.mem.hi(frame, slot);
    return ((w >>> (vector & 31)) & 1) === 1;
  }

  /** Virtual-APIC IRR bit of `vector` (after syncPir). */
  virrTest(pda: number, vector: number): boolean {
    const id = this.need(pda);
    return ((this.virr[id * 8 + (vector >>> 5)] >>> (vector & 31)) & 1) === 1;
  }

  // ---------------------------------------------------------------- the remapping unit posts

  /**
   * Post `vector` (the IRTE's virtual vector) to the descriptor at `pda` (the IRTE's PDA); `urgent`
   * is the IRTE's URG bit. Returns what happened (POST_*); counts it.
   */
  post(pda: number, vector: number, urgent = 0): PostResult {
    this.posts++;
    const id = this.idOf(pda);
    if (id < 0) {
      this.badDescriptor++;
      return POST_BAD_DESCRIPTOR;
    }
    this.pidAccesses++;
    const mem = this.mem;
    const frame = this.baseFrame + (id >>> 6);
    const base = (id & 63) * 8;
    const v = vector & 0xff;
    const slot = base + (v >>> 6);
    const bit = 1 << (v & 31);
    let lo = mem.lo(frame, slot);
    let hi = mem.hi(frame, slot);
    if ((v & 32) === 0) {
      if ((lo & bit) !== 0) this.pirAlreadySet++;
      lo |= bit;
    } else {
      if ((hi & bit) !== 0) this.pirAlreadySet++;
      hi |= bit;
    }
    mem.write(frame, slot, lo, hi, 0);
    const ctl = mem.lo(frame, base + 4);
    if ((ctl & ON) !== 0) {
      this.suppressedOutstanding++;
      return POST_SUPPRESSED_OUTSTANDING;
    }
    if ((ctl & SN) !== 0) {
      if (urgent === 0) {
        this.suppressedSn++;
        return POST_SUPPRESSED_SN;
      }
      this.urgentOverrides++;
    }
    mem.write(frame, base + 4, ctl | ON, mem.hi(frame, base + 4), 0);
    this.notifications++;
    const st = this.state[id];
    if (st === VCPU_RUNNING) {
      this.deliveredWithoutExit++;
      return POST_NOTIFIED_GUEST;
    }
    this.hostNotifications++;
    if (st === VCPU_PREEMPTED) return POST_NOTIFIED_HOST_RUNNABLE;
    this.wakeups++;
    return POST_NOTIFIED_HOST;
  }

  // ---------------------------------------------------------------- the vCPU consumes

  /**
   * The vCPU moves the PIR into its virtual APIC's IRR: clears ON and the PIR. Returns the vectors
   * moved (bits that were set in the PIR).
   */
  syncPir(pda: number): number {
    const id = this.need(pda);
    const mem = this.mem;
    const frame = this.baseFrame + (id >>> 6);
    const base = (id & 63) * 8;
    const virr = this.virr;
    const vb = id * 8;
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const lo = mem.lo(frame, base + k);
      const hi = mem.hi(frame, base + k);
      if ((lo | hi) === 0) continue;
      n += popcount32(lo) + popcount32(hi);
      virr[vb + 2 * k] |= lo;
      virr[vb + 2 * k + 1] |= hi;
      mem.write(frame, base + k, 0, 0, 0);
    }
    const ctl = mem.lo(frame, base + 4);
    if ((ctl & ON) !== 0) mem.write(frame, base + 4, ctl & ~ON, mem.hi(frame, base + 4), 0);
    this.syncs++;
    this.vectorsSynced += n;
    return n;
  }

  /** The guest takes its highest pending virtual interrupt: returns the vector (cleared from vIRR) or -1. */
  takeHighest(pda: number): number {
    const id = this.need(pda);
    const vb = id * 8;
    for (let w = 7; w >= 0; w--) {
      const x = this.virr[vb + w];
      if (x !== 0) {
        const b = 31 - Math.clz32(x);
        this.virr[vb + w] = (x & ~(1 << b)) >>> 0;
        return w * 32 + b;
      }
    }
    return -1;
  }

  resetStats(): void {
    this.posts = this.pirAlreadySet = this.notifications = this.deliveredWithoutExit = 0;
    this.hostNotifications = this.wakeups = this.suppressedOutstanding = this.suppressedSn = 0;
    this.urgentOverrides = this.badDescriptor = this.pidAccesses = this.syncs = this.vectorsSynced = 0;
  }

  /** The descriptors' figures: every statistic of the table (stats.ts), read once, in its order. */
  metrics(): PostedMetrics {
    return POSTED_STATS.build(this) as PostedMetrics;
  }
}
