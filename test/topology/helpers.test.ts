/**
 * Direct tests of the helpers carved out of parseTree, indexTopology and deriveGroups, on small
 * hand-built cases (the expectations are worked out by hand from the rule each helper documents).
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { acsEnabled, DisjointSets, dmaAnchor, indexTopology, inferRole, type PortRole, type RolePlace } from '../../src/topology/groups.js';
import { bdfSet, formatBdf, parseBdf, type PciFunction, type PciTopology, splitTreeName } from '../../src/topology/lspci.js';

/** A function with nothing known but its address, and `extra` on top. */
const fn = (bdf: string, extra: Partial<PciFunction> = {}): PciFunction => {
  const b = parseBdf(bdf, 'test');
  return {
    ...b, bdf: formatBdf(b.domain, b.bus, b.dev, b.fn),
    classCode: null, className: '', vendorId: null, deviceId: null, name: '', rev: null,
    isBridge: false, isPcieToPciBridge: false, ...extra,
  };
};
const never = (): PortRole => {
  throw new Error('parentRole asked');
};
const place = (p: Partial<RolePlace>): RolePlace => ({ conventionalBridge: false, belowConventional: false, onRootBus: false, parentRole: never, ...p });

describe('splitTreeName: a -tv / -tvnn / -tn name and its IDs', () => {
  it.each([
    ['  Intel Corporation I211 Gigabit Network Connection [8086:1539]', 'Intel Corporation I211 Gigabit Network Connection', 0x8086, 0x1539],
    ['8086:1539', '', 0x8086, 0x1539], // -tn: the IDs alone
    [' NVIDIA Corporation GK208 [GeForce GT 630 Rev. 2]', 'NVIDIA Corporation GK208 [GeForce GT 630 Rev. 2]', null, null],
    ['Foo Corp 8086:1539', 'Foo Corp 8086:1539', null, null], // bare IDs after a name are part of the name
    ['', '', null, null],
  ])('%j', (text, name, vendorId, deviceId) => {
    expect(splitTreeName(text)).toEqual({ name, vendorId, deviceId });
  });
});

describe('bdfSet: canonical addresses of a list', () => {
  it('folds spellings of one address into one entry', () => {
    expect([...bdfSet(['01:00.0', '0000:01:00.0', '1/0/1'], 'hidden')]).toEqual(['0000:01:00.0', '0000:01:00.1']);
    expect(bdfSet([], 'hidden').size).toBe(0);
  });
  it('names the bad entry as label[i]', () => {
    expect(() => bdfSet(['01:00.0', 'zz'], 'pptdevs')).toThrow(InputError);
    expect(() => bdfSet(['01:00.0', 'zz'], 'pptdevs')).toThrow(/^pptdevs\[1\]: /);
  });
});

describe('inferRole: port role from -vv facts, else from the tree', () => {
  it('conventional bridges and what is below them', () => {
    const br = fn('01:00.0', { isBridge: true });
    expect(inferRole(br, place({ conventionalBridge: true }))).toBe('pcie-to-pci-bridge');
    expect(inferRole(br, place({ conventionalBridge: true, belowConventional: true }))).toBe('pci-bridge');
    expect(inferRole(br, place({ belowConventional: true }))).toBe('pci-bridge');
    expect(inferRole(fn('02:01.0'), place({ belowConventional: true }))).toBe('conventional');
  });
  it('-vv port types win over the tree, without asking the parent', () => {
    expect(inferRole(fn('00:1c.0', { isBridge: true, pcieType: 'downstream-port' }), place({ onRootBus: true }))).toBe('downstream-port');
    expect(inferRole(fn('02:00.0', { isBridge: true, pcieType: 'root-port' }), place({}))).toBe('root-port');
    expect(inferRole(fn('03:00.0', { isBridge: true, pcieType: 'upstream-port' }), place({}))).toBe('upstream-port');
    expect(inferRole(fn('03:00.0', { isBridge: true, pcieType: 'pci-to-pcie-bridge' }), place({}))).toBe('pci-bridge');
  });
  it('bridges without -vv: root port on a root bus, else from the parent (below upstream → downstream, else upstream)', () => {
    const br = fn('04:00.0', { isBridge: true });
    expect(inferRole(br, place({ onRootBus: true }))).toBe('root-port');
    expect(inferRole(br, place({ parentRole: () => 'upstream-port' }))).toBe('downstream-port');
    expect(inferRole(br, place({ parentRole: () => 'root-port' }))).toBe('upstream-port');
    expect(inferRole(br, place({ parentRole: () => 'downstream-port' }))).toBe('upstream-port');
  });
  it('non-bridges: host bridge by class, root-complex endpoints on a root bus, endpoints below a port', () => {
    expect(inferRole(fn('00:00.0', { classCode: 0x0600 }), place({ onRootBus: true }))).toBe('host-bridge');
    expect(inferRole(fn('00:02.0'), place({ onRootBus: true }))).toBe('rc-endpoint');
    expect(inferRole(fn('00:02.0', { pcieType: 'endpoint' }), place({ onRootBus: true }))).toBe('endpoint');
    expect(inferRole(fn('00:02.0', { pcieType: 'legacy-endpoint' }), place({ onRootBus: true }))).toBe('endpoint');
    expect(inferRole(fn('01:00.0'), place({}))).toBe('endpoint');
  });
});

