/**
 * A set-associative cache's geometry (the slice of the config every cache takes: the IOTLB, the
 * context, PASID and paging-structure caches, device TLBs, the interrupt-entry cache) and the one
 * validation of its values, below the cache model (src/cache/setassoc.ts) so the config resolver
 * checks a geometry without importing the model.
 */
import { inputError } from '../util/errors.js';
import type { Knob } from './knob.js';

export type Policy = 'lru' | 'plru' | 'fifo' | 'random';
export const POLICIES: readonly Policy[] = ['lru', 'plru', 'fifo', 'random'];

export interface CacheGeometry {
  /** Total entries. */
  entries: number;
  /** Ways per set; `ways == entries` is fully associative. */
  ways: number;
  /** Replacement policy. */
  policy: Policy;
}

const isPow2 = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** Throws a one-line InputError naming `key` (e.g. `iommu.iotlb`) when the geometry is impossible. */
export function validateGeometry(g: CacheGeometry, key: string): void {
  if (!Number.isInteger(g.entries) || g.entries < 1 || g.entries > 1 << 24) {
    throw inputError(`${key}.entries=${g.entries}`, 'must be a whole number from 1 to 16777216');
  }
  if (!Number.isInteger(g.ways) || g.ways < 1 || g.ways > g.entries) {
    throw inputError(`${key}.ways=${g.ways}`, `must be a whole number from 1 to entries (${g.entries})`);
  }
  if (g.entries % g.ways !== 0 || !isPow2(g.entries / g.ways)) {
    const ok: number[] = [];
    for (let w = 1; w <= g.entries; w++) if (g.entries % w === 0 && isPow2(g.entries / w)) ok.push(w);
    throw inputError(
      `${key}.ways=${g.ways}`,
      `sets = entries (${g.entries}) / ways must be a whole power of two`,
      `use one of ${ok.join(', ')}`,
    );
  }
  if (!POLICIES.includes(g.policy)) {
    throw inputError(`${key}.policy=${String(g.policy)}`, 'unknown replacement policy', `use one of ${POLICIES.join(', ')}`);
  }
  if (g.policy === 'plru' && !isPow2(g.ways)) {
    throw inputError(`${key}.ways=${g.ways}`, 'plru needs a power-of-two number of ways', 'use lru, or ways 1, 2, 4, 8, ...');
  }
}

/**
 * The knobs of one cache's geometry under `prefix` (entries, ways, policy), in the schema's format;
 * typed by their keys and kinds, so a table that spreads them (`as const`) gives its KnobTree the
 * geometry's fields.
 */
export function cacheKnobs<P extends string>(prefix: P, entries: number, ways: number, what: string, srcEntries: string, srcWays: string) {
  return [
    { key: `${prefix}.entries`, kind: 'int', default: entries, unit: 'entries', min: 1, max: 1 << 24, doc: `${what}: total entries`, source: srcEntries },
    { key: `${prefix}.ways`, kind: 'int', default: ways, unit: 'ways', min: 0, max: 1 << 24, doc: `${what}: ways per set (0 or = entries: fully associative); entries/ways must be a power of two`, source: srcWays },
    { key: `${prefix}.policy`, kind: 'enum', default: 'lru', values: POLICIES, doc: `${what}: replacement policy (random is seeded by \`seed\`)`, source: 'LRU is the common modelling choice (gem5, ChampSim); hardware policies are not published' },
  ] as const satisfies readonly Knob[];
}

/** cacheKnobs and a `prefix.enabled` switch (a cache the hardware may leave out: the paging-structure caches). */
export function switchableCacheKnobs<P extends string>(prefix: P, entries: number, ways: number, what: string, srcEntries: string, srcWays: string) {
  return [
    ...cacheKnobs(prefix, entries, ways, what, srcEntries, srcWays),
    { key: `${prefix}.enabled`, kind: 'bool', default: true, doc: `${what}: present (false: every probe misses, nothing is cached)`, source: 'VT-d spec: paging-structure caches are implementation options; Intel server parts have them (Rubin et al., SOSP 2024 §2.1) [P]' },
  ] as const satisfies readonly Knob[];
}
