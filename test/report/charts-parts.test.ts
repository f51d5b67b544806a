/** Parts of the I/O-path charts on hand-made runs: the passthrough / emulated ratio in the throughput chart's title. */
import { describe, it, expect } from 'vitest';
import { ratioText } from '../../src/report/charts.js';
import type { RunResult } from '../../src/report/input.js';

/** A run with only what ratioText reads: its I/O path and throughput. */
const run = (mode: string, throughputGbps: number): RunResult => ({ path: { mode, throughputGbps } }) as unknown as RunResult;
const series = (label: string, ...runs: Array<[string, number]>) => ({ label, runs: runs.map(([m, t]) => run(m, t)) });

describe('ratioText', () => {
  it('one series: passthrough over emulated, to two decimals', () => {
    expect(ratioText([series('', ['bare-metal', 10], ['passthrough', 9], ['emulated', 1])])).toBe(' (passthrough / emulated = 9×)');
    expect(ratioText([series('', ['passthrough', 8], ['emulated', 3])])).toBe(' (passthrough / emulated = 2.67×)');
  });
  it('passthrough with posted interrupts when it was run, else plain passthrough', () => {
    expect(ratioText([series('', ['passthrough', 6], ['passthrough-pi', 8], ['emulated', 4])])).toBe(' (passthrough / emulated = 2×)');
  });
  it('several series: each its own ratio with its label; a series without both paths (or with no emulated throughput) is left out', () => {
    const kvm = series('kvm', ['passthrough', 9], ['emulated', 3]);
    const xen = series('xen', ['passthrough-pi', 5], ['emulated', 2]);
    expect(ratioText([kvm, xen])).toBe(' (passthrough / emulated: kvm 3×, xen 2.5×)');
    expect(ratioText([kvm, series('xen', ['passthrough', 5], ['emulated', 0])])).toBe(' (passthrough / emulated = 3×)');
    expect(ratioText([series('kvm', ['passthrough', 9], ['virtio', 3]), series('xen', ['emulated', 1])])).toBe('');
    expect(ratioText([])).toBe('');
  });
});
