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
 * State lives in typed arrays (the key number as two int32 halves; an empty slot has tagA = ANY,
 * so tagA must never be -2^31 for a stored entry); lookups allocate nothing. Slots are numbered set * ways + way, and
 * lookups return a slot (or -1) so that callers read payloads from `dataN[slot]` / `dataI[slot]`.
 *
 * Replacement: an invalid way is always filled first (the lowest-numbered one); otherwise
 * lru (least recently used), plru (tree pseudo-LRU, ways a power of two), fifo (oldest fill)
 * or random (seeded xorshift32, deterministic). lru and fifo with up to 8 ways keep each set's
 * order in one packed int32 (constant-time hit and victim); wider sets use per-slot stamps.
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

/*
 * Replacement state, by mode:
 *  - M_LRU_NIB / M_FIFO_NIB (ways <= 8): each set's recency (lru) or fill (fifo) order packed in one
 *    int32, a nibble per rank (rank 0 = most recent, rank ways-1 = the victim; unused nibbles 0xF),
 *    plus a per-set valid bitmask. A hit (lru) moves the way to rank 0 and a miss takes the way at
 *    the last rank, both in constant time: no scan over the set's stamps.
 *  - M_LRU_STAMP / M_FIFO_STAMP (ways > 8): an int32 use/fill stamp per slot; the victim is the
 *    least stamp in the set.
 *  - M_PLRU: tree bits per set; M_RANDOM: seeded xorshift32.
 */
const M_LRU_NIB = 0;
const M_LRU_STAMP = 1;
const M_FIFO_NIB = 2;
const M_FIFO_STAMP = 3;
const M_PLRU = 4;
const M_RANDOM = 5;

/** NIB_LO[r]: the nibbles of ranks below r; NIB_HI[r]: the nibbles of ranks above r. */
const NIB_LO = new Int32Array(8);
const NIB_HI = new Int32Array(8);
for (let r = 0; r < 8; r++) {
  NIB_LO[r] = (2 ** (4 * r) - 1) | 0;
  NIB_HI[r] = r === 7 ? 0 : ~((2 ** (4 * r + 4) - 1) | 0);
}

/** Rank of way `w` in a packed order word (the lowest zero nibble of order ^ w*0x11111111). */
function nibRank(order: number, w: number): number {
  const x = order ^ Math.imul(w, 0x11111111);
  const t = (x - 0x11111111) & ~x & 0x88888888;
  return (31 - Math.clz32(t & -t)) >> 2;
}

