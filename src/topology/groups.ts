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
import { bdfSet, compareFunctions, parseBdf, type PciFunction, type PciTopology } from './lspci.js';

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

/** Bridge bdf → the functions on its secondary side, in the capture's order. */
function childLists(topo: PciTopology): Map<string, string[]> {
  const kids = new Map<string, string[]>();
  for (const f of topo.functions) {
    const p = topo.parentOf[f.bdf];
    if (p) {
      if (!kids.has(p)) kids.set(p, []);
      kids.get(p)!.push(f.bdf);
    }
  }
  return kids;
}

/** `domain:bus:dev` of a function: the physical device (slot) its functions share. */
const slotKey = (f: { domain: number; bus: number; dev: number }): string => `${f.domain}:${f.bus}:${f.dev}`;

/** Slot key → the bdfs of its functions, in the capture's order. */
function slotLists(functions: PciFunction[]): Map<string, string[]> {
  const slot = new Map<string, string[]>();
  for (const f of functions) {
    const key = slotKey(f);
    if (!slot.has(key)) slot.set(key, []);
    slot.get(key)!.push(f.bdf);
  }
  return slot;
}

/** Ancestor bridges of `bdf`, nearest first; a loop in `parent` is an InputError naming `source`. */
function ancestorsOf(parent: (bdf: string) => string | null | undefined, bdf: string, source: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>([bdf]);
  for (let p = parent(bdf); p; p = parent(p)) {
    if (seen.has(p)) throw inputError(source, `the bridges above ${bdf} form a loop`, 'check the tree capture');
    seen.add(p);
    out.push(p);
  }
  return out;
}

/** All functions below `bdf` in `kids`, depth first. */
function descendantsOf(kids: Map<string, string[]>, bdf: string): string[] {
  const out: string[] = [];
  const walk = (b: string): void => {
    for (const k of kids.get(b) ?? []) {
      out.push(k);
      walk(k);
    }
  };
  walk(bdf);
  return out;
}

/** Where a function sits, as much as `inferRole` needs of it. */
export interface RolePlace {
  /** The function itself is a PCIe-to-PCI (conventional) bridge. */
  conventionalBridge: boolean;
  /** A conventional bridge is above it: it is on a conventional PCI bus. */
  belowConventional: boolean;
  /** It sits on a root bus (or its parent is unknown). */
  onRootBus: boolean;
  /** The parent's role; asked only of a bridge whose -vv does not say its port type. */
  parentRole: () => PortRole;
}

/** A function's port role: -vv's port type when it has one, else from the tree (below an upstream port → downstream port). */
export function inferRole(f: PciFunction, at: RolePlace): PortRole {
  if (at.conventionalBridge) return at.belowConventional ? 'pci-bridge' : 'pcie-to-pci-bridge';
  if (at.belowConventional) return f.isBridge ? 'pci-bridge' : 'conventional';
  if (f.pcieType === 'root-port') return 'root-port';
  if (f.pcieType === 'upstream-port') return 'upstream-port';
  if (f.pcieType === 'downstream-port') return 'downstream-port';
  if (f.pcieType === 'pci-to-pcie-bridge') return 'pci-bridge';
  if (f.isBridge) {
    if (at.onRootBus) return 'root-port';
    return at.parentRole() === 'upstream-port' ? 'downstream-port' : 'upstream-port';
  }
  if (f.classCode === 0x0600) return 'host-bridge';
  if (at.onRootBus) return f.pcieType === 'endpoint' || f.pcieType === 'legacy-endpoint' ? 'endpoint' : 'rc-endpoint';
  return 'endpoint';
}

