/**
 * The repository stands alone: no tracked file points outside the clone (a data folder beside it, a
 * path on the machine it was written on), and every file a shipped workload replays is inside it.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { listWorkloads, specConfig, sweepPoints } from '../src/run/workloads.js';
import { readCapturePackets } from '../src/run/generators/nic.js';

const root = resolve(import.meta.dirname, '..');

// Built from pieces so that this file does not match itself.
const PARENT_DATA = ['..', 'shared'].join('/');
const MACHINE_ROOT = '/' + 'work' + '/';
const FORBIDDEN = new RegExp(`${PARENT_DATA.replace(/\./g, '\\.')}|${MACHINE_ROOT}`);

/** Tracked files (git ls-files), or every file but node_modules/dist/.git outside a git checkout. */
function trackedFiles(): string[] {
  try {
    const out = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = out.split('\0').filter((f) => f !== '');
    if (files.length > 0) return files;
  } catch { /* not a git checkout: walk the tree */ }
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      if (f === 'node_modules' || f === 'dist' || f === '.git') continue;
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(root);
  return out;
}

/** Offending lines of one file's text, as `file:line: text`. */
function outsidePaths(file: string, text: string): string[] {
  const hits: string[] = [];
  text.split('\n').forEach((l, i) => { if (FORBIDDEN.test(l)) hits.push(`${file}:${i + 1}: ${l.trim().slice(0, 120)}`); });
  return hits;
}

describe('the repository stands alone', () => {
  it('the check itself catches both kinds of path', () => {
    expect(outsidePaths('x.md', `see ${PARENT_DATA}/data/pcap/a.pcap`)).toEqual([`x.md:1: see ${PARENT_DATA}/data/pcap/a.pcap`]);
    expect(outsidePaths('x.ts', `ok\nconst p = '${MACHINE_ROOT}shared/reference/x.md';`)).toHaveLength(1);
    expect(outsidePaths('x.ts', 'const p = "../captures/x.pcap"; // a shared folder, /workloads/')).toEqual([]);
  });

  it('no tracked text file names a folder beside the clone or a path on the author\'s machine', () => {
    const files = trackedFiles();
    expect(files.length).toBeGreaterThan(100);
    const hits: string[] = [];
    for (const f of files) {
      const p = join(root, f);
      if (!existsSync(p)) continue; // deleted in the work tree, not yet committed
      const bytes = readFileSync(p);
      if (bytes.subarray(0, 8000).includes(0)) continue; // binary (captures)
      hits.push(...outsidePaths(f, bytes.toString('utf8')));
    }
    expect(hits).toEqual([]);
  });

  it('every trace and capture a shipped workload names is a file inside the repository', () => {
    const named: string[] = [];
    for (const w of listWorkloads()) {
      if (w.trace) named.push(w.trace);
      for (const point of sweepPoints(w)) {
        const pcap = (specConfig(w, point).workload as { pcap?: string }).pcap;
        if (pcap) named.push(pcap);
      }
    }
    expect(named.length).toBeGreaterThan(0);
    for (const p of named) {
      expect(relative(root, p).startsWith('..'), `${p} is outside the repository`).toBe(false);
      expect(existsSync(p) && statSync(p).isFile(), `${p} does not exist`).toBe(true);
    }
  });

  it('the nic-real-iperf3 workload reads its capture from the repository (18 761 frames)', () => {
    const w = listWorkloads().find((s) => s.name === 'nic-real-iperf3');
    expect(w).toBeDefined();
    const pcap = (specConfig(w!).workload as { pcap: string }).pcap;
    expect(relative(root, pcap).split(sep).join('/')).toBe('workloads/captures/tcp_iperf3_mtu1500_100M_snap128.pcap');
    expect(readCapturePackets(pcap).count).toBe(18_761);
  });
});
