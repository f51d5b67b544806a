/**
 * PCI topology from `lspci` text: the flat layouts (`lspci`, `-n`, `-nn`, `-D`, with `-k`/`-v`/`-vv`
 * sub-lines), the machine layouts (`-mm`, `-vmm`), the bus tree (`-t`, `-tv`, `-tvnn`) and the
 * IOMMU-groups shell loop. One entry point, `parseLspci`, recognises the layout from the first
 * significant line. Grammar and sources: README.md next to this file, lspci(8) of pciutils, and the
 * IOMMU-groups loop of the Arch Wiki page "PCI passthrough via OVMF".
 *
 * Every malformed line is an InputError naming `file:line` and what to do about it.
 */
import { inputError } from '../util/errors.js';

/** PCI Express device/port type as lspci -vv prints it in the `Express` capability line. */
export type PcieType =
  | 'endpoint'
  | 'legacy-endpoint'
  | 'root-port'
  | 'upstream-port'
  | 'downstream-port'
  | 'pcie-to-pci-bridge'
  | 'pci-to-pcie-bridge'
  | 'rc-endpoint'
  | 'rc-event-collector';

/** A PCI function: its address (Bdf) and what the capture says of it. */
export interface PciFunction extends Bdf {
  /** 16-bit class (`0x0300`), from `[cccc]`, `-n`, or the class name when it is unambiguous. */
  classCode: number | null;
  className: string;
  vendorId: number | null;
  deviceId: number | null;
  /** Vendor and device name as lspci printed them ('' with `-n` or a plain `-t`). */
  name: string;
  rev: number | null;
  /** A PCI-to-PCI (type 1) or CardBus (type 2) bridge: it has a secondary bus. */
  isBridge: boolean;
  /** A bridge whose secondary side is conventional PCI/PCI-X (PCIe-to-PCI bridge, or a legacy PCI bridge). */
  isPcieToPciBridge: boolean;
  /** [secondary, subordinate] bus numbers of a bridge, when the layout shows them. */
  secondaryBus?: [number, number];
  // ---- only when the capture has -k / -v / -vv sub-lines (absent = unknown) ----
  progIf?: number;
  /** `Kernel driver in use:` (-k). */
  driver?: string;
  pcieType?: PcieType;
  /** ACS extended capability present (-vv as root); false only when extended capabilities were listed without it. */
  acs?: boolean;
  /** MSI or MSI-X capability present; false when capabilities were listed without either. */
  msiCapable?: boolean;
  /** Has a legacy INTx pin (-vv `Interrupt: pin A`); false when -vv shows none. */
  intx?: boolean;
  /** Bus mastering seen enabled (`Flags: bus master` / `BusMaster+`). Never false: off now does not mean off in a guest. */
  busMaster?: boolean;
  /** Has an I/O-port BAR (`Region n: I/O ports at …`); false when regions were listed without one. */
  ioPortBars?: boolean;
}

export interface PciTopology {
  functions: PciFunction[];
  /** bdf → upstream bridge bdf; null when the function sits on a root bus; key absent when unknown. */
  parentOf: Record<string, string | null>;
  /** bdf → IOMMU group; null when the capture does not say. */
  groups: Record<string, number> | null;
  /** false: the capture shows there is no IOMMU; null: it does not say. */
  iommuPresent: boolean | null;
  /** Name of the file(s) this came from, for messages. */
  source?: string;
}

export interface IommuGroupsResult {
  groups: Record<string, number>;
  iommuPresent: boolean;
  functions: PciFunction[];
}

export type LspciLayout = 'flat' | 'machine' | 'machine-verbose' | 'tree' | 'iommu-groups';

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

