import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { checkAssignment, type CheckOptions, type CheckResult, type Hypervisor, parseDeviceList } from '../../src/topology/check.js';
import { mergeTopology, parseIommuGroups, parseLspci, type PciTopology } from '../../src/topology/lspci.js';

const fx = (name: string): string => readFileSync(new URL(`../fixtures/lspci/${name}`, import.meta.url), 'utf8');
const load = (name: string): PciTopology => parseLspci(fx(name), name);

/** The workstation with tree, names and the host's own IOMMU groups. */
const ws = (): PciTopology =>
  mergeTopology(
    mergeTopology(load('workstation-tv.txt'), load('workstation-nn.txt')),
    parseIommuGroups(fx('workstation-iommu-groups.txt'), 'workstation-iommu-groups.txt'),
  );
/** …plus the -vv excerpt (MSI, INTx, I/O BARs, drivers). */
const wsvv = (): PciTopology => mergeTopology(ws(), load('workstation-vv-excerpt.txt'));

const codes = (r: CheckResult): string[] => r.reasons.map((x) => x.code);
const run = (topo: PciTopology, assign: string[], hv: Hypervisor, opts: CheckOptions = {}): CheckResult => {
  const r = checkAssignment(topo, assign, hv, opts);
  // every reason: one sentence, one line, naming a BDF, saying what to do
  for (const x of r.reasons) {
    expect(x.message).not.toContain('\n');
    expect(x.message).toMatch(/\.$/);
    expect(x.message).toMatch(/[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]/);
    expect(x.message).toMatch(/;|, /);
    if (x.bdf) expect(x.message).toContain(x.bdf);
  }
  expect(r.viable).toBe(r.reasons.length === 0);
  return r;
};

describe('every hypervisor', () => {
  const hvs: Hypervisor[] = ['kvm', 'xen', 'virtualbox', 'bhyve'];

  it.each(hvs)('%s: a bridge or the host bridge cannot be assigned; unknown and duplicate addresses are refused', (hv) => {
    const r = run(ws(), ['00:1c.2', '00:00.0', '07:00.0', '0000:06:00.0', '06:00.0'], hv);
    expect(codes(r)).toEqual(expect.arrayContaining(['bridge', 'host-bridge', 'unknown-device', 'duplicate']));
    expect(r.reasons.find((x) => x.code === 'bridge')!.message).toMatch(/^0000:00:1c.2 .* is a PCI bridge .*assign the devices behind it instead\.$/);
    expect(r.reasons.find((x) => x.code === 'unknown-device')!.message).toMatch(/0000:07:00.0 is not in the lspci capture/);
  });

  it.each(hvs)('%s: without an IOMMU a bus-mastering device is refused', (hv) => {
    const r = run(ws(), ['06:00.0'], hv, { iommu: false });
    expect(codes(r)).toEqual(['no-iommu-bus-master']);
    expect(r.reasons[0].message).toMatch(/bus mastering must stay off/);
    expect(r.notes.join(' ')).toMatch(/assumed to do DMA/);
  });

  it.each(hvs)('%s: a device handing out pointers into its own BAR memory is refused', (hv) => {
    const r = run(ws(), ['06:00.0'], hv, { traits: { '06:00.0': { barPointers: true } } });
    expect(codes(r)).toEqual(['bar-pointers']);
  });

  it('the captured "IOMMU Group .:" counts as no IOMMU', () => {
    const none = mergeTopology(load('seed-virtualbox-lspci.txt'), parseIommuGroups(fx('tf-iommu-groups-none.txt'), 'none.txt'));
    expect(codes(run(none, ['02:00.0'], 'kvm'))).toEqual(['no-iommu-bus-master']);
  });

  it('malformed input is an InputError, not a reason', () => {
    expect(() => checkAssignment(ws(), ['01:00'], 'kvm')).toThrow(/^assign\[0\]: "01:00" has no function number/);
    expect(() => checkAssignment(ws(), ['01:00.0'], 'hyperv' as Hypervisor)).toThrow(InputError);
    expect(() => checkAssignment(ws(), ['01:00.0'], 'hyperv' as Hypervisor)).toThrow(/^hypervisor: unknown hypervisor "hyperv"; use one of kvm, xen, virtualbox, bhyve$/);
    expect(() => checkAssignment(ws(), ['06:00.0'], 'kvm', { guestSlot: 'five' })).toThrow(/^guestSlot: "five" is not a guest PCI slot/);
    expect(() => checkAssignment(ws(), ['06:00.0'], 'kvm', { otherGuestSlots: -1 })).toThrow(/^otherGuestSlots:/);
  });
});

