import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../setup/tmp.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');

export function iommusim(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('iommusim run (end to end)', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(cli)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
    dir = tempDir('iommusim-cli-');
  });

  it('runs the shipped example and writes the versioned JSON result', () => {
    const out = join(dir, 'r.json');
    const r = iommusim(['run', 'workloads/examples/nic-rx-ring.csv', '--set', 'iommu.mode=strict', '--set', 'iommu.iotlb.entries=128', '--json', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/IOTLB +3072 lookups/);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.schema).toBe('iommusim.result/1');
    expect(j.config.iommu.iotlb.entries).toBe(128);
    expect(j.config.iommu.mode).toBe('strict');
    const m = j.metrics;
    for (const k of ['lookups', 'hits', 'misses']) expect(typeof m.iotlb[k]).toBe('number');
    for (const p of ['pde', 'pdpte', 'pml4e', 'pml5e']) for (const k of ['hits', 'misses']) expect(typeof m.pwc[p][k]).toBe('number');
    expect(typeof m.walks.count).toBe('number');
    expect(typeof m.walks.memReads).toBe('number');
    expect(typeof m.contextCache.hits).toBe('number');
    for (const k of ['iotlb', 'pwc', 'context', 'devtlb']) expect(typeof m.invalidations[k]).toBe('number');
    expect(m.faults).toMatchObject({ count: 0, byReason: {} });
    expect(m.iotlb.lookups).toBe(m.iotlb.hits + m.iotlb.misses);
    expect(m.invalidations.iotlb).toBe(1024); // strict: one per unmap
  });

  it('same inputs give byte-identical JSON', () => {
    const a = join(dir, 'a.json'), b = join(dir, 'b.json');
    iommusim(['run', 'workloads/examples/nic-rx-ring.csv', '--set', 'iommu.iotlb.policy=random', '--json', a]);
    iommusim(['run', 'workloads/examples/nic-rx-ring.csv', '--set', 'iommu.iotlb.policy=random', '--json', b]);
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
  });

  const header = 'time_ns,device,pasid,op,iova,size,dir,paddr\n';
  const cases: Array<[string, string | null, string[], RegExp]> = [
    ['a malformed CSV line', '0,01:00.0,,dma,0x1000\n', [], /bad\.csv:2: 5 fields where 8 are expected/],
    ['an unknown op', '0,01:00.0,,copy,0x1000,64,read,\n', [], /bad\.csv:2: unknown op 'copy'/],
    ['size 0', '0,01:00.0,,dma,0x1000,0,read,\n', [], /bad\.csv:2: size is 0/],
    ['an iova beyond the address width', '0,01:00.0,,map,0x8000000000,4096,,0x1000\n', ['--set', 'iommu.levels=3'], /bad\.csv:2: .*beyond the 39-bit address width/],
    ['an unknown --set key', null, ['--set', 'iommu.iotlb.entires=64'], /--set iommu\.iotlb\.entires: unknown configuration key; did you mean iommu\.iotlb\.entries\?/],
    ['iommu.iotlb.ways=3', null, ['--set', 'iommu.iotlb.ways=3'], /iommu\.iotlb\.ways=3: sets = entries \(64\) \/ ways must be a whole power of two; use one of/],
    ['a bad value', null, ['--set', 'iommu.mode=fast'], /iommu\.mode=fast: unknown value; use one of off, identity, strict, lazy/],
    ['a missing file', null, [], /nope\.csv: cannot read the trace \(ENOENT\)/],
  ];
  for (const [what, body, extra, re] of cases) {
    it(`bad input: ${what} → one line, exit 2, no stack trace`, () => {
      let file = 'workloads/examples/nic-rx-ring.csv';
      if (body !== null) { file = join(dir, 'bad.csv'); writeFileSync(file, header + body); }
      if (what === 'a missing file') file = join(dir, 'nope.csv');
      const r = iommusim(['run', file, ...extra]);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(re);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/\bat .*\.js:\d+/);
    });
  }
});

