/**
 * Output files: checked before a run, written whole or not at all. Failures are injected through
 * the writer's file-system shim (a full disk after half the bytes, a refused open), so they do not
 * depend on the machine (as root, chmod does not stop writes).
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, checkOutputFile, checkOutputDir, atomicTarget, type WriteFs } from '../../src/util/output.js';
import { InputError } from '../../src/util/errors.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'iommusim-output-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const errno = (code: string, syscall: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: injected, ${syscall}`), { code, syscall });

/** node:fs, with a disk that fills after `room` bytes: a short write up to the limit, then ENOSPC. */
function fullDisk(room: number): WriteFs & { writes: number } {
  let left = room;
  const shim = {
    writes: 0,
    openSync: (p: string, f: string, m?: number) => fs.openSync(p, f, m),
    writeSync: (fd: number, b: Uint8Array, o: number, l: number) => {
      shim.writes++;
      if (left <= 0) throw errno('ENOSPC', 'write');
      const n = Math.min(l, left);
      left -= n;
      return fs.writeSync(fd, b, o, n);
    },
    fsyncSync: (fd: number) => fs.fsyncSync(fd),
    closeSync: (fd: number) => fs.closeSync(fd),
    renameSync: (a: string, b: string) => fs.renameSync(a, b),
    unlinkSync: (p: string) => fs.unlinkSync(p),
  };
  return shim;
}

const oneLine = (e: unknown): string => {
  expect(e).toBeInstanceOf(InputError);
  const m = (e as Error).message;
  expect(m.split('\n')).toHaveLength(1);
  return m;
};

const catchIt = (f: () => void): unknown => {
  try { f(); } catch (e) { return e; }
  throw new Error('expected a throw');
};

