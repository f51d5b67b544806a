/**
 * Output files, checked before a run and written whole or not at all.
 *
 *   checkOutputFile(path, flag)   before simulating: the folder exists, is a folder and takes a new
 *                                 file (a real probe: a temporary file created and removed)
 *   checkOutputDir(dir, flag)     the same for an output folder (it may not exist yet: its nearest
 *                                 existing parent must take a new folder)
 *   writeFileAtomic(path, data)   write a temporary file in the same folder, fsync, rename it into
 *                                 place: a reader sees the old file or the whole new one, never a
 *                                 cut one. On a failure (ENOSPC, EACCES, …) the temporary file is
 *                                 removed and an InputError names the file and the reason.
 *   atomicTarget(path)            the same for a writer that streams into a path of its own: a
 *                                 temporary file to give it, then commit() or abort()
 *   writeAll(fd, data)            write every byte (a regular file may take a short write when the
 *                                 disk fills; writeSync alone would drop the rest silently)
 *
 * Failures are `InputError`s: one line `path: what; fix`, exit code 2 from the CLI.
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from './errors.js';

/** The file-system calls the writer makes (node:fs by default); tests pass a shim to inject failures. */
export interface WriteFs {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

// read through the namespace at call time (a test preload may replace node:fs functions)
const nodeFs: WriteFs = {
  openSync: (p, f, m) => fs.openSync(p, f, m),
  writeSync: (fd, b, o, l) => fs.writeSync(fd, b, o, l),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (a, b) => fs.renameSync(a, b),
  unlinkSync: (p) => fs.unlinkSync(p),
};

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/** The reason behind a failed file-system call, in words, with its code. */
export function fsReason(e: unknown): string {
  const c = code(e);
  const words: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied (read-only for this user)',
    EPERM: 'operation not permitted (read-only for this user)',
    EROFS: 'read-only file system',
    EIO: 'I/O error on the device',
    EFBIG: 'file too large for the file system',
    ENAMETOOLONG: 'name too long',
    EMFILE: 'too many open files',
    ENFILE: 'too many open files in the system',
  };
  if (c && words[c]) return `${words[c]} (${c})`;
  const msg = (e as Error | undefined)?.message ?? String(e);
  return c ? `${msg.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')} (${c})` : msg;
}

/** The nearest folder on the way up from `p` that exists (or the file that blocks the way). */
function nearestExisting(p: string): { path: string; isDir: boolean } {
  let cur = resolve(p);
  for (;;) {
    try {
      const st = fs.statSync(cur);
      return { path: cur, isDir: st.isDirectory() };
    } catch {
      const up = dirname(cur);
      if (up === cur) return { path: cur, isDir: true };
      cur = up;
    }
  }
}

