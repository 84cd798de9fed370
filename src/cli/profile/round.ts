/** `x` to `digits` decimal places, for the numbers a profile report prints and writes as JSON. */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
