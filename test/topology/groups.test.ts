import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { type AcsPolicy, deriveGroups, groupMembers, indexTopology, withDerivedGroups } from '../../src/topology/groups.js';
import { formatBdf, mergeTopology, parseLspci, type PciFunction, type PciTopology } from '../../src/topology/lspci.js';

const fx = (name: string): string => readFileSync(new URL(`../fixtures/lspci/${name}`, import.meta.url), 'utf8');
const load = (name: string): PciTopology => parseLspci(fx(name), name);
/** Groups as sorted lists of short addresses, for readable expectations. */
const asLists = (groups: Record<string, number>): string[][] => [...groupMembers(groups).values()].map((l) => l.map((b) => b.replace(/^0000:/, '')));
const sameGroup = (g: Record<string, number>, ...bdfs: string[]): boolean => bdfs.every((b) => g[`0000:${b}`] === g[`0000:${bdfs[0]}`]);

describe('deriveGroups: the Linux pci_device_group rule', () => {
  it('reproduces the IOMMU groups of the Gentoo seed from its bus tree', () => {
    // Tree constructed for the seed-004 machine (C236 board, GT 630 in the CPU's PEG slot); the seed
    // itself lists only the groups. Skylake's PEG root port has no ACS: assume-none.
    const tree = parseLspci(
      [
        '-[0000:00]-+-00.0  Intel Corporation Xeon E3-1200 v5/E3-1500 v5/6th Gen Core Processor Host Bridge/DRAM Registers',
        '           +-01.0-[01]--+-00.0  NVIDIA Corporation GK208 [GeForce GT 630 Rev. 2]',
        '           |            \\-00.1  NVIDIA Corporation GK208 HDMI/DP Audio Controller',
        '           +-02.0  Intel Corporation Device 191d',
        '           \\-08.0  Intel Corporation Sky Lake Gaussian Mixture Model',
      ].join('\n'),
      'gentoo-constructed-tv.txt',
    );
    const derived = deriveGroups(tree, { acs: 'assume-none' }).groups;
    const seed = load('seed-gentoo-iommu-groups.txt').groups!;
    for (const [bdf, g] of Object.entries(seed)) expect(derived[bdf], bdf).toBe(g);
    expect(derived['0000:00:00.0']).toBe(0);
  });

  it('reproduces the workstation listing (Intel PCH ACS quirk, I350 multi-function ACS quirk)', () => {
    const topo = mergeTopology(load('workstation-tv.txt'), load('workstation-nn.txt'));
    const d = deriveGroups(topo, {
      acs: 'ports-only',
      acsOverrides: { '00:01.0': false, '03:00.0': true, '03:00.1': true },
    });
    expect(d.groups).toEqual(load('workstation-iommu-groups.txt').groups);
    expect(d.anchorOf['0000:05:01.0']).toBe('0000:04:00.0');
    expect(d.anchorOf['0000:01:00.0']).toBe('0000:00:01.0');
    expect(d.notes.join(' ')).toMatch(/acs=ports-only/);
  });

  it('assume-none: a root port without ACS takes everything below it; non-ACS ports of one slot merge', () => {
    const topo = mergeTopology(load('workstation-tv.txt'), load('workstation-nn.txt'));
    const g = deriveGroups(topo, { acs: 'assume-none' }).groups;
    expect(asLists(g)).toEqual([
      ['00:00.0'],
      ['00:01.0', '01:00.0', '01:00.1'],
      ['00:02.0'],
      ['00:14.0', '00:14.2'],
      ['00:16.0'],
      ['00:17.0'],
      ['00:1b.0', '02:00.0'],
      ['00:1c.0', '00:1c.2', '00:1c.4', '03:00.0', '03:00.1', '04:00.0', '05:00.0', '05:01.0', '06:00.0'],
      ['00:1f.0', '00:1f.2', '00:1f.3', '00:1f.4'],
    ]);
  });

  it('assume-all: ports and functions isolated, but a PCIe-to-PCI bridge still aliases what is behind it', () => {
    const topo = mergeTopology(load('workstation-tv.txt'), load('workstation-nn.txt'));
    const g = deriveGroups(topo, { acs: 'assume-all' }).groups;
    expect(sameGroup(g, '01:00.0', '01:00.1')).toBe(false);
    expect(sameGroup(g, '00:01.0', '01:00.0')).toBe(false);
    expect(sameGroup(g, '04:00.0', '05:00.0', '05:01.0')).toBe(true);
    expect(sameGroup(g, '00:1c.2', '04:00.0')).toBe(false);
    expect(new Set(Object.values(g)).size).toBe(22);
  });

  it('lspci -vv ACS facts win over the policy', () => {
    // the -vv excerpt shows ACS on root port 00:1c.2 (and names 04:00.0 a PCIe-to-PCI bridge)
    const topo = mergeTopology(load('workstation-tv.txt'), load('workstation-vv-excerpt.txt'));
    const g = deriveGroups(topo, { acs: 'assume-none' }).groups;
    expect(sameGroup(g, '00:1c.0', '00:1c.4', '03:00.0', '06:00.0')).toBe(true);
    expect(sameGroup(g, '00:1c.0', '00:1c.2')).toBe(false);
    expect(sameGroup(g, '04:00.0', '05:00.0', '05:01.0')).toBe(true);
    expect(sameGroup(g, '00:1c.2', '04:00.0')).toBe(false);
  });

  it('a bare tree cannot name the PCIe-to-PCI bridge: a note, and conventionalBridges fixes it', () => {
    const tree = load('workstation-tv.txt');
    const plain = deriveGroups(tree, { acs: 'assume-all' });
    expect(sameGroup(plain.groups, '05:00.0', '05:01.0')).toBe(false);
    expect(plain.notes.join(' ')).toMatch(/0000:04:00.0 has 0000:05:01.0 below it at device numbers other than 0.*conventionalBridges/);
    const told = deriveGroups(tree, { acs: 'assume-all', conventionalBridges: ['04:00.0'] });
    expect(sameGroup(told.groups, '04:00.0', '05:00.0', '05:01.0')).toBe(true);
    expect(told.notes.join(' ')).not.toMatch(/device numbers other than 0/);
  });

  it('a multi-domain server: switch ports, a two-function NIC, the BMC VGA behind an AST1150', () => {
    const tree = load('server-multidomain-tv.txt');
    const ports = deriveGroups(tree, { acs: 'ports-only' }).groups;
    expect(sameGroup(ports, '1a:00.0', '1b:00.0')).toBe(false);
    expect(sameGroup(ports, '19:08.0', '1a:00.0')).toBe(false);
    expect(sameGroup(ports, '81:00.0', '81:00.1')).toBe(true);
    expect(sameGroup(ports, '80:00.0', '81:00.0')).toBe(false);
    expect(ports['10000:01:00.0']).not.toBe(ports['10000:02:00.0']);
    // the AST1150's name does not say PCIe-to-PCI and a tree prints no bridge names …
    expect(sameGroup(ports, '02:00.0', '03:00.0')).toBe(false);
    // … its ID in lspci -D -nn does
    const merged = deriveGroups(mergeTopology(tree, load('server-multidomain-Dnn.txt')), { acs: 'ports-only' }).groups;
    expect(sameGroup(merged, '02:00.0', '03:00.0')).toBe(true);
    expect(sameGroup(merged, '00:1c.5', '02:00.0')).toBe(false);

    const none = deriveGroups(tree, { acs: 'assume-none' }).groups;
    expect(sameGroup(none, '17:00.0', '18:00.0', '19:08.0', '19:09.0', '19:10.0', '1a:00.0', '1b:00.0')).toBe(true);
    expect(sameGroup(none, '80:00.0', '81:00.0', '81:00.1')).toBe(true);
    expect(sameGroup(none, '80:00.0', '80:02.0')).toBe(false);
    expect(sameGroup(none, '00:1c.0', '00:1c.5', '02:00.0', '03:00.0')).toBe(true);
    expect(sameGroup(none, '00:04.0', '00:04.1')).toBe(true);
    // a downstream port with ACS below an upstream port: only the policy at the root port matters
    const rootless = deriveGroups(tree, { acs: 'ports-only', acsOverrides: { '0000:17:00.0': false } }).groups;
    expect(sameGroup(rootless, '17:00.0', '1a:00.0', '1b:00.0')).toBe(true);
  });

  it('without a tree only multi-function sharing is known, and a note says so', () => {
    const d = deriveGroups(load('workstation-nn.txt'), { acs: 'assume-none' });
    expect(sameGroup(d.groups, '01:00.0', '01:00.1')).toBe(true);
    expect(sameGroup(d.groups, '00:1c.0', '00:1c.2', '00:1c.4')).toBe(true);
    expect(sameGroup(d.groups, '00:01.0', '01:00.0')).toBe(false);
    expect(d.notes[0]).toMatch(/no bus tree.*lspci -tv/);
  });

  it('withDerivedGroups keeps real groups and fills missing ones', () => {
    const real = load('workstation-iommu-groups.txt');
    expect(withDerivedGroups(real).topology).toBe(real);
    const filled = withDerivedGroups(load('workstation-tv.txt'));
    expect(Object.keys(filled.topology.groups!)).toHaveLength(24);
    expect(filled.notes.length).toBeGreaterThan(0);
  });

  it('refuses an unknown ACS policy and a bad override address', () => {
    const t = load('workstation-tv.txt');
    expect(() => deriveGroups(t, { acs: 'some' as AcsPolicy })).toThrow(InputError);
    expect(() => deriveGroups(t, { acs: 'some' as AcsPolicy })).toThrow(/^acs: unknown ACS policy "some"; use one of assume-none, ports-only, assume-all$/);
    expect(() => deriveGroups(t, { acsOverrides: { 'zz:00.0': true } })).toThrow(/acsOverrides\["zz:00.0"\]/);
  });

  it('infers port roles from the tree', () => {
    const ix = indexTopology(load('server-multidomain-tv.txt'), ['02:00.0']);
    expect(ix.role('0000:17:00.0')).toBe('root-port');
    expect(ix.role('0000:18:00.0')).toBe('upstream-port');
    expect(ix.role('0000:19:08.0')).toBe('downstream-port');
    expect(ix.role('0000:1a:00.0')).toBe('endpoint');
    expect(ix.role('0000:02:00.0')).toBe('pcie-to-pci-bridge');
    expect(ix.role('0000:03:00.0')).toBe('conventional');
    expect(ix.role('0000:00:1f.0')).toBe('rc-endpoint');
    expect(ix.descendants('0000:17:00.0')).toHaveLength(6);
  });
});

