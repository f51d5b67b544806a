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
  {
    name: 'nehalem-kvm87-nested',
    description: 'the Turtles testbed (Ben-Yehuda et al., OSDI 2010 §4): one 2.9 GHz Nehalem Xeon core, KVM kvm-87 as L0 and as L1, no VMCS shadowing — the CPU and nested-exit costs only; the I/O side is the default platform\'s',
    settings: [
      ['cpu.ghz', 2.9], ['virt.exit.hypercallCycles', 2600],
      ['virt.l1.vmcsShadowing', false], ['virt.l1.vmcsAccessesPerExit', 11], ['virt.l1.otherTrapsPerExit', 0],
      ['virt.l1.switchCycles', 1000], ['virt.l1.handlerSlowdown', 3.33], ['virt.l1.trapCycles', 2730], ['virt.l1.transitionCycles', 17790],
    ],
    sources: [
      'Turtles §4.3: cpuid ~2,600 cycles in a single-level guest (Fig. 10 col. 1), ~1,000 of it the CPU mode switches: virt.exit.hypercallCycles 2,600, virt.l1.switchCycles 1,000 [S]',
      'Turtles §4.3: L1 reads 7 and writes 4 fields of VMCS1→2 per cpuid, 11 exits to L0; 13 switches in all = the exit, the 11 accesses and the VMRESUME (virt.l1.otherTrapsPerExit 0); pre-Haswell, no VMCS shadowing [S]',
      'Turtles §4.3: L1 handles cpuid in ~5,000 cycles, the same code on bare metal in 1,500 (cache pollution): virt.l1.handlerSlowdown 3.33 [S]',
      'Turtles Fig. 10, bars read at 238 cycles a pixel (±1 px): L0\'s share 38,571 (col. 2, nested) and 19,524 (col. 4, non-trapping VMREAD/VMWRITE); the 11 trapped accesses are the difference, 1,732 each in L0, plus a ~1,000-cycle switch round trip: virt.l1.trapCycles 2,730 (cols. 3 − 5 give 1,883 in L0: consistent) [S, derived]',
      'Turtles Fig. 10: col. 4\'s L0 share (19,524) is the transition plus the VMRESUME trap\'s L0 part (1,732): virt.l1.transitionCycles 17,790 without, 3,740 with §3.5.1\'s merge optimizations (col. 5\'s L0 share 5,476 − 1,732) [S, derived]',
    ],
  },
  {
    name: 'haswell-kvm-on-kvm',
    description: 'x86 KVM-on-KVM with VMCS shadowing on a Haswell-EP Xeon (E5-2630 v3, 2.4 GHz): NEVE\'s x86 testbed (Lim et al., SOSP 2017; KVM 4.10 as L0 and L1), the setup DVH (Lim & Nieh, ASPLOS 2020; KVM 4.18) measured its nested virtio notify on — the CPU and nested-exit costs only; the I/O side is the default platform\'s',
    settings: [
      ['cpu.ghz', 2.4], ['virt.exit.hypercallCycles', 1188], ['virt.exit.kernelIoCycles', 2307], ['virt.ipiCycles', 2751], ['virt.kickWakeCycles', 2677],
      ['virt.l1.vmcsShadowing', true], ['virt.l1.otherTrapsPerExit', 3], ['virt.l1.wakeIpisPerKick', 1],
      ['virt.l1.switchCycles', 1000], ['virt.l1.handlerSlowdown', 3.33], ['virt.l1.trapCycles', 1188], ['virt.l1.transitionCycles', 29967],
    ],
    sources: [
      'NEVE (Lim et al., SOSP 2017) Table 1, x86 VM: Hypercall 1,188, Device I/O 2,307, Virtual IPI 2,751 cycles (virt.exit.hypercallCycles, virt.exit.kernelIoCycles, virt.ipiCycles) [S]',
      'NEVE Table 7, x86 nested VM: 5 traps to the host hypervisor per Hypercall and per Device I/O — the exit, the VMRESUME and 3 more (virt.l1.otherTrapsPerExit 3) [S]',
      'an L1 trap is a VM exit of the light kind, taken as NEVE\'s VM Hypercall, 1,188 (virt.l1.trapCycles; on Turtles\' machine a trap, 2,730, is about its 2,600-cycle single-level cpuid) [S, assumption]',
      'NEVE Table 1, x86 nested Hypercall 36,345 = 1,188 + 4 L1 traps × 1,188 + L1\'s handler slowed down ((3.33 − 1) × (1,188 − 1,000) = 438) + the transition: virt.l1.transitionCycles 29,967 [S, derived]; the nested Device I/O row (39,108) is then a prediction: 40,075 (+2.5 %)',
      'virt.kickWakeCycles 2,677: DVH\'s VM virtio notify (4,984) over NEVE\'s VM Device I/O exit (2,307) — the backend\'s wake-up a kick adds to its exit [S, derived]; virt.l1.switchCycles and handlerSlowdown: Turtles\' (no figure for this machine)',
    ],
  },
];

export function findPlatform(name: string): Platform | undefined {
  return PLATFORMS.find((p) => p.name === name);
}
