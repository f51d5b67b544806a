/**
 * Knobs of VT-d interrupt remapping and posted interrupts (src/iommu/irq), in the schema's format
 * (unit in the name or `unit`, a default, the default's source). Keys live under `irq.*`.
 * `resolveIrqSpec` (flat `key=value` settings) and `irqSpecFrom` (a resolved config tree holding an
 * `irq` object) validate them with the schema's own parser and return a frozen `IrqSpec`.
 *
 * Source markers: [P] paper full text,
 * [S] quoted by a third party, [C] public code, configuration or a developer's number.
 */
import { parseKnobValue, type Knob } from '../knob.js';
import type { KnobTree } from '../tree.js';
import { POLICIES, validateGeometry, type Policy } from '../cache.js';
import { inputError } from '../../util/errors.js';

const SRC_IEC = 'assumption: the interrupt-entry cache size of Intel parts is not published; sized like the context cache (iommu.contextCache: 64, after the gem5 SMMUv3 configuration cache [C])';

const IRQ_TABLE = [
  {
    key: 'irq.irtEntries', kind: 'int', default: 65536, unit: 'entries', min: 2, max: 65536,
    doc: 'interrupt-remapping table size (IRTA_REG.S: 2^(S+1) entries of 16 B, a power of two from 2 to 65536); a remappable interrupt whose index (handle + subhandle) is not below it faults with reason 0x21',
    source: 'Linux drivers/iommu/intel/iommu.h INTR_REMAP_TABLE_ENTRIES = 65536, IRTA size field INTR_REMAP_TABLE_REG_SIZE = 0xf (one 1 MiB table per IOMMU) [C]; 65536 is the VT-d maximum (16-bit handle)',
  },
  {
    key: 'irq.iec.entries', kind: 'int', default: 64, unit: 'entries', min: 1, max: 1 << 24,
    doc: 'interrupt-entry cache (IEC): total cached IRTEs',
    source: SRC_IEC,
  },
  {
    key: 'irq.iec.ways', kind: 'int', default: 0, unit: 'ways', min: 0, max: 1 << 24,
    doc: 'interrupt-entry cache: ways per set (0 or = entries: fully associative); entries/ways must be a power of two',
    source: 'assumption: associativity not published; fully associative, as the context cache',
  },
  {
    key: 'irq.iec.policy', kind: 'enum', default: 'lru', values: POLICIES,
    doc: 'interrupt-entry cache: replacement policy (random is seeded by `seed`)',
    source: 'LRU is the common modelling choice (gem5, ChampSim); hardware policies are not published',
  },
  {
    key: 'irq.iec.latencyCycles', kind: 'int', default: 3, unit: 'cycles', min: 0, max: 100000,
    doc: 'interrupt-entry cache lookup latency in iommu.clockMHz cycles (a miss adds one 16 B IRTE read from memory, charged by the memory model)',
    source: 'assumption: as the IOTLB (gem5 SMMUv3 main TLB: 3 cycles [C]); no IEC figure is published',
  },
  {
    key: 'irq.x2apic', kind: 'bool', default: true,
    doc: 'IRTA_REG.EIME (extended interrupt mode): true = 32-bit x2APIC destination ids in IRTE bits 63:32, and compatibility-format interrupts are blocked (fault 0x25); false = 8-bit xAPIC ids in IRTE bits 47:40 (bits 39:32 and 63:48 reserved)',
    source: 'Linux drivers/iommu/intel/irq_remapping.c intel_prepare_irq_remapping: eim_mode when the CPU supports x2APIC, the DMAR table does not opt out and every IOMMU has ECAP.EIM [C]',
  },
  {
    key: 'irq.blockCompat', kind: 'bool', default: true,
    doc: 'GSTS_REG.CFIS clear: compatibility-format (not remappable) MSIs are blocked with fault 0x25; false lets them through unremapped (only when irq.x2apic is false)',
    source: 'Linux irq_remapping.c iommu_enable_irq_remapping clears GCMD.CFI ("Block compatibility-format MSIs") [C]',
  },
  {
    key: 'irq.postedInterrupts', kind: 'bool', default: true,
    doc: 'CAP_REG.PI (bit 59): the remapping unit honours posted-format IRTEs (IM = 1); false: IRTE bit 15 is reserved and a posted-format entry faults with reason 0x24',
    source: 'assumption: the server platforms modelled support VT-d posted interrupts; Linux enables posting only when every IOMMU reports CAP.PI (irq_remapping.c set_irq_posting_cap) [C]',
  },
] as const satisfies readonly Knob[];
export const IRQ_KNOBS: readonly Knob[] = IRQ_TABLE;

