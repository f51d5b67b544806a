/** PCI addresses: `0000:01:00.0` or `01:00.0` → canonical `0000:01:00.0`, and the 16-bit source-id. */
import { inputError } from '../util/errors.js';

const BDF = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

export function canonicalBdf(text: string, where: string): string {
  const m = BDF.exec(text.trim());
  if (!m) throw inputError(where, `'${text}' is not a PCI address`, 'write it as 0000:01:00.0 or 01:00.0');
  const seg = parseInt(m[1] ?? '0', 16);
  const bus = parseInt(m[2], 16);
  const dev = parseInt(m[3], 16);
  if (dev > 31) throw inputError(where, `'${text}': device number ${dev} is above 31 (1f)`, 'check the address');
  const h = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `${h(seg, 4)}:${h(bus, 2)}:${h(dev, 2)}.${m[4]}`;
}

/** Source-id (requester ID) = bus << 8 | device << 3 | function. */
export function sourceId(canonical: string): number {
  const bus = parseInt(canonical.slice(5, 7), 16);
  const dev = parseInt(canonical.slice(8, 10), 16);
  const fn = parseInt(canonical.slice(11, 12), 16);
  return (bus << 8) | (dev << 3) | fn;
}

export function segmentOf(canonical: string): number {
  return parseInt(canonical.slice(0, 4), 16);
}

/**
 * Source-ids of a trace's devices (-1 for `*`). The model has one IOMMU over one PCI segment, so two
 * devices of different segments with the same bus:dev.fn would be one requester: refused in one line.
 */
export function deviceSourceIds(devices: readonly string[], where: string): Int32Array {
  const s = new Int32Array(devices.length);
  const seen = new Map<number, string>();
  devices.forEach((d, i) => {
    if (d === '*') { s[i] = -1; return; }
    const sid = sourceId(d);
    const other = seen.get(sid);
    if (other !== undefined) throw inputError(where, `devices ${other} and ${d} have the same requester id (bus:dev.fn ${d.slice(5)}) in different PCI segments, and the model has one IOMMU over one segment`, 'give each device its own bus:dev.fn, or simulate each segment separately');
    seen.set(sid, d);
    s[i] = sid;
  });
  return s;
}
