import { describe, it, expect } from 'vitest';
import {
  PostedInterrupts, PID_BYTES, PID_BASE_FRAME, VCPU_RUNNING, VCPU_BLOCKED, VCPU_PREEMPTED,
  POST_NOTIFIED_GUEST, POST_NOTIFIED_HOST, POST_NOTIFIED_HOST_RUNNABLE, POST_SUPPRESSED_OUTSTANDING, POST_SUPPRESSED_SN, POST_BAD_DESCRIPTOR,
} from '../../../src/iommu/irq/posted.js';
import { InterruptRemapper, encodeRemappableMsi, IRQ_POSTED } from '../../../src/iommu/irq/remap.js';
import { InputError } from '../../../src/util/errors.js';

const NV = 0xf2; // KVM POSTED_INTR_VECTOR on x86 (any vector works here)

describe('posted-interrupt descriptor', () => {
  it('lives in simulated memory with the VT-d layout: PIR 255:0, ON 256, SN 257, NV 279:272, NDST 319:288', () => {
    const p = new PostedInterrupts();
    const pda = p.allocDescriptor(NV, 0x17, { running: true });
    expect(pda).toBe(PID_BASE_FRAME * 4096);
    expect(pda % PID_BYTES).toBe(0);
    const frame = PID_BASE_FRAME;
    expect(p.mem.lo(frame, 4)).toBe(NV << 16);
    expect(p.mem.hi(frame, 4)).toBe(0x17);
    p.post(pda, 0x41);
    // vector 0x41 = 65: slot 1 (vectors 64..127), low word, bit 1
    expect(p.mem.lo(frame, 1)).toBe(1 << 1);
    expect(p.mem.lo(frame, 4) & 1).toBe(1); // ON
    p.post(pda, 0xa0); // 160: slot 2, high word (160-128 = 32 → hi), bit 0
    expect(p.mem.hi(frame, 2)).toBe(1);
    p.setSuppress(pda, true);
    expect(p.mem.lo(frame, 4)).toBe((NV << 16) | 3); // ON and SN
    expect([p.on(pda), p.sn(pda), p.nv(pda), p.ndst(pda)]).toEqual([true, true, NV, 0x17]);
    expect(p.pirTest(pda, 0x41) && p.pirTest(pda, 0xa0) && !p.pirTest(pda, 0x42)).toBe(true);
  });

  it('hands out 64 descriptors per 4 KiB page, each 64-byte aligned', () => {
    const p = new PostedInterrupts(130);
    const pdas = Array.from({ length: 130 }, (_, i) => p.allocDescriptor(NV, i));
    expect(pdas[1] - pdas[0]).toBe(64);
    expect(pdas[64]).toBe((PID_BASE_FRAME + 1) * 4096);
    expect(pdas.map((a) => p.idOf(a))).toEqual(pdas.map((_, i) => i));
    expect(p.ndst(pdas[129])).toBe(129);
    expect(() => p.allocDescriptor(NV, 0)).toThrow(InputError);
    expect(p.idOf(pdas[0] + 8)).toBe(-1);
  });
});

