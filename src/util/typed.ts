/** Typed-array helpers shared by the components' slot pools and the importers' columns (structs of arrays). */

export type Typed = Float64Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array;

/** A copy of `a` with room for `cap` elements (cap ≥ a.length), the same type, contents kept. */
export function growTyped<T extends Typed>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a as never);
  return b;
}

/**
 * A struct of arrays' column list: each column's name and typed-array type, in order. One list
 * declares the columns (`ColumnArrays`), allocates them (`allocColumnArrays`) and names them for
 * growing and copying (`columnNames`, `growFields`).
 */
export type ColumnSpec = { readonly [name: string]: new (n: number) => Typed };

/** The array a typed-array constructor makes, over any buffer (a view of a SharedArrayBuffer too). */
type ArrayOf<C> = C extends Float64ArrayConstructor ? Float64Array : C extends Int32ArrayConstructor ? Int32Array
  : C extends Uint8ArrayConstructor ? Uint8Array : C extends Uint16ArrayConstructor ? Uint16Array
    : C extends Uint32ArrayConstructor ? Uint32Array : C extends BigInt64ArrayConstructor ? BigInt64Array : never;

/** The arrays a column list describes: one typed array a column (the list's docs carry over). */
export type ColumnArrays<S extends ColumnSpec> = { -readonly [K in keyof S]: ArrayOf<S[K]> };

/** The column names of a list, in its order. */
export function columnNames<S extends ColumnSpec>(spec: S): readonly (keyof S & string)[] {
  return Object.keys(spec);
}

/** `into` with one zeroed array of `cap` elements a column of `spec` added, in the list's order. */
export function allocColumnArrays<S extends ColumnSpec, T extends object>(spec: S, cap: number, into: T): T & ColumnArrays<S> {
  const o = into as Record<string, Typed>;
  for (const k of Object.keys(spec)) o[k] = new spec[k](cap);
  return into as T & ColumnArrays<S>;
}

/** Grow the typed-array fields `keys` of `o` to `cap` elements each (growTyped: contents kept, the types kept). */
export function growFields<K extends string>(o: { [P in K]: Typed }, keys: readonly K[], cap: number): void {
  for (const k of keys) o[k] = growTyped(o[k], cap);
}

/** A stack of free slot numbers for a pool of typed-array slots; grows with the pool. */
export class FreeSlots {
  private stack = new Int32Array(0);
  private top = 0;

  /** The pool grew from `old` to `cap` slots: slots old … cap − 1 are free (the lowest handed out first). */
  grow(old: number, cap: number): void {
    const f = new Int32Array(cap);
    f.set(this.stack.subarray(0, this.top));
    for (let i = cap - 1; i >= old; i--) f[this.top++] = i;
    this.stack = f;
  }

  /** A free slot, or -1 when none is left (the owner grows the pool). */
  take(): number {
    return this.top === 0 ? -1 : this.stack[--this.top];
  }

  give(slot: number): void {
    this.stack[this.top++] = slot;
  }
}

/**
 * A pool of slots kept in typed-array columns, the fields `fields` of `owner` (a slot is an index
 * into each): free slots are handed out lowest first, and the columns doubled when none is left.
 */
export class SlotPool<K extends string> {
  /** Slots the columns hold. */
  cap = 0;
  private readonly free = new FreeSlots();

  constructor(private readonly owner: { [P in K]: Typed }, private readonly fields: readonly K[]) {}

  /** Grow the columns to `cap` slots (contents kept), the new slots free. */
  grow(cap: number): void {
    growFields(this.owner, this.fields, cap);
    this.free.grow(this.cap, cap);
    this.cap = cap;
  }

  /** A free slot (the columns double when none is left). */
  take(): number {
    const s = this.free.take();
    if (s >= 0) return s;
    this.grow(this.cap * 2);
    return this.free.take();
  }

  give(slot: number): void {
    this.free.give(slot);
  }
}