export interface Bdf {
  domain: number;
  bus: number;
  dev: number;
  fn: number;
  /** Canonical `0000:01:00.0`. */
  bdf: string;
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

export function formatBdf(domain: number, bus: number, dev: number, fn: number): string {
  return `${hex(domain, 4)}:${hex(bus, 2)}:${hex(dev, 2)}.${fn}`;
}

/** `01:00.0` in domain 0, the full form otherwise (Xen `pci = [...]`, `pciback.hide`, VirtualBox). */
export function shortBdf(b: Bdf): string {
  return b.domain === 0 ? `${hex(b.bus, 2)}:${hex(b.dev, 2)}.${b.fn}` : b.bdf;
}

/** bhyve `pptdevs` / `-s n,passthru,b/s/f` form: decimal bus/slot/function. */
export function bhyveBdf(b: Bdf): string {
  return `${b.bus}/${b.dev}/${b.fn}`;
}

const ADDRESS_FORMS =
  'write domain:bus:device.function (0000:01:00.0), bus:device.function (01:00.0), ' +
  'bhyve bus/slot/function in decimal (1/0/0), Xen domain:bus:dev.fn (0:2:0.0) ' +
  'or a libvirt node-device name (pci_0000_01_00_0)';

function checkRanges(text: string, where: string, bus: number, dev: number, fn: number): void {
  if (bus > 0xff) throw inputError(where, `bus ${bus} in "${text}" is out of range 0-255`, ADDRESS_FORMS);
  if (dev > 0x1f) throw inputError(where, `device ${dev} in "${text}" is out of range 0-31 (0x00-0x1f)`, ADDRESS_FORMS);
  if (fn > 7) throw inputError(where, `function ${fn} in "${text}" is out of range 0-7`, ADDRESS_FORMS);
}

/**
 * Parse one PCI address in any of the spellings the seeds use:
 * `0000:01:00.0`, `01:00.0`, bhyve `1/0/0` (decimal), Xen `0:2:0.0` (domain:bus:dev.fn, short hex),
 * libvirt `pci_0000_01_00_0`, a shell-escaped `0000\:00\:1d.7`, or a sysfs path ending in an address.
 */
export function parseBdf(text: string, where: string): Bdf {
  const raw = String(text);
  let t = raw.trim().replace(/\\/g, '');
  if (t === '') throw inputError(where, 'empty PCI address', ADDRESS_FORMS);
  const bhyve = /^(\d{1,3})\/(\d{1,2})\/(\d{1,2})$/.exec(t);
  if (bhyve) {
    const bus = Number(bhyve[1]), dev = Number(bhyve[2]), fn = Number(bhyve[3]);
    checkRanges(raw, where, bus, dev, fn);
    return { domain: 0, bus, dev, fn, bdf: formatBdf(0, bus, dev, fn) };
  }
  if (t.includes('/')) t = t.slice(t.lastIndexOf('/') + 1);
  const oldNodedev = /^pci_([0-9a-f]{4})_([0-9a-f]{4})$/i.exec(t);
  if (oldNodedev) {
    throw inputError(
      where,
      `"${raw}" is an old libvirt node-device name built from vendor:device ${oldNodedev[1]}:${oldNodedev[2]}, not an address`,
      'read domain, bus, slot and function from `virsh nodedev-dumpxml` and write 0000:bb:ss.f',
    );
  }
  const nodedev = /^pci_([0-9a-f]{4,8})_([0-9a-f]{2})_([0-9a-f]{2})_([0-7])$/i.exec(t);
  if (nodedev) {
    const domain = parseInt(nodedev[1], 16), bus = parseInt(nodedev[2], 16);
    const dev = parseInt(nodedev[3], 16), fn = Number(nodedev[4]);
    checkRanges(raw, where, bus, dev, fn);
    return { domain, bus, dev, fn, bdf: formatBdf(domain, bus, dev, fn) };
  }
  const m = /^(?:([0-9a-f]{1,8}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-9a-f])$/i.exec(t);
  if (!m) {
    if (/^(?:[0-9a-f]{1,8}:)?[0-9a-f]{1,2}:[0-9a-f]{1,2}$/i.test(t)) {
      throw inputError(where, `"${raw}" has no function number`, `append .0 (or the function you mean), e.g. ${t}.0`);
    }
    throw inputError(where, `"${raw}" is not a PCI address`, ADDRESS_FORMS);
  }
  const domain = m[1] === undefined ? 0 : parseInt(m[1], 16);
  const bus = parseInt(m[2], 16), dev = parseInt(m[3], 16), fn = parseInt(m[4], 16);
  checkRanges(raw, where, bus, dev, fn);
  return { domain, bus, dev, fn, bdf: formatBdf(domain, bus, dev, fn) };
}

/** Canonical bdfs of a list of addresses in any spelling parseBdf accepts; a bad one is an InputError at `label[i]`. */
export function bdfSet(list: string[], label: string): Set<string> {
  return new Set(list.map((s, i) => parseBdf(s, `${label}[${i}]`).bdf));
}

// ---------------------------------------------------------------------------------------------
// Class names and bridge recognition
// ---------------------------------------------------------------------------------------------

/** Class names as pciutils' pci.ids spells them (lower-cased), for plain `lspci` without `[cccc]`. */
const CLASS_BY_NAME: Record<string, number> = {
  'non-vga unclassified device': 0x0000,
  'vga compatible unclassified device': 0x0001,
  'scsi storage controller': 0x0100,
  'ide interface': 0x0101,
  'raid bus controller': 0x0104,
  'sata controller': 0x0106,
  'serial attached scsi controller': 0x0107,
  'non-volatile memory controller': 0x0108,
  'ethernet controller': 0x0200,
  'network controller': 0x0280,
  'vga compatible controller': 0x0300,
  '3d controller': 0x0302,
  'display controller': 0x0380,
  'multimedia video controller': 0x0400,
  'multimedia audio controller': 0x0401,
  'audio device': 0x0403,
  'multimedia controller': 0x0480,
  'ram memory': 0x0500,
  'memory controller': 0x0580,
  'host bridge': 0x0600,
  'isa bridge': 0x0601,
  'pci bridge': 0x0604,
  'cardbus bridge': 0x0607,
  'bridge': 0x0680,
  'serial controller': 0x0700,
  'communication controller': 0x0780,
  'pic': 0x0800,
  'iommu': 0x0806,
  'system peripheral': 0x0880,
  'usb controller': 0x0c03,
  'fibre channel': 0x0c04,
  'smbus': 0x0c05,
  'signal processing controller': 0x1180,
  'processing accelerators': 0x1200,
  'encryption controller': 0x1080,
  'unassigned class': 0xff00,
};

/** Bridges with a PCI-to-PCI (type 1) or CardBus (type 2) header: 0604, 0607, 0609 (semi-transparent). */
export function isBridgeClass(classCode: number | null): boolean {
  return classCode === 0x0604 || classCode === 0x0607 || classCode === 0x0609;
}

/** Vendor:device IDs of bridges whose secondary bus is conventional PCI (their names do not always say so). */
const CONVENTIONAL_BRIDGE_IDS = new Set([
  '1b21:1080', // ASMedia ASM1083/1085 PCIe to PCI Bridge
  '104c:8240', // Texas Instruments XIO2001 PCI Express-to-PCI Bridge
  '10b5:8112', // PLX PEX8112 x1 Lane PCI Express-to-PCI Bridge
  '12d8:e111', // Pericom PI7C9X111SL PCIe-to-PCI Reversible Bridge
  '1a03:1150', // ASPEED AST1150 PCI-to-PCI Bridge (PCIe upstream, PCI downstream to the BMC VGA)
  '8086:244e', // Intel 82801 PCI Bridge (hub/DMI-to-PCI, subtractive decode)
  '8086:2448', // Intel 82801 Mobile PCI Bridge
]);
const PCIE_TO_PCI_NAME = /PCI[- ]?(?:e|Express)\s*-?\s*to\s*-?\s*PCI(?!\s*-?\s*(?:e\b|Express))/i;
const INTEL_HUB_PCI_NAME = /\b82801\w*\s+(?:Mobile\s+)?PCI Bridge\b/i;

function looksConventionalBridge(f: PciFunction): boolean {
  if (f.pcieType === 'pcie-to-pci-bridge') return true;
  if (f.vendorId !== null && f.deviceId !== null && CONVENTIONAL_BRIDGE_IDS.has(`${hex(f.vendorId, 4)}:${hex(f.deviceId, 4)}`)) {
    return true;
  }
  return PCIE_TO_PCI_NAME.test(f.name) || INTEL_HUB_PCI_NAME.test(f.name);
}

// ---------------------------------------------------------------------------------------------
// Lines
// ---------------------------------------------------------------------------------------------

interface Line {
  text: string;
  no: number;
}

function shown(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > 70 ? `${t.slice(0, 67)}...` : t);
}

function at(file: string, line: number): string {
  return `${file}:${line}`;
}

const isElision = (t: string): boolean => /^(?:\.\.\.|…)$/.test(t.trim());

/**
 * A message of lspci or libpci itself, pasted with the listing when stderr went to the same place
 * (`lspci -nn 2>&1`): `lspci: Unable to load libkmod resources: error -2`, `pcilib: sysfs_read_vpd:
 * read failed: …`. Such lines are skipped (a note names them); no listing line starts this way.
 */
const TOOL_MESSAGE = /^\s*(?:lspci|pcilib|setpci)(?:\.exe)?: /;

/** lspci's and libpci's own messages in a paste: line number and text, for a note. */
export function lspciToolMessages(text: string): Array<{ text: string; no: number }> {
  return text.replace(/^\uFEFF/, '').split(/\r?\n/).map((t, i) => ({ text: t.trim(), no: i + 1 })).filter((l) => TOOL_MESSAGE.test(l.text));
}

