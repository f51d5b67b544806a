/**
 * The iommusim program: every command registered, with its examples. main.ts runs it; tests build
 * it without running anything.
 */
import type { Command } from 'commander';
import { newProgram } from './root.js';
import { registerRun } from './run.js';
import { registerConfig, registerPlatforms } from './config.js';
import { registerMetrics } from './metrics.js';
import { registerWorkloads } from './workloads.js';
import { registerTrace } from './trace.js';
import { registerCompare, registerMigrate } from './compare.js';
import { registerTopology } from './topology.js';
import { registerReport } from './report.js';
import { registerSweep } from './sweep.js';
import { registerValidate } from './validate.js';
import { addExamples } from './examples.js';

export function buildProgram(): Command {
  const program = newProgram();
  registerRun(program);
  registerConfig(program);
  registerPlatforms(program);
  registerMetrics(program);
  registerWorkloads(program);
  registerTrace(program);
  registerCompare(program);
  registerMigrate(program);
  registerTopology(program);
  registerReport(program);
  registerSweep(program);
  registerValidate(program);
  addExamples(program);
  return program;
}
