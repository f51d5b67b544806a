import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listAnchors, runAnchor, loadAnchor } from '../../src/validate/validate.js';
import { windowSweep } from '../../src/validate/windows.js';
import { sizeSweep } from '../../src/validate/sizes.js';
import { findKnob } from '../../src/config/schema.js';
import { tempDir } from '../setup/tmp.js';

const anchors = listAnchors();

describe('validation anchors', () => {
  it('every scenario uses public configuration keys only', () => {
    for (const a of anchors) {
      for (const k of [...Object.keys(a.settings), ...Object.keys(a.minus ?? {})]) {
        expect(findKnob(k), `${a.file}: ${k}`).toBeDefined();
      }
    }
  });
  it('no model source special-cases an anchor (no anchor name or validation path in src/ outside validate and cli)', () => {
    const root = fileURLToPath(new URL('../../src/', import.meta.url));
    const files: string[] = [];
    const walk = (d: string) => { for (const f of readdirSync(d)) { const p = join(d, f); if (statSync(p).isDirectory()) { if (!['validate', 'cli'].includes(f)) walk(p); } else if (p.endsWith('.ts')) files.push(p); } };
    walk(root);
    const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const a of anchors) expect(text.includes(a.name), a.name).toBe(false);
    expect(text.includes('workloads/validation')).toBe(false);
  });
  for (const a of anchors.filter((x) => x.fast)) {
    it(`fast anchor ${a.name}: within its published tolerance`, () => {
      const r = runAnchor(a);
      expect(r.pass, `${a.name}: simulated ${r.simulated} ${a.unit} vs published ${r.published}`).toBe(true);
    });
  }
  it('a malformed anchor is one error naming the file', () => {
    const d = tempDir('iommusim-anchor-');
    const f = join(d, 'x.yaml');
    writeFileSync(f, 'name: x\ndescription: d\nsource: s\nunit: ns\nmetric: latencyNs.p50\ngenerator: pciebench\npublished: 5\n');
    expect(() => loadAnchor(f)).toThrow(/x\.yaml: tolerance is missing/);
    writeFileSync(f, 'name: x\ncolour: red\n');
    expect(() => loadAnchor(f)).toThrow(/x\.yaml: unknown field 'colour'/);
  });
});

describe('validation report', () => {
  it('writes model-vs-measured PNG charts and a self-contained, escaped report.html', async () => {
    const { writeValidationReport } = await import('../../src/validate/report.js');
    const rs = anchors.filter((a) => a.fast || a.notModelled || /^pciebench-(read|write)-(64|512)$/.test(a.name)).map(runAnchor);
    rs.push({ ...rs[0], name: '<img src=x onerror=alert(1)>', source: '</table><script>x()</script>' });
    const d = tempDir('iommusim-valrep-');
    const files = await writeValidationReport(rs, d);
    const pngs = files.filter((f) => f.endsWith('.png'));
    expect(pngs.map((f) => f.split('/').pop()).sort()).toEqual(['anchor-error.png', 'bandwidth-vs-size.png']);
    for (const f of pngs) {
      const b = readFileSync(f);
      expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(b.readUInt32BE(16)).toBe(1000); // IHDR width
      expect(b.length).toBeGreaterThan(10_000); // drawn, not blank
    }
    const html = readFileSync(join(d, 'report.html'), 'utf8');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<script>x()');
    expect(html).toMatch(/not modelled/);
    expect(html.match(/<img /g)!.length).toBe(2); // the two charts, inline, offline
  });
});

