/**
 * Timing of one PCIe link, each direction a serializer: a TLP occupies its direction for
 * wireBytes / bandwidth, FIFO, then arrives after the link latency. DLLP (ACK, UpdateFC) bytes
 * are charged to the direction they travel. Times in ps.
 */
import { bytesPerNs, dmaReadWire, dmaWriteWire, WIRE_UP_BYTES, WIRE_DOWN_BYTES, WIRE_TLPS_UP, WIRE_TLPS_DOWN, type PcieLinkSpec } from './link.js';

const MEMO_BITS = 12;
const MEMO = 1 << MEMO_BITS;
/** Offsets in a wireAt entry: bytes up, bytes down, TLPs up, TLPs down, ps up, ps down. */
export const WM_UP = 0, WM_DOWN = 1, WM_TLPS_UP = 2, WM_TLPS_DOWN = 3, WM_UP_PS = 4, WM_DOWN_PS = 5;
const WM_STRIDE = 8;

/** One direction of a link: a FIFO serializer, and what it sent. */
export class LinkDirection {
  /** When the direction is free again (ps). */
  free = 0;
  bytes = 0;
  tlps = 0;
  /** Time it was busy (ps), for utilisation. */
  busy = 0;

  /**
   * n like TLPs sent back to back at t, each of durPs, bytes and tlps: the same state as n sends
   * of one at t. Returns when the first is serialized; the k-th is (k - 1) * durPs later.
   */
  run(t: number, n: number, durPs: number, bytes: number, tlps: number): number {
    const first = (t > this.free ? t : this.free) + durPs;
    this.free = first;
    this.busy += durPs;
    this.bytes += bytes;
    this.tlps += tlps;
    for (let k = 1; k < n; k++) {
      this.free += durPs;
      this.busy += durPs;
      this.bytes += bytes;
      this.tlps += tlps;
    }
    return first;
  }
}

export class PcieLinkTiming {
  readonly psPerByte: number;
  readonly latencyPs: number;
  /** The two directions (device to root port, and back). */
  readonly up = new LinkDirection();
  readonly down = new LinkDirection();
  get upFree(): number { return this.up.free; }
  get downFree(): number { return this.down.free; }
  get upBytes(): number { return this.up.bytes; }
  get downBytes(): number { return this.down.bytes; }
  get upTlps(): number { return this.up.tlps; }
  get downTlps(): number { return this.down.tlps; }
  /** Busy time per direction (ps), for utilisation. */
  get upBusy(): number { return this.up.busy; }
  get downBusy(): number { return this.down.busy; }
  private readonly wire = new Float64Array(6);

  constructor(readonly spec: PcieLinkSpec) {
    this.psPerByte = 1000 / bytesPerNs(spec);
    this.latencyPs = Math.round(spec.linkLatencyNs * 1000);
  }

  /**
   * Wire figures of a device DMA piece [pn * 4096 + off, + bytes) (a piece never crosses 4 KiB),
   * `write` 0 (read: MRd up, completions down) or 1 (MWr up), each direction's ACK/UpdateFC DLLPs
   * included: the index b of its entry in `wireMemo`, which holds at b + WM_* the bytes and TLPs
   * up and down and each direction's serialization time (ps, as sendUp / sendDown would round
   * it). Memoised on (bytes, offset in the page, above 4 GiB, write), which is all the result
   * depends on; nothing is copied out.
   */
  wireAt(pn: number, off: number, bytes: number, write: number): number {
    // Direct-mapped, 4096 entries: a NIC's pieces (buffers at any offset in their page, split at
    // MPS) have a couple of thousand distinct shapes. Key packed in an int32 (bytes <= 4096).
    const key = (((bytes << 12) | off) << 2) | (pn >= 1048576 ? 2 : 0) | write;
    const h = Math.imul(key, 0x9e3779b1) >>> (32 - MEMO_BITS);
    const b = h * WM_STRIDE;
    if (this.memoKey[h] === key) return b;
    const w = this.wire, m = this.wireMemo;
    if (write === 1) dmaWriteWire(this.spec, pn * 4096 + off, bytes, w);
    else dmaReadWire(this.spec, pn * 4096 + off, bytes, w);
    this.memoKey[h] = key;
    m[b + WM_UP] = w[WIRE_UP_BYTES]; m[b + WM_DOWN] = w[WIRE_DOWN_BYTES];
    m[b + WM_TLPS_UP] = w[WIRE_TLPS_UP]; m[b + WM_TLPS_DOWN] = w[WIRE_TLPS_DOWN];
    m[b + WM_UP_PS] = Math.round(w[WIRE_UP_BYTES] * this.psPerByte);
    m[b + WM_DOWN_PS] = Math.round(w[WIRE_DOWN_BYTES] * this.psPerByte);
    return b;
  }

  private readonly memoKey = new Int32Array(MEMO).fill(-1);
  /** Entries of wireAt, WM_STRIDE numbers each. */
  readonly wireMemo = new Float64Array(MEMO * WM_STRIDE);

  /** sendUp with the serialization time already known (durPs = round(bytes * psPerByte)). */
  sendUpPs(t: number, durPs: number, bytes: number, tlps: number): number {
    return this.sendUpRun(t, 1, durPs, bytes, tlps);
  }

  /** sendDown with the serialization time already known (durPs = round(bytes * psPerByte)). */
  sendDownPs(t: number, durPs: number, bytes: number, tlps: number): number {
    return this.sendDownRun(t, 1, durPs, bytes, tlps);
  }

  /**
   * n like TLPs sent upstream back to back at t, each of durPs, bytes and tlps: the same state
   * as n sendUpPs calls at t. Returns the first's arrival; the k-th arrives (k - 1) * durPs later.
   */
  sendUpRun(t: number, n: number, durPs: number, bytes: number, tlps: number): number {
    return this.up.run(t, n, durPs, bytes, tlps) + this.latencyPs;
  }

  /** sendUpRun downstream. */
  sendDownRun(t: number, n: number, durPs: number, bytes: number, tlps: number): number {
    return this.down.run(t, n, durPs, bytes, tlps) + this.latencyPs;
  }

  /** Send `bytes` upstream at t; returns the arrival time at the root port (last byte + latency). */
  sendUp(t: number, bytes: number, tlps: number): number {
    return this.sendUpPs(t, Math.round(bytes * this.psPerByte), bytes, tlps);
  }

  sendDown(t: number, bytes: number, tlps: number): number {
    return this.sendDownPs(t, Math.round(bytes * this.psPerByte), bytes, tlps);
  }
}

export { WIRE_UP_BYTES, WIRE_DOWN_BYTES, WIRE_TLPS_UP, WIRE_TLPS_DOWN };
