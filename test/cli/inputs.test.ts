/**
 * The inputs a new user really has, end to end through the built CLI (dist/; npm test builds it):
 * captures cut short (--strict), gzip and byte-order marks, empty files, lspci pastes with lspci's
 * own warnings, topology check without --lspci, more devices than a trace holds, `trace gen` past
 * memory, and `trace info` on a capture against Wireshark's own figures.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../setup/tmp.js';
import { ng, concat } from '../trace/importers/pcap-fixtures.js';
import { writeCsvTrace } from '../../src/trace/importers/csv.js';
import { writeIotrace } from '../../src/trace/iotrace.js';
import { pciebenchTrace } from '../../src/run/generators/pciebench.js';
import { buildConfig } from '../../src/config/config.js';

const root = join(import.meta.dirname, '../..');
const cli = join(root, 'dist/src/cli/main.js');
const dir = tempDir('iommusim-inputs-');
const HTTP = join(root, 'test/fixtures/pcap/http_mixed_lo64k_snap128.pcap');
const IPERF = join(root, 'workloads/captures/tcp_iperf3_mtu1500_100M_snap128.pcap');
const RING = join(root, 'workloads/examples/nic-rx-ring.csv');
const TRUTH = join(root, 'test/fixtures/pcap/truth');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function iommusim(args: string[], cwd = root): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const file = (name: string, bytes: Uint8Array | string): string => { const f = join(dir, name); writeFileSync(f, bytes); return f; };
/** stderr is exactly one line. */
const oneLine = (s: string): string => { expect(s.endsWith('\n')).toBe(true); expect(s.slice(0, -1)).not.toContain('\n'); return s.slice(0, -1); };

/** Start offsets of the records of a little-endian pcap, and the file length. */
function pcapBounds(b: Uint8Array): number[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = [24];
  for (let o = 24; o < b.length;) { o += 16 + dv.getUint32(o + 8, true); out.push(o); }
  return out;
}

/** The same frames as a pcapng: SHB, IDB (link type, snaplen, µs), one EPB per record. */
function pcapToPcapng(b: Uint8Array): { bytes: Uint8Array; bounds: number[] } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const blocks = [ng.shb(true), ng.idb(true, dv.getUint32(20, true) & 0xffff, dv.getUint32(16, true), { name: 'lo' })];
  for (let o = 24; o < b.length;) {
    const cap = dv.getUint32(o + 8, true);
    const ticks = BigInt(dv.getUint32(o, true)) * 1_000_000n + BigInt(dv.getUint32(o + 4, true));
    blocks.push(ng.epb(true, 0, ticks, b.subarray(o + 16, o + 16 + cap), { origLen: dv.getUint32(o + 12, true) }));
    o += 16 + cap;
  }
  const bounds: number[] = [];
  let at = 0;
  for (const x of blocks) { bounds.push(at); at += x.length; }
  return { bytes: concat(blocks), bounds };
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
});

