import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  decodeMsi, encodeRemappableMsi, encodeCompatMsiAddress, encodeCompatMsiData, newMsiFields,
  MSI_NOT_INTERRUPT, MSI_COMPAT, MSI_REMAPPABLE, MSI_HANDLE, MSI_SHV, MSI_SUBHANDLE, MSI_INDEX,
  MSI_DATA_RESERVED, MSI_DEST, MSI_RH, MSI_DM, MSI_VECTOR, MSI_DELIVERY, MSI_LEVEL, MSI_TRIGGER,
} from '../../../src/iommu/irq/remap.js';
import { InputError } from '../../../src/util/errors.js';

describe('remappable-format MSI address', () => {
  it('matches addresses built by hand from Linux fill_msi_msg (arch/x86/include/asm/msi.h x86_msi_addr_lo: dmar_index_15 bit 2, dmar_subhandle_valid bit 3, dmar_format bit 4, dmar_index_0_14 bits 19:5, base 0xfee)', () => {
    // 0xfee00000 | 0x10 | 0x08 | (0x1234 << 5) = 0xfee24698
    expect(encodeRemappableMsi(0x1234, true)).toBe(0xfee24698);
    // handle 0x8001: handle[14:0] = 1 -> bit 5; handle[15] -> bit 2: 0xfee00000 | 0x20 | 0x10 | 0x08 | 0x04
    expect(encodeRemappableMsi(0x8001, true)).toBe(0xfee0003c);
    // without SHV: bit 3 clear
    expect(encodeRemappableMsi(0x1234, false)).toBe(0xfee24690);
    expect(encodeRemappableMsi(0xffff, false)).toBe(0xfeeffff4);
  });

  it('decodes with SHV: index = handle + data[15:0]', () => {
    const out = newMsiFields();
    expect(decodeMsi(0xfee24698, 0x0003, out)).toBe(MSI_REMAPPABLE);
    expect(out[MSI_HANDLE]).toBe(0x1234);
    expect(out[MSI_SHV]).toBe(1);
    expect(out[MSI_SUBHANDLE]).toBe(3);
    expect(out[MSI_INDEX]).toBe(0x1237);
    expect(out[MSI_DATA_RESERVED]).toBe(0);
    // data[31:16] set with SHV: flagged reserved (fault 0x20 in the remapper)
    decodeMsi(0xfee24698, 0x10003, out);
    expect(out[MSI_DATA_RESERVED]).toBe(1);
    // the sum is not truncated to 16 bits: the remapper compares it with the table size
    decodeMsi(encodeRemappableMsi(0xffff, true), 0xffff, out);
    expect(out[MSI_INDEX]).toBe(0x1fffe);
  });

  it('decodes without SHV: data is ignored, index = handle', () => {
    const out = newMsiFields();
    expect(decodeMsi(0xfee24690, 0xdead0041, out)).toBe(MSI_REMAPPABLE);
    expect(out[MSI_HANDLE]).toBe(0x1234);
    expect(out[MSI_SHV]).toBe(0);
    expect(out[MSI_SUBHANDLE]).toBe(0);
    expect(out[MSI_INDEX]).toBe(0x1234);
    expect(out[MSI_DATA_RESERVED]).toBe(0);
    decodeMsi(0xfee0003c & ~0x8, 0, out);
    expect(out[MSI_HANDLE]).toBe(0x8001);
  });

  it('round trips every handle and subhandle (fast-check)', () => {
    const out = newMsiFields();
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.boolean(), fc.integer({ min: 0, max: 0xffff }), (h, shv, sub) => {
      const a = encodeRemappableMsi(h, shv);
      expect(a >>> 20).toBe(0xfee);
      expect(a & 0x13).toBe(0x10); // bit 4 set, bits 1:0 clear
      expect(decodeMsi(a, shv ? sub : 0, out)).toBe(MSI_REMAPPABLE);
      expect(out[MSI_HANDLE]).toBe(h);
      expect(out[MSI_SHV]).toBe(shv ? 1 : 0);
      expect(out[MSI_INDEX]).toBe(h + (shv ? sub : 0));
    }));
  });

  it('refuses a handle outside 16 bits', () => {
    expect(() => encodeRemappableMsi(0x10000, true)).toThrow(InputError);
    expect(() => encodeRemappableMsi(-1, true)).toThrow(InputError);
  });
});

describe('compatibility-format MSI', () => {
  it('decodes destination, RH, DM, vector, delivery mode, level and trigger', () => {
    const out = newMsiFields();
    const addr = encodeCompatMsiAddress(0x12, 1, 1);
    expect(addr).toBe(0xfee1200c);
    const data = encodeCompatMsiData(0x41, 1, 1, 1);
    expect(data).toBe(0xc141);
    expect(decodeMsi(addr, data, out)).toBe(MSI_COMPAT);
    expect([out[MSI_DEST], out[MSI_RH], out[MSI_DM], out[MSI_VECTOR], out[MSI_DELIVERY], out[MSI_LEVEL], out[MSI_TRIGGER]]).toEqual([0x12, 1, 1, 0x41, 1, 1, 1]);
    expect(out[MSI_HANDLE]).toBe(0);
  });

  it('an address outside 0xFEEx_xxxx is not an interrupt', () => {
    expect(decodeMsi(0xfed00000, 0)).toBe(MSI_NOT_INTERRUPT);
    expect(decodeMsi(0x00001000, 0)).toBe(MSI_NOT_INTERRUPT);
  });
});
