/** The output-folder lock: held, refused with the holder named, stale locks taken over, released. */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, utimesSync, statSync, readlinkSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockFolder, readLock, pidStartedMs, LOCK_FILE, type LockHolder } from '../../src/util/lock.js';
import { InputError } from '../../src/util/errors.js';
import { deadPid } from './dead-pid.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'iommusim-lock-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const holder = (over: Partial<LockHolder>): LockHolder => ({ pid: process.pid, host: hostname(), started: '2026-01-02T03:04:05.000Z', command: 'iommusim sweep other.yaml --out x', token: 'feedfacefeedface', ...over });
const put = (h: LockHolder): void => writeFileSync(join(dir, LOCK_FILE), JSON.stringify(h) + '\n');
const refusal = (f: () => unknown): string => {
  try { f(); } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message.split('\n')).toHaveLength(1);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('lockFolder', () => {
  it('writes pid, host, start time and command; a second taker is refused with the holder named; release removes it', () => {
    const exits = process.listenerCount('exit'), ints = process.listenerCount('SIGINT');
    const l = lockFolder(dir, { command: 'iommusim sweep a.yaml --out d' });
    const h = readLock(dir) as LockHolder;
    expect(h).toMatchObject({ pid: process.pid, host: hostname(), command: 'iommusim sweep a.yaml --out d' });
    if (existsSync('/proc/self/ns/pid')) expect(h.pidns).toBe(readlinkSync('/proc/self/ns/pid'));
    expect(Date.parse(h.started)).toBeGreaterThan(Date.now() - 60_000);
    // released on exit and on SIGINT/SIGTERM/SIGHUP while held
    expect(process.listenerCount('exit')).toBe(exits + 1);
    expect(process.listenerCount('SIGINT')).toBe(ints + 1);
    const m = refusal(() => lockFolder(dir));
    expect(m).toBe(`${dir}: in use by another iommusim (pid ${process.pid}, started ${h.started}: iommusim sweep a.yaml --out d); wait for it to finish or pick another --out`);
    l.release();
    l.release(); // twice is harmless
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    expect(process.listenerCount('exit')).toBe(exits);
    expect(process.listenerCount('SIGINT')).toBe(ints);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a stale lock (its process is gone) is taken over, and the old holder returned for a note', () => {
    const pid = deadPid();
    put(holder({ pid }));
    const l = lockFolder(dir);
    expect(l.tookOver).toMatchObject({ pid, started: '2026-01-02T03:04:05.000Z', why: 'which is no longer running' });
    expect((readLock(dir) as LockHolder).pid).toBe(process.pid);
    l.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a lock of a live process is kept; one from another host is respected while it is refreshed, and named', () => {
    put(holder({ pid: 1, started: new Date().toISOString() })); // init: alive, started before the lock
    expect(refusal(() => lockFolder(dir))).toMatch(/in use by another iommusim \(pid 1, started /);
    // a container with this host's name but its own pids: its pid says nothing here, its refresh does
    put(holder({ pid: deadPid(), pidns: 'pid:[1]' }));
    expect(refusal(() => lockFolder(dir))).toMatch(/in use by another iommusim \(pid \d+, started .*; refreshed \d+ s ago, taken over after 5 min without a refresh/);
    put(holder({ host: 'node17.cluster', pid: deadPid() }));
    expect(refusal(() => lockFolder(dir))).toMatch(/in use by another iommusim \(pid \d+ on host node17\.cluster, started 2026-01-02T03:04:05\.000Z: iommusim sweep other\.yaml --out x\); wait for it to finish or pick another --out; refreshed \d+ s ago, taken over after 5 min without a refresh \(if that process is gone, delete .*iommusim\.lock\)$/);
    writeFileSync(join(dir, LOCK_FILE), 'garbage');
    expect(refusal(() => lockFolder(dir))).toMatch(/iommusim\.lock: a lock file iommusim cannot read; if no iommusim is writing into .*, delete it$/);
  });

  it('a lock not refreshed for staleMs is stale on any host; the holder refreshes it every refreshMs', async () => {
    put(holder({ host: 'node17.cluster' }));
    const old = new Date(Date.now() - 6 * 60_000);
    utimesSync(join(dir, LOCK_FILE), old, old);
    const l = lockFolder(dir, { refreshMs: 50 });
    expect(l.tookOver).toMatchObject({ host: 'node17.cluster', why: 'not refreshed for 6 min' });
    utimesSync(join(dir, LOCK_FILE), old, old);
    await new Promise((r) => setTimeout(r, 300));
    expect(Date.now() - statSync(join(dir, LOCK_FILE)).mtimeMs).toBeLessThan(1000);
    l.release();
  });

  it('a reused pid is no holder: this process\'s own pid on a lock it does not hold; a live pid that started after the lock (Linux)', () => {
    put(holder({ token: 'from-an-earlier-process-with-our-pid' }));
    const a = lockFolder(dir);
    expect(a.tookOver?.why).toBe('which is no longer running (its pid is now this process)');
    a.release();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      const start = pidStartedMs(child.pid!);
      if (start === undefined) return; // no /proc here
      put(holder({ pid: child.pid!, started: '2000-01-01T00:00:00.000Z' }));
      const b = lockFolder(dir);
      expect(b.tookOver?.why).toBe(`which is no longer running (pid ${child.pid} is now a process started later)`);
      b.release();
      put(holder({ pid: child.pid!, started: new Date(start + 3000).toISOString() }));
      expect(refusal(() => lockFolder(dir))).toMatch(new RegExp(`in use by another iommusim \\(pid ${child.pid}, `));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('release leaves a lock that is no longer ours (taken over meanwhile) in place', () => {
    const l = lockFolder(dir);
    put(holder({ token: 'someone-else' }));
    l.release();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).token).toBe('someone-else');
  });
});
