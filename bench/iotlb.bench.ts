/**
 * IOTLB lookups per second on a 20 M-lookup stream: sequential descriptor/buffer rings mixed with
 * random accesses over 1 GiB, 4 KiB pages, 4 domains. Two geometries (64-entry 4-way, 512-entry
 * 8-way, LRU), measured at two depths:
 *  - "IOTLB": the IOTLB arrays alone (probe all page sizes, fill on a miss), the structure itself;
 *  - "translate": the whole IOMMU path per lookup (context cache, IOTLB, PWCs, walk on a miss).
 * Plus a full `run` of a 1 M-request CSV trace (parse + replay).
 */
import { fileURLToPath } from 'node:url';
import { runSuite, rng, type Figure } from './common.js';
import { createCache } from '../src/cache/setassoc.js';
import { buildConfig, deviceSettings } from '../src/config/config.js';
import { Iommu } from '../src/iommu/iommu.js';
import { PERM_RW } from '../src/iommu/pagetable.js';
import { parseCsvTrace, CSV_HEADER } from '../src/trace/importers/csv.js';
import { runTrace, summarizeTrace } from '../src/run/run.js';

const LOOKUPS = 20_000_000;
const STREAM = 4_000_000; // generated once, replayed 5× per call (a continuous stream)
const PAGES_1G = 262144;
const DOMAINS = 4;

function makeStream(): { pn: Float64Array; dom: Int32Array } {
  const pn = new Float64Array(STREAM);
  const dom = new Int32Array(STREAM);
  const r = rng(12345);
  // per domain: a descriptor ring (16 pages) and a buffer ring (256 pages) walked sequentially
  const ringPos = new Int32Array(DOMAINS);
  const bufPos = new Int32Array(DOMAINS);
  for (let i = 0; i < STREAM; i++) {
    const d = r() % DOMAINS;
    dom[i] = d + 1;
    const base = d * 4096; // each domain's rings at its own place inside the 1 GiB
    const k = r() % 8;
    if (k < 2) { pn[i] = base + ((ringPos[d] = (ringPos[d] + 1) % (16 * 64)) >> 6); } // 64 descriptors per page
    else if (k < 6) { pn[i] = base + 16 + ((bufPos[d] = (bufPos[d] + 1) % (256 * 2)) >> 1); } // 2 buffers per page
    else pn[i] = r() % PAGES_1G; // random over 1 GiB
  }
  return { pn, dom };
}

/**
 * The IOTLB arrays alone, driven by a plain top-level loop (as a simulator's own driver loop is):
 * probe the 4 KiB, 2 MiB and 1 GiB arrays, fill the 4 KiB array on a miss. Returns the hits.
 */
function iotlbStream(pn: Float64Array, dom: Int32Array, entries: number, ways: number): number {
  const a4 = createCache({ entries, ways, policy: 'lru' });
  const a2 = createCache({ entries: 32, ways: 32, policy: 'lru' });
  const a1 = createCache({ entries: 4, ways: 4, policy: 'lru' });
  let h = 0;
  const n = pn.length;
  for (let rep = 0; rep < LOOKUPS / STREAM; rep++) {
    for (let i = 0; i < n; i++) {
      const p = pn[i], d = dom[i];
      if (a4.lookup(d, -1, p) >= 0) { h++; continue; }
      if (a2.live !== 0 && a2.lookup(d, -1, Math.floor(p / 512)) >= 0) { h++; continue; }
      if (a1.live !== 0 && a1.lookup(d, -1, Math.floor(p / 262144)) >= 0) { h++; continue; }
      a4.fillAbsent(d, -1, p, p, 3);
    }
  }
  return h;
}

/** Hits of the last IOTLB-only call per geometry (printed, so the work cannot be optimised away). */
const hitsSeen = new Map<string, number>();

export async function run(): Promise<Figure[]> {
  const { pn, dom } = makeStream();
  // Two suites, the cache arrays first: tinybench warms every task of a suite before it measures
  // any, and the IOMMU's own calls into the cache (other geometries, small-integer keys) would
  // otherwise shape V8's type feedback for the structure measured alone.
  const arrays = [];
  for (const [entries, ways] of [[64, 4], [512, 8]] as const) {
    arrays.push({
      name: `IOTLB ${entries}-entry ${ways}-way LRU (3 page-size arrays, fill on miss)`,
      items: LOOKUPS, unit: 'lookups',
      fn: () => { hitsSeen.set(`${entries}x${ways}`, iotlbStream(pn, dom, entries, ways)); },
    });
  }
  const figs0 = await runSuite('IOTLB lookups: the arrays alone (20 M-lookup stream, one core)', arrays, 7);
  for (const [g, h] of hitsSeen) process.stdout.write(`IOTLB ${g}: ${((100 * h) / LOOKUPS).toFixed(1)} % hits\n`);
  const tasks = [];
  for (const [entries, ways] of [[64, 4], [512, 8]] as const) {
    let iommu: Iommu;
    tasks.push({
      name: `translate ${entries}-entry ${ways}-way (context cache, IOTLB, PWCs, walks)`,
      items: LOOKUPS, unit: 'lookups',
      setup: () => {
        const cfg = buildConfig([["iommu.iotlb.entries", entries], ["iommu.iotlb.ways", ways], ["iommu.mode", "strict"], ["iommu.superpages", false]]);
        iommu = new Iommu(cfg);
        for (let d = 1; d <= DOMAINS; d++) {
          const sid = 0x300 + d;
          iommu.attach(sid, deviceSettings(cfg, `0000:03:00.${d}`));
          iommu.map(sid, -1, 0, 0x100000 * d, PAGES_1G, PERM_RW); // 1 GiB, 4 KiB... 4 KiB leaves (superpages off)
        }
      },
      fn: () => {
        for (let rep = 0; rep < LOOKUPS / STREAM; rep++) {
          for (let i = 0; i < STREAM; i++) iommu.translate(0x300 + dom[i], -1, pn[i], false);
        }
      },
    });
  }
  const figs = await runSuite('IOTLB lookups through the whole IOMMU path (20 M-lookup stream, one core)', tasks, 5);

  // a 1 M-request CSV trace: map a ring of buffers, then DMAs with per-packet unmap/map
  const lines = [CSV_HEADER];
  const r = rng(99);
  let t = 0;
  lines.push(`0,0000:03:00.0,,map,0x0,${512 * 4096},,0x10000000`);
  for (let i = 0; i < 1_000_000; i++) {
    t += 100;
    const page = r() % 512;
    lines.push(`${t},0000:03:00.0,,dma,0x${(page * 4096 + (r() % 2048)).toString(16)},1514,write,`);
  }
  const csv = new TextEncoder().encode(lines.join('\n') + '\n');
  const cfg = buildConfig([['iommu.superpages', false]]);
  const figs2 = await runSuite('full run of a 1 M-request CSV trace (parse + replay)', [{
    name: 'parse + replay 1 M requests', items: 1_000_000, unit: 'requests',
    fn: () => {
      const tr = parseCsvTrace(csv, 'bench.csv');
      runTrace(tr, cfg, summarizeTrace(tr, 'bench', 'bench.csv', 'csv'));
    },
  }], 3);
  return [...figs0, ...figs, ...figs2];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
