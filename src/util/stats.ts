/**
 * Statistics declared once (gem5's ADD_STAT, without its cost). A component keeps its counters as
 * plain numeric fields, incremented on its hot path as before; a table declares each statistic
 * once — its dotted path in the result, its unit, its description, and an accessor that reads it
 * from the component — and the result object (`statTable(…).build`), its TypeScript type
 * (`StatTree`), the reference (docs/metrics.md) and the report's columns come from that table.
 * The accessors run once per result, never per request. Derived figures (ratios) are declared in
 * the same table with their formula; unit conversions and rounding (`scale`, `digits`) too.
 */
import type { Path, Nest, NestOptional, Intersect, Merge } from './dotted.js';

/**
 * What a statistic is: `count` an event count (only grows during a run); `level` a quantity at the
 * end of the run (a size, pages in use, a peak, a rate over the run); `flag` on/off; `ratio`
 * derived, `num / den` of statistics declared before it (0 when `den` is 0); `label` the name or
 * number that identifies a list's element; `byName` counts by name (names with a count only);
 * `records` a list of records (fields in the description); `summary` a distribution's summary
 * (`Summary`: count, mean, min, p50, p90, p99, max); `cdf` a distribution's CDF points; `list` a
 * list of elements whose fields are declared statistics themselves.
 */
export type StatKind = 'count' | 'level' | 'flag' | 'ratio' | 'label' | 'byName' | 'records' | 'summary' | 'cdf' | 'list';

interface StatCommon {
  /** Dotted path in the result object (JSON order is the table's order). */
  path: string;
  /** Unit of the value (of each count for `byName`, of each record for `records`, of the values for `summary` and `cdf`). */
  unit: string;
  /** What it counts, in one sentence or two (docs/metrics.md). */
  desc: string;
}
/**
 * A number read from the component: divided by `scale` when given (picoseconds to nanoseconds:
 * 1000), then rounded to `digits` decimals when given (`Math.round(x × 10^digits) / 10^digits`).
 */
export interface CountStat<O> extends StatCommon { kind: 'count' | 'level'; read: (o: O) => number; scale?: number; digits?: number }
export interface FlagStat<O> extends StatCommon { kind: 'flag'; read: (o: O) => boolean }
/** `num / den`; `den` a path, or several whose values are summed (`hits / (hits + misses)`). */
export interface RatioStat extends StatCommon { kind: 'ratio'; num: string; den: string | readonly string[] }
export interface LabelStat<O> extends StatCommon { kind: 'label'; read: (o: O) => string | number }
export interface ByNameStat<O> extends StatCommon { kind: 'byName'; read: (o: O) => Record<string, number> }
export interface RecordsStat<O> extends StatCommon { kind: 'records'; read: (o: O) => readonly object[] }

/** A distribution's summary: its samples ÷ the stat's `scale`, rounded to 3 decimals (count exact). */
export interface Summary { count: number; mean: number; min: number; p50: number; p90: number; p99: number; max: number }
/** The fields of a Summary, in the order they are listed (not their JSON order, which is the distribution's). */
export const SUMMARY_FIELDS = ['count', 'mean', 'min', 'p50', 'p90', 'p99', 'max'] as const satisfies ReadonlyArray<keyof Summary>;
/** What `summary` and `cdf` statistics read (src/kernel/stats.ts Histogram): summaries and CDFs in units of `scale` samples. */
export interface Distribution {
  summary(scale: number): Summary;
  cdf(scale: number): Array<[number, number]>;
}
/** A distribution, its values divided by `scale` (picoseconds to nanoseconds: 1000). */
export interface SummaryStat<O> extends StatCommon { kind: 'summary' | 'cdf'; read: (o: O) => Distribution; scale: number }
/**
 * A list: one element per item `items` gives, each an object built from `fields` (a table over the
 * item). Declared with `list(…)`, which checks that `fields` reads what `items` gives.
 */
export interface ListStat<O> extends StatCommon { kind: 'list'; items: (o: O) => readonly unknown[]; fields: readonly Stat<never>[] }
/** One declared statistic of a component of type O. */
export type Stat<O> = CountStat<O> | FlagStat<O> | RatioStat | LabelStat<O> | ByNameStat<O> | RecordsStat<O> | SummaryStat<O> | ListStat<O>;

