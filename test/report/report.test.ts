import { describe, it, expect, beforeAll } from 'vitest';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { loadResults, writeReport, toReportInput, type ReportInput } from '../../src/report/report.js';
import { buildCharts, type ChartSpec } from '../../src/report/charts.js';
import { renderCsv, csvField } from '../../src/report/csv.js';
import { renderMarkdown, mdCell } from '../../src/report/markdown.js';
import { renderHtml, jsonForScript, escapeHtml } from '../../src/report/html.js';
import { renderPng } from '../../src/report/png.js';
import { isInputError } from '../../src/util/errors.js';
import { shippedSweep, IO_PATHS_CHARTS, IOTLB_SIZE_CHARTS } from './shipped-sweeps.js';
import { tempDir } from '../setup/tmp.js';

const EVIL = '<img src=x onerror=alert(1)>';
const BREAKOUT = '</script><script>alert(2)</script>';

/** A hand-made RunResult (only the fields reporters read). */
function run(size: number, over: { name?: string; device?: string; tput?: number; hitRate?: number } = {}): unknown {
  const requests = 100;
  const bytes = requests * size;
  return {
    schema: 'iommusim.result/1',
    iommusim: '0.1.0',
    config: { platform: 'test-plat', seed: 1, workload: { kind: 'pciebench', size, count: requests }, iommu: { mode: 'strict' } },
    workload: { name: over.name ?? 'unit-sweep', source: 'generator:unit', format: 'generator', records: requests, devices: [over.device ?? '0000:03:00.0'], ops: { dma: requests }, timeSpanNs: 0 },
    metrics: {
      translations: requests,
      iotlb: { lookups: 100, hits: Math.round((over.hitRate ?? 0.5) * 100), misses: 100 - Math.round((over.hitRate ?? 0.5) * 100), hitRate: over.hitRate ?? 0.5, mergedMisses: 0 },
      walks: { count: 50, memReads: 200, nestedS2Reads: 0, readsPerWalk: 4 },
      invalidations: { iotlb: 3, wait: 3 },
      faults: { count: 0, byReason: {}, byCode: {}, first: [] },
      dma: { requests, bytes, reads: requests, writes: 0, pieces: requests, dropped: 0 },
      simulatedTimeNs: 1000,
      throughputGbps: over.tput ?? size / 10,
      requestsPerSec: 1e8,
      latencyNs: { count: requests, mean: 600, min: 500, p50: 550, p90: 700, p99: 900, max: 1200 },
      latencyCdfNs: [[550, 0.5], [700, 0.9], [900, 0.99], [1200, 1]],
      pcie: { upGbps: 1, downGbps: 2, upUtilisation: 0.1, downUtilisation: 0.2 },
      devices: [{ device: over.device ?? '0000:03:00.0', requests, bytes, dropped: 0, throughputGbps: 1 }],
    },
  };
}

function mode(name: string, tput: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mode: name, description: `${name} path`, throughputGbps: tput, packetsPerSec: 1000, bottleneck: 'vCPU',
    offeredGbps: 10, deviceGbps: 9.5, cpuBoundGbps: tput,
    cyclesPerPacket: { guest: 100, host: 200, total: 300, parts: { 'guest.driver': 100, 'host.exit': 200 }, exitsPerPacket: 1 },
    coreUtilisation: { vcpu: 1, backend: 0 }, exitsPerSec: 5000, interruptsPerSec: 2000,
    iotlb: { lookups: 10, hitRate: 0.9, misses: 1, walks: 1, readsPerWalk: 4, mergedMisses: 0 },
    latencyNs: { p50: 400, p99: 800 }, settings: [['iommu.mode', 'strict']], ...extra,
  };
}

function compare(workload = 'nic-unit'): unknown {
  return {
    schema: 'iommusim.compare/1', workload,
    hypervisor: { name: 'kvm', description: 'KVM, hand-made', postedInterrupts: true, eoiVirtualized: true, refuses: {}, userIoExitScale: 1, kernelIoExitScale: 1, notes: [BREAKOUT], sources: [] },
    modes: [mode('passthrough', 9), mode('emulated', 1, { description: EVIL })],
    passthroughOverEmulated: 9,
  };
}

const sweep = (): ReportInput => toReportInput([run(64), run(128), run(256)], 'sweep.json');
const tmp = (): string => tempDir('iommusim-report-');