const tmpName = (dir: string, base: string): string => join(dir, `.${base}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
const forFlag = (flag?: string): string => (flag ? `another ${flag} path` : 'another path');

/**
 * One line for a failed write of `path` into folder `dir`: what is wrong with the folder (missing, a
 * file, read-only) or the reason of the call that failed, and the fix.
 */
export function outputError(path: string, e: unknown, flag?: string, dir = dirname(resolve(path))): InputError {
  const c = code(e);
  if (c === 'ENOENT' || c === 'ENOTDIR') {
    const near = nearestExisting(dir);
    if (!near.isDir) return new InputError(`${path}: ${near.path} is a file, not a folder; pick ${forFlag(flag)}`);
    return new InputError(`${path}: folder ${dir} does not exist; create it (mkdir -p ${dir}) or pick ${forFlag(flag)}`);
  }
  if (c === 'EISDIR') return new InputError(`${path}: is a folder, not a file; give a file name${flag ? ` to ${flag}` : ''}`);
  if (c === 'EACCES' || c === 'EPERM' || c === 'EROFS') return new InputError(`${path}: cannot write in folder ${dir}: ${fsReason(e)}; pick ${forFlag(flag)} or make the folder writable`);
  if (c === 'ENOSPC' || c === 'EDQUOT') return new InputError(`${path}: not written: ${fsReason(e)}; free some space or pick ${forFlag(flag)} (no partial file was left)`);
  return new InputError(`${path}: not written: ${fsReason(e)}; pick ${forFlag(flag)}`);
}

/** Can a new file be created in `dir`? Creates and removes an empty temporary file (a real test: as root, mode bits say little). */
function probeFolder(dir: string, path: string, flag?: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw outputError(path, e, flag, dir);
  }
  if (!st.isDirectory()) throw new InputError(`${path}: ${dir} is a file, not a folder; pick ${forFlag(flag)}`);
  const probe = tmpName(dir, 'iommusim-probe');
  try {
    fs.closeSync(fs.openSync(probe, 'wx'));
  } catch (e) {
    throw outputError(path, e, flag, dir);
  }
  try { fs.unlinkSync(probe); } catch { /* gone already */ }
}

/** The descriptor a path names: /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N (when open). */
function ownDescriptor(path: string): number | undefined {
  const m = /^\/(?:dev\/(stdout|stderr)|dev\/fd\/(\d+)|proc\/self\/fd\/(\d+))$/.exec(path);
  if (!m) return undefined;
  const fd = m[1] === 'stdout' ? 1 : m[1] === 'stderr' ? 2 : Number(m[2] ?? m[3]);
  try {
    fs.fstatSync(fd);
    return fd;
  } catch {
    return undefined;
  }
}

/** Where a write to `path` lands: the file behind a symlink; null for a device or pipe (/dev/null, /dev/stdout), written in place. */
function target(path: string, flag?: string): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch {
    return path; // a new file (a missing folder is reported by the caller)
  }
  if (st.isDirectory()) throw new InputError(`${path}: is a folder, not a file; give a file name${flag ? ` to ${flag}` : ''}, e.g. ${join(path, 'out.json')}`);
  // a device or pipe; or a file reached through /dev or /proc (`--json /dev/stdout > x.json`): a
  // file some process has open, to be written, not replaced
  if (!st.isFile() || /^\/(dev|proc)\//.test(resolve(path))) return null;
  return fs.realpathSync(path);
}

/**
 * Before a run: can `path` be written? Its folder must exist and take a new file, and an existing
 * file must be writable. Throws an InputError naming the path, the reason and `flag` in the fix.
 */
export function checkOutputFile(path: string, flag?: string): void {
  const t = target(path, flag);
  if (t === null) return;
  probeFolder(dirname(resolve(t)), path, flag);
  if (fs.existsSync(t)) {
    try {
      fs.accessSync(t, fs.constants.W_OK);
    } catch (e) {
      throw new InputError(`${path}: the file is read-only (${code(e) ?? 'EACCES'}); make it writable or pick ${forFlag(flag)}`);
    }
  }
}

/**
 * Before a run: can the output folder `dir` be written? It is created later (mkdir -p), so when it
 * does not exist yet its nearest existing parent must be a folder that takes a new folder.
 */
export function checkOutputDir(dir: string, flag?: string): void {
  let st: fs.Stats | undefined;
  try { st = fs.statSync(dir); } catch { /* not there yet */ }
  if (st) {
    if (!st.isDirectory()) throw new InputError(`${dir}: is a file, not a folder; pick ${forFlag(flag)}`);
    probeFolder(dir, dir, flag);
    return;
  }
  const near = nearestExisting(dir);
  if (!near.isDir) throw new InputError(`${dir}: ${near.path} is a file, not a folder; pick ${forFlag(flag)}`);
  const probe = tmpName(near.path, 'iommusim-probe');
  try {
    fs.mkdirSync(probe);
  } catch (e) {
    throw new InputError(`${dir}: cannot create the folder in ${near.path}: ${fsReason(e)}; pick ${forFlag(flag)} or make ${near.path} writable`);
  }
  try { fs.rmdirSync(probe); } catch { /* gone already */ }
}

/** Write all of `buf` at the file's position, however many calls it takes. */
export function writeAll(fd: number, buf: Uint8Array, io: WriteFs = nodeFs): void {
  let done = 0;
  while (done < buf.length) {
    const n = io.writeSync(fd, buf, done, buf.length - done);
    if (n <= 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
    done += n;
  }
}

export interface WriteOptions {
  /** The option that named the path (`--json`, `--out`): the fix in an error names it. */
  flag?: string;
  /** The file-system calls (node:fs); tests inject failures here. */
  fs?: WriteFs;
}

/**
 * Write `data` to `path` whole or not at all: a temporary file `.NAME.PID-RANDOM.tmp` in the same
 * folder, written, fsync'ed and renamed over `path`. A symlink is followed (its target is
 * replaced); /dev/stdout (/dev/fd/N, /proc/self/fd/N) is written through this process's
 * descriptor; a device or pipe, or any other path under /dev or /proc, is appended to in place.
 * On failure the temporary
 * file is removed, `path` is as it was, and an InputError names the file and the reason.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  const io = opts.fs ?? nodeFs;
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const own = ownDescriptor(path);
  if (own !== undefined) {
    // this process's stdout (or another open descriptor): written through it, at its offset, so
    // it mixes with what else goes there (a summary) instead of overwriting it
    try {
      writeAll(own, buf, io);
    } catch (e) {
      throw outputError(path, e, opts.flag);
    }
    return;
  }
  const t = target(path, opts.flag);
  if (t === null) {
    let fd = -1;
    try {
      // appended: a shell redirection (`> x.json`) has emptied the file already, and output this
      // process writes to the same descriptor (stdout) must not be overwritten
      fd = io.openSync(path, 'a');
      writeAll(fd, buf, io);
    } catch (e) {
      throw outputError(path, e, opts.flag);
    } finally {
      if (fd >= 0) try { io.closeSync(fd); } catch { /* reported above, or nothing to report */ }
    }
    return;
  }
  const dir = dirname(resolve(t));
  const tmp = tmpName(dir, basename(t));
  let fd = -1;
  try {
    fd = io.openSync(tmp, 'wx', 0o666);
    writeAll(fd, buf, io);
    const f = fd;
    fd = -1;
    io.closeSync(f);
  } catch (e) {
    if (fd >= 0) try { io.closeSync(fd); } catch { /* closing a failed file */ }
    try { io.unlinkSync(tmp); } catch { /* never created, or gone */ }
    throw outputError(path, e, opts.flag, dir);
  }
  commitTemp(io, tmp, t, path, opts.flag, dir);
}

/** fsync the whole temporary file and rename it over the target; on failure remove it and throw the target's error. */
function commitTemp(io: WriteFs, tmp: string, t: string, path: string, flag: string | undefined, dir: string): void {
  let fd = -1;
  try {
    fd = io.openSync(tmp, 'r+');
    io.fsyncSync(fd);
    const f = fd;
    fd = -1;
    io.closeSync(f);
    io.renameSync(tmp, t);
  } catch (e) {
    if (fd >= 0) try { io.closeSync(fd); } catch { /* closing a failed file */ }
    try { io.unlinkSync(tmp); } catch { /* gone */ }
    throw outputError(path, e, flag, dir);
  }
}

export interface AtomicTarget {
  /** The temporary file to write (same folder as the target; created empty). */
  tmp: string;
  /** fsync the temporary file and rename it over the target; an InputError names the target on failure. */
  commit(): void;
  /** Remove the temporary file (after a failed write); the target is left as it was. */
  abort(): void;
}

/**
 * For a writer that streams into a path of its own (e.g. src/trace's IotraceWriter): a temporary
 * file next to `path` to give it, then `commit()` (or `abort()` on a failure). A device or pipe
 * target (/dev/null) has no temporary file: `tmp` is the path itself and commit/abort do nothing.
 */
export function atomicTarget(path: string, opts: WriteOptions = {}): AtomicTarget {
  const io = opts.fs ?? nodeFs;
  const t = target(path, opts.flag);
  if (t === null) return { tmp: path, commit: () => {}, abort: () => {} };
  const dir = dirname(resolve(t));
  const tmp = tmpName(dir, basename(t));
  try {
    io.closeSync(io.openSync(tmp, 'wx', 0o666));
  } catch (e) {
    throw outputError(path, e, opts.flag, dir);
  }
  const abort = (): void => { try { io.unlinkSync(tmp); } catch { /* gone */ } };
  return {
    tmp,
    abort,
    commit(): void {
      commitTemp(io, tmp, t, path, opts.flag, dir);
    },
  };
}
