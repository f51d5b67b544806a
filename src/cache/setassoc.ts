/**
 * The one generic set-associative cache. Every translation structure in iommusim is one of these:
 * IOTLB arrays, context cache, PASID cache, paging-structure caches, device TLBs (ATS) and the
 * interrupt-entry cache.
 *
 * Key = (tagA, tagB, num): two 32-bit context fields (for example domain id and PASID) and a
 * number below 2^53 (for example a page number). The set index is `num mod sets`; tagA and tagB
 * are part of the tag only. Each entry carries a double payload (`dataN`, e.g. a frame number)
 * and a 32-bit payload (`dataI`, e.g. permission bits).
 *
 * State lives in typed arrays; lookups allocate nothing. Slots are numbered set * ways + way, and
 * lookups return a slot (or -1) so that callers read payloads from `dataN[slot]` / `dataI[slot]`.
 *
 * Replacement: an invalid way is always filled first (the lowest-numbered one); otherwise
 * lru (least recently used), plru (tree pseudo-LRU, ways a power of two), fifo (oldest fill)
 * or random (seeded xorshift32, deterministic).
 */
import { inputError } from '../util/errors.js';

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

const P_LRU = 0;
const P_PLRU = 1;
const P_FIFO = 2;
const P_RANDOM = 3;

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

export class SetAssocCache {
  readonly entries: number;
  readonly ways: number;
  readonly sets: number;
  readonly policy: Policy;
  private readonly setMask: number;
  private readonly pol: number;

  readonly valid: Uint8Array;
  readonly tagA: Int32Array;
  readonly tagB: Int32Array;
  readonly tagN: Float64Array;
  readonly dataN: Float64Array;
  readonly dataI: Int32Array;
  /** lru: last-use stamp; fifo: fill stamp. */
  private readonly stamp: Float64Array;
  /** plru: ways-1 tree bits per set (node 1..ways-1, index set*ways + node). */
  private readonly tree: Uint8Array;
  /** Use/fill counter for lru and fifo stamps (a typed array: an in-place double, no boxing). */
  private readonly clk = new Float64Array(1);
  private rng: number;

  /** Valid entries right now (lets a caller skip probing an empty array). */
  live = 0;
  hits = 0;
  misses = 0;
  fills = 0;
  evictions = 0;
  /** Entries dropped by invalidation. */
  invalidated = 0;

  constructor(g: CacheGeometry, key = 'cache', seed = 1) {
    validateGeometry(g, key);
    this.entries = g.entries;
    this.ways = g.ways;
    this.sets = g.entries / g.ways;
    this.setMask = this.sets - 1;
    this.policy = g.policy;
    this.isLru = g.policy === 'lru';
    this.pol = g.policy === 'lru' ? P_LRU : g.policy === 'plru' ? P_PLRU : g.policy === 'fifo' ? P_FIFO : P_RANDOM;
    this.valid = new Uint8Array(g.entries);
    this.tagA = new Int32Array(g.entries);
    this.tagB = new Int32Array(g.entries);
    this.tagN = new Float64Array(g.entries);
    this.dataN = new Float64Array(g.entries);
    this.dataI = new Int32Array(g.entries);
    this.stamp = new Float64Array(g.entries);
    this.tree = new Uint8Array(this.pol === P_PLRU ? g.entries : 0);
    this.rng = (seed >>> 0) || 0x9e3779b9;
  }

  /** First slot of the set that `num` maps to: (num mod sets) * ways. num < 2^53. */
  setBase(num: number): number {
    // ToUint32 of an integral double is num mod 2^32, and sets divides 2^32.
    return ((num >>> 0) & this.setMask) * this.ways;
  }

  /** Slot holding the key, or -1. No statistics, no replacement update. */
  find(a: number, b: number, num: number): number {
    const base = ((num >>> 0) & this.setMask) * this.ways;
    const end = base + this.ways;
    const valid = this.valid, tagN = this.tagN, tagA = this.tagA, tagB = this.tagB;
    for (let s = base; s < end; s++) {
      if (tagN[s] === num && valid[s] !== 0 && tagA[s] === a && tagB[s] === b) return s;
    }
    return -1;
  }