function pngSize(b: Buffer): { w: number; h: number } {
  expect([...b.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(b.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { w: b.readUInt32BE(16), h: b.readUInt32BE(20) };
}

/** Pixels that are neither white nor grey (text, grid and axes are grey; the data is coloured). */
async function colouredPixels(b: Buffer): Promise<{ nonWhite: number; coloured: number }> {
  const img = await loadImage(b);
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, img.width, img.height).data;
  let nonWhite = 0;
  let coloured = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] !== 255 || d[i + 1] !== 255 || d[i + 2] !== 255) nonWhite++;
    if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) coloured++;
  }
  return { nonWhite, coloured };
}

/** The same chart with every dataset emptied: axes, titles and legend only. */
function emptied(c: ChartSpec): ChartSpec {
  const copy = JSON.parse(JSON.stringify(c)) as ChartSpec;
  for (const d of copy.config.data.datasets) d.data = [];
  return copy;
}

describe('loadResults', () => {
  it('accepts a run, an array of runs and a compare document', () => {
    const d = tmp();
    const files = { one: run(64), many: [run(64), run(128)], cmp: compare() };
    for (const [k, v] of Object.entries(files)) writeFileSync(join(d, `${k}.json`), JSON.stringify(v));
    const one = loadResults(join(d, 'one.json'));
    expect(one.kind).toBe('runs');
    expect(one.kind === 'runs' && one.runs.length).toBe(1);
    const many = loadResults(join(d, 'many.json'));
    expect(many.kind === 'runs' && many.runs.length).toBe(2);
    expect(loadResults(join(d, 'cmp.json')).kind).toBe('compare');
  });

  it('rejects non-iommusim JSON, unknown schema versions and non-JSON with one-line input errors naming the file', () => {
    const d = tmp();
    const cases: Array<[string, string, RegExp]> = [
      ['plain.json', JSON.stringify({ hello: 1 }), /no "schema" field/],
      ['v2.json', JSON.stringify({ ...(run(64) as object), schema: 'iommusim.result/2' }), /unknown schema version iommusim\.result\/2/],
      ['c9.json', JSON.stringify({ ...(compare() as object), schema: 'iommusim.compare/9' }), /unknown schema version iommusim\.compare\/9/],
      ['bad.json', '{not json', /not JSON/],
      ['empty.json', '[]', /empty array/],
      ['mixed.json', JSON.stringify([run(64), { schema: 'other/1' }]), /\[1\]: schema other\/1 is not a run result/],
    ];
    for (const [name, text, re] of cases) {
      const p = join(d, name);
      writeFileSync(p, text);
      let err: unknown;
      try { loadResults(p); } catch (e) { err = e; }
      expect(isInputError(err), name).toBe(true);
      const msg = (err as Error).message;
      expect(msg).toMatch(re);
      expect(msg).toContain(p);
      expect(msg).not.toContain('\n');
    }
    expect(() => loadResults(join(d, 'missing.json'))).toThrow(/cannot read/);
  });
});

