/*
 * replay.c: a reference model, in plain C11, of iommusim's functional replay (issue #17), for
 * the timing comparison of bench/cref.bench.ts and as a cross-check of iommusim's counts.
 *
 *   cc -O2 -o replay bench/cref/replay.c && ./replay TRACE.csv
 *
 * Reads a trace in iommusim's CSV format (docs/trace-formats.md: header
 * time_ns,device,pasid,op,iova,size,dir,paddr[,kind]) and replays it through the model of
 * iommusim's defaults (src/config/schema.ts), written here from their description in
 * src/iommu/README.md and src/cache/setassoc.ts, not translated from iommusim's code:
 *  - 4-level second-stage page tables per domain (one domain per device, numbered in the order
 *    devices first map), built by the map records with the largest leaf (4 KiB, 2 MiB, 1 GiB) that
 *    the alignment of iova, paddr and the remaining size allows (iommu.superpages = true); a map
 *    over any page already mapped fails whole and maps nothing (-EEXIST);
 *  - a root entry per bus and a context entry per device once it has mapped, behind a 64-entry
 *    fully associative LRU context cache (a miss reads the root entry, then the context entry);
 *  - for every 4 KiB piece of a DMA, in address order: the context cache, then the IOTLB: a
 *    4 KiB array (64 entries), a 2 MiB array (32) and a 1 GiB array (4), fully associative LRU,
 *    each probed only when it holds an entry, a hit in any is a hit; on a miss the
 *    paging-structure caches (PDE 64 entries 4-way, PDPTE 64 4-way, PML4E 4 4-way, LRU, set =
 *    key mod sets, keys iova >> 21, >> 30, >> 39 with the domain), probed deepest first and
 *    stopping at the first hit, then the walk's reads from the level below the hit (or from the
 *    top), each non-leaf entry read filling its cache and the leaf filling the IOTLB array of its
 *    size; a piece that faults (no root or context entry, beyond 48 bits, not present, a write to
 *    a read-only or a read of a write-only page) drops the rest of its DMA.
 * Fills take an empty way first, else the least recently used one (a hit makes an entry the most
 * recent); with no invalidation in the trace (below), which way an entry takes cannot change a
 * count, so the model keeps only each set's recency order.
 *
 * Supported trace class: map and dma records (any devices on bus:dev.fn addresses of one PCI
 * segment, without PASID-tagged translation: the pasid column is read and not used, as iommusim
 * does for second-stage devices). unmap and inv records are refused (exit 2): with no unmap the
 * lazy (default) and strict modes give the same counts, and no invalidation ever runs.
 *
 * Prints the counts as one JSON object (the same names as iommusim's result metrics; see
 * crefCounts in bench/cref/counts.ts). Exit 2 with one line on stderr for bad or unsupported input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t u64;
typedef uint32_t u32;

#define LEVELS 4
#define MAX_PN ((u64)1 << (9 * LEVELS)) /* 48-bit IOVA: page numbers below 2^36 */
#define MAX_LEAF_LEVEL 3               /* superpages: up to 1 GiB leaves */

static const char *file_name = "trace";
static long line_no = 0;

static void die(const char *what) {
  fprintf(stderr, "replay: %s:%ld: %s\n", file_name, line_no, what);
  exit(2);
}

/* ------------------------------------------------------------------ caches */

/*
 * A set-associative LRU cache of (tag, num) keys, tag < 2^16 and num < 2^48 packed in one u64.
 * Per set, the valid slots' recency order is a doubly linked list (most recent at the head).
 * Sets of more than 8 ways find a key through a hash index (open addressing, linear probing);
 * narrower sets are scanned.
 */
typedef struct {
  int sets, ways;
  u32 set_mask;
  u64 *key;
  u64 *data;        /* payload: the walk's next table (PWC) or 0; low 2 bits the permission */
  int *prev, *next; /* per slot */
  int *head, *tail, *count; /* per set */
  int *hidx;        /* wide: slot + 1 per cell, 0 empty */
  u32 hmask, hshift;
  long live;
  u64 hits, misses, fills, evictions;
} Cache;

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) { fprintf(stderr, "replay: out of memory\n"); exit(2); }
  return p;
}

