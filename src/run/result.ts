/**
 * The one versioned result schema. Every run writes this; every reporter reads only this.
 * Bump RESULT_SCHEMA when a field changes meaning or goes away (adding fields keeps it).
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.js';
import type { IommuMetrics } from '../iommu/iommu.js';
import type { DmaCounts } from './functional.js';
import type { TimingMetrics } from '../sim/system.js';
import type { KindMetrics } from '../iommu/kinds.js';

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
   * The IOMMU's figures (IommuMetrics: declared in src/iommu/stats.ts, listed in docs/metrics.md)
   * and the other counts always; timing figures (throughputGbps, latencyNs, pcie, …) unless the run
   * was --functional.
   * `byKind`: the DMA requests, bytes, IOTLB lookups, misses and walk memory reads per DMA kind
   * (the trace's `kind` column; kinds without requests left out); its sums are the totals
   * (dma.requests, dma.bytes, iotlb.lookups, iotlb.misses, walks.memReads). Absent in results
   * of runs that did not count it.
   */
  metrics: IommuMetrics & { dma: DmaCounts; per4KiB: Per4KiB; byKind?: KindMetrics[] } & Partial<TimingMetrics> & { iotlb: { mergedMisses?: number }; walks: { avgLatencyNs?: number } };
}

/**
 * The IOMMU's work per 4 KiB of DMA payload, as papers report it (Rubin et al., SOSP 2024 §2.2:
 * IOTLB misses, IOMMU memory reads and per-level paging-structure-cache misses "per 4KB worth of
 * data"). A paging-structure-cache miss of a level is a walk that had to read that level's entry.
 */
export interface Per4KiB {
  /** 4 KiB units of payload the figures are divided by: the bytes of the data DMAs (packet payload), descriptors, completions and ACKs not counted. */
  units: number;
  iotlbMisses: number;
  /** Page-table reads of walks (context and PASID reads excluded). */
  memReads: number;
  pwcMisses: { pml4e: number; pdpte: number; pde: number };
}

export function per4KiB(m: IommuMetrics, dma: DmaCounts, byKind?: KindMetrics[]): Per4KiB {
  const data = byKind?.find((k) => k.kind === 'data');
  const units = (byKind ? (data?.bytes ?? 0) : dma.bytes) / 4096;
  const r4 = (x: number) => (units > 0 ? Math.round((x / units) * 1e4) / 1e4 : 0);
  const l = m.walks.readsByLevel;
  return {
    units: Math.round(units * 1000) / 1000,
    iotlbMisses: r4(m.iotlb.misses),
    memReads: r4(m.walks.memReads),
    pwcMisses: { pml4e: r4(l.pml4e), pdpte: r4(l.pdpte), pde: r4(l.pde) },
  };
}
