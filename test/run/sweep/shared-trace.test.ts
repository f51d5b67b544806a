import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shareColumns, sharedColumns, TraceShares } from '../../../src/run/sweep/shared-trace.js';
import { TraceBuilder, OP_DMA, OP_MAP, DIR_READ, DIR_WRITE, DIR_RW, KIND_ACK, KIND_CQE, KIND_DESC, KIND_DOORBELL } from '../../../src/trace/columns.js';
import { writeCsvTrace } from '../../../src/trace/importers/csv.js';
import { writeIotrace } from '../../../src/trace/iotrace.js';
import { buildConfig } from '../../../src/config/config.js';

function trace() {
  const b = new TraceBuilder(4);
  const d = b.deviceIndex('0000:03:00.0');
  b.pushAddr(0, d, -1, OP_MAP, 0x10000, 65536, DIR_RW, 0x200000);
  b.pushAddr(1, d, -1, OP_DMA, 0x10000, 64, DIR_READ, 0, KIND_DESC);
  b.pushAddr(2, d, -1, OP_DMA, 0x11000, 1500, DIR_WRITE, 0);
  b.pushAddr(3, d, -1, OP_DMA, 0x12000, 64, DIR_WRITE, 0, KIND_CQE);
  b.pushAddr(4, d, -1, OP_DMA, 0x13000, 64, DIR_READ, 0, KIND_DOORBELL);
  b.pushAddr(5, d, -1, OP_DMA, 0x14000, 66, DIR_READ, 0, KIND_ACK);
  return b.finish();
}

describe('shared trace columns carry the kind column', () => {
  it('shareColumns → sharedColumns keeps every kind, in a SharedArrayBuffer', () => {
    const t = trace();
    const s = shareColumns(t, 'csv', 'x.csv');
    const v = sharedColumns(s);
    expect(v.kind.buffer).toBe(s.buf);
    expect(Array.from(v.kind)).toEqual([0, 1, 0, 2, 3, 4]);
    expect(v).toEqual({ ...t, kind: v.kind, timeNs: v.timeNs, device: v.device, pasid: v.pasid, op: v.op, iovaHi: v.iovaHi, iovaLo: v.iovaLo, size: v.size, dir: v.dir, paddrHi: v.paddrHi, paddrLo: v.paddrLo });
  });
  it('TraceShares parses CSV and .iotrace files with kinds into shared columns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shared-kinds-'));
    try {
      const t = trace();
      writeFileSync(join(dir, 'k.csv'), writeCsvTrace(t));
      writeFileSync(join(dir, 'k.iotrace'), writeIotrace(t));
      const shares = new TraceShares();
      const cfg = buildConfig([]);
      for (const f of ['k.csv', 'k.iotrace']) {
        const r = shares.trace(join(dir, f), 'auto', cfg);
        if (!('trace' in r) || r.trace.kind !== 'columns') throw new Error(`no shared columns for ${f}`);
        expect(Array.from(sharedColumns(r.trace).kind)).toEqual([0, 1, 0, 2, 3, 4]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
