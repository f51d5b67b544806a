/**
 * Nested virtualization's knobs (`virt.nested`, `virt.l1.*`; the model: src/virt/nested.ts).
 */
import type { Knob } from '../knob.js';
import type { KnobTree } from '../tree.js';

const KVM_2635 = 'counted in Linux 2.6.35 arch/x86/kvm/vmx.c, the L1 KVM of the Turtles era [C]';

const EVMCS = 'Linux commit "x86/kvm/vmx: use enlightened VMCS" (V. Kuznetsov, 2018): a tight CPUID loop in an L2 under KVM-on-Hyper-V took 18,890 cycles with L1\'s VMREAD/VMWRITE trapping and 8,304 cycles without [C]';

const NESTED_TABLE = [
  { key: 'virt.nested', kind: 'bool', default: false, doc: 'the guest is an L2: it runs under an L1 hypervisor (the profile\'s) that is itself a guest of an L0 hypervisor of the same kind; every exit of the guest goes to L0 and is reflected to L1, whose exit handler runs as a guest (virt.l1.*)', source: 'Turtles (Ben-Yehuda et al., OSDI 2010) §3.2: exits of L2 trap to L0, which forwards them to L1 [S]; Linux Documentation/virt/kvm/x86/nested-vmx.rst [C]; off: a single-level guest' },
  { key: 'virt.l1.vmcsShadowing', kind: 'bool', default: true, doc: 'L0 gives L1 VMCS shadowing: L1\'s VMREAD/VMWRITE of shadowed fields complete without exiting (false: each one exits to L0, as before Haswell)', source: 'Intel SDM vol. 3 §24.10 VMCS shadowing (Haswell and later) [C]; Linux kvm_intel enable_shadow_vmcs=1 by default [C]' },
  { key: 'virt.l1.vmcsAccessesPerExit', kind: 'number', default: 10, min: 0, max: 1000, unit: 'VMREAD/VMWRITE', doc: 'VMCS accesses L1 (KVM) makes to handle one simple exit (cpuid, external interrupt) and re-enter: each one exits to L0 without VMCS shadowing', source: `${KVM_2635}: vmx_vcpu_run writes GUEST_RIP (dirty) and HOST_CR0 and reads IDT_VECTORING_INFO, VM_EXIT_INTR_INFO, VM_EXIT_REASON; vmx_handle_exit reads GUEST_CR3; skip_emulated_instruction reads GUEST_RIP, VM_EXIT_INSTRUCTION_LEN, GUEST_INTERRUPTIBILITY_INFO; update_cr8_intercept writes TPR_THRESHOLD` },
  { key: 'virt.l1.vmcsAccessesPerIoExit', kind: 'number', default: 12, min: 0, max: 1000, unit: 'VMREAD/VMWRITE', doc: 'VMCS accesses L1 makes for an I/O exit (MMIO, port I/O, a virtio kick, an EOI): a simple exit\'s plus the exit qualification and the access\'s address', source: `${KVM_2635}: as virt.l1.vmcsAccessesPerExit, plus handle_io / handle_ept_misconfig reading EXIT_QUALIFICATION and GUEST_PHYSICAL_ADDRESS` },
  { key: 'virt.l1.trapCycles', kind: 'number', default: 1059, min: 0, unit: 'cycles', doc: 'one privileged instruction of L1 that exits to L0 and is emulated in L0\'s kernel (a VMREAD/VMWRITE without shadowing, the VMRESUME that ends L1\'s handler): exit, emulation, entry', source: `${EVMCS}: (18,890 − 8,304) / 10 trapped accesses = 1,059 per trap, about a hypercall round trip (Dall et al.: 1,300–1,437 [S])` },
  { key: 'virt.l1.transitionCycles', kind: 'number', default: 5945, min: 0, unit: 'cycles', doc: 'L0\'s own work per reflected exit: emulating the VM exit into L1 (syncing VMCS0→2 into VMCS1→2, loading L1\'s state) and, on L1\'s VMRESUME, the nested entry (merging VMCS1→2 into VMCS0→2, consistency checks)', source: `${EVMCS}: 8,304 = a single-level cpuid (virt.exit.hypercallCycles, 1,300) + the VMRESUME trap (virt.l1.trapCycles, 1,059) + this, so 5,945 [C, derived]` },
  { key: 'virt.l1.wakeIpisPerKick', kind: 'number', default: 1, min: 0, max: 100, unit: 'IPIs', doc: 'IPIs L1 sends per paravirtual kick (virtio notify) of the L2 to wake its backend thread (vhost) on another L1 vCPU: each exits to L0 and is delivered as a virtual IPI (virt.ipiCycles)', source: 'assumption: one reschedule IPI per kick (eventfd_signal wakes the idle vhost worker on another vCPU); no IPI virtualization in L0' },
] as const satisfies readonly Knob[];
export const NESTED_KNOBS: readonly Knob[] = NESTED_TABLE;

/** The configuration's `virt` section, typed from NESTED_KNOBS's table. */
export type NestedSection = KnobTree<typeof NESTED_TABLE>['virt'];
