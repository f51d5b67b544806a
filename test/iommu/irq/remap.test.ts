import { describe, it, expect } from 'vitest';
import {
  InterruptRemapper, encodeRemappableMsi, encodeCompatMsiAddress, encodeCompatMsiData, encodeIrte, sourceIdMatches,
  IRQ_BLOCKED, IRQ_REMAPPED, IRQ_POSTED, IRQ_COMPAT,
  FR_IR_REQUEST_RESERVED, FR_IR_INDEX_BEYOND_TABLE, FR_IR_NOT_PRESENT, FR_IR_IRTE_RESERVED, FR_IR_COMPAT_BLOCKED, FR_IR_SOURCE_ID,
} from '../../../src/iommu/irq/remap.js';
import { resolveIrqSpec } from '../../../src/config/knobs/irq.js';
import { InputError } from '../../../src/util/errors.js';

const NIC = 0x0300; // 03:00.0
const msi = (index: number) => encodeRemappableMsi(index, false);
const make = (settings: Array<[string, string | number | boolean]> = []) => new InterruptRemapper(resolveIrqSpec(settings));

describe('remap: delivery decisions', () => {
  it('remapped IRTE: vector, x2APIC destination, mode bits; the IRTE read counted once, then IEC hits', () => {
    const r = make();
    r.programIrte(5, { vector: 0x41, destId: 0x12345, redirHint: true, triggerMode: 1, deliveryMode: 1, destMode: 1, sid: NIC, svt: 1 });
    const frames: number[] = [];
    r.onRead = (f) => frames.push(f);
    expect(r.remap(NIC, msi(5), 0)).toBe(IRQ_REMAPPED);
    expect([r.outIndex, r.outVector, r.outDestId, r.outRedirHint, r.outTriggerMode, r.outDeliveryMode, r.outDestMode]).toEqual([5, 0x41, 0x12345, 1, 1, 1, 1]);
    expect(r.irteReads).toBe(1);
    expect(frames).toEqual([r.irtFrame]);
    expect(r.remap(NIC, msi(5), 0)).toBe(IRQ_REMAPPED);
    expect(r.irteReads).toBe(1);
    expect(r.iec.hits).toBe(1);
    expect(r.iec.misses).toBe(1);
    const m = r.metrics();
    expect(m).toMatchObject({ requests: 2, remapped: 2, posted: 0, blocked: 0, irteReads: 1, irteWrites: 1 });
    expect(m.iec).toMatchObject({ hits: 1, misses: 1, fills: 1, hitRate: 0.5 });
  });

  it('SHV: the subhandle in the data selects handle + subhandle (Linux multi-MSI)', () => {
    const r = make();
    for (let i = 0; i < 4; i++) r.programIrte(64 + i, { vector: 0x60 + i, destId: 1 });
    const addr = encodeRemappableMsi(64, true);
    for (let i = 0; i < 4; i++) {
      expect(r.remap(NIC, addr, i)).toBe(IRQ_REMAPPED);
      expect(r.outIndex).toBe(64 + i);
      expect(r.outVector).toBe(0x60 + i);
    }
  });

  it('IRTEs beyond the first table page are addressed at IRTA + index × 16', () => {
    const r = make();
    r.programIrte(300, { vector: 0x99, destId: 7 });
    const frames: number[] = [];
    r.onRead = (f) => frames.push(f);
    expect(r.remap(NIC, msi(300), 0)).toBe(IRQ_REMAPPED);
    expect(r.outVector).toBe(0x99);
    expect(frames).toEqual([r.irtFrame + 1]);
    expect(r.irteAddress(300)).toBe(r.irtFrame * 4096 + 300 * 16);
    expect(r.readIrte(300)).toMatchObject({ vector: 0x99, destId: 7, present: 1 });
  });

  it('posted IRTE: descriptor address, virtual vector, urgent', () => {
    const r = make();
    r.programIrte(9, { posted: true, vector: 0x22, pda: 0x123456780, urgent: true, sid: NIC, svt: 1 });
    expect(r.remap(NIC, msi(9), 0)).toBe(IRQ_POSTED);
    expect(r.outPda).toBe(0x123456780);
    expect([r.outPdaLo, r.outPdaHi, r.outVector, r.outUrgent]).toEqual([0x23456780, 1, 0x22, 1]);
    expect(r.metrics()).toMatchObject({ posted: 1, remapped: 0 });
  });

  it('xAPIC mode: 8-bit destination from bits 47:40', () => {
    const r = make([['irq.x2apic', false]]);
    r.programIrte(1, { vector: 0x31, destId: 0xab });
    expect(r.remap(NIC, msi(1), 0)).toBe(IRQ_REMAPPED);
    expect(r.outDestId).toBe(0xab);
  });

  it('compatibility format: blocked with 0x25 by default (x2APIC / CFIS clear); passed through unremapped when allowed', () => {
    const addr = encodeCompatMsiAddress(3, 0, 0);
    const data = encodeCompatMsiData(0x45);
    const r = make();
    expect(r.remap(NIC, addr, data)).toBe(IRQ_BLOCKED);
    expect(r.outFault).toBe(FR_IR_COMPAT_BLOCKED);
    const x = make([['irq.x2apic', false], ['irq.blockCompat', true]]);
    expect(x.remap(NIC, addr, data)).toBe(IRQ_BLOCKED);
    const p = make([['irq.x2apic', false], ['irq.blockCompat', false]]);
    expect(p.remap(NIC, addr, data)).toBe(IRQ_COMPAT);
    expect([p.outVector, p.outDestId, p.outIndex]).toEqual([0x45, 3, -1]);
    // EIME = 1 blocks compatibility format even with CFIS set
    const e = make([['irq.x2apic', true], ['irq.blockCompat', false]]);
    expect(e.remap(NIC, addr, data)).toBe(IRQ_BLOCKED);
    expect(e.outFault).toBe(FR_IR_COMPAT_BLOCKED);
  });
});