describe('acsEnabled: pci_acs_enabled() by role under a policy', () => {
  it('conventional devices and PCIe-to-PCI bridges never isolate, whatever -vv or the policy says', () => {
    for (const r of ['conventional', 'pci-bridge', 'pcie-to-pci-bridge'] as const) {
      expect(acsEnabled(fn('02:00.0', { acs: true }), r, false, 'assume-all')).toBe(false);
    }
  });
  it('root and downstream ports: -vv, else every policy but assume-none', () => {
    const port = fn('00:1c.0');
    expect(acsEnabled(port, 'root-port', true, 'assume-none')).toBe(false);
    expect(acsEnabled(port, 'root-port', true, 'ports-only')).toBe(true);
    expect(acsEnabled(port, 'downstream-port', false, 'assume-all')).toBe(true);
    expect(acsEnabled(fn('00:1c.0', { acs: false }), 'root-port', false, 'assume-all')).toBe(false);
    expect(acsEnabled(fn('00:1c.0', { acs: true }), 'downstream-port', false, 'assume-none')).toBe(true);
  });
  it('endpoints and upstream ports: isolated when single-function; multi-function only with -vv or assume-all', () => {
    expect(acsEnabled(fn('01:00.0'), 'endpoint', false, 'assume-none')).toBe(true);
    expect(acsEnabled(fn('03:00.0'), 'upstream-port', false, 'assume-none')).toBe(true);
    expect(acsEnabled(fn('01:00.0'), 'endpoint', true, 'assume-none')).toBe(false);
    expect(acsEnabled(fn('01:00.0'), 'endpoint', true, 'ports-only')).toBe(false);
    expect(acsEnabled(fn('01:00.0'), 'endpoint', true, 'assume-all')).toBe(true);
    expect(acsEnabled(fn('01:00.0', { acs: true }), 'endpoint', true, 'assume-none')).toBe(true);
    expect(acsEnabled(fn('01:00.0', { acs: false }), 'rc-endpoint', true, 'assume-all')).toBe(false);
  });
});

describe('DisjointSets', () => {
  it('joins sets transitively and leaves the others alone', () => {
    const s = new DisjointSets(['a', 'b', 'c', 'd', 'e']);
    expect(['a', 'b', 'c', 'd', 'e'].map((k) => s.find(k))).toEqual(['a', 'b', 'c', 'd', 'e']);
    s.union('a', 'b');
    s.union('c', 'd');
    expect(s.find('a')).toBe(s.find('b'));
    expect(s.find('a')).not.toBe(s.find('c'));
    s.union('b', 'd');
    s.union('a', 'c'); // already joined: no change
    const r = s.find('a');
    expect(['b', 'c', 'd'].map((k) => s.find(k))).toEqual([r, r, r]);
    expect(['a', 'b', 'c', 'd']).toContain(r);
    expect(s.find('e')).toBe('e');
  });
});

describe('dmaAnchor: steps 1–2 of pci_device_group()', () => {
  // 00:01.0 root port → 01:00.0 PCIe-to-PCI bridge → 02:00.0 PCI-to-PCI bridge → 03:00.0; 01:00.0 → 02:01.0; 00:02.0 on the root bus
  const topo: PciTopology = {
    functions: [
      fn('00:01.0', { isBridge: true }),
      fn('00:02.0'),
      fn('01:00.0', { isBridge: true, isPcieToPciBridge: true }),
      fn('02:00.0', { isBridge: true, isPcieToPciBridge: true }),
      fn('02:01.0'),
      fn('03:00.0'),
    ],
    parentOf: {
      '0000:00:01.0': null,
      '0000:00:02.0': null,
      '0000:01:00.0': '0000:00:01.0',
      '0000:02:00.0': '0000:01:00.0',
      '0000:02:01.0': '0000:01:00.0',
      '0000:03:00.0': '0000:02:00.0',
    },
    groups: null,
    iommuPresent: null,
  };
  const ix = indexTopology(topo);
  it('starts at the top-most conventional bridge above (its DMA alias), and stays there when the path above has ACS', () => {
    expect(dmaAnchor(ix, '0000:02:01.0', () => true)).toBe('0000:01:00.0');
    expect(dmaAnchor(ix, '0000:03:00.0', () => true)).toBe('0000:01:00.0');
    expect(dmaAnchor(ix, '0000:01:00.0', () => true)).toBe('0000:01:00.0');
  });
  it('goes up past every bridge whose path lacks ACS, and stops at the root bus', () => {
    expect(dmaAnchor(ix, '0000:03:00.0', () => false)).toBe('0000:00:01.0');
    expect(dmaAnchor(ix, '0000:03:00.0', (b) => b !== '0000:00:01.0')).toBe('0000:00:01.0');
    expect(dmaAnchor(ix, '0000:00:02.0', () => false)).toBe('0000:00:02.0');
    expect(dmaAnchor(ix, '0000:00:01.0', () => false)).toBe('0000:00:01.0');
  });
  it('a function with no conventional bridge above starts at itself', () => {
    const flat: PciTopology = { ...topo, functions: topo.functions.map((f) => ({ ...f, isPcieToPciBridge: false })) };
    const fx = indexTopology(flat);
    expect(dmaAnchor(fx, '0000:03:00.0', () => true)).toBe('0000:03:00.0');
    expect(dmaAnchor(fx, '0000:03:00.0', (b) => b === '0000:00:01.0')).toBe('0000:01:00.0');
  });
});