describe('charts', () => {
  it('sweep: x axis is the swept key; throughput, hit rate, walk reads and CDF charts with axis titles and captions', () => {
    const charts = buildCharts(sweep());
    expect(charts.map((c) => c.id)).toEqual(['throughput', 'iotlb-hit-rate', 'walk-reads', 'latency-cdf']);
    const t = charts[0].config;
    expect(t.type).toBe('line');
    expect(t.data.labels).toEqual(['64', '128', '256']);
    expect(t.data.datasets[0].data).toEqual([6.4, 12.8, 25.6]);
    expect(charts[0].title).toContain('workload.size');
    // 200 walk reads per 6400 B = 32 reads/KiB
    expect(charts[2].config.data.datasets[0].data[0]).toBe(32);
    for (const c of charts) {
      const scales = c.config.options?.scales as Record<string, { title: { text: string } }>;
      expect(scales.x.title.text.length).toBeGreaterThan(0);
      expect(scales.y.title.text).toMatch(/\(.+\)/); // units
      expect(c.caption).toBe('workload: unit-sweep · platform: test-plat · hypervisor: none (host runs, no VM) · iommusim 0.1.0');
    }
  });

  it('compare: ratio in the throughput title; cycles stacked by part; hypervisor in the caption', () => {
    const charts = buildCharts(toReportInput(compare(), 'c.json'));
    expect(charts.map((c) => c.id)).toEqual(['throughput', 'cycles-per-packet', 'exits-interrupts', 'iotlb-hit-rate', 'latency']);
    expect(charts[0].title).toContain('passthrough / emulated = 9×');
    expect(charts[1].config.data.datasets.map((d) => d.label)).toEqual(['guest.driver', 'host.exit']);
    expect((charts[1].config.options?.scales as Record<string, { stacked?: boolean }>).y.stacked).toBe(true);
    expect(charts[3].config.data.datasets[0].data).toEqual([90, 90]);
    expect(charts[0].caption).toContain('hypervisor: kvm');
    expect(charts[0].caption).toContain('workload: nic-unit');
  });

  it('a functional run (no timing figures) gets no timing charts', () => {
    const r = run(64) as { metrics: Record<string, unknown> };
    for (const k of ['throughputGbps', 'latencyNs', 'latencyCdfNs', 'pcie']) delete r.metrics[k];
    const ids = buildCharts(toReportInput(r, 'f.json')).map((c) => c.id);
    expect(ids).not.toContain('throughput');
    expect(ids).not.toContain('latency-cdf');
    expect(ids).toContain('iotlb-hit-rate');
  });

  it('no IOTLB lookups (IOMMU off) gives no hit-rate points rather than 0 %', () => {
    const r = run(64) as { metrics: { iotlb: Record<string, number> } };
    r.metrics.iotlb = { lookups: 0, hits: 0, misses: 0, hitRate: 0, mergedMisses: 0 };
    expect(buildCharts(toReportInput(r, 'off.json')).map((c) => c.id)).not.toContain('iotlb-hit-rate');
    const c = compare() as { modes: Array<{ iotlb: { lookups: number } }> };
    c.modes[0].iotlb.lookups = 0;
    const hit = buildCharts(toReportInput(c, 'c.json')).find((x) => x.id === 'iotlb-hit-rate');
    expect(hit?.config.data.datasets[0].data).toEqual([null, 90]);
  });
});

describe('CSV and Markdown', () => {
  it('CSV: one row per run with the swept key as a flat column', () => {
    const csv = renderCsv(sweep()).trimEnd().split('\n');
    expect(csv).toHaveLength(4);
    const head = csv[0].split(',');
    expect(head.slice(0, 4)).toEqual(['run', 'workload', 'platform', 'config.workload.size']);
    const row = (i: number, col: string): string => csv[i].split(',')[head.indexOf(col)];
    expect(row(1, 'config.workload.size')).toBe('64');
    expect(row(3, 'throughputGbps')).toBe('25.6');
    expect(row(2, 'iotlb.hitRate')).toBe('0.5');
    expect(row(1, 'walks.readsPerKiB')).toBe('32');
    expect(row(1, 'latencyNs.p99')).toBe('900');
  });

  it('CSV: one row per compare mode; fields with commas, quotes or newlines are quoted', () => {
    const csv = renderCsv(toReportInput(compare('a,"b"'), 'c.json')).trimEnd().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[0]).toContain('cycles.guest.driver');
    expect(csv[1].startsWith('"a,""b""",kvm,passthrough,,vCPU,9,')).toBe(true);
    expect(csvField('x\ny')).toBe('"x\ny"');
    expect(csvField(null)).toBe('');
  });

  it('Markdown: tables with escaped cells, the ratio and the chart list', () => {
    const input = toReportInput(compare('w|1'), 'c.json');
    const md = renderMarkdown(input, buildCharts(input), 'T');
    expect(md).toContain('Passthrough / emulated throughput: **9×**');
    expect(md).toContain('| passthrough | 9 | vCPU | 300 | 5000 | 2000 | 0.9 | 400 | 800 |');
    expect(md).toContain('w\\|1');
    expect(md).not.toContain('<img');
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(md).toContain('`throughput.png`');
    expect(mdCell('a\nb|c')).toBe('a b\\|c');
    const smd = renderMarkdown(sweep(), buildCharts(sweep()), 'S');
    expect(smd).toContain('| run | workload | platform | config.workload.size |');
    expect(smd).toMatch(/\| 0 \| unit-sweep \| test-plat \| 64 \|/);
  });
});

