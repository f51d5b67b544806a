import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadFtraceTrace } from '../../src/trace/importers/ftrace-dma.js';
import { OP_MAP, OP_UNMAP, OP_DMA, DIR_READ, DIR_WRITE, pageOf } from '../../src/trace/columns.js';

// Lines in the kernel's print formats (TP_printk of include/trace/events/iommu.h and dma.h in
// torvalds/linux; context columns as in Documentation/trace/ftrace.rst); synthetic.
const head = '# tracer: nop\n#\n';
const line = (t: string, ev: string, body: string) => `          <idle>-0       [002] d.h1.   ${t}: ${ev}: ${body}\n`;

describe('ftrace → DMA trace', () => {
  it('dma_map/unmap with the device: page-aligned maps, a synthesized write before the unmap', () => {
    const text = head
      + line('100.000000', 'dma_map_phys', '0000:3b:00.0 dir=FROM_DEVICE dma_addr=fffff0c2 size=1514 phys_addr=12345f0c2 attrs=')
      + line('100.000010', 'dma_unmap_phys', '0000:3b:00.0 dir=FROM_DEVICE dma_addr=fffff0c2 size=1514 attrs=');
    const { trace: t, stats } = loadFtraceTrace(text, 'a.txt');
    expect(stats).toMatchObject({ maps: 1, unmaps: 1, synthesizedDmas: 1, source: 'dma' });
    expect(t.devices).toEqual(['0000:3b:00.0']);
    expect(Array.from(t.op)).toEqual([OP_MAP, OP_DMA, OP_UNMAP]);
    expect(Array.from(t.timeNs)).toEqual([0, 9000, 10000]); // write 1 µs before the unmap
    expect(pageOf(t.iovaHi[0], t.iovaLo[0])).toBe(0xfffff);
    expect(t.size[0]).toBe(4096);
    expect(t.dir[0]).toBe(DIR_WRITE); // FROM_DEVICE: the device may only write
    expect(t.paddrLo[0] + t.paddrHi[0] * 2 ** 32).toBe(0x12345f000);
    expect(t.iovaLo[1]).toBe(0xfffff0c2);
    expect(t.size[1]).toBe(1514);
    expect(t.dir[1]).toBe(DIR_WRITE);
  });
  it('TO_DEVICE is read after the map; a short mapping is touched at its midpoint; iommu:* ignored when dma:* exist', () => {
    const text = head
      + line('1.000000', 'map', 'IOMMU: iova=0x00000000ffffe000 - 0x00000000fffff000 paddr=0x000000010a2c3000 size=4096')
      + line('1.000000', 'dma_map_page', '0000:00:1f.6 dir=TO_DEVICE dma_addr=ffffe040 size=66 phys_addr=10a2c3040 attrs=')
      + line('1.000001', 'dma_unmap_page', '0000:00:1f.6 dir=TO_DEVICE dma_addr=ffffe040 size=66 attrs=');
    const { trace: t } = loadFtraceTrace(text, 'b.txt');
    expect(Array.from(t.op)).toEqual([OP_MAP, OP_DMA, OP_UNMAP]);
    expect(Array.from(t.timeNs)).toEqual([0, 500, 1000]);
    expect(t.dir[1]).toBe(DIR_READ);
    expect(t.dir[0]).toBe(DIR_READ);
  });
  it('iommu:* only: mapped into the configured device', () => {
    const text = head
      + line('5.000000', 'map', 'IOMMU: iova=0x00000000ffe00000 - 0x00000000ffe08000 paddr=0x00000001a2b00000 size=32768')
      + line('5.000100', 'unmap', 'IOMMU: iova=0x00000000ffe00000 - 0x00000000ffe08000 size=32768 unmapped_size=32768');
    const { trace: t, stats } = loadFtraceTrace(text, 'c.txt', { device: '01:00.0' });
    expect(stats.source).toBe('iommu');
    expect(t.devices).toEqual(['0000:01:00.0']);
    expect(t.count).toBe(4); // map, read, write, unmap (BIDIRECTIONAL at the IOMMU level)
  });
  it('a trace without DMA events is refused with the fix', () => {
    const real = readFileSync(new URL('../fixtures/ftrace/real_linux-6.18_net_lo_trace.txt', import.meta.url), 'utf8');
    expect(() => loadFtraceTrace(real, 'real.txt')).toThrow(/real\.txt: no DMA-API or IOMMU map\/unmap events to replay \(net_dev_queue 66, net_dev_xmit 66, netif_receive_skb 66 skipped\); record with the dma and iommu event systems enabled/);
  });
  it('the synthetic fixtures of every layout give the same DMA trace', () => {
    const dir = new URL('../fixtures/ftrace/', import.meta.url);
    const a = loadFtraceTrace(readFileSync(new URL('synthetic_tracefs_5flags.txt', dir), 'utf8'), 'a').trace;
    const b = loadFtraceTrace(readFileSync(new URL('synthetic_trace-cmd.txt', dir), 'utf8'), 'b').trace;
    expect(b.count).toBe(a.count);
    expect(Array.from(b.op)).toEqual(Array.from(a.op));
    expect(Array.from(b.iovaLo)).toEqual(Array.from(a.iovaLo));
  });
});

describe('ftrace synthesis knobs', () => {
  it('synthesize=none replays mappings only; synthDelayNs moves the synthesized accesses', () => {
    const text = head
      + line('100.000000', 'dma_map_phys', '0000:3b:00.0 dir=FROM_DEVICE dma_addr=fffff0c2 size=1514 phys_addr=12345f0c2 attrs=')
      + line('100.000100', 'dma_unmap_phys', '0000:3b:00.0 dir=FROM_DEVICE dma_addr=fffff0c2 size=1514 attrs=');
    expect(loadFtraceTrace(text, 'n.txt', { synthesize: 'none' }).trace.count).toBe(2);
    const t = loadFtraceTrace(text, 'd.txt', { synthDelayNs: 20000 }).trace;
    expect(Array.from(t.timeNs)).toEqual([0, 80000, 100000]);
  });
});
