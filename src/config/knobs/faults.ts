/**
 * The page-fault flows' knobs (`fault.*`; the flows: src/virt/faults.ts), each step's cost with its source.
 */
import type { Knob } from '../knob.js';
import type { KnobTree } from '../tree.js';

const MLX5 = 'Linux drivers/infiniband/hw/mlx5/odp.c (the page-fault EQ handler queues work; the handler reads and parses the WQE, maps the pages, updates the mkey\'s translation with a UMR, then sends PAGE_FAULT_RESUME to the firmware) [C]';

const VTD_PRQ = 'VT-d specification ch. 7 (page requests: the page request queue, its interrupt, page group responses through the invalidation queue) [C]; Linux drivers/iommu/intel/prq.c and io-pgfault.c; iommufd fault queues (drivers/iommu/iommufd/eventq.c) for a guest\'s faults [C]';

const FAULT_TABLE = [
  { key: 'fault.wakeUs', kind: 'number', default: 10, min: 0, max: 1e6, unit: 'µs', doc: 'handing work to a sleeping thread on another core (a workqueue worker, a threaded IRQ, the VMM\'s fault thread, a halted vCPU): the scheduler\'s wake-up and the thread getting the core', source: 'assumption: ~10 µs for a cross-core wake-up of a sleeping thread on a lightly loaded host (no deep idle state: see fault.idleExitUs)' },
  { key: 'fault.idleExitUs', kind: 'number', default: 0, min: 0, max: 1e6, unit: 'µs', doc: 'the idle-state exit a wake-up pays when the woken core sleeps in a deep C-state (added to each fault.wakeUs)', source: 'Linux drivers/idle/intel_idle.c: C6 exit latency 133 µs on Haswell/Broadwell/Skylake servers, C1 2 µs [C]; 0: cores kept out of deep C-states (the default assumes they are)' },
  { key: 'fault.minorFaultUs', kind: 'number', default: 1.7, min: 0, max: 1e6, unit: 'µs', doc: 'the kernel\'s fault handler for a page that is resident but not mapped (handle_mm_fault, a minor fault)', source: 'Vesely et al., ISPASS 2016: a CPU page fault ~1.7 µs (published-figures §5) [S]' },
  { key: 'fault.majorFaultUs', kind: 'number', default: 0, min: 0, max: 1e7, unit: 'µs', doc: 'added per fault when the page must be read back from storage (a major fault: swap-in, oversubscribed memory); 0: the page is resident (a minor fault)', source: 'an input of the scenario: 0 for a minor fault, as Lesokhin et al.\'s network page faults are; a swap-in costs at least a storage read (blk.latencyUs); VIO\'s ~700 µs average (Wang et al., OSDI 2025 §4.1, Fig. 10) is such a fault on the hypervisor\'s path (a page not present, read back from swap), not broken down' },
  { key: 'fault.odp.eventUs', kind: 'number', default: 2, min: 0, max: 1e6, unit: 'µs', doc: 'ODP: the NIC finds no translation for the work request\'s buffer, writes a page-fault event to its event queue and raises the interrupt', source: `${MLX5}; the time is an assumption (two PCIe transactions and the NIC's event logic)` },
  { key: 'fault.odp.wqeParseUs', kind: 'number', default: 3, min: 0, max: 1e6, unit: 'µs', doc: 'ODP: the driver reads the faulting work request from the queue pair\'s buffer, parses its scatter list and looks up the memory region', source: `${MLX5}; the time is an assumption` },
  { key: 'fault.odp.resolveNsPerPage', kind: 'number', default: 250, min: 0, max: 1e9, unit: 'ns', doc: 'ODP: resolving one 4 KiB page of the message (hmm_range_fault / get_user_pages of a resident page, recording its DMA address); every page of the message is resolved in one fault', source: `${MLX5} (pagefault_single_data_segment maps the whole scatter entry); the time per page is an assumption` },
  { key: 'fault.odp.umrUs', kind: 'number', default: 5, min: 0, max: 1e6, unit: 'µs', doc: 'ODP: posting the UMR work request that writes the new translations into the NIC\'s table and waiting for its completion (the NIC also reads 8 B per page, at the link\'s rate)', source: `${MLX5}; the time is an assumption (a work request and a completion through the NIC)` },
  { key: 'fault.odp.resumeUs', kind: 'number', default: 50, min: 0, max: 1e6, unit: 'µs', doc: 'ODP: the PAGE_FAULT_RESUME command through the firmware\'s command interface (mailbox, doorbell, firmware, completion event)', source: `${MLX5}; the time is an assumption (a firmware command round trip of tens of µs)` },
  { key: 'fault.odp.retryUs', kind: 'number', default: 2, min: 0, max: 1e6, unit: 'µs', doc: 'ODP: the NIC re-executes the work request after the resume (fetches it again, translates through the updated table)', source: 'assumption: a work-request fetch and a translation by the NIC' },
  { key: 'fault.pri.prqUs', kind: 'number', default: 1, min: 0, max: 1e6, unit: 'µs', doc: 'PRI: the IOMMU writes the page request into its page request queue in memory and raises the queue\'s interrupt', source: `${VTD_PRQ}; the time is an assumption (a queue write and an MSI)` },
  { key: 'fault.pri.reportUs', kind: 'number', default: 2, min: 0, max: 1e6, unit: 'µs', doc: 'PRI in a guest: the host passing a fault to the VMM through the fault queue (and a response back: each way a read or write system call and the queue\'s bookkeeping)', source: `${VTD_PRQ}; the time is an assumption` },
  { key: 'fault.pri.vmmUs', kind: 'number', default: 3, min: 0, max: 1e6, unit: 'µs', doc: 'PRI in a guest: the VMM\'s vIOMMU emulation per step: writing the request into the guest\'s page request queue, or decoding the guest\'s page-group response', source: `${VTD_PRQ}; QEMU hw/i386/intel_iommu.c emulates the queues; the time is an assumption` },
] as const satisfies readonly Knob[];
export const FAULT_KNOBS: readonly Knob[] = FAULT_TABLE;

/** The configuration's `fault` section, typed from FAULT_KNOBS's table. */
export type FaultSection = KnobTree<typeof FAULT_TABLE>['fault'];
