/**
 * `.iotrace` throughput (records/s) for write and read, in memory and through a file, and the
 * peak RSS of a 10 M-record file written with IotraceWriter and read back chunk by chunk.
 *
 * Input: a synthetic trace (3 devices, every column varying). The 10 M-record run comes first
 * and generates its rows in batches of 50 000, so the trace itself is never in memory; then the
 * tinybench suite times 2 M records in memory and through a file. Files go to the OS temp folder
 * and are removed.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/iotrace.bench.js` (or import and call `run()`).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as zlib from 'node:zlib';
import { runSuite, rng } from './common.js';
import { IotraceReader, IotraceWriter, crc32, iotraceChunkBytes, readIotrace, writeIotrace } from '../src/trace/iotrace.js';
import { allocColumns, type TraceColumns } from '../src/trace/columns.js';

const DEVICES = ['0000:01:00.0', '0000:02:00.0', '0000:af:1f.7'];

/** Rows [start, start + n) of the synthetic trace into `t` (which must hold n rows). */
function fill(t: TraceColumns, start: number, n: number): void {
  const r = rng(start + 1);
  t.count = n;
  for (let j = 0; j < n; j++) {
    const i = start + j;
    t.timeNs[j] = i * 12.5;
    t.size[j] = 64 + (r() & 0xfff);
    t.pasid[j] = (i & 7) === 0 ? -1 : i & 0xfffff;
    t.iovaHi[j] = i >>> 20;
    t.iovaLo[j] = r();
    t.paddrHi[j] = 1;
    t.paddrLo[j] = r();
    t.device[j] = i % DEVICES.length;
    t.op[j] = r() & 3;
    t.dir[j] = r() & 3;
  }
}

function readAllChunks(path: string, shared: boolean | SharedArrayBuffer): number {
  const r = IotraceReader.open(path);
  let n = 0;
  const opts = typeof shared === 'boolean' ? { shared } : { buffer: shared };
  for (let i = 0; i < r.chunks; i++) n += r.chunk(i, opts).count;
  r.close();
  return n;
}

/**
 * Write `records` with IotraceWriter, then read them back chunk by chunk three ways; time and
 * peak RSS of each phase (sampled after every batch and chunk). Runs first, before the suite
 * allocates anything, so "RSS before" is the bare process.
 */
function bigRun(dir: string, records: number): void {
  const path = join(dir, 'big.iotrace');
  const batch = allocColumns(50_000, DEVICES);
  const rss = (): number => process.memoryUsage().rss;
  const mb = (b: number): string => `${(b / 1048576).toFixed(0)} MiB`;
  const rows: string[] = [];
  const phase = (name: string, fn: (sample: () => void) => number): void => {
    const base = rss();
    let peak = base;
    const t0 = performance.now();
    const excludeMs = fn(() => { peak = Math.max(peak, rss()); });
    const s = (performance.now() - t0 - excludeMs) / 1000;
    rows.push(`| ${name} | ${s.toFixed(2)} s | ${(records / s / 1e6).toFixed(1)} M records/s | ${mb(base)} | ${mb(peak)} (+${mb(peak - base)}) |`);
  };
  phase('write: IotraceWriter, batches of 50 000 (generating them not timed)', (sample) => {
    const w = new IotraceWriter(path, DEVICES);
    let genMs = 0;
    for (let s = 0; s < records; s += 50_000) {
      const g = performance.now();
      fill(batch, s, Math.min(50_000, records - s));
      genMs += performance.now() - g;
      w.append(batch);
      sample();
    }
    w.close();
    return genMs;
  });
  const size = statSync(path).size;
  let chunks = 0;
  const read = (name: string, opts: (k: number) => { shared?: boolean; buffer?: SharedArrayBuffer }): void => phase(name, (sample) => {
    const r = IotraceReader.open(path);
    chunks = r.chunks;
    let n = 0;
    for (let i = 0; i < r.chunks; i++) {
      n += r.chunk(i, opts(i)).count;
      sample();
    }
    r.close();
    if (n !== records) throw new Error(`read ${n} records, wrote ${records}`);
    return 0;
  });
  const pool = [new SharedArrayBuffer(iotraceChunkBytes(65536)), new SharedArrayBuffer(iotraceChunkBytes(65536))];
  read('read: IotraceReader, 2 reused SharedArrayBuffers', (k) => ({ buffer: pool[k & 1] }));
  read('read: IotraceReader, a new ArrayBuffer per chunk', () => ({}));
  read('read: IotraceReader, a new SharedArrayBuffer per chunk', () => ({ shared: true }));
  rmSync(path);
  process.stdout.write(`\n## ${records.toLocaleString('en-US')} records through a file (${mb(size)}, ${chunks} chunks of 65 536)\n\n` +
    `| phase | time | throughput | RSS before | peak RSS |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}\n`);
}

export async function run(): Promise<void> {
  const N = 2_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'iotrace-bench-'));
  try {
    bigRun(dir, 10_000_000);
    const t = allocColumns(N, DEVICES);
    fill(t, 0, N);
    const file = writeIotrace(t);
    const path = join(dir, 'bench.iotrace');
    writeFileSync(path, file);
    const reuse = new SharedArrayBuffer(iotraceChunkBytes(65536));
    const crcBytes = file.subarray(0, 64 << 20);
    const zcrc = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
    console.log(`iotrace bench: ${N.toLocaleString('en-US')} synthetic records, ${(file.length / 1e6).toFixed(0)} MB as .iotrace (chunks of 65 536)`);
    const check = (n: number): void => { if (n !== N) throw new Error(`got ${n} records, expected ${N}`); };
    const tasks = [
      { name: 'writeIotrace (in memory)', items: N, unit: 'records', fn: () => { if (writeIotrace(t).length !== file.length) throw new Error('size changed'); } },
      { name: 'readIotrace (in memory, all CRCs)', items: N, unit: 'records', fn: () => { check(readIotrace(file, 'bench.iotrace').count); } },
      {
        name: 'IotraceWriter → file (batches of 50 000)', items: N, unit: 'records', fn: () => {
          const w = new IotraceWriter(path, DEVICES);
          for (let s = 0; s < N; s += 50_000) {
            const e = Math.min(N, s + 50_000);
            const v = { ...t, count: e - s } as TraceColumns;
            for (const k of ['timeNs', 'size', 'pasid', 'iovaHi', 'iovaLo', 'paddrHi', 'paddrLo', 'device', 'op', 'dir'] as const) {
              (v as unknown as Record<string, unknown>)[k] = t[k].subarray(s, e);
            }
            w.append(v);
          }
          w.close();
        },
      },
      { name: 'IotraceReader ← file (a new ArrayBuffer per chunk)', items: N, unit: 'records', fn: () => { check(readAllChunks(path, false)); } },
      { name: 'IotraceReader ← file (a new SharedArrayBuffer per chunk)', items: N, unit: 'records', fn: () => { check(readAllChunks(path, true)); } },
      { name: 'IotraceReader ← file (one reused SharedArrayBuffer)', items: N, unit: 'records', fn: () => { check(readAllChunks(path, reuse)); } },
      { name: 'crc32 (ours, slicing by 8)', items: crcBytes.length, unit: 'bytes', fn: () => { crc32(crcBytes); } },
      ...(zcrc ? [{ name: 'crc32 (node:zlib, for comparison)', items: crcBytes.length, unit: 'bytes', fn: () => { zcrc(crcBytes); } }] : []),
    ];
    await runSuite('.iotrace write and read (2 M records)', tasks);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