export function indexTopology(topo: PciTopology, conventionalBridges: string[] = []): TopologyIndex {
  const byBdf = new Map(topo.functions.map((f) => [f.bdf, f] as const));
  const extra = bdfSet(conventionalBridges, 'conventionalBridges');
  const kids = childLists(topo);
  const slot = slotLists(topo.functions);
  const parent = (bdf: string): string | null | undefined => (bdf in topo.parentOf ? topo.parentOf[bdf] : undefined);
  const ancestors = (bdf: string): string[] => ancestorsOf(parent, bdf, topo.source ?? 'topology');
  const isConventionalBridge = (bdf: string): boolean => {
    const f = byBdf.get(bdf);
    return !!f && (f.isPcieToPciBridge || extra.has(bdf));
  };
  const roles = new Map<string, PortRole>();
  const role = (bdf: string): PortRole => {
    const known = roles.get(bdf);
    if (known) return known;
    const belowConventional = ancestors(bdf).some(isConventionalBridge);
    const r = inferRole(byBdf.get(bdf)!, {
      conventionalBridge: isConventionalBridge(bdf),
      belowConventional,
      onRootBus: !parent(bdf),
      parentRole: () => role(parent(bdf)!),
    });
    roles.set(bdf, r);
    return r;
  };
  return {
    byBdf,
    parent,
    children: (bdf) => kids.get(bdf) ?? [],
    descendants: (bdf) => descendantsOf(kids, bdf),
    ancestors,
    siblings: (bdf) => {
      const f = byBdf.get(bdf);
      return f ? (slot.get(slotKey(f)) ?? [bdf]) : [bdf];
    },
    isConventionalBridge,
    role,
  };
}

/** The ACS policy asked for, checked (`assume-none` when none is given). */
function acsPolicyOf(opts: DeriveGroupsOptions): AcsPolicy {
  const policy = opts.acs ?? 'assume-none';
  if (!ACS_POLICIES.includes(policy)) {
    throw inputError('acs', `unknown ACS policy "${String(policy)}"`, `use one of ${ACS_POLICIES.join(', ')}`);
  }
  return policy;
}

/**
 * pci_acs_enabled() by role: does a function isolate peer-to-peer traffic, when neither an override
 * nor -vv (`f.acs`) pins it down, under `policy`? Single-function endpoints count as isolated.
 */
export function acsEnabled(f: PciFunction, role: PortRole, multifunction: boolean, policy: AcsPolicy): boolean {
  if (role === 'conventional' || role === 'pci-bridge' || role === 'pcie-to-pci-bridge') return false;
  if (role === 'root-port' || role === 'downstream-port') return f.acs ?? policy !== 'assume-none';
  if (!multifunction) return true; // ACS does not apply to single-function devices
  return f.acs ?? policy === 'assume-all';
}

/** Disjoint sets over strings (union-find with path compression); every key starts alone. */
export class DisjointSets {
  private readonly up = new Map<string, string>();
  constructor(keys: Iterable<string>) {
    for (const k of keys) this.up.set(k, k);
  }
  /** The representative of `x`'s set. */
  find(x: string): string {
    let r = x;
    while (this.up.get(r) !== r) r = this.up.get(r)!;
    let y = x;
    while (this.up.get(y) !== r) {
      const n = this.up.get(y)!;
      this.up.set(y, r);
      y = n;
    }
    return r;
  }
  /** Join the sets of `a` and `b`. */
  union(a: string, b: string): void {
    const ra = this.find(a), rb = this.find(b);
    if (ra !== rb) this.up.set(ra, rb);
  }
}

/**
 * Steps 1–2 of pci_device_group(): the function a group is anchored at. Start at the top-most
 * conventional bridge above `bdf` (its DMA alias), or `bdf` itself; then go up while the bridge
 * above has no ACS on its whole path to the root (`pathOk`).
 */
export function dmaAnchor(ix: TopologyIndex, bdf: string, pathOk: (bdf: string) => boolean): string {
  let pdev = bdf;
  for (const a of ix.ancestors(bdf)) if (ix.isConventionalBridge(a)) pdev = a;
  for (let b = ix.parent(pdev); b; b = ix.parent(b)) {
    if (pathOk(b)) break;
    pdev = b;
  }
  return pdev;
}