describe('writeFileAtomic', () => {
  it('writes the file, replaces an existing one, and leaves no temporary file', () => {
    const p = join(dir, 'out.json');
    writeFileAtomic(p, '{"a":1}\n');
    expect(readFileSync(p, 'utf8')).toBe('{"a":1}\n');
    writeFileAtomic(p, Buffer.from('second'));
    expect(readFileSync(p, 'utf8')).toBe('second');
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  it('a full disk (ENOSPC after half the bytes): no cut file, the temporary file removed, one line naming the file and the reason', () => {
    const p = join(dir, 'results.json');
    const data = 'x'.repeat(10_000);
    const shim = fullDisk(5_000);
    const m = oneLine(catchIt(() => writeFileAtomic(p, data, { flag: '--json', fs: shim })));
    expect(shim.writes).toBe(2); // the short write was followed up, and that one failed
    expect(m).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not written: no space left on the device \\(ENOSPC\\); free some space or pick another --json path`));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a full disk while replacing a file: the old file stays whole', () => {
    const p = join(dir, 'report.html');
    writeFileSync(p, 'the old report');
    oneLine(catchIt(() => writeFileAtomic(p, 'y'.repeat(4096), { fs: fullDisk(100) })));
    expect(readFileSync(p, 'utf8')).toBe('the old report');
    expect(readdirSync(dir)).toEqual(['report.html']);
  });

  it('short writes are followed up: the whole file lands', () => {
    const p = join(dir, 'big.csv');
    const data = Buffer.alloc(100_000, 7);
    let calls = 0;
    const shim: WriteFs = { ...fullDisk(Infinity), writeSync: (fd, b, o, l) => { calls++; return fs.writeSync(fd, b, o, Math.min(l, 4096)); } };
    writeFileAtomic(p, data, { fs: shim });
    expect(calls).toBe(Math.ceil(100_000 / 4096));
    expect(readFileSync(p).equals(data)).toBe(true);
  });

  it('a read-only folder (EACCES on create): one line naming the file, the folder and the reason', () => {
    const p = join(dir, 'out.json');
    const shim: WriteFs = { ...fullDisk(Infinity), openSync: () => { throw errno('EACCES', 'open'); } };
    const m = oneLine(catchIt(() => writeFileAtomic(p, 'x', { flag: '--json', fs: shim })));
    expect(m).toBe(`${p}: cannot write in folder ${dir}: permission denied (read-only for this user) (EACCES); pick another --json path or make the folder writable`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failed rename (EROFS): the temporary file is removed', () => {
    const p = join(dir, 'out.json');
    const shim: WriteFs = { ...fullDisk(Infinity), renameSync: () => { throw errno('EROFS', 'rename'); } };
    expect(oneLine(catchIt(() => writeFileAtomic(p, 'x', { fs: shim })))).toMatch(/read-only file system \(EROFS\)/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a missing folder, and a path under a regular file', () => {
    expect(oneLine(catchIt(() => writeFileAtomic(join(dir, 'nope', 'out.json'), 'x', { flag: '--json' }))))
      .toBe(`${join(dir, 'nope', 'out.json')}: folder ${join(dir, 'nope')} does not exist; create it (mkdir -p ${join(dir, 'nope')}) or pick another --json path`);
    writeFileSync(join(dir, 'file'), '');
    expect(oneLine(catchIt(() => writeFileAtomic(join(dir, 'file', 'out.json'), 'x', { flag: '--json' }))))
      .toBe(`${join(dir, 'file', 'out.json')}: ${join(dir, 'file')} is a file, not a folder; pick another --json path`);
  });

  it('a symlink is followed (its target replaced); a device is written in place', () => {
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'r.json'), 'old');
    symlinkSync(join(dir, 'real', 'r.json'), join(dir, 'link.json'));
    writeFileAtomic(join(dir, 'link.json'), 'new');
    expect(fs.lstatSync(join(dir, 'link.json')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real', 'r.json'), 'utf8')).toBe('new');
    expect(readdirSync(join(dir, 'real'))).toEqual(['r.json']);
    writeFileAtomic('/dev/null', 'discarded');
    checkOutputFile('/dev/null', '--json');
  });

  it('a file reached through an open descriptor (`--json /dev/stdout > x.json`) is written through it, not replaced', () => {
    const p = join(dir, 'redirected.json');
    const fd = fs.openSync(p, 'w');
    try {
      const ino = fs.fstatSync(fd).ino;
      writeFileAtomic(`/proc/self/fd/${fd}`, '{"json":1}\n');
      fs.writeSync(fd, 'and what else the process writes there\n');
      writeFileAtomic(`/dev/fd/${fd}`, 'more\n');
      expect(fs.statSync(p).ino).toBe(ino);
      expect(readFileSync(p, 'utf8')).toBe('{"json":1}\nand what else the process writes there\nmore\n');
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('checkOutputFile and checkOutputDir (before a run)', () => {
  it('a writable folder passes and keeps nothing of the probe', () => {
    checkOutputFile(join(dir, 'out.json'), '--json');
    checkOutputDir(join(dir, 'new', 'deeper'), '--out');
    checkOutputDir(dir, '--out');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a missing folder, a file in the way, a folder given as the file', () => {
    expect(oneLine(catchIt(() => checkOutputFile(join(dir, 'x', 'out.json'), '--json')))).toMatch(/: folder .*\/x does not exist; create it \(mkdir -p .*\/x\) or pick another --json path$/);
    writeFileSync(join(dir, 'f'), '');
    expect(oneLine(catchIt(() => checkOutputFile(join(dir, 'f', 'out.json'), '--json')))).toMatch(/\/f is a file, not a folder; pick another --json path$/);
    expect(oneLine(catchIt(() => checkOutputDir(join(dir, 'f', 'sub'), '--out')))).toMatch(/\/f is a file, not a folder; pick another --out path$/);
    expect(oneLine(catchIt(() => checkOutputDir(join(dir, 'f'), '--out')))).toMatch(/\/f: is a file, not a folder; pick another --out path$/);
    expect(oneLine(catchIt(() => checkOutputFile(dir, '--json')))).toMatch(/: is a folder, not a file; give a file name to --json/);
  });
});

describe('atomicTarget (for a writer that streams into a path)', () => {
  it('the target appears only on commit, whole; abort leaves the old file; a failed commit removes the temporary file', () => {
    const p = join(dir, 't.iotrace');
    writeFileSync(p, 'old');
    const a = atomicTarget(p, { flag: '-o' });
    writeFileSync(a.tmp, 'new, streamed');
    expect(readFileSync(p, 'utf8')).toBe('old');
    a.commit();
    expect(readFileSync(p, 'utf8')).toBe('new, streamed');
    const b = atomicTarget(p);
    writeFileSync(b.tmp, 'cut');
    b.abort();
    expect(readFileSync(p, 'utf8')).toBe('new, streamed');
    const c = atomicTarget(p, { fs: { ...fullDisk(Infinity), fsyncSync: () => { throw errno('EIO', 'fsync'); } } });
    expect(oneLine(catchIt(() => c.commit()))).toMatch(/t\.iotrace: not written: I\/O error on the device \(EIO\)/);
    expect(readdirSync(dir)).toEqual(['t.iotrace']);
    expect(oneLine(catchIt(() => atomicTarget(join(dir, 'nope', 'x.csv'), { flag: '-o' })))).toMatch(/folder .*\/nope does not exist/);
  });
});