describe('iommusim run with timing (end to end)', () => {
  it('pciebench: throughput, latency percentiles, PCIe figures in the JSON', () => {
    const dir = tempDir('iommusim-cli-');
    const out = join(dir, 'p.json');
    const r = iommusim(['run', 'pciebench', '--platform', 'broadwell-gen3x8', '--set', 'workload.count=5000', '--set', 'workload.op=write', '--json', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(out, 'utf8')).metrics;
    for (const k of ['p50', 'p90', 'p99', 'max']) expect(m.latencyNs[k]).toBeGreaterThan(0);
    expect(m.throughputGbps).toBeGreaterThan(1);
    expect(m.simulatedTimeNs).toBeGreaterThan(0);
    expect(m.pcie.upGbps).toBeGreaterThan(m.pcie.downGbps);
    expect(m.pcie.tlps.up).toBe(5000);
    expect(typeof m.walks.avgLatencyNs).toBe('number');
    // at the start 64 requests in flight hit the window's cold page — its buffer is mapped as one
    // 2 MiB leaf (superpages): all but the first find the walk under way and wait for it (merged
    // misses, not walks)
    expect(m.iotlb.mergedMisses).toBeGreaterThan(0);
    expect(m.iotlb.mergedMisses).toBeLessThan(64);
    expect(m.walks.count).toBe(1);
    expect(m.devices[0]).toMatchObject({ device: '0000:03:00.0', requests: 5000 });
  });
  it('a timed trace run is byte-identical run to run', () => {
    const dir = tempDir('iommusim-cli-');
    const a = join(dir, 'a.json'), b = join(dir, 'b.json');
    iommusim(['run', 'workloads/examples/nic-rx-ring.csv', '--json', a]);
    iommusim(['run', 'workloads/examples/nic-rx-ring.csv', '--json', b]);
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
  });
  const bad: Array<[string[], RegExp]> = [
    [['--set', 'pcie.lanes=3'], /^iommusim: pcie\.lanes=3: must be one of 1, 2, 4, 8, 12, 16, 32\n$/],
    [['--set', 'pcie.mpsBytes=100'], /^iommusim: pcie\.mpsBytes=100: must be one of 128, 256, 512, 1024, 2048, 4096\n$/],
    [['--set', 'workload.window=32', '--set', 'workload.size=64'], /^iommusim: workload\.window=32: smaller than workload\.size \(64\); make the window at least one transfer\n$/],
    [['--platform', 'skylake'], /^iommusim: --platform skylake: unknown platform; use one of broadwell-gen3x8,/],
  ];
  for (const [args, re] of bad) {
    it(`bad value ${args.join(' ')} → one line naming the key, exit 2`, () => {
      const r = iommusim(['run', 'pciebench', ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(re);
    });
  }
});

describe('iommusim workloads and trace (end to end)', () => {
  it('workloads lists the library; run NAME runs every sweep point', () => {
    const l = iommusim(['workloads']);
    expect(l.code).toBe(0);
    expect(l.out).toMatch(/^pciebench-read-sweep +pcie-bench DMA reads/m);
    const dir = tempDir('iommusim-cli-');
    const out = join(dir, 's.json');
    const r = iommusim(['run', 'pciebench-write-sweep', '--set', 'workload.count=2000', '--json', out, '--quiet']);
    expect(r.code).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.map((x: { config: { workload: { size: number } } }) => x.config.workload.size)).toEqual([64, 128, 256, 512, 1024, 2048]);
  });
  it('trace info, trace gen and trace import', () => {
    const info = iommusim(['trace', 'info', 'workloads/examples/nic-rx-ring.csv', '--json']);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.out)).toMatchObject({ format: 'csv', records: 5377, ops: { dma: 3072, map: 1281, unmap: 1024, inv: 0 } });
    const dir = tempDir('iommusim-cli-');
    const gen = join(dir, 'g.csv');
    expect(iommusim(['trace', 'gen', 'pciebench', '--set', 'workload.count=10', '-o', gen]).code).toBe(0);
    expect(readFileSync(gen, 'utf8').trim().split('\n')).toHaveLength(12); // header, map, 10 DMAs
    const imp = join(dir, 'f.csv');
    expect(iommusim(['trace', 'import', 'test/fixtures/ftrace/synthetic_trace-cmd.txt', '-o', imp]).code).toBe(0);
    expect(JSON.parse(iommusim(['trace', 'info', imp, '--json']).out).records).toBe(296);
  });
});