describe('KVM / libvirt / VFIO', () => {
  it('passes a GPU with its HDMI audio function (the whole group; its root port is a bridge and may stay)', () => {
    const r = run(ws(), ['01:00.0', '01:00.1'], 'kvm');
    expect(r.viable).toBe(true);
    expect(r.notes).toContain('bind to vfio-pci at boot: intel_iommu=on vfio-pci.ids=10de:1b80,10de:10f0 (or virsh nodedev-detach each function).');
    expect(r.notes.join(' ')).toMatch(/-device vfio-pci,host=01:00.0,multifunction=on \(one slot for functions 0, 1\)/);
  });

  it('refuses a GPU whose audio function stays with the host, unless that function is bound to vfio-pci', () => {
    const r = run(ws(), ['01:00.0'], 'kvm');
    expect(codes(r)).toEqual(['group-not-vfio']);
    expect(r.reasons[0]).toMatchObject({ bdf: '0000:01:00.1' });
    expect(r.reasons[0].message).toBe(
      '0000:01:00.1 (NVIDIA Corporation GP104 High Definition Audio Controller) shares IOMMU group 1 with 0000:01:00.0 but is neither assigned nor bound to vfio-pci; assign it too, or bind it to vfio-pci (vfio-pci.ids=10de:10f0) and leave it unused.',
    );
    expect(run(ws(), ['01:00.0'], 'kvm', { vfioBound: ['0000:01:00.1'] }).viable).toBe(true);
  });

  it('the Gentoo seed setup: GT 630 passed, its audio function bound to vfio-pci by ID and left unused', () => {
    const topo = mergeTopology(load('seed-gentoo-iommu-groups.txt'), load('seed-gentoo-lspci-k-vfio.txt'));
    expect(codes(run(topo, ['01:00.0'], 'kvm'))).toEqual(['group-not-vfio']);
    const r = run(topo, ['01:00.0'], 'kvm', { vfioBound: ['01:00.1'] });
    expect(r.viable).toBe(true);
    expect(r.notes[0]).toMatch(/vfio-pci.ids=10de:1284/);
    // a group member lspci -k shows bound to vfio-pci counts as bound
    const vv = run(wsvv(), ['01:00.1'], 'kvm');
    expect(vv.viable).toBe(true);
  });

  it('conventional PCI behind the ASM1083: the whole group or nothing', () => {
    expect(codes(run(ws(), ['05:00.0'], 'kvm'))).toEqual(['group-not-vfio']);
    expect(run(ws(), ['05:00.0', '05:01.0'], 'kvm').viable).toBe(true);
  });

  it('derives groups from the tree when the capture has none (and says so)', () => {
    const treeOnly = mergeTopology(load('workstation-tv.txt'), load('workstation-nn.txt'));
    const strict = run(treeOnly, ['03:00.0', '03:00.1'], 'kvm');
    expect(strict.viable).toBe(false); // assume-none: every PCH root port and all below share one group
    expect(strict.notes.join(' ')).toMatch(/derived from the topology .*acs=assume-none/);
    const ports = run(treeOnly, ['03:00.0', '03:00.1'], 'kvm', { acs: 'ports-only' });
    expect(ports.viable).toBe(true);
    expect(codes(run(treeOnly, ['03:00.0'], 'kvm', { acs: 'ports-only' }))).toEqual(['group-not-vfio']);
  });

  it('32 guest slots, 2 of them fixed: at most 30 devices with the emulated ones', () => {
    expect(run(ws(), ['06:00.0', '02:00.0'], 'kvm', { otherGuestSlots: 28 }).viable).toBe(true);
    const r = run(ws(), ['06:00.0', '02:00.0'], 'kvm', { otherGuestSlots: 29 });
    expect(codes(r)).toEqual(['guest-slots']);
    expect(r.reasons[0].message).toMatch(/needs 31 PCI slots but a KVM guest has 30/);
    // functions of one device share one slot
    expect(run(ws(), ['01:00.0', '01:00.1'], 'kvm', { otherGuestSlots: 29 }).viable).toBe(true);
  });

  it('guest slot numbers', () => {
    expect(run(ws(), ['06:00.0'], 'kvm', { guestSlot: '0x05' }).viable).toBe(true);
    expect(run(ws(), ['06:00.0'], 'kvm', { guestSlot: '00:1f.0' }).viable).toBe(true);
    expect(codes(run(ws(), ['06:00.0'], 'kvm', { guestSlot: '01' }))).toEqual(['guest-slot-fixed']);
    expect(codes(run(ws(), ['06:00.0'], 'kvm', { guestSlot: '0x20' }))).toEqual(['guest-slot-range']);
    expect(codes(run(ws(), ['06:00.0', '02:00.0'], 'kvm', { guestSlot: '05' }))).toEqual(['guest-slot-ambiguous']);
    const taken = run(ws(), ['06:00.0', '02:00.0'], 'kvm', { guestSlots: { '06:00.0': '05', '02:00.0': '0x5' } });
    expect(codes(taken)).toEqual(['guest-slot-taken']);
  });

  it('no PCI hot-plug in the libvirt of the seed, unless told otherwise', () => {
    const r = run(ws(), ['06:00.0'], 'kvm', { hotplug: true });
    expect(codes(r)).toEqual(['hotplug-unsupported']);
    expect(r.reasons[0].message).toMatch(/virsh edit while the guest is shut off/);
    expect(run(ws(), ['06:00.0'], 'kvm', { hotplug: true, libvirtHotplug: true }).viable).toBe(true);
  });

  it('without an IOMMU even a device that does no DMA cannot be assigned', () => {
    const r = run(ws(), ['06:00.0'], 'kvm', { iommu: false, traits: { '06:00.0': { busMaster: false } } });
    expect(codes(r)).toEqual(['iommu-required']);
  });
});