  /** Probe: the slot on a hit (counted, replacement state updated), -1 on a miss (counted). */
  lookup(a: number, b: number, num: number): number {
    // Fast path: streaming DMA touches the same entry many times in a row.
    let s = this.lastSlot;
    const tagN = this.tagN, valid = this.valid, tagA = this.tagA, tagB = this.tagB;
    if (tagN[s] === num && valid[s] !== 0 && tagA[s] === a && tagB[s] === b) {
      this.hits++;
      if (this.isLru) this.stamp[s] = ++this.clk[0];
      else if (this.pol === P_PLRU) this.plruTouch(s, s - (s % this.ways));
      return s;
    }
    const base = ((num >>> 0) & this.setMask) * this.ways;
    const end = base + this.ways;
    for (s = base; s < end; s++) {
      if (tagN[s] === num && valid[s] !== 0 && tagA[s] === a && tagB[s] === b) {
        this.hits++;
        this.lastSlot = s;
        if (this.isLru) this.stamp[s] = ++this.clk[0];
        else if (this.pol === P_PLRU) this.plruTouch(s, base);
        return s;
      }
    }
    this.misses++;
    return -1;
  }

  /** Slot of the last hit (a hint only: checked in full before use). */
  private lastSlot = 0;
  private readonly isLru: boolean;

  /**
   * Fill (or refresh) an entry; returns its slot. If the key is present its payload is updated and
   * it counts as a use. Otherwise the lowest invalid way is taken, else the policy's victim.
   * lru and fifo: one pass over the set, since invalid ways carry stamp 0 and valid ones a stamp
   * of at least 1, the first least stamp is the lowest invalid way when there is one, else the
   * least recently used (lru) or oldest filled (fifo) entry.
   */
  insert(a: number, b: number, num: number, dataN: number, dataI: number): number {
    const ways = this.ways;
    const base = ((num >>> 0) & this.setMask) * ways;
    const end = base + ways;
    const valid = this.valid, tagN = this.tagN, stamp = this.stamp;
    let slot: number;
    if (this.pol === P_LRU || this.pol === P_FIFO) {
      slot = base;
      let least = stamp[base];
      for (let s = base; s < end; s++) {
        if (tagN[s] === num && valid[s] !== 0 && this.tagA[s] === a && this.tagB[s] === b) {
          this.dataN[s] = dataN;
          this.dataI[s] = dataI;
          if (this.isLru) stamp[s] = ++this.clk[0];
          return s;
        }
        const st = stamp[s];
        if (st < least) { least = st; slot = s; }
      }
    } else {
      slot = -1;
      for (let s = base; s < end; s++) {
        if (valid[s] !== 0) {
          if (tagN[s] === num && this.tagA[s] === a && this.tagB[s] === b) {
            this.dataN[s] = dataN;
            this.dataI[s] = dataI;
            if (this.pol === P_PLRU) this.plruTouch(s, base);
            return s;
          }
        } else if (slot < 0) {
          slot = s;
        }
      }
      if (slot < 0) slot = this.victim(base);
    }
    if (valid[slot] !== 0) this.evictions++;
    else { valid[slot] = 1; this.live++; }
    this.tagA[slot] = a;
    this.tagB[slot] = b;
    tagN[slot] = num;
    this.dataN[slot] = dataN;
    this.dataI[slot] = dataI;
    this.fills++;
    if (this.pol === P_PLRU) this.plruTouch(slot, base);
    else stamp[slot] = ++this.clk[0];
    return slot;
  }

