/**
 * A lock on an output folder, so two processes never write into one folder at once (two sweeps
 * into one --out would mix their files and corrupt results.jsonl).
 *
 * The lock is the file `DIR/iommusim.lock` holding `{pid, host, started, command, token}`. It is
 * created whole or not at all: a complete temporary file hard-linked to the name (link fails with
 * EEXIST when the lock exists; where the file system has no hard links, an O_EXCL create). A lock
 * whose process is gone (same host, `process.kill(pid, 0)` says ESRCH) is stale and is taken over;
 * the caller gets the old holder to print a note. A lock from another host cannot be checked and
 * is respected. The lock is released (removed if it still holds our token) by `release()`, on
 * process exit, and on SIGINT, SIGTERM and SIGHUP (then the signal is raised again).
 */
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from './errors.js';
import { outputError } from './output.js';

export const LOCK_FILE = 'iommusim.lock';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  started: string;
  /** The holder's command line (shortened). */
  command: string;
  /** Random; a release removes the file only if it still holds this. */
  token: string;
}

export interface FolderLock {
  dir: string;
  file: string;
  holder: LockHolder;
  /** The holder of a stale lock this one replaced (its process was gone). */
  tookOver?: LockHolder;
  release(): void;
}

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;
const sleep = (ms: number): void => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); };

function parse(text: string): LockHolder | null {
  try {
    const h = JSON.parse(text) as LockHolder;
    if (typeof h === 'object' && h !== null && Number.isInteger(h.pid) && typeof h.host === 'string' && typeof h.token === 'string') return h;
  } catch { /* not a lock */ }
  return null;
}

/** The holder of `dir`'s lock; null when there is none; 'unreadable' when the file is not a lock iommusim wrote. */
export function readLock(dir: string): LockHolder | null | 'unreadable' {
  const file = join(dir, LOCK_FILE);
  // a lock created with O_EXCL (no hard links) may be read before its content is written: retry briefly
  for (let i = 0; ; i++) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if (code(e) === 'ENOENT') return null;
      throw outputError(file, e);
    }
    const h = parse(text);
    if (h) return h;
    if (i >= 10) return 'unreadable';
    sleep(20);
  }
}

/** Is the holder's process running? undefined when it is on another host (cannot tell from here). */
export function holderAlive(h: LockHolder): boolean | undefined {
  if (h.host !== hostname()) return undefined;
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (e) {
    return code(e) !== 'ESRCH'; // EPERM: it runs, as another user
  }
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid}${h.host === hostname() ? '' : ` on host ${h.host}`}, started ${h.started}${h.command ? `: ${h.command}` : ''}`;
}

/** Create the lock file whole; false when a lock exists. */
function create(dir: string, file: string, holder: LockHolder): boolean {
  const text = JSON.stringify(holder) + '\n';
  const tmp = join(dir, `.${LOCK_FILE}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(tmp, text, { flag: 'wx' });
  } catch (e) {
    throw outputError(file, e, '--out', dir);
  }
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK'].includes(code(e) ?? '')) throw outputError(file, e, '--out', dir);
  } finally {
    try { fs.unlinkSync(tmp); } catch { /* gone */ }
  }
  // no hard links here: an exclusive create (readers retry while it is empty)
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    throw outputError(file, e, '--out', dir);
  }
  try { fs.writeSync(fd, text); } finally { fs.closeSync(fd); }
  return true;
}

/**
 * Move a stale lock out of the way. True when the file moved was the stale one; when another
 * process took it over first (we moved its fresh lock), the file is put back and false returned.
 */
function removeStale(dir: string, file: string, stale: LockHolder): boolean {
  const aside = join(dir, `.${LOCK_FILE}.stale.${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    fs.renameSync(file, aside);
  } catch (e) {
    if (code(e) === 'ENOENT') return false; // someone else removed it: try again
    throw outputError(file, e, '--out', dir);
  }
  let moved: LockHolder | null = null;
  try { moved = parse(fs.readFileSync(aside, 'utf8')); } catch { /* unreadable: treat as not ours to drop */ }
  if (moved?.token === stale.token) {
    try { fs.unlinkSync(aside); } catch { /* gone */ }
    return true;
  }
  try { fs.linkSync(aside, file); } catch { /* a third process holds it now */ }
  try { fs.unlinkSync(aside); } catch { /* gone */ }
  return false;
}

// held locks, released on exit and on the signals that end a batch job or a terminal session
const held = new Set<FolderLock>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const releaseAll = (): void => { for (const l of [...held]) l.release(); };
const onSignal = (sig: NodeJS.Signals): void => {
  releaseAll();
  // nobody else handles it: die of it as we would have without our handler
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
};
const handlers = new Map<NodeJS.Signals, () => void>(SIGNALS.map((s) => [s, () => onSignal(s)]));

function track(l: FolderLock): void {
  if (held.size === 0) {
    process.on('exit', releaseAll);
    for (const [s, h] of handlers) process.on(s, h);
  }
  held.add(l);
}

function untrack(l: FolderLock): void {
  if (!held.delete(l) || held.size > 0) return;
  process.removeListener('exit', releaseAll);
  for (const [s, h] of handlers) process.removeListener(s, h);
}

export interface LockOptions {
  /** The holder's command line, shown to whoever finds the folder locked (default: process.argv). */
  command?: string;
  /** The option that named the folder (`--out`), for the fix in the refusal. */
  flag?: string;
}

/**
 * Lock the existing folder `dir` for this process. Throws an InputError naming the holder (pid,
 * host, start time, command) when another live process holds it.
 */
export function lockFolder(dir: string, opts: LockOptions = {}): FolderLock {
  const file = join(dir, LOCK_FILE);
  const command = (opts.command ?? process.argv.slice(1).join(' ')).slice(0, 200);
  const holder: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command, token: randomBytes(8).toString('hex') };
  const flag = opts.flag ?? '--out';
  let tookOver: LockHolder | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(dir, file, holder)) {
      let released = false;
      const lock: FolderLock = {
        dir, file, holder, ...(tookOver ? { tookOver } : {}),
        release(): void {
          if (released) return;
          released = true;
          untrack(lock);
          const cur = readLockQuiet(file);
          if (cur?.token === holder.token) try { fs.unlinkSync(file); } catch { /* gone */ }
        },
      };
      track(lock);
      return lock;
    }
    const h = readLock(dir);
    if (h === null) continue; // released meanwhile
    if (h === 'unreadable') throw new InputError(`${file}: a lock file iommusim cannot read; if no iommusim is writing into ${dir}, delete it`);
    const alive = holderAlive(h);
    if (alive === undefined) throw new InputError(`${dir}: in use by iommusim ${describeHolder(h)}; wait for it to finish or pick another ${flag} (if that process is gone, delete ${file})`);
    if (alive) throw new InputError(`${dir}: in use by another iommusim (${describeHolder(h)}); wait for it to finish or pick another ${flag}`);
    if (removeStale(dir, file, h)) tookOver = h;
  }
  throw new InputError(`${dir}: could not take the lock ${file} (other processes keep taking it); try again`);
}

function readLockQuiet(file: string): LockHolder | null {
  try { return parse(fs.readFileSync(file, 'utf8')); } catch { return null; }
}
