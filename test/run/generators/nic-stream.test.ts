/**
 * The NIC generators streamed (NicTraceStream over SyntheticPacketStream, src/run/generators/nic.ts
 * nicStream) give the rows the whole-trace build gives, in the same order, whatever the chunk
 * sizes; a run fed by the stream gives the whole run's result JSON byte for byte; `trace gen`
 * writes the same file as the whole columns would.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveInput, resolveStream, runResolved } from '../../../src/run/inputs.js';
import { nicStream } from '../../../src/run/generators/nic.js';
import { syntheticPackets, SyntheticPacketStream, NicTraceStream, nicTrace, onePacketChunk } from '../../../src/devices/nic/nic.js';
import { runTimedChunks } from '../../../src/run/timed.js';
import { runChunks } from '../../../src/run/run.js';
import { writeTraceFile } from '../../../src/trace/writer.js';
import type { TraceColumns } from '../../../src/trace/columns.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../setup/tmp.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
function runCli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Settings = Array<[string, string | number | boolean]>;
const COLS = ['timeNs', 'device', 'pasid', 'op', 'iovaHi', 'iovaLo', 'size', 'dir', 'paddrHi', 'paddrLo', 'kind'] as const;

/** Every row of a stream, copied out of its reused chunks. */
function collect(next: () => TraceColumns | null): { count: number; cols: Record<string, number[]>; chunks: number[] } {
  const cols: Record<string, number[]> = Object.fromEntries(COLS.map((c) => [c, [] as number[]]));
  const chunks: number[] = [];
  let count = 0;
  for (let t = next(); t !== null; t = next()) {
    expect(t.count).toBeGreaterThan(0);
    chunks.push(t.count);
    for (const c of COLS) for (let i = 0; i < t.count; i++) cols[c].push(t[c][i]);
    count += t.count;
  }
  return { count, cols, chunks };
}

function wholeCols(t: TraceColumns): Record<string, number[]> {
  return Object.fromEntries(COLS.map((c) => [c, Array.from(t[c].subarray(0, t.count))]));
}

const CASES: Array<[string, Settings]> = [
  ['nic-10g-tcp', [['workload.count', 3000]]],
  ['nic-10g-udp64', [['workload.count', 4000]]],
  ['nic-10g-udp64', [['workload.count', 4000], ['nic.iovaPolicy', 'page-pool']]],
  ['nic-10g-udp64', [['workload.count', 4000], ['nic.iovaPolicy', 'hugepage']]],
  ['nic-10g-memcached', [['workload.count', 3000]]],
  ['nic-100g-fs-5flows', [['workload.count', 3000]]],
  ['nic-100g-fs-40flows', [['workload.count', 3000]]],
  ['nic-real-iperf3', [['workload.count', 4000]]],
  ['nic-udp64', [['workload.count', 2000], ['workload.dir', 'by-flow']]],
];

