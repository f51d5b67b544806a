/** Hand-made packet columns for the NIC tests. */
import type { PacketColumns } from '../../../src/trace/importers/pcap.js';
import { type TraceColumns, OP_DMA, OP_MAP, OP_NAMES, DMA_KINDS, hexAddr } from '../../../src/trace/columns.js';

const DIRS = ['', 'read', 'write', 'rw'];

/** Packets from [timeNs, origLen, dir (1 RX, 2 TX; default 1), flowHash (default 0), l4 (default `l4`)]. */
export function packets(list: Array<[number, number, number?, number?, number?]>, l4 = 0): PacketColumns {
  const n = list.length;
  return {
    count: n,
    tsNs: Float64Array.from(list, (x) => x[0]),
    origLen: Uint32Array.from(list, (x) => x[1]),
    capLen: new Uint32Array(n),
    iface: new Uint16Array(n),
    dir: Uint8Array.from(list, (x) => x[2] ?? 1),
    flowHash: Uint32Array.from(list, (x) => x[3] ?? 0),
    l4: Uint8Array.from(list, (x) => x[4] ?? l4),
  };
}

/** Rows as text: `time op iova size [dir [paddr]]`, and each row's kind when `kinds`. */
export function traceRows(t: TraceColumns, from = 0, kinds = false): string[] {
  const out: string[] = [];
  for (let i = from; i < t.count; i++) {
    const op = t.op[i];
    let s = `${t.timeNs[i]} ${OP_NAMES[op]} ${hexAddr(t.iovaHi[i], t.iovaLo[i])} ${t.size[i]}`;
    if (op === OP_DMA) s += ` ${DIRS[t.dir[i]]}`;
    if (op === OP_MAP) s += ` ${DIRS[t.dir[i]]} ${hexAddr(t.paddrHi[i], t.paddrLo[i])}`;
    out.push(kinds ? `${s} ${DMA_KINDS[t.kind[i]]}` : s);
  }
  return out;
}
