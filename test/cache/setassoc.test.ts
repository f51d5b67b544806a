import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SetAssocCache, createCache, validateGeometry, ANY, type Policy } from '../../src/cache/setassoc.js';

/** Run a key sequence on a cache (lookup, fill on miss); return 'H'/'M' per access. */
function trace(c: SetAssocCache, keys: number[]): string {
  let s = '';
  for (const k of keys) {
    if (c.lookup(0, 0, k) >= 0) s += 'H';
    else { s += 'M'; c.insert(0, 0, k, k * 10, 0); }
  }
  return s;
}

describe('set-associative cache: hand-computed sequences', () => {
  // One set of 4 ways (fully associative), keys 1..5.
  const seq = [1, 2, 3, 4, 1, 5, 2, 1, 3];
  it('lru', () => {
    // 1 2 3 4 miss; 1 hit (order 2 3 4 1); 5 evicts 2 → (3 4 1 5); 2 miss evicts 3 → (4 1 5 2);
    // 1 hit → (4 5 2 1); 3 miss evicts 4.
    expect(trace(createCache({ entries: 4, ways: 4, policy: 'lru' }), seq)).toBe('MMMMHMMHM');
  });
  it('fifo', () => {
    // fills 1 2 3 4; 1 hit (no change); 5 evicts 1 → (2 3 4 5); 2 hit; 1 miss evicts 2 → (3 4 5 1); 3 hit.
    expect(trace(createCache({ entries: 4, ways: 4, policy: 'fifo' }), seq)).toBe('MMMMHMHMH');
  });
  it('plru (tree)', () => {
    // ways 0..3 hold 1 2 3 4 after the fills; tree after touching way 3 (4): root→left (0), node2→way1.
    // hit 1 (way 0): root→right, node2→way1. 5: root says right, node3 says way2 (3 touched before 4) ...
    // node3 was set by touching way3 → points to way2. So 5 replaces 3 (way 2): ways 1 2 5 4.
    // 2 hit (way 1): root→right, node2→way0. 1 hit (way 0): root→right, node2→way1. 3 miss: root right,
    // node3: touching way2 (5) pointed it to way3 → evict 4.
    expect(trace(createCache({ entries: 4, ways: 4, policy: 'plru' }), seq)).toBe('MMMMHMHHM');
  });
  it('random is seeded and deterministic', () => {
    const a = trace(createCache({ entries: 4, ways: 4, policy: 'random' }, 'c', 7), [...seq, ...seq, ...seq]);
    const b = trace(createCache({ entries: 4, ways: 4, policy: 'random' }, 'c', 7), [...seq, ...seq, ...seq]);
    expect(a).toBe(b);
    expect(a.slice(0, 5)).toBe('MMMMH');
  });
  it('set index is the key mod sets; the tag holds tagA and tagB', () => {
    const c = createCache({ entries: 8, ways: 2, policy: 'lru' }); // 4 sets
    c.insert(1, 0, 5, 50, 0); // set 1
    c.insert(2, 0, 5, 51, 0); // same set, other domain
    c.insert(1, 0, 9, 90, 0); // set 1 again: evicts LRU (domain 1, key 5)
    expect(c.find(1, 0, 5)).toBe(-1);
    expect(c.dataN[c.find(2, 0, 5)]).toBe(51);
    expect(c.setBase(9)).toBe(2);
    expect(c.setBase(2 ** 40 + 3)).toBe(6); // large page numbers: (2^40 + 3) mod 4 = 3
  });
  it('invalidation by key, by range, by tag, all', () => {
    const c = createCache({ entries: 16, ways: 4, policy: 'lru' });
    for (let k = 0; k < 8; k++) c.insert(k % 2, 0, k, k, 0);
    expect(c.live).toBe(8);
    expect(c.invalidateKey(1, 0, 3)).toBe(1);
    expect(c.invalidateWhere(0, ANY, 0, 4)).toBe(2); // keys 0 and 2 of domain 0
    expect(c.invalidateWhere(1, ANY, 0, 2 ** 53)).toBe(3); // 1, 5, 7
    expect(c.live).toBe(2);
    expect(c.invalidateAll()).toBe(2);
    expect(c.live).toBe(0);
    expect(c.invalidated).toBe(8);
  });
  it('an invalidated way is refilled before any valid entry is evicted', () => {
    const c = createCache({ entries: 2, ways: 2, policy: 'lru' });
    c.insert(0, 0, 1, 0, 0);
    c.insert(0, 0, 2, 0, 0);
    c.lookup(0, 0, 1); // 2 is LRU
    c.invalidateKey(0, 0, 1);
    c.insert(0, 0, 3, 0, 0);
    expect(c.find(0, 0, 2)).toBeGreaterThanOrEqual(0);
    expect(c.evictions).toBe(0);
  });
  it('wide sets (ways > 8): lru order on the list, lowest empty way first', () => {
    const c = createCache({ entries: 16, ways: 16, policy: 'lru' });
    for (let k = 0; k < 16; k++) expect(c.insert(0, 0, k, 0, 0)).toBe(k); // empty ways in order
    for (let k = 15; k >= 0; k--) c.lookup(0, 0, k); // recency now 0 (most) … 15 (least)
    c.insert(0, 0, 100, 0, 0);
    expect(c.find(0, 0, 15)).toBe(-1); // least recent evicted
    c.insert(0, 0, 101, 0, 0);
    expect(c.find(0, 0, 14)).toBe(-1);
    for (let k = 0; k < 14; k++) expect(c.find(0, 0, k)).toBeGreaterThanOrEqual(0);
    c.invalidateKey(0, 0, 3);
    c.invalidateKey(0, 0, 1);
    expect(c.insert(0, 0, 200, 0, 0)).toBe(1); // the lowest empty way, before any eviction
    expect(c.insert(0, 0, 201, 0, 0)).toBe(3);
    expect(c.evictions).toBe(2);
  });
  it('wide sets: the hash index survives churn (fill, evict, invalidate) with colliding keys', () => {
    const c = createCache({ entries: 64, ways: 64, policy: 'fifo' });
    const present = new Map<string, number>();
    let x = 7;
    const rnd = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
    const order: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const a = rnd() % 3, num = (rnd() % 200) * 2 ** 33 + (rnd() % 7); // many keys share low bits
      const k = `${a}:${num}`;
      if (rnd() % 5 === 0) {
        const had = present.has(k);
        expect(c.invalidateKey(a, 0, num)).toBe(had ? 1 : 0);
        if (had) { present.delete(k); order.splice(order.indexOf(k), 1); }
        continue;
      }
      const hit = c.lookup(a, 0, num) >= 0;
      expect(hit).toBe(present.has(k));
      if (!hit) {
        if (present.size === 64) { const old = order.shift()!; present.delete(old); }
        c.fillAbsent(a, 0, num, 0, 0);
        present.set(k, 1);
        order.push(k);
      }
    }
    expect(c.live).toBe(present.size);
    for (const k of present.keys()) { const [a, n] = k.split(':').map(Number); expect(c.find(a, 0, n)).toBeGreaterThanOrEqual(0); }
  });
  it('tagA -2^31 is reserved (it marks an empty slot)', () => {
    const c = createCache({ entries: 4, ways: 4, policy: 'lru' });
    expect(() => c.insert(ANY, 0, 1, 0, 0)).toThrow(/reserved/);
    expect(() => c.fillAbsent(ANY, 0, 1, 0, 0)).toThrow(/reserved/);
    expect(c.live).toBe(0);
  });
  it('geometry validation names the key and says what to do', () => {
    expect(() => validateGeometry({ entries: 64, ways: 3, policy: 'lru' }, 'iommu.iotlb')).toThrow(/iommu\.iotlb\.ways=3: .*power of two.*use one of 1, 2, 4, 8, 16, 32, 64/);
    expect(() => validateGeometry({ entries: 48, ways: 12, policy: 'lru' }, 'x')).not.toThrow();
    expect(() => validateGeometry({ entries: 48, ways: 4, policy: 'lru' }, 'x')).toThrow(/power of two/);
    expect(() => validateGeometry({ entries: 12, ways: 6, policy: 'plru' }, 'x')).toThrow(/plru needs a power-of-two/);
    expect(() => validateGeometry({ entries: 8, ways: 2, policy: 'mru' as Policy }, 'x')).toThrow(/x\.policy=mru: unknown replacement policy/);
  });
});

