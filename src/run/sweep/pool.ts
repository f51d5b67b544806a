/**
 * The worker pool `sweep`, `compare` and `validate` share: a piscina pool of threads running the
 * compiled worker.ts, or — with 0 threads — the same task function in this thread. Tasks are
 * plain data (worker.ts: WorkerTask); answers come back by structured clone, so a task's answer
 * is the same object whichever thread ran it.
 *
 * The pool can be started before the CLI's modules load (`prestart`, called by main.ts from the
 * command line): its threads start and load the simulator while this thread loads commander,
 * chart.js and the rest, and the command takes it over (`openRunner`). A pool nobody took is
 * destroyed by `releasePrestarted`.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { InputError } from '../../util/errors.js';
import type { WorkerTask, Settled } from './worker.js';

/** The tasks a runner runs (a sweep's jobs go to the pool directly: runSweep). */
export type RunnerTask = Exclude<WorkerTask, { kind: 'job' } | { kind: 'noop' }>;

/** Most worker threads `--workers` accepts. */
export const MAX_WORKERS = 256;

/** The compiled worker next to this file; from TypeScript source (vitest, tsx) the copy under dist/. */
export function workerUrl(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const dist = new URL('../../../dist/src/run/sweep/worker.js', import.meta.url);
  if (existsSync(fileURLToPath(dist))) return dist;
  throw new Error(`the sweep worker ${fileURLToPath(here)} is not compiled; run npm run build`);
}

/** The worker count when --workers is not given: one per CPU. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/** `--workers N` as typed: a whole number from 0 to 256, or one line saying what is wrong (InputError). */
export function parseWorkers(text: string, flag = '--workers'): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > MAX_WORKERS) {
    throw new InputError(`${flag} ${text}: not a whole number from 0 to ${MAX_WORKERS}; e.g. ${flag} 2 (0: in this thread)`);
  }
  return n;
}

/**
 * Threads for a command of `jobs` independent jobs with --workers `workers` (compare, validate):
 * none (this thread) for 0 or 1 worker or a single job — a thread of its own would only add its
 * start-up — else one per job up to `workers`.
 */
export function threadsFor(workers: number, jobs: number): number {
  return workers <= 1 || jobs <= 1 ? 0 : Math.min(workers, jobs);
}

/** A piscina pool of `threads` threads running worker.ts (all started now). Default V8 heap limits (see README.md). */
export function newPool(threads: number): Piscina {
  return new Piscina({ filename: workerUrl().href, minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
}

let prestarted: Piscina | undefined;

/** Start a pool of `threads` threads now, for the command about to run to take over (openRunner). */
export function prestart(threads: number): void {
  if (prestarted || threads < 1) return;
  prestarted = newPool(threads);
}

/** A pool of `threads` threads: the prestarted one when it has that many, else a new one (a prestarted pool of another size is dropped). */
export function takePool(threads: number): Piscina {
  const p = prestarted;
  prestarted = undefined;
  if (p && p.options.maxThreads === threads) return p;
  if (p) void p.destroy();
  return newPool(threads);
}

/** Destroy a prestarted pool no command took (the command failed before, or needed none). */
export async function releasePrestarted(): Promise<void> {
  const p = prestarted;
  prestarted = undefined;
  await p?.destroy();
}

/** Runs worker tasks on a pool of threads, or in this thread (threads 0). */
export interface TaskRunner {
  /** Worker threads (0: tasks run in this thread, one after another). */
  readonly threads: number;
  /** The piscina pool (undefined in this thread). */
  readonly pool?: Piscina;
  /** A task's value; its InputError thrown again as one (bad input stays one line). */
  run<T>(task: RunnerTask): Promise<T>;
  destroy(): Promise<void>;
}

const unsettle = <T>(a: Settled<T>): T => {
  if ('inputError' in a) throw new InputError(a.inputError);
  return a.value;
};

/**
 * Every task on the runner at once; their values in task order. When tasks fail, all are still
 * waited for and the first failure *in task order* is thrown: the error does not depend on which
 * thread finished first.
 */
export async function runAll<T>(runner: TaskRunner, tasks: RunnerTask[]): Promise<T[]> {
  const settled = await Promise.allSettled(tasks.map((t) => runner.run<T>(t)));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

type TaskFn = (t: WorkerTask) => unknown;
let inThread: Promise<TaskFn> | undefined;

/** The worker's task function, loaded into this thread. */
export function localTask(): Promise<TaskFn> {
  inThread ??= import('./worker.js').then((m) => m.default as TaskFn);
  return inThread;
}

/** A runner on `threads` threads (the prestarted pool when it fits), or in this thread for 0. */
export function openRunner(threads: number): TaskRunner {
  if (threads < 1) {
    let queue: Promise<void> = Promise.resolve();
    let destroyed = false;
    return {
      threads: 0,
      // one task at a time, each started after the previous one's answer (and a turn of the event loop: signals get in)
      run: async <T>(task: RunnerTask): Promise<T> => {
        const f = await localTask();
        const prev = queue;
        let done!: () => void;
        queue = new Promise<void>((r) => { done = r; });
        await prev;
        try {
          // tasks still queued when the runner is destroyed (an earlier one failed) do not run
          if (destroyed) throw new Error('the runner was destroyed before this task ran');
          return unsettle((await f(task)) as Settled<T>);
        } finally {
          setImmediate(done);
        }
      },
      destroy: async () => { destroyed = true; },
    };
  }
  const pool = takePool(threads);
  return {
    threads,
    pool,
    run: async <T>(task: RunnerTask): Promise<T> => unsettle((await pool.run(task)) as Settled<T>),
    destroy: () => pool.destroy(),
  };
}