describe('source-id validation (SVT / SQ)', () => {
  const sid = 0x0308; // 03:01.0
  const cases: Array<[string, number, number, number[], number[]]> = [
    // name, svt, sq, requesters accepted, requesters refused
    ['SVT 0: no check', 0, 0, [0x0308, 0x0000, 0xffff], []],
    ['SVT 1, SQ 0: all 16 bits', 1, 0, [0x0308], [0x0309, 0x030c, 0x0408, 0x0208]],
    ['SVT 1, SQ 1: ignore bit 2', 1, 1, [0x0308, 0x030c], [0x0309, 0x030a, 0x0310]],
    ['SVT 1, SQ 2: ignore bits 2:1', 1, 2, [0x0308, 0x030a, 0x030c, 0x030e], [0x0309, 0x030b, 0x0310]],
    ['SVT 1, SQ 3: ignore bits 2:0 (any function)', 1, 3, [0x0308, 0x0309, 0x030f], [0x0310, 0x0300, 0x0408]],
  ];
  for (const [name, svt, sq, good, bad] of cases) {
    it(name, () => {
      const r = make();
      r.programIrte(2, { vector: 0x40, destId: 1, sid, sq, svt });
      for (const g of good) expect(r.remap(g, msi(2), 0), `0x${g.toString(16)}`).toBe(IRQ_REMAPPED);
      for (const b of bad) {
        expect(r.remap(b, msi(2), 0), `0x${b.toString(16)}`).toBe(IRQ_BLOCKED);
        expect(r.outFault).toBe(FR_IR_SOURCE_ID);
      }
      expect(r.faultsByCode[FR_IR_SOURCE_ID]).toBe(bad.length);
      expect(r.irteReads).toBe(1); // the check runs on IEC hits too
    });
  }

  it('SVT 2: requester bus within [SID[15:8], SID[7:0]]', () => {
    const r = make();
    r.programIrte(3, { vector: 0x40, destId: 1, sid: 0x0507, svt: 2 });
    for (const bus of [5, 6, 7]) expect(r.remap((bus << 8) | 0x10, msi(3), 0)).toBe(IRQ_REMAPPED);
    for (const bus of [4, 8, 0]) {
      expect(r.remap(bus << 8, msi(3), 0)).toBe(IRQ_BLOCKED);
      expect(r.outFault).toBe(FR_IR_SOURCE_ID);
    }
  });

  it('SVT 3 (reserved encoding) fails verification, as QEMU treats it', () => {
    const r = make();
    const w = encodeIrte({ vector: 0x40, destId: 1, sid: NIC });
    r.programIrteRaw(4, w[0], w[1], w[2] | (3 << 18), w[3]);
    expect(r.remap(NIC, msi(4), 0)).toBe(IRQ_BLOCKED);
    expect(r.outFault).toBe(FR_IR_SOURCE_ID);
    expect(sourceIdMatches(NIC, NIC, 0, 3)).toBe(false);
  });
});

