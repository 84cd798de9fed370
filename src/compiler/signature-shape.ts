/** A value's shape as the manifest lists it: numbers, and bounds for the dims known only at run time. */
import type { TensorType } from '../ir/graph.js';
import * as sym from '../ir/symbolic.js';
import type { Quotient, ShapeDim } from '../bundle/manifest.js';

export function signatureShape(t: TensorType, ranges: Readonly<Record<string, sym.Range>>): ShapeDim[] {
  if (!t.symbolic) return [...t.shape];
  return t.symbolic.map((d) => {
    if (typeof d === 'number') return d;
    const { min, max } = sym.bounds(d, ranges);
    const quotients: Quotient[] = [];
    const value = polynomialWith(d, quotients);
    if (!value)
      throw new Error(
        `a dim of the model's inputs or outputs is ${d.key}; the runtime sizes only sums of products of shape symbols and floor divisions of them by constants (fix the dims with --shape)`,
      );
    const { terms } = value;
    const plain = d.c === 0 && terms.length === 1 && terms[0].coef === 1 && terms[0].symbols.length === 1;
    if (plain && quotients.length === 0) return { name: terms[0].symbols[0], min, max };
    return { name: d.key, min, max, value, ...(quotients.length > 0 && { quotients }) };
  });
}

/**
 * `e` as a Polynomial whose symbols may name floor divisions by positive constants (a Conv's or pool's
 * output width), each appended to `quotients` after those it reads; undefined for modulo, min, max or a
 * symbolic divisor.
 */
function polynomialWith(e: sym.SymExpr, quotients: Quotient[]): sym.Polynomial | undefined {
  const terms: sym.Polynomial['terms'] = [];
  for (const t of e.terms) {
    const symbols: string[] = [];
    for (const a of t.atoms) {
      if (a.k === 'sym') symbols.push(a.name);
      else {
        if (a.k !== 'floordiv') return undefined;
        const by = sym.constValue(a.b);
        const of = by !== undefined && by >= 1 ? polynomialWith(a.a, quotients) : undefined;
        if (!of) return undefined;
        if (!quotients.some((q) => q.name === a.key)) quotients.push({ name: a.key, of, by: by! });
        symbols.push(a.key);
      }
    }
    terms.push({ coef: t.coef, symbols });
  }
  return { c: e.c, terms };
}
