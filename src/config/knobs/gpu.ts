/**
 * Knobs of the GPU trace producer (src/devices/gpu/gpu.ts), in the schema's format (unit in the
 * name or `unit`, a default, the default's source). Keys live under `gpu.*`. `GpuConfig`, the
 * model's spec, is typed from the table: a resolved config's `gpu` section is one (each knob parsed
 * by the schema, the checks across knobs by checkGpuSection, both in resolveConfig).
 * `resolveGpuConfig` builds one from raw settings (tests, the API) with the same parser and checks,
 * so `--set gpu.chunkBytes=2MiB` style values work.
 *
 * Source markers: [P] paper full text,
 * [A] abstract, [S] quoted by a third party, [C] public code, configuration or a developer's number.
 */
import { parseKnobValue, closestKey, flattenSettings, setPath, deepFreeze, type Knob } from '../knob.js';
import { fromKnobs, type KnobTree } from '../tree.js';
import { inputError } from '../../util/errors.js';

const SRC_T4 = 'published-figures §5: pinned vs pageable cudaMemcpy, 16 MiB, Tesla T4 on PCIe Gen3 x16 in a cloud VM (a public sample program, low authority) [C]';

const GPU_TABLE = [
  {
    key: 'gpu.copyEngines', kind: 'int', default: 3, unit: 'engines', min: 1, max: 64,
    doc: 'asynchronous copy engines (cudaDeviceProp.asyncEngineCount): copies on different engines overlap, each engine runs its copies in order',
    source: 'deviceQuery "Concurrent copy and kernel execution: Yes with 3 copy engine(s)" on Tesla T4 and A100-PCIE-40GB in public deviceQuery logs [C]; asyncEngineCount = "Number of asynchronous engines" (CUDA Runtime API, cudaDeviceProp)',
  },
  {
    key: 'gpu.engineAssignment', kind: 'enum', default: 'stream', values: ['stream', 'direction', 'chunk'],
    doc: 'which engine runs a copy: stream (streams take engines round-robin in order of first appearance), direction (host-to-device on engine 0, device-to-host on engine 1), chunk (measured copies: the chunks are dealt round-robin over all engines from the stream\'s engine, which run in parallel; modelled timing: as stream, since the link grants whole chunks)',
    source: 'assumption: the driver\'s stream-to-engine mapping is not documented; `direction` follows the CUDA C++ Programming Guide (asyncEngineCount 2: a copy to and a copy from the device overlap); `chunk` approximates one logical engine backed by several physical ones',
  },
  {
    key: 'gpu.chunkBytes', kind: 'size', default: 2 * 1024 ** 2, unit: 'bytes', min: 4096, max: 1024 ** 3,
    doc: 'a copy is processed in chunks of this size: the unit an engine takes (engineAssignment=chunk) and the pageable staging unit; a multiple of gpu.dmaBytes',
    source: 'assumption (not published): 2 MiB, the GPU big-page and UVM VA-block size (NVIDIA open-gpu-kernel-modules, nvidia-uvm UVM_VA_BLOCK_SIZE) [C]',
  },
  {
    key: 'gpu.dmaBytes', kind: 'size', default: 4096, unit: 'bytes', min: 64, max: 2 * 1024 ** 2,
    doc: 'bytes per DMA request a copy engine issues (one trace record each; a power of two, so no request crosses a 4 KiB page); the timed model splits each into MRRS/MPS-sized TLPs',
    source: 'assumption: one request per 4 KiB host page; the engine\'s real request size is not published, and TLP sizes come from pcie.mrrsBytes / pcie.mpsBytes',
  },
  {
    key: 'gpu.copyGBps', kind: 'number', default: 12.18, unit: 'GB/s', min: 0.001, max: 100000,
    doc: 'host link rate per direction for copies without a measured duration (synthetic sources, or end = start): a chunk\'s DMA requests go back-to-back at this rate, and copies running at once share it chunk by chunk; keep it at or below the simulated platform\'s rate (the replay is open-loop)',
    source: `pinned H2D 12.18 GB/s, ${SRC_T4}`,
  },
  {
    key: 'gpu.pinnedMapping', kind: 'enum', default: 'static', values: ['static', 'per-copy'],
    doc: 'static: a pinned host buffer is DMA-mapped once when first used (allocated, cudaHostAlloc) and stays mapped (freed at program exit; gpuTrace opts.freeAtEnd unmaps it after the last copy); per-copy: mapped (with a fresh IOVA) before each copy and unmapped when it completes',
    source: 'NVIDIA open-gpu-kernel-modules: nv_dma_map_alloc (kernel-open/nvidia/nv-dma.c) maps a system-memory allocation for the GPU when it is allocated [C]',
  },
  {
    key: 'gpu.pinnedBuffers', kind: 'int', default: 2, unit: 'buffers', min: 1, max: 4096,
    doc: 'pinned host buffers per (stream, direction) that successive copies cycle through (the trace formats carry no host addresses); each sized to the largest copy of its stream and direction',
    source: 'assumption: double buffering (a data loader prefetching one batch ahead; PyTorch\'s CachingHostAllocator reuses freed pinned blocks) [C]',
  },
  {
    key: 'gpu.hostPageBytes', kind: 'size', default: 4096, unit: 'bytes', min: 4096, max: 1024 ** 3,
    doc: 'physical contiguity of pinned, staging and managed host memory: 4KiB (ordinary pages), 2MiB or 1GiB (huge-page backed); the IOMMU model can build no larger leaves than this',
    source: 'assumption: cudaHostAlloc / malloc memory comes from ordinary 4 KiB pages unless backed by hugetlbfs or THP',
  },
  {
    key: 'gpu.pageable.stagingBytes', kind: 'size', default: 4 * 1024 ** 2, unit: 'bytes', min: 4096, max: 1024 ** 3,
    doc: 'pinned staging buffer of pageable copies, mapped once when first used; it holds stagingBytes / chunkBytes chunk slots (1: the CPU copy and the DMA alternate; 2 or more: they overlap)',
    source: 'assumption (the driver\'s staging size is not published): two gpu.chunkBytes slots, double buffering',
  },
  {
    key: 'gpu.pageable.cpuCopyGBps', kind: 'number', default: 4.13, unit: 'GB/s', min: 0.001, max: 100000,
    doc: 'host-to-device pageable copies: rate of the CPU copy of each chunk from pageable memory into the staging buffer (the DMA reads the staging buffer after it)',
    source: `fitted to pageable H2D 3.96 vs pinned 12.18 GB/s, ${SRC_T4}: with this model (8 chunks of 2 MiB, 2 slots, DMA at 12.18 GB/s) 16 MiB takes 8 × 2 MiB/c + 2 MiB/12.18 = 16 MiB/3.96 → c = 4.13 GB/s`,
  },
  {
    key: 'gpu.pageable.d2hCpuCopyGBps', kind: 'number', default: 1.61, unit: 'GB/s', min: 0.001, max: 100000,
    doc: 'device-to-host pageable copies: rate of the CPU copy of each chunk out of the staging buffer into pageable memory (after the DMA wrote it)',
    source: `fitted to pageable D2H 1.58 GB/s, ${SRC_T4}, as gpu.pageable.cpuCopyGBps: 16 MiB/1.58 = 2 MiB/12.18 + 8 × 2 MiB/c → c = 1.61 GB/s`,
  },
  {
    key: 'gpu.ats', kind: 'bool', default: false,
    doc: 'the GPU translates through ATS (device TLB): the emitted trace is the same; recommendedSettings then carries devices.<bdf>.ats=true for the simulator',
    source: 'PCIe ATS specification; off by default: discrete NVIDIA GPUs on x86 PCIe hosts do not use ATS for host memory (assumption)',
  },
  {
    key: 'gpu.uvm.faultUs', kind: 'number', default: 30.44, unit: 'µs', min: 0, max: 1e7,
    doc: 'UVM far-fault service time per fault batch (interrupt, fault-buffer fetch, page-table updates, replay), excluding the page migration, which is emitted as DMA',
    source: 'MSched, arXiv 2512.24637: a single UVM fault on an RTX 5080 takes 31.79 µs, of which 1.35 µs data transfer [S] → 30.44 µs; within 20–50 µs (Zheng et al., HPCA 2016 [S]) and below GPGPU-Sim UVMSmart\'s ~45 µs default [C] (published-figures §5)',
  },
  {
    key: 'gpu.uvm.faultBatch', kind: 'int', default: 256, unit: 'faults', min: 1, max: 1 << 20,
    doc: 'faults the UVM driver fetches from the fault buffer and services together (one gpu.uvm.faultUs each batch)',
    source: 'NVIDIA open-gpu-kernel-modules nvidia-uvm/uvm_gpu_replayable_faults.c: UVM_PERF_FAULT_BATCH_COUNT_DEFAULT 256 (module parameter uvm_perf_fault_batch_count) [C]',
  },
] as const satisfies readonly Knob[];

