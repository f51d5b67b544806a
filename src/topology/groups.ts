/**
 * IOMMU groups derived from a PCI tree when the host's own listing is not at hand.
 *
 * The rule follows Linux `pci_device_group()` (drivers/iommu/iommu.c) with `pci_for_each_dma_alias()`
 * (drivers/pci/search.c) and `pci_acs_enabled()` / `pci_acs_path_enabled()` (drivers/pci/pci.c):
 *
 *  1. DMA aliasing: a function behind a PCIe-to-PCI(-X) bridge (or a legacy PCI bridge) reaches the
 *     IOMMU with the bridge's requester ID, so it cannot be told apart from anything else behind that
 *     bridge: the group starts at the top-most such bridge (the bridge itself is in the group).
 *  2. ACS walk: from there, go up bridge by bridge; stop at the first bridge whose path to the root
 *     has ACS on every hop. Every bridge passed without ACS takes the function into its own group,
 *     so a root or downstream port without ACS puts everything below it in one group.
 *  3. Functions of one multi-function device that lack ACS share a group (with one another only).
 *
 * ACS is not visible in `lspci -tv`/`-nn`: the `acs` knob says what to assume where the capture does
 * not say (`lspci -vv` as root lists the ACS capability; that wins over the knob), and `acsOverrides`
 * pins single functions (e.g. a root port with a vendor ACS quirk).
 * Not modelled: per-device DMA-alias quirks (pci_add_dma_alias), PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT,
 * and the order-dependence of the kernel's first-found group (the result here is the closure).
 */
import { inputError } from '../util/errors.js';
import { compareFunctions, parseBdf, type PciFunction, type PciTopology } from './lspci.js';

/**
 * `assume-none`: no port and no multi-function device has ACS (consumer boards; the safe default).
 * `ports-only`: root and switch downstream ports have ACS, multi-function endpoints do not (most servers).
 * `assume-all`: every port and every multi-function device has ACS.
 */
export type AcsPolicy = 'assume-none' | 'ports-only' | 'assume-all';
export const ACS_POLICIES: readonly AcsPolicy[] = ['assume-none', 'ports-only', 'assume-all'];

export interface DeriveGroupsOptions {
  acs?: AcsPolicy;
  /** bdf (any spelling parseBdf accepts) → has ACS. Wins over the capture and the policy. */
  acsOverrides?: Record<string, boolean>;
  /** Extra bridges to treat as PCIe-to-PCI (their names and IDs did not give them away). */
  conventionalBridges?: string[];
}

export interface DerivedGroups {
  groups: Record<string, number>;
  /** bdf → the function its group was anchored at (step 1–2 above). */
  anchorOf: Record<string, string>;
  notes: string[];
}

/** Role of a function in the hierarchy, from lspci -vv when present, else inferred from the tree. */
export type PortRole =
  | 'host-bridge'
  | 'rc-endpoint'
  | 'root-port'
  | 'upstream-port'
  | 'downstream-port'
  | 'pcie-to-pci-bridge'
  | 'pci-bridge'
  | 'endpoint'
  | 'conventional';

export interface TopologyIndex {
  byBdf: Map<string, PciFunction>;
  /** undefined: unknown; null: on a root bus. */
  parent(bdf: string): string | null | undefined;
  children(bdf: string): string[];
  /** All functions below a bridge, depth first. */
  descendants(bdf: string): string[];
  /** Ancestor bridges, nearest first. */
  ancestors(bdf: string): string[];
  /** Same domain/bus/device, including `bdf` itself. */
  siblings(bdf: string): string[];
  isConventionalBridge(bdf: string): boolean;
  role(bdf: string): PortRole;
}

