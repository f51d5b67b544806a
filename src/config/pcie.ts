/**
 * A PCIe link's spec (the slice of the config the link model takes, src/pcie/link.ts): its fields
 * with their units, the defaults (pcie-bench's setup; sources in src/pcie/README.md) and the one
 * validation of its values. Here, below the models, so the config resolver validates a link once
 * without importing the model.
 */
import { inputError } from '../util/errors.js';

export type PcieGen = 1 | 2 | 3 | 4 | 5 | 6;
export type PcieLanes = 1 | 2 | 4 | 8 | 12 | 16 | 32;
export type PcieSizeBytes = 128 | 256 | 512 | 1024 | 2048 | 4096;
export type PcieRcbBytes = 64 | 128;
export type TlpKind = 'mwr' | 'mrd' | 'cpl';
export type DmaOp = 'read' | 'write';

/** One PCIe link (device <-> root port), both directions. Plain JSON; every field has a unit. */
export interface PcieLinkSpec {
  /** PCIe generation: 2.5, 5, 8, 16, 32, 64 GT/s per lane. Gen6 runs in Flit Mode (1b/1b PAM4). [SPEC] */
  gen: PcieGen;
  /** Negotiated link width (lanes). x12 is in the spec but not in pcie-model. [SPEC] */
  lanes: PcieLanes;
  /** Max_Payload_Size, bytes: largest MWr/CplD payload. [SPEC] Device Control. */
  mpsBytes: PcieSizeBytes;
  /** Max_Read_Request_Size, bytes: largest MRd request. [SPEC] Device Control. */
  mrrsBytes: PcieSizeBytes;
  /** Read Completion Boundary of the completer (root port), bytes: split completions end on it. [SPEC] §2.3.1.1 */
  rcbBytes: PcieRcbBytes;
  /**
   * true: the completer returns one completion per RCB-aligned RCB-sized chunk (seen on older
   * chipsets, pcie-model `rcb_chunks`); false: completions as large as MPS allows. [PM]
   */
  rcbChunks: boolean;
  /**
   * true: 64-bit addressing, 4DW MWr/MRd headers for addresses >= 4 GiB (addresses below 4 GiB
   * must use the 3DW format, [SPEC] §2.2.4.1); false: every request uses a 3DW header. [PM] `addr`
   */
  addr64: boolean;
  /** End-to-end CRC (4-byte TLP digest) on every TLP. [PM] `ecrc`, [SPEC] §2.2.3 */
  ecrc: boolean;
  /** Outstanding non-posted requests (MRd) the requester may have: one tag each. [SPEC] §2.2.6.2 */
  tags: number;
  /** Posted header credits the root port advertises (1 per MWr), 0 = infinite. [SPEC] §2.6.1 */
  phCredits: number;
  /** Posted data credits the root port advertises, 16-byte units, 0 = infinite. [SPEC] §2.6.1 */
  pdCredits: number;
  /** Non-posted header credits the root port advertises (1 per MRd), 0 = infinite. [SPEC] §2.6.1 */
  nphCredits: number;
  /** Completion header credits the device advertises (1 per CplD), 0 = infinite. [SPEC] §2.6.1 */
  cplhCredits: number;
  /** Completion data credits the device advertises, 16-byte units, 0 = infinite. [SPEC] §2.6.1 */
  cpldCredits: number;
  /**
   * ACK DLLP rate, dimensionless: ACK DLLPs per Ack-latency-limit interval of TLP traffic. The
   * receiver sends dllpAckFactor ACKs (8 B each, opposite direction) per ackLatencyLimitSymbols()
   * symbol times of TLPs, i.e. tlpWireBytes / lanes / limit * dllpAckFactor ACKs per TLP.
   * 1 = the spec's Ack latency limit [SPEC] §3.6.3.1; `lanes` reproduces pcie-model's ACK cost. [PM]
   * Ignored in Gen6 Flit Mode (ACKs travel in each flit's DLP bytes).
   */
  dllpAckFactor: number;
  /** UpdateFC DLLP rate, dimensionless, same form as dllpAckFactor (UpdateFC latency guideline). [SPEC] §2.6.1.2, [PM] */
  fcUpdateFactor: number;
  /**
   * One-way link latency, ns: transmitter PHY/DLL pipeline + wire + receiver pipeline, per TLP.
   * Default 115 is a weak placeholder (the spec's Gen3 Ack-latency InternalDelay, 115 symbol
   * times); calibrate against the 520 ns minimum 64 B DMA read (published-figures §1).
   */
  linkLatencyNs: number;
}

/**
 * Defaults: the pcie-bench system (NFP6000, PCIe Gen3 x8; published-figures §1) with pcie-model's
 * `pcie_bw.py` defaults (gen3, x8, MPS 256, MRRS 512, RCB 64, 64-bit addresses, no ECRC).
 * Sources of each value: src/pcie/README.md.
 */
export const PCIE_DEFAULTS: Readonly<PcieLinkSpec> = Object.freeze({
  gen: 3,
  lanes: 8,
  mpsBytes: 256,
  mrrsBytes: 512,
  rcbBytes: 64,
  rcbChunks: false,
  addr64: true,
  ecrc: false,
  tags: 32,
  phCredits: 0,
  pdCredits: 0,
  nphCredits: 0,
  cplhCredits: 0,
  cpldCredits: 0,
  dllpAckFactor: 1,
  fcUpdateFactor: 1,
  linkLatencyNs: 115,
} satisfies PcieLinkSpec);

