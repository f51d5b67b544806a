import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import {
  detectLayout,
  formatBdf,
  formatLspciTree,
  mergeTopology,
  parseBdf,
  parseIommuGroups,
  parseLspci,
  type PciFunction,
  type PciTopology,
} from '../../src/topology/lspci.js';

const fx = (name: string): string => readFileSync(new URL(`../fixtures/lspci/${name}`, import.meta.url), 'utf8');
const load = (name: string): PciTopology => parseLspci(fx(name), name);
const fn = (t: PciTopology, bdf: string): PciFunction => {
  const f = t.functions.find((x) => x.bdf === bdf);
  if (!f) throw new Error(`no ${bdf}`);
  return f;
};
/** The thrown InputError's message (fails the test when nothing is thrown). */
const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error('expected an InputError');
};

describe('parseBdf', () => {
  it.each([
    ['0000:01:00.0', '0000:01:00.0'],
    ['01:00.0', '0000:01:00.0'],
    ['1f:1F.7', '0000:1f:1f.7'],
    ['10000:e1:00.0', '10000:e1:00.0'],
    // bhyve pptdevs / -s n,passthru,b/s/f (decimal), seed 003
    ['3/0/0', '0000:03:00.0'],
    ['130/31/7', '0000:82:1f.7'],
    // Xen xm pci-attach / pci-list style domain:bus:dev.fn, seed 002
    ['0:2:0.0', '0000:02:00.0'],
    // libvirt node device, and the shell-escaped sysfs path of seed 001
    ['pci_0000_00_1d_7', '0000:00:1d.7'],
    ['0000\\:00\\:1d.7', '0000:00:1d.7'],
    ['/sys/bus/pci/devices/0000:00:1d.7', '0000:00:1d.7'],
  ])('%s → %s', (text, bdf) => {
    expect(parseBdf(text, 'test').bdf).toBe(bdf);
  });

  it('returns the fields', () => {
    expect(parseBdf('0:2:0.0', 'x')).toEqual({ domain: 0, bus: 2, dev: 0, fn: 0, bdf: '0000:02:00.0' });
  });

  it('refuses what is not an address, with a one-line fix', () => {
    expect(errorOf(() => parseBdf('01:00', 'assign[0]'))).toMatch(/^assign\[0\]: "01:00" has no function number; append \.0/);
    expect(errorOf(() => parseBdf('01:00.8', 'a'))).toMatch(/^a: function 8 in "01:00.8" is out of range 0-7; write domain:bus:device.function/);
    expect(errorOf(() => parseBdf('01:20.0', 'a'))).toMatch(/device 32 .* out of range 0-31/);
    expect(errorOf(() => parseBdf('256/0/0', 'a'))).toMatch(/bus 256 .* out of range 0-255/);
    expect(errorOf(() => parseBdf('1/32/0', 'a'))).toMatch(/device 32/);
    expect(errorOf(() => parseBdf('eth0', 'a'))).toMatch(/not a PCI address/);
    expect(errorOf(() => parseBdf('', 'a'))).toMatch(/empty PCI address/);
    // the old node-device name of seed 001 names vendor:device, not a slot
    expect(errorOf(() => parseBdf('pci_8086_3a6c', 'a'))).toMatch(/old libvirt node-device name .*8086:3a6c.*virsh nodedev-dumpxml/);
  });

  it('round-trips every canonical address (property)', () => {
    fc.assert(
      fc.property(fc.nat(0xffff), fc.nat(0xff), fc.nat(0x1f), fc.nat(7), (d, b, s, f) => {
        const text = formatBdf(d, b, s, f);
        expect(parseBdf(text, 'p')).toEqual({ domain: d, bus: b, dev: s, fn: f, bdf: text });
        if (d === 0) expect(parseBdf(`${b}/${s}/${f}`, 'p').bdf).toBe(text);
      }),
    );
  });
});

