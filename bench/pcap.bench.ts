/**
 * Throughput of the capture importers, in records per second on one core.
 *
 * Input: the records of workloads/captures/tcp_iperf3_mtu1500_100M_snap128.pcap (18 761 records,
 * snaplen 128) repeated in memory to ~2 M records behind the original file header (timestamps
 * repeat; nothing else is fixed up), and the same records re-wrapped as pcapng Enhanced Packet
 * Blocks. Without that capture a synthetic capture of the same shape is used instead.
 *
 * parseCapture (the whole capture in memory, one growing set of columns) and the streaming
 * CaptureReader (1 MiB reads from a source, 65 536-packet chunks in reused columns) on both.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/pcap.bench.js` (or import and call `run()`).
 * Goal: ≥ 2 M records/s.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { CaptureReader, parseCapture, type ByteSource } from '../src/trace/importers/pcap.js';

/** Bytes in memory as a source (what a file descriptor gives, without the system calls). */
function memorySource(b: Uint8Array): ByteSource {
  let o = 0;
  return { read(dst, off, len) { const k = Math.min(len, b.length - o); dst.set(b.subarray(o, o + k), off); o += k; return k; } };
}

/** Packets read by the streaming reader: 1 MiB reads, 65 536-packet chunks (the nic-pcap generator's). */
function streamed(b: Uint8Array, name: string): number {
  const r = new CaptureReader(memorySource(b), name);
  let n = 0;
  for (let p = r.next(); p !== null; p = r.next()) n += p.count;
  return n;
}

const FILE = 'tcp_iperf3_mtu1500_100M_snap128.pcap';
const TARGET_RECORDS = 2_000_000;

/** Look for workloads/captures/<FILE> in every ancestor (works from bench/ and dist/bench/). */
function findCapture(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, 'workloads', 'captures', FILE);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** A little-endian µs pcap of `n` Ethernet/IPv4/TCP frames of 1514 bytes cut to 128. */
function syntheticCapture(n: number): Uint8Array {
  const rec = 16 + 128;
  const out = new Uint8Array(24 + n * rec);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 128, true);
  dv.setUint32(20, 1, true);
  for (let i = 0, o = 24; i < n; i++, o += rec) {
    dv.setUint32(o, 1_795_317_651 + Math.floor(i / 10_000), true);
    dv.setUint32(o + 4, (i % 10_000) * 100, true);
    dv.setUint32(o + 8, 128, true);
    dv.setUint32(o + 12, 1514, true);
    const f = o + 16;
    dv.setUint16(f + 12, 0x0800);
    out[f + 14] = 0x45;
    out[f + 23] = 6;
    dv.setUint32(f + 26, 0x7f000001);
    dv.setUint32(f + 30, 0x7f000001);
    dv.setUint16(f + 34, 40000 + (i & 7));
    dv.setUint16(f + 36, 5201);
  }
  return out;
}

/** The file's records repeated until there are at least `target`, behind its own header. */
function repeatRecords(src: Uint8Array, target: number): { bytes: Uint8Array; records: number } {
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  let per = 0;
  for (let o = 24; o + 16 <= src.length; per++) o += 16 + dv.getUint32(o + 8, true);
  const reps = Math.max(1, Math.ceil(target / per));
  const body = src.subarray(24);
  const out = new Uint8Array(24 + body.length * reps);
  out.set(src.subarray(0, 24), 0);
  for (let r = 0; r < reps; r++) out.set(body, 24 + r * body.length);
  return { bytes: out, records: per * reps };
}

/** The same records as a little-endian pcapng (SHB, one µs IDB, one EPB per record). */
function toPcapng(pcap: Uint8Array, records: number): Uint8Array {
  const src = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  let size = 28 + 20;
  for (let i = 0, o = 24; i < records; i++) {
    const cap = src.getUint32(o + 8, true);
    size += 32 + ((cap + 3) & ~3);
    o += 16 + cap;
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x0a0d0d0a, true); dv.setUint32(4, 28, true); dv.setUint32(8, 0x1a2b3c4d, true);
  dv.setUint16(12, 1, true); dv.setBigInt64(16, -1n, true); dv.setUint32(24, 28, true);
  dv.setUint32(28, 1, true); dv.setUint32(32, 20, true); dv.setUint16(36, src.getUint32(20, true) & 0xffff, true);
  dv.setUint32(40, src.getUint32(16, true), true); dv.setUint32(44, 20, true);
  let w = 48;
  for (let i = 0, o = 24; i < records; i++) {
    const cap = src.getUint32(o + 8, true);
    const len = 32 + ((cap + 3) & ~3);
    const ticks = src.getUint32(o, true) * 1e6 + src.getUint32(o + 4, true);
    dv.setUint32(w, 6, true); dv.setUint32(w + 4, len, true); dv.setUint32(w + 8, 0, true);
    dv.setUint32(w + 12, Math.floor(ticks / 4294967296), true); dv.setUint32(w + 16, ticks >>> 0, true);
    dv.setUint32(w + 20, cap, true); dv.setUint32(w + 24, src.getUint32(o + 12, true), true);
    out.set(pcap.subarray(o + 16, o + 16 + cap), w + 28);
    dv.setUint32(w + len - 4, len, true);
    w += len;
    o += 16 + cap;
  }
  return out;
}

export async function run(): Promise<void> {
  const path = findCapture();
  const source = path ? new Uint8Array(readFileSync(path)) : syntheticCapture(18_761);
  const { bytes: pcap, records } = repeatRecords(source, TARGET_RECORDS);
  const pcapng = toPcapng(pcap, records);
  console.log(`pcap importer bench: ${path ? FILE : 'synthetic capture (workloads/captures not found)'} repeated to ${records} records ` +
    `(${(pcap.length / 1e6).toFixed(0)} MB pcap, ${(pcapng.length / 1e6).toFixed(0)} MB pcapng)`);

  const bench = new Bench({ name: 'pcap importer', time: 4000, iterations: 5, warmupIterations: 2 });
  const check = (n: number): void => { if (n !== records) throw new Error(`parsed ${n} records, expected ${records}`); };
  bench
    .add('parseCapture pcap', () => { check(parseCapture(pcap, 'bench.pcap').packets.count); })
    .add('parseCapture pcapng (EPB)', () => { check(parseCapture(pcapng, 'bench.pcapng').packets.count); })
    .add('CaptureReader pcap (1 MiB reads, 64 Ki-packet chunks)', () => { check(streamed(pcap, 'bench.pcap')); })
    .add('CaptureReader pcapng (EPB)', () => { check(streamed(pcapng, 'bench.pcapng')); });
  await bench.run();

  const rows = bench.tasks.map((t) => {
    const r = t.result;
    if (r.state !== 'completed') return { task: t.name, state: r.state, error: 'error' in r ? String(r.error) : '' };
    const bytes = t.name.includes('pcapng') ? pcapng.length : pcap.length;
    const sec = r.latency.mean / 1000;
    return {
      task: t.name,
      records,
      'mean ms': Number(r.latency.mean.toFixed(1)),
      'p99 ms': Number(r.latency.p99.toFixed(1)),
      samples: r.latency.samplesCount,
      'M records/s': Number((records / sec / 1e6).toFixed(2)),
      'MB/s': Math.round(bytes / sec / 1e6),
    };
  });
  console.table(rows);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
