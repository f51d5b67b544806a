/**
 * `run` of a CSV, JSONL or ftrace trace or a capture reads it a chunk at a time (src/run/stream.ts);
 * the result JSON, timed and functional, is byte for byte the one of the whole file loaded and
 * replayed: every shipped NIC and GPU workload written as CSV and as JSONL, the shipped CSV example
 * (as a file and as its workload), every ftrace fixture, the real captures. Reads of a few bytes, small chunks and the smallest ring
 * put boundaries inside lines and inside requests the devices still hold.
 */
import { describe, it, expect } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, basename } from 'node:path';
import { resolveInput, runResolved } from '../../src/run/inputs.js';
import { runTimedChunks } from '../../src/run/timed.js';
import { runChunks } from '../../src/run/run.js';
import { openTraceStream, type StreamFormat, type StreamTuning } from '../../src/run/stream.js';
import { writeCsvTrace } from '../../src/trace/importers/csv.js';
import type { Config } from '../../src/config/config.js';
import { tempDir } from '../setup/tmp.js';
import { SHIPPED_WORKLOADS as cases, csvToJsonl as toJsonl, type Settings } from '../setup/traces.js';

const root = join(import.meta.dirname, '../..');
const dir = tempDir('iommusim-stream-run-');



/**
 * `run FILE` as the CLI does it (resolveInput with streaming, then runResolved) against the file
 * loaded whole (resolveInput without), timed and functional; and the stream read with `tune`.
 */
function expectSame(input: string, settings: Settings, format: StreamFormat, tune: StreamTuning): number {
  let records = 0;
  for (const functional of [false, true]) {
    const [whole] = resolveInput(input, settings);
    expect(whole.columns).toBeDefined();
    records = whole.columns!.count;
    const want = JSON.stringify(runResolved(whole, functional));
    const [lazy] = resolveInput(input, settings, 'auto', {}, true);
    expect(lazy.stream?.format).toBe(format);
    expect(lazy.columns).toBeUndefined();
    expect(JSON.stringify(runResolved(lazy, functional)), `${input} ${functional ? 'functional' : 'timed'}`).toBe(want);
    if (!lazy.spec) {
      const s = openTraceStream(input, format, lazy.stream!.opts, lazy.cfg, {}, tune);
      try {
        const cfg = lazy.cfg as Readonly<Config>;
        const label = { name: basename(input), source: input, format };
        const r = functional ? runChunks(s.chunks(), cfg, label) : runTimedChunks(s.chunks(), cfg, label, 1024);
        expect(JSON.stringify(r), `${input} ${functional ? 'functional' : 'timed'} ${JSON.stringify(tune)}`).toBe(want);
      } finally {
        s.close();
      }
    }
  }
  return records;
}

const TINY: StreamTuning = { readBytes: 7, chunkRecords: 257, windowNs: 0 };

describe('run of a text trace read a chunk at a time', () => {
  // the shipped workloads (as streamed-timed.test.ts replays them from .iotrace), here as CSV and JSONL
  for (const [name, set] of cases) {
    it(`${name} as CSV and JSONL: the result JSON of the whole file`, () => {
      const [r] = resolveInput(name, set);
      // the trace replayed under the workload's own configuration
      const settings: Settings = Object.entries(flatten(r.cfg)).map(([k, v]) => [k, v]);
      const csv = writeCsvTrace(r.columns!);
      const f = join(dir, `${name}.csv`);
      writeFileSync(f, csv);
      expect(expectSame(f, settings, 'csv', { ...TINY, readBytes: 61 })).toBeGreaterThan(500);
      const j = join(dir, `${name}.jsonl`);
      writeFileSync(j, toJsonl(csv));
      expectSame(j, settings, 'jsonl', { ...TINY, readBytes: 1000 });
    });
  }

  it('the shipped CSV example, as a file and as its workload', () => {
    const ring = join(root, 'workloads/examples/nic-rx-ring.csv');
    expect(expectSame(ring, [['iommu.mode', 'strict']], 'csv', TINY)).toBe(5377);
    expectSame(ring, [], 'csv', { readBytes: 64, chunkRecords: 64 });
    expectSame('nic-rx-ring', [], 'csv', {});
  });

  it('every ftrace fixture, default and with a short synthesized-access delay', () => {
    for (const f of ['synthetic_tracefs_5flags.txt', 'synthetic_trace_pipe_4flags_tgid.txt', 'synthetic_tracefs_noirqinfo_counter.txt',
      'synthetic_trace-cmd.txt', 'synthetic_trace-cmd_t_ns.txt', 'synthetic_trace-cmd_l.txt']) {
      const path = join(root, 'test/fixtures/ftrace', f);
      expect(expectSame(path, [], 'ftrace', TINY)).toBe(296);
      expectSame(path, [['ftrace.synthDelayNs', 50], ['iommu.mode', 'strict']], 'ftrace', { readBytes: 300, chunkRecords: 16, windowNs: 100 });
    }
  });

  it('the real captures (and one gzipped) as the NIC model\'s rows, a chunk at a time (pcapng: test/trace/capture-file.test.ts)', () => {
    const iperf = join(root, 'workloads/captures/tcp_iperf3_mtu1500_100M_snap128.pcap');
    const http = join(root, 'test/fixtures/pcap/http_mixed_lo64k_snap128.pcap');
    const gz = join(dir, 'http.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(http)));
    const tiny: StreamTuning = { chunkRecords: 97, chunkPackets: 13 };
    expect(expectSame(iperf, [['iommu.mode', 'strict']], 'pcap', tiny)).toBeGreaterThan(30000);
    expectSame(iperf, [['nic.model', 'mlx5'], ['nic.iovaPolicy', 'page-pool']], 'pcap', {});
    expect(expectSame(http, [], 'pcap', tiny)).toBeGreaterThan(1000);
    expectSame(gz, [['iommu.mode', 'lazy']], 'pcap', tiny);
  });
});

/** A config as `key=value` settings (leaves only): the same config when built again. */
function flatten(o: unknown, prefix = ''): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatten(v, key));
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
  }
  return out;
}
