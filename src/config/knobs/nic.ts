/**
 * Knobs of the NIC trace producer (`nic.*`), in the schema's format (src/config/schema.ts): unit in
 * the name or the doc, a default with its source. `resolveNicConfig` turns settings into a frozen
 * `NicConfig`; every bad value is one InputError line naming the key and the fix.
 *
 * A resolved configuration's `nic` section is a NicConfig already (each knob parsed by the schema,
 * the checks across knobs by checkNicSection, in resolveConfig): the NIC model takes it as it is.
 *
 * In raw settings given to resolveNicConfig, some keys follow the IOMMU settings when the same
 * settings carry them and the NIC key is not set:
 * `iommu.flushQueue.entries` / `.timeoutNs` set `nic.iova.fqEntries` / `.fqTimeoutNs` (an IOVA must
 * not be reused before the IOMMU model flushes it), `iommu.mode=strict|off|identity` makes
 * `nic.iova.fqEntries` 0 (IOVAs freed at unmap), and `iommu.levels` sets `nic.iova.apertureBits`
 * (3 → 39, 4 → 48, 5 → 57). A resolved configuration holds every nic.* key (its defaults
 * included), so none follows there: its section keeps its own values.
 */
import type { Knob } from '../knob.js';
import { fromKnobs, type KnobTree } from '../tree.js';
import { parseKnobValue, closestKey, setPath, flattenSettings, deepFreeze } from '../knob.js';
import { inputError } from '../../util/errors.js';

/**
 * The NIC model's spec (src/devices/nic: nicTrace, NicTraceStream), typed from NIC_TABLE: the
 * configuration's `nic` section. A resolved config's section is one, checked by resolveConfig
 * (each knob, then checkNicSection); resolveNicConfig builds one from raw settings.
 */
export type NicConfig = KnobTree<typeof NIC_TABLE>['nic'];
/** The configuration's `nic` section: the NIC model's spec. */
export type NicSection = NicConfig;
export type NicIovaPolicy = NicConfig['iovaPolicy'];
export type NicDirection = NicConfig['direction'];
export type NicModelName = NicConfig['model'];
/** The IOVA allocator's spec (src/devices/nic/iova.ts: Linux's iova.c with its per-CPU magazines and flush queue): the `nic.iova.*` knobs and the CPU count (nic.queues). */
export type IovaSpec = NicConfig['iova'] & { cpus: number };

const SRC_FQ = 'iommu.flushQueue.* of this simulator\'s IOMMU model, whose flushes it must match; their defaults: Linux drivers/iommu/dma-iommu.c IOVA_FQ_SIZE = 256, IOVA_FQ_TIMEOUT = 10 ms [C]';

const SRC_MPWRQ = 'Linux mlx5e (drivers/net/ethernet/mellanox/mlx5/core/en.h): MLX5_MPWRQ_LOG_WQE_SZ = 18, a 256 KiB multi-packet WQE of 64 order-0 pages [C]; Rubin et al., SOSP 2024 §2.1 and §3 (ConnectX-5, striding RQ, 64 pages per WQE) [P]';

