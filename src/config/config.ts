/**
 * The resolved configuration: a plain JSON tree built from the schema's defaults plus settings.
 * It is frozen, travels to workers and is written whole into every result.
 */
import { KNOBS, requireKnob, parseKnobValue, type Knob } from './schema.js';
import { setPath, deepFreeze } from './knob.js';
import { validateGeometry, type Policy } from './cache.js';
import { inputError } from '../util/errors.js';
import { canonicalBdf } from './bdf.js';
import { findPlatform, PLATFORMS } from './platforms.js';
import { validatePcieSpec, PCIE_DEFAULTS, type PcieLinkSpec } from './pcie.js';
import { fromKnobs } from './tree.js';
import { checkGpuSection, type GpuSection } from './knobs/gpu.js';
import { checkNicSection, type NicSection } from './knobs/nic.js';
import type { IrqSection } from './knobs/irq.js';
import type { MigrationSection } from './knobs/migration.js';
import type { CpuSection, CpuVirtSection } from './knobs/cpu.js';
import type { NestedSection } from './knobs/nested.js';
import type { PathsSection } from './knobs/paths.js';
import type { FaultSection } from './knobs/faults.js';
import type { BlkSection } from './knobs/blk.js';
import type { IommuSection, VmSection } from './knobs/iommu.js';
import type { MemorySpec } from './knobs/memory.js';
import type { RcSpec } from './knobs/rc.js';
import type { PciebenchSection } from './knobs/pciebench.js';
import type { WorkloadSection } from './knobs/workload.js';

export interface CacheCfg { entries: number; ways: number; policy: Policy; enabled?: boolean }
export type IommuMode = IommuSection['mode'];
export type Translation = 'second' | 'first' | 'nested' | 'passthrough';

export interface DeviceCfg { domain: number; translation: Translation; ats: boolean; drhd: number; relaxedOrdering: boolean; idOrdering: boolean; atc: CacheCfg }

export interface Config {
  seed: number;
  iommu: IommuSection;
  atc: CacheCfg;
  vm: VmSection;
  platform: string;
  pcie: { gen: number; lanes: number; mpsBytes: number; mrrsBytes: number; rcbBytes: number; rcbChunks: boolean; tags: number; phCredits: number; linkLatencyNs: number };
  rc: RcSpec;
  memory: MemorySpec;
  device: { dmaEngine: { maxInFlight: number; latencyNs: number; issueNs: number }; clockMHz: number };
  pciebench: PciebenchSection;
  workload: WorkloadSection;
  devices: Record<string, DeviceCfg>;
  // sections typed from their knob tables (src/config/knobs)
  gpu: GpuSection;
  nic: NicSection;
  irq: IrqSection;
  migration: MigrationSection;
  cpu: CpuSection;
  virt: CpuVirtSection & NestedSection & PathsSection;
  fault: FaultSection;
  blk: BlkSection;
  ftrace: { synthesize: 'touch' | 'none'; synthDelayNs: number; device: string };
  [extra: string]: unknown;
}

/**
 * The parts of a resolved configuration that reading a trace file uses: the NIC model's spec (for
 * captures), the GPU model's spec (for profiler exports), the ftrace conversion's options. A
 * resolved Config is one; a part left out takes its defaults.
 */
export interface TraceLoadConfig {
  readonly nic?: NicSection;
  readonly gpu?: GpuSection;
  readonly ftrace?: Partial<Config['ftrace']>;
}

function getPath(obj: object, path: string[]): unknown {
  let o: unknown = obj;
  for (const p of path) {
    if (typeof o !== 'object' || o === null) return undefined;
    o = (o as Record<string, unknown>)[p];
  }
  return o;
}

/** A config with every default. */
export function defaultConfig(): Config {
  const c: Record<string, unknown> = { devices: {} };
  for (const k of KNOBS) {
    if (k.key.startsWith('devices.*.')) continue;
    setPath(c, k.key.split('.'), k.default);
  }
  return fromKnobs<Config>(c);
}

function deviceDefaults(c: Config): DeviceCfg {
  const d: Record<string, unknown> = {};
  for (const k of KNOBS) {
    if (!k.key.startsWith('devices.*.')) continue;
    setPath(d, k.key.slice('devices.*.'.length).split('.'), k.default);
  }
  const dev = fromKnobs<DeviceCfg>(d);
  dev.atc = { ...c.atc };
  return dev;
}

/** Device entry for `bdf`, created with class defaults if absent. */
export function deviceCfg(c: Config, bdf: string): DeviceCfg {
  const key = canonicalBdf(bdf, 'device');
  let d = c.devices[key];
  if (!d) {
    d = deviceDefaults(c);
    c.devices[key] = d;
  }
  return d;
}

/** Apply one `key=value` setting (validated) to a mutable config. */
export function applySetting(c: Config, key: string, raw: string | number | boolean): void {
  const { knob, device } = requireKnob(key);
  const v = parseKnobValue(knob, key, raw);
  if (device !== undefined) {
    const d = deviceCfg(c, device);
    const rest = key.slice(key.indexOf(device) + device.length + 1);
    setPath(d, rest.split('.'), v);
    return;
  }
  setPath(c, knob.key.split('.'), v);
}

