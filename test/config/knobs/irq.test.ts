import { describe, it, expect } from 'vitest';
import { IRQ_KNOBS, IRQ_DEFAULTS, resolveIrqSpec, irqSpecFrom } from '../../../src/config/knobs/irq.js';
import { parseKnobValue, KNOBS } from '../../../src/config/schema.js';
import { InputError } from '../../../src/util/errors.js';

describe('irq knobs', () => {
  it('follow the schema conventions: irq.* keys, a doc, a source, a unit on numbers, defaults that parse', () => {
    const keys = IRQ_KNOBS.map((k) => k.key);
    expect(keys).toEqual(expect.arrayContaining(['irq.irtEntries', 'irq.iec.entries', 'irq.iec.ways', 'irq.iec.policy', 'irq.iec.latencyCycles']));
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of IRQ_KNOBS) {
      expect(k.key.startsWith('irq.')).toBe(true);
      expect(k.doc.length).toBeGreaterThan(10);
      expect(k.source.length).toBeGreaterThan(10);
      if (k.kind === 'int' || k.kind === 'number') expect(k.unit, k.key).toBeTruthy();
      expect(parseKnobValue(k, k.key, k.default)).toEqual(k.default);
      const merged = KNOBS.find((s) => s.key === k.key); // once merged into the schema, it must be the same knob
      if (merged) expect(merged).toEqual(k);
    }
  });

  it('defaults', () => {
    expect(IRQ_DEFAULTS).toEqual({
      irtEntries: 65536,
      iec: { entries: 64, ways: 64, policy: 'lru', latencyCycles: 3 },
      x2apic: true, blockCompat: true, postedInterrupts: true,
    });
    expect(Object.isFrozen(IRQ_DEFAULTS)).toBe(true);
  });

  it('resolves settings, as strings or values', () => {
    const s = resolveIrqSpec({ 'irq.iec.entries': '128', 'irq.iec.ways': 8, 'irq.x2apic': 'false', 'iommu.levels': 5 });
    expect(s.iec).toMatchObject({ entries: 128, ways: 8 });
    expect(s.x2apic).toBe(false);
    expect(irqSpecFrom({ irq: { irtEntries: 1024, iec: { policy: 'plru', ways: 4 } } })).toMatchObject({ irtEntries: 1024, iec: { entries: 64, ways: 4, policy: 'plru' } });
    expect(irqSpecFrom(undefined)).toEqual(IRQ_DEFAULTS);
  });

  it('refuses bad values with a one-line InputError naming the key', () => {
    expect(() => resolveIrqSpec([['irq.irtEntries', 100]])).toThrow(/irq\.irtEntries=100.*power of two/);
    expect(() => resolveIrqSpec([['irq.irtEntries', 131072]])).toThrow(InputError);
    expect(() => resolveIrqSpec([['irq.iec.ways', 3]])).toThrow(/irq\.iec\.ways=3/);
    expect(() => resolveIrqSpec([['irq.iec.policy', 'mru']])).toThrow(/use one of lru/);
    expect(() => resolveIrqSpec([['irq.iec.entrys', 4]])).toThrow(/unknown interrupt-remapping key/);
  });
});