describe('Xen HVM with VT-d', () => {
  it("the HowTo's example: hide 01:00.0 and 03:00.0 from dom0, list them in pci = [...]", () => {
    const hide = parseDeviceList('pciback.hide=(01:00.0)(03:00.0)', 'hide').map((b) => b.bdf);
    const r = run(ws(), ['01:00.0', '03:00.0'], 'xen', { hidden: hide, xenMsi: true });
    expect(r.viable).toBe(true);
    expect(r.notes).toContain("dom0 kernel line: pciback.hide=(01:00.0)(03:00.0); guest config: pci = [ '01:00.0', '03:00.0' ].");
  });

  it('a device not hidden with pciback.hide is refused', () => {
    const r = run(ws(), ['01:00.0', '03:00.0'], 'xen', { hidden: ['01:00.0'], xenMsi: true });
    expect(codes(r)).toEqual(['not-hidden']);
    expect(r.reasons[0].message).toBe('0000:03:00.0 is not hidden from dom0; add (03:00.0) to pciback.hide= on the dom0 kernel line and reboot.');
  });

  it('conventional PCI devices behind a PCIe-to-PCI bridge go to one domain together', () => {
    const r = run(ws(), ['05:00.0'], 'xen', { xenMsi: true });
    expect(codes(r)).toEqual(['conventional-split']);
    expect(r.reasons[0]).toMatchObject({ bdf: '0000:05:01.0' });
    expect(r.reasons[0].message).toMatch(/behind the PCIe-to-PCI bridge 0000:04:00.0, like 0000:05:00.0, and VT-d requires all of them in the same domain; assign 0000:05:01.0/);
    expect(run(ws(), ['05:00.0', '05:01.0'], 'xen', { xenMsi: true }).viable).toBe(true);
    // PCIe devices have no such restriction: one I350 function alone is fine
    expect(run(ws(), ['03:00.1'], 'xen', { xenMsi: true }).viable).toBe(true);
    // without a tree the rule cannot be checked: a note
    const flat = run(load('workstation-nn.txt'), ['05:00.0'], 'xen', { xenMsi: true });
    expect(flat.viable).toBe(true);
    expect(flat.notes.join(' ')).toMatch(/not in a bus tree/);
  });

  it('two hot-plug slots (6-7): at most two hot-plugged devices', () => {
    // the HowTo attaches 0:2:0.0 into virtual slot 7
    expect(run(ws(), ['0:2:0.0'], 'xen', { hotplug: true, guestSlot: '7', xenMsi: true }).viable).toBe(true);
    expect(codes(run(ws(), ['0:2:0.0'], 'xen', { hotplug: true, guestSlot: '5', xenMsi: true }))).toEqual(['hotplug-slot-range']);
    expect(run(ws(), ['02:00.0', '06:00.0'], 'xen', { hotplug: true, xenMsi: true }).viable).toBe(true);
    const r = run(ws(), ['02:00.0', '06:00.0', '03:00.0'], 'xen', { hotplug: true, xenMsi: true });
    expect(codes(r)).toEqual(['hotplug-slots']);
    expect(r.reasons[0]).toMatchObject({ bdf: '0000:03:00.0' });
    // statically assigned, any number
    expect(run(ws(), ['02:00.0', '06:00.0', '03:00.0'], 'xen', { xenMsi: true }).viable).toBe(true);
  });

  it('MSI needs msi=1 on the host: a note for most devices, a refusal for one without INTx', () => {
    const noted = run(wsvv(), ['03:00.0'], 'xen');
    expect(noted.viable).toBe(true);
    expect(noted.notes.join(' ')).toMatch(/0000:03:00.0 falls back to INTx unless the host boots with msi=1/);
    const msiOnly = run(ws(), ['06:00.0'], 'xen', { traits: { '06:00.0': { intx: false } } });
    expect(codes(msiOnly)).toEqual(['msi-disabled']);
    expect(run(ws(), ['06:00.0'], 'xen', { traits: { '06:00.0': { intx: false } }, xenMsi: true }).viable).toBe(true);
  });

  it('live migration only with hot-plugged devices (detach before, re-attach after)', () => {
    expect(codes(run(ws(), ['06:00.0'], 'xen', { liveMigration: true, xenMsi: true }))).toEqual(['migration']);
    const ok = run(ws(), ['06:00.0'], 'xen', { liveMigration: true, hotplug: true, xenMsi: true });
    expect(ok.viable).toBe(true);
    expect(ok.notes.join(' ')).toMatch(/hot-remove every VT-d device before migrating/);
  });

  it('no IOMMU: iommu=1 is needed even for a device without DMA', () => {
    const r = run(ws(), ['06:00.0'], 'xen', { iommu: false, traits: { '06:00.0': { busMaster: false } } });
    expect(codes(r)).toEqual(['iommu-required']);
    expect(r.reasons[0].message).toMatch(/boot Xen with iommu=1/);
  });
});

