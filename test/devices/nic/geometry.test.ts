/**
 * The NIC model's layout (nicGeometry: rings, mlx5 WQEs and CQs, huge-page carving, buffer regions)
 * on small hand-computed configs, and the zero-filled arrays the constructor destructures.
 */
import { describe, it, expect } from 'vitest';
import { nicGeometry, zeroed, NIC_PADDR_BUFFERS } from '../../../src/devices/nic/nic.js';
import { InputError } from '../../../src/util/errors.js';

type Layout = Parameters<typeof nicGeometry>[0];
const cfg = (o: Partial<Omit<Layout, 'rxRing' | 'txRing'>> & { rx: number; tx: number }): Layout => ({
  model: '82599', queues: 1, descriptorBytes: 16, bufferBytes: 2048, iovaPolicy: 'page-pool', ackBytes: 66, strideWqePages: 64,
  ...o, rxRing: { entries: o.rx }, txRing: { entries: o.tx },
});
const MiB = 1024 * 1024;

describe('nicGeometry', () => {
  it('82599, page-pool: descriptor rings of 16 B entries, RX buffers for two ring-fulls, the region rounded up to 2 MiB', () => {
    expect(nicGeometry(cfg({ queues: 2, rx: 512, tx: 256 }))).toEqual({
      slot: 2048, ackSlot: 128, // 66 B ACKs in 128 B slots
      wqeBytes: 64 * 4096, S: 128, W: 4, rxCqN: 512, E: 512, // 512 × 2 KiB = 1 MiB of strides: 4 WQEs of 256 KiB, 128 strides each
      perHuge: 1024, perHugeWqe: 8, hugePerQueue: 1, // (512 + 256) slots of 2 KiB fit one 2 MiB page
      rxRingPages: 2, txRingPages: 1, // 512 × 16 B = 8 KiB; 256 × 16 B = 4 KiB
      eqPages: 16, txCqPages: 4, rxCqPages: 8, // 1024 × 64 B; 256 × 64 B; 512 × 64 B
      rxPhysBytes: 2 * MiB, // 2 × 512 × 2 KiB
      regionBytes: 4 * MiB, // 2 MiB of RX + 2 × 256 × 2 KiB of TX = 3 MiB, rounded up to 2 MiB
      ackPhysBase: NIC_PADDR_BUFFERS + 2 * 4 * MiB,
    });
  });

  it('mlx5, hugepage: an RQ of 64 WQEs of 32 KiB (16 strides each), 64-byte WQE basic blocks, huge pages for the WQEs and the TX slots', () => {
    expect(nicGeometry(cfg({ model: 'mlx5', descriptorBytes: 64, iovaPolicy: 'hugepage', bufferBytes: 1500, ackBytes: 64, strideWqePages: 8, rx: 1024, tx: 512 }))).toEqual({
      slot: 2048, ackSlot: 64,
      wqeBytes: 32768, S: 16, W: 64, rxCqN: 1024, E: 1024, // 1024 frames × 2 KiB = 2 MiB = 64 WQEs of 32 KiB
      perHuge: 1024, perHugeWqe: 64, hugePerQueue: 2, // 64 WQEs in one huge page, 512 TX slots in another
      rxRingPages: 1, txRingPages: 8, // 64 × 64 B; 512 × 64 B
      eqPages: 16, txCqPages: 8, rxCqPages: 16,
      rxPhysBytes: 4 * MiB, // 2 × 64 × 32 KiB
      regionBytes: 6 * MiB, // 4 MiB + 2 × 512 × 2 KiB, above the 2 huge pages
      ackPhysBase: NIC_PADDR_BUFFERS + 6 * MiB,
    });
  });

  it('small rings under hugepage: the region is the huge pages (not the buffers), and an RQ has at least 2 WQEs', () => {
    const g = nicGeometry(cfg({ queues: 3, iovaPolicy: 'hugepage', ackBytes: 1500, rx: 64, tx: 64 }));
    expect(g).toMatchObject({ ackSlot: 2048, W: 2, rxCqN: 256, rxRingPages: 1, txRingPages: 1, rxCqPages: 4, rxPhysBytes: 256 * 1024, hugePerQueue: 1, regionBytes: 2 * MiB });
    expect(g.ackPhysBase).toBe(NIC_PADDR_BUFFERS + 3 * 2 * MiB);
    // the same rings with page-pool buffers: 512 KiB of buffers, still one 2 MiB-aligned region
    expect(nicGeometry(cfg({ queues: 3, rx: 64, tx: 64 })).regionBytes).toBe(2 * MiB);
  });

  it('jumbo buffers: whole-page slots, 170 of them to a huge page', () => {
    const g = nicGeometry(cfg({ iovaPolicy: 'hugepage', bufferBytes: 9000, rx: 512, tx: 512 }));
    expect(g).toMatchObject({ slot: 12288, perHuge: 170, hugePerQueue: 7, rxPhysBytes: 12 * MiB, regionBytes: 24 * MiB });
  });

  it('a buffer larger than a huge page cannot be carved from one under hugepage (other policies do not carve)', () => {
    const big = cfg({ iovaPolicy: 'hugepage', bufferBytes: 4 * MiB, rx: 8, tx: 8 });
    expect(() => nicGeometry(big)).toThrow(InputError);
    expect(() => nicGeometry(big)).toThrow(/^nic\.bufferBytes=4194304: a buffer larger than a 2 MiB huge page cannot be carved from one/);
    expect(nicGeometry({ ...big, iovaPolicy: 'per-packet' }).slot).toBe(4 * MiB);
  });
});

describe('zeroed', () => {
  it('gives as many fresh zero-filled arrays as are destructured', () => {
    const [a, b, c] = zeroed(Int32Array, 3);
    expect([a, b, c].map((x) => [...x])).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect(a).not.toBe(b);
    a[0] = 7;
    expect(b[0]).toBe(0);
    const [f] = zeroed(Float64Array, 2);
    const [u] = zeroed(Uint8Array, 0);
    expect(f).toEqual(new Float64Array(2));
    expect(u).toEqual(new Uint8Array(0));
  });
});