static void cache_init(Cache *c, int entries, int ways) {
  memset(c, 0, sizeof *c);
  c->ways = ways;
  c->sets = entries / ways;
  c->set_mask = (u32)c->sets - 1;
  c->key = xcalloc((size_t)entries, sizeof(u64));
  c->data = xcalloc((size_t)entries, sizeof(u64));
  c->prev = xcalloc((size_t)entries, sizeof(int));
  c->next = xcalloc((size_t)entries, sizeof(int));
  c->head = xcalloc((size_t)c->sets, sizeof(int));
  c->tail = xcalloc((size_t)c->sets, sizeof(int));
  c->count = xcalloc((size_t)c->sets, sizeof(int));
  for (int s = 0; s < c->sets; s++) c->head[s] = c->tail[s] = -1;
  if (ways > 8) {
    u32 cells = 16, bits = 4;
    while (cells < 2u * (u32)entries) { cells *= 2; bits++; }
    c->hidx = xcalloc(cells, sizeof(int));
    c->hmask = cells - 1;
    c->hshift = 64 - bits;
  }
}

static inline u64 mkkey(u32 tag, u64 num) { return ((u64)tag << 48) | num; }

static inline u32 hash_home(const Cache *c, u64 k) {
  return (u32)((k * 0x9E3779B97F4A7C15ull) >> c->hshift);
}

/* Move slot s to the front of its set's list (s is in the list). */
static inline void to_front(Cache *c, int set, int s) {
  int h = c->head[set];
  if (h == s) return;
  int p = c->prev[s], n = c->next[s];
  c->next[p] = n;
  if (n >= 0) c->prev[n] = p; else c->tail[set] = p;
  c->prev[s] = -1;
  c->next[s] = h;
  c->prev[h] = s;
  c->head[set] = s;
}

static inline int find_slot(const Cache *c, int set, u64 k) {
  if (c->hidx) {
    for (u32 i = hash_home(c, k);; i = (i + 1) & c->hmask) {
      int v = c->hidx[i];
      if (v == 0) return -1;
      if (c->key[v - 1] == k) return v - 1;
    }
  }
  int base = set * c->ways, end = base + c->count[set];
  for (int s = base; s < end; s++) if (c->key[s] == k) return s;
  return -1;
}

/* Probe: the slot on a hit (now the most recent), -1 on a miss; both counted. */
static inline int cache_lookup(Cache *c, u32 tag, u64 num) {
  u64 k = mkkey(tag, num);
  int set = (int)((u32)num & c->set_mask);
  int s = find_slot(c, set, k);
  if (s < 0) { c->misses++; return -1; }
  c->hits++;
  to_front(c, set, s);
  return s;
}

static void hash_remove(Cache *c, int s) {
  u32 i = hash_home(c, c->key[s]);
  while (c->hidx[i] != s + 1) i = (i + 1) & c->hmask;
  for (u32 j = (i + 1) & c->hmask; c->hidx[j] != 0; j = (j + 1) & c->hmask) {
    u32 k = hash_home(c, c->key[c->hidx[j] - 1]);
    /* move cell j back to the hole at i unless its home lies cyclically in (i, j] */
    if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) { c->hidx[i] = c->hidx[j]; i = j; }
  }
  c->hidx[i] = 0;
}

/* Fill a key the caller has just missed on: an empty way, else the least recently used. */
static int cache_fill(Cache *c, u32 tag, u64 num, u64 data) {
  int set = (int)((u32)num & c->set_mask);
  int s;
  if (c->count[set] < c->ways) {
    s = set * c->ways + c->count[set]++;
    c->live++;
  } else {
    s = c->tail[set];
    c->evictions++;
    if (c->hidx) hash_remove(c, s);
    /* unlink the tail */
    int p = c->prev[s];
    c->tail[set] = p;
    if (p >= 0) c->next[p] = -1; else c->head[set] = -1;
  }
  c->key[s] = mkkey(tag, num);
  c->data[s] = data;
  int h = c->head[set];
  c->prev[s] = -1;
  c->next[s] = h;
  if (h >= 0) c->prev[h] = s; else c->tail[set] = s;
  c->head[set] = s;
  c->fills++;
  if (c->hidx) {
    u32 i = hash_home(c, c->key[s]);
    while (c->hidx[i] != 0) i = (i + 1) & c->hmask;
    c->hidx[i] = s + 1;
  }
  return s;
}