// =====================================================================================
describe('a capture cut short: use the whole records and warn (as capinfos); --strict refuses', () => {
  const http = new Uint8Array(readFileSync(HTTP));
  const pcapB = pcapBounds(http);
  const ngFile = pcapToPcapng(http);
  // cut 100 bytes into record / block 600
  const cases = [
    { name: 'cut.pcap', bytes: http.subarray(0, pcapB[599]! + 100), kept: 599, inside: 'packet record 600' },
    { name: 'cut.pcapng', bytes: ngFile.bytes.subarray(0, ngFile.bounds[601]! + 100), kept: 599, inside: 'block 602 \\(Enhanced Packet Block\\)' },
  ];
  for (const c of cases) {
    it(`${c.name}: trace info, run and trace import use the ${c.kept} complete frames with one warning line; --strict: exit 2, one line`, () => {
      const f = file(c.name, c.bytes);
      const cut = c.bytes.length;
      const warning = new RegExp(`^iommusim: warning: ${f.replace(/[.]/g, '\\.')}: truncated at byte ${cut} inside ${c.inside}; kept the ${c.kept} complete packet\\(s\\) before it$`);

      const info = iommusim(['trace', 'info', f, '--json']);
      expect(info.code).toBe(0);
      expect(oneLine(info.err)).toMatch(warning);
      const j = JSON.parse(info.out);
      expect(j.capture.frames).toBe(c.kept);
      expect(j.capture.partial).toBe(true);

      const run = iommusim(['run', f, '--functional']);
      expect(run.code).toBe(0);
      expect(oneLine(run.err)).toMatch(warning);
      expect(run.out).toContain(`${j.records} records`);

      const out = join(dir, `${c.name}.csv`);
      const imp = iommusim(['trace', 'import', f, '-o', out]);
      expect(imp.code).toBe(0);
      expect(oneLine(imp.err)).toMatch(warning);
      expect(imp.out).toContain(`${j.records} records`);

      for (const args of [['trace', 'info', f, '--strict'], ['run', f, '--strict'], ['trace', 'import', f, '-o', join(dir, 'no.csv'), '--strict']]) {
        const r = iommusim(args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.out).toBe('');
        expect(oneLine(r.err)).toMatch(new RegExp(`^iommusim: ${f.replace(/[.]/g, '\\.')} at byte \\d+: file truncated at byte ${cut} inside ${c.inside.replace(' \\(Enhanced Packet Block\\)', '')}.*without --strict`));
        expect(r.err).not.toMatch(/internal error|at .*\.js:\d+/);
      }
    });
  }

  it('a workload replaying a cut capture (workload.pcap): warning by default, exit 2 with --strict', () => {
    const f = file('wl-cut.pcap', cases[0]!.bytes);
    const spec = file('cut-replay.yaml', `name: cut-replay\ndescription: a cut capture through nic-pcap\ngenerator: nic-pcap\nsettings:\n  workload.pcap: ${f}\n`);
    const ok = iommusim(['run', spec, '--functional']);
    expect(ok.code).toBe(0);
    expect(oneLine(ok.err)).toMatch(/^iommusim: warning: .*wl-cut\.pcap: truncated at byte \d+ inside packet record 600; kept the 599 complete packet/);
    const strict = iommusim(['run', spec, '--functional', '--strict']);
    expect(strict.code).toBe(2);
    expect(oneLine(strict.err)).toMatch(/wl-cut\.pcap at byte \d+: file truncated .*without --strict/);
  });
});

// =====================================================================================
describe('gzip (by magic bytes), byte-order marks, empty files', () => {
  it('run: a gzip, a BOM-prefixed and a gzip BOM-prefixed CSV give the identical result JSON to the plain file', () => {
    const plain = readFileSync(RING);
    const variants: Array<[string, Uint8Array]> = [['plain', plain], ['gz', gzipSync(plain)], ['bom', Buffer.concat([BOM, plain])], ['bomgz', gzipSync(Buffer.concat([BOM, plain]))]];
    const results: string[] = [];
    for (const [v, bytes] of variants) {
      // same file name in each folder: the result names the trace, and gzip must be found by content
      const d = join(dir, `ring-${v}`);
      mkdirSync(d);
      writeFileSync(join(d, 'ring.csv'), bytes);
      const r = iommusim(['run', 'ring.csv', '--set', 'iommu.mode=strict', '--json', 'r.json'], d);
      expect(r.code, `${v}: ${r.err}`).toBe(0);
      expect(r.err).toBe('');
      results.push(readFileSync(join(d, 'r.json'), 'utf8'));
    }
    expect(JSON.parse(results[0]!).workload.records).toBe(5377);
    for (const r of results) expect(r).toBe(results[0]);
  });

  it('trace info: a gzip pcap and pcapng (any name), a BOM ftrace and JSONL give the same counts as the plain files', () => {
    const ftrace = readFileSync(join(root, 'test/fixtures/ftrace/synthetic_tracefs_5flags.txt'));
    const jsonl = Buffer.from('{"time_ns": 0, "device": "0000:01:00.0", "op": "map", "iova": "0x1000", "size": 4096, "paddr": "0x2000"}\n{"time_ns": 5, "device": "0000:01:00.0", "op": "dma", "iova": "0x1000", "size": 64, "dir": "read"}\n');
    const http = readFileSync(HTTP);
    const pairs: Array<[string, Uint8Array, string, Uint8Array]> = [
      ['p.pcap', http, 'p-gz.bin', gzipSync(http)],
      ['p.pcapng', pcapToPcapng(http).bytes, 'p.pcapng.gz', gzipSync(pcapToPcapng(http).bytes)],
      ['f.txt', ftrace, 'f-bom.txt', Buffer.concat([BOM, ftrace])],
      ['f2.txt', ftrace, 'f-bom.txt.gz', gzipSync(Buffer.concat([BOM, ftrace]))],
      ['j.jsonl', jsonl, 'j-bom.jsonl', Buffer.concat([BOM, jsonl])],
    ];
    for (const [a, ab, b, bb] of pairs) {
      const ra = iommusim(['trace', 'info', file(a, ab), '--json']);
      const rb = iommusim(['trace', 'info', file(b, bb), '--json']);
      expect(ra.code, ra.err).toBe(0);
      expect(rb.code, rb.err).toBe(0);
      expect(rb.err).toBe('');
      const ja = JSON.parse(ra.out), jb = JSON.parse(rb.out);
      expect(jb.compression).toBe(b.includes('gz') ? 'gzip' : undefined);
      for (const j of [ja, jb]) { delete j.file; delete j.compression; }
      expect(ja.records).toBeGreaterThan(0);
      expect(jb).toEqual(ja);
    }
  });

  it('an empty file is "FILE: empty file" (exit 2, one line), for every command that reads one', () => {
    const e = file('empty.csv', '');
    const g = file('empty.pcap.gz', gzipSync(Buffer.alloc(0)));
    for (const [args, f] of [[['trace', 'info', e], e], [['run', e], e], [['trace', 'import', e, '-o', join(dir, 'x.csv')], e], [['trace', 'info', g], g]] as const) {
      const r = iommusim([...args]);
      expect(r.code).toBe(2);
      expect(oneLine(r.err)).toMatch(new RegExp(`^iommusim: ${f.replace(/[.]/g, '\\.')}: empty file`));
      expect(r.err).not.toMatch(/unknown/);
    }
  });
});

