/**
 * What a closed-loop device model hands the timed system (src/sim/system.ts: runSource): its next
 * request, and the limits the system's shortcuts may rely on. pcie-bench's NFP firmware
 * (pciebench.ts) is one; the interface lives with the devices so they need nothing from the
 * system that drives them.
 */
/** A source of generated requests (closed loop): fills the next request for device d. */
export interface RequestSource {
  /** Every request is a read, or every one a write (see TimedSystem.eager): optional, default false. */
  readonly oneDirection?: boolean;
  /** The largest request's bytes, when known (see TimedSystem.eager). */
  readonly maxBytes?: number;
  /**
   * The device's own limits, when the source models them (pcie-bench's NFP6000): request contexts
   * (at most that many requests in flight; 0: device.dmaEngine.maxInFlight alone) and its DMA
   * engine's data mover, per request and per 64 B line (src/devices/engine: DmaEngines.setSource).
   */
  readonly engine?: { contexts: number; descriptorNs: number; lineNs: number };
  /** Every request's host buffer is in the LLC (warm) or not (cold), when that is so (see TimedSystem.eager). */
  readonly cache?: 'warm' | 'cold';
  /** Remaining requests (Infinity for unbounded). */
  remaining(): number;
  /**
   * Fill `out`: [iova page, offset, bytes, direction, warm (0/1), pasid]; direction 0 a read, 1 a
   * write, 2 a write then a read of the same bytes, the read issued once the write has been sent
   * (see TimedSystem.readBack).
   */
  next(out: Float64Array): void;
}
