/**
 * The functional-replay trace of issue #17 (bench/cref.bench.ts): a CSV trace in the native format
 * (docs/trace-formats.md) of maps and DMAs, deterministic for a seed, for the C reference
 * (bench/cref/replay.c) and `iommusim run FILE --functional` to replay side by side.
 *
 *   node dist/bench/cref/gen-trace.js OUT.csv [--records 1500000] [--seed 1] [--faults]
 *
 * Each device (03:00.0 … 03:00.3, one domain each) maps, at the start:
 *  - A: 128 MiB in 1 MiB maps (4 KiB leaves: 256 pages a map), at iova 1 GiB;
 *  - D: 64 MiB in one map whose paddr is not 2 MiB-aligned (4 KiB leaves), at iova 2 GiB;
 *  - B: 512 MiB in 2 MiB maps with 2 MiB-aligned iova and paddr (2 MiB leaves), at iova 512 GiB;
 *  - C: 1 GiB in one map, 1 GiB-aligned (one 1 GiB leaf), at iova 1 TiB.
 * Then DMAs of 1 B … 132 KiB (16.7 pages a DMA on average: 1.5 M records give 25.0 M page lookups),
 * reads and writes, over the regions: a sequential stream through A (each new page misses the
 * IOTLB; the PDE cache mostly hits), random places in A and D (IOTLB misses, PDE-cache misses:
 * 4 × 96 PDEs against a 64-entry cache), random places in B (2 MiB entries: 1,024 of them against a
 * 32-entry array), random places in C (4 entries, 4 slots: hits) and a hot 16-page ring in A (hits).
 *
 * `faults` (the tests' traces) adds what makes the model fault or skip: a read-only and a
 * write-only map, DMAs against their permissions, DMAs into unmapped space, beyond the 48-bit
 * width, from a device that never mapped (another bus: no root entry; the same bus: no context
 * entry), and a map over pages already mapped (-EEXIST), plus the optional `kind` column.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CSV_HEADER, CSV_HEADER_KIND } from '../../src/trace/importers/csv.js';
import { DMA_KINDS } from '../../src/trace/columns.js';

export interface CrefTraceOptions {
  /** Records in all (maps included): DMAs fill the rest. */
  records: number;
  seed?: number;
  /** Devices 03:00.0 … (at most 8). */
  devices?: number;
  /** Add faulting DMAs, permission-restricted maps, a double map and the kind column (see above). */
  faults?: boolean;
  /** Scale of the mapped regions: 1 = the sizes above; smaller (a power of two down to 1/64) for small tests. */
  scale?: number;
}

const MiB = 1 << 20;
const GiB = 2 ** 30;
const hex = (n: number): string => '0x' + n.toString(16);