// =====================================================================================
describe('topology check: lspci pastes and missing options', () => {
  const LSPCI = join(root, 'test/fixtures/lspci');

  it('lspci\'s own warning lines in a paste are skipped, with one note on stderr; the result is the clean file\'s', () => {
    const nn = readFileSync(join(LSPCI, 'workstation-nn.txt'), 'utf8').split('\n');
    const groups = readFileSync(join(LSPCI, 'workstation-iommu-groups.txt'), 'utf8').split('\n');
    const pasteNn = file('paste-nn.txt', ['lspci: Unable to load libkmod resources: error -2', ...nn.slice(0, 3), 'pcilib: sysfs_read_vpd: read failed: Input/output error', ...nn.slice(3)].join('\n'));
    const pasteGroups = file('paste-groups.txt', [groups[0], 'lspci: Unable to load libkmod resources: error -2', ...groups.slice(1)].join('\n'));
    const first = nn.find((l) => /^[0-9a-f]{2}:/.test(l))!.slice(0, 7);
    const args = (a: string, b: string) => ['topology', 'check', '--lspci', a, '--groups', b, '--assign', first, '--json'];
    const clean = iommusim(args(join(LSPCI, 'workstation-nn.txt'), join(LSPCI, 'workstation-iommu-groups.txt')));
    const pasted = iommusim(args(pasteNn, pasteGroups));
    expect(clean.err).toBe('');
    expect(pasted.code).toBe(clean.code);
    expect(pasted.out).toBe(clean.out);
    const notes = pasted.err.trim().split('\n');
    expect(notes).toEqual([
      `iommusim: note: ${pasteNn}: skipped 2 line(s) of lspci's own messages (line 1: "lspci: Unable to load libkmod resources: error -2", …); they are not part of the listing`,
      `iommusim: note: ${pasteGroups}: skipped 1 line(s) of lspci's own messages (line 2: "lspci: Unable to load libkmod resources: error -2"); they are not part of the listing`,
    ]);
  });

  it('--groups without --lspci: one line naming the missing option (not "undefined: cannot read")', () => {
    const r = iommusim(['topology', 'check', '--groups', join(LSPCI, 'workstation-iommu-groups.txt'), '--assign', '01:00.0']);
    expect(r.code).toBe(2);
    const line = oneLine(r.err);
    expect(line).toMatch(/^iommusim: --lspci: missing: topology check needs the PCI listing beside --groups .*; add --lspci FILE/);
    expect(line).not.toContain('undefined');
  });
});

