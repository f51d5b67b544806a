/**
 * Tiny writers for synthetic pcap / pcapng files and frames, for the importer tests.
 * Each writer also reports where every record/block starts, so tests can cut at boundaries.
 */

export class ByteWriter {
  private buf = new Uint8Array(256);
  private dv = new DataView(this.buf.buffer);
  len = 0;
  constructor(public le: boolean) {}
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let c = this.buf.length * 2;
    while (c < this.len + n) c *= 2;
    const b = new Uint8Array(c);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }
  u8(v: number): this { this.room(1); this.buf[this.len++] = v & 0xff; return this; }
  u16(v: number): this { this.room(2); this.dv.setUint16(this.len, v, this.le); this.len += 2; return this; }
  u32(v: number): this { this.room(4); this.dv.setUint32(this.len, v >>> 0, this.le); this.len += 4; return this; }
  u64(v: bigint): this { this.room(8); this.dv.setBigUint64(this.len, BigInt.asUintN(64, v), this.le); this.len += 8; return this; }
  i64(v: bigint): this { this.room(8); this.dv.setBigInt64(this.len, v, this.le); this.len += 8; return this; }
  /** raw bytes (no byte swapping) */
  raw(b: Uint8Array | number[]): this { const a = b instanceof Uint8Array ? b : Uint8Array.from(b); this.room(a.length); this.buf.set(a, this.len); this.len += a.length; return this; }
  pad4(): this { while (this.len & 3) this.u8(0); return this; }
  setU32(at: number, v: number): void { this.dv.setUint32(at, v >>> 0, this.le); }
  bytes(): Uint8Array { return this.buf.slice(0, this.len); }
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

// ------------------------------------------------------------------ frames

export interface FlowSpec {
  src: number[]; // 4 or 16 bytes
  dst: number[];
  proto: number; // 6, 17, 1, ...
  sport?: number;
  dport?: number;
  vlan?: number[]; // TPIDs of tags to insert (0x8100, 0x88a8)
  payload?: number;
}

/** IPv4 or IPv6 packet (by address length) with a TCP/UDP header or a few bytes of payload. */
export function ipPacket(f: FlowSpec): Uint8Array {
  const w = new ByteWriter(false);
  const l4 = new ByteWriter(false);
  if (f.proto === 6) l4.u16(f.sport ?? 0).u16(f.dport ?? 0).u32(1).u32(0).u8(0x50).u8(0x10).u16(1024).u16(0).u16(0);
  else if (f.proto === 17) l4.u16(f.sport ?? 0).u16(f.dport ?? 0).u16(8 + (f.payload ?? 0)).u16(0);
  else l4.u8(8).u8(0).u16(0).u32(0);
  for (let k = 0; k < (f.payload ?? 0); k++) l4.u8(k);
  const body = l4.bytes();
  if (f.src.length === 4) {
    w.u8(0x45).u8(0).u16(20 + body.length).u16(0).u16(0x4000).u8(64).u8(f.proto).u16(0).raw(f.src).raw(f.dst);
  } else {
    w.u32(0x60000000).u16(body.length).u8(f.proto).u8(64).raw(f.src).raw(f.dst);
  }
  w.raw(body);
  return w.bytes();
}