// ---------------------------------------------------------------- reference model

/** An obviously correct model: per set, an array of ways holding keys or null. */
class RefCache {
  readonly sets: number;
  readonly ways: number;
  readonly slots: Array<Array<string | null>>;
  readonly order: Array<Array<string>>; // lru: least recent first; fifo: oldest first
  readonly tree: number[][];
  rng: number;
  constructor(entries: number, ways: number, readonly policy: Policy, seed: number) {
    this.ways = ways;
    this.sets = entries / ways;
    this.slots = Array.from({ length: this.sets }, () => Array(ways).fill(null));
    this.order = Array.from({ length: this.sets }, () => []);
    this.tree = Array.from({ length: this.sets }, () => Array(ways).fill(0));
    this.rng = seed >>> 0 || 0x9e3779b9;
  }
  private set(num: number) { return num % this.sets; }
  private plruTouch(s: number, way: number) {
    // recursive definition: at each node, remember that the victim is on the other side
    const rec = (node: number, lo: number, size: number): void => {
      if (size === 1) return;
      const half = size / 2;
      const right = way >= lo + half;
      this.tree[s][node] = right ? 0 : 1;
      rec(node * 2 + (right ? 1 : 0), right ? lo + half : lo, half);
    };
    rec(1, 0, this.ways);
  }
  private plruVictim(s: number): number {
    let lo = 0, size = this.ways, node = 1;
    while (size > 1) {
      const half = size / 2;
      const goRight = this.tree[s][node] === 1;
      node = node * 2 + (goRight ? 1 : 0);
      if (goRight) lo += half;
      size = half;
    }
    return lo;
  }
  access(key: string, num: number): boolean {
    const s = this.set(num);
    const w = this.slots[s].indexOf(key);
    if (w >= 0) {
      if (this.policy === 'lru') { this.order[s].splice(this.order[s].indexOf(key), 1); this.order[s].push(key); }
      if (this.policy === 'plru') this.plruTouch(s, w);
      return true;
    }
    let way = this.slots[s].indexOf(null);
    if (way < 0) {
      if (this.policy === 'lru' || this.policy === 'fifo') way = this.slots[s].indexOf(this.order[s][0]);
      else if (this.policy === 'plru') way = this.plruVictim(s);
      else {
        let x = this.rng;
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        this.rng = x;
        way = x % this.ways;
      }
      const old = this.slots[s][way]!;
      const oi = this.order[s].indexOf(old);
      if (oi >= 0) this.order[s].splice(oi, 1);
    }
    this.slots[s][way] = key;
    this.order[s].push(key);
    if (this.policy === 'plru') this.plruTouch(s, way);
    return false;
  }
  invalidate(key: string, num: number) {
    const s = this.set(num);
    const w = this.slots[s].indexOf(key);
    if (w < 0) return;
    this.slots[s][w] = null;
    this.order[s].splice(this.order[s].indexOf(key), 1);
  }
}

