/**
 * Interrupt remapping's statistics are declared once (src/iommu/irq/stats.ts): the remapping
 * unit's and the posted-interrupt descriptors' metrics() hold exactly their table's statistics in
 * its order, with the JSON order the hand-written objects had; the IEC hit rate is its formula.
 */
import { describe, it, expect } from 'vitest';
import { InterruptRemapper, encodeRemappableMsi } from '../../../src/iommu/irq/remap.js';
import { PostedInterrupts } from '../../../src/iommu/irq/posted.js';
import { IRQ_REMAP_STATS, POSTED_STATS } from '../../../src/iommu/irq/stats.js';
import { resolveIrqSpec } from '../../../src/config/knobs/irq.js';
import { valueAt, type Stat } from '../../../src/util/stats.js';

const NIC = 0x0300;
/** The object's leaves as dotted paths in JSON order; byName maps and records lists one leaf each. */
function leaves(o: unknown, prefix: string, whole: ReadonlySet<string>, out: string[] = []): string[] {
  if (typeof o === 'object' && o !== null && !Array.isArray(o) && !whole.has(prefix)) {
    for (const [k, v] of Object.entries(o)) leaves(v, prefix ? `${prefix}.${k}` : k, whole, out);
  } else out.push(prefix);
  return out;
}
const whole = (stats: readonly Stat<never>[]) => new Set(stats.filter((s) => s.kind === 'byName' || s.kind === 'records').map((s) => s.path));

function busy(): { r: InterruptRemapper; pi: PostedInterrupts } {
  const r = new InterruptRemapper(resolveIrqSpec([['irq.iec.entries', 2], ['irq.iec.ways', 2]]));
  const pi = new PostedInterrupts();
  const pda = pi.allocDescriptor(0xf2, 0, { running: true });
  for (const i of [1, 2, 3]) r.programIrte(i, { vector: 0x40 + i, destId: 1, sid: NIC, svt: 1 });
  r.programIrte(4, { posted: true, vector: 0x50, pda, sid: NIC, svt: 1 });
  for (const i of [1, 2, 1, 3, 2, 4, 9]) if (r.remap(NIC, encodeRemappableMsi(i, false), 0) === 2) pi.post(r.outPda, r.outVector, r.outUrgent);
  r.remap(0x0400, encodeRemappableMsi(1, false), 0); // another source-id: a fault
  r.invalidateIecGlobal();
  return { r, pi };
}

describe('interrupt remapping\'s statistics (src/iommu/irq/stats.ts)', () => {
  it('InterruptRemapper.metrics() is its table, in order', () => {
    const { r } = busy();
    const m = r.metrics();
    const s = IRQ_REMAP_STATS.stats;
    expect(leaves(m, '', whole(s))).toEqual(s.map((q) => q.path));
    expect(JSON.stringify(Object.keys(m))).toBe('["requests","remapped","posted","compatPassed","blocked","iec","irteReads","irteWrites","invalidations","faults"]');
    expect(Object.keys(m.faults)).toEqual(['count', 'recorded', 'suppressedByFpd', 'byCode', 'byReason', 'first']);
    expect(m.faults.count).toBeGreaterThan(0);
    expect(Object.keys(m.faults.byReason).length).toBe(Object.keys(m.faults.byCode).length);
    expect(m.faults.first[0]).toMatchObject({ sourceId: expect.any(Number), reason: expect.any(String), recorded: expect.any(Boolean) });
  });

  it('iec.hitRate = iec.hits / (iec.hits + iec.misses), 0 with no lookups', () => {
    const { r } = busy();
    const m = r.metrics();
    expect(m.iec.hits + m.iec.misses).toBeGreaterThan(0);
    expect(m.iec.hitRate).toBe(m.iec.hits / (m.iec.hits + m.iec.misses));
    expect(valueAt(new InterruptRemapper(resolveIrqSpec([])).metrics(), 'iec.hitRate')).toBe(0);
  });

  it('PostedInterrupts.metrics() is its table, in order', () => {
    const { pi } = busy();
    const m = pi.metrics();
    expect(Object.keys(m)).toEqual(POSTED_STATS.stats.map((q) => q.path));
    expect(m.descriptors).toBe(1);
    expect(m.posts).toBe(1);
  });
});
