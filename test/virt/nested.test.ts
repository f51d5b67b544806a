import { describe, it, expect } from 'vitest';
import { NESTED_KNOBS, nestedSpec, nestedExit, exitCycles } from '../../src/virt/nested.js';
import { cyclesPerPacket, CPU_KNOBS, COST_KNOBS, type PacketEvents } from '../../src/virt/cpu.js';
import { PROBES } from '../../src/virt/probes.js';
import { buildConfig } from '../../src/config/config.js';
import { compareModes } from '../../src/run/compare.js';
import { deviceWorkload } from '../../src/run/device-workload.js';
import { findGenerator } from '../../src/run/generators/index.js';
import type { SettingValue } from '../../src/run/workloads.js';

const costs = Object.fromEntries(COST_KNOBS.map((k) => [k.key, Number(k.default)]));
const exitCosts = { hypercallCycles: 1300, kernelIoCycles: 2565, ipiCycles: 3102 };
const n = (over: Record<string, number | boolean> = {}) => nestedSpec({ ...costs, 'virt.nested': true, ...over });
/** L1's handler slowed down (Turtles: 3.33×) over the single-level exit's work without its 1,000-cycle switch round trip. */
const slow = (single: number) => (3.33 - 1) * (single - 1000);

describe('nested virtualization: an L2 exit reflected through L1 (hand-computed)', () => {
  it('the knobs have their sources; off by default, a single-level guest pays nothing extra', () => {
    for (const k of NESTED_KNOBS) expect(k.source.length).toBeGreaterThan(20);
    expect(nestedSpec(costs).enabled).toBe(false);
    expect(nestedExit('exit', nestedSpec(costs), exitCosts)).toEqual({ l1Exits: 0, extra: { handler: 0, transition: 0, vmresume: 0, vmcsTraps: 0, otherTraps: 0, wakeIpis: 0 }, extraCycles: 0 });
  });
  it('no VMCS shadowing: a cpuid costs its single-level cost + L1\'s slowed handler + L0\'s transition + the VMRESUME trap + 10 trapped VMCS accesses', () => {
    const x = exitCycles('exit', n({ 'virt.l1.vmcsShadowing': false }), exitCosts);
    expect(x.l1Exits).toBe(10 + 1);
    expect(x.cycles).toBeCloseTo(1300 + slow(1300) + 5246 + 1059 + 10 * 1059, 9);
    expect(x.cycles).toBeCloseTo(18_894, 6); // the enlightened-VMCS commit's 18,890 with trapping accesses
  });
  it('with VMCS shadowing the accesses stay in L1: transition and VMRESUME only', () => {
    const x = exitCycles('exit', n(), exitCosts);
    expect(x.l1Exits).toBe(1);
    expect(x.cycles).toBeCloseTo(1300 + slow(1300) + 5246 + 1059, 9);
    expect(x.cycles).toBeCloseTo(8304, 6); // and its 8,304 without: the transition is derived from it
  });
  it('a virtio kick is an I/O exit in the kernel (ioeventfd), and L1 sends an IPI to wake its backend', () => {
    const x = exitCycles('kick', n(), exitCosts);
    expect(x.l1Exits).toBe(1 + 1);
    expect(x.cycles).toBeCloseTo(2565 + slow(2565) + 5246 + 1059 + 3102, 9);
    const y = exitCycles('kick', n({ 'virt.l1.vmcsShadowing': false, 'virt.l1.wakeIpisPerKick': 2 }), exitCosts);
    expect(y.l1Exits).toBe(12 + 1 + 2);
    expect(y.cycles).toBeCloseTo(2565 + slow(2565) + 5246 + 1059 + 12 * 1059 + 2 * 3102, 9);
  });
  it('the exit-cycles probe reads the config: nested over single-level, the ratio an anchor checks', () => {
    const vm = PROBES['exit-cycles'](buildConfig([]));
    const l2 = PROBES['exit-cycles'](buildConfig([['virt.nested', true], ['virt.l1.vmcsShadowing', false]]));
    expect(vm.exit).toBe(1300);
    expect(vm['exit.l1Exits']).toBe(0);
    expect(l2.exit / vm.exit).toBeCloseTo((1300 + slow(1300) + 5246 + 11 * 1059) / 1300, 9);
  });
  it('bad values are one line naming the key', () => {
    expect(() => buildConfig([['virt.l1.trapCycles', -1]])).toThrow(/virt\.l1\.trapCycles=-1: below the minimum 0/);
    expect(() => buildConfig([['virt.nested', 'maybe']])).toThrow(/virt\.nested=maybe: expected true or false/);
  });
});

