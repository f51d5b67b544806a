/**
 * Knobs of the NIC trace producer (`nic.*`), in the schema's format (src/config/schema.ts): unit in
 * the name or the doc, a default with its source. `resolveNicConfig` turns settings into a frozen
 * `NicConfig`; every bad value is one InputError line naming the key and the fix.
 *
 * Some keys follow the IOMMU settings when the same settings carry them and the NIC key is not set:
 * `iommu.flushQueue.entries` / `.timeoutNs` set `nic.iova.fqEntries` / `.fqTimeoutNs` (an IOVA must
 * not be reused before the IOMMU model flushes it), `iommu.mode=strict|off|identity` makes
 * `nic.iova.fqEntries` 0 (IOVAs freed at unmap), and `iommu.levels` sets `nic.iova.apertureBits`
 * (3 → 39, 4 → 48, 5 → 57).
 */
import type { Knob } from '../../config/knob.js';
import type { IovaSpec } from './iova.js';
import { parseKnobValue, closestKey, setPath } from '../../config/knob.js';
import { inputError } from '../../util/errors.js';

export type NicIovaPolicy = 'per-packet' | 'page-pool' | 'hugepage';
export type NicDirection = 'rx' | 'tx' | 'both-by-flow';

export interface NicConfig {
  queues: number;
  rss: boolean;
  direction: NicDirection;
  rxRing: { entries: number };
  txRing: { entries: number };
  descriptorBytes: number;
  descFetchBatch: number;
  writebackBatch: number;
  moderation: { packets: number; usecs: number };
  napiBudget: number;
  driver: { pollDelayNs: number };
  bufferBytes: number;
  iovaPolicy: NicIovaPolicy;
  /** The IOVA allocator's settings (the CPU count comes from nic.queues). */
  iova: Omit<IovaSpec, 'cpus'>;
}

const SRC_FQ = 'iommu.flushQueue.* of this simulator\'s IOMMU model, whose flushes it must match; their defaults: Linux drivers/iommu/dma-iommu.c IOVA_FQ_SIZE = 256, IOVA_FQ_TIMEOUT = 10 ms [C]';