export function indexTopology(topo: PciTopology, conventionalBridges: string[] = []): TopologyIndex {
  const byBdf = new Map(topo.functions.map((f) => [f.bdf, f] as const));
  const extra = new Set(conventionalBridges.map((s, i) => parseBdf(s, `conventionalBridges[${i}]`).bdf));
  const kids = new Map<string, string[]>();
  for (const f of topo.functions) {
    const p = topo.parentOf[f.bdf];
    if (p) {
      if (!kids.has(p)) kids.set(p, []);
      kids.get(p)!.push(f.bdf);
    }
  }
  const slot = new Map<string, string[]>();
  for (const f of topo.functions) {
    const key = `${f.domain}:${f.bus}:${f.dev}`;
    if (!slot.has(key)) slot.set(key, []);
    slot.get(key)!.push(f.bdf);
  }
  const parent = (bdf: string): string | null | undefined => (bdf in topo.parentOf ? topo.parentOf[bdf] : undefined);
  const ancestors = (bdf: string): string[] => {
    const out: string[] = [];
    const seen = new Set<string>([bdf]);
    for (let p = parent(bdf); p; p = parent(p)) {
      if (seen.has(p)) throw inputError(topo.source ?? 'topology', `the bridges above ${bdf} form a loop`, 'check the tree capture');
      seen.add(p);
      out.push(p);
    }
    return out;
  };
  const isConventionalBridge = (bdf: string): boolean => {
    const f = byBdf.get(bdf);
    return !!f && (f.isPcieToPciBridge || extra.has(bdf));
  };
  const roles = new Map<string, PortRole>();
  const role = (bdf: string): PortRole => {
    const known = roles.get(bdf);
    if (known) return known;
    const f = byBdf.get(bdf)!;
    let r: PortRole;
    const up = ancestors(bdf);
    const conventional = up.some(isConventionalBridge);
    if (isConventionalBridge(bdf)) r = conventional ? 'pci-bridge' : 'pcie-to-pci-bridge';
    else if (conventional) r = f.isBridge ? 'pci-bridge' : 'conventional';
    else if (f.pcieType === 'root-port') r = 'root-port';
    else if (f.pcieType === 'upstream-port') r = 'upstream-port';
    else if (f.pcieType === 'downstream-port') r = 'downstream-port';
    else if (f.pcieType === 'pci-to-pcie-bridge') r = 'pci-bridge';
    else if (f.isBridge) {
      const p = parent(bdf);
      if (!p) r = 'root-port';
      else {
        const pr = role(p);
        r = pr === 'upstream-port' ? 'downstream-port' : 'upstream-port';
      }
    } else if (f.classCode === 0x0600) r = 'host-bridge';
    else if (!parent(bdf)) r = f.pcieType === 'endpoint' || f.pcieType === 'legacy-endpoint' ? 'endpoint' : 'rc-endpoint';
    else r = 'endpoint';
    roles.set(bdf, r);
    return r;
  };
  const descendants = (bdf: string): string[] => {
    const out: string[] = [];
    const walk = (b: string): void => {
      for (const k of kids.get(b) ?? []) {
        out.push(k);
        walk(k);
      }
    };
    walk(bdf);
    return out;
  };
  return {
    byBdf,
    parent,
    children: (bdf) => kids.get(bdf) ?? [],
    descendants,
    ancestors,
    siblings: (bdf) => {
      const f = byBdf.get(bdf);
      return f ? (slot.get(`${f.domain}:${f.bus}:${f.dev}`) ?? [bdf]) : [bdf];
    },
    isConventionalBridge,
    role,
  };
}

/**
 * Derive IOMMU groups from the tree (PciTopology.parentOf) with the Linux rule above.
 * Groups are numbered in address order of their first function, as Linux numbers them when it
 * probes devices in address order.
 */
