import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { encodeIrte, decodeIrte, IrteView, irteReservedSet, type IrteFields } from '../../../src/iommu/irq/remap.js';
import { InputError } from '../../../src/util/errors.js';

/** The 16 bytes of an IRTE in memory (little-endian words w0..w3). */
const bytes = (w: ArrayLike<number>): number[] => {
  const out: number[] = [];
  for (let i = 0; i < 4; i++) for (let b = 0; b < 4; b++) out.push((w[i] >>> (8 * b)) & 0xff);
  return out;
};
const fromBytes = (b: number[]): Uint32Array => {
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = (b[4 * i] | (b[4 * i + 1] << 8) | (b[4 * i + 2] << 16) | (b[4 * i + 3] << 24)) >>> 0;
  return w;
};
const hex = (s: string): number[] => s.split(' ').map((x) => parseInt(x, 16));

describe('IRTE byte layouts decoded by hand', () => {
  it('remapped, x2APIC: Linux prepare_irte (P, RH = 1, fixed, edge, physical) + set_msi_sid (SVT 1, SQ 0)', () => {
    // struct irte low qword: present bit 0, redir_hint bit 3, vector 23:16 = 0x41, dest_id 63:32 = 3
    //   -> 0x00000003_00410009; high qword: sid 15:0 = 0x0300 (03:00.0), sq 17:16 = 0, svt 19:18 = 1
    //   -> 0x00000000_00040300. In memory, little-endian:
    const mem = hex('09 00 41 00 03 00 00 00 00 03 04 00 00 00 00 00');
    const f: IrteFields = { vector: 0x41, destId: 3, redirHint: true, sid: 0x0300, svt: 1 };
    expect(bytes(encodeIrte(f))).toEqual(mem);
    const v = decodeIrte(fromBytes(mem));
    expect(v).toMatchObject({ present: 1, fpd: 0, posted: 0, vector: 0x41, destId: 3, redirHint: 1, destMode: 0, triggerMode: 0, deliveryMode: 0, sid: 0x300, sq: 0, svt: 1 });
  });

  it('remapped, xAPIC (EIME = 0): destination id in bits 47:40 (Linux IRTE_DEST(dest) = dest << 8; QEMU VTD_IR_APIC_DEST_MASK 0xff00)', () => {
    // logical (DM bit 2), level (TM bit 4), lowest priority (DLM 7:5 = 1), vector 0x30, APIC id 5:
    //   low qword 0x00000500_00300035
    const mem = hex('35 00 30 00 00 05 00 00 00 00 00 00 00 00 00 00');
    const f: IrteFields = { vector: 0x30, destMode: 1, triggerMode: 1, deliveryMode: 1, destId: 5 };
    expect(bytes(encodeIrte(f, false))).toEqual(mem);
    expect(decodeIrte(fromBytes(mem), false)).toMatchObject({ destId: 5, destMode: 1, triggerMode: 1, deliveryMode: 1, vector: 0x30 });
    // read as x2APIC the same bytes give 0x500: the mode matters
    expect(decodeIrte(fromBytes(mem), true).destId).toBe(0x500);
  });

  it('posted: Linux intel_ir_set_vcpu_affinity (p_pst = 1, p_vector, pda_l = PDA[31:6] in 63:38, pda_h = PDA[63:32] in 127:96)', () => {
    // PDA 0x1_2345_6780, guest vector 0x22, not urgent, SID 03:00.0 with SVT 1:
    //   low qword: P | IM (bit 15) | 0x22 << 16 | (0x123456780 >> 6 & 0x3ffffff) << 38 = 0x23456780_00228001
    //   high qword: 0x00000001_00040300
    const mem = hex('01 80 22 00 80 67 45 23 00 03 04 00 01 00 00 00');
    const f: IrteFields = { posted: true, vector: 0x22, pda: 0x123456780, sid: 0x0300, svt: 1 };
    expect(bytes(encodeIrte(f))).toEqual(mem);
    const v = decodeIrte(fromBytes(mem));
    expect(v).toMatchObject({ posted: 1, vector: 0x22, urgent: 0, pdaLo: 0x23456780, pdaHi: 1, sid: 0x300, svt: 1 });
    expect(v.pda).toBe(0x123456780);
    // urgent is bit 14
    expect(bytes(encodeIrte({ ...f, urgent: true })).slice(0, 2)).toEqual([0x01, 0xc0]);
  });

  it('bus-range validation: Linux set_irte_verify_bus(start, end) puts start in SID[15:8], end in SID[7:0], SVT 2', () => {
    const w = encodeIrte({ vector: 0x50, sid: (0x05 << 8) | 0x07, svt: 2 });
    expect(w[2]).toBe(0x00080507);
  });
});

