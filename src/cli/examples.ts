/**
 * Examples at the end of every command's --help, git-style: the command line, then what it does.
 * One table for all commands (keyed by the command's path), added by `addExamples` once the
 * commands are registered; test/cli/help.test.ts checks every command has two, and that their
 * options exist.
 */
import type { Command } from 'commander';

export type Example = [commandLine: string, what: string];

export const EXAMPLES: Record<string, Example[]> = {
  '': [
    ['iommusim run nic-10g-tcp --set iommu.mode=strict', 'a shipped workload through the timed model, strict unmaps'],
    ['iommusim compare nic-10g-tcp --hypervisor kvm --out reports/kvm', 'bare metal vs passthrough vs virtio vs emulated, with a report'],
  ],
  run: [
    ['iommusim run nic-10g-tcp --set iommu.mode=strict --json out.json', 'the 10G TCP workload with an IOTLB invalidation per unmap; the full result as JSON'],
    ['iommusim run workloads/examples/nic-rx-ring.csv --platform broadwell-gen3x8', 'a trace file (CSV, pcap, ftrace, GPU CSV, .iotrace) on a platform preset'],
  ],
  compare: [
    ['iommusim compare nic-10g-tcp --hypervisor kvm', 'every I/O path of the 10G TCP workload under KVM, as a table'],
    ['iommusim compare nic-10g-udp64 --modes passthrough,emulated --hypervisor xen --out reports/xen', 'two paths under Xen, with report.html, PNG charts and CSV'],
  ],
  migrate: [
    ['iommusim migrate nic-10g-tcp --hypervisor kvm', 'downtime and fallback throughput around a live migration'],
    ['iommusim migrate nic-10g-tcp --set migration.bandwidthGbps=25 --json migration.json', 'a faster migration link; the timeline as JSON'],
  ],
  topology: [
    ['iommusim topology check --lspci lspci-nn.txt --groups iommu-groups.txt --assign 01:00.0', 'can 01:00.0 be passed through to a KVM guest'],
    ['iommusim topology check --lspci lspci-tv.txt --assign 03:00.0 --hypervisor xen --hotplug', 'the same for a running Xen guest'],
  ],
  'topology check': [
    ['iommusim topology check --lspci lspci-nn.txt --groups iommu-groups.txt --assign 01:00.0,01:00.1', 'both functions of a NIC to a KVM guest (exit 1 when not viable, with the reasons)'],
    ['iommusim topology check --lspci lspci-tv.txt --lspci lspci-nn.txt --assign 03:00.0 --hypervisor xen --json', 'to a Xen guest, machine-readable'],
  ],
  workloads: [
    ['iommusim workloads', 'the shipped workloads and the generators they use'],
    ['iommusim workloads --json', 'the same, machine-readable'],
  ],
  trace: [
    ['iommusim trace info workloads/examples/nic-rx-ring.csv', 'records, ops, devices and DMA sizes of a trace'],
    ['iommusim trace import capture.pcap -o capture.iotrace', 'a packet capture through the NIC model into a DMA trace'],
  ],
  'trace info': [
    ['iommusim trace info workloads/examples/nic-rx-ring.csv', 'records, time span, ops, devices and the DMA size histogram'],
    ['iommusim trace info capture.pcapng --json', 'the same, machine-readable'],
  ],
  'trace import': [
    ['iommusim trace import capture.pcap -o capture.iotrace', 'a capture through the NIC model into the binary columnar trace'],
    ['iommusim trace import trace.txt --format ftrace -o trace.csv', 'Linux ftrace text into the CSV trace format'],
  ],
  'trace gen': [
    ['iommusim trace gen nic-10g-tcp -o tcp.iotrace', 'the trace a shipped workload replays, as a file'],
    ['iommusim trace gen pciebench --set workload.count=1000 -o pb.csv', 'a generator with settings, as CSV'],
  ],
  config: [
    ['iommusim config', 'every configuration key with its default, unit and source'],
    ['iommusim config --markdown > docs/config.md', 'the reference as a Markdown table'],
  ],
  metrics: [
    ['iommusim metrics', 'every declared metric of a result: path, kind, unit, meaning'],
    ['iommusim metrics --markdown > docs/metrics.md', 'the reference as Markdown'],
  ],
  platforms: [
    ['iommusim platforms', 'the platform presets with their settings and sources'],
    ['iommusim platforms | grep -A4 \'^cascadelake-100g$\'', 'one preset\'s settings and sources (apply it with run --platform cascadelake-100g)'],
  ],
  report: [
    ['iommusim report out.json --out reports/mine', 'HTML, PNG, Markdown, CSV and JSON from a run --json result'],
    ['iommusim report reports/iotlb-size/results.json --out reports/again --title "IOTLB size"', 'a sweep\'s report again, titled'],
  ],
  sweep: [
    ['iommusim sweep workloads/sweeps/iotlb-size.yaml --out reports/iotlb-size', 'a parameter sweep on all cores, with its report'],
    ['iommusim sweep study.yaml --shard 3/16 --out out/shard-3 --workers 8 --resume', 'the 3rd of 16 parts on 8 threads, keeping what an earlier try finished (docs/batch.md)'],
  ],
  merge: [
    ['iommusim merge out/shard-* --out out/all', 'join the shards of one sweep into its results.json and report'],
    ['iommusim merge out/shard-1 out/shard-2 --out out/all --no-report', 'two shards, results only'],
  ],
  validate: [
    ['iommusim validate', 'every anchor: published figure, simulated figure, error, pass/miss'],
    ['iommusim validate --fast --out reports/validation', 'the fast subset, with model-vs-measured charts'],
  ],
};

/** The command's path below the program: '' for the program, 'trace gen' for a subcommand. */
export function commandPath(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x?.parent; x = x.parent) names.unshift(x.name());
  return names.join(' ');
}

export function examplesText(list: Example[]): string {
  return `\nExamples:\n${list.map(([cmd, what]) => `  ${cmd}\n      ${what}`).join('\n')}\n`;
}

/** Add the examples of EXAMPLES to the help of `program` and all its commands. */
export function addExamples(program: Command): void {
  const walk = (c: Command): void => {
    const list = EXAMPLES[commandPath(c)];
    if (list) c.addHelpText('after', examplesText(list));
    c.commands.forEach(walk);
  };
  walk(program);
}