describe('VirtualBox', () => {
  it("the manual's example: --attachpci 02:00.0@01:05.0", () => {
    const r = run(load('seed-virtualbox-lspci.txt'), ['02:00.0'], 'virtualbox', { guestSlot: '01:05.0' });
    expect(r.viable).toBe(true);
    expect(r.notes.join(' ')).toMatch(/VBoxManage modifyvm "VM name" --attachpci 02:00.0@01:05.0/);
    expect(r.notes.join(' ')).toMatch(/preallocates all guest RAM/);
    expect(r.notes.join(' ')).toMatch(/does not show whether the host has an IOMMU; assumed present/);
    expect(r.notes.join(' ')).toMatch(/needs a non-shared interrupt \(MSI\)/);
  });

  it('a multi-function card: each function attached, functions kept', () => {
    const r = run(load('seed-virtualbox-lspci.txt'), ['03:00.0', '03:00.1'], 'virtualbox', { guestSlot: '00:06.0' });
    expect(r.viable).toBe(true);
    expect(r.notes.join(' ')).toMatch(/--attachpci 03:00.0@00:06.0 --attachpci 03:00.1@00:06.1/);
  });

  it('only MSI (non-shared interrupts): a card with only legacy INTx is refused', () => {
    const r = run(wsvv(), ['05:00.0', '05:01.0'], 'virtualbox');
    expect(codes(r)).toEqual(['intx-only']);
    expect(r.reasons[0]).toMatchObject({ bdf: '0000:05:00.0' });
    expect(run(wsvv(), ['03:00.0'], 'virtualbox').viable).toBe(true);
  });

  it('no save/restore and no teleportation with a device attached', () => {
    const r = run(ws(), ['06:00.0'], 'virtualbox', { saveRestore: true, liveMigration: true });
    expect(codes(r)).toEqual(['save-restore', 'teleport']);
    expect(r.reasons[1].message).toMatch(/--detachpci 06:00.0/);
  });

  it('without an IOMMU: a bus-mastering card is refused, a card without DMA (a serial card) works with a warning', () => {
    const vb = load('seed-virtualbox-lspci.txt');
    expect(codes(run(vb, ['02:00.0'], 'virtualbox', { iommu: false }))).toEqual(['no-iommu-bus-master']);
    const serial = run(vb, ['02:00.0'], 'virtualbox', { iommu: false, traits: { '02:00.0': { busMaster: false } } });
    expect(serial.viable).toBe(true);
    expect(serial.notes.join(' ')).toMatch(/VM terminates if its driver enables bus mastering/);
  });

  it('two devices cannot share a guest address', () => {
    const r = run(ws(), ['06:00.0', '02:00.0'], 'virtualbox', { guestSlots: { '06:00.0': '01:05.0', '02:00.0': '01:05.0' } });
    expect(codes(r)).toEqual(['guest-slot-taken']);
  });
});

