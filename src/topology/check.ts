/**
 * Can these host PCI functions be passed through to one guest of this hypervisor?
 *
 * Each constraint comes from one of the seed documents (README.md next to this file lists them with
 * their source). A violated constraint is a `reason` (the setup is refused); a cost or caveat that
 * does not refuse the setup is a `note`. Malformed input (an address that is not an address, an
 * unknown hypervisor) is an InputError instead.
 */
import { inputError } from '../util/errors.js';
import { type AcsPolicy, indexTopology, withDerivedGroups } from './groups.js';
import { type Bdf, bdfSet, bhyveBdf, parseBdf, type PciFunction, type PciTopology, shortBdf } from './lspci.js';

import { HYPERVISORS, type HypervisorName } from '../config/hypervisors.js';

export { HYPERVISORS };
export type Hypervisor = HypervisorName;

/** Per-device facts the checks need; lspci -v/-vv gives some, the rest come from the user. */
export interface DeviceTraits {
  /** Performs DMA on its own. Default: what lspci -v saw, else assumed true. */
  busMaster: boolean;
  /** Can signal with MSI or MSI-X. Default: lspci -v capabilities, else unknown. */
  msi: boolean;
  /** Has a legacy INTx pin. Default: lspci -vv, else unknown. */
  intx: boolean;
  /** The driver hands the device pointers into the device's own BAR memory (Xen VT-d HowTo). Default false. */
  barPointers: boolean;
  /** Has I/O-port BARs. Default: lspci -v regions, else unknown. */
  ioPortBars: boolean;
}

export interface CheckOptions {
  /**
   * Guest address of the (single) assigned device: kvm `05`/`0x05`/`00:05.0` (hex, as QEMU addr=),
   * xen virtual slot `7`/`0x7`, virtualbox `01:05.0` (guest bus:dev.fn), bhyve `1` or `1:0` (decimal).
   * With several devices use `guestSlots`.
   */
  guestSlot?: string;
  /** host bdf → guest address, same syntax as guestSlot. */
  guestSlots?: Record<string, string>;
  /** Attach to (or detach from) a running guest. */
  hotplug?: boolean;
  /** Override the capture: does the host have an active IOMMU? */
  iommu?: boolean;
  /** ACS assumption when groups must be derived from the tree (kvm). Default 'assume-none'. */
  acs?: AcsPolicy;
  acsOverrides?: Record<string, boolean>;
  /** Bridges to treat as PCIe-to-PCI although their names do not say so. */
  conventionalBridges?: string[];
  /** kvm: functions bound to vfio-pci (or pci-stub) and left unused, so their group stays viable. */
  vfioBound?: string[];
  /** kvm: guest slots taken by emulated or paravirtual devices (virtio disk, NIC …). Default 0. */
  otherGuestSlots?: number;
  /** kvm: the libvirt in use supports PCI hot-plug (the seed's Fedora-era one did not). Default false. */
  libvirtHotplug?: boolean;
  /** xen: functions hidden with pciback.hide; bhyve: the pptdevs list. Absent: not checked (a note says what to add). */
  hidden?: string[];
  /** xen: host booted with msi=1. Default false. */
  xenMsi?: boolean;
  /** virtualbox: the guest state is to be saved/restored. */
  saveRestore?: boolean;
  /** virtualbox teleportation / xen live migration is to be used. */
  liveMigration?: boolean;
  /** bhyve: the CPU has nested paging (EPT/RVI). Default true. */
  nestedPaging?: boolean;
  /** bdf → traits the capture cannot show. */
  traits?: Record<string, Partial<DeviceTraits>>;
}

export type ReasonCode =
  | 'unknown-device'
  | 'duplicate'
  | 'bridge'
  | 'host-bridge'
  | 'iommu-required'
  | 'no-iommu-bus-master'
  | 'bar-pointers'
  | 'group-not-vfio'
  | 'guest-slots'
  | 'guest-slot-fixed'
  | 'guest-slot-range'
  | 'guest-slot-ambiguous'
  | 'guest-slot-taken'
  | 'hotplug-unsupported'
  | 'not-hidden'
  | 'conventional-split'
  | 'hotplug-slots'
  | 'hotplug-slot-range'
  | 'msi-disabled'
  | 'migration'
  | 'intx-only'
  | 'save-restore'
  | 'teleport'
  | 'nested-paging'
  | 'bhyve-domain'
  | 'not-in-pptdevs';

