/**
 * compare, validate and sweep on the worker pool (--workers): the same bytes on stdout and in every
 * file whatever the number of threads; bad --workers values are one line, exit 2. The CLI end to
 * end (dist/, built by npm test).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../setup/tmp.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');

interface Ran { code: number | null; out: string; err: string }
function iommusim(args: string[], cwd = root): Ran {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Every file of a folder, by name, as bytes. */
function files(d: string): Record<string, Buffer> {
  return Object.fromEntries(readdirSync(d).sort().map((f) => [f, readFileSync(join(d, f))]));
}

/** The same names and the same bytes in each (a difference names the file). */
function sameFiles(a: Record<string, Buffer>, b: Record<string, Buffer>): void {
  expect(Object.keys(b)).toEqual(Object.keys(a));
  for (const f of Object.keys(a)) expect(b[f].equals(a[f]), `${f} differs`).toBe(true);
}

let dir: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  dir = tempDir('iommusim-workers-');
});

describe('compare --workers', () => {
  it('1 and 2 workers (and 0): the same table, --json and report files, byte for byte', () => {
    const runs = [1, 2, 0].map((w) => {
      const d = join(dir, `compare-w${w}`);
      const r = iommusim(['compare', 'nic-10g-tcp', '--set', 'workload.count=2000', '--workers', String(w), '--json', join(dir, `compare-w${w}.json`), '--out', d]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      return { text: r.out.replace(d, 'OUT'), json: readFileSync(join(dir, `compare-w${w}.json`), 'utf8'), files: files(d) };
    });
    // the paths ran and the report has its charts (an empty comparison would be identical too)
    expect(runs[0].text).toMatch(/^passthrough-pi +\d+\.\d\d /m);
    expect(JSON.parse(runs[0].json).modes).toHaveLength(7);
    expect(Object.keys(runs[0].files)).toEqual(expect.arrayContaining(['report.html', 'throughput.png', 'results.csv', 'results.json', 'summary.md']));
    for (const r of runs.slice(1)) {
      expect(r.text).toBe(runs[0].text);
      expect(r.json).toBe(runs[0].json);
      sameFiles(runs[0].files, r.files);
    }
  });

  it('a capture workload (nic-pcap): the capture read once and shared, the same bytes on 1 and 2 workers', () => {
    const [one, two] = [1, 2].map((w) => iommusim(['compare', 'nic-real-iperf3', '--modes', 'bare-metal,strict,passthrough', '--workers', String(w), '--json', '/dev/stdout', '--quiet']));
    expect(one.code).toBe(0);
    expect(JSON.parse(one.out).modes.map((m: { mode: string }) => m.mode)).toEqual(['bare-metal', 'strict', 'passthrough']);
    expect(two.out).toBe(one.out);
    expect(two.err).toBe(one.err);
  });

  it('a GPU workload: the paths a GPU lacks refused with their counterparts added, the same bytes on 1 and 2 workers', () => {
    const [one, two] = [1, 2].map((w) => iommusim(['compare', 'gpu-pageable-copies', '--modes', 'bare-metal,passthrough,virtio,emulated', '--workers', String(w), '--json', '/dev/stdout', '--quiet']));
    expect(one.err).toBe('');
    expect(one.code).toBe(0);
    const modes = JSON.parse(one.out).modes as Array<{ mode: string; refused?: string; throughputGbps: number }>;
    // virtio and emulated exist for no GPU: refused, each followed by its counterpart, which ran
    expect(modes.filter((m) => m.refused).map((m) => m.mode).sort()).toEqual(['emulated', 'virtio']);
    expect(modes.length).toBeGreaterThan(4);
    for (const m of modes.filter((x) => !x.refused)) expect(m.throughputGbps).toBeGreaterThan(0);
    expect(two.out).toBe(one.out);
  });

  it('bad input inside a worker is still one line, exit 2 (not an internal error)', () => {
    // nic-pcap with no capture named: the NIC model refuses it in the path's job
    const r = iommusim(['compare', 'nic-pcap', '--modes', 'strict,lazy', '--workers', '2']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('iommusim: workload.pcap: empty; name the capture file (pcap or pcapng) to replay\n');
  });
});

describe('validate --workers', () => {
  it('validate --fast --json: 1 and 2 workers give the same bytes', () => {
    const [one, two] = [1, 2].map((w) => {
      const f = join(dir, `validate-w${w}.json`);
      const r = iommusim(['validate', '--fast', '--json', f, '--workers', String(w)]);
      expect(r.code).toBe(0);
      return { out: r.out, json: readFileSync(f, 'utf8') };
    });
    expect(JSON.parse(one.json).anchors.length).toBeGreaterThan(3);
    expect(one.out).toMatch(/anchors within tolerance/);
    expect(two.out).toBe(one.out);
    expect(two.json).toBe(one.json);
  });
});

describe('sweep --workers', () => {
  it('0, 1 and 2 workers: results.json, results.csv, the report and its PNGs byte-identical', () => {
    const spec = join(dir, 'paths.yaml');
    writeFileSync(spec, `name: paths
workloads: [nic-10g-tcp]
settings: { workload.count: 1000 }
axes:
  workload.size: [256, 1514]
  mode: [bare-metal, passthrough, virtio]
  hypervisor: [kvm, xen]
`);
    const runs = [0, 1, 2].map((w) => {
      // the same relative --out in each run (the report names its source by the path given)
      const cwd = join(dir, `sweep-w${w}`);
      mkdirSync(cwd);
      const r = iommusim(['sweep', spec, '--out', 'out', '--workers', String(w), '--quiet'], cwd);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const all = files(join(cwd, 'out'));
      delete all['results.jsonl']; // a journal, in the order jobs finished
      return all;
    });
    expect(Object.keys(runs[0])).toEqual(expect.arrayContaining(['report.html', 'results.csv', 'results.json', 'summary.md', 'throughput.png', 'heatmap-1.png', 'latency-cdf.png']));
    for (const r of runs.slice(1)) sameFiles(runs[0], r);
  });
});

describe('--workers values', () => {
  for (const cmd of [['compare', 'nic-10g-tcp'], ['validate', '--fast'], ['sweep', 'workloads/sweeps/iotlb-size.yaml', '--out', 'never']]) {
    for (const bad of ['x', '-1', '1.5', '257']) {
      it(`${cmd[0]} --workers ${bad}: one line, exit 2`, () => {
        const r = iommusim([...cmd, '--workers', bad]);
        expect(r.code).toBe(2);
        expect(r.err).toBe(`iommusim: --workers ${bad}: not a whole number from 0 to 256; e.g. --workers 2 (0: in this thread)\n`);
        expect(r.out).toBe('');
      });
    }
  }
});
