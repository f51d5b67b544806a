/**
 * src/config/pcie.ts: the PCIe link spec's defaults and its one validation — the exact one-line
 * message for each kind of bad value, and the values it accepts. (test/pcie/link.test.ts checks
 * the same functions through the model's re-export; this file covers the rest of the messages.)
 */
import { describe, it, expect } from 'vitest';
import {
  PCIE_DEFAULTS, PCIE_GENS, PCIE_LANES, PCIE_SIZES, PCIE_RCBS, FC_UNIT_BYTES,
  validatePcieSpec, resolvePcieSpec, type PcieLinkSpec,
} from '../../src/config/pcie.js';
import { InputError } from '../../src/util/errors.js';
import { buildConfig } from '../../src/config/config.js';

/** The message validatePcieSpec throws for the defaults overridden by `o` (and checks it is one InputError line). */
function bad(o: Record<string, unknown>, prefix = 'pcie'): string {
  try {
    validatePcieSpec({ ...PCIE_DEFAULTS, ...o } as PcieLinkSpec, prefix);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error(`accepted ${JSON.stringify(o)}`);
}
const ok = (o: Partial<PcieLinkSpec>) => expect(() => validatePcieSpec({ ...PCIE_DEFAULTS, ...o }, 'pcie')).not.toThrow();

describe('PCIE_DEFAULTS', () => {
  it('is the pcie-bench link (Gen3 x8, MPS 256, MRRS 512, RCB 64, 32 tags, infinite credits, 115 ns)', () => {
    expect(PCIE_DEFAULTS).toEqual({
      gen: 3, lanes: 8, mpsBytes: 256, mrrsBytes: 512, rcbBytes: 64, rcbChunks: false, addr64: true, ecrc: false,
      tags: 32, phCredits: 0, pdCredits: 0, nphCredits: 0, cplhCredits: 0, cpldCredits: 0,
      dllpAckFactor: 1, fcUpdateFactor: 1, linkLatencyNs: 115,
    });
    expect(Object.isFrozen(PCIE_DEFAULTS)).toBe(true);
    expect(FC_UNIT_BYTES).toBe(16);
  });
});

describe('validatePcieSpec: messages', () => {
  it('enumerated fields name the allowed values; non-numbers are shown as JSON', () => {
    expect(bad({ gen: 0 })).toBe('pcie.gen=0: must be one of 1, 2, 3, 4, 5, 6');
    expect(bad({ lanes: 64 })).toBe('pcie.lanes=64: must be one of 1, 2, 4, 8, 12, 16, 32');
    expect(bad({ lanes: [8] })).toBe('pcie.lanes=[8]: must be one of 1, 2, 4, 8, 12, 16, 32');
    expect(bad({ lanes: null })).toBe('pcie.lanes=null: must be one of 1, 2, 4, 8, 12, 16, 32');
    expect(bad({ mpsBytes: 8192 })).toBe('pcie.mpsBytes=8192: must be one of 128, 256, 512, 1024, 2048, 4096');
    expect(bad({ mrrsBytes: '512' })).toBe('pcie.mrrsBytes="512": must be one of 128, 256, 512, 1024, 2048, 4096');
    expect(bad({ rcbBytes: 32 })).toBe('pcie.rcbBytes=32: must be one of 64, 128');
  });

  it('booleans', () => {
    expect(bad({ ecrc: 'no' })).toBe('pcie.ecrc="no": must be true or false');
    expect(bad({ addr64: 0 })).toBe('pcie.addr64=0: must be true or false');
    expect(bad({ rcbChunks: null })).toBe('pcie.rcbChunks=null: must be true or false');
  });

  it('tags: 1 to 1024, or to 16384 in Gen6 Flit Mode, with the fix for each', () => {
    expect(bad({ tags: 0 })).toBe(
      'pcie.tags=0: must be an integer from 1 to 1024; 32 with 5-bit tags, 256 with 8-bit extended tags, up to 1024 with 10-bit tags',
    );
    expect(bad({ tags: 1025 })).toBe(
      'pcie.tags=1025: must be an integer from 1 to 1024; 32 with 5-bit tags, 256 with 8-bit extended tags, up to 1024 with 10-bit tags',
    );
    expect(bad({ gen: 6, tags: 16385 })).toBe('pcie.tags=16385: must be an integer from 1 to 16384; Flit Mode allows 14-bit tags');
    expect(bad({ tags: '32' })).toMatch(/^pcie\.tags="32": must be an integer from 1 to 1024; /);
  });

  it('credits: non-negative integers, 0 = infinite, else enough for one maximum-size TLP', () => {
    expect(bad({ nphCredits: 0.5 })).toBe('pcie.nphCredits=0.5: must be a non-negative integer; 0 means infinite');
    expect(bad({ cplhCredits: '1' })).toBe('pcie.cplhCredits="1": must be a non-negative integer; 0 means infinite');
    expect(bad({ pdCredits: -16 })).toBe('pcie.pdCredits=-16: must be a non-negative integer; 0 means infinite');
    // data credits: MPS / 16 B — 256 B needs 16, 4096 B needs 256
    expect(bad({ cpldCredits: 15 })).toBe(
      'pcie.cpldCredits=15: too few to ever send one maximum-size TLP (needs 16 data credits of 16 B for mpsBytes=256); set at least 16, or 0 for infinite',
    );
    expect(bad({ mpsBytes: 4096, pdCredits: 255 })).toBe(
      'pcie.pdCredits=255: too few to ever send one maximum-size TLP (needs 256 data credits of 16 B for mpsBytes=4096); set at least 256, or 0 for infinite',
    );
  });

  it('factors and latency: finite numbers >= 0, with what the value means', () => {
    expect(bad({ dllpAckFactor: -0.5 })).toBe('pcie.dllpAckFactor=-0.5: must be a finite number >= 0 (ACK DLLPs per Ack latency limit; 1 = spec)');
    expect(bad({ fcUpdateFactor: null })).toBe('pcie.fcUpdateFactor=null: must be a finite number >= 0 (UpdateFC DLLPs per UpdateFC latency; 1 = spec)');
    expect(bad({ linkLatencyNs: Infinity })).toBe('pcie.linkLatencyNs=Infinity: must be a finite number >= 0 (one-way link latency in ns)');
    expect(bad({ linkLatencyNs: '115' })).toBe('pcie.linkLatencyNs="115": must be a finite number >= 0 (one-way link latency in ns)');
  });

  it('the first bad field in declaration order is reported', () => {
    expect(bad({ lanes: 3, gen: 9 })).toBe('pcie.gen=9: must be one of 1, 2, 3, 4, 5, 6');
    expect(bad({ linkLatencyNs: -1, tags: 0 })).toMatch(/^pcie\.tags=0: /);
  });

  it('the key prefix: a device\'s link, or none', () => {
    expect(bad({ rcbBytes: 256 }, 'devices.0000:03:00.0.pcie')).toBe('devices.0000:03:00.0.pcie.rcbBytes=256: must be one of 64, 128');
    expect(bad({ lanes: 3 }, '')).toBe('lanes=3: must be one of 1, 2, 4, 8, 12, 16, 32');
  });

  it('a spec that is not an object', () => {
    const msg = (v: unknown, prefix: string) => {
      try { validatePcieSpec(v as PcieLinkSpec, prefix); } catch (e) { return (e as Error).message; }
      return 'accepted';
    };
    expect(msg(null, 'pcie')).toBe('pcie=null: must be an object of PCIe link fields; see src/pcie/README.md');
    expect(msg(undefined, 'nic.pcie')).toBe('nic.pcie=undefined: must be an object of PCIe link fields; see src/pcie/README.md');
    expect(msg('x8', '')).toBe('pcie="x8": must be an object of PCIe link fields; see src/pcie/README.md');
  });
});

describe('validatePcieSpec: accepted values', () => {
  it('every generation, width, size and RCB', () => {
    for (const gen of PCIE_GENS) ok({ gen });
    for (const lanes of PCIE_LANES) ok({ lanes });
    for (const s of PCIE_SIZES) { ok({ mpsBytes: s }); ok({ mrrsBytes: s }); }
    for (const rcbBytes of PCIE_RCBS) ok({ rcbBytes });
    expect(PCIE_GENS).toEqual([1, 2, 3, 4, 5, 6]);
    expect(PCIE_LANES).toEqual([1, 2, 4, 8, 12, 16, 32]);
    expect(PCIE_SIZES).toEqual([128, 256, 512, 1024, 2048, 4096]);
    expect(PCIE_RCBS).toEqual([64, 128]);
  });

  it('the boundaries: tags 1 and 1024 (16384 in Gen6), credits 0 or exactly one TLP, zero factors and latency', () => {
    ok({ tags: 1 });
    ok({ tags: 1024 });
    ok({ gen: 6, tags: 16384 });
    ok({ phCredits: 1, nphCredits: 1, cplhCredits: 1 });
    ok({ pdCredits: 16, cpldCredits: 16 });
    ok({ mpsBytes: 4096, pdCredits: 256, cpldCredits: 256 });
    ok({ mpsBytes: 128, pdCredits: 8 });
    ok({ dllpAckFactor: 0, fcUpdateFactor: 0, linkLatencyNs: 0 });
    ok({ dllpAckFactor: 2.5, linkLatencyNs: 0.5 });
    ok({ rcbChunks: true, addr64: false, ecrc: true });
  });
});

describe('resolvePcieSpec', () => {
  it('no overrides: a frozen copy of the defaults', () => {
    const s = resolvePcieSpec(undefined);
    expect(s).toEqual(PCIE_DEFAULTS);
    expect(s).not.toBe(PCIE_DEFAULTS);
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('overrides merge over the defaults and are validated with the prefix (default "pcie")', () => {
    const s = resolvePcieSpec({ gen: 5, lanes: 16, mpsBytes: 512, pdCredits: 32 });
    expect(s).toMatchObject({ gen: 5, lanes: 16, mpsBytes: 512, mrrsBytes: 512, pdCredits: 32, linkLatencyNs: 115 });
    expect(() => resolvePcieSpec({ mpsBytes: 512, pdCredits: 16 })).toThrow(
      'pcie.pdCredits=16: too few to ever send one maximum-size TLP (needs 32 data credits of 16 B for mpsBytes=512); set at least 32, or 0 for infinite',
    );
    expect(() => resolvePcieSpec({ tags: 0 }, 'gpu.pcie')).toThrow(/^gpu\.pcie\.tags=0: must be an integer from 1 to 1024/);
  });

  it('the config resolver validates the platform link the same way', () => {
    expect(() => buildConfig([['pcie.lanes', 3]])).toThrow('pcie.lanes=3: must be one of 1, 2, 4, 8, 12, 16, 32');
    expect(() => buildConfig([['pcie.lanes', 12]])).not.toThrow();
  });
});