describe('iommusim run, trace info and trace import read a CSV a chunk at a time (end to end)', () => {
  const withoutSource = (j: { workload: Record<string, unknown> }) => ({ ...j, workload: { ...j.workload, name: '', source: '', format: '' } });

  it('run of a CSV of more than one chunk: the result of the same trace as .iotrace (the native streamed path), timed and functional', () => {
    const dir = tempDir('iommusim-cli-');
    const csv = join(dir, 'u.csv'), iot = join(dir, 'u.iotrace');
    // 20,000 packets: 69,793 records, more than one 65,536-record chunk
    for (const out of [csv, iot]) expect(iommusim(['trace', 'gen', 'nic-10g-udp64', '--set', 'workload.count=20000', '-o', out]).code).toBe(0);
    for (const extra of [[], ['--functional']]) {
      const a = join(dir, 'a.json'), b = join(dir, 'b.json');
      const r = iommusim(['run', csv, '--json', a, ...extra]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/u\.csv: 69793 records/);
      expect(iommusim(['run', iot, '--json', b, ...extra]).code).toBe(0);
      const ja = JSON.parse(readFileSync(a, 'utf8')), jb = JSON.parse(readFileSync(b, 'utf8'));
      expect(ja.workload).toMatchObject({ name: 'u.csv', format: 'csv' });
      expect(ja.workload.records).toBeGreaterThan(65536);
      expect(withoutSource(ja)).toEqual(withoutSource(jb));
    }
    // trace info and import of the CSV: the .iotrace's counts, the same file out
    const info = (f: string) => { const j = JSON.parse(iommusim(['trace', 'info', f, '--json']).out); return { ...j, file: '', format: '' }; };
    expect(info(csv)).toEqual(info(iot));
    const back = join(dir, 'back.iotrace');
    expect(iommusim(['trace', 'import', csv, '-o', back]).out).toMatch(/back\.iotrace: 69793 records from .*u\.csv \(csv\)/);
    expect(readFileSync(back).equals(readFileSync(iot))).toBe(true);
  });

  it('a malformed line far into a gzip-compressed CSV: one line naming it, exit 2, no JSON written', () => {
    const dir = tempDir('iommusim-cli-');
    const lines = readFileSync(join(root, 'workloads/examples/nic-rx-ring.csv'), 'utf8').split('\n');
    lines[4000] = lines[4000].replace(/,(dma|map|unmap),/, ',zap,'); // line 4001
    const f = join(dir, 'bad.csv.gz');
    writeFileSync(f, gzipSync(lines.join('\n')));
    const out = join(dir, 'r.json');
    const r = iommusim(['run', f, '--json', out]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(`iommusim: ${f} (decompressed):4001: unknown op 'zap'; use dma, map, unmap, inv, inv:pwc, inv:devtlb, inv:context or inv:global\n`);
    expect(existsSync(out)).toBe(false);
  });

  it('memory stays bounded: run --functional of a 2 M-record CSV (82 MB) in under 180 MB of RSS', () => {
    const dir = tempDir('iommusim-cli-');
    const probe = join(dir, 'rss.mjs');
    writeFileSync(probe, `process.on('exit', () => process.stderr.write('maxRSS ' + process.resourceUsage().maxRSS + '\\n'));\nprocess.argv.splice(1, 1);\nawait import(${JSON.stringify(cli)});\n`);
    const big = join(dir, 'big.csv');
    expect(iommusim(['trace', 'gen', 'pciebench', '--set', 'workload.count=2000000', '-o', big]).code).toBe(0);
    expect(readFileSync(big).length).toBeGreaterThan(80e6);
    const r = spawnSync(process.execPath, [probe, 'probe', 'run', big, '--functional'], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/big\.csv: 2000001 records/);
    // loaded whole it took about 260 MB (the columns, 85 B a record, and the file's bytes)
    expect(Number(/maxRSS (\d+)/.exec(r.stderr)![1])).toBeLessThan(180_000);
  });
});

describe('iommusim compare and topology check (end to end)', () => {
  it('compare prints every mode and writes JSON with the ratio', () => {
    const dir = tempDir('iommusim-cli-');
    const out = join(dir, 'c.json');
    const r = iommusim(['compare', 'nic-10g-tcp', '--modes', 'bare-metal,passthrough-pi,emulated', '--hypervisor', 'kvm', '--set', 'workload.count=3000', '--json', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^passthrough-pi +\d/m);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.schema).toBe('iommusim.compare/1');
    expect(j.modes.map((m: { mode: string }) => m.mode)).toEqual(['bare-metal', 'passthrough-pi', 'emulated']);
    expect(j.passthroughOverEmulated).toBeGreaterThan(5);
  });
  it('compare refuses an unknown mode with one line', () => {
    const r = iommusim(['compare', 'nic-10g-tcp', '--modes', 'turbo']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^iommusim: --modes turbo: unknown I\/O path; use bare-metal, identity/);
  });
  it('topology check: a group not wholly assigned is refused (exit 1), the whole group passes (exit 0)', () => {
    const args = ['topology', 'check', '--lspci', 'test/fixtures/lspci/seed-gentoo-lspci-nn.txt', '--groups', 'test/fixtures/lspci/seed-gentoo-iommu-groups.txt', '--hypervisor', 'kvm'];
    const bad = iommusim([...args, '--assign', '01:00.0', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).reasons[0]).toMatchObject({ code: 'group-not-vfio', bdf: '0000:01:00.1' });
    const ok = iommusim([...args, '--assign', '01:00.0,01:00.1']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^viable/);
  });
});
