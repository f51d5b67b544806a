/**
 * Statistics declared once (gem5's ADD_STAT, without its cost). A component keeps its counters as
 * plain numeric fields, incremented on its hot path as before; a table declares each statistic
 * once — its dotted path in the result, its unit, its description, and an accessor that reads it
 * from the component — and the result object (`statTable(…).build`), its TypeScript type
 * (`StatTree`), the reference (docs/metrics.md) and the report's columns come from that table.
 * The accessors run once per result, never per request. Derived figures (ratios) are declared in
 * the same table with their formula.
 */
import type { Path, Nest, Intersect, Merge } from './dotted.js';

/**
 * What a statistic is: `count` an event count (only grows during a run); `level` a quantity at the
 * end of the run (a size, pages in use, a peak); `flag` on/off; `ratio` derived, `num / den` of
 * two statistics declared before it (0 when `den` is 0); `byName` counts by name (names with a
 * count only); `records` a list of records (fields in the description).
 */
export type StatKind = 'count' | 'level' | 'flag' | 'ratio' | 'byName' | 'records';

interface StatCommon {
  /** Dotted path in the result object (JSON order is the table's order). */
  path: string;
  /** Unit of the value (of each count for `byName`, of each record for `records`). */
  unit: string;
  /** What it counts, in one sentence or two (docs/metrics.md). */
  desc: string;
}
export interface CountStat<O> extends StatCommon { kind: 'count' | 'level'; read: (o: O) => number }
export interface FlagStat<O> extends StatCommon { kind: 'flag'; read: (o: O) => boolean }
export interface RatioStat extends StatCommon { kind: 'ratio'; num: string; den: string }
export interface ByNameStat<O> extends StatCommon { kind: 'byName'; read: (o: O) => Record<string, number> }
export interface RecordsStat<O> extends StatCommon { kind: 'records'; read: (o: O) => readonly object[] }
/** One declared statistic of a component of type O. */
export type Stat<O> = CountStat<O> | FlagStat<O> | RatioStat | ByNameStat<O> | RecordsStat<O>;

/** A statistic's value type: what its accessor returns; a ratio is a number. */
export type StatValue<S> = S extends { read: (o: never) => infer R } ? R : number;

/**
 * The result object a table declared `[…] as const satisfies readonly Stat<O>[]` builds: the nested
 * object its dotted paths make, each leaf typed by its accessor (a ratio as number). A statistic
 * declared once is typed everywhere.
 */
export type StatTree<Ss extends readonly Stat<never>[]> = Merge<Intersect<{
  [I in keyof Ss]: Ss[I] extends { path: infer P extends string } ? Nest<Path<P>, StatValue<Ss[I]>> : never
}[number]>>;

/** A ratio's formula, as the reference writes it. */
export function ratioFormula(s: RatioStat): string {
  return `${s.num} / ${s.den} (0 when ${s.den} is 0)`;
}

/** A checked table and the builder of its result object. */
export interface StatTable<O> {
  readonly stats: readonly Stat<O>[];
  /** The result object: every statistic read once, in table order, at its path. */
  build(o: O): Record<string, unknown>;
}

/**
 * Check a table (paths unique, none inside another's value, units and descriptions given, a
 * ratio's operands declared before it and numeric) and compile its builder. Throws on a bad table:
 * a programming error, found when the module loads.
 */
export function statTable<O>(stats: readonly Stat<O>[]): StatTable<O> {
  const index = new Map<string, number>();
  stats.forEach((s, i) => {
    const bad = (what: string): never => { throw new Error(`statistic ${s.path}: ${what}`); };
    if (!/^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$/.test(s.path)) bad('not a dotted path');
    if (index.has(s.path)) bad('declared twice');
    for (const p of index.keys()) if (p.startsWith(s.path + '.') || s.path.startsWith(p + '.')) bad(`overlaps ${p}`);
    if (s.unit.trim() === '') bad('no unit');
    if (s.desc.trim().length < 10) bad('no description');
    if (s.kind === 'ratio') {
      for (const q of [s.num, s.den]) {
        const k = index.get(q);
        if (k === undefined) bad(`${q} is not declared before it`);
        else if (stats[k].kind !== 'count' && stats[k].kind !== 'level' && stats[k].kind !== 'ratio') bad(`${q} is not a number`);
      }
    }
    index.set(s.path, i);
  });
  const segments = stats.map((s) => s.path.split('.'));
  const operands = stats.map((s) => (s.kind === 'ratio' ? [index.get(s.num)!, index.get(s.den)!] : null));
  return {
    stats,
    build(o: O): Record<string, unknown> {
      const out: Record<string, unknown> = {};
      const values: unknown[] = new Array(stats.length);
      for (let i = 0; i < stats.length; i++) {
        const s = stats[i];
        let v: unknown;
        if (s.kind === 'ratio') {
          const [n, d] = operands[i]!;
          const den = values[d] as number;
          v = den > 0 ? (values[n] as number) / den : 0;
        } else {
          v = s.read(o);
        }
        values[i] = v;
        const seg = segments[i];
        let node = out;
        for (let k = 0; k < seg.length - 1; k++) {
          const next = node[seg[k]];
          if (next === undefined) node = node[seg[k]] = {} as Record<string, unknown>;
          else node = next as Record<string, unknown>;
        }
        node[seg[seg.length - 1]] = v;
      }
      return out;
    },
  };
}

/** The value at a dotted path of a result object (undefined when absent). */
export function valueAt(obj: unknown, path: string): unknown {
  let v = obj;
  for (const p of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}
