/**
 * Page-fault flows of a device that may touch memory that is not mapped for it, step by step:
 *
 * - a NIC with on-demand paging (ODP, Mellanox mlx5; Lesokhin et al., ASPLOS 2017): the NIC finds
 *   no translation for a work request's buffer, raises a page-fault event; the driver, from a
 *   workqueue, reads the work request, resolves the message's pages, writes the NIC's translation
 *   table through a UMR work request, and resumes the queue pair with a firmware command; the NIC
 *   retries the work request;
 * - PRI (PCIe Page Request Interface) of a device passed through to a guest with a vIOMMU: the
 *   device's ATS translation fails, it sends a page request; the IOMMU queues it in its page request
 *   queue and interrupts the host; the host reports it to the VMM, which queues it in the vIOMMU's
 *   page request queue and interrupts the guest; the guest's IOMMU driver handles the fault, writes
 *   a page-group response, whose doorbell traps to the VMM; the host sends the response to the
 *   device, which retries the translation and the DMA.
 *
 * Each step is a knob (fault.*), or an existing knob of the CPU, PCIe or IOMMU model, with its
 * source or marked as an assumption. A flow's latency is the sum of its steps (they follow one
 * another). The flows stand alone: the NIC and GPU trace models keep their buffers mapped.
 *
 * No published figure measures the PRI flow end to end: the ~700 µs of Wang et al. (OSDI 2025) is
 * the hypervisor's fault on a swapped-out page in VIO's snoop path, not a PRI fault (§4.1, Fig. 10);
 * the paper bounds a PRI fault only as ~3× to ~80× a CPU page fault (§1).
 */
import { FAULT_KNOBS } from '../config/knobs/faults.js';

export { FAULT_KNOBS };
import type { Config } from '../config/config.js';



export interface FaultStep { step: string; us: number }
export interface FaultFlow { flow: string; steps: FaultStep[]; totalUs: number }

function knobs(cfg: Readonly<Config>): Record<string, number> {
  const out: Record<string, number> = {};
  const get = (key: string): unknown => { let v: unknown = cfg; for (const p of key.split('.')) v = (v as Record<string, unknown> | undefined)?.[p]; return v; };
  for (const k of FAULT_KNOBS) { const v = get(k.key); out[k.key] = typeof v === 'number' ? v : (k.default as number); }
  for (const key of ['cpu.ghz', 'cpu.interruptCycles', 'cpu.dmaMapCycles', 'virt.exit.userIoCycles', 'virt.ipiCycles', 'pcie.linkLatencyNs', 'iommu.walker.latencyNs', 'rc.readNs']) out[key] = get(key) as number;
  return out;
}

const flow = (name: string, steps: FaultStep[]): FaultFlow => ({ flow: name, steps, totalUs: Math.round(steps.reduce((a, s) => a + s.us, 0) * 1e6) / 1e6 });

/** Link rate in bytes per µs of the config's PCIe link (for the NIC's reads of new translations). */
function linkBytesPerUs(cfg: Readonly<Config>): number {
  const gts = [0, 2.5, 5, 8, 16, 32, 64][cfg.pcie.gen];
  const enc = cfg.pcie.gen <= 2 ? 0.8 : cfg.pcie.gen <= 5 ? 128 / 130 : 1;
  return (gts * enc * cfg.pcie.lanes * 1000) / 8;
}

/** ODP: one network page fault on a message of `bytes` whose pages are resident (a minor fault), on bare metal. */
export function odpFault(cfg: Readonly<Config>, bytes: number): FaultFlow {
  const k = knobs(cfg);
  const pages = Math.max(1, Math.ceil(bytes / 4096));
  const cyc = (c: number) => c / (k['cpu.ghz'] * 1000);
  const wake = k['fault.wakeUs'] + k['fault.idleExitUs'];
  const mapped = cfg.iommu.mode === 'off' || cfg.iommu.mode === 'identity' ? 0 : cyc(k['cpu.dmaMapCycles']);
  return flow('odp', [
    { step: 'NIC: no translation for the work request; page-fault event and interrupt', us: k['fault.odp.eventUs'] },
    { step: 'host interrupt handler (event queue)', us: cyc(k['cpu.interruptCycles']) },
    { step: 'page-fault work scheduled on a worker', us: wake },
    { step: 'driver reads and parses the work request, finds the memory region', us: k['fault.odp.wqeParseUs'] },
    { step: `pages resolved (${pages} × 4 KiB, resident)`, us: (pages * k['fault.odp.resolveNsPerPage']) / 1000 + k['fault.majorFaultUs'] },
    { step: `pages DMA-mapped (host IOMMU ${cfg.iommu.mode})`, us: pages * mapped },
    { step: 'NIC translation table updated (UMR work request and completion)', us: k['fault.odp.umrUs'] + (8 * pages) / linkBytesPerUs(cfg) },
    { step: 'queue pair resumed (firmware command PAGE_FAULT_RESUME)', us: k['fault.odp.resumeUs'] },
    { step: 'NIC retries the work request', us: k['fault.odp.retryUs'] },
  ]);
}

/** PRI: one I/O page fault of a device passed through to a guest with a vIOMMU, resolved by the guest (a minor fault unless fault.majorFaultUs). */
export function priFaultInVm(cfg: Readonly<Config>): FaultFlow {
  const k = knobs(cfg);
  const cyc = (c: number) => c / (k['cpu.ghz'] * 1000);
  const wake = k['fault.wakeUs'] + k['fault.idleExitUs'];
  const link = k['pcie.linkLatencyNs'] / 1000;
  // an ATS translation request: up the link, the root complex, the IOMMU's walk, the completion back
  const ats = 2 * link + (k['rc.readNs'] + k['iommu.walker.latencyNs']) / 1000;
  return flow('pri-vm', [
    { step: 'device: ATS translation request answered "not present"', us: ats },
    { step: 'device: page request message (PRI) to the root complex', us: link },
    { step: 'IOMMU: page request queued, queue interrupt', us: k['fault.pri.prqUs'] },
    { step: 'host: interrupt, then its page-request thread', us: cyc(k['cpu.interruptCycles']) + wake },
    { step: 'host: fault reported to the VMM (its fault thread woken)', us: k['fault.pri.reportUs'] + wake },
    { step: 'VMM: request written into the vIOMMU\'s queue, interrupt injected', us: k['fault.pri.vmmUs'] + cyc(k['virt.ipiCycles']) },
    { step: 'guest: interrupt, its page-request thread, the I/O page-fault worker', us: cyc(k['cpu.interruptCycles']) + 2 * wake },
    { step: 'guest: fault handler (page-table update)', us: k['fault.minorFaultUs'] + k['fault.majorFaultUs'] },
    { step: 'guest: page-group response queued, its doorbell traps to the VMM', us: cyc(k['virt.exit.userIoCycles']) + k['fault.pri.vmmUs'] },
    { step: 'VMM → host: response passed down; IOMMU sends it to the device', us: k['fault.pri.reportUs'] + link },
    { step: 'device: ATS translation retried (present now), DMA proceeds', us: ats },
  ]);
}
