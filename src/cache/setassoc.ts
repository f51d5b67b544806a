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
 * so tagA must never be -2^31 for a stored entry); lookups allocate nothing. Slots are numbered
 * set * ways + way, and lookups return a slot (or -1) so that callers read payloads from
 * `dataN[slot]` / `dataI[slot]`.
 *
 * Replacement: an invalid way is always filled first (the lowest-numbered one); otherwise
 * lru (least recently used), plru (tree pseudo-LRU, ways a power of two), fifo (oldest fill)
 * or random (seeded xorshift32, deterministic).
 *
 * Two layouts, the same behaviour (hits, misses, evictions, which way is filled):
 *  - narrow sets (ways <= 8): a lookup scans the set's tags; lru and fifo keep the set's order in
 *    one packed int32 (a nibble per rank), and a per-set bitmask marks the valid ways, so a hit and
 *    a victim cost a few bit operations;
 *  - wide sets (ways > 8, fully associative structures among them): a hash index (key → slot,
 *    a chain per bucket) finds a key in O(1) whatever the associativity; lru and
 *    fifo keep a doubly linked list per set (most recent first), and a per-set bitmap of valid ways
 *    gives the lowest empty way.
 */
import { validateGeometry, type Policy, type CacheGeometry } from '../config/cache.js';

export { POLICIES, validateGeometry, type Policy, type CacheGeometry } from '../config/cache.js';

const P_LRU = 0;
const P_PLRU = 1;
const P_FIFO = 2;
const P_RANDOM = 3;

/** Replacement modes: narrow (ways <= 8) lru / fifo on the packed order word, wide lru / fifo on a list. */
const M_LRU_NIB = 0;
const M_LRU_LIST = 1;
const M_FIFO_NIB = 2;
const M_FIFO_LIST = 3;
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

export class SetAssocCache {
  readonly entries: number;
  readonly ways: number;
  readonly sets: number;
  readonly policy: Policy;
  protected readonly setMask: number;
  protected readonly pol: number;
  /** Replacement mode (M_*). */
  protected readonly mode: number;
  /** A hit changes the replacement state (lru, plru). */
  protected readonly touchOnHit: boolean;

  /** tagA per slot; INVALID (= ANY) marks an empty slot, so there is no separate valid array. */
  readonly tagA: Int32Array;
  readonly tagB: Int32Array;
  /** The key number split in two int32 halves: low 32 bits (as int32) and high 21 bits. */
  readonly tagLo: Int32Array;
  readonly tagHi: Int32Array;
  readonly dataN: Float64Array;
  readonly dataI: Int32Array;
  /** plru: ways-1 tree bits per set (node 1..ways-1, index set*ways + node). */
  protected readonly tree: Uint8Array;
  /** Narrow lru / fifo: per set, the packed order word. */
  private readonly order: Int32Array;
  private readonly nib: boolean;
  /** Narrow: per set, the valid-way bitmask. */
  private readonly vmask: Int32Array;
  private readonly fullMask: number;
  /** Narrow: shift of the last rank's nibble. */
  private readonly lastShift: number;
  protected rng: number;

  /**
   * The last probe's key and result (its slot, or -1 for a miss), or none (mA = INVALID): a probe of
   * the same key again, with no fill or invalidation since, has the same result without a search.
   * A hit's slot is then the most recent of its set, so using it again changes no replacement
   * state (lru: it stays first; plru: the same tree bits; fifo and random keep none on a hit). A
   * fill leaves its key here as a hit (the filled slot is the most recent); an invalidation clears it.
   */
  protected mA = INVALID;
  protected mB = 0;
  protected mLo = 0;
  protected mHi = 0;
  protected mSlot = -1;

  /** Valid entries right now (lets a caller skip probing an empty array). */
  live = 0;
  hits = 0;
  misses = 0;
  fills = 0;
  evictions = 0;
  /** Entries dropped by invalidation. */
  invalidated = 0;

