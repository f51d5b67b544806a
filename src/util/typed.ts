/** Typed-array helpers shared by the components' slot pools. */

type Typed = Float64Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

/** A copy of `a` with room for `cap` elements (cap ≥ a.length), the same type, contents kept. */
export function growTyped<T extends Typed>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a as never);
  return b;
}