/** A `list` statistic whose fields (a table over E) read the items (of type E) it lists. */
export function list<O, E, const P extends string, const F extends readonly Stat<E>[]>(s: { path: P; unit: string; desc: string; items: (o: O) => readonly E[]; fields: F }): ListOf<O, P, F> {
  return { ...s, kind: 'list' };
}
/** What `list` declares: a ListStat whose path and fields keep their literal types (for StatTree). */
export interface ListOf<O, P extends string, F extends readonly Stat<never>[]> extends Omit<ListStat<O>, 'path' | 'fields'> { path: P; fields: F }

/** A statistic's value type: a summary's Summary, a CDF's points, a list's elements, else what its accessor returns; a ratio is a number. */
export type StatValue<S> =
  S extends { kind: 'summary' } ? Summary
  : S extends { kind: 'cdf' } ? Array<[number, number]>
  : S extends { kind: 'list'; fields: infer F extends readonly Stat<never>[] } ? Array<StatTree<F>>
  : S extends { read: (o: never) => infer R } ? R : number;

type Branches<Ss extends readonly Stat<never>[], Optional extends boolean> = {
  [I in keyof Ss]: Ss[I] extends { path: infer P extends string }
    ? Optional extends true ? NestOptional<Path<P>, StatValue<Ss[I]>> : Nest<Path<P>, StatValue<Ss[I]>>
    : never
}[number];

/**
 * The result object a table declared `[…] as const satisfies readonly Stat<O>[]` builds: the nested
 * object its dotted paths make, each leaf typed by its accessor (a ratio as number). A statistic
 * declared once is typed everywhere.
 */
export type StatTree<Ss extends readonly Stat<never>[]> = Merge<Intersect<Branches<Ss, false>>>;
/** The same tree with every branch optional: the figures a result has only for some runs (a timed run's). */
export type OptionalStatTree<Ss extends readonly Stat<never>[]> = Intersect<Branches<Ss, true>>;

/** The dotted paths of a table's numeric leaves a report can put in a column: numbers, and each field of a summary. */
export type StatColumnPath<Ss extends readonly Stat<never>[]> = {
  [I in keyof Ss]: Ss[I] extends { kind: 'summary'; path: infer P extends string } ? `${P}.${keyof Summary}`
    : Ss[I] extends { kind: 'count' | 'level' | 'ratio'; path: infer P extends string } ? P : never
}[number];

/** A ratio's denominator as a formula: its path, or its paths' sum in parentheses. */
export function denominator(s: RatioStat): string {
  return typeof s.den === 'string' ? s.den : `(${s.den.join(' + ')})`;
}

/** A ratio's formula, as the reference writes it (`code` wraps a formula: Markdown's backticks). */
export function ratioFormula(s: RatioStat, code: (x: string) => string = (x) => x): string {
  return `${code(`${s.num} / ${denominator(s)}`)} (0 when ${code(denominator(s))} is 0)`;
}

/** A number's conversion as the reference writes it (`÷ 1000, rounded to 3 decimals`), '' when read as is. */
export function scaleText(s: Stat<never>): string {
  if (s.kind === 'summary' || s.kind === 'cdf') return `samples ÷ ${s.scale}, rounded to 3 decimals`;
  if (s.kind !== 'count' && s.kind !== 'level') return '';
  const parts = [];
  if (s.scale !== undefined) parts.push(`÷ ${s.scale}`);
  if (s.digits !== undefined) parts.push(s.digits === 0 ? 'rounded to an integer' : `rounded to ${s.digits} decimals`);
  return parts.join(', ');
}

/** Every statistic of a table with its path, a list's fields after it as `<list>[].<field>` (docs/metrics.md). */
export function statRows(stats: readonly Stat<never>[], prefix = ''): Array<{ path: string; stat: Stat<never> }> {
  const out: Array<{ path: string; stat: Stat<never> }> = [];
  for (const s of stats) {
    out.push({ path: prefix + s.path, stat: s });
    if (s.kind === 'list') out.push(...statRows(s.fields, `${prefix}${s.path}[].`));
  }
  return out;
}

/** A component's table as a table over a whole C that holds it: the same statistics, read from `get(c)`. */
export function within<O, C>(stats: readonly Stat<O>[], get: (c: C) => O): Array<Stat<C>> {
  return stats.map((s): Stat<C> => {
    switch (s.kind) {
      case 'ratio': return s;
      case 'list': return { ...s, items: (c: C) => s.items(get(c)) };
      case 'count': case 'level': return { ...s, read: (c: C) => s.read(get(c)) };
      case 'flag': return { ...s, read: (c: C) => s.read(get(c)) };
      case 'label': return { ...s, read: (c: C) => s.read(get(c)) };
      case 'byName': return { ...s, read: (c: C) => s.read(get(c)) };
      case 'records': return { ...s, read: (c: C) => s.read(get(c)) };
      case 'summary': case 'cdf': return { ...s, read: (c: C) => s.read(get(c)) };
    }
  });
}