describe('flat layouts', () => {
  it('plain lspci from the VirtualBox manual (seed 000), indented as copied', () => {
    const t = load('seed-virtualbox-lspci.txt');
    expect(t.functions.map((f) => f.bdf)).toEqual([
      '0000:01:00.0', '0000:01:00.1', '0000:02:00.0', '0000:03:00.0', '0000:03:00.1', '0000:06:00.0',
    ]);
    const nic = fn(t, '0000:02:00.0');
    expect(nic).toMatchObject({
      className: 'Ethernet controller',
      classCode: 0x0200, // from the class name: plain lspci prints no [cccc]
      vendorId: null,
      deviceId: null,
      rev: 3,
      name: 'Realtek Semiconductor Co., Ltd. RTL8111/8168B PCI Express Gigabit Ethernet controller',
      isBridge: false,
    });
    expect(fn(t, '0000:01:00.0').name).toBe('ATI Technologies Inc Cedar PRO [Radeon HD 5450]');
    expect(fn(t, '0000:01:00.0').rev).toBeNull();
    expect(fn(t, '0000:03:00.1').classCode).toBe(0x0101);
    expect(t.groups).toBeNull();
    expect(t.iommuPresent).toBeNull();
    expect(t.parentOf).toEqual({});
  });

  it('lspci -nn (the lspci(8) example and seed 004)', () => {
    const t = load('tf-lspci-nn.txt');
    expect(t.functions).toHaveLength(1);
    expect(t.functions[0]).toMatchObject({
      bdf: '0000:00:03.0', className: 'Ethernet controller', classCode: 0x0200,
      vendorId: 0x1af4, deviceId: 0x1041, rev: 1, name: 'Red Hat, Inc. Virtio 1.0 network device',
    });
    const g = load('seed-gentoo-lspci-nn.txt');
    expect(fn(g, '0000:01:00.0')).toMatchObject({ vendorId: 0x10de, deviceId: 0x1284, rev: 0xa1, name: 'NVIDIA Corporation GK208 [GeForce GT 630 Rev. 2]' });
    expect(fn(g, '0000:01:00.1')).toMatchObject({ classCode: 0x0403, vendorId: 0x10de, deviceId: 0x0e0f });
  });

  it('lspci -n and lspci -D', () => {
    const t = parseLspci('00:00.0 0600: 8086:1901 (rev 07)\n00:1e.0 0604: 8086:244e (rev a5) (prog-if 01)\n', 'n.txt');
    expect(fn(t, '0000:00:00.0')).toMatchObject({ classCode: 0x0600, vendorId: 0x8086, deviceId: 0x1901, rev: 7, name: '', className: '' });
    expect(fn(t, '0000:00:1e.0')).toMatchObject({ isBridge: true, isPcieToPciBridge: true, progIf: 1 }); // 82801 PCI bridge, by ID
    const d = load('server-multidomain-Dnn.txt');
    expect(d.functions).toHaveLength(27);
    expect(fn(d, '10000:01:00.0')).toMatchObject({ domain: 0x10000, bus: 1, classCode: 0x0108, vendorId: 0x8086, deviceId: 0x0a54 });
    // the AST1150 does not say "PCIe" in its name; its ID gives it away
    expect(fn(d, '0000:02:00.0').isPcieToPciBridge).toBe(true);
    expect(d.functions.filter((f) => f.isPcieToPciBridge).map((f) => f.bdf)).toEqual(['0000:02:00.0']);
  });

  it('lspci -k sub-lines and "..." elisions (seed 004)', () => {
    const before = load('seed-gentoo-lspci-k.txt');
    expect(before.functions.map((f) => [f.bdf, f.driver])).toEqual([
      ['0000:00:02.0', 'i915'],
      ['0000:01:00.0', 'nvidia'],
    ]);
    expect(fn(before, '0000:00:02.0').name).toBe('Intel Corporation Device 191d');
    expect(fn(load('seed-gentoo-lspci-k-vfio.txt'), '0000:01:00.0').driver).toBe('vfio-pci');
  });

  it('a device line pasted with stray indentation is still a device, not a sub-line', () => {
    const t = parseLspci('00:02.0 VGA compatible controller: Intel Corporation Device 191d (rev 06)\n\tKernel driver in use: i915\n  01:00.0 VGA compatible controller: NVIDIA Corporation GK208 (rev a1)\n', 'paste.txt');
    expect(t.functions.map((f) => f.bdf)).toEqual(['0000:00:02.0', '0000:01:00.0']);
  });

  it('lspci -vv: bus ranges, Express type, ACS, MSI, INTx, I/O BARs, group', () => {
    const t = load('workstation-vv-excerpt.txt');
    const rp = fn(t, '0000:00:1c.2');
    expect(rp).toMatchObject({ isBridge: true, secondaryBus: [4, 5], pcieType: 'root-port', acs: true, msiCapable: true, intx: true, busMaster: true, driver: 'pcieport', progIf: 0 });
    const gpu = fn(t, '0000:01:00.0');
    expect(gpu).toMatchObject({ pcieType: 'legacy-endpoint', acs: false, msiCapable: true, intx: true, ioPortBars: true, driver: 'vfio-pci' });
    expect(fn(t, '0000:03:00.0')).toMatchObject({ pcieType: 'endpoint', acs: true, msiCapable: true, ioPortBars: false });
    const br = fn(t, '0000:04:00.0');
    expect(br).toMatchObject({ pcieType: 'pcie-to-pci-bridge', isPcieToPciBridge: true, secondaryBus: [5, 5], progIf: 1 });
    const audigy = fn(t, '0000:05:00.0');
    expect(audigy).toMatchObject({ msiCapable: false, intx: true, ioPortBars: true, busMaster: true });
    expect(audigy.pcieType).toBeUndefined();
    expect(audigy.acs).toBeUndefined();
    // IOMMU group lines; bridge bus ranges place what they can, the rest stays unknown
    expect(t.groups).toEqual({ '0000:01:00.0': 1, '0000:03:00.0': 12, '0000:05:00.0': 14 });
    expect(t.iommuPresent).toBe(true);
    expect(t.parentOf).toEqual({ '0000:00:1c.2': null, '0000:04:00.0': '0000:00:1c.2', '0000:05:00.0': '0000:04:00.0' });
  });
});