/** One line saying which tool messages were skipped, or null when there were none. */
export function toolMessagesNote(text: string, fileName: string): string | null {
  const m = lspciToolMessages(text);
  if (m.length === 0) return null;
  return `${fileName}: skipped ${m.length} line(s) of lspci's own messages (line ${m[0]!.no}: ${shown(m[0]!.text)}${m.length > 1 ? ', …' : ''}); they are not part of the listing`;
}

/**
 * Split, drop lspci's own messages (kept as blank lines, so line numbers stay those of the file),
 * drop the common leading whitespace (text copied from a document is often indented).
 */
function toLines(text: string): Line[] {
  const raw = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const lines = raw.map((t, i) => ({ text: TOOL_MESSAGE.test(t) ? '' : t.replace(/\s+$/, ''), no: i + 1 }));
  let prefix: string | null = null;
  for (const l of lines) {
    if (l.text.trim() === '' || isElision(l.text)) continue;
    const lead = /^[ \t]*/.exec(l.text)![0];
    if (prefix === null) prefix = lead;
    else {
      let k = 0;
      while (k < prefix.length && k < lead.length && prefix[k] === lead[k]) k++;
      prefix = prefix.slice(0, k);
    }
    if (prefix === '') break;
  }
  if (prefix) {
    const p = prefix;
    for (const l of lines) if (l.text.startsWith(p)) l.text = l.text.slice(p.length);
  }
  return lines;
}

const SLOT = /^(?:([0-9a-fA-F]{4,8}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])(?=\s|$)/;

function slotOf(m: RegExpExecArray): Bdf {
  const domain = m[1] === undefined ? 0 : parseInt(m[1], 16);
  const bus = parseInt(m[2], 16), dev = parseInt(m[3], 16), fn = Number(m[4]);
  return { domain, bus, dev, fn, bdf: formatBdf(domain, bus, dev, fn) };
}

function blank(b: Bdf): PciFunction {
  return {
    domain: b.domain, bus: b.bus, dev: b.dev, fn: b.fn, bdf: b.bdf,
    classCode: null, className: '', vendorId: null, deviceId: null, name: '', rev: null,
    isBridge: false, isPcieToPciBridge: false,
  };
}

