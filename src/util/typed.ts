/** Typed-array helpers shared by the components' slot pools. */

type Typed = Float64Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array;

/** A copy of `a` with room for `cap` elements (cap ≥ a.length), the same type, contents kept. */
export function growTyped<T extends Typed>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a as never);
  return b;
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
