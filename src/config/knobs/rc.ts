/**
 * Knobs of the root complex (`rc.*`, src/rc/root-complex.ts): read processing, the posted-write
 * unit, the port's write buffer. Spread into the schema where they stood; `RcSpec`, the root
 * complex's constructor argument, is derived from the table.
 */
import type { Knob } from '../knob.js';
import type { KnobTree } from '../tree.js';

const RC_TABLE = [
  { key: 'rc.readNs', kind: 'number', default: 252, min: 0, max: 100000, unit: 'ns', doc: 'root-complex processing of a read request before the memory access (coherence, ordering)', source: 'fitted (two figures, two knobs): with device.dmaEngine.latencyNs to pcie-bench\'s 546 ns warm 64 B read, and so that a tag is held 514 ns, which 32 tags turn into the 62.3 M/s of 64 B reads [P]' },
  { key: 'rc.postedWriteNs', kind: 'number', default: 21.1, min: 0, max: 100000, unit: 'ns', doc: 'root-complex time per posted write TLP (a serial resource): caps small-write rate', source: 'fitted: pcie-bench writes of 16–65 B run at a flat 47.4 M/s (1 / 21.1 ns) on Broadwell [P]' },
  { key: 'rc.writeLines', kind: 'int', default: 0, min: 0, max: 1 << 20, unit: 'lines', doc: 'the root port\'s write buffer, in 64 B lines: a write TLP needs a line for every line it touches before the device may send it (flow control), and holds them until its data is written to memory — through its translation and any ordering wait; 0 = unlimited', source: 'Vuppalapati et al., SIGCOMM 2024 tech report §4.2, §5: ~92 write lines at a Cascade Lake IIO, held from allocation until the write reaches memory [P]; Rubin et al., SOSP 2024 §1: ~100 buffered lines [P]. Not measured for Broadwell: unlimited there (not the limit in pcie-bench)' },
] as const satisfies readonly Knob[];
export const RC_KNOBS: readonly Knob[] = RC_TABLE;

/** The root complex's spec (RootComplex's constructor argument) and the configuration's `rc` section, typed from RC_TABLE. */
export type RcSpec = KnobTree<typeof RC_TABLE>['rc'];