/* ------------------------------------------------------------------ page tables */

/* Table pages of 512 entries: bits 1:0 R/W (present when either is set), bit 7 page size (a 2 MiB
 * or 1 GiB leaf), bits 63:12 the next table's index (non-leaf) or the frame (leaf). */
static u64 *tables;
static u64 n_tables, cap_tables;

static u64 table_alloc(void) {
  if (n_tables == cap_tables) {
    cap_tables = cap_tables ? cap_tables * 2 : 64;
    tables = realloc(tables, cap_tables * 512 * sizeof(u64));
    if (!tables) { fprintf(stderr, "replay: out of memory\n"); exit(2); }
  }
  memset(tables + n_tables * 512, 0, 512 * sizeof(u64));
  return n_tables++;
}

static inline unsigned level_index(u64 pn, int level) { return (unsigned)(pn >> (9 * (level - 1))) & 511; }
#define PS 0x80u
#define PERM_R 1u
#define PERM_W 2u

/* Would a leaf at `level` for page pn meet an entry already present (a large leaf above, or
 * anything at its own slot)? */
static int leaf_conflicts(u64 root, u64 pn, int level) {
  u64 t = root;
  for (int l = LEVELS; l > level; l--) {
    u64 e = tables[t * 512 + level_index(pn, l)];
    if ((e & 3) == 0) return 0;
    if (e & PS) return 1;
    t = e >> 12;
  }
  return (tables[t * 512 + level_index(pn, level)] & 3) != 0;
}

static void install_leaf(u64 root, u64 pn, u64 pfn, int level, unsigned perm) {
  u64 t = root;
  for (int l = LEVELS; l > level; l--) {
    u64 *e = &tables[t * 512 + level_index(pn, l)];
    if ((*e & 3) == 0) {
      u64 n = table_alloc();
      e = &tables[t * 512 + level_index(pn, l)]; /* tables may have moved */
      *e = (n << 12) | 3;
    }
    t = *e >> 12;
  }
  tables[t * 512 + level_index(pn, level)] = (pfn << 12) | perm | (level > 1 ? PS : 0);
}

/* The largest leaf level for the chunk at pn/pfn with `left` pages to go. */
static int leaf_level(u64 pn, u64 pfn, u64 left) {
  for (int l = MAX_LEAF_LEVEL; l > 1; l--) {
    u64 span = (u64)1 << (9 * (l - 1));
    if (left >= span && (pn & (span - 1)) == 0 && (pfn & (span - 1)) == 0) return l;
  }
  return 1;
}

/* ------------------------------------------------------------------ devices and the IOMMU */

enum { F_ROOT, F_CONTEXT, F_INVALID_CONTEXT, F_WIDTH, F_WRITE_RO, F_READ_WO, F_NOT_PRESENT, F_NESTED_S2, N_FAULTS };
static const char *const fault_names[N_FAULTS] = {
  "rootNotPresent", "contextNotPresent", "invalidContext", "addressBeyondWidth",
  "writeToReadOnly", "readFromWriteOnly", "notPresent", "nestedSecondStage",
};

static int did_of_sid[65536];     /* 0: not attached */
static u64 root_of_did[65537];
static unsigned char bus_present[256];
static int n_buses;
static int next_did = 1;

static Cache ctx_cache, tlb4k, tlb2m, tlb1g, pwc[3]; /* pwc[0] pde, [1] pdpte, [2] pml4e */

static struct {
  u64 requests, bytes, reads, writes, pieces, dropped;
  u64 lookups, hits, misses, walks, walk_reads, reads_by_level[LEVELS + 1];
  u64 context_reads, translations;
  u64 map_calls, map_failed, map_pages;
  u64 faults, faults_by[N_FAULTS];
} n;

static void attach(u32 sid) {
  if (did_of_sid[sid]) return;
  int did = next_did++;
  did_of_sid[sid] = did;
  root_of_did[did] = table_alloc();
  if (!bus_present[sid >> 8]) n_buses++;
  bus_present[sid >> 8] = 1;
}