/** Classify the layout from the first significant line; null when nothing fits. */
export function detectLayout(text: string): LspciLayout | null {
  for (const l of toLines(text)) {
    const t = l.text;
    if (t.trim() === '' || isElision(t)) continue;
    if (/^IOMMU [Gg]roup\b/.test(t.trim())) return 'iommu-groups';
    if (/^Slot:\s/.test(t)) return 'machine-verbose';
    if (/^[ ]*(?:-|\+-|\\-|\|)/.test(t)) return 'tree';
    const m = SLOT.exec(t);
    if (m) return /^\s+"/.test(t.slice(m[0].length)) ? 'machine' : 'flat';
    return null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Flat layouts: lspci, -n, -nn, -D, -k, -v, -vv
// ---------------------------------------------------------------------------------------------

const FLAT_FORMS =
  'expected "BB:DD.F class: vendor device" as printed by lspci, lspci -nn, lspci -n or lspci -D ' +
  '(sub-lines of -k/-v indented under their device)';

/** One device line of `lspci [-n|-nn] [-D]`; the slot has already matched. */
function parseDeviceLine(line: Line, file: string): PciFunction {
  const m = SLOT.exec(line.text.trim());
  if (!m) throw inputError(at(file, line.no), `${shown(line.text)} does not start with a PCI address`, FLAT_FORMS);
  const f = blank(slotOf(m));
  const rest = line.text.trim().slice(m[0].length).trim();
  let tail: string;
  const numeric = /^([0-9a-fA-F]{4}): ([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(.*)$/.exec(rest);
  if (numeric) {
    f.classCode = parseInt(numeric[1], 16);
    f.vendorId = parseInt(numeric[2], 16);
    f.deviceId = parseInt(numeric[3], 16);
    tail = numeric[4];
  } else {
    const colon = rest.indexOf(': ');
    if (colon <= 0) {
      throw inputError(at(file, line.no), `${shown(line.text)} has no "class: " part after the address`, FLAT_FORMS);
    }
    const cls = /^(.*?)(?:\s*\[([0-9a-fA-F]{4})\])?$/.exec(rest.slice(0, colon))!;
    f.className = cls[1].trim();
    f.classCode = cls[2] !== undefined ? parseInt(cls[2], 16) : (CLASS_BY_NAME[f.className.toLowerCase()] ?? null);
    tail = rest.slice(colon + 2);
  }
  const progIf = /\s*\(prog-if ([0-9a-fA-F]{2})(?: \[[^\]]*\])?\)\s*$/.exec(tail);
  if (progIf) {
    f.progIf = parseInt(progIf[1], 16);
    tail = tail.slice(0, progIf.index);
  }
  const rev = /\s*\(rev ([0-9a-fA-F]{2})\)\s*$/.exec(tail);
  if (rev) {
    f.rev = parseInt(rev[1], 16);
    tail = tail.slice(0, rev.index);
  }
  if (!numeric) {
    const ids = /\s*\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]\s*$/.exec(tail);
    if (ids) {
      f.vendorId = parseInt(ids[1], 16);
      f.deviceId = parseInt(ids[2], 16);
      tail = tail.slice(0, ids.index);
    }
    f.name = tail.trim();
  } else if (tail.trim() !== '') {
    throw inputError(at(file, line.no), `unexpected ${shown(tail)} after the numeric IDs`, FLAT_FORMS);
  }
  f.isBridge = isBridgeClass(f.classCode);
  return f;
}

/** What the -v/-vv sub-lines of one device showed. */
interface VerboseState {
  f: PciFunction;
  line: number;
  caps: boolean;
  capsDenied: boolean;
  extCaps: boolean;
  msi: boolean;
  regions: boolean;
  io: boolean;
  vv: boolean;
  group: number | null;
}

const EXPRESS_TYPES: Array<[string, PcieType]> = [
  ['Root Complex Integrated Endpoint', 'rc-endpoint'],
  ['Root Complex Event Collector', 'rc-event-collector'],
  ['Legacy Endpoint', 'legacy-endpoint'],
  ['Endpoint', 'endpoint'],
  ['Root Port', 'root-port'],
  ['Upstream Port', 'upstream-port'],
  ['Downstream Port', 'downstream-port'],
  ['PCI-Express to PCI/PCI-X Bridge', 'pcie-to-pci-bridge'],
  ['PCI/PCI-X to PCI-Express Bridge', 'pci-to-pcie-bridge'],
];

function applySubLine(s: VerboseState, text: string): void {
  const t = text.trim();
  const f = s.f;
  let m: RegExpExecArray | null;
  if ((m = /^Kernel driver in use:\s*(\S+)/.exec(t))) f.driver = m[1];
  else if ((m = /^Bus: primary=([0-9a-f]{2}), secondary=([0-9a-f]{2}), subordinate=([0-9a-f]{2})/i.exec(t))) {
    f.secondaryBus = [parseInt(m[2], 16), parseInt(m[3], 16)];
    f.isBridge = true;
  } else if (/^Flags:.*\bbus master\b/.test(t)) f.busMaster = true;
  else if (/^Control:/.test(t)) {
    s.vv = true;
    if (/\bBusMaster\+/.test(t)) f.busMaster = true;
  } else if ((m = /^Interrupt: pin ([A-D])\b/.exec(t))) f.intx = true;
  else if ((m = /^IOMMU group:\s*(\d+)/.exec(t))) s.group = Number(m[1]);
  else if (/^Capabilities: <access denied>/.test(t)) s.capsDenied = true;
  else if ((m = /^Capabilities: \[([0-9a-f]+)(?: v\d+)?\]\s*(.*)$/i.exec(t))) {
    s.caps = true;
    if (parseInt(m[1], 16) >= 0x100) s.extCaps = true;
    const body = m[2];
    if (/^MSI(?:-X)?:/.test(body)) s.msi = true;
    else if (/^Access Control Services/.test(body)) f.acs = true;
    else if (/^Express\b/.test(body)) {
      const kind = body.replace(/^Express\s*(?:\(v\d+\)\s*)?/, '');
      const hit = EXPRESS_TYPES.find(([label]) => kind.startsWith(label));
      if (hit) {
        f.pcieType = hit[1];
        if (hit[1] === 'pcie-to-pci-bridge') {
          f.isPcieToPciBridge = true;
          f.isBridge = true;
        }
      }
    }
  } else if (/^Region \d+: /.test(t) || /^(?:I\/O ports|Memory) at /.test(t)) {
    s.regions = true;
    if (/\bI\/O ports at\b/.test(t)) s.io = true;
  }
}

function finishVerbose(s: VerboseState): void {
  const f = s.f;
  if (s.caps && !s.capsDenied) f.msiCapable = s.msi;
  if (s.extCaps && f.acs === undefined) f.acs = false;
  if (s.regions) f.ioPortBars = s.io;
  if (s.vv && f.intx === undefined) f.intx = false;
}

interface Parsed {
  functions: PciFunction[];
  lineOf: Map<string, number>;
  groups: Record<string, number> | null;
  iommuPresent: boolean | null;
  parentOf: Record<string, string | null> | null;
}

function parseFlat(lines: Line[], file: string): Parsed {
  const functions: PciFunction[] = [];
  const lineOf = new Map<string, number>();
  let cur: VerboseState | null = null;
  const groups: Record<string, number> = {};
  let anyGroup = false;
  const close = (): void => {
    if (!cur) return;
    finishVerbose(cur);
    if (cur.group !== null) {
      groups[cur.f.bdf] = cur.group;
      anyGroup = true;
    }
    cur = null;
  };
  for (const line of lines) {
    const t = line.text;
    if (t.trim() === '') {
      close();
      continue;
    }
    if (isElision(t)) {
      close();
      continue;
    }
    // an address at the start makes a device line even when indented (sub-lines never start with one)
    if (SLOT.test(t.trim())) {
      close();
      const f = parseDeviceLine(line, file);
      pushUnique(functions, lineOf, f, file, line.no);
      cur = { f, line: line.no, caps: false, capsDenied: false, extCaps: false, msi: false, regions: false, io: false, vv: false, group: null };
      continue;
    }
    if (/^\s/.test(t) && cur) {
      applySubLine(cur, t);
      continue;
    }
    throw inputError(at(file, line.no), `${shown(t)} does not look like lspci output`, FLAT_FORMS);
  }
  close();
  return { functions, lineOf, groups: anyGroup ? groups : null, iommuPresent: anyGroup ? true : null, parentOf: null };
}

function pushUnique(list: PciFunction[], lineOf: Map<string, number>, f: PciFunction, file: string, no: number): void {
  const first = lineOf.get(f.bdf);
  if (first !== undefined) {
    throw inputError(
      at(file, no),
      `${f.bdf} appears a second time (first at line ${first})`,
      'keep one capture of one host per file',
    );
  }
  lineOf.set(f.bdf, no);
  list.push(f);
}

// ---------------------------------------------------------------------------------------------
// Machine layouts: -mm (one line per device), -vmm (records)
// ---------------------------------------------------------------------------------------------

const MM_FORMS =
  'expected lspci -mm [-nn] lines: BB:DD.F "class" "vendor" "device" [-rRR] [-pPP] "subvendor" "subdevice"';

function splitIds(field: string, numericMode: boolean): { name: string; id: number | null } {
  if (numericMode && /^[0-9a-fA-F]{4}$/.test(field)) return { name: '', id: parseInt(field, 16) };
  const m = /^(.*?)\s*\[([0-9a-fA-F]{4})\]$/.exec(field);
  if (m) return { name: m[1], id: parseInt(m[2], 16) };
  return { name: field, id: null };
}

function parseMachine(lines: Line[], file: string): Parsed {
  const functions: PciFunction[] = [];
  const lineOf = new Map<string, number>();
  for (const line of lines) {
    const t = line.text.trim();
    if (t === '' || isElision(t)) continue;
    const m = SLOT.exec(t);
    if (!m) throw inputError(at(file, line.no), `${shown(t)} does not start with a PCI address`, MM_FORMS);
    const f = blank(slotOf(m));
    const quoted: string[] = [];
    const tok = /"((?:[^"\\]|\\.)*)"|-([rp])([0-9a-fA-F]{2})|(\S+)/g;
    let k: RegExpExecArray | null;
    const rest = t.slice(m[0].length);
    while ((k = tok.exec(rest))) {
      if (k[1] !== undefined) quoted.push(k[1].replace(/\\(.)/g, '$1'));
      else if (k[2] === 'r') f.rev = parseInt(k[3], 16);
      else if (k[2] === 'p') f.progIf = parseInt(k[3], 16);
      else throw inputError(at(file, line.no), `unexpected ${shown(k[4] ?? '')} in a -mm line`, MM_FORMS);
    }
    if (quoted.length < 3) {
      throw inputError(at(file, line.no), `a -mm line needs at least class, vendor and device in quotes, found ${quoted.length}`, MM_FORMS);
    }
    const numericMode = /^[0-9a-fA-F]{4}$/.test(quoted[0]);
    const cls = splitIds(quoted[0], numericMode);
    // the class field carries the whole 16-bit class: "Ethernet controller [0200]" or "0200"
    f.className = cls.name;
    f.classCode = cls.id ?? (CLASS_BY_NAME[cls.name.toLowerCase()] ?? null);
    const ven = splitIds(quoted[1], numericMode);
    const dev = splitIds(quoted[2], numericMode);
    f.vendorId = ven.id;
    f.deviceId = dev.id;
    f.name = [ven.name, dev.name].filter((s) => s !== '').join(' ');
    f.isBridge = isBridgeClass(f.classCode);
    pushUnique(functions, lineOf, f, file, line.no);
  }
  return { functions, lineOf, groups: null, iommuPresent: null, parentOf: null };
}