export interface CheckReason {
  code: ReasonCode;
  message: string;
  bdf?: string;
}

export interface CheckResult {
  viable: boolean;
  reasons: CheckReason[];
  notes: string[];
}

/** KVM guest bus: 32 slots × 8 functions, 2 slots not removable (KVM/virsh seed). */
export const KVM_GUEST_SLOTS = 32;
export const KVM_FIXED_SLOTS: readonly number[] = [0, 1];
/** Xen HVM: virtual slots 6 and 7 reserved for VT-d hot-plug (Xen VT-d HowTo seed). */
export const XEN_HOTPLUG_SLOTS: readonly number[] = [6, 7];

/**
 * Parse a list of host addresses as the seeds write them: `pciback.hide=(01:00.0)(03:00.0)`,
 * `pptdevs="1/0/0 2/0/0 3/0/0"`, `[ '01:00.0', '03:00.0' ]`, or comma/space separated.
 */
export function parseDeviceList(text: string, where: string): Bdf[] {
  const body = text.trim().replace(/^(?:xen-)?pciback\.hide\s*=\s*|^pptdevs\s*=\s*|^pci\s*=\s*/i, '');
  const parts = body.split(/[()\s,'"[\]]+/).filter((s) => s !== '');
  return parts.map((p, i) => parseBdf(p, `${where}[${i}]`));
}

// ---------------------------------------------------------------------------------------------

interface Ctx {
  topo: PciTopology;
  hv: Hypervisor;
  opts: CheckOptions;
  reasons: CheckReason[];
  notes: string[];
  /** Assigned functions present in the topology, in the order given, without duplicates. */
  assigned: PciFunction[];
  /** Assigned addresses, canonical, including ones not in the topology. */
  assignedSet: Set<string>;
  iommu: boolean;
  traits: Map<string, Partial<DeviceTraits>>;
}

const HV_NAME: Record<Hypervisor, string> = { kvm: 'KVM', xen: 'Xen', virtualbox: 'VirtualBox', bhyve: 'bhyve' };

function refuse(c: Ctx, code: ReasonCode, message: string, bdf?: string): void {
  c.reasons.push(bdf === undefined ? { code, message } : { code, message, bdf });
}

function note(c: Ctx, text: string): void {
  if (!c.notes.includes(text)) c.notes.push(text);
}

function trait<K extends keyof DeviceTraits>(c: Ctx, f: PciFunction, k: K): DeviceTraits[K] | undefined {
  const t = c.traits.get(f.bdf)?.[k];
  if (t !== undefined) return t;
  switch (k) {
    case 'busMaster':
      return f.busMaster as DeviceTraits[K] | undefined;
    case 'msi':
      return f.msiCapable as DeviceTraits[K] | undefined;
    case 'intx':
      return f.intx as DeviceTraits[K] | undefined;
    case 'ioPortBars':
      return f.ioPortBars as DeviceTraits[K] | undefined;
    default:
      return undefined;
  }
}

const ids = (f: PciFunction): string | null =>
  f.vendorId !== null && f.deviceId !== null
    ? `${f.vendorId.toString(16).padStart(4, '0')}:${f.deviceId.toString(16).padStart(4, '0')}`
    : null;

const describe = (f: PciFunction): string => (f.name ? `${f.bdf} (${f.name})` : f.bdf);

/** Physical devices (domain:bus:dev) of the assigned functions, in first-seen order. */
function physicalDevices(fs: PciFunction[]): PciFunction[][] {
  const by = new Map<string, PciFunction[]>();
  for (const f of fs) {
    const k = `${f.domain}:${f.bus}:${f.dev}`;
    if (!by.has(k)) by.set(k, []);
    by.get(k)!.push(f);
  }
  return [...by.values()];
}

/** Guest address option for each physical device (keyed by the device's first assigned function). */
function guestAddresses(c: Ctx): Map<PciFunction[], { text: string; key: string }> {
  const out = new Map<PciFunction[], { text: string; key: string }>();
  const devices = physicalDevices(c.assigned);
  const explicit = new Map<string, { text: string; key: string }>();
  for (const [k, v] of Object.entries(c.opts.guestSlots ?? {})) {
    explicit.set(parseBdf(k, `guestSlots["${k}"]`).bdf, { text: v, key: `guestSlots["${k}"]` });
  }
  if (c.opts.guestSlot !== undefined && devices.length > 1 && explicit.size === 0) {
    refuse(
      c,
      'guest-slot-ambiguous',
      `one guestSlot (${c.opts.guestSlot}) was given for ${devices.length} devices (${devices.map((d) => d[0].bdf).join(', ')}); give each device its own address with guestSlots.`,
    );
    return out;
  }
  for (const d of devices) {
    const e = d.map((f) => explicit.get(f.bdf)).find((x) => x !== undefined);
    if (e) out.set(d, e);
    else if (c.opts.guestSlot !== undefined && devices.length === 1) out.set(d, { text: c.opts.guestSlot, key: 'guestSlot' });
  }
  return out;
}

function parseNumber(text: string, where: string, base: 10 | 16, what: string): number {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  if (base === 16 ? /^[0-9a-f]{1,2}$/i.test(t) : /^\d{1,3}$/.test(t)) return parseInt(t, base);
  throw inputError(where, `"${text}" is not a ${what}`, base === 16 ? 'write a slot number in hex (05 or 0x05)' : 'write a slot number in decimal (7)');
}

/** KVM/QEMU guest slot: `05`, `0x05`, `05.0`, `00:05.0`, `0000:00:05.0` (hex, as QEMU's addr=). */
function parseKvmSlot(text: string, where: string): number {
  const t = text.trim();
  let m = /^0x([0-9a-f]{1,2})$/i.exec(t) ?? /^([0-9a-f]{1,2})(?:\.[0-7])?$/i.exec(t);
  if (!m) m = /^(?:[0-9a-f]{1,8}:)?[0-9a-f]{1,2}:([0-9a-f]{1,2})\.[0-7]$/i.exec(t);
  if (!m) throw inputError(where, `"${text}" is not a guest PCI slot`, 'write the slot in hex as QEMU addr= does (05, 0x05 or 00:05.0)');
  return parseInt(m[1], 16);
}

// ---------------------------------------------------------------------------------------------
// Constraints shared by every hypervisor
// ---------------------------------------------------------------------------------------------

function checkCommon(c: Ctx): void {
  for (const f of c.assigned) {
    if (f.isBridge) {
      refuse(c, 'bridge', `${describe(f)} is a PCI bridge and a bridge cannot be assigned; assign the devices behind it instead.`, f.bdf);
      continue;
    }
    if (f.classCode === 0x0600) {
      refuse(c, 'host-bridge', `${describe(f)} is the host bridge (the root complex itself) and cannot be assigned; pick an endpoint device.`, f.bdf);
      continue;
    }
    if (!c.iommu) {
      const bm = trait(c, f, 'busMaster');
      if (bm !== false) {
        refuse(
          c,
          'no-iommu-bus-master',
          `${describe(f)} ${bm === true ? 'does' : 'may do'} DMA (bus mastering) and the host has no active IOMMU, so bus mastering must stay off; enable VT-d/AMD-Vi in the BIOS and the kernel (intel_iommu=on) or do not assign it.`,
          f.bdf,
        );
      } else if (c.hv !== 'virtualbox') {
        refuse(
          c,
          'iommu-required',
          `${describe(f)} cannot be passed through by ${HV_NAME[c.hv]} without an IOMMU; enable VT-d/AMD-Vi in the BIOS and ${c.hv === 'xen' ? 'boot Xen with iommu=1' : c.hv === 'kvm' ? 'the kernel (intel_iommu=on)' : 'the host'}.`,
          f.bdf,
        );
      } else {
        note(c, `${f.bdf} is assigned without an IOMMU: the guest shows a warning at boot and the VM terminates if its driver enables bus mastering (VirtualBox manual).`);
      }
    }
    if (trait(c, f, 'barPointers') === true) {
      refuse(
        c,
        'bar-pointers',
        `${describe(f)} takes pointers into its own BAR memory, which break when the guest sees its BARs at other addresses than the host; keep it on the host or use an emulated/paravirtual device instead.`,
        f.bdf,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// KVM / QEMU + libvirt + VFIO (seeds: Chinese KVM/virsh blog = Fedora guide; Gentoo/KVM blog)
// ---------------------------------------------------------------------------------------------

/** The IOMMU groups to check against: the capture's, or derived from its tree (their notes added). */
function kvmGroups(c: Ctx): PciTopology {
  if (c.topo.groups) return c.topo;
  const d = withDerivedGroups(c.topo, {
    ...(c.opts.acs !== undefined ? { acs: c.opts.acs } : {}),
    ...(c.opts.acsOverrides !== undefined ? { acsOverrides: c.opts.acsOverrides } : {}),
    ...(c.opts.conventionalBridges !== undefined ? { conventionalBridges: c.opts.conventionalBridges } : {}),
  });
  for (const n of d.notes) note(c, n);
  return d.topology;
}

/** IOMMU group viability: every function in the group assigned, bound to vfio-pci/pci-stub, or a bridge. */
function checkKvmGroups(c: Ctx): void {
  const topo = kvmGroups(c);
  const groups = topo.groups!;
  const vfio = bdfSet(c.opts.vfioBound ?? [], 'vfioBound');
  const byBdf = new Map(topo.functions.map((f) => [f.bdf, f] as const));
  const seenGroups = new Set<number>();
  for (const f of c.assigned) {
    const g = groups[f.bdf];
    if (g === undefined) {
      note(c, `${f.bdf} is not in the IOMMU-group listing (a shortened capture?); its group could not be checked.`);
      continue;
    }
    if (seenGroups.has(g)) continue;
    seenGroups.add(g);
    for (const [other, og] of Object.entries(groups)) {
      if (og !== g || c.assignedSet.has(other)) continue;
      const m = byBdf.get(other);
      if (m?.isBridge) continue; // "a PCI interconnect device" stays viable (vfio_dev_viable)
      if (vfio.has(other)) continue;
      if (m?.driver === 'vfio-pci' || m?.driver === 'pci-stub') continue;
      const id = m ? ids(m) : null;
      refuse(
        c,
        'group-not-vfio',
        `${other}${m?.name ? ` (${m.name})` : ''} shares IOMMU group ${g} with ${f.bdf} but is neither assigned nor bound to vfio-pci; assign it too, or bind it to vfio-pci${id ? ` (vfio-pci.ids=${id})` : ''} and leave it unused.`,
        other,
      );
    }
  }
}

/** Guest bus: 32 slots × 8 functions, 2 slots fixed; one slot per physical device, each its own. */
function checkKvmSlots(c: Ctx, devices: PciFunction[][]): void {
  const other = c.opts.otherGuestSlots ?? 0;
  if (!Number.isInteger(other) || other < 0) {
    throw inputError('otherGuestSlots', `${String(other)} is not a slot count`, 'give a whole number ≥ 0');
  }
  const free = KVM_GUEST_SLOTS - KVM_FIXED_SLOTS.length;
  if (devices.length + other > free) {
    refuse(
      c,
      'guest-slots',
      `assigning ${devices.length} devices (${devices.map((d) => d[0].bdf).join(', ')}) plus ${other} other guest devices needs ${devices.length + other} PCI slots but a KVM guest has ${free} (32, of which 2 are not removable); assign fewer devices or drop emulated ones.`,
    );
  }
  const taken = new Map<number, string>();
  for (const [d, a] of guestAddresses(c)) {
    const slot = parseKvmSlot(a.text, a.key);
    const f = d[0];
    if (slot >= KVM_GUEST_SLOTS) {
      refuse(c, 'guest-slot-range', `guest slot 0x${slot.toString(16)} for ${f.bdf} is past the 32 slots of the guest bus; pick a slot from 0x02 to 0x1f.`, f.bdf);
    } else if (KVM_FIXED_SLOTS.includes(slot)) {
      refuse(c, 'guest-slot-fixed', `guest slot 0x${slot.toString(16).padStart(2, '0')} for ${f.bdf} holds one of the 2 devices a KVM guest cannot remove; pick a slot from 0x02 to 0x1f.`, f.bdf);
    } else if (taken.has(slot)) {
      refuse(c, 'guest-slot-taken', `guest slot 0x${slot.toString(16).padStart(2, '0')} for ${f.bdf} is already given to ${taken.get(slot)}; give each device its own slot (its functions share it).`, f.bdf);
    } else taken.set(slot, f.bdf);
  }
}

/** Boot parameters and QEMU options for the assigned devices. */
function kvmNotes(c: Ctx, devices: PciFunction[][]): void {
  const idList = [...new Set(c.assigned.map(ids).filter((x): x is string => x !== null))];
  if (idList.length > 0) note(c, `bind to vfio-pci at boot: intel_iommu=on vfio-pci.ids=${idList.join(',')} (or virsh nodedev-detach each function).`);
  for (const d of devices) {
    const mf = d.length > 1 || d[0].fn !== 0 ? ',multifunction=on' : '';
    note(c, `qemu: -device vfio-pci,host=${shortBdf(d[0])}${mf}${d.length > 1 ? ` (one slot for functions ${d.map((f) => f.fn).join(', ')})` : ''}.`);
  }
}

function checkKvm(c: Ctx): void {
  if (c.iommu) checkKvmGroups(c);
  const devices = physicalDevices(c.assigned);
  checkKvmSlots(c, devices);
  if (c.opts.hotplug && !c.opts.libvirtHotplug) {
    for (const f of c.assigned) {
      refuse(
        c,
        'hotplug-unsupported',
        `${f.bdf} cannot be hot-plugged: this libvirt (as in the KVM guide) does not support PCI hot-plug; add it with virsh edit while the guest is shut off, or set libvirtHotplug if yours does.`,
        f.bdf,
      );
    }
  }
  kvmNotes(c, devices);
}

// ---------------------------------------------------------------------------------------------
// Xen HVM with VT-d (seed: Xen VT-d HowTo, Kay/Han/Shimada 2007-2008)
// ---------------------------------------------------------------------------------------------

/**
 * VT-d cannot tell apart the conventional PCI devices behind one PCIe-to-PCI bridge (they all use
 * the bridge's requester ID): for each such device assigned, the ones behind the same (top-most)
 * bridge that are not assigned.
 */
function conventionalSplits(c: Ctx): { splits: Array<{ f: PciFunction; bridge: string; missing: string[] }>; untreed: PciFunction[] } {
  const ix = indexTopology(c.topo, c.opts.conventionalBridges);
  const splits: Array<{ f: PciFunction; bridge: string; missing: string[] }> = [];
  const untreed: PciFunction[] = [];
  const reported = new Set<string>();
  for (const f of c.assigned) {
    if (ix.parent(f.bdf) === undefined) {
      untreed.push(f);
      continue;
    }
    const conv = ix.ancestors(f.bdf).filter((b) => ix.isConventionalBridge(b));
    if (conv.length === 0) continue;
    const bridge = conv[conv.length - 1];
    const members = ix.descendants(bridge).filter((b) => !ix.byBdf.get(b)!.isBridge);
    const missing = members.filter((b) => !c.assignedSet.has(b) && !reported.has(b));
    for (const m of missing) reported.add(m);
    if (missing.length > 0) splits.push({ f, bridge, missing });
  }
  return { splits, untreed };
}

/** The same VT-d fact where the hypervisor's seed does not state it: a note, not a refusal. */
function conventionalNote(c: Ctx): void {
  for (const { f, bridge, missing } of conventionalSplits(c).splits) {
    note(
      c,
      `${f.bdf} is conventional PCI behind the PCIe-to-PCI bridge ${bridge}, where VT-d cannot tell it from ${missing.join(', ')}; ` +
        'assign those to the same guest too (the Xen VT-d HowTo states this as a VT-d rule).',
    );
  }
}

/** Conventional PCI behind a PCIe-to-PCI bridge: all of it to the same domain (refused), or a note when there is no tree. */
function refuseConventionalSplits(c: Ctx): void {
  const { splits, untreed } = conventionalSplits(c);
  for (const f of untreed) {
    note(c, `${f.bdf} is not in a bus tree, so the VT-d rule for conventional PCI behind a PCIe-to-PCI bridge could not be checked; merge an lspci -tv capture.`);
  }
  for (const { f, bridge, missing } of splits) {
    for (const m of missing) {
      refuse(
        c,
        'conventional-split',
        `${m} is a conventional PCI device behind the PCIe-to-PCI bridge ${bridge}, like ${f.bdf}, and VT-d requires all of them in the same domain; assign ${m} to this guest too.`,
        m,
      );
    }
  }
}

/** pciback.hide: each assigned device hidden from dom0 (when the list is given); the dom0 and guest lines as a note. */
function checkXenHidden(c: Ctx): void {
  if (c.opts.hidden) {
    const hidden = bdfSet(c.opts.hidden, 'hidden');
    for (const f of c.assigned) {
      if (!hidden.has(f.bdf)) {
        refuse(c, 'not-hidden', `${f.bdf} is not hidden from dom0; add (${shortBdf(f)}) to pciback.hide= on the dom0 kernel line and reboot.`, f.bdf);
      }
    }
  }
  if (c.assigned.length > 0) {
    note(c, `dom0 kernel line: pciback.hide=${c.assigned.map((f) => `(${shortBdf(f)})`).join('')}; guest config: pci = [ ${c.assigned.map((f) => `'${shortBdf(f)}'`).join(', ')} ].`);
  }
}

/** Virtual slots: hot-plug has 2 (6–7), counted per function; a static slot is one of 0–31. */
function checkXenSlots(c: Ctx): void {
  const vslots = guestAddresses(c);
  if (c.opts.hotplug) {
    const max = XEN_HOTPLUG_SLOTS.length;
    c.assigned.forEach((f, i) => {
      if (i >= max) {
        refuse(
          c,
          'hotplug-slots',
          `${f.bdf} would be hot-plug device number ${i + 1} but an HVM guest reserves only 2 virtual slots (6 and 7) for VT-d hot-plug; assign it statically with pci = [...] instead.`,
          f.bdf,
        );
      }
    });
    for (const [d, a] of vslots) {
      const slot = parseNumber(a.text, a.key, 10, 'Xen virtual slot');
      if (!XEN_HOTPLUG_SLOTS.includes(slot)) {
        refuse(c, 'hotplug-slot-range', `virtual slot ${slot} for ${d[0].bdf} is not one of the hot-plug slots 6 and 7; use xm pci-attach <domain> ${shortBdf(d[0])} 6 (or 7).`, d[0].bdf);
      }
    }
  } else {
    for (const [d, a] of vslots) {
      const slot = parseNumber(a.text, a.key, 10, 'Xen virtual slot');
      if (slot > 31) refuse(c, 'guest-slot-range', `virtual slot ${slot} for ${d[0].bdf} is past the 32 slots of the guest bus; pick a slot from 0 to 31.`, d[0].bdf);
    }
  }
}

/** MSI needs msi=1 on the host: refused for a device without INTx, a note for one that can fall back to INTx. */
function checkXenMsi(c: Ctx): void {
  for (const f of c.assigned) {
    const msi = trait(c, f, 'msi');
    const intx = trait(c, f, 'intx');
    if (!c.opts.xenMsi && intx === false) {
      refuse(c, 'msi-disabled', `${describe(f)} has no INTx pin and can only use MSI/MSI-X, which Xen enables for assigned devices only with msi=1; add msi=1 to the host kernel line.`, f.bdf);
    } else if (!c.opts.xenMsi && msi !== false) {
      note(c, `${f.bdf} falls back to INTx unless the host boots with msi=1 (Enable MSI/MSI-X for assigned devices).`);
    }
  }
}

/** Live migration works only with hot-plugged VT-d devices (detach, migrate, re-attach). */
function checkXenMigration(c: Ctx): void {
  if (!c.opts.liveMigration) return;
  for (const f of c.assigned) {
    if (!c.opts.hotplug) {
      refuse(
        c,
        'migration',
        `${f.bdf} breaks live migration because a physical device cannot be saved/restored; attach it with hot-plug (xm pci-attach) so it can be detached before migrating and re-attached on the target.`,
        f.bdf,
      );
    }
  }
  if (c.opts.hotplug) note(c, 'live migration: hot-remove every VT-d device before migrating and hot-add devices on the target afterwards.');
}

function checkXen(c: Ctx): void {
  refuseConventionalSplits(c);
  checkXenHidden(c);
  checkXenSlots(c);
  checkXenMsi(c);
  checkXenMigration(c);
}

// ---------------------------------------------------------------------------------------------
// VirtualBox (seed: VirtualBox manual, changeset 36647, "PCI passthrough")
// ---------------------------------------------------------------------------------------------

function checkVirtualBox(c: Ctx): void {
  for (const f of c.assigned) {
    const msi = trait(c, f, 'msi');
    if (msi === false) {
      refuse(
        c,
        'intx-only',
        `${describe(f)} has no MSI/MSI-X capability and would need a shared legacy interrupt, but VirtualBox passthrough supports only cards with non-shared interrupts (such as MSI); pick a device with MSI.`,
        f.bdf,
      );
    } else if (msi === undefined) {
      note(c, `${f.bdf}: VirtualBox needs a non-shared interrupt (MSI); the capture does not show MSI capabilities (lspci -v does).`);
    }
    if (c.opts.saveRestore) {
      refuse(c, 'save-restore', `a guest with ${f.bdf} attached cannot be saved and restored reliably because the card's internal state cannot be read back; shut the guest down instead of saving it, or detach the device.`, f.bdf);
    }
    if (c.opts.liveMigration) {
      refuse(c, 'teleport', `a guest with ${f.bdf} attached cannot be teleported (live migration) because the card's state cannot be moved; detach it (--detachpci ${shortBdf(f)}) before teleporting.`, f.bdf);
    }
  }
  const addrs = guestAddresses(c);
  const taken = new Map<string, string>();
  for (const [d, a] of addrs) {
    const g = parseBdf(a.text, a.key);
    if (g.domain !== 0) {
      throw inputError(a.key, `guest address "${a.text}" has a PCI domain`, 'write the guest address as bus:device.function, e.g. 01:05.0');
    }
    for (const f of d) {
      const key = `${g.bus}:${g.dev}.${d.length > 1 ? f.fn : g.fn}`;
      if (taken.has(key)) {
        refuse(c, 'guest-slot-taken', `guest address ${a.text} for ${f.bdf} is already given to ${taken.get(key)}; give each device its own guest device number.`, f.bdf);
      } else taken.set(key, f.bdf);
    }
  }
  const cmds = c.assigned.map((f) => {
    const d = [...addrs.entries()].find(([k]) => k.includes(f));
    let guest = '';
    if (d) {
      const g = parseBdf(d[1].text, d[1].key);
      guest = `@${g.bus.toString(16).padStart(2, '0')}:${g.dev.toString(16).padStart(2, '0')}.${d[0].length > 1 ? f.fn : g.fn}`;
    }
    return `--attachpci ${shortBdf(f)}${guest}`;
  });
  conventionalNote(c);
  if (cmds.length > 0) note(c, `VBoxManage modifyvm "VM name" ${cmds.join(' ')} (Linux host ≥ 2.6.31, VirtualBox ≥ 4.1, experimental).`);
  if (c.assigned.length > 0) note(c, 'with a PCI device attached the host preallocates all guest RAM at start (no lazy allocation).');
  if (c.opts.hotplug) note(c, 'VirtualBox attaches host PCI devices through the VM settings (modifyvm); the manual describes no hot-plug.');
}

// ---------------------------------------------------------------------------------------------
// bhyve (seed: freebsd-virtualization answer on bhyve PCI passthru, 2011)
// ---------------------------------------------------------------------------------------------

function checkBhyve(c: Ctx): void {
  if (c.opts.nestedPaging === false) {
    for (const f of c.assigned) {
      refuse(c, 'nested-paging', `${f.bdf} cannot be passed through because bhyve passthru needs nested page tables (EPT/RVI) and this CPU has none; use a host with nested paging.`, f.bdf);
    }
  }
  for (const f of c.assigned) {
    if (f.domain !== 0) {
      refuse(c, 'bhyve-domain', `${f.bdf} is in PCI domain ${f.domain.toString(16)}, which the pptdevs bus/slot/function syntax cannot name; use a device in domain 0000.`, f.bdf);
    }
  }
  if (c.opts.hidden) {
    const ppt = bdfSet(c.opts.hidden, 'pptdevs');
    for (const f of c.assigned) {
      if (!ppt.has(f.bdf)) {
        refuse(c, 'not-in-pptdevs', `${f.bdf} is not in pptdevs, so the host driver claims it; add ${bhyveBdf(f)} to pptdevs= in /boot/loader.conf and reboot.`, f.bdf);
      }
    }
  }
  conventionalNote(c);
  const addrs = guestAddresses(c);
  const taken = new Map<string, string>();
  const slotOf = new Map<PciFunction, string>();
  for (const [d, a] of addrs) {
    const m = /^(?:(\d{1,3}):)?(\d{1,2})(?::(\d))?$/.exec(a.text.trim());
    if (!m) throw inputError(a.key, `"${a.text}" is not a bhyve slot`, 'write slot or slot:function in decimal, as in -s 1,passthru,3/0/0');
    const slot = Number(m[2]);
    const fn = m[3] !== undefined ? Number(m[3]) : 0;
    if (slot > 31 || fn > 7) {
      refuse(c, 'guest-slot-range', `guest slot ${a.text} for ${d[0].bdf} is outside slots 0-31 / functions 0-7; pick another -s slot.`, d[0].bdf);
      continue;
    }
    const key = `${m[1] ?? 0}:${slot}`;
    if (taken.has(key)) {
      refuse(c, 'guest-slot-taken', `guest slot ${slot} for ${d[0].bdf} is already given to ${taken.get(key)}; give each device its own -s slot.`, d[0].bdf);
    } else taken.set(key, d[0].bdf);
    for (const f of d) slotOf.set(f, d.length > 1 ? `${slot}:${f.fn}` : a.text.trim());
  }
  if (c.assigned.length > 0) {
    note(c, `/boot/loader.conf: pptdevs="${c.assigned.map(bhyveBdf).join(' ')}"; bhyve: ${c.assigned.map((f) => `-s ${slotOf.get(f) ?? '<slot>'},passthru,${bhyveBdf(f)}`).join(' ')}.`);
    note(c, 'bhyve intercepts config-space accesses to the BARs and the MSI capability; MMIO goes straight through nested paging and DMA through the IOMMU without exits.');
  }
  for (const f of c.assigned) {
    const io = trait(c, f, 'ioPortBars');
    if (io === true) note(c, `${f.bdf} has I/O-port BARs: bhyve traps every I/O-port access (an exit per access, served with the IODEV_PIO ioctl).`);
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Check whether `assign` (host addresses, any spelling parseBdf accepts) can be passed through to
 * one guest of `hypervisor`. `viable` is true when there are no reasons.
 */
export function checkAssignment(topo: PciTopology, assign: string[], hypervisor: Hypervisor, opts: CheckOptions = {}): CheckResult {
  if (!HYPERVISORS.includes(hypervisor)) {
    throw inputError('hypervisor', `unknown hypervisor "${String(hypervisor)}"`, `use one of ${HYPERVISORS.join(', ')}`);
  }
  const c: Ctx = {
    topo, hv: hypervisor, opts, reasons: [], notes: [], assigned: [], assignedSet: new Set(), iommu: true, traits: new Map(),
  };
  for (const [k, v] of Object.entries(opts.traits ?? {})) c.traits.set(parseBdf(k, `traits["${k}"]`).bdf, v);
  const byBdf = new Map(topo.functions.map((f) => [f.bdf, f] as const));
  assign.forEach((text, i) => {
    const b = parseBdf(text, `assign[${i}]`);
    if (c.assignedSet.has(b.bdf)) {
      refuse(c, 'duplicate', `${b.bdf} is listed more than once; list each function once.`, b.bdf);
      return;
    }
    c.assignedSet.add(b.bdf);
    const f = byBdf.get(b.bdf);
    if (!f) {
      refuse(c, 'unknown-device', `${b.bdf} is not in the lspci capture${topo.source ? ` (${topo.source})` : ''}; check the address or capture lspci on the host that has it.`, b.bdf);
      return;
    }
    c.assigned.push(f);
  });
  if (assign.length === 0) note(c, 'nothing to assign.');

  if (opts.iommu !== undefined) c.iommu = opts.iommu;
  else if (topo.iommuPresent === false) c.iommu = false;
  else if (topo.iommuPresent === null) {
    c.iommu = true;
    if (c.assigned.length > 0) note(c, 'the capture does not show whether the host has an IOMMU; assumed present (capture the IOMMU-groups listing, or set iommu).');
  }
  const assumedBm = c.assigned.filter((f) => trait(c, f, 'busMaster') === undefined).map((f) => f.bdf);
  if (!c.iommu && assumedBm.length > 0) note(c, `assumed to do DMA (bus mastering) since nothing says otherwise: ${assumedBm.join(', ')}.`);

  checkCommon(c);
  // what is refused outright (bridges) takes no part in the hypervisor's own rules
  c.assigned = c.assigned.filter((f) => !f.isBridge && f.classCode !== 0x0600);
  switch (hypervisor) {
    case 'kvm':
      checkKvm(c);
      break;
    case 'xen':
      checkXen(c);
      break;
    case 'virtualbox':
      checkVirtualBox(c);
      break;
    case 'bhyve':
      checkBhyve(c);
      break;
  }
  return { viable: c.reasons.length === 0, reasons: c.reasons, notes: c.notes };
}