/** Deterministic xorshift32 stream of uint32. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x2545f491;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

/** Write the trace to `path` (in 1 MiB pieces); returns the records written and the page lookups they ask for. */
export function writeCrefTrace(path: string, o: CrefTraceOptions): { records: number; dmas: number; pages: number } {
  const seed = o.seed ?? 1;
  const nDev = Math.min(8, o.devices ?? 4);
  const scale = o.scale ?? 1;
  const r = rng(seed * 2654435761);
  const fd = openSync(path, 'w');
  let buf = '';
  const flush = (): void => { writeSync(fd, buf); buf = ''; };
  const line = (s: string): void => { buf += s + '\n'; if (buf.length > MiB) flush(); };
  let records = 0, dmas = 0, pages = 0;
  let t = 0;
  const devs = Array.from({ length: nDev }, (_, d) => `0000:03:00.${d}`);
  const kindCol = o.faults === true;
  const tail = (k: number): string => (kindCol ? ',' + (k === 0 ? '' : DMA_KINDS[k]) : '');
  line(kindCol ? CSV_HEADER_KIND : CSV_HEADER);
  const map = (d: number, iova: number, size: number, paddr: number, dir = ''): void => {
    line(`${t},${devs[d]},,map,${hex(iova)},${size},${dir},${hex(paddr)}${tail(0)}`);
    records++;
  };
  // regions (per device): base iova and size in bytes
  const aBase = GiB, aSize = 128 * MiB * scale;
  const dBase = 2 * GiB, dSize = 64 * MiB * scale;
  const bBase = 512 * GiB, bSize = 512 * MiB * scale;
  const cBase = 1024 * GiB, cSize = GiB;
  for (let d = 0; d < nDev; d++) {
    const pa = (16 + 4 * d) * GiB; // 4 GiB of host memory per device
    for (let off = 0; off < aSize; off += MiB) map(d, aBase + off, MiB, pa + off + 4096);
    map(d, dBase, dSize, pa + GiB + 4096 * 3);
    for (let off = 0; off < bSize; off += 2 * MiB) map(d, bBase + off, 2 * MiB, pa + 2 * GiB + off);
    map(d, cBase, cSize, (64 + d) * GiB);
    t += 10;
  }
  if (o.faults) {
    // read-only and write-only maps, and a double map (fails whole: -EEXIST)
    map(0, 3 * GiB, 64 * 4096, 40 * GiB, 'read');
    map(0, 3 * GiB + 64 * 4096, 64 * 4096, 40 * GiB + 64 * 4096, 'write');
    map(0, aBase + 4096 * 7, 8192, 41 * GiB + 4096 * 7);
    // a device on the same bus that never maps (context entry not present), one on another bus (no root entry)
  }
  const cursor = new Float64Array(nDev);
  const dmaLine = (d: number, iova: number, size: number, write: boolean, kind = 0): void => {
    line(`${t},${devs[d]},,dma,${hex(iova)},${size},${write ? 'write' : 'read'},${tail(kind)}`);
    records++;
    dmas++;
    pages += Math.floor(((iova % 4096) + size - 1) / 4096) + 1;
  };
  const rawDma = (dev: string, iova: number, size: number, write: boolean): void => {
    line(`${t},${dev},,dma,${hex(iova)},${size},${write ? 'write' : 'read'},${tail(0)}`);
    records++;
    dmas++;
    pages += Math.floor(((iova % 4096) + size - 1) / 4096) + 1;
  };
  while (records < o.records) {
    t += r() % 200;
    const d = r() % nDev;
    const size = 1 + (r() % (132 * 1024));
    const write = (r() & 1) === 1;
    const k = r() % 100;
    const kind = kindCol ? r() % DMA_KINDS.length : 0;
    const inside = (base: number, span: number): number => base + (r() % Math.floor((span - size) / 64)) * 64 + (r() % 64);
    if (o.faults && k < 6) {
      // the faulting and odd cases, a few percent of the DMAs
      const f = r() % 8;
      if (f === 0) dmaLine(0, 3 * GiB + (r() % 64) * 4096, 1 + (r() % 8192), true, kind); // write to read-only (maybe the write-only too)
      else if (f === 1) dmaLine(0, 3 * GiB + (64 + (r() % 64)) * 4096, 1 + (r() % 8192), false, kind); // read of write-only
      else if (f === 2) dmaLine(d, 5 * GiB + (r() % 1024) * 4096, size, write, kind); // unmapped
      else if (f === 3) dmaLine(d, 2 ** 48 + (r() % 4) * 4096, 8192, write, kind); // beyond 48 bits
      else if (f === 4) rawDma('0000:03:01.0', aBase, 4096, write); // same bus, no context entry
      else if (f === 5) rawDma('0000:04:00.0', aBase, 4096, write); // no root entry for bus 4
      else if (f === 6) dmaLine(d, aBase + aSize - 4096, 3 * 4096, write, kind); // runs off the end of A (last map) into unmapped space
      else dmaLine(d, 3 * GiB + (r() % 120) * 4096, 8 * 4096, r() % 2 === 0, kind); // across the read-only / write-only boundary
      continue;
    }
    if (k < 40) {
      // sequential stream through A
      let iova = aBase + cursor[d];
      if (cursor[d] + size > aSize) { cursor[d] = 0; iova = aBase; }
      cursor[d] += size + (r() % 256);
      dmaLine(d, iova, size, write, kind);
    } else if (k < 55) dmaLine(d, inside(aBase, aSize), size, write, kind);
    else if (k < 65) dmaLine(d, inside(dBase, dSize), size, write, kind);
    else if (k < 85) dmaLine(d, inside(bBase, bSize), size, write, kind);
    else if (k < 95) dmaLine(d, inside(cBase, cSize), size, write, kind);
    else dmaLine(d, aBase + 64 * 4096 + (r() % (16 * 4096)), 1 + (r() % 4096), write, kind); // hot ring
  }
  flush();
  closeSync(fd);
  return { records, dmas, pages };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const out = args[0];
  if (!out || out.startsWith('--')) {
    process.stderr.write('usage: node dist/bench/cref/gen-trace.js OUT.csv [--records N] [--seed S] [--devices D] [--faults]\n');
    process.exit(2);
  }
  const res = writeCrefTrace(out, {
    records: Number(opt('--records') ?? 1_500_000), seed: Number(opt('--seed') ?? 1),
    devices: Number(opt('--devices') ?? 4), faults: args.includes('--faults'),
  });
  process.stdout.write(`${out}: ${res.records} records, ${res.dmas} DMAs, ${res.pages} page lookups\n`);
}