const NIC_TABLE = [
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
  { key: 'nic.model', kind: 'enum', default: '82599', values: ['82599', 'mlx5'], doc: '82599: Intel 82599 descriptor rings (descriptor fetch and write-back on the same ring); mlx5: ConnectX (mlx5) queues — an RX and a TX completion queue per queue pair (one 64 B CQE per packet), a striding RQ whose WQEs each cover nic.strideWqePages pages (nic.rxRing.entries frames of strides, at least 2 WQEs, one left unposted), an RQ doorbell record the device reads after each refill, 64 B TX WQEs, an event-queue entry per interrupt', source: 'Intel 82599 datasheet §7.1, §7.2 [C]; NVIDIA ConnectX PRM and Linux mlx5e (en_rx.c, en_tx.c, wq.h) [C]; Rubin et al., SOSP 2024 §2 (ConnectX-5) [P]' },
  { key: 'nic.strideWqePages', kind: 'int', default: 64, min: 1, max: 512, unit: 'pages', doc: 'mlx5 striding RQ: 4 KiB pages per RX WQE (64 = 256 KiB); packets are written into consecutive strides of nic.bufferBytes (rounded up to a power of two) of the WQE; one descriptor read per WQE; per-packet IOVA policy: the WQE\'s pages are mapped when it is posted and unmapped (one record of the whole range) when it is fully consumed', source: SRC_MPWRQ },
  { key: 'nic.cqeCompression', kind: 'bool', default: false, doc: 'mlx5: RX completions as 8 B mini-CQEs written 8 to a 64 B CQE line (a partial line when the interrupt fires) instead of one 64 B CQE per packet', source: 'Linux include/linux/mlx5/device.h: struct mlx5_mini_cqe8 (8 B), MLX5_MINI_CQE_ARRAY_SIZE = 8 [C]; mlx5e ethtool private flag rx_cqe_compress, off by default (mlx5e turns it on only for slow PCIe links) [C]' },
  { key: 'nic.acks', kind: 'bool', default: false, doc: 'the host is a TCP receiver: for received TCP segments (frames of IP protocol 6 longer than nic.ackBytes) it transmits one ACK per nic.ackEvery segments, sent from the NAPI poll that cleaned them on the same queue\'s TX ring (nic.iovaPolicy per-packet: map, descriptor read, ACK payload read, completion write, unmap when the completion is cleaned; the premapped policies use the TX slot\'s buffer); on for the nic-tcp and nic-fs-multiflow generators', source: 'Rubin et al., SOSP 2024 §2.2: a TCP receiver\'s ACK transmissions add IOTLB misses and, through strict-mode invalidations, paging-structure-cache misses on the RX side [P]' },
  { key: 'nic.ackEvery', kind: 'int', default: 2, min: 1, max: 65536, unit: 'segments', doc: 'received TCP segments per ACK, counted per queue (delayed ACK); with GRO the stack ACKs once per GRO batch: set this to the batch\'s segments to model that', source: 'RFC 1122 §4.2.3.2 and RFC 5681 §4.2 (an ACK at least every second full-sized segment); Linux __tcp_ack_snd_check: an immediate ACK once more than one MSS is unacknowledged [C]' },
  { key: 'nic.ackBytes', kind: 'size', default: 66, min: 42, max: 9216, unit: 'bytes', doc: 'bytes of an ACK frame the NIC reads (without FCS)', source: 'Ethernet 14 + IPv4 20 + TCP 20 + timestamps option 12 (Linux enables TCP timestamps by default, net.ipv4.tcp_timestamps = 1) = 66 B [C]' },
] as const satisfies readonly Knob[];
export const NIC_KNOBS: readonly Knob[] = NIC_TABLE;

const BY_KEY = new Map(NIC_KNOBS.map((k) => [k.key, k]));



/** Bytes of a buffer slot, and of an mlx5 stride: bufferBytes rounded up to a power of two (≤ 4 KiB) or to whole pages. */
export function strideBytesOf(bufferBytes: number): number {
  if (bufferBytes > 4096) return Math.ceil(bufferBytes / 4096) * 4096;
  let s = 1;
  while (s < bufferBytes) s *= 2;
  return s;
}


/**
 * Resolve raw `nic.*` settings (flat dotted keys, or nested objects under `nic`) over the defaults
 * of NIC_KNOBS. Keys outside `nic.` are ignored, except the iommu.* keys the file header names.
 * Throws a one-line InputError naming the key. For raw settings only (tests, the API): a resolved
 * config's `nic` section is already a NicConfig, checked once by resolveConfig.
 */
export function resolveNicConfig(settings: Record<string, unknown> = {}): NicConfig {
  const flat = flattenSettings(settings);
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
  const cfg = fromKnobs<NicConfig>(c);

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

  checkNicSection(cfg);
  return deepFreeze(cfg);
}

/** Every default, frozen (the NIC model's spec when no configuration is given). */
export const NIC_DEFAULTS: NicConfig = resolveNicConfig();

/**
 * The checks across or beyond single knobs of a NIC spec whose knobs are each valid: the one
 * place they are made (resolveConfig calls it for a configuration's `nic` section,
 * resolveNicConfig for raw settings). Throws a one-line InputError naming the key and the fix.
 */
export function checkNicSection(cfg: Readonly<NicConfig>): void {
  const d = cfg.descriptorBytes;
  if ((d & (d - 1)) !== 0) throw inputError(`nic.descriptorBytes=${d}`, 'not a power of two', 'use 16 (Intel 82599) or 64 (ConnectX CQE)');
  if (cfg.model === 'mlx5') {
    const stride = strideBytesOf(cfg.bufferBytes);
    if (cfg.strideWqePages * 4096 < stride) throw inputError(`nic.strideWqePages=${cfg.strideWqePages}`, `a WQE of ${cfg.strideWqePages * 4096} B holds no stride of ${stride} B (nic.bufferBytes=${cfg.bufferBytes})`, `use nic.strideWqePages ≥ ${Math.ceil(stride / 4096)} or a smaller nic.bufferBytes`);
  }
}