describe('faults', () => {
  it('0x21: index (handle + subhandle) beyond the table; no memory read', () => {
    const r = make([['irq.irtEntries', 256]]);
    expect(r.remap(NIC, msi(256), 0)).toBe(IRQ_BLOCKED);
    expect(r.outFault).toBe(FR_IR_INDEX_BEYOND_TABLE);
    expect(r.remap(NIC, encodeRemappableMsi(250, true), 10)).toBe(IRQ_BLOCKED);
    expect(r.outFault).toBe(FR_IR_INDEX_BEYOND_TABLE);
    expect(r.outIndex).toBe(260);
    const big = make();
    expect(big.remap(NIC, encodeRemappableMsi(0xffff, true), 1)).toBe(IRQ_BLOCKED);
    expect(big.outFault).toBe(FR_IR_INDEX_BEYOND_TABLE);
    expect(r.irteReads + big.irteReads).toBe(0);
  });

  it('0x22: IRTE not present (counted read, not cached); FPD suppresses recording but still blocks', () => {
    const r = make();
    expect(r.remap(NIC, msi(7), 0)).toBe(IRQ_BLOCKED);
    expect(r.outFault).toBe(FR_IR_NOT_PRESENT);
    expect(r.irteReads).toBe(1);
    expect(r.iec.live).toBe(0);
    r.programIrte(8, { present: false, fpd: true, vector: 0 });
    expect(r.remap(NIC, msi(8), 0)).toBe(IRQ_BLOCKED);
    expect(r.outFault).toBe(FR_IR_NOT_PRESENT);
    const m = r.metrics();
    expect(m.faults).toMatchObject({ count: 2, recorded: 1, suppressedByFpd: 1, byCode: { '0x22': 2 }, byReason: { irteNotPresent: 2 } });
    expect(m.faults.first.map((f) => [f.index, f.reason, f.recorded])).toEqual([[7, 'irteNotPresent', true], [8, 'irteNotPresent', false]]);
    // not cached, so programming it present takes effect without an invalidation
    r.programIrte(7, { vector: 0x70, destId: 2 });
    expect(r.remap(NIC, msi(7), 0)).toBe(IRQ_REMAPPED);
  });

  it('0x26 is qualified by FPD too; 0x20 / 0x21 / 0x25 are not', () => {
    const r = make([['irq.irtEntries', 16]]);
    r.programIrte(1, { vector: 0x40, destId: 1, sid: NIC, svt: 1, fpd: true });
    expect(r.remap(0x0400, msi(1), 0)).toBe(IRQ_BLOCKED);
    expect(r.faultsSuppressed).toBe(1);
    r.remap(NIC, msi(100), 0); // 0x21
    r.remap(NIC, 0xfed00000, 0); // 0x20
    r.remap(NIC, encodeCompatMsiAddress(1), 0x41); // 0x25
    expect(r.faultsRecorded).toBe(3);
    expect(r.metrics().faults.byCode).toEqual({ '0x20': 1, '0x21': 1, '0x25': 1, '0x26': 1 });
  });

  it('0x20: reserved data bits with SHV, or an address outside the interrupt window', () => {
    const r = make();
    r.programIrte(1, { vector: 0x40, destId: 1 });
    expect(r.remap(NIC, encodeRemappableMsi(1, true), 0x10000)).toBe(IRQ_BLOCKED);
    expect(r.outFault).toBe(FR_IR_REQUEST_RESERVED);
    expect(r.remap(NIC, encodeRemappableMsi(1, false), 0x10000)).toBe(IRQ_REMAPPED); // data ignored without SHV
    expect(r.remap(NIC, 0xfec00000, 0)).toBe(IRQ_BLOCKED);
    expect(r.outFault).toBe(FR_IR_REQUEST_RESERVED);
  });

  it('0x24: reserved bits in a present IRTE; posted format without CAP.PI', () => {
    const r = make();
    const w = encodeIrte({ vector: 0x40, destId: 1 });
    r.programIrteRaw(1, w[0] | 0x1000, w[1], w[2], w[3]);
    expect(r.remap(NIC, msi(1), 0)).toBe(IRQ_BLOCKED);
    expect(r.outFault).toBe(FR_IR_IRTE_RESERVED);
    expect(r.iec.live).toBe(0);
    const noPi = make([['irq.postedInterrupts', false]]);
    noPi.programIrte(2, { posted: true, vector: 0x22, pda: 0x1000 });
    expect(noPi.remap(NIC, msi(2), 0)).toBe(IRQ_BLOCKED);
    expect(noPi.outFault).toBe(FR_IR_IRTE_RESERVED);
  });

  it('programming outside the table is an InputError', () => {
    const r = make([['irq.irtEntries', 256]]);
    expect(() => r.programIrte(256, { vector: 1 })).toThrow(InputError);
    expect(() => r.programIrte(-1, { vector: 1 })).toThrow(InputError);
  });
});