// =====================================================================================
describe('more than 65,535 devices', () => {
  it('a CSV trace of 70,000 distinct devices (two PCI segments): exit 2, one line naming file:line and the limit', () => {
    const h = (n: number, w: number): string => n.toString(16).padStart(w, '0');
    const lines = ['time_ns,device,pasid,op,iova,size,dir,paddr'];
    for (let k = 0; k < 70_000; k++) lines.push(`${k},${h(k >> 16, 4)}:${h((k >> 8) & 255, 2)}:${h((k >> 3) & 31, 2)}.${k & 7},,dma,0x1000,64,read,`);
    const f = file('70k.csv', lines.join('\n') + '\n');
    for (const cmd of [['trace', 'info', f], ['run', f]]) {
      const r = iommusim(cmd);
      expect(r.code).toBe(2);
      expect(oneLine(r.err)).toMatch(/^iommusim: .*70k\.csv:65537: device 0000:ff:1f\.7 is the 65,536th distinct device of the trace; a trace holds at most 65,535 .*split the trace/);
    }
  });
  it('two devices of different segments with one bus:dev.fn: refused in one line, not merged into one requester', () => {
    const f = file('segments.csv', 'time_ns,device,pasid,op,iova,size,dir,paddr\n0,0000:03:00.0,,dma,0x1000,64,read,\n1,0001:03:00.0,,dma,0x1000,64,read,\n');
    for (const cmd of [['run', f], ['run', '--functional', f]]) {
      const r = iommusim(cmd);
      expect(r.code).toBe(2);
      expect(oneLine(r.err)).toMatch(/^iommusim: trace devices: devices 0000:03:00\.0 and 0001:03:00\.0 have the same requester id \(bus:dev\.fn 03:00\.0\) in different PCI segments.*; give each device its own bus:dev\.fn/);
    }
  });
});

