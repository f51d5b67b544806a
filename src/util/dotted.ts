/**
 * The nested object type a set of dotted paths describes, at the type level: what the knob tables
 * (src/config/tree.ts, `KnobTree`) and the statistics tables (src/util/stats.ts, `StatTree`) turn
 * into the configuration's and the results' types. A path that is a union (a template literal over
 * several names) gives one branch per name.
 */

/** `'a.b.c'` as `['a', 'b', 'c']`. */
export type Path<S extends string> = S extends `${infer H}.${infer T}` ? [H, ...Path<T>] : [S];
/** `{ a: { b: { c: V } } }` for `['a', 'b', 'c']`. */
export type Nest<P extends readonly string[], V> = P extends [infer H extends string, ...infer T extends string[]]
  ? { [k in H]: T extends [] ? V : Nest<T, V> }
  : never;
/** `{ a?: { b?: { c?: V } } }` for `['a', 'b', 'c']`: the branch a result may lack (a functional run's timing figures). */
export type NestOptional<P extends readonly string[], V> = P extends [infer H extends string, ...infer T extends string[]]
  ? { [k in H]?: T extends [] ? V : NestOptional<T, V> }
  : never;
/** The intersection of a union's members. */
export type Intersect<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
/** Flatten an intersection of nested objects into one object type (readable in editor hovers and errors). */
export type Merge<T> = T extends object ? { [K in keyof T]: Merge<T[K]> } : T;