describe('deriveGroups properties', () => {
  /** A random single-domain topology: root-bus devices, ports, switches, conventional bridges. */
  const arbTopology = fc
    .array(
      fc.record({
        kind: fc.constantFrom('endpoint', 'port', 'switch', 'pcie-to-pci'),
        functions: fc.integer({ min: 1, max: 3 }),
        below: fc.integer({ min: 0, max: 3 }),
      }),
      { minLength: 1, maxLength: 8 },
    )
    .map((items) => {
      const functions: PciFunction[] = [];
      const parentOf: Record<string, string | null> = {};
      let nextBus = 1;
      const mk = (bus: number, dev: number, fn: number, parent: string | null, bridge: boolean, conv = false): PciFunction => {
        const bdf = formatBdf(0, bus, dev, fn);
        const f: PciFunction = {
          domain: 0, bus, dev, fn, bdf, classCode: bridge ? 0x0604 : 0x0200, className: '', vendorId: null, deviceId: null,
          name: '', rev: null, isBridge: bridge, isPcieToPciBridge: conv,
        };
        functions.push(f);
        parentOf[bdf] = parent;
        return f;
      };
      items.forEach((it, i) => {
        const dev = i + 1;
        if (it.kind === 'endpoint') {
          for (let f = 0; f < it.functions; f++) mk(0, dev, f, null, false);
          return;
        }
        const port = mk(0, dev, 0, null, true);
        const sec = nextBus++;
        port.secondaryBus = [sec, sec];
        if (it.kind === 'port') {
          for (let f = 0; f < it.functions; f++) mk(sec, 0, f, port.bdf, false);
        } else if (it.kind === 'pcie-to-pci') {
          const br = mk(sec, 0, 0, port.bdf, true, true);
          const sec2 = nextBus++;
          br.secondaryBus = [sec2, sec2];
          for (let d = 0; d < Math.max(1, it.below); d++) mk(sec2, d, 0, br.bdf, false);
        } else {
          const up = mk(sec, 0, 0, port.bdf, true);
          const sec2 = nextBus++;
          up.secondaryBus = [sec2, sec2];
          for (let d = 0; d < it.below; d++) {
            const dn = mk(sec2, d, 0, up.bdf, true);
            const sec3 = nextBus++;
            dn.secondaryBus = [sec3, sec3];
            for (let f = 0; f < it.functions; f++) mk(sec3, 0, f, dn.bdf, false);
          }
        }
      });
      const topo: PciTopology = { functions, parentOf, groups: null, iommuPresent: null };
      return topo;
    });

  it('more ACS never joins groups: assume-all refines ports-only refines assume-none', () => {
    fc.assert(
      fc.property(arbTopology, (topo) => {
        const all = deriveGroups(topo, { acs: 'assume-all' }).groups;
        const ports = deriveGroups(topo, { acs: 'ports-only' }).groups;
        const none = deriveGroups(topo, { acs: 'assume-none' }).groups;
        const fs = topo.functions.map((f) => f.bdf);
        for (const a of fs) {
          for (const b of fs) {
            if (all[a] === all[b]) expect(ports[a]).toBe(ports[b]);
            if (ports[a] === ports[b]) expect(none[a]).toBe(none[b]);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('everything behind a PCIe-to-PCI bridge shares the bridge’s group; groups are numbered densely in address order', () => {
    fc.assert(
      fc.property(arbTopology, fc.constantFrom<AcsPolicy>('assume-none', 'ports-only', 'assume-all'), (topo, acs) => {
        const g = deriveGroups(topo, { acs }).groups;
        const ix = indexTopology(topo);
        for (const f of topo.functions) {
          if (f.isPcieToPciBridge) for (const d of ix.descendants(f.bdf)) expect(g[d]).toBe(g[f.bdf]);
        }
        const firstSeen: number[] = [];
        const byAddress = [...topo.functions].sort((a, b) => a.bus - b.bus || a.dev - b.dev || a.fn - b.fn);
        for (const f of byAddress) if (!firstSeen.includes(g[f.bdf])) firstSeen.push(g[f.bdf]);
        expect(firstSeen).toEqual(firstSeen.map((_, i) => i));
        // with ACS everywhere a single-function endpoint on a PCIe link is alone
        if (acs === 'assume-all') {
          for (const f of topo.functions) {
            const conv = ix.ancestors(f.bdf).some((a) => ix.isConventionalBridge(a));
            if (!f.isBridge && !conv && ix.siblings(f.bdf).length === 1) {
              expect(topo.functions.filter((x) => g[x.bdf] === g[f.bdf])).toHaveLength(1);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
