/**
 * The pcie-bench DMA microbenchmark as a request source (Neugebauer et al., SIGCOMM 2018, §4),
 * as its NFP firmware runs it (github.com/pcie-bench/pciebench-nfp, me/pcie_dma.c, me/utils.c):
 * DMA reads, writes, or writes each followed by a read of the same bytes (`workload.op`) of
 * `workload.size` bytes in a host buffer of `workload.window` bytes, the buffer warm (in the LLC)
 * or cold, `workload.count` of them, seeded by `workload.seed`, closed loop.
 *
 * Addresses as the firmware's dma_addr_init lays them (me/utils.c): the window is cut into units
 * of the size rounded up to whole 64 B lines, a transfer takes one unit at random (or the next one,
 * sequential), and a unit the transfer would carry across a 4 KiB boundary is passed over (drawn
 * again, or the next one taken) — so a transfer starts on a line and two never share one.
 *
 * The device: `pciebench.contexts` request contexts (11 worker microengines × 8 contexts, each
 * issuing one DMA and waiting for it: dma_bw_worker), all feeding one PCIe DMA engine whose data
 * mover costs `pciebench.descriptorNs` per DMA and `pciebench.lineNs` per 64 B line
 * (src/devices/engine). The latency tests (dma_lat) run one context: device.dmaEngine.maxInFlight=1.
 *
 * The buffer — whole 2 MiB units covering the window, as pcie-bench allocates one buffer and narrows
 * the window over it — is mapped once through the host DMA API at IOVA 4 GiB (so `iommu.superpages` decides
 * its leaf size) when `iommu.mode` translates.
 */
import type { PcieBenchSpec } from '../config/knobs/pciebench.js';
import type { RequestSource } from './source.js';
import { modByReciprocal } from '../util/mod.js';

export const PCIEBENCH_DEVICE = '0000:03:00.0';
/** Above 4 GiB, as pcie-bench's host buffers were (64-bit addresses: 4-DW TLP headers); 1 GiB aligned. */
export const PCIEBENCH_IOVA = 0x1_0000_0000; // 4 GiB
export const PCIEBENCH_PADDR = 0x2_0000_0000; // 8 GiB

/** Bytes mapped for a window: whole 2 MiB units covering it (one host buffer, the window narrowed over it). */
export function pciebenchMapBytes(window: number): number {
  return Math.ceil(window / 2097152) * 2097152;
}

/** Direction codes of RequestSource.next: read, write, write then read. */
const OP_CODE = { read: 0, write: 1, wrrd: 2 } as const;

export class PcieBenchSource implements RequestSource {
  /** All reads or all writes (workload.op); a write-then-read run is both. */
  readonly oneDirection: boolean;
  readonly maxBytes: number;
  readonly cache: 'warm' | 'cold';
  readonly engine: { contexts: number; descriptorNs: number; lineNs: number };
  private issued = 0;
  private x: number;
  /** Bytes of a unit (the size in whole lines) and units in the window. */
  private readonly unit: number;
  private readonly units: number;
  private readonly invUnits: number;
  /** Transfers must not cross 4 KiB (pcie-bench's are at most 4 KiB; a larger one is placed as it falls). */
  private readonly inPage: boolean;
  private readonly basePn = PCIEBENCH_IOVA / 4096;
  private readonly size: number;
  private readonly dir: number;
  private readonly warm: number;
  private readonly sequential: boolean;
  private seqIdx = 0;

  /** `cfg`: the source's spec (pciebench.* and the workload knobs it reads); a resolved config is one. */
  constructor(private readonly cfg: Readonly<PcieBenchSpec>) {
    const w = cfg.workload;
    this.size = w.size;
    this.maxBytes = w.size;
    this.cache = w.cache;
    this.unit = Math.ceil(w.size / 64) * 64;
    this.units = Math.max(1, Math.floor(w.window / this.unit));
    this.invUnits = 1 / this.units;
    this.inPage = w.size <= 4096;
    this.dir = OP_CODE[w.op];
    this.oneDirection = w.op !== 'wrrd';
    this.warm = w.cache === 'warm' ? 1 : 0;
    this.sequential = w.pattern === 'sequential';
    this.x = (w.seed >>> 0) || 0x12345;
    const p = cfg.pciebench;
    this.engine = { contexts: p.contexts, descriptorNs: p.descriptorNs, lineNs: p.lineNs };
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

  /** Would a transfer at window offset `off` cross a 4 KiB boundary? */
  private crosses(off: number): boolean {
    return this.inPage && (off % 4096) + this.size > 4096;
  }

  next(out: Float64Array): void {
    this.issued++;
    let off: number;
    if (this.sequential) {
      do { off = (this.seqIdx % this.units) * this.unit; this.seqIdx++; } while (this.crosses(off));
    } else {
      do {
        const r = this.units > 0xffffffff ? this.rand() * 4294967296 + this.rand() : this.rand();
        off = modByReciprocal(r, this.units, this.invUnits) * this.unit;
      } while (this.crosses(off));
    }
    const pg = Math.floor(off / 4096);
    out[0] = this.basePn + pg;
    out[1] = off - pg * 4096;
    out[2] = this.size;
    out[3] = this.dir;
    out[4] = this.warm;
    out[5] = -1;
  }
}
