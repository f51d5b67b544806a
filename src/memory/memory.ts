/**
 * Host memory seen from the root complex: an access either hits the LLC (warm data, DDIO writes,
 * page tables kept in the LLC) at memory.llcLatencyNs, or goes to DRAM at memory.dramLatencyNs
 * behind a bandwidth serializer of memory.dramGBps. Times in ps.
 */
import type { Config } from '../config/config.js';

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

  constructor(cfg: Readonly<Config>) {
    this.llcPs = Math.round(cfg.memory.llcLatencyNs * 1000);
    this.dramPs = Math.round(cfg.memory.dramLatencyNs * 1000);
    this.psPerByte = 1000 / cfg.memory.dramGBps; // GB/s = bytes/ns
    this.ddio = cfg.memory.ddio;
    this.walkInLlc = cfg.memory.pageTables === 'llc';
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

  /** One 8-byte page-walk read. */
  walkRead(t: number): number {
    return this.access(t, 64, this.walkInLlc);
  }
}