/** Group numbers 0, 1, … by the address order of each set's first function. */
function numberGroups(fs: PciFunction[], sets: DisjointSets): Record<string, number> {
  const idOf = new Map<string, number>();
  const groups: Record<string, number> = {};
  for (const f of fs) {
    const root = sets.find(f.bdf);
    if (!idOf.has(root)) idOf.set(root, idOf.size);
    groups[f.bdf] = idOf.get(root)!;
  }
  return groups;
}

/** The note on functions the tree does not place: all of them (no tree), some, or none (null). */
function treeCoverageNote(unknownParent: string[], total: number): string | null {
  if (unknownParent.length === total && total > 0) {
    return (
      'the capture has no bus tree, so groups come from multi-function sharing only; ' +
      'merge an `lspci -tv` capture (or `lspci -v`, which shows bridge bus ranges) for bridge-level grouping'
    );
  }
  if (unknownParent.length > 0) {
    return `${unknownParent.join(', ')} ${unknownParent.length === 1 ? 'is' : 'are'} not in the bus tree; grouped as if on a root bus`;
  }
  return null;
}

/** A tree does not name bridges: a note for each bridge with non-bridges at device numbers ≠ 0 below it (a conventional bus?). */
function unnamedBridgeNotes(fs: PciFunction[], ix: TopologyIndex): string[] {
  const notes: string[] = [];
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
  return notes;
}

/**
 * Derive IOMMU groups from the tree (PciTopology.parentOf) with the Linux rule above.
 * Groups are numbered in address order of their first function, as Linux numbers them when it
 * probes devices in address order.
 */
export function deriveGroups(topo: PciTopology, opts: DeriveGroupsOptions = {}): DerivedGroups {
  const policy = acsPolicyOf(opts);
  const ix = indexTopology(topo, opts.conventionalBridges);
  const overrides = new Map<string, boolean>();
  for (const [k, v] of Object.entries(opts.acsOverrides ?? {})) overrides.set(parseBdf(k, `acsOverrides["${k}"]`).bdf, v);
  const fs = [...topo.functions].sort(compareFunctions);

  const multifunction = (f: PciFunction): boolean => f.fn !== 0 || ix.siblings(f.bdf).length > 1;
  /** pci_acs_enabled(): an override wins, else the function's role and facts under the policy. */
  const acsOk = (bdf: string): boolean => {
    const o = overrides.get(bdf);
    if (o !== undefined) return o;
    const f = ix.byBdf.get(bdf)!;
    return acsEnabled(f, ix.role(bdf), multifunction(f), policy);
  };
  const pathOk = (bdf: string): boolean => [bdf, ...ix.ancestors(bdf)].every(acsOk);

  const sets = new DisjointSets(fs.map((f) => f.bdf));
  const anchorOf: Record<string, string> = {};
  for (const f of fs) {
    // 1–2. DMA alias, then the ACS walk upward
    anchorOf[f.bdf] = dmaAnchor(ix, f.bdf, pathOk);
    sets.union(f.bdf, anchorOf[f.bdf]);
    // 3. non-isolated functions of one slot
    if (multifunction(f) && !acsOk(f.bdf)) {
      for (const s of ix.siblings(f.bdf)) if (s !== f.bdf && !acsOk(s)) sets.union(f.bdf, s);
    }
  }

  const groups = numberGroups(fs, sets);
  const unknownParent = fs.filter((f) => ix.parent(f.bdf) === undefined).map((f) => f.bdf);
  const coverage = treeCoverageNote(unknownParent, fs.length);
  const notes = [
    ...(coverage === null ? [] : [coverage]),
    ...unnamedBridgeNotes(fs, ix),
    `IOMMU groups derived from the topology (Linux pci_device_group rule) with acs=${policy}; the host's own listing wins when available`,
  ];
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
