import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { IovaAllocator, MSI_FIRST_PFN, MSI_PAGES, WINDOW_PAGES, type IovaSpec } from '../../../src/devices/nic/iova.js';
import { InputError } from '../../../src/util/errors.js';

const spec = (o: Partial<IovaSpec> = {}): IovaSpec => ({
  cpus: 1, magazineEntries: 128, depotMagazines: 32, fqEntries: 0, fqTimeoutNs: 10_000_000, forceDac: false, apertureBits: 48, ...o,
});
const TOP = WINDOW_PAGES; // 2^20 pages = 4 GiB

describe('IOVA allocator: the tree (iova.c, top-down next-fit below 4 GiB)', () => {
  it('allocates from just below 4 GiB downwards, size-aligned', () => {
    const a = new IovaAllocator(spec());
    expect(a.alloc(1, 0, 0)).toBe(TOP - 1); // 0xfffff000
    expect(a.alloc(1, 0, 0)).toBe(TOP - 2);
    expect(a.alloc(2, 0, 0)).toBe(TOP - 4); // 2 pages, 2-aligned
    expect(a.alloc(3, 0, 0)).toBe(TOP - 8); // 3 → 4 pages (alloc_iova_fast rounds), 4-aligned
    expect(a.alloc(1, 0, 0)).toBe(TOP - 9);
    expect(a.alloc(512, 0, 0)).toBe(TOP - 1024); // 2 MiB, 2 MiB-aligned: the gap above is skipped
    expect(a.misses).toBe(6);
    expect(a.hits).toBe(0);
  });

  it('skips the reserved MSI range 0xfee00000-0xfeefffff', () => {
    const a = new IovaAllocator(spec());
    const above = TOP - (MSI_FIRST_PFN + MSI_PAGES); // 256 pages between the MSI range and 4 GiB
    for (let i = 0; i < above; i++) expect(a.alloc(1, 0, 0)).toBe(TOP - 1 - i);
    expect(a.alloc(1, 0, 0)).toBe(MSI_FIRST_PFN - 1); // 0xfedff000
  });

  it('a free at or above the cached node moves it up, so the hole is reused next (__cached_rbnode_delete_update)', () => {
    const a = new IovaAllocator(spec({ magazineEntries: 1, depotMagazines: 0 }));
    const x = [a.alloc(64, 0, 0), a.alloc(64, 0, 0), a.alloc(64, 0, 0)]; // 64 pages: not cached, to the tree
    expect(x).toEqual([TOP - 64, TOP - 128, TOP - 192]);
    a.free(x[1], 64, 0, 0);
    expect(a.alloc(64, 0, 0)).toBe(TOP - 128);
    a.free(x[2], 64, 0, 0); // below the cached node: the cursor stays
    expect(a.alloc(64, 0, 0)).toBe(TOP - 192);
  });

  it('retries above the cached node when nothing fits below it', () => {
    const a = new IovaAllocator(spec());
    // 2^18-page blocks: [3·2^18, 2^20) holds the MSI range, [0, 2^18) page 0, so two fit
    expect(a.alloc(1 << 18, 0, 0)).toBe(1 << 19);
    expect(a.alloc(1 << 18, 0, 0)).toBe(1 << 18);
    expect(a.alloc(1 << 17, 0, 0)).toBe(1 << 17); // the cached node is now at 2^17
    // nothing aligned fits below 2^17, so the search retries between the cached node and 4 GiB
    expect(a.alloc(1 << 17, 0, 0)).toBe(0xc0000);
  });

  it('switches for good to the top of the aperture when 4 GiB below is exhausted (SAC first, then DAC)', () => {
    const a = new IovaAllocator(spec({ apertureBits: 48 }));
    // a 2 GiB-aligned 2 GiB block cannot fit below 4 GiB: page 0 and the MSI range are in the way
    expect(a.alloc(1 << 19, 0, 0)).toBe(2 ** 36 - (1 << 19));
    expect(a.alloc(1, 0, 0)).toBe(2 ** 36 - (1 << 19) - 1); // no return to 32-bit addresses
  });

  it('forceDac starts at the top of the aperture; a 32-bit aperture that fills up is an InputError naming nic.iova', () => {
    expect(new IovaAllocator(spec({ forceDac: true, apertureBits: 39 })).alloc(1, 0, 0)).toBe(2 ** 27 - 1);
    const a = new IovaAllocator(spec({ apertureBits: 32 }));
    let err: unknown;
    try { a.alloc(1 << 19, 0, 0); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^nic\.iova: the IOVA space is exhausted/);
    expect((err as Error).message).not.toContain('\n');
  });
});