describe('nested virtualization in the CPU model', () => {
  const ev = (e: Partial<PacketEvents>): PacketEvents => ({ driverCycles: 0, interrupts: 0, interruptPath: 'host', eoiExits: 0, maps: 0, unmaps: 0, invalidations: 0, flushes: 0, kernelIoExits: 0, userIoExits: 0, copies: 0, copyBytes: 0, notifications: 0, backendPackets: 0, viommuTraps: 0, ...e });
  const cpuOnly = Object.fromEntries(CPU_KNOBS.map((k) => [k.key, Number(k.default)]));
  it('every exit of the L2 adds its nested cost, charged to the host side; L1 exits are counted', () => {
    const e = ev({ driverCycles: 1000, interrupts: 0.5, interruptPath: 'exit', eoiExits: 0.5, userIoExits: 2, notifications: 0.25 });
    const single = cyclesPerPacket(e, cpuOnly, true);
    expect(single.l1ExitsPerPacket).toBeUndefined();
    const nested = cyclesPerPacket(e, { ...costs, 'virt.nested': 1 }, true);
    const per = 5246 + 1059;
    expect(nested.parts['host.nested']).toBeCloseTo(0.5 * (per + slow(1300)) + 0.5 * (per + slow(2565)) + 2 * (per + slow(2565)) + 0.25 * (per + slow(2565) + 3102), 6);
    expect(nested.total - single.total).toBeCloseTo(nested.parts['host.nested'], 6);
    expect(nested.l1ExitsPerPacket).toBeCloseTo(0.5 + 0.5 + 2 + 0.25 * 2, 9);
    expect(nested.exitsPerPacket).toBe(single.exitsPerPacket);
  });
  it('posted interrupts stay exitless; an injected interrupt is an IPI of L1 (an exit to L0)', () => {
    const posted = cyclesPerPacket(ev({ interrupts: 1, interruptPath: 'posted' }), { ...costs, 'virt.nested': 1 }, true);
    expect(posted.parts['host.nested']).toBeUndefined();
    const injected = cyclesPerPacket(ev({ interrupts: 0.5, interruptPath: 'injected' }), { ...costs, 'virt.nested': 1 }, true);
    expect(injected.parts['host.nested']).toBe(0.5 * 3102);
    expect(injected.l1ExitsPerPacket).toBe(0.5);
  });
  it('compare: an L2 guest costs more cycles per packet on exit paths, the same on posted passthrough', () => {
    const gen = findGenerator('nic-tcp')!;
    const cfgFor = (nested: boolean) => (extra: Array<[string, SettingValue]>) => buildConfig([...gen.defaults.map(([k, v]) => [k, v] as [string, SettingValue]), ['workload.count', 3000], ['virt.nested', nested], ...extra]);
    const w = deviceWorkload('nic-tcp', 'nic-tcp');
    const one = compareModes(w, ['passthrough', 'passthrough-pi', 'virtio'], 'kvm', cfgFor(false));
    const two = compareModes(w, ['passthrough', 'passthrough-pi', 'virtio'], 'kvm', cfgFor(true));
    expect(two.modes[0].cyclesPerPacket.total).toBeGreaterThan(one.modes[0].cyclesPerPacket.total);
    expect(two.modes[2].cyclesPerPacket.total).toBeGreaterThan(one.modes[2].cyclesPerPacket.total);
    expect(two.modes[1].cyclesPerPacket.total).toBe(one.modes[1].cyclesPerPacket.total);
    expect(two.modes[0].cyclesPerPacket.l1ExitsPerPacket).toBeGreaterThan(0);
  });
});

describe('nested virtualization: the mechanisms added for issue #19 (hand-computed)', () => {
  it('L1\'s handler slowdown inflates the single-level exit\'s work without its switch round trip; 1× adds nothing', () => {
    const base = n({ 'virt.l1.handlerSlowdown': 1 });
    expect(nestedExit('exit', base, exitCosts).extra.handler).toBe(0);
    const x = nestedExit('io', n({ 'virt.l1.handlerSlowdown': 2, 'virt.l1.switchCycles': 565 }), exitCosts);
    expect(x.extra.handler).toBe(2000); // (2 − 1) × (2,565 − 565)
    expect(x.extraCycles).toBe(2000 + 5246 + 1059);
    // a switch round trip above the exit's cost leaves no handler work to slow down
    expect(nestedExit('exit', n({ 'virt.l1.switchCycles': 5000 }), exitCosts).extra.handler).toBe(0);
  });
  it('L1\'s other traps per exit cost a trap each and count as L1 exits, with or without VMCS shadowing', () => {
    const x = nestedExit('exit', n({ 'virt.l1.otherTrapsPerExit': 3, 'virt.l1.trapCycles': 1000 }), exitCosts);
    expect(x.extra.otherTraps).toBe(3000);
    expect(x.l1Exits).toBe(3 + 1);
    const y = nestedExit('exit', n({ 'virt.l1.otherTrapsPerExit': 3, 'virt.l1.trapCycles': 1000, 'virt.l1.vmcsShadowing': false }), exitCosts);
    expect(y.l1Exits).toBe(10 + 3 + 1);
    expect(y.extra.vmcsTraps + y.extra.otherTraps).toBe(13 * 1000);
  });
  it('a kick\'s backend wake-up is part of the single-level kick, and of the handler work L1 runs slower', () => {
    const one = exitCycles('kick', nestedSpec({ ...costs, 'virt.kickWakeCycles': 2000 }), exitCosts);
    expect(one).toEqual({ cycles: 2565 + 2000, l1Exits: 0 });
    const two = exitCycles('kick', n({ 'virt.kickWakeCycles': 2000 }), exitCosts);
    expect(two.cycles).toBeCloseTo(4565 + slow(4565) + 5246 + 1059 + 3102, 9);
    // other kinds do not wake the backend
    expect(exitCycles('io', n({ 'virt.kickWakeCycles': 2000 }), exitCosts).cycles).toBeCloseTo(2565 + slow(2565) + 5246 + 1059, 9);
  });
});
