/**
 * The hypervisors iommusim knows, by name: the cost model's profiles (src/virt/hypervisors.ts) and
 * the assignment checks of the topology tool (src/topology/check.ts) both cover exactly these.
 */
export type HypervisorName = 'kvm' | 'xen' | 'virtualbox' | 'bhyve';
export const HYPERVISORS: readonly HypervisorName[] = ['kvm', 'xen', 'virtualbox', 'bhyve'];
