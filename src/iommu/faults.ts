/**
 * VT-d fault reasons (DMA remapping), as recorded in the fault-recording registers.
 * Codes from the fault-reason table of Intel's "Virtualization Technology for Directed I/O"
 * architecture specification (legacy mode), as QEMU encodes them (hw/i386/intel_iommu_internal.h,
 * VTD_FR_*). A faulting DMA is dropped, counted and recorded; the
 * simulation goes on.
 */
export const FR_ROOT_NOT_PRESENT = 0x1;
export const FR_CONTEXT_NOT_PRESENT = 0x2;
export const FR_INVALID_CONTEXT = 0x3;
export const FR_ADDRESS_BEYOND_WIDTH = 0x4;
export const FR_WRITE_NOT_PERMITTED = 0x5;
export const FR_READ_NOT_PERMITTED = 0x6;
export const FR_NEXT_TABLE_INVALID = 0x7;

/** Name for each (code, cause) pair we record. `notPresent` is code 5/6 on an entry with R = W = 0. */
export const FAULT_NAMES = [
  'rootNotPresent',
  'contextNotPresent',
  'invalidContext',
  'addressBeyondWidth',
  'writeToReadOnly',
  'readFromWriteOnly',
  'notPresent',
  'nestedSecondStage',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export const F_ROOT = 0;
export const F_CONTEXT = 1;
export const F_INVALID_CONTEXT = 2;
export const F_WIDTH = 3;
export const F_WRITE_RO = 4;
export const F_READ_WO = 5;
export const F_NOT_PRESENT = 6;
export const F_NESTED_S2 = 7;

/** The VT-d fault-reason code of each fault kind (read/write decides 5 vs 6 for not-present). */
export function faultCode(kind: number, isWrite: boolean): number {
  switch (kind) {
    case F_ROOT: return FR_ROOT_NOT_PRESENT;
    case F_CONTEXT: return FR_CONTEXT_NOT_PRESENT;
    case F_INVALID_CONTEXT: return FR_INVALID_CONTEXT;
    case F_WIDTH: return FR_ADDRESS_BEYOND_WIDTH;
    case F_WRITE_RO: return FR_WRITE_NOT_PERMITTED;
    case F_READ_WO: return FR_READ_NOT_PERMITTED;
    default: return isWrite ? FR_WRITE_NOT_PERMITTED : FR_READ_NOT_PERMITTED;
  }
}
