/**
 * Platform presets: a host, its IOMMU and a device link, as sets of ordinary settings. `--platform
 * NAME` applies one before any `--set`. The schema defaults are the `broadwell-gen3x8` preset
 * (the platform pcie-bench measured), so its settings list is empty.
 */
export interface Platform {
  name: string;
  description: string;
  settings: ReadonlyArray<readonly [string, string | number | boolean]>;
  sources: string[];
}

/** Why a platform other than pcie-bench's sets pciebench.* to 0. */
const SRC_OWN_DEVICE = 'pciebench.* 0: on this platform the pciebench generator stands for the platform\'s own device running pcie-bench\'s closed loop, not pcie-bench\'s NFP6000 firmware: no context limit besides device.dmaEngine.maxInFlight, no data mover (the NFP\'s 9 ns a line would hold a 4 KiB DMA stream near 57 Gb/s; no public per-line figure for this device)';

/** The Cascade Lake 100 Gb/s host (Rubin et al. and Vuppalapati et al.); the DDIO-off preset differs only in memory.ddio. */
const CASCADELAKE_100G: Platform['settings'] = [
  ['pcie.gen', 3], ['pcie.lanes', 16], ['pcie.mpsBytes', 256], ['pcie.mrrsBytes', 4096], ['pcie.tags', 256],
  ['rc.writeLines', 92],
  ['memory.dramGBps', 46.9], ['memory.ddio', true], ['memory.dramLatencyNs', 197], ['memory.pageTables', 'dram'],
  ['device.dmaEngine.maxInFlight', 256], ['device.clockMHz', 1000],
  ['pciebench.contexts', 0], ['pciebench.descriptorNs', 0], ['pciebench.lineNs', 0],
];

export const PLATFORMS: readonly Platform[] = [
  {
    name: 'broadwell-gen3x8',
    description: 'Xeon E5-2630 v4 (Broadwell-EP), NIC DMA engine on PCIe Gen3 x8, 64-entry IOTLB, DDIO on — the pcie-bench testbed',
    settings: [],
    sources: ['Neugebauer et al., SIGCOMM 2018 and its raw data (published-figures §1–2) [P]'],
  },
  {
    name: 'cascadelake-100g',
    description: 'Xeon Gold 6234 (Cascade Lake), 100 Gb/s NIC (ConnectX-5 class) on PCIe Gen3 x16, DDIO on, 2 × DDR4-2933',
    settings: CASCADELAKE_100G,
    sources: [
      'Vuppalapati et al., SIGCOMM 2024 §4–5: Gold 6234, 2 × DDR4-2933 = 46.9 GB/s, ~92 write lines at the IIO (rc.writeLines) [P]',
      'Rubin et al., SOSP 2024 §2.2: 197 ns per IOMMU memory read on this host (memory.dramLatencyNs seen from the root complex, page tables read from memory; DDIO does not change it, §4.1) [P]; Vuppalapati et al.: a device write takes ~300 ns to reach memory unloaded [P]',
      'Rubin et al., SOSP 2024 §2.2: Cascade Lake with a 100 Gb/s ConnectX-5 [P]',
      'ConnectX-5 uses 8-bit (extended) tags and MRRS 4096 under Linux (mlx5 sets pcie_set_readrq 4096) [C]',
      SRC_OWN_DEVICE,
    ],
  },
  {
    name: 'cascadelake-100g-ddio-off',
    description: 'as cascadelake-100g with DDIO off (device writes go to DRAM), the setting of the F&S per-4 KiB model',
    settings: CASCADELAKE_100G.map(([k, v]) => [k, k === 'memory.ddio' ? false : v] as const),
    sources: ['Rubin et al., SOSP 2024 §2.2: Cascade Lake, 100 Gb/s CX-5, DDIO off; 197 ns per IOMMU memory read [P]', 'Vuppalapati et al., SIGCOMM 2024 §4–5: ~92 write lines at the IIO [P]', SRC_OWN_DEVICE],
  },
  {
    name: 'gen5x16-gpu',
    description: 'a PCIe Gen5 x16 GPU (H100 class) in a Sapphire Rapids host, 10-bit tags, 8 × DDR5-4800',
    settings: [
      ['pcie.gen', 5], ['pcie.lanes', 16], ['pcie.mpsBytes', 256], ['pcie.mrrsBytes', 512], ['pcie.tags', 768],
      ['memory.dramGBps', 307.2], ['memory.dramLatencyNs', 197], ['memory.pageTables', 'dram'],
      ['device.dmaEngine.maxInFlight', 1024], ['device.clockMHz', 1755],
      ['pciebench.contexts', 0], ['pciebench.descriptorNs', 0], ['pciebench.lineNs', 0],
      ['iommu.levels', 5],
      ['gpu.copyGBps', 50],
    ],
    sources: [
      'PCIe 5.0: 32 GT/s, 10-bit tags (768 outstanding) [C]',
      'Xeon Scalable 4th gen: 8 channels DDR5-4800 = 307.2 GB/s (Intel ARK) [C]',
      'memory seen from the root complex, the IOMMU\'s page-table reads included: 197 ns, as measured on the nearest mesh Xeon with a published figure (Cascade Lake, Rubin et al., SOSP 2024 §2.2) [P]; not measured on Sapphire Rapids (assumption)',
      'H100 PCIe boost clock 1,755 MHz (NVIDIA datasheet) [C]; 5-level paging on Sapphire Rapids',
      'gpu.copyGBps 50: assumption, ~80 % of Gen5 x16\'s 63 GB/s per direction',
      SRC_OWN_DEVICE,
    ],
  },
];

export function findPlatform(name: string): Platform | undefined {
  return PLATFORMS.find((p) => p.name === name);
}