describe('the IOTLB\'s reach (validate --out): 64 B DMA rate vs window', () => {
  const windows = [16384, 262144, 1048576, 4194304, 67108864];
  const sweep = windowSweep(6000, windows);
  const at = (op: string, mode: string, w: number) => sweep.series.find((s) => s.op === op && s.mode === mode)!.mps[windows.indexOf(w)]!;
  it('with 4 KiB pages the knee sits at the IOTLB\'s reach (64 × 4 KiB): flat up to it, far below past it', () => {
    expect(sweep.iotlbReachBytes).toBe(262144);
    for (const op of ['read', 'write']) {
      for (const w of [16384, 262144]) expect(at(op, '4k', w)).toBeGreaterThan(0.95 * at(op, 'off', w));
      for (const w of [1048576, 4194304, 67108864]) expect(at(op, '4k', w)).toBeLessThan(0.65 * at(op, 'off', w));
    }
  });
  it('superpages keep the curve flat', () => {
    for (const op of ['read', 'write']) for (const w of windows) expect(at(op, 'superpages', w)).toBeGreaterThan(0.97 * at(op, 'off', w));
  });
  it('past the reach the model is within 15 % of pcie-bench\'s measured Broadwell curve', () => {
    for (const op of ['read', 'write']) for (const w of [4194304, 67108864]) {
      const m = at(op, 'measured-4k', w);
      expect(Math.abs(at(op, '4k', w) / m - 1)).toBeLessThan(0.15);
    }
  });
  it('the report draws it for reads and writes', async () => {
    const { writeValidationReport } = await import('../../src/validate/report.js');
    const d = tempDir('iommusim-valwin-');
    const files = await writeValidationReport([], d, sweep);
    expect(files.map((f) => f.split('/').pop()).filter((f) => f!.endsWith('.png')).sort()).toEqual(['anchor-error.png', 'window-read.png', 'window-write.png']);
    expect(JSON.parse(readFileSync(join(d, 'validation.json'), 'utf8')).windowSweep.series.length).toBe(8);
  });
});

describe('transfer-size curves (validate --out): bandwidth and latency vs size, model beside pcie-bench', () => {
  const sizes = [64, 65, 128, 256, 2048], lat = [64, 2048];
  const sweep = sizeSweep(4000, 300, sizes, lat);
  const bw = (op: string, kind: string, size: number) => sweep.bandwidth.find((x) => x.op === op && x.kind === kind)!.values[sizes.indexOf(size)]!;
  const ns = (op: string, kind: string, size: number) => sweep.latency.find((x) => x.op === op && x.kind === kind)!.values[lat.indexOf(size)]!;
  it('the measured points are pcie-bench\'s (65 B reads 21.9 Gb/s, 2 KiB read 1,133 ns, write-then-read 773 ns)', () => {
    expect(bw('read', 'measured', 65)).toBe(21.89);
    expect(bw('write', 'measured', 256)).toBe(50.49);
    expect(ns('read', 'measured', 2048)).toBe(1133.3);
    expect(ns('wrrd', 'measured', 64)).toBe(773.3);
  });
  it('the model is within 10 % of them at 65, 128 and 256 B and at 2 KiB; a write then a read is short of them (the NFP\'s write path)', () => {
    for (const op of ['read', 'write']) for (const size of [128, 256, 2048]) expect(Math.abs(bw(op, 'model', size) / bw(op, 'measured', size) - 1), `${op} ${size}`).toBeLessThan(0.1);
    expect(Math.abs(bw('read', 'model', 65) / bw('read', 'measured', 65) - 1)).toBeLessThan(0.1);
    expect(Math.abs(ns('read', 'model', 2048) / ns('read', 'measured', 2048) - 1)).toBeLessThan(0.1);
    expect(ns('wrrd', 'model', 64)).toBeLessThan(ns('wrrd', 'measured', 64));
    expect(ns('wrrd', 'model', 64)).toBeGreaterThan(ns('read', 'model', 64));
  });
  it('the report draws both curves and keeps the sweep in validation.json', async () => {
    const { writeValidationReport } = await import('../../src/validate/report.js');
    const d = tempDir('iommusim-valsize-');
    const files = await writeValidationReport([], d, undefined, sweep);
    expect(files.map((f) => f.split('/').pop()).filter((f) => f!.endsWith('.png')).sort()).toEqual(['anchor-error.png', 'bandwidth-vs-size.png', 'latency-vs-size.png']);
    for (const f of files.filter((x) => x.endsWith('-vs-size.png'))) expect(readFileSync(f).length).toBeGreaterThan(10_000);
    const json = JSON.parse(readFileSync(join(d, 'validation.json'), 'utf8'));
    expect(json.sizeSweep.sizes).toEqual(sizes);
    expect(json.sizeSweep.latency.length).toBe(4);
  });
});