  /** The narrow layout (ways <= 8); createCache() picks the layout for any geometry. */
  constructor(g: CacheGeometry, key = 'cache', seed = 1) {
    validateGeometry(g, key);
    if (g.ways > 8 && new.target === SetAssocCache) throw new RangeError(`${key}: ${g.ways} ways need the wide layout; construct it with createCache()`);
    const n = g.entries;
    this.entries = n;
    this.ways = g.ways;
    this.sets = n / g.ways;
    this.setMask = this.sets - 1;
    this.policy = g.policy;
    this.pol = g.policy === 'lru' ? P_LRU : g.policy === 'plru' ? P_PLRU : g.policy === 'fifo' ? P_FIFO : P_RANDOM;
    const wide = g.ways > 8;
    this.mode = this.pol === P_LRU ? (wide ? M_LRU_LIST : M_LRU_NIB)
      : this.pol === P_FIFO ? (wide ? M_FIFO_LIST : M_FIFO_NIB)
      : this.pol === P_PLRU ? M_PLRU : M_RANDOM;
    this.touchOnHit = this.pol === P_LRU || this.pol === P_PLRU;
    this.tagA = new Int32Array(n).fill(INVALID);
    this.tagB = new Int32Array(n);
    this.tagLo = new Int32Array(n);
    this.tagHi = new Int32Array(n);
    this.dataN = new Float64Array(n);
    this.dataI = new Int32Array(n);
    this.tree = new Uint8Array(this.pol === P_PLRU ? n : 0);
    const nib = !wide && (this.pol === P_LRU || this.pol === P_FIFO);
    this.nib = nib;
    this.order = new Int32Array(nib ? this.sets : 0);
    this.order.fill(this.initialOrder());
    this.lastShift = 4 * (g.ways - 1);
    this.vmask = new Int32Array(wide ? 0 : this.sets);
    this.fullMask = wide ? 0 : (1 << g.ways) - 1;
    this.rng = (seed >>> 0) || 0x9e3779b9;
  }

  /** Order word of an empty narrow set: ways 0..ways-1 at ranks 0..ways-1, unused nibbles 0xF. */
  private initialOrder(): number {
    let o = 0;
    for (let r = 7; r >= 0; r--) o = (o << 4) | (r < this.ways ? r : 15);
    return o;
  }

  /** First slot of the set that `num` maps to: (num mod sets) * ways. num < 2^53. */
  setBase(num: number): number {
    // ToInt32 of an integral double is num mod 2^32 (as int32), and sets divides 2^32.
    return ((num | 0) & this.setMask) * this.ways;
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
    // The high half of the key is compared only where the low half matches.
    const lo = num | 0;
    const hi = (num / 4294967296) | 0;
    if (lo === this.mLo && a === this.mA && hi === this.mHi && b === this.mB) {
      // the last probe's key: its result again, and nothing to update (see mA)
      const m = this.mSlot;
      if (m < 0) this.misses++; else this.hits++;
      return m;
    }
    this.mA = a; this.mB = b; this.mLo = lo; this.mHi = hi;
    const set = lo & this.setMask;
    const base = set * this.ways;
    const end = base + this.ways;
    const tagLo = this.tagLo;
    for (let s = base; s < end; s++) {
      if (tagLo[s] === lo && this.tagA[s] === a && this.tagHi[s] === hi && this.tagB[s] === b) {
        this.hits++;
        this.mSlot = s;
        if (this.touchOnHit) this.touch(s, set, base);
        return s;
      }
    }
    this.misses++;
    this.mSlot = -1;
    return -1;
  }

  /**
   * lookup() with a guess: when slot `guess` holds the key it is the hit (counted, replacement
   * state updated, exactly as lookup() would), without searching; otherwise a plain lookup(). For
   * a caller that sees the same key again and again (the context cache and one device).
   */
  lookupGuess(guess: number, a: number, b: number, num: number): number {
    if (this.tagLo[guess] === (num | 0) && this.tagA[guess] === a && this.tagHi[guess] === ((num / 4294967296) | 0) && this.tagB[guess] === b) {
      this.hits++;
      this.mA = a; this.mB = b; this.mLo = num | 0; this.mHi = (num / 4294967296) | 0; this.mSlot = guess;
      if (this.touchOnHit) {
        const set = (num | 0) & this.setMask;
        this.touch(guess, set, set * this.ways);
      }
      return guess;
    }
    return this.lookup(a, b, num);
  }

  /** Replacement-state update for a use of slot s (lru and plru; fifo and random keep none). */
  protected touch(s: number, set: number, base: number): void {
    if (this.mode === M_LRU_NIB) {
      const o = this.order[set], w = s - base;
      this.order[set] = nibFront(o, w, nibRank(o, w));
    } else this.plruTouch(s, base);
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
    this.mA = a; this.mB = b; this.mLo = num | 0; this.mHi = (num / 4294967296) | 0; this.mSlot = s;
    if (this.touchOnHit) {
      const set = (s / this.ways) | 0;
      this.touch(s, set, set * this.ways);
    }
    return s;
  }

