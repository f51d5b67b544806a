import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseJsonlTrace, detectJsonl } from '../../src/trace/importers/jsonl.js';
import { parseCsvTrace, writeCsvTrace, CSV_HEADER } from '../../src/trace/importers/csv.js';
import { InputError } from '../../src/util/errors.js';
import { readFileSync } from 'node:fs';

const enc = (s: string) => new TextEncoder().encode(s);

/** CSV text → the same records as JSON Lines. */
function toJsonl(csv: string): string {
  const [head, ...rows] = csv.trim().split('\n');
  const keys = head.split(',');
  return rows.map((r) => {
    const o: Record<string, string | number> = {};
    r.split(',').forEach((v, k) => { if (v !== '') o[keys[k]] = ['time_ns', 'size', 'pasid'].includes(keys[k]) ? Number(v) : v; });
    return JSON.stringify(o);
  }).join('\n') + '\n';
}

describe('JSON Lines traces', () => {
  it('the shipped CSV example and its JSONL twin give identical columns', () => {
    const csv = readFileSync(new URL('../../workloads/examples/nic-rx-ring.csv', import.meta.url), 'utf8');
    const a = parseCsvTrace(enc(csv), 'x.csv');
    const j = toJsonl(writeCsvTrace(a));
    expect(detectJsonl(j)).toBe(true);
    expect(parseJsonlTrace(j, 'x.jsonl')).toEqual(a);
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
