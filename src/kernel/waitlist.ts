/**
 * A queue of int32 values (trace record indices) kept in order, on a power-of-two ring: push at
 * the back, read by position, and remove at position k by shifting the k values in front of it
 * one slot back (O(k), not O(length)). Releases from a long line happen near its front.
 */
export class WaitList {
  private buf: Int32Array;
  private head = 0;
  length = 0;

  constructor(capacity = 64) {
    let n = 16;
    while (n < capacity) n *= 2;
    this.buf = new Int32Array(n);
  }

  at(k: number): number {
    return this.buf[(this.head + k) & (this.buf.length - 1)];
  }

  push(x: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Int32Array(this.buf.length * 2);
      for (let k = 0; k < this.length; k++) bigger[k] = this.at(k);
      this.buf = bigger;
      this.head = 0;
    }
    this.buf[(this.head + this.length) & (this.buf.length - 1)] = x;
    this.length++;
  }

  /** Remove the value at position k (0 = front), keeping the others in order. */
  removeAt(k: number): void {
    const b = this.buf, m = b.length - 1;
    for (let j = k; j > 0; j--) b[(this.head + j) & m] = b[(this.head + j - 1) & m];
    this.head = (this.head + 1) & m;
    this.length--;
  }
}