/** Parse `key=value` strings from the command line. */
export function parseSetArgs(sets: readonly string[]): Array<[string, string]> {
  return sets.map((s) => {
    const i = s.indexOf('=');
    if (i <= 0) throw inputError(`--set ${s}`, 'expected key=value', 'for example --set iommu.iotlb.entries=64');
    return [s.slice(0, i).trim(), s.slice(i + 1).trim()];
  });
}

function normCache(cc: CacheCfg, key: string): void {
  if (cc.ways === 0) cc.ways = cc.entries;
  validateGeometry(cc, key);
}

/** Normalise (ways 0 → fully associative) and cross-check; returns a frozen deep copy. */
export function resolveConfig(c: Config): Readonly<Config> {
  const r = JSON.parse(JSON.stringify(c)) as Config;
  const i = r.iommu;
  normCache(i.iotlb, 'iommu.iotlb');
  normCache(i.iotlb['2m'], 'iommu.iotlb.2m');
  normCache(i.iotlb['1g'], 'iommu.iotlb.1g');
  for (const p of ['pde', 'pdpte', 'pml4e', 'pml5e'] as const) normCache(i.pwc[p], `iommu.pwc.${p}`);
  normCache(i.contextCache, 'iommu.contextCache');
  normCache(i.pasidCache, 'iommu.pasidCache');
  normCache(r.atc, 'atc');
  for (const [bdf, d] of Object.entries(r.devices)) normCache(d.atc, `devices.${bdf}.atc`);
  validatePcieSpec(pcieSpec(r), 'pcie');
  // the device models' checks across knobs, here once: their sections are then their specs
  checkNicSection(r.nic);
  checkGpuSection(r.gpu);
  if (r.workload.op === 'wrrd' && r.workload.kind !== 'pciebench') {
    throw inputError(`workload.op=wrrd`, `only the pciebench generator issues a write then a read (workload.kind is ${r.workload.kind})`, 'use workload.op=read or write');
  }
  if (r.workload.kind === 'pciebench' && r.workload.window < r.workload.size) {
    throw inputError(`workload.window=${r.workload.window}`, `smaller than workload.size (${r.workload.size})`, 'make the window at least one transfer');
  }
  const tlpLines = r.pcie.mpsBytes / 64 + 1; // an MPS write that does not start on a line touches one more
  if (r.rc.writeLines > 0 && r.rc.writeLines < tlpLines) {
    throw inputError(`rc.writeLines=${r.rc.writeLines}`, `smaller than one write TLP (${r.pcie.mpsBytes} B = up to ${tlpLines} lines)`, `use 0 (unlimited) or at least ${tlpLines}`);
  }
  if (![4096, 2 * 1024 ** 2, 1024 ** 3].includes(r.vm.s2PageBytes)) {
    throw inputError(`vm.s2PageBytes=${r.vm.s2PageBytes}`, 'must be a page size', 'use 4KiB, 2MiB or 1GiB');
  }
  if (r.vm.ramBytes % r.vm.s2PageBytes !== 0) {
    throw inputError(`vm.ramBytes=${r.vm.ramBytes}`, `must be a multiple of vm.s2PageBytes (${r.vm.s2PageBytes})`);
  }
  return deepFreeze(r);
}


/** Build a resolved config from `key=value` pairs over the defaults (or over `base`). */
export function buildConfig(settings: ReadonlyArray<readonly [string, string | number | boolean]>, base?: Config): Readonly<Config> {
  const c = base ? (JSON.parse(JSON.stringify(base)) as Config) : defaultConfig();
  // A platform preset applies first, whatever its place among the settings.
  const plat = [...settings].reverse().find(([k]) => k === 'platform');
  if (plat) applyPlatform(c, String(plat[1]));
  for (const [k, v] of settings) if (k !== 'platform') applySetting(c, k, v);
  return resolveConfig(c);
}

export function applyPlatform(c: Config, name: string): void {
  const p = findPlatform(name);
  if (!p) throw inputError(`--platform ${name}`, 'unknown platform', `use one of ${PLATFORMS.map((x) => x.name).join(', ')} (iommusim platforms describes them)`);
  for (const [k, v] of p.settings) applySetting(c, k, v);
  c.platform = name;
}

/** The PCIe link spec of a resolved config. */
export function pcieSpec(c: Readonly<Config>): PcieLinkSpec {
  return { ...PCIE_DEFAULTS, ...c.pcie } as PcieLinkSpec;
}

export function knobValue(c: Config, knob: Knob): unknown {
  return getPath(c, knob.key.split('.'));
}

/** Settings of one device from a resolved config: its own entry, else class defaults. */
export function deviceSettings(c: Readonly<Config>, bdf: string): DeviceCfg {
  const d = c.devices[bdf];
  if (d) return d;
  const dev = deviceDefaults(c as Config);
  if (dev.atc.ways === 0) dev.atc.ways = dev.atc.entries;
  return dev;
}
