/**
 * A trace's control records — map, unmap, inv — through the functional IOMMU: shared by the
 * functional replay (src/run/functional.ts) and the timed system (src/sim/system.ts), so both
 * change the page tables and caches the same way.
 */
import { type Iommu, MODE_OFF } from './iommu.js';
import { PERM_R, PERM_W, PERM_RW } from './pagetable.js';
import {
  type TraceColumns, OP_MAP, OP_UNMAP, OP_INV, DIR_READ, DIR_WRITE, SIZE_ALL,
  INV_IOTLB, INV_CONTEXT, INV_DEVTLB, INV_PWC, INV_GLOBAL, pageOf, recordPages,
} from '../trace/columns.js';
import { deviceSettings, type Config } from '../config/config.js';

/**
 * A map / unmap / inv record through the functional IOMMU (shared by the functional replay and
 * the timed system). A map attaches its device first; an unmap of a device never attached is
 * ignored and counted.
 */
export function applyControl(iommu: Iommu, cfg: Readonly<Config>, t: TraceColumns, i: number, sid: number): void {
  const op = t.op[i];
  if (op === OP_MAP) {
    if (iommu.mode !== MODE_OFF && sid >= 0 && !iommu.isAttached(sid)) iommu.attach(sid, deviceSettings(cfg, t.devices[t.device[i]]), `device ${t.devices[t.device[i]]}`);
    const dir = t.dir[i];
    const perm = dir === DIR_READ ? PERM_R : dir === DIR_WRITE ? PERM_W : PERM_RW;
    iommu.map(sid, t.pasid[i], pageOf(t.iovaHi[i], t.iovaLo[i]), pageOf(t.paddrHi[i], t.paddrLo[i]), recordPages(t, i), perm);
  } else if (op === OP_UNMAP) {
    if (sid < 0 || !iommu.isAttached(sid)) { iommu.ignoredMapOps++; return; }
    iommu.unmap(sid, t.pasid[i], pageOf(t.iovaHi[i], t.iovaLo[i]), recordPages(t, i));
  } else if (op === OP_INV) {
    invalidate(iommu, t, i, sid);
  }
}

function invalidate(iommu: Iommu, t: TraceColumns, i: number, sid: number): void {
  const scope = t.dir[i];
  if (scope === INV_GLOBAL) { iommu.invalidateGlobal(); iommu.waitDescriptor(); return; }
  if (sid < 0) return;
  if (scope === INV_CONTEXT) { iommu.invalidateContext(sid); iommu.waitDescriptor(); return; }
  const did = iommu.domainOf(sid);
  const all = t.size[i] === SIZE_ALL;
  const lo = pageOf(t.iovaHi[i], t.iovaLo[i]);
  const hi = all ? 0 : lo + recordPages(t, i);
  if (scope === INV_DEVTLB) {
    iommu.invalidateDevtlb(sid, all ? 0 : lo, all ? 2 ** 53 : hi);
  } else if (did < 0) {
    return;
  } else if (scope === INV_PWC) {
    if (all) iommu.invalidatePwcDomain(did); else iommu.invalidatePwcRange(did, lo, hi);
    iommu.inv.pwc++;
  } else if (scope === INV_IOTLB) {
    if (all) iommu.invalidateDomain(did); else iommu.invalidatePages(did, lo, hi, false);
  }
  iommu.waitDescriptor();
}
