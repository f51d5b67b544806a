import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseJsonlTrace, detectJsonl } from '../../src/trace/importers/jsonl.js';
import { parseCsvTrace, writeCsvTrace, CSV_HEADER } from '../../src/trace/importers/csv.js';
import { InputError } from '../../src/util/errors.js';
import { readFileSync } from 'node:fs';
import { csvToJsonl as toJsonl } from '../setup/traces.js';

const enc = (s: string) => new TextEncoder().encode(s);


describe('JSON Lines traces', () => {
  it('the shipped CSV example and its JSONL twin give identical columns', () => {
    const csv = readFileSync(new URL('../../workloads/examples/nic-rx-ring.csv', import.meta.url), 'utf8');
    const a = parseCsvTrace(enc(csv), 'x.csv');
    const j = toJsonl(writeCsvTrace(a));
    expect(detectJsonl(j)).toBe(true);
    expect(parseJsonlTrace(j, 'x.jsonl')).toEqual(a);
  });
  it('an optional kind field by name: absent or null is data, a name round-trips, an unknown one names the line', () => {
    const j = [
      '{"time_ns":0,"device":"01:00.0","op":"map","iova":"0x1000","size":8192,"paddr":"0x2000"}',
      '{"time_ns":1,"device":"01:00.0","op":"dma","iova":"0x1000","size":64,"dir":"read","kind":"desc"}',
      '{"time_ns":2,"device":"01:00.0","op":"dma","iova":"0x1100","size":1500,"dir":"write","kind":null}',
      '{"time_ns":3,"device":"01:00.0","op":"dma","iova":"0x1800","size":64,"dir":"write","kind":"cqe"}',
      '{"time_ns":4,"device":"01:00.0","op":"dma","iova":"0x1900","size":64,"dir":"read","kind":"doorbell"}',
      '{"time_ns":5,"device":"01:00.0","op":"dma","iova":"0x2000","size":66,"dir":"read","kind":"ack"}',
      '{"time_ns":6,"device":"01:00.0","op":"dma","iova":"0x1100","size":64,"dir":"write","kind":"data"}',
    ].join('\n') + '\n';
    const t = parseJsonlTrace(j, 'k.jsonl');
    expect(Array.from(t.kind)).toEqual([0, 1, 0, 2, 3, 4, 0]);
    // JSONL → columns → CSV (with kind) → JSONL → the same columns
    expect(parseJsonlTrace(toJsonl(writeCsvTrace(t)), 'k2.jsonl')).toEqual(t);
    expect(parseCsvTrace(enc(writeCsvTrace(t)), 'k.csv')).toEqual(t);
    const bad = '{"time_ns":0,"device":"01:00.0","op":"dma","iova":"0x1000","size":64,"dir":"read"}\n\n{"time_ns":1,"device":"01:00.0","op":"dma","iova":"0x1000","size":64,"dir":"read","kind":"irq"}\n';
    expect(() => parseJsonlTrace(bad, 'b.jsonl')).toThrow(/^b\.jsonl:3: unknown kind 'irq'; use one of data, desc, cqe, doorbell, ack/);
  });
  it('errors name the JSONL line, not the CSV one', () => {
    const j = '{"time_ns":0,"device":"01:00.0","op":"map","iova":"0x1000","size":4096,"paddr":"0x2000"}\n\n\n{"time_ns":1,"device":"01:00.0","op":"zap","iova":"0x1000","size":64}\n';
    expect(() => parseJsonlTrace(j, 'e.jsonl')).toThrow(/^e\.jsonl:4: unknown op 'zap'/);
    expect(() => parseJsonlTrace('{"time_ns":0,"op":"dma","iova":4096}\n', 'n.jsonl')).toThrow(/n\.jsonl:1: "iova" is a JSON number; give it as a hex string/);
    expect(() => parseJsonlTrace('{"time_ns":0, "op":"dma", "colour":1}\n', 'u.jsonl')).toThrow(/u\.jsonl:1: unknown field "colour"/);
    expect(() => parseJsonlTrace('{"time_ns":0,\n', 'b.jsonl')).toThrow(/b\.jsonl:1: not a JSON object/);
  });
});

describe('CSV traces: corrupted input never crashes', () => {
  it('random byte mutations of a valid trace parse or fail with one InputError naming the file', () => {
    const base = readFileSync(new URL('../../workloads/examples/nic-rx-ring.csv', import.meta.url)).subarray(0, 3000);
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (muts) => {
      const b = Uint8Array.from(base);
      for (const [at, v] of muts) b[at] = v;
      try { parseCsvTrace(b, 'm.csv'); } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).toMatch(/^m\.csv(:\d+)?: /);
        expect((e as Error).message).not.toContain('\n');
      }
    }), { numRuns: 300, seed: 11 });
  });
  it('cut at every line boundary and mid-line: a shorter valid trace or one clear error', () => {
    const text = `${CSV_HEADER}\n0,01:00.0,,map,0x1000,4096,,0x2000\n5,01:00.0,,dma,0x1010,64,write,\n9,01:00.0,,unmap,0x1000,4096,,\n`;
    for (let cut = 0; cut <= text.length; cut++) {
      try { parseCsvTrace(enc(text.slice(0, cut)), 'c.csv'); } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).toMatch(/^c\.csv/);
      }
    }
  });
});