describe('set-associative cache: property test against a reference model', () => {
  const geometries: Array<[number, number]> = [[1, 1], [4, 4], [8, 2], [16, 4], [32, 8], [64, 64], [16, 1], [16, 16], [64, 16], [48, 12], [128, 128]];
  for (const policy of ['lru', 'plru', 'fifo', 'random'] as Policy[]) {
    for (const [entries, ways] of geometries) {
      if (policy === 'plru' && (ways & (ways - 1)) !== 0) continue; // plru needs power-of-two ways
      it(`${policy} ${entries} entries ${ways}-way`, () => {
        fc.assert(
          fc.property(
            fc.array(fc.record({ inv: fc.integer({ min: 0, max: 9 }), a: fc.integer({ min: 0, max: 2 }), num: fc.integer({ min: 0, max: 3 * entries + 3 }), span: fc.integer({ min: 1, max: 2 * entries + 2 }), anyA: fc.boolean() }), { maxLength: 300 }),
            fc.integer({ min: 1, max: 1000 }),
            (ops, seed) => {
              const c = createCache({ entries, ways, policy }, 'p', seed);
              const r = new RefCache(entries, ways, policy, seed);
              for (const o of ops) {
                const key = `${o.a}:${o.num}`;
                if (o.inv === 0) {
                  c.invalidateKey(o.a, 0, o.num);
                  r.invalidate(key, o.num);
                  continue;
                }
                if (o.inv === 1) {
                  // range invalidation: short ranges (one set per number), longer ones, any domain or one
                  const n = c.invalidateWhere(o.anyA ? ANY : o.a, ANY, o.num, o.num + o.span);
                  let m = 0;
                  for (let s = 0; s < r.sets; s++) for (const k of [...r.slots[s]]) if (k !== null) {
                    const [ka, kn] = k.split(':').map(Number);
                    if ((o.anyA || ka === o.a) && kn >= o.num && kn < o.num + o.span) { r.invalidate(k, kn); m++; }
                  }
                  if (n !== m) return false;
                  continue;
                }
                // a third of the probes go through lookupGuess with a guess that is right or wrong
                const hit = (o.span % 3 === 0 ? c.lookupGuess(o.span % entries, o.a, 0, o.num) : c.lookup(o.a, 0, o.num)) >= 0;
                if (!hit) { if (seed % 2 === 0) c.fillAbsent(o.a, 0, o.num, 0, 0); else c.insert(o.a, 0, o.num, 0, 0); }
                const rhit = r.access(key, o.num);
                if (hit !== rhit) return false;
              }
              // final contents agree
              for (let s = 0; s < r.sets; s++) for (const k of r.slots[s]) if (k !== null) {
                const [a, num] = k.split(':').map(Number);
                if (c.find(a, 0, num) < 0) return false;
              }
              return c.live === r.slots.flat().filter((x) => x !== null).length;
            },
          ),
          { numRuns: 150, seed: 42 },
        );
      });
    }
  }
});