describe('interrupt-entry cache', () => {
  it('keeps serving a stale IRTE until it is invalidated (software must invalidate, as Linux modify_irte does)', () => {
    const r = make();
    r.programIrte(10, { vector: 0x50, destId: 1 });
    r.remap(NIC, msi(10), 0);
    r.programIrte(10, { vector: 0x51, destId: 2 });
    expect(r.remap(NIC, msi(10), 0)).toBe(IRQ_REMAPPED);
    expect(r.outVector).toBe(0x50);
    expect(r.invalidateIecIndex(10)).toBe(1);
    expect(r.remap(NIC, msi(10), 0)).toBe(IRQ_REMAPPED);
    expect([r.outVector, r.outDestId]).toEqual([0x51, 2]);
    expect(r.irteReads).toBe(2);
    expect(r.metrics().invalidations).toEqual({ global: 0, indexSelective: 1, entriesDropped: 1 });
  });

  it('index-selective invalidation drops 2^mask entries of the aligned block; global drops all', () => {
    const r = make();
    for (let i = 6; i < 14; i++) { r.programIrte(i, { vector: 0x40 + i, destId: 1 }); r.remap(NIC, msi(i), 0); }
    expect(r.iec.live).toBe(8);
    expect(r.invalidateIecIndex(9, 2)).toBe(4); // 8..11
    for (const [i, cached] of [[6, true], [7, true], [8, false], [11, false], [12, true]] as const) {
      expect(r.iec.find(0, 0, i) >= 0, `index ${i}`).toBe(cached);
    }
    expect(r.invalidateIecIndex(6, 0)).toBe(1);
    expect(r.invalidateIecGlobal()).toBe(3);
    expect(r.iec.live).toBe(0);
    expect(r.metrics().invalidations).toEqual({ global: 1, indexSelective: 2, entriesDropped: 8 });
  });

  it('executes queued-invalidation descriptors of type 4 (G bit 4, IM 31:27, IIDX 47:32)', () => {
    const r = make();
    for (let i = 0; i < 8; i++) { r.programIrte(i, { vector: 0x40, destId: 1 }); r.remap(NIC, msi(i), 0); }
    expect(r.invalidateIecDescriptor(0x4 | 0x10 | (1 << 27), 2)).toBe(2); // indices 2, 3
    expect(r.invalidateIecDescriptor(0x4, 0)).toBe(6); // global
    expect(() => r.invalidateIecDescriptor(0x5, 0)).toThrow(InputError);
    expect(r.metrics().invalidations).toEqual({ global: 1, indexSelective: 1, entriesDropped: 8 });
  });

  it('uses the configured geometry: a 2-entry LRU IEC evicts', () => {
    const r = make([['irq.iec.entries', 2], ['irq.iec.ways', 2]]);
    for (const i of [1, 2, 3]) r.programIrte(i, { vector: 0x40 + i, destId: 1 });
    for (const i of [1, 2, 1, 3, 2]) r.remap(NIC, msi(i), 0);
    // 1 miss, 2 miss, 1 hit, 3 miss (evicts 2), 2 miss (evicts 1)
    expect(r.metrics().iec).toMatchObject({ entries: 2, hits: 1, misses: 4, evictions: 2 });
    expect(r.irteReads).toBe(4);
  });

  it('is deterministic and resets its statistics', () => {
    const run = () => {
      const r = make([['irq.iec.entries', 4], ['irq.iec.policy', 'random']]);
      for (let i = 0; i < 32; i++) r.programIrte(i, { vector: i, destId: i });
      for (let k = 0; k < 500; k++) r.remap(NIC, msi((k * 7919) % 32), 0);
      return r;
    };
    const a = run();
    expect(a.metrics()).toEqual(run().metrics());
    a.resetStats();
    expect(a.metrics()).toMatchObject({ requests: 0, irteReads: 0, iec: { hits: 0, misses: 0 } });
  });
});
