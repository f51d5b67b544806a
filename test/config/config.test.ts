import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildConfig, defaultConfig } from '../../src/config/config.js';
import { KNOBS } from '../../src/config/schema.js';
import { configMarkdown } from '../../src/cli/config.js';
import { canonicalBdf, sourceId } from '../../src/config/bdf.js';

describe('configuration', () => {
  it('every knob has a doc, a source and a unit or a non-numeric kind', () => {
    for (const k of KNOBS) {
      expect(k.doc.length, k.key).toBeGreaterThan(10);
      expect(k.source.length, k.key).toBeGreaterThan(0);
      if (['int', 'number', 'size', 'timeNs'].includes(k.kind) && !k.key.endsWith('.ways') && k.key !== 'seed' && !k.key.endsWith('.domain')) {
        expect(k.unit, `${k.key} needs a unit`).toBeTruthy();
      }
    }
  });
  it('units are accepted where they make sense', () => {
    const c = buildConfig([['iommu.flushQueue.timeoutNs', '10ms'], ['vm.ramBytes', '8GiB'], ['vm.s2PageBytes', '1GiB']]);
    expect(c.iommu.flushQueue.timeoutNs).toBe(10_000_000);
    expect(c.vm.ramBytes).toBe(8 * 1024 ** 3);
  });
  it('ways 0 means fully associative; per-size arrays and per-device keys resolve', () => {
    const c = buildConfig([['iommu.iotlb.2m.entries', 16], ['devices.03:00.0.ats', 'true'], ['devices.03:00.0.atc.entries', 32]]);
    expect(c.iommu.iotlb.ways).toBe(64);
    expect(c.iommu.iotlb['2m']).toMatchObject({ entries: 16, ways: 16 });
    expect(c.devices['0000:03:00.0']).toMatchObject({ ats: true, atc: { entries: 32, ways: 32 } });
  });
  it('bad values are one-line errors naming the key', () => {
    expect(() => buildConfig([['iommu.levels', 6]])).toThrow(/^iommu\.levels=6: above the maximum 5 levels$/);
    expect(() => buildConfig([['iommu.superpages', 'maybe']])).toThrow(/iommu\.superpages=maybe: expected true or false/);
    expect(() => buildConfig([['iommu.flushQueue.timeoutNs', '10 parsecs']])).toThrow(/not a time such as/);
    expect(() => buildConfig([['vm.s2PageBytes', '8KiB']])).toThrow(/vm\.s2PageBytes=8192: must be a page size; use 4KiB, 2MiB or 1GiB/);
    expect(() => buildConfig([['rc.writeLines', 4]])).toThrow(/^rc\.writeLines=4: smaller than one write TLP \(256 B = up to 5 lines\); use 0 \(unlimited\) or at least 5$/);
    expect(buildConfig([['rc.writeLines', 5]]).rc.writeLines).toBe(5);
    expect(() => buildConfig([['devices.03:00.0.drhd', 256]])).toThrow(/devices\.03:00\.0\.drhd=256: above the maximum/);
    expect(() => buildConfig([['devices.03:00.0.colour', 'red']])).toThrow(/unknown configuration key/);
  });
  it('defaults are the schema defaults', () => {
    const d = defaultConfig();
    expect(d.iommu.iotlb.entries).toBe(64);
    expect(d.iommu.flushQueue).toEqual({ entries: 256, timeoutNs: 10_000_000 });
  });
  it('docs/config.md is generated from the schema and current', () => {
    const md = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
    expect(md).toBe(configMarkdown());
  });
  it('PCI addresses', () => {
    expect(canonicalBdf('3:0.1', 'x')).toBe('0000:03:00.1');
    expect(sourceId('0000:af:1f.7')).toBe(0xaf << 8 | 31 << 3 | 7);
    expect(() => canonicalBdf('03:00.8', 'device')).toThrow(/device: '03:00\.8' is not a PCI address/);
  });
});