export const NIC_KNOBS: Knob[] = [
  { key: 'nic.queues', kind: 'int', default: 4, min: 1, max: 256, unit: 'queue pairs', doc: 'queue pairs (an RX and a TX ring, one MSI-X vector, one CPU each); the IOVA allocator\'s per-CPU caches follow the queue\'s CPU', source: 'assumption (a 4-core host); ixgbe opens one queue pair per online CPU, at most 16 RSS queues on 82599 (IXGBE_MAX_RSS_INDICES) [C]' },
  { key: 'nic.rss', kind: 'bool', default: true, doc: 'spread packets over the queues by flow hash: queue = table[hash & 127], the 128-entry indirection table filled round-robin (entry i → queue i mod queues); false: every packet on queue 0', source: 'Intel 82599: 128-entry RSS redirection table indexed by the 7 low hash bits; Linux ethtool_rxfh_indir_default(i, n) = i % n [C]' },
  { key: 'nic.direction', kind: 'enum', default: 'rx', values: ['rx', 'tx', 'both-by-flow'], doc: 'direction of packets whose capture does not record one (PacketColumns.dir = 0): all received, all sent, or per flow (bit 7 of the flow hash: 0 RX, 1 TX)', source: 'a choice: a capture without direction is taken as traffic the host receives' },
  { key: 'nic.rxRing.entries', kind: 'int', default: 512, min: 2, max: 65536, unit: 'descriptors', doc: 'RX descriptor ring size per queue; entries − 1 buffers are posted (Intel rings: head = tail means empty)', source: 'ixgbe IXGBE_DEFAULT_RXD = 512 [C]' },
  { key: 'nic.txRing.entries', kind: 'int', default: 512, min: 2, max: 65536, unit: 'descriptors', doc: 'TX descriptor ring size per queue; at most entries − 1 in use', source: 'ixgbe IXGBE_DEFAULT_TXD = 512 [C]' },
  { key: 'nic.descriptorBytes', kind: 'int', default: 16, min: 8, max: 256, unit: 'bytes', doc: 'bytes per descriptor, fetched and written back (a power of two): 16 for Intel 82599 descriptors, 64 for a ConnectX CQE', source: 'Intel 82599 legacy and advanced descriptors are 16 B (82599 datasheet §7.1.5, §7.2.3; ixgbe_type.h union ixgbe_adv_rx_desc) [C]; ConnectX CQE 64 B (mlx5 struct mlx5_cqe64) [C]' },
  { key: 'nic.descFetchBatch', kind: 'int', default: 4, min: 1, max: 256, unit: 'descriptors', doc: 'most descriptors one descriptor-fetch DMA read carries (RX: fetched when the NIC\'s cache is empty, as many as are posted up to this, never across the ring\'s end)', source: 'ixgbe programs 82598 RXDCTL HTHRESH = 4 (fetch once 4 descriptors are available: 4 × 16 B = one 64 B line) and TX HTHRESH = 1, PTHRESH = 32 [C]; 4 taken' },
  { key: 'nic.writebackBatch', kind: 'int', default: 8, min: 1, max: 256, unit: 'descriptors', doc: 'completed descriptors written back by one DMA write; a partial batch is written when the interrupt fires', source: 'ixgbe sets WTHRESH = 8 ("burst writeback") on 82598 RX and on TX when interrupt moderation is on (ixgbe_main.c) [C]' },
  { key: 'nic.moderation.packets', kind: 'int', default: 32, min: 0, max: 65536, unit: 'packets', doc: 'interrupt moderation: an MSI-X interrupt once this many packets (RX and TX of the queue) completed since the last one; 0: no packet limit', source: 'mlx5e MLX5E_PARAMS_DEFAULT_RX_CQ_MODERATION_PKTS = 0x20 (ethtool -c rx-frames) [C]' },
  { key: 'nic.moderation.usecs', kind: 'number', default: 3, min: 0, max: 1e6, unit: 'µs', doc: 'interrupt moderation: ... or this long after the first completion since the last interrupt, whichever comes first; 0: an interrupt per completion (moderation off)', source: 'mlx5e MLX5E_PARAMS_DEFAULT_RX_CQ_MODERATION_USEC_FROM_CQE = 3 (ethtool -c rx-usecs; 16 µs when the period starts from the EQE) [C]; ixgbe instead rate-limits with an adaptive ITR starting at 20k interrupts/s (IXGBE_20K_ITR)' },
  { key: 'nic.napiBudget', kind: 'int', default: 64, min: 1, max: 65536, unit: 'packets', doc: 'RX packets one NAPI poll cleans; each poll refills what it cleaned and writes the RX tail doorbell once', source: 'Linux NAPI_POLL_WEIGHT = 64 (include/linux/netdevice.h) [C]' },
  { key: 'nic.driver.pollDelayNs', kind: 'timeNs', default: 2000, min: 0, max: 1e9, unit: 'ns', doc: 'interrupt → NAPI poll: the driver unmaps, refills and rings the doorbell this long after the interrupt; keep it above the replayed DMA latency, or an unmap overtakes its DMA', source: 'assumption: hard-IRQ entry, NAPI schedule and the NET_RX softirq take ~1–2 µs on an idle core' },
  { key: 'nic.bufferBytes', kind: 'size', default: 2048, min: 256, max: 65536, unit: 'bytes', doc: 'bytes per RX buffer (one descriptor each; a larger frame spans several) and per TX fragment', source: 'ixgbe IXGBE_RXBUFFER_2048 for a 1500 B MTU [C]' },
  { key: 'nic.iovaPolicy', kind: 'enum', default: 'per-packet', values: ['per-packet', 'page-pool', 'hugepage'], doc: 'per-packet: map each buffer before posting it, unmap when its frame is done (Linux DMA API, Linux-like IOVA allocator); page-pool: a pool of pages mapped once at start and recycled, each ring slot getting its buffer back (Linux page_pool with PP_FLAG_DMA_MAP; TX from a premapped pool too); hugepage: the same buffers carved from 2 MiB pages, each mapped once', source: 'per-packet map/unmap is the pattern measured by Malka et al. (rIOMMU, ASPLOS 2015) [S] and Rubin et al. (SOSP 2024) [P]' },
  { key: 'nic.iova.magazineEntries', kind: 'int', default: 128, min: 1, max: 4096, unit: 'IOVAs', doc: 'IOVA range cache: entries per magazine (each CPU holds a loaded and a previous magazine per size class of 1–32 pages)', source: 'Linux drivers/iommu/iova.c IOVA_MAG_SIZE = 128 (127 since "iommu/iova: change IOVA_MAG_SIZE to 127 to save memory") [C]' },
  { key: 'nic.iova.depotMagazines', kind: 'int', default: 32, min: 0, max: 65536, unit: 'magazines', doc: 'IOVA range cache: full magazines the shared depot keeps per size class; a full CPU cache with a full depot frees a magazine\'s IOVAs to the tree', source: 'Linux iova.c MAX_GLOBAL_MAGS = 32 (later kernels: an unbounded depot trimmed every 100 ms, IOVA_DEPOT_DELAY) [C]' },
  { key: 'nic.iova.fqEntries', kind: 'int', default: 256, min: 0, max: 1 << 20, unit: 'slots', doc: 'lazy mode: an unmapped IOVA is reused only after the IOTLB flush that covers it, which comes when this many unmaps are pending in the domain (as iommu.flushQueue.entries; taken from it, and 0 from iommu.mode=strict|off|identity, when the same settings give them); 0: freed at unmap (strict mode)', source: SRC_FQ },
  { key: 'nic.iova.fqTimeoutNs', kind: 'timeNs', default: 10_000_000, min: 1, max: 1e12, unit: 'ns', doc: 'lazy mode: ... or at the first event this long after the oldest pending unmap (as iommu.flushQueue.timeoutNs, taken from it when the same settings give it)', source: SRC_FQ },
  { key: 'nic.iova.forceDac', kind: 'bool', default: false, doc: 'allocate IOVAs from the top of the whole aperture (iommu.forcedac=1) instead of below 4 GiB first', source: 'Linux dma-iommu.c iommu_dma_alloc_iova: a PCI device gets a 32-bit (SAC) IOVA first unless iommu.forcedac; once that space is full it switches to the full width for good [C]' },
  { key: 'nic.iova.apertureBits', kind: 'int', default: 48, min: 32, max: 57, unit: 'bits', doc: 'IOVA width the allocator uses above 4 GiB (48 for 4-level tables, 57 for 5-level); follows iommu.levels in the same settings', source: 'VT-d: 4-level tables translate 48 bits (published-figures §2)' },
];

