/**
 * The one versioned result schema. Every run writes this; every reporter reads only this.
 * Bump RESULT_SCHEMA when a field changes meaning or goes away (adding fields keeps it).
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.js';
import type { RunMetrics } from './stats.js';

export const RESULT_SCHEMA = 'iommusim.result/1';

let cachedVersion: string | undefined;
/** iommusim's version, from the nearest package.json named iommusim above this file. */
export function simVersion(): string {
  if (cachedVersion === undefined) {
    cachedVersion = 'unknown';
    let dir = new URL('.', import.meta.url);
    for (let i = 0; i < 6; i++) {
      try {
        const p = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version: string };
        if (p.name === 'iommusim') { cachedVersion = p.version; break; }
      } catch { /* keep looking upward */ }
      dir = new URL('..', dir);
    }
  }
  return cachedVersion;
}

export interface WorkloadSummary {
  name: string;
  source: string;
  format: string;
  records: number;
  devices: string[];
  ops: Record<string, number>;
  timeSpanNs: number;
}

export interface RunResult {
  schema: typeof RESULT_SCHEMA;
  iommusim: string;
  config: Readonly<Config>;
  workload: WorkloadSummary;
  /**
   * Every figure declared once (src/run/stats.ts: the IOMMU's, `dma`, `per4KiB`, `byKind`, and
   * unless the run was --functional the timing model's — throughputGbps, latencyNs, pcie, …),
   * listed in docs/metrics.md. Results written before `byKind` was counted lack it.
   */
  metrics: RunMetrics;
}