const remappedArb = (x2apic: boolean) => fc.record({
  present: fc.boolean(), fpd: fc.boolean(), vector: fc.integer({ min: 0, max: 255 }),
  destMode: fc.integer({ min: 0, max: 1 }), redirHint: fc.boolean(), triggerMode: fc.integer({ min: 0, max: 1 }),
  deliveryMode: fc.integer({ min: 0, max: 7 }),
  destId: x2apic ? fc.integer({ min: 0, max: 0x7fffffff }).chain((a) => fc.constantFrom(a, a * 2 + 1)) : fc.integer({ min: 0, max: 255 }),
  sid: fc.integer({ min: 0, max: 0xffff }), sq: fc.integer({ min: 0, max: 3 }), svt: fc.integer({ min: 0, max: 2 }),
  avail: fc.integer({ min: 0, max: 15 }),
});
const postedArb = fc.record({
  present: fc.boolean(), fpd: fc.boolean(), vector: fc.integer({ min: 0, max: 255 }), urgent: fc.boolean(),
  pdaHi: fc.integer({ min: 0, max: 0xfffff }), pdaSlot: fc.integer({ min: 0, max: 0x3ffffff }),
  sid: fc.integer({ min: 0, max: 0xffff }), sq: fc.integer({ min: 0, max: 3 }), svt: fc.integer({ min: 0, max: 2 }),
  avail: fc.integer({ min: 0, max: 15 }),
});

describe('IRTE encode/decode round trips (fast-check)', () => {
  for (const x2apic of [true, false]) {
    it(`remapped format, ${x2apic ? 'x2APIC' : 'xAPIC'}: decode(encode(f)) = f, and no reserved bit is ever set`, () => {
      const view = new IrteView();
      fc.assert(fc.property(remappedArb(x2apic), (f) => {
        const w = encodeIrte(f, x2apic);
        expect(view.decode(w[0], w[1], w[2], w[3], x2apic).toFields()).toEqual({ ...f, posted: false });
        expect(irteReservedSet(w[0], w[1], w[2], w[3], x2apic, true)).toBe(false);
      }));
    });
  }

  it('posted format: decode(encode(f)) = f (PDA up to 2^52, 64-byte aligned), no reserved bit set', () => {
    fc.assert(fc.property(postedArb, ({ pdaHi, pdaSlot, ...rest }) => {
      const f: IrteFields = { ...rest, posted: true, pda: pdaHi * 2 ** 32 + pdaSlot * 64 };
      const w = encodeIrte(f);
      expect(decodeIrte(w).toFields()).toEqual(f);
      expect(irteReservedSet(w[0], w[1], w[2], w[3], true, true)).toBe(false);
      expect(irteReservedSet(w[0], w[1], w[2], w[3], true, false)).toBe(true); // IM reserved without CAP.PI
    }));
  });

  it('words → decode → encode gives the words back once reserved bits are cleared', () => {
    const word = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(fc.property(word, word, word, fc.boolean(), (a, b, c, x2apic) => {
      let w0 = a & ~0xff007000 & ~0x8000; // remapped: 14:12, 31:24 reserved; IM = 0
      let w1 = x2apic ? b : b & 0xff00;
      const w2 = c & 0x000fffff;
      if (((w2 >>> 18) & 3) === 3) return; // SVT 3 is a reserved encoding
      w0 >>>= 0; w1 >>>= 0;
      const v = new IrteView().decode(w0, w1, w2, 0, x2apic); // word 3 is reserved in the remapped format
      expect(Array.from(encodeIrte(v.toFields(), x2apic))).toEqual([w0, w1, w2, 0]);
    }));
  });
});

describe('IRTE reserved bits and validation', () => {
  it('flags reserved bits of each format', () => {
    const ok = encodeIrte({ vector: 1, destId: 1 });
    expect(irteReservedSet(ok[0], ok[1], ok[2], ok[3], true, true)).toBe(false);
    expect(irteReservedSet(ok[0] | 0x1000, ok[1], ok[2], ok[3], true, true)).toBe(true); // bit 12
    expect(irteReservedSet(ok[0] | 0x01000000, ok[1], ok[2], ok[3], true, true)).toBe(true); // bit 24
    expect(irteReservedSet(ok[0], ok[1], ok[2] | 0x00100000, ok[3], true, true)).toBe(true); // bit 84
    expect(irteReservedSet(ok[0], ok[1], ok[2], 1, true, true)).toBe(true); // bit 96 (remapped)
    expect(irteReservedSet(ok[0], 0x100, ok[2], ok[3], false, true)).toBe(false); // xAPIC id in 47:40
    expect(irteReservedSet(ok[0], 0x1, ok[2], ok[3], false, true)).toBe(true); // bit 32 with EIME = 0
    const p = encodeIrte({ posted: true, vector: 1, pda: 0x1000 });
    expect(irteReservedSet(p[0], p[1], p[2], p[3], true, true)).toBe(false);
    expect(irteReservedSet(p[0] | 0x4, p[1], p[2], p[3], true, true)).toBe(true); // bit 2 reserved in posted format
    expect(irteReservedSet(p[0], p[1] | 0x1, p[2], p[3], true, true)).toBe(true); // bit 32
  });

  it('refuses impossible fields with a one-line InputError', () => {
    expect(() => encodeIrte({ vector: 256 })).toThrow(InputError);
    expect(() => encodeIrte({ vector: 1, svt: 3 })).toThrow(/svt=3/);
    expect(() => encodeIrte({ vector: 1, destId: 256 }, false)).toThrow(InputError);
    expect(() => encodeIrte({ vector: 1, posted: true })).toThrow(/64-byte-aligned/);
    expect(() => encodeIrte({ vector: 1, posted: true, pda: 0x1010 })).toThrow(InputError);
    expect(() => encodeIrte({ vector: 1, posted: true, pda: 2 ** 52 })).toThrow(InputError);
  });
});
