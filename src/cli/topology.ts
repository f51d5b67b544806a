/** `iommusim topology check`: can these devices be assigned to a guest under this hypervisor, and why not. */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { parseLspci, parseIommuGroups, mergeTopology, toolMessagesNote } from '../topology/lspci.js';
import { checkAssignment, parseDeviceList, HYPERVISORS, type Hypervisor, type CheckOptions } from '../topology/check.js';
import { inputError, InputError } from '../util/errors.js';

/** A listing's text; lspci's own warning lines in it are skipped by the parser, and named in a note here. */
const read = (f: string): string => {
  let text: string;
  try { text = readFileSync(f, 'utf8'); } catch (e) { throw new InputError(`${f}: cannot read (${(e as NodeJS.ErrnoException).code ?? e}); check the path`); }
  const note = toolMessagesNote(text, f);
  if (note) process.stderr.write(`iommusim: note: ${note}\n`);
  return text;
};
const collect = (v: string, prev: string[]): string[] => prev.concat([v]);

export function registerTopology(program: Command): void {
  const topo = program.command('topology').description('PCI topology and passthrough assignment checks');
  topo
    .command('check')
    .description('is assigning these devices to a guest viable under the hypervisor, and why not')
    .requiredOption('--lspci <file>', 'output of lspci -nn, -D, -tv or -mm -nn (several --lspci merge)', collect, [])
    .option('--groups <file>', 'output of the IOMMU-groups listing loop (the Arch Wiki one)')
    .requiredOption('--assign <bdfs>', 'devices to assign, comma-separated (0000:01:00.0, 01:00.0, bhyve 1/0/0)')
    .option('--hypervisor <name>', `${HYPERVISORS.join(', ')}`, 'kvm')
    .option('--guest-slot <addr>', 'guest address of the assigned device (kvm 05, xen 7, virtualbox 01:05.0, bhyve 1)')
    .option('--hotplug', 'attach to a running guest')
    .option('--no-iommu', 'the host has no active IOMMU')
    .option('--vfio-bound <bdfs>', 'kvm: functions bound to vfio-pci and left unused')
    .option('--hidden <bdfs>', 'xen: pciback.hide list; bhyve: pptdevs')
    .option('--xen-msi', 'xen: host booted with msi=1')
    .option('--save-restore', 'virtualbox: the guest state will be saved/restored')
    .option('--live-migration', 'live migration / teleportation will be used')
    .option('--json', 'machine-readable result')
    .action((opts: { lspci: string[]; groups?: string; assign: string; hypervisor: string; guestSlot?: string; hotplug?: boolean; iommu?: boolean; vfioBound?: string; hidden?: string; xenMsi?: boolean; saveRestore?: boolean; liveMigration?: boolean; json?: boolean }) => {
      if (!(HYPERVISORS as readonly string[]).includes(opts.hypervisor)) throw inputError(`--hypervisor ${opts.hypervisor}`, 'unknown hypervisor', `use one of ${HYPERVISORS.join(', ')}`);
      if (opts.lspci.length === 0) {
        throw inputError('--lspci', `missing: topology check needs the PCI listing${opts.groups ? ` beside --groups ${opts.groups}` : ''}`,
          'add --lspci FILE with the output of lspci -nn, lspci -D, lspci -tv or lspci -mm -nn from the same host');
      }
      let t = parseLspci(read(opts.lspci[0]), opts.lspci[0]);
      for (const f of opts.lspci.slice(1)) t = mergeTopology(t, parseLspci(read(f), f));
      if (opts.groups) t = mergeTopology(t, parseIommuGroups(read(opts.groups), opts.groups));
      const assign = parseDeviceList(opts.assign, '--assign').map((b) => b.bdf);
      const o: CheckOptions = {
        guestSlot: opts.guestSlot, hotplug: opts.hotplug, xenMsi: opts.xenMsi, saveRestore: opts.saveRestore, liveMigration: opts.liveMigration,
        ...(opts.iommu === false ? { iommu: false } : {}),
        ...(opts.vfioBound ? { vfioBound: parseDeviceList(opts.vfioBound, '--vfio-bound').map((b) => b.bdf) } : {}),
        ...(opts.hidden ? { hidden: parseDeviceList(opts.hidden, '--hidden').map((b) => b.bdf) } : {}),
      };
      const r = checkAssignment(t, assign, opts.hypervisor as Hypervisor, o);
      if (opts.json) { process.stdout.write(JSON.stringify({ hypervisor: opts.hypervisor, assign, ...r }, null, 2) + '\n'); }
      else {
        process.stdout.write(`${r.viable ? 'viable' : 'NOT viable'}: ${assign.join(', ')} → ${opts.hypervisor} guest\n`);
        for (const x of r.reasons) process.stdout.write(`  ✗ [${x.code}] ${x.message}\n`);
        for (const n of r.notes) process.stdout.write(`  · ${n}\n`);
      }
      process.exitCode = r.viable ? 0 : 1;
    });
}