function parseMachineVerbose(lines: Line[], file: string): Parsed {
  const functions: PciFunction[] = [];
  const lineOf = new Map<string, number>();
  const groups: Record<string, number> = {};
  let anyGroup = false;
  let rec: { f: PciFunction; no: number; group: number | null } | null = null;
  const close = (): void => {
    if (!rec) return;
    rec.f.isBridge = isBridgeClass(rec.f.classCode);
    pushUnique(functions, lineOf, rec.f, file, rec.no);
    if (rec.group !== null) {
      groups[rec.f.bdf] = rec.group;
      anyGroup = true;
    }
    rec = null;
  };
  let vendorName = '';
  for (const line of lines) {
    const t = line.text.trim();
    if (t === '') {
      close();
      continue;
    }
    const kv = /^([A-Za-z]+):\s*(.*)$/.exec(t);
    if (!kv) {
      throw inputError(at(file, line.no), `${shown(t)} is not a "Key:<tab>value" line`, 'expected lspci -vmm records separated by blank lines');
    }
    const key = kv[1], value = kv[2].trim();
    if (key === 'Slot') {
      close();
      const m = SLOT.exec(value);
      if (!m) throw inputError(at(file, line.no), `Slot ${shown(value)} is not a PCI address`, 'expected Slot: [DDDD:]BB:DD.F');
      rec = { f: blank(slotOf(m)), no: line.no, group: null };
      vendorName = '';
      continue;
    }
    if (!rec) throw inputError(at(file, line.no), `${key}: comes before any Slot: line`, 'each lspci -vmm record starts with Slot:');
    const r: { f: PciFunction; no: number; group: number | null } = rec;
    const numeric = /^[0-9a-fA-F]{4}$/.test(value);
    switch (key) {
      case 'Class': {
        const c = splitIds(value, numeric);
        r.f.className = c.name;
        r.f.classCode = c.id ?? (CLASS_BY_NAME[c.name.toLowerCase()] ?? null);
        break;
      }
      case 'Vendor': {
        const v = splitIds(value, numeric);
        r.f.vendorId = v.id;
        vendorName = v.name;
        r.f.name = vendorName;
        break;
      }
      case 'Device': {
        const d = splitIds(value, numeric);
        r.f.deviceId = d.id;
        r.f.name = [vendorName, d.name].filter((s) => s !== '').join(' ');
        break;
      }
      case 'Rev':
        r.f.rev = parseInt(value, 16);
        break;
      case 'ProgIf':
        r.f.progIf = parseInt(value, 16);
        break;
      case 'Driver':
        r.f.driver = value;
        break;
      case 'IOMMUGroup':
        if (!/^\d+$/.test(value)) throw inputError(at(file, line.no), `IOMMUGroup ${shown(value)} is not a number`, 'expected IOMMUGroup: <n>');
        r.group = Number(value);
        break;
      default:
        break; // SVendor, SDevice, PhySlot, Module, NUMANode: not needed
    }
  }
  close();
  return { functions, lineOf, groups: anyGroup ? groups : null, iommuPresent: anyGroup ? true : null, parentOf: null };
}

// ---------------------------------------------------------------------------------------------
// Tree: lspci -t / -tv / -tvnn (pciutils ls-tree.c)
// ---------------------------------------------------------------------------------------------

/** Items of a list are root-bus tokens `[dddd:bb]` (under the host, or a bridge with several buses)… */
interface BusListCtx {
  kind: 'buses';
  domain: number | null;
  parent: string | null;
}
/** …or device tokens `dd.f` on one bus. */
interface DeviceListCtx {
  kind: 'devices';
  domain: number;
  bus: number | null;
  parent: string | null;
}
type TreeCtx = BusListCtx | DeviceListCtx;

const TREE_FORMS =
  'expected lspci -t/-tv output: a first line "-[0000:00]-+-00.0 …" or "-+-[0000:00]-+-…" and ' +
  'continuation lines whose "+-" or "\\-" sits under the "+" that opened the list';

/** The top of a tree: its first line lists root buses, with no bridge above them. */
const TREE_HOST: BusListCtx = { kind: 'buses', domain: null, parent: null };

/** One tree parse: what it has found so far, the open lists by column, and the line being read. */
interface TreeState {
  file: string;
  functions: PciFunction[];
  lineOf: Map<string, number>;
  parentOf: Record<string, string | null>;
  /** Column just right of a `+-` that opened a list → that list, for the continuation lines below it. */
  contextAt: Map<number, TreeCtx>;
  no: number;
  text: string;
}

/** A malformed tree: the error names `file:line:column` (column of the 0-based `col`). */
function treeFail(s: TreeState, col: number, what: string): never {
  throw inputError(`${at(s.file, s.no)}:${col + 1}`, what, TREE_FORMS);
}

/** A bus's devices from column r: one child (`--`), or a list opened by `+-` (or `\-` when only its last item is on this line). */
function parseBusDevices(s: TreeState, r: number, ctx: DeviceListCtx): void {
  const text = s.text;
  if (r >= text.length) return; // empty bus
  if (text.startsWith('--', r)) return parseTreeItem(s, r + 2, ctx);
  if (text.startsWith('+-', r)) {
    s.contextAt.set(r + 2, ctx);
    return parseTreeItem(s, r + 2, ctx);
  }
  if (text.startsWith('\\-', r)) return parseTreeItem(s, r + 2, ctx);
  return treeFail(s, r, `unexpected ${shown(text.slice(r))} where a bus's devices ("--", "+-") should start`);
}

/** What a bridge has behind it; r points at the "-" that show_tree_bridge() prints before a bridge's buses. */
function parseBridgeChildren(s: TreeState, r: number, buses: BusListCtx, devices: DeviceListCtx | null): void {
  const text = s.text;
  if (text[r] !== '-') return treeFail(s, r, `expected "-" after a bridge, found ${shown(text.slice(r))}`);
  r++;
  if (r >= text.length) return; // bridge with nothing behind it
  if (text[r] === '[') return parseTreeItem(s, r, buses);
  if ((text.startsWith('+-', r) || text.startsWith('\\-', r)) && text[r + 2] === '[') {
    s.contextAt.set(r + 2, buses);
    return parseTreeItem(s, r + 2, buses);
  }
  if (!devices) return treeFail(s, r, 'devices under a bridge printed without a bus number; lspci could not read its bus range');
  return parseBusDevices(s, r, devices);
}