export const GPU_KNOBS: readonly Knob[] = GPU_TABLE;

/** The GPU model's spec (gpuTrace, GpuTraceBuilder): the `gpu.*` knobs, typed from the table above. */
export type GpuConfig = KnobTree<typeof GPU_TABLE>['gpu'];
/** The `gpu.*` section of the configuration: the GPU model's spec. */
export type GpuSection = GpuConfig;

const KNOB_BY_KEY = new Map(GPU_KNOBS.map((k) => [k.key, k]));
const KiB4 = 4096, MiB2 = 2 * 1024 ** 2, GiB1 = 1024 ** 3;

/**
 * The checks across or beyond single knobs of a GPU spec whose knobs are each valid: the one place
 * they are made (resolveConfig calls it for a configuration's `gpu` section, resolveGpuConfig for
 * raw settings). Throws a one-line InputError naming the key and the fix.
 */
export function checkGpuSection(cfg: Readonly<GpuConfig>): void {
  const d = cfg.dmaBytes, c = cfg.chunkBytes, s = cfg.pageable.stagingBytes;
  if ((d & (d - 1)) !== 0) throw inputError(`gpu.dmaBytes=${d}`, 'must be a power of two (so no request crosses a 4 KiB page)', 'use e.g. 256, 512, 1024 or 4096');
  if (c % d !== 0) throw inputError(`gpu.chunkBytes=${c}`, `must be a multiple of gpu.dmaBytes (${d})`, `use e.g. ${Math.max(d, Math.round(c / d) * d)}`);
  if (s % c !== 0) throw inputError(`gpu.pageable.stagingBytes=${s}`, `must be a whole number of gpu.chunkBytes (${c}) slots`, `use e.g. ${2 * c} (two slots)`);
  if (![KiB4, MiB2, GiB1].includes(cfg.hostPageBytes)) throw inputError(`gpu.hostPageBytes=${cfg.hostPageBytes}`, 'must be a page size', 'use 4KiB, 2MiB or 1GiB');
}