static void do_map(u32 sid, u64 pn, u64 pfn, u64 pages, unsigned perm) {
  attach(sid);
  n.map_calls++;
  u64 root = root_of_did[did_of_sid[sid]];
  /* The leaves of one map cover disjoint ranges, so the map fails iff one of them meets an entry
   * that was present before it: check them all, then install them all. */
  u64 p = pn, f = pfn, left = pages;
  while (left > 0) {
    int l = leaf_level(p, f, left);
    if (leaf_conflicts(root, p, l)) { n.map_failed++; return; }
    u64 span = (u64)1 << (9 * (l - 1));
    p += span; f += span; left -= span;
  }
  p = pn; f = pfn; left = pages;
  while (left > 0) {
    int l = leaf_level(p, f, left);
    install_leaf(root, p, f, l, perm);
    u64 span = (u64)1 << (9 * (l - 1));
    p += span; f += span; left -= span;
  }
  n.map_pages += pages;
}

static int fault(int kind) {
  n.faults++;
  n.faults_by[kind]++;
  return -1;
}

static int ctx_guess = -1;

/* Translate one 4 KiB piece; 0, or -1 on a fault. */
static int translate(u32 sid, u64 pn, int is_write) {
  n.translations++;
  int cs;
  if (ctx_guess >= 0 && ctx_cache.key[ctx_guess] == mkkey(0, sid)) {
    ctx_cache.hits++;
    to_front(&ctx_cache, 0, ctx_guess); /* fully associative: one set */
    cs = ctx_guess;
  } else if ((cs = cache_lookup(&ctx_cache, 0, sid)) < 0) {
    n.context_reads++; /* the root entry */
    if (!bus_present[sid >> 8]) return fault(F_ROOT);
    n.context_reads++; /* the context entry */
    if (!did_of_sid[sid]) return fault(F_CONTEXT);
    cs = cache_fill(&ctx_cache, 0, sid, (u64)did_of_sid[sid]);
  }
  ctx_guess = cs;
  u32 did = (u32)ctx_cache.data[cs];
  if (pn >= MAX_PN) return fault(F_WIDTH);

  n.lookups++;
  unsigned perm;
  int s = -1;
  if (tlb4k.live && (s = cache_lookup(&tlb4k, did, pn)) >= 0) perm = (unsigned)tlb4k.data[s];
  else if (tlb2m.live && (s = cache_lookup(&tlb2m, did, pn >> 9)) >= 0) perm = (unsigned)tlb2m.data[s];
  else if (tlb1g.live && (s = cache_lookup(&tlb1g, did, pn >> 18)) >= 0) perm = (unsigned)tlb1g.data[s];
  if (s >= 0) {
    n.hits++;
  } else {
    n.misses++;
    n.walks++;
    int level = LEVELS;
    u64 t = root_of_did[did];
    perm = 3;
    for (int k = 0; k < LEVELS - 1; k++) {
      int h = cache_lookup(&pwc[k], did, pn >> (9 * (k + 1)));
      if (h >= 0) {
        t = pwc[k].data[h] >> 2;
        perm = (unsigned)pwc[k].data[h] & 3;
        level = k + 1; /* the cached entry is at level k + 2: read on from level k + 1 */
        break;
      }
    }
    for (;; level--) {
      n.walk_reads++;
      n.reads_by_level[level]++;
      u64 e = tables[t * 512 + level_index(pn, level)];
      unsigned p = (unsigned)e & 3;
      if (p == 0) return fault(F_NOT_PRESENT);
      perm &= p;
      if (level == 1 || (e & PS)) {
        if (level == 1) cache_fill(&tlb4k, did, pn, perm);
        else if (level == 2) cache_fill(&tlb2m, did, pn >> 9, perm);
        else cache_fill(&tlb1g, did, pn >> 18, perm);
        break;
      }
      t = e >> 12;
      cache_fill(&pwc[level - 2], did, pn >> (9 * (level - 1)), (t << 2) | perm);
    }
  }
  if (is_write ? !(perm & PERM_W) : !(perm & PERM_R)) return fault(is_write ? F_WRITE_RO : F_READ_WO);
  return 0;
}

/* ------------------------------------------------------------------ the CSV trace */

#define MAX_DEVICES 65535
static struct { char text[32]; int len; u32 sid; u32 seg; } dev_text[256];
static int n_dev_text;
static int seg_of_sid[65536]; /* segment + 1 of the device seen with this source-id, 0: none */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* bus:dev.fn with an optional segment (0000:01:00.0 or 01:00.0): source-id, segment in *seg.
 * Groups of 1-4 (segment) and 1-2 (bus, device) hex digits, a function 0-7. */
