/**
 * Functional replay: every record of a trace, in trace order, through the IOMMU model. No time is
 * charged; the trace's timestamps only drive the lazy flush-queue timeout. The timing model
 * (src/sim) must give the same counts on a trace whose requests never overlap.
 */
import { Iommu, MODE_IDENTITY, MODE_OFF } from '../iommu/iommu.js';
import { PERM_R, PERM_W, PERM_RW } from '../iommu/pagetable.js';
import { type TraceColumns, OP_DMA, OP_MAP, DIR_WRITE, pageOf, pagesTouched } from '../trace/columns.js';
import { deviceSettings, type Config } from '../config/config.js';
import { KindCounts } from '../iommu/kinds.js';
import { sourceId, deviceSourceIds } from '../config/bdf.js';
import { applyControl } from '../iommu/control.js';

export interface DmaCounts {
  requests: number;
  bytes: number;
  reads: number;
  writes: number;
  /** 4 KiB pieces translated (one lookup each). */
  pieces: number;
  /** DMAs dropped by a translation fault. */
  dropped: number;
}

export function newDmaCounts(): DmaCounts {
  return { requests: 0, bytes: 0, reads: 0, writes: 0, pieces: 0, dropped: 0 };
}

/** Source-id of each trace device (-1 for `*`). */
export function deviceSids(t: TraceColumns): Int32Array {
  return deviceSourceIds(t.devices, 'trace devices');
}

/** Attach the devices named in the config up front (others attach at their first map). */
export function attachConfigured(iommu: Iommu, cfg: Readonly<Config>): void {
  if (iommu.mode === MODE_OFF) return;
  for (const bdf of Object.keys(cfg.devices).sort()) iommu.attach(sourceId(bdf), cfg.devices[bdf], `devices.${bdf}`);
}

/**
 * Replay `t` through `iommu`. `dma` accumulates the DMA counts and `kinds` the same work split by
 * the trace's `kind` column (requests and bytes per DMA record, IOTLB lookups, misses and walk
 * reads per translated page); pass the same objects to every chunk of a streamed replay.
 */
export function replayFunctional(t: TraceColumns, iommu: Iommu, cfg: Readonly<Config>, dma: DmaCounts = newDmaCounts(), drain = true, kinds: KindCounts = new KindCounts()): DmaCounts {
  const sids = deviceSids(t);
  const attached = new Uint8Array(t.devices.length);
  const identity = iommu.mode === MODE_IDENTITY;
  const off = iommu.mode === MODE_OFF;
  const attach = (d: number): void => {
    if (attached[d] !== 0 || off || sids[d] < 0) return;
    attached[d] = 1;
    iommu.attach(sids[d], deviceSettings(cfg, t.devices[d]), `device ${t.devices[d]}`);
  };
  for (let d = 0; d < t.devices.length; d++) if (sids[d] >= 0 && iommu.isAttached(sids[d])) attached[d] = 1;

  const n = t.count;
  const timeNs = t.timeNs, device = t.device, pasidCol = t.pasid, opCol = t.op;
  const iovaHi = t.iovaHi, iovaLo = t.iovaLo, sizeCol = t.size, dirCol = t.dir, kindCol = t.kind;
  for (let i = 0; i < n; i++) {
    iommu.advance(timeNs[i]);
    const d = device[i];
    const op = opCol[i];
    if (op === OP_DMA) {
      if (identity && attached[d] === 0) attach(d);
      const sid = sids[d];
      const size = sizeCol[i];
      const isWrite = dirCol[i] === DIR_WRITE;
      const kind = kindCol[i];
      dma.requests++;
      dma.bytes += size;
      if (isWrite) dma.writes++; else dma.reads++;
      kinds.request(kind, size);
      const pn = pageOf(iovaHi[i], iovaLo[i]);
      const pieces = pagesTouched(iovaLo[i] & 0xfff, size);
      // the DMA's pieces in order, up to the first fault (which drops the rest); its IOMMU work
      // added to its kind at once (KindCounts.add)
      const lookups = iommu.iotlbLookups, misses = iommu.iotlbMisses, reads = iommu.walkReads - iommu.contextReads;
      const done = iommu.translatePages(sid, pasidCol[i], pn, pieces, isWrite);
      if (done < pieces) { dma.pieces += done + 1; dma.dropped++; } else dma.pieces += pieces;
      kinds.add(kind, iommu.iotlbLookups - lookups, iommu.iotlbMisses - misses, iommu.walkReads - iommu.contextReads - reads);
    } else {
      if (op === OP_MAP) attach(d);
      applyControl(iommu, cfg, t, i, sids[d]);
    }
  }
  if (drain) iommu.drain(); // a streamed replay drains after its last chunk only
  return dma;
}