// ---------------------------------------------------------------------------------------------
// Constants

export const PCIE_GENS: readonly PcieGen[] = [1, 2, 3, 4, 5, 6];
export const PCIE_LANES: readonly PcieLanes[] = [1, 2, 4, 8, 12, 16, 32];
export const PCIE_SIZES: readonly PcieSizeBytes[] = [128, 256, 512, 1024, 2048, 4096];
export const PCIE_RCBS: readonly PcieRcbBytes[] = [64, 128];

/** One flow-control data credit = 4 DW. [SPEC] §2.6.1 */
export const FC_UNIT_BYTES = 16;

// ---------------------------------------------------------------------------------------------
// Validation

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v !== null && typeof v === 'object') return JSON.stringify(v) ?? String(v);
  return String(v);
}

function checkOneOf(key: string, v: unknown, allowed: readonly number[], fix?: string): void {
  if (typeof v !== 'number' || !allowed.includes(v)) {
    throw inputError(`${key}=${show(v)}`, `must be one of ${allowed.join(', ')}`, fix);
  }
}

function checkBool(key: string, v: unknown): void {
  if (typeof v !== 'boolean') throw inputError(`${key}=${show(v)}`, 'must be true or false');
}

function checkCredits(key: string, v: unknown, minFinite: number, unit: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw inputError(`${key}=${show(v)}`, 'must be a non-negative integer', '0 means infinite');
  }
  if (v !== 0 && v < minFinite) {
    throw inputError(
      `${key}=${v}`,
      `too few to ever send one maximum-size TLP (needs ${minFinite} ${unit})`,
      `set at least ${minFinite}, or 0 for infinite`,
    );
  }
}

function checkNonNegative(key: string, v: unknown, what: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw inputError(`${key}=${show(v)}`, `must be a finite number >= 0 (${what})`);
  }
}

/**
 * Throws an InputError (one line: key, value, what is wrong, the fix) for the first bad field,
 * e.g. "pcie.lanes=3: must be one of 1, 2, 4, 8, 12, 16, 32".
 */
export function validatePcieSpec(spec: PcieLinkSpec, keyPrefix: string): void {
  const k = (f: string): string => (keyPrefix ? `${keyPrefix}.${f}` : f);
  if (spec === null || typeof spec !== 'object') {
    throw inputError(`${keyPrefix || 'pcie'}=${show(spec)}`, 'must be an object of PCIe link fields', 'see src/pcie/README.md');
  }
  const s: Record<string, unknown> = { ...spec }; // the fields as given (a caller may pass anything)
  checkOneOf(k('gen'), s['gen'], PCIE_GENS);
  checkOneOf(k('lanes'), s['lanes'], PCIE_LANES);
  checkOneOf(k('mpsBytes'), s['mpsBytes'], PCIE_SIZES);
  checkOneOf(k('mrrsBytes'), s['mrrsBytes'], PCIE_SIZES);
  checkOneOf(k('rcbBytes'), s['rcbBytes'], PCIE_RCBS);
  checkBool(k('rcbChunks'), s['rcbChunks']);
  checkBool(k('addr64'), s['addr64']);
  checkBool(k('ecrc'), s['ecrc']);
  const maxTags = spec.gen === 6 ? 16384 : 1024;
  const tags = s['tags'];
  if (typeof tags !== 'number' || !Number.isInteger(tags) || tags < 1 || tags > maxTags) {
    throw inputError(
      `${k('tags')}=${show(tags)}`,
      `must be an integer from 1 to ${maxTags}`,
      spec.gen === 6
        ? 'Flit Mode allows 14-bit tags'
        : '32 with 5-bit tags, 256 with 8-bit extended tags, up to 1024 with 10-bit tags',
    );
  }
  const mpsCredits = spec.mpsBytes / FC_UNIT_BYTES;
  checkCredits(k('phCredits'), s['phCredits'], 1, 'header credit');
  checkCredits(k('pdCredits'), s['pdCredits'], mpsCredits, `data credits of 16 B for mpsBytes=${spec.mpsBytes}`);
  checkCredits(k('nphCredits'), s['nphCredits'], 1, 'header credit');
  checkCredits(k('cplhCredits'), s['cplhCredits'], 1, 'header credit');
  checkCredits(k('cpldCredits'), s['cpldCredits'], mpsCredits, `data credits of 16 B for mpsBytes=${spec.mpsBytes}`);
  checkNonNegative(k('dllpAckFactor'), s['dllpAckFactor'], 'ACK DLLPs per Ack latency limit; 1 = spec');
  checkNonNegative(k('fcUpdateFactor'), s['fcUpdateFactor'], 'UpdateFC DLLPs per UpdateFC latency; 1 = spec');
  checkNonNegative(k('linkLatencyNs'), s['linkLatencyNs'], 'one-way link latency in ns');
}

/** PCIE_DEFAULTS overridden by `partial`, validated and frozen. */
export function resolvePcieSpec(partial: Partial<PcieLinkSpec> | undefined, keyPrefix = 'pcie'): Readonly<PcieLinkSpec> {
  const spec: PcieLinkSpec = { ...PCIE_DEFAULTS, ...partial };
  validatePcieSpec(spec, keyPrefix);
  return Object.freeze(spec);
}