describe('machine layouts', () => {
  it('lspci -mm -nn (the lspci(8) example)', () => {
    const t = load('tf-lspci-mm-nn.txt');
    expect(t.functions[0]).toMatchObject({
      bdf: '0000:00:03.0', classCode: 0x0200, className: 'Ethernet controller', vendorId: 0x1af4, deviceId: 0x1041,
      rev: 1, progIf: 0, name: 'Red Hat, Inc. Virtio 1.0 network device',
    });
  });

  it('lspci -mm, -mm -n and -D', () => {
    const plain = parseLspci('0000:01:00.0 "VGA compatible controller" "NVIDIA Corporation" "GK208 [GeForce GT 630 Rev. 2]" -ra1 "" ""\n', 'mm.txt');
    expect(plain.functions[0]).toMatchObject({ classCode: 0x0300, vendorId: null, rev: 0xa1, name: 'NVIDIA Corporation GK208 [GeForce GT 630 Rev. 2]' });
    const num = parseLspci('00:1c.0 "0604" "8086" "a290" -rf0 -p00 "1043" "8694"\n', 'mmn.txt');
    expect(num.functions[0]).toMatchObject({ classCode: 0x0604, vendorId: 0x8086, deviceId: 0xa290, isBridge: true, name: '' });
  });

  it('lspci -vmm records with IOMMUGroup', () => {
    const text = [
      'Slot:\t01:00.0', 'Class:\tVGA compatible controller [0300]', 'Vendor:\tNVIDIA Corporation [10de]',
      'Device:\tGP104 [GeForce GTX 1080] [1b80]', 'Rev:\ta1', 'Driver:\tvfio-pci', 'IOMMUGroup:\t1', '',
      'Slot:\t01:00.1', 'Class:\tAudio device [0403]', 'Vendor:\tNVIDIA Corporation [10de]',
      'Device:\tGP104 High Definition Audio Controller [10f0]', 'IOMMUGroup:\t1', '',
    ].join('\n');
    const t = parseLspci(text, 'vmm.txt');
    expect(fn(t, '0000:01:00.0')).toMatchObject({ vendorId: 0x10de, deviceId: 0x1b80, rev: 0xa1, driver: 'vfio-pci', name: 'NVIDIA Corporation GP104 [GeForce GTX 1080]' });
    expect(t.groups).toEqual({ '0000:01:00.0': 1, '0000:01:00.1': 1 });
    expect(t.iommuPresent).toBe(true);
  });
});