/** Validated, frozen settings of the interrupt-remapping unit. */
export interface IrqSpec {
  readonly irtEntries: number;
  readonly iec: { readonly entries: number; readonly ways: number; readonly policy: Policy; readonly latencyCycles: number };
  readonly x2apic: boolean;
  readonly blockCompat: boolean;
  readonly postedInterrupts: boolean;
}

const byKey = new Map(IRQ_KNOBS.map((k) => [k.key, k]));

type Raw = string | number | boolean;

function build(get: (key: string) => Raw | undefined): IrqSpec {
  const v = (key: string): number | boolean | string => {
    const knob = byKey.get(key)!;
    const raw = get(key);
    return raw === undefined ? knob.default : parseKnobValue(knob, key, raw);
  };
  const irtEntries = v('irq.irtEntries') as number;
  if ((irtEntries & (irtEntries - 1)) !== 0) {
    throw inputError(`irq.irtEntries=${irtEntries}`, 'must be a power of two (IRTA_REG.S encodes 2^(S+1) entries)', 'use 256, 4096, 65536, ...');
  }
  const entries = v('irq.iec.entries') as number;
  const waysRaw = v('irq.iec.ways') as number;
  const ways = waysRaw === 0 ? entries : waysRaw;
  const policy = v('irq.iec.policy') as Policy;
  validateGeometry({ entries, ways, policy }, 'irq.iec');
  return Object.freeze({
    irtEntries,
    iec: Object.freeze({ entries, ways, policy, latencyCycles: v('irq.iec.latencyCycles') as number }),
    x2apic: v('irq.x2apic') as boolean,
    blockCompat: v('irq.blockCompat') as boolean,
    postedInterrupts: v('irq.postedInterrupts') as boolean,
  });
}

/**
 * Spec from flat settings (`[['irq.iec.entries', 128], ...]` or `{ 'irq.iec.entries': '128' }`).
 * Unknown `irq.*` keys are an InputError naming the key; keys outside `irq.` are ignored.
 */
export function resolveIrqSpec(settings: Iterable<readonly [string, Raw]> | Record<string, Raw> = []): IrqSpec {
  const pairs: Array<readonly [string, Raw]> = Symbol.iterator in Object(settings)
    ? [...(settings as Iterable<readonly [string, Raw]>)]
    : Object.entries(settings as Record<string, Raw>);
  const m = new Map<string, Raw>();
  for (const [k, raw] of pairs) {
    if (!k.startsWith('irq.')) continue;
    if (!byKey.has(k)) throw inputError(`--set ${k}`, 'unknown interrupt-remapping key', `use one of ${[...byKey.keys()].join(', ')}`);
    m.set(k, raw);
  }
  return build((k) => m.get(k));
}

/** Spec from a resolved config tree (`cfg.irq.iec.entries`, ...); missing keys take their defaults. */
export function irqSpecFrom(cfg: unknown): IrqSpec {
  const root = (typeof cfg === 'object' && cfg !== null ? (cfg as Record<string, unknown>).irq : undefined) ?? {};
  return build((key) => {
    let o: unknown = root;
    for (const p of key.split('.').slice(1)) {
      if (typeof o !== 'object' || o === null) return undefined;
      o = (o as Record<string, unknown>)[p];
    }
    return typeof o === 'string' || typeof o === 'number' || typeof o === 'boolean' ? o : undefined;
  });
}

/** Every default. */
export const IRQ_DEFAULTS: IrqSpec = resolveIrqSpec();

/** The configuration's `irq` section, typed from IRQ_KNOBS's table. */
export type IrqSection = KnobTree<typeof IRQ_TABLE>['irq'];