/** A checked table and the builder of its result object. */
export interface StatTable<O> {
  readonly stats: readonly Stat<O>[];
  /** The result object: every statistic read once, in table order, at its path. */
  build(o: O): Record<string, unknown>;
}

const NUMERIC: ReadonlySet<StatKind> = new Set(['count', 'level', 'ratio']);

/** The checks of one statistic against those declared before it (index: path → position). */
function check<O>(s: Stat<O>, stats: readonly Stat<O>[], index: ReadonlyMap<string, number>): void {
  const bad = (what: string): never => { throw new Error(`statistic ${s.path}: ${what}`); };
  if (!/^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$/.test(s.path)) bad('not a dotted path');
  if (index.has(s.path)) bad('declared twice');
  for (const p of index.keys()) if (p.startsWith(s.path + '.') || s.path.startsWith(p + '.')) bad(`overlaps ${p}`);
  if (s.unit.trim() === '') bad('no unit');
  if (s.desc.trim().length < 10) bad('no description');
  if (s.kind === 'ratio') {
    for (const q of [s.num, ...(typeof s.den === 'string' ? [s.den] : s.den)]) {
      const k = index.get(q);
      if (k === undefined) bad(`${q} is not declared before it`);
      else if (!NUMERIC.has(stats[k].kind)) bad(`${q} is not a number`);
    }
  }
  if ((s.kind === 'count' || s.kind === 'level') && (!(s.scale === undefined || s.scale > 0) || !(s.digits === undefined || (Number.isInteger(s.digits) && s.digits >= 0)))) bad('bad scale or digits');
  if ((s.kind === 'summary' || s.kind === 'cdf') && !(s.scale > 0)) bad('bad scale');
}

/** The reader of one statistic: its value from the component and the values of those before it. */
function reader<O>(s: Stat<O>, index: ReadonlyMap<string, number>): (o: O, values: readonly unknown[]) => unknown {
  switch (s.kind) {
    case 'ratio': {
      const n = index.get(s.num)!;
      const ds = (typeof s.den === 'string' ? [s.den] : s.den).map((q) => index.get(q)!);
      return (_o, values) => {
        let den = 0;
        for (const d of ds) den += values[d] as number;
        return den > 0 ? (values[n] as number) / den : 0;
      };
    }
    case 'count': case 'level': {
      const { scale, digits } = s;
      if (scale === undefined && digits === undefined) return (o) => s.read(o);
      const p = digits === undefined ? 0 : 10 ** digits;
      return (o) => {
        const v = scale === undefined ? s.read(o) : s.read(o) / scale;
        return digits === undefined ? v : Math.round(v * p) / p;
      };
    }
    case 'summary': return (o) => s.read(o).summary(s.scale);
    case 'cdf': return (o) => s.read(o).cdf(s.scale);
    case 'list': {
      let fields: StatTable<unknown>;
      try {
        fields = statTable(s.fields as readonly Stat<unknown>[]);
      } catch (e) {
        throw new Error(`statistic ${s.path}[]: ${(e as Error).message}`);
      }
      return (o) => s.items(o).map((e) => fields.build(e));
    }
    default: return (o) => s.read(o);
  }
}

/**
 * Check a table (paths unique, none inside another's value, units and descriptions given, a
 * ratio's operands declared before it and numeric, scales positive, a list's fields a good table)
 * and compile its builder. Throws on a bad table: a programming error, found when the module loads.
 */
export function statTable<O>(stats: readonly Stat<O>[]): StatTable<O> {
  const index = new Map<string, number>();
  stats.forEach((s, i) => {
    check(s, stats, index);
    index.set(s.path, i);
  });
  const segments = stats.map((s) => s.path.split('.'));
  const readers = stats.map((s) => reader(s, index));
  return {
    stats,
    build(o: O): Record<string, unknown> {
      const out: Record<string, unknown> = {};
      const values: unknown[] = new Array(stats.length);
      for (let i = 0; i < stats.length; i++) {
        const v = readers[i](o, values);
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
