/** Inputs the streaming tests share. */

export type Settings = Array<[string, string | number | boolean]>;

/**
 * Every shipped NIC and GPU workload, small enough for a test, in the configurations the streamed
 * replays are checked in (test/run/streamed-timed.test.ts from .iotrace, streamed-text.test.ts as
 * CSV and JSONL).
 */
export const SHIPPED_WORKLOADS: ReadonlyArray<readonly [string, Settings]> = [
  ['nic-10g-tcp', [['workload.count', 3000]]],
  ['nic-10g-udp64', [['workload.count', 4000]]],
  ['nic-10g-memcached', [['workload.count', 3000]]],
  ['nic-100g-fs-5flows', [['workload.count', 3000], ['iommu.mode', 'strict']]],
  ['nic-100g-fs-40flows', [['workload.count', 3000], ['iommu.mode', 'strict']]],
  ['nic-real-iperf3', [['workload.count', 4000]]],
  ['gpu-training-h2d', [['workload.count', 2], ['workload.size', '1MiB']]],
  ['gpu-pageable-copies', [['workload.count', 2], ['workload.size', '1MiB']]],
  ['gpu-uvm-faults', [['workload.count', 1024]]],
];

/** CSV text → the same records as JSON Lines. */
export function csvToJsonl(csv: string): string {
  const [head, ...rows] = csv.trim().split('\n');
  const keys = head.split(',');
  return rows.map((r) => {
    const o: Record<string, string | number> = {};
    r.split(',').forEach((v, k) => { if (v !== '') o[keys[k]] = ['time_ns', 'size', 'pasid'].includes(keys[k]) ? Number(v) : v; });
    return JSON.stringify(o);
  }).join('\n') + '\n';
}