describe('set-associative cache: the same key probed again (the last probe remembered), against the reference model', () => {
  // Runs of the same key (a DMA's pages share their 2 MiB, 1 GiB and paging-structure keys), with
  // fills, invalidations and other keys between them; every policy and both layouts.
  const geometries: Array<[number, number]> = [[4, 4], [16, 4], [8, 1], [32, 32], [64, 16]];
  for (const policy of ['lru', 'plru', 'fifo', 'random'] as Policy[]) {
    for (const [entries, ways] of geometries) {
      it(`${policy} ${entries} entries ${ways}-way`, () => {
        fc.assert(
          fc.property(
            fc.array(fc.record({ op: fc.integer({ min: 0, max: 19 }), same: fc.integer({ min: 0, max: 3 }), a: fc.integer({ min: 0, max: 1 }), num: fc.integer({ min: 0, max: 2 * entries + 1 }) }), { maxLength: 400 }),
            fc.integer({ min: 1, max: 1000 }),
            (ops, seed) => {
              const c = createCache({ entries, ways, policy }, 'p', seed);
              const r = new RefCache(entries, ways, policy, seed);
              let a = 0, num = 0;
              for (const o of ops) {
                if (o.same === 0) { a = o.a; num = o.num; } // else: the last key again
                const key = `${a}:${num}`;
                if (o.op === 0) { c.invalidateKey(a, 0, num); r.invalidate(key, num); continue; }
                if (o.op === 1) {
                  // drop another key of the same set, or a range
                  const n2 = num + c.sets;
                  c.invalidateKey(a, 0, n2); r.invalidate(`${a}:${n2}`, n2);
                  continue;
                }
                const hit = (o.op === 2 ? c.lookupGuess(num % entries, a, 0, num) : c.lookup(a, 0, num)) >= 0;
                const rhit = r.access(key, num);
                if (hit !== rhit) return false;
                if (!hit) { if (o.op % 2 === 0) c.fillAbsent(a, 0, num, num, 0); else c.insert(a, 0, num, num, 0); }
                else if (o.op === 3) c.insert(a, 0, num, num, 0); // a refresh of a present key (a use, as a hit)
                if (c.hits + c.misses === 0) return false;
              }
              for (let s = 0; s < r.sets; s++) for (const k of r.slots[s]) if (k !== null) {
                const [ka, kn] = k.split(':').map(Number);
                if (c.find(ka, 0, kn) < 0) return false;
              }
              return c.live === r.slots.flat().filter((x) => x !== null).length;
            },
          ),
          { numRuns: 200, seed: 11 },
        );
      });
    }
  }
  it('counts a probe of the remembered key as a hit or a miss, as a search would', () => {
    const c = createCache({ entries: 4, ways: 4, policy: 'lru' });
    expect(c.lookup(0, 0, 7)).toBe(-1);
    expect(c.lookup(0, 0, 7)).toBe(-1);
    expect(c.misses).toBe(2);
    const s = c.fillAbsent(0, 0, 7, 70, 1);
    expect(c.lookup(0, 0, 7)).toBe(s);
    expect(c.lookup(0, 0, 7)).toBe(s);
    expect(c.hits).toBe(2);
    c.invalidateKey(0, 0, 7);
    expect(c.lookup(0, 0, 7)).toBe(-1);
    expect(c.misses).toBe(3);
  });
});
