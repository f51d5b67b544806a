/**
 * The program with only `run` registered, for `iommusim run …`: the same root and the same `run`
 * command as buildProgram() (program.ts) gives, without loading the modules of the other commands
 * (reports and their charts, sweeps and their worker pool, validation, the hypervisor paths): a
 * shorter start for the command that replays traces. main.ts picks it when the first word is `run`.
 */
import type { Command } from 'commander';
import { newProgram } from './root.js';
import { registerRun } from './run.js';
import { addExamples } from './examples.js';

export function buildRunProgram(): Command {
  const program = newProgram();
  registerRun(program);
  addExamples(program);
  return program;
}
