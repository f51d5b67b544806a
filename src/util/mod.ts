/**
 * x mod p for integral 0 <= x < 2^53 and integral p >= 1, given invP = 1 / p: the quotient from
 * the reciprocal (a multiply, not a divide, and no floating-point `%`, a slow library call in V8)
 * may be off by a little in rounding, which the loops correct; the result is exact because
 * q * p and x - q * p are integers below 2^53.
 */
export function modByReciprocal(x: number, p: number, invP: number): number {
  let r = x - Math.floor(x * invP) * p;
  while (r < 0) r += p;
  while (r >= p) r -= p;
  return r;
}
