/**
 * The configuration's type, derived from the knob tables themselves (gem5 generates its Params from
 * the SimObject declarations; here the compiler does it): a table declared
 * `[…] as const satisfies readonly Knob[]` gives `KnobTree<typeof TABLE>`, the nested object its
 * dotted keys make, each leaf typed by its knob's kind (an enum's values as a union, bool as
 * boolean, string as string, every other kind number). A knob declared once is typed everywhere.
 */
import type { Knob } from './knob.js';
import type { Path, Nest, Intersect, Merge } from '../util/dotted.js';

/** A knob's value type. */
export type KnobValue<K> =
  K extends { kind: 'bool' } ? boolean
    : K extends { kind: 'enum'; values: readonly (infer V)[] } ? V
      : K extends { kind: 'string' } ? string
        : number;

/** The nested object a knob table's keys describe (per-device `devices.*.` keys left out). */
export type KnobTree<Ks extends readonly Knob[]> = Merge<Intersect<{
  [I in keyof Ks]: Ks[I] extends { key: infer K extends string } ? (K extends `devices.*.${string}` ? never : Nest<Path<K>, KnobValue<Ks[I]>>) : never
}[number]>>;

/**
 * The object a resolver built by setting every key of its knob table (each value parsed and
 * checked by the table's knob), seen as the type the table declares: the one place the
 * configuration's type is asserted rather than inferred (the keys are the table's, so the shape is).
 */
export function fromKnobs<T extends object>(built: Record<string, unknown>): T {
  return built as T;
}