/** One item of a list at column q: a root bus in a list of buses, a device in a list of devices. */
function parseTreeItem(s: TreeState, q: number, ctx: TreeCtx): void {
  return ctx.kind === 'buses' ? parseRootBus(s, q, ctx) : parseTreeDevice(s, q, ctx);
}

/** A root bus `[dddd:bb]-` at column q (the domain defaults to the list's), then its devices. */
function parseRootBus(s: TreeState, q: number, ctx: BusListCtx): void {
  const m = /^\[(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{2})\]-/.exec(s.text.slice(q));
  if (!m) return treeFail(s, q, `expected a root bus "[dddd:bb]-" here, found ${shown(s.text.slice(q))}`);
  const domain = m[1] !== undefined ? parseInt(m[1], 16) : (ctx.domain ?? 0);
  const bus = parseInt(m[2], 16);
  return parseBusDevices(s, q + m[0].length, { kind: 'devices', domain, bus, parent: ctx.parent });
}

/** A device `dd.f` at column q, recorded below the list's bridge; then what follows it on the line. */
function parseTreeDevice(s: TreeState, q: number, ctx: DeviceListCtx): void {
  const m = /^([0-9a-fA-F]{2})\.([0-7])/.exec(s.text.slice(q));
  if (!m) return treeFail(s, q, `expected a device "dd.f" here, found ${shown(s.text.slice(q))}`);
  if (ctx.bus === null) return treeFail(s, q, 'a device under a bridge whose bus number lspci did not print');
  const dev = parseInt(m[1], 16), fn = Number(m[2]);
  if (dev > 0x1f) return treeFail(s, q, `device ${m[1]} is out of range 00-1f`);
  const f = blank({ domain: ctx.domain, bus: ctx.bus, dev, fn, bdf: formatBdf(ctx.domain, ctx.bus, dev, fn) });
  pushUnique(s.functions, s.lineOf, f, s.file, s.no);
  s.parentOf[f.bdf] = ctx.parent;
  return parseAfterDevice(s, f, q + m[0].length, m[0]);
}

/** After the device token `token` (ending at column r): a bridge's `-[bb]-`/`-[bb-ss]-` and what is behind it, or the device's name. */
function parseAfterDevice(s: TreeState, f: PciFunction, r: number, token: string): void {
  const rest = s.text.slice(r);
  const br = /^-\[(?:([0-9a-fA-F]{4,8}):)?([0-9a-fA-F]{2})(?:-([0-9a-fA-F]{2}))?\]-/.exec(rest);
  if (br) {
    const sec = parseInt(br[2], 16);
    const sub = br[3] !== undefined ? parseInt(br[3], 16) : sec;
    f.isBridge = true;
    f.secondaryBus = [sec, sub];
    return parseBridgeChildren(
      s,
      r + br[0].length,
      { kind: 'buses', domain: f.domain, parent: f.bdf },
      { kind: 'devices', domain: f.domain, bus: sec, parent: f.bdf },
    );
  }
  if (rest.startsWith('-')) {
    // pciutils prints a bridge with secondary bus 0 (not configured) as "dd.f-" then its buses
    f.isBridge = true;
    return parseBridgeChildren(s, r + 1, { kind: 'buses', domain: f.domain, parent: f.bdf }, null);
  }
  if (rest !== '' && !/^\s/.test(rest)) return treeFail(s, r, `unexpected ${shown(rest)} after device ${token}`);
  const named = splitTreeName(rest);
  f.vendorId = named.vendorId;
  f.deviceId = named.deviceId;
  f.name = named.name;
}

/**
 * A non-bridge's text after its `dd.f` in `-tv`/`-tvnn`/`-tn`: the name, and the IDs when it ends in
 * `[vvvv:dddd]` (or is nothing but `vvvv:dddd`, as `-tn` prints it); IDs are null otherwise.
 */
