/**
 * Interrupt remapping's statistics, each declared once (src/util/stats.ts): the remapping unit's
 * (InterruptRemapper.metrics(), `IrqRemapMetrics`) and the posted-interrupt descriptors'
 * (PostedInterrupts.metrics(), `PostedMetrics`). They are not under a run result's `metrics`:
 * `compare` summarises them per I/O path (`modes[].interrupts`); docs/metrics.md lists them.
 */
import type { InterruptRemapper } from './remap.js';
import type { PostedInterrupts } from './posted.js';
import { statTable, type Stat, type StatTree } from '../../util/stats.js';

const IRQ_REMAP_STATS_TABLE = [
  { path: 'requests', kind: 'count', unit: 'requests', desc: 'interrupt requests (DWORD writes to 0xFEEx_xxxx) the remapping unit handled', read: (r) => r.requests },
  { path: 'remapped', kind: 'count', unit: 'requests', desc: 'requests remapped to a host vector and destination', read: (r) => r.remapped },
  { path: 'posted', kind: 'count', unit: 'requests', desc: 'requests posted to a posted-interrupt descriptor (IRTE mode 1)', read: (r) => r.posted },
  { path: 'compatPassed', kind: 'count', unit: 'requests', desc: 'compatibility-format requests let through unremapped (irq.blockCompat=false, irq.x2apic=false)', read: (r) => r.compatPassed },
  { path: 'blocked', kind: 'count', unit: 'requests', desc: 'requests blocked by a fault (= faults.count)', read: (r) => r.blocked },
  { path: 'iec.entries', kind: 'level', unit: 'entries', desc: 'the interrupt-entry cache\'s capacity (irq.iec.entries)', read: (r) => r.iec.entries },
  { path: 'iec.hits', kind: 'count', unit: 'lookups', desc: 'interrupt-entry-cache lookups that hit', read: (r) => r.iec.hits },
  { path: 'iec.misses', kind: 'count', unit: 'lookups', desc: 'interrupt-entry-cache lookups that missed: each reads the IRTE from memory', read: (r) => r.iec.misses },
  { path: 'iec.fills', kind: 'count', unit: 'entries', desc: 'interrupt-entry-cache entries filled', read: (r) => r.iec.fills },
  { path: 'iec.evictions', kind: 'count', unit: 'entries', desc: 'fills that replaced a valid entry', read: (r) => r.iec.evictions },
  { path: 'iec.hitRate', kind: 'ratio', unit: 'fraction (0–1)', desc: 'share of interrupt-entry-cache lookups that hit', num: 'iec.hits', den: ['iec.hits', 'iec.misses'] },
  { path: 'irteReads', kind: 'count', unit: 'reads', desc: 'IRTEs read from the interrupt-remapping table (IEC misses)', read: (r) => r.irteReads },
  { path: 'irteWrites', kind: 'count', unit: 'writes', desc: 'IRTEs programmed (written to the table)', read: (r) => r.irteWrites },
  { path: 'invalidations.global', kind: 'count', unit: 'descriptors', desc: 'global interrupt-entry-cache invalidations', read: (r) => r.iecInvGlobal },
  { path: 'invalidations.indexSelective', kind: 'count', unit: 'descriptors', desc: 'index-selective interrupt-entry-cache invalidations', read: (r) => r.iecInvSelective },
  { path: 'invalidations.entriesDropped', kind: 'count', unit: 'entries', desc: 'interrupt-entry-cache entries the invalidations dropped', read: (r) => r.iecEntriesInvalidated },
  { path: 'faults.count', kind: 'count', unit: 'faults', desc: 'interrupt-remapping faults (each blocks its request)', read: (r) => r.faults },
  { path: 'faults.recorded', kind: 'count', unit: 'faults', desc: 'faults recorded in the fault log', read: (r) => r.faultsRecorded },
  { path: 'faults.suppressedByFpd', kind: 'count', unit: 'faults', desc: 'qualified faults whose recording the IRTE\'s FPD bit suppressed', read: (r) => r.faultsSuppressed },
  { path: 'faults.byCode', kind: 'byName', unit: 'faults', desc: 'faults by VT-d fault-reason code (`0x20` …); codes with none left out', read: (r) => r.faultsByName((c) => `0x${c.toString(16)}`) },
  { path: 'faults.byReason', kind: 'byName', unit: 'faults', desc: 'faults by reason (requestReserved, indexBeyondTable, irteNotPresent, tableAccess, irteReserved, compatBlocked, invalidSourceId; an unnamed code as hex); reasons with none left out', read: (r) => r.faultsByName((c, name) => name ?? `0x${c.toString(16)}`) },
  { path: 'faults.first', kind: 'records', unit: 'faults', desc: 'the first 64 faults: timeNs (the caller\'s time), sourceId, index (interrupt index), reason, recorded (false when FPD suppressed it)', read: (r) => r.faultRecords() },
] as const satisfies readonly Stat<InterruptRemapper>[];

