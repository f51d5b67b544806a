/**
 * Timing of one PCIe link, each direction a serializer: a TLP occupies its direction for
 * wireBytes / bandwidth, FIFO, then arrives after the link latency. DLLP (ACK, UpdateFC) bytes
 * are charged to the direction they travel. Times in ps.
 */
import { bytesPerNs, dmaReadWire, dmaWriteWire, WIRE_UP_BYTES, WIRE_DOWN_BYTES, WIRE_TLPS_UP, WIRE_TLPS_DOWN, type PcieLinkSpec } from './link.js';

const MEMO_BITS = 12;
const MEMO = 1 << MEMO_BITS;

export class PcieLinkTiming {
  readonly psPerByte: number;
  readonly latencyPs: number;
  upFree = 0;
  downFree = 0;
  upBytes = 0;
  downBytes = 0;
  upTlps = 0;
  downTlps = 0;
  /** Busy time per direction (ps), for utilisation. */
  upBusy = 0;
  downBusy = 0;
  private readonly wire = new Float64Array(6);

  constructor(readonly spec: PcieLinkSpec) {
    this.psPerByte = 1000 / bytesPerNs(spec);
    this.latencyPs = Math.round(spec.linkLatencyNs * 1000);
  }

  /**
   * Wire bytes of a device read piece [addr, addr+bytes) (a piece never crosses 4 KiB): up (MRd +
   * ACKs) and down (completions + ACKs). Memoised on (bytes, offset in the page, above 4 GiB),
   * which is all the result depends on.
   */
  readWire(addr: number, bytes: number): Float64Array {
    return this.memo(addr, bytes, 0);
  }

  writeWire(addr: number, bytes: number): Float64Array {
    return this.memo(addr, bytes, 1);
  }

  // Direct-mapped memo, 4096 entries: a NIC's pieces (buffers at any offset in their page, split
  // at MPS) have a couple of thousand distinct shapes. Key: bytes (<= 4096), offset, above 4 GiB,
  // write, packed in an int32.
  private readonly memoKey = new Int32Array(MEMO).fill(-1);
  private readonly memoVal = new Float64Array(MEMO * 4);

  private memo(addr: number, bytes: number, write: number): Float64Array {
    const off = addr - Math.floor(addr / 4096) * 4096; // addr mod 4096, no floating-point `%`
    const key = (((bytes << 12) | off) << 2) | (addr >= 4294967296 ? 2 : 0) | write;
    const h = Math.imul(key, 0x9e3779b1) >>> (32 - MEMO_BITS);
    const w = this.wire;
    const b = h * 4;
    if (this.memoKey[h] === key) {
      w[0] = this.memoVal[b]; w[1] = this.memoVal[b + 1]; w[2] = this.memoVal[b + 2]; w[3] = this.memoVal[b + 3];
      return w;
    }
    if (write === 1) dmaWriteWire(this.spec, addr, bytes, w);
    else dmaReadWire(this.spec, addr, bytes, w);
    this.memoKey[h] = key;
    this.memoVal[b] = w[0]; this.memoVal[b + 1] = w[1]; this.memoVal[b + 2] = w[2]; this.memoVal[b + 3] = w[3];
    return w;
  }

  /** Send `bytes` upstream at t; returns the arrival time at the root port (last byte + latency). */
  sendUp(t: number, bytes: number, tlps: number): number {
    const start = t > this.upFree ? t : this.upFree;
    const dur = Math.round(bytes * this.psPerByte);
    this.upFree = start + dur;
    this.upBusy += dur;
    this.upBytes += bytes;
    this.upTlps += tlps;
    return this.upFree + this.latencyPs;
  }

  sendDown(t: number, bytes: number, tlps: number): number {
    const start = t > this.downFree ? t : this.downFree;
    const dur = Math.round(bytes * this.psPerByte);
    this.downFree = start + dur;
    this.downBusy += dur;
    this.downBytes += bytes;
    this.downTlps += tlps;
    return this.downFree + this.latencyPs;
  }
}

export { WIRE_UP_BYTES, WIRE_DOWN_BYTES, WIRE_TLPS_UP, WIRE_TLPS_DOWN };
