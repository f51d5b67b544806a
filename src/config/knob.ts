/** A configuration knob's description, and the parsing of its values (kept apart from the schema so
 * component knob lists can use it without importing the whole schema). */
import { inputError } from '../util/errors.js';
import { parseSize, parseTimeNs } from '../util/units.js';

export type KnobKind = 'int' | 'number' | 'size' | 'timeNs' | 'bool' | 'enum' | 'string';

export interface Knob {
  /** Dotted path; `*` stands for a device address in per-device keys. */
  key: string;
  kind: KnobKind;
  default: number | boolean | string;
  unit?: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  doc: string;
  /** Where the default comes from (a row of docs/sources.md, a paper, a spec, code). */
  source: string;
}

/** Parse and check one value for a knob; throws a one-line InputError naming the key. */
export function parseKnobValue(knob: Knob, key: string, raw: string | number | boolean): number | boolean | string {
  const bad = (what: string, fix?: string): never => { throw inputError(`${key}=${String(raw)}`, what, fix); };
  switch (knob.kind) {
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off'].includes(s)) return false;
      return bad('expected true or false');
    }
    case 'enum': {
      const s = String(raw);
      if (!knob.values!.includes(s)) return bad(`unknown value`, `use one of ${knob.values!.join(', ')}`);
      return s;
    }
    case 'string':
      return String(raw);
    default: {
      let v: number;
      if (typeof raw === 'number') v = raw;
      else if (knob.kind === 'size') v = parseSize(String(raw));
      else if (knob.kind === 'timeNs') v = parseTimeNs(String(raw));
      else v = Number(String(raw).trim() === '' ? NaN : raw);
      if (!Number.isFinite(v)) {
        const hint = knob.kind === 'size' ? 'a size such as 4096, 4KiB, 2MiB' : knob.kind === 'timeNs' ? 'a time such as 500ns, 10us, 10ms' : 'a number';
        return bad(`not ${hint}`);
      }
      if ((knob.kind === 'int' || knob.kind === 'size') && !Number.isInteger(v)) return bad('must be a whole number');
      if (knob.min !== undefined && v < knob.min) return bad(`below the minimum ${knob.min}${knob.unit ? ' ' + knob.unit : ''}`);
      if (knob.max !== undefined && v > knob.max) return bad(`above the maximum ${knob.max}${knob.unit ? ' ' + knob.unit : ''}`);
      return v;
    }
  }
}


/** The key among `keys` nearest to `key` by edit distance, if near enough to suggest. */
export function closestKey(key: string, keys: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of keys) {
    const d = editDistance(key, k);
    if (d < bestD) { bestD = d; best = k; }
  }
  return bestD <= Math.max(3, key.length / 3) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/**
 * Settings as dotted keys: `{ nic: { rxRing: { entries: 8 } } }` gives `nic.rxRing.entries` → 8;
 * flat keys pass through; arrays and typed arrays are values, not objects to descend into.
 */
export function flattenSettings(settings: Record<string, unknown>, prefix = '', out: Map<string, unknown> = new Map()): Map<string, unknown> {
  for (const [k, v] of Object.entries(settings)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) flattenSettings(v as Record<string, unknown>, key, out);
    else out.set(key, v);
  }
  return out;
}

/** Freeze an object and everything it holds (a resolved configuration or spec). */
export function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Set obj[a][b][c] = value for path [a, b, c], creating objects on the way. */
export function setPath(obj: object, path: string[], value: unknown): void {
  let o = obj as Record<string, unknown>;
  for (let i = 0; i < path.length - 1; i++) {
    const p = path[i];
    if (typeof o[p] !== 'object' || o[p] === null) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[path[path.length - 1]] = value;
}
