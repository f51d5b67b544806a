import { describe, it, expect } from 'vitest';
import { NIC_KNOBS, resolveNicConfig } from '../../../src/config/knobs/nic.js';
import { parseKnobValue, KNOBS } from '../../../src/config/schema.js';
import { InputError } from '../../../src/util/errors.js';

function inputError(settings: Record<string, unknown>): string {
  let err: unknown;
  try { resolveNicConfig(settings); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(InputError);
  const msg = (err as Error).message;
  expect(msg).not.toContain('\n');
  return msg;
}

describe('nic knobs', () => {
  it('every knob: a nic.* key, a doc, a source, a unit for numbers, a default its own checks accept', () => {
    const keys = new Set<string>();
    for (const k of NIC_KNOBS) {
      expect(k.key).toMatch(/^nic\.[a-zA-Z.]+$/);
      expect(keys.has(k.key)).toBe(false);
      keys.add(k.key);
      expect(k.doc.length).toBeGreaterThan(20);
      expect(k.source.length).toBeGreaterThan(5);
      if (['int', 'number', 'size', 'timeNs'].includes(k.kind)) expect(k.unit, k.key).toBeTruthy();
      if (k.kind === 'enum') expect(k.values).toContain(k.default);
      expect(parseKnobValue(k, k.key, k.default)).toBe(k.default);
    }
    // no key twice in the simulator's schema (which may include these)
    const all = [...KNOBS.map((k) => k.key), ...NIC_KNOBS.filter((k) => !KNOBS.includes(k)).map((k) => k.key)];
    expect(new Set(all).size).toBe(all.length);
  });

  it('defaults resolve to a frozen config', () => {
    const c = resolveNicConfig({});
    expect(c).toMatchObject({
      queues: 4, rss: true, direction: 'rx', rxRing: { entries: 512 }, txRing: { entries: 512 }, descriptorBytes: 16,
      descFetchBatch: 4, writebackBatch: 8, moderation: { packets: 32, usecs: 3 }, napiBudget: 64, driver: { pollDelayNs: 2000 },
      bufferBytes: 2048, iovaPolicy: 'per-packet',
      iova: { magazineEntries: 128, depotMagazines: 32, fqEntries: 256, fqTimeoutNs: 10_000_000, forceDac: false, apertureBits: 48 },
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.iova)).toBe(true);
  });

  it('flat and nested settings, strings with units, other components\' keys ignored', () => {
    const flat = resolveNicConfig({ 'nic.rxRing.entries': '1024', 'nic.driver.pollDelayNs': '3us', 'nic.bufferBytes': '4KiB', 'nic.rss': 'false', 'pcie.gen': 99 });
    const nested = resolveNicConfig({ nic: { rxRing: { entries: 1024 }, driver: { pollDelayNs: 3000 }, bufferBytes: 4096, rss: false } });
    expect(flat).toEqual(nested);
    expect(flat.rxRing.entries).toBe(1024);
    expect(flat.driver.pollDelayNs).toBe(3000);
  });

  it('follows the IOMMU settings unless the NIC key is given', () => {
    expect(resolveNicConfig({ 'iommu.mode': 'strict' }).iova.fqEntries).toBe(0);
    expect(resolveNicConfig({ 'iommu.mode': 'identity' }).iova.fqEntries).toBe(0);
    expect(resolveNicConfig({ 'iommu.mode': 'lazy' }).iova.fqEntries).toBe(256);
    expect(resolveNicConfig({ 'iommu.mode': 'strict', 'nic.iova.fqEntries': 8 }).iova.fqEntries).toBe(8);
    expect(resolveNicConfig({ 'iommu.flushQueue.entries': 64, 'iommu.flushQueue.timeoutNs': '1ms' }).iova).toMatchObject({ fqEntries: 64, fqTimeoutNs: 1e6 });
    expect(resolveNicConfig({ 'iommu.levels': 5 }).iova.apertureBits).toBe(57);
    expect(resolveNicConfig({ 'iommu.levels': 3, 'nic.iova.apertureBits': 40 }).iova.apertureBits).toBe(40);
    // a whole resolved config's subtrees work as they are: { nic: cfg.nic, iommu: cfg.iommu }
    const c = resolveNicConfig({ nic: { queues: 2 }, iommu: { mode: 'lazy', levels: 5, flushQueue: { entries: 1024, timeoutNs: 5e6 }, iotlb: { entries: 64 } } });
    expect(c.queues).toBe(2);
    expect(c.iova).toMatchObject({ fqEntries: 1024, fqTimeoutNs: 5e6, apertureBits: 57 });
    expect(resolveNicConfig({ iommu: { mode: 'strict', flushQueue: { entries: 256 } } }).iova.fqEntries).toBe(0);
  });

  it('a bad value is one InputError line naming the key and the fix', () => {
    expect(inputError({ 'nic.rxRing.entries': 0 })).toMatch(/^nic\.rxRing\.entries=0: below the minimum 2 descriptors$/);
    expect(inputError({ 'nic.rxRing.entries': 10.5 })).toMatch(/^nic\.rxRing\.entries=10\.5: must be a whole number/);
    expect(inputError({ 'nic.iovaPolicy': 'pool' })).toMatch(/^nic\.iovaPolicy=pool: unknown value; use one of per-packet, page-pool, hugepage$/);
    expect(inputError({ 'nic.direction': 'in' })).toMatch(/^nic\.direction=in: unknown value; use one of rx, tx, both-by-flow$/);
    expect(inputError({ 'nic.descriptorBytes': 24 })).toMatch(/^nic\.descriptorBytes=24: not a power of two; use 16 \(Intel 82599\) or 64 \(ConnectX CQE\)$/);
    expect(inputError({ 'nic.moderation.usecs': -1 })).toMatch(/^nic\.moderation\.usecs=-1: below the minimum 0 µs$/);
    expect(inputError({ 'nic.bufferBytes': 'lots' })).toMatch(/^nic\.bufferBytes=lots: not a size such as 4096, 4KiB, 2MiB$/);
    expect(inputError({ 'nic.rss': 'maybe' })).toMatch(/^nic\.rss=maybe: expected true or false$/);
    expect(inputError({ nic: { rss: null } })).toMatch(/^nic\.rss=null: expected a boolean/);
    expect(inputError({ 'nic.rxRing.entrys': 8 })).toMatch(/^nic\.rxRing\.entrys: unknown NIC setting; did you mean nic\.rxRing\.entries\?$/);
    expect(inputError({ 'iommu.flushQueue.entries': 'x' })).toMatch(/^iommu\.flushQueue\.entries=x: /);
  });
});
