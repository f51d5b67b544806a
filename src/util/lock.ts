/**
 * A lock on an output folder, so two processes never write into one folder at once (two sweeps
 * into one --out would mix their files and corrupt results.jsonl).
 *
 * The lock is the file `DIR/iommusim.lock` holding `{pid, host, started, command, token}`. It is
 * created whole or not at all: a complete temporary file hard-linked to the name (link fails with
 * EEXIST when the lock exists; where the file system has no hard links, an O_EXCL create).
 *
 * A stale lock is taken over (the caller gets the old holder to print a note):
 * - on this host and in this PID namespace, when its process is gone: `process.kill(pid, 0)` says
 *   ESRCH, or the pid now belongs to a process started after the lock was taken (Linux /proc: the
 *   pid was reused), or it is this process's pid but not a lock this process holds;
 * - from another host or PID namespace (a container), where its pid says nothing, when it has not
 *   been refreshed for `staleMs` (5 minutes): the holder touches the file every `refreshMs` (30 s)
 *   while it runs, so a lock left by a node that died or a task killed hard (SIGKILL) elsewhere on a
 *   shared file system does not block its retry for ever. (With --workers 0 the refresh happens
 *   between jobs.)
 * The lock is released (removed if it still holds our token) by `release()`, on process exit, and
 * on SIGINT, SIGTERM and SIGHUP (then the signal is raised again).
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
  /** The holder's PID namespace (Linux, `/proc/self/ns/pid`): its pid means something only in the same one. */
  pidns?: string;
}

export interface FolderLock {
  dir: string;
  file: string;
  holder: LockHolder;
  /** The holder of a stale lock this one replaced (its process was gone), and why it was stale. */
  tookOver?: LockHolder & { why: string };
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

/** This process's PID namespace (Linux); undefined elsewhere. */
function pidNamespace(): string | undefined {
  try { return fs.readlinkSync('/proc/self/ns/pid'); } catch { return undefined; }
}

/** Another host, or another PID namespace on this one (a lock without `pidns` is judged by its pid). */
const elsewhere = (h: LockHolder): boolean => h.host !== hostname() || (h.pidns !== undefined && h.pidns !== pidNamespace());

export const REFRESH_MS = 30_000;
export const STALE_MS = 5 * 60_000;

/** When process `pid` started (ms since the epoch, ±1 s), from Linux's /proc; undefined elsewhere. */
export function pidStartedMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]); // field 22, starttime
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined;
    return (btime + ticks / 100) * 1000; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

export interface HolderState {
  /** true: it runs (or may: refreshed lately); false: stale, safe to take over. */
  alive: boolean;
  /** Why a lock is stale, for the note. */
  why?: string;
}

/**
 * Is the holder of the lock file `file` still there? Its pid decides when it is on this host and in
 * this PID namespace (a container with the host's name but its own pids is not); otherwise whether
 * it has refreshed the file within `staleMs`.
 */
export function holderState(h: LockHolder, file: string, staleMs = STALE_MS): HolderState {
  if (elsewhere(h)) {
    let mtime = Date.now();
    try { mtime = fs.statSync(file).mtimeMs; } catch { /* gone */ }
    const idle = Date.now() - mtime;
    return idle > staleMs ? { alive: false, why: `not refreshed for ${Math.round(idle / 60_000)} min` } : { alive: true };
  }
  if (h.pid === process.pid) {
    // this process: alive only if it is one of our locks (else an earlier process with our pid left it)
    return [...held].some((l) => l.holder.token === h.token) ? { alive: true } : { alive: false, why: 'which is no longer running (its pid is now this process)' };
  }
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if (code(e) === 'ESRCH') return { alive: false, why: 'which is no longer running' };
    // EPERM: it runs, as another user
  }
  const began = pidStartedMs(h.pid);
  const took = Date.parse(h.started);
  if (began !== undefined && Number.isFinite(took) && began > took + 2000) return { alive: false, why: `which is no longer running (pid ${h.pid} is now a process started later)` };
  return { alive: true };
}

/** For the refusal: a lock of another host is taken over once it has not been refreshed for a while. */
function idleNote(h: LockHolder, file: string, staleMs: number): string {
  if (!elsewhere(h)) return '';
  let idle = 0;
  try { idle = Date.now() - fs.statSync(file).mtimeMs; } catch { /* gone */ }
  return `; refreshed ${Math.max(0, Math.round(idle / 1000))} s ago, taken over after ${Math.round(staleMs / 60_000)} min without a refresh (if that process is gone, delete ${file})`;
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid}${h.host === hostname() ? '' : ` on host ${h.host}`}, started ${h.started}${h.command ? `: ${h.command}` : ''}`;
}

/** The note for a lock taken over: whose it was and why it was stale. */
export function takeoverNote(l: FolderLock): string | undefined {
  return l.tookOver && `${l.file}: took over the lock of ${describeHolder(l.tookOver)}, ${l.tookOver.why}`;
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
  /** How often the holder touches the lock file (ms; default 30 s). */
  refreshMs?: number;
  /** A lock not touched for this long is stale, on any host (ms; default 5 min). */
  staleMs?: number;
}

/**
 * Lock the existing folder `dir` for this process. Throws an InputError naming the holder (pid,
 * host, start time, command) when another live process holds it.
 */
export function lockFolder(dir: string, opts: LockOptions = {}): FolderLock {
  const file = join(dir, LOCK_FILE);
  const command = (opts.command ?? process.argv.slice(1).join(' ')).slice(0, 200);
  const pidns = pidNamespace();
  const holder: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command, token: randomBytes(8).toString('hex'), ...(pidns ? { pidns } : {}) };
  const flag = opts.flag ?? '--out';
  const staleMs = opts.staleMs ?? STALE_MS;
  let tookOver: (LockHolder & { why: string }) | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (create(dir, file, holder)) {
      let released = false;
      // the heartbeat: a lock that stops being touched is stale after staleMs, whatever its host
      const refresh = setInterval(() => { try { const t = new Date(); fs.utimesSync(file, t, t); } catch { /* gone: released or taken */ } }, opts.refreshMs ?? REFRESH_MS);
      refresh.unref();
      const lock: FolderLock = {
        dir, file, holder, ...(tookOver ? { tookOver } : {}),
        release(): void {
          if (released) return;
          released = true;
          clearInterval(refresh);
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
    const st = holderState(h, file, staleMs);
    if (st.alive) throw new InputError(`${dir}: in use by another iommusim (${describeHolder(h)}); wait for it to finish or pick another ${flag}${idleNote(h, file, staleMs)}`);
    if (removeStale(dir, file, h)) tookOver = { ...h, why: st.why ?? 'which is no longer running' };
  }
  throw new InputError(`${dir}: could not take the lock ${file} (other processes keep taking it); try again`);
}

function readLockQuiet(file: string): LockHolder | null {
  try { return parse(fs.readFileSync(file, 'utf8')); } catch { return null; }
}
