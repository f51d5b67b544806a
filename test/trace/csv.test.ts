import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseCsvTrace, parseCsvTraceLineByLine, writeCsvTrace, detectCsv, CSV_HEADER, CSV_HEADER_KIND } from '../../src/trace/importers/csv.js';
import { DMA_KINDS } from '../../src/trace/columns.js';
import { OP_MAP, OP_DMA, OP_INV, DIR_RW, DIR_WRITE, INV_GLOBAL, SIZE_ALL, pageOf } from '../../src/trace/columns.js';
import { InputError } from '../../src/util/errors.js';

const enc = (s: string) => new TextEncoder().encode(s);
const parse = (body: string, opts = {}) => parseCsvTrace(enc(`${CSV_HEADER}\n${body}`), 't.csv', opts);

describe('CSV trace format', () => {
  it('parses every field, keeps 64-bit addresses exact', () => {
    const t = parse([
      '# a comment',
      '0,0000:01:00.0,,map,0xfedcba9876543000,8192,,0x123456789abc000',
      '',
      '5.5,01:00.0,17,dma,0xfedcba9876543010,100,write,',
      '6,*,,inv:global,,,,',
    ].join('\r\n'));
    expect(t.count).toBe(3);
    expect(t.devices).toEqual(['0000:01:00.0', '*']);
    expect(t.op[0]).toBe(OP_MAP);
    expect(t.iovaHi[0]).toBe(0xfedcba98);
    expect(t.iovaLo[0]).toBe(0x76543000);
    expect(t.paddrHi[0]).toBe(0x1234567);
    expect(t.paddrLo[0]).toBe(0x89abc000);
    expect(t.dir[0]).toBe(DIR_RW);
    expect(t.op[1]).toBe(OP_DMA);
    expect(t.timeNs[1]).toBe(5.5);
    expect(t.pasid[1]).toBe(17);
    expect(t.pasid[0]).toBe(-1);
    expect(t.dir[1]).toBe(DIR_WRITE);
    expect(t.op[2]).toBe(OP_INV);
    expect(t.dir[2]).toBe(INV_GLOBAL);
    expect(t.size[2]).toBe(SIZE_ALL);
    expect(pageOf(t.iovaHi[0], t.iovaLo[0])).toBe(0xfedcba9876543);
  });

  it('round-trips: write → read is identical (property)', () => {
    const hex = fc.bigInt({ min: 0n, max: (1n << 57n) - 1n });
    const rec = fc.record({
      dt: fc.integer({ min: 0, max: 1000 }),
      dev: fc.constantFrom('0000:01:00.0', '0000:03:00.1', '0001:af:1f.7'),
      pasid: fc.option(fc.integer({ min: 0, max: 0xfffff }), { nil: undefined }),
      kind: fc.constantFrom('dma-read', 'dma-write', 'map', 'unmap', 'inv'),
      iova: hex, pa: hex, pages: fc.integer({ min: 1, max: 64 }), bytes: fc.integer({ min: 1, max: 100000 }),
    });
    fc.assert(fc.property(fc.array(rec, { maxLength: 60 }), (rows) => {
      let t = 0;
      const lines = rows.map((r) => {
        t += r.dt;
        const p = r.pasid === undefined ? '' : String(r.pasid);
        const iova = '0x' + r.iova.toString(16);
        const pageIova = '0x' + ((r.iova >> 12n) << 12n).toString(16);
        const pa = '0x' + ((r.pa >> 12n) << 12n).toString(16);
        switch (r.kind) {
          case 'dma-read': return `${t},${r.dev},${p},dma,${iova},${r.bytes},read,`;
          case 'dma-write': return `${t},${r.dev},${p},dma,${iova},${r.bytes},write,`;
          case 'map': return `${t},${r.dev},${p},map,${pageIova},${r.pages * 4096},,${pa}`;
          case 'unmap': return `${t},${r.dev},${p},unmap,${iova},${r.bytes},,`;
          default: return `${t},${r.dev},${p},inv,${pageIova},4096,,`;
        }
      });
      const text = `${CSV_HEADER}\n${lines.join('\n')}\n`;
      const a = parseCsvTrace(enc(text), 'a.csv');
      const again = writeCsvTrace(a);
      const b = parseCsvTrace(enc(again), 'b.csv');
      expect(b).toEqual(a);
      expect(writeCsvTrace(b)).toBe(again);
    }), { numRuns: 100, seed: 7 });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['malformed line (too few fields)', '0,01:00.0,,dma,0x1000,64', /t\.csv:2: 6 fields where 8 are expected/],
    ['unknown op', '0,01:00.0,,read,0x1000,64,read,', /t\.csv:2: unknown op 'read'; use dma, map/],
    ['size 0', '0,01:00.0,,dma,0x1000,0,read,', /t\.csv:2: size is 0/],
    ['bad hex', '0,01:00.0,,dma,1000,64,read,', /t\.csv:2: iova '1000' is not a hex address; write it with 0x/],
    ['bad device', '0,01:20.0,,dma,0x1000,64,read,', /t\.csv:2: device '01:20.0' is not a PCI address/],
    ['bad dir', '0,01:00.0,,dma,0x1000,64,rd,', /t\.csv:2: dir 'rd' on a dma/],
    ['time going backwards', '5,01:00.0,,dma,0x1000,64,read,\n4,01:00.0,,dma,0x1000,64,read,', /t\.csv:3: time_ns 4 is before/],
    ['map offsets differ', '0,01:00.0,,map,0x1010,4096,,0x2000', /t\.csv:2: map iova and paddr have different offsets within their 4 KiB pages/],
    ['pasid too wide', '0,01:00.0,1048576,dma,0x1000,64,read,', /t\.csv:2: pasid 1048576 is above/],
    ['too wide address', '0,01:00.0,,dma,0x12345678901234567,64,read,', /wider than 64 bits/],
  ];
  for (const [what, line, re] of bad) {
    it(`error: ${what}`, () => {
      let err: unknown;
      try { parse(line); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain('\n');
    });
  }
  it('error: iova beyond the address width on a map names the line', () => {
    expect(() => parse('0,01:00.0,,map,0x1000000000000,4096,,0x1000', { addressBits: 48 })).toThrow(/t\.csv:2: iova 0x1000000000000 \+ size 4096 is beyond the 48-bit address width; use iommu\.levels=5/);
  });
  it('error: no header', () => {
    expect(() => parseCsvTrace(enc('0,01:00.0,,dma,0x1000,64,read,\n'), 'x.csv')).toThrow(/x\.csv:1: the header is/);
  });
});

describe('CSV traces: the optional kind column', () => {
  const body = [
    '0,01:00.0,,map,0x1000,8192,,0x2000,data',
    '5,01:00.0,,dma,0x1010,64,read,,desc',
    '6,01:00.0,,dma,0x1100,1500,write,,',
    '7,01:00.0,,dma,0x1800,64,write,,cqe',
    '8,01:00.0,,dma,0x1900,64,read,,doorbell',
    '9,01:00.0,,dma,0x2000,66,read,,ack',
    '10,01:00.0,,unmap,0x1000,8192,,,',
  ];
  it('names map to DMA_KINDS values; empty is data; no column is data everywhere', () => {
    const text = `${CSV_HEADER_KIND}\n${body.join('\n')}\n`;
    expect(detectCsv(text)).toBe(true);
    const t = parseCsvTrace(enc(text), 'k.csv');
    expect(Array.from(t.kind)).toEqual([0, 1, 0, 2, 3, 4, 0]);
    const plain = parse('0,01:00.0,,dma,0x1000,64,read,\n1,01:00.0,,dma,0x1000,64,write,');
    expect(Array.from(plain.kind)).toEqual([0, 0]);
  });
  it('round trip: writeCsvTrace writes the column (by name) only when a row is not data', () => {
    const t = parseCsvTrace(enc(`${CSV_HEADER_KIND}\n${body.join('\n')}\n`), 'k.csv');
    const out = writeCsvTrace(t);
    expect(out.split('\n')[0]).toBe(CSV_HEADER_KIND);
    expect(out.split('\n')[2]).toBe('5,0000:01:00.0,,dma,0x1010,64,read,,desc');
    const back = parseCsvTrace(enc(out), 'k2.csv');
    expect(back).toEqual(t);
    const plain = parse('0,01:00.0,,dma,0x1000,64,read,');
    expect(writeCsvTrace(plain).split('\n')[0]).toBe(CSV_HEADER);
    // every kind, property-style over random rows
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: DMA_KINDS.length - 1 }), fc.boolean()), { minLength: 1, maxLength: 50 }), (rs) => {
      const text = CSV_HEADER_KIND + '\n' + rs.map(([k, w], i) => `${i},01:00.0,,dma,0x${(0x1000 + i * 64).toString(16)},64,${w ? 'write' : 'read'},,${DMA_KINDS[k]}`).join('\n') + '\n';
      const a = parseCsvTrace(enc(text), 'p.csv');
      expect(Array.from(a.kind)).toEqual(rs.map(([k]) => k));
      expect(parseCsvTrace(enc(writeCsvTrace(a)), 'q.csv')).toEqual(a);
    }), { numRuns: 50, seed: 3 });
  });
  it('an unknown kind name is one line naming file:line and the valid names', () => {
    const text = `${CSV_HEADER_KIND}\n0,01:00.0,,dma,0x1000,64,read,,data\n1,01:00.0,,dma,0x1000,64,read,,descriptor\n`;
    let err: unknown;
    try { parseCsvTrace(enc(text), 'u.csv'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe("u.csv:3: unknown kind 'descriptor'; use one of data, desc, cqe, doorbell, ack (or leave it empty: data)");
    expect(() => parseCsvTrace(enc(`${CSV_HEADER_KIND}\n0,01:00.0,,dma,0x1000,64,read,\n`), 'f.csv')).toThrow(/f\.csv:2: 8 fields where 9 are expected/);
    expect(() => parse('0,01:00.0,,dma,0x1000,64,read,,desc')).toThrow(/t\.csv:2: more than 8 fields/);
  });
});

