/** compare's text table: every value under its header (text left-aligned, numbers right-aligned). */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatCompare } from '../../src/cli/compare.js';
import type { CompareResult, ModeResult } from '../../src/run/compare.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Span { text: string; start: number; end: number }
/** Cells: runs of text separated by two or more spaces ("offered load" is one cell). */
const cells = (line: string): Span[] => [...line.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ text: m[0], start: m.index!, end: m.index! + m[0].length }));

/** Parse the table after `mode` and check each column lines up with its header: all starts or all ends. */
function checkTable(text: string): { headers: string[]; rows: string[][] } {
  const lines = text.split('\n');
  const h = lines.findIndex((l) => l.startsWith('mode '));
  expect(h).toBeGreaterThan(0);
  const headers = cells(lines[h]);
  const rows: Span[][] = [];
  for (const l of lines.slice(h + 1)) {
    if (l.trim() === '') break;
    const c = cells(l);
    if (c[1]?.text.startsWith('refused:')) {
      // the reason starts in the second column (its left edge, before a right-aligned header)
      expect(c[1].start).toBeGreaterThan(headers[0].end);
      expect(c[1].start).toBeLessThanOrEqual(headers[1].start);
      continue;
    }
    expect(c.map((x) => x.text), l).toHaveLength(headers.length);
    rows.push(c);
  }
  expect(rows.length).toBeGreaterThan(0);
  headers.forEach((hd, i) => {
    const left = rows.every((r) => r[i].start === hd.start);
    const right = rows.every((r) => r[i].end === hd.end);
    expect(left || right, `column '${hd.text}' (${hd.start}–${hd.end}): values at ${rows.map((r) => `${r[i].text}@${r[i].start}–${r[i].end}`).join(', ')}`).toBe(true);
  });
  return { headers: headers.map((x) => x.text), rows: rows.map((r) => r.map((x) => x.text)) };
}

describe('compare table', () => {
  it('iommusim compare nic-10g-tcp --hypervisor kvm: each value under its header', () => {
    const r = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'compare', 'nic-10g-tcp', '--hypervisor', 'kvm'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const t = checkTable(r.stdout);
    expect(t.headers).toEqual(['mode', 'Gb/s', 'bound by', 'cycles/pkt', 'vCPU+host', 'exits/s', 'irq/s', 'IOTLB hit', 'reads/walk', 'miss/4K', 'reads/4K', 'walk busy', 'order ns/pkt']);
    expect(t.rows.map((x) => x[0])).toEqual(['bare-metal', 'strict', 'lazy', 'passthrough', 'passthrough-pi', 'virtio', 'emulated']);
  });

  it('long modes, wide numbers and a refused path stay aligned', () => {
    const mode = (name: string, scale: number): ModeResult => ({
      mode: name, throughputGbps: 123.456 * scale, bottleneck: scale > 1 ? 'interrupt rate' : 'vCPU',
      cyclesPerPacket: { total: 1234567 * scale, guest: 1, host: 1234566 * scale }, exitsPerSec: 98765432 * scale, interruptsPerSec: 7 * scale,
      iotlb: { hitRate: 0.5, readsPerWalk: 12.345 }, refused: undefined,
    } as unknown as ModeResult);
    const r = {
      workload: 'w', hypervisor: { name: 'xen', description: 'd' }, passthroughOverEmulated: null,
      modes: [mode('passthrough-viommu', 1), mode('sriov', 1000), { ...mode('virtio', 1), refused: 'xen refuses virtio' }],
    } as unknown as CompareResult;
    const t = checkTable(formatCompare(r));
    expect(t.rows.map((x) => x[0])).toEqual(['passthrough-viommu', 'sriov']);
  });
});