const BY_KEY = new Map(NIC_KNOBS.map((k) => [k.key, k]));

/** Flatten `{ nic: { rxRing: { entries: 8 } } }` to `nic.rxRing.entries`; flat keys pass through. */
function flatten(settings: Record<string, unknown>, prefix: string, out: Map<string, unknown>): void {
  for (const [k, v] of Object.entries(settings)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out.set(key, v);
  }
}


function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/**
 * Resolve `nic.*` settings (flat dotted keys, or nested objects under `nic`) over the defaults of
 * NIC_KNOBS. Keys outside `nic.` are ignored, except the iommu.* keys the file header names. Throws a one-line InputError naming the key.
 */
export function resolveNicConfig(settings: Record<string, unknown> = {}): NicConfig {
  const flat = new Map<string, unknown>();
  flatten(settings, '', flat);
  const c: Record<string, unknown> = {};
  for (const k of NIC_KNOBS) setPath(c, k.key.slice(4).split('.'), k.default);
  const given = new Set<string>();
  for (const [key, raw] of flat) {
    if (!key.startsWith('nic.')) continue;
    const knob = BY_KEY.get(key);
    if (!knob) {
      const near = closestKey(key, BY_KEY.keys());
      throw inputError(key, 'unknown NIC setting', near ? `did you mean ${near}?` : `use one of ${NIC_KNOBS.map((x) => x.key).join(', ')}`);
    }
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      throw inputError(`${key}=${String(raw)}`, `expected a ${knob.kind === 'bool' ? 'boolean' : knob.kind === 'enum' ? 'name' : 'number'}`, knob.kind === 'enum' ? `use one of ${knob.values!.join(', ')}` : `give a ${knob.kind} value${knob.unit ? ` in ${knob.unit}` : ''}`);
    }
    setPath(c, key.slice(4).split('.'), parseKnobValue(knob, key, raw));
    given.add(key);
  }
  const cfg = c as unknown as NicConfig;

  // follow the IOMMU settings where the NIC ones are not given (validated by the IOMMU's own knobs)
  const follow = (from: string, to: string, set: (v: number) => void): void => {
    const raw = flat.get(from);
    if (given.has(to) || raw === undefined) return;
    const knob = BY_KEY.get(to)!;
    set(parseKnobValue({ ...knob, key: from }, from, raw as string | number | boolean) as number);
  };
  follow('iommu.flushQueue.entries', 'nic.iova.fqEntries', (v) => { cfg.iova.fqEntries = v; });
  follow('iommu.flushQueue.timeoutNs', 'nic.iova.fqTimeoutNs', (v) => { cfg.iova.fqTimeoutNs = v; });
  const mode = flat.get('iommu.mode');
  if (!given.has('nic.iova.fqEntries') && (mode === 'strict' || mode === 'off' || mode === 'identity')) cfg.iova.fqEntries = 0;
  const levels = flat.get('iommu.levels');
  if (!given.has('nic.iova.apertureBits') && levels !== undefined) {
    const l = Number(levels);
    if (l === 3 || l === 4 || l === 5) cfg.iova.apertureBits = l === 3 ? 39 : l === 4 ? 48 : 57;
  }

  // checks across or beyond single knobs
  const d = cfg.descriptorBytes;
  if ((d & (d - 1)) !== 0) throw inputError(`nic.descriptorBytes=${d}`, 'not a power of two', 'use 16 (Intel 82599) or 64 (ConnectX CQE)');
  return deepFreeze(cfg);
}
