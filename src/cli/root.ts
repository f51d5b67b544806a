/** The iommusim program's root command, before any command is registered (shared by program.ts and run-program.ts). */
import { Command } from 'commander';
import { simVersion } from '../run/result.js';

export function newProgram(): Command {
  return new Command()
    .name('iommusim')
    .description('Cycle-approximate IOMMU and DMA performance simulator')
    .version(simVersion())
    .showHelpAfterError('(iommusim --help lists the commands)')
    .exitOverride();
}
