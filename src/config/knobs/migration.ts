/**
 * Knobs of the live-migration model (iommusim migrate), in a leaf module so that the config schema
 * can list them without importing the model. Units, defaults and sources as every knob's.
 */
import type { Knob } from '../knob.js';
import type { KnobTree } from '../tree.js';

const MIGRATION_TABLE = [
  { key: 'migration.ramBytes', kind: 'size', default: 4 * 1024 ** 3, min: 1, unit: 'bytes', doc: 'guest RAM the migration copies', source: 'as vm.ramBytes (a small guest)' },
  { key: 'migration.bandwidthGbps', kind: 'number', default: 10, min: 0.001, unit: 'Gb/s', doc: 'bandwidth of the migration stream', source: 'assumption: a 10 GbE migration network' },
  { key: 'migration.dirtyGBps', kind: 'number', default: 0.1, min: 0, unit: 'GB/s', doc: 'rate the guest dirties memory during pre-copy', source: 'assumption: a network-bound guest dirtying ~100 MB/s (packet buffers, page cache)' },
  { key: 'migration.downtimeMs', kind: 'number', default: 300, min: 1, unit: 'ms', doc: 'downtime budget: pre-copy stops when the rest can be sent within it (stop-and-copy)', source: 'QEMU migration parameter downtime-limit default 300 ms [C]' },
  { key: 'migration.maxRounds', kind: 'int', default: 30, min: 1, unit: 'rounds', doc: 'pre-copy rounds before stop-and-copy is forced', source: 'QEMU converges or is throttled within tens of iterations (assumption)' },
  { key: 'migration.unplugMs', kind: 'number', default: 2000, min: 0, unit: 'ms', doc: 'hot-removal of the passthrough device: the guest\'s ACPI eject handshake and driver teardown', source: 'assumption: ACPI hot-unplug takes seconds (PCIe hot-plug attention-button delay is 5 s; ACPI eject is faster) [C]' },
  { key: 'migration.replugMs', kind: 'number', default: 1000, min: 0, unit: 'ms', doc: 'hot-add of the new passthrough device on the target and driver bring-up', source: 'assumption' },
] as const satisfies readonly Knob[];
export const MIGRATION_KNOBS: readonly Knob[] = MIGRATION_TABLE;

/** The configuration's `migration` section, typed from MIGRATION_KNOBS's table. */
export type MigrationSection = KnobTree<typeof MIGRATION_TABLE>['migration'];