describe('tree layouts', () => {
  it('the lspci -tv example (tf-lspci-tv.txt)', () => {
    const t = load('tf-lspci-tv.txt');
    expect(t.functions.map((f) => [f.bdf, f.name])).toEqual([
      ['0000:00:00.0', 'Intel Corporation Device 0d57'],
      ['0000:00:01.0', '…'],
      ['0000:00:05.0', '…'],
    ]);
    expect(t.parentOf).toEqual({ '0000:00:00.0': null, '0000:00:01.0': null, '0000:00:05.0': null });
  });

  it('a workstation: nested bridges, "----" single children, "|" continuations', () => {
    const t = load('workstation-tv.txt');
    expect(t.functions).toHaveLength(24);
    expect(t.parentOf['0000:01:00.1']).toBe('0000:00:01.0');
    expect(t.parentOf['0000:02:00.0']).toBe('0000:00:1b.0');
    expect(t.parentOf['0000:04:00.0']).toBe('0000:00:1c.2');
    expect(t.parentOf['0000:05:01.0']).toBe('0000:04:00.0');
    expect(t.parentOf['0000:00:1f.4']).toBeNull();
    expect(fn(t, '0000:00:1c.2')).toMatchObject({ isBridge: true, secondaryBus: [4, 5], name: '' });
    expect(fn(t, '0000:04:00.0')).toMatchObject({ isBridge: true, secondaryBus: [5, 5] });
    // lspci -t prints no name for a bridge, so a PCIe-to-PCI bridge is not recognisable from a tree
    expect(fn(t, '0000:04:00.0').isPcieToPciBridge).toBe(false);
    expect(fn(t, '0000:05:00.0').name).toBe('Creative Labs EMU10k2/CA0100/CA0102/CA10200 [Sound Blaster Audigy Series]');
    // -t without -v: same structure, no names
    const bare = load('workstation-t.txt');
    expect(bare.parentOf).toEqual(t.parentOf);
    expect(bare.functions.every((f) => f.name === '')).toBe(true);
  });

  it('a multi-domain server: several root buses ("-+-[0000:80]", "\\-[0000:00]"), a switch, a second domain tree', () => {
    const t = load('server-multidomain-tv.txt');
    expect(t.functions).toHaveLength(27);
    expect(new Set(t.functions.map((f) => f.domain))).toEqual(new Set([0, 0x10000]));
    expect(t.parentOf['0000:80:00.0']).toBeNull();
    expect(t.parentOf['0000:81:00.1']).toBe('0000:80:00.0');
    expect(t.parentOf['0000:82:00.0']).toBe('0000:80:02.0');
    expect(t.parentOf['0000:17:00.0']).toBeNull();
    expect(t.parentOf['0000:18:00.0']).toBe('0000:17:00.0');
    expect(t.parentOf['0000:19:10.0']).toBe('0000:18:00.0');
    expect(t.parentOf['0000:1b:00.0']).toBe('0000:19:09.0');
    expect(fn(t, '0000:19:10.0')).toMatchObject({ isBridge: true, secondaryBus: [0x1c, 0x1c] });
    expect(fn(t, '0000:17:00.0').secondaryBus).toEqual([0x18, 0x1c]);
    expect(t.parentOf['0000:03:00.0']).toBe('0000:02:00.0');
    expect(t.parentOf['10000:02:00.0']).toBe('10000:00:03.0');
    expect(t.parentOf['10000:00:03.0']).toBeNull();
  });

  it('lspci -tvnn gives the IDs; -tvn gives only the IDs', () => {
    const t = load('server-multidomain-tvnn.txt');
    expect(fn(t, '0000:81:00.0')).toMatchObject({ vendorId: 0x15b3, deviceId: 0x1017, name: 'Mellanox Technologies MT27800 Family [ConnectX-5]' });
    const n = parseLspci('-[0000:00]-+-00.0  8086:1901\n           \\-1f.3  8086:a170\n', 'tvn.txt');
    expect(fn(n, '0000:00:1f.3')).toMatchObject({ vendorId: 0x8086, deviceId: 0xa170, name: '' });
  });

  it('an old pciutils tree without domains, a tree copied from its last root bus, an unconfigured bridge', () => {
    const old = parseLspci('-[00]-+-00.0  Host\n      \\-01.0-[01]----00.0  NIC\n', 'old.txt');
    expect(old.parentOf).toEqual({ '0000:00:00.0': null, '0000:00:01.0': null, '0000:01:00.0': '0000:00:01.0' });
    const partial = parseLspci(
      [' \\-[0000:00]-+-00.0  Intel Corporation Xeon E5/Core i7 DMI2', '             +-01.0-[11]--', '             \\-02.0-[04]--+-00.0  Emulex NIC', '                          \\-00.1  Emulex NIC'].join('\n'),
      'partial.txt',
    );
    expect(partial.parentOf['0000:04:00.1']).toBe('0000:00:02.0');
    const unconf = parseLspci('-[0000:00]-+-00.0  Host\n           \\-1c.0--\n', 'u.txt');
    expect(fn(unconf, '0000:00:1c.0').isBridge).toBe(true);
  });

  it('round-trips random trees through the pciutils layout (property)', () => {
    // a random forest: per domain a few root buses, bridges with children, buses numbered depth first
    const arbTree = fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(arbTree, fc.boolean(), fc.integer({ min: 0, max: 2 }), (shape, verbose, extraDomains) => {
        const functions: PciFunction[] = [];
        const parentOf: Record<string, string | null> = {};
        for (let dom = 0; dom <= extraDomains; dom++) {
          let nextBus = 0x40;
          shape.forEach((rootBusShape, r) => {
            const rootBus = r * 0x10;
            const add = (bus: number, dev: number, f: number, parent: string | null, bridgeKids: number | null): void => {
              const bdf = formatBdf(dom, bus, dev, f);
              const func: PciFunction = {
                domain: dom, bus, dev, fn: f, bdf, classCode: null, className: '', vendorId: null, deviceId: null,
                name: bridgeKids === null ? `Device ${dev}.${f}` : '', rev: null, isBridge: bridgeKids !== null, isPcieToPciBridge: false,
              };
              functions.push(func);
              parentOf[bdf] = parent;
              if (bridgeKids !== null) {
                const sec = nextBus++;
                func.secondaryBus = [sec, sec];
                for (let k = 0; k < bridgeKids; k++) add(sec, k, 0, bdf, null);
              }
            };
            rootBusShape.forEach((kids, i) => add(rootBus, i + 1, 0, null, kids === 0 ? null : kids - 1));
          });
        }
        const topo: PciTopology = { functions, parentOf, groups: null, iommuPresent: null };
        const text = formatLspciTree(topo, { verbose });
        const back = parseLspci(text, 'roundtrip.txt');
        expect(back.parentOf).toEqual(parentOf);
        expect(back.functions.map((f) => [f.bdf, f.isBridge, f.secondaryBus ?? null, verbose ? f.name : ''])).toEqual(
          [...functions]
            .sort((a, b) => a.domain - b.domain || a.bus - b.bus || a.dev - b.dev || a.fn - b.fn)
            .map((f) => [f.bdf, f.isBridge, f.secondaryBus ?? null, verbose ? f.name : '']),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('formats the workstation tree exactly as the fixture', () => {
    const t = load('workstation-tv.txt');
    expect(formatLspciTree(t)).toBe(fx('workstation-tv.txt'));
  });
});

describe('IOMMU-groups loop', () => {
  it('the find | sort -V variant (the Arch Wiki loop)', () => {
    const r = parseIommuGroups(fx('tf-iommu-groups.txt'), 'tf-iommu-groups.txt');
    expect(r.iommuPresent).toBe(true);
    expect(r.groups).toEqual({ '0000:01:00.0': 9 });
    expect(r.functions[0]).toMatchObject({ vendorId: 0x10de, deviceId: 0x2487, name: 'NVIDIA Corporation GA104 [GeForce RTX 3060]' });
  });

  it('"IOMMU Group .:" means no IOMMU; so does empty output of the glob variant', () => {
    expect(parseIommuGroups(fx('tf-iommu-groups-none.txt'), 'none.txt')).toEqual({ groups: {}, iommuPresent: false, functions: [] });
    expect(parseIommuGroups('', 'empty.txt')).toEqual({ groups: {}, iommuPresent: false, functions: [] });
    const t = load('tf-iommu-groups-none.txt');
    expect(t.iommuPresent).toBe(false);
    expect(t.functions).toEqual([]);
  });

  it('the Gentoo script variant: "IOMMU group N" without colon, spaces, "..." (seed 004)', () => {
    const t = load('seed-gentoo-iommu-groups.txt');
    expect(t.groups).toEqual({
      '0000:00:01.0': 1, '0000:01:00.0': 1, '0000:01:00.1': 1, '0000:00:02.0': 2, '0000:00:08.0': 3,
    });
    expect(fn(t, '0000:00:01.0')).toMatchObject({ isBridge: true, name: 'Intel Corporation Sky Lake PCIe Controller (x16)', vendorId: 0x8086, deviceId: 0x1901 });
    expect(fn(t, '0000:00:08.0').rev).toBeNull();
  });

  it('sort -V and plain-glob orders give the same groups', () => {
    expect(load('workstation-iommu-groups-glob.txt').groups).toEqual(load('workstation-iommu-groups.txt').groups);
    expect(Object.keys(load('workstation-iommu-groups.txt').groups!)).toHaveLength(24);
  });

  it('the one-line variant "IOMMU Group N <lspci line>"', () => {
    const text = 'IOMMU Group 1 00:01.0 PCI bridge [0604]: Intel Corporation Xeon E3-1200 v5/E3-1500 v5/6th Gen Core Processor PCIe Controller (x16) [8086:1901] (rev 07)\nIOMMU Group 1 01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GP104 [GeForce GTX 1080] [10de:1b80] (rev a1)\n';
    expect(load2(text).groups).toEqual({ '0000:00:01.0': 1, '0000:01:00.0': 1 });
  });
});
const load2 = (text: string): PciTopology => parseLspci(text, 'inline.txt');

describe('mergeTopology', () => {
  it('tree + names + groups of one host', () => {
    const tree = load('workstation-tv.txt');
    const nn = load('workstation-nn.txt');
    const m = mergeTopology(tree, nn);
    expect(m.functions).toHaveLength(24);
    expect(m.parentOf['0000:05:01.0']).toBe('0000:04:00.0');
    expect(fn(m, '0000:04:00.0')).toMatchObject({ isPcieToPciBridge: true, classCode: 0x0604, name: 'ASMedia Technology Inc. ASM1083/1085 PCIe to PCI Bridge' });
    expect(m.groups).toBeNull();
    const g = mergeTopology(m, parseIommuGroups(fx('workstation-iommu-groups.txt'), 'workstation-iommu-groups.txt'));
    expect(g.groups!['0000:05:01.0']).toBe(14);
    expect(g.iommuPresent).toBe(true);
    expect(g.source).toContain('workstation-tv.txt');
    // the tree + -tvnn: the AST1150 is recognised by its ID once a capture gives the ID
    const server = mergeTopology(load('server-multidomain-tv.txt'), load('server-multidomain-Dnn.txt'));
    expect(fn(server, '0000:02:00.0').isPcieToPciBridge).toBe(true);
  });

  it('refuses captures of different hosts', () => {
    const a = load2('01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GP104 [10de:1b80]\n');
    const b = parseLspci('01:00.0 VGA compatible controller [0300]: AMD Navi 21 [1002:73bf]\n', 'other.txt');
    expect(errorOf(() => mergeTopology(a, b))).toMatch(/^inline.txt and other.txt: disagree on the vendor ID of 0000:01:00.0 \(10de vs 1002\); merge captures taken on the same host/);
    const g1 = load('tf-iommu-groups.txt');
    const g2 = parseLspci('IOMMU Group 3:\n\t01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GA104 [GeForce RTX 3060] [10de:2487] (rev a1)\n', 'g2.txt');
    expect(errorOf(() => mergeTopology(g1, g2))).toMatch(/IOMMU group of 0000:01:00.0 \(9 vs 3\)/);
    expect(errorOf(() => mergeTopology(g1, load('tf-iommu-groups-none.txt')))).toMatch(/whether the host has an IOMMU/);
  });
});

describe('layout detection and malformed input', () => {
  it('detects each layout', () => {
    expect(detectLayout(fx('seed-virtualbox-lspci.txt'))).toBe('flat');
    expect(detectLayout(fx('tf-lspci-mm-nn.txt'))).toBe('machine');
    expect(detectLayout('Slot:\t00:00.0\n')).toBe('machine-verbose');
    expect(detectLayout(fx('server-multidomain-tv.txt'))).toBe('tree');
    expect(detectLayout(fx('seed-gentoo-iommu-groups.txt'))).toBe('iommu-groups');
    expect(detectLayout('hello\n')).toBeNull();
  });

  it('names file:line and the fix', () => {
    expect(errorOf(() => parseLspci('', 'e.txt'))).toMatch(/^e.txt: no PCI functions in an empty capture; capture `lspci -nn`/);
    expect(errorOf(() => parseLspci('\n\nhello world\n', 'x.txt'))).toMatch(/^x.txt:3: "hello world" is not lspci output; expected lspci/);
    expect(errorOf(() => parseLspci('00:00.0 Host bridge: Intel\nnot a device line\n', 'f.txt'))).toMatch(
      /^f.txt:2: "not a device line" does not look like lspci output; expected "BB:DD.F class: vendor device"/,
    );
    expect(errorOf(() => parseLspci('00:00.0 Host bridge Intel Corporation\n', 'f.txt'))).toMatch(/^f.txt:1: .* has no "class: " part/);
    expect(errorOf(() => parseLspci('00:00.0 Host bridge: A\n00:00.0 Host bridge: A\n', 'd.txt'))).toMatch(
      /^d.txt:2: 0000:00:00.0 appears a second time \(first at line 1\)/,
    );
    expect(errorOf(() => parseLspci('    Kernel driver in use: x\n00:00.0 Host bridge: A\n', 's.txt'))).toMatch(/^s.txt:1:/);
    expect(errorOf(() => parseLspci('00:03.0 "Ethernet controller" "Red Hat"\n', 'm.txt'))).toMatch(/^m.txt:1: a -mm line needs at least class, vendor and device/);
    expect(errorOf(() => parseLspci('Slot:\t00:00.0\nbogus\n', 'v.txt'))).toMatch(/^v.txt:2: "bogus" is not a "Key:<tab>value" line/);
  });

  it('tree lines that do not line up (an e-mail-wrapped name)', () => {
    const wrapped = [
      ' \\-[0000:00]-+-00.0  Intel Corporation Xeon E5/Core i7 DMI2',
      '             +-02.0-[04]--+-00.0  Emulex Corporation OneConnect 10Gb NIC',
      '(be3)',
      '             |            \\-00.1  Emulex Corporation OneConnect 10Gb NIC',
    ].join('\n');
    expect(errorOf(() => parseLspci(wrapped, 'wrapped.txt'))).toMatch(/^wrapped.txt:3:1: "\(be3\)" is not a tree line; expected lspci -t\/-tv output/);
    const misaligned = '-[0000:00]-+-00.0  Host\n          +-01.0  NIC\n';
    expect(errorOf(() => parseLspci(misaligned, 'mis.txt'))).toMatch(/^mis.txt:2:11: "\+-" in column 11 does not line up with any open list above it/);
    expect(errorOf(() => parseLspci('-[0000:00]-+-0g.0  Host\n', 'bad.txt'))).toMatch(/^bad.txt:1:14: expected a device "dd.f" here/);
    expect(errorOf(() => parseLspci('-[0000:00]-+-00.0  Host\n           \\-00.0  Again\n', 'dup.txt'))).toMatch(/^dup.txt:2: 0000:00:00.0 appears a second time/);
  });

  it('IOMMU-group listings with foreign lines', () => {
    expect(errorOf(() => parseLspci('IOMMU Group x:\n', 'g.txt'))).toMatch(/^g.txt:1: group "x" is not a number/);
    expect(errorOf(() => parseLspci('IOMMU Group 1:\n\tgarbage here\n', 'g.txt'))).toMatch(
      /^g.txt:2: "garbage here" is neither an "IOMMU Group" line nor an lspci line; expected the IOMMU-groups loop output/,
    );
    expect(errorOf(() => parseLspci('IOMMU Group .:\nIOMMU Group 1:\n\t00:00.0 Host bridge [0600]: X [8086:1234]\n', 'mix.txt'))).toMatch(
      /both numbered IOMMU groups and the "IOMMU Group \.:" line/,
    );
  });
});
