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

