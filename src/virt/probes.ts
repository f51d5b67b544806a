/**
 * Mechanism probes: figures of a mechanism of the virtualization model evaluated on a resolved
 * config, for `iommusim validate` anchors (`probe:`) and tests. Each returns its figures by name;
 * an anchor reads one (`metric:`) and may divide it by the same figure under other settings (`over:`).
 * Probes are mechanisms, not anchors: none knows which published figure it is compared with.
 */
import type { Config } from '../config/config.js';
import { COST_KNOBS } from './cpu.js';
import { nestedSpec, exitCycles, type ExitKind } from './nested.js';
import { odpFault, priFaultInVm } from './faults.js';

/** The CPU model's cost record of a config (booleans as 1 / 0), as compare builds it for KVM. */
export function costRecord(cfg: Readonly<Config>): Record<string, number> {
  const c: Record<string, number> = {};
  for (const k of COST_KNOBS) {
    let v: unknown = cfg;
    for (const p of k.key.split('.')) v = (v as Record<string, unknown> | undefined)?.[p];
    c[k.key] = Number(typeof v === 'number' || typeof v === 'boolean' ? v : k.default);
  }
  return c;
}

export type Probe = (cfg: Readonly<Config>) => Record<string, number>;

/** Cycles of one exit of each kind for the guest the config describes (single-level, or an L2 with virt.nested), and L1's exits per L2 exit. */
const exitProbe: Probe = (cfg) => {
  const c = costRecord(cfg);
  const n = nestedSpec(c);
  const costs = { hypercallCycles: c['virt.exit.hypercallCycles'], kernelIoCycles: c['virt.exit.kernelIoCycles'], ipiCycles: c['virt.ipiCycles'] };
  const out: Record<string, number> = {};
  for (const kind of ['exit', 'io', 'eoi', 'kick'] as ExitKind[]) {
    const x = exitCycles(kind, n, costs);
    out[kind] = x.cycles;
    out[`${kind}.l1Exits`] = x.l1Exits;
  }
  return out;
};

/** Page-fault flows (src/virt/faults.ts): an ODP network page fault on a message of workload.size bytes, a PRI fault of a passthrough device in a guest (µs). */
const faultProbe: Probe = (cfg) => ({ odpUs: odpFault(cfg, cfg.workload.size).totalUs, priVmUs: priFaultInVm(cfg).totalUs });

export const PROBES: Readonly<Record<string, Probe>> = {
  'exit-cycles': exitProbe,
  'fault-latency': faultProbe,
};