export function deriveGroups(topo: PciTopology, opts: DeriveGroupsOptions = {}): DerivedGroups {
  const policy = opts.acs ?? 'assume-none';
  if (!ACS_POLICIES.includes(policy)) {
    throw inputError('acs', `unknown ACS policy "${String(policy)}"`, `use one of ${ACS_POLICIES.join(', ')}`);
  }
  const ix = indexTopology(topo, opts.conventionalBridges);
  const overrides = new Map<string, boolean>();
  for (const [k, v] of Object.entries(opts.acsOverrides ?? {})) overrides.set(parseBdf(k, `acsOverrides["${k}"]`).bdf, v);
  const notes: string[] = [];
  const fs = [...topo.functions].sort(compareFunctions);

  const multifunction = (f: PciFunction): boolean => f.fn !== 0 || ix.siblings(f.bdf).length > 1;
  /** pci_acs_enabled(): does this function isolate peer-to-peer traffic? */
  const acsOk = (bdf: string): boolean => {
    const o = overrides.get(bdf);
    if (o !== undefined) return o;
    const f = ix.byBdf.get(bdf)!;
    const r = ix.role(bdf);
    if (r === 'conventional' || r === 'pci-bridge' || r === 'pcie-to-pci-bridge') return false;
    if (r === 'root-port' || r === 'downstream-port') return f.acs ?? policy !== 'assume-none';
    if (!multifunction(f)) return true; // ACS does not apply to single-function devices
    return f.acs ?? policy === 'assume-all';
  };
  const pathOk = (bdf: string): boolean => [bdf, ...ix.ancestors(bdf)].every(acsOk);

  // union-find over bdf strings
  const up = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (up.get(r) !== r) r = up.get(r)!;
    let y = x;
    while (up.get(y) !== r) {
      const n = up.get(y)!;
      up.set(y, r);
      y = n;
    }
    return r;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a), rb = find(b);
    if (ra !== rb) up.set(ra, rb);
  };
  for (const f of fs) up.set(f.bdf, f.bdf);

  const anchorOf: Record<string, string> = {};
  const unknownParent: string[] = [];
  for (const f of fs) {
    if (ix.parent(f.bdf) === undefined) unknownParent.push(f.bdf);
    // 1. DMA alias: the top-most conventional bridge above the function
    let pdev = f.bdf;
    for (const a of ix.ancestors(f.bdf)) if (ix.isConventionalBridge(a)) pdev = a;
    // 2. ACS walk upward from there
    for (let b = ix.parent(pdev); b; b = ix.parent(b)) {
      if (pathOk(b)) break;
      pdev = b;
    }
    anchorOf[f.bdf] = pdev;
    union(f.bdf, pdev);
    // 3. non-isolated functions of one slot
    if (multifunction(f) && !acsOk(f.bdf)) {
      for (const s of ix.siblings(f.bdf)) if (s !== f.bdf && !acsOk(s)) union(f.bdf, s);
    }
  }

  const idOf = new Map<string, number>();
  const groups: Record<string, number> = {};
  for (const f of fs) {
    const root = find(f.bdf);
    if (!idOf.has(root)) idOf.set(root, idOf.size);
    groups[f.bdf] = idOf.get(root)!;
  }
  if (unknownParent.length === fs.length && fs.length > 0) {
    notes.push(
      'the capture has no bus tree, so groups come from multi-function sharing only; ' +
        'merge an `lspci -tv` capture (or `lspci -v`, which shows bridge bus ranges) for bridge-level grouping',
    );
  } else if (unknownParent.length > 0) {
    notes.push(`${unknownParent.join(', ')} ${unknownParent.length === 1 ? 'is' : 'are'} not in the bus tree; grouped as if on a root bus`);
  }
  // a tree does not name bridges: flag the ones that look like they lead to a conventional bus
  for (const f of fs) {
    if (!f.isBridge || ix.isConventionalBridge(f.bdf)) continue;
    const odd = ix.children(f.bdf).filter((k) => {
      const c = ix.byBdf.get(k)!;
      return c.dev !== 0 && !c.isBridge;
    });
    if (odd.length > 0) {
      notes.push(
        `${f.bdf} has ${odd.join(', ')} below it at device numbers other than 0, as on a conventional PCI bus (or ARI/SR-IOV); ` +
          'if it is a PCIe-to-PCI bridge, list it in conventionalBridges or merge an `lspci -nn` capture that names it',
      );
    }
  }
  notes.push(`IOMMU groups derived from the topology (Linux pci_device_group rule) with acs=${policy}; the host's own listing wins when available`);
  return { groups, anchorOf, notes };
}

/** group → member bdfs, in address order. */
export function groupMembers(groups: Record<string, number>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [bdf, g] of Object.entries(groups)) {
    if (!out.has(g)) out.set(g, []);
    out.get(g)!.push(bdf);
  }
  for (const list of out.values()) list.sort();
  return new Map([...out.entries()].sort((a, b) => a[0] - b[0]));
}

/** The topology with `groups` filled in by derivation when the capture did not have them. */
export function withDerivedGroups(topo: PciTopology, opts: DeriveGroupsOptions = {}): { topology: PciTopology; notes: string[] } {
  if (topo.groups) return { topology: topo, notes: [] };
  const d = deriveGroups(topo, opts);
  return { topology: { ...topo, groups: d.groups }, notes: d.notes };
}
