/**
 * Host memory seen from the root complex: an access either hits the LLC (warm data, DDIO writes,
 * page tables kept in the LLC) at memory.llcLatencyNs, or goes to DRAM at memory.dramLatencyNs
 * behind a bandwidth serializer of memory.dramGBps. Times in ps.
 */
import type { MemorySpec } from '../config/knobs/memory.js';

export class MemoryTiming {
  readonly llcPs: number;
  readonly dramPs: number;
  readonly psPerByte: number;
  readonly ddio: boolean;
  readonly walkInLlc: boolean;
  private dramFree = 0;
  dramBytes = 0;
  llcAccesses = 0;
  dramAccesses = 0;

  /** `spec`: the `memory.*` knobs (a resolved config's `memory` section), validated by the config's resolver. */
  constructor(spec: Readonly<MemorySpec>) {
    this.llcPs = Math.round(spec.llcLatencyNs * 1000);
    this.dramPs = Math.round(spec.dramLatencyNs * 1000);
    this.psPerByte = 1000 / spec.dramGBps; // GB/s = bytes/ns
    this.ddio = spec.ddio;
    this.walkInLlc = spec.pageTables === 'llc';
  }

  /** An access of `bytes` at t; returns when its data is available (read) or accepted (write). */
  access(t: number, bytes: number, inLlc: boolean): number {
    if (inLlc) { this.llcAccesses++; return t + this.llcPs; }
    this.dramAccesses++;
    this.dramBytes += bytes;
    const start = t > this.dramFree ? t : this.dramFree;
    this.dramFree = start + Math.round(bytes * this.psPerByte);
    return this.dramFree + this.dramPs;
  }

  /**
   * One page-walk read (an 8-byte entry in a 64-byte line): latency only. Walks are computed
   * ahead of time when a miss starts; charging them to the bandwidth serializer would reserve DRAM
   * in the future and hold up earlier requests, and their bandwidth is negligible.
   */
  walkRead(t: number): number {
    if (this.walkInLlc) { this.llcAccesses++; return t + this.llcPs; }
    this.dramAccesses++;
    return t + this.dramPs;
  }
}