describe('IOVA allocator: per-CPU magazines and depot (iova_rcache)', () => {
  it('reuses freed IOVAs last-in first-out, per CPU and size class', () => {
    const a = new IovaAllocator(spec({ cpus: 2 }));
    const x = [a.alloc(1, 0, 0), a.alloc(1, 0, 0), a.alloc(1, 0, 0)];
    for (const p of x) a.free(p, 1, 0, 0);
    expect(a.alloc(2, 0, 0)).toBe(TOP - 6); // another size class: a miss, from the tree (2-aligned, below TOP − 3)
    expect(a.alloc(1, 1, 0)).toBe(TOP - 7); // another CPU: a miss
    expect([a.alloc(1, 0, 0), a.alloc(1, 0, 0), a.alloc(1, 0, 0)]).toEqual([x[2], x[1], x[0]]);
    expect(a.hits).toBe(3);
    expect(a.misses).toBe(5);
  });

  it('loaded, then prev (swapped), then the depot; a full depot frees a magazine to the tree', () => {
    const a = new IovaAllocator(spec({ magazineEntries: 2, depotMagazines: 1 }));
    const x: number[] = [];
    for (let i = 0; i < 7; i++) x.push(a.alloc(1, 0, 0));
    for (const p of x) a.free(p, 1, 0, 0);
    // loaded [x6], prev [x0 x1], depot [[x2 x3]], x4 and x5 went back to the tree
    const got: number[] = [];
    for (let i = 0; i < 5; i++) got.push(a.alloc(1, 0, 0));
    expect(got).toEqual([x[6], x[1], x[0], x[3], x[2]]);
    expect(a.hits).toBe(5);
    // freeing x4 to the tree moved the cached node up to x3 (still allocated: it sat in a magazine),
    // so the next miss takes the highest free page below it
    expect(a.alloc(1, 0, 0)).toBe(x[4]);
    expect(a.misses).toBe(8);
  });

  it('when the tree is full, every cached IOVA goes back to it and the allocation is retried', () => {
    const a = new IovaAllocator(spec({ cpus: 2, apertureBits: 32 }));
    const p = a.alloc(1, 0, 0);
    for (let k = 19; k >= 0; k--) {
      for (;;) { try { a.alloc(2 ** k, 0, 0); } catch (e) { expect(e).toBeInstanceOf(InputError); break; } }
    }
    const flushesWhenFull = a.rcacheFlushes;
    a.free(p, 1, 0, 0); // into CPU 0's cache; still allocated in the tree
    expect(a.alloc(1, 1, 0)).toBe(p); // CPU 1's cache is empty, the tree full: flush the caches, retry
    expect(a.rcacheFlushes).toBe(flushesWhenFull + 1);
  });
});

describe('IOVA allocator: the flush queue (lazy mode) follows the IOMMU model\'s flush points', () => {
  it('an unmapped IOVA is reused only after fqEntries unmaps are pending (the flush)', () => {
    const a = new IovaAllocator(spec({ fqEntries: 3 }));
    const x = [a.alloc(1, 0, 0), a.alloc(1, 0, 0), a.alloc(1, 0, 0)];
    a.free(x[0], 1, 0, 0);
    a.free(x[1], 1, 0, 0);
    expect(a.queued).toBe(2);
    expect(a.alloc(1, 0, 0)).toBe(TOP - 4); // not reused: still waiting for the flush
    a.free(x[2], 1, 0, 0); // the third: flush
    expect(a.queued).toBe(0);
    expect(a.flushes).toBe(1);
    expect(a.alloc(1, 0, 0)).toBe(x[2]);
  });

  it('or at the first call fqTimeoutNs after the oldest pending unmap, into the CPU that queued it', () => {
    const a = new IovaAllocator(spec({ cpus: 2, fqEntries: 256, fqTimeoutNs: 1000 }));
    const p = a.alloc(1, 1, 0);
    a.free(p, 1, 1, 100);
    expect(a.alloc(1, 1, 1099)).not.toBe(p);
    expect(a.alloc(1, 0, 1100)).not.toBe(p); // the timer fired, but into CPU 1's cache
    expect(a.timerFlushes).toBe(1);
    expect(a.alloc(1, 1, 1100)).toBe(p);
  });

  it('fqEntries = 0 (strict) frees at unmap', () => {
    const a = new IovaAllocator(spec({ fqEntries: 0 }));
    const p = a.alloc(1, 0, 0);
    a.free(p, 1, 0, 0);
    expect(a.alloc(1, 0, 0)).toBe(p);
  });
});

describe('IOVA allocator: property', () => {
  it('live allocations never overlap, are size-aligned and below 4 GiB; cached ones are not handed out twice', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 300 }),
      fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 2 }),
      (ops, fq, mag, depot) => {
        const a = new IovaAllocator(spec({ cpus: 3, fqEntries: fq, magazineEntries: mag, depotMagazines: depot }));
        const live: Array<[number, number]> = [];
        let t = 0;
        for (const [doAlloc, pages, cpu] of ops) {
          t += 10;
          if (doAlloc || live.length === 0) {
            const p = a.alloc(pages, cpu, t);
            const size = pages < 32 ? 2 ** Math.ceil(Math.log2(pages)) : pages;
            expect(p % 2 ** Math.ceil(Math.log2(size))).toBe(0);
            expect(p).toBeGreaterThanOrEqual(1);
            expect(p + size).toBeLessThanOrEqual(TOP);
            for (const [q, n] of live) expect(p + size <= q || q + n <= p).toBe(true);
            if (!(p + size <= MSI_FIRST_PFN || p >= MSI_FIRST_PFN + MSI_PAGES)) throw new Error('allocated in the MSI range');
            live.push([p, size]);
          } else {
            const k = pages % live.length;
            const [p, size] = live.splice(k, 1)[0];
            a.free(p, size, cpu, t);
          }
        }
      }), { numRuns: 150 });
  });
});
