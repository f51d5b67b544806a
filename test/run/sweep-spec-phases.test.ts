/**
 * The sweep spec's product of workloads × axes (axisJobs), on hand-made inputs: the job order
 * (workload-major, then the workload spec's own sweep points, then the axes, last fastest), where each
 * setting comes from, and which wins.
 */
import { describe, it, expect } from 'vitest';
import { axisJobs } from '../../src/run/sweep/spec.js';
import type { WorkloadSpec } from '../../src/run/workloads.js';

const wl = (sweep: WorkloadSpec['sweep']): WorkloadSpec => ({ name: 'wl', description: 'a unit workload', generator: 'nic-udp64', settings: {}, sweep, file: '/unit/wl.yaml' });

describe('axisJobs', () => {
  it('workload-major, then the workload\'s own sweep, then the axes in order (last fastest); run is an axis, not a setting', () => {
    const jobs = axisJobs(['wl', 'nic-10g-tcp'], { wl: wl({ 'workload.flows': [1, 2] }) },
      [['iommu.superpages', [true, false]], ['run', ['timed', 'functional']]], { 'workload.count': 10 });
    expect(jobs.map((j) => `${j.workload} ${j.run} ${j.settings['workload.flows'] ?? '-'} ${j.settings['iommu.superpages']}`)).toEqual([
      'wl timed 1 true', 'wl functional 1 true', 'wl timed 1 false', 'wl functional 1 false',
      'wl timed 2 true', 'wl functional 2 true', 'wl timed 2 false', 'wl functional 2 false',
      'nic-10g-tcp timed - true', 'nic-10g-tcp functional - true', 'nic-10g-tcp timed - false', 'nic-10g-tcp functional - false',
    ]);
    expect(Object.entries(jobs[0].settings)).toEqual([['workload.flows', 1], ['workload.count', 10], ['iommu.superpages', true]]);
    expect(jobs.every((j) => j.mode === undefined && j.hypervisor === undefined)).toBe(true);
    // the field names the workload and the axis point (not the workload's own sweep or the spec's settings)
    expect([jobs[0].field, jobs[1].field, jobs[8].field]).toEqual([
      'workloads[0] (wl iommu.superpages=true)', 'workloads[0] (wl (functional) iommu.superpages=true)', 'workloads[1] (nic-10g-tcp iommu.superpages=true)',
    ]);
    expect(['iommu.superpages', 'workload.count', 'workload.flows', 'nic.queues'].map(jobs[0].origin)).toEqual([
      'axes.iommu.superpages', 'settings.workload.count', 'workloads[0] (its sweep: workload.flows)', 'workloads[0]',
    ]);
    expect(jobs[8].origin('workload.flows')).toBe('workloads[1]');
  });

  it('mode and hypervisor axes give each job its I/O path and hypervisor, not settings', () => {
    const jobs = axisJobs(['nic-10g-tcp'], {}, [['workload.size', [64, 1514]], ['mode', ['virtio', 'strict']], ['hypervisor', ['kvm', 'xen']]], {});
    expect(jobs.map((j) => `${j.settings['workload.size']} ${j.mode} ${j.hypervisor} ${j.run}`)).toEqual([
      '64 virtio kvm timed', '64 virtio xen timed', '64 strict kvm timed', '64 strict xen timed',
      '1514 virtio kvm timed', '1514 virtio xen timed', '1514 strict kvm timed', '1514 strict xen timed',
    ]);
    expect(jobs[1].settings).toEqual({ 'workload.size': 64 });
    expect(jobs[1].field).toBe('workloads[0] (nic-10g-tcp mode=virtio hypervisor=xen workload.size=64)');
  });

  it('an axis over the spec\'s settings over the workload\'s own sweep point, and the origin says which', () => {
    const specs = { wl: wl({ 'workload.size': [64] }) };
    const [bySettings] = axisJobs(['wl'], specs, [], { 'workload.size': 128 });
    expect(bySettings.settings).toEqual({ 'workload.size': 128 });
    expect(bySettings.origin('workload.size')).toBe('settings.workload.size');
    const [byAxis] = axisJobs(['wl'], specs, [['workload.size', [256]]], { 'workload.size': 128 });
    expect(byAxis.settings).toEqual({ 'workload.size': 256 });
    expect(byAxis.origin('workload.size')).toBe('axes.workload.size');
  });

  it('no axes: one job per workload (per own sweep point), with the spec\'s settings', () => {
    expect(axisJobs(['nic-10g-tcp', 'wl'], { wl: wl(undefined) }, [], { 'workload.count': 5 }).map((j) => [j.field, j.settings])).toEqual([
      ['workloads[0] (nic-10g-tcp)', { 'workload.count': 5 }], ['workloads[1] (wl)', { 'workload.count': 5 }],
    ]);
    expect(axisJobs([], {}, [['workload.size', [64]]], {})).toEqual([]);
  });
});