export function ethernet(ip: Uint8Array, vlan: number[] = []): Uint8Array {
  const w = new ByteWriter(false);
  w.raw([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
  for (const tpid of vlan) w.u16(tpid).u16(100);
  w.u16((ip[0]! >> 4) === 6 ? 0x86dd : 0x0800);
  w.raw(ip);
  return w.bytes();
}

export const ethFrame = (f: FlowSpec): Uint8Array => ethernet(ipPacket(f), f.vlan ?? []);

/** Linux cooked v1 header (SLL) around an IP packet. */
export function sll(ip: Uint8Array, pktType: number): Uint8Array {
  const w = new ByteWriter(false);
  w.u16(pktType).u16(1).u16(6).raw([2, 0, 0, 0, 0, 1, 0, 0]).u16((ip[0]! >> 4) === 6 ? 0x86dd : 0x0800).raw(ip);
  return w.bytes();
}

/** Linux cooked v2 header (SLL2). */
export function sll2(ip: Uint8Array, pktType: number): Uint8Array {
  const w = new ByteWriter(false);
  w.u16((ip[0]! >> 4) === 6 ? 0x86dd : 0x0800).u16(0).u32(3).u16(1).u8(pktType).u8(6).raw([2, 0, 0, 0, 0, 1, 0, 0]).raw(ip);
  return w.bytes();
}

// ------------------------------------------------------------------ pcap

export interface PcapPacket { sec: number; frac: number; data: Uint8Array; origLen?: number }

export interface Written { bytes: Uint8Array; /** start of every record/block, plus the file length */ bounds: number[] }

export function writePcap(o: { le: boolean; nano: boolean; linkType: number; snapLen: number; packets: PcapPacket[]; ltExtra?: number }): Written {
  const w = new ByteWriter(o.le);
  w.u32(o.nano ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(o.snapLen).u32((o.linkType | (o.ltExtra ?? 0)) >>> 0);
  const bounds = [w.len];
  for (const p of o.packets) {
    const cap = Math.min(p.data.length, o.snapLen || Infinity);
    w.u32(p.sec).u32(p.frac).u32(cap).u32(p.origLen ?? p.data.length).raw(p.data.subarray(0, cap));
    bounds.push(w.len);
  }
  return { bytes: w.bytes(), bounds };
}

// ------------------------------------------------------------------ pcapng

export interface Opt { code: number; value: Uint8Array | number[] }

function options(w: ByteWriter, opts: Opt[]): void {
  if (!opts.length) return;
  for (const o of opts) {
    const v = o.value instanceof Uint8Array ? o.value : Uint8Array.from(o.value);
    w.u16(o.code).u16(v.length).raw(v).pad4();
  }
  w.u16(0).u16(0);
}

/** One block: body written by `fill`, lengths filled in. */
function block(le: boolean, type: number, fill: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter(le);
  w.u32(type).u32(0);
  fill(w);
  w.pad4();
  w.u32(0);
  w.setU32(4, w.len);
  w.setU32(w.len - 4, w.len);
  return w.bytes();
}

const u32Opt = (le: boolean, v: number): Uint8Array => { const w = new ByteWriter(le); w.u32(v); return w.bytes(); };
const i64Opt = (le: boolean, v: bigint): Uint8Array => { const w = new ByteWriter(le); w.i64(v); return w.bytes(); };
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export const ng = {
  shb(le: boolean, opts: Opt[] = [{ code: 4, value: text('iommusim-test') }]): Uint8Array {
    return block(le, 0x0a0d0d0a, (w) => { w.u32(0x1a2b3c4d).u16(1).u16(0).i64(-1n); options(w, opts); });
  },
  idb(le: boolean, linkType: number, snapLen: number, o: { name?: string; tsresol?: number; tsoffset?: bigint; extra?: Opt[] } = {}): Uint8Array {
    const opts: Opt[] = [];
    if (o.name !== undefined) opts.push({ code: 2, value: text(o.name) });
    if (o.tsresol !== undefined) opts.push({ code: 9, value: [o.tsresol] });
    if (o.tsoffset !== undefined) opts.push({ code: 14, value: i64Opt(le, o.tsoffset) });
    opts.push(...(o.extra ?? []));
    return block(le, 1, (w) => { w.u16(linkType).u16(0).u32(snapLen); options(w, opts); });
  },
  epb(le: boolean, ifId: number, ticks: bigint, data: Uint8Array, o: { origLen?: number; flags?: number; capLen?: number; extra?: Opt[] } = {}): Uint8Array {
    const cap = o.capLen ?? data.length;
    const opts: Opt[] = [...(o.extra ?? [])];
    if (o.flags !== undefined) opts.push({ code: 2, value: u32Opt(le, o.flags) });
    return block(le, 6, (w) => {
      w.u32(ifId).u32(Number(ticks >> 32n)).u32(Number(ticks & 0xffffffffn)).u32(cap).u32(o.origLen ?? data.length);
      w.raw(data.subarray(0, cap)).pad4();
      options(w, opts);
    });
  },
  pb(le: boolean, ifId: number, ticks: bigint, data: Uint8Array, o: { origLen?: number; flags?: number } = {}): Uint8Array {
    const opts: Opt[] = o.flags !== undefined ? [{ code: 2, value: u32Opt(le, o.flags) }] : [];
    return block(le, 2, (w) => {
      w.u16(ifId).u16(0).u32(Number(ticks >> 32n)).u32(Number(ticks & 0xffffffffn)).u32(data.length).u32(o.origLen ?? data.length);
      w.raw(data).pad4();
      options(w, opts);
    });
  },
  /** Simple Packet Block: stores min(origLen, snapLen) bytes of data. */
  spb(le: boolean, data: Uint8Array, origLen: number, snapLen: number): Uint8Array {
    const cap = Math.min(origLen, snapLen || Infinity, data.length);
    return block(le, 3, (w) => { w.u32(origLen).raw(data.subarray(0, cap)).pad4(); });
  },
  nrb(le: boolean): Uint8Array {
    return block(le, 4, (w) => {
      const rec = concat([Uint8Array.from([127, 0, 0, 1]), text('localhost\0')]);
      w.u16(1).u16(rec.length).raw(rec).pad4().u16(0).u16(0);
    });
  },
  isb(le: boolean, ifId: number, ticks: bigint): Uint8Array {
    return block(le, 5, (w) => {
      w.u32(ifId).u32(Number(ticks >> 32n)).u32(Number(ticks & 0xffffffffn));
      options(w, [{ code: 4, value: new Uint8Array(8) }]);
    });
  },
  custom(le: boolean, type: number, pen: number, payload: number[]): Uint8Array {
    return block(le, type, (w) => { w.u32(pen).raw(payload); });
  },
};

/** Concatenate blocks and record where each starts. */
export function joinBlocks(blocks: Uint8Array[]): Written {
  const bounds: number[] = [];
  let o = 0;
  for (const b of blocks) { bounds.push(o); o += b.length; }
  bounds.push(o);
  return { bytes: concat(blocks), bounds };
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