  /**
   * Fill a key that is not in the cache (the caller has just missed on it, with no fill of this
   * key since): skips the presence check of insert(). The lowest invalid way is taken, else the
   * policy's victim.
   */
  fillAbsent(a: number, b: number, num: number, dataN: number, dataI: number): number {
    if (a === INVALID) reservedTag();
    const lo = num | 0;
    const set = lo & this.setMask;
    const slot = this.nib ? this.victimNib(set) : this.victimTree(set);
    if (this.tagA[slot] !== INVALID) this.evictions++;
    else this.live++;
    this.store(slot, a, b, lo, (num / 4294967296) | 0, dataN, dataI);
    return slot;
  }

  /** A fill's stores (both layouts): the key (a, b, lo, hi) and the payloads in `slot`, counted, and left as the last probe's key with `slot` its hit. */
  protected store(slot: number, a: number, b: number, lo: number, hi: number, dataN: number, dataI: number): void {
    this.tagA[slot] = a;
    this.tagB[slot] = b;
    this.tagLo[slot] = lo;
    this.tagHi[slot] = hi;
    this.dataN[slot] = dataN;
    this.dataI[slot] = dataI;
    this.fills++;
    this.mA = a; this.mB = b; this.mLo = lo; this.mHi = hi; this.mSlot = slot;
  }

  /** Narrow lru / fifo: the lowest empty way, else the last-ranked way; it moves to rank 0. */
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

  /** Narrow plru / random: the lowest empty way, else the policy's victim. */
  private victimTree(set: number): number {
    const vm = this.vmask[set];
    const base = set * this.ways;
    let slot: number;
    if (vm !== this.fullMask) {
      const free = ~vm & this.fullMask;
      const w = 31 - Math.clz32(free & -free);
      this.vmask[set] = vm | (1 << w);
      slot = base + w;
    } else {
      slot = this.victim(base);
    }
    if (this.mode === M_PLRU) this.plruTouch(slot, base);
    return slot;
  }

