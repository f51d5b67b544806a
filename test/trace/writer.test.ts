/**
 * Trace output written in pieces (src/trace/writer.ts) and the pciebench generator producing its
 * rows a chunk at a time: the bytes are those of the whole-buffer writers (writeCsvTrace,
 * writeIotrace), and nothing holds the whole output.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { CsvTraceWriter, CSV_CHUNK_BYTES, writeTraceFile, type ByteSink } from '../../src/trace/writer.js';
import { writeCsvTrace, parseCsvTrace } from '../../src/trace/importers/csv.js';
import { writeIotrace } from '../../src/trace/iotrace.js';
import { pciebenchChunks, pciebenchTrace } from '../../src/run/generators/pciebench.js';
import { allocColumns, OP_DMA, OP_MAP, OP_UNMAP, OP_INV, SIZE_ALL, type TraceColumns } from '../../src/trace/columns.js';
import { buildConfig } from '../../src/config/config.js';
import { tempDir } from '../setup/tmp.js';

const dir = tempDir('iommusim-writer-');

/** A sink that keeps every write, to count them and join them. */
class Recorder implements ByteSink {
  writes: Uint8Array[] = [];
  closed = false;
  write(b: Uint8Array): void { this.writes.push(b.slice()); }
  close(): void { this.closed = true; }
  text(): string { return Buffer.concat(this.writes).toString('utf8'); }
}

function csvInPieces(t: TraceColumns, slice: number): Recorder {
  const rec = new Recorder();
  const w = new CsvTraceWriter('mem.csv', rec);
  for (let s = 0; s < t.count; s += slice) {
    const e = Math.min(t.count, s + slice);
    const v = allocColumns(0, t.devices);
    for (const k of ['timeNs', 'device', 'pasid', 'op', 'iovaHi', 'iovaLo', 'size', 'dir', 'paddrHi', 'paddrLo'] as const) {
      (v as unknown as Record<string, unknown>)[k] = t[k].subarray(s, e);
    }
    v.count = e - s;
    w.append(v);
  }
  w.close();
  expect(rec.closed).toBe(true);
  return rec;
}

const cfg = (count: number) => buildConfig([['workload.kind', 'pciebench'], ['workload.count', count], ['workload.size', 256], ['workload.seed', 7]]);

describe('CsvTraceWriter', () => {
  it('a 200 000-row trace goes out in several writes of at most ~1 MiB, and the bytes are writeCsvTrace\'s', () => {
    const t = pciebenchTrace(cfg(200_000));
    const whole = writeCsvTrace(t);
    const rec = csvInPieces(t, 65_536);
    expect(whole.length).toBeGreaterThan(4 * CSV_CHUNK_BYTES);
    expect(rec.writes.length).toBeGreaterThanOrEqual(Math.floor(whole.length / (CSV_CHUNK_BYTES + 256)));
    for (const b of rec.writes) expect(b.length).toBeLessThanOrEqual(CSV_CHUNK_BYTES + 256);
    expect(rec.text()).toBe(whole);
  });

  it('every kind of row, any slicing: the same text as writeCsvTrace (property)', () => {
    const row = fc.record({
      op: fc.constantFrom(OP_DMA, OP_MAP, OP_UNMAP, OP_INV),
      dev: fc.nat(2),
      pasid: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 0xfffff })),
      iovaHi: fc.oneof(fc.constant(0), fc.nat({ max: 0xffffffff })),
      iovaLo: fc.nat({ max: 0xffffffff }),
      size: fc.oneof(fc.integer({ min: 1, max: 1 << 30 }), fc.constant(SIZE_ALL), fc.double({ min: 0.5, max: 1e22, noNaN: true })),
      dir: fc.nat(4),
      paddrHi: fc.nat({ max: 0xffffff }),
      paddrLo: fc.nat({ max: 0xffffffff }),
      dt: fc.oneof(fc.nat(1000), fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constant(2 ** 53 + 2)),
    });
    fc.assert(fc.property(fc.array(row, { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (rows, slice) => {
      const t = allocColumns(rows.length, ['0000:01:00.0', '0000:3b:00.0', '*']);
      let time = 0;
      rows.forEach((r, i) => {
        time += r.dt;
        t.timeNs[i] = time; t.device[i] = r.dev; t.pasid[i] = r.pasid; t.op[i] = r.op;
        t.iovaHi[i] = r.iovaHi; t.iovaLo[i] = r.iovaLo; t.size[i] = r.op === OP_INV ? r.size : (r.size === SIZE_ALL ? 1 : r.size);
        t.dir[i] = r.op === OP_INV ? r.dir : r.dir & 3; t.paddrHi[i] = r.paddrHi; t.paddrLo[i] = r.paddrLo;
      });
      t.count = rows.length;
      expect(csvInPieces(t, slice).text()).toBe(writeCsvTrace(t));
    }));
  });

  it('writeTraceFile: .csv and .iotrace files byte-identical to the whole-buffer writers; the CSV parses back', () => {
    const t = pciebenchTrace(cfg(70_000));
    writeTraceFile(t, join(dir, 'p.csv'), 10_000);
    writeTraceFile(t, join(dir, 'p.iotrace'), 10_000);
    expect(readFileSync(join(dir, 'p.csv'), 'utf8')).toBe(writeCsvTrace(t));
    expect(readFileSync(join(dir, 'p.iotrace')).equals(Buffer.from(writeIotrace(t)))).toBe(true);
    expect(parseCsvTrace(readFileSync(join(dir, 'p.csv')), 'p.csv').count).toBe(70_001);
  });
});

describe('pciebenchChunks', () => {
  it('produces the trace a chunk at a time (never more than chunkRecords rows held), the same rows as pciebenchTrace', () => {
    const c = cfg(150_000);
    const whole = pciebenchTrace(c);
    const sizes: number[] = [];
    const rec = new Recorder();
    const w = new CsvTraceWriter('mem.csv', rec);
    const buffers = new Set<ArrayBufferLike>();
    pciebenchChunks(c, (t) => { sizes.push(t.count); buffers.add(t.timeNs.buffer); w.append(t); }, 40_000);
    w.close();
    expect(sizes).toEqual([40_000, 40_000, 40_000, 30_001]);
    expect(buffers.size).toBe(1); // one set of columns, reused
    expect(rec.text()).toBe(writeCsvTrace(whole));
  });
});
