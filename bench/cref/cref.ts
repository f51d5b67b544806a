/**
 * The C reference of issue #17 (bench/cref/replay.c): building it when a C compiler is present,
 * running it, and the counts it prints taken from an iommusim result in the same shape, so the
 * two can be compared field by field (bench/cref.bench.ts, test/bench/cref.test.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '../../src/run/result.js';

/** The repository's root (this file is bench/cref/cref.ts, or dist/bench/cref/cref.js once built). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bench', 'cref', 'replay.c'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cref: bench/cref/replay.c not found above ' + fileURLToPath(import.meta.url));
}

export const REPLAY_C = (): string => join(repoRoot(), 'bench', 'cref', 'replay.c');

/** The first C compiler found on PATH (cc, gcc, clang), or undefined. */
export function findCompiler(): string | undefined {
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang']) {
    if (!cc) continue;
    const r = spawnSync(cc, ['--version'], { stdio: 'ignore' });
    if (r.status === 0) return cc;
  }
  return undefined;
}

/**
 * Build the reference with `cc -O2` into `outDir` (default dist/bench/cref) unless the binary is
 * newer than the source; returns its path, or a note saying why there is none (no compiler).
 */
export function buildReference(outDir = join(repoRoot(), 'dist', 'bench', 'cref')): { exe: string } | { note: string } {
  const cc = findCompiler();
  if (!cc) return { note: 'no C compiler (cc, gcc or clang) on PATH: the C reference is skipped' };
  mkdirSync(outDir, { recursive: true });
  const exe = resolve(outDir, 'replay');
  const src = REPLAY_C();
  if (!existsSync(exe) || statSync(exe).mtimeMs < statSync(src).mtimeMs) {
    execFileSync(cc, ['-O2', '-std=c11', '-o', exe, src], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return { exe };
}

/** The counts the reference prints (replay.c's JSON). */
export interface CrefCounts {
  records: number;
  dma: { requests: number; bytes: number; reads: number; writes: number; pieces: number; dropped: number };
  translations: number;
  iotlb: { lookups: number; hits: number; misses: number; byPageSize: Record<'4k' | '2m' | '1g', { hits: number; misses: number; fills: number; evictions: number }> };
  pwc: Record<'pde' | 'pdpte' | 'pml4e', { hits: number; misses: number }>;
  walks: { count: number; memReads: number; readsByLevel: { pte: number; pde: number; pdpte: number; pml4e: number } };
  contextCache: { hits: number; misses: number; memReads: number };
  mapping: { mapCalls: number; mapFailed: number; mappedPages: number; tablePagesInUse: number };
  faults: { count: number; byReason: Record<string, number> };
}

/** Run the reference on a trace; its counts. */
export function runReference(exe: string, trace: string): CrefCounts {
  return JSON.parse(execFileSync(exe, [trace], { encoding: 'utf8', maxBuffer: 1 << 20 })) as CrefCounts;
}

/** The same counts taken from an iommusim result (`run FILE --functional --json`). */
export function crefCounts(r: RunResult): CrefCounts {
  const m = r.metrics;
  const page = (k: '4k' | '2m' | '1g') => {
    const p = m.iotlb.byPageSize[k];
    return { hits: p.hits, misses: p.misses, fills: p.fills, evictions: p.evictions };
  };
  const pwc = (k: 'pde' | 'pdpte' | 'pml4e') => ({ hits: m.pwc[k].hits, misses: m.pwc[k].misses });
  const l = m.walks.readsByLevel;
  return {
    records: r.workload.records,
    dma: { requests: m.dma.requests, bytes: m.dma.bytes, reads: m.dma.reads, writes: m.dma.writes, pieces: m.dma.pieces, dropped: m.dma.dropped },
    translations: m.translations,
    iotlb: { lookups: m.iotlb.lookups, hits: m.iotlb.hits, misses: m.iotlb.misses, byPageSize: { '4k': page('4k'), '2m': page('2m'), '1g': page('1g') } },
    pwc: { pde: pwc('pde'), pdpte: pwc('pdpte'), pml4e: pwc('pml4e') },
    walks: { count: m.walks.count, memReads: m.walks.memReads, readsByLevel: { pte: l.pte, pde: l.pde, pdpte: l.pdpte, pml4e: l.pml4e } },
    contextCache: { hits: m.contextCache.hits, misses: m.contextCache.misses, memReads: m.contextCache.memReads },
    mapping: { mapCalls: m.mapping.mapCalls, mapFailed: m.mapping.mapFailed, mappedPages: m.mapping.mappedPages, tablePagesInUse: m.mapping.tablePagesInUse },
    faults: { count: m.faults.count, byReason: { ...m.faults.byReason } },
  };
}