  /** Tree-PLRU: walk from the root to the leaf of the way, pointing every node away from it. */
  protected plruTouch(slot: number, base: number): void {
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
  protected victim(base: number): number {
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
    if (this.tagA[slot] === INVALID) return;
    const set = (slot / this.ways) | 0;
    this.vmask[set] &= ~(1 << (slot - set * this.ways));
    this.tagA[slot] = INVALID;
    this.mA = INVALID;
    this.live--;
    this.invalidated++;
  }

  /** Drop one key; returns 1 if it was present. */
  invalidateKey(a: number, b: number, num: number): number {
    const s = this.find(a, b, num);
    if (s < 0) return 0;
    this.invalidateSlot(s);
    return 1;
  }

  /** Ranges of at most this many numbers are invalidated key by key, longer ones by a full scan. */
  protected keyByKeyLimit(): number {
    return this.sets;
  }

  /**
   * Drop every entry whose tagA equals `a` (or any a when a === ANY), tagB equals `b` (or ANY),
   * and num lies in [numLo, numHi). Returns the number dropped. Probes key by key for short ranges
   * of one (a, b); scans only the range's sets when it has no more numbers than there are sets;
   * scans the whole array otherwise.
   */
  invalidateWhere(a: number, b: number, numLo: number, numHi: number): number {
    if (this.live === 0) return 0;
    let n = 0;
    const span = numHi - numLo;
    if (a !== ANY && b !== ANY && span <= this.keyByKeyLimit()) {
      for (let k = numLo; k < numHi; k++) n += this.invalidateKey(a, b, k);
      return n;
    }
    const tagA = this.tagA;
    if (span <= this.sets) {
      // each number of the range has its own set: scan only those sets' ways
      for (let k = numLo; k < numHi; k++) {
        const base = this.setBase(k), end = base + this.ways;
        for (let s = base; s < end; s++) {
          const ta = tagA[s];
          if (ta === INVALID || (a !== ANY && ta !== a) || (b !== ANY && this.tagB[s] !== b) || this.numAt(s) !== k) continue;
          this.invalidateSlot(s);
          n++;
        }
      }
      return n;
    }
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

/**
 * A cache of any geometry (validated; a one-line InputError naming `key` when impossible): the
 * narrow layout for ways <= 8, the wide one above. The two behave identically.
 */
export function createCache(g: CacheGeometry, key = 'cache', seed = 1): SetAssocCache {
  return g.ways > 8 ? new WideSetAssocCache(g, key, seed) : new SetAssocCache(g, key, seed);
}

/**
 * The wide layout (ways > 8, fully associative structures among them), made by createCache(): a
 * hash index (key → slot; a chain of slots per bucket, 4 buckets an entry) finds a key in O(1)
 * whatever the associativity; lru and fifo keep a circular doubly linked list of the set's ways
 * (most recent first: the victim is the last, and a full set's fill makes it the first by moving
 * the head back one, with no link to change), and a per-set bitmap of valid ways gives the lowest
 * empty way.
 * Same behaviour as the narrow layout.
 */
export class WideSetAssocCache extends SetAssocCache {
  /** Per set, `words` int32 words of valid-way bits, and the count of valid ways. */
  private readonly words: number;
  private readonly valid: Int32Array;
  private readonly setLive: Int32Array;
  /** lru / fifo: per slot the neighbours in its set's circular list, per set its first (most recent) way. */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly head: Int32Array;
  private readonly list: boolean;
  /**
   * Hash index: per bucket the first slot of its chain (-1: none), per slot the next slot of its
   * bucket's chain and its bucket. Buckets a power of two, 4 × entries (2 × above 4096 entries), so
   * most chains hold one slot or none: a lookup is a load or two, a fill or eviction a few stores.
   */
  private readonly hHead: Int32Array;
  private readonly hNext: Int32Array;
  private readonly hHome: Int32Array;
  private readonly hShift: number;

  constructor(g: CacheGeometry, key = 'cache', seed = 1) {
    super(g, key, seed);
    const n = this.entries, ways = this.ways, sets = this.sets;
    this.words = Math.ceil(ways / 32);
    this.valid = new Int32Array(sets * this.words);
    this.setLive = new Int32Array(sets);
    this.list = this.mode === M_LRU_LIST || this.mode === M_FIFO_LIST;
    this.prev = new Int32Array(this.list ? n : 0);
    this.next = new Int32Array(this.list ? n : 0);
    this.head = new Int32Array(this.list ? sets : 0);
    if (this.list) {
      for (let set = 0; set < sets; set++) {
        const base = set * ways;
        for (let w = 0; w < ways; w++) { this.prev[base + w] = base + (w + ways - 1) % ways; this.next[base + w] = base + (w + 1) % ways; }
        this.head[set] = base;
      }
    }
    let cells = 16;
    while (cells < (n > 4096 ? 2 : 4) * n) cells *= 2;
    this.hHead = new Int32Array(cells).fill(-1);
    this.hNext = new Int32Array(n);
    this.hHome = new Int32Array(n);
    this.hShift = 32 - Math.log2(cells);
  }

  override find(a: number, b: number, num: number): number {
    return this.hashFind(a, b, num | 0, (num / 4294967296) | 0);
  }

  override lookup(a: number, b: number, num: number): number {
    const lo = num | 0;
    const hi = (num / 4294967296) | 0;
    // The same memo test as the narrow lookup, written out in both on purpose: one helper shared
    // by the two made the functional replay ~5 % slower (bench/cref: V8's cumulative inlining
    // budget of Iommu.translatePages then no longer reached this lookup's hashFind).
    if (lo === this.mLo && a === this.mA && hi === this.mHi && b === this.mB) {
      const m = this.mSlot;
      if (m < 0) this.misses++; else this.hits++;
      return m;
    }
    this.mA = a; this.mB = b; this.mLo = lo; this.mHi = hi;
    const s = this.hashFind(a, b, lo, hi);
    this.mSlot = s;
    if (s < 0) { this.misses++; return -1; }
    this.hits++;
    if (this.touchOnHit) {
      const set = lo & this.setMask;
      this.touch(s, set, set * this.ways);
    }
    return s;
  }

  protected override touch(s: number, set: number, base: number): void {
    if (this.list) this.listFront(s, set);
    else this.plruTouch(s, base);
  }

  override fillAbsent(a: number, b: number, num: number, dataN: number, dataI: number): number {
    if (a === INVALID) reservedTag();
    const lo = num | 0;
    const set = lo & this.setMask;
    const base = set * this.ways;
    let slot = this.lowestEmpty(set);
    if (slot >= 0) {
      const w = slot - base;
      this.valid[set * this.words + (w >>> 5)] |= 1 << (w & 31);
      this.setLive[set]++;
      this.live++;
      if (this.list) this.listFront(slot, set);
      else if (this.mode === M_PLRU) this.plruTouch(slot, base);
    } else if (this.list) {
      // the last way of the circle becomes the first: the head moves back one
      slot = this.prev[this.head[set]];
      this.head[set] = slot;
      this.evictions++;
      this.hashRemove(slot);
    } else {
      slot = this.victim(base);
      this.evictions++;
      this.hashRemove(slot);
      if (this.mode === M_PLRU) this.plruTouch(slot, base);
    }
    const hi = (num / 4294967296) | 0;
    this.hashAdd(slot, a, b, lo, hi);
    this.store(slot, a, b, lo, hi, dataN, dataI);
    return slot;
  }

  override invalidateSlot(slot: number): void {
    if (this.tagA[slot] === INVALID) return;
    const set = (slot / this.ways) | 0;
    const w = slot - set * this.ways;
    this.hashRemove(slot);
    this.valid[set * this.words + (w >>> 5)] &= ~(1 << (w & 31));
    this.setLive[set]--;
    this.tagA[slot] = INVALID;
    this.mA = INVALID;
    this.live--;
    this.invalidated++;
  }

  /** Key-by-key probes are O(1) here, so longer ranges than the narrow layout's still pay. */
  protected override keyByKeyLimit(): number {
    return Math.max(64, this.sets);
  }

  /**
   * Home cell of a key in the hash index: the top bits of a multiplicative hash of the four tag
   * words (the low key half, which tells keys of one domain apart, multiplied last; the index only
   * finds keys, so its hash decides no slot and no result).
   */
  private hashHome(a: number, b: number, lo: number, hi: number): number {
    return Math.imul(lo ^ Math.imul(a ^ (b << 16) ^ (hi << 8), 0x9e3779b1), 0x85ebca6b) >>> this.hShift;
  }

  private hashFind(a: number, b: number, lo: number, hi: number): number {
    const next = this.hNext;
    const tagLo = this.tagLo, tagHi = this.tagHi, tagA = this.tagA, tagB = this.tagB;
    for (let s = this.hHead[this.hashHome(a, b, lo, hi)]; s >= 0; s = next[s]) {
      if (tagLo[s] === lo && tagA[s] === a && tagHi[s] === hi && tagB[s] === b) return s;
    }
    return -1;
  }

  /** Index slot s under its key (a, b, lo, hi): first in its bucket's chain. */
  private hashAdd(s: number, a: number, b: number, lo: number, hi: number): void {
    const h = this.hashHome(a, b, lo, hi);
    this.hHome[s] = h;
    this.hNext[s] = this.hHead[h];
    this.hHead[h] = s;
  }

  /** Drop slot s (still indexed) from its bucket's chain. */
  private hashRemove(s: number): void {
    const h = this.hHome[s];
    const next = this.hNext;
    let x = this.hHead[h];
    if (x === s) { this.hHead[h] = next[s]; return; }
    while (next[x] !== s) x = next[x];
    next[x] = next[s];
  }

  /** Move slot s to the front (most recent) of its set's list. */
  private listFront(s: number, set: number): void {
    const h = this.head[set];
    if (h === s) return;
    const prev = this.prev, next = this.next;
    // unlink s, then put it between the last way and the head
    const p = prev[s], n = next[s];
    next[p] = n;
    prev[n] = p;
    const last = prev[h];
    prev[s] = last;
    next[s] = h;
    next[last] = s;
    prev[h] = s;
    this.head[set] = s;
  }

  /** The lowest empty way of the set, or -1 when it is full. */
  private lowestEmpty(set: number): number {
    if (this.setLive[set] === this.ways) return -1;
    const w0 = set * this.words;
    for (let k = 0; k < this.words; k++) {
      const free = ~this.valid[w0 + k];
      if (free !== 0) {
        const w = k * 32 + (31 - Math.clz32(free & -free));
        if (w < this.ways) return set * this.ways + w;
      }
    }
    return -1;
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
