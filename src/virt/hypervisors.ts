/**
 * Hypervisor profiles: what each can do for an I/O path and what it costs, on top of the CPU cost
 * knobs (src/virt/cpu.ts, measured on KVM). Assignment constraints from the seeds live in
 * src/topology/check.ts; here are the run-time features. Every departure from the KVM figures
 * is an assumption and says so; a user can override any cost with --set.
 */
import type { HypervisorName } from '../config/hypervisors.js';

export { HYPERVISORS, type HypervisorName } from '../config/hypervisors.js';

export interface HypervisorProfile {
  name: HypervisorName;
  description: string;
  /** VT-d posted interrupts for assigned devices. */
  postedInterrupts: boolean;
  /** EOI virtualisation (APICv): an EOI exits only without it. */
  eoiVirtualized: boolean;
  /** Paths the hypervisor offers, with the reason when not. */
  refuses: Partial<Record<string, string>>;
  /** Multipliers on the KVM-measured exit costs (assumptions, stated in notes). */
  userIoExitScale: number;
  kernelIoExitScale: number;
  notes: string[];
  sources: string[];
}

export const PROFILES: Readonly<Record<HypervisorName, HypervisorProfile>> = {
  kvm: {
    name: 'kvm',
    description: 'KVM + QEMU, VFIO for passthrough, vhost-net for virtio',
    postedInterrupts: true,
    eoiVirtualized: true,
    refuses: {},
    userIoExitScale: 1,
    kernelIoExitScale: 1,
    notes: ['exit costs as measured on KVM (Dall et al.)', 'the whole IOMMU group must be bound to vfio-pci (topology check)'],
    sources: ['Dall et al., ISCA 2016 / ATC 2017 [S]', 'Linux kvm: VT-d posted interrupts (CONFIG_IRQ_REMAP, kvm-intel enable_apicv) [C]'],
  },
  xen: {
    name: 'xen',
    description: 'Xen HVM, pciback for passthrough, QEMU device model in dom0 for emulated devices',
    postedInterrupts: true,
    eoiVirtualized: true,
    refuses: { virtio: 'Xen HVM guests use PV netfront/netback, not virtio-net with vhost; use emulated or passthrough' },
    userIoExitScale: 1.5,
    kernelIoExitScale: 1,
    notes: ['assumption: an exit to the QEMU device model in dom0 costs 1.5× KVM\'s QEMU exit (a domain switch to dom0 and back)', 'devices hidden with pciback.hide; 2 hot-plug slots (6–7) (topology check)'],
    sources: ['Xen VT-d HowTo (seed) [C]', 'Xen 4.6+: VT-d posted interrupts (iommu=verbose,posted-interrupts) [C]'],
  },
  virtualbox: {
    name: 'virtualbox',
    description: 'VirtualBox with --attachpci (experimental PCI passthrough, Linux hosts), e1000 or virtio-net emulation in ring 3',
    postedInterrupts: false,
    eoiVirtualized: false,
    refuses: {
      'passthrough-pi': 'VirtualBox does not use VT-d posted interrupts for attached PCI devices; use passthrough',
      sriov: 'VirtualBox attaches whole PCI functions only through --attachpci; a VF works as a plain passthrough device',
      'passthrough-viommu': 'VirtualBox has no virtual IOMMU for attached devices',
      'viommu-bounce': 'VirtualBox has no virtual IOMMU for attached devices: no DMA API bounces through one',
      vgpu: 'VirtualBox attaches whole PCI functions only (--attachpci); it has no mediated or SR-IOV vGPU support: attach the whole GPU or use API remoting',
    },
    userIoExitScale: 1.3,
    kernelIoExitScale: 1,
    notes: ['assumption: device emulation in ring-3 VirtualBox costs 1.3× KVM\'s QEMU exit', 'MSI only, no shared interrupts; no save/restore or teleportation with an attached device; guest RAM preallocated (topology check)'],
    sources: ['VirtualBox manual, PCI passthrough (seed) [C]'],
  },
  bhyve: {
    name: 'bhyve',
    description: 'FreeBSD bhyve with ppt (pptdevs) passthrough; e1000 and virtio-net emulation in the bhyve process',
    postedInterrupts: true,
    eoiVirtualized: true,
    refuses: {
      'passthrough-viommu': 'bhyve offers no virtual IOMMU to guests',
      'viommu-bounce': 'bhyve offers no virtual IOMMU to guests: no DMA API bounces through one',
      vgpu: 'bhyve assigns whole PCI functions (ppt devices); it has no mediated-device (vGPU) support: pass the whole GPU through or use API remoting',
    },
    userIoExitScale: 1,
    kernelIoExitScale: 1,
    notes: ['config-space accesses to BARs and the MSI capability are intercepted; I/O-port BARs are trapped per access (a user-space exit each); MMIO is direct through nested paging (seed)', 'assumption: exit costs as KVM\'s'],
    sources: ['N. Natu, freebsd-virtualization list, 2011 (seed) [C]', 'FreeBSD vmm: VMX posted interrupts (vmx.c posted_interrupts) [C]'],
  },
};
