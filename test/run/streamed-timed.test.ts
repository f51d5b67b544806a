/**
 * The timed replay of a trace read a chunk at a time (runTimedIotraceStreaming) gives the result of
 * the whole trace loaded and replayed, byte for byte: every shipped NIC and GPU workload and the
 * real iperf3 capture, written as .iotrace in small chunks so that requests pending at the engine
 * and records waiting at the unmap gate span chunk boundaries and the ring grows.
 */
import { describe, it, expect } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { resolveInput, fromColumns } from '../../src/run/inputs.js';
import { runTimedTrace, runTimedIotraceStreaming } from '../../src/run/timed.js';
import { writeIotrace } from '../../src/trace/iotrace.js';
import { tempDir } from '../setup/tmp.js';
import { isInputError } from '../../src/util/errors.js';
import { SHIPPED_WORKLOADS as cases } from '../setup/traces.js';

const dir = tempDir('iommusim-stream-');

function both(name: string, settings: Array<[string, string | number | boolean]>, chunkRecords: number) {
  const [r] = resolveInput(name, settings);
  const f = join(dir, `${name}-${chunkRecords}.iotrace`);
  writeFileSync(f, writeIotrace(r.columns!, { chunkRecords }));
  const whole = fromColumns(r.columns!, 'iotrace', f, r.cfg);
  const a = runTimedTrace(whole.columns!, r.cfg, whole.summary);
  const b = runTimedIotraceStreaming(f, r.cfg, basename(f), 1024); // the smallest ring: it wraps every 1,024 records
  return { a: JSON.stringify(a), b: JSON.stringify(b), records: r.columns!.count };
}

describe('timed replay read a chunk at a time', () => {
  for (const [name, set] of cases) {
    it(`${name}: the same result JSON as the whole trace`, () => {
      const r = both(name, set, 257); // chunks of 257 records: boundaries fall inside pending requests
      expect(r.records).toBeGreaterThan(500);
      expect(r.b).toBe(r.a);
    });
  }

  it('an overloaded device: the backlog outgrows the ring, which grows and stays exact', () => {
    // 100 G offered on a slow link: thousands of DMAs pending at once, far more than a 257-record chunk
    const r = both('nic-10g-udp64', [['workload.count', 6000], ['workload.rateGbps', 100], ['pcie.lanes', 1]], 257);
    expect(r.b).toBe(r.a);
  });

  it('a truncated .iotrace stops with one line naming the file', () => {
    const [r] = resolveInput('nic-10g-tcp', [['workload.count', 2000]]);
    const f = join(dir, 'cut.iotrace');
    const bytes = writeIotrace(r.columns!, { chunkRecords: 500 });
    writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    let err: unknown;
    try { runTimedIotraceStreaming(f, r.cfg, 'cut.iotrace'); } catch (e) { err = e; }
    expect(isInputError(err)).toBe(true);
    expect((err as Error).message.split('\n')).toHaveLength(1);
    expect((err as Error).message).toContain('cut.iotrace');
    expect(readFileSync(f).length).toBeGreaterThan(0);
  });
});