/** The order word with way `w` (now at rank r) moved to rank 0. */
function nibFront(order: number, w: number, r: number): number {
  return (order & NIB_HI[r]) | ((order & NIB_LO[r]) << 4) | w;
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

export class SetAssocCache {
  readonly entries: number;
  readonly ways: number;
  readonly sets: number;
  readonly policy: Policy;
  private readonly setMask: number;
  private readonly pol: number;
  /** Replacement mode (M_*). */
  private readonly mode: number;
  /** A hit changes the replacement state (lru, plru). */
  private readonly touchOnHit: boolean;

  /** tagA per slot; INVALID (= ANY) marks an empty slot, so there is no separate valid array. */
  readonly tagA: Int32Array;
  readonly tagB: Int32Array;
  /** The key number split in two int32 halves: low 32 bits (as int32) and high 21 bits. */
  readonly tagLo: Int32Array;
  readonly tagHi: Int32Array;
  readonly dataN: Float64Array;
  readonly dataI: Int32Array;
  /** lru: last-use stamp; fifo: fill stamp; 0 in an empty slot. int32, renumbered before it wraps. */
  private readonly stamp: Int32Array;
  /** plru: ways-1 tree bits per set (node 1..ways-1, index set*ways + node). */
  private readonly tree: Uint8Array;
  /** Nibble modes: per set, the packed order word and the valid-way bitmask. */
  private readonly order: Int32Array;
  private readonly vmask: Int32Array;
  private readonly fullMask: number;
  /** Nibble modes: shift of the last rank's nibble. */
  private readonly lastShift: number;
  /** Use/fill counter for lru and fifo stamps. */
  private clk = 0;
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
    this.pol = g.policy === 'lru' ? P_LRU : g.policy === 'plru' ? P_PLRU : g.policy === 'fifo' ? P_FIFO : P_RANDOM;
    this.tagA = new Int32Array(g.entries).fill(INVALID);
    this.tagB = new Int32Array(g.entries);
    this.tagLo = new Int32Array(g.entries);
    this.tagHi = new Int32Array(g.entries);
    this.dataN = new Float64Array(g.entries);
    this.dataI = new Int32Array(g.entries);
    this.stamp = new Int32Array(g.entries);
    this.tree = new Uint8Array(this.pol === P_PLRU ? g.entries : 0);
    const nib = g.ways <= 8;
    this.mode = this.pol === P_LRU ? (nib ? M_LRU_NIB : M_LRU_STAMP)
      : this.pol === P_FIFO ? (nib ? M_FIFO_NIB : M_FIFO_STAMP)
      : this.pol === P_PLRU ? M_PLRU : M_RANDOM;
    this.touchOnHit = this.pol === P_LRU || this.pol === P_PLRU;
    const useNib = this.mode === M_LRU_NIB || this.mode === M_FIFO_NIB;
    this.order = new Int32Array(useNib ? this.sets : 0);
    this.vmask = new Int32Array(useNib ? this.sets : 0);
    this.fullMask = useNib ? (1 << g.ways) - 1 : 0;
    this.lastShift = 4 * (g.ways - 1);
    this.order.fill(this.initialOrder());
    this.rng = (seed >>> 0) || 0x9e3779b9;
  }

  /** First slot of the set that `num` maps to: (num mod sets) * ways. num < 2^53. */
  setBase(num: number): number {
    // ToInt32 of an integral double is num mod 2^32 (as int32), and sets divides 2^32.
    return ((num | 0) & this.setMask) * this.ways;
  }

  /** Order word of an empty set: ways 0..ways-1 at ranks 0..ways-1, unused nibbles 0xF. */
  private initialOrder(): number {
    let o = 0;
    for (let r = 7; r >= 0; r--) o = (o << 4) | (r < this.ways ? r : 15);
    return o;
  }

  /** True when the slot holds an entry. */
  isValid(slot: number): boolean {
    return this.tagA[slot] !== INVALID;
  }

  /** The key number held in a slot. */
  numAt(slot: number): number {
    return this.tagHi[slot] * 4294967296 + (this.tagLo[slot] >>> 0);
  }

  /**
   * Slot holding the key, or -1. No statistics, no replacement update. `a` is never INVALID for
   * a stored entry, so an empty slot (tagA = INVALID) can never match.
   */
  find(a: number, b: number, num: number): number {
    const lo = num | 0;
    const hi = (num / 4294967296) | 0;
    const base = (lo & this.setMask) * this.ways;
    const end = base + this.ways;
    const tagLo = this.tagLo, tagHi = this.tagHi, tagA = this.tagA, tagB = this.tagB;
    for (let s = base; s < end; s++) {
      if (tagLo[s] === lo && tagA[s] === a && tagHi[s] === hi && tagB[s] === b) return s;
    }
    return -1;
  }

  /**
   * Probe: the slot on a hit (counted, replacement state updated), -1 on a miss (counted).
   * `a` is a real tag, never ANY (ANY is the invalidation wildcard and marks empty slots).
   */
  lookup(a: number, b: number, num: number): number {
    // Kept small so that V8 inlines it into callers' loops; replacement updates live in touch().
    const lo = num | 0;
    const hi = (num / 4294967296) | 0;
    const set = lo & this.setMask;
    const base = set * this.ways;
    const end = base + this.ways;
    const tagLo = this.tagLo, tagHi = this.tagHi, tagA = this.tagA, tagB = this.tagB;
    for (let s = base; s < end; s++) {
      if (tagLo[s] === lo && tagA[s] === a && tagHi[s] === hi && tagB[s] === b) {
        this.hits++;
        if (this.touchOnHit) this.touch(s, set, base);
        return s;
      }
    }
    this.misses++;
    return -1;
  }

  /** Replacement-state update for a use of slot s (lru and plru; fifo and random keep none). */
  private touch(s: number, set: number, base: number): void {
    const mode = this.mode;
    if (mode === M_LRU_NIB) {
      const o = this.order[set], w = s - base;
      this.order[set] = nibFront(o, w, nibRank(o, w));
    } else if (mode === M_LRU_STAMP) this.stamp[s] = this.tick();
    else this.plruTouch(s, base);
  }

  /** Next stamp; renumbers the stamps (keeping their order) before the int32 counter wraps. */
  private tick(): number {
    if (this.clk === 0x7fffffff) this.renumber();
    return ++this.clk;
  }

  /** Replace every stamp by its rank (empty slots keep 0): same order, counter restarts low. */
  private renumber(): void {
    const st = this.stamp;
    const order: number[] = [];
    for (let s = 0; s < this.entries; s++) if (st[s] !== 0) order.push(s);
    order.sort((x, y) => st[x] - st[y]);
    for (let i = 0; i < order.length; i++) st[order[i]] = i + 1;
    this.clk = order.length;
  }

  /**
   * Fill (or refresh) an entry; returns its slot. If the key is present its payload is updated and
   * it counts as a use. Otherwise the lowest invalid way is taken, else the policy's victim.
   */
  insert(a: number, b: number, num: number, dataN: number, dataI: number): number {
    const s = this.find(a, b, num);
    if (s < 0) return this.fillAbsent(a, b, num, dataN, dataI);
    this.dataN[s] = dataN;
    this.dataI[s] = dataI;
    if (this.touchOnHit) {
      const set = (s / this.ways) | 0;
      this.touch(s, set, set * this.ways);
    }
    return s;
  }

  /**
   * Fill a key that is not in the cache (the caller has just missed on it, with no fill of this
   * key since): skips the presence check of insert(). The lowest invalid way is taken, else the
   * policy's victim. lru and fifo find both in one pass over the stamps: empty slots carry stamp
   * 0 and valid ones at least 1, so the first least stamp is the lowest empty way when there is
   * one, else the least recently used (lru) or oldest filled (fifo) entry.
   */
  fillAbsent(a: number, b: number, num: number, dataN: number, dataI: number): number {
    if (a === INVALID) reservedTag();
    const lo = num | 0;
    const set = lo & this.setMask;
    const slot = this.vmask.length !== 0 ? this.victimNib(set) : this.victimOther(set);
    const tagA = this.tagA;
    if (tagA[slot] !== INVALID) this.evictions++;
    else this.live++;
    tagA[slot] = a;
    this.tagB[slot] = b;
    this.tagLo[slot] = lo;
    this.tagHi[slot] = (num / 4294967296) | 0;
    this.dataN[slot] = dataN;
    this.dataI[slot] = dataI;
    this.fills++;
    return slot;
  }

  /** Nibble modes: the lowest empty way, else the last-ranked way; it moves to rank 0. */
  private victimNib(set: number): number {
    const vm = this.vmask[set];
    const o = this.order[set];
    let w: number;
    if (vm !== this.fullMask) {
      const free = ~vm & this.fullMask;
      w = 31 - Math.clz32(free & -free);
      this.order[set] = nibFront(o, w, nibRank(o, w));
      this.vmask[set] = vm | (1 << w);
    } else {
      w = (o >>> this.lastShift) & 15;
      this.order[set] = nibFront(o, w, this.ways - 1);
    }
    return set * this.ways + w;
  }

  /**
   * Stamp modes: the first least stamp (empty slots carry 0, valid ones at least 1, so this is the
   * lowest empty way when there is one). plru and random: the lowest empty way, else the policy's.
   */
  private victimOther(set: number): number {
    const base = set * this.ways;
    const end = base + this.ways;
    const mode = this.mode;
    let slot: number;
    if (mode === M_LRU_STAMP || mode === M_FIFO_STAMP) {
      const stamp = this.stamp;
      slot = base;
      let least = stamp[base];
      for (let s = base + 1; s < end; s++) {
        const st = stamp[s];
        if (st < least) { least = st; slot = s; }
      }
      stamp[slot] = this.tick();
    } else {
      slot = -1;
      const tagA = this.tagA;
      for (let s = base; s < end; s++) if (tagA[s] === INVALID) { slot = s; break; }
      if (slot < 0) slot = this.victim(base);
      if (mode === M_PLRU) this.plruTouch(slot, base);
    }
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
    if (this.tagA[slot] !== INVALID) {
      this.tagA[slot] = INVALID;
      this.live--;
      this.invalidated++;
      this.stamp[slot] = 0;
      if (this.vmask.length !== 0) {
        const set = (slot / this.ways) | 0;
        this.vmask[set] &= ~(1 << (slot - set * this.ways));
      }
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
    const tagA = this.tagA;
    for (let s = 0; s < this.entries; s++) {
      const ta = tagA[s];
      if (ta === INVALID) continue;
      if (a !== ANY && ta !== a) continue;
      if (b !== ANY && this.tagB[s] !== b) continue;
      const k = this.numAt(s);
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
      for (let s = 0; s < this.entries; s++) if (this.tagA[s] !== INVALID) this.invalidateSlot(s);
    }
    return n;
  }

  resetStats(): void {
    this.hits = this.misses = this.fills = this.evictions = this.invalidated = 0;
  }
}

/** Wildcard for tagA / tagB in invalidateWhere. As a stored tagA it marks an empty slot. */
export const ANY = -0x80000000;
const INVALID = ANY;

function reservedTag(): never {
  throw new RangeError('SetAssocCache: tagA -2^31 is reserved for empty slots');
}
/** Number range covering every key. */
export const ALL_NUMS_HI = 2 ** 53;