static u32 parse_bdf(const char *s, const char *e, u32 *seg) {
  static const char *const bad = "device is not a PCI address; write it as 0000:01:00.0 or 01:00.0";
  u32 part[3];
  int digits[3];
  int np = 0;
  const char *p = s;
  for (;;) {
    u32 v = 0;
    int d = 0;
    while (p < e && hexval((unsigned char)*p) >= 0) { v = v * 16 + (u32)hexval((unsigned char)*p); p++; d++; }
    if (d == 0 || d > 4) die(bad);
    part[np] = v;
    digits[np++] = d;
    if (p < e && *p == ':' && np < 3) { p++; continue; }
    break;
  }
  if (np < 2 || p + 2 != e || *p != '.' || e[-1] < '0' || e[-1] > '7') die(bad);
  int b = np - 2; /* index of the bus group */
  if (digits[b] > 2 || digits[b + 1] > 2) die(bad);
  u32 bus = part[b], dev = part[b + 1], fn = (u32)(e[-1] - '0');
  if (dev > 31) die("device number is above 31 (1f)");
  *seg = np == 3 ? part[0] : 0;
  return (bus << 8) | (dev << 3) | fn;
}

static u32 device_sid(const char *s, const char *e) {
  int len = (int)(e - s);
  for (int i = 0; i < n_dev_text; i++) {
    if (dev_text[i].len == len && memcmp(dev_text[i].text, s, (size_t)len) == 0) return dev_text[i].sid;
  }
  if (len == 1 && *s == '*') die("device '*' (inv:global) is not supported by this reference");
  u32 seg;
  u32 sid = parse_bdf(s, e, &seg);
  if (seg_of_sid[sid] != 0 && seg_of_sid[sid] != (int)seg + 1) die("two devices with the same requester id in different PCI segments");
  seg_of_sid[sid] = (int)seg + 1;
  if (n_dev_text < 256 && len < 32) {
    memcpy(dev_text[n_dev_text].text, s, (size_t)len);
    dev_text[n_dev_text].len = len;
    dev_text[n_dev_text].sid = sid;
    dev_text[n_dev_text].seg = seg;
    n_dev_text++;
  }
  return sid;
}

static u64 parse_hex(const char *s, const char *e, const char *what) {
  if (e - s < 3 || s[0] != '0' || (s[1] | 0x20) != 'x') { fprintf(stderr, "replay: %s:%ld: %s is not a hex address\n", file_name, line_no, what); exit(2); }
  s += 2;
  if (e - s > 16) die("a hex address is wider than 64 bits");
  u64 v = 0;
  for (; s < e; s++) {
    int d = hexval((unsigned char)*s);
    if (d < 0) die("a hex address has a character that is not hex");
    v = (v << 4) | (u64)d;
  }
  return v;
}

static double parse_dec(const char *s, const char *e, int allow_frac, const char *what) {
  if (s == e) { fprintf(stderr, "replay: %s:%ld: %s is empty\n", file_name, line_no, what); exit(2); }
  u64 v = 0;
  double frac = 0, scale = 1;
  int in_frac = 0;
  for (; s < e; s++) {
    if (*s >= '0' && *s <= '9') {
      if (in_frac) { scale /= 10; frac += (*s - '0') * scale; }
      else { v = v * 10 + (u64)(*s - '0'); if (v > ((u64)1 << 53)) die("a number is too large (2^53 or more)"); }
    } else if (*s == '.' && allow_frac && !in_frac) in_frac = 1;
    else { fprintf(stderr, "replay: %s:%ld: %s is not a number\n", file_name, line_no, what); exit(2); }
  }
  return (double)v + frac;
}

static int field_is(const char *s, const char *e, const char *w) {
  size_t len = strlen(w);
  return (size_t)(e - s) == len && memcmp(s, w, len) == 0;
}

