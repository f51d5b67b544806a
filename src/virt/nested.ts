/**
 * Nested virtualization: the guest is an L2, run by an L1 hypervisor that is itself a guest of the
 * L0 hypervisor on the hardware (Turtles, OSDI 2010 §3; Linux Documentation/virt/kvm/x86/nested-vmx).
 *
 * An exit of the L2 goes to L0, which reflects it to L1: L0 emulates a VM exit into L1 (copies the
 * exit information and L2's state into L1's VMCS1→2, loads L1's state) and resumes L1. L1 runs the
 * same exit handler it would run as a single-level hypervisor, but as a guest: each of its
 * privileged instructions exits to L0 — every VMREAD/VMWRITE unless L0 gives L1 VMCS shadowing, the
 * VMRESUME that ends the handler (L0 emulates the nested entry: merges VMCS1→2 into the VMCS0→2 the
 * hardware runs), and any IPI L1 sends (to wake its backend thread). So one L2 exit costs
 *
 *   single-level cost of the exit (the mode switches, the handler's work at its bare-metal cost)
 *   + L1's handler slowed down: (handlerSlowdown − 1) × (single-level cost − the switch round trip)
 *     — L1 runs the same code, but L0's work between its steps pollutes its caches and TLBs
 *   + L0's transition work (reflecting the exit, emulating the nested entry)
 *   + the VMRESUME trap
 *   + (no VMCS shadowing) VMCS accesses of L1's handler × one trap each
 *   + L1's other exits on the path (fields outside the shadow VMCS, MSRs, timers) × one trap each
 *   + (a paravirtual kick) L1's IPIs to wake its backend × a virtual IPI each.
 *
 * Counts are from KVM's code (L1 = KVM) or a paper's trap counts; costs are the CPU model's exit
 * costs (Dall et al.) and a developer's measurement of the same flow (the Hyper-V enlightened-VMCS
 * commit) by default. The platforms nehalem-kvm87-nested (Turtles' breakdown, Fig. 10) and
 * haswell-kvm-on-kvm (NEVE's x86 KVM-on-KVM tables) set the same knobs to those machines' figures.
 * Nothing here is fitted to a nested figure.
 */
import { NESTED_KNOBS } from '../config/knobs/nested.js';

export { NESTED_KNOBS };



/** The nested knobs' values (from a resolved config's `virt.nested` / `virt.l1.*`, or the CPU costs record). */
export interface NestedSpec {
  enabled: boolean;
  vmcsShadowing: boolean;
  vmcsAccessesPerExit: number;
  vmcsAccessesPerIoExit: number;
  trapCycles: number;
  transitionCycles: number;
  switchCycles: number;
  handlerSlowdown: number;
  otherTrapsPerExit: number;
  kickWakeCycles: number;
  wakeIpisPerKick: number;
}

/** Exit kinds the CPU model counts: a simple exit (cpuid, external interrupt), an I/O exit (kernel or VMM), an EOI, a paravirtual kick. */
export type ExitKind = 'exit' | 'io' | 'eoi' | 'kick';

/** The costs a nested exit is built from: the single-level exit costs (cycles). */
export interface ExitCosts { hypercallCycles: number; kernelIoCycles: number; ipiCycles: number }

/** The nested spec from a flat record of knob values (true/false or 1/0 for the booleans). */
export function nestedSpec(v: Record<string, number | boolean | undefined>): NestedSpec {
  const num = (k: string): number => { const x = v[k]; return typeof x === 'number' ? x : (NESTED_KNOBS.find((n) => n.key === k)!.default as number); };
  const bool = (k: string): boolean => { const x = v[k]; return x === undefined ? (NESTED_KNOBS.find((n) => n.key === k)!.default as boolean) : Boolean(x); };
  return {
    enabled: bool('virt.nested'), vmcsShadowing: bool('virt.l1.vmcsShadowing'),
    vmcsAccessesPerExit: num('virt.l1.vmcsAccessesPerExit'), vmcsAccessesPerIoExit: num('virt.l1.vmcsAccessesPerIoExit'),
    trapCycles: num('virt.l1.trapCycles'), transitionCycles: num('virt.l1.transitionCycles'), switchCycles: num('virt.l1.switchCycles'),
    handlerSlowdown: num('virt.l1.handlerSlowdown'), otherTrapsPerExit: num('virt.l1.otherTrapsPerExit'), kickWakeCycles: num('virt.kickWakeCycles'),
    wakeIpisPerKick: num('virt.l1.wakeIpisPerKick'),
  };
}

export interface NestedExit {
  /** Exits of L1 to L0 that one L2 exit of this kind causes (trapped VMCS accesses, other traps, the VMRESUME, wake IPIs). */
  l1Exits: number;
  /** Cycles one L2 exit of this kind adds over the same exit of a single-level guest, by part. */
  extra: { handler: number; transition: number; vmresume: number; vmcsTraps: number; otherTraps: number; wakeIpis: number };
  extraCycles: number;
}

/** What one exit of `kind` of an L2 guest adds to the single-level cost of that exit (nothing when not nested). */
export function nestedExit(kind: ExitKind, n: NestedSpec, costs: ExitCosts): NestedExit {
  if (!n.enabled) return { l1Exits: 0, extra: { handler: 0, transition: 0, vmresume: 0, vmcsTraps: 0, otherTraps: 0, wakeIpis: 0 }, extraCycles: 0 };
  const accesses = n.vmcsShadowing ? 0 : kind === 'exit' ? n.vmcsAccessesPerExit : n.vmcsAccessesPerIoExit;
  const ipis = kind === 'kick' ? n.wakeIpisPerKick : 0;
  // L1's handler work: the single-level exit's cost without its mode switches, run slower in L1
  const handlerWork = Math.max(0, singleExitCycles(kind, costs, n) - n.switchCycles);
  const extra = {
    handler: (n.handlerSlowdown - 1) * handlerWork, transition: n.transitionCycles, vmresume: n.trapCycles,
    vmcsTraps: accesses * n.trapCycles, otherTraps: n.otherTrapsPerExit * n.trapCycles, wakeIpis: ipis * costs.ipiCycles,
  };
  const extraCycles = extra.handler + extra.transition + extra.vmresume + extra.vmcsTraps + extra.otherTraps + extra.wakeIpis;
  return { l1Exits: accesses + n.otherTrapsPerExit + 1 + ipis, extra, extraCycles };
}

/** The single-level cost of one exit of `kind` (cycles): a simple exit is a hypercall-class round trip, an I/O exit one handled in the kernel (ioeventfd), a kick that plus the backend's wake-up (virt.kickWakeCycles). */
export function singleExitCycles(kind: ExitKind, costs: ExitCosts, n: Pick<NestedSpec, 'kickWakeCycles'>): number {
  return kind === 'exit' ? costs.hypercallCycles : kind === 'kick' ? costs.kernelIoCycles + n.kickWakeCycles : costs.kernelIoCycles;
}

/** The cost of one exit of `kind` for the guest `n` describes (single-level, or an L2), with L1's exits per L2 exit. */
export function exitCycles(kind: ExitKind, n: NestedSpec, costs: ExitCosts): { cycles: number; l1Exits: number } {
  const x = nestedExit(kind, n, costs);
  return { cycles: singleExitCycles(kind, costs, n) + x.extraCycles, l1Exits: x.l1Exits };
}
