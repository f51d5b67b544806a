/**
 * The pcie-bench DMA microbenchmark as a request source (Neugebauer et al., SIGCOMM 2018, §4):
 * DMA reads or writes of `workload.size` bytes at random (size-aligned) or sequential offsets in a
 * host buffer of `workload.window` bytes, the buffer warm (in the LLC) or cold, as many in flight
 * as the device's engine allows (closed loop), `workload.count` of them, seeded by `workload.seed`.
 * The buffer — whole 2 MiB units covering the window, as pcie-bench allocates one buffer and narrows
 * the window over it — is mapped once through the host DMA API at IOVA 4 GiB (so `iommu.superpages` decides
 * its leaf size) when `iommu.mode` translates.
 */
import type { Config } from '../config/config.js';
import type { RequestSource } from '../sim/system.js';
import { modByReciprocal } from '../util/mod.js';

export const PCIEBENCH_DEVICE = '0000:03:00.0';
/** Above 4 GiB, as pcie-bench's host buffers were (64-bit addresses: 4-DW TLP headers); 1 GiB aligned. */
export const PCIEBENCH_IOVA = 0x1_0000_0000; // 4 GiB
export const PCIEBENCH_PADDR = 0x2_0000_0000; // 8 GiB

/** Bytes mapped for a window: whole 2 MiB units covering it (one host buffer, the window narrowed over it). */
export function pciebenchMapBytes(window: number): number {
  return Math.ceil(window / 2097152) * 2097152;
}

export class PcieBenchSource implements RequestSource {
  /** All reads or all writes (workload.op). */
  readonly oneDirection = true;
  readonly maxBytes: number;
  readonly cache: 'warm' | 'cold';
  private issued = 0;
  private x: number;
  private readonly slots: number;
  private readonly invSlots: number;
  private readonly basePn = PCIEBENCH_IOVA / 4096;
  private readonly size: number;
  private readonly write: number;
  private readonly warm: number;
  private readonly sequential: boolean;
  private seqOff = 0;

  constructor(private readonly cfg: Readonly<Config>) {
    const w = cfg.workload;
    this.size = w.size;
    this.maxBytes = w.size;
    this.cache = w.cache;
    this.slots = Math.max(1, Math.floor(w.window / w.size));
    this.invSlots = 1 / this.slots;
    this.write = w.op === 'write' ? 1 : 0;
    this.warm = w.cache === 'warm' ? 1 : 0;
    this.sequential = w.pattern === 'sequential';
    this.x = (w.seed >>> 0) || 0x12345;
  }

  private rand(): number {
    let x = this.x;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.x = x;
    return x;
  }

  remaining(): number {
    return this.cfg.workload.count - this.issued;
  }

  next(out: Float64Array): void {
    this.issued++;
    let off: number;
    if (this.sequential) {
      off = this.seqOff;
      this.seqOff += this.size;
      if (this.seqOff + this.size > this.slots * this.size) this.seqOff = 0;
    } else {
      const r = this.slots > 0xffffffff ? this.rand() * 4294967296 + this.rand() : this.rand();
      off = modByReciprocal(r, this.slots, this.invSlots) * this.size;
    }
    const pg = Math.floor(off / 4096);
    out[0] = this.basePn + pg;
    out[1] = off - pg * 4096;
    out[2] = this.size;
    out[3] = this.write;
    out[4] = this.warm;
    out[5] = -1;
  }
}