  /**
   * Fill a key the caller has just missed on (no other fill of this key since): skips the
   * presence check of insert(). The IOMMU's walker fills this way; results equal insert()'s.
   */
  fillAbsent(a: number, b: number, num: number, dataN: number, dataI: number): number {
    if (this.pol !== P_LRU && this.pol !== P_FIFO) return this.insert(a, b, num, dataN, dataI);
    const ways = this.ways;
    const base = ((num >>> 0) & this.setMask) * ways;
    const end = base + ways;
    const stamp = this.stamp;
    let slot = base;
    let least = stamp[base];
    for (let s = base + 1; s < end; s++) {
      const st = stamp[s];
      if (st < least) { least = st; slot = s; }
    }
    if (this.valid[slot] !== 0) this.evictions++;
    else { this.valid[slot] = 1; this.live++; }
    this.tagA[slot] = a;
    this.tagB[slot] = b;
    this.tagN[slot] = num;
    this.dataN[slot] = dataN;
    this.dataI[slot] = dataI;
    this.fills++;
    stamp[slot] = ++this.clk[0];
    this.lastSlot = slot;
    return slot;
  }

  /** Tree-PLRU: walk from the root to the leaf of the way, pointing every node away from it. */
  private plruTouch(slot: number, base: number): void {
    const ways = this.ways;
    const way = slot - base;
    let node = 1;
    for (let half = ways >> 1; half >= 1; half >>= 1) {
      const right = (way & half) !== 0 ? 1 : 0;
      this.tree[base + node] = right ? 0 : 1; // bit = side holding the next victim (0 left, 1 right)
      node = node * 2 + right;
    }
  }

  /** Victim of a full set for plru and random. */
  private victim(base: number): number {
    if (this.pol === P_PLRU) {
      let node = 1;
      while (node < this.ways) node = node * 2 + this.tree[base + node];
      return base + (node - this.ways);
    }
    // xorshift32
    let x = this.rng;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.rng = x;
    return base + (x % this.ways);
  }

  /** Drop one slot (no-op if already invalid). */
  invalidateSlot(slot: number): void {
    if (this.valid[slot] !== 0) {
      this.valid[slot] = 0;
      this.live--;
      this.invalidated++;
      this.stamp[slot] = 0;
    }
  }

  /** Drop one key; returns 1 if it was present. */
  invalidateKey(a: number, b: number, num: number): number {
    const s = this.find(a, b, num);
    if (s < 0) return 0;
    this.invalidateSlot(s);
    return 1;
  }

  /**
   * Drop every entry whose tagA equals `a` (or any a when a === ANY), tagB equals `b` (or ANY),
   * and num lies in [numLo, numHi). Returns the number dropped. Probes key by key for short ranges,
   * scans the whole array otherwise.
   */
  invalidateWhere(a: number, b: number, numLo: number, numHi: number): number {
    if (this.live === 0) return 0;
    let n = 0;
    const span = numHi - numLo;
    if (a !== ANY && b !== ANY && span <= this.sets) {
      for (let k = numLo; k < numHi; k++) n += this.invalidateKey(a, b, k);
      return n;
    }
    const valid = this.valid;
    for (let s = 0; s < this.entries; s++) {
      if (valid[s] === 0) continue;
      if (a !== ANY && this.tagA[s] !== a) continue;
      if (b !== ANY && this.tagB[s] !== b) continue;
      const k = this.tagN[s];
      if (k < numLo || k >= numHi) continue;
      this.invalidateSlot(s);
      n++;
    }
    return n;
  }

  /** Drop everything; returns the number dropped. */
  invalidateAll(): number {
    const n = this.live;
    if (n > 0) {
      for (let s = 0; s < this.entries; s++) if (this.valid[s] !== 0) this.invalidateSlot(s);
    }
    return n;
  }

  resetStats(): void {
    this.hits = this.misses = this.fills = this.evictions = this.invalidated = 0;
  }
}

/** Wildcard for tagA / tagB in invalidateWhere. */
export const ANY = -0x80000000;
/** Number range covering every key. */
export const ALL_NUMS_HI = 2 ** 53;