describe('bhyve', () => {
  it("the mailing-list example: pptdevs=\"1/0/0 2/0/0 3/0/0\", -s 1,passthru,3/0/0", () => {
    const ppt = parseDeviceList('pptdevs="1/0/0 2/0/0 3/0/0"', 'pptdevs').map((b) => b.bdf);
    expect(ppt).toEqual(['0000:01:00.0', '0000:02:00.0', '0000:03:00.0']);
    const r = run(ws(), ['3/0/0'], 'bhyve', { hidden: ppt, guestSlot: '1' });
    expect(r.viable).toBe(true);
    expect(r.notes[0]).toBe('/boot/loader.conf: pptdevs="3/0/0"; bhyve: -s 1,passthru,3/0/0.');
    expect(r.notes.join(' ')).toMatch(/intercepts config-space accesses to the BARs and the MSI capability/);
  });

  it('a device missing from pptdevs is refused', () => {
    const r = run(ws(), ['6/0/0'], 'bhyve', { hidden: ['1/0/0', '2/0/0', '3/0/0'] });
    expect(codes(r)).toEqual(['not-in-pptdevs']);
    expect(r.reasons[0].message).toMatch(/add 6\/0\/0 to pptdevs= in \/boot\/loader.conf/);
  });

  it('needs nested paging and an IOMMU', () => {
    expect(codes(run(ws(), ['06:00.0'], 'bhyve', { nestedPaging: false }))).toEqual(['nested-paging']);
    expect(codes(run(ws(), ['06:00.0'], 'bhyve', { iommu: false, traits: { '06:00.0': { busMaster: false } } }))).toEqual(['iommu-required']);
  });

  it('splitting conventional PCI devices behind one PCIe-to-PCI bridge: a VT-d note (VirtualBox too)', () => {
    for (const hv of ['bhyve', 'virtualbox'] as const) {
      const r = run(ws(), ['05:01.0'], hv);
      expect(r.viable).toBe(true);
      expect(r.notes.join(' ')).toMatch(/0000:05:01.0 is conventional PCI behind the PCIe-to-PCI bridge 0000:04:00.0, where VT-d cannot tell it from 0000:05:00.0/);
    }
  });

  it('I/O-port BARs are trapped per access: a note, not a refusal', () => {
    const r = run(wsvv(), ['05:00.0', '05:01.0'], 'bhyve');
    expect(r.viable).toBe(true);
    expect(r.notes.join(' ')).toMatch(/0000:05:00.0 has I\/O-port BARs: bhyve traps every I\/O-port access/);
    expect(r.notes[0]).toMatch(/-s <slot>,passthru,5\/0\/0 -s <slot>,passthru,5\/1\/0/);
  });

  it('b/s/f has no PCI domain: a device in domain 10000 cannot be named', () => {
    const server = load('server-multidomain-tv.txt');
    const r = run(server, ['10000:01:00.0'], 'bhyve');
    expect(codes(r)).toEqual(['bhyve-domain']);
  });

  it('guest slots 0-31, one device each', () => {
    expect(codes(run(ws(), ['06:00.0'], 'bhyve', { guestSlot: '32' }))).toEqual(['guest-slot-range']);
    expect(codes(run(ws(), ['06:00.0', '02:00.0'], 'bhyve', { guestSlots: { '06:00.0': '4', '02:00.0': '4' } }))).toEqual(['guest-slot-taken']);
    expect(run(ws(), ['01:00.0', '01:00.1'], 'bhyve', { guestSlot: '4' }).notes[0]).toMatch(/-s 4:0,passthru,1\/0\/0 -s 4:1,passthru,1\/0\/1/);
    expect(() => checkAssignment(ws(), ['06:00.0'], 'bhyve', { guestSlot: 'x' })).toThrow(/^guestSlot: "x" is not a bhyve slot/);
  });
});

describe('parseDeviceList', () => {
  it('reads the seeds’ spellings', () => {
    const short = (t: string): string[] => parseDeviceList(t, 'l').map((b) => b.bdf.replace(/^0000:/, ''));
    expect(short('pciback.hide=(01:00.0)(03:00.0)')).toEqual(['01:00.0', '03:00.0']);
    expect(short("pci = [ '01:00.0', '03:00.0' ]")).toEqual(['01:00.0', '03:00.0']);
    expect(short('pptdevs="1/0/0 2/0/0 3/0/0"')).toEqual(['01:00.0', '02:00.0', '03:00.0']);
    expect(short('0:2:0.0, 0000:00:1d.7')).toEqual(['02:00.0', '00:1d.7']);
    expect(() => parseDeviceList('(01:00.0)(zz)', 'pciback.hide')).toThrow(/^pciback.hide\[1\]: "zz" is not a PCI address/);
  });
});
