/**
 * src/config/cache.ts: validateGeometry, the one check of a set-associative cache's geometry
 * (entries, ways, policy) — the exact one-line message for each impossible geometry, and the
 * geometries it accepts, directly and through the config resolver (ways 0 = fully associative).
 */
import { describe, it, expect } from 'vitest';
import { validateGeometry, POLICIES, type CacheGeometry, type Policy } from '../../src/config/cache.js';
import { InputError } from '../../src/util/errors.js';
import { buildConfig } from '../../src/config/config.js';

/** The message for geometry g under `key` (and a check that it is one InputError line). */
function bad(g: Partial<CacheGeometry> & Record<string, unknown>, key = 'iommu.iotlb'): string {
  try {
    validateGeometry({ entries: 64, ways: 4, policy: 'lru', ...g } as CacheGeometry, key);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error(`accepted ${JSON.stringify(g)}`);
}
const ok = (entries: number, ways: number, policy: Policy = 'lru') =>
  expect(() => validateGeometry({ entries, ways, policy }, 'c')).not.toThrow();

describe('validateGeometry: messages', () => {
  it('entries: a whole number from 1 to 2^24', () => {
    expect(bad({ entries: 0 })).toBe('iommu.iotlb.entries=0: must be a whole number from 1 to 16777216');
    expect(bad({ entries: 2 ** 24 + 1 })).toBe('iommu.iotlb.entries=16777217: must be a whole number from 1 to 16777216');
    expect(bad({ entries: 63.5 })).toBe('iommu.iotlb.entries=63.5: must be a whole number from 1 to 16777216');
    expect(bad({ entries: NaN })).toBe('iommu.iotlb.entries=NaN: must be a whole number from 1 to 16777216');
    expect(bad({ entries: -64 })).toBe('iommu.iotlb.entries=-64: must be a whole number from 1 to 16777216');
  });

  it('ways: a whole number from 1 to entries', () => {
    expect(bad({ ways: 0 })).toBe('iommu.iotlb.ways=0: must be a whole number from 1 to entries (64)');
    expect(bad({ ways: 128 })).toBe('iommu.iotlb.ways=128: must be a whole number from 1 to entries (64)');
    expect(bad({ ways: 2.5 })).toBe('iommu.iotlb.ways=2.5: must be a whole number from 1 to entries (64)');
  });

  it('sets = entries / ways must be a whole power of two; the fix lists the ways that work', () => {
    // 64 entries: 64 / w a power of two for w = 1, 2, 4, …, 64
    expect(bad({ ways: 3 })).toBe(
      'iommu.iotlb.ways=3: sets = entries (64) / ways must be a whole power of two; use one of 1, 2, 4, 8, 16, 32, 64',
    );
    // 48 entries: 48 / w ∈ {1, 2, 4, 8, 16} for w = 48, 24, 12, 6, 3
    expect(bad({ entries: 48, ways: 4 }, 'iommu.pwc.pde')).toBe(
      'iommu.pwc.pde.ways=4: sets = entries (48) / ways must be a whole power of two; use one of 3, 6, 12, 24, 48',
    );
    // divides but 3 sets: 12 entries, 4 ways
    expect(bad({ entries: 12, ways: 4 }, 'atc')).toBe(
      'atc.ways=4: sets = entries (12) / ways must be a whole power of two; use one of 3, 6, 12',
    );
  });

  it('policy: one of lru, plru, fifo, random', () => {
    expect(bad({ policy: 'mru' as Policy })).toBe('iommu.iotlb.policy=mru: unknown replacement policy; use one of lru, plru, fifo, random');
    expect(bad({ policy: undefined as unknown as Policy })).toBe('iommu.iotlb.policy=undefined: unknown replacement policy; use one of lru, plru, fifo, random');
    expect(POLICIES).toEqual(['lru', 'plru', 'fifo', 'random']);
  });

  it('plru needs a power-of-two number of ways', () => {
    expect(bad({ entries: 48, ways: 12, policy: 'plru' }, 'iommu.contextCache')).toBe(
      'iommu.contextCache.ways=12: plru needs a power-of-two number of ways; use lru, or ways 1, 2, 4, 8, ...',
    );
    expect(bad({ entries: 3, ways: 3, policy: 'plru' }, 'c')).toBe('c.ways=3: plru needs a power-of-two number of ways; use lru, or ways 1, 2, 4, 8, ...');
  });

  it('checks in order: entries, ways, sets, policy, plru', () => {
    expect(bad({ entries: 0, ways: 3, policy: 'x' as Policy })).toMatch(/^iommu\.iotlb\.entries=0: /);
    expect(bad({ ways: 0, policy: 'x' as Policy })).toMatch(/^iommu\.iotlb\.ways=0: must be a whole number/);
    expect(bad({ ways: 3, policy: 'x' as Policy })).toMatch(/^iommu\.iotlb\.ways=3: sets = /);
    expect(bad({ entries: 48, ways: 12, policy: 'x' as Policy })).toMatch(/^iommu\.iotlb\.policy=x: /);
  });
});

describe('validateGeometry: accepted geometries', () => {
  it('direct-mapped, set-associative and fully associative, every policy', () => {
    for (const p of POLICIES) {
      ok(64, 1, p);
      ok(64, 4, p);
      ok(64, 64, p);
    }
    ok(1, 1, 'plru');
    ok(2 ** 24, 2 ** 24);
    ok(2 ** 24, 1);
  });

  it('a non-power-of-two size with power-of-two sets (not plru unless the ways are a power of two)', () => {
    ok(48, 12); // 4 sets
    ok(48, 3, 'fifo'); // 16 sets
    ok(48, 48, 'random'); // 1 set
    ok(96, 3, 'lru');
    ok(96, 96, 'lru');
    ok(12, 3);
    ok(12, 12);
  });
});

describe('geometry through the config resolver', () => {
  it('ways = 0 is fully associative; an impossible geometry is the same one-line error under the knob\'s key', () => {
    const cfg = buildConfig([['iommu.iotlb.entries', 48], ['iommu.iotlb.ways', 0]]);
    expect(cfg.iommu.iotlb).toMatchObject({ entries: 48, ways: 48 });
    expect(() => buildConfig([['iommu.iotlb.ways', 3]])).toThrow(
      'iommu.iotlb.ways=3: sets = entries (64) / ways must be a whole power of two; use one of 1, 2, 4, 8, 16, 32, 64',
    );
    expect(() => buildConfig([['iommu.pwc.pde.policy', 'plru'], ['iommu.pwc.pde.entries', 48], ['iommu.pwc.pde.ways', 12]])).toThrow(
      'iommu.pwc.pde.ways=12: plru needs a power-of-two number of ways; use lru, or ways 1, 2, 4, 8, ...',
    );
    expect(() => buildConfig([['devices.03:00.0.atc.entries', 12], ['devices.03:00.0.atc.ways', 4]])).toThrow(
      'devices.0000:03:00.0.atc.ways=4: sets = entries (12) / ways must be a whole power of two; use one of 3, 6, 12',
    );
  });
});