export function splitTreeName(text: string): { name: string; vendorId: number | null; deviceId: number | null } {
  const name = text.trim();
  const ids = /^(.*?)\s*\[?([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]?$/.exec(name);
  if (ids && (ids[1] === '' || /\[[0-9a-fA-F]{4}:[0-9a-fA-F]{4}\]$/.test(name))) {
    return { name: ids[1].trim(), vendorId: parseInt(ids[2], 16), deviceId: parseInt(ids[3], 16) };
  }
  return { name, vendorId: null, deviceId: null };
}

/** A continuation line: its `+-`/`\-` must sit in the column of a list opened above (or start a root bus). */
function parseTreeLine(s: TreeState): void {
  const text = s.text;
  const c = /^[ |]*/.exec(text)![0].length;
  if (!(text[c] === '+' || text[c] === '\\') || text[c + 1] !== '-') {
    treeFail(s, c, `${shown(text)} is not a tree line`);
  }
  let ctx = s.contextAt.get(c + 2);
  if (!ctx && text[c + 2] === '[') ctx = TREE_HOST; // a tree copied from its second root bus on
  if (!ctx) return treeFail(s, c, `"${text[c]}-" in column ${c + 1} does not line up with any open list above it`);
  parseTreeItem(s, c + 2, ctx);
}

/** `lspci -t`/`-tv`/`-tvnn`, line by line: a line starting with `-` opens a tree, the others continue it. */
function parseTree(lines: Line[], file: string): Parsed {
  const s: TreeState = { file, functions: [], lineOf: new Map(), parentOf: {}, contextAt: new Map(), no: 0, text: '' };
  for (const line of lines) {
    s.no = line.no;
    s.text = line.text;
    if (s.text.trim() === '' || isElision(s.text)) continue;
    if (s.text[0] === '-') {
      s.contextAt.clear(); // a new tree (pciutils ≥ 3.8 prints one per PCI domain)
      parseBridgeChildren(s, 0, TREE_HOST, null);
      continue;
    }
    parseTreeLine(s);
  }
  return { functions: s.functions, lineOf: s.lineOf, groups: null, iommuPresent: null, parentOf: s.parentOf };
}

// ---------------------------------------------------------------------------------------------
// IOMMU groups loop (Arch Wiki "PCI passthrough via OVMF" and variants)
// ---------------------------------------------------------------------------------------------

const GROUP_FORMS =
  'expected the IOMMU-groups loop output: "IOMMU Group N:" lines each followed by indented lspci -nns lines ' +
  '(or "IOMMU Group N <lspci line>" on one line)';

function parseGroupsLines(lines: Line[], file: string): Parsed {
  const functions: PciFunction[] = [];
  const lineOf = new Map<string, number>();
  const groups: Record<string, number> = {};
  let current: number | 'none' | null = null;
  let sawHeader = false;
  let sawRealGroup = false;
  let sawNone = false;
  let cur: VerboseState | null = null;
  const close = (): void => {
    if (cur) finishVerbose(cur);
    cur = null;
  };
  const addDevice = (line: Line, text: string): void => {
    close();
    const f = parseDeviceLine({ text, no: line.no }, file);
    pushUnique(functions, lineOf, f, file, line.no);
    if (typeof current === 'number') groups[f.bdf] = current;
    cur = { f, line: line.no, caps: false, capsDenied: false, extCaps: false, msi: false, regions: false, io: false, vv: false, group: null };
  };
  for (const line of lines) {
    const t = line.text.trim();
    if (t === '' || isElision(t)) {
      close();
      continue;
    }
    const h = /^IOMMU [Gg]roup\s+(\S+?)(:?)(?:\s+(.*))?$/.exec(t);
    if (h) {
      close();
      sawHeader = true;
      const id = h[1];
      if (id === '.' || id === '*') {
        // empty glob: `find` searched "." (or the glob stayed literal): there is no IOMMU
        current = 'none';
        sawNone = true;
      } else if (/^\d+$/.test(id)) {
        current = Number(id);
        sawRealGroup = true;
      } else {
        throw inputError(at(file, line.no), `group ${shown(id)} is not a number`, GROUP_FORMS);
      }
      if (h[3] !== undefined && h[3] !== '') {
        if (!SLOT.test(h[3])) throw inputError(at(file, line.no), `${shown(h[3])} after the group number is not an lspci line`, GROUP_FORMS);
        addDevice(line, h[3]);
      }
      continue;
    }
    if (!sawHeader) throw inputError(at(file, line.no), `${shown(t)} comes before any "IOMMU Group" line`, GROUP_FORMS);
    if (SLOT.test(t)) {
      addDevice(line, t);
      continue;
    }
    if (cur && /^\s/.test(line.text)) {
      applySubLine(cur, line.text);
      continue;
    }
    throw inputError(at(file, line.no), `${shown(t)} is neither an "IOMMU Group" line nor an lspci line`, GROUP_FORMS);
  }
  close();
  if (sawNone && sawRealGroup) {
    throw inputError(file, 'the listing has both numbered IOMMU groups and the "IOMMU Group .:" line printed when there is no IOMMU', 'capture the loop again on one host');
  }
  return { functions, lineOf, groups, iommuPresent: sawRealGroup, parentOf: null };
}

/** Parse the IOMMU-groups loop. Empty text or `IOMMU Group .:` means there is no IOMMU. */
export function parseIommuGroups(text: string, fileName: string): IommuGroupsResult {
  const lines = toLines(text);
  const p = parseGroupsLines(lines, fileName);
  const functions = finish(p, fileName).functions;
  return { groups: p.groups ?? {}, iommuPresent: p.iommuPresent === true, functions };
}

// ---------------------------------------------------------------------------------------------
// Assembly
// ---------------------------------------------------------------------------------------------

export function compareFunctions(a: { domain: number; bus: number; dev: number; fn: number }, b: typeof a): number {
  return a.domain - b.domain || a.bus - b.bus || a.dev - b.dev || a.fn - b.fn;
}

function finish(p: Parsed, file: string): PciTopology {
  const functions = [...p.functions].sort(compareFunctions);
  for (const f of functions) {
    if (f.isBridge && !f.isPcieToPciBridge && looksConventionalBridge(f)) f.isPcieToPciBridge = true;
  }
  let parentOf: Record<string, string | null> = p.parentOf ?? {};
  if (!p.parentOf) {
    // -v shows each bridge's secondary bus: a function on that bus sits below that bridge. A
    // function on bus 00 with no such bridge is on a root bus; others stay unknown (the capture may
    // be an excerpt, or the bus another root bus).
    const bridges = functions.filter((f) => f.isBridge && f.secondaryBus);
    if (bridges.length > 0) {
      parentOf = {};
      for (const f of functions) {
        const up = bridges.find((b) => b.domain === f.domain && b.secondaryBus![0] === f.bus && b !== f);
        if (up) parentOf[f.bdf] = up.bdf;
        else if (f.bus === 0) parentOf[f.bdf] = null;
      }
    }
  }
  return { functions, parentOf, groups: p.groups, iommuPresent: p.iommuPresent, source: file };
}

/** The parser of each layout. */
const PARSERS: Record<LspciLayout, (lines: Line[], file: string) => Parsed> = {
  flat: parseFlat,
  machine: parseMachine,
  'machine-verbose': parseMachineVerbose,
  tree: parseTree,
  'iommu-groups': parseGroupsLines,
};

/**
 * Parse any lspci layout (auto-detected): flat (`lspci`, `-n`, `-nn`, `-D`, with `-k`/`-v`/`-vv`
 * sub-lines), machine (`-mm`, `-vmm`), tree (`-t`, `-tv`, `-tvnn`) or the IOMMU-groups loop.
 */
export function parseLspci(text: string, fileName: string): PciTopology {
  const lines = toLines(text);
  const layout = detectLayout(text);
  if (layout === null) {
    const first = lines.find((l) => l.text.trim() !== '' && !isElision(l.text));
    if (!first) {
      throw inputError(fileName, 'no PCI functions in an empty capture', 'capture `lspci -nn`, `lspci -tv` or the IOMMU-groups loop on the host');
    }
    throw inputError(
      at(fileName, first.no),
      `${shown(first.text)} is not lspci output`,
      'expected lspci [-n|-nn|-D|-k|-v], lspci -mm, lspci -vmm, lspci -t[v], or the IOMMU-groups loop',
    );
  }
  return finish(PARSERS[layout](lines, fileName), fileName);
}

// ---------------------------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------------------------

type Mergeable = PciTopology | IommuGroupsResult;

function asTopology(x: Mergeable): PciTopology {
  if ('parentOf' in x) return x;
  return { functions: x.functions, parentOf: {}, groups: x.iommuPresent ? x.groups : null, iommuPresent: x.iommuPresent };
}

/**
 * Combine two captures of the same host (e.g. `lspci -nn` for names and classes, `lspci -tv` for the
 * tree, the IOMMU-groups loop for groups). Known values win over unknown ones; two known values
 * that disagree are an InputError (the captures are of different hosts, or a device moved).
 */
export function mergeTopology(a: PciTopology, b: Mergeable): PciTopology {
  const bt = asTopology(b);
  const an = a.source ?? 'first capture';
  const bn = bt.source ?? 'second capture';
  const both = `${an} and ${bn}`;
  const fix = 'merge captures taken on the same host at the same time';
  const byBdf = new Map<string, PciFunction>();
  for (const f of a.functions) byBdf.set(f.bdf, { ...f });
  for (const g of bt.functions) {
    const f = byBdf.get(g.bdf);
    if (!f) {
      byBdf.set(g.bdf, { ...g });
      continue;
    }
    const same = (what: string, x: number | null, y: number | null): void => {
      if (x !== null && y !== null && x !== y) {
        throw inputError(both, `disagree on the ${what} of ${g.bdf} (${hex(x, 4)} vs ${hex(y, 4)})`, fix);
      }
    };
    same('vendor ID', f.vendorId, g.vendorId);
    same('device ID', f.deviceId, g.deviceId);
    same('class', f.classCode, g.classCode);
    f.classCode ??= g.classCode;
    f.vendorId ??= g.vendorId;
    f.deviceId ??= g.deviceId;
    f.rev ??= g.rev;
    if (f.className === '') f.className = g.className;
    if (f.name === '') f.name = g.name;
    f.isBridge ||= g.isBridge;
    f.isPcieToPciBridge ||= g.isPcieToPciBridge;
    f.secondaryBus ??= g.secondaryBus;
    f.progIf ??= g.progIf;
    f.driver ??= g.driver;
    f.pcieType ??= g.pcieType;
    f.acs ??= g.acs;
    f.msiCapable ??= g.msiCapable;
    f.intx ??= g.intx;
    f.busMaster ??= g.busMaster;
    f.ioPortBars ??= g.ioPortBars;
  }
  const functions = [...byBdf.values()].sort(compareFunctions);
  for (const f of functions) {
    if (f.isBridge && !f.isPcieToPciBridge && looksConventionalBridge(f)) f.isPcieToPciBridge = true;
  }
  const parentOf: Record<string, string | null> = { ...a.parentOf };
  for (const [k, v] of Object.entries(bt.parentOf)) {
    if (k in parentOf && parentOf[k] !== v) {
      throw inputError(both, `disagree on the bridge above ${k} (${parentOf[k] ?? 'root bus'} vs ${v ?? 'root bus'})`, fix);
    }
    parentOf[k] = v;
  }
  let groups: Record<string, number> | null = null;
  if (a.groups || bt.groups) {
    groups = { ...(a.groups ?? {}) };
    for (const [k, v] of Object.entries(bt.groups ?? {})) {
      if (k in groups && groups[k] !== v) {
        throw inputError(both, `disagree on the IOMMU group of ${k} (${groups[k]} vs ${v})`, fix);
      }
      groups[k] = v;
    }
  }
  let iommuPresent: boolean | null = a.iommuPresent ?? bt.iommuPresent;
  if (a.iommuPresent !== null && bt.iommuPresent !== null && a.iommuPresent !== bt.iommuPresent) {
    throw inputError(both, 'disagree on whether the host has an IOMMU (one lists IOMMU groups, the other shows none)', fix);
  }
  if (groups && Object.keys(groups).length > 0) iommuPresent = true;
  return { functions, parentOf, groups, iommuPresent, source: both };
}

// ---------------------------------------------------------------------------------------------
// Tree output (the layout of pciutils ≥ 3.8 `lspci -tv`: one tree per PCI domain)
// ---------------------------------------------------------------------------------------------

/**
 * Render a topology as `lspci -t` (or `-tv` with `verbose`) would print it. Functions whose parent
 * is unknown are drawn on a root bus. Bridges print no name, as in lspci.
 */
export function formatLspciTree(topo: PciTopology, opts: { verbose?: boolean } = {}): string {
  const verbose = opts.verbose ?? true;
  const out: string[] = [];
  let line: string[] = [];
  const write = (p: number, s: string): number => {
    while (line.length < p) line.push(' ');
    line.length = p;
    for (const ch of s) line.push(ch);
    return p + s.length;
  };
  const printIt = (p: number): void => {
    out.push(line.slice(0, p).join(''));
    line = line.slice(0, p).map((ch) => (ch === '+' || ch === '|' ? '|' : ' '));
  };
  const sorted = [...topo.functions].sort(compareFunctions);
  const kids = new Map<string, PciFunction[]>();
  const roots = new Map<number, Map<number, PciFunction[]>>();
  for (const f of sorted) {
    const p = topo.parentOf[f.bdf];
    if (p) {
      if (!kids.has(p)) kids.set(p, []);
      kids.get(p)!.push(f);
    } else {
      if (!roots.has(f.domain)) roots.set(f.domain, new Map());
      const d = roots.get(f.domain)!;
      if (!d.has(f.bus)) d.set(f.bus, []);
      d.get(f.bus)!.push(f);
    }
  }
  const showDev = (f: PciFunction, p: number): void => {
    p = write(p, `${hex(f.dev, 2)}.${f.fn}`);
    const children = kids.get(f.bdf) ?? [];
    if (f.isBridge || children.length > 0) {
      const sec = f.secondaryBus?.[0] ?? children[0]?.bus;
      const sub = f.secondaryBus?.[1] ?? sec;
      if (sec === undefined) p = write(p, '-');
      else p = write(p, sec === sub ? `-[${hex(sec, 2)}]-` : `-[${hex(sec, 2)}-${hex(sub!, 2)}]-`);
      p = write(p, '-');
      showBus(children, p);
      return;
    }
    if (verbose) {
      const id = f.vendorId !== null && f.deviceId !== null ? `${hex(f.vendorId, 4)}:${hex(f.deviceId, 4)}` : '';
      p = write(p, `  ${f.name || id}`);
    }
    printIt(p);
  };
  const showBus = (devs: PciFunction[], p: number): void => {
    if (devs.length === 0) return printIt(p);
    if (devs.length === 1) return showDev(devs[0], write(p, '--'));
    devs.forEach((d, i) => showDev(d, write(p, i === devs.length - 1 ? '\\-' : '+-')));
  };
  for (const [domain, buses] of [...roots.entries()].sort((a, b) => a[0] - b[0])) {
    line = [];
    const list = [...buses.entries()].sort((a, b) => a[0] - b[0]);
    const p = write(0, '-');
    if (list.length === 1) showBus(list[0][1], write(p, `[${hex(domain, 4)}:${hex(list[0][0], 2)}]-`));
    else {
      list.forEach(([bus, devs], i) => {
        showBus(devs, write(p, `${i === list.length - 1 ? '\\-' : '+-'}[${hex(domain, 4)}:${hex(bus, 2)}]-`));
      });
    }
  }
  return out.join('\n') + '\n';
}