describe('CSV traces: the fast path reads what the line-by-line parser reads', () => {
  /** Both parsers on the same bytes: equal columns, or the same error. */
  const both = (text: string, opts: { addressBits?: number }): void => {
    const bytes = enc(text);
    let a: unknown, b: unknown, ea: unknown, eb: unknown;
    try { a = parseCsvTrace(bytes, 'p.csv', opts); } catch (e) { ea = e; }
    try { b = parseCsvTraceLineByLine(bytes, 'p.csv', opts); } catch (e) { eb = e; }
    if (eb !== undefined || ea !== undefined) {
      expect(ea, `fast path: ${String(a && 'no error')}`).toBeInstanceOf(InputError);
      expect((ea as Error).message).toBe((eb as Error).message);
    } else {
      expect(a).toEqual(b);
    }
  };
  // each field mostly well formed, sometimes in another form the format allows, sometimes wrong
  const pick = <T>(good: T[], odd: T[]) => fc.oneof({ arbitrary: fc.constantFrom(...good), weight: 60 }, { arbitrary: fc.constantFrom(...odd), weight: 1 });
  const hexA = fc.bigInt({ min: 0n, max: (1n << 50n) - 1n }).map((v) => v * 4096n);
  const field = {
    dt: pick([0, 1, 7, 100], [-1, 0.5]),
    dev: pick(['0000:01:00.0', '01:00.0', '0000:03:00.1', '0001:af:1f.7'], [' 01:00.0', '01:20.0', '*', 'zz', '01:00.0 ', '']),
    pasid: pick(['', '', '17', '1048575'], ['1048576', '12345678', ' 3', 'x', '-1']),
    op: pick(['dma', 'dma', 'map', 'unmap'], ['inv', 'inv:pwc', 'inv:global', 'read', 'DMA', 'unmap ', '']),
    iovaPrefix: pick(['0x'], ['0X', '', ' 0x', '0x0000000']),
    off: pick([0, 0x10, 0xfff], [0x800]),
    size: pick(['64', '4096', '1514', '8192', '65536'], ['0', '', '1e3', '1234567890123456', '0064', ' 64']),
    dir: pick(['', 'read', 'write'], ['rw', 'rd', 'read ', 'Write']),
    kind: pick(['', 'data', 'desc', 'ack', 'cqe', 'doorbell'], ['acks', 'x', ' data']),
    end: pick(['\n'], ['\r\n', '\n\n', '\n# c\n', ',\n', ',x\n']),
  };
  const row = fc.record({
    dt: field.dt, dev: field.dev, pasid: field.pasid, op: field.op, pre: field.iovaPrefix, iova: hexA, off: field.off,
    size: field.size, dir: field.dir, pa: hexA, paOff: field.off, kind: field.kind, end: field.end, upper: fc.boolean(),
  });
  it('on random traces with odd and damaged lines (property)', () => {
    fc.assert(fc.property(fc.array(row, { maxLength: 40 }), fc.boolean(), fc.constantFrom(undefined, 39, 48), fc.boolean(), (rows, withKind, bits, lastNewline) => {
      let t = 0;
      let text = (withKind ? CSV_HEADER_KIND : CSV_HEADER) + '\n';
      for (const r of rows) {
        t += r.dt;
        let iova = r.pre + (r.iova + BigInt(r.off)).toString(16);
        if (r.upper) iova = iova.toUpperCase().replace('0X', '0x');
        const dir = r.op === 'dma' && r.dir === '' ? 'read' : r.op === 'unmap' && (r.dir === 'read' || r.dir === 'write') ? '' : r.dir;
        const paddr = r.op === 'map' ? '0x' + (r.pa + BigInt(r.paOff)).toString(16) : '';
        text += `${t},${r.dev},${r.pasid},${r.op},${iova},${r.size},${dir},${paddr}${withKind ? ',' + r.kind : ''}${r.end}`;
      }
      if (!lastNewline) text = text.replace(/\r?\n$/, '');
      both(text, { addressBits: bits });
    }), { numRuns: 400, seed: 17 });
  });
  it('on the cases the fast path sends on: a new device, a trace without its last newline, many devices', () => {
    const lines = [CSV_HEADER];
    for (let i = 0; i < 200; i++) lines.push(`${i},0000:${(i % 100).toString(16).padStart(2, '0')}:00.0,,dma,0x${(4096 * i).toString(16)},64,read,`);
    both(lines.join('\n'), {});
    both(lines.join('\r\n') + '\r\n', {});
    both(`${CSV_HEADER}\n0,01:00.0,,map,0x1000,4096,,0x2000\n1,01:00.0,,dma,0x1000,64,read,\n2,01:00.0,,dma,0x1000,64,write,`, {});
    both(`${CSV_HEADER}\n0,01:00.0,,map,0x1000,4096,,0x2000\n1,01:00.0,,dma,0x1000,64,read,\n0,01:00.0,,dma,0x1000,64,write,\n`, {});
    both(`${CSV_HEADER}\n0,01:00.0,,map,0x1000,4096,,0x2000\n1,01:00.0,,map,0xfffffffff000,8192,,0x2000\n`, { addressBits: 48 });
  });
});