/**
 * The GPU configuration from raw settings: flat `gpu.*` keys (`{'gpu.chunkBytes': '2MiB'}`) or
 * nested objects (`{gpu: {chunkBytes: 2097152}}`); keys outside `gpu.` are ignored, so a run's whole
 * settings can be passed. Bad values throw a one-line InputError naming the key. A resolved
 * config's `gpu` section is already this (no need to resolve it again).
 */
export function resolveGpuConfig(settings: Record<string, unknown> = {}): GpuConfig {
  const vals = new Map<string, number | boolean | string>();
  for (const k of GPU_KNOBS) vals.set(k.key, k.default);
  for (const [key, raw] of flattenSettings(settings)) {
    if (!key.startsWith('gpu.')) continue;
    const knob = KNOB_BY_KEY.get(key);
    if (!knob) {
      const best = closestKey(key, KNOB_BY_KEY.keys());
      const near = best !== undefined ? `did you mean ${best}? ` : '';
      throw inputError(key, 'unknown GPU setting', `${near}(src/devices/gpu/README.md lists the gpu.* keys)`);
    }
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      throw inputError(key, `expected a value, got ${raw === null ? 'null' : typeof raw}`, `give a ${knob.kind}${knob.unit ? ' in ' + knob.unit : ''}`);
    }
    vals.set(key, parseKnobValue(knob, key, raw));
  }
  const c: Record<string, unknown> = {};
  for (const k of GPU_KNOBS) setPath(c, k.key.slice(4).split('.'), vals.get(k.key));
  const cfg = fromKnobs<GpuConfig>(c);
  checkGpuSection(cfg);
  return cfg;
}

/** Every default, frozen (the GPU model's spec when no configuration is given). */
export const GPU_DEFAULTS: Readonly<GpuConfig> = deepFreeze(resolveGpuConfig());
