/** A value's shape as the manifest lists it: numbers, and bounds for the dims known only at run time. */
import type { TensorType } from '../ir/graph.js';
import * as sym from '../ir/symbolic.js';
import type { ShapeDim } from '../bundle/manifest.js';

export function signatureShape(t: TensorType, ranges: Readonly<Record<string, sym.Range>>): ShapeDim[] {
  if (!t.symbolic) return [...t.shape];
  return t.symbolic.map((d) => {
    if (typeof d === 'number') return d;
    const { min, max } = sym.bounds(d, ranges);
    const value = sym.polynomialOf(d);
    if (!value)
      throw new Error(
        `a dim of the model's inputs or outputs is ${d.key}; the runtime sizes only sums of products of shape symbols (fix the dims with --shape)`,
      );
    const { terms } = value;
    const plain = d.c === 0 && terms.length === 1 && terms[0].coef === 1 && terms[0].symbols.length === 1;
    return plain ? { name: terms[0].symbols[0], min, max } : { name: d.key, min, max, value };
  });
}