static const char *const kinds[] = { "data", "desc", "cqe", "doorbell", "ack" };

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: replay TRACE.csv\n"); return 2; }
  file_name = argv[1];
  FILE *fp = fopen(file_name, "rb");
  if (!fp) { fprintf(stderr, "replay: %s: cannot open\n", file_name); return 2; }
  fseek(fp, 0, SEEK_END);
  long size = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  char *buf = xcalloc((size_t)size + 1, 1);
  if (fread(buf, 1, (size_t)size, fp) != (size_t)size) { fprintf(stderr, "replay: %s: read failed\n", file_name); return 2; }
  fclose(fp);
  if (size >= 3 && (unsigned char)buf[0] == 0xef && (unsigned char)buf[1] == 0xbb && (unsigned char)buf[2] == 0xbf) { memmove(buf, buf + 3, (size_t)size - 3); size -= 3; }
  if (size >= 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b) die("gzip-compressed traces are not supported by this reference: decompress it");

  cache_init(&ctx_cache, 64, 64);
  cache_init(&tlb4k, 64, 64);
  cache_init(&tlb2m, 32, 32);
  cache_init(&tlb1g, 4, 4);
  cache_init(&pwc[0], 64, 4);
  cache_init(&pwc[1], 64, 4);
  cache_init(&pwc[2], 4, 4);

  const char *p = buf, *end = buf + size;
  int header = 0, nf = 8;
  double last_time = 0;
  u64 records = 0;
  const char *fs[10], *fe[10];
  while (p < end) {
    line_no++;
    const char *ls = p;
    const char *le = memchr(p, '\n', (size_t)(end - p));
    if (!le) le = end;
    p = le + 1;
    if (le > ls && le[-1] == '\r') le--;
    if (le == ls || *ls == '#') continue;
    int k = 0;
    fs[0] = ls;
    for (const char *q = ls; q < le; q++) {
      if (*q == ',') {
        if (k >= 8) die("too many fields");
        fe[k++] = q;
        fs[k] = q + 1;
      }
    }
    fe[k] = le;
    for (int j = 0; j <= k; j++) {
      while (fs[j] < fe[j] && *fs[j] == ' ') fs[j]++;
      while (fe[j] > fs[j] && fe[j][-1] == ' ') fe[j]--;
    }
    if (!header) {
      static const char *const names[] = { "time_ns", "device", "pasid", "op", "iova", "size", "dir", "paddr", "kind" };
      if (k != 7 && k != 8) die("the first line must be the header time_ns,device,pasid,op,iova,size,dir,paddr[,kind]");
      for (int j = 0; j <= k; j++) if (!field_is(fs[j], fe[j], names[j])) die("the first line must be the header time_ns,device,pasid,op,iova,size,dir,paddr[,kind]");
      nf = k + 1;
      header = 1;
      continue;
    }
    if (k != nf - 1) die("wrong number of fields");
    records++;
    int is_dma;
    if (field_is(fs[3], fe[3], "dma")) is_dma = 1;
    else if (field_is(fs[3], fe[3], "map")) is_dma = 0;
    else die("only map and dma records are supported by this reference (no unmap, no inv)");
    double time = parse_dec(fs[0], fe[0], 1, "time_ns");
    if (time < last_time) die("time_ns is before the previous record's");
    last_time = time;
    u32 sid = device_sid(fs[1], fe[1]);
    if (fe[2] > fs[2] && parse_dec(fs[2], fe[2], 0, "pasid") > 0xfffff) die("pasid is above 1048575");
    u64 iova = parse_hex(fs[4], fe[4], "iova");
    u64 bytes = (u64)parse_dec(fs[5], fe[5], 0, "size");
    if (bytes == 0) die("size is 0");
    if (nf == 9 && fe[8] > fs[8]) {
      int ok = 0;
      for (int j = 0; j < 5; j++) if (field_is(fs[8], fe[8], kinds[j])) ok = 1;
      if (!ok) die("unknown kind");
    }
    u64 pn = iova >> 12;
    u64 pages = ((iova & 0xfff) + bytes - 1) / 4096 + 1;
    if (is_dma) {
      int is_write;
      if (field_is(fs[6], fe[6], "write")) is_write = 1;
      else if (field_is(fs[6], fe[6], "read")) is_write = 0;
      else die("dir on a dma must be read or write");
      if (fe[7] > fs[7]) die("paddr on a dma record");
      n.requests++;
      n.bytes += bytes;
      if (is_write) n.writes++; else n.reads++;
      for (u64 q = 0; q < pages; q++) {
        n.pieces++;
        if (translate(sid, pn + q, is_write) < 0) { n.dropped++; break; }
      }
    } else {
      unsigned perm;
      if (fe[6] == fs[6] || field_is(fs[6], fe[6], "rw")) perm = 3;
      else if (field_is(fs[6], fe[6], "read")) perm = PERM_R;
      else if (field_is(fs[6], fe[6], "write")) perm = PERM_W;
      else die("dir on a map must be empty, rw, read or write");
      u64 paddr = parse_hex(fs[7], fe[7], "paddr");
      if ((paddr & 0xfff) != (iova & 0xfff)) die("map iova and paddr have different offsets within their 4 KiB pages");
      if (pn + pages - 1 >= MAX_PN) die("a map beyond the 48-bit address width");
      do_map(sid, pn, paddr >> 12, pages, perm);
    }
  }
  if (!header) die("no header line");

  printf("{\n  \"records\": %llu,\n", (unsigned long long)records);
  printf("  \"dma\": { \"requests\": %llu, \"bytes\": %llu, \"reads\": %llu, \"writes\": %llu, \"pieces\": %llu, \"dropped\": %llu },\n",
         (unsigned long long)n.requests, (unsigned long long)n.bytes, (unsigned long long)n.reads, (unsigned long long)n.writes,
         (unsigned long long)n.pieces, (unsigned long long)n.dropped);
  printf("  \"translations\": %llu,\n", (unsigned long long)n.translations);
  printf("  \"iotlb\": { \"lookups\": %llu, \"hits\": %llu, \"misses\": %llu, \"byPageSize\": {", (unsigned long long)n.lookups, (unsigned long long)n.hits, (unsigned long long)n.misses);
  const Cache *arr[3] = { &tlb4k, &tlb2m, &tlb1g };
  const char *an[3] = { "4k", "2m", "1g" };
  for (int i = 0; i < 3; i++) {
    printf("%s \"%s\": { \"hits\": %llu, \"misses\": %llu, \"fills\": %llu, \"evictions\": %llu }", i ? "," : "", an[i],
           (unsigned long long)arr[i]->hits, (unsigned long long)arr[i]->misses, (unsigned long long)arr[i]->fills, (unsigned long long)arr[i]->evictions);
  }
  printf(" } },\n");
  const char *pn_names[3] = { "pde", "pdpte", "pml4e" };
  printf("  \"pwc\": {");
  for (int i = 0; i < 3; i++) printf("%s \"%s\": { \"hits\": %llu, \"misses\": %llu }", i ? "," : "", pn_names[i], (unsigned long long)pwc[i].hits, (unsigned long long)pwc[i].misses);
  printf(" },\n");
  printf("  \"walks\": { \"count\": %llu, \"memReads\": %llu, \"readsByLevel\": { \"pte\": %llu, \"pde\": %llu, \"pdpte\": %llu, \"pml4e\": %llu } },\n",
         (unsigned long long)n.walks, (unsigned long long)n.walk_reads, (unsigned long long)n.reads_by_level[1], (unsigned long long)n.reads_by_level[2],
         (unsigned long long)n.reads_by_level[3], (unsigned long long)n.reads_by_level[4]);
  printf("  \"contextCache\": { \"hits\": %llu, \"misses\": %llu, \"memReads\": %llu },\n", (unsigned long long)ctx_cache.hits, (unsigned long long)ctx_cache.misses, (unsigned long long)n.context_reads);
  /* table pages in use: the root table, a context table per bus, the domains' page tables */
  printf("  \"mapping\": { \"mapCalls\": %llu, \"mapFailed\": %llu, \"mappedPages\": %llu, \"tablePagesInUse\": %llu },\n", (unsigned long long)n.map_calls,
         (unsigned long long)n.map_failed, (unsigned long long)n.map_pages, (unsigned long long)(1 + n_buses + n_tables));
  printf("  \"faults\": { \"count\": %llu, \"byReason\": {", (unsigned long long)n.faults);
  int first = 1;
  for (int i = 0; i < N_FAULTS; i++) {
    if (n.faults_by[i] == 0) continue;
    printf("%s \"%s\": %llu", first ? "" : ",", fault_names[i], (unsigned long long)n.faults_by[i]);
    first = 0;
  }
  printf(" } }\n}\n");
  free(buf);
  return 0;
}
