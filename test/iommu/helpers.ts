import { buildConfig, deviceSettings } from '../../src/config/config.js';
import { Iommu } from '../../src/iommu/iommu.js';

export const NIC = 0x0300; // 03:00.0
export const NIC2 = 0x0301; // 03:00.1
export const GPU = 0x0100; // 01:00.0

export function setup(settings: Array<[string, string | number | boolean]> = []) {
  const cfg = buildConfig(settings);
  const iommu = new Iommu(cfg);
  const attach = (sid: number) => {
    const bus = (sid >> 8).toString(16).padStart(2, '0');
    const dev = ((sid >> 3) & 31).toString(16).padStart(2, '0');
    const bdf = `0000:${bus}:${dev}.${sid & 7}`;
    return iommu.attach(sid, deviceSettings(cfg, bdf), bdf);
  };
  return { cfg, iommu, attach };
}

/** Walk reads so far (excluding context-entry reads). */
export const reads = (i: Iommu) => i.metrics().walks.memReads;