describe('HTML', () => {
  it('escapes strings from traces and specs, and embedded JSON cannot break out of its <script>', () => {
    const input = toReportInput([run(64, { name: EVIL, device: BREAKOUT }), run(128, { name: EVIL, device: BREAKOUT })], 'x.json');
    const html = renderHtml(input, buildCharts(input), `title ${EVIL}`);
    expect(html).not.toContain('<img');
    expect(html).not.toContain(BREAKOUT);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // the only </script> tags are the five the page has (error capture, chart.js, its matrix
    // controller, the data, the page script)
    expect(html.match(/<\/script>/gi)).toHaveLength(5);
    const m = html.match(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/);
    expect(m).not.toBeNull();
    const data = JSON.parse(m![1]) as { input: Array<{ workload: { name: string; devices: string[] } }>; charts: unknown[] };
    expect(data.input[0].workload.name).toBe(EVIL);
    expect(data.input[0].workload.devices[0]).toBe(BREAKOUT);
    expect(data.charts).toHaveLength(4);
    expect(jsonForScript({ a: '</script>&' })).toBe('{"a":"\\u003c/script\\u003e\\u0026"}');
    expect(escapeHtml(`<a href="x">'&`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  });

  it('is self-contained: chart.js inlined, no external references', () => {
    const input = sweep();
    const html = renderHtml(input, buildCharts(input), 'T');
    expect(html).toMatch(/Chart\.js v4\.\d+\.\d+/);
    expect(html).toMatch(/chartjs-chart-matrix v3\.\d+\.\d+/); // the heat maps' controller
    expect(html).not.toMatch(/sourceMappingURL/);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?https?:/i);
  });
});

describe('writeReport', () => {
  let dir: string;
  let files: string[];
  beforeAll(async () => {
    dir = tmp();
    ({ files } = await writeReport(toReportInput(compare(), 'c.json'), dir, { title: 'Unit compare' }));
  });

  it('writes report.html, one PNG per chart, summary.md, results.csv and results.json', () => {
    const names = files.map((f) => f.slice(dir.length + 1)).sort();
    expect(names).toEqual(['cycles-per-packet.png', 'exits-interrupts.png', 'iotlb-hit-rate.png', 'latency.png', 'report.html', 'results.csv', 'results.json', 'summary.md', 'throughput.png']);
    for (const f of files) expect(existsSync(f)).toBe(true);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<title>Unit compare</title>');
    const back = toReportInput(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')), 'results.json');
    expect(back.kind).toBe('compare');
  });

  it('PNGs are valid 1000×600 images with drawn data', async () => {
    for (const f of files.filter((x) => x.endsWith('.png'))) {
      const b = readFileSync(f);
      expect(pngSize(b), f).toEqual({ w: 1000, h: 600 });
      const { nonWhite, coloured } = await colouredPixels(b);
      expect(nonWhite, f).toBeGreaterThan(5000);
      expect(coloured, f).toBeGreaterThan(2000);
    }
    // the data, not just legend swatches: far more coloured pixels than the chart without data
    for (const c of buildCharts(toReportInput(compare(), 'c.json'))) {
      const full = (await colouredPixels(await renderPng(c))).coloured;
      const bare = (await colouredPixels(await renderPng(emptied(c)))).coloured;
      expect(full - bare, c.id).toBeGreaterThan(2000);
    }
  });

  it('sweep PNGs (lines, log-scale CDF) are non-blank too, and the background is opaque white', async () => {
    for (const c of buildCharts(sweep())) {
      const b = await renderPng(c);
      expect(pngSize(b)).toEqual({ w: 1000, h: 600 });
      const { coloured } = await colouredPixels(b);
      const bare = (await colouredPixels(await renderPng(emptied(c)))).coloured;
      expect(coloured - bare, c.id).toBeGreaterThan(500);
      const img = await loadImage(b);
      const cv = createCanvas(img.width, img.height);
      cv.getContext('2d').drawImage(img, 0, 0);
      expect([...cv.getContext('2d').getImageData(2, 2, 1, 1).data]).toEqual([255, 255, 255, 255]);
    }
  });
});

describe('sweep reports from the shipped sweeps', () => {
  type Scale = { type?: string; title: { text: string }; labels?: string[] };
  const scalesOf = (c: ChartSpec): Record<string, Scale> => c.config.options?.scales as Record<string, Scale>;

  it('frame size × I/O path × hypervisor: bars per path with the ratio, lines vs size, exits/irq, hit rate, CDF, heat maps', async () => {
    const input = await shippedSweep('io-paths');
    const runs = input.kind === 'runs' ? input.runs : [];
    expect(runs.length).toBe(33); // 36 jobs, xen refuses virtio at 3 sizes
    const charts = buildCharts(input);
    expect(charts.map((c) => c.id)).toEqual(IO_PATHS_CHARTS);
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    // bars at the largest size, one series per hypervisor, paths in profile order
    const t = byId.throughput;
    expect(t.config.type).toBe('bar');
    expect(t.config.data.labels).toEqual(['bare-metal', 'strict', 'passthrough', 'passthrough-pi', 'virtio', 'emulated']);
    expect(t.config.data.datasets.map((d) => d.label)).toEqual(['throughput (Gb/s): kvm', 'throughput (Gb/s): xen']);
    const find = (mode: string, hv: string, size = 1514) => runs.find((r) => r.path?.mode === mode && r.path.hypervisor === hv && r.config.workload.size === size)!;
    expect(t.config.data.datasets[1].data).toEqual(['bare-metal', 'strict', 'passthrough', 'passthrough-pi', 'virtio', 'emulated'].map((m) => find(m, 'xen')?.path?.throughputGbps ?? null));
    expect(t.config.data.datasets[1].data[4]).toBeNull(); // refused: no bar
    const ratio = (hv: string): number => Math.round((find('passthrough-pi', hv).path!.throughputGbps / find('emulated', hv).path!.throughputGbps) * 100) / 100;
    expect(t.title).toBe(`Throughput per I/O path at workload.size=1514 (passthrough / emulated: kvm ${ratio('kvm')}×, xen ${ratio('xen')}×)`);
    expect(ratio('kvm')).toBeGreaterThan(5);
    // throughput vs frame size: a line per (path, hypervisor), x in bytes
    const l = byId['throughput-vs-workload-size'];
    expect(l.config.type).toBe('line');
    expect(l.config.data.labels).toEqual(['128', '512', '1514']);
    expect(l.config.data.datasets.length).toBe(11);
    expect(l.config.data.datasets[0]).toMatchObject({ label: 'bare-metal, kvm', data: [128, 512, 1514].map((s) => find('bare-metal', 'kvm', s).path!.throughputGbps) });
    expect(scalesOf(l).x.title.text).toBe('workload.size (bytes)');
    // exits and interrupts per second, per hypervisor
    expect(byId['exits-interrupts'].config.data.datasets.map((d) => d.label)).toEqual(['VM exits / s: kvm', 'interrupts / s: kvm', 'VM exits / s: xen', 'interrupts / s: xen']);
    expect(byId['exits-interrupts'].config.data.datasets[0].data[5]).toBe(find('emulated', 'kvm').path!.exitsPerSec);
    // the latency CDF: one line per distinct device-side distribution, labelled by the paths sharing it
    const cdfLabels = byId['latency-cdf'].config.data.datasets.map((d) => d.label);
    expect(cdfLabels).toContain('bare-metal');
    expect(cdfLabels.length).toBeLessThan(runs.length);
    // heat maps: I/O path × frame size, one per hypervisor, one colour scale, legend = value bins
    for (const [id, hv] of [['heatmap-1', 'kvm'], ['heatmap-2', 'xen']]) {
      const h = byId[id];
      expect(h.config.type).toBe('matrix');
      expect(h.title).toBe(`Throughput (Gb/s): I/O path × workload.size (${hv})`);
      expect(scalesOf(h).x).toMatchObject({ type: 'category', labels: ['128', '512', '1514'] });
      expect(scalesOf(h).y.labels).toEqual(['emulated', 'virtio', 'passthrough-pi', 'passthrough', 'strict', 'bare-metal']);
      const cells = h.config.data.datasets.flatMap((d) => d.data as unknown as Array<{ x: string; y: string; v: number }>);
      expect(cells.length).toBe(hv === 'kvm' ? 18 : 15);
      for (const c of cells) expect(c.v).toBe(find(c.y, hv, Number(c.x)).path!.throughputGbps);
      // each cell carries the value it prints; dark bins print light text
      for (const c of cells as unknown as Array<{ v: number; t: string }>) expect(Math.abs(Number(c.t) - c.v)).toBeLessThanOrEqual((c.v >= 100 ? 0.5 : c.v >= 10 ? 0.05 : 0.005) + 1e-9);
      const text = h.config.data.datasets.map((d) => (d as unknown as { textColor: string; backgroundColor: string }));
      expect(text.find((d) => d.backgroundColor === '#08306b')?.textColor ?? '#ffffff').toBe('#ffffff');
      expect(text.find((d) => d.backgroundColor === '#deebf7')?.textColor).toBe('#1a1a1a');
      for (const d of h.config.data.datasets) expect(d.label).toMatch(/^[\d.]+–[\d.]+ Gb\/s$/);
    }
    for (const c of charts) {
      expect(c.caption).toBe('workload: nic-10g-tcp · platform: broadwell-gen3x8 · hypervisor: kvm, xen · iommusim 0.1.0');
      const sc = scalesOf(c);
      expect(sc.x.title.text.length, c.id).toBeGreaterThan(0);
      expect(sc.y.title.text.length, c.id).toBeGreaterThan(0);
      // the value axis has a unit: y, or x for heat maps (their colour scale is the legend, with units)
      expect(c.config.type === 'matrix' ? sc.x.title.text : sc.y.title.text, c.id).toMatch(/\(.+\)/);
      expect(c.config.options?.plugins?.legend?.display, c.id).toBe(true);
    }
  }, 120_000);

  it('IOTLB entries × superpages: hit rate and walk reads per KiB vs entries, one line per page size, a heat map', async () => {
    const input = await shippedSweep('iotlb-size');
    const charts = buildCharts(input);
    expect(charts.map((c) => c.id)).toEqual(IOTLB_SIZE_CHARTS);
    const hit = charts[1];
    expect(hit.title).toBe('IOTLB hit rate vs iommu.iotlb.entries');
    expect(hit.config.data.labels).toEqual(['32', '64', '128', '256', '512', '1024']);
    expect(hit.config.data.datasets.map((d) => d.label)).toEqual(['IOTLB hit rate (%): iommu.superpages=true', 'IOTLB hit rate (%): iommu.superpages=false']);
    expect(scalesOf(hit).x.title.text).toBe('iommu.iotlb.entries (entries)');
    // 4 KiB pages: more entries, more hits, fewer walk reads; 2 MiB pages: the 4 MiB buffer always fits
    const small = hit.config.data.datasets[1].data as number[];
    for (let i = 1; i < small.length; i++) expect(small[i]).toBeGreaterThan(small[i - 1]);
    expect(hit.config.data.datasets[0].data.every((v) => (v as number) > 99)).toBe(true);
    const walks = charts[2].config.data.datasets[1].data as number[];
    for (let i = 1; i < walks.length; i++) expect(walks[i]).toBeLessThan(walks[i - 1]);
    const h = charts[4];
    expect(h.title).toBe('IOTLB hit rate (%): iommu.superpages × iommu.iotlb.entries');
    expect(scalesOf(h).y).toMatchObject({ title: { text: 'iommu.superpages (on/off)' }, labels: ['false', 'true'] });
    for (const c of charts) expect(c.caption).toBe('workload: pciebench · platform: broadwell-gen3x8 · hypervisor: none (host runs, no VM) · iommusim 0.1.0');
  }, 120_000);

  it('their PNGs are valid and non-blank: data drawn beyond the empty chart', async () => {
    for (const name of ['io-paths', 'iotlb-size'] as const) {
      for (const c of buildCharts(await shippedSweep(name))) {
        const b = await renderPng(c);
        expect(pngSize(b), c.id).toEqual({ w: 1000, h: 600 });
        const full = (await colouredPixels(b)).coloured;
        const bare = (await colouredPixels(await renderPng(emptied(c)))).coloured;
        expect(full - bare, `${name} ${c.id}`).toBeGreaterThan(500);
      }
    }
  }, 120_000);

  it('CSV and Markdown carry the I/O-path figures', async () => {
    const input = await shippedSweep('io-paths');
    const csv = renderCsv(input).trimEnd().split('\n');
    const head = csv[0].split(',');
    for (const col of ['path.mode', 'path.hypervisor', 'path.bottleneck', 'path.throughputGbps', 'path.cyclesPerPacket.total', 'path.exitsPerSec', 'path.interruptsPerSec', 'path.iotlb.hitRate']) expect(head).toContain(col);
    expect(csv.length).toBe(34);
    const row = csv[1].split(',');
    expect(row[head.indexOf('path.mode')]).toBe('bare-metal');
    expect(row[head.indexOf('path.hypervisor')]).toBe('kvm');
    const md = renderMarkdown(input, buildCharts(input), 'T');
    expect(md).toContain('`heatmap-1.png`');
    expect(md).toContain('hypervisor: kvm, xen');
  }, 120_000);
});