describe('posting', () => {
  it('two posts before the vCPU syncs: one notification, the second suppressed (ON outstanding)', () => {
    const p = new PostedInterrupts();
    const pda = p.allocDescriptor(NV, 1, { running: true });
    expect(p.post(pda, 0x30)).toBe(POST_NOTIFIED_GUEST);
    expect(p.post(pda, 0x31)).toBe(POST_SUPPRESSED_OUTSTANDING);
    expect(p.metrics()).toMatchObject({ posts: 2, notifications: 1, suppressedOutstanding: 1, deliveredWithoutExit: 1, wakeups: 0, pidAccesses: 2 });
    expect(p.syncPir(pda)).toBe(2);
    expect(p.on(pda)).toBe(false);
    expect(p.pirTest(pda, 0x30) || p.pirTest(pda, 0x31)).toBe(false);
    expect(p.virrTest(pda, 0x30) && p.virrTest(pda, 0x31)).toBe(true);
    // after the sync the next post notifies again
    expect(p.post(pda, 0x32)).toBe(POST_NOTIFIED_GUEST);
    expect(p.notifications).toBe(2);
  });

  it('the same vector twice before a sync coalesces into one pending bit', () => {
    const p = new PostedInterrupts();
    const pda = p.allocDescriptor(NV, 1, { running: true });
    p.post(pda, 0x40);
    p.post(pda, 0x40);
    expect(p.pirAlreadySet).toBe(1);
    expect(p.syncPir(pda)).toBe(1);
    expect(p.metrics()).toMatchObject({ syncs: 1, vectorsSynced: 1 });
  });

  it('SN set: the PIR bit is set but no notification is sent; an urgent IRTE overrides SN', () => {
    const p = new PostedInterrupts();
    const pda = p.allocDescriptor(NV, 1, { sn: true, running: true });
    expect(p.post(pda, 0x50)).toBe(POST_SUPPRESSED_SN);
    expect(p.pirTest(pda, 0x50)).toBe(true);
    expect(p.on(pda)).toBe(false);
    expect(p.notifications).toBe(0);
    expect(p.post(pda, 0x51, 1)).toBe(POST_NOTIFIED_GUEST);
    expect(p.on(pda)).toBe(true);
    expect(p.metrics()).toMatchObject({ suppressedSn: 1, urgentOverrides: 1, notifications: 1 });
    // clearing SN (KVM does on vcpu_load) does not by itself notify; the pending bits wait for the sync
    p.syncPir(pda);
    p.setSuppress(pda, false);
    expect(p.post(pda, 0x52)).toBe(POST_NOTIFIED_GUEST);
  });

  it('running vCPU: no VM exit; blocked vCPU: the host takes the notification and wakes it; preempted: host, no wakeup', () => {
    const p = new PostedInterrupts();
    const pda = p.allocDescriptor(NV, 1, { running: true });
    expect(p.post(pda, 0x30)).toBe(POST_NOTIFIED_GUEST);
    p.syncPir(pda);
    p.setVcpuRunning(pda, false);
    expect(p.vcpuState(pda)).toBe(VCPU_BLOCKED);
    expect(p.post(pda, 0x30)).toBe(POST_NOTIFIED_HOST);
    expect(p.post(pda, 0x31)).toBe(POST_SUPPRESSED_OUTSTANDING); // the woken vCPU has not synced yet
    p.setVcpuRunning(pda, true); // woken, enters the guest, syncs
    expect(p.syncPir(pda)).toBe(2);
    p.setVcpuState(pda, VCPU_PREEMPTED);
    expect(p.post(pda, 0x33)).toBe(POST_NOTIFIED_HOST_RUNNABLE);
    expect(p.metrics()).toMatchObject({ notifications: 3, deliveredWithoutExit: 1, hostNotifications: 2, wakeups: 1 });
    p.setVcpuState(pda, VCPU_RUNNING);
    expect(p.vcpuRunning(pda)).toBe(true);
  });

  it('an address that is no allocated descriptor is counted, not a crash', () => {
    const p = new PostedInterrupts();
    p.allocDescriptor(NV, 1);
    expect(p.post(0x1000, 0x30)).toBe(POST_BAD_DESCRIPTOR);
    expect(p.post(PID_BASE_FRAME * 4096 + 64, 0x30)).toBe(POST_BAD_DESCRIPTOR); // not yet allocated
    expect(p.metrics()).toMatchObject({ badDescriptor: 2, pidAccesses: 0, notifications: 0 });
    expect(() => p.syncPir(0x1000)).toThrow(InputError);
  });

  it('the guest takes pending vectors highest first', () => {
    const p = new PostedInterrupts();
    const pda = p.allocDescriptor(NV, 1, { running: true });
    for (const v of [0x21, 0xef, 0x80, 0x7f]) p.post(pda, v);
    p.syncPir(pda);
    expect([p.takeHighest(pda), p.takeHighest(pda), p.takeHighest(pda), p.takeHighest(pda), p.takeHighest(pda)]).toEqual([0xef, 0x80, 0x7f, 0x21, -1]);
  });
});

describe('remapping unit + posted interrupts', () => {
  it('a passthrough NIC interrupt through a posted IRTE reaches the vCPU without a VM exit', () => {
    const r = new InterruptRemapper();
    const p = new PostedInterrupts();
    const pda = p.allocDescriptor(NV, 4, { running: true });
    r.programIrte(0x20, { posted: true, vector: 0x61, pda, sid: 0x0300, svt: 1 });
    const addr = encodeRemappableMsi(0x20, true);
    const results: number[] = [];
    for (let k = 0; k < 3; k++) {
      expect(r.remap(0x0300, addr, 0)).toBe(IRQ_POSTED);
      results.push(p.post(r.outPda, r.outVector, r.outUrgent));
    }
    expect(results).toEqual([POST_NOTIFIED_GUEST, POST_SUPPRESSED_OUTSTANDING, POST_SUPPRESSED_OUTSTANDING]);
    expect(p.pirAlreadySet).toBe(2);
    expect(p.syncPir(pda)).toBe(1);
    expect(p.takeHighest(pda)).toBe(0x61);
    expect(r.metrics()).toMatchObject({ posted: 3, irteReads: 1, iec: { hits: 2, misses: 1 } });
  });
});