describe('NIC generators streamed', () => {
  for (const [name, set] of CASES) {
    const label = `${name} ${set.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    it(`${label}: the whole build's rows, in small chunks`, () => {
      const [r] = resolveInput(name, set);
      const whole = r.columns!;
      // 97 rows, 13 packets a chunk: chunk ends fall inside a packet's rows and between interrupts and polls
      const s = nicStream(r.cfg, undefined, {}, 97, 13);
      expect(s.devices).toEqual(whole.devices);
      const got = collect(() => s.next());
      expect(got.count).toBe(whole.count);
      expect(got.chunks.length).toBeGreaterThan(10);
      expect(got.cols).toEqual(wholeCols(whole));
      expect(s.stats().records).toBe(whole.count);
    });
  }

  it('timed and functional runs fed by the stream give the whole runs\' result JSON', () => {
    for (const [name, set] of CASES.slice(0, 6)) {
      const [r] = resolveInput(name, set);
      const st = resolveStream(name, set)!;
      expect(st).not.toBeNull();
      expect(JSON.stringify(runTimedChunks(st.open(), st.cfg, st.label, 1024))).toBe(JSON.stringify(runResolved(r)));
      expect(JSON.stringify(runChunks(st.open(), st.cfg, st.label))).toBe(JSON.stringify(runResolved(r, true)));
    }
  });

  it('the stats of a stream are those of the whole build', () => {
    const [r] = resolveInput('nic-100g-fs-5flows', [['workload.count', 2000]]);
    const ncfg = r.cfg.nic; // the resolved config's section is the NIC's spec
    const packets = syntheticPackets({ count: 2000, sizeBytes: 4096, rateGbps: 100, flows: 5, seed: 1, l4: 6 });
    const whole = nicTrace(packets, ncfg, { device: '0000:03:00.0' });
    const s = new NicTraceStream(new SyntheticPacketStream({ count: 2000, sizeBytes: 4096, rateGbps: 100, flows: 5, seed: 1, l4: 6 }, 7), ncfg, { device: '0000:03:00.0' }, 50);
    const got = collect(() => s.next());
    expect(got.count).toBe(whole.trace.count);
    expect(s.stats()).toEqual(whole.stats);
  });

  it('maxPackets cuts the stream where the whole build cuts it, even at 0', () => {
    const [r] = resolveInput('nic-10g-tcp', [['workload.count', 500]]);
    const ncfg = r.cfg.nic; // the resolved config's section is the NIC's spec
    const opts = { count: 500, sizeBytes: 1514, rateGbps: 10, flows: 4, seed: 3, l4: 6 };
    for (const max of [0, 1, 17, 499, 500, 800]) {
      const whole = nicTrace(syntheticPackets(opts), ncfg, { device: '03:00.0', maxPackets: max });
      const s = new NicTraceStream(new SyntheticPacketStream(opts, 16), ncfg, { device: '03:00.0', maxPackets: max }, 33);
      const got = collect(() => s.next());
      expect(got.cols).toEqual(wholeCols(whole.trace));
      expect(s.stats()).toEqual(whole.stats);
    }
  });

  it('no packets: the rings are still set up, as in the whole build', () => {
    const [r] = resolveInput('nic-10g-udp64', [['workload.count', 10]]);
    const ncfg = r.cfg.nic; // the resolved config's section is the NIC's spec
    const opts = { count: 0, sizeBytes: 60, rateGbps: 10, flows: 4, seed: 1 };
    const whole = nicTrace(syntheticPackets(opts), ncfg, { device: '03:00.0' });
    const s = new NicTraceStream(new SyntheticPacketStream(opts, 3), ncfg, { device: '03:00.0' }, 5);
    const got = collect(() => s.next());
    expect(whole.trace.count).toBeGreaterThan(0);
    expect(got.cols).toEqual(wholeCols(whole.trace));
    expect(s.stats()).toEqual(whole.stats);
  });

  it('synthetic packets a chunk at a time are the same packets', () => {
    const opts = { count: 1000, sizeMix: [[60, 7], [590, 4], [1514, 1]] as Array<[number, number]>, rateGbps: 25, flows: 9, seed: 7, dir: 'by-flow' as const };
    const whole = syntheticPackets(opts);
    const s = new SyntheticPacketStream(opts, 64);
    const ts: number[] = [], len: number[] = [], hash: number[] = [], dir: number[] = [];
    for (let p = s.next(); p !== null; p = s.next()) {
      for (let i = 0; i < p.count; i++) { ts.push(p.tsNs[i]); len.push(p.origLen[i]); hash.push(p.flowHash[i]); dir.push(p.dir[i]); }
    }
    expect(ts).toEqual(Array.from(whole.tsNs));
    expect(len).toEqual(Array.from(whole.origLen));
    expect(hash).toEqual(Array.from(whole.flowHash));
    expect(dir).toEqual(Array.from(whole.dir));
    let payload = 0;
    for (let i = 0; i < whole.count; i++) payload += whole.origLen[i];
    expect(s.payloadBytes).toBe(payload);
  });

  it('onePacketChunk gives its packets once', () => {
    const p = syntheticPackets({ count: 3, sizeBytes: 64, rateGbps: 10, flows: 1, seed: 1 });
    const c = onePacketChunk(p);
    expect(c.next()).toBe(p);
    expect(c.next()).toBeNull();
  });

  it('trace gen writes the bytes the whole columns give (.iotrace and .csv)', () => {
    const dir = tempDir('iommusim-nicgen-');
    const set: Settings = [['workload.count', 70000]]; // > 65,536 rows: several writer chunks
    const [r] = resolveInput('nic-10g-udp64', set);
    for (const ext of ['iotrace', 'csv']) {
      const a = join(dir, `whole.${ext}`), b = join(dir, `streamed.${ext}`);
      writeTraceFile(r.columns!, a);
      const res = runCli(['trace', 'gen', 'nic-10g-udp64', '--set', 'workload.count=70000', '-o', b]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(`${r.columns!.count} records`);
      expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
    }
  });
});