/** The remapping unit's statistics, checked, with the builder of `InterruptRemapper.metrics()`. */
export const IRQ_REMAP_STATS = statTable<InterruptRemapper>(IRQ_REMAP_STATS_TABLE);
export type IrqRemapMetrics = StatTree<typeof IRQ_REMAP_STATS_TABLE>;

const POSTED_STATS_TABLE = [
  { path: 'descriptors', kind: 'level', unit: 'descriptors', desc: 'posted-interrupt descriptors allocated', read: (p) => p.descriptors },
  { path: 'posts', kind: 'count', unit: 'posts', desc: 'interrupts posted by the remapping unit (bad descriptors included)', read: (p) => p.posts },
  { path: 'pirAlreadySet', kind: 'count', unit: 'posts', desc: 'posts whose vector was already pending in the PIR (coalesced into one interrupt)', read: (p) => p.pirAlreadySet },
  { path: 'notifications', kind: 'count', unit: 'notifications', desc: 'notification events sent (ON was clear, and SN clear or the IRTE urgent)', read: (p) => p.notifications },
  { path: 'deliveredWithoutExit', kind: 'count', unit: 'notifications', desc: 'notifications taken by a running vCPU in guest mode (no VM exit)', read: (p) => p.deliveredWithoutExit },
  { path: 'hostNotifications', kind: 'count', unit: 'notifications', desc: 'notifications that reached the host (vCPU not running)', read: (p) => p.hostNotifications },
  { path: 'wakeups', kind: 'count', unit: 'notifications', desc: 'host notifications that woke a blocked vCPU', read: (p) => p.wakeups },
  { path: 'suppressedOutstanding', kind: 'count', unit: 'posts', desc: 'posts without a notification because one was outstanding (ON set)', read: (p) => p.suppressedOutstanding },
  { path: 'suppressedSn', kind: 'count', unit: 'posts', desc: 'posts without a notification because SN was set and the IRTE not urgent', read: (p) => p.suppressedSn },
  { path: 'urgentOverrides', kind: 'count', unit: 'notifications', desc: 'notifications sent despite SN because the IRTE was urgent', read: (p) => p.urgentOverrides },
  { path: 'badDescriptor', kind: 'count', unit: 'posts', desc: 'posts to an address that is no allocated descriptor', read: (p) => p.badDescriptor },
  { path: 'pidAccesses', kind: 'count', unit: 'accesses', desc: 'atomic read-modify-writes of a descriptor by the remapping unit (one per good post)', read: (p) => p.pidAccesses },
  { path: 'syncs', kind: 'count', unit: 'syncs', desc: 'PIR-to-vIRR syncs (the guest taking its posted interrupts)', read: (p) => p.syncs },
  { path: 'vectorsSynced', kind: 'count', unit: 'vectors', desc: 'vectors moved from PIRs to vIRRs by the syncs', read: (p) => p.vectorsSynced },
] as const satisfies readonly Stat<PostedInterrupts>[];

/** The descriptors' statistics, checked, with the builder of `PostedInterrupts.metrics()`. */
export const POSTED_STATS = statTable<PostedInterrupts>(POSTED_STATS_TABLE);
export type PostedMetrics = StatTree<typeof POSTED_STATS_TABLE>;
