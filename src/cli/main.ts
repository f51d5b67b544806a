#!/usr/bin/env node
/**
 * The iommusim command line. Each command lives in its own file; this one wires them up and turns
 * bad input into one line on stderr (exit 2) instead of a stack trace.
 */
import { CommanderError } from 'commander';
import { tuneV8 } from '../util/v8tune.js';
import { isInputError } from '../util/errors.js';
import { earlyThreads } from './prestart.js';

export async function main(argv: string[]): Promise<number> {
  // sweep, compare, validate: their worker pool starts first, its threads loading the simulator while this one loads the CLI
  const threads = earlyThreads(argv.slice(2));
  const pool = threads > 0 ? await import('../run/sweep/pool.js') : undefined;
  try {
    pool?.prestart(threads);
  } catch {
    // (a worker that is not compiled, say) the command meets it again when it opens its pool, and reports it
  }
  try {
    // `iommusim run …` loads only what `run` needs (run-program.ts); anything else, every command
    const program = argv[2] === 'run'
      ? (await import('./run-program.js')).buildRunProgram()
      : (await import('./program.js')).buildProgram();
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has printed its own one-line message
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isInputError(e)) {
      process.stderr.write(`iommusim: ${e.message}\n`);
      return 2;
    }
    const err = e as Error;
    if (process.env.IOMMUSIM_DEBUG) process.stderr.write(`${err.stack}\n`);
    process.stderr.write(`iommusim: internal error: ${err.message} (a bug: please report it with the command; IOMMUSIM_DEBUG=1 shows the stack)\n`);
    return 70;
  } finally {
    await pool?.releasePrestarted();
  }
}

tuneV8();

// A closed pipe (`iommusim config | head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); throw e; });

main(process.argv).then((code) => { if (code !== 0 || process.exitCode === undefined) process.exitCode = code; });