// =====================================================================================
describe('trace gen writes as it goes', () => {
  const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
  // sha256 of trace gen's output, first pinned from the whole-buffer writer before it streamed
  // (commit 2390dfb) and re-pinned when the output itself changed: pciebench's map record covers
  // whole 2 MiB units; .iotrace is version 2 with the kind column; CSV has a kind column when a row
  // is not data (descriptors, write-backs); nic-tcp's host sends ACKs. The in-memory comparison
  // below pins the streaming itself.
  const BEFORE: Array<[string, string[], string, string]> = [
    ['pciebench', ['--set', 'workload.count=200000', '--set', 'workload.size=256', '--set', 'workload.seed=7'],
      '8d341600790cc8a1a1fb8f0464dca5fbeda4f716d8a9547147e6bafaf6dfe529', 'b1ae08cf4aa461fc6b5ddc345f15e18e3ea085cfe3d67db6cc85236c2a877aa7'],
    ['nic-tcp', ['--set', 'workload.count=3000'], '5e70f149ae6efdf3f737af05d76e6cd3405fa0d7a6171c3987f997c3e88d2e1c', 'c68b88ef3c3f724f3ada253c5277a93c30cb4c735bfe1da38c93f3c2be9c968a'],
    ['gpu-training', ['--set', 'workload.count=4'], '964b6f4c4117dc32a4a8f9a795d7d945e74ae185d5ffdda34447dc9a93da9682', '53089cf7c490e40208516794b9171b838a649ee9307755ff88269cec483e3a5b'],
    ['nic-real-iperf3', [], '94df79f1094090a5b7be1afc1a4a9498b8a8ccbe890e7a14765b7d04712dbf6b', 'b2ecd29a8a322939d79aa97cec1ec989b13f74c933653d401586316198581795'],
  ];
  for (const [name, set, csvSha, iotraceSha] of BEFORE) {
    it(`${name}: .csv and .iotrace byte-identical to the whole-buffer output`, () => {
      for (const [ext, want] of [['csv', csvSha], ['iotrace', iotraceSha]] as const) {
        const out = join(dir, `gen-${name}.${ext}`);
        const r = iommusim(['trace', 'gen', name, ...set, '-o', out]);
        expect(r.code, r.err).toBe(0);
        expect(sha(out), `${name}.${ext}`).toBe(want);
      }
    });
  }

  it('pciebench: the same bytes as writeCsvTrace / writeIotrace of the whole trace in memory', () => {
    const c = buildConfig([['workload.kind', 'pciebench'], ['workload.count', 200_000], ['workload.size', 256], ['workload.seed', 7]]);
    const t = pciebenchTrace(c);
    for (const [ext, whole] of [['csv', writeCsvTrace(t)], ['iotrace', writeIotrace(t)]] as const) {
      const out = join(dir, `gen-mem.${ext}`);
      expect(iommusim(['trace', 'gen', 'pciebench', ...BEFORE[0]![1], '-o', out]).code).toBe(0);
      expect(sha(out), ext).toBe(createHash('sha256').update(whole).digest('hex'));
    }
  });

  it('memory does not grow with the output: 3 M records (~120 MB of CSV) in under 250 MB of RSS', () => {
    const probe = file('rss.mjs', `process.on('exit', () => process.stderr.write('maxRSS ' + process.resourceUsage().maxRSS + '\\n'));\nprocess.argv.splice(1, 1);\nawait import(${JSON.stringify(cli)});\n`);
    const out = join(dir, 'big.csv');
    const r = spawnSync(process.execPath, [probe, 'probe', 'trace', 'gen', 'pciebench', '--set', 'workload.count=3000000', '-o', out], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${out}: 3000001 records (pciebench)\n`);
    const kb = Number(/maxRSS (\d+)/.exec(r.stderr)![1]);
    expect(readFileSync(out).length).toBeGreaterThan(100e6);
    expect(kb).toBeLessThan(250_000);
  });
});

// =====================================================================================
describe('trace info on a capture: what it holds, as capinfos and tshark say', () => {
  const captures = readdirSync(TRUTH).filter((f) => f.endsWith('.capinfos.txt')).map((f) => f.slice(0, -'.capinfos.txt'.length));
  const where = (f: string): string => [join(root, 'test/fixtures/pcap', f), join(root, 'workloads/captures', f)].find(existsSync)!;
  const capinfo = (text: string, key: string, sep = '[:=]'): string => {
    const m = new RegExp(`^\\s*${key}\\s*${sep}\\s*(.*)$`, 'm').exec(text);
    if (!m) throw new Error(`capinfos has no ${key}`);
    return m[1]!.trim();
  };

  it('both shipped captures are checked', () => {
    expect(captures.sort()).toEqual(['http_mixed_lo64k_snap128.pcap', 'tcp_iperf3_mtu1500_100M_snap128.pcap']);
    expect(where(captures[1]!)).toBe(IPERF);
  });

  for (const name of captures) {
    it(`${name} (and the same frames as pcapng): frames, bytes, first/last time, duration, link type, snaplen`, () => {
      const ci = readFileSync(join(TRUTH, `${name}.capinfos.txt`), 'utf8');
      const frames = readFileSync(join(TRUTH, `${name}.frames.csv`), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number));
      const wire = frames.reduce((s, f) => s + f[2]!, 0);
      const captured = frames.reduce((s, f) => s + f[3]!, 0);
      const ngPath = file(`${name}ng`, pcapToPcapng(new Uint8Array(readFileSync(where(name)))).bytes);
      for (const path of [where(name), ngPath]) {
        const r = iommusim(['trace', 'info', path, '--json']);
        expect(r.code, r.err).toBe(0);
        expect(r.err).toBe('');
        const c = JSON.parse(r.out).capture;
        expect(c.format).toBe(path === ngPath ? 'pcapng' : 'pcap');
        expect(c.frames).toBe(frames.length);
        expect(c.frames).toBe(Number(capinfo(ci, 'Number of packets', '=')));
        expect(c.wireBytes).toBe(wire);
        expect(c.capturedBytes).toBe(captured);
        const [size, unit] = capinfo(ci, 'Data size').split(' ');
        expect(Math.round(c.wireBytes / (unit === 'MB' ? 1e6 : 1e3))).toBe(Number(size));
        expect(c.firstPacket.text).toBe(capinfo(ci, 'First packet time'));
        expect(c.lastPacket.text).toBe(capinfo(ci, 'Last packet time'));
        expect(`${(c.durationNs / 1e9).toFixed(6)} seconds`).toBe(capinfo(ci, 'Capture duration'));
        expect(c.interfaces).toHaveLength(Number(capinfo(ci, 'Number of interfaces in file')));
        expect(capinfo(ci, 'Encapsulation')).toContain(`(${c.interfaces[0].linkType} - ether)`);
        expect(c.interfaces[0].snapLen).toBe(Number(capinfo(ci, 'Capture length')));
        expect(1e9 / c.interfaces[0].tsResolNs).toBe(Number(capinfo(ci, 'Time ticks per second')));
        expect(c.partial).toBe(false);
        // the text form says the same beside the DMA records
        const t = iommusim(['trace', 'info', path]);
        expect(t.out).toContain(`capture    ${frames.length} frames, ${captured} bytes captured, ${wire} bytes on the wire`);
        expect(t.out).toContain(`first packet ${capinfo(ci, 'First packet time')} UTC, last packet ${capinfo(ci, 'Last packet time')} UTC, duration ${capinfo(ci, 'Capture duration').replace(' seconds', '')} s`);
        expect(t.out).toMatch(/interface 0( \(lo\))?: link type 1 \(ETHERNET\), snaplen 128, µs timestamps/);
        expect(t.out).toMatch(/^ops {8}dma \d+/m);
      }
    });
  }
});
